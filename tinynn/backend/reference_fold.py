"""The reference kernels of F.unfold and F.fold: im2col and col2im, each the other's adjoint.

Part of the reference backend (reference.py imports both names); the compiled backend runs these
same functions. Arguments arrive checked by nn/fold.py: `kernel_size`, `dilation`, `padding` and
`stride` are pairs (along H, along W), padding p zero rows above and below and p zero columns
left and right. A column of im2col is one block, its rows ordered (c, u, v) row-major; the blocks
are ordered (i, j) row-major: L = Ho Wo blocks, Ho = floor((H + 2 p_h - d_h (k_h - 1) - 1) / s_h) + 1.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _blocks(size, kernel_size, dilation, padding, stride):
    """(Ho, Wo): the number of blocks along H and along W."""
    return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                 for n, k, d, p, s in zip(size, kernel_size, dilation, padding, stride))


def im2col(x, kernel_size, dilation, padding, stride):
    """cols[n, (c, u, v), (i, j)] = x_pad[n, c, s_h i + d_h u, s_w j + d_w v] for x (N, C, H, W):
    (N, C k_h k_w, Ho Wo), block (i, j) of x_pad in column i Wo + j."""
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = kernel_size, dilation, padding, stride
    n, c = x.shape[:2]
    ho, wo = _blocks(x.shape[2:], kernel_size, dilation, padding, stride)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    win = sliding_window_view(xp, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(2, 3))
    win = win[:, :, ::sh, ::sw, ::dh, ::dw][:, :, :ho, :wo]           # (N, C, Ho, Wo, kh, kw)
    return np.ascontiguousarray(win.transpose(0, 1, 4, 5, 2, 3)).reshape(n, c * kh * kw, ho * wo)


def col2im(cols, output_size, kernel_size, dilation, padding, stride):
    """y (N, C, H, W), (H, W) = output_size, with every block added back where im2col took it:
    y_pad[n, c, s_h i + d_h u, s_w j + d_w v] += cols[n, (c, u, v), (i, j)] (overlaps add up), then
    the padding cropped; <im2col(x), cols> = <x, col2im(cols)>."""
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = kernel_size, dilation, padding, stride
    h, w = output_size
    n = cols.shape[0]
    c = cols.shape[1] // (kh * kw)
    ho, wo = _blocks(output_size, kernel_size, dilation, padding, stride)
    blocks = cols.reshape(n, c, kh, kw, ho, wo)
    out = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    for u in range(kh):
        for v in range(kw):
            out[:, :, dh * u:dh * u + sh * (ho - 1) + 1:sh, dw * v:dw * v + sw * (wo - 1) + 1:sw] += blocks[:, :, u, v]
    return np.ascontiguousarray(out[:, :, ph:ph + h, pw:pw + w])
