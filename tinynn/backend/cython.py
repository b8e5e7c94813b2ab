"""The compiled backend: the same functions as `numpy_ref`, running on `tinynn.kernels`.

Anything without a compiled kernel yet falls through to the reference implementation."""
from .numpy_ref import *  # noqa: F401,F403 - the reference is the default for every name
from . import numpy_ref as _ref
from .. import threads  # sets the OpenMP wait policy before the extension loads the runtime
from .. import kernels

threads.sync()

import numpy as _np  # noqa: E402

_FLOATS = (_np.dtype(_np.float32), _np.dtype(_np.float64))
_same_float = kernels.same_float            # one C-level check: ndarrays of one float dtype
_same_float_shape = kernels.same_float_shape


def _kernel_ok(*arrays):
    """The kernels take float32/float64 ndarrays of one dtype and shape; anything else (ints, bool,
    float16, mixed, subclasses, non-native byte order) goes to the reference, so both backends
    accept the same inputs.  (The functions below inline this as one C-level check.)"""
    if len(arrays) == 1:
        return _same_float(arrays[0])
    return all(_same_float_shape(arrays[0], a) for a in arrays[1:])


def _unary(name):
    kernel, reference = getattr(kernels, name), getattr(_ref, name)

    def fn(x):
        return kernel(x) if _same_float(x) else reference(x)
    fn.__name__, fn.__wrapped__ = name, kernel
    fn.__doc__ = f"numpy_ref.{name} on the compiled kernel for float32/float64, the reference otherwise.\n\n" \
        + (reference.__doc__ or "")
    return fn


def _binary(name):
    kernel, reference = getattr(kernels, name), getattr(_ref, name)

    def fn(a, grad):
        return kernel(a, grad) if _same_float_shape(a, grad) else reference(a, grad)
    fn.__name__, fn.__wrapped__ = name, kernel
    fn.__doc__ = f"numpy_ref.{name} on the compiled kernel for float32/float64 operands of one shape, " \
        f"the reference otherwise.\n\n" + (reference.__doc__ or "")
    return fn


# a + b, a - b, a * b: np.add / np.subtract / np.multiply, with small same-shape float arrays
# (the scalar-heavy parts of a graph) on a plain C loop instead of the ufunc machinery (~3x less
# per call); bit-identical results, and np.errstate still applies (kernels/elementwise.pxi).
add = kernels.add
subtract = kernels.subtract
multiply = kernels.multiply
same_layout = kernels.same_layout  # one C-level check instead of building and comparing two shape tuples
broadcast_to = kernels.broadcast_to  # the same view in one C call, instead of NumPy's nditer (~10 us here)


def sum(x, axis=None, keepdims=False):  # noqa: A001 - mirrors np.sum
    """numpy_ref.sum without np.sum's Python wrapper: the same ufunc reduction, called directly
    (np.sum is np.add.reduce after argument handling that costs more than a small sum)."""
    return _np.add.reduce(x, axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    """numpy_ref.mean: for a non-empty float32/float64 ndarray, np.mean's own two steps (the sum,
    then one true division by the count, in the input's dtype) without its Python wrapper; the
    reference for everything else (ints, float16, empty: NumPy's dtype and warning rules)."""
    if not (_same_float(x) and x.size):
        return _ref.mean(x, axis=axis, keepdims=keepdims)
    total = _np.add.reduce(x, axis=axis, keepdims=keepdims)
    if type(total) is not _np.ndarray:  # a full reduction gives a NumPy scalar
        return total.dtype.type(total / x.size)
    return _np.true_divide(total, x.size // total.size, out=total)


relu = _unary("relu")
sigmoid = _unary("sigmoid")
tanh = _unary("tanh")
relu_backward = _binary("relu_backward")
sigmoid_backward = _binary("sigmoid_backward")
tanh_backward = _binary("tanh_backward")

# ---------------------------------------------------------------- GEMM (kernels/gemm.pxi)


_GEMM_BATCH_MIN = 32 * 32 * 32  # below this many multiply-adds per matrix, batched products stay in NumPy


def matmul(a, b):
    """C = A B with np.matmul semantics (1-D, 2-D, batched): the blocked kernel for float32 /
    float64 operands of one dtype (each matrix of a batch on its own), NumPy for the rest."""
    if _same_float(a, b) and a.ndim == 2 and b.ndim == 2:
        return kernels.matmul(a, b)       # (raises for shapes that are not aligned)
    if (a.dtype != b.dtype or a.dtype not in _FLOATS or a.ndim == 0 or b.ndim == 0
            or a.shape[-1] != (b.shape[0] if b.ndim == 1 else b.shape[-2])):
        return _ref.matmul(a, b)
    nt = threads.get_num_threads()
    if a.ndim <= 2 and b.ndim <= 2:
        c = kernels.matmul(a[None, :] if a.ndim == 1 else a, b[:, None] if b.ndim == 1 else b, num_threads=nt)
        if b.ndim == 1:
            c = c[:, 0]
        return c[0] if a.ndim == 1 else c
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    if a2.shape[-2] * a2.shape[-1] * b2.shape[-1] < _GEMM_BATCH_MIN:
        return _ref.matmul(a, b)
    batch = _np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])  # ValueError if not broadcastable
    a2 = _np.broadcast_to(a2, batch + a2.shape[-2:])
    b2 = _np.broadcast_to(b2, batch + b2.shape[-2:])
    c = _np.empty(batch + (a2.shape[-2], b2.shape[-1]), dtype=a.dtype)
    for index in _np.ndindex(*batch):
        kernels.matmul(a2[index], b2[index], out=c[index], num_threads=nt)
    if b.ndim == 1:
        c = c[..., 0]
    if a.ndim == 1:
        c = c[..., 0, :]
    return c


