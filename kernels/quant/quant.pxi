# quant/quant.pxi -- included from kernels.pyx.  Python-facing wrappers of quant/quant.h:
# requantization of an int32 accumulator, row-wise int8 quantization, one-pass min/max.
# (The int8 GEMM with requantization fused into its write is int8_linear in gemm/gemm.pxi.)

from libc.stdint cimport int8_t, int32_t

cdef extern from "quant/quant.h" nogil:
    ctypedef struct tn_requant:
        const float *row_scale
        const float *col_scale
        const float *bias
        int relu
    void tn_requantize(tn_idx m, tn_idx n, const int32_t *acc, tn_idx rs, tn_idx cs,
                       const tn_requant *rq, float *y)
    void tn_minmax_f32(const float *x, tn_idx n, float *lo, float *hi)
    void tn_minmax_f64(const double *x, tn_idx n, double *lo, double *hi)
    void tn_quantize_rows_f32(tn_idx m, tn_idx n, const float *x, tn_idx rs, tn_idx cs,
                               const float *scale, float zp, int8_t *q)
    void tn_quantize_rows_f64(tn_idx m, tn_idx n, const double *x, tn_idx rs, tn_idx cs,
                               const float *scale, double zp, int8_t *q)


def requantize(acc, row_scale, col_scale, bias=None, relu_after=False):
    """y = acc * s_row[:, None] * s_col[None, :] + b (then max(y, 0)) as float32, from an
    int32 (N, M) accumulator; y_ij = float32(acc_ij) * (s_row_i * s_col_j) + b_j."""
    acc, rsa, csa = _gemm_matrix("requantize", "acc", acc, (_INT32,))
    m, n = acc.shape[0], acc.shape[1]
    rs = _gemm_vector("requantize", "row_scale", row_scale, m, np.float32)
    cs = _gemm_vector("requantize", "col_scale", col_scale, n, np.float32)
    bs = None if bias is None else _gemm_vector("requantize", "bias", bias, n, np.float32)
    y = np.empty((m, n), dtype=np.float32)
    cdef tn_requant rq
    rq.row_scale = <const float *>cnp.PyArray_DATA(rs)
    rq.col_scale = <const float *>cnp.PyArray_DATA(cs)
    rq.bias = NULL if bs is None else <const float *>cnp.PyArray_DATA(bs)
    rq.relu = 1 if relu_after else 0
    cdef const int32_t *pa = <const int32_t *>cnp.PyArray_DATA(acc)
    cdef float *py = <float *>cnp.PyArray_DATA(y)
    cdef tn_idx cm = m, cn = n, crs = rsa, ccs = csa
    with nogil:
        tn_requantize(cm, cn, pa, crs, ccs, &rq, py)
    return y


def quantize_rows(x, scale, zero_point=0):
    """q = clamp(nearbyint(fma(x, float32(1 / s), z)), -128, 127) as int8 (PyTorch's
    quantize_per_tensor), for float x (N, D) with s per row (N,) or a scalar; in float32 (float64 x is
    rounded to float32 first), the fma rounded once, NaN -> 0."""
    x, rsx, csx = _gemm_matrix("quantize_rows", "x", x, _FLOAT_TYPES)
    m, n = x.shape[0], x.shape[1]
    s = _gemm_vector("quantize_rows", "scale", scale, m, np.float32)
    if not isinstance(zero_point, (int, np.integer)) or isinstance(zero_point, bool):
        raise TypeError(f"quantize_rows: zero_point must be an int, got {zero_point!r}")
    if not -128 <= zero_point <= 127:  # (a huge one also broke the C rounding: 10**30 gave 127 for x = -inf)
        raise ValueError(f"quantize_rows: zero_point must be in [-128, 127] for int8, got {zero_point}")
    q = np.empty((m, n), dtype=np.int8)
    cdef const float *ps = <const float *>cnp.PyArray_DATA(s)
    cdef void *px = cnp.PyArray_DATA(x)
    cdef int8_t *pq = <int8_t *>cnp.PyArray_DATA(q)
    cdef double zp = <double>zero_point
    cdef tn_idx cm = m, cn = n, crs = rsx, ccs = csx
    if x.dtype == _FLOAT32:
        with nogil:
            tn_quantize_rows_f32(cm, cn, <const float *>px, crs, ccs, ps, <float>zp, pq)
    else:
        with nogil:
            tn_quantize_rows_f64(cm, cn, <const double *>px, crs, ccs, ps, zp, pq)
    return q


