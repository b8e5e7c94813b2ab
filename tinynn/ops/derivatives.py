"""The backward kernels as ops, so that a gradient computed under create_graph is itself in the
graph: tanh_backward(y, g) = g (1 - y^2) is an op with inputs y and g, and its own derivative,
written like every backward through `backend.active` (so it runs again on Tensors: any order)."""
import numpy as np

from ..autograd.function import Function
from .. import backend
from ..tensor import Tensor


class _KernelOp(Function):
    """z = kernel(u, g) for a backward kernel of the backend, linear in g."""

    __slots__ = ('u', 'g', 'axis')
    differentiable = True
    kernel = None

    def forward(self, u, g, axis=None):
        self.u, self.g, self.axis = u, g, axis
        kernel = getattr(backend.active, self.kernel)
        return kernel(u, g) if axis is None else kernel(u, g, axis=axis)


class TanhBackward(_KernelOp):
    """z = g (1 - y^2);  dz/dy = -2 g y, dz/dg = 1 - y^2."""

    __slots__ = ()
    kernel = "tanh_backward"

    def backward(self, gz):
        B, y, g = backend.active, self.u, self.g
        gy = B.multiply(B.multiply(gz, g), B.multiply(y, -2.0)) if self.needs_grad[0] else None
        return gy, (B.tanh_backward(y, gz) if self.needs_grad[1] else None)


class SigmoidBackward(_KernelOp):
    """z = g y (1 - y);  dz/dy = g (1 - 2 y), dz/dg = y (1 - y)."""

    __slots__ = ()
    kernel = "sigmoid_backward"

    def backward(self, gz):
        B, y, g = backend.active, self.u, self.g
        gy = B.multiply(B.multiply(gz, g), B.subtract(1.0, B.multiply(y, 2.0))) if self.needs_grad[0] else None
        return gy, (B.sigmoid_backward(y, gz) if self.needs_grad[1] else None)


class ReluBackward(_KernelOp):
    """z = g where x > 0, else 0;  dz/dx = 0 (almost everywhere), dz/dg = [x > 0]."""

    __slots__ = ()
    constants = ('u',)
    kernel = "relu_backward"

    def backward(self, gz):
        return None, (backend.active.relu_backward(self.u, gz) if self.needs_grad[1] else None)


class SoftmaxBackward(_KernelOp):
    """z = y (g - s), s = sum_j g_j y_j along the axis;  dL/dg = softmax_backward(y, gz) (the
    Jacobian diag(y) - y y^T is symmetric), dL/dy = gz (g - s) - g sum_j gz_j y_j."""

    __slots__ = ()
    kernel = "softmax_backward"

    def backward(self, gz):
        B, y, g, axis = backend.active, self.u, self.g, self.axis
        gy = None
        if self.needs_grad[0]:
            s = B.sum(B.multiply(g, y), axis=axis, keepdims=True)
            t = B.sum(B.multiply(gz, y), axis=axis, keepdims=True)
            gy = B.subtract(B.multiply(gz, B.subtract(g, s)), B.multiply(g, t))
        return gy, (B.softmax_backward(y, gz, axis=axis) if self.needs_grad[1] else None)


class LogSoftmaxBackward(_KernelOp):
    """z = g - e^y sum_j g_j along the axis;  dL/dg = gz - sum_j gz_j e^(y_j),
    dL/dy = -gz e^y sum_j g_j."""

    __slots__ = ()
    kernel = "log_softmax_backward"

    def backward(self, gz):
        B, y, g, axis = backend.active, self.u, self.g, self.axis
        p = B.exp(y)
        gy = B.negative(B.multiply(B.multiply(gz, p), B.sum(g, axis=axis, keepdims=True))) if self.needs_grad[0] else None
        gg = B.subtract(gz, B.sum(B.multiply(gz, p), axis=axis, keepdims=True)) if self.needs_grad[1] else None
        return gy, gg


def index_add(shape, index, g):
    """zeros(shape) with g added at x[index] (repeated indices accumulate): GetItem's backward."""
    grad = np.zeros(shape, dtype=g.dtype)
    parts = index if isinstance(index, tuple) else (index,)
    if any(isinstance(p, np.ndarray) for p in parts):
        np.add.at(grad, index, g)
    else:
        grad[index] = g
    return grad


class IndexAdd(Function):
    """z = zeros(shape) with g added at [index];  dL/dg = gz[index]."""

    __slots__ = ('index',)
    differentiable = True
    exact_gradients = True

    def forward(self, g, shape, index):
        self.index = index
        return index_add(shape, index, g)

    def backward(self, gz):
        return gz[self.index]


def astype(g, dtype):
    """g cast to dtype (g itself when it has it), an array or (under create_graph) a Tensor, recorded."""
    if isinstance(g, Tensor):
        return g.astype(dtype)
    return g.astype(dtype, copy=False)  # an array or a NumPy scalar


def permute(g, axes):
    """g with its axes permuted (NumPy's transpose), an array or a Tensor."""
    return g.permute(*axes) if isinstance(g, Tensor) else g.transpose(axes)
