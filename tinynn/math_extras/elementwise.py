"""PyTorch's elementwise math and products composed of tinynn's ops (their gradients, to any order, are the
ops'): PyTorch's other spellings (absolute, multiply, fix, ...), positive, rsub, frexp, gcd/lcm and the bit
shifts (integers: no gradient), addcmul/addcdiv/addr/addbmm, dot/vdot/inner, dist, diff and renorm."""
from collections import namedtuple

import numpy as np

from ..dtypes import result_type
from ..tensor import Tensor
from .. import backend
from ..ops.dims import one_dim
from ..ops.linalg import vector_norm
from ..ops.math_more import Frexp
from ..ops.matmul import MatMul
from ..ops.pairwise import _broadcast
from ..ops.products import _add_product, outer, tensordot
from ..ops.shape import Concatenate, Where

FrexpResult = namedtuple("frexp", ["mantissa", "exponent"])  # torch.return_types.frexp


def frexp(self):
    """(mantissa, exponent): self = mantissa 2^exponent, 1/2 <= |mantissa| < 1, exponent int32."""
    if self.dtype.kind != "f":
        raise RuntimeError(f"frexp: only supports floating-point dtypes, got {self.dtype}")
    return FrexpResult(Frexp.apply(self), Tensor._wrap(backend.active.frexp(self._data)[1], False))


def _integer_op(op, kernel):
    """self <op> other for integer operands in their PyTorch result type (no gradient: integer-valued)."""
    def method(self, other):
        dtype = result_type(self, other)
        if dtype.kind not in "iu":
            raise TypeError(f"{op}: not implemented for {dtype} (needs integer tensors, as in PyTorch)")
        a, b = (np.asarray(t._data if isinstance(t, Tensor) else t).astype(dtype, copy=False) for t in (self, other))
        _broadcast(op, a, b)
        return Tensor._wrap(np.asarray(getattr(backend.active, kernel)(a, b)), False)
    method.__name__ = method.__qualname__ = op
    method.__doc__ = {"gcd": "gcd(a, b) >= 0, the greatest common divisor (gcd(0, 0) = 0).",
                      "lcm": "lcm(a, b) = |a b| / gcd(a, b) (0 when either is 0), wrapping in the integer type.",
                      "bitwise_left_shift": "a 2^b in a's integer type (wrapping); 0 for b < 0 or b >= the bit width.",
                      "bitwise_right_shift": "floor(a / 2^b); for b < 0 or b >= the bit width, -1 where a < 0, "
                                             "else 0."}[op]
    return method


gcd, lcm = _integer_op("gcd", "gcd"), _integer_op("lcm", "lcm")
left_shift = _integer_op("bitwise_left_shift", "left_shift")
right_shift = _integer_op("bitwise_right_shift", "right_shift")


def _fused(op, self, tensor1, tensor2, value, combine):
    """self + combine(value tensor1, tensor2), in the three operands' result type (PyTorch truncates a
    float value to an integer for an integer result)."""
    dtype = result_type(self, tensor1, tensor2)
    if dtype == np.bool_:
        raise TypeError(f"{op}: not implemented for bool tensors (as in PyTorch)")
    if dtype.kind != "f" and not isinstance(value, Tensor):
        value = int(value)
    return self + combine(tensor1 if isinstance(value, (int, float)) and value == 1 else tensor1 * value, tensor2)


def addcmul(self, tensor1, tensor2, *, value=1):
    """input + value tensor1 tensor2, elementwise (broadcast)."""
    return _fused("addcmul", self, tensor1, tensor2, value, lambda a, b: a * b)


def addcdiv(self, tensor1, tensor2, *, value=1):
    """input + value tensor1 / tensor2, elementwise (broadcast); a true division, refused for two integer
    tensors as PyTorch does."""
    if all(np.dtype(getattr(t, "dtype", np.asarray(t).dtype)).kind in "biu" for t in (tensor1, tensor2)):
        raise RuntimeError("addcdiv: integer division with addcdiv is no longer supported; use "
                           "(input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) or a float tensor")
    return _fused("addcdiv", self, tensor1, tensor2, value, lambda a, b: a / b)


def addr(self, vec1, vec2, *, beta=1, alpha=1):
    """beta input + alpha vec1 vec2^T (input broadcast to the outer product's shape; ignored, NaN too, when
    beta = 0); the operands promote as PyTorch's."""
    p = outer(vec1, vec2)
    if p.dtype.kind in "iu" and any(isinstance(v, float) for v in (beta, alpha)):
        raise RuntimeError(f"addr: for integer tensors beta and alpha must be integers, got {beta} and {alpha}")
    p = p if alpha == 1 else p * alpha
    try:
        start = self.expand(*p.shape)
    except (ValueError, RuntimeError):
        raise RuntimeError(f"addr: input of shape {tuple(self.shape)} does not broadcast to {tuple(p.shape)}") from None
    if beta == 0:  # the gradient of input is 0, not None, as PyTorch's
        return Where.apply(p, start, condition=np.ones((), bool))
    return p + (start if beta == 1 else start * beta)


def _batch_sum(b1, b2):
    if b1.shape[0] != b2.shape[0]:
        raise RuntimeError(f"addbmm: batch1 and batch2 must have the same number of batches, got {b1.shape[0]} "
                           f"and {b2.shape[0]}")
    return MatMul.apply(b1, b2).sum(0)


addbmm = _add_product("addbmm", _batch_sum, (3, 3))  # beta input + alpha sum_b batch1[b] @ batch2[b]


