"""The `tinynn` command (also `python -m tinynn`): parses the command line and runs one command,
each a module of this package (`tinynn COMMAND --help`); what they share is in common.py.

Models are single .npz files (tinynn.io.modelfile): the weights plus a JSON description of the
network and its data set, so every command that reads a model needs nothing but the file. Errors
a user can make end with one line on stderr and a non-zero exit status; set TINYNN_DEBUG=1 to see
the traceback instead."""
import os
import sys

from . import bench, demo, distill, evaluate, explain, info, prune, quantize, train
from .common import EXIT_USAGE, Parser, dispatch

COMMANDS = (demo, train, evaluate, prune, quantize, distill, explain, bench, info)
from . import tune  # noqa: E402 (its own line: several helpers append commands here)
COMMANDS += (tune,)
from . import export  # noqa: E402
COMMANDS += (export,)


def build_parser():
    import tinynn

    p = Parser(prog="tinynn", description="tinynn: train, evaluate and compress small neural networks "
               "(a from-scratch deep-learning framework on NumPy with compiled kernels).",
               epilog="Run `tinynn COMMAND --help` for the options of a command. Start with `tinynn demo`.")
    p.add_argument("--version", action="version", version=f"tinynn {tinynn.__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS:
        command.add_parser(sub)
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
    return dispatch(args.func, args)
