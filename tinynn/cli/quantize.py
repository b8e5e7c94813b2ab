"""`tinynn quantize`: post-training int8 quantization, dynamic (activation ranges measured on every
batch) or static (ranges calibrated on training batches)."""
from ..train import evaluate, format_table, latency_ms, model_bytes
from .common import add_common, derived_spec, open_model, positive_int


def add_parser(sub):
    q = sub.add_parser("quantize", help="int8 post-training quantization", description=__doc__)
    q.add_argument("model", help="model .npz written by tinynn")
    add_common(q)
    q.add_argument("--method", choices=("dynamic", "static"), default="dynamic", help="(default dynamic)")
    q.add_argument("--observer", choices=("minmax", "percentile"), default="minmax", help="static: range observer (default minmax)")
    q.add_argument("--calibration-batches", type=positive_int, default=8, help="static: batches of 32 training samples (default 8)")
    q.add_argument("--out", default="model-int8.npz", help="(default model-int8.npz)")
    q.set_defaults(func=run)


def run(args):
    from .. import tensor
    from ..compress import quantize
    from ..io.modelfile import save_model
    from ..random import generator

    model, spec, (X, _, Xt, yt) = open_model(args, args.model, float_only=True)
    q = {"method": args.method}
    if args.method == "static":
        q["observer"] = args.observer
        idx = generator().permutation(len(X))[: args.calibration_batches * 32]
        qmodel = quantize.quantize_static(model, [tensor(X[idx[i:i + 32]]) for i in range(0, len(idx), 32)],
                                          observer=args.observer)
    else:
        qmodel = quantize.quantize_dynamic(model)
    qmodel.eval()
    rows = [[name, f"{evaluate(m, Xt, yt)['accuracy']:.2%}", f"{model_bytes(m) / 1024:.1f} KB", f"{ms:.3f} ms"]
            for name, m, ms in zip(("float32", f"int8 ({args.method})"), (model, qmodel),
                                   latency_ms([model, qmodel], X.shape[1]))]
    save_model(qmodel, args.out, derived_spec(spec, args, quantized=q))
    print(format_table(["model", "test accuracy", "size", "batch-256 latency"], rows))
    print(f"saved {args.out}")
    return 0
