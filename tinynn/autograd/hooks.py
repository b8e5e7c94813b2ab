"""Tensor hooks: `t.register_hook(fn)` and `t.retain_grad()`, run by the backward walk.

A hook sees d L / d t once the walk has summed it (every consumer of t has handed its part) and
may return a replacement. A non-leaf is known to the walk by its node, a leaf by itself, so the
registry is keyed on the id of one or the other, next to a weak reference to the tensor: an entry
counts only while that tensor still has that node, and goes when the tensor is freed. The walk
looks here only when the registry is not empty, so code without hooks pays one truth test.
"""
import weakref

import numpy as np

from ..tensor import Tensor

hooked = {}  # id(node) for a non-leaf, id(tensor) for a leaf -> _Entry


class _Entry:
    """A tensor's hooks (in order of registration) and whether it retains its gradient; the entry
    leaves the registry when its tensor is freed."""

    __slots__ = ("tensor", "hooks", "retains")

    def __init__(self, tensor, key):
        def drop(_, entry=self):
            if hooked.get(key) is entry:
                del hooked[key]

        self.tensor, self.hooks, self.retains = weakref.ref(tensor, drop), {}, False


class RemovableHandle:
    """What register_hook returns: `handle.remove()` unregisters the hook."""

    def __init__(self, entry, key):
        self._entry, self._key = entry, key

    def remove(self):
        self._entry.hooks.pop(self._key, None)


def _entry(tensor):
    key = id(tensor if tensor._node is None else tensor._node)
    entry = hooked.get(key)
    if entry is None or entry.tensor() is not tensor:
        entry = hooked[key] = _Entry(tensor, key)
    return entry


def register_hook(tensor, fn):
    """Call fn(grad) when d L / d tensor has been computed; a Tensor (or array) fn returns replaces
    the gradient. Returns a handle whose remove() unregisters fn."""
    if not tensor.requires_grad:
        raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't require gradient")
    entry = _entry(tensor)
    key = object()
    entry.hooks[key] = fn
    return RemovableHandle(entry, key)


def retain_grad(tensor):
    """Keep d L / d tensor in tensor.grad after backward even though tensor is not a leaf."""
    if not tensor.requires_grad:
        raise RuntimeError("retain_grad: cannot retain the gradient of a tensor that doesn't require gradient")
    if tensor._node is not None:
        _entry(tensor).retains = True


def lookup(key, node):
    """The live entry registered under `key` for a tensor whose node is `node` (None for a leaf)."""
    entry = hooked.get(key)
    if entry is None:
        return None
    tensor = entry.tensor()
    if tensor is None or tensor._node is not node:
        return None
    return entry


def run(entry, grad):
    """grad after entry's hooks, each called with it as a Tensor and free to return a replacement."""
    for fn in tuple(entry.hooks.values()):
        if isinstance(grad, Tensor):  # create_graph: the gradient is a Tensor of the new graph, and stays one
            result = fn(grad)
            grad = grad if result is None else result if isinstance(result, Tensor) else Tensor._wrap(np.asarray(result, grad.dtype), False)
            continue
        result = fn(Tensor._wrap(grad, False))
        if result is not None:
            grad = np.asarray(result).astype(grad.dtype, copy=False)
    return grad
