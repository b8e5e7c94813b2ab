"""Affine quantization: the (scale, zero point) of a range and the maps between reals and integers.

Affine quantization maps a real x to an integer q with a scale s > 0 and a zero point z:

    q = clamp(nearbyint(fma(x, float32(1 / s), z)), qmin, qmax),      x^ = s (q - z)

in float32, rounded once and half to even: bit for bit PyTorch's quantize_per_tensor.

(int8: [qmin, qmax] = [-128, 127]; uint8: [0, 255]); inside the representable range
|x^ - x| <= s / 2. The (s, z) for an observed range [x_min, x_max] are PyTorch's
MinMaxObserver's (see `calc_qparams`).
"""
import math

import numpy as np

from ..backend.reference import fma_f32
from ..tensor import Tensor

__all__ = ["calc_qparams", "quantize_tensor", "dequantize_tensor"]

QRANGES = {"int8": (-128, 127), "uint8": (0, 255)}
EPS = float(np.finfo(np.float32).eps)


def _qrange(dtype, op):
    key = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    if key not in QRANGES:
        raise ValueError(f"{op}: dtype must be 'int8' or 'uint8', got {dtype!r}")
    return key, QRANGES[key]


def calc_qparams(min_val, max_val, dtype="int8", symmetric=True, reduce_range=False):
    """(scale, zero_point) for the observed range [min_val, max_val] (PyTorch's MinMaxObserver).

    With m- = min(min_val, 0), m+ = max(max_val, 0), eps = float32 machine epsilon:
      affine:    s = max((m+ - m-) / (qmax - qmin), eps),  z = clamp(qmin - round(m- / s), qmin, qmax)
      symmetric: s = max(max(-m-, m+) / ((qmax - qmin) / 2), eps),  z = 0 (int8) or 128 (uint8)
    reduce_range halves [qmin, qmax] (uint8: [0, 127], int8: [-64, 63]; symmetric uint8 then has
    z = 64), as PyTorch's observers: 7-bit activations keep x86's vpmaddubsw exact (kernels/quant).
    Computed in float32, round half to even. Scalars in -> (float, int); arrays (one range per
    channel) in -> (float32 array, int64 array)."""
    dtype, (qmin, qmax) = _qrange(dtype, "calc_qparams")
    if reduce_range:
        qmin, qmax = qmin // 2, qmax // 2
    if isinstance(min_val, _SCALARS) and isinstance(max_val, _SCALARS):
        found = _scalar_qparams(min_val, max_val, qmin, qmax, dtype, symmetric)
        if found is not None:
            return found
    lo = np.asarray(min_val, dtype=np.float32)
    hi = np.asarray(max_val, dtype=np.float32)
    if lo.shape != hi.shape:
        raise ValueError(f"calc_qparams: min_val shape {lo.shape} differs from max_val shape {hi.shape}")
    if np.any(np.isnan(lo)) or np.any(np.isnan(hi)) or np.any(lo > hi):
        raise ValueError(f"calc_qparams: need min_val <= max_val (no NaN), got {min_val!r} and {max_val!r}")
    lo = np.minimum(lo, np.float32(0))
    hi = np.maximum(hi, np.float32(0))
    eps = np.float32(EPS)
    if symmetric:
        scale = np.maximum(np.maximum(-lo, hi) / np.float32((qmax - qmin) / 2), eps)
        zp = np.full(scale.shape, 0 if dtype == "int8" else (qmin + qmax + 1) // 2, dtype=np.int64)
    else:
        scale = np.maximum((hi - lo) / np.float32(qmax - qmin), eps)
        zp = np.clip(qmin - np.rint(lo / scale).astype(np.int64), qmin, qmax)
    scale = scale.astype(np.float32)
    if scale.ndim == 0:
        return float(scale), int(zp)
    return scale, zp


_SCALARS = (int, float, np.integer, np.floating)


def _scalar_qparams(min_val, max_val, qmin, qmax, dtype, symmetric):
    """calc_qparams for one finite range, on NumPy float32 scalars: the same float32 operations in
    the same order as the array path (so the same bits), without its array round trips (a
    dynamically quantized layer calls this once per batch).  None for anything unusual."""
    lo, hi = np.float32(min_val), np.float32(max_val)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
        return None          # NaN, inf or lo > hi: the array path raises or handles it
    lo = min(lo, np.float32(0))
    hi = max(hi, np.float32(0))
    eps = np.float32(EPS)
    if symmetric:
        scale = max(max(-lo, hi) / np.float32((qmax - qmin) / 2), eps)
        return float(scale), 0 if dtype == "int8" else (qmin + qmax + 1) // 2
    scale = max((hi - lo) / np.float32(qmax - qmin), eps)
    return float(scale), min(max(qmin - int(np.rint(lo / scale)), qmin), qmax)


def _channel(v, x, axis, dtype):
    v = np.asarray(v, dtype=dtype)
    if v.ndim == 0:
        return v
    if v.ndim != 1 or x.ndim == 0 or v.shape[0] != x.shape[axis]:
        raise ValueError(f"quantize: per-channel parameters of shape {v.shape} do not match axis {axis} of shape {x.shape}")
    shape = [1] * x.ndim
    shape[axis] = -1
    return v.reshape(shape)


def quantize_tensor(x, scale, zero_point, dtype="int8", axis=0):
    """q = clamp(nearbyint(fma(x, float32(1 / s), z)), qmin, qmax) as int8 or uint8, in float32
    (x rounded to float32 first; the fma rounded once, emulated exactly by `fma_f32`).

    scale and zero_point are scalars (per tensor) or 1-D arrays, one per index along `axis`
    (per channel)."""
    dtype, (qmin, qmax) = _qrange(dtype, "quantize_tensor")
    x = np.asarray(x._data if isinstance(x, Tensor) else x, dtype=np.float32)
    s = _channel(scale, x, axis, np.float32)  # checked in float32: a scale below float32's range is 0
    z = _channel(zero_point, x, axis, np.int64)
    if np.any(s <= 0):
        raise ValueError(f"quantize_tensor: scale must be > 0, got {scale!r}")
    q = np.rint(fma_f32(x, np.float32(1) / s, z))
    return np.clip(q, qmin, qmax).astype(dtype)


def dequantize_tensor(q, scale, zero_point, axis=0):
    """x^ = s (q - z) as float32 (s, z per tensor or per channel along `axis`)."""
    q = q._data if isinstance(q, Tensor) else np.asarray(q)
    s = _channel(scale, q, axis, np.float32)
    z = _channel(zero_point, q, axis, np.int64)
    return (s * (q.astype(np.int64) - z).astype(np.float32)).astype(np.float32)


def weight_qparams(w):
    """Symmetric int8 per output channel: s_j = max(max_k |W_jk| / 127.5, eps)."""
    if w.shape[1] == 0:
        return np.full(w.shape[0], EPS, np.float32)
    s, _ = calc_qparams(w.min(axis=1), w.max(axis=1), "int8", symmetric=True)
    return s
