"""Reverse-mode automatic differentiation: the graph, the backward walk, no_grad.

Every differentiable op is a `Function` subclass with `forward` (ndarrays in, one
ndarray out) and `backward` (the gradient of the output in, one gradient per input
out, or None where an input needs none). `Function.apply` runs `forward` and, when
grad mode is on and some input requires a gradient, records the node on the output.

`backward(root)` runs the nodes reachable from `root` newest first: every node is stamped
with its creation order, and an op is always created after the ops that made its inputs, so
by the time a node runs, every consumer of its output has handed it its gradient. A heap
keyed on that stamp gives the order in one pass, without recursion (and a chain of ops, the
usual case, skips even the heap). Each input's gradient is
summed back to that input's own shape; each node is freed once it has run.
Hooks registered with `register_post_backward_hook` run after each backward().
"""
import contextvars
import functools
import itertools
from heapq import heappop, heappush, heappushpop

import numpy as np

GRAD, ANOMALY = 1, 2  # bits of the per-thread mode: grad recording on, anomaly detection on


# A context variable is per thread (each new thread starts from the default: grad mode on,
# anomaly detection off) and per asyncio task, and reading it costs a third of a threading.local.
_grad_mode = contextvars.ContextVar("tinynn_grad_mode", default=GRAD)
_mode = _grad_mode.get


def _set_bit(bit, on):
    """Turn one bit of this thread's mode on or off; returns whether it was on."""
    mode = _mode()
    _grad_mode.set(mode | bit if on else mode & ~bit)
    return bool(mode & bit)


def is_grad_enabled():
    """True unless inside `no_grad()` on this thread."""
    return bool(_mode() & GRAD)


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
    they keep what backward needs on `self` (declared in `__slots__`, which keeps nodes small
    and quick to make). An op that never broadcasts sets `exact_gradients = True`, and the
    engine then trusts its gradients' shapes and dtypes instead of checking each one; an op
    that may broadcast can declare the name a slot and set it in each forward.
    `self.needs_grad[i]` tells whether input i needs a gradient, so backward can skip work.
    `inputs` is None once backward has run: the graph is freed. During a backward walk,
    `output_grad` sums the gradients the node's consumers have handed it so far.
    """

    __slots__ = ("inputs", "needs_grad", "order", "output_grad")
    exact_gradients = False  # True: backward returns every gradient in its input's shape and dtype

    def forward(self, *args, **kwargs):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **options):
        """Run the op on Tensors (or array-likes) and record it when a gradient is needed."""
        for t in inputs:
            if not isinstance(t, Tensor):
                inputs = tuple([t if isinstance(t, Tensor) else as_tensor(t, like=inputs) for t in inputs])
                break
        fn = cls()
        n = len(inputs)  # the common arities spelled out: gathering *args and **{} costs ~2 us
        if n == 2:
            a, b = inputs
            fn.needs_grad = needs = (a.requires_grad, b.requires_grad)
            out = fn.forward(a.data, b.data, **options) if options else fn.forward(a.data, b.data)
        elif n == 3:
            a, b, c = inputs
            fn.needs_grad = needs = (a.requires_grad, b.requires_grad, c.requires_grad)
            out = fn.forward(a.data, b.data, c.data, **options) if options else fn.forward(a.data, b.data, c.data)
        elif n == 1:
            a = inputs[0]
            fn.needs_grad = needs = (a.requires_grad,)
            out = fn.forward(a.data, **options) if options else fn.forward(a.data)
        else:
            fn.needs_grad = needs = tuple([t.requires_grad for t in inputs])
            out = fn.forward(*[t.data for t in inputs], **options)
        return _record(fn, inputs, needs, out)

    @property
    def name(self):
        return type(self).__name__


def apply_unary(cls, a):
    """`cls.apply(a)`, the short way: Tensor's methods and F's activations call it."""
    if type(a) is not Tensor:
        return cls.apply(a)
    fn = cls()
    fn.needs_grad = needs = (a.requires_grad,)
    return _record(fn, (a,), needs, fn.forward(a.data))


def binary_operator(cls):
    """Tensor's operator for the binary op `cls`: `a <op> b` is `cls.apply(a, b)`, spelled out
    for two Tensors with `_record` inlined, because arithmetic on small tensors is the hottest
    path of the library and each Python call it saves is a tenth of the op's cost."""

    def operator(a, b):  # a: the Tensor (or Parameter) whose operator this is
        if not isinstance(b, Tensor):
            return cls.apply(a, b)
        fn = cls()
        fn.needs_grad = (needs_a, needs_b) = (a.requires_grad, b.requires_grad)
        out = fn.forward(a.data, b.data)
        if _mode() != GRAD:  # grad off or anomaly detection on: the general path
            return _record(fn, (a, b), fn.needs_grad, out)
        result = _new_tensor(Tensor)
        result.data, result.grad = out, None
        if needs_a or needs_b:
            fn.inputs, fn.order, fn.output_grad = (a, b), next(_creation_order), None
            result.requires_grad, result._node = True, fn
        else:
            result.requires_grad, result._node = False, None
        return result

    operator.__name__ = operator.__qualname__ = f"binary_operator({cls.__name__})"
    return operator


