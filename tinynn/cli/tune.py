"""`tinynn tune`: search a model's hyperparameters with Optuna (TPE sampler, median pruner fed by
each epoch's validation accuracy on a held-out part of the training set), print the best trials,
train the best configuration again on the whole training set, report its test accuracy and save it
as a model file. --model mlp (widths, depth, dropout) | lenet (channel width) | resnet (stages and
channels) | transformer (d_model, heads, layers, feed-forward width), as `tinynn train --model`,
each with the optimizer, learning rate, batch size, weight decay and schedule. With --storage
sqlite:///study.db the study is kept in a database: run the same command again (after Ctrl-C, or
from a second process at the same time) and it continues the same study. Needs the [tune] extra
(pip install 'tinynn-scratch[tune]')."""
import sys
import time
from types import SimpleNamespace

from ..train import count_params, format_table
from .common import CLIError, add_common, check_out, data_spec, load_data, positive_float, positive_int, setup
from .train import MODELS, RECIPES, _image_shape

SHOWN = 5  # rows of the table of best trials

# --model -> its sizes drawn from a trial, within small bounds (the 8x8 digits; a trial is a few seconds):
# the options `tinynn train --model` reads (MODELS), or the Transformer's own arguments
SIZES = {
    "lenet": lambda trial: {"width": trial.suggest_int("width", 1, 4)},
    "resnet": lambda trial: {"channels": [trial.suggest_categorical("channels", [4, 8, 16]) * 2 ** i
                                          for i in range(trial.suggest_int("stages", 1, 3))]},
    "transformer": lambda trial: _transformer(trial.suggest_categorical("d_model", [16, 32, 64]),
                                              trial.suggest_categorical("nhead", [1, 2, 4]),
                                              trial.suggest_int("num_layers", 1, 3),
                                              trial.suggest_categorical("ff_mult", [1, 2, 4])),
}


def _transformer(d_model, nhead, num_layers, ff_mult):
    return {"d_model": d_model, "nhead": nhead, "num_layers": num_layers, "dim_feedforward": ff_mult * d_model}


def model_spec(model, sizes, n_features, n_classes):
    """The model file description of `--model model` with `sizes` (SIZES's dict), through train's MODELS."""
    options = SimpleNamespace(hidden=[64], activation="relu", width=1, channels=[8, 16, 32])
    options.__dict__.update({k: v for k, v in sizes.items() if hasattr(options, k)})
    spec = MODELS[model](options, n_features, n_classes)
    spec.update({k: v for k, v in sizes.items() if k in spec})  # the Transformer's sizes
    return spec


def _search_space(model):
    """(space, build) of `--model` for tune.digits_objective: None, None for the MLP (tune's own)."""
    if model == "mlp":
        return None, None
    from ..io.modelfile import build_float
    from ..tune import suggest_training

    space = lambda trial: suggest_training(trial, SIZES[model], dropout=False)  # noqa: E731
    build = lambda config, n, k: build_float(model_spec(model, config["model"], n, k))  # noqa: E731
    return space, build


def add_parser(sub):
    t = sub.add_parser("tune", help="search a model's hyperparameters (Optuna) and save the best model",
                       description=__doc__)
    add_common(t)
    t.add_argument("--model", choices=("mlp", *SIZES), default="mlp", help="architecture to search (default mlp; "
                   "as tinynn train --model)")
    t.add_argument("--trials", type=positive_int, default=30, help="trials to add to the study (default 30)")
    t.add_argument("--epochs", type=positive_int, default=15, help="epochs per trial and for the final model "
                   "(default 15; lenet, resnet, transformer: their recipe's)")
    t.add_argument("--storage", metavar="URL", help="Optuna storage, e.g. sqlite:///study.db (default: in memory, "
                   "nothing kept)")
    t.add_argument("--study-name", help="study in the storage (default tinynn-MODEL)")
    t.add_argument("--pruner", choices=("median", "hyperband", "none"), default="median", help="(default median)")
    t.add_argument("--timeout", type=positive_float, help="stop adding trials after this many seconds")
    t.add_argument("--val-fraction", type=float, default=0.2, help="part of the training set held out to score "
                   "trials (default 0.2; the test set is never used to tune)")
    t.add_argument("--plot", metavar="DIR", help="write Optuna's history and importance plots as PNG to DIR")
    t.add_argument("--out", default="best.npz", help="model file of the best configuration (default best.npz)")
    t.set_defaults(func=run)


def _params(params):
    """A trial's parameters in one short cell: 'adam lr=0.0021 128-64 b32 wd=1e-05 p=0.12 cosine'."""
    from ..tune import config_of

    try:
        c = config_of(params)
    except KeyError:  # another model's study (or another objective's)
        return " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in sorted(params.items()))
    return (f"{c['optimizer']} lr={c['lr']:.3g} {'-'.join(map(str, c['hidden']))} b{c['batch_size']} "
            f"wd={c['weight_decay']:.1g} p={c['dropout']:.2f} {c['schedule']}")


