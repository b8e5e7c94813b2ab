"""Quantization equals PyTorch's quantize_per_tensor bit for bit, ties included:
q = clamp(nearbyint(fma(x, float32(1 / s), z)), qmin, qmax), the fma rounded once to float32.

The expected values come from exact rational arithmetic (fractions.Fraction) and an
independent round-to-nearest-even into float32 (tests/helpers/exact.py), not from the code under test."""
from fractions import Fraction

import numpy as np
import pytest

from tinynn.backend import reference as ref
from tinynn.compress.qparams import quantize_tensor
from helpers.exact import nearest_f32


def expected_q(x, scale, zp, qmin, qmax):
    inv = nearest_f32(1 / Fraction(float(np.float32(scale))))
    return [min(max(round(nearest_f32(Fraction(float(v)) * inv + zp)), qmin), qmax) for v in x]


def backends():
    out = [("reference", ref.quantize_rows)]
    try:
        from tinynn import kernels
        out.append(("kernel", kernels.quantize_rows))
    except ImportError:
        pass
    return out


def test_nearest_f32_helper_agrees_with_numpy_on_plain_values():
    # the independent rounding must itself be right: NumPy's float64 -> float32 cast is one rounding
    rng = np.random.default_rng(0)
    for v in rng.standard_normal(200) * 1e3:
        assert nearest_f32(Fraction(float(v))) == Fraction(float(np.float32(v)))


def test_1001_evenly_spaced_values_at_scale_002():
    x = np.linspace(-3, 3, 1001).astype(np.float32)
    want = expected_q(x, 0.02, 0, -128, 127)
    np.testing.assert_array_equal(quantize_tensor(x, 0.02, 0, "int8"), want)
    np.testing.assert_array_equal(quantize_tensor(x, 0.02, 3, "uint8"), expected_q(x, 0.02, 3, 0, 255))
    for name, fn in backends():
        got = fn(x.reshape(1, -1), np.float32(0.02), 0)
        np.testing.assert_array_equal(got.ravel(), want, err_msg=name)
    # a division-based formula differs on some of these: the test can tell the two apart
    divided = np.clip(np.rint(x / np.float32(0.02)), -128, 127)
    assert np.any(divided != np.asarray(want))


@pytest.mark.parametrize("scale, zp", [(0.02, 0), (0.1, 5), (0.0375, -7), (1.0 / 3, 1)])
def test_values_at_half_steps(scale, zp):
    k = np.arange(-140, 140)
    x = ((k + 0.5) * np.float64(np.float32(scale))).astype(np.float32)
    x = np.concatenate([x, np.nextafter(x, np.float32(np.inf)), np.nextafter(x, np.float32(-np.inf))])
    want = expected_q(x, scale, zp, -128, 127)
    np.testing.assert_array_equal(quantize_tensor(x, scale, zp, "int8"), want)
    for name, fn in backends():
        np.testing.assert_array_equal(fn(x.reshape(1, -1), np.float32(scale), zp).ravel(), want, err_msg=name)


def test_fma_emulation_survives_the_double_rounding_trap():
    # x * inv = 0.5 + 2^-17 + d with |d| < 2^-46 (found by search): with z = 200, x * inv + z lies just
    # off the float32 midpoint 200.5 + 2^-17 while its float64 rounding lies exactly on it, so a naive
    # float32(float64(x * inv) + z) rounds to 200.5 (then 200) where the single-rounding fma gives 201
    for xbits, sbits in [(0x3F3862A2, 0x3FB861EA), (0x3F4EBC2A, 0x3FCEBB5B)]:
        x = np.array([xbits], np.uint32).view(np.float32)
        s = np.array([sbits], np.uint32).view(np.float32)[0]
        want = expected_q(x, s, 200, 0, 255)
        inv = np.float32(1) / s
        naive = np.rint(np.float32(np.float64(x[0]) * np.float64(inv) + 200))
        assert naive != want[0]                     # the trap is real
        np.testing.assert_array_equal(quantize_tensor(x, s, 200, "uint8"), want)
        np.testing.assert_array_equal(np.rint(ref.fma_f32(x, inv, 200)), want)


def test_random_values_and_per_channel_scales():
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((3, 300)) * 2).astype(np.float32)
    scales = np.array([0.013, 0.02, 0.07], np.float32)
    got = quantize_tensor(x, scales, np.array([0, 4, -9]), "int8", axis=0)
    for row, s, z, g in zip(x, scales, [0, 4, -9], got):
        np.testing.assert_array_equal(g, expected_q(row, s, z, -128, 127))
    for name, fn in backends():
        np.testing.assert_array_equal(fn(x, scales, 2), [expected_q(r, s, 2, -128, 127) for r, s in zip(x, scales)],
                                      err_msg=name)


def test_fake_quantize_uses_the_same_rounding():
    x = np.linspace(-3, 3, 1001).astype(np.float32)
    y, inside = ref.fake_quantize(x, np.float32(0.02), 0, -128, 127)
    q = np.asarray(expected_q(x, 0.02, 0, -128, 127), np.float32)
    np.testing.assert_array_equal(y, q * np.float32(0.02))
    raw = np.asarray(expected_q(x, 0.02, 0, -10**9, 10**9))
    np.testing.assert_array_equal(inside, (raw >= -128) & (raw <= 127))
    assert 0 < inside.sum() < x.size
