"""The `tinynn` command end to end: every subcommand with small settings, its files and exit
codes; resuming a checkpoint to the same weights; bad input -> one clean line, non-zero exit.
(`tinynn bench`: test_cli_bench.py.)

Most tests call tinynn.main([...]) in-process (fast); a few start `python -m tinynn` in a
subprocess to check what a user sees (no traceback, no progress-bar spam in a pipe)."""
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import tinynn as tn
import tinynn.cli.train
from tinynn import train as training
from tinynn.cli.main import main
from tinynn.cli.common import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE
from tinynn.io.modelfile import load_model, mlp, read_spec, save_model

# Subprocesses run from the folder that holds the tinynn this test imported (see HELPERS.md).
PKG_PARENT = pathlib.Path(tn.__file__).parent.parent


def run(argv, capsys):
    """main(argv) in-process -> (exit status, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_subprocess(*argv, cwd=None, timeout=120):
    env = {**os.environ, "PYTHONPATH": str(PKG_PARENT)}
    return subprocess.run([sys.executable, "-m", "tinynn", *map(str, argv)], capture_output=True, text=True,
                          cwd=cwd or PKG_PARENT, env=env, timeout=timeout)


def same_weights(a, b):
    sa, sb = read_spec(a)[1], read_spec(b)[1]
    return sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k]) for k in sa)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small model trained once by `tinynn train` for the tests that read one."""
    folder = tmp_path_factory.mktemp("trained")
    path = folder / "model.npz"
    assert main(["train", "--epochs", "3", "--hidden", "32", "--out", str(path), "-q", "--no-checkpoint"]) == 0
    return path


# ------------------------------------------------------------------ train / evaluate
def test_train_writes_model_and_checkpoint(tmp_path, capsys):
    out = tmp_path / "m.npz"
    code, stdout, err = run(["train", "--epochs", "2", "--hidden", "16,8", "--out", out, "--seed", "3"], capsys)
    assert code == 0, err
    assert out.exists() and (tmp_path / "m.ckpt.npz").exists()
    spec, state = read_spec(out)
    assert spec["sizes"] == [64, 16, 8, 10] and spec["activation"] == "relu" and spec["data"] == "digits"
    assert state["0.weight"].shape == (16, 64) and state["4.weight"].shape == (10, 8)
    assert "epoch   2/2" in stdout and "test accuracy" in stdout
    model, _ = load_model(out)
    acc = training.evaluate(model, *tn.datasets.load_digits()[2:])["accuracy"]
    assert acc == pytest.approx(spec["trained"]["test_accuracy"])
    assert acc > 0.5  # two epochs on the digits already beat chance (10%) by far


def test_same_seed_same_model_other_seed_differs(tmp_path):
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        assert main(["train", "--epochs", "1", "--hidden", "8", "--seed", seed, "--out", tmp_path / f"{name}.npz",
                         "-q", "--no-checkpoint"]) == 0
    assert same_weights(tmp_path / "a.npz", tmp_path / "b.npz")
    assert not same_weights(tmp_path / "a.npz", tmp_path / "c.npz")


def test_resume_gives_the_uninterrupted_result(tmp_path, capsys):
    """4 epochs in one go == 2 epochs, then --resume to 4 (bit-identical weights)."""
    common = ["--hidden", "24", "--seed", "5", "-q"]
    assert main(["train", "--epochs", "4", "--out", tmp_path / "full.npz", *common]) == 0
    assert main(["train", "--epochs", "2", "--out", tmp_path / "part.npz", *common]) == 0
    assert not same_weights(tmp_path / "full.npz", tmp_path / "part.npz")
    code, _, err = run(["train", "--resume", tmp_path / "part.ckpt.npz", "--epochs", "4", "-q"], capsys)
    assert code == 0, err
    assert same_weights(tmp_path / "full.npz", tmp_path / "part.npz")  # resumed run writes its own --out


