"""Convolution speed: tinynn against PyTorch (when installed) and against a NumPy im2col written by hand.

Workloads (float32, the same data for every contender, timed in turns, medians):
  conv     one Conv2d forward at a ResNet shape: 64 -> 64 channels, 3x3, padding 1, 32x32, batch 32
           (tinynn's F.conv2d under no_grad; torch.nn.functional.conv2d; NumPy: im2col through
           sliding_window_view, then one BLAS product)
  lenet    one training step (forward, cross-entropy, backward, SGD) of a LeNet-like stack on 28x28
           at batch 64: conv 1->6 5x5, relu, maxpool 2, conv 6->16 5x5, relu, maxpool 2, linear 256->10
at 1 and 2 threads (tn.set_num_threads, torch.set_num_threads, NumPy's BLAS through threadpoolctl).
Ratios are other / tinynn: above 1, tinynn is faster.

    python benchmarks/bench_conv.py                  # both workloads, 1 and 2 threads
    python benchmarks/bench_conv.py --quick          # about a minute
"""
import argparse

import numpy as np
from _timing import median_times_in_turns, parse_args, print_table  # this folder: sys.path[0] of a script

QUICK = ["--min-time", "0.6", "--rounds", "3"]  # --quick: about a minute


def numpy_conv2d(x, w, b):
    """y = conv2d(x, w) + b with padding 1, stride 1: im2col by sliding_window_view, one matmul."""
    o, c, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))  # (N, C, H, W, kh, kw)
    n, _, h, wd = win.shape[:4]
    cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * h * wd, c * kh * kw)   # the copy im2col makes
    y = cols @ w.reshape(o, -1).T + b
    return y.reshape(n, h, wd, o).transpose(0, 3, 1, 2)


def conv_contenders(tn, torch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 64, 32, 32)).astype(np.float32)
    w = (rng.standard_normal((64, 64, 3, 3)) * 0.05).astype(np.float32)
    b = rng.standard_normal(64).astype(np.float32)
    F = tn.nn.functional
    tx, tw, tb = tn.tensor(x), tn.tensor(w), tn.tensor(b)

    def ours():
        with tn.no_grad():
            return F.conv2d(tx, tw, tb, padding=1)

    np.testing.assert_allclose(ours().numpy(), numpy_conv2d(x, w, b), rtol=1e-3, atol=1e-3)
    fns = {"tinynn": ours, "numpy im2col": lambda: numpy_conv2d(x, w, b)}
    if torch is not None:
        px, pw, pb = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b)

        def theirs():
            with torch.no_grad():
                return torch.nn.functional.conv2d(px, pw, pb, padding=1)

        fns["pytorch"] = theirs
    return fns


def lenet_step(lib, x, y, params):
    """One SGD step of the LeNet-like stack, written once for tinynn and PyTorch (the same API)."""
    nn = lib.nn
    model = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(256, 10))
    for p, value in zip(model.parameters(), params):
        p.data[...] = lib.tensor(value) if lib.__name__ == "torch" else value
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    xb, yb = lib.tensor(x), lib.tensor(y)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    return step


def lenet_contenders(tn, torch):
    rng = np.random.default_rng(1)
    x = rng.random((64, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 64).astype(np.int64)
    shapes = [(6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,), (10, 256), (10,)]
    params = [(rng.standard_normal(s) * 0.1).astype(np.float32) for s in shapes]
    fns = {"tinynn": lenet_step(tn, x, y, params)}
    if torch is not None:
        fns["pytorch"] = lenet_step(torch, x, y, params)
        np.testing.assert_allclose(fns["tinynn"]().item(), fns["pytorch"]().item(), rtol=1e-4)  # the same step
    return fns


def set_threads(n, tn, torch):
    tn.set_num_threads(n)
    if torch is not None:
        torch.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(n)
    except ImportError:
        pass


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", nargs="+", default=["conv", "lenet"], choices=["conv", "lenet"])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--min-time", type=float, default=2.0, help="seconds per contender per figure")
    parser.add_argument("--rounds", type=int, default=5)
    args = parse_args(parser, QUICK, argv)
    import tinynn as tn
    try:
        import torch
    except ImportError:
        torch = None
    print(f"tinynn {tn.__version__} backend {tn.get_backend()} kernels {tn.kernels.info()['simd']}; "
          f"pytorch {torch.__version__ if torch else 'not installed'}")
    rows = []
    for workload in args.workloads:
        fns = (conv_contenders if workload == "conv" else lenet_contenders)(tn, torch)
        for n in args.threads:
            set_threads(n, tn, torch)
            times = dict(zip(fns, median_times_in_turns(list(fns.values()), args.min_time, args.rounds, settle=0.05)))
            for name, t in times.items():
                ratio = "" if name == "tinynn" else f"{t / times['tinynn']:.2f}"
                rows.append((workload, n, name, f"{t * 1e3:.2f}", ratio))
    print_table(rows, ["workload", "threads", "contender", "median ms", "ratio to tinynn (>1: tinynn faster)"])


if __name__ == "__main__":
    main()
