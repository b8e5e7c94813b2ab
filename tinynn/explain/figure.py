"""One image explained by every method, side by side in one figure (`tinynn explain --plot`,
scripts/explain_figure.py, docs/09-explanations.md). Needs matplotlib (the `[plot]` extra) for the
figure only."""
import numpy as np

from .. import Tensor
from ..nn import Flatten, Sequential
from .input_x_gradient import input_x_gradient
from .integrated_gradients import integrated_gradients
from .occlusion import occlusion
from .saliency import saliency
from .smoothgrad import smoothgrad

METHODS = ("saliency", "input x gradient", "integrated gradients", "smoothgrad", "occlusion")


def explain_image(model, image, target, n_steps=50, nt_samples=25, stdevs=0.15):
    """{method: attributions of image's shape} for one image (H, W) and a model on flattened inputs
    (N, H*W), every method at the target class.

    Baselines are 0 (a blank image); smoothgrad's noise is stdevs times the image's value range (the
    SmoothGrad paper's 10-20%: Captum's default stdevs=1.0 drowns pixels in [0, 1]); occlusion hides
    patches of (H//4, W//4) pixels, stride 1."""
    image = np.asarray(image)
    x = image[None]
    net = Sequential(Flatten(), model)
    noise = stdevs * float(image.max() - image.min() or 1.0)
    window = (max(1, image.shape[0] // 4), max(1, image.shape[1] // 4))
    found = {"saliency": saliency(net, x, target),
             "input x gradient": input_x_gradient(net, x, target),
             "integrated gradients": integrated_gradients(net, x, target, n_steps=n_steps),
             "smoothgrad": smoothgrad(net, x, target, nt_samples=nt_samples, stdevs=noise),
             "occlusion": occlusion(net, x, target, window)}
    return {name: found[name].numpy()[0] for name in METHODS}


def probabilities(model, image):
    """softmax(model(image)) for one image: the prediction the figure shows."""
    z = np.asarray(model(Tensor(np.asarray(image).reshape(1, -1))).detach(), dtype=np.float64)[0]
    e = np.exp(z - z.max())
    return e / e.sum()


def figure(image, attributions, probs, target, path, title=""):
    """Write the figure to `path`: the input, one heat map per method (red: raises the target class's
    score, blue: lowers it; each panel on its own scale, symmetric about 0, the digit's outline in
    grey), and the predicted probabilities with the target class marked. Returns the path."""
    from pathlib import Path

    from ..plots import require_matplotlib

    plt = require_matplotlib()
    image = np.asarray(image)
    k = len(attributions)
    fig, axes = plt.subplots(1, k + 2, figsize=(2.3 * (k + 2), 3.1),
                             gridspec_kw={"width_ratios": [1] * (k + 1) + [1.4]})
    axes[0].imshow(image, cmap="gray_r")
    axes[0].set_title("input")
    for ax, (name, a) in zip(axes[1:], attributions.items()):
        scale = float(np.abs(a).max()) or 1.0
        ax.imshow(a, cmap="RdBu_r", vmin=-scale, vmax=scale)
        ax.contour(image, levels=[0.5 * (image.min() + image.max())], colors="0.45", linewidths=0.8)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel(f"max |a| = {scale:.2g}", fontsize=8)
    for ax in axes[:k + 1]:
        ax.set_xticks([])
        ax.set_yticks([])
    bar = axes[-1]
    colors = ["tab:red" if c == target else "tab:gray" for c in range(len(probs))]
    bar.barh(range(len(probs)), probs, color=colors)
    bar.set(yticks=range(len(probs)), xlim=(0, 1), xlabel="probability")
    bar.invert_yaxis()
    bar.set_title(f"prediction: {int(np.argmax(probs))} ({probs.max():.0%})", fontsize=10)
    fig.suptitle(f"{title}\nred: raises the score of class {target}, blue: lowers it (each panel on its own "
                 f"scale); grey line: the outline of the input".lstrip(), fontsize=10)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path)
