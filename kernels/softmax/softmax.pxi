# softmax/softmax.pxi -- included from kernels.pyx.  Python-facing wrappers of softmax.h:
# softmax / log_softmax (+ backward) over the last axis, and fused cross-entropy.
# Inputs are made C-contiguous and aligned (zero copy if they already are); outputs are new
# C-contiguous arrays.

from libc.stdint cimport int64_t

cdef extern from "softmax/softmax.h" nogil:
    void tn_softmax_rows_f32(const float *x, float *y, long long N, long long C, int take_log)
    void tn_softmax_rows_f64(const double *x, double *y, long long N, long long C, int take_log)
    void tn_softmax_bw_rows_f32(const float *y, const float *g, float *dx, long long N, long long C, int take_log)
    void tn_softmax_bw_rows_f64(const double *y, const double *g, double *dx, long long N, long long C, int take_log)
    void tn_cross_entropy_rows_f32(const float *x, const int64_t *t, float e, float *loss, float *p, long long N, long long C)
    void tn_cross_entropy_rows_f64(const double *x, const int64_t *t, double e, double *loss, double *p, long long N, long long C)
    void tn_cross_entropy_bw_rows_f32(const float *p, const int64_t *t, float e, const float *g, long long gs, float *dx, long long N, long long C)
    void tn_cross_entropy_bw_rows_f64(const double *p, const int64_t *t, double e, const double *g, long long gs, double *dx, long long N, long long C)
    long long tn_first_bad_target(const int64_t *t, long long N, long long C)


cdef inline bint _ready(object x, int nd):
    """x is a float32/float64 ndarray with nd dimensions (nd < 0: any, >= 1), C-contiguous and
    aligned: the C core can take its data pointer as is (the fast path; anything else goes
    through the full checks and np.require)."""
    if not cnp.PyArray_Check(x):
        return False
    cdef cnp.ndarray a = <cnp.ndarray>x
    cdef int t = cnp.PyArray_TYPE(a)
    cdef int n = cnp.PyArray_NDIM(a)
    return ((t == cnp.NPY_FLOAT32 or t == cnp.NPY_FLOAT64) and (n == nd or (nd < 0 and n >= 1))
            and cnp.PyArray_ISCARRAY_RO(a))      # C-contiguous, aligned, native byte order


cdef inline bint _last(object axis, int ndim):
    """axis names the last axis of an ndim-d array (-1 or ndim - 1, as a Python int)."""
    return type(axis) is int and (axis == -1 or axis == ndim - 1)


cdef inline cnp.ndarray _new_like(cnp.ndarray a):
    """Uninitialised C-contiguous array of a's shape and dtype."""
    return cnp.PyArray_EMPTY(cnp.PyArray_NDIM(a), cnp.PyArray_DIMS(a), cnp.PyArray_TYPE(a), 0)


cdef int _last_axis(str name, object x, object axis) except -1:
    if x.ndim == 0:
        raise ValueError(f"{name}: needs at least 1 dimension, got a 0-d array")
    if axis != -1 and axis != x.ndim - 1:
        raise ValueError(f"{name}: the kernel works along the last axis only, got axis={axis} "
                         f"for shape {x.shape} (the backend falls back to numpy_ref)")
    return 0


cdef object _softmax_fw(str name, object x, object axis, int take_log):
    cdef cnp.ndarray xa
    if _ready(x, -1) and _last(axis, cnp.PyArray_NDIM(<cnp.ndarray>x)):
        xa = <cnp.ndarray>x
    else:
        x = _check_float(name, "x", x)
        _last_axis(name, x, axis)
        xa = np.require(x, requirements="CA")
    cdef cnp.ndarray ya = _new_like(xa)
    cdef long long C = xa.shape[xa.ndim - 1]
    cdef long long N = cnp.PyArray_SIZE(xa) // C if C else 0
    cdef void *px = cnp.PyArray_DATA(xa)
    cdef void *py = cnp.PyArray_DATA(ya)
    cdef bint single = cnp.PyArray_TYPE(xa) == cnp.NPY_FLOAT32
    with nogil:
        if single:
            tn_softmax_rows_f32(<const float *>px, <float *>py, N, C, take_log)
        else:
            tn_softmax_rows_f64(<const double *>px, <double *>py, N, C, take_log)
    return ya


