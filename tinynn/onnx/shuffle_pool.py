"""Converters of the pixel shuffles, Softmax2d and the adaptive pools the other modules leave out.

    PixelShuffle(r)       (N, C r^2, H, W) -> (N, C, H r, W r), y[n, c, h r + i, w r + j] = x[n, c r^2 + i r + j, h, w]:
                          DepthToSpace(blocksize = r, mode = "CRD") on a 4-D input (CRD's channel order is
                          PyTorch's: channel c r^2 + i r + j); more batch axes: Reshape (*, C, r, r, H, W),
                          Transpose, Reshape (*, C, H r, W r)
    PixelUnshuffle(r)     its inverse, y[n, c r^2 + i r + j, h, w] = x[n, c, h r + i, w r + j]: Reshape
                          (*, C, H/r, r, W/r, r), Transpose (c, i, j, h, w), Reshape (*, C r^2, H/r, W/r).
                          Not SpaceToDepth: that one orders the channels (i r + j) C + c (block first)
    Softmax2d             Softmax(axis = -3): over the channels of (N, C, H, W)
    AdaptiveAvgPool1d     GlobalAveragePool for output 1, else AveragePool(kernel = stride = L / Lo)
    AdaptiveMaxPool1d/2d  GlobalMaxPool for output 1, else MaxPool(kernel = stride = size / output size)

An adaptive pool's windows are floor(i n / o) ... ceil((i + 1) n / o): all of size n / o when o divides n,
which one pooling node computes; otherwise they differ in size (and overlap), which no ONNX pooling
operator does, and the export is refused naming the layer and its output_size (as AdaptiveAvgPool2d's in
vision.py).
"""
import numpy as np

from ..nn.activations import Softmax2d
from ..nn.pixel_shuffle import PixelShuffle, PixelUnshuffle
from ..nn.pooling_more import AdaptiveAvgPool1d, AdaptiveMaxPool1d, AdaptiveMaxPool2d
from .graph import KEEP_NONNEGATIVE, converter


def _shape(g, sizes, what):
    return g.initializer(np.array(sizes, np.int64), what)


@converter(PixelShuffle)
def pixel_shuffle(g, layer, x, value):
    r, lead = int(layer.upscale_factor), value.ndim - 3
    if lead < 1:
        raise ValueError(f"onnx.export: layer {g.layer!r} (PixelShuffle) on an input of shape {value.shape}: tinynn "
                         "exports a batched input (N, ..., C, H, W)")
    c, h, w = value.shape[-3:]
    if lead == 1:
        return g.node("DepthToSpace", [x], blocksize=r, mode="CRD")
    y = g.node("Reshape", [x, _shape(g, [0] * lead + [c // (r * r), r, r, h, w], "blocks_shape")])
    y = g.node("Transpose", [y], perm=[*range(lead), lead, lead + 3, lead + 1, lead + 4, lead + 2])
    return g.node("Reshape", [y, _shape(g, [0] * lead + [c // (r * r), h * r, w * r], "shape")])


@converter(PixelUnshuffle)
def pixel_unshuffle(g, layer, x, value):
    r, lead = int(layer.downscale_factor), value.ndim - 3
    if lead < 1:
        raise ValueError(f"onnx.export: layer {g.layer!r} (PixelUnshuffle) on an input of shape {value.shape}: "
                         "tinynn exports a batched input (N, ..., C, H, W)")
    c, h, w = value.shape[-3:]
    y = g.node("Reshape", [x, _shape(g, [0] * lead + [c, h // r, r, w // r, r], "blocks_shape")])
    y = g.node("Transpose", [y], perm=[*range(lead), lead, lead + 2, lead + 4, lead + 1, lead + 3])
    return g.node("Reshape", [y, _shape(g, [0] * lead + [c * r * r, h // r, w // r], "shape")])


@converter(Softmax2d)
def softmax2d(g, layer, x, value):
    if value.ndim not in (3, 4):
        raise ValueError(f"onnx.export: layer {g.layer!r} (Softmax2d) on an input of shape {value.shape}: it "
                         "needs (N, C, H, W) or (C, H, W)")
    return g.node("Softmax", [x], axis=-3)


def _output_sizes(g, layer, value, dims):
    """The adaptive pool's output size per spatial axis (None keeps the input's), checked to be batched."""
    if value.ndim != dims + 2:
        raise ValueError(f"onnx.export: layer {g.layer!r} ({type(layer).__name__}) on an input of shape "
                         f"{value.shape}: tinynn exports a batched input (N, C, {('L', 'H, W', 'D, H, W')[dims - 1]})")
    out = layer.output_size
    out = list(out) if isinstance(out, (tuple, list)) else [out] * dims
    return [int(n if o is None else o) for n, o in zip(value.shape[2:], out)]


def _adaptive(g, layer, x, value, dims, op_type):
    if getattr(layer, "return_indices", False):
        raise ValueError(f"onnx.export: layer {g.layer!r} ({type(layer).__name__}) has return_indices=True; "
                         "tinynn exports the pooled values only")
    out, size = _output_sizes(g, layer, value, dims), value.shape[2:]
    if all(o == 1 for o in out):
        y = g.node(f"Global{op_type}", [x])
    elif any(o <= 0 or s % o for s, o in zip(size, out)):
        raise ValueError(f"onnx.export: layer {g.layer!r} ({type(layer).__name__}, output_size "
                         f"{layer.output_size!r}) on an input of spatial size {tuple(size)}: its windows differ in "
                         "size, which no ONNX pooling operator computes; tinynn exports it when the output size "
                         "divides the input's (or is 1)")
    else:
        kernel = [s // o for s, o in zip(size, out)]
        y = g.node(op_type, [x], kernel_shape=kernel, strides=kernel)
    return y


@converter(AdaptiveAvgPool1d)
def adaptive_avg_pool1d(g, layer, x, value):
    return _adaptive(g, layer, x, value, 1, "AveragePool")


@converter(AdaptiveMaxPool1d, AdaptiveMaxPool2d)
def adaptive_max_pool(g, layer, x, value):
    return _adaptive(g, layer, x, value, 1 if isinstance(layer, AdaptiveMaxPool1d) else 2, "MaxPool")


# the same values moved (shuffles), or a max / mean of them (pools): >= 0 where the input is
KEEP_NONNEGATIVE.update({PixelShuffle, PixelUnshuffle, AdaptiveAvgPool1d, AdaptiveMaxPool1d, AdaptiveMaxPool2d})
