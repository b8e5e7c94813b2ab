"""torch.utils.checkpoint: activation checkpointing, memory traded for compute (Chen et al., "Training Deep
Nets with Sublinear Memory Cost", 2016).

    y = checkpoint(block, x, use_reentrant=False)        # block's activations are not kept
    y = checkpoint_sequential(model, 4, x, use_reentrant=False)

The forward pass keeps only the function's inputs; backward runs the function again with gradients on
(after putting the random generator back where it was, so dropout draws the same masks) and
backpropagates through that recomputation, giving exactly the gradients of the plain graph (the same
ops in the same order). The whole recomputation is one node of the outer graph:

- use_reentrant=True (PyTorch's default when not given, with a warning): the forward runs under
  no_grad; the output needs a gradient only if a tensor argument does. Backward recomputes and runs a
  nested backward(), which accumulates the `.grad` of the parameters the function read, and hands the
  arguments' gradients to the outer graph. Like PyTorch's, it does not support autograd.grad of those
  parameters, backward(inputs=...) or create_graph (tinynn cannot detect the first two: the nested
  backward fills `.grad` all the same).
- use_reentrant=False: the forward runs with gradients on, only to find which tensors the function reads
  that need a gradient (parameters, tensors captured from outside); that graph is dropped at once and
  those tensors become inputs of the node. Backward computes the gradients of the arguments and of those
  tensors with autograd.grad over the recomputation, so autograd.grad, backward(inputs=...), create_graph
  and keyword arguments all work, and parameters get gradients even when no argument needs one.
"""
import warnings

import numpy as np

from ..autograd import backward as _backward, grad as _grad, versions
from ..autograd.function import Function, creation_order, record
from ..autograd.grad_mode import enable_grad, is_grad_enabled, no_grad
from ..random import fork_rng, get_rng_state, set_rng_state
from ..tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]


def _detached(args):
    """The arguments with each Tensor replaced by a leaf sharing its memory (requires_grad kept)."""
    return [Tensor._wrap(a._data, a.requires_grad) if isinstance(a, Tensor) else a for a in args]


def _reached(outputs, start):
    """The tensors needing a gradient that the graph of `outputs` reaches and that were not made by the
    recorded call: leaves (parameters, the detached arguments) and tensors older than stamp `start`."""
    found, seen, nodes = {}, set(), []

    def push(t):
        node = t._node
        if node is None or node.order > start:  # stamps count down: older nodes have larger ones
            found.setdefault(id(t), t)
        elif id(node) not in seen:
            seen.add(id(node))
            nodes.append(node)

    for o in outputs:
        if isinstance(o, Tensor) and o.requires_grad:
            push(o)
    while nodes:
        node = nodes.pop()
        for t, need in zip(node.inputs or (), node.needs_grad):
            if need:
                push(t)
        prev = getattr(node, "previous", None)  # the node a tensor had before an in-place op
        if prev is not None and prev.order <= start and id(prev) not in seen:
            seen.add(id(prev))
            nodes.append(prev)
    return list(found.values())


def _items(out):
    """(the function's outputs as a tuple, how to rebuild the result from a tuple)."""
    if isinstance(out, Tensor):
        return (out,), lambda items: items[0]
    if isinstance(out, (tuple, list)):
        return tuple(out), (lambda items: type(out)(*items)) if hasattr(out, "_fields") else type(out)
    if isinstance(out, dict):
        raise TypeError("checkpoint: the function returned a dict; tinynn's checkpoint takes a function returning a "
                        "Tensor or a tuple or list (of Tensors and other values)")
    return (out,), lambda items: items[0]