def minmax(x):
    """(min_i x_i, max_i x_i) over every element of a non-empty float32/float64 array in one
    pass, as x.dtype scalars; both NaN if any x_i is NaN."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"minmax: x must be a numpy.ndarray, got {type(x).__name__}")
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>x)
    if t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64:
        raise TypeError(f"minmax: x must be float32 or float64, got {x.dtype}")
    cdef cnp.ndarray a = <cnp.ndarray>x
    if cnp.PyArray_SIZE(a) == 0:
        raise ValueError(f"minmax: x of shape {x.shape} is empty: no minimum or maximum")
    if not (cnp.PyArray_IS_C_CONTIGUOUS(a) and cnp.PyArray_ISALIGNED(a)):
        a = np.require(a, requirements="CA")
    cdef tn_idx n = cnp.PyArray_SIZE(a)
    cdef void *p = cnp.PyArray_DATA(a)
    cdef float lo32, hi32
    cdef double lo64, hi64
    if t == cnp.NPY_FLOAT32:
        with nogil:
            tn_minmax_f32(<const float *>p, n, &lo32, &hi32)
        return np.float32(lo32), np.float32(hi32)
    with nogil:
        tn_minmax_f64(<const double *>p, n, &lo64, &hi64)
    return np.float64(lo64), np.float64(hi64)


# ---------------------------------------------------------------- the quantized Linear (u7 x s8)
cdef extern from "gemm/gemm_int8_u7.h" nogil:
    int TN_I8_NPATHS
    int tn_int8_forced
    int tn_int8_usable
    int tn_int8_amx_emulated
    void tn_int8_init()
    int tn_int8_path()
    const char *tn_int8_path_name()
    const char *tn_int8_names[]
    tn_idx tn_u7_packed_size(tn_idx n, tn_idx k)
    void tn_u7_pack(tn_idx n, tn_idx k, const int8_t *w, tn_idx rsw, int8_t *bp)
    int tn_u7_linear(tn_idx m, tn_idx n, tn_idx k, const float *x, tn_idx rsx, float *sa, int32_t *za,
                     const int8_t *bp, const int32_t *rowsum, const float *sw, const float *bias,
                     int act, float *y, int nt)

tn_int8_init()


def int8_paths():
    """Names of the int8 paths this CPU and OS can run, slowest first (a subset of
    portable, avx2, avx-vnni, avx512-vnni, amx)."""
    return [tn_int8_names[p].decode() for p in range(TN_I8_NPATHS) if tn_int8_usable >> p & 1]


def int8_path():
    """The int8 path the quantized Linear takes now (see set_int8_path and set_simd)."""
    return tn_int8_path_name().decode()


def _emulate_amx(on):
    """Test hook: with on, "amx" is an int8 path everywhere and runs the AMX micro-kernel's own body
    on tiles emulated in C (gemm/amx_emulated.h), several times slower than any real path;
    with off, the CPU's own paths again.  Returns the previous setting."""
    global tn_int8_amx_emulated, tn_int8_forced
    previous = bool(tn_int8_amx_emulated)
    tn_int8_amx_emulated = 1 if on else 0
    tn_int8_init()
    if tn_int8_forced >= 0 and not (tn_int8_usable >> tn_int8_forced & 1):
        tn_int8_forced = -1
    return previous


def set_int8_path(name="auto"):
    """Force the quantized Linear's int8 path ("auto" = the best usable one); returns the previous
    choice ("auto" or a name).  A lower SIMD level forced by set_simd still caps it."""
    global tn_int8_forced
    previous = "auto" if tn_int8_forced < 0 else tn_int8_names[tn_int8_forced].decode()
    names = [tn_int8_names[p].decode() for p in range(TN_I8_NPATHS)]
    if name == "auto":
        tn_int8_forced = -1
    elif name in names and name in int8_paths():
        tn_int8_forced = names.index(name)
    else:
        raise ValueError(f"set_int8_path: {name!r} is not one of this CPU's int8 paths {int8_paths()} or 'auto'")
    return previous


