"""int8 quantization of a model's `Linear` and `Conv2d` layers: dynamic, static (calibrated) and
quantization-aware.

The formulas (scale, zero point, round trips) are in `qparams`, the int8 layers in `qlinear`;
this module turns a float model into an int8 one: each Linear becomes a `QuantizedLinear` whose
weights are int8, symmetric per output channel, and whose input (s_a, z_a) is measured on every
batch (`quantize_dynamic`), fixed from calibration (`quantize_static`) or learned through fake
quantization (`prepare_qat`, then `convert`); each Conv2d likewise becomes a `QuantizedConv2d`
(the same int8 kernel through im2col, `qconv`). A ReLU/Sigmoid/Tanh right after a layer is fused
into it, and a BatchNorm right after one is folded into its weights first (`fuse`).
"""
import copy

import numpy as np

from ..autograd import no_grad
from ..nn import Conv2d
from ..nn.layers import Identity, Linear, ReLU, Sequential, Sigmoid, Tanh
from ..tensor import Tensor
from .chains import successor
from .fuse import ConvReLU2d, LinearReLU, fuse_known_modules, fuse_modules  # noqa: F401 (public here)
from .qconv import QATConv2d, QuantizedConv2d
from .qlinear import QATLinear, QuantizedLinear
from .qparams import QRANGES, calc_qparams, dequantize_tensor, quantize_tensor  # noqa: F401 (public here)

__all__ = ["calc_qparams", "quantize_tensor", "dequantize_tensor", "quantize_dynamic", "quantize_static",
           "prepare_qat", "convert", "model_size", "load_quantized", "QuantizedLinear", "QATLinear",
           "fuse_modules", "QuantizedConv2d", "QATConv2d"]

OBSERVERS = ("minmax", "percentile")


FLOAT_LAYERS = (Linear, Conv2d)
QAT_LAYERS = (QATLinear, QATConv2d)
QUANTIZED = {Linear: QuantizedLinear, Conv2d: QuantizedConv2d, QATLinear: QuantizedLinear,
             QATConv2d: QuantizedConv2d}


# ---------------------------------------------------------------- model surgery
def _linears(model, cls=FLOAT_LAYERS):
    if isinstance(model, cls):
        return [("", None, None, model)]
    found = []
    for pname, parent in model.named_modules():
        for cname, child in parent.named_children():
            if isinstance(child, cls):
                found.append((f"{pname}.{cname}" if pname else cname, parent, cname, child))
    return found


def _follower(model, layer):
    """(parent, name) of the plain activation module right after `layer` in a run (a Sequential or
    a declared chain, see chains.runs), or (None, None)."""
    parent, name = successor(model, layer)
    if parent is not None:
        nxt = parent._modules[name]
        if type(nxt) in (ReLU, Sigmoid, Tanh) and not nxt.has_hooks:
            return parent, name
    return None, None


def _names(cls):
    return " or ".join(c.__name__ for c in (cls if isinstance(cls, tuple) else (cls,)))


def _replace(model, make, cls=FLOAT_LAYERS, op="quantize"):
    """A copy of `model` (in eval mode, BatchNorms after layers folded in) with each `cls` layer
    replaced by make(name, layer, activation); an activation module right after it is fused into
    the new layer and becomes Identity."""
    if not _linears(model, cls):
        raise ValueError(f"{op}: {type(model).__name__} has no {_names(cls)} layer to quantize")
    new = fuse_known_modules(copy.deepcopy(model).eval(), with_relu=False)
    found = _linears(new, cls)
    if found[0][1] is None:  # the model is a single layer
        return make(found[0][0], found[0][3], "none")
    for name, parent, cname, child in found:
        fparent, fname = _follower(new, child)
        act = "none" if fparent is None else fparent._modules[fname].activation
        setattr(parent, cname, make(name, child, act))
        if fparent is not None:
            setattr(fparent, fname, Identity())
    return new.eval()


