"""The backward walk: from a root Tensor back to the leaves, each node's backward run once.

Every node is stamped with its creation order (`Function.apply` does it), and an op is always
created after the ops that made its inputs. So taking nodes newest first is a topological order:
by the time a node runs, every consumer of its output has handed it its gradient. A heap keyed on
the stamp gives that order in one pass, without recursion. Each input's gradient is summed back to
the input's own shape; each node is freed once it has run. Works on anything with Tensor's
attributes (`_data`, `_grad`, `requires_grad`, `_node`); it makes a Tensor only for a new `.grad`.
"""
from heapq import heappop, heappush

import numpy as np

from .. import backend
from ..tensor import Tensor
from . import higher, hooks, versions
from .grad_mode import ANOMALY, check_nan, current


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


def backward(root, grad=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d root / d leaf into `.grad` of every leaf that requires a gradient.

    `grad` is d L / d root (defaults to 1 for a scalar root). The graph is freed as the walk goes
    unless `retain_graph` (default: `create_graph`), which lets a second backward through it run.
    With `create_graph` the gradients are Tensors in a new graph (higher.py), so they can be
    differentiated again. With `inputs` (Tensors), only their `.grad` is accumulated, leaves or not.
    """
    if not root.requires_grad:
        raise RuntimeError("backward: the tensor does not require grad and has no graph")
    if grad is None and not create_graph and root._data.size == 1:  # loss.backward(), the common call
        grad = np.ones(root.shape, dtype=root.dtype)
    else:
        grad = _root_grad("backward", root, grad, create_graph)
    retain_graph = create_graph if retain_graph is None else retain_graph
    if inputs is not None or root._node is None:
        _fill(root, grad, inputs, retain_graph, create_graph)
    elif create_graph:
        with _differentiable_kernels():
            _walk(root._node, grad, retain_graph, create=True)
    else:
        _walk(root._node, grad, retain_graph)
    for hook in tuple(_post_backward_hooks.values()):
        hook()


def _fill(root, grad, inputs, retain_graph, create_graph):
    """backward() into the `.grad` of `inputs` only, or of a root that is itself a leaf."""
    add = _add_graph_grad if create_graph else lambda t, g: _add_to_grad(t, g.copy())
    if inputs is None:  # the root is a leaf
        entry = hooks.hooked and hooks.lookup(id(root), None)
        add(root, hooks.run(entry, grad) if entry else grad)
        return
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if not inputs:
        raise RuntimeError("backward: inputs= was given as an empty sequence")
    for t, g in zip(inputs, _gradients((root,), inputs, (grad,), retain_graph, create_graph, True)):
        if g is not None:
            add(t, g)


def _root_grad(op, root, grad, create_graph):
    """d L / d root as an array (a Tensor under create_graph): 1 for a scalar root when not given."""
    if grad is None:
        if root._data.size != 1:
            raise RuntimeError(f"{op}: grad can be implicitly created only for scalar outputs, got shape {root.shape}")
        grad = np.ones(root.shape, dtype=root.dtype)
    elif not (create_graph and isinstance(grad, Tensor)):
        grad = np.asarray(grad, dtype=root.dtype)  # a Tensor gives its array (__array__)
    if grad.shape != root.shape:
        raise ValueError(f"{op}: grad of shape {grad.shape} does not match the output's shape {root.shape}")
    if create_graph:
        return grad if isinstance(grad, Tensor) else Tensor._wrap(grad, False)
    return grad


class _differentiable_kernels:
    """backend.active is the Differentiable namespace (higher.py) for the duration of a create_graph walk."""

    def __enter__(self):
        if higher.namespace is None:
            raise RuntimeError("backward(create_graph=True): tinynn.ops is not loaded")
        self.real = backend.active
        if not isinstance(self.real, higher.namespace):
            backend.active = higher.namespace(self.real)

    def __exit__(self, *exc):
        backend.active = self.real
        return False


def _add_to_grad(leaf, g):
    """leaf.grad += g (g already in the leaf's shape and dtype; the first gradient is kept as is,
    in a new Tensor; later ones are summed into the same Tensor, which keeps its identity)."""
    grad = leaf._grad
    if grad is None:
        leaf._grad = Tensor._wrap(np.asarray(g), False)  # a 0-d gradient may be a NumPy scalar
    else:
        grad._data = np.asarray(grad._data + g)  # 0-d + 0-d is a NumPy scalar: keep an array (grad.zero_())


def _add_graph_grad(leaf, g):
    """leaf.grad += g under create_graph: g is a Tensor of the new graph, summed out of place."""
    leaf._grad = g if leaf._grad is None else leaf._grad + g


def _walk(root, grad, retain_graph=False, sink=None, create=False):
    """Run each node's backward once every consumer of its output has handed it its gradient.

    Nodes wait in a heap keyed on their creation stamp (negative, so the newest pops first). The
    gradient a node has received so far waits on the node itself (`output_grad`), and a walk that
    fails clears what it left there before the error goes on. When tensors have hooks
    (hooks.py), a node's summed gradient passes through its tensor's hooks before its backward
    runs, and a hooked leaf's contributions are summed and passed through its hooks at the end.
    With a `sink` ({id(node) or id(leaf): [index, gradient]}, `grad()`'s), no leaf's `.grad`
    changes: the gradients of the tensors listed are summed there instead. With `create`, gradients
    are Tensors and each backward runs on Tensors, recorded (higher.py)."""
    root.output_grad = grad
    waiting = [(root.order, root)]
    handed_out = {id(grad)}  # arrays a leaf already owns, or the caller's: never give them to a second leaf
    anomaly = current() & ANOMALY
    hooked = bool(hooks.hooked) or create  # some tensor has hooks (hooks.py); create_graph pends every leaf
    written = versions.written   # memory written in place (versions.py); usually empty
    pending = {}  # id(leaf) -> [leaf, entry, summed gradient] for hooked leaves
    held = None   # the newest node ready to run, kept off the heap (a chain never touches the heap)
    try:
        while held is not None or waiting:
            if held is not None:
                node, held = held, None
            else:
                node = heappop(waiting)[1]
            inputs, output_grad = node.inputs, node.output_grad
            node.output_grad = None
            if inputs is None:
                raise RuntimeError(f"backward: the graph through {node.name} was already freed by an earlier "
                                   "backward(); recompute the forward pass to differentiate again")
            if hooked:
                entry = hooks.lookup(id(node), node)
                if entry:
                    output_grad = hooks.run(entry, output_grad)
                    if entry.retains:
                        _add_graph_grad(entry.tensor(), output_grad) if create else _add_to_grad(entry.tensor(), output_grad.copy())
            if sink is not None and id(node) in sink:
                _sum_into(sink[id(node)], output_grad)
            if written:
                versions.check_saved(node)
            if not retain_graph:
                node.inputs = None  # free the graph as we go
            input_grads = higher.run_backward(node, inputs, output_grad) if create else node.backward(output_grad)
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            if anomaly:
                check_nan(node, input_grads)
            needs = node.needs_grad
            for i, g in enumerate(input_grads):
                if g is None or not needs[i]:
                    continue
                t = inputs[i]
                if not node.exact_gradients:  # sum it back to its input's shape, cast it to its dtype
                    g = _as_graph_gradient(g, t, node) if create else \
                        unbroadcast(g, t.shape, f"{node.name}.backward").astype(t.dtype, copy=False)
                parent = t._node
                if written and parent is not None and parent.order < node.order:  # t changed in place since node used it
                    parent = _node_when_used(parent, node)
                if parent is None:  # a leaf: it keeps g, so g must be an array no one else holds
                    if sink is not None:
                        if id(t) in sink:
                            _sum_into(sink[id(t)], g)
                        continue
                    if hooked and (create or hooks.lookup(id(t), None)):  # summed, then hooked, at the end
                        _pend(pending, t, g)
                        continue
                    if g.base is not None or id(g) in handed_out:
                        g = g.copy()
                    handed_out.add(id(g))
                    _add_to_grad(t, g)
                elif parent.output_grad is None:
                    parent.output_grad = g
                    if held is None and (not waiting or parent.order < waiting[0][0]):
                        held = parent  # newer than every waiting node: it runs next
                    elif held is not None and parent.order < held.order:
                        heappush(waiting, (held.order, held))
                        held = parent
                    else:
                        heappush(waiting, (parent.order, parent))
                else:
                    parent.output_grad = parent.output_grad + g
    except BaseException:
        for node in [n for _, n in waiting] + ([held] if held is not None else []):
            node.output_grad = None
        raise
    for leaf, entry, g in pending.values():
        g = hooks.run(entry, g) if entry else g
        _add_graph_grad(leaf, g) if create else _add_to_grad(leaf, g.copy())


def _node_when_used(parent, node):
    """The node a tensor had when `node` recorded it as an input: an in-place op since then gave the
    tensor a newer node (newer than `node` itself, which no true parent is), whose `previous` is
    the one before. PyTorch's graph holds that node from the start; here it is found by its stamp."""
    while parent is not None and parent.order < node.order:
        parent = getattr(parent, "previous", None)
    return parent


def _as_graph_gradient(g, t, node):
    """A gradient a backward returned under create_graph (a Tensor: higher.run_backward), summed to
    t's shape and cast to its dtype."""
    if g.shape != t.shape:
        g = unbroadcast(g, t.shape, f"{node.name}.backward")
    return g if g.dtype == t.dtype else g.to(t.dtype)


def _sum_into(slot, g):
    if slot[1] is None:
        slot[1] = g if isinstance(g, Tensor) else g.copy()
    else:
        slot[1] = slot[1] + g


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """The gradients d(sum of outputs)/d input, one per input (a tuple), without touching any `.grad`.

    `grad_outputs` weighs each output (d L / d output; 1 for a scalar output), as in `backward`.
    With `create_graph` the gradients are Tensors of a new graph, differentiable again (the graph
    is then kept unless retain_graph=False)."""
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if grad_outputs is None or isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outputs = (grad_outputs,) * len(outputs) if grad_outputs is None else (grad_outputs,)
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("grad: one of the inputs does not require grad")
    for out in outputs:
        if not out.requires_grad:
            raise RuntimeError("grad: one of the outputs does not require grad and has no graph")
    grads = [_root_grad("grad", out, g, create_graph) for out, g in zip(outputs, grad_outputs)]
    keep = create_graph if retain_graph is None else retain_graph
    result = _gradients(outputs, inputs, grads, keep, create_graph, allow_unused)
    return tuple(None if g is None else g if create_graph else Tensor._wrap(g, False) for g in result)


def _gradients(outputs, inputs, grads, keep, create_graph, allow_unused):
    """d(sum_k <grads_k, outputs_k>) / d input for each input (arrays, or Tensors under create_graph)."""
    sink = {id(t._node if t._node is not None else t): [i, None] for i, t in enumerate(inputs)}
    for k, (out, g) in enumerate(zip(outputs, grads)):
        key = id(out._node if out._node is not None else out)
        if key in sink:
            _sum_into(sink[key], g)
        if out._node is not None:
            if create_graph:
                with _differentiable_kernels():
                    _walk(out._node, g, keep or k < len(outputs) - 1, sink, create=True)
            else:
                _walk(out._node, g, keep or k < len(outputs) - 1, sink)
    result = [None] * len(inputs)
    for i, g in sink.values():
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} was not used in the graph; pass allow_unused=True to get None for it")
        result[i] = g
    return result


def _pend(pending, leaf, g):
    """Sum a hooked leaf's gradient until the walk ends: its hooks see the total, as in PyTorch."""
    item = pending.get(id(leaf))
    if item is None:
        pending[id(leaf)] = [leaf, hooks.lookup(id(leaf), None), g]
    else:
        item[2] = item[2] + g
