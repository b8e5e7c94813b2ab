# optim.pxi -- included from kernels.pyx.  Fused in-place optimizer updates (optim.h).
# param and the state buffers must be C-contiguous, aligned and writeable (they are updated in
# place); grad may have any layout (non-contiguous grads are copied).

cdef extern from "optim.h" nogil:
    void sgd_step_f32(float *p, const float *g, float *b, long long n, float lr, float mu, float damp1, float wd, int nesterov, int first)
    void sgd_step_f64(double *p, const double *g, double *b, long long n, double lr, double mu, double damp1, double wd, int nesterov, int first)
    void adam_step_f32(float *p, const float *g, float *m, float *v, long long n, float decay, float wd, float b1, float omb1, float b2, float omb2, float bias2, float step_size, float eps)
    void adam_step_f64(double *p, const double *g, double *m, double *v, long long n, double decay, double wd, double b1, double omb1, double b2, double omb2, double bias2, double step_size, double eps)


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


def sgd_step(param, grad, momentum_buffer, double lr, double momentum, double dampening, double weight_decay,
             bint nesterov, bint first_step):
    """PyTorch's SGD, in place, one pass: g <- g + wd p;  b <- g (first step) or mu b + (1 - dampening) g;
    g <- g + mu b (Nesterov) or b;  p <- p - lr g.  momentum_buffer may be None when momentum == 0."""
    name = "sgd_step"
    cdef cnp.ndarray p = _state(name, "param", param, param)
    cdef cnp.ndarray g = _grad_for(name, grad, param)
    cdef cnp.ndarray b = None
    if momentum != 0:
        if momentum_buffer is None:
            raise ValueError(f"{name}: momentum={momentum} needs a momentum_buffer")
        b = _state(name, "momentum_buffer", momentum_buffer, param)
    cdef long long n = cnp.PyArray_SIZE(p)
    cdef void *pp = cnp.PyArray_DATA(p)
    cdef void *pg = cnp.PyArray_DATA(g)
    cdef void *pb = cnp.PyArray_DATA(b) if b is not None else NULL
    cdef bint single = cnp.PyArray_TYPE(p) == cnp.NPY_FLOAT32
    with nogil:
        if single:
            sgd_step_f32(<float *>pp, <const float *>pg, <float *>pb, n, <float>lr, <float>momentum,
                         <float>(1 - dampening), <float>weight_decay, nesterov, first_step)
        else:
            sgd_step_f64(<double *>pp, <const double *>pg, <double *>pb, n, lr, momentum,
                         1 - dampening, weight_decay, nesterov, first_step)


def adam_step(param, grad, exp_avg, exp_avg_sq, step, double lr, double beta1, double beta2, double eps,
              double weight_decay, bint decoupled):
    """Adam (decoupled=False: g <- g + wd p) or AdamW (decoupled=True: p <- p (1 - lr wd)), in place, one pass:
    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  p <- p - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)."""
    name = "adam_step"
    if not isinstance(step, (int, np.integer)) or step < 1:
        raise ValueError(f"{name}: step must be an int >= 1, got {step!r}")
    cdef cnp.ndarray p = _state(name, "param", param, param)
    cdef cnp.ndarray g = _grad_for(name, grad, param)
    cdef cnp.ndarray m = _state(name, "exp_avg", exp_avg, param)
    cdef cnp.ndarray v = _state(name, "exp_avg_sq", exp_avg_sq, param)
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
            adam_step_f32(<float *>pp, <const float *>pg, <float *>pm, <float *>pv, n, <float>decay, <float>wd,
                          <float>beta1, <float>(1 - beta1), <float>beta2, <float>(1 - beta2), <float>bias2,
                          <float>step_size, <float>eps)
        else:
            adam_step_f64(<double *>pp, <const double *>pg, <double *>pm, <double *>pv, n, decay, wd,
                          beta1, 1 - beta1, beta2, 1 - beta2, bias2, step_size, eps)


def _same_length(name, *lists):
    n = len(lists[0])
    for lst in lists[1:]:
        if len(lst) != n:
            raise ValueError(f"{name}: the lists differ in length ({[len(l) for l in lists]})")


def sgd_step_multi(params, grads, momentum_buffers, lr, momentum, dampening, weight_decay, nesterov, first_step):
    """sgd_step on each (param, grad, buffer) of equal-length lists, in one call (one Python
    round-trip for a whole parameter group).  momentum_buffers may be None when momentum == 0."""
    if momentum_buffers is None:
        momentum_buffers = [None] * len(params)
    _same_length("sgd_step_multi", params, grads, momentum_buffers)
    for p, g, b in zip(params, grads, momentum_buffers):
        sgd_step(p, g, b, lr, momentum, dampening, weight_decay, nesterov, first_step)


def adam_step_multi(params, grads, exp_avgs, exp_avg_sqs, step, lr, beta1, beta2, eps, weight_decay, decoupled):
    """adam_step on each (param, grad, m, v) of equal-length lists, in one call; all share `step`."""
    _same_length("adam_step_multi", params, grads, exp_avgs, exp_avg_sqs)
    for p, g, m, v in zip(params, grads, exp_avgs, exp_avg_sqs):
        adam_step(p, g, m, v, step, lr, beta1, beta2, eps, weight_decay, decoupled)