class _Recomputation:
    """What backward needs: the function, its saved arguments (and their versions), the random state
    before the forward, the external tensors found (use_reentrant=False) and the output gradients."""

    def __init__(self, function, args, kwargs, rng, reentrant, determinism_check):
        self.function, self.args, self.kwargs, self.rng = function, args, kwargs, rng
        self.reentrant, self.check = reentrant, determinism_check != "none"
        self.saved = [a for a in args if isinstance(a, Tensor)]
        self.versions = [versions.version(a._data) for a in self.saved]
        self.externals, self.meta, self.grads = [], [], None

    def run(self, grads, graph):
        """The gradients of the node's inputs (arguments needing one, then the externals) from the outputs'."""
        if graph and self.reentrant:
            raise RuntimeError("checkpoint: use_reentrant=True does not support backward(create_graph=True); pass "
                               "use_reentrant=False to differentiate through a checkpoint twice")
        for t, v in zip(self.saved, self.versions):
            if versions.version(t._data) != v:
                raise RuntimeError(f"checkpoint: an argument of shape {t.shape} was modified by an inplace operation "
                                   f"after the checkpointed forward (version {versions.version(t._data)}; expected "
                                   f"{v}); backward cannot recompute from it")
        targets = [] if self.reentrant else [a for a in self.saved if a.requires_grad] + self.externals
        made_leaves = [(t, t._node) for t in targets if t._node is not None]
        try:
            for t, _ in made_leaves:  # so the walk over the recomputation stops at them, outside the outer graph
                t._node = None
            with fork_rng(enabled=self.rng is not None):
                if self.rng is not None:
                    set_rng_state(self.rng)
                args = _detached(self.args) if self.reentrant else self.args
                start = next(creation_order)
                with enable_grad():
                    outs, _ = _items(self.function(*args, **self.kwargs))
            self._check_outputs(outs)
            pairs = [(o, g) for o, g in zip(outs, grads) if isinstance(o, Tensor) and o.requires_grad and g is not None]
            if self.reentrant:
                leaves = [d for d in args if isinstance(d, Tensor) and d.requires_grad]
                return self._nested_backward(pairs, leaves, start)
            if not pairs:
                return (None,) * len(targets)
            got = _grad([o for o, _ in pairs], targets, [g for _, g in pairs], retain_graph=graph,
                        create_graph=graph, allow_unused=True)
        finally:
            for t, node in made_leaves:
                t._node = node
        return tuple(g if graph or g is None else g._data for g in got)

    def _check_outputs(self, outs):
        meta = [(o.shape, o.dtype) if isinstance(o, Tensor) else None for o in outs]
        if self.check and self.meta and meta != self.meta:
            raise RuntimeError("torch.utils.checkpoint: the recomputed outputs have different shapes or dtypes than "
                               f"during the forward pass: {meta} vs {self.meta} (pass determinism_check='none' to "
                               "skip this check)")

    def _nested_backward(self, pairs, leaves, start):
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        outside = [t for t in _reached([o for o, _ in pairs], start) if t._node is not None]
        if outside:
            raise RuntimeError(f"checkpoint(use_reentrant=True): the function reads {len(outside)} tensor(s) that "
                               "need a gradient and were computed outside it without being passed as arguments "
                               f"(shape {outside[0].shape}); pass them as arguments, or use use_reentrant=False")
        for k, (o, g) in enumerate(pairs):
            _backward(o, g, retain_graph=k < len(pairs) - 1)
        return tuple(None if d.grad is None else d.grad._data for d in leaves)


class CheckpointFunctionBackward(Function):
    """The node of a checkpointed call: its backward recomputes the function and backpropagates through it."""

    __slots__ = ("state",)
    differentiable = True  # under create_graph its gradients come from autograd.grad in the new graph

    def backward(self, grad):
        state = self.state
        if state.grads is None:  # one output: this node made it
            grads = [grad]
        else:  # several: their _Output nodes, run before this one, left their gradients
            grads, state.grads = state.grads, [None] * len(state.grads)
        return state.run(grads, isinstance(grad, Tensor))


class CheckpointOutputBackward(Function):
    """Output `index` of a checkpointed call that returned several: backward keeps the output's gradient for
    the call's node (older, so it runs after every output) and hands it an empty gradient."""

    __slots__ = ("state", "index")
    differentiable = True
    exact_gradients = True

    def backward(self, grad):
        grads = self.state.grads
        grads[self.index] = grad if grads[self.index] is None else grads[self.index] + grad
        return np.zeros(0)


