"""PNG figures for `tinynn demo --plot DIR` / `tinynn train --plot DIR` (needs matplotlib, the
`[plot]` extra; imported only here, only when a figure is asked for).

- training_curves.png: training loss per epoch, and train / test accuracy per epoch
- confusion_matrix.png: counts of (true class, predicted class) on the test set
- weight_histograms.png: the Linear weights of the trained model, of the magnitude-pruned model
  (the band around zero is gone: those weights are exactly 0), and the int8 codes of the
  quantized model (integers in [-127, 127], one scale per output channel)
"""
from pathlib import Path

import numpy as np


def require_matplotlib():
    """Import matplotlib with a file-only backend; a clear error if it is missing."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError("--plot needs matplotlib: pip install 'tinynn-scratch[plot]' (or pip install matplotlib)") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt, fig, folder, name):
    """Write `fig` as folder/name (the folder made if need be); returns the path."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path := str(Path(folder) / name), dpi=110)
    plt.close(fig)
    return path


def training_curves(history, folder):
    """Loss and accuracy per epoch from fit()'s history; returns the file written."""
    plt = require_matplotlib()
    epochs = [r["epoch"] for r in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(epochs, [r["loss"] for r in history], marker="o", color="tab:red")
    ax1.set(title="training loss (cross-entropy)", xlabel="epoch", ylabel="mean loss per sample")
    ax1.set_yscale("log")
    ax2.plot(epochs, [100 * r["train_acc"] for r in history], marker="o", label="train (during the epoch)")
    if any(r.get("test_acc") is not None for r in history):
        ax2.plot(epochs, [100 * r["test_acc"] for r in history], marker="s", label="test (after the epoch)")
    ax2.set(title="accuracy", xlabel="epoch", ylabel="accuracy (%)")
    ax2.legend(loc="lower right")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    return _save(plt, fig, folder, "training_curves.png")


def confusion_matrix(confusion, folder):
    """Heat map of confusion[true, predicted] with the counts written in the cells."""
    plt = require_matplotlib()
    c = np.asarray(confusion)
    fig, ax = plt.subplots(figsize=(6, 5.4))
    im = ax.imshow(c, cmap="Blues")
    k = c.shape[0]
    for i in range(k):
        for j in range(k):
            if c[i, j]:
                ax.text(j, i, str(c[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if c[i, j] > c.max() / 2 else "black")
    acc = np.trace(c) / max(c.sum(), 1)
    ax.set(title=f"confusion matrix (test accuracy {acc:.1%})", xlabel="predicted class", ylabel="true class",
           xticks=range(k), yticks=range(k))
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return _save(plt, fig, folder, "confusion_matrix.png")


def _linear_weights(model):
    return np.concatenate([np.asarray(m.weight._data if hasattr(m.weight, "_data") else m.weight).ravel()
                           for m in model.modules() if hasattr(m, "in_features") and hasattr(m, "weight")])


def weight_histograms(model, pruned, quantized, folder):
    """Three panels: trained weights, pruned weights, int8 codes of the quantized model."""
    plt = require_matplotlib()
    w = _linear_weights(model)
    wp = _linear_weights(pruned)
    codes = np.concatenate([np.asarray(a).ravel() for a in quantized.state_dict().values()
                            if np.asarray(a).dtype == np.int8 and np.asarray(a).ndim == 2])
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    bins = np.linspace(w.min(), w.max(), 121)
    axes[0].hist(w, bins=bins, color="tab:blue")
    axes[0].set(title=f"trained float32 weights ({w.size:,})", xlabel="weight value", ylabel="count")
    nz = wp[wp != 0]
    axes[1].hist(nz, bins=bins, color="tab:green", label=f"non-zero ({nz.size:,})")
    axes[1].set(title=f"after magnitude pruning: {np.mean(wp == 0):.0%} exactly zero (not drawn)",
                xlabel="weight value", ylabel="count")
    axes[1].legend(loc="upper right")
    axes[2].hist(codes, bins=np.arange(-128, 129) - 0.5, color="tab:orange")
    axes[2].set(title=f"int8 codes after quantization ({codes.size:,})", xlabel="q (w = s_row q; each row's largest |w| -> the int8 limit)",
                ylabel="count", xlim=(-130, 130))
    for ax in axes:
        ax.grid(alpha=0.3)
    return _save(plt, fig, folder, "weight_histograms.png")
