"""Data-parallel scaling: samples/s of 1 process vs 2 MPI ranks on the same global batch.

Workload: MLP 784-2048-2048-10 (ReLU, 5.8 M float32 parameters = 23 MB of gradients, one
Allreduce bucket), cross-entropy, SGD(lr=0.01, momentum=0.9), global batch 256, synthetic data.
Configurations, each in its own process(es):

  1 proc x 1 thread    batch 256                 the per-core baseline
  1 proc x 2 threads   batch 256                 what one process gets from this 2-core machine
  2 ranks x 1 thread   batch 128 each, mpiexec   DistributedDataParallel, gradients averaged

A step is forward + loss + backward (including the gradient Allreduce) + optimizer step; the
reported time is the median over --steps timed steps after --warmup untimed ones, and of each
configuration the median of --repeats interleaved runs. For the ranks,
the slower rank's step time counts and the Allreduce is also timed on its own.

    python benchmarks/bench_distributed.py                       # needs pip install ".[mpi]"
    python benchmarks/bench_distributed.py --steps 30 --hidden 1024

scaling efficiency = samples/s(2 ranks) / (2 x samples/s(1 proc x 1 thread)); the ratio to
"1 proc x 2 threads" says whether data parallelism beats threading on the same cores. Wall-clock
figures need an otherwise idle machine; the CPU time per step (summed over ranks and threads;
MPICH busy-polls, so waiting in the Allreduce counts too) says how much work the parallel run
adds per sample, whatever else runs.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _timing import parse_args  # this folder: sys.path[0] of a script

QUICK = ["--steps", "5", "--hidden", "512"]  # --quick: about a minute


def worker(args):
    import tinynn as tn
    from tinynn import distributed as dist
    from tinynn import nn, optim

    tn.set_num_threads(args.threads)
    n = dist.world_size()
    local_batch = args.batch // n
    tn.manual_seed(0)
    h = args.hidden
    model = dist.DistributedDataParallel(
        nn.Sequential(nn.Linear(784, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, 10)))
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(dist.rank())
    x = tn.tensor(rng.random((local_batch, 784), dtype=np.float32))
    y = tn.tensor(rng.integers(0, 10, local_batch))

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    times, cpu_times, reduce_times = [], [], []
    for i in range(args.warmup + args.steps):
        dist.barrier()
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        t1, c1 = time.perf_counter(), time.process_time()
        if i >= args.warmup:
            times.append(t1 - t0)
            cpu_times.append(c1 - c0)
    # the Allreduce alone (the same buckets, no compute around it)
    for _ in range(max(3, args.steps // 3)):
        dist.barrier()
        t0 = time.perf_counter()
        model.allreduce_gradients()
        reduce_times.append(time.perf_counter() - t0)
    step_s, cpu_s = np.array(times), np.array(cpu_times)
    if n > 1:
        step_s = _over_ranks(step_s, "MAX")
        cpu_s = _over_ranks(cpu_s, "SUM")
    if dist.rank() == 0:
        med = statistics.median(step_s)
        print(json.dumps(dict(ranks=n, threads=args.threads, batch=args.batch, step_ms=med * 1e3,
                              cpu_ms=statistics.median(cpu_s) * 1e3,
                              samples_per_s=args.batch / med,
                              allreduce_ms=statistics.median(reduce_times) * 1e3 if n > 1 else 0.0,
                              params=sum(p.numpy().size for p in model.parameters()),
                              backend=tn.get_backend())), flush=True)


def _over_ranks(values, op):
    """Per step, the slowest rank's wall time (the job moves at its pace), or the CPU time summed."""
    from mpi4py import MPI

    out = np.empty_like(values)
    MPI.COMM_WORLD.Allreduce(values, out, op=getattr(MPI, op))
    return out


def run(cmd, threads):
    env = dict(os.environ)
    for var in ("TINYNN_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    if res.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{res.stdout}\n{res.stderr}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--batch", type=int, default=256, help="global batch (default 256)")
    p.add_argument("--hidden", type=int, default=2048, help="hidden width (default 2048)")
    p.add_argument("--steps", type=int, default=20, help="timed steps (default 20)")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    p.add_argument("--ranks", type=int, default=2, help="MPI ranks of the parallel run (default 2)")
    p.add_argument("--repeats", type=int, default=3, help="runs of each configuration, median kept (default 3)")
    args = parse_args(p, QUICK)
    if args.worker:
        return worker(args)

    me = [sys.executable, str(Path(__file__).resolve()), "--worker", "--batch", str(args.batch),
          "--hidden", str(args.hidden), "--steps", str(args.steps), "--warmup", str(args.warmup)]
    mpiexec = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which("mpiexec")
    configs = [("1 proc x 1 thread", me + ["--threads", "1"], 1),
               ("1 proc x 2 threads", me + ["--threads", "2"], 2)]
    if mpiexec is None:
        print("mpiexec not found: pip install '.[mpi]' to measure the parallel run", file=sys.stderr)
    else:
        configs.append((f"{args.ranks} ranks x 1 thread", [mpiexec, "-n", str(args.ranks)] + me + ["--threads", "1"], 1))
    # Interleave the configurations over the repeats, so that load from elsewhere on the machine
    # hits them alike; keep each one's median run (by samples/s).
    runs = {name: [] for name, _, _ in configs}
    for _ in range(args.repeats):
        for name, cmd, threads in configs:
            runs[name].append(run(cmd, threads))
    rows = [(name, sorted(rs, key=lambda r: r["samples_per_s"])[len(rs) // 2]) for name, rs in runs.items()]
    base = rows[0][1]["samples_per_s"]
    print(f"MLP 784-{args.hidden}-{args.hidden}-10 ({rows[0][1]['params'] / 1e6:.1f} M params), global batch "
          f"{args.batch}, backend {rows[0][1]['backend']}, median of {args.steps} steps x {args.repeats} runs")
    print(f"{'configuration':<22}{'step ms':>10}{'samples/s':>12}{'allreduce ms':>14}{'vs 1x1':>9}"
          f"{'CPU ms/step':>13}{'samples/CPU-s':>15}")
    for name, r in rows:
        print(f"{name:<22}{r['step_ms']:>10.1f}{r['samples_per_s']:>12.0f}{r['allreduce_ms']:>14.1f}"
              f"{r['samples_per_s'] / base:>9.2f}{r['cpu_ms']:>13.1f}{args.batch / r['cpu_ms'] * 1e3:>15.0f}")
    if len(rows) == 3:
        par = rows[2][1]
        print(f"scaling efficiency ({args.ranks} ranks vs 1 proc x 1 thread): "
              f"{par['samples_per_s'] / (args.ranks * base):.0%}; "
              f"vs 1 proc x 2 threads: {par['samples_per_s'] / rows[1][1]['samples_per_s']:.2f}x; "
              f"Allreduce = {par['allreduce_ms'] / par['step_ms']:.0%} of a step; "
              f"CPU work per sample vs 1 proc x 1 thread: {par['cpu_ms'] / rows[0][1]['cpu_ms']:.2f}x")
    print("(CPU ms/step: process CPU time summed over ranks and threads; it does not depend on how busy\n"
          " the machine is, while step ms and samples/s do.)")


if __name__ == "__main__":
    main()