def _vector_product(op):
    def method(self, other):
        if self.ndim != 1 or other.ndim != 1:
            raise RuntimeError(f"{op}: 1D tensors expected, but got {self.ndim}D and {other.ndim}D tensors")
        if self.dtype != other.dtype:
            raise RuntimeError(f"{op}: expected both vectors to have same dtype, but found {self.dtype} and "
                               f"{other.dtype}")
        if self.shape != other.shape:
            raise RuntimeError(f"{op}: inconsistent tensor size, expected {self.shape[0]} and {other.shape[0]} "
                               "to match")
        if self.dtype == np.bool_:
            raise TypeError(f"{op}: not implemented for bool tensors (as in PyTorch)")
        return MatMul.apply(self, other)
    method.__name__ = method.__qualname__ = op
    method.__doc__ = f"{op}(x, y) = sum_i x_i y_i of two 1-D tensors of one dtype and size" + \
        (" (real tensors: conj(x) = x)." if op == "vdot" else ".")
    return method


dot, vdot = _vector_product("dot"), _vector_product("vdot")


def inner(self, other):
    """sum_k a[..., k] b[..., k] over the last dims (result shape a.shape[:-1] + b.shape[:-1]); a 0-d operand
    multiplies."""
    if self.ndim == 0 or other.ndim == 0:
        return self * other
    if self.dtype != other.dtype:
        raise RuntimeError(f"inner: both inputs should have same dtype, got {self.dtype} and {other.dtype}")
    if self.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner: the last dimension must match on both input tensors but got shapes "
                           f"{list(self.shape)} and {list(other.shape)}")
    return tensordot(self, other, dims=([-1], [-1]))


def dist(self, other, p=2):
    """||input - other||_p over every element (broadcast): (sum_i |d_i|^p)^(1/p), p = inf: max |d_i|,
    -inf: min |d_i|, 0: the number of nonzero d_i."""
    if result_type(self, other).kind != "f":
        raise RuntimeError(f"dist: expects floating-point tensors, got {result_type(self, other)}")
    return vector_norm(self - other, p)


def diff(self, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along dim, out_i = x_{i+1} - x_i applied n times (x_{i+1} != x_i for bool),
    after prepend and append (of input's number of dims) are joined to input along dim."""
    if self.ndim == 0:
        raise RuntimeError("diff: expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"diff: order must be non-negative but got {n}")
    d = one_dim("diff", dim, self.ndim)
    parts = [t for t in (prepend, self, append) if t is not None]
    if any(t.ndim != self.ndim for t in parts):
        raise RuntimeError(f"diff: expects prepend or append to be the same dimension as input ({self.ndim})")
    x = Concatenate.apply(*parts, axis=d) if len(parts) > 1 else self
    for _ in range(n):
        k = x.shape[d]
        if k == 0:
            break
        later, earlier = x.narrow(d, 1, k - 1), x.narrow(d, 0, k - 1)
        x = (later != earlier) if x.dtype == np.bool_ else later - earlier
    return self.clone() if x is self else x  # n = 0: a copy, as PyTorch's


def renorm(self, p, dim, maxnorm):
    """Each slice x_i = input.select(dim, i) with ||x_i||_p > maxnorm scaled to maxnorm: x_i maxnorm /
    (||x_i||_p + 1e-7), the others unchanged (the gradient goes through the norm, as PyTorch's)."""
    if self.ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {self.ndim} dimensions")
    if self.dtype.kind != "f":
        raise TypeError(f"renorm: needs a floating-point tensor, got {self.dtype}")
    if not p > 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported (p = {p})")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    d = one_dim("renorm", dim, self.ndim)
    norms = vector_norm(self, p, tuple(i for i in range(self.ndim) if i != d), keepdim=True)
    return self * Where.apply(maxnorm / (norms + 1e-7), 1.0, condition=norms._data > maxnorm)


def positive(self):
    """+x: x itself (a bool tensor refused, as PyTorch's)."""
    if self.dtype == np.bool_:
        raise RuntimeError("positive: the `+` operator, on a bool tensor is not supported")
    return self


def rsub(input, other, *, alpha=1):  # noqa: A002 - PyTorch's argument name
    """other - alpha input."""
    input = input if isinstance(input, Tensor) else Tensor._wrap(np.asarray(input), False)  # noqa: A001
    return other - (input if alpha == 1 else input * alpha)


def _alias(name):
    def method(self, *args, **kwargs):
        return getattr(self, name)(*args, **kwargs)
    method.__doc__ = f"The same as Tensor.{name}."
    return method


METHODS = {name: _alias(target) for name, target in (
    ("absolute", "abs"), ("negative", "neg"), ("multiply", "mul"), ("divide", "div"), ("subtract", "sub"),
    ("greater_equal", "ge"), ("less_equal", "le"), ("not_equal", "ne"), ("fix", "trunc"))}
METHODS.update(positive=positive, frexp=frexp, gcd=gcd, lcm=lcm, bitwise_left_shift=left_shift,
               bitwise_right_shift=right_shift, __lshift__=left_shift, __rshift__=right_shift,
               __rlshift__=lambda self, other: left_shift(Tensor._wrap(np.asarray(other), False), self),
               __rrshift__=lambda self, other: right_shift(Tensor._wrap(np.asarray(other), False), self),
               addcmul=addcmul, addcdiv=addcdiv, addr=addr, addbmm=addbmm, dot=dot, vdot=vdot, inner=inner,
               dist=dist, diff=diff, renorm=renorm)
FUNCTION_NAMES = tuple(name for name in METHODS if not name.startswith("__"))  # torch.<name>(input, ...)
FUNCTIONS = {"rsub": rsub}
