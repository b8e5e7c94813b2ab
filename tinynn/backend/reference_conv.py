"""The reference kernels of convolution, pooling, batch normalization and padding (NCHW).

Part of the reference backend (reference.py imports every public name here): the readable
specification the compiled kernels must match. Windows are `sliding_window_view`s of the padded
input, so a convolution is one einsum over them, and each backward is written as the sum it is.

Arguments arrive checked and normalized by the ops: `stride` and `dilation` are (along H, along W),
`padding` is (top, bottom, left, right), `kernel_size` is (kh, kw).
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def conv_output_size(size, kernel, stride, pad_before, pad_after, dilation):
    """floor((size + pads - d (k - 1) - 1) / s) + 1: PyTorch's output length of a convolution."""
    return (size + pad_before + pad_after - dilation * (kernel - 1) - 1) // stride + 1


def pool_output_size(size, kernel, stride, padding, dilation, ceil_mode):
    """PyTorch's pooling output length: (size + 2p - d (k - 1) - 1) / s + 1, rounded down (or up
    with ceil_mode, dropping a last window that would start inside the right padding)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def _windows(xp, kernel, stride, dilation, out):
    """(N, C, Ho, Wo, kh, kw) view: window (ho, wo) of the padded xp, taps d apart, s apart."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out
    v = sliding_window_view(xp, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(2, 3))
    return v[:, :, ::sh, ::sw, ::dh, ::dw][:, :, :ho, :wo]


def _conv_out(x_shape, w_shape, stride, padding, dilation):
    return (conv_output_size(x_shape[2], w_shape[2], stride[0], padding[0], padding[1], dilation[0]),
            conv_output_size(x_shape[3], w_shape[3], stride[1], padding[2], padding[3], dilation[1]))


def _zero_pad(x, padding):
    pt, pb, pl, pr = padding
    return np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))


