"""The reference backend ("numpy"): the readable specification of every kernel.

It defines exactly the names of `tinynn.backend.KERNELS`, and every function here is what the
compiled backend (`compiled.py`) must compute, within float rounding. A kernel name is added
here first, then given a fast version there. Arrays in, arrays out: nothing here knows about
autograd, and inputs arrive checked (the ops validate them, once, at the public edge).
"""
import math

import numpy as np


# ---------------------------------------------------------------- elementwise
def add(a, b):
    """a + b, elementwise, broadcasting."""
    return np.add(a, b)


def subtract(a, b):
    """a - b, elementwise, broadcasting."""
    return np.subtract(a, b)


def multiply(a, b):
    """a b, elementwise, broadcasting."""
    return np.multiply(a, b)


# NumPy's own functions, which the compiled backend also uses (it has no kernels for them)
divide = np.divide
negative = np.negative
sqrt = np.sqrt
absolute = np.absolute
sign = np.sign
where = np.where
# more of NumPy's functions (tinynn/ops/unary.py, pairwise.py, statistics.py): the formula is the name
sin, cos, tan, sinh, cosh, arcsin, arccos, arctan = np.sin, np.cos, np.tan, np.sinh, np.cosh, np.arcsin, np.arccos, np.arctan
exp2, log2, log1p, expm1 = np.exp2, np.log2, np.log1p, np.expm1
floor, ceil, round, trunc = np.floor, np.ceil, np.round, np.trunc  # noqa: A001 - round: half to even, as torch.round
maximum, minimum, remainder, floor_divide = np.maximum, np.minimum, np.remainder, np.floor_divide  # floor semantics
prod, cumsum, cumprod = np.multiply.reduce, np.cumsum, np.cumprod  # (np.prod's loop: see `sum`)
fmod = np.fmod  # C's fmod: a - trunc(a / b) b, the sign of a (torch.fmod)


def argsort(x, axis=-1, descending=False):
    """Indices sorting x along axis, stably (equal elements keep their order), NaN after every
    number (first when descending), as PyTorch's sort(stable=True). Descending: the stable
    ascending order of x reversed along axis, read back to front, so ties still keep their order."""
    if not descending:
        return np.argsort(x, axis=axis, kind="stable")
    reversed_order = np.argsort(np.flip(x, axis), axis=axis, kind="stable")
    return (x.shape[axis] - 1) - np.flip(reversed_order, axis)


def erf(x):
    """erf x = (2 / sqrt(pi)) int_0^x e^(-t^2) dt, elementwise (math.erf per element: NumPy has none)."""
    return np.asarray(np.frompyfunc(math.erf, 1, 1)(x)).astype(x.dtype if x.dtype.kind == "f" else np.float64)


def same_layout(a, b):
    """True when a and b are ndarrays with a.shape == b.shape and a.dtype == b.dtype (NumPy
    scalars give False): an elementwise op on them then neither broadcasts nor promotes, so its
    gradients already have its inputs' shapes and dtype."""
    return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape and a.dtype == b.dtype


def power(x, p):
    """x ** p, elementwise; a float x to a scalar power 2 or 3 as x x or x x x, as PyTorch computes
    them (and NumPy's general pow takes ~40x longer on float32)."""
    if np.ndim(p) == 0 and getattr(x, "dtype", None) is not None and x.dtype.kind == "f" and p in (2, 3):
        return x * x if p == 2 else x * x * x
    return np.power(x, p)


def exp(x):
    """e ** x, elementwise (overflows to +inf like NumPy)."""
    with np.errstate(over="ignore"):
        return np.exp(x)


