# gemm.pxi -- Python-facing GEMM kernels (included by kernels.pyx): float matmul, fused
# linear, int8 matmul and the quantization helpers.  The C is in gemm.h (and the headers
# it includes).  Every wrapper validates ndim, dtype, shapes, strides and `out` here, in
# Python, then calls the C core with the GIL released.

from libc.stdint cimport int8_t, int32_t

cdef extern from "gemm.h" nogil:
    ctypedef Py_ssize_t tnn_idx
    ctypedef struct tnn_requant:
        const float *row_scale
        const float *col_scale
        const float *bias
        int relu
    int tnn_gemm_f32(tnn_idx m, tnn_idx n, tnn_idx k, const float *a, tnn_idx rsa, tnn_idx csa,
                     const float *b, tnn_idx rsb, tnn_idx csb, float *c, tnn_idx rsc, tnn_idx csc,
                     const float *bias, int act, int nt)
    int tnn_gemm_f64(tnn_idx m, tnn_idx n, tnn_idx k, const double *a, tnn_idx rsa, tnn_idx csa,
                     const double *b, tnn_idx rsb, tnn_idx csb, double *c, tnn_idx rsc, tnn_idx csc,
                     const double *bias, int act, int nt)
    int tnn_gemm_i8(tnn_idx m, tnn_idx n, tnn_idx k, const int8_t *a, tnn_idx rsa, tnn_idx csa,
                    const int8_t *b, tnn_idx rsb, tnn_idx csb, int32_t *c, tnn_idx rsc, tnn_idx csc,
                    const tnn_requant *rq, int nt)
    void tnn_requantize(tnn_idx m, tnn_idx n, const int32_t *acc, tnn_idx rs, tnn_idx cs,
                        const tnn_requant *rq, float *y)
    void tnn_minmax_f32(const float *x, tnn_idx n, float *lo, float *hi)
    void tnn_minmax_f64(const double *x, tnn_idx n, double *lo, double *hi)
    void tnn_quantize_rows_f32(tnn_idx m, tnn_idx n, const float *x, tnn_idx rs, tnn_idx cs,
                               const float *scale, float zp, int8_t *q)
    void tnn_quantize_rows_f64(tnn_idx m, tnn_idx n, const double *x, tnn_idx rs, tnn_idx cs,
                               const float *scale, double zp, int8_t *q)

cdef extern from "gemm.h":
    long long tnn_gemm_direct_max


def _set_gemm_direct_max(long long work):
    """Run products of at most `work` multiply-adds on the direct (unpacked) small-GEMM path
    (0: never); returns the previous limit.  For tests, which compare both paths bit for bit."""
    global tnn_gemm_direct_max
    previous = tnn_gemm_direct_max
    tnn_gemm_direct_max = work
    return previous


_GEMM_ACTIVATIONS = {"none": 0, "relu": 1, "sigmoid": 2, "tanh": 3}
_INT8 = np.dtype(np.int8)
_INT32 = np.dtype(np.int32)
_FLOAT32 = np.dtype(np.float32)


def _gemm_threads(op, num_threads):
    """Threads for one call: num_threads if given (an int >= 1), else kernels.get_num_threads()."""
    if num_threads is None:
        return tinynn_num_threads
    if not isinstance(num_threads, (int, np.integer)) or isinstance(num_threads, bool) or num_threads < 1:
        raise ValueError(f"{op}: num_threads must be an int >= 1 or None, got {num_threads!r}")
    return int(num_threads)


