"""The quantized Linear's int8 paths (portable, AVX2 vpmaddubsw, AVX-VNNI, AVX512-VNNI, AMX): each
one this machine can run, forced with kernels.set_int8_path, and AMX's micro-kernel on emulated tiles, against the quantized-Linear formula
written in NumPy here and in helpers/exact.py (PyTorch's: (acc - z_a rowsum) * s_a * s_w[c] + bias,
then the activation):
bit-identical for none/relu (integer arithmetic is exact and the float epilogue is one function),
and bit-identical across paths for every activation."""
import numpy as np
import pytest

from helpers.exact import quantize_u7

kernels = pytest.importorskip("tinynn.kernels")
PATHS = kernels.int8_paths()


def expected(x, w, s_a, z_a, s_w, bias, act):
    """The formula from first principles: 7-bit activations a = clamp(round(f32(x * f32(1/s_a) + z_a)),
    0, 127) in exact rationals (one float32 rounding of the fma, half-even), acc in int64 (asserted to
    fit int32), then the float32 epilogue."""
    a = quantize_u7(x, s_a, z_a)
    w64 = w.astype(np.int64)
    acc = a @ w64.T - z_a * w64.sum(axis=1)
    assert np.abs(acc).max(initial=0) < 2**31
    y = acc.astype(np.float32) * (np.float32(s_a) * s_w)
    if bias is not None:
        y = y + bias
    return np.maximum(y, np.float32(0)) if act == "relu" else y


@pytest.fixture
def each_path():
    """Run fn on every int8 path at the best SIMD level, and on the lower SIMD levels (whose float
    epilogue and range pass are other code) with the int8 paths they allow."""
    def run(fn):
        results = {}
        try:
            for level in kernels.simd_paths():
                kernels.set_simd(level)
                for p in PATHS:
                    kernels.set_int8_path(p)
                    if kernels.int8_path() == p:        # (a lower SIMD level caps the int8 path)
                        results[p if level == kernels.simd_paths()[-1] else f"{p} at simd {level}"] = fn()
            # the AMX micro-kernel's own body on tiles emulated in C (kernels/gemm/amx_emulated.h): its
            # addressing and the weights' tile layout, checked on CPUs without tiles too
            kernels._emulate_amx(True)
            kernels.set_int8_path("amx")
            results["amx (emulated tiles)"] = fn()
        finally:
            kernels._emulate_amx(False)
            kernels.set_int8_path("auto")
            kernels.set_simd("auto")
        assert set(PATHS) <= set(results)
        return results
    return run


SHAPES = [(1, 1, 1), (2, 3, 5), (5, 7, 31), (13, 64, 33), (17, 65, 32), (4, 130, 97), (29, 256, 64), (3, 5, 1),
          (30, 40, 12), (50, 9, 8)]   # (the last two: the narrow 16- and 8-column micro-kernels, 24-row tiles)


@pytest.mark.parametrize("m, k, n", SHAPES)
@pytest.mark.parametrize("act", ["none", "relu"])
def test_every_path_equals_the_formula(each_path, m, k, n, act):
    rng = np.random.default_rng(m * 1000 + k * 10 + n)
    x = (rng.standard_normal((m, k)) * 2 + 0.5).astype(np.float32)
    w = rng.integers(-128, 128, (n, k)).astype(np.int8)
    s_w = (rng.random(n) * 0.02 + 1e-3).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32) if n % 2 else None
    s_a, z_a = np.float32((max(x.max(), 0) - min(x.min(), 0)) / 127 + 1e-3), 37
    want = expected(x, w, s_a, z_a, s_w, bias, act)
    packed = kernels.PackedInt8Weight(w)
    got = each_path(lambda: kernels.quantized_linear(x, packed, s_a, z_a, s_w, bias, act))
    for p, y in got.items():
        np.testing.assert_array_equal(y, want, err_msg=p)


@pytest.mark.parametrize("m, k, n", [(200, 700, 45), (389, 1030, 33)])
def test_row_and_k_blocks_equal_the_reference(each_path, m, k, n):
    # more rows than one cache block (192) and K over several blocks of 512: the int32 sums wait
    # between the K blocks; against the reference backend (itself checked on exact rationals above
    # and in test_quantize_ties.py)
    from tinynn.backend import reference
    rng = np.random.default_rng(m + k)
    x = (rng.standard_normal((m, k)) + 0.2).astype(np.float32)
    w = rng.integers(-128, 128, (n, k)).astype(np.int8)
    s_w = (rng.random(n) * 0.02 + 1e-3).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32)
    want = reference.quantized_linear(x, w, None, None, s_w, bias, "relu")
    packed = kernels.PackedInt8Weight(w)
    got = each_path(lambda: kernels.quantized_linear(x, packed, None, None, s_w, bias, "relu"))
    for p, y in got.items():
        np.testing.assert_array_equal(y, want, err_msg=p)


