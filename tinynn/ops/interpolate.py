"""Resampling along one axis, the step F.interpolate takes once per spatial axis (nearest, linear, cubic):
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
    """y = take(x, i0, axis) (nearest) or y = sum_k take(x, i_k, axis) w_k (2 taps linear, 4 cubic), the weights
    along `axis`;  dL/dx = scatter(g, i0) or sum_k scatter(g w_k, i_k) (sums over repeated indices)."""

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
        y = B.multiply(np.take(x, index[0], axis=axis), self.weights[0])
        for i, w in zip(index[1:], self.weights[1:]):
            y = B.add(y, B.multiply(np.take(x, i, axis=axis), w))
        return y

    def backward(self, g):
        if self.weights is None:
            return scatter(g, self.axis, self.index[0], self.shape)
        B = backend.active
        gx = scatter(B.multiply(g, self.weights[0]), self.axis, self.index[0], self.shape)
        for i, w in zip(self.index[1:], self.weights[1:]):
            gx = B.add(gx, scatter(B.multiply(g, w), self.axis, i, self.shape))
        return gx
