"""The int8 `QuantizedLinear` and `QuantizedConv2d` as ONNX integer operators, with tinynn's exact
quantization parameters.

tinynn computes (compress/qlinear.py)

    a = clamp(round(x / s_a) + z_a, 0, 127)                 7-bit uint8 activations (reduce_range)
    y = act(float32(sum_k (a_k - z_a) q_w,jk) * (s_a s_w[j]) + b_j)   int32 accumulation, exact

and the graph says the same, operator for operator:

    s_a, z_a   static: initializers (the calibrated values); dynamic: from the batch in the graph,
               lo = min(ReduceMin x, 0), hi = max(ReduceMax x, 0), s_a = max((hi - lo) / 127, eps),
               z_a = round(-lo / s_a) -- calc_qparams's float32 operations in order
    a          QuantizeLinear(x, s_a, z_a) then Clip(0, 127) (uint8)
    acc        MatMulInteger(a, q_w^T, z_a): int32, sum_k (a_k - z_a) q_w,jk, exact
               (ConvInteger(a, q_w, z_a) for the convolution: the same sums over each window)
    y          DequantizeLinear(acc, s_a * s_w, axis=1) + b (float32(acc) (s_a s_w)), then the activation

Why these operators: DynamicQuantizeLinear maps the range onto all 8 bits ([0, 255], s = range/255),
not tinynn's (and PyTorch x86's) 7 bits, so its codes differ from tinynn's; the QDQ form
(DequantizeLinear -> float MatMul) accumulates in float, in an order of the runtime's choosing.
MatMulInteger accumulates the same integers tinynn's kernel does, exactly, so the only difference
left is QuantizeLinear dividing by s_a where tinynn multiplies by float32(1/s_a) in one fma: a code
can differ by one where x / s_a lands within a rounding error of a half-integer.
"""
import numpy as np

from ..backend import ACTIVATIONS
from ..compress.qconv import QuantizedConv2d
from ..compress.qlinear import QuantizedLinear
from ..compress.qparams import EPS
from .graph import converter, onnx

QMAX = 127  # 7-bit activations


def _dynamic_qparams(g, x):
    """(s_a, z_a) tensors computed from the batch, as calc_qparams(min, max, "uint8", False, reduce_range=True).
    z_a needs no clip: lo <= 0 <= hi gives s_a >= -lo / 127, so 0 <= -lo / s_a <= 127 (and -(lo / s_a) =
    -lo / s_a exactly in IEEE arithmetic, so rounding either gives calc_qparams's z). For an input
    known to be >= 0 (after ReLU or Sigmoid) lo = 0 exactly, so z_a = 0 and s_a = max(hi / 127, eps); z_a
    is then None: QuantizeLinear and MatMulInteger/ConvInteger take an omitted zero point as 0 (uint8)."""
    zero, eps = g.constant(0, np.float32, "zero"), g.constant(EPS, np.float32, "eps")
    qrange = g.constant(QMAX, np.float32, "qmax")
    if x in g.nonnegative:  # ReduceMax x >= 0 already: max(hi, 0) = hi
        hi = g.node("ReduceMax", [x], keepdims=0)
        return g.node("Max", [g.node("Div", [hi, qrange]), eps]), None
    hi = g.node("Max", [g.node("ReduceMax", [x], keepdims=0), zero])
    lo = g.node("Min", [g.node("ReduceMin", [x], keepdims=0), zero])
    scale = g.node("Max", [g.node("Div", [g.node("Sub", [hi, lo]), qrange]), eps])
    # z_a = round(-lo / s_a) as uint8 is QuantizeLinear(-lo, s_a) by its definition (divide, round half
    # to even, saturate): one operator for Div, Round and Cast
    return scale, g.node("QuantizeLinear", [g.node("Neg", [lo]), scale])


def _codes(g, layer, x):
    """(7-bit codes of x, s_a, z_a): the static layer's calibrated qparams or the batch's."""
    if layer.static:
        scale = g.initializer(np.float32(layer.input_scale[0]), "s_a")
        zp = g.initializer(np.uint8(layer.input_zero_point[0]), "z_a")
    else:
        scale, zp = _dynamic_qparams(g, x)
    q = g.node("QuantizeLinear", [x, scale] + ([zp] if zp else []))
    if layer.static or x not in g.nonnegative:
        q = g.node("Clip", [q, g.constant(0, np.uint8, "zero_u8"), g.constant(QMAX, np.uint8, "qmax_u8")])
    # else no Clip: with z_a = 0 and s_a = max(hi / 127, eps) every code is round(x / s_a) <=
    # round(hi / fl(hi / 127)) <= round(127 (1 + 2^-23)) = 127 (or x / eps < 127), as tinynn's clamp gives
    return q, scale, zp


def _rescale(g, layer, acc, scale, shape):
    """act(float(acc) * (s_a s_w) + b), b shaped `shape` to broadcast over acc's channels (axis 1).
    DequantizeLinear of the int32 sums with the per-channel scale s_a s_w along axis 1 (its default
    axis) is float32(acc) * (s_a s_w) (zero point 0), one node for a Cast and a Mul."""
    y = g.node("DequantizeLinear", [acc, g.node("Mul", [scale, g.initializer(layer.weight_scale, "s_w")])])
    if layer.bias is not None:
        y = g.node("Add", [y, g.initializer(layer.bias.reshape(shape), "b")])
    act = ACTIVATIONS[int(layer.activation[0])]
    if act == "none":
        return y
    y = g.node({"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh"}[act], [y])
    if act in ("relu", "sigmoid"):
        g.nonnegative.add(y)
    return y


@converter(QuantizedLinear)
def quantized_linear(g, layer, x, value):
    q, scale, zp = _codes(g, layer, x)
    weight = g.initializer(np.ascontiguousarray(layer.weight.T), "q_w_t")
    acc = g.node("MatMulInteger", [q, weight] + ([zp] if zp else []))
    return _rescale(g, layer, acc, scale, (-1,))


@converter(QuantizedConv2d)
def quantized_conv2d(g, layer, x, value):
    """ConvInteger pads with z_a, so a padded position adds (z_a - z_a) q_w = 0, as tinynn's im2col of
    the zero padding (which quantizes to exactly z_a)."""
    q, scale, zp = _codes(g, layer, x)
    pt, pb, pl, pr = layer.padding
    # only the attributes that differ from ONNX's defaults (kernel_shape: the weight's): in a file this
    # small each one is a share of the int8 file's size
    given = {"strides": list(layer.stride), "pads": [pt, pl, pb, pr], "dilations": list(layer.dilation),
             "group": int(layer.groups)}
    defaults = {"strides": [1, 1], "pads": [0, 0, 0, 0], "dilations": [1, 1], "group": 1}
    acc = g.node("ConvInteger", [q, g.initializer(layer.weight, "q_w")] + ([zp] if zp else []),
                 **{k: v for k, v in given.items() if v != defaults[k]})
    return _rescale(g, layer, acc, scale, (1, -1, 1, 1))
