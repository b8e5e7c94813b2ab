"""ParameterList and ParameterDict: a list and a dict of Parameters registered with the module that holds
them (state-dict keys "0", "1", ... or the dict's keys), with PyTorch's torch.nn behaviour: a plain Tensor
put in becomes a Parameter (sharing its memory), a Module becomes a sub-module, anything else is kept as
an ordinary object. Entries live in the module's tables, not as instance attributes, so that a key such as
"keys" or "update" cannot hide a method; `container.name` still reads an entry, as in PyTorch."""
import operator
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from ..tensor import Tensor
from .module import Module
from .parameter import Parameter

__all__ = ["ParameterList", "ParameterDict"]


class MissingKeyError(KeyError, AttributeError):
    """A missing ParameterDict key: a KeyError as a dict raises, and the AttributeError PyTorch's raises."""


class _ParameterContainer(Module):
    """What both containers share: entries stored by name in _parameters, _modules or _objects."""

    def __init__(self):
        super().__init__()
        self.__dict__["_objects"] = OrderedDict()

    def _put(self, key, value):
        if isinstance(value, Tensor) and not isinstance(value, Parameter):
            value = Parameter(value)  # shares the Tensor's memory and requires a gradient, as torch.nn.Parameter(t)
        d = self.__dict__
        for table, kind, allowed in (("_parameters", "parameter", Parameter), ("_modules", "child module", Module)):
            if key in d[table] and value is not None and not isinstance(value, allowed):
                raise TypeError(f"{type(self).__name__}: cannot assign {type(value).__name__!r} as {kind} {key!r} "
                                f"({allowed.__name__} or None expected)")
        if isinstance(value, Parameter) or (value is None and key in d["_parameters"]):
            table = "_parameters"  # (a Parameter slot set to None stays a parameter slot)
        else:
            table = "_modules" if isinstance(value, Module) else "_objects"
        if key not in d[table]:
            self._drop(key)
        d[table][key] = value  # in place when the key is there already: its state-dict position is kept

    def _get(self, key):
        d = self.__dict__
        for table in ("_parameters", "_modules", "_objects"):
            if key in d.get(table, ()):
                return d[table][key]
        raise MissingKeyError(key)

    def _drop(self, key):
        for table in ("_parameters", "_modules", "_objects"):
            self.__dict__[table].pop(key, None)

    def __getattr__(self, name):  # only when ordinary lookup fails: an entry read as an attribute
        try:
            return self._get(name)
        except MissingKeyError:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}") from None

    def __call__(self, *args, **kwargs):
        raise RuntimeError(f"{type(self).__name__} should not be called.")

    def _describe(self, key, value, type_name):
        if isinstance(value, Tensor):
            kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
            size = "x".join(str(n) for n in value.shape)
            return f"  ({key}): {kind} containing: [{type_name(value)} of size {size}]"
        return f"  ({key}): Object of type: {type(value).__name__}"

    def _repr(self, lines):
        """PyTorch's layout: the entry lines (each with its own two-space indent), then the sub-modules."""
        lines = lines + [f"({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()
                         if m is not None]
        if len(lines) == 1 and not self._modules:
            return f"{type(self).__name__}({lines[0]})"
        return f"{type(self).__name__}(" + ("\n  " + "\n  ".join(lines) + "\n" if lines else "") + ")"


class ParameterList(_ParameterContainer):
    """A list of Parameters (plain Tensors become Parameters), registered under "0", "1", ...: indexing
    (negative indices; a slice is a ParameterList of the same objects), assignment, len, iteration,
    append, extend and +=. As in PyTorch there is no insert and no del."""

    def __init__(self, values=None):
        super().__init__()
        self.__dict__["_size"] = 0
        if values is not None:
            self += values

    def _index(self, idx):
        i, n = operator.index(idx), self._size
        if not -n <= i < n:
            raise IndexError(f"ParameterList: index {idx} is out of range for {n} entries")
        return i + n if i < 0 else i

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList([self[i] for i in range(self._size)[idx]])
        return self._get(str(self._index(idx)))

    def __setitem__(self, idx, param):
        self._put(str(self._index(idx)), param)

    def __len__(self):
        return self._size

    def __iter__(self):
        return iter(self[i] for i in range(self._size))

    def __iadd__(self, parameters):
        return self.extend(parameters)

    def append(self, value):
        """Add value at the end (a Tensor as a Parameter); returns self."""
        self.__dict__["_size"] += 1
        self[self._size - 1] = value
        return self

    def extend(self, values):
        """Append every value of an iterable; returns self."""
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got {type(values).__name__}")
        for value in values:
            self.append(value)
        return self

    def __repr__(self):
        return self._repr([self._describe(i, p, lambda t: f"tinynn.{t.dtype}") for i, p in enumerate(self)])


