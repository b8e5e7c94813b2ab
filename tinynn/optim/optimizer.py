"""Optimizer: parameter groups, per-parameter state, zero_grad, state_dict / load_state_dict.

SGD's and Adam's update rules live in the backend (`sgd_step`, `adam_step`: fused kernels), those of
RMSprop, Adagrad and amsgrad are NumPy in their own modules; all change the parameter arrays in
place, so Parameter objects held elsewhere stay valid."""
import copy

import numpy as np

from ..autograd import enable_grad
from ..tensor import Tensor
from ..utils.grads import grad_array


class Optimizer:
    """Base class: `params` is an iterable of Parameters or of dicts {"params": [...], "lr": ...}
    (parameter groups); options missing from a group take the constructor's defaults."""

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = {}
        self._checked = {}  # parameter -> the array of it last found C-contiguous and writeable
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of Parameters or dicts, got a single Tensor")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        """Add a group {"params": [...], option: value, ...}; a parameter may belong to only one group.
        "params" may hold (name, parameter) pairs, as named_parameters() yields them; the names are kept
        in the group's "param_names" (as PyTorch)."""
        if not isinstance(group, dict):
            raise TypeError(f"{type(self).__name__}: a parameter group must be a dict, got {type(group).__name__}")
        name = type(self).__name__
        params = group["params"]
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: the parameters of a group must be an ordered collection (a list), not a set")
        params = [params] if isinstance(params, Tensor) else list(params)
        names = [q[0] for q in params if isinstance(q, tuple)]  # (name, parameter) pairs: named_parameters()
        if names:
            if len(names) != len(params):
                raise ValueError(f"{name}: all parameters of a group must be given with names, or all without")
            params = [q[1] for q in params]
            group = {**group, "param_names": names}
        if self.param_groups and ("param_names" in group) != ("param_names" in self.param_groups[0]):
            raise ValueError(f"{name}: all parameter groups must be given with names, or all without")
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: can only optimize Tensors, got {type(p).__name__}")
            if p.dtype.kind != "f":
                raise TypeError(f"{name}: can only optimize floating-point tensors, got dtype {p.dtype}")
            if not p.is_leaf:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (one computed by an operation); "
                                 "optimize the leaf it was computed from, or a detach()ed copy")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{type(self).__name__}: some parameters appear in more than one parameter group")
        new = {"params": params}
        for key, default in self.defaults.items():
            new[key] = group.get(key, default)
        for key, value in group.items():
            new.setdefault(key, value)
        self._check_group(new)
        self.param_groups.append(new)

    def _check_group(self, group):
        pass

    def zero_grad(self, set_to_none=True):
        """Clear .grad of every parameter (to None, or to zeros)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad = np.zeros_like(p._data)

    def step(self, closure=None):
        raise NotImplementedError

    def _writable(self, p):
        """p.data as the backend's in-place kernels need it: C-contiguous and writeable
        (checked once per array: reading .flags costs more than the update of a small layer)."""
        a = p._data
        if self._checked.get(p) is a:
            return a
        flags = a.flags
        if not (flags.c_contiguous and flags.writeable):
            a = p._data = np.array(a, order="C", copy=True)
        self._checked[p] = a
        return a

    def _each_gradient(self, new_state):
        """(group, state, param, g) for each parameter that has a gradient, group by group: g its gradient
        (negated under maximize), state its dict ({"step": 0, **new_state(p, group)} at the first step) with
        "step" counted up, param its array to update in place."""
        for group in self.param_groups:
            for p in group["params"]:
                g = grad_array(p, group.get("maximize", False))
                if g is None:
                    continue
                s = self.state.get(p)
                if s is None:
                    s = self.state[p] = {"step": 0, **new_state(p, group)}
                s["step"] += 1
                yield group, s, self._writable(p), g

    def _closure(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ------------------------------------------------------------ state
    def state_dict(self):
        """{"state": {index: {name: value}}, "param_groups": [{option: value, "params": [indices]}]},
        parameters numbered in group order, as in PyTorch. As PyTorch's, the values are Tensors: the
        buffers share memory with the live state (no copy), "step" is a 0-d float32 Tensor."""
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {index[id(p)]: {k: _exported(k, v) for k, v in s.items()} for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore options and state saved by state_dict() (from this or an identically built optimizer);
        state arrays are copied and cast to their parameter's dtype."""
        try:
            saved_groups = state_dict["param_groups"]
            saved_state = state_dict["state"]
        except (KeyError, TypeError):
            raise ValueError(f"{type(self).__name__}.load_state_dict: expected a dict with 'state' and 'param_groups'") from None
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: loaded state has {len(saved_groups)} parameter groups, "
                f"this optimizer has {len(self.param_groups)}"
            )
        lookup = {}
        for i, (mine, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(mine["params"]) != len(saved["params"]):
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: group {i} has {len(saved['params'])} parameters in the "
                    f"loaded state but {len(mine['params'])} here"
                )
            for index, p in zip(saved["params"], mine["params"]):
                lookup[int(index)] = p
        self.state = {}
        for index, s in saved_state.items():
            p = lookup.get(int(index))
            if p is None:
                raise ValueError(f"{type(self).__name__}.load_state_dict: state for unknown parameter index {index}")
            restored = {}
            for key, value in s.items():
                if isinstance(value, Tensor):
                    value = value._data
                # A parameter-shaped buffer stays an array, also for a 0-d parameter (its buffers are
                # 0-d too); "step" and other 0-d values become Python numbers.
                if isinstance(value, np.ndarray) and key != "step" and (value.ndim > 0 or p.ndim == 0):
                    if value.shape != p.shape:
                        raise ValueError(
                            f"{type(self).__name__}.load_state_dict: state {key!r} of parameter {index} has shape "
                            f"{value.shape}, the parameter has shape {p.shape}"
                        )
                    value = value.astype(p.dtype, copy=True)
                elif isinstance(value, np.ndarray):
                    value = value.item()
                if key == "step" and isinstance(value, (float, np.floating)) and float(value).is_integer():
                    value = int(value)  # PyTorch saves the step count as a float tensor
                restored[key] = value
            self.state[p] = restored
        for mine, saved in zip(self.param_groups, saved_groups):
            for key, value in saved.items():
                if key == "param_names":
                    mine[key] = [str(v) for v in value]
                elif key != "params":
                    mine[key] = copy.deepcopy(_plain(value))

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params")
        return "\n".join(lines + [")"])


