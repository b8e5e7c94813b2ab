"""The figure of docs/09-explanations.md: a 64-128-64-10 ReLU MLP trained on the digits with the
default recipe of `tinynn train` (SGD lr 0.05, momentum 0.9, batch 32, 15 epochs, seed 0), one test
image, and what each method of tinynn.explain says about the predicted class.

    PYTHONPATH=. python scripts/explain_figure.py                 # -> docs/images/explanations.png
    PYTHONPATH=. python scripts/explain_figure.py --index 10 --out /tmp/x.png

Prints the test accuracy, the prediction and integrated gradients' completeness gap."""
import argparse
import pathlib

import numpy as np

import tinynn as tn
from tinynn import datasets, explain
from tinynn.explain.figure import explain_image, figure, probabilities
from tinynn.io.modelfile import mlp
from tinynn.train import evaluate, fit, make_optimizer

ROOT = pathlib.Path(__file__).resolve().parents[1]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--index", type=int, default=3, help="test example (default 3)")
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--out", default=str(ROOT / "docs" / "images" / "explanations.png"))
    args = p.parse_args()

    tn.manual_seed(0)
    X, y, Xt, yt = datasets.load_digits()
    model = mlp([64, 128, 64, 10])
    fit(model, make_optimizer("sgd", model.parameters(), 0.05), X, y, epochs=args.epochs, batch_size=32, quiet=True)
    model.eval()
    print(f"test accuracy {evaluate(model, Xt, yt)['accuracy']:.2%}")
    image = Xt[args.index].reshape(8, 8).astype(np.float64)
    probs = probabilities(model, image)
    target = int(np.argmax(probs))
    model.double()
    attributions = explain_image(model, image, target)
    _, delta = explain.integrated_gradients(model, image.reshape(1, 64), target, return_convergence_delta=True)
    print(f"example {args.index}: true class {yt[args.index]}, predicted {target} (p = {probs.max():.3f}); "
          f"integrated gradients' completeness gap {delta.item():.1e}")
    title = f"digits test example {args.index} (true class {yt[args.index]}), 64-128-64-10 ReLU MLP"
    print(f"wrote {figure(image, attributions, probs, target, args.out, title=title)}")


if __name__ == "__main__":
    main()
