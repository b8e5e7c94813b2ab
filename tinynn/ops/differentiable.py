"""`Differentiable`: what `backend.active` is while backward(create_graph=True) runs (see
autograd/higher.py). The backend's kernel names; called on arrays, the real backend's kernel; called
with a Tensor among the arguments, the op that records it (`multiply` is Mul, `tanh_backward` is
TanhBackward, ...). Composite kernels (linear_backward, cross_entropy_backward) are written here
from those ops, so their derivatives are the ops'. A kernel with no op here raises, naming it."""
import numpy as np

from ..autograd import higher
from ..tensor import Tensor
from .arithmetic import Add, Sub, Mul, Div, Pow, Neg
from .derivatives import TanhBackward, SigmoidBackward, ReluBackward, SoftmaxBackward, LogSoftmaxBackward
from .elementwise import Exp, Log, Sqrt, Abs, Clip, ReLU, Sigmoid, Tanh
from .matmul import MatMul
from .pairwise import Maximum, Minimum
from .reduction import Sum, Mean, Max, Min
from .shape import Reshape, Transpose, Where
from .softmax import Softmax, LogSoftmax
from .statistics import Cumsum
from .unary import UNARY
from .views import Expand


def _reduction(cls):
    return lambda x, axis=None, keepdims=False: cls.apply(x, axis=axis, keepdims=keepdims)


def _backward_kernel(cls):
    return lambda u, g, axis=None: cls.apply(u, g, axis=axis)


def linear_backward(x, weight, y, grad, activation_name="none", needs=(True, True, True)):
    """dx = d W, dW = d^T x, db = sum_n d with d = grad act'(.) (the reference kernel, in ops)."""
    derivative = {"relu": ReluBackward, "sigmoid": SigmoidBackward, "tanh": TanhBackward}.get(activation_name)
    d = grad if derivative is None else derivative.apply(y, grad)
    return (MatMul.apply(d, weight) if needs[0] else None,
            MatMul.apply(Transpose.apply(d), x) if needs[1] else None,
            Sum.apply(d, axis=0) if needs[2] else None)


def cross_entropy_backward(probs, target, label_smoothing, grad):
    """(softmax(x_n) - q_n) grad_n, q the (smoothed) one-hot target distribution (a constant)."""
    n, c = probs.shape
    q = np.full(probs.shape, label_smoothing / max(c, 1), dtype=probs.dtype)
    q[np.arange(n), np.asarray(target)] += 1 - label_smoothing
    return Mul.apply(Sub.apply(probs, q), Reshape.apply(grad, shape=(n, 1)))


OPS = {
    "add": Add.apply, "subtract": Sub.apply, "multiply": Mul.apply, "divide": Div.apply, "negative": Neg.apply,
    "power": Pow.apply, "exp": Exp.apply, "log": Log.apply, "sqrt": Sqrt.apply, "absolute": Abs.apply,
    "clip": lambda x, lo, hi: Clip.apply(x, lo=lo, hi=hi),
    "where": lambda condition, a, b: Where.apply(a, b, condition=np.asarray(condition)),
    "maximum": Maximum.apply, "minimum": Minimum.apply,
    "relu": ReLU.apply, "sigmoid": Sigmoid.apply, "tanh": Tanh.apply,
    "relu_backward": ReluBackward.apply, "sigmoid_backward": SigmoidBackward.apply,
    "tanh_backward": TanhBackward.apply,
    "sum": _reduction(Sum), "mean": _reduction(Mean), "amax": _reduction(Max), "amin": _reduction(Min),
    "broadcast_to": lambda x, shape: Expand.apply(x, shape=tuple(shape)),
    "cumsum": lambda x, axis: Cumsum.apply(x, axis=axis),
    "softmax": lambda x, axis=-1: Softmax.apply(x, axis=axis),
    "log_softmax": lambda x, axis=-1: LogSoftmax.apply(x, axis=axis),
    "softmax_backward": _backward_kernel(SoftmaxBackward), "log_softmax_backward": _backward_kernel(LogSoftmaxBackward),
    "matmul": MatMul.apply, "linear_backward": linear_backward, "cross_entropy_backward": cross_entropy_backward,
    **{cls.kernel: cls.apply for cls in UNARY.values()},
}


class Differentiable:
    """backend.active during a create_graph walk: kernel `name` on arrays is `real.name`; with a
    Tensor argument it is OPS[name], recorded."""

    def __init__(self, real):
        self.real = real

    def __getattr__(self, name):
        kernel, op = getattr(self.real, name), OPS.get(name)

        def call(*args, **kwargs):
            for a in args:
                if isinstance(a, Tensor):
                    if op is None:
                        raise NotImplementedError(f"backward(create_graph=True): the kernel {name} has no "
                                                  "differentiable version (tinynn/ops/differentiable.py)")
                    return op(*args, **kwargs)
            return kernel(*args, **kwargs)
        call.__name__ = name
        self.__dict__[name] = call  # looked up once per walk
        return call


higher.namespace = Differentiable
