"""Random computation graphs over the differentiable ops, as a hypothesis strategy."""
import warnings

import numpy as np

from ..autograd import no_grad
from ..ops import concatenate, stack, where
from ..tensor import Tensor
from .arrays import broadcastable_shapes


def _ops_table():
    """name -> (arity, apply(tensors, param) -> Tensor, source(names, param) -> str, params(rng, shapes) -> list).

    Every op is one of the public differentiable ops; the few with a restricted domain get their
    argument moved into it (log(x*x + 0.5), x / (y*y + 0.5), ...) so a drawn graph is finite and
    differentiable at generic inputs."""
    def axis_params(shapes):
        nd = len(shapes[0])
        return [None] + [(a, k) for a in range(-nd, nd) for k in (False, True)] if nd else [None]

    def reduce(method):
        def apply(ts, p):
            return getattr(ts[0], method)() if p is None else getattr(ts[0], method)(axis=p[0], keepdims=p[1])

        def src(ns, p):
            return f"{ns[0]}.{method}()" if p is None else f"{ns[0]}.{method}(axis={p[0]}, keepdims={p[1]})"
        return (1, apply, src, axis_params)

    def unary(expr, fn):
        return (1, lambda ts, p: fn(ts[0]), lambda ns, p: expr.format(*ns), lambda shapes: [None])

    def binary(expr, fn):
        return (2, lambda ts, p: fn(ts[0], ts[1]), lambda ns, p: expr.format(*ns), lambda shapes: [None])

    def last_axes(shapes):
        return list(range(-len(shapes[0]), len(shapes[0])))

    return {
        "neg": unary("-{0}", lambda x: -x),
        "exp": unary("{0}.exp()", lambda x: x.exp()),
        "log": unary("({0} * {0} + 0.5).log()", lambda x: (x * x + 0.5).log()),
        "sqrt": unary("({0} * {0} + 0.5).sqrt()", lambda x: (x * x + 0.5).sqrt()),
        "abs": unary("{0}.abs()", lambda x: x.abs()),
        "relu": unary("{0}.relu()", lambda x: x.relu()),
        "sigmoid": unary("{0}.sigmoid()", lambda x: x.sigmoid()),
        "tanh": unary("{0}.tanh()", lambda x: x.tanh()),
        "clip": unary("{0}.clip(-0.7, 0.8)", lambda x: x.clip(-0.7, 0.8)),
        "square": unary("{0} ** 2", lambda x: x ** 2),
        "rpow": unary("1.5 ** {0}", lambda x: 1.5 ** x),
        "affine": unary("0.5 - 2.0 * {0}", lambda x: 0.5 - 2.0 * x),
        "rdiv": unary("1.0 / ({0} * {0} + 0.5)", lambda x: 1.0 / (x * x + 0.5)),
        "sum": reduce("sum"),
        "mean": reduce("mean"),
        "max": reduce("amax"),
        "min": reduce("amin"),
        "reshape": unary("{0}.reshape(-1)", lambda x: x.reshape(-1)),
        "transpose": unary("{0}.transpose()", lambda x: x.transpose()),
        "flip": (1, lambda ts, p: ts[0].flip(-1), lambda ns, p: f"{ns[0]}.flip(-1)",
                 lambda shapes: [None] if shapes[0] else []),
        "take": (1, lambda ts, p: ts[0][np.array(p)], lambda ns, p: f"{ns[0]}[np.array({p})]",
                 lambda shapes: [sorted({0, shapes[0][0] - 1})] if shapes[0] else []),
        "softmax": (1, lambda ts, p: ts[0].softmax(axis=p), lambda ns, p: f"{ns[0]}.softmax(axis={p})", last_axes),
        "log_softmax": (1, lambda ts, p: ts[0].log_softmax(axis=p), lambda ns, p: f"{ns[0]}.log_softmax(axis={p})",
                        last_axes),
        "add": binary("{0} + {1}", lambda a, b: a + b),
        "sub": binary("{0} - {1}", lambda a, b: a - b),
        "mul": binary("{0} * {1}", lambda a, b: a * b),
        "div": binary("{0} / ({1} * {1} + 0.5)", lambda a, b: a / (b * b + 0.5)),
        "pow": binary("({0} * {0} + 0.5) ** {1}", lambda a, b: (a * a + 0.5) ** b),
        "where": binary("tn.where({0} > {1}, {0}, {1})", lambda a, b: where(a > b, a, b)),
        "matmul": binary("{0} @ {1}", lambda a, b: a @ b),
        "matmul_T": binary("{0} @ {1}.T", lambda a, b: a @ b.T),
        "concatenate": (2, lambda ts, p: concatenate(ts, axis=p), lambda ns, p: f"tn.concatenate([{ns[0]}, {ns[1]}], axis={p})",
                        last_axes),
        "stack": (2, lambda ts, p: stack(ts, axis=p), lambda ns, p: f"tn.stack([{ns[0]}, {ns[1]}], axis={p})",
                  lambda shapes: list(range(len(shapes[0]) + 1))),
    }


