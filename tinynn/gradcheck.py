"""Numerical gradient checking in float64: analytic gradients against central differences
(`gradcheck`), and gradients of gradients the same way (`gradgradcheck`)."""
import numpy as np

from .autograd import enable_grad, no_grad
from .autograd.engine import grad as autograd_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with its central-difference estimate."""


def _outputs(result):
    """fn's result as a tuple of Tensors (a function may return several; None stands for zero)."""
    return tuple(o for o in (result if isinstance(result, (tuple, list)) else (result,)) if o is not None)


def output_weights(outputs, seed=0):
    """Fixed pseudo-random weights w, one array per output: the checks test d <w, f(x)> / dx.
    With w = 1 (d sum f / dx) an error in the Jacobian whose rows sum to zero would pass (softmax's
    outputs always sum to 1, so the gradient of their sum is 0 whatever a backward computes); a
    random w misses an error only on a set of measure zero, at the cost of one backward pass."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(o.shape) for o in outputs]


def numerical_gradient(fn, inputs, index, eps, weights=None):
    """d <w, fn(*inputs)> / d inputs[index], by (f(x + eps) - f(x - eps)) / (2 eps) per element
    (summed over every output when fn returns several; w = 1 when `weights` is None).

    The two outputs are subtracted elementwise before summing, so a large output that does not
    depend on x_i cannot swamp the change of a small one that does."""
    x = inputs[index]._data
    grad = np.zeros_like(x, dtype=np.float64)

    def values():  # copies: an output may be a view of x
        return [np.array(o._data, dtype=np.float64) for o in _outputs(fn(*inputs))]
    with no_grad():
        for i in np.ndindex(x.shape):
            saved = x[i]
            x[i] = saved + eps
            plus = values()
            x[i] = saved - eps
            minus = values()
            x[i] = saved
            w = weights if weights is not None else [1.0] * len(plus)
            grad[i] = sum(np.sum(wk * (p - m)) for wk, p, m in zip(w, plus, minus)) / (2 * eps)
    return grad


def _float64(inputs):
    return [Tensor(t._data.astype(np.float64), requires_grad=t.requires_grad)
            if isinstance(t, Tensor) and t.dtype.kind == "f" else t for t in inputs]


def gradcheck(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, name="gradcheck"):
    """Check d <w, fn(*inputs)> / d x for every input x that requires a gradient, w fixed
    pseudo-random weights on the outputs (`output_weights`: every row of the Jacobian counts).

    Inputs are cast to float64 copies; the analytic gradient must satisfy
    |analytic - numeric| <= atol + rtol * |numeric| elementwise, where
    numeric = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps).  `inputs` may also be one tuple (PyTorch's
    spelling); fn may return a tuple of Tensors (their weighted sums are added).
    Returns True, or raises GradcheckError naming the input, the index and both values.
    """
    if len(inputs) == 1 and isinstance(inputs[0], (tuple, list)):
        inputs = tuple(inputs[0])
    checked = _float64(inputs)
    targets = [i for i, t in enumerate(checked) if isinstance(t, Tensor) and t.requires_grad]
    if not targets:
        raise ValueError(f"{name}: no input requires a gradient")
    outputs = _outputs(fn(*checked))
    weights = output_weights(outputs)
    live = [(o, w) for o, w in zip(outputs, weights) if o.requires_grad]
    if not live:
        raise GradcheckError(f"{name}: the output does not depend on any input that requires a gradient")
    analytic = autograd_grad([o for o, _ in live], [checked[i] for i in targets],
                             [w.astype(o.dtype) for o, w in live], allow_unused=True)
    for i, found in zip(targets, analytic):
        found = np.zeros(checked[i].shape) if found is None else found.numpy()
        numeric = numerical_gradient(fn, checked, i, eps, weights)
        bad = ~(np.abs(found - numeric) <= atol + rtol * np.abs(numeric))
        if np.any(bad):
            where = tuple(int(k) for k in np.argwhere(bad)[0])
            raise GradcheckError(
                f"{name}: input {i} (shape {checked[i].shape}) at index {where} "
                f"(value {float(checked[i]._data[where])!r}): analytic {float(found[where])!r} vs numerical "
                f"{float(numeric[where])!r} ({int(bad.sum())} of {bad.size} elements differ)"
            )
    return True


def gradgradcheck(fn, *inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check the gradients of the gradients of fn, as PyTorch's gradgradcheck: with v the
    `grad_outputs` (random float64 Tensors that require grad when not given), the function
    (x, v) -> d <v, fn(x)> / d x, computed with create_graph=True, is checked by `gradcheck`
    against central differences, both in x and in v. Inputs are float64 copies.
    Returns True, or raises GradcheckError naming the input (x first, then v), index and values."""
    if len(inputs) == 1 and isinstance(inputs[0], (tuple, list)):
        inputs = tuple(inputs[0])
    inputs = _float64(inputs)
    targets = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not targets:
        raise ValueError("gradgradcheck: no input requires a gradient")
    outs = _outputs(fn(*inputs))
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = [Tensor(rng.standard_normal(o.shape), requires_grad=True) for o in outs]
    else:
        grad_outputs = _float64(grad_outputs if isinstance(grad_outputs, (tuple, list)) else (grad_outputs,))
    n = len(inputs)

    def first_gradients(*args):
        xs, vs = args[:n], args[n:]
        with enable_grad():
            live = [(o, v) for o, v in zip(_outputs(fn(*xs)), vs) if o.requires_grad]
            return autograd_grad([o for o, _ in live], [xs[i] for i in targets], [v for _, v in live],
                                 create_graph=True, allow_unused=True)
    return gradcheck(first_gradients, *inputs, *grad_outputs, eps=eps, atol=atol, rtol=rtol, name="gradgradcheck")
