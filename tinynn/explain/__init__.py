"""Attributions: how much each input feature of an example counts for the model's output at a target
class, with Captum's formulas, argument meanings and defaults (docs/09-explanations.md).

    import tinynn as tn
    attr = tn.explain.integrated_gradients(model, x, target=3)   # a Tensor of x's shape

Each method takes a batch x of shape (N, ...) and a target (an int, or one per example) and returns
attributions of x's shape as a tinynn Tensor. Any callable from an (N, ...) Tensor to (N, C) works:
an MLP, a CNN, a Transformer."""
from .input_x_gradient import input_x_gradient
from .integrated_gradients import integrated_gradients
from .occlusion import occlusion
from .saliency import saliency
from .smoothgrad import smoothgrad

__all__ = ["saliency", "input_x_gradient", "integrated_gradients", "smoothgrad", "occlusion"]