def _record(fn, inputs, needs, out):
    """Wrap the op's output array in a Tensor and, when grad mode is on and some input needs a
    gradient, make `fn` its node (stamped with its creation order for the backward walk)."""
    mode = _mode()
    if mode & ANOMALY:
        _check_finite(fn, "forward", (out,))
    result = _new_tensor(Tensor)  # Tensor._wrap, inlined
    result.data, result.grad = out, None
    if True in needs and mode & GRAD:
        fn.inputs, fn.order, fn.output_grad = inputs, next(_creation_order), None
        result.requires_grad, result._node = True, fn
    else:
        result.requires_grad, result._node = False, None
    return result


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
        grad = np.array(1, dtype=root.dtype).reshape(root.shape)  # np.ones costs twice as much
    else:
        grad = np.asarray(getattr(grad, "data", grad), dtype=root.dtype)
        if grad.shape != root.shape:
            raise ValueError(f"backward: grad of shape {grad.shape} does not match the output's shape {root.shape}")
    if root._node is None:  # a leaf
        _add_to_grad(root, grad.copy())
    else:
        _walk(root, grad)
    for hook in tuple(_post_backward_hooks.values()):
        hook()


def _add_to_grad(leaf, g):
    """leaf.grad += g (g already in the leaf's shape and dtype; the first gradient is kept as is)."""
    leaf.grad = g if leaf.grad is None else leaf.grad + g


def _freed_error(node):
    return RuntimeError(f"backward: the graph through {node.name} was already freed by an earlier "
                        "backward(); recompute the forward pass to differentiate again")


def _walk(root, grad):
    """Run each node's backward once every consumer of its output has handed it its gradient.

    Consumers are always created after what they consume, so taking nodes newest first (by the
    creation order stamped by `apply`) is a topological order: one pass, no recursion. Nodes
    wait in a heap keyed on that stamp, except the first parent a node reaches: when it is also
    the newest node waiting, as all along a chain, it runs next without going through the heap.
    A node's gradient so far waits on the node itself (`output_grad`: a slot is quicker than a
    dict), so a walk that fails clears what it left there before the error goes on."""
    node = root._node
    node.output_grad = grad
    heap, first_parent = [], None
    handed_out = {id(grad)}  # arrays a leaf already owns, or the caller's: never give them to a second leaf
    anomaly = _mode() & ANOMALY
    try:
        while True:
            inputs, output_grad = node.inputs, node.output_grad
            node.output_grad = None
            if inputs is None:
                raise _freed_error(node)
            node.inputs = None  # free the graph as we go
            input_grads = node.backward(output_grad)
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            if anomaly:
                _check_finite(node, "backward", input_grads)
            needs, exact = node.needs_grad, node.exact_gradients
            first_parent = None  # the first parent this node reached that was not waiting yet
            i = -1
            for pg in input_grads:  # indexing beats zip(inputs, needs, input_grads) by a tenth of the op
                i += 1
                if pg is None or not needs[i]:
                    continue
                t = inputs[i]
                if not exact:
                    data = t.data
                    if pg.shape != data.shape or pg.dtype is not data.dtype:
                        pg = fit_gradient(pg, t, node.name)
                parent = t._node
                if parent is None:
                    if pg.base is not None or id(pg) in handed_out:
                        pg = pg.copy()
                    handed_out.add(id(pg))
                    _add_to_grad(t, pg)
                elif parent.output_grad is not None:
                    parent.output_grad = parent.output_grad + pg
                else:
                    parent.output_grad = pg
                    if first_parent is None:
                        first_parent = parent
                    else:
                        heappush(heap, (parent.order, parent))
            if first_parent is None:
                if not heap:
                    return
                node = heappop(heap)[1]
            elif heap and heap[0][0] < first_parent.order:  # a waiting node is newer: it goes first
                node = heappushpop(heap, (first_parent.order, first_parent))[1]
            else:
                node = first_parent
    except BaseException:
        for _, waiting in heap:
            waiting.output_grad = None
        if first_parent is not None:
            first_parent.output_grad = None
        raise


_creation_order = itertools.count(0, -1)  # negative: heapq pops the newest node first
_new_tensor = object.__new__

# The Tensor class is defined on top of this module; bound last to break the import cycle.
from .tensor import Tensor, as_tensor  # noqa: E402