def _gemm_matrix(op, name, x, dtypes):
    """Check that x is a 2-D ndarray of one of `dtypes`; return (x, row stride, column stride)
    with the strides in elements.  Copies only an array whose strides are not whole elements
    or whose data is misaligned (which NumPy allows, C does not)."""
    cdef cnp.ndarray a
    cdef Py_ssize_t item
    if cnp.PyArray_Check(x) and cnp.PyArray_NDIM(<cnp.ndarray>x) == 2 and cnp.PyArray_ISALIGNED(<cnp.ndarray>x):
        a = <cnp.ndarray>x                   # the common case, checked through the C API
        item = cnp.PyArray_ITEMSIZE(a)
        if (a.descr in dtypes and cnp.PyArray_STRIDE(a, 0) % item == 0
                and cnp.PyArray_STRIDE(a, 1) % item == 0):
            return a, cnp.PyArray_STRIDE(a, 0) // item, cnp.PyArray_STRIDE(a, 1) // item
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{op}: {name} must be a numpy.ndarray, got {type(x).__name__}")
    if x.ndim != 2:
        raise ValueError(f"{op}: {name} must be 2-D, got shape {x.shape}")
    if x.dtype not in dtypes:
        raise TypeError(f"{op}: {name} has dtype {x.dtype}; expected {' or '.join(str(d) for d in dtypes)}")
    item = x.itemsize
    if x.strides[0] % item or x.strides[1] % item or not x.flags.aligned:
        x = np.require(x, requirements="CA")  # (np.ascontiguousarray keeps a misaligned array)
    return x, x.strides[0] // item, x.strides[1] // item


def _gemm_vector(op, name, v, n, dtype):
    """A 1-D contiguous array of n values of `dtype` (a scalar is broadcast), or an error."""
    cdef cnp.ndarray out
    cdef cnp.npy_intp size = n
    cdef float fv
    cdef float *pf
    cdef double dv
    cdef cnp.npy_intp i
    if (cnp.PyArray_Check(v) and cnp.PyArray_NDIM(<cnp.ndarray>v) == 1 and cnp.PyArray_DIM(<cnp.ndarray>v, 0) == n
            and (<cnp.ndarray>v).descr == dtype and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>v)
            and cnp.PyArray_ISALIGNED(<cnp.ndarray>v)):
        return v                              # already what the C core reads
    if (dtype is np.float32 and isinstance(v, (float, np.float32, np.float64))
            and -3.4028234663852886e38 <= v <= 3.4028234663852886e38):
        dv = v
        fv = <float>dv                       # double -> float rounds to nearest, as astype does
        out = cnp.PyArray_EMPTY(1, &size, cnp.NPY_FLOAT32, 0)
        pf = <float *>cnp.PyArray_DATA(out)
        for i in range(size):
            pf[i] = fv
        return out
    arr = np.asarray(v)
    if arr.dtype.kind not in "fiu" :
        raise TypeError(f"{op}: {name} must be numeric, got dtype {arr.dtype}")
    if arr.ndim == 0:
        arr = np.broadcast_to(arr, (n,))
    arr = arr.reshape(-1) if arr.ndim == 2 and 1 in arr.shape else arr
    if arr.shape != (n,):
        raise ValueError(f"{op}: {name} must have {n} values, got shape {np.shape(v)}")
    return np.require(arr, dtype, requirements="CA")


cdef int _gemm_call(cnp.ndarray a, Py_ssize_t rsa, Py_ssize_t csa,
                    cnp.ndarray b, Py_ssize_t rsb, Py_ssize_t csb,
                    cnp.ndarray c, Py_ssize_t rsc, Py_ssize_t csc,
                    cnp.ndarray bias, int act, int nt) except -1:
    """C = act(A B + bias) on the C core; all arguments already validated."""
    cdef tnn_idx m = a.shape[0], k = a.shape[1], n = b.shape[1]
    cdef void *pa = cnp.PyArray_DATA(a)
    cdef void *pb = cnp.PyArray_DATA(b)
    cdef void *pc = cnp.PyArray_DATA(c)
    cdef void *pbias = NULL if bias is None else cnp.PyArray_DATA(bias)
    cdef int err
    if a.dtype == _FLOAT32:
        with nogil:
            err = tnn_gemm_f32(m, n, k, <const float *>pa, rsa, csa, <const float *>pb, rsb, csb,
                               <float *>pc, rsc, csc, <const float *>pbias, act, nt)
    else:
        with nogil:
            err = tnn_gemm_f64(m, n, k, <const double *>pa, rsa, csa, <const double *>pb, rsb, csb,
                               <double *>pc, rsc, csc, <const double *>pbias, act, nt)
    if err:
        raise MemoryError("matmul: could not allocate the packing buffers")
    return 0


