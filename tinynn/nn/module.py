"""Module: the base class of layers and models, holding Parameters and sub-Modules."""
from collections import OrderedDict, namedtuple

import numpy as np

from ..tensor import Tensor
from .module_support import HookHandle as _HookHandle, to_dtype as _to_dtype
from .parameter import Parameter

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class StateDictError(RuntimeError, ValueError):
    """load_state_dict's error: a RuntimeError as PyTorch raises, and a ValueError (tinynn's earlier type)."""


class Module:
    """Base class of every layer and model.

    Assigning a `Parameter` or a `Module` to an attribute registers it (in order), so
    `parameters()`, `state_dict()`, `train()`/`eval()` and `zero_grad()` find it.
    Registered objects also live in the instance `__dict__`, so reading `self.fc1` is a
    plain attribute lookup. Subclasses implement `forward`; call the module, not forward.
    """

    training = True

    def __init__(self):
        d = self.__dict__
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_modules"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["training"] = True

    # ------------------------------------------------------------ registration
    def _registry(self, kind, value):
        try:
            return self.__dict__[kind]
        except KeyError:
            raise AttributeError(
                f"cannot assign {type(value).__name__} before {type(self).__name__}.__init__() called "
                "Module.__init__() (add super().__init__() at the top of __init__)"
            ) from None

    def __setattr__(self, name, value):
        d = self.__dict__
        if isinstance(value, Parameter):
            params = self._registry("_parameters", value)
            d["_modules"].pop(name, None)
            d["_buffers"].pop(name, None)
            params[name] = value
        elif isinstance(value, Module):
            modules = self._registry("_modules", value)
            d["_parameters"].pop(name, None)
            d["_buffers"].pop(name, None)
            modules[name] = value
        elif "_parameters" in d and name in d["_parameters"]:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} to {type(self).__name__}.{name}: "
                    "it is a Parameter; assign a Parameter or None (or change .data)"
                )
            d["_parameters"][name] = None
        elif "_modules" in d and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} to {type(self).__name__}.{name}: it is a Module")
            d["_modules"][name] = None
        elif "_buffers" in d and name in d["_buffers"]:
            if value is not None and not isinstance(value, (Tensor, np.ndarray)):
                raise TypeError(f"cannot assign {type(value).__name__} to buffer {type(self).__name__}.{name}")
            d["_buffers"][name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        for kind in ("_parameters", "_buffers", "_modules"):
            self.__dict__.get(kind, {}).pop(name, None)
        object.__delattr__(self, name)

    def _check_name(self, kind, name):
        """PyTorch's rules for a registered name: a non-empty str without '.', not already another kind of member."""
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f"{kind} name can't be empty or contain \".\", got {name!r}")
        d = self.__dict__
        for other in ("_parameters", "_buffers", "_modules"):
            if other != kind and name in d.get(other, {}):
                raise KeyError(f"attribute {name!r} already exists (as a {other[1:-1]}); cannot register it as a "
                               f"{kind[1:-1]}")

    def register_parameter(self, name, param):
        """Register `param` (a Parameter or None) under `name`."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None, got {type(param).__name__}")
        self._registry("_parameters", param)
        self._check_name("_parameters", name)
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def register_buffer(self, name, tensor, persistent=True):
        """Register a non-learnable array (Tensor, ndarray or None) that state_dict() saves when persistent."""
        self._registry("_buffers", tensor)
        self._check_name("_buffers", name)
        if tensor is not None and not isinstance(tensor, (Tensor, np.ndarray)):
            raise TypeError(f"register_buffer: cannot assign {type(tensor).__name__} to buffer {name!r} "
                            "(a Tensor or None is required)")
        self._buffers[name] = tensor
        non_persistent = self.__dict__.setdefault("_non_persistent", set())
        if persistent:
            non_persistent.discard(name)
        else:
            non_persistent.add(name)
        object.__setattr__(self, name, tensor)

    def add_module(self, name, module):
        """Register a sub-module (or None) under `name`."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module or None, got {type(module).__name__}")
        self._registry("_modules", module)[name] = module
        object.__setattr__(self, name, module)

    register_module = add_module

    # ------------------------------------------------------------ calling
    def forward(self, *args, **kwargs):
        """The computation; subclasses override it. Call the module (module(x)), which runs hooks too."""
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        """y = forward(*args), with forward pre-hooks before and forward hooks after (if any)."""
        d = self.__dict__
        if d.get("_forward_pre_hooks"):
            for hook in tuple(d["_forward_pre_hooks"].values()):
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        out = self.forward(*args, **kwargs)
        if d.get("_forward_hooks"):
            for hook in tuple(d["_forward_hooks"].values()):
                result = hook(self, args, out)
                if result is not None:
                    out = result
        return out

    def register_forward_pre_hook(self, hook):
        """hook(module, args) runs before forward; it may return replacement args."""
        return _HookHandle(self._registry("_forward_pre_hooks", hook), hook)

    def register_forward_hook(self, hook):
        """hook(module, args, output) runs after forward; it may return a replacement output."""
        return _HookHandle(self._registry("_forward_hooks", hook), hook)

    @property
    def has_hooks(self):
        return bool(self.__dict__.get("_forward_pre_hooks") or self.__dict__.get("_forward_hooks"))

    # ------------------------------------------------------------ traversal
    def named_children(self):
        """(name, module) for each direct sub-module, a module registered under two names once (the first)."""
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        """Each direct sub-module."""
        for _, m in self.named_children():
            yield m

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(qualified name, module) for self and every descendant, each module once
        (remove_duplicate=False: a module shared by several parents once per path)."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(memo, f"{prefix}.{name}" if prefix else name, remove_duplicate)

    def modules(self):
        """self and every descendant, each once."""
        for _, m in self.named_modules():
            yield m

    def named_parameters(self, prefix="", recurse=True):
        """(qualified name, Parameter), each shared Parameter once, in registration order."""
        seen = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_prefix, m in mods:
            for name, p in m._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), p

    def parameters(self, recurse=True):
        """Every Parameter of self and (recurse=True) its descendants, each once: what an optimizer takes."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True):
        """(qualified name, buffer) for every registered buffer."""
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_prefix, m in mods:
            for name, b in m._buffers.items():
                if b is not None:
                    yield (f"{mod_prefix}.{name}" if mod_prefix else name), b

    def buffers(self, recurse=True):
        """Every registered buffer."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn):
        """Call fn(m) on every sub-module (children first), then on self; returns self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------ modes and gradients
    def train(self, mode=True):
        """Set training mode (Dropout active) on self and every descendant; returns self."""
        if not isinstance(mode, bool):
            raise TypeError(f"train: mode must be a bool, got {type(mode).__name__}")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self):
        """Evaluation mode: train(False)."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Turn gradients on or off for every parameter (freezing); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Clear the .grad of every parameter (to None, or to zeros)."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = np.zeros_like(p._data)

    def to(self, *args, **kwargs):
        """to(dtype), to("cpu"), to(device, dtype), to(tensor), to(device=, dtype=): cast every floating-point
        parameter and buffer to dtype, in place (the same Parameter objects); returns self. tinynn has one
        device, the CPU: any other is a RuntimeError, a non-float dtype a TypeError (as PyTorch)."""
        dtype = _to_dtype(args, kwargs)
        if dtype is None:
            return self
        for p in self.parameters():
            if p._data.dtype.kind == "f":
                p._data = p._data.astype(dtype)
                p.grad = None if p.grad is None else p.grad.astype(dtype)
        for m in self.modules():
            for name, b in m._buffers.items():
                arr = b._data if isinstance(b, Tensor) else b
                if arr is not None and arr.dtype.kind == "f":
                    if isinstance(b, Tensor):
                        b._data = arr.astype(dtype)
                    else:
                        m._buffers[name] = arr.astype(dtype)
                        object.__setattr__(m, name, m._buffers[name])
        return self

    def cpu(self):
        """A no-op (tinynn runs on the CPU); returns self."""
        return self

    def double(self):
        """Cast parameters and buffers to float64 (e.g. for gradient checks); returns self."""
        return self.to(np.float64)

    def float(self):
        """Cast parameters and buffers to float32; returns self."""
        return self.to(np.float32)

    def half(self):
        """Cast parameters and buffers to float16; returns self."""
        return self.to(np.float16)

    def get_submodule(self, target):
        """The sub-module at the dotted path `target` ("" is self); AttributeError naming the missing part."""
        module = self
        for part in target.split(".") if target else ():
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no sub-module {part!r} (looking up {target!r})")
            module = child
        return module

    def get_parameter(self, target):
        """The Parameter at the dotted path `target` ("layer.weight")."""
        return self._member(target, "_parameters", "parameter")

    def get_buffer(self, target):
        """The buffer at the dotted path `target` ("bn.running_mean")."""
        return self._member(target, "_buffers", "buffer")

    def _member(self, target, table, kind):
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        value = getattr(module, table).get(name)
        if value is None:
            raise AttributeError(f"{type(module).__name__} has no {kind} {name!r} (looking up {target!r})")
        return value

    # ------------------------------------------------------------ state
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """OrderedDict of qualified name -> Tensor for every parameter and persistent buffer.

        As in PyTorch the Tensors are detached and share memory with the live values (no copy):
        clone them to keep a snapshot. keep_vars=True returns the Parameter objects instead. As in PyTorch, a
        sub-module registered under several names appears under each (its keys repeated)."""
        out = OrderedDict() if destination is None else destination
        for mod_prefix, m in self.named_modules(prefix=prefix.rstrip("."), remove_duplicate=False):
            pre = f"{mod_prefix}." if mod_prefix else ""
            for name, p in m._parameters.items():
                if p is not None:
                    out[pre + name] = p if keep_vars else p.detach()
            skip = m.__dict__.get("_non_persistent", ())
            for name, b in m._buffers.items():
                if b is not None and name not in skip:
                    out[pre + name] = b if keep_vars or not isinstance(b, Tensor) else b.detach()
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copy values from `state_dict` (name -> ndarray or Tensor) into the parameters and
        buffers, in place and cast to their dtypes.

        A shape mismatch raises StateDictError (a RuntimeError, as PyTorch's, and a ValueError); with
        strict=True so do missing or unexpected keys.
        Returns (missing_keys, unexpected_keys)."""
        if not hasattr(state_dict, "items"):
            raise TypeError(f"load_state_dict: expected a dict of arrays, got {type(state_dict).__name__}")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing keys {missing}")
            if unexpected:
                parts.append(f"unexpected keys {unexpected}")
            raise StateDictError(f"load_state_dict for {type(self).__name__}: " + "; ".join(parts))
        mismatched = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            value = value._data if isinstance(value, Tensor) else np.asarray(value)
            current = target._data if isinstance(target, Tensor) else target
            if value.shape != current.shape:
                mismatched.append(f"{key}: checkpoint {value.shape} vs model {current.shape}")
        if mismatched:
            raise StateDictError(f"load_state_dict for {type(self).__name__}: shape mismatch: " + "; ".join(mismatched))
        for key, target in own.items():
            if key in state_dict:
                value = state_dict[key]
                value = value._data if isinstance(value, Tensor) else np.asarray(value)
                current = target._data if isinstance(target, Tensor) else target
                np.copyto(current, value, casting="unsafe")
        for m in self.modules():  # a module that keeps arrays derived from its state drops them
            getattr(m, "_state_loaded", int)()
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------ printing
    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items() if m is not None]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"
