# conv/batchnorm.pxi -- Python-facing batch-norm kernels (included by kernels.pyx): training-mode
# statistics, normalization and its backward over x (N, C, L), and the eval-mode affine map with the
# running statistics (batchnorm.h), channels across threads.

cdef extern from "conv/batchnorm.h" nogil:
    void tn_batch_norm_f32(const float *x, const float *gamma, const float *beta, double eps, float *y,
                           float *mean, float *var, tn_idx n, tn_idx c, tn_idx l, int nt)
    void tn_batch_norm_f64(const double *x, const double *gamma, const double *beta, double eps, double *y,
                           double *mean, double *var, tn_idx n, tn_idx c, tn_idx l, int nt)
    void tn_batch_norm_backward_f32(const float *g, const float *x, const float *mean, const float *var,
                                    const float *gamma, double eps, float *dx, float *dgamma, float *dbeta,
                                    tn_idx n, tn_idx c, tn_idx l, int nt)
    int tn_batch_norm_eval_f32(const float *x, const float *mean, const float *var, const float *gamma,
                               const float *beta, double eps, float *y, tn_idx n, tn_idx c, tn_idx l, int nt)
    int tn_batch_norm_eval_f64(const double *x, const double *mean, const double *var, const double *gamma,
                               const double *beta, double eps, double *y, tn_idx n, tn_idx c, tn_idx l, int nt)
    void tn_batch_norm_backward_f64(const double *g, const double *x, const double *mean, const double *var,
                                    const double *gamma, double eps, double *dx, double *dgamma, double *dbeta,
                                    tn_idx n, tn_idx c, tn_idx l, int nt)


cdef object _bn_channel(op, name, v, Py_ssize_t c, dtype):
    """None, or v as a C-contiguous (c,) array of dtype."""
    if v is None:
        return None
    v = _conv_array(op, name, v, dtype)
    if v.shape != (c,):
        raise ValueError(f"{op}: {name} has shape {v.shape}, expected ({c},)")
    return v


cdef void *_data_or_null(object a):
    return NULL if a is None else cnp.PyArray_DATA(<cnp.ndarray>a)


def _bn_input(op, x):
    x = _conv_array(op, "x", x)
    if x.ndim != 3:
        raise ValueError(f"{op}: expected x (N, C, L), got shape {x.shape}")
    return x


def batch_norm(x, weight, bias, eps, num_threads=None):
    """(y, mean, var) of training-mode batch norm of x (N, C, L): see batchnorm.h."""
    x = _bn_input("batch_norm", x)
    cdef Py_ssize_t n = x.shape[0], c = x.shape[1], l = x.shape[2]
    weight = _bn_channel("batch_norm", "weight", weight, c, x.dtype)
    bias = _bn_channel("batch_norm", "bias", bias, c, x.dtype)
    cdef int nt = _gemm_threads("batch_norm", num_threads)
    cdef double e = eps
    y, mean, var = np.empty_like(x), np.empty(c, x.dtype), np.empty(c, x.dtype)
    cdef void *X = cnp.PyArray_DATA(<cnp.ndarray>x)
    cdef void *Y = cnp.PyArray_DATA(<cnp.ndarray>y)
    cdef void *M = cnp.PyArray_DATA(<cnp.ndarray>mean)
    cdef void *V = cnp.PyArray_DATA(<cnp.ndarray>var)
    cdef void *G = _data_or_null(weight)
    cdef void *B = _data_or_null(bias)
    if x.dtype == _FLOAT32:
        with nogil:
            tn_batch_norm_f32(<const float *>X, <const float *>G, <const float *>B, e, <float *>Y, <float *>M,
                              <float *>V, n, c, l, nt)
    else:
        with nogil:
            tn_batch_norm_f64(<const double *>X, <const double *>G, <const double *>B, e, <double *>Y, <double *>M,
                              <double *>V, n, c, l, nt)
    return y, mean, var