def test_resume_after_a_crash_with_a_schedule_and_adam(tmp_path, capsys, monkeypatch):
    """A run killed after epoch 2 of 4 (cosine schedule, Adam) resumes to the uninterrupted weights."""
    common = ["--epochs", "4", "--hidden", "16", "--optimizer", "adam", "--lr", "0.01", "--schedule", "cosine",
              "--seed", "2", "-q"]
    assert main(["train", *common, "--out", tmp_path / "full.npz"]) == 0

    real_fit = training.fit

    def fit_then_crash(*args, after_epoch, **kwargs):  # the run as `tinynn train` starts it, killed after epoch 2
        def checkpoint_then_crash(epoch):
            after_epoch(epoch)
            if epoch == 2:
                raise KeyboardInterrupt
        return real_fit(*args, after_epoch=checkpoint_then_crash, **kwargs)

    monkeypatch.setattr(tinynn.cli.train, "fit", fit_then_crash)
    code, _, err = run(["train", *common, "--out", tmp_path / "crashed.npz"], capsys)
    assert code == EXIT_INTERRUPTED
    assert "tinynn train --resume" in err and not (tmp_path / "crashed.npz").exists()
    monkeypatch.setattr(tinynn.cli.train, "fit", real_fit)
    assert main(["train", "--resume", tmp_path / "crashed.ckpt.npz", "-q"]) == 0
    assert same_weights(tmp_path / "full.npz", tmp_path / "crashed.npz")