cdef object _softmax_bw(str name, object y, object grad, object axis, int take_log):
    cdef cnp.ndarray ya, ga
    if (_ready(y, -1) and _ready(grad, -1) and _last(axis, cnp.PyArray_NDIM(<cnp.ndarray>y))
            and cnp.PyArray_TYPE(<cnp.ndarray>y) == cnp.PyArray_TYPE(<cnp.ndarray>grad)
            and cnp.PyArray_SAMESHAPE(<cnp.ndarray>y, <cnp.ndarray>grad)):
        ya = <cnp.ndarray>y
        ga = <cnp.ndarray>grad
    else:
        ya, ga = _softmax_bw_slow(name, y, grad, axis)
    cdef cnp.ndarray da = _new_like(ga)
    cdef long long C = ya.shape[ya.ndim - 1]
    cdef long long N = cnp.PyArray_SIZE(ya) // C if C else 0
    cdef void *py = cnp.PyArray_DATA(ya)
    cdef void *pg = cnp.PyArray_DATA(ga)
    cdef void *pd = cnp.PyArray_DATA(da)
    cdef bint single = cnp.PyArray_TYPE(ya) == cnp.NPY_FLOAT32
    with nogil:
        if single:
            tn_softmax_bw_rows_f32(<const float *>py, <const float *>pg, <float *>pd, N, C, take_log)
        else:
            tn_softmax_bw_rows_f64(<const double *>py, <const double *>pg, <double *>pd, N, C, take_log)
    return da


cdef tuple _softmax_bw_slow(str name, object y, object grad, object axis):
    y = _check_float(name, "y", y)
    grad = _check_float(name, "grad", grad)
    if y.dtype != grad.dtype:
        raise TypeError(f"{name}: y is {y.dtype} but grad is {grad.dtype}; they must match")
    if y.shape != grad.shape:
        raise ValueError(f"{name}: y has shape {y.shape} but grad has shape {grad.shape}; they must match")
    _last_axis(name, y, axis)
    return np.require(y, requirements="CA"), np.require(grad, requirements="CA")


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
    cdef cnp.ndarray ta
    cdef long long bad
    if (cnp.PyArray_Check(target) and cnp.PyArray_TYPE(<cnp.ndarray>target) == cnp.NPY_INT64
            and cnp.PyArray_NDIM(<cnp.ndarray>target) == 1 and cnp.PyArray_DIM(<cnp.ndarray>target, 0) == N
            and cnp.PyArray_ISCARRAY_RO(<cnp.ndarray>target)):
        ta = <cnp.ndarray>target      # already what the C core reads: only the range check
    else:
        ta = _targets_slow(name, target, N, C)
    bad = tn_first_bad_target(<const int64_t *>cnp.PyArray_DATA(ta), N, C)
    if bad >= 0:
        raise IndexError(f"{name}: class index {target[bad]} (row {bad}) is out of range for {C} classes")
    return ta


