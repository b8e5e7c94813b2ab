"""`Differentiable`: what `backend.active` is while backward(create_graph=True) runs (see
autograd/higher.py). The backend's kernel names; called on arrays, the real backend's kernel; called
with a Tensor among the arguments, the op that records it (`multiply` is Mul, `tanh_backward` is
TanhBackward, ...). Composite kernels (linear_backward, cross_entropy_backward) are written here
from those ops, so their derivatives are the ops'. A kernel with no op here raises, naming it."""
import math

import numpy as np

from ..autograd import higher
from ..tensor import Tensor
from .arithmetic import Add, Sub, Mul, Div, Pow, Neg
from .array_or_tensor import constant, values
from .derivatives import IndexAdd, TanhBackward, SigmoidBackward, ReluBackward, SoftmaxBackward, LogSoftmaxBackward
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


def binary_cross_entropy_backward(p, t, grad):
    """(grad (p - t) / max(p (1 - p), 1e-12), grad (max(ln(1 - p), -100) - max(ln p, -100)))."""
    one_minus = Sub.apply(1.0, p)
    gp = Mul.apply(grad, Div.apply(Sub.apply(p, t), Clip.apply(Mul.apply(p, one_minus), lo=1e-12)))
    gt = Mul.apply(grad, Sub.apply(Clip.apply(Log.apply(one_minus), lo=-100.0), Clip.apply(Log.apply(p), lo=-100.0)))
    return gp, gt


def binary_cross_entropy_with_logits_backward(x, t, grad):
    """(grad (sigmoid(x) - t), -grad x)."""
    return Mul.apply(grad, Sub.apply(Sigmoid.apply(x), t)), Neg.apply(Mul.apply(grad, x))


# ---- the sequence kernels (reference_attention.py), composed of recorded ops: their derivatives are the ops'
def gelu_backward(x, grad, approximate="none"):
    """grad (Phi(x) + x phi(x)) (exact), or grad (0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 c x^2)),
    t = tanh(sqrt(2/pi) (x + c x^3)), c = 0.044715 (the tanh form)."""
    x, grad = constant(x), constant(grad)
    if approximate == "tanh":
        k, c = math.sqrt(2.0 / math.pi), 0.044715
        t = ((x + x * x * x * c) * k).tanh()
        d = (t + 1.0) * 0.5 + x * (1.0 - t * t) * ((x * x * (3.0 * c) + 1.0) * (0.5 * k))
    else:
        density = (x * x * -0.5).exp() * (1.0 / math.sqrt(2.0 * math.pi))
        d = ((x * (1.0 / math.sqrt(2.0))).erf() + 1.0) * 0.5 + x * density
    return grad * d


def layer_norm_backward(x, weight, mean, rstd, grad, needs=(True, True, True)):
    """dx = r (dxhat - mean_j dxhat_j - xhat mean_j (dxhat_j xhat_j)), dxhat = g w, xhat = (x - mu) r;
    dw = sum_rows g xhat;  db = sum_rows g (per row of x (M, N))."""
    x, weight, mean, rstd, grad = map(constant, (x, weight, mean, rstd, grad))
    r = rstd.unsqueeze(1)
    xhat = (x - mean.unsqueeze(1)) * r
    dxhat = grad if weight is None else grad * weight
    dx = r * (dxhat - dxhat.mean(1, keepdim=True) - xhat * (dxhat * xhat).mean(1, keepdim=True)) if needs[0] else None
    return dx, ((grad * xhat).sum(0) if needs[1] else None), (grad.sum(0) if needs[2] else None)


def embedding_backward(indices, grad, num_embeddings, padding_idx=None):
    """dW[i] = sum of grad[n] over the positions n with indices[n] = i, row padding_idx zero."""
    dim = grad.shape[-1]
    dw = IndexAdd.apply(constant(grad).reshape(-1, dim), shape=(num_embeddings, dim), index=np.asarray(indices).reshape(-1))
    if padding_idx is None:
        return dw
    keep = np.ones((num_embeddings, 1), dtype=dw.dtype)
    keep[padding_idx] = 0
    return dw * keep


