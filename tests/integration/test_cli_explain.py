"""`tinynn explain` end to end, as a user runs it: `python -m tinynn train` writes a model, `explain`
prints the prediction and the top pixels per method, and --plot writes one valid PNG; bad input
ends with one line and a non-zero status."""
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

import tinynn as tn
from tinynn import datasets, explain
from tinynn.io.modelfile import load_model

PKG_PARENT = pathlib.Path(tn.__file__).parent.parent
METHODS = ("saliency", "input x gradient", "integrated gradients", "smoothgrad", "occlusion")
PIXEL = r"r[0-7]c[0-7] [+-]\d+\.\d{3}"


def tinynn(*argv, cwd):
    env = {**os.environ, "PYTHONPATH": str(PKG_PARENT)}
    return subprocess.run([sys.executable, "-m", "tinynn", *map(str, argv)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explain")
    r = tinynn("train", "--epochs", "1", "--hidden", "32", "--out", "model.npz", "-q", "--no-checkpoint", cwd=folder)
    assert r.returncode == 0, r.stderr
    return folder / "model.npz"


def test_explain_prints_the_prediction_and_top_pixels_per_method(model_file):
    r = tinynn("explain", model_file, "--index", 7, "--top", 3, cwd=model_file.parent)
    assert r.returncode == 0, r.stderr
    _, _, Xt, yt = datasets.load_digits()
    model, _ = load_model(model_file)
    logits = model(tn.tensor(Xt[7:8])).numpy()[0]
    predicted = int(np.argmax(logits))
    assert f"test example 7 of digits: true class {yt[7]}, predicted {predicted}" in r.stdout
    assert f"explaining class {predicted}" in r.stdout
    rows = {line[:20].strip(): re.findall(PIXEL, line[20:]) for line in r.stdout.splitlines()
            if line[:20].strip() in METHODS}
    assert sorted(rows) == sorted(METHODS) and all(len(cells) == 3 for cells in rows.values()), r.stdout
    # the table's first pixel for integrated gradients is the largest |attribution| the library gives
    ig = explain.integrated_gradients(model.double(), Xt[7:8].astype(np.float64), predicted).numpy()[0].reshape(8, 8)
    row, col = np.unravel_index(np.argmax(np.abs(ig)), ig.shape)
    assert rows["integrated gradients"][0] == f"r{row}c{col} {ig[row, col]:+.3f}"


def test_explain_plot_writes_one_png(model_file, tmp_path):
    r = tinynn("explain", model_file, "--index", 2, "--target", 4, "--plot", tmp_path / "fig", cwd=tmp_path)
    try:
        import matplotlib.image
    except ImportError:
        assert r.returncode == 1 and r.stderr.count("\n") == 1 and "pip install 'tinynn-scratch[plot]'" in r.stderr
        assert not (tmp_path / "fig").exists()
        return
    assert r.returncode == 0, r.stderr
    assert "explaining class 4" in r.stdout
    png = tmp_path / "fig" / "explain_2.png"
    assert f"wrote {png}" in r.stdout and [p.name for p in (tmp_path / "fig").iterdir()] == ["explain_2.png"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = matplotlib.image.imread(png)
    assert pixels.ndim == 3 and pixels.shape[0] > 200 and pixels.shape[1] > 4 * pixels.shape[0]  # one wide row
    assert pixels[..., :3].std() > 0.05  # drawn, not blank


@pytest.mark.parametrize("argv, message", [
    (["--index", "359"], "--index 359: the digits test set has 359 examples (0..358)"),
    (["--target", "10"], "--target 10: the model has 10 classes (0..9)"),
])
def test_explain_bad_input_is_one_line(model_file, argv, message):
    r = tinynn("explain", model_file, *argv, cwd=model_file.parent)
    assert r.returncode == 1 and r.stderr == f"tinynn explain: error: {message}\n" and r.stdout == ""


def test_explain_refuses_a_quantized_model(model_file, tmp_path):
    assert tinynn("quantize", model_file, "--out", tmp_path / "q.npz", cwd=tmp_path).returncode == 0
    r = tinynn("explain", tmp_path / "q.npz", cwd=tmp_path)
    assert r.returncode == 1 and "is quantized" in r.stderr and r.stderr.count("\n") == 1