class PackedInt8Weight:
    """int8 weights W (out, in) packed once for quantized_linear: `data` (64-byte aligned int8,
    the micro-kernels' layout), `rowsum` (out,) int32 = sum_k W[j, k] (the zero-point correction),
    `weight` the int8 W it was packed from (the reference backend's operand)."""

    def __init__(self, weight):
        if not isinstance(weight, np.ndarray) or weight.dtype != _INT8 or weight.ndim != 2:
            raise TypeError(f"PackedInt8Weight: expected a 2-D int8 ndarray, got {getattr(weight, 'dtype', type(weight))}"
                            f" of shape {getattr(weight, 'shape', None)}")
        w = self.weight = np.ascontiguousarray(weight)
        self.out_features, self.in_features = w.shape
        size = tn_u7_packed_size(self.out_features, self.in_features)
        raw = np.empty(size + 64, np.int8)
        start = (-raw.ctypes.data) % 64
        self.data = raw[start:start + size]
        self.rowsum = np.add.reduce(w, axis=1, dtype=np.int32)
        cdef int8_t *pd = <int8_t *>cnp.PyArray_DATA(self.data)
        cdef const int8_t *pw = <const int8_t *>cnp.PyArray_DATA(w)
        tn_u7_pack(self.out_features, self.in_features, pw, self.in_features, pd)


def quantized_linear(x, packed, x_scale, x_zero_point, w_scale, bias=None, activation="none", num_threads=None):
    """y = act(float32(acc_ij - z_a rowsum_j) * (s_a s_w[j]) + b_j) as float32 (N, out), with
    acc = a W^T exact in int32 and a = clamp(nearbyint(fma(x, float32(1 / s_a), z_a)), 0, 127) the
    7-bit activations (PyTorch's reduce_range); x float32 (N, in) with N in >= 1, `packed` a
    PackedInt8Weight.  x_scale = x_zero_point = None: dynamic quantization, (s_a, z_a) from x's
    range in the same pass (PyTorch's MinMaxObserver: calc_qparams(min x, max x, "uint8", affine,
    reduce_range=True)); a range that is not finite raises ValueError."""
    if not isinstance(packed, PackedInt8Weight):
        raise TypeError(f"quantized_linear: packed must be a PackedInt8Weight, got {type(packed).__name__}")
    if not isinstance(x, np.ndarray) or x.dtype != _FLOAT32 or x.ndim != 2 or x.shape[1] != packed.in_features:
        raise ValueError(f"quantized_linear: x must be float32 (N, {packed.in_features}), got "
                         f"{getattr(x, 'dtype', type(x))} of shape {getattr(x, 'shape', None)}")
    cdef float sa = 0
    cdef int32_t za = 0
    if x_scale is None:
        if x_zero_point is not None:
            raise ValueError("quantized_linear: x_zero_point must be None when x_scale is (dynamic quantization)")
        if x.size == 0:
            raise ValueError(f"quantized_linear: dynamic quantization of an empty x {x.shape}: no range")
    else:
        if not isinstance(x_zero_point, (int, np.integer)) or not 0 <= x_zero_point <= 127:
            raise ValueError(f"quantized_linear: x_zero_point must be an int in [0, 127], got {x_zero_point!r}")
        if not x_scale > 0:
            raise ValueError(f"quantized_linear: x_scale must be > 0, got {x_scale!r}")
        sa, za = x_scale, x_zero_point
    act = _GEMM_ACTIVATIONS.get(activation, -1)
    if act < 0:
        raise ValueError(f"quantized_linear: unknown activation {activation!r}")
    nt = _gemm_threads("quantized_linear", num_threads)
    n = packed.out_features
    sw = _gemm_vector("quantized_linear", "w_scale", w_scale, n, np.float32)
    bs = None if bias is None else _gemm_vector("quantized_linear", "bias", bias, n, np.float32)
    if not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>x) or not cnp.PyArray_ISALIGNED(<cnp.ndarray>x):
        x = np.ascontiguousarray(x)
    y = np.empty((x.shape[0], n), np.float32)
    cdef tn_idx m = x.shape[0], cn = n, k = packed.in_features
    cdef const float *px = <const float *>cnp.PyArray_DATA(x)
    cdef const int8_t *pb = <const int8_t *>cnp.PyArray_DATA(packed.data)
    cdef const int32_t *pr = <const int32_t *>cnp.PyArray_DATA(packed.rowsum)
    cdef const float *ps = <const float *>cnp.PyArray_DATA(sw)
    cdef const float *pbias = NULL if bs is None else <const float *>cnp.PyArray_DATA(bs)
    cdef float *py = <float *>cnp.PyArray_DATA(y)
    cdef int cact = act, cnt = nt, err
    with nogil:
        err = tn_u7_linear(m, cn, k, px, k, &sa, &za, pb, pr, ps, pbias, cact, py, cnt)
    if err == -2:
        raise ValueError(f"quantized_linear: x's range [{x.min()}, {x.max()}] is not finite: no dynamic quantization parameters")
    if err:
        raise MemoryError("quantized_linear: could not allocate the activation buffer")
    return y
