"""Numerical gradient checking: analytic gradients against central differences in float64."""
import numpy as np

from .autograd import no_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with its central-difference estimate."""


def numerical_gradient(fn, inputs, index, eps):
    """d sum(fn(*inputs)) / d inputs[index], by (f(x + eps) - f(x - eps)) / (2 eps) per element.

    The two outputs are subtracted elementwise before summing, so a large output that does not
    depend on x_i cannot swamp the change of a small one that does."""
    x = inputs[index]._data
    grad = np.zeros_like(x, dtype=np.float64)
    with no_grad():
        for i in np.ndindex(x.shape):
            saved = x[i]
            x[i] = saved + eps
            plus = np.array(fn(*inputs)._data, dtype=np.float64)  # a copy: the output may be a view of x
            x[i] = saved - eps
            minus = np.array(fn(*inputs)._data, dtype=np.float64)
            x[i] = saved
            grad[i] = np.sum(plus - minus) / (2 * eps)
    return grad


def gradcheck(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Check d sum(fn(*inputs)) / d x for every input x that requires a gradient.

    Inputs are cast to float64 copies; the analytic gradient must satisfy
    |analytic - numeric| <= atol + rtol * |numeric| elementwise, where
    numeric = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps).
    Returns True, or raises GradcheckError naming the input, the index and both values.
    """
    checked = []
    for t in inputs:
        if isinstance(t, Tensor) and t.dtype.kind == "f":
            t = Tensor(t._data.astype(np.float64), requires_grad=t.requires_grad)
        checked.append(t)
    targets = [i for i, t in enumerate(checked) if isinstance(t, Tensor) and t.requires_grad]
    if not targets:
        raise ValueError("gradcheck: no input requires a gradient")
    out = fn(*checked)
    if not out.requires_grad:
        raise GradcheckError("gradcheck: the output does not depend on any input that requires a gradient")
    out.backward(np.ones(out.shape, dtype=out.dtype))
    for i in targets:
        analytic = checked[i].grad
        analytic = np.zeros(checked[i].shape) if analytic is None else analytic.numpy()
        numeric = numerical_gradient(fn, checked, i, eps)
        bad = ~(np.abs(analytic - numeric) <= atol + rtol * np.abs(numeric))
        if np.any(bad):
            where = tuple(int(k) for k in np.argwhere(bad)[0])
            raise GradcheckError(
                f"gradcheck: input {i} (shape {checked[i].shape}) at index {where} "
                f"(value {float(checked[i]._data[where])!r}): analytic {float(analytic[where])!r} vs numerical "
                f"{float(numeric[where])!r} ({int(bad.sum())} of {bad.size} elements differ)"
            )
    return True
