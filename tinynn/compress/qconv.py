"""The int8 convolution layers: `QuantizedConv2d` (inference on the int8 GEMM through im2col) and
`QATConv2d` (training through fake quantization, converted to a QuantizedConv2d afterwards).

A convolution is a matrix product once each output position's receptive field is laid out as a
row (im2col): with x_pad the zero-padded input and the columns ordered (u, v, c),

    cols[(n, i, j), (u, v, c)] = x_pad[n, c, s_h i + d_h u, s_w j + d_w v],
    y[n, o, i, j] = (cols W_o^T)[(n, i, j)] + b_o    (W permuted to (O, kh, kw, C) and flattened)

(the (u, v, c) order makes each of the kh kw copies that build cols move whole channel vectors of
the input laid out as (N, H, W, C)). So the int8 convolution is the quantized Linear's formula on
those rows, group by group, in the backend's `quantized_conv2d`:

    y[n, o, i, j] = act(float32(acc - z_a sum_k q_w[o, k]) * (s_a s_w[o]) + b_o),
    acc = (q_a cols) q_w^T exact in int32,  q_a = clamp(nearbyint(fma(x, float32(1 / s_a), z_a)), 0, 127)

with the padding at z_a (what a zero input quantizes to, as PyTorch's quantized convolution pads
with the zero point). The kernels quantize x once, into a channel-last byte image, build the rows of
cols straight from it in the micro-kernels' layout (a quarter of the bytes float32 cols would move),
and write the fused epilogue to NCHW.
"""
import numpy as np

from .. import backend, ops
from ..autograd import no_grad
from ..backend import ACTIVATIONS
from ..nn.module import Module
from ..nn.parameter import Parameter
from ..tensor import Tensor
from .qlinear import InputObserver, Int8Layer
from .qparams import calc_qparams, quantize_tensor, weight_qparams

__all__ = ["QuantizedConv2d", "QATConv2d", "conv_geometry"]


def conv_geometry(layer):
    """(stride, (top, bottom, left, right) padding, dilation, groups) of a Conv2d, from its attributes."""
    pads = getattr(layer, "_pads", None)
    if pads is None:
        ph, pw = layer.padding
        pads = (ph, ph, pw, pw)
    return tuple(layer.stride), tuple(int(p) for p in pads), tuple(layer.dilation), int(layer.groups)


