"""Per-op overhead of the autograd: a chain of 100 multiplies of 1-element tensors, forward +
backward, reported in microseconds per op (median of --repeats runs), next to the cost of the
bare NumPy calls the same chain makes.

    python benchmarks/bench_overhead.py
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # this checkout's tinynn
import tinynn as tn  # noqa: E402


def chain(x, c, length):
    y = x
    for _ in range(length):
        y = y * c
    return y


def time_tinynn(length, repeats):
    x = tn.tensor([1.0], requires_grad=True)
    c = tn.tensor([1.0001])
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        chain(x, c, length).sum().backward()
        times.append(time.perf_counter() - start)
    return statistics.median(times) / length * 1e6


def time_numpy(length, repeats):
    """The NumPy work the chain must do anyway: one multiply forward, two backward, per op."""
    x, c = np.array([1.0], np.float32), np.array([1.0001], np.float32)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        y = x
        for _ in range(length):
            y = y * c
        g = np.ones(1, np.float32)
        for _ in range(length):
            g, _unused = g * c, g * y
        times.append(time.perf_counter() - start)
    return statistics.median(times) / length * 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--length", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    for backend in tn.backend.available():
        with tn.use_backend(backend):
            print(f"tinynn ({backend:6}) forward+backward per op: {time_tinynn(args.length, args.repeats):6.2f} us")
    print(f"bare NumPy calls of the same chain, per op:  {time_numpy(args.length, args.repeats):6.2f} us")


if __name__ == "__main__":
    main()
