"""Version counters: which memory an in-place op changed, and when, so backward can refuse to use
values a node saved and someone then overwrote.

A counter belongs to memory (the ndarray that owns it), so a tensor and its views share one, as in
PyTorch. Only memory an in-place op has written is listed here, with its count of in-place
writes and the stamp of the last one, taken from the same clock that stamps nodes
(`function.creation_order`). A node's saved arrays are then stale exactly when their memory
was written after the node was made: a write stamp below the node's (stamps count down).
The walk checks only while this list is not empty, so code without in-place ops pays nothing.
"""
import weakref

import numpy as np

from .function import creation_order

written = {}  # id(owning ndarray) -> [count, stamp of the last write, weak reference to it]
_saved_slots = {}  # (Function subclass, everything) -> names of its slots that can hold saved arrays
_NOT_SAVED = frozenset(("inputs", "needs_grad", "order", "output_grad", "exact_gradients", "previous"))


def owner(array):
    """The ndarray that owns `array`'s memory (itself unless it is a view)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _entry(array):
    base = owner(array)
    entry = written.get(id(base))
    return entry if entry is not None and entry[2]() is base else None


def bump(array):
    """Count one in-place write into `array`'s memory."""
    base = owner(array)
    key, entry = id(base), _entry(base)
    if entry is None:
        def drop(_, key=key):
            if written.get(key) is entry:
                del written[key]
        entry = written[key] = [0, 0, weakref.ref(base, drop)]
    entry[0] += 1
    entry[1] = next(creation_order)


def version(array):
    """How many in-place writes `array`'s memory has had (PyTorch's `t._version`)."""
    entry = _entry(array)
    return 0 if entry is None else entry[0]


def saved_slot_names(cls, everything=False):
    """The slots of a Function subclass that can hold saved values (every slot when `everything`)."""
    names = _saved_slots.get((cls, everything))
    if names is None:
        names = _saved_slots[cls, everything] = tuple(n for c in cls.__mro__ for n in getattr(c, "__slots__", ())
                                                      if everything or n not in _NOT_SAVED)
    return names


def check_saved(node):
    """RuntimeError naming the op when an array `node` saved was written in place after it was saved."""
    for name in saved_slot_names(type(node)):
        value = getattr(node, name, None)
        if isinstance(value, np.ndarray):
            entry = _entry(value)
            if entry is not None and entry[1] < node.order:
                raise RuntimeError(
                    f"backward: one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: {node.name} saved a tensor of shape {value.shape} that was then changed "
                    f"in place (it is at version {entry[0]}); use clone() before the in-place op, or an out-of-place op")
