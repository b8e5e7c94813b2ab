"""int8 quantization of `Linear` layers: dynamic, static (calibrated) and quantization-aware.

Affine quantization maps a real x to an integer q with a scale s > 0 and a zero point z:

    q = clamp(round_half_even(x / s) + z, qmin, qmax),      x^ = s (q - z)

(int8: [qmin, qmax] = [-128, 127]; uint8: [0, 255]); inside the representable range
|x^ - x| <= s / 2. The (s, z) for an observed range [x_min, x_max] are PyTorch's
MinMaxObserver's (see `calc_qparams`).

A quantized Linear (`QuantizedLinear`) stores W as int8 with one symmetric scale per output
channel, s_w[j] = max_k |W_jk| / 127.5, and computes

    y_ij = s_a s_w[j] sum_k (q_a,ik - z_a) q_w,jk + b_j
         = s_a s_w[j] acc_ij + (b_j - s_a z_a s_w[j] sum_k q_w,jk)

with acc = q_a q_w^T from the int8 GEMM (`int8_matmul`, exact int32 accumulation) and one fused
rescale + bias (+ ReLU) pass (`requantize`, or the backend's fused `int8_linear` when it has
one). The activation scale s_a, z_a is per tensor and affine: measured on every batch at run time
(`quantize_dynamic`) or fixed from calibration (`quantize_static`, `convert`).
"""
import copy
import math

import numpy as np

from ..autograd import no_grad
from .. import backend
from ..nn.layers import Linear, ReLU, Sequential, Sigmoid, Tanh, Identity
from ..nn.module import Module
from ..nn.parameter import Parameter
from ..tensor import Tensor

__all__ = ["calc_qparams", "quantize_tensor", "dequantize_tensor", "quantize_dynamic", "quantize_static",
           "prepare_qat", "convert", "model_size", "load_quantized", "QuantizedLinear", "QATLinear"]

QRANGES = {"int8": (-128, 127), "uint8": (0, 255)}
EPS = float(np.finfo(np.float32).eps)
ACTIVATIONS = ("none", "relu", "sigmoid", "tanh")
_ACT_MODULES = {ReLU: "relu", Sigmoid: "sigmoid", Tanh: "tanh"}
OBSERVERS = ("minmax", "percentile")


def _qrange(dtype, op):
    key = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    if key not in QRANGES:
        raise ValueError(f"{op}: dtype must be 'int8' or 'uint8', got {dtype!r}")
    return key, QRANGES[key]


# ---------------------------------------------------------------- the formulas
def calc_qparams(min_val, max_val, dtype="int8", symmetric=True):
    """(scale, zero_point) for the observed range [min_val, max_val] (PyTorch's MinMaxObserver).

    With m- = min(min_val, 0), m+ = max(max_val, 0), eps = float32 machine epsilon:
      affine:    s = max((m+ - m-) / (qmax - qmin), eps),  z = clamp(qmin - round(m- / s), qmin, qmax)
      symmetric: s = max(max(-m-, m+) / ((qmax - qmin) / 2), eps),  z = 0 (int8) or 128 (uint8)
    Computed in float32, round half to even. Scalars in -> (float, int); arrays (one range per
    channel) in -> (float32 array, int64 array)."""
    dtype, (qmin, qmax) = _qrange(dtype, "calc_qparams")
    if isinstance(min_val, _SCALARS) and isinstance(max_val, _SCALARS):
        found = _scalar_qparams(min_val, max_val, qmin, qmax, dtype, symmetric)
        if found is not None:
            return found
    lo = np.asarray(min_val, dtype=np.float32)
    hi = np.asarray(max_val, dtype=np.float32)
    if lo.shape != hi.shape:
        raise ValueError(f"calc_qparams: min_val shape {lo.shape} differs from max_val shape {hi.shape}")
    if np.any(np.isnan(lo)) or np.any(np.isnan(hi)) or np.any(lo > hi):
        raise ValueError(f"calc_qparams: need min_val <= max_val (no NaN), got {min_val!r} and {max_val!r}")
    lo = np.minimum(lo, np.float32(0))
    hi = np.maximum(hi, np.float32(0))
    eps = np.float32(EPS)
    if symmetric:
        scale = np.maximum(np.maximum(-lo, hi) / np.float32((qmax - qmin) / 2), eps)
        zp = np.full(scale.shape, 0 if dtype == "int8" else 128, dtype=np.int64)
    else:
        scale = np.maximum((hi - lo) / np.float32(qmax - qmin), eps)
        zp = np.clip(qmin - np.rint(lo / scale).astype(np.int64), qmin, qmax)
    scale = scale.astype(np.float32)
    if scale.ndim == 0:
        return float(scale), int(zp)
    return scale, zp


