"""The compiled backend ("cython"): every name of `tinynn.backend.KERNELS`, on `tinynn.kernels`.

The kernels take float32/float64 ndarrays of one dtype (and, for elementwise pairs, one shape);
each function here sends those to its kernel and anything else (ints, bool, float16, mixed
dtypes, subclasses) to the reference, so both backends accept the same inputs. The names that
have no compiled kernel are the reference's own functions, said so at the end of this file.
"""
import numpy as np

from .. import kernels, threads
from . import reference

threads.sync()  # the OpenMP wait policy, set before the kernels first start their threads

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_same_float = kernels.same_float            # one C-level check: ndarrays of one float dtype
_same_float_shape = kernels.same_float_shape


# a + b, a - b, a * b: np.add / np.subtract / np.multiply, with small same-shape float arrays
# (the scalar-heavy parts of a graph) on a plain C loop instead of the ufunc machinery (~3x less
# per call); bit-identical results, and np.errstate still applies (kernels/elementwise.pxi).
add = kernels.add
subtract = kernels.subtract
multiply = kernels.multiply
same_layout = kernels.same_layout  # one C-level check instead of building and comparing two shape tuples
broadcast_to = kernels.broadcast_to  # the same view in one C call, instead of NumPy's nditer (~10 us here)


# ---------------------------------------------------------------- activations (kernels/elementwise.pxi)
def relu(x):
    """reference.relu; compiled for float32/float64."""
    return kernels.relu(x) if _same_float(x) else reference.relu(x)


def sigmoid(x):
    """reference.sigmoid; compiled for float32/float64 (exp by the kernels' polynomial, <= 1 ulp)."""
    return kernels.sigmoid(x) if _same_float(x) else reference.sigmoid(x)


def tanh(x):
    """reference.tanh; compiled for float32/float64."""
    return kernels.tanh(x) if _same_float(x) else reference.tanh(x)


def relu_backward(x, grad):
    """reference.relu_backward; compiled for float32/float64 operands of one shape."""
    return kernels.relu_backward(x, grad) if _same_float_shape(x, grad) else reference.relu_backward(x, grad)


def sigmoid_backward(y, grad):
    """reference.sigmoid_backward; compiled for float32/float64 operands of one shape."""
    return kernels.sigmoid_backward(y, grad) if _same_float_shape(y, grad) else reference.sigmoid_backward(y, grad)


def tanh_backward(y, grad):
    """reference.tanh_backward; compiled for float32/float64 operands of one shape."""
    return kernels.tanh_backward(y, grad) if _same_float_shape(y, grad) else reference.tanh_backward(y, grad)


def activation(x, name):
    """reference.activation on this backend's relu, sigmoid and tanh."""
    return x if name == "none" else {"relu": relu, "sigmoid": sigmoid, "tanh": tanh}[name](x)


# ---------------------------------------------------------------- GEMM (kernels/gemm.pxi)
_GEMM_BATCH_MIN = 32 * 32 * 32  # below this many multiply-adds per matrix, batched products stay in NumPy


def matmul(a, b):
    """C = A B with np.matmul semantics (1-D, 2-D, batched): the blocked kernel for float32 /
    float64 operands of one dtype (each matrix of a batch on its own), NumPy for the rest."""
    if _same_float(a, b) and a.ndim == 2 and b.ndim == 2:
        return kernels.matmul(a, b)       # (raises for shapes that are not aligned)
    if (a.dtype != b.dtype or a.dtype not in _FLOATS or a.ndim == 0 or b.ndim == 0
            or a.shape[-1] != (b.shape[0] if b.ndim == 1 else b.shape[-2])):
        return reference.matmul(a, b)
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])  # ValueError if not broadcastable
    if batch and a2.shape[-2] * a2.shape[-1] * b2.shape[-1] < _GEMM_BATCH_MIN:
        return reference.matmul(a, b)
    nt = threads.get_num_threads()
    a2 = np.broadcast_to(a2, batch + a2.shape[-2:])
    b2 = np.broadcast_to(b2, batch + b2.shape[-2:])
    c = np.empty(batch + (a2.shape[-2], b2.shape[-1]), dtype=a.dtype)
    for index in np.ndindex(*batch):
        kernels.matmul(a2[index], b2[index], out=c[index], num_threads=nt)
    if a.ndim == 1:
        c = c[..., 0, :]
    return c[..., 0] if b.ndim == 1 else c


