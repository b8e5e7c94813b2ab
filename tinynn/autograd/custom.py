"""PyTorch-style custom Functions: subclass `tn.autograd.Function` with static `forward(ctx, ...)`
and `backward(ctx, *grads)` written on Tensors, call `MyOp.apply(...)`.

    class Cube(tn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x ** 2

A class whose `forward` is a staticmethod takes this path (Function.__init_subclass__ asks
`ctx_style`); tinynn's own ops, with forward and backward as methods on arrays, are unchanged.
forward runs under no_grad on the caller's Tensors; the result is recorded as one node (a `CtxNode`)
whose backward calls the class's backward on Tensors: with no graph for a first-order backward,
in the graph under create_graph (so a backward written in Tensor ops is differentiable again).
"""
import numpy as np

from ..tensor import Tensor
from . import function, versions
from .function import Function, record
from .grad_mode import enable_grad, no_grad


class FunctionCtx:
    """The `ctx` forward and backward share: saved tensors, which inputs need a gradient, and any
    attribute forward sets on it."""

    def save_for_backward(self, *tensors):
        """Keep these tensors (or None) for backward; changing one in place afterwards makes
        backward raise, as in PyTorch."""
        self._saved = tuple(tensors)
        self._versions = tuple(None if t is None else versions.version(t._data) for t in tensors)

    @property
    def saved_tensors(self):
        """The tensors given to save_for_backward, in order; RuntimeError if one was changed in place since."""
        for t, v in zip(getattr(self, "_saved", ()), getattr(self, "_versions", ())):
            if t is not None and versions.version(t._data) != v:
                raise RuntimeError(
                    f"backward: one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: {self._name} saved a tensor of shape {t.shape} that was then changed in "
                    f"place (it is at version {versions.version(t._data)}; expected version {v})")
        return getattr(self, "_saved", ())

    def mark_non_differentiable(self, *tensors):
        """Outputs that get no gradient (an index, a mask): they will not require grad."""
        self._non_differentiable = {id(t) for t in tensors}

    def set_materialize_grads(self, value):
        """PyTorch's switch for None gradients; tinynn always hands backward a Tensor."""
        self._materialize = bool(value)


class CtxNode(Function):
    """The node of a ctx-style Function call: its backward is the class's static backward."""

    __slots__ = ("fn", "ctx", "positions", "count")
    differentiable = True  # its backward runs on Tensors: under create_graph they are in the graph

    def backward(self, g):
        graph = isinstance(g, Tensor)
        with (enable_grad() if graph else no_grad()):
            grads = self.fn.backward(self.ctx, g if graph else Tensor._wrap(g, False))
        grads = grads if isinstance(grads, tuple) else (grads,)
        if len(grads) != self.count:
            raise RuntimeError(f"{self.fn.__name__}.backward returned {len(grads)} gradients, but forward took "
                               f"{self.count} inputs (return None for an input that needs none)")
        picked = [grads[i] for i in self.positions]
        if graph:
            return tuple(picked)
        return tuple(None if p is None else np.asarray(p._data if isinstance(p, Tensor) else p) for p in picked)

    @property
    def name(self):
        return self.fn.__name__


def apply(cls, *args, **kwargs):
    """Run cls.forward(ctx, *args) under no_grad and record it as one node of the graph."""
    ctx = FunctionCtx()
    ctx._name = cls.__name__
    ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
    with no_grad():
        out = cls.forward(ctx, *args, **kwargs)
    if isinstance(out, (tuple, list)):
        raise NotImplementedError(f"{cls.__name__}.forward returned {len(out)} outputs; tinynn's custom "
                                  "Functions return one Tensor")
    positions = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
    node = CtxNode()
    node.fn, node.ctx, node.positions, node.count = cls, ctx, positions, len(args)
    node.needs_grad = tuple(args[i].requires_grad for i in positions)
    if id(out) in getattr(ctx, "_non_differentiable", ()):
        node.needs_grad = (False,) * len(positions)
    data = out._data if isinstance(out, Tensor) else np.asarray(out)
    result = record(node, tuple(args[i] for i in positions), data)
    if isinstance(out, Tensor) and result.requires_grad and all(out is not a for a in args):
        out._node, out.requires_grad = result._node, True  # the Tensor forward returned (and maybe saved) is the output
        return out
    return result


def ctx_style(cls):
    """Make `cls` (a subclass whose forward is a staticmethod) a PyTorch-style Function."""
    if not isinstance(cls.__dict__.get("backward"), staticmethod):
        raise TypeError(f"{cls.__name__}: a Function with a static forward(ctx, ...) needs a static backward(ctx, *grads)")
    cls.apply = classmethod(apply)


function.ctx_style = ctx_style
