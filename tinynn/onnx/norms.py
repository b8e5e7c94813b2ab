"""Converters of the per-sample normalization layers (NCL / NCHW):

    GroupNorm(G, C)          opset < 21: Reshape(x, [0, G, -1]) -> InstanceNormalization(scale 1, B 0, epsilon)
                             -> Reshape back to [0, C, ...] -> Mul(gamma[c]) -> Add(beta[c]) (as PyTorch's exporter);
                             opset >= 21: GroupNormalization(x, gamma, beta, num_groups, epsilon)
    InstanceNorm1d/2d        InstanceNormalization(x, gamma, beta, epsilon) (gamma = 1, beta = 0 without affine);
                             with track_running_stats in eval mode: BatchNormalization with the running statistics

Why the decomposition below opset 21: GroupNormalization-18 takes its scale and bias per *group*
(shape (G,)), which cannot hold a GroupNorm's per-channel gamma, beta (shape (C,)); opset 21 changed them
to per channel (and deprecated the old form). A group of sample n is row g of x reshaped to (N, G, C/G * L),
and InstanceNormalization normalizes exactly those rows: (v - mean) / sqrt(var + eps), var biased.
The loader (load_norms.py) reads both forms back as a GroupNorm.
"""
import numpy as np

from ..nn.group_norm import GroupNorm, InstanceNorm1d, InstanceNorm2d
from .graph import converter

GROUP_NORMALIZATION_OPSET = 21  # the first opset whose GroupNormalization is per channel


def _affine(g, layer, channels, shape):
    """(gamma, beta) initializers, reshaped to `shape`; ones and zeros (named "ones", "zeros") where the
    layer has none."""
    weight = layer.weight if layer.weight is not None else np.ones(channels, np.float32)
    bias = layer.bias if layer.bias is not None else np.zeros(channels, np.float32)
    names = ("weight" if layer.weight is not None else "ones", "bias" if layer.bias is not None else "zeros")
    return [g.initializer(np.reshape(np.asarray(getattr(v, "_data", v)), shape), name)
            for v, name in zip((weight, bias), names)]


@converter(GroupNorm)
def group_norm(g, layer, x, value):
    if value.ndim < 3:
        raise ValueError(f"onnx.export: layer {g.layer!r} (GroupNorm) on an input of shape {value.shape}: tinynn "
                         "exports GroupNorm on (N, C, L...) inputs (at least one position axis)")
    c, groups = value.shape[1], layer.num_groups
    if g.opset_version >= GROUP_NORMALIZATION_OPSET:
        return g.node("GroupNormalization", [x, *_affine(g, layer, c, (c,))], num_groups=groups,
                      epsilon=float(layer.eps))
    rows = g.node("Reshape", [x, g.initializer(np.array([0, groups, -1], np.int64), "group_shape")])
    ones, zeros = np.ones(groups, np.float32), np.zeros(groups, np.float32)
    y = g.node("InstanceNormalization", [rows, g.initializer(ones, "group_scale"), g.initializer(zeros, "group_bias")],
               epsilon=float(layer.eps))
    y = g.node("Reshape", [y, g.initializer(np.array([0, *value.shape[1:]], np.int64), "shape")])
    channel = (c,) + (1,) * (value.ndim - 2)
    if layer.weight is not None:
        y = g.node("Mul", [y, g.initializer(layer.weight._data.reshape(channel), "weight")])
    if layer.bias is not None:
        y = g.node("Add", [y, g.initializer(layer.bias._data.reshape(channel), "bias")])
    return y


@converter(InstanceNorm1d, InstanceNorm2d)
def instance_norm(g, layer, x, value):
    if value.ndim != layer.dims + 2:
        raise ValueError(f"onnx.export: layer {g.layer!r} ({type(layer).__name__}) on an input of shape "
                         f"{value.shape}: tinynn exports it on batched inputs (N, C, ...) only, as axis 0 of the "
                         "graph is the batch")
    c = value.shape[1]
    if layer.track_running_stats:  # eval mode: the running statistics, as a BatchNorm's
        return g.node("BatchNormalization", [x, *_affine(g, layer, c, (c,)),
                                             g.initializer(layer.running_mean, "running_mean"),
                                             g.initializer(layer.running_var, "running_var")],
                      epsilon=float(layer.eps))
    return g.node("InstanceNormalization", [x, *_affine(g, layer, c, (c,))], epsilon=float(layer.eps))
