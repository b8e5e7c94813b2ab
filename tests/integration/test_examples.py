"""The seed example runs as written (fewer epochs via its env var) and learns; the momentum recipe reaches high accuracy."""
import importlib.util
import os
import pathlib
import re
import subprocess
import sys
import tempfile

import tinynn
from threadpoolctl import threadpool_limits

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
PKG_PARENT = pathlib.Path(tinynn.__file__).resolve().parent.parent  # the tinynn under test, for subprocesses


def test_seed_example_runs_and_loss_goes_down():
    env = dict(os.environ, SEED_MLP_EPOCHS="3")
    env["PYTHONPATH"] = str(PKG_PARENT) + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, str(EXAMPLES / "seed_mlp.py")], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    losses = [float(v) for v in re.findall(r"Epoch \d+, loss: ([0-9.eE+-]+)", out.stdout)]
    assert len(losses) == 3
    assert losses[-1] < losses[0] * 0.8
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", out.stdout).group(1))
    assert accuracy > 0.5


def test_momentum_recipe_accuracy():
    """SGD(lr=0.05, momentum=0.9), batch 64, 30 epochs. The measured median over seeds 0..9 is 97.2%
    (examples/digits_sgd_momentum.py); one seed is asserted with a margin of one or two test images
    so that legitimate changes in float rounding do not flip the test."""
    spec = importlib.util.spec_from_file_location("digits_sgd_momentum", EXAMPLES / "digits_sgd_momentum.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with threadpool_limits(1):  # tiny GEMMs: BLAS threads only add contention on a busy machine
        accuracy = module.train(seed=0)
    assert accuracy >= 0.965


def _run_example(name, *args, cwd, timeout=240):
    env = {**os.environ, "PYTHONPATH": str(PKG_PARENT)}
    return subprocess.run([sys.executable, str(EXAMPLES / name), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout)


def test_example_custom_op(tmp_path):
    r = _run_example("custom_op.py", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "gradcheck passed" in r.stdout


def test_examples_write_models_only_where_told(tmp_path):
    """compress_model.py and train_ddp.py write their .npz files to the path given on the command
    line, else to a new temporary folder -- never into the current folder (say, the checkout)."""
    here = tmp_path / "here"
    here.mkdir()
    r = _run_example("compress_model.py", "--out", tmp_path / "models", cwd=here)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["model-int8.npz", "pruned.npz"]
    cli = subprocess.run([sys.executable, "-m", "tinynn", "evaluate", tmp_path / "models" / "model-int8.npz"],
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(PKG_PARENT)})
    assert cli.returncode == 0 and "int8" in cli.stdout, cli.stderr
    r = _run_example("train_ddp.py", cwd=here)
    assert r.returncode == 0, r.stderr
    saved = pathlib.Path(r.stdout.split("saved ")[-1].strip())
    assert saved.name == "digits_ddp.npz" and saved.parent.parent == pathlib.Path(tempfile.gettempdir())
    assert set(tinynn.load(saved)) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    saved.unlink()
    saved.parent.rmdir()
    r = _run_example("train_ddp.py", tmp_path / "ddp.npz", cwd=here)
    assert r.returncode == 0 and (tmp_path / "ddp.npz").exists(), r.stderr
    assert list(here.iterdir()) == []