def _attach(state, out, inputs, differentiable):
    """The function's result with each output in `differentiable` (flags per output) made by the node."""
    items, rebuild = _items(out)
    state.meta = [(o.shape, o.dtype) if isinstance(o, Tensor) else None for o in items]
    picked = [i for i, o in enumerate(items) if differentiable(o)]
    if not picked:
        return out
    node = CheckpointFunctionBackward()
    node.state, node.needs_grad = state, tuple(t.requires_grad for t in inputs)
    if len(items) == 1:
        return rebuild([record(node, tuple(inputs), items[0]._data)])
    state.grads = [None] * len(items)
    carrier = record(node, tuple(inputs), np.zeros(0))
    result = list(items)
    for i in picked:
        pick = CheckpointOutputBackward()
        pick.state, pick.index, pick.needs_grad = state, i, (True,)
        result[i] = record(pick, (carrier,), items[i]._data)
    return rebuild(result)


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default", debug=False,
               early_stop=True, **kwargs):
    """function(*args, **kwargs) without keeping its activations: backward recomputes them (module docstring).

    use_reentrant: True or False (see the module docstring); PyTorch 2.13 warns when it is not given and
    then takes True, and so does tinynn. preserve_rng_state=True (a keyword): the recomputation sees the
    random state the forward saw, so dropout masks match; the state after backward is what it was before.
    determinism_check="default" compares the recomputed outputs' shapes and dtypes with the forward's
    ("none" skips it). context_fn and debug are PyTorch-only (NotImplementedError); early_stop is accepted
    and has no effect (the whole function is recomputed)."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting "
                      "in PyTorch 2.9, calling checkpoint without use_reentrant will raise an exception. "
                      "use_reentrant=False is recommended, but if you need to preserve the current default behavior, "
                      "you can pass use_reentrant=True. Refer to docs for more details on the differences between the "
                      "two variants.", UserWarning, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if context_fn is not None or debug:
        raise NotImplementedError("checkpoint: context_fn and debug (selective checkpointing, debug traces) are not "
                                  "supported in tinynn")
    if determinism_check not in ("default", "none"):
        raise ValueError(f"checkpoint: determinism_check should be 'default' or 'none', got {determinism_check!r}")
    tensors = [a for a in args if isinstance(a, Tensor)]
    if use_reentrant:
        if not any(t.requires_grad for t in tensors):
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", UserWarning,
                          stacklevel=2)
        rng = get_rng_state() if preserve else None
        with no_grad():
            out = function(*args)
        if not is_grad_enabled():
            return out
        state = _Recomputation(function, args, {}, rng, True, determinism_check)
        inputs = [t for t in tensors if t.requires_grad]
        if not inputs:
            return out
        return _attach(state, out, inputs, lambda o: isinstance(o, Tensor) and o.dtype.kind == "f")
    if not is_grad_enabled():
        return function(*args, **kwargs)
    rng = get_rng_state() if preserve else None
    start = next(creation_order)
    out = function(*args, **kwargs)  # recorded only to find what it reads; the graph is dropped on return
    own = {id(t) for t in tensors}
    state = _Recomputation(function, args, kwargs, rng, False, determinism_check)
    state.externals = [t for t in _reached(_items(out)[0], start) if id(t) not in own]
    inputs = [t for t in tensors if t.requires_grad] + state.externals
    if not inputs:
        return out
    return _attach(state, out, inputs, lambda o: isinstance(o, Tensor) and o.requires_grad)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run functions[0], ..., functions[n-1] (a Sequential's children, or a list) on `input` in `segments`
    pieces of n // segments functions, each but the last through checkpoint() (the last one runs plainly,
    its graph being needed at once): the memory of one segment's activations plus the segment boundaries,
    about n / segments + segments activations instead of n. preserve_rng_state=True as in checkpoint."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be passed "
                      "explicitly. In version 2.9 we will raise an exception if use_reentrant is not passed. "
                      "use_reentrant=False is recommended, but if you need to preserve the current default behavior, "
                      "you can pass use_reentrant=True. Refer to docs for more details on the differences between "
                      "the two variants.", UserWarning, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))

    def run_function(start, end, functions):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x
        return forward

    if hasattr(functions, "children") and hasattr(functions, "forward"):  # a Sequential
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)
