"""Exact rational arithmetic for expected values of the int8 paths: float32 rounding of a rational
and PyTorch's 7-bit activation quantizer (reduce_range) from first principles, not from tinynn."""
from fractions import Fraction

import numpy as np


def nearest_f32(v):
    """The float32 nearest the rational v, ties to even (normal range), exactly."""
    if v == 0:
        return v
    e = abs(v).numerator.bit_length() - abs(v).denominator.bit_length()
    e = e if Fraction(2) ** e <= abs(v) else e - 1          # 2^e <= |v| < 2^(e+1)
    ulp = Fraction(2) ** (e - 23)
    return round(v / ulp) * ulp                              # Fraction rounds half to even


def quantize_u7(x, s_a, z_a):
    """a = clamp(round(f32(x * f32(1 / s_a) + z_a)), 0, 127) in exact rationals: the fma rounded once
    to float32 (half to even), then rounded half to even to an integer; int64, the shape of x."""
    inv = nearest_f32(1 / Fraction(float(np.float32(s_a))))
    x = np.asarray(x)
    return np.array([min(max(round(nearest_f32(Fraction(float(v)) * inv + z_a)), 0), 127) for v in x.ravel()],
                    np.int64).reshape(x.shape)
