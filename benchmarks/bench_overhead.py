"""Per-op overhead of the autograd: a chain of 100 multiplies of 1-element tensors, forward +
backward, reported in microseconds per op, next to two floors:

- the bare NumPy calls the chain needs (one multiply forward, one backward: c needs no gradient);
- the leanest Python autograd there is: a global tape of (output, a, b) records replayed in
  reverse (no graph, no op objects, no checks), written out below. It cannot free a graph
  nobody differentiates, or run two graphs side by side, which is why tinynn keeps a graph;
  it shows what any pure-Python engine pays on this machine;

and PyTorch's figure for the same chain when it is installed (1 thread). The contenders take
turns (--rounds rounds of --min-time / --rounds seconds each), so a slow spell of this shared
machine hits all of them alike; each figure is the median over all its chains.

Then (--calls, on by default; --calls-only for just this part) the fixed cost of one call of the
compiled kernels at the small shapes of the seed MLP (batch 4, 64-128-64-10): each kernel, the
cython backend's function for it, and the NumPy code it replaces, in microseconds per call
(median of repeats), on 1 thread and on the default thread count (NumPy's BLAS limited to the
same count with threadpoolctl when it is installed).

    python benchmarks/bench_overhead.py
    python benchmarks/bench_overhead.py --no-calls --rounds 50
    python benchmarks/bench_overhead.py --calls-only
"""
import argparse
import contextlib
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))                   # _timing
import tinynn as tn  # noqa: E402
from _timing import fmt_us, median_time, median_times_in_turns, parse_args, print_table  # noqa: E402

QUICK = ["--rounds", "10"]  # --quick: about a minute


def chain(x, c, length):
    y = x
    for _ in range(length):
        y = y * c
    return y


def tinynn_chain(length):
    """One forward + backward of the chain on the active backend."""
    x = tn.tensor([1.0], requires_grad=True)
    c = tn.tensor([1.0001])
    return lambda: chain(x, c, length).sum().backward()


def numpy_chain(length):
    """The NumPy work the chain must do anyway: one multiply forward, one backward, per op."""
    x, c = np.array([1.0], np.float32), np.array([1.0001], np.float32)

    def run():
        y = x
        for _ in range(length):
            y = y * c
        g = np.ones(1, np.float32)
        for _ in range(length):
            g = g * c
    return run


def torch_chain(length):
    """The same chain in PyTorch (1 thread), or None when PyTorch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    x = torch.tensor([1.0], requires_grad=True)
    c = torch.tensor([1.0001])
    return lambda: chain(x, c, length).sum().backward()


class TapeValue:
    """A value of the minimal tape engine: data, grad, and whether it needs a gradient."""

    __slots__ = ("data", "grad", "needs")
    tape = []  # (out, a, b) of every multiply that needs a gradient, in creation order

    def __init__(self, data, needs):
        self.data, self.grad, self.needs = data, None, needs

    def __mul__(self, other):
        out = TapeValue(self.data * other.data, self.needs or other.needs)
        if out.needs:
            TapeValue.tape.append((out, self, other))
        return out


def tape_backward(root):
    root.grad = np.ones_like(root.data)
    for out, a, b in reversed(TapeValue.tape):
        if out.grad is None:
            continue
        if a.needs:
            g = out.grad * b.data
            a.grad = g if a.grad is None else a.grad + g
        if b.needs:
            g = out.grad * a.data
            b.grad = g if b.grad is None else b.grad + g
    TapeValue.tape.clear()


def tape_chain(length):
    x = TapeValue(np.array([1.0], np.float32), True)
    c = TapeValue(np.array([1.0001], np.float32), False)
    return lambda: tape_backward(chain(x, c, length))


def on_backend(name, run):
    """run, with tinynn's backend set to `name` first (a module-level switch: cheap, and needed
    because the contenders take turns)."""
    def timed():
        tn.set_backend(name)
        run()
    return timed


def small_calls():
    """(name, tinynn.kernels call, cython backend call, NumPy equivalent) at the seed MLP's shapes."""
    from tinynn import kernels as K
    from tinynn.backend import compiled as B

    rng = np.random.default_rng(0)
    f32 = np.float32
    x, w, b = (rng.standard_normal(s).astype(f32) for s in ((4, 64), (128, 64), (128,)))
    y = K.linear(x, w, b, "relu")
    g = rng.standard_normal((4, 128)).astype(f32)
    a1, b1 = np.ones((1, 1), f32), np.full((1, 1), 2, f32)
    bm = rng.standard_normal((64, 128)).astype(f32)
    logits, target = rng.standard_normal((4, 10)).astype(f32), np.array([1, 2, 3, 4])
    probs = K.softmax(logits)
    gl = np.full(4, 0.25, f32)
    params = [rng.standard_normal(s).astype(f32) for s in ((128, 64), (128,), (64, 128), (64,), (10, 64), (10,))]
    grads = [rng.standard_normal(p.shape).astype(f32) * 1e-3 for p in params]
    e1, e2 = np.ones(1, f32), np.full(1, 1.0001, f32)

    def np_linear_backward():
        d = np.where(y > 0, g, 0).astype(f32)
        return d @ w, d.T @ x, d.sum(axis=0)

    def np_cross_entropy():
        z = logits - logits.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return -logp[np.arange(4), target], np.exp(logp)

    def np_cross_entropy_backward():
        d = probs.copy()
        d[np.arange(4), target] -= 1
        return d * gl[:, None]

    def np_sgd():
        for p, gr in zip(params, grads):
            p -= f32(1e-9) * gr

    return [
        ("matmul 1x1 @ 1x1", lambda: K.matmul(a1, b1), lambda: B.matmul(a1, b1), lambda: a1 @ b1),
        ("matmul 4x64 @ 64x128", lambda: K.matmul(x, bm), lambda: B.matmul(x, bm), lambda: x @ bm),
        ("linear 4x64 -> 128, relu", lambda: K.linear(x, w, b, "relu"), lambda: B.linear(x, w, b, "relu"),
         lambda: np.maximum(x @ w.T + b, 0)),
        ("linear_backward (relu)", lambda: K.linear_backward(x, w, y, g, "relu"),
         lambda: B.linear_backward(x, w, y, g, "relu"), np_linear_backward),
        ("relu (4, 128)", lambda: K.relu(g), lambda: B.relu(g), lambda: np.maximum(g, 0)),
        ("relu_backward (4, 128)", lambda: K.relu_backward(y, g), lambda: B.relu_backward(y, g),
         lambda: np.where(y > 0, g, 0)),
        ("cross_entropy (4, 10)", lambda: K.cross_entropy(logits, target), lambda: B.cross_entropy(logits, target),
         np_cross_entropy),
        ("cross_entropy_backward", lambda: K.cross_entropy_backward(probs, target, 0.0, gl),
         lambda: B.cross_entropy_backward(probs, target, 0.0, gl), np_cross_entropy_backward),
        ("sgd_step_multi (6 params)", lambda: K.sgd_step_multi(params, grads, None, 1e-9, 0.0, 0.0, 0.0, False, False),
         lambda: B.sgd_step_multi(params, grads, None, 1e-9, 0.0, 0.0, 0.0, False, False), np_sgd),
        ("multiply (1,) * (1,)", lambda: K.multiply(e1, e2), lambda: B.multiply(e1, e2), lambda: np.multiply(e1, e2)),
    ]