def log(x):
    """Natural log; log(0) = -inf and log(x<0) = nan, like NumPy, without warnings."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(x)


def clip(x, lo, hi):
    """min(max(x, lo), hi); a bound of None is open."""
    return np.clip(x, lo, hi)


def relu(x):
    """relu(x) = max(x, 0)."""
    return np.maximum(x, 0).astype(x.dtype, copy=False)


def relu_backward(x, grad):
    """d relu / dx = 1 where x > 0, else 0 (so relu'(0) = 0, as in PyTorch)."""
    return np.where(x > 0, grad, 0).astype(grad.dtype, copy=False)


def sigmoid(x):
    """sigmoid(x) = 1 / (1 + e^-x), computed as e^x / (1 + e^x) for x < 0 so it never overflows."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def sigmoid_backward(y, grad):
    """d sigmoid / dx = y (1 - y), with y = sigmoid(x)."""
    return grad * y * (1 - y)


def tanh(x):
    """tanh(x) = (e^x - e^-x) / (e^x + e^-x)."""
    return np.tanh(x)


def tanh_backward(y, grad):
    """d tanh / dx = 1 - y^2, with y = tanh(x)."""
    return grad * (1 - y * y)


def activation(x, name):
    """act(x) for act named in tinynn.backend.ACTIVATIONS: none (the identity), relu, sigmoid, tanh."""
    if name == "none":
        return x
    return {"relu": relu, "sigmoid": sigmoid, "tanh": tanh}[name](x)


# ---------------------------------------------------------------- reductions
def sum(x, axis=None, keepdims=False):  # noqa: A001 - mirrors np.sum
    """sum_i x_i over `axis` (every axis when None). (np.add.reduce is np.sum's own loop, called here
    so that NumPy's inf - inf warning comes from tinynn, where tinynn/__init__.py silences it.)"""
    return np.add.reduce(x, axis=axis, keepdims=keepdims)


def broadcast_to(x, shape):
    """x seen in `shape` (a read-only view: the axes broadcasting adds or stretches from 1 have
    stride 0), as NumPy broadcasts; what sum and mean's backward hand their input."""
    return np.broadcast_to(x, shape)


def mean(x, axis=None, keepdims=False):
    """(1/n) sum_i x_i over `axis` (every axis when None): np.mean's arithmetic (float16 summed in
    float32, integers in float64), through np.add.reduce as `sum` is."""
    axes = range(x.ndim) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    n = math.prod(x.shape[a] for a in axes)
    wide = np.float32 if x.dtype == np.float16 else np.float64 if x.dtype.kind in "biu" else None
    total = np.add.reduce(x, axis=axis, keepdims=keepdims, dtype=wide)
    total = (total / np.float64(n)).astype(total.dtype, copy=False)  # NumPy divides by an intp: in float64
    return total.astype(np.float16, copy=False) if x.dtype == np.float16 else total


def amax(x, axis=None, keepdims=False):
    """max_i x_i over `axis` (every axis when None)."""
    return np.max(x, axis=axis, keepdims=keepdims)


def amin(x, axis=None, keepdims=False):
    """min_i x_i over `axis` (every axis when None)."""
    return np.min(x, axis=axis, keepdims=keepdims)


# ---------------------------------------------------------------- softmax family
def softmax(x, axis=-1):
    """softmax(x)_i = e^(x_i - m) / sum_j e^(x_j - m), m = max_j x_j (shift keeps e^ finite).
    An empty x gives an empty result."""
    if x.size == 0:
        return np.exp(x)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


def softmax_backward(y, grad, axis=-1):
    """dL/dx = y * (g - sum_j g_j y_j), with y = softmax(x)."""
    return y * (grad - np.sum(grad * y, axis=axis, keepdims=True))


def log_softmax(x, axis=-1):
    """log_softmax(x)_i = x_i - m - log sum_j e^(x_j - m).  An empty x gives an empty result."""
    if x.size == 0:
        return np.exp(x)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def log_softmax_backward(y, grad, axis=-1):
    """dL/dx = g - softmax(x) * sum_j g_j, with y = log_softmax(x)."""
    return grad - np.exp(y) * np.sum(grad, axis=axis, keepdims=True)


def cross_entropy(logits, target, label_smoothing=0.0):
    """Per-sample softmax cross-entropy of (N, C) logits against int class indices (N,).

    With smoothing e the target distribution is q = (1 - e) onehot(t) + e / C and
    loss_n = -sum_c q_c log_softmax(x_n)_c.  Returns (loss (N,), softmax probabilities (N, C)).
    A class index outside [0, C) raises IndexError.
    """
    n, c = logits.shape
    if target.size and (target.min() < 0 or target.max() >= c):
        bad = target[(target < 0) | (target >= c)][0]
        raise IndexError(f"cross_entropy: class index {bad} is out of range for {c} classes")
    logp = log_softmax(logits, axis=1)
    picked = logp[np.arange(n), target]
    loss = -(1 - label_smoothing) * picked
    if label_smoothing and c:
        loss = loss - label_smoothing / c * np.sum(logp, axis=1)
    return loss.astype(logits.dtype, copy=False), np.exp(logp)


def cross_entropy_backward(probs, target, label_smoothing, grad):
    """d loss_n / d x_n = (softmax(x_n) - q_n) * grad_n, q the (smoothed) target distribution."""
    n, c = probs.shape
    q = np.full(probs.shape, label_smoothing / max(c, 1), dtype=probs.dtype)  # (C = 0 only if N = 0)
    q[np.arange(n), target] += 1 - label_smoothing
    return ((probs - q) * grad[:, None]).astype(probs.dtype, copy=False)


def binary_cross_entropy(p, t):
    """loss = -(t max(ln p, -100) + (1 - t) max(ln(1 - p), -100)), elementwise (PyTorch's clamp)."""
    return -(t * np.maximum(log(p), -100) + (1 - t) * np.maximum(log(1 - p), -100))


def binary_cross_entropy_backward(p, t, grad):
    """d loss / d p = (p - t) / max(p (1 - p), 1e-12);  d loss / d t = max(ln(1 - p), -100) - max(ln p, -100).
    Returns (grad_p, grad_t) times grad."""
    gp = grad * (p - t) / np.maximum(p * (1 - p), 1e-12)
    gt = grad * (np.maximum(log(1 - p), -100) - np.maximum(log(p), -100))
    return gp.astype(p.dtype, copy=False), gt.astype(p.dtype, copy=False)


def binary_cross_entropy_with_logits(x, t):
    """loss = -(t ln sigmoid(x) + (1 - t) ln(1 - sigmoid(x))) = max(x, 0) - x t + ln(1 + e^-|x|), elementwise."""
    return (np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))).astype(x.dtype, copy=False)


