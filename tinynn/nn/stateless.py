"""torch.nn.utils.stateless.functional_call (and torch.func.functional_call, tinynn/func): call a module
with some of its parameters and buffers replaced by given tensors, for that call only.

    out = functional_call(model, {"fc.weight": W, "fc.bias": b}, (x,))

y = f(x; theta') where theta' is the module's state with the given entries swapped in; the module is
left exactly as it was afterwards (even if forward raises), and gradients flow to the given tensors,
so `grad(loss(functional_call(model, params, x)), params.values())` differentiates with respect to them.
"""
import contextlib
import warnings

import numpy as np

from ..tensor import Tensor
from .module import Module

__all__ = ["functional_call"]

_MISSING = object()


def _untie(module, values):
    """Tensors registered under several names (tied weights) get the value given for any one of them;
    different values for names of one tied tensor are a ValueError."""
    names = {}
    for name, t in _named_all(module):
        names.setdefault(id(t), set()).add(name)
    tied = {name: group for group in names.values() if len(group) > 1 for name in group}
    given = [name for name in values if name in tied]
    for name in given:
        group = tied[name]
        if len({id(values[n]) for n in group if n in values}) > 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(group)}, which are tied. "
                             "Consider using tie_weights=False")
    untied = dict(values)
    for name in given:
        for other in tied[name]:
            untied[other] = values[name]
    return untied


def _named_all(module):
    """(qualified name, tensor) for every parameter and buffer, a shared one under each of its names."""
    for prefix, m in module.named_modules(remove_duplicate=False):
        pre = f"{prefix}." if prefix else ""
        for kind in ("_parameters", "_buffers"):
            for name, t in m.__dict__[kind].items():
                if t is not None:
                    yield pre + name, t


def _swap(module, name, value):
    """Put `value` (or _MISSING: remove) at module.<name>; returns what was there (_MISSING if nothing)."""
    d = module.__dict__
    for kind in ("_parameters", "_buffers"):
        table = d[kind]
        if name in table:
            old = table[name]
            if value is _MISSING:
                del table[name]
                d.pop(name, None)
            else:
                table[name] = value
                object.__setattr__(module, name, value)
            return old
    old = getattr(module, name, _MISSING)
    if old is not _MISSING and old is not None and not isinstance(old, (Tensor, np.ndarray)):
        raise TypeError(f"functional_call: attribute `{name}` of {type(module).__name__} is a "
                        f"{type(old).__name__}, not a Tensor")
    if value is not _MISSING:
        setattr(module, name, value)
    elif hasattr(module, name):
        delattr(module, name)
    return old


def _owner(module, path):
    prefix, _, name = path.rpartition(".")
    owner = module
    for part in prefix.split(".") if prefix else ():
        owner = getattr(owner, part, None)
        if not isinstance(owner, Module):
            raise AttributeError(f"functional_call: {type(module).__name__} has no sub-module {prefix!r} "
                                 f"(for the key {path!r})")
    return owner, name


@contextlib.contextmanager
def _reparametrize_module(module, values, tie_weights=False, strict=False):
    """Inside the block, module.<key> is values[key] for every key; afterwards each is what it was, and
    a key the module rebound during the block (module.foo = module.foo + 1) has the new value in `values`."""
    untied = _untie(module, values) if tie_weights else values
    if strict:
        valid = {name for name, _ in _named_all(module)}
        missing, unexpected = sorted(valid - set(untied)), sorted(set(untied) - valid)
        errors = []
        if unexpected:
            errors.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
        if missing:
            errors.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
        if errors:
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n\t" + "\n\t".join(errors))
    originals = {}
    try:
        for path, value in untied.items():
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"functional_call: the value for {path!r} is a {type(value).__name__}, not a Tensor")
            owner, name = _owner(module, path)
            originals[path] = _swap(owner, name, value)
        yield
    finally:
        for path, old in reversed(list(originals.items())):
            owner, name = _owner(module, path)
            new = _swap(owner, name, old)
            if path in values and new is not _MISSING:
                values[path] = new


def _functional_call(module, parameters_and_buffers, args=None, kwargs=None, *, tie_weights=True, strict=False):
    if not isinstance(module, Module):
        raise TypeError(f"functional_call: expected an nn.Module, got {type(module).__name__}")
    kwargs = {} if kwargs is None else kwargs
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    with _reparametrize_module(module, parameters_and_buffers, tie_weights=tie_weights, strict=strict):
        return module(*args, **kwargs)


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """module(*args, **kwargs) with module.<key> = parameters_and_buffers[key] for each (dotted) key, the
    module restored afterwards (even if forward raises). args that is not a tuple is one argument.
    tie_weights: a tensor registered under several names takes the value given for any of them (two
    different values are a ValueError); strict: the keys must be exactly the module's parameters and buffers
    (else RuntimeError naming the missing and unexpected ones). A key naming a parametrized tensor assigns
    through its right_inverse, as in PyTorch; to feed the parametrization use
    `<path>.parametrizations.<name>.original`.

    Deprecated in PyTorch 2 (a FutureWarning) for torch.func.functional_call (tinynn.func.functional_call)."""
    warnings.warn("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will be removed "
                  "in a future version of PyTorch. Please use `torch.func.functional_call` instead which is a "
                  "drop-in replacement.", FutureWarning, stacklevel=2)
    return _functional_call(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict)
