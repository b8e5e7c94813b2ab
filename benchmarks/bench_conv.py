"""Convolution speed: tinynn against PyTorch (when installed) and against a NumPy im2col written by hand.

Workloads (float32, the same data and initial weights for every contender, timed in turns, medians):
  conv     one Conv2d forward at a ResNet shape: 64 -> 64 channels, 3x3, padding 1, 32x32, batch 32
           (tinynn's F.conv2d under no_grad; torch.nn.functional.conv2d; NumPy: im2col through
           sliding_window_view, then one BLAS product)
  lenet    one training step (forward, cross-entropy, backward, SGD with momentum) of LeNet-5
           (tinynn.models.LeNet5, 28x28) at batch 64; NumPy: the same step by hand (conv_numpy_lenet.py)
  digits   the same step of the digits network, tinynn.models.ResNet((8, 16, 32)) on 8x8 images at
           batch 64 (what `tinynn train --model resnet` trains)
  tiny     one Conv2d forward on the smallest maps of that network: 32 -> 32 channels, 3x3, padding 1,
           2x2 maps, batch 256 (the dense-matrix path of kernels/conv/conv_dense_real.h; NumPy: the
           same im2col by hand)
  digits-eval  that network's eval forward (model.eval(), no_grad) at batch 256: what `tinynn demo`
           times as its latency (8x8, 4x4 and 2x2 maps; BatchNorm with the running statistics)
at 1 and 2 threads (tn.set_num_threads, torch.set_num_threads, NumPy's BLAS through threadpoolctl).
Ratios are other / tinynn: above 1, tinynn is faster.  Then the peak memory of the LeNet step,
tinynn against the NumPy one, each in a fresh process: resident memory (VmHWM over the RSS before
the first step; it counts the kernels' C scratch) and tracemalloc's peak (NumPy's arrays only).

    python benchmarks/bench_conv.py                  # every workload, 1 and 2 threads
    python benchmarks/bench_conv.py --quick          # about a minute
    python benchmarks/bench_conv.py --quick --cpu-clock   # 1 thread by CPU time (a loaded machine)
"""
import argparse
import functools
import os
import subprocess
import sys
import time
from collections import OrderedDict

import numpy as np
from _timing import median_times_in_turns, parse_args, print_table  # this folder: sys.path[0] of a script
from conv_numpy_lenet import NumpyLeNet

BATCH = 64
DIGITS_CHANNELS = (8, 16, 32)   # `tinynn train --model resnet`'s default --channels
WORKLOADS = ("conv", "tiny", "lenet", "digits", "digits-eval")

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


