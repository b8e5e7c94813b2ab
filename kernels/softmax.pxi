# softmax.pxi -- included from kernels.pyx.  Python-facing wrappers of softmax.h:
# softmax / log_softmax (+ backward) over the last axis, and fused cross-entropy.
# Inputs are made C-contiguous and aligned (zero copy if they already are); outputs are new
# C-contiguous arrays.

from libc.stdint cimport int64_t

cdef extern from "softmax.h" nogil:
    void softmax_rows_f32(const float *x, float *y, long long N, long long C, int take_log)
    void softmax_rows_f64(const double *x, double *y, long long N, long long C, int take_log)
    void softmax_bw_rows_f32(const float *y, const float *g, float *dx, long long N, long long C, int take_log)
    void softmax_bw_rows_f64(const double *y, const double *g, double *dx, long long N, long long C, int take_log)
    void cross_entropy_rows_f32(const float *x, const int64_t *t, float e, float *loss, float *p, long long N, long long C)
    void cross_entropy_rows_f64(const double *x, const int64_t *t, double e, double *loss, double *p, long long N, long long C)
    void cross_entropy_bw_rows_f32(const float *p, const int64_t *t, float e, const float *g, long long gs, float *dx, long long N, long long C)
    void cross_entropy_bw_rows_f64(const double *p, const int64_t *t, double e, const double *g, long long gs, double *dx, long long N, long long C)
    long long tn_first_bad_target(const int64_t *t, long long N, long long C)


cdef int _last_axis(str name, object x, object axis) except -1:
    if x.ndim == 0:
        raise ValueError(f"{name}: needs at least 1 dimension, got a 0-d array")
    if axis != -1 and axis != x.ndim - 1:
        raise ValueError(f"{name}: the kernel works along the last axis only, got axis={axis} "
                         f"for shape {x.shape} (the backend falls back to numpy_ref)")
    return 0


cdef object _softmax_fw(str name, object x, object axis, int take_log):
    x = _check_float(name, "x", x)
    _last_axis(name, x, axis)
    cdef cnp.ndarray xa = np.require(x, requirements="CA")
    cdef cnp.ndarray ya = np.empty_like(xa)
    cdef long long C = xa.shape[xa.ndim - 1]
    cdef long long N = cnp.PyArray_SIZE(xa) // C if C else 0
    cdef void *px = cnp.PyArray_DATA(xa)
    cdef void *py = cnp.PyArray_DATA(ya)
    cdef bint single = cnp.PyArray_TYPE(xa) == cnp.NPY_FLOAT32
    with nogil:
        if single:
            softmax_rows_f32(<const float *>px, <float *>py, N, C, take_log)
        else:
            softmax_rows_f64(<const double *>px, <double *>py, N, C, take_log)
    return ya


cdef object _softmax_bw(str name, object y, object grad, object axis, int take_log):
    y = _check_float(name, "y", y)
    grad = _check_float(name, "grad", grad)
    if y.dtype != grad.dtype:
        raise TypeError(f"{name}: y is {y.dtype} but grad is {grad.dtype}; they must match")
    if y.shape != grad.shape:
        raise ValueError(f"{name}: y has shape {y.shape} but grad has shape {grad.shape}; they must match")
    _last_axis(name, y, axis)
    cdef cnp.ndarray ya = np.require(y, requirements="CA")
    cdef cnp.ndarray ga = np.require(grad, requirements="CA")
    cdef cnp.ndarray da = np.empty_like(ga)
    cdef long long C = ya.shape[ya.ndim - 1]
    cdef long long N = cnp.PyArray_SIZE(ya) // C if C else 0
    cdef void *py = cnp.PyArray_DATA(ya)
    cdef void *pg = cnp.PyArray_DATA(ga)
    cdef void *pd = cnp.PyArray_DATA(da)
    cdef bint single = cnp.PyArray_TYPE(ya) == cnp.NPY_FLOAT32
    with nogil:
        if single:
            softmax_bw_rows_f32(<const float *>py, <const float *>pg, <float *>pd, N, C, take_log)
        else:
            softmax_bw_rows_f64(<const double *>py, <const double *>pg, <double *>pd, N, C, take_log)
    return da


def softmax(x, axis=-1):
    """softmax(x)_i = e^(x_i - m) / sum_j e^(x_j - m), m = max_j x_j, along the last axis."""
    return _softmax_fw("softmax", x, axis, 0)


def log_softmax(x, axis=-1):
    """log_softmax(x)_i = x_i - m - log sum_j e^(x_j - m), along the last axis."""
    return _softmax_fw("log_softmax", x, axis, 1)


def softmax_backward(y, grad, axis=-1):
    """dL/dx = y (g - sum_j g_j y_j), with y = softmax(x), along the last axis."""
    return _softmax_bw("softmax_backward", y, grad, axis, 0)


def log_softmax_backward(y, grad, axis=-1):
    """dL/dx = g - e^y sum_j g_j, with y = log_softmax(x), along the last axis."""
    return _softmax_bw("log_softmax_backward", y, grad, axis, 1)