def binary_cross_entropy_with_logits_backward(x, t, grad):
    """d loss / d x = sigmoid(x) - t;  d loss / d t = -x.  Returns (grad_x, grad_t) times grad."""
    return grad * (sigmoid(x) - t), grad * -x


# ---------------------------------------------------------------- matmul and layers
def matmul(a, b):
    """C = A B with np.matmul semantics (1-D, 2-D and batched); 1-D @ 1-D is a 0-d array (np.matmul
    gives a NumPy scalar, which a Tensor must not hold: its gradient's graph would lose it)."""
    return np.asarray(np.matmul(a, b))


def linear(x, weight, bias, activation_name="none"):
    """y = act(x W^T + b) for x (N, in), W (out, in), b (out,) or None."""
    y = x @ weight.T
    if bias is not None:
        y = y + bias
    return activation(y, activation_name)


def linear_backward(x, weight, y, grad, activation_name="none", needs=(True, True, True)):
    """Gradients of y = act(x W^T + b): with d = grad * act'(.),
    dx = d W, dW = d^T x, db = sum_n d.  Returns (dx, dW, db), None for each one whose
    entry of `needs` (dx, dW, db) is false."""
    # relu takes y in place of its input (y > 0 exactly where x W^T + b > 0); sigmoid and tanh take y
    derivative = {"relu": relu_backward, "sigmoid": sigmoid_backward, "tanh": tanh_backward}.get(activation_name)
    d = grad if derivative is None else derivative(y, grad)
    return (d @ weight if needs[0] else None, d.T @ x if needs[1] else None,
            np.sum(d, axis=0) if needs[2] else None)


