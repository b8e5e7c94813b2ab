# optim/optim.pxi -- included from kernels.pyx.  Fused in-place optimizer updates (optim.h).
# param and the state buffers must be C-contiguous, aligned and writeable (they are updated in
# place); grad may have any layout (non-contiguous grads are copied).

cdef extern from "optim/optim.h" nogil:
    void tn_sgd_step_f32(float *p, const float *g, float *b, long long n, float lr, float mu, float damp1, float wd, int nesterov, int first)
    void tn_sgd_step_f64(double *p, const double *g, double *b, long long n, double lr, double mu, double damp1, double wd, int nesterov, int first)
    void tn_adam_step_f32(float *p, const float *g, float *m, float *v, long long n, float decay, float wd, float b1, float omb1, float b2, float omb2, float bias2, float step_size, float eps)
    void tn_adam_step_f64(double *p, const double *g, double *m, double *v, long long n, double decay, double wd, double b1, double omb1, double b2, double omb2, double bias2, double step_size, double eps)


cdef inline bint _in_place_ok(object a, object param):
    """True when a can be updated in place as param's companion without any conversion:
    an aligned, writeable, C-contiguous ndarray of param's dtype and shape (C-level checks only)."""
    if not cnp.PyArray_Check(a):
        return False
    cdef cnp.ndarray x = <cnp.ndarray>a, p = <cnp.ndarray>param
    if not cnp.PyArray_ISCARRAY(x) or cnp.PyArray_TYPE(x) != cnp.PyArray_TYPE(p):
        return False
    cdef int nd = cnp.PyArray_NDIM(x), i
    if nd != cnp.PyArray_NDIM(p):
        return False
    for i in range(nd):
        if cnp.PyArray_DIMS(x)[i] != cnp.PyArray_DIMS(p)[i]:
            return False
    return True


cdef inline bint _grad_ok(object g, object param):
    """True when g can be read as param's gradient as it is (aligned, C-contiguous, native byte
    order, same dtype and shape)."""
    if not cnp.PyArray_Check(g):
        return False
    cdef cnp.ndarray x = <cnp.ndarray>g, p = <cnp.ndarray>param
    if not cnp.PyArray_ISCARRAY_RO(x) or cnp.PyArray_TYPE(x) != cnp.PyArray_TYPE(p):
        return False
    cdef int nd = cnp.PyArray_NDIM(x), i
    if nd != cnp.PyArray_NDIM(p):
        return False
    for i in range(nd):
        if cnp.PyArray_DIMS(x)[i] != cnp.PyArray_DIMS(p)[i]:
            return False
    return True


cdef inline bint _float_param(object p):
    return cnp.PyArray_Check(p) and (cnp.PyArray_TYPE(<cnp.ndarray>p) == cnp.NPY_FLOAT32
                                     or cnp.PyArray_TYPE(<cnp.ndarray>p) == cnp.NPY_FLOAT64)


cdef cnp.ndarray _state(str name, str arg, object a, object param):
    """An in-place operand: same shape and dtype as param, C-contiguous, writeable."""
    a = _check_float(name, arg, a)
    if a.dtype != param.dtype:
        raise TypeError(f"{name}: {arg} is {a.dtype} but param is {param.dtype}")
    if a.shape != param.shape:
        raise ValueError(f"{name}: {arg} has shape {a.shape} but param has shape {param.shape}")
    if not a.flags.c_contiguous:
        raise ValueError(f"{name}: {arg} must be C-contiguous (it is updated in place)")
    if not a.flags.writeable:
        raise ValueError(f"{name}: {arg} is read-only")
    if not a.flags.aligned:
        raise ValueError(f"{name}: {arg} is not aligned for {a.dtype} (it is updated in place)")
    return a


cdef cnp.ndarray _grad_for(str name, object grad, object param):
    grad = _check_float(name, "grad", grad)
    if grad.shape != param.shape:
        raise ValueError(f"{name}: grad has shape {grad.shape} but param has shape {param.shape}")
    if grad.dtype != param.dtype:
        raise TypeError(f"{name}: grad is {grad.dtype} but param is {param.dtype}")
    return np.require(grad, requirements="CA")