def _gemm_out(op, out, shape, dtype, inputs):
    """Validate `out` (or allocate it); returns (array to write, out to return)."""
    if out is None:
        c = np.empty(shape, dtype=dtype)
        return c, c
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{op}: out must be a numpy.ndarray, got {type(out).__name__}")
    if out.shape != shape:
        raise ValueError(f"{op}: out has shape {out.shape}, the result has shape {shape}")
    if out.dtype != dtype:
        raise TypeError(f"{op}: out has dtype {out.dtype}, the result has dtype {dtype}")
    if not out.flags.writeable:
        raise ValueError(f"{op}: out is read-only")
    item = out.itemsize
    if (out.strides[0] % item or out.strides[1] % item or not out.flags.aligned
            or any(np.may_share_memory(out, x) for x in inputs)):
        return np.empty(shape, dtype=dtype), out     # compute aside, then copy into out
    return out, out


def matmul(a, b, out=None, num_threads=None):
    """C = A B for 2-D float32 or float64 arrays of the same dtype:  C_ij = sum_p A_ip B_pj.

    Any strides (C/F order, transposed, sliced, negative), zero-size dimensions allowed.
    out: optional (m, n) array of the same dtype to write C into (returned).
    num_threads: OpenMP threads (default kernels.get_num_threads()); small products use one."""
    if not isinstance(a, np.ndarray) or not isinstance(b, np.ndarray):
        raise TypeError(f"matmul: expected numpy.ndarrays, got {type(a).__name__} and {type(b).__name__}")
    if a.dtype != b.dtype or a.dtype not in _FLOAT_TYPES:
        raise TypeError(f"matmul: expected two float32 or two float64 arrays, got {a.dtype} and {b.dtype}")
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"matmul: expected 2-D arrays, got shapes {a.shape} and {b.shape}")
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned: "
                         f"{a.shape[1]} (dim 1) != {b.shape[0]} (dim 0)")
    nt = _gemm_threads("matmul", num_threads)
    a, rsa, csa = _gemm_matrix("matmul", "a", a, _FLOAT_TYPES)
    b, rsb, csb = _gemm_matrix("matmul", "b", b, _FLOAT_TYPES)
    c, result = _gemm_out("matmul", out, (a.shape[0], b.shape[1]), a.dtype, (a, b))
    _gemm_call(a, rsa, csa, b, rsb, csb, c, c.strides[0] // c.itemsize, c.strides[1] // c.itemsize, None, 0, nt)
    if c is not result:
        result[...] = c
    return result


def linear(x, weight, bias=None, activation="none", num_threads=None):
    """y = act(x W^T + b) in one pass: the bias and activation are applied to each tile of
    the product while it is still in cache.  x (N, in), W (out, in), b (out,) or None, all
    float32 or all float64; act in none / relu / sigmoid / tanh."""
    if not isinstance(x, np.ndarray) or not isinstance(weight, np.ndarray):
        raise TypeError(f"linear: expected numpy.ndarrays, got {type(x).__name__} and {type(weight).__name__}")
    if x.dtype != weight.dtype or x.dtype not in _FLOAT_TYPES:
        raise TypeError(f"linear: expected x and weight both float32 or both float64, got {x.dtype} and {weight.dtype}")
    if x.ndim != 2 or weight.ndim != 2 or x.shape[1] != weight.shape[1]:
        raise ValueError(f"linear: expected x (N, in) and weight (out, in), got {x.shape} and {weight.shape}")
    if activation not in _GEMM_ACTIVATIONS:
        raise ValueError(f"linear: unknown activation {activation!r}; choose one of {tuple(_GEMM_ACTIVATIONS)}")
    if bias is not None:
        if not isinstance(bias, np.ndarray) or bias.dtype != x.dtype:
            raise TypeError(f"linear: bias must be a {x.dtype} ndarray, got "
                            f"{bias.dtype if isinstance(bias, np.ndarray) else type(bias).__name__}")
        if bias.shape != (weight.shape[0],):
            raise ValueError(f"linear: bias of shape {bias.shape} does not match weight of shape {weight.shape}")
        bias = np.require(bias, requirements="CA")
    nt = _gemm_threads("linear", num_threads)
    x, rsa, csa = _gemm_matrix("linear", "x", x, _FLOAT_TYPES)
    w, rsw, csw = _gemm_matrix("linear", "weight", weight, _FLOAT_TYPES)
    y = np.empty((x.shape[0], w.shape[0]), dtype=x.dtype)
    # B = W^T: element (p, j) is W[j, p], so its row stride is W's column stride and vice versa.
    _gemm_call(x, rsa, csa, w.T, csw, rsw, y, y.shape[1], 1, bias, _GEMM_ACTIVATIONS[activation], nt)
    return y


cdef int _gemm_i8_call(cnp.ndarray a, Py_ssize_t rsa, Py_ssize_t csa,
                       cnp.ndarray b, Py_ssize_t rsb, Py_ssize_t csb,
                       cnp.ndarray c, tnn_requant *rq, int nt) except -1:
    cdef tnn_idx m = a.shape[0], k = a.shape[1], n = b.shape[1]
    cdef const int8_t *pa = <const int8_t *>cnp.PyArray_DATA(a)
    cdef const int8_t *pb = <const int8_t *>cnp.PyArray_DATA(b)
    cdef int32_t *pc = <int32_t *>cnp.PyArray_DATA(c)
    cdef int err
    with nogil:
        err = tnn_gemm_i8(m, n, k, pa, rsa, csa, pb, rsb, csb, pc, n, 1, rq, nt)
    if err:
        raise MemoryError("int8_matmul: could not allocate the packing buffers")
    return 0


def int8_matmul(a, b, num_threads=None):
    """C = A B exactly, for int8 A (m, k) and B (k, n), accumulated in int32:
    C_ij = sum_p int32(A_ip) int32(B_pj)  (== a.astype(int32) @ b.astype(int32))."""
    if not isinstance(a, np.ndarray) or not isinstance(b, np.ndarray):
        raise TypeError(f"int8_matmul: expected numpy.ndarrays, got {type(a).__name__} and {type(b).__name__}")
    if a.dtype != _INT8 or b.dtype != _INT8:
        raise TypeError(f"int8_matmul: expected two int8 arrays, got {a.dtype} and {b.dtype}")
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"int8_matmul: expected 2-D arrays, got shapes {a.shape} and {b.shape}")
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"int8_matmul: shapes {a.shape} and {b.shape} are not aligned: "
                         f"{a.shape[1]} (dim 1) != {b.shape[0]} (dim 0)")
    nt = _gemm_threads("int8_matmul", num_threads)
    a, rsa, csa = _gemm_matrix("int8_matmul", "a", a, (_INT8,))
    b, rsb, csb = _gemm_matrix("int8_matmul", "b", b, (_INT8,))
    c = np.empty((a.shape[0], b.shape[1]), dtype=np.int32)
    _gemm_i8_call(a, rsa, csa, b, rsb, csb, c, NULL, nt)
    return c


