"""PyTorch's names for the ops of issue 15: Tensor methods (`x.sin()`, `x.gather(1, i)`, `x % y`)
and the `tn.` functions that call them (`tn.sin(x)`, `tn.maximum(a, b)`). methods.py sets
METHODS on Tensor; tinynn/__init__.py exports FUNCTIONS. A name in neither raises Python's own
AttributeError, which names it (methods.py says why Tensor has no __getattr__)."""
import numpy as np

from ..creation import NEW_METHODS, tensor
from ..tensor import Tensor
from . import counting, diagonals, einsum, extremum, index, linalg, logical, pairwise, products, selection, sorting, statistics, views
from . import inplace_more, math_more  # acosh, atan2, fmax, ..., and the in-place math (Tensor.sin_, ...)
from .arithmetic import Add, Sub, Mul, Div, Pow, Neg
from .matmul import MatMul
from .unary import UNARY


_INV_LN10 = float(1.0 / np.log(10.0))


def _scaled(other, alpha):
    """alpha * other, for add/sub's `alpha=` (other itself when alpha is 1)."""
    return other if alpha == 1 else Mul.apply(other, alpha)


def _div(self, other, *, rounding_mode=None):
    """self / other; rounding_mode "floor" is floor_divide, "trunc" rounds toward 0 (PyTorch's div)."""
    if rounding_mode is None:
        return Div.apply(self, other)
    if rounding_mode == "floor":
        return pairwise.floor_divide(self, other)
    if rounding_mode == "trunc":  # floor, moved up by 1 where a negative quotient was not exact
        q = pairwise.floor_divide(self, other)
        if q.dtype.kind == "f":
            return Div.apply(self, other).detach().trunc()
        a, b = (t._data if isinstance(t, Tensor) else np.asarray(t) for t in (self, other))
        return Tensor._wrap(np.asarray(q._data + ((q._data < 0) & (q._data * b != a))).astype(q.dtype), False)
    raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")


def _strict_matmul(op, ndim, a, b):
    """mm (two matrices) and bmm (two batches of matrices, the same batch size): matmul without
    its broadcasting, which PyTorch's mm and bmm refuse."""
    shapes = [getattr(t, "shape", np.shape(t)) for t in (a, b)]
    if any(len(s) != ndim for s in shapes) or (ndim == 3 and shapes[0][0] != shapes[1][0]):
        raise RuntimeError(f"{op}: expects two {ndim}-d tensors{' with the same batch size' if ndim == 3 else ''}, "
                           f"got shapes {tuple(shapes[0])} and {tuple(shapes[1])}")
    return MatMul.apply(a, b)


def _method(cls):
    def method(self):
        return cls.apply(self)
    method.__doc__ = cls.__doc__
    return method


