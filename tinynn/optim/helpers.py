"""What the NumPy optimizers (Adadelta, Adamax, NAdam, RAdam, Rprop, ASGD, LBFGS) share: PyTorch's checks
of their options with its messages, its moving average (lerp) and the dtype of its 0-d state scalars."""
import numpy as np

from ..dtypes import get_default_dtype


def check_lr(name, lr):
    """ValueError unless lr >= 0 (NaN fails too), worded as PyTorch's."""
    if not lr >= 0.0:
        raise ValueError(f"{name}: Invalid learning rate: {lr}")


def check_nonnegative(name, label, value):
    """ValueError unless value >= 0: "Invalid <label> value: <value>", as PyTorch words it."""
    if not value >= 0.0:
        raise ValueError(f"{name}: Invalid {label} value: {value}")


def check_betas(name, betas):
    """ValueError unless each beta is in [0, 1)."""
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"{name}: Invalid beta parameter at index {i}: {beta}")


def lerp_(m, g, weight):
    """m <- m + w (g - m) = (1 - w) m + w g in place, rounded as torch.lerp_ rounds it
    (from the other end, g - (g - m)(1 - w), when w >= 1/2)."""
    if abs(weight) < 0.5:
        m += weight * (g - m)
    else:
        np.subtract(g, (g - m) * (1 - weight), out=m)
    return m


def scalar_dtype():
    """The dtype PyTorch gives an optimizer's 0-d state (NAdam's mu_product, ASGD's eta and mu):
    float64 when that is the default dtype, float32 otherwise."""
    return np.dtype(np.float64) if get_default_dtype() == np.float64 else np.dtype(np.float32)


def scalar(value):
    """A 0-d state value as a NumPy scalar of scalar_dtype(): load_state_dict may have turned it into
    a Python number or an array of the parameter's dtype; the value itself is unchanged."""
    return scalar_dtype().type(np.asarray(value).item())