def linear(x, weight, bias, activation_name="none"):
    """y = act(x W^T + b): one blocked GEMM with the bias and activation fused into its write."""
    if _same_float(x, weight, bias) and x.ndim == 2:
        return kernels.linear(x, weight, bias, activation_name)
    return reference.linear(x, weight, bias, activation_name)


def linear_backward(x, weight, y, grad, activation_name="none", needs=(True, True, True)):
    """With d = grad * act'(.): dx = d W, dW = d^T x, db = sum_n d, in one kernel call (the
    activation's derivative, the column sum and two GEMMs); None for each one whose entry of
    `needs` (dx, dW, db) is false."""
    if _same_float(x, weight, grad) and x.ndim == 2:
        return kernels.linear_backward(x, weight, y, grad, activation_name, tuple(needs))
    return reference.linear_backward(x, weight, y, grad, activation_name, needs)


def int8_matmul(a, b):
    """Exact int32 product of int8 matrices (blocked int8 kernel for 2-D operands)."""
    if a.ndim == 2 and b.ndim == 2 and a.dtype == b.dtype == np.int8:
        return kernels.int8_matmul(a, b, num_threads=threads.get_num_threads())
    return reference.int8_matmul(a, b)


def minmax(x):
    """(min x, max x) in one pass of the kernel for a float32/float64 ndarray (NaN if any is NaN)."""
    if type(x) is np.ndarray and x.dtype in _FLOATS:
        return kernels.minmax(x)
    return reference.minmax(x)


def _per_row_or_scalar(s, n):
    s = np.asarray(s)
    return s.ndim == 0 or s.shape == (n,)


def quantize_rows(x, scale, zero_point=0):
    """q = clamp(nearbyint(fma(x, float32(1 / s), z)), -128, 127) as int8 (kernel for 2-D float x)."""
    if (x.ndim == 2 and x.dtype in _FLOATS and _per_row_or_scalar(scale, x.shape[0])
            and isinstance(zero_point, (int, np.integer))):
        return kernels.quantize_rows(x, scale, zero_point)
    return reference.quantize_rows(x, scale, zero_point)


def _requant_args_ok(m, n, row_scale, col_scale, bias):
    return (_per_row_or_scalar(row_scale, m) and _per_row_or_scalar(col_scale, n)
            and (bias is None or (np.asarray(bias).shape == (n,) and np.asarray(bias).dtype == np.float32)))


def requantize(acc, row_scale, col_scale, bias=None, relu_after=False):
    """y = acc * s_row[:, None] * s_col[None, :] + b (then relu) as float32."""
    if acc.ndim == 2 and acc.dtype == np.int32 and _requant_args_ok(*acc.shape, row_scale, col_scale, bias):
        return kernels.requantize(acc, row_scale, col_scale, bias, relu_after)
    return reference.requantize(acc, row_scale, col_scale, bias, relu_after)


def int8_linear(xq, wq, row_scale, col_scale, bias=None, relu_after=False):
    """y = requantize(xq Wq^T, row_scale, col_scale, bias, relu_after): int8 GEMM with the
    requantization fused into its write."""
    if (xq.ndim == 2 and wq.ndim == 2 and xq.dtype == wq.dtype == np.int8 and xq.shape[1] == wq.shape[1]
            and _requant_args_ok(xq.shape[0], wq.shape[0], row_scale, col_scale, bias)):
        return kernels.int8_linear(xq, wq, row_scale, col_scale, bias, relu_after,
                                   num_threads=threads.get_num_threads())
    return reference.int8_linear(xq, wq, row_scale, col_scale, bias, relu_after)


