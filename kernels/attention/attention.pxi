# attention/attention.pxi -- included from kernels.pyx.  Python-facing wrappers of attention.h:
# the scaled (causal) softmax of attention scores, layer normalization and GELU, forward and
# backward. Inputs are checked here (float32/float64, one dtype, shapes) and made C-contiguous
# and aligned (zero copy if they already are); outputs are new C-contiguous arrays.

cdef extern from "attention/attention.h" nogil:
    void tn_scaled_softmax_f32(const float *x, float *y, float scale, int causal, long long rows, long long L, long long K)
    void tn_scaled_softmax_f64(const double *x, double *y, double scale, int causal, long long rows, long long L, long long K)
    void tn_scaled_softmax_bw_f32(const float *y, const float *g, float *dx, float scale, long long rows, long long K)
    void tn_scaled_softmax_bw_f64(const double *y, const double *g, double *dx, double scale, long long rows, long long K)
    void tn_layer_norm_f32(const float *x, const float *w, const float *b, float *y, float *mean, float *rstd, float eps, long long M, long long N)
    void tn_layer_norm_f64(const double *x, const double *w, const double *b, double *y, double *mean, double *rstd, double eps, long long M, long long N)
    void tn_layer_norm_dx_f32(const float *x, const float *w, const float *mean, const float *rstd, const float *g, float *dx, long long M, long long N)
    void tn_layer_norm_dx_f64(const double *x, const double *w, const double *mean, const double *rstd, const double *g, double *dx, long long M, long long N)
    void tn_layer_norm_dwdb_f32(const float *x, const float *mean, const float *rstd, const float *g, float *dw, float *db, long long M, long long N)
    void tn_layer_norm_dwdb_f64(const double *x, const double *mean, const double *rstd, const double *g, double *dw, double *db, long long M, long long N)
    void tn_gelu_fw_f32(const float *x, float *y, int tanh_form, long long n)
    void tn_gelu_fw_f64(const double *x, double *y, int tanh_form, long long n)
    void tn_gelu_bw_f32(const float *x, const float *g, float *dx, int tanh_form, long long n)
    void tn_gelu_bw_f64(const double *x, const double *g, double *dx, int tanh_form, long long n)


cdef cnp.ndarray _rows(str name, str arg, object x, object dtype, object shape=None):
    """x as an aligned C-contiguous float32/float64 ndarray of `dtype` (x's own when None) and
    `shape` (any when None), else a TypeError/ValueError naming the kernel and the argument."""
    x = _check_float(name, arg, x)
    if dtype is not None and x.dtype != dtype:
        raise TypeError(f"{name}: {arg} is {x.dtype} but the other arrays are {dtype}; they must match")
    if shape is not None and x.shape != shape:
        raise ValueError(f"{name}: {arg} has shape {x.shape}, expected {shape}")
    return np.require(x, requirements="CA")


cdef void *_ptr(object a):
    return NULL if a is None else cnp.PyArray_DATA(<cnp.ndarray>a)


cdef int _tanh_form(str name, object approximate) except -1:
    if approximate not in ("none", "tanh"):
        raise ValueError(f"{name}: approximate must be 'none' or 'tanh', got {approximate!r}")
    return approximate == "tanh"


def scaled_softmax(scores, double scale, bint causal=False):
    """P = softmax(scale S) over the last axis of S (..., L, K); causal: P_ij = 0 for j > i,
    without building a mask."""
    cdef cnp.ndarray x = _rows("scaled_softmax", "scores", scores, None)
    if x.ndim < 2:
        raise ValueError(f"scaled_softmax: scores need at least 2 dims (..., L, K), got shape {(<object>x).shape}")
    cdef cnp.ndarray y = _new_like(x)
    cdef long long K = x.shape[x.ndim - 1], L = x.shape[x.ndim - 2]
    cdef long long rows = cnp.PyArray_SIZE(x) // K if K else 0
    cdef void *px = cnp.PyArray_DATA(x)
    cdef void *py = cnp.PyArray_DATA(y)
    cdef bint single = cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT32
    with nogil:
        if single:
            tn_scaled_softmax_f32(<const float *>px, <float *>py, <float>scale, causal, rows, L, K)
        else:
            tn_scaled_softmax_f64(<const double *>px, <double *>py, scale, causal, rows, L, K)
    return y


