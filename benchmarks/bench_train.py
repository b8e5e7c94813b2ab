"""End-to-end training speed: tinynn (each backend) vs NumPy written by hand vs PyTorch (if installed).

Workloads (float32, synthetic MNIST-sized data, the same data for every framework):
  W1      the seed MLP 784-128-64-10 ReLU, cross-entropy, SGD(lr=0.01, momentum=0.9), batch 64,
          one epoch of 60,000 samples
  W2      784-1024-1024-10, batch 256, 100 steps
  digits  64-128-64-10 on the embedded digits, batch 64, 30 epochs (one "epoch" here = the 30)
  digits4 the same with batch 4, as examples/seed_mlp.py loads them (10,800 steps: per-step cost)
Each (framework, workload, threads) runs in its own subprocess, so its peak RSS is its own; the
time reported is the median over --repeats timed epochs after one warm-up epoch.

    python benchmarks/bench_train.py                 # everything, 1 and 2 threads
    python benchmarks/bench_train.py --workloads W1 --threads 1 --repeats 5
For a fair NumPy/PyTorch baseline unset OpenBLAS's core override in this command only:
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_train.py
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
from _timing import parse_args  # this folder: sys.path[0] of a script

QUICK = ["--workloads", "digits", "--threads", "1", "--repeats", "3"]  # --quick: about a minute


WORKLOADS = {
    "W1": dict(sizes=(784, 128, 64, 10), batch=64, samples=60_000, steps=None),
    "W2": dict(sizes=(784, 1024, 1024, 10), batch=256, samples=25_600, steps=100),
    "digits": dict(sizes=(64, 128, 64, 10), batch=64, samples=None, steps=None, epochs=30),
    "digits4": dict(sizes=(64, 128, 64, 10), batch=4, samples=None, steps=None, epochs=30),
}


def make_data(workload):
    spec = WORKLOADS[workload]
    if workload.startswith("digits"):
        import tinynn as tn

        x, y, _, _ = tn.datasets.load_digits()
        return x, y
    rng = np.random.default_rng(0)
    x = rng.random((spec["samples"], spec["sizes"][0]), dtype=np.float32)
    y = rng.integers(0, spec["sizes"][-1], size=spec["samples"]).astype(np.int64)
    return x, y


def init_weights(sizes, seed=0):
    """PyTorch's Linear default init, drawn once so every framework starts from the same weights."""
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(fan_in)
        params.append((rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32),
                       rng.uniform(-bound, bound, fan_out).astype(np.float32)))
    return params


def batches(x, y, batch, steps):
    n = len(x) - len(x) % batch
    count = 0
    while True:
        for start in range(0, n, batch):
            yield x[start:start + batch], y[start:start + batch]
            count += 1
            if steps is not None and count >= steps:
                return
        if steps is None:
            return


def epochs_for(workload):
    return WORKLOADS[workload].get("epochs", 1)


# ---------------------------------------------------------------- the three trainers
def train_numpy(workload, x, y, params):
    """A hand-written forward/backward/SGD-momentum loop: the baseline tinynn must match."""
    spec = WORKLOADS[workload]
    params = [(w.copy(), b.copy()) for w, b in params]
    bufs = [(np.zeros_like(w), np.zeros_like(b)) for w, b in params]
    lr, mu = 0.01, 0.9
    first = True

    def epoch():
        nonlocal first
        for xb, yb in batches(x, y, spec["batch"], spec["steps"]):
            acts = [xb]
            for i, (w, b) in enumerate(params):
                z = acts[-1] @ w.T
                z += b
                if i < len(params) - 1:
                    np.maximum(z, 0, out=z)
                acts.append(z)
            logits = acts[-1]
            logits -= logits.max(axis=1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(axis=1, keepdims=True)
            p[np.arange(len(yb)), yb] -= 1
            g = p / len(yb)
            for i in range(len(params) - 1, -1, -1):
                w, b = params[i]
                gw = g.T @ acts[i]
                gb = g.sum(axis=0)
                if i > 0:
                    g = g @ w
                    g *= acts[i] > 0
                for p_, gp, buf in ((w, gw, bufs[i][0]), (b, gb, bufs[i][1])):
                    if first:
                        buf[...] = gp
                    else:
                        buf *= mu
                        buf += gp
                    p_ -= lr * buf
            first = False

    return epoch


def train_tinynn(workload, x, y, params, backend):
    import tinynn as tn
    from tinynn import data, nn, optim

    tn.set_backend(backend)
    spec = WORKLOADS[workload]
    layers = []
    for i, (w, b) in enumerate(params):
        lin = nn.Linear(w.shape[1], w.shape[0])
        lin.weight.data[...] = w
        lin.bias.data[...] = b
        layers.append(lin)
        if i < len(params) - 1:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=spec["batch"], drop_last=True)

    def epoch():
        steps = 0
        while True:
            for xb, yb in loader:
                opt.zero_grad()
                loss_fn(model(xb), yb).backward()
                opt.step()
                steps += 1
                if spec["steps"] is not None and steps >= spec["steps"]:
                    return
            if spec["steps"] is None:
                return

    return epoch