class QuantizedConv2d(Int8Layer, Module):
    """y = act(s_a s_w[o] sum_{c,u,v} (q_a - z_a)[n, c, s i + d u, s j + d v] q_w[o, c, u, v] + b_o):
    the Conv2d on int8 weights (symmetric per output channel) and 7-bit uint8 activations (per tensor,
    affine; measured per batch, or fixed by calibration for a static layer), as QuantizedLinear.

    Buffers: `weight` int8 (O, C/G, kh, kw), `weight_scale` float32 (O,), `bias` float32 (O,) if any,
    `activation` int8 (1,), and for a static layer `input_scale`, `input_zero_point`. The geometry
    (kernel_size, stride, padding as (top, bottom, left, right), dilation, groups) is the float layer's.
    Inference only."""

    def __init__(self, weight, weight_scale, bias=None, stride=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1),
                 groups=1, input_scale=None, input_zero_point=None, activation="none"):
        super().__init__()
        weight = np.asarray(weight)
        if weight.dtype != np.int8 or weight.ndim != 4:
            raise TypeError(f"QuantizedConv2d: weight must be a 4-D int8 array, got {weight.dtype} of shape {weight.shape}")
        out_channels = weight.shape[0]
        if out_channels % groups:
            raise ValueError(f"QuantizedConv2d: groups={groups} does not divide the {out_channels} output channels")
        if activation not in ACTIVATIONS:
            raise ValueError(f"QuantizedConv2d: activation must be one of {ACTIVATIONS}, got {activation!r}")
        self.in_channels, self.out_channels = weight.shape[1] * groups, out_channels
        self.kernel_size = tuple(weight.shape[2:])
        self.stride, self.padding, self.dilation, self.groups = tuple(stride), tuple(padding), tuple(dilation), groups
        self.register_buffer("weight", np.ascontiguousarray(weight))
        self.register_buffer("weight_scale", np.asarray(weight_scale, np.float32).reshape(out_channels).copy())
        if bias is None:
            self.bias = None
        else:
            self.register_buffer("bias", np.asarray(bias, np.float32).reshape(out_channels).copy())
        self.register_buffer("activation", np.array([ACTIVATIONS.index(activation)], np.int8))
        if input_scale is not None:
            self.register_buffer("input_scale", np.array([input_scale], np.float32).reshape(1))
            self.register_buffer("input_zero_point", np.array([input_zero_point], np.int64).reshape(1))

    @classmethod
    def from_float(cls, layer, input_range=None, activation="none"):
        """Quantize a float Conv2d: W -> int8 per output channel (s_o = max |W_o| / 127.5); `input_range`
        = (lo, hi) makes it static with (s_a, z_a) = calc_qparams(lo, hi, "uint8", False, reduce_range=True)."""
        with no_grad():
            w = np.asarray(layer.weight._data, np.float32)
            b = None if layer.bias is None else np.asarray(layer.bias._data, np.float32)
        s_w = weight_qparams(w.reshape(w.shape[0], -1))
        q_w = quantize_tensor(w, s_w, 0, "int8", axis=0)
        s_a = z_a = None
        if input_range is not None:
            s_a, z_a = calc_qparams(input_range[0], input_range[1], "uint8", symmetric=False, reduce_range=True)
        stride, pads, dilation, groups = conv_geometry(layer)
        return cls(q_w, s_w, b, stride, pads, dilation, groups, s_a, z_a, activation)

    def _pack(self, b):
        """Per group: the (O/G, kh kw C/G) weight, columns in im2col's (u, v, c) order, packed by the backend."""
        rows = self.weight.transpose(0, 2, 3, 1).reshape(self.groups, self.out_channels // self.groups, -1)
        return [b.pack_int8_weight(np.ascontiguousarray(r)) for r in rows]

    def forward(self, x):
        x = x._data if isinstance(x, Tensor) else np.asarray(x)
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"QuantizedConv2d: expected input (N, {self.in_channels}, H, W), got shape {x.shape}")
        x = np.ascontiguousarray(x, np.float32)
        b = backend.active
        s_a, z_a = self._input_params(x)
        y = b.quantized_conv2d(x, self._packed_for(b), self.kernel_size, self.stride, self.padding, self.dilation,
                               s_a, z_a, self.weight_scale, self.bias, self.activation_name)
        return Tensor._wrap(y, False)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, {self._describe()}")


class QATConv2d(InputObserver, Module):
    """A Conv2d trained through fake quantization: y = conv2d(fq_a(x), fq_w(W), b) with the clipped
    straight-through estimator; weights symmetric int8 per output channel, the input affine 7-bit
    from a moving-average range (as QATLinear). `convert` makes it a static QuantizedConv2d."""

    def __init__(self, layer, averaging_constant=0.01):
        super().__init__()
        w, b = layer.weight, layer.bias
        self.weight = w if isinstance(w, Parameter) else Parameter(w._data.copy())
        if b is None:
            self.register_parameter("bias", None)
        else:
            self.bias = b if isinstance(b, Parameter) else Parameter(b._data.copy())
        self.in_channels, self.out_channels = layer.in_channels, layer.out_channels
        self.stride, self._pads, self.dilation, self.groups = conv_geometry(layer)
        self.padding = layer.padding  # as the float layer was given it: what ops.Conv2d takes
        self.averaging_constant = averaging_constant
        self.init_observer()

    @classmethod
    def from_float(cls, layer):
        return cls(layer)

    def forward(self, x):
        xq = self.fake_quantize_input(x)
        s_w = weight_qparams(self.weight._data.reshape(self.weight.shape[0], -1))
        wq = ops.FakeQuantize.apply(self.weight, scale=s_w[:, None, None, None], zero_point=0, qmin=-128, qmax=127)
        params = (xq, wq) if self.bias is None else (xq, wq, self.bias)
        return ops.Conv2d.apply(*params, stride=self.stride, padding=self.padding, dilation=self.dilation,
                                groups=self.groups)

    def extra_repr(self):
        return f"{self.in_channels}, {self.out_channels}, kernel_size={tuple(self.weight.shape[2:])}, stride={self.stride}"
