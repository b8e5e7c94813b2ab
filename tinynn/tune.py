"""Hyperparameter search on Optuna (extra `tinynn[tune]`): `search` runs a study, and
`digits_objective` is a ready objective that trains an MLP with tinynn's own loop (`train.fit`), or
any other model given its search space (`suggest_training`) and builder (`tinynn tune --model` does
this for the convolutional and Transformer models).

A study is a sequence of trials; each trial draws a configuration theta from the search space,
trains, and reports the validation accuracy a_e(theta) after every epoch e. The sampler is Optuna's
TPE (Bergstra et al., "Algorithms for Hyper-Parameter Optimization", NeurIPS 2011): it splits the
finished trials at a quantile of their scores into a good set and a bad set, fits a Parzen density
l(theta) to the first and g(theta) to the second, and proposes the candidate that maximises
l(theta) / g(theta). The pruner stops a trial whose a_e is below the median of the a_e the earlier
trials reported at the same epoch (Optuna's MedianPruner), so bad configurations cost a few epochs.

With `storage="sqlite:///study.db"` the study lives in a database: running again with the same
`study_name` continues it, and several processes on one storage share its trials.

    from tinynn import tune
    study = tune.search(tune.digits_objective(epochs=10), n_trials=20, storage="sqlite:///s.db",
                        study_name="digits")
    study.best_params

Tuning never looks at the test set: `digits_objective` holds out a stratified part of the
*training* set for validation. `import tinynn` does not import Optuna; this module does.
"""
import math

import numpy as np

try:
    import optuna
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("tinynn.tune needs Optuna, which is not installed: pip install 'tinynn-scratch[tune]' "
                      f"(the [tune] extra) ({exc})") from exc

from .train import SCHEDULES, evaluate, fit, make_optimizer, make_scheduler

__all__ = ["search", "digits_objective", "build_mlp", "train_config", "validation_split", "make_pruner",
           "retrain_best", "plot_study", "config_of", "suggest_config", "suggest_training", "PRUNERS", "OPTIMIZERS",
           "BATCH_SIZES", "TRAINING_SPACE"]

PRUNERS = ("median", "hyperband", "none")
OPTIMIZERS = ("sgd", "adam", "adamw")
BATCH_SIZES = (16, 32, 64, 128)
LR_RANGE = {"sgd": (1e-3, 0.5), "adam": (1e-4, 3e-2), "adamw": (1e-4, 3e-2)}
SQLITE_TIMEOUT = 60  # seconds a process waits for another's write lock on a shared SQLite study


def make_pruner(pruner):
    """An Optuna pruner by name: "median" (MedianPruner: prune when the reported value is below the
    median of earlier trials at the same step, after 5 trials and 1 epoch), "hyperband", "none";
    an Optuna pruner object passes through."""
    if isinstance(pruner, optuna.pruners.BasePruner):
        return pruner
    if pruner is None or pruner == "none":
        return optuna.pruners.NopPruner()
    if pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
    if pruner == "hyperband":
        return optuna.pruners.HyperbandPruner()
    raise ValueError(f"tune.search: unknown pruner {pruner!r}; choose one of {', '.join(PRUNERS)} or pass an "
                     "optuna.pruners object")


def _storage(storage):
    """An SQLite URL gets a long lock timeout, so processes sharing the file wait for each other's
    writes instead of failing with "database is locked", and a retry when two processes create the
    file's tables at once."""
    if not (isinstance(storage, str) and storage.startswith("sqlite:")):
        return storage
    import time

    from sqlalchemy.exc import IntegrityError, OperationalError

    for attempt in range(5):
        try:
            return optuna.storages.RDBStorage(storage, engine_kwargs={"connect_args": {"timeout": SQLITE_TIMEOUT}})
        except (IntegrityError, OperationalError):
            # Two processes starting on a new file both create Optuna's tables; the loser of that
            # race finds them made on its next try.
            if attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))