# ---------------------------------------------------------------- more activations (ops/activations.py)
# The derivative at each kink is PyTorch's choice: leaky_relu'(0) = slope, elu'(0) = alpha, and
# hardtanh' = 0 at both bounds.
def leaky_relu(x, negative_slope):
    """leaky_relu(x) = x for x > 0, negative_slope x otherwise."""
    return np.where(x > 0, x, x * negative_slope).astype(x.dtype, copy=False)


def leaky_relu_backward(x, grad, negative_slope):
    """d leaky_relu / dx = 1 for x > 0, negative_slope for x <= 0."""
    return np.where(x > 0, grad, grad * negative_slope).astype(grad.dtype, copy=False)


def silu(x):
    """silu(x) = x sigmoid(x)."""
    return (x * sigmoid(x)).astype(x.dtype, copy=False)


def silu_backward(x, grad):
    """d silu / dx = s (1 + x (1 - s)), s = sigmoid(x)."""
    s = sigmoid(x)
    return (grad * (s * (1 + x * (1 - s)))).astype(grad.dtype, copy=False)


def elu(x, alpha):
    """elu(x) = x for x > 0, alpha (e^x - 1) otherwise."""
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))).astype(x.dtype, copy=False)


def elu_backward(x, grad, alpha):
    """d elu / dx = 1 for x > 0, alpha e^x for x <= 0."""
    return np.where(x > 0, grad, grad * (alpha * np.exp(np.minimum(x, 0)))).astype(grad.dtype, copy=False)


def softplus(x, beta, threshold):
    """softplus(x) = ln(1 + e^(beta x)) / beta, and x itself where beta x > threshold (PyTorch's
    linear regime); computed as (max(bx, 0) + ln(1 + e^-|bx|)) / beta so e^ never overflows."""
    bx = x * beta
    smooth = (np.maximum(bx, 0) + np.log1p(np.exp(-np.abs(bx)))) / beta
    return np.where(bx > threshold, x, smooth).astype(x.dtype, copy=False)


def softplus_backward(x, grad, beta, threshold):
    """d softplus / dx = sigmoid(beta x), and 1 where beta x > threshold."""
    bx = np.asarray(x * beta)
    return np.where(bx > threshold, grad, grad * sigmoid(bx)).astype(grad.dtype, copy=False)


def hardtanh(x, min_val, max_val):
    """hardtanh(x) = min(max(x, min_val), max_val)."""
    return np.clip(x, min_val, max_val).astype(x.dtype, copy=False)


def hardtanh_backward(x, grad, min_val, max_val):
    """d hardtanh / dx = 1 for min_val < x < max_val, 0 otherwise (at the bounds too)."""
    return np.where((x > min_val) & (x < max_val), grad, 0).astype(grad.dtype, copy=False)


# ---------------------------------------------------------------- the layer families, each in a file of its own
from .reference_recurrent import lstm_cell, lstm_cell_backward, gru_cell, gru_cell_backward  # noqa: E402, F401
from .reference_attention import (  # noqa: E402, F401 - sequence models
    gelu, gelu_backward, layer_norm, layer_norm_backward, embedding, embedding_backward,
    scaled_softmax, scaled_softmax_backward, attention, attention_backward,
)
from .reference_conv import (  # noqa: E402, F401 - convolution, pooling, batch norm, pad (NCHW)
    conv2d, conv2d_backward_input, conv2d_backward_weight, max_pool2d, max_pool2d_backward, avg_pool2d,
    avg_pool2d_backward, adaptive_avg_pool2d, adaptive_avg_pool2d_backward, batch_norm, batch_norm_backward,
    batch_norm_eval, pad, pad_backward,
)
from .reference_linalg import einsum, det, inv, solve  # noqa: E402, F401 - einsum and dense linear algebra
from .reference_linalg import (  # noqa: E402, F401 - decompositions
    svd, eigh, qr, cholesky, inv_ex, solve_triangular, slogdet, pinv, matrix_exp,
)
from .reference_search import searchsorted, unique, bincount, cummax_index, logcumsumexp  # noqa: E402, F401
from .reference_fold import im2col, col2im  # noqa: E402, F401 - F.unfold and F.fold
from .reference_conv3d import vol2col, col2vol  # noqa: E402, F401 - 3-D convolutions and pools
from .reference_scatter import scatter_reduce, unique_consecutive  # noqa: E402, F401 - scatter_reduce, runs
from .reference_special import lgamma, digamma, polygamma, erfc, erfinv, ndtr, ndtri, log_ndtr  # noqa: E402, F401
from .reference_bessel import i0, i0e, i1, i1e  # noqa: E402, F401 - special functions
from .reference_pointwise import (  # noqa: E402, F401 - elementwise functions with PyTorch's edge values
    sinc, entr, logit, xlogy, xlog1py, hypot, logaddexp, logaddexp2, copysign, nextafter, heaviside,
)
from .reference_math import (  # noqa: E402, F401 - ops/math_more.py's and math_extras/'s kernels
    arccosh, arcsinh, arctanh, arctan2, fmax, fmin, gcd, lcm, frexp, left_shift, right_shift, histogram, isin,
)
from .reference_optim import (  # noqa: E402, F401 - optimizer updates
    sgd_step, adam_step, sgd_step_multi, adam_step_multi,
)
from .reference_int8 import (  # noqa: E402, F401 - int8 matmul, quantization
    int8_matmul, minmax, quantize_rows, fma_f32, requantize, int8_linear, pack_int8_weight, fake_quantize,
    _dynamic_u7_qparams,
)
from .reference_qconv import im2col_groups as _im2col_groups  # noqa: E402 - the int8 convolution's windows