def test_evaluate_prints_accuracy_and_writes_json(trained, tmp_path, capsys):
    report = tmp_path / "r.json"
    code, out, err = run(["evaluate", trained, "--confusion", "--json", report], capsys)
    assert code == 0, err
    assert "64-32-10" in out and "confusion matrix" in out
    result = json.loads(report.read_text())
    confusion = np.array(result["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == 359
    assert result["accuracy"] == pytest.approx(np.trace(confusion) / 359)
    assert f"{result['accuracy']:.2%}" in out


def test_model_file_round_trip_without_bias():
    model = mlp([5, 4, 3], "tanh", bias=[False, True])
    path = pathlib.Path(os.environ.get("TMPDIR", "/tmp")) / f"tinynn-test-{os.getpid()}.npz"
    try:
        save_model(model, path, {"sizes": [5, 4, 3], "activation": "tanh"})
        again, spec = load_model(path)
        x = tn.tensor(np.random.default_rng(0).random((2, 5), dtype=np.float32))
        assert spec["bias"] == [False, True]
        np.testing.assert_array_equal(again(x).numpy(), model(x).numpy())
    finally:
        path.unlink(missing_ok=True)


# ------------------------------------------------------------------ compression
def test_prune_unstructured(trained, tmp_path, capsys):
    out = tmp_path / "p.npz"
    code, stdout, err = run(["prune", trained, "--amount", "0.7", "--finetune-epochs", "1", "--out", out, "-q"], capsys)
    assert code == 0, err
    model, spec = load_model(out)
    w = np.concatenate([np.ravel(v) for k, v in model.state_dict().items() if k.endswith("weight")])
    assert np.mean(w == 0) == pytest.approx(0.7, abs=0.01)
    assert spec["pruned"]["amount"] == 0.7 and "fine-tuned" in stdout


def test_prune_structured_shrinks(trained, tmp_path, capsys):
    out = tmp_path / "s.npz"
    code, stdout, err = run(["prune", trained, "--amount", "0.5", "--structured", "--finetune-epochs", "0",
                             "--out", out, "-q"], capsys)
    assert code == 0, err
    spec, _ = read_spec(out)
    assert spec["sizes"] == [64, 16, 10]
    assert run(["evaluate", out], capsys)[0] == 0


def test_quantize_dynamic_and_static(trained, tmp_path, capsys):
    for method in ("dynamic", "static"):
        out = tmp_path / f"q-{method}.npz"
        code, stdout, err = run(["quantize", trained, "--method", method, "--out", out], capsys)
        assert code == 0, err
        spec, state = read_spec(out)
        assert spec["quantized"]["method"] == method
        assert any(np.asarray(v).dtype == np.int8 for v in state.values())
        code, stdout, err = run(["evaluate", out], capsys)
        assert code == 0 and "int8" in stdout, err
    code, _, err = run(["quantize", tmp_path / "q-dynamic.npz"], capsys)
    assert code != 0 and "already quantized" in err
    code, _, err = run(["prune", tmp_path / "q-dynamic.npz"], capsys)
    assert code == EXIT_FAILURE and "is already quantized; prune the float model" in err


def test_distill(trained, tmp_path, capsys):
    out = tmp_path / "st.npz"
    code, stdout, err = run(["distill", trained, "--hidden", "8", "--epochs", "2", "--out", out, "-q"], capsys)
    assert code == 0, err
    spec, _ = read_spec(out)
    assert spec["sizes"] == [64, 8, 10] and "student" in stdout


# ------------------------------------------------------------------ demo
def test_demo_in_a_pipe_prints_the_table_and_no_bar(tmp_path):
    """The demo end to end as a user runs it, stdout/stderr piped: the final table, no \\r spam."""
    r = run_subprocess("demo", "--epochs", "2", "--out", tmp_path, cwd=tmp_path, timeout=240)
    assert r.returncode == 0, r.stderr
    assert "\r" not in r.stdout + r.stderr and "Traceback" not in r.stderr
    table = r.stdout[r.stdout.index("\nvariant") + 1:]
    header = table.splitlines()[0].split()
    assert header[:2] == ["variant", "test"] and "speed-up" in header
    assert "float32 (trained)" in table and "1.00x" in table
    assert (tmp_path / "model.npz").exists()
    lines = r.stdout.count("\n")
    assert lines < 60, r.stdout  # a line per epoch and per step of the tour, not per batch
    for variant in ("pruned", "int8", "distilled"):
        assert variant in table
    for f in ("pruned.npz", "shrunk.npz", "model-int8.npz", "model-int8-static.npz", "student.npz"):
        assert (tmp_path / f).exists()


def test_demo_plots(tmp_path, capsys):
    """With matplotlib: the three PNGs. Without it: one line saying what to install, before any work."""
    code, out, err = run(["demo", "--epochs", "1", "--plot", tmp_path, "-q"], capsys)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert code == EXIT_FAILURE and err.count("\n") == 1 and "pip install 'tinynn-scratch[plot]'" in err
        assert "train" not in out and not list(tmp_path.iterdir())
        return
    assert code == 0, err
    for name in ("training_curves.png", "confusion_matrix.png", "weight_histograms.png"):
        data = (tmp_path / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_progress_is_a_bar_only_on_a_terminal(capsys):
    class Tty:
        def __init__(self):
            self.text = ""

        def isatty(self):
            return True

        def write(self, s):
            self.text += s

        def flush(self):
            pass

    tty = Tty()
    p = training.Progress(total=5, desc="t", stream=tty)
    for _ in range(5):
        p.step(loss=0.5, acc=0.9)
    p.epoch({"epoch": 1, "loss": 0.5, "train_acc": 0.9, "test_acc": 0.8, "seconds": 0.1}, 1)
    assert "test acc 80.0%" in tty.text
    p.close()
    assert "\r" in tty.text and "5/5" in tty.text
    piped = training.Progress(total=5, desc="t")  # sys.stderr is captured: not a terminal
    assert piped.bar is None
    for _ in range(5):
        piped.step(loss=0.5, acc=0.9)
    piped.epoch({"epoch": 1, "loss": 0.5, "train_acc": 0.9, "test_acc": None, "seconds": 0.1}, 1)
    out, err = capsys.readouterr()
    assert out.count("\n") == 1 and "\r" not in out + err


# ------------------------------------------------------------------ info / help / --seed
def test_info(capsys):
    code, out, _ = run(["info"], capsys)
    assert code == 0
    for word in ("tinynn", "backend", "SIMD", "OpenMP", "kernel threads", "numpy", "BLAS"):
        assert word in out
    code, out, _ = run(["info", "--json"], capsys)
    info = json.loads(out)
    assert info["numpy"] == np.__version__ and info["backend"] == tn.get_backend()


def test_help_of_every_subcommand(capsys):
    for command in ("demo", "train", "evaluate", "prune", "quantize", "distill", "bench", "info"):
        code, out, _ = run([command, "--help"], capsys)
        assert code == 0 and f"usage: tinynn {command}" in out
    code, out, _ = run(["--help"], capsys)
    assert code == 0 and all(c in out for c in ("demo", "train", "distill", "bench"))


# ------------------------------------------------------------------ errors: one line, non-zero
BAD = [
    (["train", "--epochs", "-1"], "--epochs: expected a positive integer, got '-1'"),
    (["train", "--epochs", "two"], "--epochs: expected a positive integer"),
    (["train", "--lr", "nan"], "--lr: expected a positive number"),
    (["train", "--hidden", "12,x"], "--hidden: expected comma-separated positive integers"),
    (["train", "--hidden", "128,,64"], "--hidden: expected comma-separated positive integers like 128,64, got '128,,64'"),
    (["train", "--hidden", ""], "--hidden: expected comma-separated positive integers like 128,64, got ''"),
    (["distill", "{model}", "--hidden", ","], "--hidden: expected comma-separated positive integers"),
    (["train", "--data", "cifar"], "invalid choice: 'cifar'"),
    (["train", "--data", "mnist"], "--data mnist needs --data-dir"),
    (["train", "--data", "mnist", "--data-dir", "/nonexistent/mnist"], "no such folder"),
    (["prune", "{model}", "--amount", "1.5"], "--amount: expected a fraction in [0, 1), got '1.5'"),
    (["distill", "{model}", "--alpha", "2"], "--alpha: expected a number in [0, 1]"),
    (["evaluate", "{tmp}/missing.npz"], "missing.npz: no such file"),
    (["evaluate", "{tmp}/garbage.npz"], "garbage.npz: not an .npz archive"),
    (["evaluate", "{tmp}/truncated.npz"], "truncated.npz is corrupt or truncated"),
    (["evaluate", "{tmp}/foreign.npz"], "not a valid tinynn file"),
    (["evaluate", "{tmp}"], "is a folder"),
    (["train", "--resume", "{model}"], "not a training checkpoint"),
    (["train", "--out", "{tmp}/no/such/dir/m.npz", "--epochs", "1"], "does not exist"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
]


@pytest.mark.parametrize("argv, message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_clean_line(argv, message, trained, tmp_path, capsys):
    (tmp_path / "garbage.npz").write_bytes(b"this is not a model\n")
    (tmp_path / "truncated.npz").write_bytes(trained.read_bytes()[:2000])
    np.savez(tmp_path / "foreign.npz", x=np.zeros(3))
    argv = [a.format(model=trained, tmp=tmp_path) for a in argv]
    code, out, err = run(argv, capsys)
    assert code != 0
    assert err.count("\n") == 1 and err.startswith("tinynn"), err
    assert message in err
    assert "Traceback" not in err


def test_bad_input_in_a_subprocess_has_no_traceback(tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 but then garbage")
    r = run_subprocess("quantize", tmp_path / "bad.npz")
    assert r.returncode == EXIT_FAILURE
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr and "bad.npz" in r.stderr
    r = run_subprocess("prune", tmp_path / "bad.npz", "--amount", "1.5")
    assert r.returncode == EXIT_USAGE and r.stderr.count("\n") == 1


# ------------------------------------------------------------------ --distributed
def _mpiexec():
    import importlib.util
    import shutil

    if importlib.util.find_spec("mpi4py") is None:
        return None
    return shutil.which("mpiexec", path=str(pathlib.Path(sys.executable).parent)) or shutil.which("mpiexec")


@pytest.mark.skipif(_mpiexec() is None, reason="needs mpi4py and mpiexec: pip install '.[mpi]'")
def test_train_distributed_under_mpiexec(tmp_path):
    """mpiexec -n 2 tinynn train --distributed: one header, one model file, written by rank 0 only."""
    env = {**os.environ, "PYTHONPATH": str(PKG_PARENT), "TINYNN_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.Popen([_mpiexec(), "-n", "2", sys.executable, "-m", "tinynn", "train", "--distributed",
                             "--epochs", "2", "--hidden", "16", "--out", str(tmp_path / "d.npz")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        out, err = proc.communicate()
        pytest.fail(f"mpiexec -n 2 tinynn train --distributed hung\n{out}\n{err}")
    assert proc.returncode == 0, err
    assert out.count("training 64-16-10 MLP") == 1 and "2 ranks" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.ckpt.npz", "d.npz"]
    spec, _ = read_spec(tmp_path / "d.npz")
    assert spec["sizes"] == [64, 16, 10]


def test_quantized_model_files_round_trip(trained, tmp_path):
    """A dynamic or static int8 model comes back from its file with bit-identical outputs."""
    from tinynn import quantize

    model, spec = load_model(trained)
    X = tn.datasets.load_digits()[2][:64]
    for method, q in (("dynamic", quantize.quantize_dynamic(model)),
                      ("static", quantize.quantize_static(model, [tn.tensor(X[:32]), tn.tensor(X[32:])]))):
        path = tmp_path / f"{method}.npz"
        save_model(q, path, {**spec, "quantized": {"method": method}})
        again, _ = load_model(path)
        with tn.no_grad():
            np.testing.assert_array_equal(again(tn.tensor(X)).numpy(), q.eval()(tn.tensor(X)).numpy())


def _write_idx(path, array):
    codes = {np.dtype(np.uint8): 0x08}
    header = bytes([0, 0, codes[array.dtype], array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(header + array.tobytes())


def _write_mnist(folder):
    """A tiny synthetic MNIST (6x6 images, one bright pixel tells the class) as the four IDX files."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", 120), ("t10k", 40)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = (rng.random((n, 6, 6)) * 60).astype(np.uint8)
        images[np.arange(n), labels // 6, labels % 6] = 255
        _write_idx(folder / f"{split}-images-idx3-ubyte", images)
        _write_idx(folder / f"{split}-labels-idx1-ubyte", labels)


def test_train_and_evaluate_on_mnist_files(tmp_path, capsys, monkeypatch):
    """--data mnist --data-dir reads the four IDX files; the model file records the data set and its
    folder, so `evaluate model.npz` needs neither again (only --data-dir if the files moved)."""
    _write_mnist(tmp_path / "mnist")
    monkeypatch.chdir(tmp_path)  # a relative --data-dir is recorded as an absolute folder
    out = tmp_path / "mnist.npz"
    code, stdout, err = run(["train", "--data", "mnist", "--data-dir", "mnist", "--hidden", "32", "--epochs", "30",
                             "--lr", "0.1", "--out", out, "-q", "--no-checkpoint"], capsys)
    assert code == 0, err
    spec = read_spec(out)[0]
    assert spec["sizes"] == [36, 32, 10] and spec["data"] == "mnist" and spec["data_dir"] == str(tmp_path / "mnist")
    monkeypatch.chdir(PKG_PARENT)
    code, stdout, err = run(["evaluate", out, "--json", tmp_path / "r.json"], capsys)
    assert code == 0, err
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["data"] == "mnist" and result["accuracy"] > 0.5
    (tmp_path / "mnist").rename(tmp_path / "moved")
    code, _, err = run(["evaluate", out], capsys)
    assert code == EXIT_FAILURE and "which is gone; give --data-dir DIR" in err
    code, _, err = run(["evaluate", out, "--data-dir", tmp_path / "moved", "--json", tmp_path / "r2.json"], capsys)
    assert code == 0, err
    assert json.loads((tmp_path / "r2.json").read_text())["accuracy"] == result["accuracy"]
    code, _, err = run(["quantize", out, "--data-dir", tmp_path / "moved", "--out", tmp_path / "q.npz"], capsys)
    assert code == 0, err
    assert read_spec(tmp_path / "q.npz")[0]["data_dir"] == str(tmp_path / "moved")  # a derived model: where the data is now
    code, _, err = run(["evaluate", out, "--data", "digits"], capsys)  # a 36-feature model on the 64-feature digits
    assert code == EXIT_FAILURE and "expects 36 input features but --data digits has 64" in err


# ------------------------------------------------------------------ what a new user stumbled on
def test_every_command_takes_seed(trained, tmp_path, capsys):
    """README: every command has --seed (evaluate and bench rejected it)."""
    argv = {"demo": ["--help"], "train": ["--help"], "evaluate": [trained], "prune": ["--help"],
            "quantize": ["--help"], "distill": ["--help"], "bench": ["--list"], "info": []}
    for command, rest in argv.items():
        code, _, err = run([command, "--seed", "7", *rest], capsys)
        assert code == 0, (command, err)


def test_resume_refuses_a_conflicting_setting(tmp_path, capsys):
    """--resume keeps the run's settings: one given again with another value is an error, not ignored."""
    assert main(["train", "--epochs", "1", "--hidden", "16", "--out", tmp_path / "m.npz", "-q"]) == 0
    ckpt = tmp_path / "m.ckpt.npz"
    for option, value, shown in (("--hidden", "32", "--hidden 32 differs from the 16"),
                                 ("--optimizer", "adam", "--optimizer adam differs from the sgd"),
                                 ("--lr", "0.1", "--lr 0.1 differs from the 0.05")):
        code, _, err = run(["train", "--resume", ckpt, option, value, "--epochs", "2", "-q"], capsys)
        assert code == EXIT_FAILURE and shown in err and err.count("\n") == 1, err
    code, _, err = run(["train", "--resume", ckpt, "--hidden", "16", "--epochs", "2", "-q"], capsys)  # the same: fine
    assert code == 0, err
    assert read_spec(tmp_path / "m.npz")[0]["trained"]["epochs"] == 2


def test_adam_defaults_to_its_own_learning_rate(tmp_path, capsys):
    """--lr defaults to 0.05 for SGD but to Adam's 1e-3 for adam and adamw (recorded in the model file)."""
    for optimizer, lr in (("sgd", 0.05), ("adam", 1e-3), ("adamw", 1e-3)):
        out = tmp_path / f"{optimizer}.npz"
        code, stdout, err = run(["train", "--optimizer", optimizer, "--epochs", "1", "--hidden", "8", "--out", out,
                                 "--no-checkpoint"], capsys)
        assert code == 0, err
        assert f"{optimizer} lr={lr}," in stdout
        assert read_spec(out)[0]["trained"]["lr"] == lr


def test_model_files_get_the_mode_of_other_files(trained, tmp_path, capsys):
    """Model files and checkpoints are created as open() creates JSON and PNG: 0666 minus the umask."""
    previous = os.umask(0o022)
    try:
        assert main(["train", "--epochs", "1", "--hidden", "8", "--out", tmp_path / "m.npz", "-q"]) == 0
        assert main(["evaluate", tmp_path / "m.npz", "--json", tmp_path / "r.json"]) == 0
    finally:
        os.umask(previous)
    capsys.readouterr()
    modes = {f.name: f.stat().st_mode & 0o777 for f in tmp_path.iterdir()}
    assert modes == {"m.npz": 0o644, "m.ckpt.npz": 0o644, "r.json": 0o644}


def test_evaluate_loss_is_the_mean_negative_log_likelihood(trained):
    """evaluate()'s loss against -log softmax computed here in float64: log p = z - max z - log sum exp(z - max z)."""
    model, _ = load_model(trained)
    X, y = tn.datasets.load_digits()[2:]
    z = training.predict(model, X).astype(np.float64)
    shifted = z - z.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    result = training.evaluate(model, X, y)
    assert result["loss"] == pytest.approx(-logp[np.arange(len(y)), y].mean(), rel=1e-5)
    assert result["accuracy"] == np.mean(z.argmax(axis=1) == y)
    assert result["confusion"].sum() == len(y) and np.trace(result["confusion"]) == np.sum(z.argmax(axis=1) == y)
