"""`tinynn evaluate`: accuracy, loss and the confusion matrix of a saved model on a test set
(by default the data set recorded in the model file)."""
import json
from pathlib import Path

from ..io.modelfile import describe
from ..train import count_params, evaluate, format_table, model_bytes
from .common import add_common, open_model, positive_int


def add_parser(sub):
    e = sub.add_parser("evaluate", help="test accuracy of a saved model", description=__doc__)
    e.add_argument("model", help="model .npz written by tinynn")
    add_common(e)
    e.add_argument("--batch-size", type=positive_int, default=256, help="(default 256)")
    e.add_argument("--confusion", action="store_true", help="print the confusion matrix")
    e.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    e.add_argument("--plot", metavar="DIR", help="write the confusion matrix as PNG to DIR")
    e.set_defaults(func=run)


def run(args):
    model, spec, (_, _, Xt, yt) = open_model(args, args.model)
    result = evaluate(model, Xt, yt, batch_size=args.batch_size)
    kind = "int8 (" + spec["quantized"].get("method", "dynamic") + ")" if spec.get("quantized") else "float32"
    print(format_table(["model", "architecture", "weights", "data", "test accuracy", "test loss", "parameters", "size"],
                       [[args.model, describe(spec), kind, args.data, f"{result['accuracy']:.2%}",
                         f"{result['loss']:.4f}", f"{count_params(model):,}", f"{model_bytes(model) / 1024:.1f} KB"]]))
    if args.confusion:
        c = result["confusion"]
        print("\nconfusion matrix (rows: true class, columns: predicted)")
        print(format_table([""] + [str(j) for j in range(c.shape[1])],
                           [[str(i)] + [str(v) for v in row] for i, row in enumerate(c)]))
    if args.json:
        Path(args.json).write_text(json.dumps({"model": args.model, "data": args.data, "accuracy": result["accuracy"],
                                               "loss": result["loss"], "confusion": result["confusion"].tolist()}))
    if args.plot:
        from .. import plots

        print(f"wrote {plots.confusion_matrix(result['confusion'], args.plot)}")
    return 0