cdef void _sgd_core(cnp.ndarray p, cnp.ndarray g, object b, double lr, double momentum, double dampening,
                    double weight_decay, bint nesterov, bint first_step):
    cdef long long n = cnp.PyArray_SIZE(p)
    cdef void *pp = cnp.PyArray_DATA(p)
    cdef void *pg = cnp.PyArray_DATA(g)
    cdef void *pb = cnp.PyArray_DATA(<cnp.ndarray>b) if b is not None else NULL
    cdef bint single = cnp.PyArray_TYPE(p) == cnp.NPY_FLOAT32
    if n < _nogil_min:      # small: keeping the GIL is cheaper than handing it over
        _sgd_c(single, pp, pg, pb, n, lr, momentum, dampening, weight_decay, nesterov, first_step)
    else:
        with nogil:
            _sgd_c(single, pp, pg, pb, n, lr, momentum, dampening, weight_decay, nesterov, first_step)


cdef inline void _sgd_c(bint single, void *pp, void *pg, void *pb, long long n, double lr, double momentum,
                        double dampening, double weight_decay, bint nesterov, bint first_step) noexcept nogil:
    if single:
        tn_sgd_step_f32(<float *>pp, <const float *>pg, <float *>pb, n, <float>lr, <float>momentum,
                     <float>(1 - dampening), <float>weight_decay, nesterov, first_step)
    else:
        tn_sgd_step_f64(<double *>pp, <const double *>pg, <double *>pb, n, lr, momentum,
                     1 - dampening, weight_decay, nesterov, first_step)


def sgd_step(param, grad, momentum_buffer, double lr, double momentum, double dampening, double weight_decay,
             bint nesterov, bint first_step):
    """PyTorch's SGD, in place, one pass: g <- g + wd p;  b <- g (first step) or mu b + (1 - dampening) g;
    g <- g + mu b (Nesterov) or b;  p <- p - lr g.  momentum_buffer may be None when momentum == 0."""
    if (_float_param(param) and _in_place_ok(param, param) and _grad_ok(grad, param)
            and (momentum == 0 or (momentum_buffer is not None and _in_place_ok(momentum_buffer, param)))):
        _sgd_core(param, grad, momentum_buffer if momentum != 0 else None, lr, momentum, dampening,
                  weight_decay, nesterov, first_step)
        return
    name = "sgd_step"  # the checked path: every operand validated, a strided grad copied
    cdef cnp.ndarray p = _state(name, "param", param, param)
    cdef cnp.ndarray g = _grad_for(name, grad, param)
    cdef cnp.ndarray b = None
    if momentum != 0:
        if momentum_buffer is None:
            raise ValueError(f"{name}: momentum={momentum} needs a momentum_buffer")
        b = _state(name, "momentum_buffer", momentum_buffer, param)
    _sgd_core(p, g, b, lr, momentum, dampening, weight_decay, nesterov, first_step)


cdef void _adam_core(cnp.ndarray p, cnp.ndarray g, cnp.ndarray m, cnp.ndarray v, long step, double lr,
                     double beta1, double beta2, double eps, double weight_decay, bint decoupled):
    cdef double decay = 1 - lr * weight_decay if (weight_decay and decoupled) else 1.0
    cdef double wd = weight_decay if (weight_decay and not decoupled) else 0.0
    cdef double bias1 = 1 - beta1 ** step, bias2 = 1 - beta2 ** step
    cdef double step_size = lr / bias1
    cdef long long n = cnp.PyArray_SIZE(p)
    cdef void *pp = cnp.PyArray_DATA(p)
    cdef void *pg = cnp.PyArray_DATA(g)
    cdef void *pm = cnp.PyArray_DATA(m)
    cdef void *pv = cnp.PyArray_DATA(v)
    cdef bint single = cnp.PyArray_TYPE(p) == cnp.NPY_FLOAT32
    with nogil:
        if single:
            tn_adam_step_f32(<float *>pp, <const float *>pg, <float *>pm, <float *>pv, n, <float>decay, <float>wd,
                          <float>beta1, <float>(1 - beta1), <float>beta2, <float>(1 - beta2), <float>bias2,
                          <float>step_size, <float>eps)
        else:
            tn_adam_step_f64(<double *>pp, <const double *>pg, <double *>pm, <double *>pv, n, decay, wd,
                          beta1, 1 - beta1, beta2, 1 - beta2, bias2, step_size, eps)