def quantized_linear(x, packed, x_scale, x_zero_point, w_scale, bias=None, activation_name="none"):
    """The int8 Linear on 7-bit activations (PyTorch's reduce_range):
    a = clamp(nearbyint(fma(x, float32(1 / s_a), z_a)), 0, 127),  acc = a W^T exactly (int32),
    y = act(float32(acc_ij - z_a sum_k W_jk) * (s_a s_w[j]) + b_j);
    x_scale = x_zero_point = None: dynamic quantization at _dynamic_u7_qparams(x)."""
    if x_scale is None:
        x_scale, x_zero_point = _dynamic_u7_qparams(x)
    w = getattr(packed, "weight", packed).astype(np.int32)
    a = np.clip(np.rint(fma_f32(x, np.float32(1) / np.float32(x_scale), x_zero_point)), 0, 127).astype(np.int32)
    acc = a @ w.T - np.int32(x_zero_point) * np.add.reduce(w, axis=1, dtype=np.int32)
    y = acc.astype(np.float32) * (np.float32(x_scale) * np.asarray(w_scale, np.float32))
    if bias is not None:
        y = y + np.asarray(bias, np.float32)
    return y if activation_name == "none" else activation(y, activation_name)



def quantized_conv2d(x, packed, kernel_size, stride, padding, dilation, x_scale, x_zero_point, w_scale, bias=None,
                     activation_name="none"):
    """y[n, g Og + o, i, j] = quantized_linear(cols_g, W_g, s_a, z_a, s_w, b, act)[(n, i, j), o], cols_g
    the im2col rows of the zero-padded x (reference_qconv.im2col_groups: columns in (u, v, c) order,
    padding = (top, bottom, left, right)), `packed` the G int8 weights (Og, kh kw Cg); x_scale = None:
    dynamic quantization over all of x (one (s_a, z_a) for every group)."""
    if x_scale is None:
        x_scale, x_zero_point = _dynamic_u7_qparams(x)
    cols, (ho, wo) = _im2col_groups(x, len(packed), kernel_size, stride, padding, dilation)
    og = np.asarray(getattr(packed[0], "weight", packed[0])).shape[0]
    part = lambda v, k: None if v is None else np.asarray(v)[k * og:(k + 1) * og]  # noqa: E731
    y = np.concatenate([quantized_linear(c, p, x_scale, x_zero_point, part(w_scale, k), part(bias, k), activation_name)
                        for k, (c, p) in enumerate(zip(cols, packed))], axis=1)
    return np.ascontiguousarray(y.reshape(x.shape[0], ho, wo, -1).transpose(0, 3, 1, 2))