def pack_int8_weight(wq):
    """reference.pack_int8_weight: W packed once for the int8 kernels (kernels.PackedInt8Weight)."""
    if type(wq) is np.ndarray and wq.dtype == np.int8 and wq.ndim == 2:
        return kernels.PackedInt8Weight(wq)
    return reference.pack_int8_weight(wq)


def quantized_linear(x, packed, x_scale, x_zero_point, w_scale, bias=None, activation_name="none"):
    """reference.quantized_linear on the int8 kernels (u7 x s8, fused epilogue) for 2-D float32 x;
    dynamic quantization (x_scale None) with its range pass in the same kernel."""
    if (isinstance(packed, kernels.PackedInt8Weight) and type(x) is np.ndarray and x.dtype == np.float32
            and x.ndim == 2 and (0 <= x_zero_point <= 127 if x_scale is not None else x.size > 0)):
        return kernels.quantized_linear(x, packed, x_scale, x_zero_point, w_scale, bias, activation_name,
                                        num_threads=threads.get_num_threads())
    return reference.quantized_linear(x, packed, x_scale, x_zero_point, w_scale, bias, activation_name)


def quantized_conv2d(x, packed, kernel_size, stride, padding, dilation, x_scale, x_zero_point, w_scale, bias=None,
                     activation_name="none"):
    """reference.quantized_conv2d on the int8 kernels (quantize once, im2col in the micro-kernels'
    layout, u7 x s8 GEMM, NCHW epilogue) for float32 (N, C, H, W) x."""
    if (type(x) is np.ndarray and x.dtype == np.float32 and x.ndim == 4 and x.size
            and all(isinstance(p, kernels.PackedInt8Weight) for p in packed)):
        return kernels.quantized_conv2d(x, packed, kernel_size, stride, padding, dilation, x_scale, x_zero_point,
                                        w_scale, bias, activation_name, num_threads=threads.get_num_threads())
    return reference.quantized_conv2d(x, packed, kernel_size, stride, padding, dilation, x_scale, x_zero_point,
                                      w_scale, bias, activation_name)


# ---------------------------------------------------------------- softmax family (kernels/softmax.pxi)
def _last(x, axis, grad=None):
    """The softmax kernels' case: float32/float64 (x and grad of one dtype and shape), along the last axis."""
    return (_same_float(x) if grad is None else _same_float_shape(x, grad)) and x.ndim >= 1 and (axis == -1 or axis == x.ndim - 1)


def softmax(x, axis=-1):
    """reference.softmax; the compiled kernel along the last axis, the reference otherwise."""
    return kernels.softmax(x) if _last(x, axis) else reference.softmax(x, axis)


def log_softmax(x, axis=-1):
    """reference.log_softmax; the compiled kernel along the last axis, the reference otherwise."""
    return kernels.log_softmax(x) if _last(x, axis) else reference.log_softmax(x, axis)


def softmax_backward(y, grad, axis=-1):
    """reference.softmax_backward; compiled along the last axis."""
    return kernels.softmax_backward(y, grad) if _last(y, axis, grad) else reference.softmax_backward(y, grad, axis)


def log_softmax_backward(y, grad, axis=-1):
    """reference.log_softmax_backward; compiled along the last axis."""
    return kernels.log_softmax_backward(y, grad) if _last(y, axis, grad) else reference.log_softmax_backward(y, grad, axis)


def cross_entropy(logits, target, label_smoothing=0.0):
    """reference.cross_entropy; the fused kernel for float32/float64 logits (it checks the targets)."""
    if _same_float(logits):
        return kernels.cross_entropy(logits, target, label_smoothing)
    return reference.cross_entropy(logits, target, label_smoothing)


def cross_entropy_backward(probs, target, label_smoothing, grad):
    """reference.cross_entropy_backward; the fused kernel for float32/float64 probabilities."""
    if _same_float(probs):
        return kernels.cross_entropy_backward(probs, target, label_smoothing, grad)
    return reference.cross_entropy_backward(probs, target, label_smoothing, grad)


# ---------------------------------------------------------------- optimizer updates (kernels/optim.pxi)
sgd_step = kernels.sgd_step
adam_step = kernels.adam_step
sgd_step_multi = kernels.sgd_step_multi
adam_step_multi = kernels.adam_step_multi


