"""Resampling along one axis, the step F.interpolate takes once per spatial axis (nearest, linear):
the source indices and weights come from nn/upsample.py (PyTorch's formulas, written out there)."""
import numpy as np

from ..autograd.function import Function
from .. import backend
from ..tensor import Tensor
from .derivatives import IndexAdd


def scatter(g, axis, index, shape):
    """zeros(shape) with g's slices along `axis` added at `index` (non-decreasing): take's adjoint.
    Pass k adds the k-th member of every run of equal indices, so no pass writes a place twice."""
    where = (slice(None),) * axis
    if isinstance(g, Tensor):  # create_graph: recorded
        return IndexAdd.apply(g, shape=shape, index=where + (index,))
    out = np.zeros(shape, dtype=g.dtype)
    rank = np.arange(len(index)) - np.searchsorted(index, index)  # place within its run
    for k in range(int(rank.max(initial=-1)) + 1):
        picked = np.flatnonzero(rank == k)
        target = where + (index[picked],)
        out[target] = backend.active.add(out[target], np.take(g, picked, axis=axis))
    return out


class Resample(Function):
    """y = take(x, i0, axis) (nearest) or y = take(x, i0, axis) w0 + take(x, i1, axis) w1 (linear), the weights
    along `axis`;  dL/dx = scatter(g, i0) or scatter(g w0, i0) + scatter(g w1, i1) (sums over repeated indices)."""

    __slots__ = ("shape", "axis", "index", "weights")
    exact_gradients = True
    differentiable = True  # backward: backend.active kernels and IndexAdd under create_graph

    def forward(self, x, axis, index, weights=None):
        self.shape, self.axis, self.index = x.shape, axis, index
        if weights is None:
            self.weights = None
            return np.take(x, index[0], axis=axis)
        self.weights = tuple(w.reshape((-1,) + (1,) * (x.ndim - 1 - axis)) for w in weights)
        B = backend.active
        return B.add(B.multiply(np.take(x, index[0], axis=axis), self.weights[0]),
                     B.multiply(np.take(x, index[1], axis=axis), self.weights[1]))

    def backward(self, g):
        if self.weights is None:
            return scatter(g, self.axis, self.index[0], self.shape)
        B = backend.active
        return B.add(scatter(B.multiply(g, self.weights[0]), self.axis, self.index[0], self.shape),
                     scatter(B.multiply(g, self.weights[1]), self.axis, self.index[1], self.shape))
