"""Data-parallel training of an MLP on the embedded digits, on MPI.

    mpiexec -n 2 python examples/train_ddp.py        # 2 ranks x batch 32 = global batch 64
    python examples/train_ddp.py [OUT.npz]           # the same script as one process

Each rank reads its own shard (DistributedSampler); DistributedDataParallel averages the
gradients after every backward(); only rank 0 prints and saves (to OUT.npz, default a file in a
new temporary folder).
"""
import os
import sys
import tempfile

import numpy as np

import tinynn as tn
from tinynn import distributed as dist
from tinynn import nn, optim
from tinynn.data import DataLoader, TensorDataset


def main(epochs=10, batch_size=32, out=None):
    x_train, y_train, x_test, y_test = tn.datasets.load_digits()
    train = TensorDataset(x_train, y_train)
    tn.manual_seed(0)
    model = dist.DistributedDataParallel(
        nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    sampler = dist.DistributedSampler(train, shuffle=True, seed=0)
    loader = DataLoader(train, batch_size=batch_size, sampler=sampler)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        total = np.zeros(2)  # sum of losses, number of batches (this rank)
        for x, y in loader:
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            total += (loss.item(), 1)
        dist.all_reduce(total)  # over all ranks
        if dist.rank() == 0:
            with tn.no_grad():
                acc = (model(tn.tensor(x_test)).argmax(axis=1).numpy() == y_test).mean()
            print(f"epoch {epoch + 1:2d}  train loss {total[0] / total[1]:.4f}  test accuracy {acc:.3f}"
                  f"  ({dist.world_size()} rank(s))", flush=True)
    if dist.rank() == 0:
        out = out or os.path.join(tempfile.mkdtemp(prefix="tinynn-ddp-"), "digits_ddp.npz")
        tn.save(model.module.state_dict(), out)
        print(f"saved {out}")


if __name__ == "__main__":
    main(out=sys.argv[1] if len(sys.argv) > 1 else None)
