"""The NumPy reference of the optimizer updates, in place: SGD (momentum, dampening, Nesterov) and
Adam/AdamW, one parameter or a list at a time."""
import numpy as np


def sgd_step(param, grad, momentum_buffer, lr, momentum, dampening, weight_decay, nesterov, first_step):
    """PyTorch's SGD, in place:
    g <- g + wd p;  b <- g (first step) or mu b + (1 - dampening) g;
    g <- g + mu b (Nesterov) or b;  p <- p - lr g."""
    g = grad + weight_decay * param if weight_decay else grad
    if momentum:
        if first_step:
            momentum_buffer[...] = g
        else:
            momentum_buffer *= momentum
            momentum_buffer += (1 - dampening) * g
        g = g + momentum * momentum_buffer if nesterov else momentum_buffer
    param -= lr * g


def adam_step(param, grad, exp_avg, exp_avg_sq, step, lr, beta1, beta2, eps, weight_decay, decoupled):
    """Adam (decoupled=False: g <- g + wd p) or AdamW (decoupled=True: p <- p (1 - lr wd)), in place:
    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
    p <- p - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)."""
    if weight_decay and decoupled:
        param *= 1 - lr * weight_decay
    g = grad + weight_decay * param if (weight_decay and not decoupled) else grad
    exp_avg *= beta1
    exp_avg += (1 - beta1) * g
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * g * g
    bias1 = 1 - beta1**step
    bias2 = 1 - beta2**step
    denom = np.sqrt(exp_avg_sq / bias2) + eps
    param -= (lr / bias1) * exp_avg / denom


def sgd_step_multi(params, grads, momentum_buffers, lr, momentum, dampening, weight_decay, nesterov, first_step):
    """sgd_step on every (param, grad, buffer) of equal-length lists: one call per parameter group
    (the compiled backend does the loop in C-level code).  momentum_buffers may be None if momentum == 0."""
    if momentum_buffers is None:
        momentum_buffers = [None] * len(params)
    if not len(params) == len(grads) == len(momentum_buffers):
        raise ValueError("sgd_step_multi: params, grads and momentum_buffers differ in length")
    for p, g, b in zip(params, grads, momentum_buffers):
        sgd_step(p, g, b, lr, momentum, dampening, weight_decay, nesterov, first_step)


def adam_step_multi(params, grads, exp_avgs, exp_avg_sqs, step, lr, beta1, beta2, eps, weight_decay, decoupled):
    """adam_step on every (param, grad, m, v) of equal-length lists, all at the same step t."""
    if not len(params) == len(grads) == len(exp_avgs) == len(exp_avg_sqs):
        raise ValueError("adam_step_multi: params, grads, exp_avgs and exp_avg_sqs differ in length")
    for p, g, m, v in zip(params, grads, exp_avgs, exp_avg_sqs):
        adam_step(p, g, m, v, step, lr, beta1, beta2, eps, weight_decay, decoupled)
