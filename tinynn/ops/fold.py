"""F.unfold (im2col) and F.fold (col2im) as ops, each the other's adjoint: <unfold(x), y> = <x, fold(y)>,
so each one's gradient is the other. Geometry ((kh, kw), dilation, padding, stride) checked by nn/fold.py.
The 3-D pair (ops/conv3d.py) is the same two ops on the backend's vol2col and col2vol."""
from ..autograd.function import Function
from .. import backend
from ..tensor import Tensor


class Unfold(Function):
    """y[n, (c, u, v), (i, j)] = x_pad[n, c, s_h i + d_h u, s_w j + d_w v];  dL/dx = fold(g)."""

    __slots__ = ("size", "geometry")
    exact_gradients = True
    differentiable = True  # backward: col2im, or the Fold op under create_graph
    gather, scatter = "im2col", "col2im"  # the backend's kernels: this op's, its adjoint's

    def forward(self, x, geometry):
        self.size, self.geometry = x.shape[2:], geometry
        return getattr(backend.active, self.gather)(x, *geometry)

    def backward(self, g):
        if isinstance(g, Tensor):
            return self.adjoint.apply(g, size=self.size, geometry=self.geometry)
        return getattr(backend.active, self.scatter)(g, self.size, *self.geometry)


class Fold(Function):
    """y = zeros (N, C, H, W) with y_pad[n, c, s_h i + d_h u, s_w j + d_w v] += x[n, (c, u, v), (i, j)];
    dL/dx = unfold(g)."""

    __slots__ = ("geometry",)
    exact_gradients = True
    differentiable = True  # backward: im2col, or the Unfold op under create_graph
    gather, scatter = Unfold.gather, Unfold.scatter

    def forward(self, x, size, geometry):
        self.geometry = geometry
        return getattr(backend.active, self.scatter)(x, tuple(size), *geometry)

    def backward(self, g):
        if isinstance(g, Tensor):
            return self.adjoint.apply(g, geometry=self.geometry)
        return getattr(backend.active, self.gather)(g, *self.geometry)


Unfold.adjoint, Fold.adjoint = Fold, Unfold