IMPLEMENTATION_OPTIONS = ("foreach", "fused", "capturable", "differentiable")


def check_implementation(optimizer, options):
    """PyTorch's keywords that choose how an update is computed, not what it is: foreach and fused
    (one fused pass is what tinynn always does), capturable (CUDA graphs) are accepted and change
    nothing; differentiable=True (gradients through step()) is not available; anything else is a TypeError."""
    name = type(optimizer).__name__
    unknown = sorted(set(options) - set(IMPLEMENTATION_OPTIONS))
    if unknown:
        raise TypeError(f"{name}.__init__() got unexpected keyword arguments {unknown}")
    if options.get("differentiable"):
        raise NotImplementedError(f"{name}: differentiable=True (autograd through step()) is not available in tinynn")


def _check_options(name, group, *keys):
    """ValueError naming the optimizer unless every option in `keys` is >= 0 (NaN fails too)."""
    for key in keys:
        if not group[key] >= 0.0:
            raise ValueError(f"{name}: invalid {key} {group[key]!r}; it must be >= 0")


def _exported(key, value):
    """A state value as state_dict() hands it out: arrays as Tensors sharing memory, "step" as PyTorch's
    0-d float32 Tensor, anything else unchanged."""
    if isinstance(value, np.ndarray):
        return Tensor._wrap(value, False)
    if key == "step" and isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return Tensor._wrap(np.array(value, dtype=np.float32), False)
    return value


def _plain(value):
    """numpy scalars / 0-d arrays (as tn.load returns them) back to Python numbers; lists to tuples for betas."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list):
        return tuple(_plain(v) for v in value)
    return value
