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