def attention_backward(query, key, value, probs, grad, scale=1.0, dropout_mask=None, needs=(True, True, True)):
    """dV = D(P)^T G;  dP = D(G V^T);  dZ = P (dP - sum_j dP_j P_j);  dQ = scale dZ K;  dK = scale dZ^T Q."""
    q, k, v, p, g = map(constant, (query, key, value, probs, grad))
    weights = p if dropout_mask is None else p * dropout_mask
    dv = weights.transpose(-1, -2) @ g if needs[2] else None
    dp = g @ v.transpose(-1, -2)
    if dropout_mask is not None:
        dp = dp * dropout_mask
    dz = p * (dp - (dp * p).sum(-1, keepdim=True))
    dq = (dz @ k) * scale if needs[0] else None
    dk = (dz.transpose(-1, -2) @ q) * scale if needs[1] else None
    return dq, dk, dv, dz


def _mask(x, condition):
    """condition(values of x) as a 0/1 constant of x's dtype: the kinks' piecewise-constant factors."""
    return condition(values(x)).astype(values(x).dtype)


def leaky_relu_backward(x, grad, negative_slope):
    """grad (1 for x > 0, negative_slope for x <= 0)."""
    positive = _mask(x, lambda a: a > 0)
    return constant(grad) * (positive + (1.0 - positive) * negative_slope)


def silu_backward(x, grad):
    """grad s (1 + x (1 - s)), s = sigmoid(x)."""
    x = constant(x)
    s = x.sigmoid()
    return constant(grad) * (s * (x * (1.0 - s) + 1.0))


def elu_backward(x, grad, alpha):
    """grad (1 for x > 0, alpha e^x for x <= 0)."""
    x, positive = constant(x), _mask(x, lambda a: a > 0)
    return constant(grad) * ((x.clamp(max=0.0).exp() * alpha) * (1.0 - positive) + positive)


def softplus_backward(x, grad, beta, threshold):
    """grad (sigmoid(beta x), and 1 where beta x > threshold)."""
    x, linear = constant(x), _mask(x, lambda a: a * beta > threshold)
    return constant(grad) * ((x * beta).sigmoid() * (1.0 - linear) + linear)


def hardtanh_backward(x, grad, min_val, max_val):
    """grad (1 for min_val < x < max_val, else 0)."""
    return constant(grad) * _mask(x, lambda a: (a > min_val) & (a < max_val))


SEQUENCE = {"gelu_backward": gelu_backward, "layer_norm_backward": layer_norm_backward,
            "embedding_backward": embedding_backward, "attention_backward": attention_backward,
            "leaky_relu_backward": leaky_relu_backward, "silu_backward": silu_backward, "elu_backward": elu_backward,
            "softplus_backward": softplus_backward, "hardtanh_backward": hardtanh_backward}


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
    "binary_cross_entropy_backward": binary_cross_entropy_backward,
    "binary_cross_entropy_with_logits_backward": binary_cross_entropy_with_logits_backward,
    **{cls.kernel: cls.apply for cls in UNARY.values()}, **SEQUENCE,
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
from .differentiable_recurrent import RECURRENT  # noqa: E402 - the recurrent cells, prod and cumprod
OPS.update(RECURRENT)
from .differentiable_conv import CONV  # noqa: E402 - the convolution family's kernels, in their own file
OPS.update(CONV)
from .einsum import differentiable_einsum  # noqa: E402 - einsum and the linear-algebra ops, in their own files
from .linalg import Det, Inv, Solve  # noqa: E402
OPS.update(einsum=differentiable_einsum, det=Det.apply, inv=Inv.apply, solve=Solve.apply)
from .decompositions import MatrixExp, SolveTriangular  # noqa: E402 - what the decompositions' backward call
OPS.update(matrix_exp=MatrixExp.apply, solve_triangular=lambda a, b, upper, unitriangular=False: SolveTriangular.apply(
    a, b, upper=upper, unitriangular=unitriangular))
from .special import SPECIAL  # noqa: E402 - lgamma, digamma, polygamma, erfinv, i0, ..., xlogy (ops/special.py)
OPS.update(SPECIAL)