def test_extreme_operands_cannot_saturate_the_avx2_pairs(each_path):
    # every a = 127 against w = -128 / 127: pair sums -32512 / 32258, the largest in magnitude a
    # u7 x s8 pair can make; vpmaddubsw saturates only beyond +-32767, so the sums stay exact
    k, n = 256, 40
    x = np.full((7, k), 1e6, np.float32)
    w = np.where(np.arange(n)[:, None] % 2 == 0, -128, 127).astype(np.int8).repeat(k, axis=1)
    s_w = np.ones(n, np.float32)
    packed = kernels.PackedInt8Weight(w)
    got = each_path(lambda: kernels.quantized_linear(x, packed, np.float32(1), 0, s_w))
    want = np.where(np.arange(n) % 2 == 0, -128.0 * 127 * k, 127.0 * 127 * k).astype(np.float32)
    for p, y in got.items():
        np.testing.assert_array_equal(y, np.broadcast_to(want, y.shape), err_msg=p)


@pytest.mark.parametrize("act", ["sigmoid", "tanh"])
def test_paths_agree_bit_for_bit_with_smooth_activations(each_path, act):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((19, 100)).astype(np.float32)
    w = rng.integers(-128, 128, (45, 100)).astype(np.int8)
    s_w = np.full(45, 1e-3, np.float32)
    packed = kernels.PackedInt8Weight(w)
    got = each_path(lambda: kernels.quantized_linear(x, packed, np.float32(0.03), 64, s_w, None, act))
    first = got[PATHS[0]]
    linear = expected(x, w, np.float32(0.03), 64, s_w, None, "none").astype(np.float64)
    want = 1 / (1 + np.exp(-linear)) if act == "sigmoid" else np.tanh(linear)
    for p, y in got.items():
        if " at simd " not in p:        # the same activation code: the same bits
            np.testing.assert_array_equal(y, first, err_msg=p)
        np.testing.assert_allclose(y, want, rtol=1e-6, atol=1e-7, err_msg=p)  # (each SIMD level's own bounds)


def test_set_simd_caps_the_int8_path():
    best = kernels.info()["simd_available"]
    try:
        kernels.set_simd("portable")
        assert kernels.int8_path() == "portable"
        if "avx2" in PATHS:
            kernels.set_simd("avx2+fma")
            assert kernels.int8_path() in ("avx2", PATHS[-1] if best == "avx2+fma" else "avx2")
    finally:
        kernels.set_simd("auto")
    assert kernels.int8_path() == PATHS[-1]


def test_set_int8_path_rejects_what_this_cpu_cannot_run():
    with pytest.raises(ValueError, match="set_int8_path"):
        kernels.set_int8_path("no-such-path")
    missing = [p for p in ("portable", "avx2", "avx-vnni", "avx512-vnni", "amx") if p not in PATHS]
    for p in missing:
        with pytest.raises(ValueError, match=p):
            kernels.set_int8_path(p)
    assert kernels.int8_path() == PATHS[-1]


def test_bad_arguments_name_the_op():
    packed = kernels.PackedInt8Weight(np.ones((3, 4), np.int8))
    with pytest.raises(ValueError, match="quantized_linear.*float32"):
        kernels.quantized_linear(np.ones((2, 5), np.float32), packed, 1.0, 0, np.ones(3, np.float32))
    with pytest.raises(ValueError, match="x_zero_point"):
        kernels.quantized_linear(np.ones((2, 4), np.float32), packed, 1.0, 128, np.ones(3, np.float32))
    with pytest.raises(TypeError, match="PackedInt8Weight"):
        kernels.PackedInt8Weight(np.ones((3, 4), np.float32))


def test_threads_split_the_panels_without_changing_a_bit():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((96, 512)).astype(np.float32)
    w = rng.integers(-128, 128, (200, 512)).astype(np.int8)
    s_w = np.full(200, 1e-3, np.float32)
    packed = kernels.PackedInt8Weight(w)
    one = kernels.quantized_linear(x, packed, np.float32(0.05), 50, s_w, None, "relu", num_threads=1)
    two = kernels.quantized_linear(x, packed, np.float32(0.05), 50, s_w, None, "relu", num_threads=2)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(one, expected(x, w, np.float32(0.05), 50, s_w, None, "relu"))


