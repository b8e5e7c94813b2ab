"""`tinynn train`: train an MLP, save it as one .npz, and every epoch a resumable checkpoint
(model, optimizer, schedule, epoch, random state) from which --resume continues a stopped run to
exactly the weights the uninterrupted run would have had."""
import functools
import math
import sys
import time
from pathlib import Path

from ..train import count_params, evaluate, fit, format_table, make_optimizer, make_scheduler
from .common import (CLIError, add_common, add_training, check_npz, check_out, data_spec, dispatch, int_list,
                     load_data, setup)

# A resumed run keeps these; giving one on the command line that differs from the checkpoint's is an error.
SETTINGS = ("data", "model", "hidden", "activation", "batch_size", "lr", "momentum", "optimizer", "weight_decay",
            "schedule", "seed")
# `--model lstm` (an LSTMClassifier over the image's rows) takes these where the command line gives none:
# the recipe of examples/train_lstm_digits.py (>= 96% on the digits)
LSTM_DEFAULTS = {"hidden": [64], "optimizer": "adam", "lr": 0.01, "schedule": "cosine", "epochs": 12}


def add_parser(sub):
    t = sub.add_parser("train", help="train an MLP and save it as one .npz", description=__doc__)
    add_common(t)
    add_training(t, epochs=15)
    t.add_argument("--model", choices=("mlp", "lstm"), default="mlp",
                   help="mlp, or lstm: an LSTM reading the image row by row (default mlp)")
    t.add_argument("--hidden", type=int_list, default=[128, 64], help="hidden layer sizes (default 128,64)")
    t.add_argument("--activation", choices=("relu", "tanh", "sigmoid"), default="relu", help="(default relu)")
    t.add_argument("--schedule", choices=("none", "cosine", "step"), default="none",
                   help="learning-rate schedule over the epochs (default none)")
    t.add_argument("--out", help="model file to write (default model.npz; on --resume, the resumed run's)")
    t.add_argument("--checkpoint", metavar="PATH", help="checkpoint file (default: OUT with .ckpt.npz)")
    t.add_argument("--no-checkpoint", action="store_true", help="write no checkpoint")
    t.add_argument("--resume", metavar="CKPT", help="continue the run saved in this checkpoint, with its "
                   "settings (--epochs may extend it, --data-dir say where its files are now)")
    t.add_argument("--distributed", action="store_true", help="data-parallel over MPI ranks: "
                   "mpiexec -n N tinynn train --distributed (needs the [mpi] extra)")
    t.add_argument("--plot", metavar="DIR", help="write training curves and the confusion matrix as PNG to DIR")
    t.set_defaults(func=run)


def run(args):
    if not args.distributed:
        return _train(args, None)
    try:
        from .. import distributed as dist
    except ImportError as exc:
        raise CLIError(f"--distributed needs tinynn.distributed and mpi4py ({exc}); "
                       "install with: pip install 'tinynn-scratch[mpi]'") from None
    code = dispatch(functools.partial(_train, dist=dist), args)
    if code and dist.world_size() > 1:  # the other ranks would wait for this one forever
        dist.abort(code)
    return code


def _resume(args):
    """Read the checkpoint of --resume and take its settings into args; returns the checkpoint."""
    ckpt = _read_checkpoint(args.resume)
    saved, given = ckpt["args"], getattr(args, "given", ())
    for key in SETTINGS:
        if key in given and getattr(args, key) != saved[key]:
            option = "--" + key.replace("_", "-")
            raise CLIError(f"{option} {_show(getattr(args, key))} differs from the {_show(saved[key])} of {args.resume}; "
                           "a resumed run keeps its settings (only --epochs, --out, --checkpoint, --data-dir may change)")
        setattr(args, key, saved[key])
    if "data_dir" not in given:
        args.data_dir = saved["data_dir"]
    if "epochs" not in given:
        args.epochs = saved["epochs"]
    if args.epochs < ckpt["epoch"]:
        raise CLIError(f"--epochs {args.epochs} is less than the {ckpt['epoch']} epochs {args.resume} has done")
    if args.epochs != saved["epochs"] and args.schedule != "none":
        raise CLIError(f"--epochs cannot change on --resume with --schedule {args.schedule} (the schedule spans "
                       f"the {saved['epochs']} epochs the run was started with)")
    return ckpt


def lstm_arch(features, n_classes, hidden):
    """The model-file description of an LSTMClassifier over square images of `features` pixels."""
    side = math.isqrt(features)
    if side * side != features:
        raise CLIError(f"--model lstm reads square images row by row; {features} features are not a square")
    return {"arch": "lstm", "sizes": [features, n_classes], "activation": "tanh",
            "lstm": {"row_size": side, "rows": side, "hidden_size": hidden, "num_classes": n_classes}}


