"""`tinynn tune --model lenet | resnet | transformer`: the study searches the model's sizes within their
bounds (with the optimizer, learning rate, batch size, weight decay and schedule), and saves the best
configuration, trained again, as a normal model file that `tinynn evaluate` and load_model read.
Tiny budgets: 2 trials of 1 epoch on a part of the digits."""
import pytest

optuna = pytest.importorskip("optuna", reason="optuna is not installed (the [tune] extra)")

from tinynn.cli import tune as tune_cli  # noqa: E402
from tinynn.cli.main import main  # noqa: E402
from tinynn.datasets import load_digits  # noqa: E402
from tinynn.io.modelfile import load_model  # noqa: E402
from tinynn.train import evaluate  # noqa: E402

X, Y, X_TEST, Y_TEST = load_digits()
SMALL = (X[:300], Y[:300], X_TEST[:100], Y_TEST[:100])  # each class appears in both parts

# the sizes each model's trials may draw: (parameter, allowed values)
BOUNDS = {
    "lenet": {"width": range(1, 5)},
    "resnet": {"channels": (4, 8, 16), "stages": range(1, 4)},
    "transformer": {"d_model": (16, 32, 64), "nhead": (1, 2, 4), "num_layers": range(1, 4), "ff_mult": (1, 2, 4)},
}


@pytest.fixture(autouse=True)
def _small_digits(monkeypatch):
    monkeypatch.setattr(tune_cli, "load_data", lambda name, folder=None: SMALL)


@pytest.mark.parametrize("model", sorted(BOUNDS))
def test_tune_a_model_saves_a_model_file_that_evaluate_reads(model, tmp_path, capsys):
    url, out = f"sqlite:///{tmp_path / 'study.db'}", tmp_path / f"{model}.npz"
    assert main(["tune", "--model", model, "--trials", "2", "--epochs", "1", "--storage", url, "--out", out,
                 "--seed", "0"]) == 0
    text = capsys.readouterr().out
    assert f"tuning {model}" in text and "test accuracy" in text
    study = optuna.load_study(study_name=f"tinynn-{model}", storage=url)
    assert len(study.trials) == 2
    for trial in study.trials:
        assert trial.state == optuna.trial.TrialState.COMPLETE and sorted(trial.intermediate_values) == [1]
        for name, allowed in BOUNDS[model].items():
            assert trial.params[name] in allowed, (name, trial.params)
    net, spec = load_model(out)
    assert spec["arch"] == model and spec["tuned"]["trial"] == study.best_trial.number
    assert spec["tuned"]["test_accuracy"] == evaluate(net, SMALL[2], SMALL[3])["accuracy"]
    if model == "transformer":
        best = study.best_params
        assert (spec["d_model"], spec["nhead"], spec["num_layers"], spec["dim_feedforward"]) == \
            (best["d_model"], best["nhead"], best["num_layers"], best["ff_mult"] * best["d_model"])
    assert main(["evaluate", out]) == 0  # the whole digits test set: a normal model file
    assert f"{model} 1x8x8->10" in capsys.readouterr().out


def test_a_model_needs_square_images(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(tune_cli, "load_data", lambda name, folder=None: (X[:50, :60], Y[:50], X_TEST[:9, :60],
                                                                          Y_TEST[:9]))
    assert main(["tune", "--model", "lenet", "--trials", "1", "--out", tmp_path / "x.npz"]) == 1
    assert "square images" in capsys.readouterr().err
