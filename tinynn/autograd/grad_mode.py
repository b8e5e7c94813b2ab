"""Grad mode: whether this thread records graphs (`no_grad`) and checks values (`detect_anomaly`)."""
import contextvars
import functools

import numpy as np

GRAD, ANOMALY = 1, 2  # bits of the per-thread mode: grad recording on, anomaly detection on

# A context variable is per thread (each new thread starts from the default: grad mode on,
# anomaly detection off) and per asyncio task.
_mode = contextvars.ContextVar("tinynn_grad_mode", default=GRAD)
current = _mode.get  # this thread's mode bits


def _set_bit(bit, on):
    """Turn one bit of this thread's mode on or off; returns whether it was on."""
    mode = current()
    _mode.set(mode | bit if on else mode & ~bit)
    return bool(mode & bit)


def is_grad_enabled():
    """True unless inside `no_grad()` on this thread."""
    return bool(current() & GRAD)


class no_grad:
    """Context manager and decorator: ops inside it build no graph.

    with tn.no_grad():
        y = model(x)          # y.requires_grad is False
    """

    bit, on = GRAD, False

    def __enter__(self):
        self._previous = _set_bit(self.bit, self.on)

    def __exit__(self, *exc):
        _set_bit(self.bit, self._previous)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class enable_grad(no_grad):
    """Turn grad mode back on inside a `no_grad` block."""

    on = True


class detect_anomaly(no_grad):
    """`with tn.detect_anomaly():` checks every gradient an op's backward returns, as PyTorch's
    anomaly mode does, and raises RuntimeError naming the first op whose backward produced NaN
    (the walk runs from the loss back, so that is the op nearest the loss). check_nan=False checks
    nothing (PyTorch then only records tracebacks, which tinynn's errors carry anyway)."""

    bit, on = ANOMALY, True

    def __init__(self, check_nan=True):
        if not check_nan:
            self.bit = 0


def check_nan(node, gradients):
    """Raise RuntimeError if a float gradient among `gradients` (what node's backward returned)
    holds NaN: PyTorch's anomaly check (inf passes, as there: a -inf mask is legitimate)."""
    for i, a in enumerate(gradients):
        if a is not None and a.dtype.kind == "f" and np.isnan(a).any():
            raise RuntimeError(f"detect_anomaly: Function '{node.name}' backward returned nan values in its "
                               f"gradient for input {i} (shape {a.shape})")


class inference_mode(no_grad):
    """`with tn.inference_mode():` is `no_grad()` here (PyTorch's faster variant: tinynn has no
    extra bookkeeping to skip); `inference_mode(False)` leaves grad mode as it is."""

    def __init__(self, mode=True):
        self.bit, self.on = GRAD, not mode
        if not mode:
            self.bit = 0  # touches no bit

    def __call__(self, fn):
        return no_grad.__call__(self, fn) if self.bit else fn


class set_grad_enabled(no_grad):
    """`tn.set_grad_enabled(mode)` turns grad mode on or off at once; used as `with
    tn.set_grad_enabled(mode):` it restores the previous mode on leaving."""

    def __init__(self, mode):
        self.on, self._previous = bool(mode), _set_bit(GRAD, bool(mode))

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        _set_bit(GRAD, self._previous)
        return False

    def __call__(self, fn):
        _set_bit(GRAD, self._previous)  # as a decorator it must not switch the mode now, only in calls
        mode = self.on

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper
