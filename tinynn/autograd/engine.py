"""The backward walk: from a root Tensor back to the leaves, each node's backward run once.

Every node is stamped with its creation order (`Function.apply` does it), and an op is always
created after the ops that made its inputs. So taking nodes newest first is a topological order:
by the time a node runs, every consumer of its output has handed it its gradient. A heap keyed on
the stamp gives that order in one pass, without recursion. Each input's gradient is summed back to
the input's own shape; each node is freed once it has run. Works on anything with Tensor's
attributes (`data`, `grad`, `requires_grad`, `_node`): it never needs the Tensor class itself.
"""
from heapq import heappop, heappush

import numpy as np

from .grad_mode import ANOMALY, check_finite, current


def unbroadcast(grad, shape, op="unbroadcast"):
    """Sum `grad` over the axes that broadcasting added or stretched, so it gets `shape`.

    If y = f(x) broadcast x of shape (3, 1) to (2, 3, 4), then dL/dx = sum of dL/dy
    over axis 0 (added) and axis 2 (stretched from 1), kept as (3, 1). A gradient that no
    broadcast explains is a ValueError naming `op`.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra < 0 or any(n != 1 and n != grad.shape[i + extra] for i, n in enumerate(shape)):
        raise ValueError(f"{op}: gradient of shape {grad.shape} does not fit its input of shape {shape}")
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1
    )
    reduced = grad.sum(axis=axes, keepdims=True) if axes else grad
    return reduced.reshape(shape)


_post_backward_hooks = {}


def register_post_backward_hook(hook):
    """Call `hook()` after every `backward()` has filled the leaves' `.grad`; returns a key for
    `remove_post_backward_hook`. A generic extension point: `DistributedDataParallel` averages
    gradients over processes here; autograd knows nothing about its users."""
    key = object()
    _post_backward_hooks[key] = hook
    return key


def remove_post_backward_hook(key):
    """Stop calling the hook registered under `key` (a no-op if it is already gone)."""
    _post_backward_hooks.pop(key, None)


def backward(root, grad=None):
    """Accumulate d root / d leaf into `.grad` of every leaf that requires a gradient.

    `grad` is d L / d root (defaults to 1 for a scalar root).
    """
    if not root.requires_grad:
        raise RuntimeError("backward: the tensor does not require grad and has no graph")
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward: grad can be implicitly created only for scalar outputs, got shape {root.shape}"
            )
        grad = np.ones(root.shape, dtype=root.dtype)
    else:
        grad = np.asarray(getattr(grad, "data", grad), dtype=root.dtype)
        if grad.shape != root.shape:
            raise ValueError(f"backward: grad of shape {grad.shape} does not match the output's shape {root.shape}")
    if root._node is None:  # a leaf
        _add_to_grad(root, grad.copy())
    else:
        _walk(root._node, grad)
    for hook in tuple(_post_backward_hooks.values()):
        hook()


def _add_to_grad(leaf, g):
    """leaf.grad += g (g already in the leaf's shape and dtype; the first gradient is kept as is)."""
    leaf.grad = g if leaf.grad is None else leaf.grad + g


def _walk(root, grad):
    """Run each node's backward once every consumer of its output has handed it its gradient.

    Nodes wait in a heap keyed on their creation stamp (negative, so the newest pops first). The
    gradient a node has received so far waits on the node itself (`output_grad`), and a walk that
    fails clears what it left there before the error goes on."""
    root.output_grad = grad
    waiting = [(root.order, root)]
    handed_out = {id(grad)}  # arrays a leaf already owns, or the caller's: never give them to a second leaf
    anomaly = current() & ANOMALY
    try:
        while waiting:
            node = heappop(waiting)[1]
            inputs, output_grad = node.inputs, node.output_grad
            node.output_grad = None
            if inputs is None:
                raise RuntimeError(f"backward: the graph through {node.name} was already freed by an earlier "
                                   "backward(); recompute the forward pass to differentiate again")
            node.inputs = None  # free the graph as we go
            input_grads = node.backward(output_grad)
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            if anomaly:
                check_finite(node, "backward", input_grads)
            needs = node.needs_grad
            for i, g in enumerate(input_grads):
                if g is None or not needs[i]:
                    continue
                t = inputs[i]
                if not node.exact_gradients:  # sum it back to its input's shape, cast it to its dtype
                    g = unbroadcast(g, t.shape, f"{node.name}.backward").astype(t.dtype, copy=False)
                parent = t._node
                if parent is None:  # a leaf: it keeps g, so g must be an array no one else holds
                    if g.base is not None or id(g) in handed_out:
                        g = g.copy()
                    handed_out.add(id(g))
                    _add_to_grad(t, g)
                elif parent.output_grad is None:
                    parent.output_grad = g
                    heappush(waiting, (parent.order, parent))
                else:
                    parent.output_grad = parent.output_grad + g
    except BaseException:
        for _, node in waiting:
            node.output_grad = None
        raise
