"""`tinynn train`: train a model (--model mlp | lenet | resnet), save it as one .npz, and every epoch
a resumable checkpoint (model, optimizer, schedule, epoch, random state) from which --resume continues
a stopped run to exactly the weights the uninterrupted run would have had.

The convolutional models see the data's images (8x8x1 digits, 28x28x1 MNIST); without options
they train with their recipe (RECIPES: optimizer, learning rate, schedule, epochs, augmentation),
with which the resnet reaches 98.5%+ on the embedded digits (examples/train_cnn_digits.py)."""
import functools
import math
import sys
import time
from pathlib import Path

from ..io.modelfile import conv_spec
from ..train import count_params, evaluate, fit, format_table, make_optimizer, make_scheduler
from .common import (CLIError, StepEveryBatch, add_common, add_training, check_npz, check_out, data_spec, dispatch,
                     int_list, load_data, positive_int, setup)

SCHEDULES = ("none", "cosine", "step", "onecycle")

# A resumed run keeps these; giving one on the command line that differs from the checkpoint's is an error.
SETTINGS = ("data", "model", "hidden", "activation", "width", "channels", "augment", "batch_size", "lr", "momentum",
            "optimizer", "weight_decay", "schedule", "seed")


def _image_shape(n_features):
    side = math.isqrt(n_features)
    if side * side != n_features:
        raise CLIError(f"the convolutional models need square images; the data has {n_features} features")
    return 1, side, side


# --model name -> its description (tinynn.io.modelfile) from the options, the data's features and classes
MODELS = {
    "mlp": lambda a, n, k: {"arch": "mlp", "sizes": [n, *a.hidden, k], "activation": a.activation},
    "lenet": lambda a, n, k: conv_spec("lenet", _image_shape(n), num_classes=k, in_channels=1,
                                       input_size=_image_shape(n)[1], width=a.width),
    "resnet": lambda a, n, k: conv_spec("resnet", _image_shape(n), block_channels=a.channels, num_classes=k,
                                        in_channels=1, blocks=1),
    "lstm": lambda a, n, k: conv_spec("lstm", _image_shape(n), row_size=_image_shape(n)[2], rows=_image_shape(n)[1],
                                      hidden_size=a.hidden[0], num_classes=k),
    "transformer": lambda a, n, k: conv_spec("transformer", _image_shape(n), input_dim=_image_shape(n)[2],
                                             seq_len=_image_shape(n)[1], num_classes=k, d_model=64, nhead=4,
                                             num_layers=2, dim_feedforward=128),
}
# the defaults of a model, where they differ from the options' defaults (given options win)
RECIPES = {
    # measured on the digits: lenet 98.05% (seed 0; random shifts or affine maps cost it 3-4 points on
    # these 8x8 images), resnet 98.89%, 99.16%, 99.72%, 99.72% (seeds 0..3, examples/train_cnn_digits.py;
    # at 20 epochs one seed of four stayed at 98.05%)
    "lenet": {"optimizer": "adamw", "lr": 3e-3, "weight_decay": 5e-4, "schedule": "onecycle", "epochs": 30,
              "batch_size": 64, "augment": "none", "width": 2},
    "resnet": {"optimizer": "adamw", "lr": 3e-3, "weight_decay": 5e-4, "schedule": "onecycle", "epochs": 30,
               "batch_size": 64, "augment": "affine"},
    # an LSTM reading the image row by row (examples/train_lstm_digits.py): 97.49-98.89% over seeds 0..2
    "lstm": {"hidden": [64], "optimizer": "adam", "lr": 0.01, "schedule": "cosine", "epochs": 12},
    # the encoder over the image's rows (examples/digits_transformer.py): 97.49%, 98.05%, 98.05% (seeds 0..2, 11 s)
    "transformer": {"optimizer": "adamw", "lr": 2e-3, "weight_decay": 0.05, "schedule": "onecycle", "epochs": 40,
                    "batch_size": 64},
}
AUGMENTATIONS = ("none", "shift", "affine")


def augmentation(name, shape):
    """The training-time transform of --augment: nothing, a random shift of up to 1 pixel, or a
    random affine map (rotation up to 10 degrees, translation up to 1/8 of the side, scale 0.9-1.1)."""
    from ..data import transforms as T

    image_shape = shape[1:]
    if name == "shift":
        return T.RandomShift(1, image_shape=image_shape)
    if name == "affine":
        return T.RandomAffine(10, translate=(0.125, 0.125), scale=(0.9, 1.1), interpolation="bilinear",
                              image_shape=image_shape)
    return None


