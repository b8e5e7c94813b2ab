"""`tn.autograd.functional`: jacobian, hessian, vjp, hvp of a function of Tensors, with PyTorch's
signatures and return structure (a Tensor for a Tensor argument, tuples for tuples), built on
`grad` (and on create_graph for the second derivatives)."""
import numpy as np

from ..tensor import Tensor
from .engine import grad
from .grad_mode import enable_grad


def _as_tuple(x):
    return (x, False) if not isinstance(x, Tensor) else ((x,), True)


def _prepare(inputs, create_graph, strict=False, op=""):
    """Fresh leaves that require grad, sharing each input's values (in the caller's graph when
    create_graph, so results can be differentiated with respect to the originals)."""
    if strict:
        raise NotImplementedError(f"{op}(strict=True) is not implemented in tinynn; an unused input gets zeros")
    inputs, single = _as_tuple(inputs)
    made = tuple(t if create_graph and t.requires_grad else Tensor._wrap(t._data, True) for t in inputs)
    return made, single


def _zeros_where_none(grads, inputs):
    return tuple(Tensor._wrap(np.zeros(t.shape, t.dtype), False) if g is None else g for g, t in zip(grads, inputs))


def _finish(t, create_graph):
    return t if create_graph else t.detach()


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product d <v, func(x)> / d x (v may be None only
    for a single-element output)."""
    xs, single = _prepare(inputs, create_graph, strict, "vjp")
    with enable_grad():
        out = func(*xs)
        outs, out_single = _as_tuple(out)
        if v is not None:
            v, _ = _as_tuple(v)
        live = [(o, g) for o, g in zip(outs, v or (None,) * len(outs)) if o.requires_grad]
        grads = grad([o for o, _ in live], xs, [g for _, g in live], create_graph=create_graph, allow_unused=True) \
            if live else (None,) * len(xs)
    result = tuple(_finish(g, create_graph) for g in _zeros_where_none(grads, xs))
    out = tuple(_finish(o, create_graph) for o in outs)
    return (out[0] if out_single else out), (result[0] if single else result)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """d func(x)_i / d x_j, one reverse pass per output element: for a Tensor input and output a
    Tensor of shape out.shape + in.shape; tuples of them (outputs outside, inputs inside) otherwise."""
    if strategy != "reverse-mode":
        raise NotImplementedError(f"jacobian: strategy={strategy!r} is not implemented in tinynn (only reverse-mode)")
    xs, single = _prepare(inputs, create_graph, strict, "jacobian")
    with enable_grad():
        outs, out_single = _as_tuple(func(*xs))
        blocks = []
        for o in outs:
            rows = [[] for _ in xs]
            for k in range(o._data.size):
                if o.requires_grad:
                    onehot = np.zeros(o._data.size, o.dtype)
                    onehot[k] = 1
                    gs = grad(o, xs, onehot.reshape(o.shape), retain_graph=True, create_graph=create_graph,
                              allow_unused=True)
                else:
                    gs = (None,) * len(xs)
                for row, g in zip(rows, _zeros_where_none(gs, xs)):
                    row.append(g)
            blocks.append(tuple(_stack(row, o.shape + x.shape, x, create_graph) for row, x in zip(rows, xs)))
    blocks = [b[0] if single else b for b in blocks]
    return blocks[0] if out_single else tuple(blocks)


def _stack(rows, shape, x, create_graph):
    """The rows (gradients of each output element) as one Tensor of `shape`; under create_graph
    stacked as sum_k e_k row_k, in Tensor arithmetic, so the result stays in the graph."""
    if not create_graph or not rows:
        data = np.stack([r._data for r in rows]) if rows else np.zeros(shape, x.dtype)
        return Tensor._wrap(data.reshape(shape), False)
    eye = np.eye(len(rows), dtype=x.dtype)
    total = None
    for k, r in enumerate(rows):
        term = r.reshape(1, -1) * eye[:, k:k + 1]
        total = term if total is None else total + term
    return total.reshape(shape)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """d^2 func(x) / d x_i d x_j of a function with a single-element output: a Tensor of shape
    in.shape + in.shape for a Tensor input, a tuple of tuples for a tuple of inputs."""
    xs, single = _prepare(inputs, create_graph, strict, "hessian")

    def gradient(*args):
        out = func(*args)
        if not isinstance(out, Tensor) or out._data.size != 1:
            raise RuntimeError("hessian: the function must return a single-element Tensor")
        gs = grad(out, args, create_graph=True, allow_unused=True)
        gs = _zeros_where_none(gs, args)
        return gs[0] if single else gs
    return jacobian(gradient, xs[0] if single else xs, create_graph=create_graph)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) for H the Hessian of a single-element func: d <d func / d x, v> / d x."""
    xs, single = _prepare(inputs, create_graph, strict, "hvp")
    vs, _ = _as_tuple(v) if v is not None else ((None,) * len(xs), False)
    with enable_grad():
        out = func(*xs)
        if not isinstance(out, Tensor) or out._data.size != 1:
            raise RuntimeError("hvp: the function must return a single-element Tensor")
        if v is None and any(x._data.size != 1 for x in xs):
            raise RuntimeError("hvp: v can be omitted only when every input has a single element")
        gs = grad(out, xs, create_graph=True, allow_unused=True)
        live = [(g, w if w is not None else np.ones(x.shape, x.dtype)) for g, w, x in zip(gs, vs, xs) if g is not None
                and g.requires_grad]
        hv = grad([g for g, _ in live], xs, [w for _, w in live], create_graph=create_graph, allow_unused=True) \
            if live else (None,) * len(xs)
    result = tuple(_finish(h, create_graph) for h in _zeros_where_none(hv, xs))
    return _finish(out, create_graph), (result[0] if single else result)
