"""The int8 `QuantizedLinear` as ONNX integer operators, with tinynn's exact quantization parameters.

tinynn computes (compress/qlinear.py)

    a = clamp(round(x / s_a) + z_a, 0, 127)                 7-bit uint8 activations (reduce_range)
    y = act(float32(sum_k (a_k - z_a) q_w,jk) * (s_a s_w[j]) + b_j)   int32 accumulation, exact

and the graph says the same, operator for operator:

    s_a, z_a   static: initializers (the calibrated values); dynamic: from the batch in the graph,
               lo = min(ReduceMin x, 0), hi = max(ReduceMax x, 0), s_a = max((hi - lo) / 127, eps),
               z_a = clip(-round(lo / s_a), 0, 127) -- calc_qparams's float32 operations in order
    a          QuantizeLinear(x, s_a, z_a) then Clip(0, 127) (uint8)
    acc        MatMulInteger(a, q_w^T, z_a): int32, sum_k (a_k - z_a) q_w,jk, exact
    y          Cast(float) * (s_a * s_w) + b, then the fused activation

Why these operators: DynamicQuantizeLinear maps the range onto all 8 bits ([0, 255], s = range/255),
not tinynn's (and PyTorch x86's) 7 bits, so its codes differ from tinynn's; the QDQ form
(DequantizeLinear -> float MatMul) accumulates in float, in an order of the runtime's choosing.
MatMulInteger accumulates the same integers tinynn's kernel does, exactly, so the only difference
left is QuantizeLinear dividing by s_a where tinynn multiplies by float32(1/s_a) in one fma: a code
can differ by one where x / s_a lands within a rounding error of a half-integer.
"""
import numpy as np

from ..backend import ACTIVATIONS
from ..compress.qlinear import QuantizedLinear
from ..compress.qparams import EPS
from .graph import converter, onnx

QMAX = 127  # 7-bit activations


def _dynamic_qparams(g, x):
    """(s_a, z_a) tensors computed from the batch, as calc_qparams(min, max, "uint8", False, reduce_range=True)."""
    zero = g.initializer(np.float32(0), "zero")
    lo = g.node("Min", [g.node("ReduceMin", [x], keepdims=0), zero])
    hi = g.node("Max", [g.node("ReduceMax", [x], keepdims=0), zero])
    span = g.node("Div", [g.node("Sub", [hi, lo]), g.initializer(np.float32(QMAX), "qrange")])
    scale = g.node("Max", [span, g.initializer(np.float32(EPS), "eps")])
    zp = g.node("Neg", [g.node("Round", [g.node("Div", [lo, scale])])])
    zp = g.node("Clip", [zp, zero, g.initializer(np.float32(QMAX), "qmax")])
    return scale, g.node("Cast", [zp], to=onnx.TensorProto.UINT8)


@converter(QuantizedLinear)
def quantized_linear(g, layer, x, value):
    if layer.static:
        scale = g.initializer(np.float32(layer.input_scale[0]), "input_scale")
        zp = g.initializer(np.uint8(layer.input_zero_point[0]), "input_zero_point")
    else:
        scale, zp = _dynamic_qparams(g, x)
    q = g.node("QuantizeLinear", [x, scale, zp])
    q = g.node("Clip", [q, g.initializer(np.uint8(0), "qmin_u8"), g.initializer(np.uint8(QMAX), "qmax_u8")])
    acc = g.node("MatMulInteger", [q, g.initializer(np.ascontiguousarray(layer.weight.T), "weight_t"), zp])
    y = g.node("Cast", [acc], to=onnx.TensorProto.FLOAT)
    y = g.node("Mul", [y, g.node("Mul", [scale, g.initializer(layer.weight_scale, "weight_scale")])])
    if layer.bias is not None:
        y = g.node("Add", [y, g.initializer(layer.bias, "bias")])
    act = ACTIVATIONS[int(layer.activation[0])]
    return y if act == "none" else g.node({"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh"}[act], [y])
