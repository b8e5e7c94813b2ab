"""Converters of the single-step recurrent cells (nn.RNNCell, nn.LSTMCell, nn.GRUCell): one step written out
of Gemm, Add, Split, Sigmoid, Tanh and Mul, in PyTorch's gate order (Elman 1990; Hochreiter & Schmidhuber
1997; Cho et al. 2014). With a_x = x W_ihᵀ + b_ih (Gemm, transB=1) and a_h = h W_hhᵀ + b_hh:

    RNNCell   h' = tanh(a_x + a_h)  (or relu)
    LSTMCell  i, f, g, o = Split(a_x + a_h);  c' = σ(f) c + σ(i) tanh(g);  h' = σ(o) tanh(c')
    GRUCell   r_x, z_x, n_x = Split(a_x);  r_h, z_h, n_h = Split(a_h);  r = σ(r_x + r_h), z = σ(z_x + z_h),
              n = tanh(n_x + r n_h);  h' = (1 - z) n + z h

The graph inputs are PyTorch's arguments flattened: export(cell, x) or export(cell, (x, h)); an LSTMCell's
(x, (h, c)) is three inputs x, h, c, and it has two outputs h', c'. Without a state (h = c = 0) a_h is
b_hh alone, and the terms in h and c drop out. Batched inputs (N, input_size) only: the batch is the graph's
dynamic axis.
"""
import numpy as np

from ..nn.recurrent import GRUCell, LSTMCell, RNNCell
from .graph import RUNNERS, converter


def _inputs(g, layer, x, value):
    """(x, h or None, c or None) names, x checked to be (N, input_size)."""
    names = x if isinstance(x, tuple) else (x,)
    first = value[0] if isinstance(value, tuple) else value
    if first.ndim != 2:
        raise ValueError(f"onnx.export: layer {g.layer!r} ({type(layer).__name__}) on an input of shape "
                         f"{first.shape}: tinynn exports a batched input (N, input_size)")
    return tuple(names) + (None,) * (3 - len(names))


def _affine(g, layer, x, which):
    """x W_whichᵀ + b_which (Gemm), or b_which alone (or None) when x is None (a zero state)."""
    bias = getattr(layer, f"bias_{which}")
    if x is None:
        return None if bias is None else g.initializer(bias, f"bias_{which}")
    inputs = [x, g.initializer(getattr(layer, f"weight_{which}"), f"weight_{which}")]
    if bias is not None:
        inputs.append(g.initializer(bias, f"bias_{which}"))
    return g.node("Gemm", inputs, transB=1)


def _add(g, a, b):
    return a if b is None else b if a is None else g.node("Add", [a, b])


def _split(g, layer, a, parts):
    return g.node("Split", [a, g.initializer(np.full(parts, layer.hidden_size, np.int64), "split")], outputs=parts,
                  axis=1)


@converter(RNNCell, inputs=(1, 2))
def rnn_cell(g, layer, x, value):
    x, h, _ = _inputs(g, layer, x, value)
    pre = _add(g, _affine(g, layer, x, "ih"), _affine(g, layer, h, "hh"))
    return g.node("Tanh" if layer.nonlinearity == "tanh" else "Relu", [pre])


@converter(LSTMCell, inputs=(1, 3))
def lstm_cell(g, layer, x, value):
    x, h, c = _inputs(g, layer, x, value)
    i, f, gate, o = _split(g, layer, _add(g, _affine(g, layer, x, "ih"), _affine(g, layer, h, "hh")), 4)
    c_new = g.node("Mul", [g.node("Sigmoid", [i]), g.node("Tanh", [gate])])
    if c is not None:
        c_new = g.node("Add", [g.node("Mul", [g.node("Sigmoid", [f]), c]), c_new])
    return g.node("Mul", [g.node("Sigmoid", [o]), g.node("Tanh", [c_new])]), c_new


@converter(GRUCell, inputs=(1, 2))
def gru_cell(g, layer, x, value):
    x, h, _ = _inputs(g, layer, x, value)
    r_x, z_x, n_x = _split(g, layer, _affine(g, layer, x, "ih"), 3)
    if h is not None:
        r_h, z_h, n_h = _split(g, layer, _affine(g, layer, h, "hh"), 3)
    elif layer.bias_hh is not None:  # a zero state: a_h = b_hh, its three blocks
        r_h, z_h, n_h = (g.initializer(b, f"bias_hh_{k}") for b, k in zip(np.split(layer.bias_hh._data, 3), "rzn"))
    else:
        r_h = z_h = n_h = None
    r, z = g.node("Sigmoid", [_add(g, r_x, r_h)]), g.node("Sigmoid", [_add(g, z_x, z_h)])
    n = g.node("Tanh", [n_x if n_h is None else g.node("Add", [n_x, g.node("Mul", [r, n_h])])])
    one = g.constant(1.0, np.float32, "one")
    y = g.node("Mul", [g.node("Sub", [one, z]), n])
    return y if h is None else g.node("Add", [y, g.node("Mul", [z, h])])


def _lstm_runner(cell, x, h=None, c=None):
    """An LSTMCell called on the graph's flat inputs: cell(x) or cell(x, (h, c))."""
    return cell(x) if h is None else cell(x, (h, c))


RUNNERS[LSTMCell] = _lstm_runner