def conv_contenders(tn, torch, shape=(32, 64, 32, 32), out_channels=64):
    """{name: one Conv2d forward} of a 3x3 convolution with padding 1 on a batch of `shape`."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    w = (rng.standard_normal((out_channels, shape[1], 3, 3)) * 0.05).astype(np.float32)
    b = rng.standard_normal(out_channels).astype(np.float32)
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


def torch_lenet5(nn):
    """tinynn.models.LeNet5() (28x28) in PyTorch, with the same module names."""
    return nn.Sequential(OrderedDict(
        conv1=nn.Conv2d(1, 6, 5, padding=2), relu1=nn.ReLU(), pool1=nn.MaxPool2d(2), conv2=nn.Conv2d(6, 16, 5),
        relu2=nn.ReLU(), pool2=nn.MaxPool2d(2), flatten=nn.Flatten(), fc1=nn.Linear(400, 120), relu3=nn.ReLU(),
        fc2=nn.Linear(120, 84), relu4=nn.ReLU(), fc3=nn.Linear(84, 10)))


def torch_resnet(nn, channels=DIGITS_CHANNELS):
    """tinynn.models.ResNet(channels) (one BasicBlock per stage) in PyTorch, with the same names."""

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)
            self.relu1 = nn.ReLU()
            self.conv2, self.bn2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout)
            self.relu2 = nn.ReLU()
            self.downsample = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                               if stride != 1 or cin != cout else None)

        def forward(self, x):
            out = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
            return self.relu2(out + (x if self.downsample is None else self.downsample(x)))

    layers = OrderedDict(conv1=nn.Conv2d(1, channels[0], 3, padding=1, bias=False), bn1=nn.BatchNorm2d(channels[0]),
                         relu=nn.ReLU())
    cin = channels[0]
    for k, c in enumerate(channels):
        layers[f"layer{k + 1}"] = nn.Sequential(BasicBlock(cin, c, 2 if k else 1))
        cin = c
    layers.update(avgpool=nn.AdaptiveAvgPool2d(1), flatten=nn.Flatten(), fc=nn.Linear(cin, 10))
    return nn.Sequential(layers)


def sgd_step(lib, model, x, y):
    """One SGD step (forward, cross-entropy, backward, momentum update), the same code for both libraries."""
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = lib.nn.CrossEntropyLoss()
    xb, yb = lib.tensor(x), lib.tensor(y)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return float(loss.item())

    return step


def step_contenders(tn, torch, workload):
    """{name: one training step} of the LeNet-5 (28x28) or digits-ResNet (8x8) workload at batch 64,
    every contender starting from tinynn's initial weights (their first losses are checked equal)."""
    rng = np.random.default_rng(1)
    side = 28 if workload == "lenet" else 8
    x = rng.random((BATCH, 1, side, side), dtype=np.float32)
    y = rng.integers(0, 10, BATCH).astype(np.int64)
    tn.manual_seed(0)
    ours = tn.models.LeNet5() if workload == "lenet" else tn.models.ResNet(DIGITS_CHANNELS)
    state = {k: np.array(v) for k, v in ours.state_dict().items()}
    fns = {"tinynn": sgd_step(tn, ours, x, y)}
    if workload == "lenet":
        fns["numpy im2col"] = functools.partial(NumpyLeNet([p.numpy() for p in ours.parameters()]).step, x, y)
    if torch is not None:
        theirs = torch_lenet5(torch.nn) if workload == "lenet" else torch_resnet(torch.nn)
        theirs.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()})
        fns["pytorch"] = sgd_step(torch, theirs, x, y)
    first = {name: fn() for name, fn in fns.items()}
    for name, loss in first.items():
        np.testing.assert_allclose(loss, first["tinynn"], rtol=1e-4, err_msg=f"{workload}: {name}'s step differs")
    return fns


def eval_contenders(tn, torch):
    """{name: one eval forward} of the digits ResNet at batch 256, from tinynn's weights with the
    BatchNorm statistics of one training-mode pass over the batch; the outputs are checked equal first."""
    x = np.random.default_rng(2).random((4 * BATCH, 1, 8, 8), dtype=np.float32)
    tn.manual_seed(0)
    ours = tn.models.ResNet(DIGITS_CHANNELS)
    tx = tn.tensor(x)
    with tn.no_grad():
        ours(tx)
    ours.eval()
    state = {k: np.array(v) for k, v in ours.state_dict().items()}

    def mine():
        with tn.no_grad():
            return ours(tx)

    fns = {"tinynn": mine}
    if torch is not None:
        theirs = torch_resnet(torch.nn)
        theirs.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()})
        theirs.eval()
        px = torch.from_numpy(x)

        def yours():
            with torch.no_grad():
                return theirs(px)

        np.testing.assert_allclose(mine().numpy(), yours().numpy(), rtol=1e-4, atol=1e-4)
        fns["pytorch"] = yours
    return fns