# ---------------------------------------------------------------- sequence models (kernels/attention/)
def gelu(x, approximate="none"):
    """reference.gelu; compiled for float32/float64."""
    return kernels.gelu(x, approximate) if _same_float(x) else reference.gelu(x, approximate)


def gelu_backward(x, grad, approximate="none"):
    """reference.gelu_backward; compiled for float32/float64 operands of one shape."""
    if _same_float_shape(x, grad):
        return kernels.gelu_backward(x, grad, approximate)
    return reference.gelu_backward(x, grad, approximate)


def layer_norm(x, weight, bias, eps):
    """reference.layer_norm; one pass per row of the kernel for float32/float64."""
    if _same_float(x, weight, bias) and x.ndim == 2:
        return kernels.layer_norm(x, weight, bias, eps)
    return reference.layer_norm(x, weight, bias, eps)


def layer_norm_backward(x, weight, mean, rstd, grad, needs=(True, True, True)):
    """reference.layer_norm_backward; compiled for float32/float64."""
    if _same_float(x, weight, grad) and _same_float(x, mean, rstd) and x.ndim == 2:
        return kernels.layer_norm_backward(x, weight, mean, rstd, grad, tuple(needs))
    return reference.layer_norm_backward(x, weight, mean, rstd, grad, needs)


def scaled_softmax(scores, scale, causal=False):
    """reference.scaled_softmax; the fused kernel (the causal mask is never built) for float32/float64."""
    if _same_float(scores) and scores.ndim >= 2:
        return kernels.scaled_softmax(scores, scale, causal)
    return reference.scaled_softmax(scores, scale, causal)


def scaled_softmax_backward(probs, grad, scale):
    """reference.scaled_softmax_backward: the softmax_backward kernel along the last axis, times scale."""
    if _same_float_shape(probs, grad) and probs.ndim >= 1:
        d = kernels.softmax_backward(probs, grad)
        if scale != 1:
            d *= d.dtype.type(scale)
        return d
    return reference.scaled_softmax_backward(probs, grad, scale)


def attention(query, key, value, mask=None, causal=False, scale=1.0, dropout_mask=None):
    """reference.attention on this backend's batched matmul and fused scaled softmax."""
    scores = matmul(query, np.swapaxes(key, -1, -2))
    if mask is not None:
        scores = scores * scores.dtype.type(scale) + mask
        scale = 1.0
    if _same_float(scores) and scores.ndim >= 2:
        probs = kernels.scaled_softmax(scores, scale, causal, overwrite=True)  # the probabilities replace the scores
    else:
        probs = reference.scaled_softmax(scores, scale, causal)
    return matmul(probs if dropout_mask is None else probs * dropout_mask, value), probs


def attention_backward(query, key, value, probs, grad, scale=1.0, dropout_mask=None, needs=(True, True, True)):
    """reference.attention_backward on this backend's batched matmul and scaled softmax backward:
    dV = D(P)^T G, dZ = P (dP - sum dP P) with dP = D(G V^T), dQ = scale dZ K, dK = scale dZ^T Q."""
    weights = probs if dropout_mask is None else probs * dropout_mask
    dv = matmul(np.swapaxes(weights, -1, -2), grad) if needs[2] else None
    dp = matmul(grad, np.swapaxes(value, -1, -2))
    dz = scaled_softmax_backward(probs, dp if dropout_mask is None else dp * dropout_mask, 1.0)
    dq = matmul(dz, key) * dz.dtype.type(scale) if needs[0] else None
    dk = matmul(np.swapaxes(dz, -1, -2), query) * dz.dtype.type(scale) if needs[1] else None
    return dq, dk, dv, dz


