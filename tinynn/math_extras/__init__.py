"""PyTorch's math that tinynn/ops/ does not define itself, composed of its ops (outside the core, which they
only use): PyTorch's other spellings, the fused products, dist, diff, renorm, integer functions, and the
statistics (cov, histogram, mode, trapezoid, ...). METHODS become Tensor's methods, FUNCTIONS the
`tn.<name>` functions (tinynn/__init__.py installs both; `tn.<name>(input, ...)` is `input.<name>(...)`
for the names that are both)."""
from ..creation import tensor
from ..tensor import Tensor
from . import elementwise, statistics


def _delegate(name):
    def function(input, *args, **kwargs):  # noqa: A002 - PyTorch's argument name
        return getattr(input if isinstance(input, Tensor) else tensor(input), name)(*args, **kwargs)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"tn.{name}(input, ...) = input.{name}(...)."
    return function


METHODS = {**elementwise.METHODS, **statistics.METHODS}
FUNCTIONS = {name: _delegate(name) for name in (*elementwise.FUNCTION_NAMES, *statistics.METHODS)}
FUNCTIONS.update({**elementwise.FUNCTIONS, **statistics.FUNCTIONS})
