"""softmax and log_softmax along an axis, shifted by the maximum so large logits stay finite."""
from ..autograd.function import Function
from .. import backend
from .arguments import check_axis


class Softmax(Function):
    """y_i = e^(x_i) / sum_j e^(x_j);  dL/dx = y (g - sum_j g_j y_j)."""

    __slots__ = ('axis', 'y')
    exact_gradients = True
    differentiable = True
    outputs = ('y',)

    def forward(self, x, axis=-1):
        check_axis("Softmax", axis, x.ndim)
        self.axis = axis
        self.y = backend.active.softmax(x, axis=axis)
        return self.y

    def backward(self, g):
        return backend.active.softmax_backward(self.y, g, axis=self.axis)


class LogSoftmax(Function):
    """y_i = x_i - log sum_j e^(x_j);  dL/dx = g - softmax(x) sum_j g_j."""

    __slots__ = ('axis', 'y')
    exact_gradients = True
    differentiable = True
    outputs = ('y',)

    def forward(self, x, axis=-1):
        check_axis("LogSoftmax", axis, x.ndim)
        self.axis = axis
        self.y = backend.active.log_softmax(x, axis=axis)
        return self.y

    def backward(self, g):
        return backend.active.log_softmax_backward(self.y, g, axis=self.axis)
