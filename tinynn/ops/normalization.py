"""Batch normalization over (N, C, *) inputs, one node per call: with the batch's statistics
(training mode, BatchNorm) or with fixed ones (eval mode, BatchNormEval: an affine map per channel)."""
import math

from ..autograd.function import Function
from .. import backend


class BatchNorm(Function):
    """y = (x - mu_c) / sqrt(var_c + eps) gamma_c + beta_c, mu_c and var_c (biased) over the N L values
    of channel c of x (N, C, L...); gamma and beta optional.  With xhat = (x - mu) r, r = 1 / sqrt(var + eps),
    M = N L:  dL/dx = gamma r (g - sum(g) / M - xhat sum(g xhat) / M), dL/dgamma = sum g xhat, dL/dbeta = sum g."""

    __slots__ = ("x", "weight", "mean", "var", "eps", "shape")
    exact_gradients = True
    differentiable = True  # create_graph: batch_norm_backward is a composite of ops (ops/differentiable_conv.py)

    def forward(self, x, weight=None, bias=None, eps=1e-5, stats_out=None):
        if x.ndim < 2:
            raise ValueError(f"BatchNorm: expected an input (N, C, ...), got shape {x.shape}")
        c = x.shape[1]
        for what, p in (("weight", weight), ("bias", bias)):
            if p is not None and p.shape != (c,):
                raise ValueError(f"BatchNorm: {what} of shape {p.shape} does not match the input's {c} channels "
                                 f"(input shape {x.shape})")
        if x.dtype.kind != "f" or any(p is not None and p.dtype != x.dtype for p in (weight, bias)):
            raise TypeError(f"BatchNorm: input, weight and bias must share one float dtype, got {x.dtype}")
        self.shape = x.shape
        x3 = x.reshape(x.shape[0], c, -1)
        y, self.mean, self.var = backend.active.batch_norm(x3, weight, bias, eps)
        self.x, self.weight, self.eps = x3, weight, eps
        if stats_out is not None:  # F.batch_norm updates the running statistics from these
            stats_out.append((self.mean, self.var))
        return y.reshape(self.shape)

    def recompute(self, name, inputs):
        """x as (N, C, L), its per-channel mean and biased variance, as Tensors of the input (create_graph).
        The derived arrays BatchNorm saves are x's (N, C, L) view, mean and var (weight is an input's own
        array), so a name that is neither "x" nor "mean" is "var"."""
        x = inputs[0].reshape(self.x.shape)
        if name == "x":
            return x
        mean = x.mean((0, 2))
        if name == "mean":
            return mean
        centred = x - mean.reshape(1, -1, 1)
        return (centred * centred).mean((0, 2))

    def backward(self, g):
        needs = self.needs_grad
        gx, gw, gb = backend.active.batch_norm_backward(
            g.reshape(self.x.shape), self.x, self.mean, self.var, self.weight, self.eps,
            (needs[0], len(needs) > 1 and needs[1], len(needs) > 2 and needs[2]))
        return (None if gx is None else gx.reshape(self.shape), gw, gb)[:len(needs)]


def _check_channels(x, vectors):
    """A float x (N, C, ...) and each given (C,) vector of {name: vector or None}."""
    if x.dtype.kind != "f":
        raise TypeError(f"BatchNorm: expected a float input, got {x.dtype}")
    for name, v in vectors.items():
        if v is not None and v.shape != (x.shape[1],):
            raise ValueError(f"BatchNorm: {name} of shape {v.shape} does not match the input's {x.shape[1]} channels "
                             f"(input shape {x.shape})")


class BatchNormEval(Function):
    """y = x s_c + t_c with s = gamma / sqrt(var + eps) and t = beta - mu s: batch norm with fixed
    statistics mu (running_mean) and var (running_var) over x (N, C, L...).  Inputs x, mu, var and,
    when given, gamma then beta.  With r = 1 / sqrt(var + eps) and D = sum g (x - mu) over the N L
    values of a channel: dL/dx = g s,  dL/dgamma = r D,  dL/dbeta = sum g,  dL/dmu = -s sum g,
    dL/dvar = -s r^2 D / 2."""

    __slots__ = ("x", "mean", "var", "weight", "eps", "shape")
    exact_gradients = True
    promotes = "common"
    differentiable = True  # backward is Tensor-compatible arithmetic on the inputs

    def forward(self, x, mean, var, weight=None, bias=None, eps=1e-5):
        if x.ndim < 2:
            raise ValueError(f"BatchNorm: expected an input (N, C, ...), got shape {x.shape}")
        _check_channels(x, {"running_mean": mean, "running_var": var, "weight": weight, "bias": bias})
        self.shape = x.shape
        x3 = x.reshape(x.shape[0], x.shape[1], math.prod(x.shape[2:]))  # (-1 is ambiguous for an empty batch)
        self.x, self.mean, self.var, self.weight, self.eps = x3, mean, var, weight, eps
        return backend.active.batch_norm_eval(x3, mean, var, weight, bias, eps).reshape(self.shape)

    def recompute(self, name, inputs):
        """x as (N, C, L) (the only array BatchNormEval derives), for create_graph."""
        return inputs[0].reshape(self.x.shape)

    def backward(self, g):
        x_, mean_, var_, weight_, bias_ = self.needs_grad + (False,) * (5 - len(self.needs_grad))
        g = g.reshape(self.x.shape)
        r = (self.var + self.eps) ** -0.5
        s = r if self.weight is None else r * self.weight
        sum_g = g.sum((0, 2)) if mean_ or bias_ else None
        d = (g * (self.x - self.mean.reshape(1, -1, 1))).sum((0, 2)) if var_ or weight_ else None
        grads = ((g * s.reshape(1, -1, 1)).reshape(self.shape) if x_ else None,
                 -s * sum_g if mean_ else None,
                 -0.5 * s * r * r * d if var_ else None,
                 r * d if weight_ else None,
                 sum_g if bias_ else None)
        return grads[:len(self.needs_grad)]
