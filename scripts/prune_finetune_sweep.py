"""Choose the fine-tuning recipe for "global magnitude pruning to 90%, then 5 epochs of fine-tuning"
by cross-validation on the digits TRAINING set (the test set is never looked at).

Protocol: the training set is split into 5 stratified folds. For each fold, the other 4 folds
("fit", ~1,150 images) train dense 64-128-64-10 ReLU models with the float recipe of
examples/compression_report.py (SGD lr=0.05 momentum=0.9, batch 64, 30 epochs; one model per
dense seed); each is pruned once with prune.magnitude(model, 0.9, scope="global") and fine-tuned
for exactly 5 epochs on "fit" with every candidate recipe and every fine-tuning seed (0..4), and
the held-out fold scores it. Gap = pruned - dense validation accuracy, in points. A recipe is
ranked by its worst fine-tuning seed's gap (the acceptance must hold on every seed), averaged
over the dense models, then by its mean gap. (--split last uses the last 20% of the training set
instead; those rows keep the original file order and the dense model scores only ~88.5% on
them, against ~96-98% on random folds and ~97.5% on the random stratified test split, so they are
not representative of the test set.)

    PYTHONPATH=. python scripts/prune_finetune_sweep.py          # all recipes, 2 dense seeds/fold, ~2 min
    PYTHONPATH=. python scripts/prune_finetune_sweep.py --dense-seeds 2 3 4 5 \
        --only cos-sgd-0.05-b16 cos-sgd-0.05-b32 cos-sgd-0.02-b16 cos-adam-0.01 cos-sgd-0.1-b32

Result (this repository, 2 rounds): round 1 put cos-sgd-0.02-b16, cos-sgd-0.05-b32,
cos-adam-0.01, cos-sgd-0.05-b16 and cos-sgd-0.1-b32 on top (worst-seed gap -0.42..-0.55, the
old const-sgd-0.02 -0.97); round 2 on 20 fresh dense models: cos-sgd-0.05-b16 -0.40 (mean -0.04),
the others -0.50..-0.71. Chosen: SGD lr 0.05, momentum 0.9, batch 16, CosineAnnealingLR(T_max=5)
stepped once per epoch -- what examples/compression_report.py uses.
"""
import argparse
import copy
import math
import time

import numpy as np

import tinynn as tn
from tinynn import data, datasets, nn, optim, prune
from tinynn.io.modelfile import mlp


def accuracy(model, x, y):
    model.eval()
    with tn.no_grad():
        pred = model(tn.tensor(x)).data.argmax(axis=1)
    model.train()
    return 100.0 * float(np.mean(pred == y))


def make_loader(X, y, seed, batch):
    tn.manual_seed(seed)
    return data.DataLoader(data.TensorDataset(X, y), batch_size=batch, shuffle=True)


def finetune(model, loader, epochs, opt, sched=None, per_step=False):
    """`epochs` passes over `loader`; `sched.step()` after every epoch (or every batch if per_step)."""
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        for xb, yb in loader:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
            if sched is not None and per_step:
                sched.step()
        if sched is not None and not per_step:
            sched.step()


def recipe(kind, lr, momentum=0.9, batch=64, sched="const", wd=0.0, nesterov=False):
    """A fine-tuning recipe: a name plus a function (model, X, y, seed) -> None that fine-tunes 5 epochs."""

    def run(model, X, y, seed, epochs=5):
        loader = make_loader(X, y, seed, batch)
        if kind == "sgd":
            opt = optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=wd, nesterov=nesterov)
        else:
            opt = optim.Adam(model.parameters(), lr=lr, weight_decay=wd)
        steps = epochs * math.ceil(len(X) / batch)
        s, per_step = None, False
        if sched == "cos":
            s = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
        elif sched == "cos-step":  # cosine over every batch, down to 0 at the last step
            s, per_step = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps), True
        elif sched == "step":
            s = optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.1)
        finetune(model, loader, epochs, opt, s, per_step)

    name = f"{sched}-{kind}-{lr:g}" + (f"-m{momentum:g}" if kind == "sgd" and momentum != 0.9 else "") \
        + (f"-b{batch}" if batch != 64 else "") + (f"-wd{wd:g}" if wd else "") + ("-nest" if nesterov else "")
    return name, run


