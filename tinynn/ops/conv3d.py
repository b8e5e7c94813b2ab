"""vol2col and col2vol as ops, each the other's adjoint (<vol2col(x), y> = <x, col2vol(y)>), so each
one's gradient is the other, to any order. The 3-D convolutions and pools of nn/conv3d.py and
nn/pooling3d.py are these two and matmul. Geometry ((kD, kH, kW), dilation, ((before, after),) * 3,
stride) checked there."""
from ..autograd.function import Function
from .. import backend
from ..tensor import Tensor


class Vol2col(Function):
    """y[n, (c, t, u, v), (i, j, l)] = x_pad[n, c, s_D i + d_D t, s_H j + d_H u, s_W l + d_W v];  dL/dx = col2vol(g)."""

    __slots__ = ("size", "geometry")
    exact_gradients = True
    differentiable = True  # backward: col2vol, or the Col2vol op under create_graph

    def forward(self, x, geometry):
        self.size, self.geometry = x.shape[2:], geometry
        return backend.active.vol2col(x, *geometry)

    def backward(self, g):
        if isinstance(g, Tensor):
            return Col2vol.apply(g, size=self.size, geometry=self.geometry)
        return backend.active.col2vol(g, self.size, *self.geometry)


class Col2vol(Function):
    """y = zeros (N, C, D, H, W) with y_pad[n, c, s_D i + d_D t, s_H j + d_H u, s_W l + d_W v] += x[n, (c, t, u, v),
    (i, j, l)];  dL/dx = vol2col(g)."""

    __slots__ = ("geometry",)
    exact_gradients = True
    differentiable = True  # backward: vol2col, or the Vol2col op under create_graph

    def forward(self, x, size, geometry):
        self.geometry = geometry
        return backend.active.col2vol(x, tuple(size), *geometry)

    def backward(self, g):
        if isinstance(g, Tensor):
            return Vol2col.apply(g, geometry=self.geometry)
        return backend.active.vol2col(g, *self.geometry)