def int8_linear(xq, wq, row_scale, col_scale, bias=None, relu_after=False, num_threads=None):
    """y = requantize(xq Wq^T, row_scale, col_scale, bias, relu_after) in one pass:
    y_ij = float32(sum_p xq_ip Wq_jp) * (s_row_i * s_col_j) + b_j  (then max(., 0)),
    for int8 xq (N, in), Wq (out, in); scales are (N,) / (out,) or scalars, b (out,) or None."""
    if not isinstance(xq, np.ndarray) or not isinstance(wq, np.ndarray):
        raise TypeError(f"int8_linear: expected numpy.ndarrays, got {type(xq).__name__} and {type(wq).__name__}")
    if xq.dtype != _INT8 or wq.dtype != _INT8:
        raise TypeError(f"int8_linear: expected int8 xq and wq, got {xq.dtype} and {wq.dtype}")
    if xq.ndim != 2 or wq.ndim != 2 or xq.shape[1] != wq.shape[1]:
        raise ValueError(f"int8_linear: expected xq (N, in) and wq (out, in), got {xq.shape} and {wq.shape}")
    nt = _gemm_threads("int8_linear", num_threads)
    m, n = xq.shape[0], wq.shape[0]
    rs = _gemm_vector("int8_linear", "row_scale", row_scale, m, np.float32)
    cs = _gemm_vector("int8_linear", "col_scale", col_scale, n, np.float32)
    bs = None if bias is None else _gemm_vector("int8_linear", "bias", bias, n, np.float32)
    a, rsa, csa = _gemm_matrix("int8_linear", "xq", xq, (_INT8,))
    w, rsw, csw = _gemm_matrix("int8_linear", "wq", wq, (_INT8,))
    y = np.empty((m, n), dtype=np.float32)
    cdef tnn_requant rq
    rq.row_scale = <const float *>cnp.PyArray_DATA(rs)
    rq.col_scale = <const float *>cnp.PyArray_DATA(cs)
    rq.bias = NULL if bs is None else <const float *>cnp.PyArray_DATA(bs)
    rq.relu = 1 if relu_after else 0
    _gemm_i8_call(a, rsa, csa, w.T, csw, rsw, y, &rq, nt)
    return y


