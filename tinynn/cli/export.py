"""`tinynn export`: write a model file (an MLP, or `--model lenet | resnet | lstm | transformer`, reading flat
rows) as ONNX (opset 17 by default, dynamic batch axis; --fold-batchnorm folds each BatchNorm
into its convolution; an int8 model through QuantizeLinear and MatMulInteger / ConvInteger with
its exact quantization parameters) and print the exported graph's layer table. --verify runs the file in onnxruntime on the model's test set and
compares with tinynn. Needs the [onnx] extra (pip install 'tinynn-scratch[onnx]')."""
import os

import numpy as np

from ..train import format_table, predict
from .common import CLIError, add_common, check_out, load_model, model_data, setup

BATCH = 256


def add_parser(sub):
    e = sub.add_parser("export", help="write a model file as ONNX and print its layer table", description=__doc__)
    e.add_argument("model", help="model .npz written by tinynn")
    e.add_argument("out", help="ONNX file to write (e.g. model.onnx)")
    add_common(e)
    e.add_argument("--opset", type=int, default=17, help="ONNX opset version (default 17; at least 13)")
    e.add_argument("--fold-batchnorm", action="store_true", help="fold each BatchNorm into the convolution "
                   "before it (fewer operators, the same outputs within rounding)")
    e.add_argument("--verify", action="store_true", help="run the file in onnxruntime on the test set and "
                   "compare its outputs with tinynn's")
    e.set_defaults(func=run)


def run(args):
    try:
        from .. import onnx as tonnx
    except ImportError as exc:
        raise CLIError(str(exc)) from None
    check_out(args.out)
    setup(args)
    model, spec = load_model(args.model)
    from ..io.modelfile import input_features

    example = np.zeros((1, input_features(spec)), np.float32)  # flat rows, as the data sets hold images
    tonnx.export(model, example, args.out, opset_version=args.opset, fold_batchnorm=args.fold_batchnorm)
    if not args.quiet:
        print(tonnx.layer_table(args.out))
        print(f"wrote {args.out} ({os.path.getsize(args.out):,} bytes; {args.model}: "
              f"{os.path.getsize(args.model):,} bytes)")
    if args.verify:
        _verify(args, model, spec)
    return 0


def _verify(args, model, spec):
    try:
        import onnxruntime
    except ImportError:
        raise CLIError("--verify needs onnxruntime: pip install 'tinynn-scratch[onnx]'") from None
    _, _, Xt, yt = model_data(args, spec, args.model)
    session = onnxruntime.InferenceSession(args.out, providers=["CPUExecutionProvider"])
    ours = predict(model, Xt, BATCH)
    # in predict's batches: a dynamically quantized layer takes its (s_a, z_a) from each batch
    name = session.get_inputs()[0].name
    theirs = np.concatenate([session.run(None, {name: Xt[i:i + BATCH]})[0] for i in range(0, len(Xt), BATCH)])
    scale = float(np.abs(ours).max()) or 1.0
    print(format_table(["samples", "max |difference|", "relative to max |y|", "same predictions"],
                       [[len(Xt), f"{np.abs(ours - theirs).max():.3g}", f"{np.abs(ours - theirs).max() / scale:.3g}",
                         f"{np.mean(ours.argmax(1) == theirs.argmax(1)):.2%}"]]))