def run(args):
    try:
        import optuna

        from .. import tune
    except ImportError as exc:
        raise CLIError(str(exc)) from None
    if args.plot:
        from ..plots import require_matplotlib

        require_matplotlib()
    if not 0 < args.val_fraction < 1:
        raise CLIError(f"--val-fraction {args.val_fraction}: expected a fraction in (0, 1)")
    check_out(args.out)
    setup(args)
    data = load_data(args.data, args.data_dir)
    if args.model != "mlp":
        _image_shape(data[0].shape[1])  # square images, checked before any trial
        if "epochs" not in getattr(args, "given", ()):
            args.epochs = RECIPES[args.model]["epochs"]
    args.study_name = args.study_name or f"tinynn-{args.model}"
    space, build = _search_space(args.model)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, flush=True))
    say(f"tuning {'an MLP' if args.model == 'mlp' else args.model} on {args.data}: {args.trials} trials of "
        f"{args.epochs} epochs, study {args.study_name!r} in {args.storage or 'memory'}, scored on "
        f"{args.val_fraction:.0%} of the training set")

    def progress(study, trial):
        value = "" if trial.value is None else f"val acc {trial.value:.2%}"
        steps = len(trial.intermediate_values)
        say(f"trial {trial.number:>3} {trial.state.name.lower():<8} {value:<15} epochs {steps:>3}  "
            f"best {_best(study)}  {_params(trial.params)}")

    start = time.perf_counter()
    try:
        study = tune.search(tune.digits_objective(args.epochs, data, args.val_fraction, args.seed, space, build),
                            args.trials,
                            storage=args.storage, study_name=args.study_name, pruner=args.pruner,
                            timeout=args.timeout, seed=_sampler_seed(args), callbacks=[progress])
    except KeyboardInterrupt:
        if args.storage:
            print(f"interrupted; the finished trials are kept in {args.storage}: run the same command to continue",
                  file=sys.stderr)
        raise
    seconds = time.perf_counter() - start
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    counts = {s.name.lower(): sum(t.state == s for t in study.trials) for s in optuna.trial.TrialState}
    say(f"study {study.study_name!r}: {len(study.trials)} trials (" + ", ".join(f"{n} {k}" for k, n in counts.items()
                                                                              if n) + f"), this run {seconds:.1f} s")
    if not done:
        raise CLIError(f"no trial of study {study.study_name!r} finished; nothing to save")
    best = sorted(done, key=lambda t: -t.value)[:SHOWN]
    say(format_table(["trial", "val accuracy", "parameters"],
                     [[t.number, f"{t.value:.2%}", _params(t.params)] for t in best], align=[">", ">", "<"]))
    try:
        model, config, result = tune.retrain_best(study, data, args.epochs, seed=args.seed, space=space, build=build)
    except (KeyError, ValueError) as exc:
        raise CLIError(f"study {study.study_name!r} was made by another objective or model ({exc})") from None
    _save(model, config, args, study, result)
    say(format_table(["model", "test accuracy", "test loss", "parameters"],
                     [[args.out, f"{result['accuracy']:.2%}", f"{result['loss']:.4f}", f"{count_params(model):,}"]]))
    if args.plot:
        for path in tune.plot_study(study, args.plot):
            say(f"wrote {path}")
    return 0


def _sampler_seed(args):
    """--seed seeds the sampler too, unless the study is in a database and --seed was not given:
    then each process draws its own, so two processes sharing a study do not try the same recipes."""
    return args.seed if args.storage is None or "seed" in getattr(args, "given", ()) else None


def _best(study):
    try:
        return f"{study.best_value:.2%}"
    except ValueError:  # no finished trial yet
        return "-"


def _save(model, config, args, study, result):
    """The best model as a normal model file, the search's settings kept in the description: an MLP's
    Linear weights in modelfile's plain MLP (the Dropout layers are the identity at inference), another
    model as `tinynn train --model` describes it."""
    from ..io.modelfile import mlp, save_model
    from ..nn import Linear

    tuned = {**config, "epochs": args.epochs, "study": study.study_name, "trial": study.best_trial.number,
             "val_accuracy": study.best_value, "test_accuracy": result["accuracy"]}
    if args.model != "mlp":
        X, y = load_data(args.data, args.data_dir)[:2]
        spec = model_spec(args.model, config["model"], X.shape[1], int(y.max()) + 1)
        save_model(model, args.out, {**spec, **data_spec(args), "tuned": tuned})
        return
    sizes = [model[0].in_features, *config["hidden"], [m for m in model if isinstance(m, Linear)][-1].out_features]
    plain = mlp(sizes, "relu")
    plain.load_state_dict(dict(zip(plain.state_dict(), model.state_dict().values())))  # same order, fewer keys
    save_model(plain, args.out, {"sizes": sizes, "activation": "relu", **data_spec(args), "tuned": tuned})