_SCALARS = (int, float, np.integer, np.floating)


def _scalar_qparams(min_val, max_val, qmin, qmax, dtype, symmetric):
    """calc_qparams for one finite range, on NumPy float32 scalars: the same float32 operations in
    the same order as the array path (so the same bits), without its array round trips (a
    dynamically quantized layer calls this once per batch).  None for anything unusual."""
    lo, hi = np.float32(min_val), np.float32(max_val)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
        return None          # NaN, inf or lo > hi: the array path raises or handles it
    lo = min(lo, np.float32(0))
    hi = max(hi, np.float32(0))
    eps = np.float32(EPS)
    if symmetric:
        scale = max(max(-lo, hi) / np.float32((qmax - qmin) / 2), eps)
        return float(scale), 0 if dtype == "int8" else 128
    scale = max((hi - lo) / np.float32(qmax - qmin), eps)
    return float(scale), min(max(qmin - int(np.rint(lo / scale)), qmin), qmax)


def _channel(v, x, axis, dtype):
    v = np.asarray(v, dtype=dtype)
    if v.ndim == 0:
        return v
    if v.ndim != 1 or x.ndim == 0 or v.shape[0] != x.shape[axis]:
        raise ValueError(f"quantize: per-channel parameters of shape {v.shape} do not match axis {axis} of shape {x.shape}")
    shape = [1] * x.ndim
    shape[axis] = -1
    return v.reshape(shape)


def quantize_tensor(x, scale, zero_point, dtype="int8", axis=0):
    """q = clamp(round_half_even(x / s) + z, qmin, qmax) as int8 or uint8.

    scale and zero_point are scalars (per tensor) or 1-D arrays, one per index along `axis`
    (per channel)."""
    dtype, (qmin, qmax) = _qrange(dtype, "quantize_tensor")
    x = x.data if isinstance(x, Tensor) else np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float32)
    s = _channel(scale, x, axis, x.dtype)
    z = _channel(zero_point, x, axis, np.int64)
    if np.any(s <= 0):
        raise ValueError(f"quantize_tensor: scale must be > 0, got {scale!r}")
    q = np.rint(x / s) + z
    return np.clip(q, qmin, qmax).astype(dtype)


def dequantize_tensor(q, scale, zero_point, axis=0):
    """x^ = s (q - z) as float32 (s, z per tensor or per channel along `axis`)."""
    q = q.data if isinstance(q, Tensor) else np.asarray(q)
    s = _channel(scale, q, axis, np.float32)
    z = _channel(zero_point, q, axis, np.int64)
    return (s * (q.astype(np.int64) - z).astype(np.float32)).astype(np.float32)


def _weight_qparams(w):
    """Symmetric int8 per output channel: s_j = max(max_k |W_jk| / 127.5, eps)."""
    if w.shape[1] == 0:
        return np.full(w.shape[0], EPS, np.float32)
    s, _ = calc_qparams(w.min(axis=1), w.max(axis=1), "int8", symmetric=True)
    return s


