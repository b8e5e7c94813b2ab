"""What the attribution methods share: the input batch, the target column, the baselines, the model's
value at the target and its gradient with respect to the input.

Every method explains F(x) = model(x)[n, target[n]], one scalar per example n, as Captum does. The
model is any callable that maps an (N, ...) Tensor to an (N, C) Tensor (or (N,) / (N, 1), for which
`target` may be None); it is run as it is (call `model.eval()` first if it has dropout or batch norm),
and each example's output must depend on that example alone."""
import contextlib

import numpy as np

from .. import Tensor, no_grad


def as_batch(x, fn, floating=True):
    """x (a Tensor or array-like, first axis the examples) as an ndarray; integer inputs become float32
    if `floating` (a gradient needs a floating type; occlusion keeps token ids as they are)."""
    a = np.asarray(x.detach() if isinstance(x, Tensor) else x)
    if a.dtype.kind not in "fiub":
        raise TypeError(f"{fn}: x must be numbers, got dtype {a.dtype}")
    if floating and a.dtype.kind != "f":
        a = a.astype(np.float32)
    if a.ndim == 0 or a.shape[0] == 0:
        raise ValueError(f"{fn}: x must be a batch of shape (N, ...) with N >= 1, got shape {a.shape}")
    return a


def as_targets(target, n, fn):
    """An int (every example) or one int per example -> int64 array of shape (n,); None stays None."""
    if target is None:
        return None
    t = np.asarray(target.detach() if isinstance(target, Tensor) else target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{fn}: target must be an int or a sequence of ints, got {target!r}")
    t = t.astype(np.int64).reshape(-1)
    if t.size == 1:
        return np.full(n, t[0])
    if t.size != n:
        raise ValueError(f"{fn}: {t.size} targets for a batch of {n} examples; give one int, or one per example")
    return t


def one_hot(out_shape, t, fn):
    """The mask that picks out[n, t[n]] from an output of shape `out_shape` (d sum_n F_n / d out)."""
    if len(out_shape) == 1 or (len(out_shape) == 2 and out_shape[1] == 1 and t is None):
        if t is not None:
            raise ValueError(f"{fn}: the model's output has shape {tuple(out_shape)}, one value per example; "
                             f"give target=None")
        return np.ones(out_shape)
    if len(out_shape) != 2:
        raise ValueError(f"{fn}: the model's output has shape {tuple(out_shape)}; expected (N, C) so that "
                         f"target picks one column (wrap the model to return (N, C))")
    if t is None:
        raise ValueError(f"{fn}: the model's output has shape {tuple(out_shape)}; give target, the output column "
                         f"(an int, or one per example)")
    bad = (t < 0) | (t >= out_shape[1])
    if bad.any():
        raise IndexError(f"{fn}: target {int(t[bad][0])} is out of range for the model's output of shape "
                         f"(N, {out_shape[1]}) (columns 0..{out_shape[1] - 1})")
    mask = np.zeros(out_shape)
    mask[np.arange(out_shape[0]), t] = 1
    return mask


def _output(model, xt, fn):
    out = model(xt)
    if not isinstance(out, Tensor):
        raise TypeError(f"{fn}: the model returned {type(out).__name__}, expected a Tensor")
    if out.ndim == 0 or out.shape[0] != xt.shape[0]:
        raise ValueError(f"{fn}: the model maps x of shape {xt.shape} to an output of shape {out.shape}; "
                         f"expected one row per example")
    return out


def forward_target(model, x, t, fn):
    """F(x): the model's output at the target column, one value per example (no graph recorded)."""
    with no_grad():
        out = _output(model, Tensor(x), fn)
    values = np.asarray(out.detach())
    return (values * one_hot(values.shape, t, fn)).reshape(len(values), -1).sum(axis=1)


@contextlib.contextmanager
def _parameters_frozen(model):
    """The model's parameters stop asking for gradients while the input's gradient is taken: nothing is
    computed for them, and their .grad (a training run's, say) is left untouched."""
    params = [p for p in model.parameters() if p.requires_grad] if hasattr(model, "parameters") else []
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


def _array(g):
    """A gradient as an ndarray, whether autograd gives an ndarray or a Tensor."""
    return np.asarray(g.detach() if isinstance(g, Tensor) else g)


def input_gradient(model, x, t, fn):
    """dF/dx: the gradient of sum_n model(x)[n, t[n]] with respect to x (each example's own gradient,
    since example n's output depends on example n alone)."""
    xt = Tensor(x, requires_grad=True)
    with _parameters_frozen(model):
        out = _output(model, xt, fn)
        out.backward(one_hot(out.shape, t, fn).astype(out.dtype))
    if xt.grad is None:
        return np.zeros_like(x)
    return _array(xt.grad).astype(x.dtype, copy=False)


def as_baselines(baselines, x, fn):
    """Captum's baselines: a number, an array of x's shape, or of shape (1, ...) for every example."""
    if baselines is None:
        return np.zeros_like(x)
    b = np.asarray(baselines.detach() if isinstance(baselines, Tensor) else baselines)
    if b.ndim != 0 and b.shape != x.shape and b.shape != (1,) + x.shape[1:]:
        raise ValueError(f"{fn}: baselines of shape {b.shape} do not fit x of shape {x.shape}; give a number, "
                         f"an array of shape {x.shape}, or of shape {(1,) + x.shape[1:]}")
    return np.broadcast_to(b, x.shape).astype(x.dtype)


def check_count(value, name, fn, least=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise ValueError(f"{fn}: {name} must be an int >= {least}, got {value!r}")
    return int(value)
