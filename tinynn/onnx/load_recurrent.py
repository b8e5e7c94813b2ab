"""ONNX's LSTM, GRU and RNN operators as tinynn's one-layer LSTM, GRU and RNN: the inverse of
recurrent.py. The gate blocks of W, R and B are put back in PyTorch's order (ORDER read backwards),
and the layer's outputs reshaped to the operator's:

    Y    (seq, D, N, H)  = output (seq, N, D H) reshaped to (seq, N, D, H), axes 1 and 2 swapped
    Y_h  (D, N, H)       = h_n;   Y_c (D, N, H) = c_n (LSTM)

with layout 0 (sequence first) and zero initial states. What tinynn's layers do not compute (initial
states or sequence lengths as inputs, peepholes, clip, other activations, GRU's
linear_before_reset=0, a reverse-only direction) is an error naming the node.
"""
import numpy as np

from .. import nn
from .load_ops import attrs, refuse
from .recurrent import ORDER

__all__ = ["recurrent", "OnnxRecurrent"]

DEFAULT_ACTIVATIONS = {"LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"]}


class OnnxRecurrent(nn.Module):
    """One ONNX LSTM/GRU/RNN node: `rnn` (a tinynn layer, sequence first) with the node's outputs
    (Y, Y_h[, Y_c]) shaped as ONNX's."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        y, states = self.rnn(x)
        d = 2 if self.rnn.bidirectional else 1
        y = y.reshape(y.shape[0], y.shape[1], d, self.rnn.hidden_size).permute(0, 2, 1, 3)
        return (y, *states) if isinstance(states, tuple) else (y, states)


def _mode(node, a):
    if node.op_type != "RNN":
        expected = DEFAULT_ACTIVATIONS[node.op_type]
        given = a.get("activations")
        if given is not None and [g.decode() if isinstance(g, bytes) else g for g in given][:len(expected)] != expected:
            refuse(node, f"activations {given}; tinynn's {node.op_type} uses {expected}")
        if node.op_type == "GRU" and a.get("linear_before_reset", 0) != 1:
            refuse(node, "linear_before_reset=0; tinynn's GRU (PyTorch's) applies the reset gate after the "
                         "hidden state's product and bias (linear_before_reset=1)")
        return node.op_type
    acts = {g.decode() if isinstance(g, bytes) else g for g in a.get("activations", ["Tanh"])}
    if acts not in ({"Tanh"}, {"Relu"}):
        refuse(node, f"activations {sorted(acts)}; tinynn's RNN uses Tanh or Relu")
    return "RNN_TANH" if acts == {"Tanh"} else "RNN_RELU"


def _pytorch_order(w, order):
    """Rows of w (ONNX's gate blocks, in `order`'s places) back in PyTorch's order."""
    blocks = np.split(np.asarray(w, np.float32), len(order), axis=0)
    return np.concatenate([blocks[order.index(i)] for i in range(len(order))], axis=0)


def recurrent(node, ctx):
    """The OnnxRecurrent of an LSTM, GRU or RNN node with constant W, R (and B)."""
    a = attrs(node)
    names = list(node.input) + [""] * (8 - len(node.input))
    if any(n and n not in ctx.consts for n in names[1:4]):
        refuse(node, "tinynn reads recurrent nodes whose W, R and B are constants")
    if any(names[4:]):
        refuse(node, "sequence_lens, initial states and peepholes are inputs tinynn's layers do not take")
    if a.get("layout", 0) != 0 or a.get("clip") is not None or a.get("input_forget", 0):
        refuse(node, "tinynn reads layout=0, no clip, input_forget=0")
    direction = a.get("direction", "forward")
    if direction not in ("forward", "bidirectional"):
        refuse(node, f"direction {direction!r}; tinynn reads forward and bidirectional")
    mode = _mode(node, a)
    w, r = ctx.consts[names[1]], ctx.consts[names[2]]
    b = ctx.consts[names[3]] if names[3] else None
    hidden, order = int(a["hidden_size"]), ORDER[mode]
    cls = {"LSTM": nn.LSTM, "GRU": nn.GRU}.get(mode, nn.RNN)
    extra = {} if cls is not nn.RNN else {"nonlinearity": "tanh" if mode == "RNN_TANH" else "relu"}
    rnn = cls(w.shape[2], hidden, bias=b is not None, bidirectional=direction == "bidirectional", **extra)
    for d, suffix in enumerate(rnn._suffixes(0)):
        params = rnn._weights(suffix)
        values = [w[d], r[d]] + ([] if b is None else np.split(b[d], 2))
        for param, value in zip(params, values):
            param._data[...] = _pytorch_order(value, order)
    return OnnxRecurrent(rnn)
