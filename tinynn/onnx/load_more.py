"""ONNX nodes read back as the layers of more_layers.py:

    LRN(size n, alpha, beta, bias)        LocalResponseNorm(n, alpha, beta, k = bias) for an odd n (ONNX's window
                                          c - floor((n-1)/2) ... c + ceil((n-1)/2) is PyTorch's then); for an even
                                          n the specification's window, one channel later than PyTorch's:
                                          x / (bias + alpha / n sum of the squares in it)^beta
    RMSNormalization(x, scale)            RMSNorm(scale's shape, eps = epsilon) holding the scale, over the last
                                          axes (opset 23; stash_type 1, float32, as tinynn computes)
"""
import numpy as np

from .. import nn
from ..nn import functional as F
from .load_layers import set_param
from .load_ops import attrs, refuse

__all__ = ["MORE_OPS", "MORE_LAYERS"]


def _lrn(node, ctx):
    a = attrs(node)
    n, alpha, beta, bias = int(a["size"]), float(a.get("alpha", 1e-4)), float(a.get("beta", 0.75)), \
        float(a.get("bias", 1.0))
    if n % 2:
        return nn.LocalResponseNorm(n, alpha, beta, bias)

    def lrn(x):
        before, after = (n - 1) // 2, n - 1 - (n - 1) // 2
        padded = F.pad(x * x, (0, 0) * (x.ndim - 2) + (before, after))
        channels, total = x.shape[1], padded[:, 0:x.shape[1]]
        for i in range(1, n):
            total = total + padded[:, i:i + channels]
        return x / (total * (alpha / n) + bias) ** beta
    return lrn


def _rms_normalization(node, ctx):
    names = list(node.input[1:])
    if len(node.output) > 1 or not names or any(i not in ctx.consts for i in names):
        refuse(node, "tinynn reads RMSNormalization with a constant scale and one output")
    a, scale, shape = attrs(node), ctx.consts[names[0]], ctx.shape(node.input[0])
    axis = int(a.get("axis", -1))
    if shape is not None and axis >= 0:
        axis -= len(shape)
    if axis != -scale.ndim:
        refuse(node, f"axis {axis} does not normalize the last {scale.ndim} axes the scale covers")
    if a.get("stash_type", 1) != 1:
        refuse(node, f"stash_type={a['stash_type']}; tinynn computes in the input's float type")
    layer = nn.RMSNorm(scale.shape, eps=float(np.float32(a.get("epsilon", 1e-5))))
    set_param(layer.weight, scale)
    return layer


MORE_OPS = {"LRN": _lrn}
MORE_LAYERS = {"RMSNormalization": _rms_normalization}