cdef cnp.ndarray _targets(str name, object target, Py_ssize_t N, Py_ssize_t C):
    """target as C-contiguous int64 (N,), every value checked to lie in [0, C)."""
    if not isinstance(target, np.ndarray):
        target = np.asarray(target)
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold integer class indices, got dtype {target.dtype}")
    if target.shape != (N,):
        raise ValueError(f"{name}: expected target of shape ({N},) for {N} rows, got {target.shape}")
    cdef cnp.ndarray ta = np.require(target, np.int64, requirements="CA")
    if target.dtype.kind == "u" and target.dtype.itemsize == 8 and N and target.max() > np.iinfo(np.int64).max:
        raise IndexError(f"{name}: class index {target.max()} is out of range for {C} classes")
    cdef long long bad = tn_first_bad_target(<const int64_t *>cnp.PyArray_DATA(ta), N, C)
    if bad >= 0:
        raise IndexError(f"{name}: class index {target[bad]} (row {bad}) is out of range for {C} classes")
    return ta


cdef double _smoothing(str name, object label_smoothing) except? -1:
    cdef double e = label_smoothing
    if not 0.0 <= e <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing}")
    return e


def cross_entropy(logits, target, label_smoothing=0.0):
    """Fused softmax cross-entropy of (N, C) logits against int class indices t (N,):
    q = (1 - e) onehot(t) + e / C,  loss_n = -sum_c q_c log softmax(x_n)_c.
    Returns (loss (N,), probabilities softmax(x) (N, C)) in the logits' dtype."""
    logits = _check_float("cross_entropy", "logits", logits)
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: expected logits of shape (N, C), got {logits.shape}")
    cdef double e = _smoothing("cross_entropy", label_smoothing)
    cdef long long N = logits.shape[0], C = logits.shape[1]
    cdef cnp.ndarray ta = _targets("cross_entropy", target, N, C)
    cdef cnp.ndarray xa = np.require(logits, requirements="CA")
    cdef cnp.ndarray pa = np.empty_like(xa)
    cdef cnp.ndarray la = np.empty(N, dtype=xa.dtype)
    cdef void *px = cnp.PyArray_DATA(xa)
    cdef void *pp = cnp.PyArray_DATA(pa)
    cdef void *pl = cnp.PyArray_DATA(la)
    cdef const int64_t *pt = <const int64_t *>cnp.PyArray_DATA(ta)
    cdef bint single = cnp.PyArray_TYPE(xa) == cnp.NPY_FLOAT32
    with nogil:
        if single:
            cross_entropy_rows_f32(<const float *>px, pt, <float>e, <float *>pl, <float *>pp, N, C)
        else:
            cross_entropy_rows_f64(<const double *>px, pt, e, <double *>pl, <double *>pp, N, C)
    return la, pa


def cross_entropy_backward(probs, target, label_smoothing, grad):
    """dloss_n/dx_n = (p_n - q_n) g_n with p = softmax(x) (N, C), q = (1 - e) onehot(t) + e / C,
    g the incoming per-sample gradient (N,) (any stride, e.g. a broadcast scalar)."""
    probs = _check_float("cross_entropy_backward", "probs", probs)
    if probs.ndim != 2:
        raise ValueError(f"cross_entropy_backward: expected probs of shape (N, C), got {probs.shape}")
    cdef double e = _smoothing("cross_entropy_backward", label_smoothing)
    cdef long long N = probs.shape[0], C = probs.shape[1]
    cdef cnp.ndarray ta = _targets("cross_entropy_backward", target, N, C)
    if isinstance(grad, (int, float)):
        grad = np.full(N, grad, dtype=probs.dtype)
    grad = _check_float("cross_entropy_backward", "grad", grad)
    if grad.shape != (N,):
        raise ValueError(f"cross_entropy_backward: expected grad of shape ({N},), got {grad.shape}")
    if grad.dtype != probs.dtype:
        grad = grad.astype(probs.dtype)
    cdef cnp.ndarray ga = grad
    cdef long long itemsize = ga.itemsize
    if N and (ga.strides[0] % itemsize or not ga.flags.aligned):
        ga = np.require(ga, requirements="CA")
    cdef long long gstride = ga.strides[0] // itemsize if N else 0
    cdef cnp.ndarray pa = np.require(probs, requirements="CA")
    cdef cnp.ndarray da = np.empty_like(pa)
    cdef void *pp = cnp.PyArray_DATA(pa)
    cdef void *pg = cnp.PyArray_DATA(ga)
    cdef void *pd = cnp.PyArray_DATA(da)
    cdef const int64_t *pt = <const int64_t *>cnp.PyArray_DATA(ta)
    cdef bint single = cnp.PyArray_TYPE(pa) == cnp.NPY_FLOAT32
    with nogil:
        if single:
            cross_entropy_bw_rows_f32(<const float *>pp, pt, <float>e, <const float *>pg, gstride, <float *>pd, N, C)
        else:
            cross_entropy_bw_rows_f64(<const double *>pp, pt, e, <const double *>pg, gstride, <double *>pd, N, C)
    return da