# ---------------------------------------------------------------- no compiled kernel: the reference's functions
divide = reference.divide
negative = reference.negative
sqrt = reference.sqrt
absolute = reference.absolute
sign = reference.sign
where = reference.where
power = reference.power
exp = reference.exp
log = reference.log
clip = reference.clip
sum = reference.sum
mean = reference.mean
amax = reference.amax
amin = reference.amin
binary_cross_entropy = reference.binary_cross_entropy
binary_cross_entropy_backward = reference.binary_cross_entropy_backward
binary_cross_entropy_with_logits = reference.binary_cross_entropy_with_logits
binary_cross_entropy_with_logits_backward = reference.binary_cross_entropy_with_logits_backward
fake_quantize = reference.fake_quantize
fma_f32 = reference.fma_f32
sin, cos, tan, sinh, cosh = reference.sin, reference.cos, reference.tan, reference.sinh, reference.cosh
arcsin, arccos, arctan, erf = reference.arcsin, reference.arccos, reference.arctan, reference.erf
exp2, log2, log1p, expm1 = reference.exp2, reference.log2, reference.log1p, reference.expm1
floor, ceil, round, trunc = reference.floor, reference.ceil, reference.round, reference.trunc  # noqa: A001
maximum, minimum, remainder, floor_divide = reference.maximum, reference.minimum, reference.remainder, reference.floor_divide
prod, cumsum, cumprod = reference.prod, reference.cumsum, reference.cumprod
fmod, argsort = reference.fmod, reference.argsort
leaky_relu, leaky_relu_backward, silu, silu_backward = (reference.leaky_relu, reference.leaky_relu_backward,
                                                        reference.silu, reference.silu_backward)
elu, elu_backward, softplus, softplus_backward = (reference.elu, reference.elu_backward, reference.softplus,
                                                  reference.softplus_backward)
hardtanh, hardtanh_backward = reference.hardtanh, reference.hardtanh_backward
lstm_cell, lstm_cell_backward = kernels.lstm_cell, kernels.lstm_cell_backward  # kernels/rnn/
gru_cell, gru_cell_backward = kernels.gru_cell, kernels.gru_cell_backward
embedding, embedding_backward = reference.embedding, reference.embedding_backward


# ---------------------------------------------------------------- convolution family (kernels/conv)
def conv2d(x, weight, bias, stride, padding, dilation, groups):
    """reference.conv2d on im2col and the blocked GEMM (bias added while the output is in cache)."""
    if _same_float(x, weight, bias):
        return kernels.conv2d(x, weight, bias, stride, padding, dilation, groups, num_threads=threads.get_num_threads())
    return reference.conv2d(x, weight, bias, stride, padding, dilation, groups)


def conv2d_backward_input(grad, weight, input_shape, stride, padding, dilation, groups):
    """reference.conv2d_backward_input as W^T grad and col2im, per image."""
    if _same_float(grad, weight):
        return kernels.conv2d_backward_input(grad, weight, input_shape, stride, padding, dilation, groups,
                                             num_threads=threads.get_num_threads())
    return reference.conv2d_backward_input(grad, weight, input_shape, stride, padding, dilation, groups)


def conv2d_backward_weight(grad, x, weight_shape, stride, padding, dilation, groups):
    """reference.conv2d_backward_weight as sum_n grad[n] im2col(x[n])^T."""
    if _same_float(grad, x):
        return kernels.conv2d_backward_weight(grad, x, weight_shape, stride, padding, dilation, groups,
                                              num_threads=threads.get_num_threads())
    return reference.conv2d_backward_weight(grad, x, weight_shape, stride, padding, dilation, groups)


def max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode):
    """reference.max_pool2d, one C loop per (image, channel) plane (kernels/conv/pool.h)."""
    if _same_float(x):
        return kernels.max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode,
                                  num_threads=threads.get_num_threads())
    return reference.max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool2d_backward(grad, indices, input_shape):
    """reference.max_pool2d_backward: each gradient added at its window's maximum."""
    if _same_float(grad):
        return kernels.max_pool2d_backward(grad, indices, input_shape, num_threads=threads.get_num_threads())
    return reference.max_pool2d_backward(grad, indices, input_shape)


def avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad):
    """reference.avg_pool2d, one C loop per plane."""
    if _same_float(x):
        return kernels.avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                                  num_threads=threads.get_num_threads())
    return reference.avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad)


