"""The int8 Linear layers: `QuantizedLinear` (inference on the int8 kernels) and `QATLinear`
(training through fake quantization, converted to a QuantizedLinear afterwards).

A QuantizedLinear stores W as int8 with one symmetric scale per output channel,
s_w[j] = max_k |W_jk| / 127.5, and computes

    y_ij = s_a s_w[j] sum_k (q_a,ik - z_a) q_w,jk + b_j
         = s_a s_w[j] acc_ij + (b_j - s_a z_a s_w[j] sum_k q_w,jk)

with acc = q_a q_w^T exact in int32 and the correction z_a sum_k q_w,jk precomputed when W is packed
(once, at quantization time), all in the backend's `quantized_linear` (one kernel: quantize,
GEMM, dequantize + bias + activation fused into the write). The activations are per tensor,
affine, uint8 with reduce_range (7 bits, q_a in [0, 127], PyTorch's x86 choice: it keeps the
AVX2 vpmaddubsw product exact, and the outputs are the same on every CPU); s_a, z_a are measured
on every batch at run time (dynamic) or fixed from calibration (static).
"""
import math

import numpy as np

from .. import backend, ops
from ..autograd import no_grad
from ..backend import ACTIVATIONS
from ..nn.module import Module
from ..nn.parameter import Parameter
from ..tensor import Tensor
from .qparams import calc_qparams, quantize_tensor, weight_qparams

__all__ = ["QuantizedLinear", "QATLinear", "Int8Layer", "InputObserver"]


class Int8Layer:
    """What the int8 layers share: the packed weights, cached per backend; `static`; the fused
    activation's name; their input's (s_a, z_a)."""

    def _packed_for(self, b):
        """W packed for backend b (self._pack(b)): once (at quantization time for the backend active
        then), again only if the backend or the weight buffer changes. Not a buffer: state dicts keep W only."""
        packed = self.__dict__.get("_packed")
        if packed is None or packed[0] != b.__name__ or packed[1] is not self.weight:
            packed = (b.__name__, self.weight, self._pack(b))
            self.__dict__["_packed"] = packed
        return packed[2]

    def _state_loaded(self):
        """load_state_dict copied new values into the buffers in place: pack W again when next used."""
        self.__dict__.pop("_packed", None)

    @property
    def static(self):
        return "input_scale" in self._buffers

    @property
    def activation_name(self):
        return ACTIVATIONS[int(self.activation[0])]

    def _input_params(self, x):
        """(s_a as float32, z_a) for the kernel; (None, None) when the layer is dynamic, as the kernel
        then measures the range of x in the same call (an empty x has none: its defaults are given)."""
        if self.static or not x.size:
            s_a, z_a = quantized_input_params(self)
            return np.float32(s_a), z_a
        return None, None

    def _describe(self):
        act = "" if self.activation_name == "none" else f", activation={self.activation_name}"
        return ("static" if self.static else "dynamic") + act


class QuantizedLinear(Int8Layer, Module):
    """y = act(s_a s_w[j] sum_k (q_a,ik - z_a) q_w,jk + b_j) on int8 weights and activations.

    Buffers (what state_dict() stores): `weight` int8 (out, in); `weight_scale` float32 (out,),
    symmetric per output channel; `bias` float32 (out,) if any; `activation` int8 (1,), the index
    in ("none", "relu", "sigmoid", "tanh") of the activation fused after the layer; and for a
    static layer `input_scale` float32 (1,) and `input_zero_point` int64 (1,) (7-bit: z in [0, 127]). Without them the
    activation parameters are computed from each batch's min/max (dynamic quantization).
    Inference only: the output never requires a gradient."""

    def __init__(self, weight, weight_scale, bias=None, input_scale=None, input_zero_point=None, activation="none"):
        super().__init__()
        weight = np.asarray(weight)
        if weight.dtype != np.int8 or weight.ndim != 2:
            raise TypeError(f"QuantizedLinear: weight must be a 2-D int8 array, got {weight.dtype} of shape {weight.shape}")
        out_features, in_features = weight.shape
        scale = np.asarray(weight_scale, np.float32).reshape(-1)
        if scale.shape != (out_features,):
            raise ValueError(f"QuantizedLinear: weight_scale of shape {scale.shape} does not match weight {weight.shape}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"QuantizedLinear: activation must be one of {ACTIVATIONS}, got {activation!r}")
        self.in_features, self.out_features = in_features, out_features
        self.register_buffer("weight", np.ascontiguousarray(weight))
        self.register_buffer("weight_scale", scale.copy())
        if bias is not None:
            bias = np.asarray(bias, np.float32).reshape(-1)
            if bias.shape != (out_features,):
                raise ValueError(f"QuantizedLinear: bias of shape {bias.shape} does not match weight {weight.shape}")
            self.register_buffer("bias", bias.copy())
        else:
            self.bias = None
        self.register_buffer("activation", np.array([ACTIVATIONS.index(activation)], np.int8))
        if input_scale is not None:
            if not 0 <= input_zero_point <= 127:  # 8-bit activations (files of older tinynn) would run silently wrong
                raise ValueError(f"QuantizedLinear: input zero point {input_zero_point} is not a 7-bit one (0..127); "
                                 "a model quantized by an older tinynn must be quantized again")
            self.register_buffer("input_scale", np.array([input_scale], np.float32).reshape(1))
            self.register_buffer("input_zero_point", np.array([input_zero_point], np.int64).reshape(1))
        self._packed_for(backend.active)

    @classmethod
    def from_float(cls, layer, input_range=None, activation="none"):
        """Quantize a float Linear: W -> int8 per output channel; `input_range` = (lo, hi) makes the
        layer static with input parameters calc_qparams(lo, hi, "uint8", False, reduce_range=True)."""
        with no_grad():
            w = np.asarray(layer.weight._data, np.float32)
            b = None if layer.bias is None else np.asarray(layer.bias._data, np.float32)
        s_w = weight_qparams(w)
        q_w = quantize_tensor(w, s_w, 0, "int8", axis=0)
        s_a = z_a = None
        if input_range is not None:
            s_a, z_a = calc_qparams(input_range[0], input_range[1], "uint8", symmetric=False, reduce_range=True)
        return cls(q_w, s_w, b, s_a, z_a, activation)

    @classmethod
    def from_state_dict(cls, state_dict, prefix=""):
        """The layer stored under `prefix` in a state dict written by `state_dict()`."""
        get = lambda k: state_dict.get(prefix + k)  # noqa: E731
        first = lambda k, kind: None if get(k) is None else kind(np.asarray(get(k)).reshape(-1)[0])  # noqa: E731
        act = first("activation", int)
        return cls(np.asarray(get("weight")), get("weight_scale"), get("bias"), first("input_scale", float),
                   first("input_zero_point", int), "none" if act is None else ACTIVATIONS[act])

    def _pack(self, b):
        return b.pack_int8_weight(self.weight)

    def forward(self, x):
        x = x._data if isinstance(x, Tensor) else np.asarray(x)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"QuantizedLinear: input of shape {x.shape} does not have {self.in_features} features")
        lead = x.shape[:-1]
        x2 = np.ascontiguousarray(x.reshape(math.prod(lead), self.in_features), dtype=np.float32)  # (-1 fails for 0 features)
        b = backend.active
        s_a, z_a = self._input_params(x2)
        y = b.quantized_linear(x2, self._packed_for(b), s_a, z_a, self.weight_scale, self.bias, self.activation_name)
        return Tensor._wrap(y.reshape(*lead, self.out_features), False)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, {self._describe()}"