def adam_step(param, grad, exp_avg, exp_avg_sq, step, double lr, double beta1, double beta2, double eps,
              double weight_decay, bint decoupled):
    """Adam (decoupled=False: g <- g + wd p) or AdamW (decoupled=True: p <- p (1 - lr wd)), in place, one pass:
    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  p <- p - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)."""
    name = "adam_step"
    if not isinstance(step, (int, np.integer)) or step < 1:
        raise ValueError(f"{name}: step must be an int >= 1, got {step!r}")
    if (_float_param(param) and _in_place_ok(param, param) and _grad_ok(grad, param)
            and _in_place_ok(exp_avg, param) and _in_place_ok(exp_avg_sq, param)):
        _adam_core(param, grad, exp_avg, exp_avg_sq, step, lr, beta1, beta2, eps, weight_decay, decoupled)
        return
    cdef cnp.ndarray p = _state(name, "param", param, param)  # the checked path
    cdef cnp.ndarray g = _grad_for(name, grad, param)
    cdef cnp.ndarray m = _state(name, "exp_avg", exp_avg, param)
    cdef cnp.ndarray v = _state(name, "exp_avg_sq", exp_avg_sq, param)
    _adam_core(p, g, m, v, step, lr, beta1, beta2, eps, weight_decay, decoupled)


def _same_length(name, *lists):
    n = len(lists[0])
    for lst in lists[1:]:
        if len(lst) != n:
            raise ValueError(f"{name}: the lists differ in length ({[len(l) for l in lists]})")


def sgd_step_multi(params, grads, momentum_buffers, double lr, double momentum, double dampening,
                   double weight_decay, bint nesterov, bint first_step):
    """sgd_step on each (param, grad, buffer) of equal-length lists, in one call (one Python
    round-trip for a whole parameter group; operands that need no conversion go straight to
    the C loop).  momentum_buffers may be None when momentum == 0."""
    if momentum_buffers is None:
        momentum_buffers = [None] * len(params)
    _same_length("sgd_step_multi", params, grads, momentum_buffers)
    cdef Py_ssize_t i
    for i in range(len(params)):
        p, g, b = params[i], grads[i], momentum_buffers[i]
        if (_float_param(p) and _in_place_ok(p, p) and _grad_ok(g, p)
                and (momentum == 0 or (b is not None and _in_place_ok(b, p)))):
            _sgd_core(p, g, b if momentum != 0 else None, lr, momentum, dampening, weight_decay, nesterov, first_step)
        else:
            sgd_step(p, g, b, lr, momentum, dampening, weight_decay, nesterov, first_step)


def adam_step_multi(params, grads, exp_avgs, exp_avg_sqs, step, double lr, double beta1, double beta2, double eps,
                    double weight_decay, bint decoupled):
    """adam_step on each (param, grad, m, v) of equal-length lists, in one call; all share `step`."""
    _same_length("adam_step_multi", params, grads, exp_avgs, exp_avg_sqs)
    if not isinstance(step, (int, np.integer)) or step < 1:
        raise ValueError(f"adam_step_multi: step must be an int >= 1, got {step!r}")
    cdef Py_ssize_t i
    for i in range(len(params)):
        p, g, m, v = params[i], grads[i], exp_avgs[i], exp_avg_sqs[i]
        if _float_param(p) and _in_place_ok(p, p) and _grad_ok(g, p) and _in_place_ok(m, p) and _in_place_ok(v, p):
            _adam_core(p, g, m, v, step, lr, beta1, beta2, eps, weight_decay, decoupled)
        else:
            adam_step(p, g, m, v, step, lr, beta1, beta2, eps, weight_decay, decoupled)
