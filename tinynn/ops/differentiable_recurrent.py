"""The recurrent cell kernels (backend/reference_recurrent.py) composed of recorded ops, for
`Differentiable` (ops/differentiable.py): under create_graph, LSTMSequence and GRUSequence
recompute their forward steps with `lstm_cell`/`gru_cell` here (`recorded_lstm_steps`,
`recorded_gru_steps`) and run their one backward on Tensors, where `lstm_cell_backward` and
`gru_cell_backward` are these compositions: their derivatives are the ops' (sigmoid, tanh, products,
matmuls), so every order works. Also the running-product kernels as their ops."""
import numpy as np

from ..tensor import Tensor
from .shape import Concatenate, Stack
from .statistics import Cumprod, Prod


def _t(a):
    return a if a is None or isinstance(a, Tensor) else Tensor._wrap(np.asarray(a), False)


def linear(x, weight, bias=None, activation_name="none"):
    """x W^T + b (the recurrent ops' h W_hh^T + b_hh; no activation)."""
    if activation_name != "none":
        raise NotImplementedError(f"backward(create_graph=True): linear with activation {activation_name!r}")
    y = _t(x) @ _t(weight).transpose(0, 1)
    return y if bias is None else y + _t(bias)


def lstm_cell(gi, gh, c):
    """a = gi + gh in blocks (i, f, g, o): i, f, o = sigmoid, g = tanh;  c' = f c + i g,  h' = o tanh(c').
    Returns (h', c', gates (i, f, g, o) activated)."""
    i, f, g, o = (_t(gi) + _t(gh)).chunk(4, 1)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    c_new = f * _t(c) + i * g
    return o * c_new.tanh(), c_new, Concatenate.apply(i, f, g, o, axis=1)


def lstm_cell_backward(gates, c, c_new, grad_h, grad_c):
    """With t = tanh(c'): dc' = grad_c + grad_h o (1 - t^2);
    da = (dc' g i (1-i), dc' c f (1-f), dc' i (1-g^2), grad_h t o (1-o));  returns (da, dc' f)."""
    i, f, g, o = _t(gates).chunk(4, 1)
    t, grad_h = _t(c_new).tanh(), _t(grad_h)
    dc = _t(grad_c) + grad_h * o * (1.0 - t * t)
    da = Concatenate.apply(dc * g * i * (1.0 - i), dc * _t(c) * f * (1.0 - f), dc * i * (1.0 - g * g),
                           grad_h * t * o * (1.0 - o), axis=1)
    return da, dc * f


def gru_cell(gi, gh, h):
    """Blocks (r, z, n): r, z = sigmoid(gi + gh), n = tanh(gi_n + r gh_n);  h' = (1 - z) n + z h.
    Returns (h', saved (r, z, n, gh_n))."""
    k, gi, gh, h = h.shape[1], _t(gi), _t(gh), _t(h)
    rz = (gi[:, :2 * k] + gh[:, :2 * k]).sigmoid()
    r, z = rz[:, :k], rz[:, k:]
    n = (gi[:, 2 * k:] + r * gh[:, 2 * k:]).tanh()
    return (1.0 - z) * n + z * h, Concatenate.apply(rz, n, gh[:, 2 * k:], axis=1)


def gru_cell_backward(saved, h, grad_h):
    """dn = grad_h (1 - z)(1 - n^2), dz = grad_h (h - n) z (1 - z), dr = dn gh_n r (1 - r):
    returns (dgi = (dr, dz, dn), dgh = (dr, dz, dn r), the direct dh = grad_h z)."""
    r, z, n, gh_n = _t(saved).chunk(4, 1)
    grad_h = _t(grad_h)
    dn = grad_h * (1.0 - z) * (1.0 - n * n)
    dz = grad_h * (_t(h) - n) * z * (1.0 - z)
    dr = dn * gh_n * r * (1.0 - r)
    return Concatenate.apply(dr, dz, dn, axis=1), Concatenate.apply(dr, dz, dn * r, axis=1), grad_h * z


def _steps(inputs, first_state, reverse):
    """(gi, states, w_hh, b_hh) from the op's inputs, and the order its steps were taken in."""
    gi, w_hh = inputs[0], inputs[first_state]
    b_hh = inputs[first_state + 1] if len(inputs) > first_state + 1 else None
    order = range(gi.shape[0] - 1, -1, -1) if reverse else range(gi.shape[0])
    return gi, inputs[1:first_state], w_hh, b_hh, order


def recorded_lstm_steps(inputs, reverse):
    """LSTMSequence's forward again on its input Tensors (gi, h0, c0, w_hh[, b_hh]), recorded:
    (states (2, L + 1, N, H), gates (L, N, 4H)) as the op saved them, in the order of the steps."""
    gi, (h, c), w_hh, b_hh, order = _steps(inputs, 3, reverse)
    hs, cs, gates = [h], [c], []
    for t in order:
        h, c, a = lstm_cell(gi[t], linear(h, w_hh, b_hh), c)
        hs.append(h)
        cs.append(c)
        gates.append(a)
    return Stack.apply(Stack.apply(*hs), Stack.apply(*cs)), Stack.apply(*gates)


def recorded_gru_steps(inputs, reverse):
    """GRUSequence's forward again on its input Tensors (gi, h0, w_hh[, b_hh]), recorded:
    (states (L + 1, N, H), saved (L, N, 4H)) as the op saved them, in the order of the steps."""
    gi, (h,), w_hh, b_hh, order = _steps(inputs, 2, reverse)
    hs, saved = [h], []
    for t in order:
        h, s = gru_cell(gi[t], linear(h, w_hh, b_hh), h)
        hs.append(h)
        saved.append(s)
    return Stack.apply(*hs), Stack.apply(*saved)


RECURRENT = {"linear": linear, "lstm_cell": lstm_cell, "lstm_cell_backward": lstm_cell_backward,
             "gru_cell": gru_cell, "gru_cell_backward": gru_cell_backward,
             "prod": lambda x, axis=None, keepdims=False: Prod.apply(x, axis=axis, keepdims=keepdims),
             "cumprod": lambda x, axis: Cumprod.apply(x, axis=axis)}
