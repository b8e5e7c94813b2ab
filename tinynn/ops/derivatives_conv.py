"""The convolution family's backward kernels as ops, so that a gradient computed under create_graph
is itself in the graph (see derivatives.py for the elementwise ones).

Each of these kernels is linear in the incoming gradient g, so its own backward is the adjoint
map: for z = K(g), dL/dg = K^T(gz), and K^T is the forward kernel the op came from.
  conv2d_backward_input(g, W)  = A_W^T g, with A_W x = conv2d(x, W):  <gz, A_W^T g> = <conv2d(gz, W), g>
  conv2d_backward_weight(g, x) = B_x^T g, with B_x W = conv2d(x, W):  <gz, B_x^T g> = <conv2d(x, gz), g>
so each convolution's backward is made of the other two kernels (any order works), and pooling's
and padding's backward kernels have the pooling and the padding (with zeros) as their derivative.
Every backward here calls only `backend.active` kernels and Tensor-compatible indexing."""
import numpy as np

from ..autograd.function import Function
from .. import backend


class _ConvKernel(Function):
    """z = kernel(g, a, shape, *geometry) for a convolution backward kernel, bilinear in g and a."""

    __slots__ = ("g", "a", "geometry")
    differentiable = True
    exact_gradients = True
    kernel = None

    def forward(self, g, a, shape, geometry):
        self.g, self.a, self.geometry = g, a, geometry
        return getattr(backend.active, self.kernel)(g, a, tuple(shape), *geometry)


class Conv2dBackwardInput(_ConvKernel):
    """z = conv2d_backward_input(g, W) (the transposed convolution), a = W;
    dL/dg = conv2d(gz, W),  dL/dW = conv2d_backward_weight(g, gz)."""

    __slots__ = ()
    kernel = "conv2d_backward_input"

    def backward(self, gz):
        B, needs, weight = backend.active, self.needs_grad, self.a
        gg = B.conv2d(gz, weight, None, *self.geometry) if needs[0] else None
        gw = B.conv2d_backward_weight(self.g, gz, weight.shape, *self.geometry) if needs[1] else None
        return gg, gw


class Conv2dBackwardWeight(_ConvKernel):
    """z = conv2d_backward_weight(g, x) (x correlated with g), a = x;
    dL/dg = conv2d(x, gz),  dL/dx = conv2d_backward_input(g, gz)."""

    __slots__ = ()
    kernel = "conv2d_backward_weight"

    def backward(self, gz):
        B, needs, x = backend.active, self.needs_grad, self.a
        gg = B.conv2d(x, gz, None, *self.geometry) if needs[0] else None
        gx = B.conv2d_backward_input(self.g, gz, x.shape, *self.geometry) if needs[1] else None
        return gg, gx


class MaxPool2dBackward(Function):
    """z = max_pool2d_backward(g): g[n, c, i, j] added at x's element idx[n, c, i, j];
    dL/dg[n, c, i, j] = gz[n, c, idx[n, c, i, j]] (the gather at the same indices; 0 for a window of
    padding only, whose index lies outside x)."""

    __slots__ = ("indices", "shape", "rows", "inside")
    differentiable = True
    exact_gradients = True

    def forward(self, g, indices, shape):
        self.indices, self.shape = indices, tuple(shape)
        n, c, h, w = self.shape
        self.inside = (indices >= 0) & (indices < h * w)
        self.rows = np.arange(n * c).reshape(n, c, 1, 1)
        return backend.active.max_pool2d_backward(g, indices, self.shape)

    def backward(self, gz):
        n, c, h, w = self.shape
        picked = gz.reshape(n * c, h * w)[self.rows, np.where(self.inside, self.indices, 0)]
        return picked if self.inside.all() else picked * self.inside.astype(picked.dtype)


class AvgPool2dBackward(Function):
    """z = avg_pool2d_backward(g): g[n, c, i, j] / D_ij spread over window (i, j);
    dL/dg = avg_pool2d(gz) (the same windows and divisors)."""

    __slots__ = ("args",)
    differentiable = True
    exact_gradients = True

    def forward(self, g, shape, args):
        self.args = args
        return backend.active.avg_pool2d_backward(g, tuple(shape), *args)

    def backward(self, gz):
        return backend.active.avg_pool2d(gz, *self.args)


class AdaptiveAvgPool2dBackward(Function):
    """z = adaptive_avg_pool2d_backward(g): g[n, c, i, j] spread evenly over window (i, j);
    dL/dg = adaptive_avg_pool2d(gz) (the mean over each window)."""

    __slots__ = ("size",)
    differentiable = True
    exact_gradients = True

    def forward(self, g, shape):
        self.size = g.shape[2:]
        return backend.active.adaptive_avg_pool2d_backward(g, tuple(shape))

    def backward(self, gz):
        return backend.active.adaptive_avg_pool2d(gz, self.size)


class PadBackward(Function):
    """z = pad_backward(g): z[i] = sum of g over the padded positions that copy x[i];
    dL/dg = pad(gz) with zeros as the fill value (each padded position reads the gz of its source)."""

    __slots__ = ("width", "mode")
    differentiable = True
    exact_gradients = True

    def forward(self, g, width, mode, shape):
        self.width, self.mode = width, mode
        return backend.active.pad_backward(g, width, mode, tuple(shape))

    def backward(self, gz):
        return backend.active.pad(gz, self.width, self.mode, 0.0)
