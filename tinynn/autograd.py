"""Reverse-mode automatic differentiation: the graph, the backward walk, no_grad.

Every differentiable op is a `Function` subclass with `forward` (ndarrays in, one
ndarray out) and `backward` (the gradient of the output in, one gradient per input
out, or None where an input needs none). `Function.apply` runs `forward` and, when
grad mode is on and some input requires a gradient, records the node on the output.

`backward(root)` counts, for each node reachable from `root`, the nodes that consume its
output, then runs each node's backward once all of them have passed it their gradient
(iteratively, so deep graphs never hit Python's recursion limit), summing each input's
gradient back to that input's own shape. Afterwards the graph is freed.
Hooks registered with `register_post_backward_hook` run after each backward().
"""
import functools
import threading
from itertools import repeat

import numpy as np

GRAD, ANOMALY = 1, 2  # bits of the per-thread mode: grad recording on, anomaly detection on


class _GradMode(threading.local):
    mode = GRAD  # per thread: each thread starts with grad mode on and anomaly detection off


_state = _GradMode()


def _set_bit(bit, on):
    """Turn one bit of this thread's mode on or off; returns whether it was on."""
    mode = _state.mode
    _state.mode = mode | bit if on else mode & ~bit
    return bool(mode & bit)


def is_grad_enabled():
    """True unless inside `no_grad()` on this thread."""
    return bool(_state.mode & GRAD)


class no_grad:
    """Context manager and decorator: ops inside it build no graph.

    with tn.no_grad():
        y = model(x)          # y.requires_grad is False
    """

    bit, on = GRAD, False

    def __enter__(self):
        self._previous = _set_bit(self.bit, self.on)

    def __exit__(self, *exc):
        _set_bit(self.bit, self._previous)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class enable_grad(no_grad):
    """Turn grad mode back on inside a `no_grad` block."""

    on = True


class detect_anomaly(no_grad):
    """`with tn.detect_anomaly():` checks every op's forward output and every gradient its
    backward returns, and raises FloatingPointError naming the first op that produced NaN or inf."""

    bit, on = ANOMALY, True


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
        fn = cls()  # the hottest path of the library: one- and two-input ops take a short way
        n = len(inputs)
        if n == 2 and isinstance(inputs[0], Tensor) and isinstance(inputs[1], Tensor):
            a, b = inputs
            fn.needs_grad = needs = (a.requires_grad, b.requires_grad)
            out = fn.forward(a.data, b.data, **options) if options else fn.forward(a.data, b.data)
        elif n == 1 and isinstance(inputs[0], Tensor):
            a = inputs[0]
            fn.needs_grad = needs = (a.requires_grad,)
            out = fn.forward(a.data, **options) if options else fn.forward(a.data)
        else:
            for t in inputs:
                if not isinstance(t, Tensor):
                    inputs = tuple([t if isinstance(t, Tensor) else as_tensor(t, like=inputs) for t in inputs])
                    break
            fn.needs_grad = needs = tuple([t.requires_grad for t in inputs])
            out = fn.forward(*[t.data for t in inputs], **options)
        mode = _state.mode
        if mode & ANOMALY:
            _check_finite(fn, "forward", (out,))
        result = _new_tensor(Tensor)  # Tensor._wrap, inlined
        result.data, result.grad = out, None
        if mode & GRAD and True in needs:
            fn.inputs = inputs
            fn.freed = False
            result.requires_grad, result._node = True, fn
        else:
            result.requires_grad, result._node = False, None
        return result

    @property
    def name(self):
        return type(self).__name__


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
        root._accumulate_grad(grad.copy())
    else:
        _walk(root, grad)
    for hook in tuple(_post_backward_hooks.values()):
        hook()


def _freed_error(node):
    return RuntimeError(f"backward: the graph through {node.name} was already freed by an earlier "
                        "backward(); recompute the forward pass to differentiate again")


def _walk(root, grad):
    """Kahn's algorithm: count each node's consumers, then run a node's backward once all of
    them have handed it their gradient (no recursion, each node visited twice)."""
    top = root._node
    if top.freed:
        raise _freed_error(top)
    pending, stack = {top: 0}, [top]
    while stack:
        for t in stack.pop().inputs:
            node = t._node
            if node is not None:
                if node in pending:
                    pending[node] += 1
                else:
                    if node.freed:
                        raise _freed_error(node)
                    pending[node] = 1
                    stack.append(node)
    grads, ready = {top: grad}, [top]
    handed_out = {id(grad)}  # arrays a leaf already owns, or the caller's: never give them to a second leaf
    anomaly = _state.mode & ANOMALY
    while ready:
        node = ready.pop()
        g = grads.pop(node, None)
        if g is None:  # no gradient reached this node: its inputs get none from it
            input_grads = repeat(None)
        else:
            input_grads = node.backward(g)
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            if anomaly:
                _check_finite(node, "backward", input_grads)
        for t, needs, pg in zip(node.inputs, node.needs_grad, input_grads):
            parent = t._node
            if pg is not None and needs:
                data = t.data
                if pg.shape != data.shape or pg.dtype is not data.dtype:
                    pg = fit_gradient(pg, t, node.name)
                if parent is None:
                    if pg.base is not None or id(pg) in handed_out:
                        pg = pg.copy()
                    handed_out.add(id(pg))
                    t._accumulate_grad(pg, node)
                    continue
                grads[parent] = grads[parent] + pg if parent in grads else pg
            if parent is not None:
                left = pending[parent] - 1
                pending[parent] = left
                if not left:
                    ready.append(parent)
        node.freed = True
        node.inputs = ()
        node.__dict__.clear()


# The Tensor class is defined on top of this module; bound last to break the import cycle.
from .tensor import Tensor, as_tensor  # noqa: E402

_new_tensor = object.__new__