@pytest.mark.parametrize("act", ["none", "relu"])
def test_quantized_model_is_the_same_bits_on_both_backends_and_every_path(each_path, act):
    import tinynn as tn
    from tinynn import nn, quantize
    tn.manual_seed(3)
    layers = [nn.Linear(70, 40), nn.ReLU(), nn.Linear(40, 9)] if act == "relu" else [nn.Linear(70, 9)]
    x = (np.random.default_rng(3).standard_normal((21, 70)) + 0.7).astype(np.float32)
    for q in (quantize.quantize_dynamic(nn.Sequential(*layers)), quantize.quantize_static(nn.Sequential(*layers), [x])):
        with tn.use_backend("numpy"), tn.no_grad():
            ref_out = q(x).numpy()
        with tn.use_backend("cython"), tn.no_grad():
            got = each_path(lambda: q(x).numpy())
        for p, y in got.items():
            np.testing.assert_array_equal(y, ref_out, err_msg=p)


def calc_u7(lo, hi):
    from tinynn.compress.qparams import calc_qparams
    return calc_qparams(np.float32(lo), np.float32(hi), "uint8", symmetric=False, reduce_range=True)


@pytest.mark.parametrize("m, k", [(1, 3), (7, 64), (5, 100), (64, 33), (3, 1000)])
def test_dynamic_quantization_in_the_kernel_equals_the_observer(each_path, m, k):
    # x_scale None: the kernel finds the range (AVX-512 bulk + tail) and PyTorch's MinMaxObserver
    # parameters itself; the result is the static call at calc_qparams(min x, max x) bit for bit
    from tinynn.backend import reference
    rng = np.random.default_rng(m + k)
    w = rng.integers(-128, 128, (40, k)).astype(np.int8)
    s_w = (rng.random(40) * 0.02 + 1e-3).astype(np.float32)
    packed = kernels.PackedInt8Weight(w)
    for shift in (-3.0, 0.0, 0.4, 5.0):
        x = (rng.standard_normal((m, k)) + shift).astype(np.float32)
        x.flat[rng.integers(x.size)] = np.float32(7.25)         # the extremes anywhere in the array
        x.flat[rng.integers(x.size)] = np.float32(-6.5 + shift)
        s_a, z_a = calc_u7(x.min(), x.max())
        assert reference._dynamic_u7_qparams(x) == (s_a, z_a)
        want = expected(x, w, np.float32(s_a), z_a, s_w, None, "relu")
        got = each_path(lambda: kernels.quantized_linear(x, packed, None, None, s_w, None, "relu"))
        for p, y in got.items():
            np.testing.assert_array_equal(y, want, err_msg=p)
        np.testing.assert_array_equal(reference.quantized_linear(x, w, None, None, s_w, None, "relu"), want)


@pytest.mark.parametrize("lo, hi", [(0.0, 0.0), (-0.0, 0.0), (1e-45, 2e-45), (-1e-30, 1e-30), (2.0, 3.0),
                                    (-3.0, -2.0), (-127.0, 0.5), (-1e30, 1e30), (-2.5e-8, 1e-8), (-0.5, 63.0)])
def test_kernel_qparams_match_the_observer_on_edge_ranges(lo, hi):
    from tinynn.backend import reference
    x = np.array([[lo, hi] * 40], np.float32)
    s_a, z_a = calc_u7(x.min(), x.max())
    assert reference._dynamic_u7_qparams(x) == (s_a, z_a)
    w = np.eye(80, dtype=np.int8)[:17]
    packed = kernels.PackedInt8Weight(w)
    s_w = np.ones(17, np.float32)
    with np.errstate(over="ignore"):
        want = kernels.quantized_linear(x, packed, np.float32(s_a), z_a, s_w)
    np.testing.assert_array_equal(kernels.quantized_linear(x, packed, None, None, s_w), want)


@pytest.mark.parametrize("where", [0, 63, 64, 200, 1023])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_range_that_is_not_finite_raises(where, bad):
    from tinynn.backend import reference
    x = np.ones((4, 256), np.float32)
    x.flat[where] = bad
    packed = kernels.PackedInt8Weight(np.ones((3, 256), np.int8))
    for fn in (kernels.quantized_linear, reference.quantized_linear):
        with pytest.raises(ValueError, match="quantized_linear.*not finite"):
            fn(x, packed if fn is kernels.quantized_linear else packed.weight, None, None, np.ones(3, np.float32))


def test_no_input_features_gives_the_bias(each_path):
    # k = 0: every sum is empty (0), so y = act(0 * s + b) on every path
    packed = kernels.PackedInt8Weight(np.zeros((40, 0), np.int8))
    bias = np.linspace(-2, 2, 40).astype(np.float32)
    got = each_path(lambda: kernels.quantized_linear(np.zeros((30, 0), np.float32), packed, np.float32(0.1), 3,
                                                     np.ones(40, np.float32), bias, "relu"))
    for p, y in got.items():
        np.testing.assert_array_equal(y, np.tile(np.maximum(bias, 0), (30, 1)), err_msg=p)
