"""torch.nn.utils.parametrize: a parameter (or buffer) computed from other tensors on every read.

    class Symmetric(nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).mT            # W = triu(X) + triu(X, 1)^T

    parametrize.register_parametrization(layer, "weight", Symmetric())
    layer.weight                       # computed: f(layer.parametrizations.weight.original)

As in PyTorch, registering swaps the module's class for a subclass `Parametrized<Class>` holding one
property per parametrized name: reading it runs the chain W = f_n(... f_1(original)), assigning to it
runs the right inverses backwards, original = f_1^-1(... f_n^-1(W)). The tensor the chain starts
from lives in `module.parametrizations.<name>.original` (`original0`, `original1`, ... when the first
parametrization's `right_inverse` returns a tuple), which is what `parameters()` and `state_dict()`
see: the keys are `parametrizations.<name>.original`. `cached()` computes each parametrized tensor
once per block (Lezcano-Casado, "Trivializations for Gradient-Based Optimization on Manifolds", 2019).
"""
import contextlib
import copy
import copyreg
from collections.abc import Sequence

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor
from .containers import ModuleDict, ModuleList
from .module import Module
from .parameter import Parameter

__all__ = ["register_parametrization", "remove_parametrizations", "is_parametrized", "cached",
           "type_before_parametrizations", "ParametrizationList"]

_cache_enabled = 0
_cache = {}  # (id(module), name) -> the tensor computed inside the innermost cached() block


@contextlib.contextmanager
def cached():
    """Inside the block, each parametrized tensor is computed once, on its first read, and that tensor is
    returned on every later read (useful when a weight is used several times per forward, as in an RNN);
    the cache empties when the outermost block ends."""
    global _cache, _cache_enabled
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache = {}


def _set_data(dest, src):
    """dest takes src's values and memory (PyTorch's dest.set_(src)): dest stays the same object, so an
    optimizer holding it keeps working."""
    if dest is not src:
        dest._data = src._data


def _register_parameter_or_buffer(module, name, value):
    if isinstance(value, Parameter):
        module.register_parameter(name, value)
    else:
        module.register_buffer(name, value)


def _check_value(what, value, dtype, shape, unsafe_hint):
    if not isinstance(value, Tensor):
        raise ValueError(f"{what} must return a tensor. Got {type(value).__name__}.")
    if value.dtype != dtype:
        raise ValueError(f"{what} may not change the dtype of the tensor{unsafe_hint}: expected dtype {dtype}, "
                         f"got {value.dtype}")
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise ValueError(f"{what} may not change the shape of the tensor{unsafe_hint}: expected shape "
                         f"{tuple(shape)}, got {tuple(value.shape)}")


