"""Saliency (Simonyan et al., 2014): how much the target output moves per unit change of each input."""
import numpy as np

from .. import Tensor
from .common import as_batch, as_targets, input_gradient


def saliency(model, x, target, abs=True):  # noqa: A002 - Captum's argument name
    """Attributions |dF/dx| (or dF/dx with abs=False), F(x) = model(x)[n, target[n]], Captum's Saliency.

    x: a batch (N, ...); target: an int or one int per example (None for a model with one output per
    example). Returns a Tensor of x's shape."""
    fn = "saliency"
    x = as_batch(x, fn)
    g = input_gradient(model, x, as_targets(target, len(x), fn), fn)
    return Tensor(np.abs(g) if abs else g)