cdef cnp.ndarray _targets_slow(str name, object target, Py_ssize_t N, Py_ssize_t C):
    if not isinstance(target, np.ndarray):
        target = np.asarray(target)
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold integer class indices, got dtype {target.dtype}")
    if target.shape != (N,):
        raise ValueError(f"{name}: expected target of shape ({N},) for {N} rows, got {target.shape}")
    cdef cnp.ndarray ta = np.require(target, np.int64, requirements="CA")
    if target.dtype.kind == "u" and target.dtype.itemsize == 8 and N and target.max() > np.iinfo(np.int64).max:
        raise IndexError(f"{name}: class index {target.max()} is out of range for {C} classes")
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
    cdef cnp.ndarray xa
    if _ready(logits, 2):
        xa = <cnp.ndarray>logits
    else:
        logits = _check_float("cross_entropy", "logits", logits)
        if logits.ndim != 2:
            raise ValueError(f"cross_entropy: expected logits of shape (N, C), got {logits.shape}")
        xa = np.require(logits, requirements="CA")
    cdef double e = _smoothing("cross_entropy", label_smoothing)
    cdef long long N = cnp.PyArray_DIM(xa, 0), C = cnp.PyArray_DIM(xa, 1)
    cdef cnp.ndarray ta = _targets("cross_entropy", target, N, C)
    cdef cnp.ndarray pa = _new_like(xa)
    cdef cnp.ndarray la = cnp.PyArray_EMPTY(1, cnp.PyArray_DIMS(xa), cnp.PyArray_TYPE(xa), 0)
    cdef void *px = cnp.PyArray_DATA(xa)
    cdef void *pp = cnp.PyArray_DATA(pa)
    cdef void *pl = cnp.PyArray_DATA(la)
    cdef const int64_t *pt = <const int64_t *>cnp.PyArray_DATA(ta)
    cdef bint single = cnp.PyArray_TYPE(xa) == cnp.NPY_FLOAT32
    with nogil:
        if single:
            tn_cross_entropy_rows_f32(<const float *>px, pt, <float>e, <float *>pl, <float *>pp, N, C)
        else:
            tn_cross_entropy_rows_f64(<const double *>px, pt, e, <double *>pl, <double *>pp, N, C)
    return la, pa


def cross_entropy_backward(probs, target, label_smoothing, grad):
    """dloss_n/dx_n = (p_n - q_n) g_n with p = softmax(x) (N, C), q = (1 - e) onehot(t) + e / C,
    g the incoming per-sample gradient (N,) (any stride, e.g. a broadcast scalar)."""
    cdef cnp.ndarray pa, ga
    if _ready(probs, 2):
        pa = <cnp.ndarray>probs
    else:
        probs = _check_float("cross_entropy_backward", "probs", probs)
        if probs.ndim != 2:
            raise ValueError(f"cross_entropy_backward: expected probs of shape (N, C), got {probs.shape}")
        pa = np.require(probs, requirements="CA")
    cdef double e = _smoothing("cross_entropy_backward", label_smoothing)
    cdef long long N = cnp.PyArray_DIM(pa, 0), C = cnp.PyArray_DIM(pa, 1)
    cdef cnp.ndarray ta = _targets("cross_entropy_backward", target, N, C)
    cdef long long itemsize = cnp.PyArray_ITEMSIZE(pa)
    if (cnp.PyArray_Check(grad) and cnp.PyArray_TYPE(<cnp.ndarray>grad) == cnp.PyArray_TYPE(pa)
            and cnp.PyArray_NDIM(<cnp.ndarray>grad) == 1 and cnp.PyArray_DIM(<cnp.ndarray>grad, 0) == N
            and cnp.PyArray_ISALIGNED(<cnp.ndarray>grad) and cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray>grad)
            and cnp.PyArray_STRIDE(<cnp.ndarray>grad, 0) % itemsize == 0):
        ga = <cnp.ndarray>grad        # what the C core reads (any whole-element stride)
    else:
        ga = _ce_grad_slow(grad, pa, N)
    cdef long long gstride = cnp.PyArray_STRIDE(ga, 0) // itemsize if N else 0
    cdef cnp.ndarray da = _new_like(pa)
    cdef void *pp = cnp.PyArray_DATA(pa)
    cdef void *pg = cnp.PyArray_DATA(ga)
    cdef void *pd = cnp.PyArray_DATA(da)
    cdef const int64_t *pt = <const int64_t *>cnp.PyArray_DATA(ta)
    cdef bint single = cnp.PyArray_TYPE(pa) == cnp.NPY_FLOAT32
    with nogil:
        if single:
            tn_cross_entropy_bw_rows_f32(<const float *>pp, pt, <float>e, <const float *>pg, gstride, <float *>pd, N, C)
        else:
            tn_cross_entropy_bw_rows_f64(<const double *>pp, pt, e, <const double *>pg, gstride, <double *>pd, N, C)
    return da


cdef cnp.ndarray _ce_grad_slow(object grad, cnp.ndarray probs, long long N):
    """The incoming gradient as an aligned (N,) array in probs' dtype with a whole-element stride."""
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
    return ga
