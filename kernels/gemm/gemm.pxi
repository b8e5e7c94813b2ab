# gemm/gemm.pxi -- Python-facing GEMM kernels (included by kernels.pyx): float matmul, fused
# linear (forward and backward), int8 matmul and int8 linear (requantization fused, see
# quant/quant.pxi).  The C is in gemm.h (and the headers it includes).  Every wrapper
# validates ndim, dtype, shapes, strides and `out` before calling the C core (the float ones
# first through a C-API fast path, see below), and releases the GIL for all but tiny products.

from libc.stdint cimport int8_t, int32_t

cdef extern from "gemm/gemm.h" nogil:
    int tn_gemm_f32(tn_idx m, tn_idx n, tn_idx k, const float *a, tn_idx rsa, tn_idx csa,
                     const float *b, tn_idx rsb, tn_idx csb, float *c, tn_idx rsc, tn_idx csc,
                     const float *bias, int act, int nt)
    int tn_gemm_f64(tn_idx m, tn_idx n, tn_idx k, const double *a, tn_idx rsa, tn_idx csa,
                     const double *b, tn_idx rsb, tn_idx csb, double *c, tn_idx rsc, tn_idx csc,
                     const double *bias, int act, int nt)
    int tn_gemm_i8(tn_idx m, tn_idx n, tn_idx k, const int8_t *a, tn_idx rsa, tn_idx csa,
                    const int8_t *b, tn_idx rsb, tn_idx csb, int32_t *c, tn_idx rsc, tn_idx csc,
                    const tn_requant *rq, int nt)
    void tn_colsum_f32(tn_idx m, tn_idx n, const float *x, tn_idx rs, tn_idx cs, float *out)
    void tn_colsum_f64(tn_idx m, tn_idx n, const double *x, tn_idx rs, tn_idx cs, double *out)

cdef extern from "gemm/gemm.h":
    long long tn_gemm_direct_max


def _set_gemm_direct_max(long long work):
    """Run products of at most `work` multiply-adds on the direct (unpacked) small-GEMM path
    (0: never); returns the previous limit.  For tests, which compare both paths bit for bit."""
    global tn_gemm_direct_max
    previous = tn_gemm_direct_max
    tn_gemm_direct_max = work
    return previous


_GEMM_ACTIVATIONS = {"none": 0, "relu": 1, "sigmoid": 2, "tanh": 3}
_INT8 = np.dtype(np.int8)
_INT32 = np.dtype(np.int32)
_FLOAT32 = np.dtype(np.float32)


def _gemm_threads(op, num_threads):
    """Threads for one call: num_threads if given (an int >= 1), else kernels.get_num_threads()."""
    if num_threads is None:
        return tn_num_threads
    if not isinstance(num_threads, (int, np.integer)) or isinstance(num_threads, bool) or num_threads < 1:
        raise ValueError(f"{op}: num_threads must be an int >= 1 or None, got {num_threads!r}")
    return 1 if tn_forked else int(num_threads)


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


# ---------------------------------------------------------------- float GEMM: fast paths
# Small calls are dominated by fixed costs, so each float wrapper first tries a fast path that
# checks everything the C core needs through the NumPy C API (no Python attribute lookups, no
# np.require, the result from PyArray_EMPTY).  Whatever that path does not take -- wrong types
# or shapes (to raise the error), `out=`, views that need a copy -- goes to the checked path,
# which validates with the full messages and converts what it can.

cdef inline bint _gemm_ready(object x, int t):
    """x is a 2-D ndarray of type number t (t < 0: float32 or float64) in native byte order,
    aligned, with strides in whole elements: the C core can read it as it is."""
    if not cnp.PyArray_Check(x):
        return False
    cdef cnp.ndarray a = <cnp.ndarray>x
    cdef int at = cnp.PyArray_TYPE(a)
    if (at != t if t >= 0 else (at != cnp.NPY_FLOAT32 and at != cnp.NPY_FLOAT64)):
        return False
    if cnp.PyArray_NDIM(a) != 2 or not cnp.PyArray_ISALIGNED(a) or not cnp.PyArray_ISNOTSWAPPED(a):
        return False
    cdef Py_ssize_t item = cnp.PyArray_ITEMSIZE(a)
    return cnp.PyArray_STRIDE(a, 0) % item == 0 and cnp.PyArray_STRIDE(a, 1) % item == 0