class ParameterDict(_ParameterContainer):
    """An ordered dict of Parameters (plain Tensors become Parameters) under string keys, which are also
    their state-dict names: [], []=, del, len, iteration over the keys, in, keys/values/items, get, pop,
    popitem, setdefault, clear, copy, fromkeys, update and |, |=. As in PyTorch, update (and the
    constructor) takes a plain dict's items in sorted key order, an OrderedDict's or a ParameterDict's as
    they are, and a sequence of (key, value) pairs in its order."""

    def __init__(self, parameters=None):
        super().__init__()
        self.__dict__["_keys"] = OrderedDict()
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _key(key):
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict: keys must be strings, got {type(key).__name__} ({key!r})")
        if key == "" or "." in key:
            raise KeyError(f"ParameterDict: a key can't be empty or contain \".\", got {key!r}")
        return key

    def __getitem__(self, key):
        self._key(key)
        try:
            return self._get(key)
        except MissingKeyError:
            raise MissingKeyError(f"ParameterDict: no key {key!r}; it has {list(self._keys)}") from None

    def __setitem__(self, key, value):
        self._put(self._key(key), value)
        self._keys[key] = None

    def __delitem__(self, key):
        self[key]  # noqa: B018 - the KeyError naming the keys there are, if absent
        self._drop(key)
        del self._keys[key]

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(list(self._keys))

    def __contains__(self, key):
        return key in self._keys

    def __dir__(self):
        return list(super().__dir__()) + list(self._keys)

    def keys(self):
        return self._keys.keys()

    def values(self):
        return (self[k] for k in self._keys)

    def items(self):
        return ((k, self[k]) for k in self._keys)

    def get(self, key, default=None):
        return self[key] if key in self else default

    def pop(self, key):
        """Remove key and return its value."""
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        """Remove and return the last (key, value) pair."""
        if not self._keys:
            raise KeyError("popitem(): dictionary is empty")
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def setdefault(self, key, default=None):
        """self[key], set to default first if the key is absent."""
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self):
        for key in list(self._keys):
            del self[key]

    def copy(self):
        """A new ParameterDict holding the same objects."""
        return ParameterDict(OrderedDict((k, self[k]) for k in self._keys))

    def fromkeys(self, keys, default=None):
        """A new ParameterDict with every key set to default."""
        return ParameterDict((k, default) for k in keys)

    def update(self, parameters):
        """Add (key, value) pairs: a plain mapping's in sorted key order (PyTorch's rule), an OrderedDict's
        or ParameterDict's in theirs, an iterable of pairs in its own."""
        if not isinstance(parameters, Iterable):
            raise TypeError("ParameterDict.update should be called with an iterable of key/value pairs, but got "
                            f"{type(parameters).__name__}")
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            pairs = list(parameters.items())
        elif isinstance(parameters, Mapping):
            pairs = sorted(parameters.items(), key=lambda kv: kv[0])
        else:
            pairs = []
            for j, pair in enumerate(parameters):
                if not isinstance(pair, Iterable):
                    raise TypeError(f"ParameterDict update sequence element #{j} should be Iterable; is "
                                    f"{type(pair).__name__}")
                pair = tuple(pair)
                if len(pair) != 2:
                    raise ValueError(f"ParameterDict update sequence element #{j} has length {len(pair)}; 2 is "
                                     "required")
                pairs.append(pair)
        for key, value in pairs:
            self[key] = value

    def __or__(self, other):
        merged = self.copy()
        merged.update(other)
        return merged

    def __ror__(self, other):
        merged = other.copy()
        merged.update(self)
        return merged

    def __ior__(self, other):
        self.update(other)
        return self

    def __repr__(self):
        return self._repr([self._describe(k, v, lambda t: t.type()) for k, v in self.items()])
