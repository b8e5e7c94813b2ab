"""Layer normalization (Ba, Kiros and Hinton, 2016) over the trailing dims of its input."""
import math

from ..autograd.function import Function
from .. import backend


class LayerNorm(Function):
    """y = (x - mu) / sqrt(sigma^2 + eps) w + b, mu and sigma^2 (biased) over the last
    len(normalized_shape) dims of x; w and b of shape normalized_shape, each optional (`affine`
    says which of them follow x among the inputs). With xhat = (x - mu) r, r = 1 / sqrt(sigma^2 + eps),
    per group of N elements: dL/dx = r (g w - mean(g w) - xhat mean(g w xhat)),
    dL/dw = sum g xhat, dL/db = sum g."""

    __slots__ = ('x', 'weight', 'mean', 'rstd', 'eps', 'shape', 'normalized_shape', 'affine')
    promotes = "common"
    exact_gradients = True
    differentiable = True  # create_graph: layer_norm_backward is a composite of ops (ops/differentiable.py)

    def forward(self, x, *params, normalized_shape=(), eps=1e-5, affine=(False, False)):
        normalized_shape = tuple(normalized_shape)
        k = len(normalized_shape)
        if x.ndim < k or x.shape[x.ndim - k:] != normalized_shape:
            raise ValueError(f"layer_norm: input of shape {x.shape} does not end in normalized_shape {normalized_shape}")
        for p in params:
            if p.shape != normalized_shape:
                raise ValueError(f"layer_norm: weight or bias of shape {p.shape} differs from normalized_shape "
                                 f"{normalized_shape}")
        n = math.prod(normalized_shape)
        it = iter(p.reshape(n) for p in params)
        weight = next(it) if affine[0] else None
        bias = next(it) if affine[1] else None
        self.shape, self.normalized_shape, self.affine = x.shape, normalized_shape, affine
        self.x, self.weight, self.eps = x.reshape(-1, n), weight, eps
        y, self.mean, self.rstd = backend.active.layer_norm(self.x, weight, bias, eps)
        return y.reshape(x.shape)

    def recompute(self, name, inputs):
        """x as rows (M, N) and w flat (saved as copies when the input was not contiguous), mu and
        r = 1 / sqrt(sigma^2 + eps) per row, as Tensors of the inputs (create_graph)."""
        x = inputs[0].reshape(self.x.shape)
        if name == "x":
            return x
        if name == "weight":
            return inputs[1].flatten()
        if name == "mean":
            return x.mean(1)
        centred = x - x.mean(1, keepdim=True)
        return 1.0 / ((centred * centred).mean(1) + self.eps).sqrt()  # "rstd"

    def backward(self, g):
        needs = list(self.needs_grad[1:])
        wanted = [needs.pop(0) if present else False for present in self.affine]
        dx, dw, db = backend.active.layer_norm_backward(
            self.x, self.weight, self.mean, self.rstd, g.reshape(self.x.shape), (self.needs_grad[0], *wanted))
        grads = [None if dx is None else dx.reshape(self.shape)]
        for present, grad in zip(self.affine, (dw, db)):
            if present:
                grads.append(None if grad is None else grad.reshape(self.normalized_shape))
        return tuple(grads)