cdef inline bint _gemm_vector_ready(object v, int t, Py_ssize_t n):
    """v is a C-contiguous, aligned, native 1-D ndarray of n values of type number t."""
    if not cnp.PyArray_Check(v):
        return False
    cdef cnp.ndarray a = <cnp.ndarray>v
    return (cnp.PyArray_TYPE(a) == t and cnp.PyArray_NDIM(a) == 1 and cnp.PyArray_DIM(a, 0) == n
            and cnp.PyArray_ISCARRAY_RO(a))


cdef inline Py_ssize_t _rs(cnp.ndarray a):
    """Row stride of a 2-D array, in elements."""
    return cnp.PyArray_STRIDE(a, 0) // cnp.PyArray_ITEMSIZE(a)


cdef inline Py_ssize_t _cs(cnp.ndarray a):
    """Column stride of a 2-D array, in elements."""
    return cnp.PyArray_STRIDE(a, 1) // cnp.PyArray_ITEMSIZE(a)


cdef inline cnp.ndarray _new_matrix(Py_ssize_t m, Py_ssize_t n, int t):
    cdef cnp.npy_intp dims[2]
    dims[0] = m
    dims[1] = n
    return cnp.PyArray_EMPTY(2, dims, t, 0)


cdef int _gemm_run(int t, tn_idx m, tn_idx n, tn_idx k, const void *a, tn_idx rsa, tn_idx csa,
                   const void *b, tn_idx rsb, tn_idx csb, void *c, tn_idx rsc, tn_idx csc,
                   const void *bias, int act, int nt) except -1:
    """C = act(A B + bias) on the C core for type number t; all arguments already validated."""
    cdef int err
    if m * n * k < _nogil_min:
        if t == cnp.NPY_FLOAT32:
            err = tn_gemm_f32(m, n, k, <const float *>a, rsa, csa, <const float *>b, rsb, csb,
                               <float *>c, rsc, csc, <const float *>bias, act, nt)
        else:
            err = tn_gemm_f64(m, n, k, <const double *>a, rsa, csa, <const double *>b, rsb, csb,
                               <double *>c, rsc, csc, <const double *>bias, act, nt)
    elif t == cnp.NPY_FLOAT32:
        with nogil:
            err = tn_gemm_f32(m, n, k, <const float *>a, rsa, csa, <const float *>b, rsb, csb,
                               <float *>c, rsc, csc, <const float *>bias, act, nt)
    else:
        with nogil:
            err = tn_gemm_f64(m, n, k, <const double *>a, rsa, csa, <const double *>b, rsb, csb,
                               <double *>c, rsc, csc, <const double *>bias, act, nt)
    if err:
        raise MemoryError("matmul: could not allocate the packing buffers")
    return 0


cdef int _gemm_call(cnp.ndarray a, Py_ssize_t rsa, Py_ssize_t csa,
                    cnp.ndarray b, Py_ssize_t rsb, Py_ssize_t csb,
                    cnp.ndarray c, Py_ssize_t rsc, Py_ssize_t csc,
                    cnp.ndarray bias, int act, int nt) except -1:
    """_gemm_run for arrays already validated by the checked path (b may be a transposed view)."""
    return _gemm_run(cnp.PyArray_TYPE(a), cnp.PyArray_DIM(a, 0), cnp.PyArray_DIM(b, 1), cnp.PyArray_DIM(a, 1),
                     cnp.PyArray_DATA(a), rsa, csa, cnp.PyArray_DATA(b), rsb, csb, cnp.PyArray_DATA(c), rsc, csc,
                     NULL if bias is None else cnp.PyArray_DATA(bias), act, nt)


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
    cdef cnp.ndarray A, B, C
    cdef int t
    if out is None and _gemm_ready(a, -1):
        A = <cnp.ndarray>a
        t = cnp.PyArray_TYPE(A)
        if _gemm_ready(b, t) and cnp.PyArray_DIM(A, 1) == cnp.PyArray_DIM(<cnp.ndarray>b, 0):
            B = <cnp.ndarray>b
            nt = tn_num_threads if num_threads is None else _gemm_threads("matmul", num_threads)
            C = _new_matrix(cnp.PyArray_DIM(A, 0), cnp.PyArray_DIM(B, 1), t)
            _gemm_run(t, cnp.PyArray_DIM(A, 0), cnp.PyArray_DIM(B, 1), cnp.PyArray_DIM(A, 1),
                      cnp.PyArray_DATA(A), _rs(A), _cs(A), cnp.PyArray_DATA(B), _rs(B), _cs(B),
                      cnp.PyArray_DATA(C), cnp.PyArray_DIM(B, 1), 1, NULL, 0, nt)
            return C
    return _matmul_checked(a, b, out, num_threads)


