"""The reference int8 convolution: im2col of the zero-padded float input, then the quantized Linear's
formula (reference.quantized_linear) row by row, group by group.

Quantizing is elementwise and a zero input quantizes to exactly z_a (nearbyint(fma(0, 1/s_a, z_a)) =
z_a), so im2col of the float input followed by quantization equals the kernels' order (quantize once,
pad with z_a, im2col of the bytes) value for value."""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .reference import _dynamic_u7_qparams, quantized_linear


def quantized_conv2d(x, packed, kernel_size, stride, padding, dilation, x_scale, x_zero_point, w_scale, bias=None,
                     activation_name="none"):
    """y[n, g Og + o, i, j] = quantized_linear(cols_g, W_g, s_a, z_a, s_w, b, act)[(n, i, j), o] with
    cols_g[(n, i, j), (u, v, c)] = x_pad[n, g Cg + c, s_h i + d_h u, s_w j + d_w v] (x_pad: x with
    zeros around it, padding = (top, bottom, left, right)) and `packed` the G int8 weights (Og, kh kw Cg),
    columns in (u, v, c) order (as pack_int8_weight returns them); x_scale = None: dynamic quantization
    over all of x (one (s_a, z_a) for every group)."""
    if x_scale is None:
        x_scale, x_zero_point = _dynamic_u7_qparams(x)
    (kh, kw), (sh, sw), (pt, pb, pl, pr), (dh, dw) = kernel_size, stride, padding, dilation
    n, c, h, w = x.shape
    groups = len(packed)
    cg, og = c // groups, np.asarray(getattr(packed[0], "weight", packed[0])).shape[0]
    xp = np.pad(x.transpose(0, 2, 3, 1), ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    win = sliding_window_view(xp, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(1, 2))
    cols = win[:, ::sh, ::sw, :, ::dh, ::dw].transpose(0, 1, 2, 4, 5, 3)      # (N, Ho, Wo, kh, kw, C)
    ho, wo = cols.shape[1:3]
    outs = []
    for k in range(groups):
        part = np.ascontiguousarray(cols[..., k * cg:(k + 1) * cg]).reshape(n * ho * wo, kh * kw * cg)
        sl = slice(k * og, (k + 1) * og)
        outs.append(quantized_linear(part, packed[k], x_scale, x_zero_point, np.asarray(w_scale)[sl],
                                     None if bias is None else np.asarray(bias)[sl], activation_name))
    y = np.concatenate(outs, axis=1) if groups > 1 else outs[0]
    return np.ascontiguousarray(y.reshape(n, ho, wo, og * groups).transpose(0, 3, 1, 2))