def conv2d(x, weight, bias, stride, padding, dilation, groups):
    """y[n, o, i, j] = b_o + sum_{c, u, v} x_pad[n, g(o) C/G + c, s_h i + d_h u, s_w j + d_w v] W[o, c, u, v]
    for x (N, C, H, W), W (O, C/G, kh, kw), b (O,) or None, G = groups (output channel o reads
    the input channels of its group g(o) = o // (O/G))."""
    n, c = x.shape[:2]
    o, _, kh, kw = weight.shape
    out = _conv_out(x.shape, weight.shape, stride, padding, dilation)
    win = _windows(_zero_pad(x, padding), (kh, kw), stride, dilation, out)
    win = win.reshape(n, groups, c // groups, *out, kh, kw)
    w = weight.reshape(groups, o // groups, c // groups, kh, kw)
    y = np.einsum("ngchwuv,gocuv->ngohw", win, w, optimize=True).reshape(n, o, *out)
    if bias is not None:
        y = y + bias[:, None, None]
    return y


def conv2d_backward_input(grad, weight, input_shape, stride, padding, dilation, groups):
    """dL/dx = the transposed convolution of g with W: each tap (u, v) of W sends
    sum_o g[n, o, i, j] W[o, c, u, v] back to x_pad[n, c, s_h i + d_h u, s_w j + d_w v]."""
    n, c, h, w_ = input_shape
    o, cg, kh, kw = weight.shape
    ho, wo = grad.shape[2:]
    (sh, sw), (dh, dw), (pt, pb, pl, pr) = stride, dilation, padding
    gx = np.zeros((n, groups, cg, h + pt + pb, w_ + pl + pr), dtype=grad.dtype)
    g = grad.reshape(n, groups, o // groups, ho, wo)
    w = weight.reshape(groups, o // groups, cg, kh, kw)
    for u in range(kh):
        for v in range(kw):
            rows = slice(dh * u, dh * u + sh * (ho - 1) + 1, sh)
            cols = slice(dw * v, dw * v + sw * (wo - 1) + 1, sw)
            gx[..., rows, cols] += np.einsum("ngohw,goc->ngchw", g, w[..., u, v])
    return gx.reshape(n, c, h + pt + pb, w_ + pl + pr)[:, :, pt:pt + h, pl:pl + w_]


def conv2d_backward_weight(grad, x, weight_shape, stride, padding, dilation, groups):
    """dL/dW[o, c, u, v] = sum_{n, i, j} g[n, o, i, j] x_pad[n, g(o) C/G + c, s_h i + d_h u, s_w j + d_w v]."""
    n, c = x.shape[:2]
    o, cg, kh, kw = weight_shape
    out = grad.shape[2:]
    win = _windows(_zero_pad(x, padding), (kh, kw), stride, dilation, out).reshape(n, groups, cg, *out, kh, kw)
    g = grad.reshape(n, groups, o // groups, *out)
    return np.einsum("ngohw,ngchwuv->gocuv", g, win, optimize=True).reshape(weight_shape)


# ---------------------------------------------------------------- pooling
def _pool_geometry(shape, kernel_size, stride, padding, dilation, ceil_mode):
    """Output size and the padding after the input that makes every window exist (ceil_mode may
    need more than `padding` on the right)."""
    h, w = shape[2:]
    out = tuple(pool_output_size(s, k, st, p, d, ceil_mode)
                for s, k, st, p, d in zip((h, w), kernel_size, stride, padding, dilation))
    after = tuple(max(p, (o - 1) * st + d * (k - 1) + 1 - s - p)
                  for s, k, st, p, d, o in zip((h, w), kernel_size, stride, padding, dilation, out))
    return out, after


def max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode):
    """y[n, c, i, j] = max over the window (s i - p + d u, s j - p + d v) of x (padding is -inf), and
    the flat index h W + w of the chosen element: PyTorch's tie rule, the first maximum in
    row-major window order, or the last NaN when the window holds one."""
    (ph, pw) = padding
    out, (ah, aw) = _pool_geometry(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ah), (pw, aw)), constant_values=-np.inf)
    win = _windows(xp, kernel_size, stride, dilation, out)
    flat = win.reshape(*win.shape[:4], -1)
    taps = flat.shape[-1]
    first_max = np.argmax(flat, axis=-1)  # (NumPy's argmax also stops at the first NaN)
    nan = np.isnan(flat)
    last_nan = taps - 1 - np.argmax(nan[..., ::-1], axis=-1)
    tap = np.where(nan.any(axis=-1), last_nan, first_max)
    y = flat.max(axis=-1)   # (the value at tap: NaN where the window holds one)
    u, v = np.divmod(tap, kernel_size[1])
    # a window of nothing but -inf keeps PyTorch's start: its first taps at or after row 0 and column 0
    first_u = np.maximum(0, -((np.arange(out[0]) * stride[0] - ph) // dilation[0]))  # ceil((p - s i) / d)
    first_v = np.maximum(0, -((np.arange(out[1]) * stride[1] - pw) // dilation[1]))
    empty = y == -np.inf
    u = np.where(empty, first_u[:, None], u)
    v = np.where(empty, first_v[None, :], v)
    rows = np.arange(out[0])[:, None] * stride[0] - ph + u * dilation[0]
    cols = np.arange(out[1])[None, :] * stride[1] - pw + v * dilation[1]
    return y, (rows * x.shape[3] + cols).astype(np.int64)


def max_pool2d_backward(grad, indices, input_shape):
    """dL/dx[n, c, h, w] = sum of g[n, c, i, j] over the windows whose maximum was (h, w)."""
    n, c, h, w = input_shape
    gx = np.zeros((n * c, h * w), dtype=grad.dtype)
    rows = np.repeat(np.arange(n * c), indices.shape[2] * indices.shape[3])
    inside = (indices >= 0).reshape(-1) & (indices < h * w).reshape(-1)  # (a window of padding only: no input)
    np.add.at(gx, (rows[inside], indices.reshape(-1)[inside]), grad.reshape(-1)[inside])
    return gx.reshape(input_shape)


def _avg_divisors(shape, kernel_size, stride, padding, out, count_include_pad):
    """PyTorch's divisor per output position: the window clipped to the padded input (with
    count_include_pad), or to the input itself (without)."""
    divisors = []
    for size, k, s, p, o in zip(shape[2:], kernel_size, stride, padding, out):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, size + p)
        if count_include_pad:
            divisors.append(end - start)
        else:
            divisors.append(np.minimum(end, size) - np.maximum(start, 0))
    return divisors[0][:, None] * divisors[1][None, :]


def avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad):
    """y[n, c, i, j] = (1 / D_ij) sum over the window (s i - p + u, s j - p + v) of x (padding is 0);
    D_ij: see _avg_divisors."""
    (ph, pw) = padding
    out, (ah, aw) = _pool_geometry(x.shape, kernel_size, stride, padding, (1, 1), ceil_mode)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ah), (pw, aw)))
    total = _windows(xp, kernel_size, stride, (1, 1), out).sum(axis=(-2, -1))
    return (total / _avg_divisors(x.shape, kernel_size, stride, padding, out, count_include_pad)).astype(x.dtype)


def avg_pool2d_backward(grad, input_shape, kernel_size, stride, padding, ceil_mode, count_include_pad):
    """dL/dx[n, c, h, w] = sum of g[n, c, i, j] / D_ij over the windows that hold (h, w)."""
    (ph, pw), (kh, kw), (sh, sw) = padding, kernel_size, stride
    out, (ah, aw) = _pool_geometry(input_shape, kernel_size, stride, padding, (1, 1), ceil_mode)
    share = grad / _avg_divisors(input_shape, kernel_size, stride, padding, out, count_include_pad)
    h, w = input_shape[2:]
    gx = np.zeros((*input_shape[:2], h + ph + ah, w + pw + aw), dtype=grad.dtype)
    for u in range(kh):
        for v in range(kw):
            gx[:, :, u:u + sh * (out[0] - 1) + 1:sh, v:v + sw * (out[1] - 1) + 1:sw] += share
    return gx[:, :, ph:ph + h, pw:pw + w]


def adaptive_windows(size, out):
    """PyTorch's adaptive pooling windows along one axis: [floor(i size / out), ceil((i + 1) size / out))."""
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def adaptive_avg_pool2d(x, output_size):
    """y[n, c, i, j] = mean of x[n, c, h0(i):h1(i), w0(j):w1(j)] over the adaptive windows."""
    rows, cols = (adaptive_windows(s, o) for s, o in zip(x.shape[2:], output_size))
    y = np.empty((*x.shape[:2], *output_size), dtype=x.dtype)
    for i, (h0, h1) in enumerate(rows):
        for j, (w0, w1) in enumerate(cols):
            y[:, :, i, j] = x[:, :, h0:h1, w0:w1].mean(axis=(2, 3))
    return y


def adaptive_avg_pool2d_backward(grad, input_shape):
    """dL/dx = g[n, c, i, j] / |window (i, j)| spread over each window that holds x."""
    rows, cols = (adaptive_windows(s, o) for s, o in zip(input_shape[2:], grad.shape[2:]))
    gx = np.zeros(input_shape, dtype=grad.dtype)
    for i, (h0, h1) in enumerate(rows):
        for j, (w0, w1) in enumerate(cols):
            gx[:, :, h0:h1, w0:w1] += (grad[:, :, i, j] / ((h1 - h0) * (w1 - w0)))[:, :, None, None]
    return gx


# ---------------------------------------------------------------- batch normalization
def batch_norm(x, weight, bias, eps):
    """Training-mode batch norm of x (N, C, L) over its M = N L values per channel:
    mu_c = mean x[:, c], var_c = mean (x[:, c] - mu_c)^2 (biased),
    y = (x - mu_c) / sqrt(var_c + eps) gamma_c + beta_c (gamma, beta None: 1, 0).  Returns (y, mu, var)."""
    mean = x.mean(axis=(0, 2))
    centered = x - mean[:, None]
    var = (centered * centered).mean(axis=(0, 2))
    scale = 1.0 / np.sqrt(var + eps)
    if weight is not None:
        scale = scale * weight
    y = centered * scale[:, None]
    if bias is not None:
        y += bias[:, None]
    return y.astype(x.dtype, copy=False), mean, var


def batch_norm_backward(grad, x, mean, var, weight, eps, needs=(True, True, True)):
    """With r = 1 / sqrt(var + eps), xhat = (x - mu) r and M = N L values per channel:
    dL/dgamma = sum g xhat,  dL/dbeta = sum g,
    dL/dx = gamma r (g - (sum g) / M - xhat (sum g xhat) / M).  Returns (dx, dgamma, dbeta)."""
    m = x.shape[0] * x.shape[2]
    invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype)
    xhat = (x - mean[:, None]) * invstd[:, None]
    sum_g = grad.sum(axis=(0, 2))
    sum_gx = (grad * xhat).sum(axis=(0, 2))
    gx = None
    if needs[0]:
        scale = invstd if weight is None else invstd * weight
        gx = scale[:, None] * (grad - (sum_g / m)[:, None] - xhat * (sum_gx / m)[:, None])
    return gx, (sum_gx if needs[1] else None), (sum_g if needs[2] else None)


