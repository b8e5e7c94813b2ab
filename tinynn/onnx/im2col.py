"""Converters of Unfold (im2col) and Fold (col2im) as convolutions by a one-hot kernel E, which copies
input channel c at kernel offset (u, v) to output channel c k_h k_w + u k_w + v:

    E (C k_h k_w, 1, k_h, k_w),  E[c k_h k_w + u k_w + v, 0, u, v] = 1, every other entry 0
    Unfold   Conv(x, E, group = C, strides, pads (p_h, p_w) at both ends, dilations) -> (N, C k_h k_w, H_o, W_o),
             Reshape [0, C k_h k_w, -1] -> (N, C k_h k_w, L): unfold's y[n, c k_h k_w + u k_w + v, i W_o + j] =
             x_pad[n, c, s_h i + d_h u, s_w j + d_w v]
    Fold     the adjoint: Reshape (N, C k_h k_w, H_o, W_o), ConvTranspose(., E, group = C, same strides, pads and
             dilations, output_padding = H - ((H_o - 1) s_h - 2 p_h + d_h (k_h - 1) + 1) (the rows no block
             reaches, fewer than s_h; likewise W)) -> (N, C, H, W), overlapping blocks summed
Each output is one input value times 1 plus zeros times others: exact for finite inputs (an inf or NaN
elsewhere in a window would make 0 * inf = NaN, where tinynn copies). Batched inputs only.
"""
import numpy as np

from ..nn.fold import Fold, Unfold, _blocks, _geometry, _pair
from .graph import KEEP_NONNEGATIVE, converter


def _one_hot(channels, kh, kw):
    return np.tile(np.eye(kh * kw, dtype=np.float32).reshape(kh * kw, 1, kh, kw), (channels, 1, 1, 1))


def _attributes(geometry, channels):
    (kh, kw), dilation, padding, stride = geometry
    return dict(kernel_shape=[kh, kw], strides=list(stride), pads=list(padding) * 2, dilations=list(dilation),
                group=int(channels))


@converter(Unfold)
def unfold(g, layer, x, value):
    if value.ndim != 4:
        raise ValueError(f"onnx.export: layer {g.layer!r} (Unfold) on an input of shape {value.shape}: tinynn exports "
                         "a batched (N, C, H, W) input")
    geometry = _geometry("Unfold", layer.kernel_size, layer.dilation, layer.padding, layer.stride)
    (kh, kw), c = geometry[0], value.shape[1]
    y = g.node("Conv", [x, g.initializer(_one_hot(c, kh, kw), "one_hot")], **_attributes(geometry, c))
    return g.node("Reshape", [y, g.initializer(np.array([0, c * kh * kw, -1], np.int64), "columns_shape")])


@converter(Fold)
def fold(g, layer, x, value):
    if value.ndim != 3:
        raise ValueError(f"onnx.export: layer {g.layer!r} (Fold) on an input of shape {value.shape}: tinynn exports "
                         "a batched (N, C k_h k_w, L) input")
    geometry = _geometry("Fold", layer.kernel_size, layer.dilation, layer.padding, layer.stride)
    (kh, kw), dilation, padding, stride = geometry
    size = _pair("Fold", "output_size", layer.output_size)
    blocks, c = _blocks(size, geometry), value.shape[1] // (kh * kw)
    grid = g.node("Reshape", [x, g.initializer(np.array([0, c * kh * kw, *blocks], np.int64), "blocks_shape")])
    attributes = _attributes(geometry, c)
    reached = [(b - 1) * s - 2 * p + d * (k - 1) + 1
               for b, s, p, d, k in zip(blocks, stride, padding, dilation, (kh, kw))]
    if list(size) != reached:
        attributes["output_padding"] = [n - r for n, r in zip(size, reached)]
    return g.node("ConvTranspose", [grid, g.initializer(_one_hot(c, kh, kw), "one_hot")], **attributes)


KEEP_NONNEGATIVE.update({Unfold, Fold})  # copies and sums of the input's values (and zeros)
