"""The `tinynn` command (also `python -m tinynn`).

    tinynn demo                         train, evaluate, prune, quantize, distil; one table at the end
    tinynn train --epochs 15 --out model.npz
    tinynn evaluate model.npz
    tinynn prune model.npz --amount 0.8 --out pruned.npz
    tinynn quantize model.npz --out model-int8.npz
    tinynn distill model.npz --hidden 32 --out student.npz
    tinynn bench                        the scripts in benchmarks/ (or a built-in kernel timing)
    tinynn info                         version, backend, SIMD, OpenMP, threads, NumPy and BLAS

Models are single .npz files (tinynn.io.modelfile): the weights plus a JSON description of the
network, so every command that reads a model needs nothing but the file. Errors a user can make
(unknown data set, missing or corrupt file, a bad number) end with one line on stderr and a
non-zero exit status; set TINYNN_DEBUG=1 to see the traceback instead.

The building blocks (`load_data`, `fit`, `evaluate`, `latency_ms`, `format_table`) are plain
functions so that `tinynn.demo` and your own scripts can reuse them.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

EXIT_USAGE = 2      # bad arguments (argparse's convention)
EXIT_FAILURE = 1    # a file or data set that cannot be used
EXIT_INTERRUPTED = 130


class CLIError(Exception):
    """An error the user can fix; printed as one line, no traceback."""


# ============================================================== argument types
def _number(kind, check, what):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if isinstance(value, float) and not math.isfinite(value) or not check(value):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    parse.__name__ = what  # argparse names the type in its messages
    return parse


positive_int = _number(int, lambda v: v > 0, "a positive integer")
nonneg_int = _number(int, lambda v: v >= 0, "a non-negative integer")
positive_float = _number(float, lambda v: v > 0, "a positive number")
nonneg_float = _number(float, lambda v: v >= 0, "a non-negative number")
fraction = _number(float, lambda v: 0 <= v < 1, "a fraction in [0, 1)")
unit_interval = _number(float, lambda v: 0 <= v <= 1, "a number in [0, 1]")


def int_list(text):
    """'128,64' -> [128, 64] (empty string -> [])."""
    try:
        values = [int(t) for t in text.replace(" ", "").split(",") if t]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers like 128,64, got {text!r}") from None
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers like 128,64, got {text!r}")
    return values


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is ONE line on stderr (and `--help` lists the subcommands)."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# ============================================================== console output
def _is_tty(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def say(*args, **kwargs):
    """print() on rank 0 only (every process of a `--distributed` job runs the same code)."""
    if _RANK == 0:
        print(*args, **kwargs, flush=True)


_RANK = 0


def format_table(headers, rows, align=None):
    """A plain-text table: `headers` and `rows` of strings; numbers right-aligned, text left."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) if cells else len(str(h)) for i, h in enumerate(headers)]
    align = align or ["<"] + [">"] * (len(headers) - 1)
    line = lambda row: "  ".join(f"{c:{a}{w}}" for c, a, w in zip(row, align, widths)).rstrip()
    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line([str(h) for h in headers]), rule] + [line(r) for r in cells])


