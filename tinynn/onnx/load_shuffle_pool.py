"""ONNX nodes read back as the layers of shuffle_pool.py:

    DepthToSpace(blocksize r)   mode "CRD": PixelShuffle(r) (CRD's channel order c r^2 + i r + j is PyTorch's);
                                mode "DCR" (the default): the specification's order, channel (i r + j) C + c:
                                Reshape (N, r, r, C, H, W), Transpose (0, 3, 4, 1, 5, 2), Reshape (N, C, H r, W r)
    SpaceToDepth(blocksize r)   the inverse of DCR: y[n, (i r + j) C + c, h, w] = x[n, c, h r + i, w r + j]
                                (not PixelUnshuffle, whose channel is c r^2 + i r + j)
    GlobalMaxPool               AdaptiveMaxPool1d(1) / 2d(1) / 3d(1) on a 3-D / 4-D / 5-D input
"""
from .. import nn
from .load_ops import attrs, refuse

__all__ = ["SHUFFLE_POOL_OPS", "SHUFFLE_POOL_LAYERS"]


def _depth_to_space(node, ctx):
    a = attrs(node)
    r = int(a["blocksize"])
    if a.get("mode", "DCR") == "CRD":
        return nn.PixelShuffle(r)

    def depth_to_space(x):
        n, c, h, w = x.shape
        y = x.reshape(n, r, r, c // (r * r), h, w).permute(0, 3, 4, 1, 5, 2)
        return y.reshape(n, c // (r * r), h * r, w * r)
    return depth_to_space


def _space_to_depth(node, ctx):
    r = int(attrs(node)["blocksize"])

    def space_to_depth(x):
        n, c, h, w = x.shape
        y = x.reshape(n, c, h // r, r, w // r, r).permute(0, 3, 5, 1, 2, 4)
        return y.reshape(n, c * r * r, h // r, w // r)
    return space_to_depth


def _global_max_pool(node, ctx):
    shape = ctx.shape(node.input[0])
    if shape is None or len(shape) not in (3, 4, 5):
        refuse(node, f"tinynn has AdaptiveMaxPool1d, 2d and 3d only (input shape {shape})")
    return (nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)[len(shape) - 3](1)


SHUFFLE_POOL_OPS = {"DepthToSpace": _depth_to_space, "SpaceToDepth": _space_to_depth}
SHUFFLE_POOL_LAYERS = {"GlobalMaxPool": _global_max_pool}
