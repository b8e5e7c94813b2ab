"""Input x gradient (Shrikumar et al., 2016): the first-order Taylor share of each input."""
from .. import Tensor
from .common import as_batch, as_targets, input_gradient


def input_x_gradient(model, x, target):
    """Attributions x * dF/dx, F(x) = model(x)[n, target[n]], Captum's InputXGradient.

    For a linear F(x) = w.x + b this is w * x, whose sum is F(x) - F(0). Returns a Tensor of x's shape."""
    fn = "input_x_gradient"
    x = as_batch(x, fn)
    return Tensor(x * input_gradient(model, x, as_targets(target, len(x), fn), fn))
