"""The NumPy reference of the int8 kernels: exact int32 products, PyTorch's quantization formula
(fma in float32, round half to even) and the requantize epilogue (the quantized layers are in reference.py)."""
import numpy as np


def int8_matmul(a, b):
    """Exact int32 product of int8 matrices: C = A B with int32 accumulation."""
    return a.astype(np.int32) @ b.astype(np.int32)


def minmax(x):
    """(min_i x_i, max_i x_i) over every element of a non-empty float array, as x.dtype scalars;
    both are NaN if any x_i is NaN (as np.min / np.max).  One pass in the kernel: the range a
    dynamically quantized layer needs for its activation parameters."""
    if x.size == 0:
        raise ValueError(f"minmax: x of shape {x.shape} is empty: no minimum or maximum")
    return np.min(x), np.max(x)


def quantize_rows(x, scale, zero_point=0):
    """q = clamp(nearbyint(fma(x, float32(1 / s), z)), -128, 127) as int8, s per row (N,) or a
    scalar (PyTorch's quantize_per_tensor, in float32: see fma_f32)."""
    s = np.asarray(scale, dtype=np.float32)
    if s.ndim == 1:
        s = s[:, None]
    return np.clip(np.rint(fma_f32(x, np.float32(1) / s, zero_point)), -128, 127).astype(np.int8)


def fma_f32(x, inv, z):
    """float32(x * inv + z) rounded once (C's fmaf) for x and inv rounded to float32, z integer.

    Exact emulation in float64: p = x * inv is exact (24 + 24 <= 53 bits); TwoSum gives s + e = p + z
    exactly (s = fl64(p + z)); s is then moved to the neighbour on e's side when e != 0 and s's last
    bit is even (round to odd), and round-to-odd at 53 bits followed by one round-to-nearest-even at
    24 bits equals a single rounding of p + z, as 53 >= 24 + 2 (Boldo and Melquiond, 2008). Plain
    fl32(fl64(p + z)) is not enough: p + z can sit just above a float32 midpoint with s exactly on it."""
    p = np.asarray(x, np.float32).astype(np.float64) * np.asarray(inv, np.float32)
    z = np.asarray(z, np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        s = p + z
        bp = s - z
        e = (p - bp) + (z - (s - bp))
        fix = (e != 0) & ((s.view(np.int64) & 1) == 0) & np.isfinite(e)
        if np.any(fix):
            s = np.where(fix, np.nextafter(s, np.where(e > 0, np.inf, -np.inf)), s)
        return s.astype(np.float32)


def requantize(acc, row_scale, col_scale, bias=None, relu_after=False):
    """y = acc * s_row[:, None] * s_col[None, :] + b (then relu), float32 from an int32 accumulator."""
    y = acc.astype(np.float32) * (np.asarray(row_scale, np.float32).reshape(-1, 1) * np.asarray(col_scale, np.float32).reshape(1, -1))
    if bias is not None:
        y = y + bias
    return np.maximum(y, 0) if relu_after else y


def int8_linear(xq, wq, row_scale, col_scale, bias=None, relu_after=False):
    """y = requantize(xq Wq^T, s_row, s_col, b, relu_after) for int8 xq (N, in), Wq (out, in):
    y_ij = float32(sum_p xq_ip Wq_jp) * (s_row_i * s_col_j) + b_j, then max(y, 0) if relu_after."""
    return requantize(int8_matmul(xq, wq.T), row_scale, col_scale, bias, relu_after)


def pack_int8_weight(wq):
    """The int8 weights (out, in) in the layout quantized_linear takes: here W itself."""
    return wq


def _dynamic_u7_qparams(x):
    """(s_a, z_a) of a dynamically quantized input x (non-empty): PyTorch's MinMaxObserver for affine
    7-bit uint8 on [lo, hi] = [min x, max x], in float32: lo <- min(lo, 0), hi <- max(hi, 0),
    s = max((hi - lo) / 127, eps), z = clamp(-nearbyint(lo / s), 0, 127) (= compress.qparams.calc_qparams
    (lo, hi, "uint8", symmetric=False, reduce_range=True)).  A range that is not finite raises ValueError."""
    lo, hi = np.float32(np.min(x)), np.float32(np.max(x))
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError(f"quantized_linear: x's range [{lo}, {hi}] is not finite: no dynamic quantization parameters")
    lo, hi = min(lo, np.float32(0)), max(hi, np.float32(0))
    scale = max((hi - lo) / np.float32(127), np.float32(np.finfo(np.float32).eps))
    return float(scale), min(max(-int(np.rint(lo / scale)), 0), 127)


def fake_quantize(x, scale, zero_point, qmin, qmax):
    """Fake quantization (quantize, then dequantize, staying in float):
    q = nearbyint(fma(x, float32(1 / s), z)) in float32 (fma_f32);  y = s (clamp(q, qmin, qmax) - z).
    s and z broadcast against x (a scalar, or per channel).  Returns (y, inside) where
    inside = (qmin <= q <= qmax) is where the clipped straight-through gradient passes."""
    s = np.asarray(scale, dtype=np.float32)
    q = np.rint(fma_f32(x, np.float32(1) / s, zero_point))
    inside = (q >= qmin) & (q <= qmax)
    y = (np.clip(q, qmin, qmax) - zero_point) * s.astype(x.dtype)
    return y.astype(x.dtype, copy=False), inside
