"""PyTorch's shape, indexing and introspection names that tinynn/ops/ does not define itself, composed of its
ops (outside the core, which they only use): METHODS become Tensor's methods and properties, FUNCTIONS the
`tn.<name>` functions (tinynn/__init__.py installs both). `tn.<name>(input, ...)` is `input.<name>(...)`
for the names that are both."""
from ..tensor import Tensor
from . import building, indexing, inplace_views, introspection, positions, shape


def _delegate(name):
    def function(input, *args, **kwargs):  # noqa: A002 - PyTorch's argument name
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
        return getattr(input, name)(*args, **kwargs)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"tn.{name}(input, ...) = input.{name}(...)."
    return function


METHODS = {**shape.METHODS, **inplace_views.METHODS, **building.METHODS, **indexing.METHODS, **positions.METHODS,
           **introspection.METHODS}
FUNCTIONS = {name: _delegate(name) for name in (
    "select", "unbind", "tensor_split", "hsplit", "vsplit", "dsplit", "split_with_sizes", "swapaxes", "swapdims",
    "fliplr", "flipud", "rot90", "ravel", "argwhere", "unique_consecutive", "select_scatter", "slice_scatter",
    "diagonal_scatter", *indexing.FUNCTION_NAMES)}
FUNCTIONS.update({**shape.FUNCTIONS, **building.FUNCTIONS, **positions.FUNCTIONS, **introspection.FUNCTIONS})
