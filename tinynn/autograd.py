"""Reverse-mode automatic differentiation: the graph, the backward walk, no_grad.

Every differentiable op is a `Function` subclass with `forward` (ndarrays in, one
ndarray out) and `backward` (the gradient of the output in, one gradient per input
out, or None where an input needs none). `Function.apply` runs `forward` and, when
grad mode is on and some input requires a gradient, records the node on the output.

`backward(root)` orders the nodes reachable from `root` once (iteratively, so deep
graphs never hit Python's recursion limit), then walks them in reverse, summing
each input's gradient back to that input's own shape. Afterwards the graph is freed.
Hooks registered with `register_post_backward_hook` run after each backward().
"""
import functools
import threading

import numpy as np

class _GradMode(threading.local):
    enabled = True  # per thread: each thread starts with grad mode on
    anomaly = False


_state = _GradMode()


def is_grad_enabled():
    """True unless inside `no_grad()` on this thread."""
    return _state.enabled


class no_grad:
    """Context manager and decorator: ops inside it build no graph.

    with tn.no_grad():
        y = model(x)          # y.requires_grad is False
    """

    def __enter__(self):
        self._previous = is_grad_enabled()
        _state.enabled = False

    def __exit__(self, *exc):
        _state.enabled = self._previous
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)

        return wrapper


class enable_grad(no_grad):
    """Turn grad mode back on inside a `no_grad` block."""

    def __enter__(self):
        self._previous = is_grad_enabled()
        _state.enabled = True


class detect_anomaly:
    """`with tn.detect_anomaly():` checks every op's forward output and every gradient its
    backward returns, and raises FloatingPointError naming the first op that produced NaN or inf."""

    def __enter__(self):
        self._previous = _state.anomaly
        _state.anomaly = True

    def __exit__(self, *exc):
        _state.anomaly = self._previous
        return False


def _check_finite(node, stage, arrays):
    for i, a in enumerate(arrays):
        if a is not None and a.dtype.kind == "f" and not np.all(np.isfinite(a)):
            kind = "NaN" if np.any(np.isnan(a)) else "inf"
            what = "output" if stage == "forward" else f"gradient for input {i}"
            raise FloatingPointError(f"detect_anomaly: {node.name}.{stage} produced {kind} in its {what} (shape {a.shape})")


def unbroadcast(grad, shape):
    """Sum `grad` over the axes that broadcasting added or stretched, so it gets `shape`.

    If y = f(x) broadcast x of shape (3, 1) to (2, 3, 4), then dL/dx = sum of dL/dy
    over axis 0 (added) and axis 2 (stretched from 1), kept as (3, 1).
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra < 0 or any(n != 1 and n != grad.shape[i + extra] for i, n in enumerate(shape)):
        raise ValueError(f"unbroadcast: gradient of shape {grad.shape} cannot be reduced to {shape}")
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1
    )
    reduced = grad.sum(axis=axes, keepdims=True) if axes else grad
    return reduced.reshape(shape)


def fit_gradient(g, tensor, op_name):
    """Sum a gradient back to `tensor`'s shape and cast it to its dtype; refuse what cannot fit."""
    if g.shape != tensor.shape:
        try:
            g = unbroadcast(g, tensor.shape)
        except ValueError:
            raise ValueError(
                f"{op_name}.backward: gradient of shape {g.shape} does not fit its input of shape {tensor.shape}"
            ) from None
    if g.dtype != tensor.dtype:
        g = g.astype(tensor.dtype)
    return g


class Function:
    """One node of the graph: an op's forward and backward, side by side.

    Subclasses implement `forward(self, *arrays, **options)` and `backward(self, grad)`;
    they keep what backward needs on `self`. `self.needs_grad[i]` tells whether input i
    needs a gradient, so backward can skip work.
    """

    __slots__ = ("inputs", "needs_grad", "freed", "__dict__")

    def forward(self, *args, **kwargs):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **options):
        """Run the op on Tensors (or array-likes) and record it when a gradient is needed."""
        tensors, arrays, needs = [], [], []
        for t in inputs:
            if not isinstance(t, Tensor):
                t = as_tensor(t, like=inputs)
            tensors.append(t)
            arrays.append(t.data)
            needs.append(t.requires_grad)
        fn = cls()
        fn.needs_grad = needs
        out = fn.forward(*arrays, **options)
        if _state.anomaly:
            _check_finite(fn, "forward", (out,))
        if True in needs and _state.enabled:
            fn.inputs = tensors
            fn.freed = False
            return Tensor._wrap(out, True, fn)
        return Tensor._wrap(out, False)

    @property
    def name(self):
        return type(self).__name__


def _topological_order(root):
    """Nodes reachable from root, each after every node that consumes its output."""
    order, seen = [], set()
    stack = [(root, False)]
    while stack:
        tensor, expanded = stack.pop()
        node = tensor._node
        if node is None:
            continue
        if expanded:
            order.append(tensor)
            continue
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        stack.append((tensor, True))
        if node.freed:
            raise RuntimeError(
                f"backward: the graph through {node.name} was already freed by an earlier "
                "backward(); recompute the forward pass to differentiate again"
            )
        for parent in node.inputs:
            if parent._node is not None and id(parent) not in seen:
                stack.append((parent, False))
    order.reverse()
    return order


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


def _accumulate(grads, tensor, g, node):
    data = tensor.data
    if g.shape != data.shape or g.dtype != data.dtype:
        g = fit_gradient(g, tensor, node.name)
    key = id(tensor)
    if key in grads:
        grads[key] = grads[key] + g
    else:
        grads[key] = g


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
        root._accumulate_grad(grad.copy())
    else:
        _walk(root, grad)
    for hook in tuple(_post_backward_hooks.values()):
        hook()


def _walk(root, grad):
    order = _topological_order(root)
    grads = {id(root): grad}
    handed_out = {id(grad)}  # arrays a leaf already owns, or the caller's: never give them to a second leaf
    for tensor in order:
        node = tensor._node
        g = grads.pop(id(tensor), None)
        if g is None:
            continue
        input_grads = node.backward(g)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        if _state.anomaly:
            _check_finite(node, "backward", input_grads)
        for parent, needs, pg in zip(node.inputs, node.needs_grad, input_grads):
            if not needs or pg is None:
                continue
            if parent._node is None:
                if pg.base is not None or id(pg) in handed_out:
                    pg = pg.copy()
                handed_out.add(id(pg))
                parent._accumulate_grad(pg, node)
            else:
                _accumulate(grads, parent, pg, node)
        node.freed = True
        node.inputs = ()
        node.__dict__.clear()


# The Tensor class is defined on top of this module; bound last to break the import cycle.
from .tensor import Tensor, as_tensor  # noqa: E402