def linear(x, weight, bias, activation_name="none"):
    """y = act(x W^T + b): one blocked GEMM with the bias and activation fused into its write."""
    if _same_float(x, weight, bias) and x.ndim == 2:
        return kernels.linear(x, weight, bias, activation_name)
    _check_activation("linear", activation_name)
    return _ref.linear(x, weight, bias, activation_name)


def linear_backward(x, weight, y, grad, activation_name="none", needs=(True, True, True)):
    """With d = grad * act'(.): dx = d W, dW = d^T x, db = sum_n d, in one kernel call (the
    activation's derivative, the column sum and two GEMMs); None for each one whose entry of
    `needs` (dx, dW, db) is false."""
    if _same_float(x, weight, grad) and x.ndim == 2:
        return kernels.linear_backward(x, weight, y, grad, activation_name, tuple(needs))
    _check_activation("linear_backward", activation_name)
    return _ref.linear_backward(x, weight, y, grad, activation_name, needs)


def _check_activation(op, name):
    """The kernels' error for an unknown activation (the reference would raise a KeyError)."""
    if not isinstance(name, str) or name not in _ref.ACTIVATIONS:
        raise ValueError(f"{op}: unknown activation {name!r}; choose one of {_ref.ACTIVATIONS}")


def int8_matmul(a, b):
    """Exact int32 product of int8 matrices (blocked int8 kernel for 2-D operands)."""
    if a.ndim == 2 and b.ndim == 2 and a.dtype == b.dtype == _np.int8:
        return kernels.int8_matmul(a, b, num_threads=threads.get_num_threads())
    return _ref.int8_matmul(a, b)


def minmax(x):
    """(min x, max x) in one pass of the kernel for a float32/float64 ndarray (NaN if any is NaN)."""
    if type(x) is _np.ndarray and x.dtype in _FLOATS:
        return kernels.minmax(x)
    return _ref.minmax(x)


def _per_row_or_scalar(s, n):
    s = _np.asarray(s)
    return s.ndim == 0 or s.shape == (n,)


def quantize_rows(x, scale, zero_point=0):
    """q = clamp(nearbyint(fma(x, float32(1 / s), z)), -128, 127) as int8 (kernel for 2-D float x)."""
    if (x.ndim == 2 and x.dtype in _FLOATS and _per_row_or_scalar(scale, x.shape[0])
            and isinstance(zero_point, (int, _np.integer))):
        return kernels.quantize_rows(x, scale, zero_point)
    return _ref.quantize_rows(x, scale, zero_point)


def _requant_args_ok(m, n, row_scale, col_scale, bias):
    return (_per_row_or_scalar(row_scale, m) and _per_row_or_scalar(col_scale, n)
            and (bias is None or (_np.asarray(bias).shape == (n,) and _np.asarray(bias).dtype == _np.float32)))