class Progress:
    """Training progress. On a terminal: one tqdm bar over all steps with loss and accuracy.
    Otherwise (a pipe, a log file, CI): no bar at all, one plain line per epoch (at most about ten
    per run: the first, every ceil(epochs/10)-th and the last) -- never a spam of carriage returns. `quiet` silences both; only rank 0 ever prints."""

    def __init__(self, total, desc, quiet=False, stream=None, epochs=None):
        self.stream = stream or sys.stderr
        self.quiet = quiet or _RANK != 0
        self.bar = None
        if not self.quiet and _is_tty(self.stream):
            from tqdm.auto import tqdm  # lazily: `import tinynn` never pays for tqdm

            self.bar = tqdm(total=total, desc=desc, unit="step", dynamic_ncols=True, leave=True,
                            file=self.stream, mininterval=0.1)
        self.desc = desc
        self.current = f"1/{epochs}" if epochs else "1"

    def step(self, loss, acc):
        """One optimizer step done; `loss` and `acc` are the running means of the epoch so far."""
        if self.bar is not None:
            self.bar.update(1)
            if self.bar.n % 8 == 0:
                self.bar.set_postfix_str(f"epoch {self.current}  loss {loss:.4f}  acc {acc:.1%}{self.test}",
                                         refresh=False)

    current, test = "1", ""

    def epoch(self, record, epochs):
        """Epoch `record` (fit()'s history entry) done: update the bar, or print one line."""
        parts = [f"loss {record['loss']:.4f}", f"train acc {record['train_acc']:.1%}"]
        if record.get("test_acc") is not None:
            parts.append(f"test acc {record['test_acc']:.1%}")
            self.test = f"  test acc {record['test_acc']:.1%}"
        self.current = f"{min(record['epoch'] + 1, epochs)}/{epochs}"
        if self.bar is not None:
            self.bar.set_postfix_str(f"epoch {record['epoch']}/{epochs}  " + "  ".join(parts))
        elif not self.quiet and (record["epoch"] % max(1, -(-epochs // 10)) == 0 or record["epoch"] == epochs
                                 or record["epoch"] == 1):
            print(f"{self.desc}: epoch {record['epoch']:>3}/{epochs}  " + "  ".join(parts)
                  + f"  ({record['seconds']:.2f} s)", flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()


# ============================================================== data, training, evaluation
DATASETS = ("digits", "mnist")


def load_data(name, data_dir=None):
    """(X_train, y_train, X_test, y_test) of the named data set; CLIError if it cannot be had."""
    from . import datasets

    if name == "digits":
        return datasets.load_digits()
    if name == "mnist":
        if not data_dir:
            raise CLIError("--data mnist needs --data-dir DIR, a folder with the four MNIST IDX files "
                           "(train-images-idx3-ubyte[.gz], ...); nothing is downloaded")
        if not Path(data_dir).is_dir():
            raise CLIError(f"--data-dir {data_dir}: no such folder")
        try:
            return datasets.load_mnist(data_dir)
        except FileNotFoundError as exc:
            raise CLIError(str(exc)) from None
    raise CLIError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")


def _check_features(spec, X, data, path):
    if spec["sizes"][0] != X.shape[1]:
        raise CLIError(f"{path} expects {spec['sizes'][0]} input features but --data {data} has {X.shape[1]}")
    if spec["sizes"][-1] < 10 and data in DATASETS:
        raise CLIError(f"{path} has {spec['sizes'][-1]} outputs but --data {data} has 10 classes")


def predict(model, X, batch_size=256):
    """Logits of `model` for the rows of X, in eval mode, without building a graph."""
    from . import no_grad, tensor

    was_training = getattr(model, "training", False)
    model.eval()
    out = []
    with no_grad():
        for i in range(0, len(X), batch_size):
            out.append(model(tensor(X[i:i + batch_size])).data)
    if was_training:
        model.train()
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def evaluate(model, X, y, batch_size=256):
    """{"accuracy", "loss" (mean cross-entropy), "confusion" (true x predicted counts)} on (X, y)."""
    logits = predict(model, X, batch_size).astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    pred = logits.argmax(axis=1)
    k = logits.shape[1]
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (y, pred), 1)
    return {"accuracy": float((pred == y).mean()), "loss": float(-logp[np.arange(len(y)), y].mean()),
            "confusion": confusion}


def count_params(model, nonzero=False):
    """Number of parameter values of `model` (weights and biases; int8 ones of a quantized model
    too), or only the non-zero ones."""
    total = 0
    for name, a in model.state_dict().items():
        a = np.asarray(a)
        if a.dtype.kind in "fi" and (name.endswith("weight") or name.endswith("bias")):
            total += int(np.count_nonzero(a)) if nonzero else a.size
    return total


def model_bytes(model):
    """Bytes of stored parameters: quantize.model_size when available, else the state's arrays."""
    try:
        from .compress import quantize

        return int(quantize.model_size(model))
    except ImportError:
        return int(sum(np.asarray(a).nbytes for a in model.state_dict().values()))


def latency_ms(models, n_features, batch=256, rounds=30, warmup=3, threads=None):
    """Median wall time in ms of one forward pass (no graph) of a batch of `batch` random rows,
    for one model or a list of models, with `threads` kernel threads (default: as set).

    Several models are timed round-robin (each round runs every model once), so a busy spell of
    the machine hits them all alike and their ratios stay meaningful."""
    from . import get_num_threads, no_grad, set_num_threads, tensor

    single = not isinstance(models, (list, tuple))
    models = [models] if single else list(models)
    x = tensor(np.random.default_rng(0).random((batch, n_features), dtype=np.float32))
    for m in models:
        m.eval()
    times = [[] for _ in models]
    previous = get_num_threads()
    if threads:
        set_num_threads(threads)
    try:
        with no_grad():
            for r in range(warmup + rounds):
                for m, t in zip(models, times):
                    start = time.perf_counter()
                    m(x)
                    if r >= warmup:
                        t.append(time.perf_counter() - start)
    finally:
        set_num_threads(previous)
    result = [1e3 * statistics.median(t) for t in times]
    return result[0] if single else result


def make_optimizer(name, params, lr, momentum=0.9, weight_decay=0.0):
    from . import optim

    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    raise CLIError(f"unknown optimizer {name!r}")


def make_scheduler(name, opt, epochs):
    from .optim import lr_scheduler

    if name == "none":
        return None
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    if name == "step":
        return lr_scheduler.StepLR(opt, step_size=max(1, epochs // 3), gamma=0.1)
    raise CLIError(f"unknown learning-rate schedule {name!r}")


def fit(model, opt, X, y, *, epochs, batch_size, start_epoch=0, scheduler=None, loss_fn=None,
        sampler=None, eval_data=None, desc="train", quiet=False, history=None, after_epoch=None):
    """Train `model` for epochs start_epoch+1 .. epochs with mini-batches of `batch_size`.

    Each step: loss = loss_fn(model(x), y, x) (default: cross-entropy), backward, opt.step().
    The order of the samples comes from tinynn's generator (so tn.manual_seed, or restoring the
    generator's state, fixes it) unless `sampler` (e.g. a DistributedSampler) gives it. After each
    epoch: scheduler.step(), test accuracy on `eval_data`, a record {epoch, loss, train_acc,
    test_acc, seconds} appended to `history`, then `after_epoch(epoch)` (checkpointing).
    Returns the history."""
    from . import nn
    from .data import DataLoader, TensorDataset

    history = [] if history is None else history
    if loss_fn is None:
        ce = nn.CrossEntropyLoss()
        loss_fn = lambda out, target, inputs: ce(out, target)
    loader = DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=sampler is None, sampler=sampler)
    progress = Progress(max(0, epochs - start_epoch) * len(loader), desc, quiet=quiet, epochs=epochs)
    try:
        for epoch in range(start_epoch, epochs):
            if sampler is not None and hasattr(sampler, "set_epoch"):
                sampler.set_epoch(epoch)
            model.train()
            start = time.perf_counter()
            total_loss, correct, seen = 0.0, 0, 0
            for xb, yb in loader:
                opt.zero_grad()
                out = model(xb)
                loss = loss_fn(out, yb, xb)
                loss.backward()
                opt.step()
                n = len(yb.data)
                total_loss += loss.item() * n
                correct += int((out.data.argmax(axis=1) == yb.data).sum())
                seen += n
                progress.step(loss=total_loss / seen, acc=correct / seen)
            if getattr(sampler, "num_replicas", 1) > 1:  # a DistributedSampler: report over all ranks
                from . import distributed

                total_loss, correct, seen = distributed.all_reduce(np.array([total_loss, correct, seen], dtype=np.float64))
            if scheduler is not None:
                scheduler.step()
            record = {"epoch": epoch + 1, "loss": total_loss / max(seen, 1), "train_acc": correct / max(seen, 1),
                      "test_acc": None, "seconds": time.perf_counter() - start}
            if eval_data is not None:
                record["test_acc"] = evaluate(model, *eval_data)["accuracy"]
            history.append(record)
            progress.epoch(record, epochs)
            if after_epoch is not None:
                after_epoch(epoch + 1)
    finally:
        progress.close()
    return history


# ============================================================== shared options
def _setup(args):
    """Apply --seed, --backend, --threads."""
    import tinynn as tn

    if getattr(args, "backend", None):
        try:
            tn.set_backend(args.backend)
        except RuntimeError as exc:
            raise CLIError(str(exc)) from None
    if getattr(args, "threads", None):
        tn.set_num_threads(args.threads)
    if getattr(args, "seed", None) is not None:
        tn.manual_seed(args.seed)


def _add_common(p, data=True, seed=True):
    if data:
        p.add_argument("--data", choices=DATASETS, default="digits",
                       help="data set: the embedded 8x8 digits (default) or MNIST from --data-dir")
        p.add_argument("--data-dir", metavar="DIR", help="folder with the MNIST IDX files (for --data mnist)")
    if seed:
        p.add_argument("--seed", type=nonneg_int, default=0, help="random seed (default 0)")
    p.add_argument("--backend", choices=("cython", "numpy"), help="kernel backend (default: cython when built)")
    p.add_argument("--threads", type=positive_int, help="threads for the compiled kernels (default: all cores)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")


def _add_training(p, epochs, lr, batch_size=32):
    p.add_argument("--epochs", type=positive_int, default=epochs, help=f"passes over the training set (default {epochs})")
    p.add_argument("--batch-size", type=positive_int, default=batch_size, help=f"mini-batch size (default {batch_size})")
    p.add_argument("--lr", type=positive_float, default=lr, help=f"learning rate (default {lr})")
    p.add_argument("--momentum", type=nonneg_float, default=0.9, help="SGD momentum (default 0.9)")
    p.add_argument("--optimizer", choices=("sgd", "adam", "adamw"), default="sgd", help="optimizer (default sgd)")
    p.add_argument("--weight-decay", type=nonneg_float, default=0.0, help="L2 weight decay (default 0)")


def _check_npz(path, what="a model .npz file written by tinynn"):
    p = Path(path)
    if not p.exists():
        raise CLIError(f"{path}: no such file")
    if p.is_dir():
        raise CLIError(f"{path}: is a folder, expected {what}")
    with open(p, "rb") as f:
        magic = f.read(4)
    if magic not in (b"PK\x03\x04", b"PK\x05\x06"):
        raise CLIError(f"{path}: not an .npz archive (expected {what})")


def _load_model(path):
    from .io.modelfile import ModelFileError, load_model

    _check_npz(path)
    try:
        return load_model(path)
    except ModelFileError as exc:
        raise CLIError(str(exc).removeprefix("load: ")) from None
    except ImportError as exc:
        raise CLIError(f"{path} needs a part of tinynn this installation lacks: {exc}") from None


def _check_out(path):
    folder = Path(path).resolve().parent
    if not folder.is_dir():
        raise CLIError(f"--out {path}: folder {folder} does not exist")
    return path


# ============================================================== train
def _rng_state():
    from .random import generator

    return generator().bit_generator.state


def _set_rng_state(state):
    from .random import generator

    generator().bit_generator.state = state


def cmd_train(args):
    """Train an MLP, save it (and, every epoch, a resumable checkpoint)."""
    global _RANK
    import tinynn as tn
    from .io.modelfile import mlp, save_model

    dist = None
    if args.distributed:
        dist = _distributed()
        _RANK = dist.rank()
    _setup(args)
    ckpt = None
    if args.resume:
        ckpt = _read_checkpoint(args.resume)
        saved = ckpt["args"]
        # The run continues with its own settings; only --epochs (to extend it), --out and
        # --checkpoint may be changed on the command line.
        for key in ("data", "data_dir", "hidden", "activation", "batch_size", "lr", "momentum", "optimizer",
                    "weight_decay", "schedule", "seed"):
            setattr(args, key, saved[key])
        if args.epochs_given is None:
            args.epochs = saved["epochs"]
        if args.epochs < ckpt["epoch"]:
            raise CLIError(f"--epochs {args.epochs} is less than the {ckpt['epoch']} epochs {args.resume} has done")
        if args.epochs != saved["epochs"] and args.schedule != "none":
            raise CLIError(f"--epochs cannot change on --resume with --schedule {args.schedule} (the schedule spans "
                           f"the {saved['epochs']} epochs the run was started with)")
    X, y, Xt, yt = load_data(args.data, args.data_dir)
    n_classes = int(max(y.max(), yt.max())) + 1
    sizes = [X.shape[1], *args.hidden, n_classes]
    model = mlp(sizes, args.activation)
    net = model
    sampler = None
    if dist is not None and dist.world_size() > 1:
        from .data import TensorDataset

        net = dist.DistributedDataParallel(model)
        sampler = dist.DistributedSampler(TensorDataset(X, y), shuffle=True, seed=args.seed)
    opt = make_optimizer(args.optimizer, net.parameters(), args.lr, args.momentum, args.weight_decay)
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
        _set_rng_state(ckpt["rng"])
        history, start_epoch = list(ckpt["history"]), int(ckpt["epoch"])
        if not args.quiet:
            say(f"resuming {args.resume} at epoch {start_epoch}/{args.epochs}")
    if args.out is None:  # a resumed run writes where it was going to (and keeps its checkpoint file)
        args.out = ckpt["out"] if ckpt is not None and ckpt.get("out") else "model.npz"
        if ckpt is not None and not args.checkpoint:
            args.checkpoint = args.resume
    out = _check_out(args.out)
    checkpoint = args.checkpoint or str(Path(out).with_suffix("")) + ".ckpt.npz"
    if args.checkpoint:
        _check_out(checkpoint)
    settings = {k: getattr(args, k) for k in ("data", "data_dir", "hidden", "activation", "batch_size", "lr",
                                               "momentum", "optimizer", "weight_decay", "schedule", "seed", "epochs")}

    def save_checkpoint(epoch):
        if _RANK == 0 and not args.no_checkpoint:
            _write_checkpoint(epoch)
        for hook in EPOCH_HOOKS:
            hook(epoch)

    def _write_checkpoint(epoch):
        tn.save({"tinynn_checkpoint": 1, "epoch": epoch, "args": dict(settings), "out": str(out), "model": model.state_dict(),
                 "optimizer": opt.state_dict(), "scheduler": scheduler.state_dict() if scheduler else None,
                 "rng": _rng_state(), "history": history}, checkpoint)

    if not args.quiet:
        say(f"training {'-'.join(map(str, sizes))} MLP ({args.activation}) on {args.data}: {len(X)} train / "
            f"{len(Xt)} test samples, {args.optimizer} lr={args.lr}, batch {args.batch_size}, {args.epochs} epochs"
            + (f", {dist.world_size()} ranks" if sampler is not None else ""))
    start = time.perf_counter()
    try:
        fit(net, opt, X, y, epochs=args.epochs, batch_size=args.batch_size, start_epoch=start_epoch,
            scheduler=scheduler, sampler=sampler, eval_data=(Xt, yt), quiet=args.quiet, history=history,
            after_epoch=save_checkpoint)
    except KeyboardInterrupt:
        if _RANK == 0 and not args.no_checkpoint and Path(checkpoint).exists():
            print(f"interrupted; continue with: tinynn train --resume {checkpoint}", file=sys.stderr)
        raise
    seconds = time.perf_counter() - start
    result = evaluate(model, Xt, yt)
    if _RANK == 0:
        save_model(model, out, {"sizes": sizes, "activation": args.activation, "data": args.data,
                                "trained": {**settings, "test_accuracy": result["accuracy"]}})
    if not args.quiet:
        say(format_table(["model", "test accuracy", "test loss", "parameters", "train time"],
                         [[out, f"{result['accuracy']:.2%}", f"{result['loss']:.4f}", f"{count_params(model):,}",
                           f"{seconds:.1f} s"]]))
        if not args.no_checkpoint:
            say(f"saved {out} (checkpoint: {checkpoint})")
    if args.plot:
        from . import plots

        if _RANK == 0:
            for f in (plots.training_curves(history, args.plot), plots.confusion_matrix(result["confusion"], args.plot)):
                say(f"wrote {f}")
    return 0


EPOCH_HOOKS = []  # callables(epoch) run after each epoch's checkpoint (tests use one to simulate a crash)


def _read_checkpoint(path):
    import tinynn as tn

    _check_npz(path, "a checkpoint written by `tinynn train`")
    try:
        ckpt = tn.load(path)
    except ValueError as exc:
        raise CLIError(str(exc).removeprefix("load: ")) from None
    needed = {"tinynn_checkpoint", "epoch", "args", "model", "optimizer", "rng", "history"}
    if not needed <= set(ckpt):
        raise CLIError(f"{path}: not a training checkpoint (written by `tinynn train`; a model file cannot be resumed)")
    return ckpt


def _distributed():
    try:
        from . import distributed
    except ImportError as exc:
        raise CLIError(f"--distributed needs tinynn.distributed and mpi4py ({exc}); "
                       "install with: pip install 'tinynn-scratch[mpi]'") from None
    return distributed


# ============================================================== evaluate
def cmd_evaluate(args):
    """Accuracy, loss and the confusion matrix of a saved model on a test set."""
    _setup(args)
    model, spec = _load_model(args.model)
    _, _, Xt, yt = load_data(args.data, args.data_dir)
    _check_features(spec, Xt, args.data, args.model)
    result = evaluate(model, Xt, yt, batch_size=args.batch_size)
    kind = "int8 (" + spec["quantized"].get("method", "dynamic") + ")" if spec.get("quantized") else "float32"
    print(format_table(["model", "architecture", "weights", "test accuracy", "test loss", "parameters", "size"],
                       [[args.model, "-".join(map(str, spec["sizes"])), kind, f"{result['accuracy']:.2%}",
                         f"{result['loss']:.4f}", f"{count_params(model):,}", f"{model_bytes(model) / 1024:.1f} KB"]]))
    if args.confusion:
        c = result["confusion"]
        print("\nconfusion matrix (rows: true class, columns: predicted)")
        print(format_table([""] + [str(j) for j in range(c.shape[1])],
                           [[str(i)] + [str(v) for v in row] for i, row in enumerate(c)]))
    if args.json:
        Path(args.json).write_text(json.dumps({"model": args.model, "accuracy": result["accuracy"],
                                               "loss": result["loss"], "confusion": result["confusion"].tolist()}))
    if args.plot:
        from . import plots

        print(f"wrote {plots.confusion_matrix(result['confusion'], args.plot)}")
    return 0


def _compression(name):
    import importlib

    try:
        return importlib.import_module(f"tinynn.compress.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"tinynn.compress.{name}":
            raise
        raise CLIError(f"tinynn.{name} is not part of this installation of tinynn") from None


# ============================================================== prune
def cmd_prune(args):
    """Magnitude pruning (+ fine-tuning): unstructured weights, or whole neurons (then shrunk)."""
    from .io.modelfile import linear_sizes, save_model

    _setup(args)
    model, spec = _load_model(args.model)
    prune = _compression("prune")
    if spec.get("quantized"):
        raise CLIError(f"{args.model} is quantized; prune the float model, then quantize")
    X, y, Xt, yt = load_data(args.data, args.data_dir)
    _check_features(spec, X, args.data, args.model)
    out = _check_out(args.out)
    before = evaluate(model, Xt, yt)["accuracy"]
    n_before = count_params(model)
    prune.magnitude(model, args.amount, scope=args.scope, structured=args.structured)
    pruned_acc = evaluate(model, Xt, yt)["accuracy"]
    if args.finetune_epochs:
        opt = make_optimizer("sgd", model.parameters(), args.lr, momentum=0.9)
        fit(model, opt, X, y, epochs=args.finetune_epochs, batch_size=args.batch_size, desc="fine-tune",
            quiet=args.quiet)
    sparsity = prune.sparsity(model)
    prune.remove(model)
    if args.structured:
        model = prune.shrink(model)
    model.eval()
    after = evaluate(model, Xt, yt)["accuracy"]
    sizes = linear_sizes(model)
    save_model(model, out, {**{k: v for k, v in spec.items() if k not in ("format", "version")}, "sizes": sizes,
                            "pruned": {"amount": args.amount, "scope": args.scope, "structured": args.structured,
                                       "sparsity": sparsity, "finetune_epochs": args.finetune_epochs}},
               compress=True)
    rows = [["before", "-".join(map(str, spec["sizes"])), f"{before:.2%}", f"{n_before:,}", "0.0%"],
            ["pruned", "-".join(map(str, spec["sizes"])), f"{pruned_acc:.2%}", "", f"{sparsity:.1%}"],
            [f"fine-tuned{' + shrunk' if args.structured else ''}", "-".join(map(str, sizes)), f"{after:.2%}",
             f"{count_params(model, nonzero=True):,}", f"{1 - count_params(model, nonzero=True) / n_before:.1%}"]]
    print(format_table(["model", "architecture", "test accuracy", "non-zero params", "pruned"], rows))
    print(f"saved {out} ({Path(out).stat().st_size / 1024:.1f} KB on disk, compressed)")
    return 0


# ============================================================== quantize
def cmd_quantize(args):
    """Post-training int8 quantization (dynamic, or static with calibration batches)."""
    from . import tensor
    from .io.modelfile import save_model

    _setup(args)
    model, spec = _load_model(args.model)
    quantize = _compression("quantize")
    if spec.get("quantized"):
        raise CLIError(f"{args.model} is already quantized")
    X, _, Xt, yt = load_data(args.data, args.data_dir)
    _check_features(spec, X, args.data, args.model)
    out = _check_out(args.out)
    if args.method == "static":
        from .random import generator

        idx = generator().permutation(len(X))[: args.calibration_batches * 32]
        calib = [tensor(X[idx[i:i + 32]]) for i in range(0, len(idx), 32)]
        qmodel = quantize.quantize_static(model, calib, observer=args.observer)
    else:
        qmodel = quantize.quantize_dynamic(model)
    qmodel.eval()
    rows = []
    for name, m in (("float32", model), (f"int8 ({args.method})", qmodel)):
        rows.append([name, f"{evaluate(m, Xt, yt)['accuracy']:.2%}", f"{model_bytes(m) / 1024:.1f} KB",
                     f"{latency_ms(m, X.shape[1]):.3f} ms"])
    q = {"method": args.method}
    if args.method == "static":
        q["observer"] = args.observer
    save_model(qmodel, out, {**{k: v for k, v in spec.items() if k not in ("format", "version")}, "quantized": q})
    print(format_table(["model", "test accuracy", "size", "batch-256 latency"], rows))
    print(f"saved {out}")
    return 0


# ============================================================== distill
def cmd_distill(args):
    """Train a small student to match a teacher's softened outputs (knowledge distillation)."""
    from .io.modelfile import mlp, save_model

    _setup(args)
    teacher, spec = _load_model(args.teacher)
    distill = _compression("distill")
    X, y, Xt, yt = load_data(args.data, args.data_dir)
    _check_features(spec, X, args.data, args.teacher)
    out = _check_out(args.out)
    sizes = [spec["sizes"][0], *args.hidden, spec["sizes"][-1]]
    student = mlp(sizes, args.activation)
    teacher.eval()
    opt = make_optimizer(args.optimizer, student.parameters(), args.lr, args.momentum)
    from . import no_grad

    def kd(out, target, inputs):
        with no_grad():
            t = teacher(inputs)
        return distill.kd_loss(out, t, target, T=args.temperature, alpha=args.alpha)

    history = fit(student, opt, X, y, epochs=args.epochs, batch_size=args.batch_size, loss_fn=kd,
                  eval_data=(Xt, yt), desc="distill", quiet=args.quiet)
    t_acc, s_acc = evaluate(teacher, Xt, yt)["accuracy"], evaluate(student, Xt, yt)["accuracy"]
    save_model(student, out, {"sizes": sizes, "activation": args.activation, "data": args.data,
                              "distilled": {"teacher": str(args.teacher), "T": args.temperature, "alpha": args.alpha,
                                            "epochs": args.epochs, "test_accuracy": s_acc}})
    print(format_table(["model", "architecture", "test accuracy", "parameters"],
                       [["teacher", "-".join(map(str, spec["sizes"])), f"{t_acc:.2%}", f"{count_params(teacher):,}"],
                        ["student", "-".join(map(str, sizes)), f"{s_acc:.2%}", f"{count_params(student):,}"]]))
    print(f"saved {out}")
    del history
    return 0


# ============================================================== bench
QUICK_ARGS = {  # --quick: settings that finish in about a minute each
    "bench_train.py": ["--workloads", "digits", "--threads", "1", "--repeats", "3"],
    "bench_overhead.py": ["--rounds", "10"],
    "bench_distributed.py": ["--steps", "5", "--hidden", "512"],
    "bench_quantize.py": ["--repeats", "5"],
    "bench_elementwise.py": ["--n", "100000"],
    "bench_matmul.py": ["--threads", "1", "--min-time", "0.1"],
}


def benchmarks_dir():
    """benchmarks/ of the source checkout this tinynn comes from, or None (an installed copy has none)."""
    here = Path(__file__).resolve().parent.parent / "benchmarks"
    return here if here.is_dir() and any(here.glob("bench_*.py")) else None


def builtin_bench(sizes=(64, 128, 256, 512), repeats=15):
    """Median time of kernels.matmul vs numpy's matmul (float32, square n x n); rows for a table."""
    import tinynn as tn

    rows = []
    try:
        from . import kernels
    except ImportError:
        kernels = None
    rng = np.random.default_rng(0)
    for n in sizes:
        a, b = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
        t_np = _median_time(lambda: a @ b, repeats)
        t_k = _median_time(lambda: kernels.matmul(a, b), repeats) if kernels else float("nan")
        gflop = 2 * n ** 3 / 1e9
        rows.append([f"{n}x{n}x{n}", f"{t_k * 1e3:.3f}", f"{gflop / t_k:.1f}", f"{t_np * 1e3:.3f}",
                     f"{gflop / t_np:.1f}", f"{t_np / t_k:.2f}x"])
    del tn
    return rows


def _median_time(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cmd_bench(args):
    """Run benchmarks/*.py from the source checkout, else a built-in kernel timing."""
    import subprocess

    _setup(args)
    folder = Path(args.dir) if args.dir else benchmarks_dir()
    if args.dir and not folder.is_dir():
        raise CLIError(f"--dir {args.dir}: no such folder")
    scripts = sorted(folder.glob("bench_*.py")) if folder else []
    if args.builtin or not scripts:
        if not args.builtin:
            print("benchmarks/ not found (it is part of the source checkout, not of an installed tinynn); "
                  "running the built-in kernel timing instead")
        print(f"kernels.matmul vs numpy (float32, median of 15, {_threads_note()})")
        print(format_table(["size", "tinynn ms", "GFLOP/s", "numpy ms", "GFLOP/s", "tinynn speed-up"], builtin_bench()))
        return 0
    if args.names:
        known = {s.name: s for s in scripts} | {s.stem: s for s in scripts} | {s.stem[6:]: s for s in scripts}
        missing = [n for n in args.names if n not in known]
        if missing:
            raise CLIError(f"no benchmark named {', '.join(missing)}; available: {', '.join(s.stem for s in scripts)}")
        scripts = [known[n] for n in args.names]
    if args.list:
        for s in scripts:
            doc = _first_doc_line(s)
            print(f"{s.stem:<20} {doc}")
        return 0
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    status = 0
    for s in scripts:
        extra = list(args.script_args) + (QUICK_ARGS.get(s.name, []) if args.quick else [])
        print(f"$ python {s} {' '.join(extra)}".rstrip(), flush=True)
        # cwd=the script's folder: the tinynn imported is this one (PYTHONPATH), not another checkout's
        rc = subprocess.run([sys.executable, str(s), *extra], cwd=s.parent, env=env).returncode
        if rc != 0:
            print(f"tinynn bench: {s.name} exited with status {rc}", file=sys.stderr)
            status = EXIT_FAILURE
    return status


def _first_doc_line(path):
    import ast

    try:
        doc = ast.get_docstring(ast.parse(path.read_text()))
    except (SyntaxError, OSError):
        doc = None
    return " ".join(doc.strip().split("\n\n")[0].split()) if doc else ""


def _threads_note():
    import tinynn as tn

    return f"{tn.get_num_threads()} kernel threads"


# ============================================================== info
def info_rows():
    """[(name, value)] describing this installation."""
    import platform

    import tinynn as tn

    rows = [("tinynn", f"{tn.__version__} ({Path(tn.__file__).resolve().parent})"),
            ("python", f"{platform.python_version()} ({sys.executable})"),
            ("platform", f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs"),
            ("backend", tn.get_backend())]
    try:
        from . import kernels

        k = kernels.info()
        rows += [("kernels", "built"),
                 ("SIMD", f"{k.get('simd')} (CPU supports {k.get('simd_available', k.get('simd'))})"),
                 ("OpenMP", "yes" if k.get("openmp") else "no"),
                 ("kernel threads", str(tn.get_num_threads()))]
    except ImportError as exc:
        rows += [("kernels", f"not built ({exc}); the numpy backend is used")]
    rows.append(("numpy", f"{np.__version__}"))
    rows += _blas_rows()
    for mod in ("tqdm", "mpi4py", "matplotlib"):
        try:
            from importlib.metadata import version

            rows.append((mod, version(mod)))
        except Exception:
            rows.append((mod, "not installed"))
    return rows


def _blas_rows():
    try:
        from threadpoolctl import threadpool_info

        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            return [("BLAS", f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')}, "
                             f"{p.get('num_threads')} threads)") for p in pools]
    except ImportError:
        pass
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        if blas:
            return [("BLAS", f"{blas.get('name')} {blas.get('version', '')} (from numpy.show_config; "
                             "pip install threadpoolctl for threads)")]
    except (TypeError, AttributeError):
        pass
    return [("BLAS", "unknown (see numpy.show_config())")]


def cmd_info(args):
    """Print version, backend, SIMD level, OpenMP, threads, NumPy and BLAS."""
    rows = info_rows()
    if args.json:
        print(json.dumps(dict(rows), indent=2))
    else:
        width = max(len(k) for k, _ in rows)
        for k, v in rows:
            print(f"{k:<{width}}  {v}")
    return 0


# ============================================================== demo
def cmd_demo(args):
    from . import demo

    _setup(args)
    return demo.run(args)


# ============================================================== the parser
def build_parser():
    p = _Parser(prog="tinynn", description="tinynn: train, evaluate and compress small neural networks "
                "(a from-scratch deep-learning framework on NumPy with compiled kernels).",
                epilog="Run `tinynn COMMAND --help` for the options of a command. Start with `tinynn demo`.")
    import tinynn

    p.add_argument("--version", action="version", version=f"tinynn {tinynn.__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    d = sub.add_parser("demo", help="the tour: train, evaluate, prune, quantize, distil; one table",
                       description="Train the seed MLP 64-128-64-10 on the embedded digits with a progress bar, "
                       "evaluate it, prune + fine-tune it, quantize it to int8, distil a small student, and end "
                       "with one table of accuracy, size and latency -- every figure computed in this run.")
    _add_common(d)
    d.add_argument("--epochs", type=positive_int, default=15, help="training epochs (default 15)")
    d.add_argument("--plot", metavar="DIR", help="also write PNG figures to DIR (needs matplotlib: pip install 'tinynn-scratch[plot]')")
    d.add_argument("--out", metavar="DIR", help="also save every model of the table as .npz in DIR")
    d.add_argument("--latency-threads", type=positive_int, default=1, help="kernel threads for the latency "
                   "column (default 1: these models are too small to gain from more, and 1 thread measures "
                   "steadily on a busy machine)")
    d.set_defaults(func=cmd_demo)

    t = sub.add_parser("train", help="train an MLP and save it as one .npz",
                       description="Train a multilayer perceptron with cross-entropy. Every epoch a checkpoint "
                       "(model, optimizer, schedule, epoch, random state) is written, and --resume continues a "
                       "stopped run to exactly the result the uninterrupted run would have had.")
    _add_common(t)
    _add_training(t, epochs=15, lr=0.05)
    t.add_argument("--hidden", type=int_list, default=[128, 64], help="hidden layer sizes (default 128,64)")
    t.add_argument("--activation", choices=("relu", "tanh", "sigmoid"), default="relu", help="(default relu)")
    t.add_argument("--schedule", choices=("none", "cosine", "step"), default="none",
                   help="learning-rate schedule over the epochs (default none)")
    t.add_argument("--out", help="model file to write (default model.npz; on --resume, the resumed run's)")
    t.add_argument("--checkpoint", metavar="PATH", help="checkpoint file (default: OUT with .ckpt.npz)")
    t.add_argument("--no-checkpoint", action="store_true", help="write no checkpoint")
    t.add_argument("--resume", metavar="CKPT", help="continue the run saved in this checkpoint (its settings; "
                   "--epochs may extend it)")
    t.add_argument("--distributed", action="store_true", help="data-parallel over MPI ranks: "
                   "mpiexec -n N tinynn train --distributed (needs the [mpi] extra)")
    t.add_argument("--plot", metavar="DIR", help="write training curves and the confusion matrix as PNG to DIR")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="test accuracy of a saved model", description=cmd_evaluate.__doc__)
    e.add_argument("model", help="model .npz written by tinynn")
    _add_common(e, seed=False)
    e.add_argument("--batch-size", type=positive_int, default=256, help="(default 256)")
    e.add_argument("--confusion", action="store_true", help="print the confusion matrix")
    e.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    e.add_argument("--plot", metavar="DIR", help="write the confusion matrix as PNG to DIR")
    e.set_defaults(func=cmd_evaluate)

    pr = sub.add_parser("prune", help="magnitude pruning + fine-tuning", description=cmd_prune.__doc__)
    pr.add_argument("model", help="model .npz written by tinynn")
    _add_common(pr)
    pr.add_argument("--amount", type=fraction, default=0.8, help="fraction of weights (or neurons) to remove (default 0.8)")
    pr.add_argument("--scope", choices=("layer", "global"), default="global", help="rank weights per layer or over all layers (default global)")
    pr.add_argument("--structured", action="store_true", help="remove whole neurons (by L2 norm) and shrink the layers")
    pr.add_argument("--finetune-epochs", type=nonneg_int, default=5, help="epochs of fine-tuning after pruning (default 5)")
    pr.add_argument("--lr", type=positive_float, default=0.01, help="fine-tuning learning rate (default 0.01)")
    pr.add_argument("--batch-size", type=positive_int, default=32, help="(default 32)")
    pr.add_argument("--out", default="pruned.npz", help="(default pruned.npz)")
    pr.set_defaults(func=cmd_prune)

    q = sub.add_parser("quantize", help="int8 post-training quantization", description=cmd_quantize.__doc__)
    q.add_argument("model", help="model .npz written by tinynn")
    _add_common(q)
    q.add_argument("--method", choices=("dynamic", "static"), default="dynamic", help="(default dynamic)")
    q.add_argument("--observer", choices=("minmax", "percentile"), default="minmax", help="static: range observer (default minmax)")
    q.add_argument("--calibration-batches", type=positive_int, default=8, help="static: batches of 32 training samples (default 8)")
    q.add_argument("--out", default="model-int8.npz", help="(default model-int8.npz)")
    q.set_defaults(func=cmd_quantize)

    ds = sub.add_parser("distill", help="knowledge distillation into a small student", description=cmd_distill.__doc__)
    ds.add_argument("teacher", help="teacher model .npz written by tinynn")
    _add_common(ds)
    _add_training(ds, epochs=30, lr=0.05)
    ds.add_argument("--hidden", type=int_list, default=[32], help="student hidden sizes (default 32)")
    ds.add_argument("--activation", choices=("relu", "tanh", "sigmoid"), default="relu")
    ds.add_argument("--temperature", "-T", type=positive_float, default=4.0, help="softmax temperature T (default 4)")
    ds.add_argument("--alpha", type=unit_interval, default=0.9, help="weight of the distillation term (default 0.9)")
    ds.add_argument("--out", default="student.npz", help="(default student.npz)")
    ds.set_defaults(func=cmd_distill)

    b = sub.add_parser("bench", help="run the benchmarks", description="Run the scripts in benchmarks/ of the "
                       "source checkout (each prints its own table). An installed tinynn has no benchmarks/: then "
                       "a built-in timing of kernels.matmul against NumPy runs instead.",
                       epilog="Arguments after -- go to every script, e.g. tinynn bench overhead -- --repeats 10")
    b.add_argument("names", nargs="*", help="benchmarks to run, e.g. train overhead (default: all)")
    b.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    b.add_argument("--quick", action="store_true", help="small settings (about a minute per script)")
    b.add_argument("--builtin", action="store_true", help="run the built-in kernel timing only")
    b.add_argument("--dir", help="benchmarks folder (default: the checkout's benchmarks/)")
    _add_common(b, data=False, seed=False)
    b.set_defaults(func=cmd_bench, script_args=[])

    i = sub.add_parser("info", help="version, backend, SIMD, OpenMP, threads, NumPy/BLAS", description=cmd_info.__doc__)
    i.add_argument("--json", action="store_true", help="print as JSON")
    i.add_argument("--seed", type=nonneg_int, default=0, help=argparse.SUPPRESS)
    i.set_defaults(func=cmd_info)
    return p


def main(argv=None):
    """Entry point of the `tinynn` console script; returns the exit status."""
    argv = [os.fspath(a) if isinstance(a, os.PathLike) else str(a) for a in (sys.argv[1:] if argv is None else argv)]
    script_args = []
    if "--" in argv:  # tinynn bench NAME -- args for the scripts
        cut = argv.index("--")
        argv, script_args = argv[:cut], argv[cut + 1:]
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    if script_args:
        if args.command != "bench":
            print(f"tinynn {args.command}: error: unexpected arguments after --: {' '.join(script_args)}", file=sys.stderr)
            return EXIT_USAGE
        args.script_args = script_args
    if args.command == "train":
        args.epochs_given = args.epochs if "--epochs" in argv or any(a.startswith("--epochs=") for a in argv) else None
    code = _dispatch(args)
    if code and getattr(args, "distributed", False):
        from . import distributed

        try:
            ranks = distributed.world_size()
        except RuntimeError:  # MPI itself is unusable: nothing to abort
            ranks = 1
        if ranks > 1:  # the other ranks would wait for this one forever
            distributed.abort(code)
    return code


def _dispatch(args):
    """Run the command; turn the errors a user can fix into a message and an exit status."""
    try:
        return args.func(args) or 0
    except KeyboardInterrupt:
        print(f"tinynn {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_FAILURE
    except (CLIError, ValueError, OSError, ImportError) as exc:
        if os.environ.get("TINYNN_DEBUG"):
            raise
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, OSError) and exc.filename and str(exc.filename) not in message:
            message = f"{exc.filename}: {message}"
        print(f"tinynn {args.command}: error: {message}", file=sys.stderr)
        return EXIT_FAILURE
