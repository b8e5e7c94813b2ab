"""What the commands share: exit codes, the one-line error, argument types and options, data sets,
model files. Errors a user can fix are CLIError: one line on stderr, no traceback."""
import argparse
import math
import os
import sys
from pathlib import Path

EXIT_USAGE = 2      # bad arguments (argparse's convention)
EXIT_FAILURE = 1    # a file or data set that cannot be used
EXIT_INTERRUPTED = 130
DATASETS = ("digits", "mnist")


class CLIError(Exception):
    """An error the user can fix; printed as one line, no traceback."""


def dispatch(command, args):
    """command(args), with the errors a user can fix turned into one line on stderr and an exit status."""
    try:
        return command(args) or 0
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
    """'128,64' -> [128, 64]; an empty list or an empty item ('128,,64') is an error."""
    items = text.replace(" ", "").split(",")
    if not all(t.isdecimal() and int(t) > 0 for t in items):
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers like 128,64, got {text!r}")
    return [int(t) for t in items]


class _Given(argparse.Action):
    """argparse's `store`, also noting in args.given which options the command line gave (a resumed
    run tells a setting given from a default this way)."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        namespace.given = {*getattr(namespace, "given", ()), self.dest}


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is ONE line on stderr."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register("action", None, _Given)
        self.register("action", "store", _Given)

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def add_common(p, data=True):
    """--data/--data-dir (if `data`), --seed, --backend, --threads, -q."""
    if data:
        p.add_argument("--data", choices=DATASETS, default="digits", help="data set: the embedded 8x8 digits "
                       "(default; a model's commands default to the set recorded in its file) or MNIST")
        p.add_argument("--data-dir", metavar="DIR", help="folder with the MNIST IDX files (for --data mnist; "
                       "a model file records it, give it again only if the files moved)")
    p.add_argument("--seed", type=nonneg_int, default=0, help="random seed (default 0)")
    p.add_argument("--backend", choices=("cython", "numpy"), help="kernel backend (default: cython when built)")
    p.add_argument("--threads", type=positive_int, help="threads for the compiled kernels (default: all cores)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")


def add_training(p, epochs, batch_size=32):
    p.add_argument("--epochs", type=positive_int, default=epochs, help=f"passes over the training set (default {epochs})")
    p.add_argument("--batch-size", type=positive_int, default=batch_size, help=f"mini-batch size (default {batch_size})")
    p.add_argument("--lr", type=positive_float, help="learning rate (default 0.05 for sgd, 0.001 for adam and adamw)")
    p.add_argument("--momentum", type=nonneg_float, default=0.9, help="SGD momentum (default 0.9)")
    p.add_argument("--optimizer", choices=("sgd", "adam", "adamw"), default="sgd", help="optimizer (default sgd)")
    p.add_argument("--weight-decay", type=nonneg_float, default=0.0, help="L2 weight decay (default 0)")


def setup(args):
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


def load_data(name, data_dir=None):
    """(X_train, y_train, X_test, y_test) of the named data set; CLIError if it cannot be had."""
    from .. import datasets

    if name == "digits":
        return datasets.load_digits()
    if name != "mnist":
        raise CLIError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    if not data_dir:
        raise CLIError("--data mnist needs --data-dir DIR, a folder with the four MNIST IDX files "
                       "(train-images-idx3-ubyte[.gz], ...); nothing is downloaded")
    if not Path(data_dir).is_dir():
        raise CLIError(f"--data-dir {data_dir}: no such folder")
    try:
        return datasets.load_mnist(data_dir)
    except FileNotFoundError as exc:
        raise CLIError(str(exc)) from None


def open_model(args, path, float_only=False):
    """setup(args), then (model, spec, (X, y, X_test, y_test)): the model file `path` and its data.
    A quantized model is refused if `float_only`; so is an --out in a folder that does not exist."""
    setup(args)
    model, spec = load_model(path)
    if float_only and spec.get("quantized"):
        raise CLIError(f"{path} is already quantized; {args.command} the float model (prune before quantizing)")
    if getattr(args, "out", None):
        check_out(args.out)
    return model, spec, model_data(args, spec, path)


def model_data(args, spec, path):
    """The data of a model's command: --data, else the set recorded in the model file; --data-dir,
    else the folder recorded with it. Checks that the model fits the data."""
    given = getattr(args, "given", ())
    args.data = args.data if "data" in given else spec.get("data", "digits")
    if "data_dir" not in given and args.data == spec.get("data"):
        args.data_dir = spec.get("data_dir")
        if args.data_dir and not Path(args.data_dir).is_dir():
            raise CLIError(f"{path} was trained on {args.data} from {args.data_dir}, which is gone; "
                           f"give --data-dir DIR")
    from ..io.modelfile import input_features, num_outputs

    X, y, Xt, yt = load_data(args.data, args.data_dir)
    if input_features(spec) != X.shape[1]:
        raise CLIError(f"{path} expects {input_features(spec)} input features but --data {args.data} has {X.shape[1]}")
    if num_outputs(spec) < 10:
        raise CLIError(f"{path} has {num_outputs(spec)} outputs but --data {args.data} has 10 classes")
    return X, y, Xt, yt


def data_spec(args):
    """The model file's record of the data set: its name and, for MNIST, its folder (absolute)."""
    return {"data": args.data, **({"data_dir": str(Path(args.data_dir).resolve())} if args.data == "mnist" else {})}


def check_npz(path, what="a model .npz file written by tinynn"):
    p = Path(path)
    if not p.exists():
        raise CLIError(f"{path}: no such file")
    if p.is_dir():
        raise CLIError(f"{path}: is a folder, expected {what}")
    with open(p, "rb") as f:
        magic = f.read(4)
    if magic not in (b"PK\x03\x04", b"PK\x05\x06"):
        raise CLIError(f"{path}: not an .npz archive (expected {what})")


def load_model(path):
    """(model, spec) from a model file; CLIError if it is not one."""
    from ..io.modelfile import ModelFileError, load_model

    check_npz(path)
    try:
        return load_model(path)
    except ModelFileError as exc:
        raise CLIError(str(exc).removeprefix("load: ")) from None


def derived_spec(spec, args, **changes):
    """The description of a model made from one with `spec` (pruned, quantized) on the data of `args`."""
    return {**{k: v for k, v in spec.items() if k not in ("format", "version", "data_dir")}, **data_spec(args),
            **changes}


def check_out(path):
    folder = Path(path).resolve().parent
    if not folder.is_dir():
        raise CLIError(f"--out {path}: folder {folder} does not exist")
    return path