class ParametrizationList(ModuleList):
    """The parametrizations f_1, ..., f_n of one tensor and the tensor(s) they start from: calling it gives
    f_n(... f_2(f_1(original))) (f_1(original0, original1, ...) when f_1's right_inverse returned a sequence).

    Built from `original` by original <- f_1^-1(... f_n^-1(original)) with each right_inverse that exists
    (a missing one, or one raising NotImplementedError, counts as the identity), under no_grad; a single
    result keeps the original Parameter object and takes the new values. Unless `unsafe`, calling it
    must give back the original's shape and dtype."""

    def __init__(self, modules, original, unsafe=False):
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        shape, dtype = original.shape, original.dtype
        with no_grad():
            new = original
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    try:
                        new = module.right_inverse(new)
                    except NotImplementedError:
                        pass
        if not isinstance(new, (Tensor, Sequence)):
            raise ValueError("'right_inverse' must return a Tensor or a Sequence of tensors (list, tuple...). "
                             f"Got {type(new).__name__}")
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if new.dtype != original.dtype:
                raise ValueError("When `right_inverse` outputs one tensor, it may not change the dtype.\n"
                                 f"original.dtype: {original.dtype}\nright_inverse(original).dtype: {new.dtype}")
            _set_data(original, new)
            _register_parameter_or_buffer(self, "original", original)
        else:
            for i, item in enumerate(new):
                if not isinstance(item, Tensor):
                    raise ValueError("'right_inverse' must return a Tensor or a Sequence of tensors (list, "
                                     f"tuple...). Got element {i} of the sequence with type {type(item).__name__}.")
                if isinstance(original, Parameter):
                    item = Parameter(item, original.requires_grad)
                item.requires_grad_(original.requires_grad)
                _register_parameter_or_buffer(self, f"original{i}", item)
        if not self.unsafe:
            _check_value("Registering a parametrization", self(), dtype, shape,
                         ", unless `unsafe` flag is enabled")

    def right_inverse(self, value):
        """Assign `value` to the parametrized tensor: original(s) <- f_1^-1(... f_n^-1(value)), in place,
        under no_grad; RuntimeError if some f_i has no right_inverse."""
        with no_grad():
            for module in reversed(list(self)):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(module).__name__} does not implement right_inverse.")
                value = module.right_inverse(value)
            if self.is_tensor:
                if not isinstance(value, Tensor):
                    raise ValueError(f"`right_inverse` should return a tensor. Got {type(value).__name__}")
                if value.dtype != self.original.dtype:
                    raise ValueError(f"The tensor returned by `right_inverse` has dtype {value.dtype} while "
                                     f"`original` has dtype {self.original.dtype}")
                _set_data(self.original, value)
                return
            if not isinstance(value, Sequence):
                raise ValueError(f"'right_inverse' must return a sequence of tensors. Got {type(value).__name__}.")
            if len(value) != self.ntensors:
                raise ValueError(f"'right_inverse' must return a sequence of tensors of length {self.ntensors}. "
                                 f"Got a sequence of length {len(value)}.")
            for i, tensor in enumerate(value):
                original = getattr(self, f"original{i}")
                if not isinstance(tensor, Tensor):
                    raise ValueError(f"'right_inverse' must return a sequence of tensors. Got element {i} of type "
                                     f"{type(tensor).__name__}.")
                if tensor.dtype != original.dtype:
                    raise ValueError(f"Tensor {i} returned by `right_inverse` has dtype {tensor.dtype} while "
                                     f"`original{i}` has dtype {original.dtype}")
                _set_data(original, tensor)

    def forward(self):
        """W = f_n(... f_2(f_1(original))): differentiable with respect to the original(s)."""
        funcs = list(self)
        if self.is_tensor:
            x = funcs[0](self.original)
        else:
            x = funcs[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for f in funcs[1:]:
            x = f(x)
        return x


def _deepcopy(self, memo):
    """copy.deepcopy of a parametrized module (its class refuses pickling): a new object of the same
    class with a deep copy of the instance dictionary."""
    found = memo.get(id(self))
    if found is not None:
        return found
    replica = self.__new__(self.__class__)
    memo[id(self)] = replica
    replica.__dict__ = copy.deepcopy(self.__dict__, memo)
    for slot in copyreg._slotnames(self.__class__):
        if hasattr(self, slot):
            setattr(replica, slot, copy.deepcopy(getattr(self, slot), memo))
    return replica


def _getstate(self):
    raise RuntimeError("Serialization of parametrized modules is only supported through state_dict(): save "
                       "module.state_dict() and load it into a module parametrized the same way")


def _setattr(self, name, value):
    """A parametrized name takes a value through its right inverse; a Parameter cannot replace it."""
    params = self.__dict__.get("_modules", {}).get("parametrizations")
    if isinstance(params, ModuleDict) and name in params:
        if isinstance(value, (Parameter, Module)):
            raise KeyError(f"attribute '{name}' already exists (it is parametrized; assign a Tensor, which goes "
                           "through the parametrization's right_inverse, or remove the parametrization first)")
        object.__setattr__(self, name, value)
    else:
        super(type(self), self).__setattr__(name, value)


def _inject_new_class(module):
    cls = module.__class__
    attrs = {"__getstate__": _getstate, "__setattr__": _setattr}
    if not hasattr(cls, "__deepcopy__"):
        attrs["__deepcopy__"] = _deepcopy
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), attrs)


