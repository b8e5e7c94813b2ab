"""What `backward(create_graph=True)` changes: each node's own backward runs again, on Tensors.

An op's backward is written once, calling its kernels through `backend.active` on the arrays the
node saved. For a first-order backward that is the compiled (or NumPy) backend on arrays, the path
training runs. Under create_graph the engine (1) makes `backend.active` a `Differentiable`
namespace for the walk: the same kernel names, which on arrays run the real backend and on Tensors
record an op (`tanh_backward(y, g)` is the op TanhBackward, with its own derivative written the
same way, so every order works); and (2) shows each node its saved arrays as the Tensors they came
from (`view_saved`): an input's array as that input, the output's as the output (a Tensor whose
node is a copy of this one), so the gradient the backward returns depends on them in the graph.

An op takes part only when its class says `differentiable = True` (its backward uses nothing but
`backend.active` kernels and Tensor-compatible array methods); any other op raises
NotImplementedError naming it, rather than return a second derivative that silently misses terms.
"""
import numpy as np

from ..tensor import Tensor
from .function import creation_order
from .versions import saved_slot_names

namespace = None  # the Differentiable class; tinynn/ops/differentiable.py sets it (ops import autograd, not back)


def unsupported(node, why):
    return NotImplementedError(
        f"{node.name}: backward(create_graph=True) is not supported by this op ({why}); "
        "its gradient cannot be differentiated again")


def _clone(node, inputs):
    """A copy of `node` (same saved values, same inputs, a new stamp): the node of an output Tensor
    rebuilt from a saved output array, so that gradients flow through it back to the inputs."""
    copy = object.__new__(type(node))
    for name in saved_slot_names(type(node), everything=True):
        if hasattr(node, name):
            setattr(copy, name, getattr(node, name))
    copy.inputs, copy.needs_grad, copy.order, copy.output_grad = inputs, node.needs_grad, next(creation_order), None
    return copy


def _as_tensor(node, name, value, inputs, output, used):
    """The Tensor that the array `value`, saved in slot `name` of `node`, stands for. Two inputs
    may share one array (x and x.detach()): slots are declared in the order of the inputs, so
    each takes the first such input an earlier slot has not taken."""
    same = [t for t in inputs if t._data is value]
    if same:
        t = next((t for t in same if id(t) not in used), same[0])
        used.add(id(t))
        return t
    if name in node.outputs:
        return output()
    for t in inputs:  # a reshaped view of an input (Linear saves x flattened to 2-D)
        data = t._data
        # NumPy points a view of a view at the first array's owner: compare owners and start addresses
        owner = data if data.base is None else data.base
        if (value.base is owner and value.ctypes.data == data.ctypes.data and value.size == data.size
                and value.flags.c_contiguous and data.flags.c_contiguous):
            return t.reshape(value.shape)
    recomputed = node.recompute(name, inputs)
    if recomputed is None:
        raise unsupported(node, f"it saved an array '{name}' derived from its inputs without saying how to recompute it")
    return recomputed


def view_saved(node, inputs):
    """Replace the float arrays `node` saved by the Tensors they stand for; returns what to restore."""
    cls = type(node)
    if not cls.differentiable:
        raise unsupported(node, "its backward is written on arrays only; set differentiable = True once it "
                                "computes only through backend.active kernels")
    restore, made = [], []

    def output():
        if not made:
            made.append(Tensor._wrap(value_of_output[0], True, _clone(node, inputs)))
        return made[0]
    value_of_output, used = [], set()
    for name in saved_slot_names(cls):
        value = getattr(node, name, None)
        if not isinstance(value, (np.ndarray, np.generic)) or value.dtype.kind not in "fc" or name in cls.constants:
            continue
        if name in cls.outputs:
            value_of_output[:] = [value]
        restore.append((name, value))
        setattr(node, name, _as_tensor(node, name, value, inputs, output, used))
    return restore


def run_backward(node, inputs, grad):
    """node.backward(grad) on Tensors: its saved arrays seen as Tensors for the call; a tuple of
    Tensors (or None)."""
    restore = view_saved(node, inputs)
    try:
        grads = node.backward(grad)
    finally:
        for name, value in restore:
            setattr(node, name, value)
    # an array among them (a zero gradient, a mask) is a constant of the new graph
    return tuple(g if g is None or isinstance(g, Tensor) else Tensor._wrap(np.asarray(g), False)
                 for g in (grads if type(grads) is tuple else (grads,)))
