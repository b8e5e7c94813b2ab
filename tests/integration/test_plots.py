"""tinynn.plots with matplotlib's Agg backend (the [test] extra installs matplotlib, so this runs
in CI): each figure is a valid PNG of the size its figsize and dpi give, and shows the values it
was given (the confusion matrix's counts and accuracy, the loss curve's points, the heat map's
darkest cell); `tinynn demo --plot DIR` and `tinynn evaluate --plot DIR`, run through the command
line, write them."""
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")   # (a failure under CI=true: see tests/conftest.py)
matplotlib.use("Agg")
import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

from tinynn import plots  # noqa: E402

DPI = 110   # tinynn/plots.py saves every figure at this resolution
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path):
    """(width, height) from a PNG's IHDR chunk, after checking the signature and chunk type."""
    data = Path(path).read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def figures(monkeypatch):
    """The figures a plots function closes, kept open for inspection."""
    kept = []
    close = plt.close

    def keep(fig=None):
        kept.append(fig)
        close(fig)
    monkeypatch.setattr(plt, "close", keep)
    return kept


def test_confusion_matrix_png_shows_the_counts_and_the_accuracy(tmp_path, figures):
    c = np.array([[50, 0, 2], [3, 40, 0], [0, 5, 0]])      # accuracy 90 / 100
    path = plots.confusion_matrix(c, tmp_path)
    assert Path(path) == tmp_path / "confusion_matrix.png"
    assert png_size(path) == (round(6 * DPI), round(5.4 * DPI))
    ax = figures[0].axes[0]
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    assert cells == {(i, j): str(c[i, j]) for i in range(3) for j in range(3) if c[i, j]}  # zeros not written
    assert "90.0%" in ax.get_title()
    # the largest count is drawn in the colour map's darkest blue, somewhere in the saved image
    rgb = matplotlib.image.imread(path)[..., :3]
    darkest = np.array(matplotlib.colormaps["Blues"](1.0)[:3])
    assert (np.abs(rgb - darkest).max(axis=-1) < 0.02).sum() > 100


def test_training_curves_png_draws_the_history(tmp_path, figures):
    history = [{"epoch": e, "loss": 1.0 / e, "train_acc": 0.5 + 0.1 * e, "test_acc": 0.45 + 0.1 * e} for e in (1, 2, 3)]
    path = plots.training_curves(history, tmp_path)
    assert png_size(path) == (10 * DPI, 4 * DPI)
    loss_ax, acc_ax = figures[0].axes
    np.testing.assert_allclose(loss_ax.lines[0].get_ydata(), [1.0, 0.5, 1 / 3])
    np.testing.assert_allclose(acc_ax.lines[0].get_ydata(), [60, 70, 80])   # percent
    np.testing.assert_allclose(acc_ax.lines[1].get_ydata(), [55, 65, 75])


def run_cli(*args, cwd):
    env = dict(os.environ, MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-m", "tinynn", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_demo_plot_writes_the_three_figures(tmp_path):
    out = tmp_path / "figures"
    run_cli("demo", "--epochs", "1", "--plot", out, "-q", cwd=tmp_path)
    sizes = {"training_curves.png": (10 * DPI, 4 * DPI), "confusion_matrix.png": (round(6 * DPI), round(5.4 * DPI)),
             "weight_histograms.png": (15 * DPI, 4 * DPI)}
    assert sorted(p.name for p in out.iterdir()) == sorted(sizes)
    for name, size in sizes.items():
        assert png_size(out / name) == size


def test_evaluate_plot_writes_the_confusion_matrix(tmp_path):
    run_cli("train", "--epochs", "1", "--out", tmp_path / "model.npz", "--no-checkpoint", "-q", cwd=tmp_path)
    stdout = run_cli("evaluate", tmp_path / "model.npz", "--plot", tmp_path / "eval", cwd=tmp_path)
    path = tmp_path / "eval" / "confusion_matrix.png"
    assert str(path) in stdout
    assert png_size(path) == (round(6 * DPI), round(5.4 * DPI))
    rgb = matplotlib.image.imread(path)[..., :3]
    assert rgb.std() > 0.05   # a drawn heat map, not a blank canvas