METHODS = {name: _method(cls) for name, cls in UNARY.items()}
METHODS.update({
    "arcsin": METHODS["asin"], "arccos": METHODS["acos"], "arctan": METHODS["atan"],
    "rsqrt": lambda self: 1.0 / self.sqrt(), "reciprocal": lambda self: 1.0 / self,
    "add": lambda self, other, *, alpha=1: Add.apply(self, _scaled(other, alpha)),
    "sub": lambda self, other, *, alpha=1: Sub.apply(self, _scaled(other, alpha)),
    "mul": lambda self, other: Mul.apply(self, other), "div": _div, "true_divide": lambda self, other: Div.apply(self, other),
    "square": lambda self: Mul.apply(self, self), "log10": lambda self: self.log() * _INV_LN10, "__abs__": lambda self: self.abs(),
    "pow": lambda self, exponent: Pow.apply(self, exponent), "neg": lambda self: Neg.apply(self),
    "matmul": lambda self, other: MatMul.apply(self, other), "mm": lambda self, other: _strict_matmul("mm", 2, self, other),
    "bmm": lambda self, other: _strict_matmul("bmm", 3, self, other),
    "maximum": lambda self, other: pairwise.Maximum.apply(self, other),
    "minimum": lambda self, other: pairwise.Minimum.apply(self, other),
    "remainder": lambda self, other: pairwise.Remainder.apply(self, other),
    "__mod__": lambda self, other: pairwise.Remainder.apply(self, other),
    "__rmod__": lambda self, other: pairwise.Remainder.apply(other, self),
    "floor_divide": pairwise.floor_divide, "__floordiv__": pairwise.floor_divide,
    "__rfloordiv__": lambda self, other: pairwise.floor_divide(other, self),
    "clamp": pairwise.clamp, "clip": pairwise.clamp,
    "prod": statistics.prod, "var": statistics.var, "std": statistics.std, "logsumexp": statistics.logsumexp,
    "norm": statistics.norm, "all": statistics.all, "any": statistics.any, "cumsum": statistics.cumsum,
    "cumprod": statistics.cumprod,
    "unsqueeze": views.unsqueeze, "squeeze": views.squeeze, "expand": views.expand, "expand_as": views.expand_as,
    "flatten": views.flatten, "unflatten": views.unflatten, "repeat": views.repeat, "chunk": views.chunk,
    "split": views.split, "narrow": views.narrow, "flip": views.flip,
    "gather": index.gather, "scatter": index.scatter, "index_select": index.index_select,
    "masked_fill": index.masked_fill,
    "max": extremum.max, "min": extremum.min, "amax": extremum.amax, "amin": extremum.amin,
    "argmax": extremum.argmax, "argmin": extremum.argmin,
    "nansum": statistics.nansum, "nanmean": statistics.nanmean, "frac": pairwise.frac, "lerp": pairwise.lerp,
    "fmod": lambda self, other: pairwise.Fmod.apply(self, other),
    "roll": views.roll, "movedim": views.movedim, "moveaxis": views.movedim,
    "sort": sorting.sort, "argsort": sorting.argsort, "topk": sorting.topk, "median": sorting.median,
    "diagonal": diagonals.diagonal, "diag": diagonals.diag, "tril": diagonals.tril, "triu": diagonals.triu,
    **logical.METHODS, **NEW_METHODS,
})
METHODS.update({name: getattr(products, name) for name in ("outer", "mv", "addmm", "addmv", "baddbmm", "trace", "cross",
                                                           "kron")}, ger=products.outer, det=linalg.det, inverse=linalg.inv)
METHODS.update(selection.METHODS)
METHODS.update(counting.METHODS)

# torch.<name>(input, ...) is input.<name>(...) for these
FUNCTION_NAMES = (
    *UNARY, "arcsin", "arccos", "arctan", "rsqrt", "reciprocal", "exp", "log", "sqrt", "abs", "sigmoid", "tanh",
    "relu", "add", "sub", "mul", "div", "pow", "neg", "matmul", "mm", "bmm", "numel", "detach", "maximum", "minimum", "remainder",
    "floor_divide", "clamp", "clip", "sum", "mean", "prod", "var", "std", "logsumexp", "norm", "all", "any",
    "cumsum", "cumprod", "max", "min", "amax", "amin", "argmax", "argmin", "unsqueeze", "squeeze", "flatten",
    "unflatten", "reshape", "chunk", "split", "narrow", "gather", "scatter", "index_select", "masked_fill",
    "transpose", "permute", "t", "softmax", "log_softmax", "true_divide", "square", "log10", "flip",
    "nansum", "nanmean", "fmod", "frac", "lerp", "roll", "movedim", "moveaxis", "sort", "argsort", "topk", "median",
    "diagonal", "diag", "tril", "triu", "outer", "ger", "mv", "addmm", "addmv", "baddbmm", "trace", "cross", "kron",
    "det", "inverse", *(name for name in selection.METHODS if not name.endswith("_")),
    *counting.METHODS, *(name for name in logical.METHODS if not name.startswith("__")),
)


def _function(name):
    def function(input, *args, **kwargs):  # noqa: A002 - PyTorch's argument name
        return getattr(input if isinstance(input, Tensor) else tensor(input), name)(*args, **kwargs)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"tn.{name}(input, ...) = input.{name}(...)."
    return function


FUNCTIONS = {name: _function(name) for name in FUNCTION_NAMES}
FUNCTIONS.update(logical.FUNCTIONS)
FUNCTIONS.update(hstack=views.hstack, vstack=views.vstack, dstack=views.dstack)
FUNCTIONS.update(einsum=einsum.einsum, tensordot=products.tensordot, cdist=linalg.cdist, meshgrid=selection.meshgrid,
                 var_mean=selection.var_mean, std_mean=selection.std_mean, **counting.FUNCTIONS)
METHODS.update({**math_more.METHODS, **inplace_more.METHODS})
FUNCTIONS.update({name: _function(name) for name in (*math_more.FUNCTION_NAMES, *inplace_more.FUNCTION_NAMES)})