def avg_pool2d_backward(grad, input_shape, kernel_size, stride, padding, ceil_mode, count_include_pad):
    """reference.avg_pool2d_backward, one C loop per plane."""
    if _same_float(grad):
        return kernels.avg_pool2d_backward(grad, input_shape, kernel_size, stride, padding, ceil_mode,
                                           count_include_pad, num_threads=threads.get_num_threads())
    return reference.avg_pool2d_backward(grad, input_shape, kernel_size, stride, padding, ceil_mode, count_include_pad)


adaptive_avg_pool2d, adaptive_avg_pool2d_backward = reference.adaptive_avg_pool2d, reference.adaptive_avg_pool2d_backward
def _channels_ok(x, *vectors):
    """x (N, C, L) and each vector None or (C,), all ndarrays of one float dtype."""
    return _same_float(x) and x.ndim == 3 and all(v is None or _same_float(x, v) for v in vectors)


def batch_norm(x, weight, bias, eps):
    """reference.batch_norm, one pass for the mean, one for the variance, one to normalize, per
    channel in C with double sums (kernels/conv/batchnorm.h)."""
    if _channels_ok(x, weight, bias):
        return kernels.batch_norm(x, weight, bias, eps, num_threads=threads.get_num_threads())
    return reference.batch_norm(x, weight, bias, eps)


def batch_norm_backward(grad, x, mean, var, weight, eps, needs=(True, True, True)):
    """reference.batch_norm_backward, two passes per channel in C."""
    if _channels_ok(x, mean, var, weight) and _same_float_shape(x, grad):
        return kernels.batch_norm_backward(grad, x, mean, var, weight, eps, tuple(needs),
                                           num_threads=threads.get_num_threads())
    return reference.batch_norm_backward(grad, x, mean, var, weight, eps, needs)


def batch_norm_eval(x, mean, var, weight, bias, eps):
    """reference.batch_norm_eval in one pass over x, with the same roundings (no FMA)."""
    if _channels_ok(x, mean, var, weight, bias):
        return kernels.batch_norm_eval(x, mean, var, weight, bias, eps, num_threads=threads.get_num_threads())
    return reference.batch_norm_eval(x, mean, var, weight, bias, eps)


pad, pad_backward = reference.pad, reference.pad_backward
einsum, det, inv, solve = reference.einsum, reference.det, reference.inv, reference.solve
svd, eigh, qr, cholesky, inv_ex = reference.svd, reference.eigh, reference.qr, reference.cholesky, reference.inv_ex
solve_triangular, slogdet, pinv, matrix_exp = reference.solve_triangular, reference.slogdet, reference.pinv, reference.matrix_exp
searchsorted, unique, bincount = reference.searchsorted, reference.unique, reference.bincount
cummax_index, logcumsumexp = reference.cummax_index, reference.logcumsumexp
im2col, col2im = reference.im2col, reference.col2im
vol2col, col2vol = reference.vol2col, reference.col2vol
scatter_reduce, unique_consecutive = reference.scatter_reduce, reference.unique_consecutive
lgamma, digamma, polygamma, erfc, erfinv = (reference.lgamma, reference.digamma, reference.polygamma, reference.erfc,
                                           reference.erfinv)
ndtr, ndtri, log_ndtr = reference.ndtr, reference.ndtri, reference.log_ndtr
i0, i0e, i1, i1e = reference.i0, reference.i0e, reference.i1, reference.i1e
sinc, entr, logit = reference.sinc, reference.entr, reference.logit
xlogy, xlog1py, hypot, logaddexp, logaddexp2 = (reference.xlogy, reference.xlog1py, reference.hypot, reference.logaddexp,
                                                reference.logaddexp2)
copysign, nextafter, heaviside = reference.copysign, reference.nextafter, reference.heaviside
arccosh, arcsinh, arctanh, arctan2 = reference.arccosh, reference.arcsinh, reference.arctanh, reference.arctan2
fmax, fmin, gcd, lcm, frexp = reference.fmax, reference.fmin, reference.gcd, reference.lcm, reference.frexp
left_shift, right_shift, histogram, isin = reference.left_shift, reference.right_shift, reference.histogram, reference.isin
