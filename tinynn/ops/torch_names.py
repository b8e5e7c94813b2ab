"""PyTorch's names for the ops of issue 15: Tensor methods (`x.sin()`, `x.gather(1, i)`, `x % y`)
and the `tn.` functions that call them (`tn.sin(x)`, `tn.maximum(a, b)`). methods.py sets
METHODS on Tensor; tinynn/__init__.py exports FUNCTIONS. A name in neither raises Python's own
AttributeError, which names it (methods.py says why Tensor has no __getattr__)."""
from ..creation import tensor
from ..tensor import Tensor
from . import extremum, index, pairwise, statistics, views
from .arithmetic import Add, Sub, Mul, Div, Pow, Neg
from .matmul import MatMul
from .unary import UNARY


def _method(cls):
    def method(self):
        return cls.apply(self)
    method.__doc__ = cls.__doc__
    return method


METHODS = {name: _method(cls) for name, cls in UNARY.items()}
METHODS.update({
    "arcsin": METHODS["asin"], "arccos": METHODS["acos"], "arctan": METHODS["atan"],
    "rsqrt": lambda self: 1.0 / self.sqrt(), "reciprocal": lambda self: 1.0 / self,
    "add": lambda self, other: Add.apply(self, other), "sub": lambda self, other: Sub.apply(self, other),
    "mul": lambda self, other: Mul.apply(self, other), "div": lambda self, other: Div.apply(self, other),
    "pow": lambda self, exponent: Pow.apply(self, exponent), "neg": lambda self: Neg.apply(self),
    "matmul": lambda self, other: MatMul.apply(self, other), "mm": lambda self, other: MatMul.apply(self, other),
    "bmm": lambda self, other: MatMul.apply(self, other),
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
    "split": views.split, "narrow": views.narrow,
    "gather": index.gather, "scatter": index.scatter, "index_select": index.index_select,
    "masked_fill": index.masked_fill,
    "max": extremum.max, "min": extremum.min, "amax": extremum.amax, "amin": extremum.amin,
    "argmax": extremum.argmax, "argmin": extremum.argmin,
})

# torch.<name>(input, ...) is input.<name>(...) for these
FUNCTION_NAMES = (
    *UNARY, "arcsin", "arccos", "arctan", "rsqrt", "reciprocal", "exp", "log", "sqrt", "abs", "sigmoid", "tanh",
    "relu", "add", "sub", "mul", "div", "pow", "neg", "matmul", "mm", "bmm", "numel", "detach", "maximum", "minimum", "remainder",
    "floor_divide", "clamp", "clip", "sum", "mean", "prod", "var", "std", "logsumexp", "norm", "all", "any",
    "cumsum", "cumprod", "max", "min", "amax", "amin", "argmax", "argmin", "unsqueeze", "squeeze", "flatten",
    "unflatten", "reshape", "chunk", "split", "narrow", "gather", "scatter", "index_select", "masked_fill",
    "transpose", "permute", "t", "softmax", "log_softmax",
)


def _function(name):
    def function(input, *args, **kwargs):  # noqa: A002 - PyTorch's argument name
        return getattr(input if isinstance(input, Tensor) else tensor(input), name)(*args, **kwargs)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"tn.{name}(input, ...) = input.{name}(...)."
    return function


FUNCTIONS = {name: _function(name) for name in FUNCTION_NAMES}