def _matmul_checked(a, b, out, num_threads):
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
    cdef cnp.ndarray X, W, Y
    cdef int t, act
    if _gemm_ready(x, -1) and type(activation) is str:
        X = <cnp.ndarray>x
        t = cnp.PyArray_TYPE(X)
        act = _GEMM_ACTIVATIONS.get(activation, -1)
        if (act >= 0 and _gemm_ready(weight, t) and cnp.PyArray_DIM(X, 1) == cnp.PyArray_DIM(<cnp.ndarray>weight, 1)
                and (bias is None or _gemm_vector_ready(bias, t, cnp.PyArray_DIM(<cnp.ndarray>weight, 0)))):
            W = <cnp.ndarray>weight
            nt = tn_num_threads if num_threads is None else _gemm_threads("linear", num_threads)
            Y = _new_matrix(cnp.PyArray_DIM(X, 0), cnp.PyArray_DIM(W, 0), t)
            # B = W^T: element (p, j) is W[j, p], so its row stride is W's column stride and vice versa.
            _gemm_run(t, cnp.PyArray_DIM(X, 0), cnp.PyArray_DIM(W, 0), cnp.PyArray_DIM(X, 1),
                      cnp.PyArray_DATA(X), _rs(X), _cs(X), cnp.PyArray_DATA(W), _cs(W), _rs(W),
                      cnp.PyArray_DATA(Y), cnp.PyArray_DIM(W, 0), 1,
                      NULL if bias is None else cnp.PyArray_DATA(<cnp.ndarray>bias), act, nt)
            return Y
    return _linear_checked(x, weight, bias, activation, num_threads)


def _linear_checked(x, weight, bias, activation, num_threads):
    if not isinstance(x, np.ndarray) or not isinstance(weight, np.ndarray):
        raise TypeError(f"linear: expected numpy.ndarrays, got {type(x).__name__} and {type(weight).__name__}")
    if x.dtype != weight.dtype or x.dtype not in _FLOAT_TYPES:
        raise TypeError(f"linear: expected x and weight both float32 or both float64, got {x.dtype} and {weight.dtype}")
    if x.ndim != 2 or weight.ndim != 2 or x.shape[1] != weight.shape[1]:
        raise ValueError(f"linear: expected x (N, in) and weight (out, in), got {x.shape} and {weight.shape}")
    if not isinstance(activation, str) or activation not in _GEMM_ACTIVATIONS:
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
    _gemm_call(x, rsa, csa, w.T, csw, rsw, y, y.shape[1], 1, bias, _GEMM_ACTIVATIONS[activation], nt)
    return y


cdef void _bw_prologue(int t, int act, tn_idx N, tn_idx n_out, const void *y, const void *g,
                       tn_idx rsg, tn_idx csg, void *d, void *db) noexcept nogil:
    """d = g * act'(.) (act 1 relu: g where y > 0; 2 sigmoid: g y (1 - y); 3 tanh: g (1 - y^2)),
    y, g, d contiguous (N, n_out); act 0: d is g itself (strides rsg, csg).  Then db = sum_n d
    (if db is not NULL)."""
    cdef long long size = N * n_out
    cdef const void *pd = d if act else g
    cdef tn_idx rsd = n_out if act else rsg, csd = 1 if act else csg
    if t == cnp.NPY_FLOAT32:
        if act == 1:
            tn_relu_bw_array_f32(<const float *>y, <const float *>g, <float *>d, size)
        elif act == 2:
            tn_sigmoid_bw_array_f32(<const float *>y, <const float *>g, <float *>d, size)
        elif act == 3:
            tn_tanh_bw_array_f32(<const float *>y, <const float *>g, <float *>d, size)
        if db != NULL:
            tn_colsum_f32(N, n_out, <const float *>pd, rsd, csd, <float *>db)
    else:
        if act == 1:
            tn_relu_bw_array_f64(<const double *>y, <const double *>g, <double *>d, size)
        elif act == 2:
            tn_sigmoid_bw_array_f64(<const double *>y, <const double *>g, <double *>d, size)
        elif act == 3:
            tn_tanh_bw_array_f64(<const double *>y, <const double *>g, <double *>d, size)
        if db != NULL:
            tn_colsum_f64(N, n_out, <const double *>pd, rsd, csd, <double *>db)


