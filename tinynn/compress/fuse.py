"""Folding BatchNorm into the layer before it, and fusing an activation into a layer (PyTorch's
torch.ao.quantization.fuse_modules, eager mode).

In eval mode BatchNorm is an affine map per channel, y_o = gamma_o (z_o - mu_o) / sqrt(var_o + eps)
+ beta_o, so after a convolution (or Linear) z = W * x + b it folds into the layer's parameters:

    W'_o = W_o gamma_o / sqrt(var_o + eps),   b'_o = (b_o - mu_o) gamma_o / sqrt(var_o + eps) + beta_o

and the fused layer computes the same outputs with one layer less (the int8 layers then quantize the
folded weights). A ReLU after it becomes part of the fused module (ConvReLU2d, LinearReLU, as
torch.ao.nn.intrinsic), which the quantizers turn into one int8 layer with the activation fused.
"""
import copy

import numpy as np

from ..autograd import no_grad
from ..nn import BatchNorm1d, BatchNorm2d, Conv1d, Conv2d
from ..nn.layers import Identity, Linear, ReLU, Sequential
from .chains import runs
from .qconv import QATConv2d
from .qlinear import QATLinear

__all__ = ["fuse_modules", "fuse_known_modules", "fold_bn", "ConvReLU2d", "ConvReLU1d", "LinearReLU"]

_NORMS = (BatchNorm1d, BatchNorm2d)
_LAYERS = (Conv1d, Conv2d, Linear, QATConv2d, QATLinear)  # a QAT model's BatchNorms fold at convert


class ConvReLU2d(Sequential):
    """relu(conv(x)): a Conv2d and a ReLU fused (torch.ao.nn.intrinsic.ConvReLU2d; keys "0.weight", ...)."""


class ConvReLU1d(Sequential):
    """relu(conv(x)) for a Conv1d (torch.ao.nn.intrinsic.ConvReLU1d)."""


class LinearReLU(Sequential):
    """relu(linear(x)) (torch.ao.nn.intrinsic.LinearReLU)."""


_WITH_RELU = {Conv2d: ConvReLU2d, Conv1d: ConvReLU1d, Linear: LinearReLU}


def fold_bn(layer, bn):
    """A copy of `layer` (Conv1d/Conv2d/Linear) with the eval-mode BatchNorm `bn` after it folded in
    (formula above); the copy has a bias even if `layer` had none."""
    if bn.training:
        raise RuntimeError("fuse_modules: folding BatchNorm needs the model in eval mode (model.eval()); "
                           "training-mode BatchNorm normalizes with batch statistics, not a fixed affine map")
    out = getattr(layer, "out_channels", getattr(layer, "out_features", None))
    if bn.num_features != out:
        raise ValueError(f"fuse_modules: {type(bn).__name__}({bn.num_features}) does not follow "
                         f"{type(layer).__name__} with {out} outputs")
    with no_grad():
        w = layer.weight._data.astype(np.float64)
        b = np.zeros(out) if layer.bias is None else layer.bias._data.astype(np.float64)
        mean = np.asarray(bn.running_mean, np.float64).reshape(-1)
        var = np.asarray(bn.running_var, np.float64).reshape(-1)
        gamma = bn.weight._data.astype(np.float64) if bn.weight is not None else np.ones(out)
        beta = bn.bias._data.astype(np.float64) if bn.bias is not None else np.zeros(out)
    k = gamma / np.sqrt(var + bn.eps)
    new = copy.deepcopy(layer)
    dtype = layer.weight._data.dtype
    from ..nn.parameter import Parameter

    new.weight = Parameter((w * k.reshape(-1, *([1] * (w.ndim - 1)))).astype(dtype))
    new.bias = Parameter(((b - mean) * k + beta).astype(dtype))
    return new


def _fuse_group(mods):
    """The fused module of a group [layer, bn?, relu?] (or [bn, relu]) and how many Identities follow."""
    kinds = [type(m) for m in mods]
    head = mods[0]
    rest = list(mods[1:])
    if isinstance(head, _NORMS) and len(rest) == 1 and type(rest[0]) is ReLU:
        return Sequential(head, rest[0])
    if not isinstance(head, _LAYERS):
        raise ValueError(f"fuse_modules: cannot fuse {[k.__name__ for k in kinds]}; supported: conv/linear, "
                         "then optionally a BatchNorm, then optionally a ReLU")
    if rest and isinstance(rest[0], _NORMS):
        head = fold_bn(head, rest.pop(0))
    if rest and type(rest[0]) is ReLU:
        rest.pop(0)
        head = _WITH_RELU.get(type(head), Sequential)(head, ReLU())
    if rest:
        raise ValueError(f"fuse_modules: cannot fuse {[k.__name__ for k in kinds]}; supported: conv/linear, "
                         "then optionally a BatchNorm, then optionally a ReLU")
    return head


def _get(model, name):
    m = model
    for part in name.split("."):
        if part not in m._modules:
            raise ValueError(f"fuse_modules: {type(model).__name__} has no submodule {name!r}")
        m = m._modules[part]
    return m


def _set(model, name, module):
    parent, _, last = name.rpartition(".")
    setattr(_get(model, parent) if parent else model, last, module)


def fuse_modules(model, modules_to_fuse, inplace=False):
    """Fuse each group of submodules named in `modules_to_fuse` (a list of qualified names, or a list
    of such lists): [conv, bn], [conv, bn, relu], [conv, relu], [linear, bn], [linear, relu],
    [bn, relu]. The first module becomes the fused one, the others Identity (PyTorch's rule). The
    model must be in eval mode when a BatchNorm is folded. Returns the fused model (a copy unless
    `inplace`)."""
    if modules_to_fuse and isinstance(modules_to_fuse[0], str):
        modules_to_fuse = [modules_to_fuse]
    if not inplace:
        model = copy.deepcopy(model)
    for group in modules_to_fuse:
        if len(group) < 2:
            raise ValueError(f"fuse_modules: a group needs at least two modules, got {group!r}")
        fused = _fuse_group([_get(model, name) for name in group])
        _set(model, group[0], fused)
        for name in group[1:]:
            _set(model, name, Identity())
    return model


def fusable_groups(model, with_relu=True):
    """The groups fuse_known_modules fuses: in every run (chains.runs), a conv or Linear followed by
    a BatchNorm, and (if `with_relu`) the ReLU after that if there is one."""
    groups = []
    for pname, parent, names in runs(model):
        for i, name in enumerate(names[:-1]):
            head, nxt = parent._modules[name], parent._modules[names[i + 1]]
            if type(head) in _LAYERS and type(nxt) in _NORMS:
                group = [name, names[i + 1]]
                if with_relu and i + 2 < len(names) and type(parent._modules[names[i + 2]]) is ReLU:
                    group.append(names[i + 2])
                groups.append([f"{pname}.{n}" if pname else n for n in group])
    return groups


def fuse_known_modules(model, with_relu=True):
    """fuse_modules(model, fusable_groups(model, with_relu), inplace=True) on a model in eval mode:
    every BatchNorm right after a conv or Linear folded in (the quantizers do this first, without
    the ReLUs, which they fuse into the int8 layers themselves)."""
    return fuse_modules(model, fusable_groups(model, with_relu), inplace=True)