def peak_memory_child(contender):
    """Run in a fresh process: build the LeNet step of `contender` (tinynn or numpy), then print the
    peak resident memory above the resident memory before the first step (VmHWM - VmRSS, over 3
    steps, 1 thread) and tracemalloc's peak of one step (what NumPy allocates; not the kernels'
    C scratch), in bytes."""
    import tracemalloc

    def status(field):
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith(field))

    rng = np.random.default_rng(1)
    x = rng.random((BATCH, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, BATCH).astype(np.int64)
    if contender == "tinynn":
        import tinynn as tn
        tn.set_num_threads(1)
        tn.manual_seed(0)
        step = sgd_step(tn, tn.models.LeNet5(), x, y)
    else:
        shapes = [(6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,), (120, 400), (120,), (84, 120), (84,), (10, 84), (10,)]
        step = functools.partial(NumpyLeNet([rng.standard_normal(s).astype(np.float32) * 0.1 for s in shapes]).step,
                                 x, y)
    before = status("VmRSS:")
    for _ in range(3):
        step()
    rss = status("VmHWM:") - before
    tracemalloc.start()
    step()
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(rss, traced)


def peak_memory_rows():
    """Rows of the peak-memory table: each contender's LeNet step measured in its own process."""
    peaks = {}
    for name in ("tinynn", "numpy"):
        out = subprocess.run([sys.executable, os.path.abspath(__file__), "--memory-child", name], capture_output=True,
                             text=True, check=True, env={**os.environ, "OMP_NUM_THREADS": "1",
                                                         "OPENBLAS_NUM_THREADS": "1"})
        peaks[name] = [int(v) for v in out.stdout.split()[-2:]]
    return [(f"lenet ({name}{' im2col' if name == 'numpy' else ''})", f"{rss / 2**20:.1f}", f"{traced / 2**20:.1f}",
             f"{rss / peaks['numpy'][0]:.2f}") for name, (rss, traced) in peaks.items()]


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
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=WORKLOADS)
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--min-time", type=float, default=2.0, help="seconds per contender per figure")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cpu-clock", action="store_true",
                        help="time the 1-thread figures by the thread's CPU time (time.thread_time), not the wall "
                             "clock: steadier on a loaded machine, where the wall clock counts time spent waiting "
                             "for a core (the 2-thread figures stay on the wall clock)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory table")
    parser.add_argument("--memory-child", choices=["tinynn", "numpy"], help=argparse.SUPPRESS)
    args = parse_args(parser, QUICK, argv)
    if args.memory_child:
        return peak_memory_child(args.memory_child)
    import tinynn as tn
    try:
        import torch
    except ImportError:
        torch = None
    print(f"tinynn {tn.__version__} backend {tn.get_backend()} kernels {tn.kernels.info()['simd']}; "
          f"pytorch {torch.__version__ if torch else 'not installed'}; load average {os.getloadavg()[0]:.1f}; "
          f"1-thread clock: {'thread CPU time' if args.cpu_clock else 'wall'}")
    rows = []
    for workload in args.workloads:
        fns = (conv_contenders(tn, torch) if workload == "conv" else
               conv_contenders(tn, torch, (4 * BATCH, 32, 2, 2), 32) if workload == "tiny" else
               eval_contenders(tn, torch) if workload == "digits-eval" else step_contenders(tn, torch, workload))
        for n in args.threads:
            set_threads(n, tn, torch)
            clock = time.thread_time if args.cpu_clock and n == 1 else time.perf_counter
            times = dict(zip(fns, median_times_in_turns(list(fns.values()), args.min_time, args.rounds, settle=0.05,
                                                        clock=clock)))
            for name, t in times.items():
                ratio = "" if name == "tinynn" else f"{t / times['tinynn']:.2f}"
                rows.append((workload, n, name, f"{t * 1e3:.2f}", ratio))
    print_table(rows, ["workload", "threads", "contender", "median ms", "ratio to tinynn (>1: tinynn faster)"])
    if not args.no_memory:
        print()
        print_table(peak_memory_rows(), ["step", "peak RSS MiB", "tracemalloc peak MiB", "RSS / numpy's"])


if __name__ == "__main__":
    main()