def search(objective, n_trials, storage=None, study_name=None, direction="maximize", pruner="median",
           timeout=None, seed=None, callbacks=None):
    """Run `n_trials` more trials of `objective(trial) -> float` and return the Optuna study.

    The study is created, or loaded when `storage` already holds one named `study_name`
    (load_if_exists), so an interrupted search continues and processes on one storage share the
    work. Sampler: TPE, seeded with `seed` plus the number of trials the study already holds, so a
    resumed search does not repeat the first run's draws (processes started together on one study
    should pass different seeds, or None; `tinynn tune` does). A trial whose objective raises
    (any Exception) or returns NaN is recorded as FAIL and the study goes on; `optuna.TrialPruned`
    from `trial.should_prune()` records it as PRUNED. KeyboardInterrupt stops the study (the trial
    that was running is marked FAIL; the finished ones are kept)."""
    if not callable(objective):
        raise TypeError(f"tune.search: objective must be callable(trial) -> float, got {type(objective).__name__}")
    if isinstance(n_trials, bool) or not isinstance(n_trials, (int, np.integer)) or n_trials < 0:
        raise ValueError(f"tune.search: n_trials must be a non-negative int, got {n_trials!r}")
    if direction not in ("maximize", "minimize"):
        raise ValueError(f"tune.search: direction must be 'maximize' or 'minimize', got {direction!r}")
    study = optuna.create_study(storage=_storage(storage), study_name=study_name, direction=direction,
                                pruner=make_pruner(pruner), load_if_exists=True)
    held = len(study.trials)
    study.sampler = optuna.samplers.TPESampler(seed=None if seed is None else int(seed) + held)
    study.optimize(objective, n_trials=int(n_trials), timeout=timeout, catch=(Exception,),
                   callbacks=list(callbacks or ()))
    return study


# ---------------------------------------------------------------- the digits MLP
def validation_split(X, y, fraction=0.2, seed=0):
    """(X_fit, y_fit, X_val, y_val): a stratified hold-out of `fraction` of each class of the
    training set, drawn with numpy's generator seeded by `seed` (the test set is never touched)."""
    if not 0 < fraction < 1:
        raise ValueError(f"validation_split: fraction must be in (0, 1), got {fraction!r}")
    rng = np.random.default_rng(seed)
    val = []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        val.extend(idx[: max(1, int(round(fraction * len(idx))))])
    mask = np.zeros(len(y), bool)
    mask[np.asarray(val, dtype=np.int64)] = True
    return X[~mask], y[~mask], X[mask], y[mask]


# the training hyperparameters after the optimizer and the model's sizes, in the order they are drawn
# (the order fixes which random numbers a seeded study gives each one)
TRAINING_SPACE = {
    "lr": lambda trial, config: trial.suggest_float("lr", *LR_RANGE[config["optimizer"]], log=True),
    "batch_size": lambda trial, config: trial.suggest_categorical("batch_size", list(BATCH_SIZES)),
    "weight_decay": lambda trial, config: trial.suggest_float("weight_decay", 1e-6, 1e-2, log=True),
    "dropout": lambda trial, config: trial.suggest_float("dropout", 0.0, 0.5),
    "schedule": lambda trial, config: trial.suggest_categorical("schedule", list(SCHEDULES)),
}


def suggest_config(trial):
    """The search space, drawn from `trial`: depth 1-3, a width per hidden layer (16-512, log),
    optimizer (SGD with momentum 0.9, Adam, AdamW) and its learning rate (log; the range depends on
    the optimizer), batch size, weight decay (log), dropout and learning-rate schedule."""
    depth = trial.suggest_int("depth", 1, 3)
    config = {"optimizer": trial.suggest_categorical("optimizer", list(OPTIMIZERS))}
    config["hidden"] = [trial.suggest_int(f"width_{i}", 16, 512, log=True) for i in range(depth)]
    for name, draw in TRAINING_SPACE.items():
        config[name] = draw(trial, config)
    return config


def suggest_training(trial, sizes, dropout=True):
    """The search space of another model: the optimizer, the model's sizes `sizes(trial)` (a dict,
    kept as config["model"]), then TRAINING_SPACE's learning rate, batch size, weight decay, schedule
    (and dropout when the model has one)."""
    config = {"optimizer": trial.suggest_categorical("optimizer", list(OPTIMIZERS))}
    config["model"] = sizes(trial)
    for name, draw in TRAINING_SPACE.items():
        if dropout or name != "dropout":
            config[name] = draw(trial, config)
    return config


def config_of(params):
    """The training configuration of a finished trial's `params` (study.best_params)."""
    depth = int(params["depth"])
    return {"hidden": [int(params[f"width_{i}"]) for i in range(depth)], "optimizer": params["optimizer"],
            "lr": float(params["lr"]), "batch_size": int(params["batch_size"]),
            "weight_decay": float(params["weight_decay"]), "dropout": float(params["dropout"]),
            "schedule": params["schedule"]}