def requantize(acc, row_scale, col_scale, bias=None, relu_after=False):
    """y = acc * s_row[:, None] * s_col[None, :] + b (then relu) as float32."""
    if acc.ndim == 2 and acc.dtype == _np.int32 and _requant_args_ok(*acc.shape, row_scale, col_scale, bias):
        return kernels.requantize(acc, row_scale, col_scale, bias, relu_after)
    return _ref.requantize(acc, row_scale, col_scale, bias, relu_after)


def int8_linear(xq, wq, row_scale, col_scale, bias=None, relu_after=False):
    """y = requantize(xq Wq^T, row_scale, col_scale, bias, relu_after): int8 GEMM with the
    requantization fused into its write."""
    if (xq.ndim == 2 and wq.ndim == 2 and xq.dtype == wq.dtype == _np.int8 and xq.shape[1] == wq.shape[1]
            and _requant_args_ok(xq.shape[0], wq.shape[0], row_scale, col_scale, bias)):
        return kernels.int8_linear(xq, wq, row_scale, col_scale, bias, relu_after,
                                   num_threads=threads.get_num_threads())
    return _ref.int8_linear(xq, wq, row_scale, col_scale, bias, relu_after)

def pack_int8_weight(wq):
    """numpy_ref.pack_int8_weight: W packed once for the int8 kernels (kernels.PackedInt8Weight)."""
    if type(wq) is _np.ndarray and wq.dtype == _np.int8 and wq.ndim == 2:
        return kernels.PackedInt8Weight(wq)
    return _ref.pack_int8_weight(wq)


def quantized_linear(x, packed, x_scale, x_zero_point, w_scale, bias=None, activation_name="none"):
    """numpy_ref.quantized_linear on the int8 kernels (u7 x s8, fused epilogue) for 2-D float32 x."""
    if (isinstance(packed, kernels.PackedInt8Weight) and type(x) is _np.ndarray and x.dtype == _np.float32
            and x.ndim == 2 and 0 <= x_zero_point <= 127):
        return kernels.quantized_linear(x, packed, x_scale, x_zero_point, w_scale, bias, activation_name,
                                        num_threads=threads.get_num_threads())
    return _ref.quantized_linear(x, packed, x_scale, x_zero_point, w_scale, bias, activation_name)


# ---------------------------------------------------------------- softmax family (kernels/softmax.pxi)
def _last(x, axis, *more):
    return _kernel_ok(x, *more) and x.ndim >= 1 and (axis == -1 or axis == x.ndim - 1)


def softmax(x, axis=-1):
    """numpy_ref.softmax; the compiled kernel along the last axis, the reference otherwise."""
    return kernels.softmax(x) if _last(x, axis) else _ref.softmax(x, axis)


def log_softmax(x, axis=-1):
    """numpy_ref.log_softmax; the compiled kernel along the last axis, the reference otherwise."""
    return kernels.log_softmax(x) if _last(x, axis) else _ref.log_softmax(x, axis)


def softmax_backward(y, grad, axis=-1):
    """numpy_ref.softmax_backward; compiled along the last axis."""
    return kernels.softmax_backward(y, grad) if _last(y, axis, grad) else _ref.softmax_backward(y, grad, axis)


def log_softmax_backward(y, grad, axis=-1):
    """numpy_ref.log_softmax_backward; compiled along the last axis."""
    return kernels.log_softmax_backward(y, grad) if _last(y, axis, grad) else _ref.log_softmax_backward(y, grad, axis)


def cross_entropy(logits, target, label_smoothing=0.0):
    """numpy_ref.cross_entropy; the fused kernel for float32/float64 logits (it checks the targets)."""
    if _same_float(logits):
        return kernels.cross_entropy(logits, target, label_smoothing)
    return _ref.cross_entropy(logits, target, label_smoothing)


def cross_entropy_backward(probs, target, label_smoothing, grad):
    """numpy_ref.cross_entropy_backward; the fused kernel for float32/float64 probabilities."""
    if _same_float(probs):
        return kernels.cross_entropy_backward(probs, target, label_smoothing, grad)
    return _ref.cross_entropy_backward(probs, target, label_smoothing, grad)


# ---------------------------------------------------------------- optimizer updates (kernels/optim.pxi)
sgd_step = kernels.sgd_step
adam_step = kernels.adam_step
sgd_step_multi = kernels.sgd_step_multi
adam_step_multi = kernels.adam_step_multi