def batch_norm_backward(grad, x, mean, var, weight, eps, needs=(True, True, True), num_threads=None):
    """(dx, dgamma, dbeta) of training-mode batch norm (see batchnorm.h); None where needs says no."""
    x = _bn_input("batch_norm_backward", x)
    grad = _conv_array("batch_norm_backward", "grad", grad, x.dtype)
    if grad.shape != x.shape:
        raise ValueError(f"batch_norm_backward: grad has shape {grad.shape}, x has shape {x.shape}")
    cdef Py_ssize_t n = x.shape[0], c = x.shape[1], l = x.shape[2]
    mean = _bn_channel("batch_norm_backward", "mean", mean, c, x.dtype)
    var = _bn_channel("batch_norm_backward", "var", var, c, x.dtype)
    if mean is None or var is None:
        raise ValueError("batch_norm_backward: mean and var are needed")
    weight = _bn_channel("batch_norm_backward", "weight", weight, c, x.dtype)
    dx = np.empty_like(x) if needs[0] else None
    dg = np.empty(c, x.dtype) if needs[1] else None
    db = np.empty(c, x.dtype) if needs[2] else None
    cdef int nt = _gemm_threads("batch_norm_backward", num_threads)
    cdef double e = eps
    cdef void *P[8]
    P[0], P[1], P[2], P[3] = cnp.PyArray_DATA(<cnp.ndarray>grad), cnp.PyArray_DATA(<cnp.ndarray>x), \
        cnp.PyArray_DATA(<cnp.ndarray>mean), cnp.PyArray_DATA(<cnp.ndarray>var)
    P[4], P[5], P[6], P[7] = _data_or_null(weight), _data_or_null(dx), _data_or_null(dg), _data_or_null(db)
    if x.dtype == _FLOAT32:
        with nogil:
            tn_batch_norm_backward_f32(<const float *>P[0], <const float *>P[1], <const float *>P[2],
                                       <const float *>P[3], <const float *>P[4], e, <float *>P[5], <float *>P[6],
                                       <float *>P[7], n, c, l, nt)
    else:
        with nogil:
            tn_batch_norm_backward_f64(<const double *>P[0], <const double *>P[1], <const double *>P[2],
                                       <const double *>P[3], <const double *>P[4], e, <double *>P[5],
                                       <double *>P[6], <double *>P[7], n, c, l, nt)
    return dx, dg, db


def batch_norm_eval(x, mean, var, weight, bias, eps, num_threads=None):
    """y = x s_c + t_c, s = weight / sqrt(var + eps), t = bias - mean s, of x (N, C, L): see batchnorm.h."""
    x = _bn_input("batch_norm_eval", x)
    cdef Py_ssize_t n = x.shape[0], c = x.shape[1], l = x.shape[2]
    mean = _bn_channel("batch_norm_eval", "mean", mean, c, x.dtype)
    var = _bn_channel("batch_norm_eval", "var", var, c, x.dtype)
    if mean is None or var is None:
        raise ValueError("batch_norm_eval: mean and var are needed")
    weight = _bn_channel("batch_norm_eval", "weight", weight, c, x.dtype)
    bias = _bn_channel("batch_norm_eval", "bias", bias, c, x.dtype)
    cdef int nt = _gemm_threads("batch_norm_eval", num_threads)
    cdef double e = eps
    y = np.empty_like(x)
    cdef void *P[6]
    P[0], P[1], P[2] = cnp.PyArray_DATA(<cnp.ndarray>x), cnp.PyArray_DATA(<cnp.ndarray>mean), \
        cnp.PyArray_DATA(<cnp.ndarray>var)
    P[3], P[4], P[5] = _data_or_null(weight), _data_or_null(bias), cnp.PyArray_DATA(<cnp.ndarray>y)
    cdef int status
    if x.dtype == _FLOAT32:
        with nogil:
            status = tn_batch_norm_eval_f32(<const float *>P[0], <const float *>P[1], <const float *>P[2],
                                            <const float *>P[3], <const float *>P[4], e, <float *>P[5], n, c, l, nt)
    else:
        with nogil:
            status = tn_batch_norm_eval_f64(<const double *>P[0], <const double *>P[1], <const double *>P[2],
                                            <const double *>P[3], <const double *>P[4], e, <double *>P[5], n, c, l,
                                            nt)
    if status:
        raise MemoryError(f"batch_norm_eval: no memory for the scales of {c} channels")
    return y