KINKED_OPS = frozenset({"abs", "relu", "clip", "max", "min", "where"})
GRAPH_OPS = ("neg", "exp", "log", "sqrt", "abs", "relu", "sigmoid", "tanh", "clip", "square", "rpow", "affine",
             "rdiv", "sum", "mean", "max", "min", "reshape", "transpose", "flip", "take", "softmax", "log_softmax",
             "add", "sub", "mul", "div", "pow", "where", "matmul", "matmul_T", "concatenate", "stack")


class Graph:
    """A drawn program over tinynn ops: `graph(*leaves)` replays it and returns the last value.

    `steps` is a list of (op name, argument indices, parameter); value i < len(leaves) is leaf i,
    later values are the steps' outputs. `repr(graph)` prints it as Python source."""

    def __init__(self, n_inputs, steps):
        self.n_inputs, self.steps = n_inputs, list(steps)

    def __call__(self, *leaves):
        if len(leaves) != self.n_inputs:
            raise TypeError(f"Graph: expected {self.n_inputs} inputs, got {len(leaves)}")
        table = _ops_table()
        values = list(leaves)
        for name, args, param in self.steps:
            values.append(table[name][1]([values[i] for i in args], param))
        return values[-1]

    def __repr__(self):
        table = _ops_table()
        names = [f"x{i}" for i in range(self.n_inputs)]
        lines = [f"def graph({', '.join(names)}):"]
        for k, (name, args, param) in enumerate(self.steps):
            lines.append(f"    v{k} = {table[name][2]([names[i] for i in args], param)}")
            names.append(f"v{k}")
        lines.append(f"    return {names[-1]}")
        return "\n".join(lines)


def _output_shape(fn, shapes):
    """Shape of fn's result on zero tensors of `shapes`, or None if the op refuses them."""
    try:
        with no_grad(), warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return fn([Tensor(np.zeros(s)) for s in shapes]).shape
    except (ValueError, IndexError, TypeError):
        return None


def graphs(num_inputs=(1, 3), max_ops=5, dtype=np.float64, ops=None, smooth=False, max_dims=3, max_side=4,
           min_value=-1.5, max_value=1.5):
    """Strategy: a small random computation graph and its inputs, `(graph, inputs)`.

    `inputs` are `num_inputs` (an int or a (min, max) range) leaf Tensors of `dtype` with mutually
    broadcastable shapes and `requires_grad=True`; `graph(*inputs)` applies 1..max_ops ops drawn
    from `ops` (default GRAPH_OPS; `smooth=True` drops the kinked ones in KINKED_OPS: abs, relu,
    clip, max, min, where), each to earlier values whose shapes it accepts. The leaf values are
    generic (a seeded uniform draw in [min_value, max_value], never shrunk to 0), so kinks and ties
    are hit with probability ~0 and gradient checks are meaningful. `repr(graph)` is the program."""
    from hypothesis import strategies as st

    names = tuple(ops) if ops is not None else GRAPH_OPS
    if smooth:
        names = tuple(n for n in names if n not in KINKED_OPS)
    unknown = set(names) - set(GRAPH_OPS)
    if unknown:
        raise ValueError(f"graphs: unknown ops {sorted(unknown)}; choose from {GRAPH_OPS}")
    lo, hi = (num_inputs, num_inputs) if isinstance(num_inputs, int) else num_inputs

    @st.composite
    def draw(draw_):
        table = _ops_table()
        n = draw_(st.integers(lo, hi))
        shapes = list(draw_(broadcastable_shapes(n, max_dims=max_dims, max_side=max_side, min_side=1)))
        n_ops = draw_(st.integers(1, max_ops))
        steps = []
        for _ in range(n_ops):
            name = draw_(st.sampled_from(names))
            arity, apply, _, params = table[name]
            # the newest value first (shrinks towards a chain), any earlier one makes a branch
            first = draw_(st.sampled_from([len(shapes) - 1] + list(range(len(shapes) - 1))))
            args = [first] if arity == 1 else [first, draw_(st.integers(0, len(shapes) - 1))]
            options = params([shapes[i] for i in args])
            choices = [p for p in options if _output_shape(lambda ts, p=p: apply(ts, p), [shapes[i] for i in args])
                       is not None]
            if not choices:
                continue  # this op does not fit these shapes; draw the next one
            param = draw_(st.sampled_from(choices))
            shape = _output_shape(lambda ts: apply(ts, param), [shapes[i] for i in args])
            steps.append((name, args, param))
            shapes.append(shape)
        if not steps:
            steps.append(("affine", [len(shapes) - 1], None))
        seed = draw_(st.integers(0, 2**32 - 1))
        rng = np.random.default_rng(seed)
        inputs = [Tensor(rng.uniform(min_value, max_value, size=s).astype(dtype), requires_grad=True)
                  for s in shapes[:n]]
        return Graph(n, steps), inputs

    return draw()
