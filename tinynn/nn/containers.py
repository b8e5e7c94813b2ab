"""The containers Sequential, ModuleList and ModuleDict, with PyTorch's list and dict behaviour."""
import operator
from collections import OrderedDict

from .module import Module


def _own(module, attribute):
    """The class attribute `attribute` of module's own class (not inherited: a subclass may compute
    something else), when module has no hooks and no per-instance forward; else None."""
    if module.has_hooks or "forward" in module.__dict__:
        return None
    return type(module).__dict__.get(attribute)


def _module(owner, i, m):
    if not isinstance(m, Module):
        raise TypeError(f"{owner}: item {i} is {type(m).__name__}, not a Module")
    return m


class _ModuleSequence(Module):
    """What Sequential and ModuleList share: sub-modules named "0", "1", ... in order, indexed like a list
    (negative indices, slices of the same type), renumbered after an insertion or a deletion."""

    def _index(self, index):
        """index as a non-negative position, IndexError (PyTorch's) when out of range."""
        n = len(self._modules)
        i = operator.index(index)
        if not -n <= i < n:
            raise IndexError(f"{type(self).__name__}: index {index} is out of range for {n} modules")
        return i + n if i < 0 else i

    def _renumber(self, modules):
        for key in self._modules:
            self.__dict__.pop(key, None)
        self._modules.clear()
        for i, m in enumerate(modules):
            self.add_module(str(i), m)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        mods = list(self._modules.values())
        if isinstance(index, slice):
            return type(self)(mods[index]) if isinstance(self, ModuleList) else type(self)(*mods[index])
        return mods[self._index(index)]

    def __setitem__(self, index, module):
        key = list(self._modules)[self._index(index)]
        setattr(self, key, _module(type(self).__name__, index, module))

    def __delitem__(self, index):
        mods = list(self._modules.values())
        del mods[index if isinstance(index, slice) else self._index(index)]
        self._renumber(mods)

    def append(self, module):
        """Add module at the end; returns self."""
        self.add_module(str(len(self._modules)), _module(type(self).__name__, len(self._modules), module))
        return self

    def extend(self, modules):
        """Append each module of an iterable; returns self."""
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        """Put module before position index (PyTorch's list insert), renumbering those after it;
        returns self for a Sequential (None for a ModuleList), as PyTorch."""
        mods = list(self._modules.values())
        n = len(mods)
        i = operator.index(index)
        if not -n <= i <= n:
            raise IndexError(f"{type(self).__name__}.insert: index {index} is out of range for {n} modules")
        mods.insert(i + n if i < 0 else i, _module(type(self).__name__, index, module))
        self._renumber(mods)
        return self if isinstance(self, Sequential) else None

    def pop(self, index=-1):
        """Remove and return the module at index."""
        module = self[index]
        del self[index]
        return module

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        if not isinstance(other, type(self)):
            raise TypeError(f"{type(self).__name__} + {type(other).__name__}: add two {type(self).__name__}s")
        mods = list(self) + list(other)
        return type(self)(mods) if isinstance(self, ModuleList) else type(self)(*mods)

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]


class Sequential(_ModuleSequence):
    """y = f_k(... f_2(f_1(x))): the modules in order (or an OrderedDict of named modules).

    A Linear directly followed by ReLU/Sigmoid/Tanh runs as one fused Linear+activation op
    (same values and gradients, one graph node) unless either has hooks or is a subclass: the
    classes that take part say so, Linear with `fuses_activation = True`, an activation with its
    `activation` name (layers.py)."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], (dict, OrderedDict)):
            for name, m in args[0].items():
                self.add_module(str(name), _module("Sequential", name, m))
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), _module("Sequential", i, m))

    def forward(self, input):
        x = input
        mods = [m for m in self._modules.values() if m is not None]
        i, n = 0, len(mods)
        while i < n:
            m = mods[i]
            if i + 1 < n and _own(m, "fuses_activation"):
                act = _own(mods[i + 1], "activation")
                if act is not None:
                    x = m.forward(x, activation=act)
                    i += 2
                    continue
            x = m(x)
            i += 1
        return x


class ModuleList(_ModuleSequence):
    """A list of sub-modules, registered so their parameters are found: indexing (a slice is a
    ModuleList), append, extend, insert, pop, del, +, +=."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)


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