def print_small_calls():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is in the [test] extra
        threadpool_limits = None
    if "cython" not in tn.backend.available():
        print("(the compiled kernels are not built: no per-call figures)")
        return
    default = tn.get_num_threads()
    for nt in sorted({1, default}):
        previous = tn.get_num_threads()
        tn.set_num_threads(nt)
        limit = threadpool_limits(limits=nt, user_api="blas") if threadpool_limits else contextlib.nullcontext()
        try:
            with limit:
                rows = []
                for name, kernel, backend, numpy in small_calls():
                    tk, tb, tnp = (median_time(fn, repeat=9, min_time=0.01) for fn in (kernel, backend, numpy))
                    rows.append((name, fmt_us(tk), fmt_us(tb), fmt_us(tnp), f"{tnp / tb:.2f}"))
        finally:
            tn.set_num_threads(previous)
        print(f"\nper call at small shapes, {nt} thread{'s' if nt > 1 else ''} (us, median):")
        print_table(rows, ["call", "kernels", "backend", "numpy", "numpy/backend"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--length", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=40, help="turns each contender takes")
    parser.add_argument("--min-time", type=float, default=0.4, help="seconds each contender runs, over all its turns")
    parser.add_argument("--calls", action=argparse.BooleanOptionalAction, default=True,
                        help="also time single kernel calls at small shapes (default: on)")
    parser.add_argument("--calls-only", action="store_true", help="only the per-call table")
    args = parse_args(parser, QUICK)
    if not args.calls_only:
        runners = {"tape": tape_chain(args.length), "bare numpy": numpy_chain(args.length)}
        previous = tn.get_backend()
        for backend in tn.backend.available():
            with tn.use_backend(backend):
                runners[backend] = on_backend(backend, tinynn_chain(args.length))
        torch_run = torch_chain(args.length)
        if torch_run is not None:
            runners["torch"] = torch_run
        try:
            seconds = median_times_in_turns(list(runners.values()), args.min_time, args.rounds)
        finally:
            tn.set_backend(previous)
        per_op = {name: t / args.length * 1e6 for name, t in zip(runners, seconds)}
        floor = per_op["tape"]
        for backend in tn.backend.available():
            print(f"tinynn ({backend:6}) forward+backward per op:    {per_op[backend]:6.2f} us  "
                  f"({per_op[backend] / floor:.2f}x the tape floor)")
        if "torch" in per_op:
            print(f"PyTorch (1 thread) forward+backward per op:    {per_op['torch']:6.2f} us  "
                  f"({per_op['torch'] / floor:.2f}x the tape floor)")
        print(f"minimal tape engine (floor of any Python one): {floor:6.2f} us")
        print(f"bare NumPy calls of the same chain, per op:    {per_op['bare numpy']:6.2f} us")
    if args.calls or args.calls_only:
        print_small_calls()


if __name__ == "__main__":
    main()