def scaled_softmax_backward(probs, grad, double scale):
    """dS = scale P (G - sum_j G_j P_j) over the last axis."""
    cdef cnp.ndarray y = _rows("scaled_softmax_backward", "probs", probs, None)
    cdef cnp.ndarray g = _rows("scaled_softmax_backward", "grad", grad, y.dtype, (<object>y).shape)
    cdef cnp.ndarray dx = _new_like(y)
    cdef long long K = y.shape[y.ndim - 1] if y.ndim else 0
    cdef long long rows = cnp.PyArray_SIZE(y) // K if K else 0
    cdef void *py = cnp.PyArray_DATA(y)
    cdef void *pg = cnp.PyArray_DATA(g)
    cdef void *pd = cnp.PyArray_DATA(dx)
    cdef bint single = cnp.PyArray_TYPE(y) == cnp.NPY_FLOAT32
    with nogil:
        if single:
            tn_scaled_softmax_bw_f32(<const float *>py, <const float *>pg, <float *>pd, <float>scale, rows, K)
        else:
            tn_scaled_softmax_bw_f64(<const double *>py, <const double *>pg, <double *>pd, scale, rows, K)
    return dx


def layer_norm(x, weight, bias, double eps):
    """Per row of x (M, N): y = (x - mu) r w + b, r = 1 / sqrt(var + eps); returns (y, mu, r)."""
    cdef cnp.ndarray xa = _rows("layer_norm", "x", x, None)
    if xa.ndim != 2:
        raise ValueError(f"layer_norm: x must be 2-D (M, N), got shape {(<object>xa).shape}")
    cdef long long M = xa.shape[0], N = xa.shape[1]
    w = None if weight is None else _rows("layer_norm", "weight", weight, xa.dtype, (N,))
    b = None if bias is None else _rows("layer_norm", "bias", bias, xa.dtype, (N,))
    cdef cnp.ndarray y = _new_like(xa)
    cdef cnp.ndarray mean = np.empty(M, xa.dtype), rstd = np.empty(M, xa.dtype)
    cdef void *px = cnp.PyArray_DATA(xa)
    cdef void *pw = _ptr(w)
    cdef void *pb = _ptr(b)
    cdef void *py = cnp.PyArray_DATA(y)
    cdef void *pm = cnp.PyArray_DATA(mean)
    cdef void *pr = cnp.PyArray_DATA(rstd)
    cdef bint single = cnp.PyArray_TYPE(xa) == cnp.NPY_FLOAT32
    with nogil:
        if single:
            tn_layer_norm_f32(<const float *>px, <const float *>pw, <const float *>pb, <float *>py, <float *>pm,
                              <float *>pr, <float>eps, M, N)
        else:
            tn_layer_norm_f64(<const double *>px, <const double *>pw, <const double *>pb, <double *>py,
                              <double *>pm, <double *>pr, eps, M, N)
    return y, mean, rstd


