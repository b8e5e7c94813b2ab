"""The reference backend's recurrent kernels (re-exported by reference.py): the pointwise part of
one LSTM step, forward and backward, with the gate blocks in PyTorch's order (i, f, g, o)."""
import numpy as np


def _sigmoid(x):
    """sigmoid(x) = (1 + tanh(x / 2)) / 2: the same function as reference.sigmoid, which this
    file cannot import (reference.py imports it), and it never overflows."""
    return 0.5 + 0.5 * np.tanh(0.5 * x)


def lstm_cell(gi, gh, c):
    """One LSTM step after its two products: a = gi + gh (N, 4H) split into (i, f, g, o) blocks,
    i, f, o = sigmoid, g = tanh;  c' = f c + i g,  h' = o tanh(c').
    Returns (h', c', gates) with gates (N, 4H) the activated (i, f, g, o), which backward needs."""
    n = c.shape[1]
    a = gi + gh
    gates = np.concatenate([_sigmoid(a[:, :2 * n]), np.tanh(a[:, 2 * n:3 * n]), _sigmoid(a[:, 3 * n:])], axis=1)
    i, f, g, o = gates[:, :n], gates[:, n:2 * n], gates[:, 2 * n:3 * n], gates[:, 3 * n:]
    c_new = f * c + i * g
    return o * np.tanh(c_new), c_new, gates


def lstm_cell_backward(gates, c, c_new, grad_h, grad_c):
    """Gradients of lstm_cell from dL/dh' and dL/dc': with t = tanh(c'),
    dc' = grad_c + grad_h o (1 - t^2);  da = (dc' g i(1-i), dc' c f(1-f), dc' i (1-g^2), grad_h t o(1-o));
    dc = dc' f. Returns (da (N, 4H), the gradient of gi and gh alike, and dc (N, H))."""
    n = c.shape[1]
    i, f, g, o = gates[:, :n], gates[:, n:2 * n], gates[:, 2 * n:3 * n], gates[:, 3 * n:]
    t = np.tanh(c_new)
    dc = grad_c + grad_h * o * (1 - t * t)
    da = np.concatenate([dc * g * i * (1 - i), dc * c * f * (1 - f), dc * i * (1 - g * g),
                         grad_h * t * o * (1 - o)], axis=1)
    return da, dc * f


def gru_cell(gi, gh, h):
    """One GRU step after its two products gi = x W_ih^T + b_ih, gh = h W_hh^T + b_hh (N, 3H), in
    blocks (r, z, n): r = sigmoid(gi_r + gh_r), z = sigmoid(gi_z + gh_z), n = tanh(gi_n + r gh_n),
    h' = (1 - z) n + z h. Returns (h', saved) with saved (N, 4H) = (r, z, n, gh_n) for backward."""
    k = h.shape[1]
    rz = _sigmoid(gi[:, :2 * k] + gh[:, :2 * k])
    r, z = rz[:, :k], rz[:, k:]
    n = np.tanh(gi[:, 2 * k:] + r * gh[:, 2 * k:])
    return (1 - z) * n + z * h, np.concatenate([rz, n, gh[:, 2 * k:]], axis=1)


def gru_cell_backward(saved, h, grad_h):
    """Gradients of gru_cell from dL/dh': with dn = grad_h (1 - z)(1 - n^2), dz = grad_h (h - n) z (1-z),
    dr = dn gh_n r (1-r):  dgi = (dr, dz, dn),  dgh = (dr, dz, dn r),  dh = grad_h z (the direct path;
    the path through gh is dgh W_hh, for the caller). Returns (dgi, dgh, dh)."""
    k = h.shape[1]
    r, z, n, gh_n = saved[:, :k], saved[:, k:2 * k], saved[:, 2 * k:3 * k], saved[:, 3 * k:]
    dn = grad_h * (1 - z) * (1 - n * n)
    dz = grad_h * (h - n) * z * (1 - z)
    dr = dn * gh_n * r * (1 - r)
    return np.concatenate([dr, dz, dn], axis=1), np.concatenate([dr, dz, dn * r], axis=1), grad_h * z