# ---------------------------------------------------------------- the int8 layer
class QuantizedLinear(Module):
    """y = act(s_a s_w[j] sum_k (q_a,ik - z_a) q_w,jk + b_j) on int8 weights and activations.

    Buffers (what state_dict() stores): `weight` int8 (out, in); `weight_scale` float32 (out,),
    symmetric per output channel; `bias` float32 (out,) if any; `activation` int8 (1,), the index
    in ("none", "relu", "sigmoid", "tanh") of the activation fused after the layer; and for a
    static layer `input_scale` float32 (1,) and `input_zero_point` int64 (1,). Without them the
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
            self.register_buffer("input_scale", np.array([input_scale], np.float32).reshape(1))
            self.register_buffer("input_zero_point", np.array([input_zero_point], np.int64).reshape(1))

    @classmethod
    def from_float(cls, layer, input_range=None, activation="none"):
        """Quantize a float Linear: W -> int8 per output channel; `input_range` = (lo, hi) makes
        the layer static with affine int8 input parameters calc_qparams(lo, hi, symmetric=False)."""
        with no_grad():
            w = np.asarray(layer.weight.data, np.float32)
            b = None if layer.bias is None else np.asarray(layer.bias.data, np.float32)
        s_w = _weight_qparams(w)
        q_w = quantize_tensor(w, s_w, 0, "int8", axis=0)
        s_a = z_a = None
        if input_range is not None:
            s_a, z_a = calc_qparams(input_range[0], input_range[1], "int8", symmetric=False)
        return cls(q_w, s_w, b, s_a, z_a, activation)

    @property
    def static(self):
        return "input_scale" in self._buffers

    @property
    def activation_name(self):
        return ACTIVATIONS[int(self.activation[0])]

    def forward(self, x):
        x = x.data if isinstance(x, Tensor) else np.asarray(x)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"QuantizedLinear: input of shape {x.shape} does not have {self.in_features} features")
        lead = x.shape[:-1]
        x2 = np.ascontiguousarray(x.reshape(-1, self.in_features), dtype=np.float32)
        b = backend.active
        if self.static:
            s_a, z_a = float(self.input_scale[0]), int(self.input_zero_point[0])
        elif x2.size:
            s_a, z_a = calc_qparams(*b.minmax(x2), "int8", symmetric=False)
        else:
            s_a, z_a = 1.0, 0
        xq = b.quantize_rows(x2, np.float32(s_a), z_a)
        bias = self.bias
        if z_a:  # fold the zero point: - s_a z_a s_w[j] sum_k q_w,jk
            rowsum = np.add.reduce(self.weight, axis=1, dtype=np.int32).astype(np.float32)
            shift = np.float32(s_a * z_a) * self.weight_scale * rowsum
            bias = -shift if bias is None else bias - shift
        act = self.activation_name
        relu = act == "relu"
        fused = getattr(b, "int8_linear", None)
        if fused is not None:
            y = fused(xq, self.weight, np.float32(s_a), self.weight_scale, bias, relu)
        else:
            y = b.requantize(b.int8_matmul(xq, self.weight.T), np.float32(s_a), self.weight_scale, bias, relu)
        if act in ("sigmoid", "tanh"):
            y = b.activation(y, act)
        return Tensor._wrap(y.reshape(*lead, self.out_features), False)

    def extra_repr(self):
        kind = "static" if self.static else "dynamic"
        act = "" if self.activation_name == "none" else f", activation={self.activation_name}"
        return f"in_features={self.in_features}, out_features={self.out_features}, {kind}{act}"


# ---------------------------------------------------------------- model surgery
def _linears(model, cls=Linear):
    if isinstance(model, cls):
        return [("", None, None, model)]
    found = []
    for pname, parent in model.named_modules():
        for cname, child in parent.named_children():
            if isinstance(child, cls):
                found.append((f"{pname}.{cname}" if pname else cname, parent, cname, child))
    return found


def _follower(parent, cname):
    """The plain activation module right after child `cname` of a Sequential parent, or None."""
    if not isinstance(parent, Sequential):
        return None, None
    keys = [k for k, m in parent._modules.items() if m is not None]
    i = keys.index(cname)
    if i + 1 < len(keys):
        nxt = parent._modules[keys[i + 1]]
        act = _ACT_MODULES.get(type(nxt))
        if act is not None and not nxt.has_hooks:
            return keys[i + 1], act
    return None, None


def _replace(model, make, cls=Linear, op="quantize"):
    """A copy of `model` with each `cls` layer replaced by make(name, layer, activation); an activation
    module right after it in a Sequential is fused into the new layer and becomes Identity."""
    found = _linears(model, cls)
    if not found:
        raise ValueError(f"{op}: {type(model).__name__} has no {cls.__name__} layer to quantize")
    new = copy.deepcopy(model)
    found = _linears(new, cls)
    if found[0][1] is None:  # the model is a single layer
        return make(found[0][0], found[0][3], "none")
    for name, parent, cname, child in found:
        fkey, act = _follower(parent, cname)
        setattr(parent, cname, make(name, child, act or "none"))
        if fkey is not None:
            setattr(parent, fkey, Identity())
    return new.eval()


def quantize_dynamic(model):
    """A new model whose Linear layers are int8 `QuantizedLinear`s: weights symmetric per output
    channel; activations quantized per batch at run time (affine int8, s_a and z_a from each
    batch's min and max); ReLU/Sigmoid/Tanh right after a Linear are fused into it. The original
    model is not changed."""
    return _replace(model, lambda name, layer, act: QuantizedLinear.from_float(layer, None, act),
                    op="quantize_dynamic")


def _batches(calibration_batches, op):
    for batch in calibration_batches:
        if isinstance(batch, (tuple, list)):
            batch = batch[0]
        yield batch if isinstance(batch, Tensor) else Tensor(np.asarray(batch, np.float32))


def observe(model, calibration_batches, observer="minmax", percentile=99.99):
    """Run `model` (in eval mode, no gradient) on the batches and return {Linear name: (lo, hi)},
    the range of each Linear layer's input: "minmax" takes the min and max over all batches;
    "percentile" the mean over batches of each batch's (100 - p)-th and p-th percentiles."""
    if observer not in OBSERVERS:
        raise ValueError(f"quantize_static: unknown observer {observer!r}; choose one of {OBSERVERS}")
    found = _linears(model)
    if not found:
        raise ValueError(f"quantize_static: {type(model).__name__} has no Linear layer to quantize")
    stats = {name: [] for name, *_ in found}

    def hook_for(name):
        def hook(module, args):
            x = args[0].data if isinstance(args[0], Tensor) else np.asarray(args[0])
            if x.size == 0:
                return None
            if observer == "minmax":
                stats[name].append((float(x.min()), float(x.max())))
            else:
                lo, hi = np.percentile(x, [100 - percentile, percentile])
                stats[name].append((float(lo), float(hi)))
            return None
        return hook

    handles = [layer.register_forward_pre_hook(hook_for(name)) for name, _, _, layer in found]
    was_training = model.training
    model.eval()
    n = 0
    try:
        with no_grad():
            for x in _batches(calibration_batches, "quantize_static"):
                model(x)
                n += 1
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    if n == 0:
        raise ValueError("quantize_static: the calibration set has zero batches; give at least one batch of inputs")
    ranges = {}
    for name, seen in stats.items():
        if not seen:
            raise ValueError(f"quantize_static: Linear layer {name!r} saw no (non-empty) input during calibration")
        lows, highs = np.array([s[0] for s in seen]), np.array([s[1] for s in seen])
        ranges[name] = (lows.min(), highs.max()) if observer == "minmax" else (lows.mean(), highs.mean())
    return ranges


def quantize_static(model, calibration_batches, observer="minmax", percentile=99.99):
    """A new int8 model like `quantize_dynamic`'s, but each layer's input scale and zero point are
    fixed from calibration: the model runs on `calibration_batches` (an iterable of input arrays or
    Tensors, or of (input, target) tuples as a DataLoader yields them) and each Linear's input range
    is observed (`observe`), then (s_a, z_a) = calc_qparams(lo, hi, "int8", symmetric=False).
    Inputs outside the calibrated range are clipped to it."""
    ranges = observe(model, calibration_batches, observer, percentile)
    return _replace(model, lambda name, layer, act: QuantizedLinear.from_float(layer, ranges[name], act),
                    op="quantize_static")


# ---------------------------------------------------------------- quantization-aware training
class QATLinear(Module):
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
        self.register_buffer("input_min", np.full(1, np.inf, np.float32))
        self.register_buffer("input_max", np.full(1, -np.inf, np.float32))

    @classmethod
    def from_float(cls, layer):
        with no_grad():
            w = layer.weight
            b = layer.bias
        w = w if isinstance(w, Parameter) else Parameter(w.data.copy())
        b = b if (b is None or isinstance(b, Parameter)) else Parameter(b.data.copy())
        return cls(w, b)

    def input_qparams(self):
        return calc_qparams(self.input_min[0], self.input_max[0], "int8", symmetric=False)

    def forward(self, x):
        from .. import ops

        xa = x.data if isinstance(x, Tensor) else np.asarray(x)
        if xa.size and (self.training or not np.isfinite(self.input_min[0])):
            lo, hi = np.float32(xa.min()), np.float32(xa.max())
            if not np.isfinite(self.input_min[0]):
                self.input_min[0], self.input_max[0] = lo, hi
            else:
                c = np.float32(self.averaging_constant)
                self.input_min[0] += c * (lo - self.input_min[0])
                self.input_max[0] += c * (hi - self.input_max[0])
        s_a, z_a = self.input_qparams() if np.isfinite(self.input_min[0]) else (1.0, 0)
        xq = ops.FakeQuantize.apply(x, scale=s_a, zero_point=z_a, qmin=-128, qmax=127)
        s_w = _weight_qparams(self.weight.data)
        wq = ops.FakeQuantize.apply(self.weight, scale=s_w[:, None], zero_point=0, qmin=-128, qmax=127)
        if self.bias is None:
            return ops.Linear.apply(xq, wq)
        return ops.Linear.apply(xq, wq, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


def prepare_qat(model):
    """A copy of `model` (in training mode) whose Linear layers are `QATLinear`s: train it as
    usual (fake quantization in the forward pass, straight-through gradients), then `convert`."""
    if not _linears(model):
        raise ValueError(f"prepare_qat: {type(model).__name__} has no Linear layer to quantize")
    new = copy.deepcopy(model)
    found = _linears(new)
    if found[0][1] is None:
        return QATLinear.from_float(found[0][3]).train()
    for name, parent, cname, child in found:
        setattr(parent, cname, QATLinear.from_float(child))
    return new.train()


def convert(model):
    """The int8 model of a QAT model: each QATLinear becomes a static QuantizedLinear with its
    weights quantized per output channel and its input range from the QAT observer (ReLU/Sigmoid/
    Tanh after it fused). The QAT model is not changed."""
    def make(name, layer, act):
        if not np.isfinite(layer.input_min[0]):
            raise ValueError(f"convert: QAT layer {name!r} has never seen an input; run the QAT model first")
        return QuantizedLinear.from_float(layer, (layer.input_min[0], layer.input_max[0]), act)
    return _replace(model, make, cls=QATLinear, op="convert")


# ---------------------------------------------------------------- size, saving, loading
def model_size(model):
    """Bytes of the model as stored: sum of nbytes of every array in model.state_dict()
    (parameters and persistent buffers; int8 weights count 1 byte each)."""
    total = 0
    for value in model.state_dict().values():
        arr = value.data if isinstance(value, Tensor) else np.asarray(value)
        total += arr.nbytes
    return int(total)


def _layer_from_state(sd, prefix):
    get = lambda k: sd.get(prefix + k)  # noqa: E731
    act = get("activation")
    act = ACTIVATIONS[int(np.asarray(act).reshape(-1)[0])] if act is not None else "none"
    s_a = get("input_scale")
    z_a = get("input_zero_point")
    return QuantizedLinear(
        np.asarray(get("weight")), get("weight_scale"), get("bias"),
        None if s_a is None else float(np.asarray(s_a).reshape(-1)[0]),
        None if z_a is None else int(np.asarray(z_a).reshape(-1)[0]), act)


def load_quantized(state_dict, model=None):
    """Rebuild a quantized model from its state dict (e.g. `tn.load(path)` of
    `tn.save(qmodel.state_dict(), path)`).

    With `model` (the float model the quantized one came from, or one of the same architecture),
    its Linear layers are replaced by QuantizedLinears built from the stored arrays, keeping every
    other module. Without it, the state dict of a quantized Sequential is enough: a Sequential
    with a QuantizedLinear at each stored index and Identity elsewhere (the activations after the
    Linear layers are fused into them, so nothing is lost for Sequential(Linear, act, ..., Linear))."""
    if not hasattr(state_dict, "items"):
        raise TypeError(f"load_quantized: expected a dict of arrays, got {type(state_dict).__name__}")
    if model is not None:
        def make(name, layer, act):
            prefix = f"{name}." if name else ""
            if prefix + "weight" not in state_dict or prefix + "weight_scale" not in state_dict:
                raise ValueError(f"load_quantized: no quantized weights for layer {name!r} in the state dict")
            return _layer_from_state(state_dict, prefix)
        cls = QATLinear if _linears(model, QATLinear) else Linear
        return _replace(model, make, cls=cls, op="load_quantized")
    prefixes = sorted({k[: -len(".weight_scale")] for k in state_dict if k.endswith(".weight_scale")})
    if not prefixes:
        if "weight_scale" in state_dict:
            return _layer_from_state(state_dict, "")
        raise ValueError("load_quantized: the state dict has no quantized layers (no '<i>.weight_scale' keys)")
    if not all(p.isdigit() for p in prefixes):
        raise ValueError(f"load_quantized: layers {prefixes} are not the indices of a Sequential; "
                         "pass model= (the float model's architecture) to rebuild it")
    n = max(int(p) for p in prefixes) + 1
    mods = [Identity() for _ in range(n)]
    for p in prefixes:
        mods[int(p)] = _layer_from_state(state_dict, p + ".")
    return Sequential(*mods).eval()