def batch_norm_eval(x, mean, var, weight, bias, eps):
    """Eval-mode batch norm of x (N, C, L) with fixed statistics: the affine map per channel
    y = x s_c + t_c with s = gamma / sqrt(var + eps) and t = beta - mu s (gamma, beta None: 1, 0),
    every step in x's dtype."""
    scale = 1.0 / np.sqrt(var + eps)
    if weight is not None:
        scale = scale * weight
    shift = -mean * scale
    if bias is not None:
        shift = shift + bias
    return x * scale[:, None] + shift[:, None]


# ---------------------------------------------------------------- padding
def _pad_source(n, before, after, mode):
    """For each position of a padded axis, the input index it copies (-1: the fill value)."""
    idx = np.arange(-before, n + after)
    if mode == "reflect":
        idx = np.abs(idx)
        idx = np.where(idx > n - 1, 2 * (n - 1) - idx, idx)
    elif mode == "replicate":
        idx = np.clip(idx, 0, n - 1)
    elif mode == "circular":
        idx = idx % n
    return np.where((idx >= 0) & (idx < n), idx, -1)


def pad(x, pad_width, mode, value):
    """y = x padded by pad_width ((before, after) per axis; a negative amount crops) with `value`
    ("constant"), the mirror image without the edge ("reflect"), the edge ("replicate") or the
    other end ("circular")."""
    y = x
    for axis, (before, after) in enumerate(pad_width):
        if before or after:
            src = _pad_source(y.shape[axis], before, after, mode)
            y = np.take(y, np.maximum(src, 0), axis=axis)
            if (src < 0).any():
                shape = [1] * y.ndim
                shape[axis] = len(src)
                y = np.where((src < 0).reshape(shape), np.asarray(value, dtype=x.dtype), y)
    return y


def pad_backward(grad, pad_width, mode, input_shape):
    """dL/dx[i] = sum of g over the padded positions that copy x[i] (pad's adjoint, axis by axis)."""
    g = grad
    for axis, (before, after) in enumerate(pad_width):
        if before or after:
            src = _pad_source(input_shape[axis], before, after, mode)
            keep = src >= 0
            moved = np.moveaxis(g, axis, 0)[keep]
            out = np.zeros((input_shape[axis],) + moved.shape[1:], dtype=grad.dtype)
            np.add.at(out, src[keep], moved)
            g = np.moveaxis(out, 0, axis)
    return g