def train_torch(workload, x, y, params):
    import torch

    spec = WORKLOADS[workload]
    layers = []
    for i, (w, b) in enumerate(params):
        lin = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w))
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        if i < len(params) - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def epoch():
        for xb, yb in batches(tx, ty, spec["batch"], spec["steps"]):
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()

    return epoch


# ---------------------------------------------------------------- one measurement per subprocess
def worker(framework, workload, threads, repeats):
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)
    x, y = make_data(workload)
    params = init_weights(WORKLOADS[workload]["sizes"])
    if framework == "numpy":
        epoch = train_numpy(workload, x, y, params)
    elif framework == "torch":
        import torch

        torch.set_num_threads(threads)
        epoch = train_torch(workload, x, y, params)
    else:
        import tinynn as tn

        tn.set_num_threads(threads)
        epoch = train_tinynn(workload, x, y, params, framework.split("-", 1)[1])
    epoch()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(epochs_for(workload)):
            epoch()
        times.append(time.perf_counter() - start)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"median_s": statistics.median(times), "peak_rss_mb": peak_mb}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", nargs="+", default=["W1", "W2", "digits", "digits4"], choices=list(WORKLOADS))
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--frameworks", nargs="+", default=None)
    parser.add_argument("--worker", nargs=3, metavar=("FRAMEWORK", "WORKLOAD", "THREADS"), help=argparse.SUPPRESS)
    args = parse_args(parser, QUICK)
    if args.worker:
        worker(args.worker[0], args.worker[1], int(args.worker[2]), args.repeats)
        return
    frameworks = args.frameworks or ["numpy", "tinynn-cython", "tinynn-numpy"]
    if args.frameworks is None:
        try:
            import torch  # noqa: F401

            frameworks.append("torch")
        except ImportError:
            pass
    print(f"{'workload':8} {'threads':>7} {'framework':15} {'median s':>9} {'vs numpy':>9} {'vs torch':>9} {'peak MB':>8}")
    for workload in args.workloads:
        for threads in args.threads:
            results = {}
            for fw in frameworks:
                out = subprocess.run([sys.executable, __file__, "--worker", fw, workload, str(threads),
                                      "--repeats", str(args.repeats)], capture_output=True, text=True,
                                     env={**os.environ, "TINYNN_NUM_THREADS": str(threads)})
                if out.returncode != 0:
                    print(f"{workload:8} {threads:7} {fw:15} failed: {out.stderr.strip().splitlines()[-1:]}")
                    continue
                results[fw] = json.loads(out.stdout.strip().splitlines()[-1])
            for fw, r in results.items():
                vs_np = r["median_s"] / results["numpy"]["median_s"] if "numpy" in results else float("nan")
                vs_t = r["median_s"] / results["torch"]["median_s"] if "torch" in results else float("nan")
                print(f"{workload:8} {threads:7} {fw:15} {r['median_s']:9.3f} {vs_np:9.2f} {vs_t:9.2f} {r['peak_rss_mb']:8.0f}",
                      flush=True)


if __name__ == "__main__":
    main()
