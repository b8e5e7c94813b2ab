"""F.unfold (im2col) and F.fold (col2im) as ops, each the other's adjoint: <unfold(x), y> = <x, fold(y)>,
so each one's gradient is the other. Geometry ((kh, kw), dilation, padding, stride) checked by nn/fold.py."""
from ..autograd.function import Function
from .. import backend
from ..tensor import Tensor


class Unfold(Function):
    """y[n, (c, u, v), (i, j)] = x_pad[n, c, s_h i + d_h u, s_w j + d_w v];  dL/dx = fold(g)."""

    __slots__ = ("size", "geometry")
    exact_gradients = True
    differentiable = True  # backward: col2im, or the Fold op under create_graph

    def forward(self, x, geometry):
        self.size, self.geometry = x.shape[2:], geometry
        return backend.active.im2col(x, *geometry)

    def backward(self, g):
        if isinstance(g, Tensor):
            return Fold.apply(g, size=self.size, geometry=self.geometry)
        return backend.active.col2im(g, self.size, *self.geometry)


class Fold(Function):
    """y = zeros (N, C, H, W) with y_pad[n, c, s_h i + d_h u, s_w j + d_w v] += x[n, (c, u, v), (i, j)];
    dL/dx = unfold(g)."""

    __slots__ = ("geometry",)
    exact_gradients = True
    differentiable = True  # backward: im2col, or the Unfold op under create_graph

    def forward(self, x, size, geometry):
        self.geometry = geometry
        return backend.active.col2im(x, size, *geometry)

    def backward(self, g):
        if isinstance(g, Tensor):
            return Unfold.apply(g, geometry=self.geometry)
        return backend.active.im2col(g, *self.geometry)