def quantize_dynamic(model):
    """A new model whose Linear layers are int8 `QuantizedLinear`s: weights symmetric per output
    channel; activations quantized per batch at run time (affine 7-bit uint8, reduce_range, s_a
    and z_a from each batch's min and max); ReLU/Sigmoid/Tanh right after a Linear are fused into it. The original
    model is not changed."""
    return _replace(model, lambda name, layer, act: QUANTIZED[type(layer)].from_float(layer, None, act),
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
        raise ValueError(f"quantize_static: {type(model).__name__} has no {_names(FLOAT_LAYERS)} layer to quantize")
    stats = {name: [] for name, *_ in found}

    def hook_for(name):
        def hook(module, args):
            x = args[0]._data if isinstance(args[0], Tensor) else np.asarray(args[0])
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
            raise ValueError(f"quantize_static: layer {name!r} saw no (non-empty) input during calibration")
        lows, highs = np.array([s[0] for s in seen]), np.array([s[1] for s in seen])
        ranges[name] = (lows.min(), highs.max()) if observer == "minmax" else (lows.mean(), highs.mean())
    return ranges


def quantize_static(model, calibration_batches, observer="minmax", percentile=99.99):
    """A new int8 model like `quantize_dynamic`'s, but each layer's input scale and zero point are
    fixed from calibration: the model runs on `calibration_batches` (an iterable of input arrays or
    Tensors, or of (input, target) tuples as a DataLoader yields them) and each Linear's input range
    is observed (`observe`), then (s_a, z_a) = calc_qparams(lo, hi, "uint8", False, reduce_range=True).
    Inputs outside the calibrated range are clipped to it."""
    ranges = observe(model, calibration_batches, observer, percentile)
    return _replace(model, lambda name, layer, act: QUANTIZED[type(layer)].from_float(layer, ranges[name], act),
                    op="quantize_static")


def prepare_qat(model):
    """A copy of `model` (in training mode) whose Linear layers are `QATLinear`s: train it as
    usual (fake quantization in the forward pass, straight-through gradients), then `convert`."""
    if not _linears(model):
        raise ValueError(f"prepare_qat: {type(model).__name__} has no {_names(FLOAT_LAYERS)} layer to quantize")
    new = copy.deepcopy(model)
    found = _linears(new)
    qat = {Linear: QATLinear, Conv2d: QATConv2d}
    if found[0][1] is None:
        return qat[type(found[0][3])].from_float(found[0][3]).train()
    for name, parent, cname, child in found:
        setattr(parent, cname, qat[type(child)].from_float(child))
    return new.train()


def convert(model):
    """The int8 model of a QAT model: each QATLinear becomes a static QuantizedLinear with its
    weights quantized per output channel and its input range from the QAT observer (ReLU/Sigmoid/
    Tanh after it fused). The QAT model is not changed."""
    def make(name, layer, act):
        if not np.isfinite(layer.input_min[0]):
            raise ValueError(f"convert: QAT layer {name!r} has never seen an input; run the QAT model first")
        return QUANTIZED[type(layer)].from_float(layer, (layer.input_min[0], layer.input_max[0]), act)
    return _replace(model, make, cls=QAT_LAYERS, op="convert")


# ---------------------------------------------------------------- size, saving, loading
def model_size(model):
    """Bytes of the model as stored: sum of nbytes of every array in model.state_dict()
    (parameters and persistent buffers; int8 weights count 1 byte each)."""
    total = 0
    for value in model.state_dict().values():
        arr = value._data if isinstance(value, Tensor) else np.asarray(value)
        total += arr.nbytes
    return int(total)


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
            return QuantizedLinear.from_state_dict(state_dict, prefix)
        cls = QATLinear if _linears(model, QATLinear) else Linear
        return _replace(model, make, cls=cls, op="load_quantized")
    prefixes = sorted({k[: -len(".weight_scale")] for k in state_dict if k.endswith(".weight_scale")})
    if not prefixes:
        if "weight_scale" in state_dict:
            return QuantizedLinear.from_state_dict(state_dict, "")
        raise ValueError("load_quantized: the state dict has no quantized layers (no '<i>.weight_scale' keys)")
    if not all(p.isdigit() for p in prefixes):
        raise ValueError(f"load_quantized: layers {prefixes} are not the indices of a Sequential; "
                         "pass model= (the float model's architecture) to rebuild it")
    n = max(int(p) for p in prefixes) + 1
    mods = [Identity() for _ in range(n)]
    for p in prefixes:
        mods[int(p)] = QuantizedLinear.from_state_dict(state_dict, p + ".")
    return Sequential(*mods).eval()