cdef tuple _linear_bw_run(int t, int act, cnp.ndarray x, cnp.ndarray w, cnp.ndarray y, cnp.ndarray g,
                          bint need_dx, bint need_dw, bint need_db, int nt):
    """(dx, dW, db) on the C core, all arguments validated: x (N, in), w (out, in), g (N, out) with
    whole-element strides (g and y C-contiguous unless act is 0: none)."""
    cdef tn_idx N = cnp.PyArray_DIM(x, 0), n_in = cnp.PyArray_DIM(x, 1), n_out = cnp.PyArray_DIM(w, 0)
    cdef cnp.ndarray d = _new_matrix(N, n_out, t) if act else None
    cdef cnp.ndarray dx = _new_matrix(N, n_in, t) if need_dx else None
    cdef cnp.ndarray dw = _new_matrix(n_out, n_in, t) if need_dw else None
    cdef cnp.npy_intp n_db = n_out
    cdef cnp.ndarray db = cnp.PyArray_EMPTY(1, &n_db, t, 0) if need_db else None
    cdef void *pd = cnp.PyArray_DATA(d) if act else cnp.PyArray_DATA(g)
    cdef tn_idx rsd = n_out if act else _rs(g), csd = 1 if act else _cs(g)
    cdef const void *py = cnp.PyArray_DATA(y) if act else NULL
    cdef const void *pg = cnp.PyArray_DATA(g)
    cdef void *pdb = cnp.PyArray_DATA(db) if need_db else NULL
    cdef tn_idx rsg = _rs(g), csg = _cs(g)
    if act or need_db:
        if N * n_out >= _nogil_min:
            with nogil:
                _bw_prologue(t, act, N, n_out, py, pg, rsg, csg, pd, pdb)
        else:
            _bw_prologue(t, act, N, n_out, py, pg, rsg, csg, pd, pdb)
    if need_dx:   # dx = d W
        _gemm_run(t, N, n_in, n_out, pd, rsd, csd, cnp.PyArray_DATA(w), _rs(w), _cs(w),
                  cnp.PyArray_DATA(dx), n_in, 1, NULL, 0, nt)
    if need_dw:   # dW = d^T x
        _gemm_run(t, n_out, n_in, N, pd, csd, rsd, cnp.PyArray_DATA(x), _rs(x), _cs(x),
                  cnp.PyArray_DATA(dw), n_in, 1, NULL, 0, nt)
    return dx, dw, db


def linear_backward(x, weight, y, grad, activation="none", needs=(True, True, True), num_threads=None):
    """Gradients of y = act(x W^T + b), x (N, in), W (out, in), y and grad (N, out), in one call:
    with d = grad * act'(.)  (relu: grad where y > 0;  sigmoid: grad y (1 - y);  tanh: grad (1 - y^2);
    none: grad, and y is not used),
        dx = d W  (N, in),   dW = d^T x  (out, in),   db = sum_n d  (out,).
    Returns (dx, dW, db), None for each one whose entry of `needs` (dx, dW, db) is false."""
    cdef cnp.ndarray X, W, G
    cdef int t, act
    if (_gemm_ready(x, -1) and type(activation) is str and type(needs) is tuple
            and len(<tuple>needs) == 3 and num_threads is None):
        X = <cnp.ndarray>x
        t = cnp.PyArray_TYPE(X)
        act = _GEMM_ACTIVATIONS.get(activation, -1)
        if act >= 0 and _gemm_ready(weight, t) and _gemm_ready(grad, t):
            W = <cnp.ndarray>weight
            G = <cnp.ndarray>grad
            if (cnp.PyArray_DIM(W, 1) == cnp.PyArray_DIM(X, 1) and cnp.PyArray_DIM(G, 0) == cnp.PyArray_DIM(X, 0)
                    and cnp.PyArray_DIM(G, 1) == cnp.PyArray_DIM(W, 0)
                    and (act == 0 or (cnp.PyArray_ISCARRAY_RO(G) and _gemm_ready(y, t)
                                      and cnp.PyArray_ISCARRAY_RO(<cnp.ndarray>y)
                                      and cnp.PyArray_SAMESHAPE(<cnp.ndarray>y, G)))):
                return _linear_bw_run(t, act, X, W, y if act else None, G, needs[0], needs[1], needs[2],
                                      tn_num_threads)
    return _linear_backward_checked(x, weight, y, grad, activation, needs, num_threads)


