"""The reference kernels of the 3-D (volumetric, NCDHW) convolutions and pools: vol2col and col2vol,
im2col and col2im one axis up, each the other's adjoint: <vol2col(x), cols> = <x, col2vol(cols)>.

Part of the reference backend (reference.py imports both names); the compiled backend runs these
same functions. Arguments arrive checked by nn/conv3d.py: `kernel_size`, `dilation` and `stride` are
triples (along D, H, W); `padding` is ((before, after),) * 3, zeros added before and after each axis.
An `after` below zero crops that many positions off the end instead (the transposed convolution's
output_padding smaller than its padding). A column of vol2col is one block, its rows ordered
(c, t, u, v) row-major; the blocks are ordered (i, j, l) row-major: L = Do Ho Wo blocks,
Do = floor((D + before + after - d_D (k_D - 1) - 1) / s_D) + 1 (likewise Ho, Wo).
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _blocks(size, kernel_size, dilation, padding, stride):
    """(Do, Ho, Wo): the number of blocks along D, H and W."""
    return tuple((n + b + a - d * (k - 1) - 1) // s + 1
                 for n, k, d, (b, a), s in zip(size, kernel_size, dilation, padding, stride))


def vol2col(x, kernel_size, dilation, padding, stride):
    """cols[n, (c, t, u, v), (i, j, l)] = x_pad[n, c, s_D i + d_D t, s_H j + d_H u, s_W l + d_W v] for
    x (N, C, D, H, W): (N, C k_D k_H k_W, Do Ho Wo), block (i, j, l) in column (i Ho + j) Wo + l."""
    n, c = x.shape[:2]
    out = _blocks(x.shape[2:], kernel_size, dilation, padding, stride)
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple((b, max(a, 0)) for b, a in padding))
    reach = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel_size))
    win = sliding_window_view(xp, reach, axis=(2, 3, 4))
    (sd, sh, sw), (dd, dh, dw) = stride, dilation
    # (N, C, Do, Ho, Wo, kD, kH, kW)
    win = win[:, :, ::sd, ::sh, ::sw, ::dd, ::dh, ::dw][:, :, :out[0], :out[1], :out[2]]
    cols = np.ascontiguousarray(win.transpose(0, 1, 5, 6, 7, 2, 3, 4))
    return cols.reshape(n, c * int(np.prod(kernel_size)), int(np.prod(out)))


def col2vol(cols, output_size, kernel_size, dilation, padding, stride):
    """y (N, C, D, H, W), (D, H, W) = output_size, with every block added back where vol2col took it:
    y_pad[n, c, s_D i + d_D t, s_H j + d_H u, s_W l + d_W v] += cols[n, (c, t, u, v), (i, j, l)]
    (overlaps add up), then the padding cropped."""
    n = cols.shape[0]
    c = cols.shape[1] // int(np.prod(kernel_size))
    out = _blocks(output_size, kernel_size, dilation, padding, stride)
    blocks = cols.reshape(n, c, *kernel_size, *out)
    padded = tuple(size + b + max(a, 0) for size, (b, a) in zip(output_size, padding))
    y = np.zeros((n, c, *padded), dtype=cols.dtype)
    (sd, sh, sw), (dd, dh, dw) = stride, dilation
    for t in range(kernel_size[0]):
        for u in range(kernel_size[1]):
            for v in range(kernel_size[2]):
                y[:, :, dd * t:dd * t + sd * (out[0] - 1) + 1:sd, dh * u:dh * u + sh * (out[1] - 1) + 1:sh,
                  dw * v:dw * v + sw * (out[2] - 1) + 1:sw] += blocks[:, :, t, u, v]
    (bd, _), (bh, _), (bw, _) = padding
    d, h, w = output_size
    return np.ascontiguousarray(y[:, :, bd:bd + d, bh:bh + h, bw:bw + w])