RECIPES = dict([
    recipe("sgd", 0.02),                                   # the report's previous recipe
    recipe("sgd", 0.01),
    recipe("sgd", 0.05),
    recipe("sgd", 0.01, sched="cos"),
    recipe("sgd", 0.02, sched="cos"),
    recipe("sgd", 0.05, sched="cos"),
    recipe("sgd", 0.1, sched="cos"),
    recipe("sgd", 0.05, sched="cos-step"),
    recipe("sgd", 0.05, sched="step"),
    recipe("sgd", 0.02, sched="cos", batch=32),
    recipe("sgd", 0.05, sched="cos", batch=32),
    recipe("sgd", 0.05, sched="cos", nesterov=True),
    recipe("sgd", 0.05, sched="cos", wd=5e-4),
    recipe("adam", 1e-3),
    recipe("adam", 1e-3, sched="cos"),
    recipe("adam", 3e-3, sched="cos"),
    recipe("adam", 3e-3, sched="cos", batch=32),
    recipe("adam", 1e-2, sched="cos"),
    recipe("sgd", 0.2, sched="cos"),
    recipe("sgd", 0.1, sched="cos", batch=32),
    recipe("sgd", 0.05, sched="cos", batch=16),
    recipe("sgd", 0.02, sched="cos", batch=16),
])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=["folds", "last"], default="folds",
                    help="stratified K-fold cross-validation (default) or one split: the last 20%% as val")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--dense-seeds", type=int, nargs="+", default=[0, 1], help="dense models per fold")
    ap.add_argument("--verbose", action="store_true", help="print every gap")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="fine-tuning seeds")
    ap.add_argument("--only", nargs="+", help="names of the recipes to run (default: all)")
    args = ap.parse_args()

    X, y, _, _ = datasets.load_digits()  # the test split is not used here
    if args.split == "last":
        k = int(0.8 * len(X))
        folds = [np.arange(k, len(X))]
    else:  # stratified K folds of the training set, made the way scripts/make_digits.py made the test split
        rng = np.random.default_rng(12345)
        folds = [[] for _ in range(args.folds)]
        for c in np.unique(y):
            for i, chunk in enumerate(np.array_split(rng.permutation(np.flatnonzero(y == c)), args.folds)):
                folds[i].extend(chunk.tolist())
        folds = [np.sort(np.array(f)) for f in folds]

    dense = []  # (model, fit arrays, val arrays, dense val accuracy) per (fold, dense seed)
    for i, val in enumerate(folds):
        fit = np.setdiff1d(np.arange(len(X)), val)
        Xf, yf, Xv, yv = X[fit], y[fit], X[val], y[val]
        for d in args.dense_seeds:
            seed = 100 * d + i
            tn.manual_seed(seed)
            model = mlp([64, 128, 64, 10])
            finetune(model, make_loader(Xf, yf, seed, 64), 30, optim.SGD(model.parameters(), lr=0.05, momentum=0.9))
            acc = accuracy(model, Xv, yv)
            dense.append((model, Xf, yf, Xv, yv, acc))
            pruned = copy.deepcopy(model)
            prune.magnitude(pruned, 0.9, scope="global")
            print(f"fold {i} dense seed {seed}: fit {len(fit)} / val {len(val)} images, dense val {acc:.2f}%, "
                  f"right after pruning {accuracy(pruned, Xv, yv):.2f}%")

    names = args.only or list(RECIPES)
    rows = []
    for name in names:
        t0 = time.perf_counter()
        gaps, worst = [], []
        for model, Xf, yf, Xv, yv, acc_dense in dense:
            worst.append(np.inf)
            for seed in args.seeds:
                pruned = copy.deepcopy(model)
                prune.magnitude(pruned, 0.9, scope="global")
                RECIPES[name](pruned, Xf, yf, seed + 1)
                rep = prune.report(pruned)
                zeros, n = sum(r["zeros"] for r in rep), sum(r["weights"] for r in rep)
                if zeros != round(0.9 * n):
                    raise RuntimeError(f"{name}: {zeros} zero weights after fine-tuning, not round(0.9 * {n})")
                gaps.append(accuracy(pruned, Xv, yv) - acc_dense)
                worst[-1] = min(worst[-1], gaps[-1])
        rows.append((float(np.mean(worst)), float(np.mean(gaps)), min(gaps), max(gaps), name))
        print(f"{name:<26} val gap: worst seed {np.mean(worst):+.2f} (mean over dense models), mean {np.mean(gaps):+.2f}, "
              f"min {min(gaps):+.2f}, max {max(gaps):+.2f}  ({time.perf_counter() - t0:.1f} s)", flush=True)
        if args.verbose:
            print("   " + " ".join("%+.2f" % g for g in gaps))

    print("\nranked by the worst fine-tuning seed's validation gap (averaged over the dense models), then the mean gap:")
    for w, mean, lo, hi, name in sorted(rows, key=lambda r: (-r[0], -r[1])):
        print(f"  {name:<26} worst seed {w:+.2f}  mean {mean:+.2f}  min {lo:+.2f}  max {hi:+.2f}")


if __name__ == "__main__":
    main()
