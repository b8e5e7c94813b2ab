"""`tinynn explain`: why a saved model classifies one test image as it does. Every attribution method
of tinynn.explain (saliency, input x gradient, integrated gradients, smoothgrad, occlusion) scores
each pixel for the target class (default: the predicted one); prints the prediction and each
method's top pixels, and with --plot writes the input, one heat map per method and the prediction
as one figure."""
import math
from pathlib import Path

import numpy as np

from ..train import format_table
from .common import CLIError, add_common, nonneg_float, nonneg_int, open_model, positive_int


def add_parser(sub):
    e = sub.add_parser("explain", help="attributions of one test image, per method", description=__doc__)
    e.add_argument("model", help="model .npz written by tinynn")
    add_common(e)
    e.add_argument("--index", type=nonneg_int, default=0, help="which example of the test set (default 0)")
    e.add_argument("--target", type=nonneg_int, help="class to explain (default: the predicted class)")
    e.add_argument("--top", type=positive_int, default=5, help="pixels listed per method (default 5)")
    e.add_argument("--n-steps", type=positive_int, default=50, help="integrated gradients: Gauss-Legendre points (default 50)")
    e.add_argument("--nt-samples", type=positive_int, default=25, help="smoothgrad: noisy copies (default 25)")
    e.add_argument("--stdevs", type=nonneg_float, default=0.15,
                   help="smoothgrad: noise std as a fraction of the pixel range (default 0.15)")
    e.add_argument("--plot", metavar="DIR", help="write the figure explain_N.png to DIR")
    e.set_defaults(func=run)


def top_pixels(a, k):
    """The k pixels with the largest |attribution|, as 'rRcC +0.123' (row R, column C of the image)."""
    order = np.argsort(-np.abs(a), axis=None, kind="stable")[:k]
    return [f"r{r}c{c} {a[r, c]:+.3f}" for r, c in zip(*np.unravel_index(order, a.shape))]


def run(args):
    from ..explain.figure import explain_image, figure, probabilities
    from ..plots import require_matplotlib

    if args.plot:
        require_matplotlib()  # a missing matplotlib is said before any work
    model, spec, (_, _, Xt, yt) = open_model(args, args.model)
    if spec.get("quantized"):
        raise CLIError(f"{args.model} is quantized (int8 layers have no input gradient); explain the float model")
    if args.index >= len(Xt):
        raise CLIError(f"--index {args.index}: the {args.data} test set has {len(Xt)} examples (0..{len(Xt) - 1})")
    side = math.isqrt(Xt.shape[1])
    if side * side != Xt.shape[1]:
        raise CLIError(f"{args.data} examples have {Xt.shape[1]} features, not a square image")
    image = Xt[args.index].reshape(side, side).astype(np.float64)
    probs = probabilities(model, image)
    target = int(np.argmax(probs)) if args.target is None else args.target
    if target >= len(probs):
        raise CLIError(f"--target {target}: the model has {len(probs)} classes (0..{len(probs) - 1})")
    attributions = explain_image(model.double(), image, target, n_steps=args.n_steps,
                                 nt_samples=args.nt_samples, stdevs=args.stdevs)
    print(f"test example {args.index} of {args.data}: true class {yt[args.index]}, predicted "
          f"{int(np.argmax(probs))} (p = {probs.max():.3f}); explaining class {target}")
    k = min(args.top, image.size)
    print(format_table(["method"] + [f"#{i + 1}" for i in range(k)],
                       [[name] + top_pixels(a, k) for name, a in attributions.items()], align=["<"] * (k + 1)))
    if args.plot:
        path = Path(args.plot) / f"explain_{args.index}.png"
        title = (f"{Path(args.model).name}: {args.data} test example {args.index}, true class {yt[args.index]}, "
                 f"attributions for class {target}")
        print(f"wrote {figure(image, attributions, probs, target, path, title=title)}")
    return 0
