"""Prune and quantize a trained model from Python, then save each as a self-contained .npz.

    tinynn train --out model.npz          # or let this script train one (a few seconds)
    python examples/compress_model.py [model.npz] [--out DIR]

The files go to DIR (default: a new temporary folder, printed at the end), never into the checkout.

The same steps `tinynn prune` and `tinynn quantize` run, written out: load, prune 80% of the
weights by magnitude, fine-tune with the masks held fixed, make the pruning permanent, quantize
to int8 (per-output-channel symmetric weights, int8 GEMM), compare, save.
"""
import argparse
import tempfile
from pathlib import Path

import numpy as np

import tinynn as tn
from tinynn import nn, optim, prune, quantize
from tinynn.data import DataLoader, TensorDataset
from tinynn.datasets import load_digits
from tinynn.io.modelfile import load_model, mlp, save_model

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("model", nargs="?", help="a model file written by `tinynn train` (default: train one)")
ap.add_argument("--out", help="folder for pruned.npz and model-int8.npz (default: a new temporary folder)")
args = ap.parse_args()
out = Path(args.out or tempfile.mkdtemp(prefix="tinynn-compress-"))
out.mkdir(parents=True, exist_ok=True)
tn.manual_seed(0)
X_train, y_train, X_test, y_test = load_digits()
loader = DataLoader(TensorDataset(X_train, y_train), batch_size=32, shuffle=True)


def train(model, epochs, lr):
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()


def accuracy(model):
    model.eval()
    with tn.no_grad():
        return float((model(tn.tensor(X_test)).numpy().argmax(axis=1) == y_test).mean())


if args.model:
    model, spec = load_model(args.model)          # weights + architecture from one file
else:
    spec = {"sizes": [64, 128, 64, 10], "activation": "relu"}
    model = mlp(spec["sizes"])
    train(model, epochs=10, lr=0.05)
print(f"float32           accuracy {accuracy(model):.2%}  size {quantize.model_size(model) / 1024:6.1f} KB")

# Pruning: zero the 80% smallest |w| over all layers; masks keep them zero while fine-tuning.
pruned = mlp(spec["sizes"], spec.get("activation", "relu"))
pruned.load_state_dict({k: np.array(v) for k, v in model.state_dict().items()})
prune.magnitude(pruned, 0.8, scope="global")
print(f"pruned 80%        accuracy {accuracy(pruned):.2%}  (before fine-tuning)")
train(pruned, epochs=3, lr=0.01)
prune.remove(pruned)                                # W <- W_orig * mask, plain Linear layers again
print(f"pruned+fine-tuned accuracy {accuracy(pruned):.2%}  sparsity {prune.sparsity(pruned):.1%}")
save_model(pruned, out / "pruned.npz", {**spec, "pruned": {"amount": 0.8}}, compress=True)

# Quantization: int8 weights with one scale per output row, s_j = max_i |W_ji| / 127.
qmodel = quantize.quantize_dynamic(model)
print(f"int8              accuracy {accuracy(qmodel):.2%}  size {quantize.model_size(qmodel) / 1024:6.1f} KB")
save_model(qmodel, out / "model-int8.npz", {**spec, "quantized": {"method": "dynamic"}})

# Both files load back with nothing but the file (and so do `tinynn evaluate pruned.npz` etc.).
again, _ = load_model(out / "model-int8.npz")
assert accuracy(again) == accuracy(qmodel)
print(f"saved {out / 'pruned.npz'} and {out / 'model-int8.npz'}")
