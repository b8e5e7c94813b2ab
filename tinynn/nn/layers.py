"""Layers: Linear, the activations, Flatten, Dropout, and the containers Sequential, ModuleList, ModuleDict."""
import math

import numpy as np

from .. import ops
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


class Linear(Module):
    """y = x W^T + b with W (out_features, in_features) and b (out_features,).

    Initialised as PyTorch does: W ~ kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)),
    b ~ U(-1/sqrt(in), 1/sqrt(in)). Runs as one fused op (ops.Linear)."""

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
                raise ValueError(f"Linear: {name} must be a non-negative int, got {n!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty((self.out_features,), dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x, activation="none"):
        params = (self.weight,) if self.bias is None else (self.weight, self.bias)
        return ops.Linear.apply(x, *params, activation=activation)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class ReLU(Module):
    """y = max(x, 0) (written into x itself with inplace=True, PyTorch's argument)."""

    activation = "relu"

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.relu(x, inplace=True) if self.inplace else ops.ReLU.apply(x)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Sigmoid(Module):
    """y = 1 / (1 + e^-x)."""

    activation = "sigmoid"

    def forward(self, x):
        return ops.Sigmoid.apply(x)


class Tanh(Module):
    """y = tanh x."""

    activation = "tanh"

    def forward(self, x):
        return ops.Tanh.apply(x)


class Identity(Module):
    """y = x (accepts and ignores any constructor arguments)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Softmax(Module):
    """y_i = e^(x_i) / sum_j e^(x_j) along dim."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, dim=self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """y_i = x_i - log sum_j e^(x_j) along dim."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.log_softmax(x, dim=self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Flatten(Module):
    """Merge axes start_dim..end_dim into one: (N, a, b) -> (N, a*b) with the defaults."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        shape = x.shape
        nd = len(shape)
        start = self.start_dim + nd if self.start_dim < 0 else self.start_dim
        end = self.end_dim + nd if self.end_dim < 0 else self.end_dim
        if nd == 0:
            return x.reshape(1)
        if not (0 <= start < nd and 0 <= end < nd) or start > end:
            raise IndexError(f"Flatten: start_dim {self.start_dim} / end_dim {self.end_dim} out of range for shape {shape}")
        merged = int(np.prod(shape[start:end + 1]))
        return x.reshape(*shape[:start], merged, *shape[end + 1:])

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """Inverted dropout in training: y = x m / (1 - p), m ~ Bernoulli(1 - p); identity in eval()."""

    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability p must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


FUSABLE = {cls: cls.activation for cls in (ReLU, Sigmoid, Tanh)}  # the activations a Linear can run fused


def _plain(module, cls):
    """True when `module` is exactly `cls`, with no hooks and no per-instance forward."""
    return type(module) is cls and not module.has_hooks and "forward" not in module.__dict__


class Sequential(Module):
    """y = f_k(... f_2(f_1(x))): the modules in order.

    A Linear directly followed by ReLU/Sigmoid/Tanh runs as one fused Linear+activation op
    (same values and gradients, one graph node) unless either has hooks or is a subclass."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], dict):
            for name, m in modules[0].items():
                self.add_module(str(name), m)
        else:
            for i, m in enumerate(modules):
                if not isinstance(m, Module):
                    raise TypeError(f"Sequential: argument {i} is {type(m).__name__}, not a Module")
                self.add_module(str(i), m)

    def forward(self, x):
        mods = [m for m in self._modules.values() if m is not None]
        i, n = 0, len(mods)
        while i < n:
            m = mods[i]
            if i + 1 < n and _plain(m, Linear):
                nxt = mods[i + 1]
                act = FUSABLE.get(type(nxt))
                if act is not None and _plain(nxt, type(nxt)):
                    x = m.forward(x, activation=act)
                    i += 2
                    continue
            x = m(x)
            i += 1
        return x

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        mods = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*mods[index])
        try:
            return mods[index]
        except (IndexError, TypeError):
            raise IndexError(f"Sequential: index {index!r} out of range for {len(mods)} modules") from None

    def __setitem__(self, index, module):
        keys = list(self._modules)
        try:
            key = keys[index]
        except IndexError:
            raise IndexError(f"Sequential: index {index} out of range for {len(keys)} modules") from None
        setattr(self, key, module)

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self


class ModuleList(Module):
    """A list of sub-modules, registered so their parameters are found."""

    def __init__(self, modules=()):
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        return list(self._modules.values())[index]


class ModuleDict(Module):
    """An ordered dict of named sub-modules, registered so their parameters are found (torch.nn.ModuleDict):
    md["name"], md["name"] = module, del md["name"], len, iteration over the names, keys/values/items,
    update, pop, clear."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        try:
            return self._modules[key]
        except KeyError:
            raise KeyError(f"ModuleDict: no module named {key!r}; it has {list(self._modules)}") from None

    def __setitem__(self, key, module):
        if not isinstance(key, str):
            raise TypeError(f"ModuleDict: keys must be strings, got {type(key).__name__}")
        self.add_module(key, module)

    def __delitem__(self, key):
        self[key]  # a KeyError naming the keys there are, if absent
        delattr(self, key)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def update(self, modules):
        """Add (name, module) pairs from a mapping or an iterable of pairs, in order."""
        for key, module in (modules.items() if hasattr(modules, "items") else modules):
            self[key] = module

    def pop(self, key):
        module = self[key]
        del self[key]
        return module

    def clear(self):
        for key in list(self._modules):
            del self[key]