def requantize(acc, row_scale, col_scale, bias=None, relu_after=False):
    """y = acc * s_row[:, None] * s_col[None, :] + b (then max(y, 0)) as float32, from an
    int32 (N, M) accumulator; y_ij = float32(acc_ij) * (s_row_i * s_col_j) + b_j."""
    acc, rsa, csa = _gemm_matrix("requantize", "acc", acc, (_INT32,))
    m, n = acc.shape[0], acc.shape[1]
    rs = _gemm_vector("requantize", "row_scale", row_scale, m, np.float32)
    cs = _gemm_vector("requantize", "col_scale", col_scale, n, np.float32)
    bs = None if bias is None else _gemm_vector("requantize", "bias", bias, n, np.float32)
    y = np.empty((m, n), dtype=np.float32)
    cdef tnn_requant rq
    rq.row_scale = <const float *>cnp.PyArray_DATA(rs)
    rq.col_scale = <const float *>cnp.PyArray_DATA(cs)
    rq.bias = NULL if bs is None else <const float *>cnp.PyArray_DATA(bs)
    rq.relu = 1 if relu_after else 0
    cdef const int32_t *pa = <const int32_t *>cnp.PyArray_DATA(acc)
    cdef float *py = <float *>cnp.PyArray_DATA(y)
    cdef tnn_idx cm = m, cn = n, crs = rsa, ccs = csa
    with nogil:
        tnn_requantize(cm, cn, pa, crs, ccs, &rq, py)
    return y


def quantize_rows(x, scale, zero_point=0):
    """q = clamp(round_half_even(x / s) + z, -128, 127) as int8, for float x (N, D) with s per
    row (N,) or a scalar; the division is done in x's precision."""
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
    cdef tnn_idx cm = m, cn = n, crs = rsx, ccs = csx
    if x.dtype == _FLOAT32:
        with nogil:
            tnn_quantize_rows_f32(cm, cn, <const float *>px, crs, ccs, ps, <float>zp, pq)
    else:
        with nogil:
            tnn_quantize_rows_f64(cm, cn, <const double *>px, crs, ccs, ps, zp, pq)
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
    cdef tnn_idx n = cnp.PyArray_SIZE(a)
    cdef void *p = cnp.PyArray_DATA(a)
    cdef float lo32, hi32
    cdef double lo64, hi64
    if t == cnp.NPY_FLOAT32:
        with nogil:
            tnn_minmax_f32(<const float *>p, n, &lo32, &hi32)
        return np.float32(lo32), np.float32(hi32)
    with nogil:
        tnn_minmax_f64(<const double *>p, n, &lo64, &hi64)
    return np.float64(lo64), np.float64(hi64)