def layer_norm_backward(x, weight, mean, rstd, grad, needs=(True, True, True)):
    """(dx, dw, db) of y = xhat w + b per row (None where `needs` is false)."""
    cdef cnp.ndarray xa = _rows("layer_norm_backward", "x", x, None)
    if xa.ndim != 2:
        raise ValueError(f"layer_norm_backward: x must be 2-D (M, N), got shape {(<object>xa).shape}")
    cdef long long M = xa.shape[0], N = xa.shape[1]
    w = None if weight is None else _rows("layer_norm_backward", "weight", weight, xa.dtype, (N,))
    cdef cnp.ndarray ma = _rows("layer_norm_backward", "mean", mean, xa.dtype, (M,))
    cdef cnp.ndarray ra = _rows("layer_norm_backward", "rstd", rstd, xa.dtype, (M,))
    cdef cnp.ndarray g = _rows("layer_norm_backward", "grad", grad, xa.dtype, (<object>xa).shape)
    dx = _new_like(xa) if needs[0] else None
    dw = np.empty(N, xa.dtype) if needs[1] else None
    db = np.empty(N, xa.dtype) if needs[2] else None
    cdef void *px = cnp.PyArray_DATA(xa)
    cdef void *pw = _ptr(w)
    cdef void *pm = cnp.PyArray_DATA(ma)
    cdef void *pr = cnp.PyArray_DATA(ra)
    cdef void *pg = cnp.PyArray_DATA(g)
    cdef void *pdx = _ptr(dx)
    cdef void *pdw = _ptr(dw)
    cdef void *pdb = _ptr(db)
    cdef bint single = cnp.PyArray_TYPE(xa) == cnp.NPY_FLOAT32
    with nogil:
        if single:
            if pdx != NULL:
                tn_layer_norm_dx_f32(<const float *>px, <const float *>pw, <const float *>pm, <const float *>pr,
                                     <const float *>pg, <float *>pdx, M, N)
            if pdw != NULL or pdb != NULL:
                tn_layer_norm_dwdb_f32(<const float *>px, <const float *>pm, <const float *>pr, <const float *>pg,
                                       <float *>pdw, <float *>pdb, M, N)
        else:
            if pdx != NULL:
                tn_layer_norm_dx_f64(<const double *>px, <const double *>pw, <const double *>pm, <const double *>pr,
                                     <const double *>pg, <double *>pdx, M, N)
            if pdw != NULL or pdb != NULL:
                tn_layer_norm_dwdb_f64(<const double *>px, <const double *>pm, <const double *>pr, <const double *>pg,
                                       <double *>pdw, <double *>pdb, M, N)
    return dx, dw, db


def gelu(x, approximate="none"):
    """GELU(x) = x Phi(x) (approximate="none") or its tanh form, elementwise."""
    cdef int tanh_form = _tanh_form("gelu", approximate)
    cdef cnp.ndarray xa = _rows("gelu", "x", x, None)
    cdef cnp.ndarray y = _new_like(xa)
    cdef long long n = cnp.PyArray_SIZE(xa)
    cdef void *px = cnp.PyArray_DATA(xa)
    cdef void *py = cnp.PyArray_DATA(y)
    cdef bint single = cnp.PyArray_TYPE(xa) == cnp.NPY_FLOAT32
    with nogil:
        if single:
            tn_gelu_fw_f32(<const float *>px, <float *>py, tanh_form, n)
        else:
            tn_gelu_fw_f64(<const double *>px, <double *>py, tanh_form, n)
    return y


def gelu_backward(x, grad, approximate="none"):
    """dL/dx = g GELU'(x), elementwise."""
    cdef int tanh_form = _tanh_form("gelu_backward", approximate)
    cdef cnp.ndarray xa = _rows("gelu_backward", "x", x, None)
    cdef cnp.ndarray g = _rows("gelu_backward", "grad", grad, xa.dtype, (<object>xa).shape)
    cdef cnp.ndarray dx = _new_like(xa)
    cdef long long n = cnp.PyArray_SIZE(xa)
    cdef void *px = cnp.PyArray_DATA(xa)
    cdef void *pg = cnp.PyArray_DATA(g)
    cdef void *pd = cnp.PyArray_DATA(dx)
    cdef bint single = cnp.PyArray_TYPE(xa) == cnp.NPY_FLOAT32
    with nogil:
        if single:
            tn_gelu_bw_f32(<const float *>px, <const float *>pg, <float *>pd, tanh_form, n)
        else:
            tn_gelu_bw_f64(<const double *>px, <const double *>pg, <double *>pd, tanh_form, n)
    return dx
