"""Run by tests/integration/test_distributed.py under `mpiexec -n N python distributed_worker.py SCENARIO OUT ...`
(and once as a plain single process for the reference trajectory). Not a test module itself.

Scenarios:
  train OUT BATCH   train a small MLP with DistributedDataParallel + DistributedSampler for 20 SGD
                    steps at per-rank batch BATCH; rank r writes OUT/rank{r}.npz with the parameters
                    after every step and its sampler shards for two epochs.
  raise_early OUT   rank 1 raises before anything has touched MPI, rank 0 waits in a barrier.
  exit OUT          inside abort_on_error(), rank 1 calls sys.exit(3) while rank 0 waits.
  raise OUT         rank 1 raises inside a training step while rank 0 enters the gradient
                    allreduce; the job must abort (non-zero exit) instead of hanging.
"""
import os
import sys

import numpy as np

import tinynn as tn
from tinynn import distributed as dist
from tinynn import nn, optim
from tinynn.data import DataLoader, TensorDataset

STEPS = 20
N_SAMPLES = 256


def make_data():
    rng = np.random.default_rng(1234)
    x = rng.standard_normal((N_SAMPLES, 12)).astype(np.float32)
    w = rng.standard_normal((12, 3)).astype(np.float32)
    y = np.tanh(x @ w).astype(np.float32)
    return x, y


def make_model():
    # Each rank starts from different weights on purpose: DistributedDataParallel must
    # broadcast rank 0's, which equal the single-process reference's (seed 100 + 0).
    tn.manual_seed(100 + dist.rank())
    return nn.Sequential(nn.Linear(12, 32), nn.Tanh(), nn.Linear(32, 3))


def train(out, batch):
    x, y = make_data()
    dataset = TensorDataset(x, y)
    model = dist.DistributedDataParallel(make_model())
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sampler = dist.DistributedSampler(dataset, shuffle=True, seed=7)
    loader = DataLoader(dataset, batch_size=batch, sampler=sampler, drop_last=True)
    loss_fn = nn.MSELoss()
    trajectory, losses, step, epoch = [], [], 0, 0
    while step < STEPS:
        sampler.set_epoch(epoch)
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            trajectory.append(np.concatenate([p.numpy().ravel() for p in model.parameters()]))
            losses.append(loss.item())
            step += 1
            if step == STEPS:
                break
        epoch += 1
    shards = {}
    for e in (0, 1):
        sampler.set_epoch(e)
        shards[f"shard_epoch{e}"] = sampler.indices()
    np.savez(os.path.join(out, f"rank{dist.rank()}.npz"), trajectory=np.stack(trajectory),
             losses=np.array(losses), world_size=dist.world_size(), **shards)


def fail(out):
    x, y = make_data()
    model = dist.DistributedDataParallel(make_model())
    loss = nn.MSELoss()(model(tn.tensor(x[:8])), tn.tensor(y[:8]))
    if dist.rank() == 1:
        raise ValueError("rank 1 fails on purpose")
    loss.backward()  # rank 0 blocks in the gradient allreduce until the job is aborted
    dist.barrier()
    print("rank 0 was not aborted", flush=True)


def fail_early(out):
    launcher_rank = os.environ.get("PMI_RANK", os.environ.get("OMPI_COMM_WORLD_RANK"))
    if launcher_rank == "1":
        raise ValueError("rank 1 fails before using MPI")
    dist.barrier()
    print("rank 0 was not aborted", flush=True)


def exit_nonzero(out):
    with dist.abort_on_error():
        if dist.rank() == 1:
            sys.exit(3)
        dist.barrier()
    print("rank 0 was not aborted", flush=True)


if __name__ == "__main__":
    tn.set_num_threads(1)
    scenario, out = sys.argv[1], sys.argv[2]
    if scenario == "train":
        train(out, int(sys.argv[3]))
    elif scenario == "raise":
        fail(out)
    elif scenario == "exit":
        exit_nonzero(out)
    elif scenario == "raise_early":
        fail_early(out)
    else:
        raise SystemExit(f"unknown scenario {scenario!r}")