def _linear_backward_checked(x, weight, y, grad, activation, needs, num_threads):
    op = "linear_backward"
    if not isinstance(x, np.ndarray) or not isinstance(weight, np.ndarray) or not isinstance(grad, np.ndarray):
        raise TypeError(f"{op}: expected numpy.ndarrays for x, weight and grad, got {type(x).__name__}, "
                        f"{type(weight).__name__} and {type(grad).__name__}")
    if not x.dtype == weight.dtype == grad.dtype or x.dtype not in _FLOAT_TYPES:
        raise TypeError(f"{op}: expected x, weight and grad all float32 or all float64, got "
                        f"{x.dtype}, {weight.dtype} and {grad.dtype}")
    if x.ndim != 2 or weight.ndim != 2 or x.shape[1] != weight.shape[1]:
        raise ValueError(f"{op}: expected x (N, in) and weight (out, in), got {x.shape} and {weight.shape}")
    if grad.shape != (x.shape[0], weight.shape[0]):
        raise ValueError(f"{op}: grad has shape {grad.shape}; x {x.shape} and weight {weight.shape} "
                         f"give outputs of shape {(x.shape[0], weight.shape[0])}")
    if not isinstance(activation, str) or activation not in _GEMM_ACTIVATIONS:
        raise ValueError(f"{op}: unknown activation {activation!r}; choose one of {tuple(_GEMM_ACTIVATIONS)}")
    act = _GEMM_ACTIVATIONS[activation]
    if act:
        if not isinstance(y, np.ndarray) or y.dtype != x.dtype:
            raise TypeError(f"{op}: y must be a {x.dtype} ndarray, got "
                            f"{y.dtype if isinstance(y, np.ndarray) else type(y).__name__}")
        if y.shape != grad.shape:
            raise ValueError(f"{op}: y has shape {y.shape} but grad has shape {grad.shape}; they must match")
        y = np.require(y, requirements="CA")
        grad = np.require(grad, requirements="CA")
    else:
        y = None
        grad, _, _ = _gemm_matrix(op, "grad", grad, _FLOAT_TYPES)
    flags = tuple(needs)
    if len(flags) != 3:
        raise ValueError(f"{op}: needs must hold 3 flags (dx, dW, db), got {needs!r}")
    nt = _gemm_threads(op, num_threads)
    x, _, _ = _gemm_matrix(op, "x", x, _FLOAT_TYPES)
    weight, _, _ = _gemm_matrix(op, "weight", weight, _FLOAT_TYPES)
    return _linear_bw_run(cnp.PyArray_TYPE(<cnp.ndarray>x), act, x, weight, y, grad,
                          bool(flags[0]), bool(flags[1]), bool(flags[2]), nt)


cdef int _gemm_i8_call(cnp.ndarray a, Py_ssize_t rsa, Py_ssize_t csa,
                       cnp.ndarray b, Py_ssize_t rsb, Py_ssize_t csb,
                       cnp.ndarray c, tn_requant *rq, int nt) except -1:
    cdef tn_idx m = a.shape[0], k = a.shape[1], n = b.shape[1]
    cdef const int8_t *pa = <const int8_t *>cnp.PyArray_DATA(a)
    cdef const int8_t *pb = <const int8_t *>cnp.PyArray_DATA(b)
    cdef int32_t *pc = <int32_t *>cnp.PyArray_DATA(c)
    cdef int err
    with nogil:
        err = tn_gemm_i8(m, n, k, pa, rsa, csa, pb, rsb, csb, pc, n, 1, rq, nt)
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
    cdef tn_requant rq
    rq.row_scale = <const float *>cnp.PyArray_DATA(rs)
    rq.col_scale = <const float *>cnp.PyArray_DATA(cs)
    rq.bias = NULL if bs is None else <const float *>cnp.PyArray_DATA(bs)
    rq.relu = 1 if relu_after else 0
    _gemm_i8_call(a, rsa, csa, w.T, csw, rsw, y, &rq, nt)
    return y