def build_mlp(sizes, dropout=0.0):
    """Linear -> ReLU -> Dropout(p) -> ... -> Linear over `sizes` (no Dropout when p = 0)."""
    from . import nn

    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def train_config(config, X, y, epochs, eval_data=None, seed=0, after_epoch=None, quiet=True, build=None):
    """Train a fresh model of `config` on (X, y) with `train.fit`; returns (model, history): the MLP of
    suggest_config's dict, or `build(config, n_features, n_classes)`. `after_epoch(epoch, history)`
    runs after each epoch (the objective reports there)."""
    import tinynn as tn

    tn.manual_seed(seed)
    n_classes = int(y.max()) + 1
    model = build_mlp([X.shape[1], *config["hidden"], n_classes], config["dropout"]) if build is None else \
        build(config, X.shape[1], n_classes)
    opt = make_optimizer(config["optimizer"], model.parameters(), config["lr"], 0.9, config["weight_decay"])
    scheduler = make_scheduler(config["schedule"], opt, epochs)
    history = []
    hook = None if after_epoch is None else (lambda epoch: after_epoch(epoch, history))
    fit(model, opt, X, y, epochs=epochs, batch_size=config["batch_size"], scheduler=scheduler,
        eval_data=eval_data, quiet=quiet, history=history, after_epoch=hook, desc="tune")
    return model, history


def digits_objective(epochs=10, data=None, val_fraction=0.2, seed=0, space=None, build=None):
    """An objective for `search`: trains the MLP a trial draws (`suggest_config`) for `epochs` on
    the training set minus a stratified validation part, reports the validation accuracy after every
    epoch (trial.report; trial.should_prune() -> optuna.TrialPruned), and returns the last one.
    `data` = (X_train, y_train, X_test, y_test) (default: the embedded digits); X_test is unused.
    Another model: `space(trial) -> config` (suggest_training) and `build(config, n_features, n_classes)`."""
    if data is None:
        from .datasets import load_digits

        data = load_digits()
    X_fit, y_fit, X_val, y_val = validation_split(data[0], data[1], val_fraction, seed)

    def objective(trial):
        config = (space or suggest_config)(trial)

        def report(epoch, history):
            accuracy = history[-1]["test_acc"]  # fit's eval_data here is the validation part
            if not math.isfinite(history[-1]["loss"]):
                raise optuna.TrialPruned(f"loss diverged at epoch {epoch}")
            trial.report(accuracy, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned(f"validation accuracy {accuracy:.4f} at epoch {epoch}")

        _, history = train_config(config, X_fit, y_fit, epochs, eval_data=(X_val, y_val), seed=seed,
                                  after_epoch=report, build=build)
        return history[-1]["test_acc"]

    return objective


def retrain_best(study, data, epochs, seed=0, space=None, build=None):
    """The best trial's configuration trained again on the whole training set of `data`; returns
    (model, config, evaluate(model, X_test, y_test)) -- the test set is used only here, once. With
    `space` and `build` (another model's, as digits_objective's), the configuration is space's on the
    best trial's parameters."""
    params = study.best_params
    config = config_of(params) if space is None else space(optuna.trial.FixedTrial(params))
    model, _ = train_config(config, data[0], data[1], epochs, seed=seed, build=build)
    return model, config, evaluate(model, data[2], data[3])


def plot_study(study, folder):
    """Optuna's optimization-history and hyperparameter-importance figures as PNG files in
    `folder` (matplotlib, Agg backend); returns the paths written. Importances (Optuna's default
    evaluator) need at least two finished trials with different parameters, else are skipped."""
    import warnings
    from pathlib import Path

    from .plots import require_matplotlib
    from optuna.visualization import matplotlib as oplt

    plt = require_matplotlib()
    Path(folder).mkdir(parents=True, exist_ok=True)
    finished = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    plots = [("tune_history.png", oplt.plot_optimization_history)]
    if len(finished) >= 2 and len({tuple(sorted(t.params.items())) for t in finished}) >= 2:
        plots.append(("tune_importance.png", oplt.plot_param_importances))
    written = []
    for name, plot in plots:
        with warnings.catch_warnings():  # "experimental" and few-trials notices, not problems of the study
            warnings.simplefilter("ignore")
            ax = plot(study)
        fig = ax.figure
        fig.set_size_inches(8, 4.5)
        fig.tight_layout()
        fig.savefig(path := str(Path(folder) / name), dpi=110)
        plt.close(fig)
        written.append(path)
    return written