def quantized_input_params(layer):
    """(s_a, z_a) of a quantized layer's input: the calibrated ones of a static layer, else (1, 0),
    those of an empty batch (a dynamic layer's kernel measures a non-empty x itself)."""
    if "input_scale" in layer._buffers:
        return float(layer.input_scale[0]), int(layer.input_zero_point[0])
    return 1.0, 0


class InputObserver:
    """The input side of a QAT layer: a running range of its inputs (PyTorch's
    MovingAverageMinMaxObserver: the first batch sets [lo, hi], later training batches move it by
    lo <- lo + c (min x - lo), c = averaging_constant; frozen in eval mode) and fake quantization of
    the input to affine 7-bit uint8 with the (s_a, z_a) of that range."""

    def init_observer(self):
        self.register_buffer("input_min", np.full(1, np.inf, np.float32))
        self.register_buffer("input_max", np.full(1, -np.inf, np.float32))

    def input_qparams(self):
        return calc_qparams(self.input_min[0], self.input_max[0], "uint8", symmetric=False, reduce_range=True)

    def fake_quantize_input(self, x):
        xa = x._data if isinstance(x, Tensor) else np.asarray(x)
        if xa.size and (self.training or not np.isfinite(self.input_min[0])):
            lo, hi = np.float32(xa.min()), np.float32(xa.max())
            if not np.isfinite(self.input_min[0]):
                self.input_min[0], self.input_max[0] = lo, hi
            else:
                c = np.float32(self.averaging_constant)
                self.input_min[0] += c * (lo - self.input_min[0])
                self.input_max[0] += c * (hi - self.input_max[0])
        s_a, z_a = self.input_qparams() if np.isfinite(self.input_min[0]) else (1.0, 0)
        return ops.FakeQuantize.apply(x, scale=s_a, zero_point=z_a, qmin=0, qmax=127)


class QATLinear(InputObserver, Module):
    """A Linear trained through fake quantization: y = fq_a(x) fq_w(W)^T + b, where
    fq(v) = s (clamp(round(v / s) + z, qmin, qmax) - z) with the clipped straight-through estimator.

    Weights: symmetric int8 per output channel, s recomputed from W on every forward. Inputs:
    affine int8 from a running range (PyTorch's MovingAverageMinMaxObserver: the first batch sets
    [lo, hi], later training batches move it by lo <- lo + c (min x - lo), c = 0.01); in eval mode
    the range is frozen. `convert` turns it into a static QuantizedLinear with the same numbers."""

    def __init__(self, weight, bias=None, averaging_constant=0.01):
        super().__init__()
        self.in_features, self.out_features = weight.shape[1], weight.shape[0]
        self.weight = weight if isinstance(weight, Parameter) else Parameter(np.asarray(weight, np.float32))
        if bias is None:
            self.register_parameter("bias", None)
        else:
            self.bias = bias if isinstance(bias, Parameter) else Parameter(np.asarray(bias, np.float32))
        self.averaging_constant = averaging_constant
        self.init_observer()

    @classmethod
    def from_float(cls, layer):
        with no_grad():
            w = layer.weight
            b = layer.bias
        w = w if isinstance(w, Parameter) else Parameter(w._data.copy())
        b = b if (b is None or isinstance(b, Parameter)) else Parameter(b._data.copy())
        return cls(w, b)

    def forward(self, x):
        xq = self.fake_quantize_input(x)
        s_w = weight_qparams(self.weight._data)
        wq = ops.FakeQuantize.apply(self.weight, scale=s_w[:, None], zero_point=0, qmin=-128, qmax=127)
        if self.bias is None:
            return ops.Linear.apply(xq, wq)
        return ops.Linear.apply(xq, wq, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