def _show(value):
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def _train(args, dist):
    import tinynn as tn
    from ..io.modelfile import build, save_model
    from ..random import generator

    rank = dist.rank() if dist is not None else 0
    say = functools.partial(print, flush=True) if rank == 0 and not args.quiet else lambda *a, **k: None
    setup(args)
    ckpt = _resume(args) if args.resume else None
    if getattr(args, "model", "mlp") == "lstm" and ckpt is None:
        for key, value in LSTM_DEFAULTS.items():
            if key not in getattr(args, "given", ()):
                setattr(args, key, value)
    if args.data_dir:  # recorded in the checkpoint and the model file: absolute, to be found from anywhere
        args.data_dir = str(Path(args.data_dir).resolve())
    X, y, Xt, yt = load_data(args.data, args.data_dir)
    n_classes = int(max(y.max(), yt.max())) + 1
    sizes = [X.shape[1], *args.hidden, n_classes]
    arch = {"arch": "mlp", "sizes": sizes, "activation": args.activation}
    if getattr(args, "model", "mlp") == "lstm":
        arch = lstm_arch(X.shape[1], n_classes, args.hidden[0])
        sizes = [X.shape[1], f"LSTM({arch['lstm']['hidden_size']})", n_classes]
    model = net = build(arch)
    sampler = None
    if dist is not None and dist.world_size() > 1:
        from ..data import TensorDataset

        net = dist.DistributedDataParallel(model)
        sampler = dist.DistributedSampler(TensorDataset(X, y), shuffle=True, seed=args.seed)
    opt = make_optimizer(args.optimizer, net.parameters(), args.lr, args.momentum, args.weight_decay)
    args.lr = opt.param_groups[0]["lr"]  # the optimizer's default when --lr was not given
    scheduler = make_scheduler(args.schedule, opt, args.epochs)
    history, start_epoch = [], 0
    if ckpt is not None:
        try:
            model.load_state_dict(ckpt["model"])
            opt.load_state_dict(ckpt["optimizer"])
            if scheduler is not None:
                scheduler.load_state_dict(ckpt["scheduler"])
        except (ValueError, KeyError, TypeError) as exc:
            raise CLIError(f"{args.resume}: checkpoint does not fit the model it describes: {exc}") from None
        generator().bit_generator.state = ckpt["rng"]
        history, start_epoch = list(ckpt["history"]), int(ckpt["epoch"])
        say(f"resuming {args.resume} at epoch {start_epoch}/{args.epochs}")
    if args.out is None:  # a resumed run writes where it was going to (and keeps its checkpoint file)
        args.out = ckpt["out"] if ckpt is not None and ckpt.get("out") else "model.npz"
        if ckpt is not None and not args.checkpoint:
            args.checkpoint = args.resume
    out = check_out(args.out)
    checkpoint = args.checkpoint or str(Path(out).with_suffix("")) + ".ckpt.npz"
    if args.checkpoint:
        check_out(checkpoint)
    settings = {k: getattr(args, k) for k in (*SETTINGS, "data_dir", "epochs")}

    def save_checkpoint(epoch):
        if rank == 0 and not args.no_checkpoint:
            tn.save({"tinynn_checkpoint": 1, "epoch": epoch, "args": dict(settings), "out": str(out),
                     "model": model.state_dict(), "optimizer": opt.state_dict(),
                     "scheduler": scheduler.state_dict() if scheduler else None,
                     "rng": generator().bit_generator.state, "history": history}, checkpoint)

    say(f"training {'-'.join(map(str, sizes))} {'MLP (' + args.activation + ')' if arch['arch'] == 'mlp' else 'LSTM classifier'} on {args.data}: {len(X)} train / "
        f"{len(Xt)} test samples, {args.optimizer} lr={args.lr}, batch {args.batch_size}, {args.epochs} epochs"
        + (f", {dist.world_size()} ranks" if sampler is not None else ""))
    start = time.perf_counter()
    try:
        fit(net, opt, X, y, epochs=args.epochs, batch_size=args.batch_size, start_epoch=start_epoch,
            scheduler=scheduler, sampler=sampler, eval_data=(Xt, yt), quiet=args.quiet or rank != 0,
            history=history, after_epoch=save_checkpoint)
    except KeyboardInterrupt:
        if rank == 0 and not args.no_checkpoint and Path(checkpoint).exists():
            print(f"interrupted; continue with: tinynn train --resume {checkpoint}", file=sys.stderr)
        raise
    seconds = time.perf_counter() - start
    result = evaluate(model, Xt, yt)
    if rank == 0:
        save_model(model, out, {**arch, **data_spec(args),
                                "trained": {**settings, "test_accuracy": result["accuracy"]}})
    say(format_table(["model", "test accuracy", "test loss", "parameters", "train time"],
                     [[out, f"{result['accuracy']:.2%}", f"{result['loss']:.4f}", f"{count_params(model):,}",
                       f"{seconds:.1f} s"]]))
    if not args.no_checkpoint:
        say(f"saved {out} (checkpoint: {checkpoint})")
    if args.plot and rank == 0:
        from .. import plots

        for f in (plots.training_curves(history, args.plot), plots.confusion_matrix(result["confusion"], args.plot)):
            say(f"wrote {f}")
    return 0


def _read_checkpoint(path):
    import tinynn as tn

    check_npz(path, "a checkpoint written by `tinynn train`")
    try:
        ckpt = tn.load(path)
    except ValueError as exc:
        raise CLIError(str(exc).removeprefix("load: ")) from None
    needed = {"tinynn_checkpoint", "epoch", "args", "model", "optimizer", "rng", "history"}
    if not needed <= set(ckpt):
        raise CLIError(f"{path}: not a training checkpoint (written by `tinynn train`; a model file cannot be resumed)")
    return ckpt