def add_parser(sub):
    t = sub.add_parser("train", help="train a model and save it as one .npz", description=__doc__)
    add_common(t)
    add_training(t, epochs=15)
    t.add_argument("--model", choices=tuple(MODELS), default="mlp", help="architecture (default mlp; lenet, resnet, "
                   "lstm and transformer (both reading the image row by row) default to their recipe)")
    t.add_argument("--mnist", metavar="DIR", help="train on MNIST from the IDX files in DIR (= --data mnist --data-dir DIR)")
    t.add_argument("--hidden", type=int_list, default=[128, 64], help="mlp: hidden layer sizes (default 128,64)")
    t.add_argument("--activation", choices=("relu", "tanh", "sigmoid"), default="relu", help="mlp: (default relu)")
    t.add_argument("--width", type=positive_int, default=1,
                   help="lenet: channel multiplier (1: 6 and 16 channels; default 1, the recipe 2)")
    t.add_argument("--channels", type=int_list, default=[8, 16, 32], help="resnet: channels of the stages "
                   "(default 8,16,32)")
    t.add_argument("--augment", choices=AUGMENTATIONS, default="none", help="training-time augmentation "
                   "(default none; the conv models' recipe: affine)")
    t.add_argument("--schedule", choices=SCHEDULES, default="none",
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
        if key not in saved:  # a checkpoint of an older tinynn: an MLP without augmentation
            continue
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


def _show(value):
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def _apply_recipe(args):
    """--mnist DIR as --data mnist --data-dir DIR; the model's recipe for the options not given."""
    given = getattr(args, "given", set())
    if args.mnist:
        args.data, args.data_dir = "mnist", args.mnist
        args.given = given = {*given, "data", "data_dir"}
    for key, value in RECIPES.get(args.model, {}).items():
        if key not in given:
            setattr(args, key, value)


def _scheduler(args, opt, steps_per_epoch):
    if args.schedule != "onecycle":
        return make_scheduler(args.schedule, opt, args.epochs), False
    from ..optim.lr_scheduler import OneCycleLR

    return OneCycleLR(opt, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch), True


def _train(args, dist):
    import tinynn as tn
    from ..io.modelfile import build_float, describe, save_model
    from ..models import Augmented
    from ..random import generator

    rank = dist.rank() if dist is not None else 0
    say = functools.partial(print, flush=True) if rank == 0 and not args.quiet else lambda *a, **k: None
    setup(args)
    ckpt = _resume(args) if args.resume else None
    if ckpt is None:
        _apply_recipe(args)
    if args.data_dir:  # recorded in the checkpoint and the model file: absolute, to be found from anywhere
        args.data_dir = str(Path(args.data_dir).resolve())
    X, y, Xt, yt = load_data(args.data, args.data_dir)
    n_classes = int(max(y.max(), yt.max())) + 1
    spec = MODELS[args.model](args, X.shape[1], n_classes)
    model = net = build_float(spec)
    transform = augmentation(args.augment, spec.get("input_shape", (1, *_image_shape(X.shape[1])[1:])))
    if transform is not None:
        net = Augmented(model, transform)
    sampler = None
    if dist is not None and dist.world_size() > 1:
        from ..data import TensorDataset

        net = dist.DistributedDataParallel(net)
        sampler = dist.DistributedSampler(TensorDataset(X, y), shuffle=True, seed=args.seed)
    opt = make_optimizer(args.optimizer, net.parameters(), args.lr, args.momentum, args.weight_decay)
    args.lr = opt.param_groups[0]["lr"]  # the optimizer's default when --lr was not given
    scheduler, per_step = _scheduler(args, opt, -(-len(X) // args.batch_size))
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

    kind = f"MLP ({args.activation})" if args.model == "mlp" else f"({args.augment} augmentation)"
    say(f"training {describe(spec)} {kind} on {args.data}: {len(X)} train / "
        f"{len(Xt)} test samples, {args.optimizer} lr={args.lr}"
        + (f", {args.schedule} schedule" if args.schedule != "none" else "") + f", batch {args.batch_size}, "
        f"{args.epochs} epochs" + (f", {dist.world_size()} ranks" if sampler is not None else ""))
    start = time.perf_counter()
    try:
        fit(net, StepEveryBatch(opt, scheduler) if per_step else opt, X, y, epochs=args.epochs,
            batch_size=args.batch_size, start_epoch=start_epoch, scheduler=None if per_step else scheduler,
            sampler=sampler, eval_data=(Xt, yt), quiet=args.quiet or rank != 0,
            history=history, after_epoch=save_checkpoint)
    except KeyboardInterrupt:
        if rank == 0 and not args.no_checkpoint and Path(checkpoint).exists():
            print(f"interrupted; continue with: tinynn train --resume {checkpoint}", file=sys.stderr)
        raise
    seconds = time.perf_counter() - start
    result = evaluate(model, Xt, yt)
    if rank == 0:
        save_model(model, out, {**spec, **data_spec(args),
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
