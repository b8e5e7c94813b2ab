"""The recurrent cell kernels (backend/reference_recurrent.py) as compositions of recorded ops for
`Differentiable`, so their derivatives are the ops', to any order; the sequence ops' recorded steps
(their create_graph recompute); prod and cumprod as their ops."""
from .array_or_tensor import constant
from .layers import Linear
from .shape import Concatenate, Stack
from .statistics import Cumprod, Prod


def lstm_cell(gi, gh, c):
    """(i, f, g, o) = sigmoid, sigmoid, tanh, sigmoid of the blocks of gi + gh;  c' = f c + i g,
    h' = o tanh(c'). Returns (h', c', the activated gates)."""
    gi, gh, c = map(constant, (gi, gh, c))
    i, f, g, o = (gi + gh).chunk(4, 1)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    c_new = f * c + i * g
    return o * c_new.tanh(), c_new, Concatenate.apply(i, f, g, o, axis=1)


def lstm_cell_backward(gates, c, c_new, grad_h, grad_c):
    """With t = tanh(c'), dc' = grad_c + grad_h o (1 - t^2): returns
    (da = (dc' g i (1-i), dc' c f (1-f), dc' i (1-g^2), grad_h t o (1-o)), dc' f)."""
    gates, c, c_new, grad_h, grad_c = map(constant, (gates, c, c_new, grad_h, grad_c))
    i, f, g, o = gates.chunk(4, 1)
    t = c_new.tanh()
    dc = grad_c + grad_h * o * (1.0 - t * t)
    return Concatenate.apply(dc * g * i * (1.0 - i), dc * c * f * (1.0 - f), dc * i * (1.0 - g * g),
                             grad_h * t * o * (1.0 - o), axis=1), dc * f


def gru_cell(gi, gh, h):
    """r, z = sigmoid(gi + gh) (blocks r, z), n = tanh(gi_n + r gh_n);  h' = (1 - z) n + z h.
    Returns (h', saved = (r, z, n, gh_n))."""
    k, (gi, gh, h) = h.shape[1], map(constant, (gi, gh, h))
    rz = (gi[:, :2 * k] + gh[:, :2 * k]).sigmoid()
    r, z = rz[:, :k], rz[:, k:]
    n = (gi[:, 2 * k:] + r * gh[:, 2 * k:]).tanh()
    return (1.0 - z) * n + z * h, Concatenate.apply(rz, n, gh[:, 2 * k:], axis=1)


def gru_cell_backward(saved, h, grad_h):
    """dn = grad_h (1 - z)(1 - n^2), dz = grad_h (h - n) z (1 - z), dr = dn gh_n r (1 - r):
    returns (dgi = (dr, dz, dn), dgh = (dr, dz, dn r), the direct dh = grad_h z)."""
    saved, h, grad_h = map(constant, (saved, h, grad_h))
    r, z, n, gh_n = saved.chunk(4, 1)
    dn = grad_h * (1.0 - z) * (1.0 - n * n)
    dz = grad_h * (h - n) * z * (1.0 - z)
    dr = dn * gh_n * r * (1.0 - r)
    return Concatenate.apply(dr, dz, dn, axis=1), Concatenate.apply(dr, dz, dn * r, axis=1), grad_h * z


def linear(x, weight, bias, activation_name="none"):
    """act(x W^T + b), the Linear op."""
    return Linear.apply(x, weight, *([] if bias is None else [bias]), activation=activation_name)


def recorded_steps(cell, count, inputs, reverse):
    """A sequence op's forward again, recorded, from its inputs (gi, `count` initial states, w_hh[, b_hh])
    and direction: (its states, stacked as it saved them, and `cell`'s per-step arrays, stacked).
    Called at recompute time (not closed over at import), so each call runs this code as it is now."""
    gi, states, w_hh = inputs[0], list(inputs[1:1 + count]), inputs[1 + count]
    b_hh = inputs[2 + count] if len(inputs) > 2 + count else None
    history = [[s] for s in states] + [[]]  # each state's values, then the cell's per-step arrays
    for t in range(gi.shape[0] - 1, -1, -1) if reverse else range(gi.shape[0]):
        *states, step = cell(gi[t], linear(states[0], w_hh, b_hh), states[-1])
        for past, value in zip(history, (*states, step)):
            past.append(value)
    *joined, saved = [Stack.apply(*past) for past in history]
    return joined[0] if count == 1 else Stack.apply(*joined), saved


RECURRENT = {"linear": linear, "lstm_cell": lstm_cell, "lstm_cell_backward": lstm_cell_backward,
             "gru_cell": gru_cell, "gru_cell_backward": gru_cell_backward,
             "prod": lambda x, axis=None, keepdims=False: Prod.apply(x, axis=axis, keepdims=keepdims),
             "cumprod": lambda x, axis: Cumprod.apply(x, axis=axis)}
