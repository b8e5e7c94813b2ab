"""im2col for the reference int8 convolution (reference.quantized_conv2d): the rows of each group's
window matrix of the zero-padded float input, columns in (u, v, c) order.

Quantizing is elementwise and a zero input quantizes to exactly z_a (nearbyint(fma(0, 1/s_a, z_a)) =
z_a), so im2col of the float input followed by quantization equals the kernels' order (quantize once,
pad with z_a, im2col of the bytes) value for value."""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def im2col_groups(x, groups, kernel_size, stride, padding, dilation):
    """([cols_g for each group], (Ho, Wo)) with cols_g[(n, i, j), (u, v, c)] =
    x_pad[n, g Cg + c, s_h i + d_h u, s_w j + d_w v] for x (N, C, H, W) and x_pad x with zeros
    around it, padding = (top, bottom, left, right)."""
    (kh, kw), (sh, sw), (pt, pb, pl, pr), (dh, dw) = kernel_size, stride, padding, dilation
    n, c = x.shape[:2]
    cg = c // groups
    xp = np.pad(x.transpose(0, 2, 3, 1), ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    win = sliding_window_view(xp, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(1, 2))
    cols = win[:, ::sh, ::sw, :, ::dh, ::dw].transpose(0, 1, 2, 4, 5, 3)      # (N, Ho, Wo, kh, kw, C)
    ho, wo = cols.shape[1:3]
    return [np.ascontiguousarray(cols[..., k * cg:(k + 1) * cg]).reshape(n * ho * wo, kh * kw * cg)
            for k in range(groups)], (ho, wo)