def _inject_property(module, tensor_name):
    if hasattr(module, tensor_name):
        raise RuntimeError(f"register_parametrization: module already has an attribute named '{tensor_name}'")

    def get_parametrized(self):
        parametrization = self.parametrizations[tensor_name]
        if not _cache_enabled:
            return parametrization()
        key = (id(self), tensor_name)
        tensor = _cache.get(key)
        if tensor is None:
            tensor = _cache[key] = parametrization()
        return tensor

    def set_original(self, value):
        self.parametrizations[tensor_name].right_inverse(value)

    setattr(module.__class__, tensor_name, property(get_parametrized, set_original))


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Make `module.<tensor_name>` the value of `parametrization` (a Module) applied to the tensor it replaces,
    recomputed on every read; a second registration on the same name appends to the chain
    W = f_n(... f_1(original)). Without `unsafe`, each f_i must keep the tensor's shape and dtype (checked
    now). `parametrization.right_inverse(W)`, if present, maps a value back (original = f^-1(W) with
    f(f^-1(W)) = W): it initialises original and runs when a value is assigned to the name; it may return a
    tuple, registered as original0, original1, .... Returns the module."""
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            Y = getattr(module, tensor_name)
            X = parametrization(Y)
            _check_value("Registering a parametrization", X, Y.dtype, Y.shape, ", unless the `unsafe` flag is enabled")
            if hasattr(parametrization, "right_inverse"):
                try:
                    Z = parametrization.right_inverse(X)
                except NotImplementedError:
                    pass
                else:
                    _check_value("parametrization.right_inverse", Z, Y.dtype, Y.shape,
                                 ", unless the `unsafe` flag is enabled")
        module.parametrizations[tensor_name].append(parametrization)
        module.parametrizations[tensor_name].unsafe |= unsafe
    elif tensor_name in module._buffers or tensor_name in module._parameters:
        original = getattr(module, tensor_name)
        if isinstance(original, np.ndarray):  # tinynn allows ndarray buffers; a parametrization works on Tensors
            original = Tensor._wrap(original, False)
        if original is None:
            raise ValueError(f"register_parametrization: {type(module).__name__}.{tensor_name} is None")
        parametrizations = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _inject_new_class(module)
            module.parametrizations = ModuleDict()
        _inject_property(module, tensor_name)
        module.parametrizations[tensor_name] = parametrizations
    else:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a parametrized element with "
                         f"name '{tensor_name}'")
    return module


def is_parametrized(module, tensor_name=None):
    """Whether `module` has any parametrization (tensor_name=None), or one on `tensor_name`."""
    parametrizations = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(parametrizations, ModuleDict):
        return False
    return len(parametrizations) > 0 if tensor_name is None else tensor_name in parametrizations


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Undo the parametrizations of `tensor_name`: it becomes a plain Parameter (or buffer) again, holding
    the current parametrized value W (leave_parametrized=True; the original Parameter object keeps its
    identity and takes W's values) or the unparametrized original (False; impossible when right_inverse
    made several originals: ValueError). The last removal restores the module's class. Returns the module."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    parametrizations = module.parametrizations[tensor_name]
    if parametrizations.is_tensor:
        original = parametrizations.original
        if leave_parametrized:
            with no_grad():
                t = getattr(module, tensor_name)
            _set_data(original, t)
    elif leave_parametrized:
        t = getattr(module, tensor_name)
        original = Parameter(t.detach(), True) if t.requires_grad else t
    else:
        raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor that is parametrized "
                         "in terms of a sequence of tensors.")
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    _register_parameter_or_buffer(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = module.__class__.__bases__[0]
    return module


def type_before_parametrizations(module):
    """The module's class before any parametrization was registered (type(module) if none is)."""
    return module.__class__.__bases__[0] if is_parametrized(module) else type(module)
