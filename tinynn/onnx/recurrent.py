"""Converters of the recurrent layers RNN, LSTM and GRU to ONNX's RNN, LSTM and GRU operators, one
operator per layer of the stack (direction "bidirectional" when the layer is).

ONNX stacks the gate blocks in another order than PyTorch, so the rows of each weight and bias are
permuted block by block:

    LSTM   PyTorch (i, f, g, o) -> ONNX (i, o, f, c):  blocks [0, 3, 1, 2]
    GRU    PyTorch (r, z, n)    -> ONNX (z, r, h):     blocks [1, 0, 2], with linear_before_reset=1
           (PyTorch's n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)): the reset gate multiplies
           the hidden state's product after its bias, which is ONNX's linear_before_reset=1)
    RNN    one block; activations Tanh or Relu

W = [W_ih], R = [W_hh], B = [b_ih, b_hh] per direction (forward, then reverse). ONNX's layout 0 is
PyTorch's (seq, batch, feature): a batch_first input is transposed in and out. Y (seq, D, N, H)
becomes PyTorch's (seq, N, D H) by Transpose [0, 2, 1, 3] and Reshape [0, 0, -1], which is also
the next layer's input; the final states of the layers are concatenated into (D layers, N, H).
"""
import numpy as np

from ..nn.recurrent import GRU, LSTM, RNN
from .graph import converter

ORDER = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2], "RNN_TANH": [0], "RNN_RELU": [0]}


def _blocks(w, order):
    blocks = np.split(np.asarray(w._data), len(order), axis=0)
    return np.concatenate([blocks[i] for i in order], axis=0)


def _weights(layer, k):
    """(W, R, B or None) of layer k of the stack, directions stacked on axis 0, gates in ONNX's order."""
    order = ORDER[layer.mode]
    ws, rs, bs = [], [], []
    for suffix in layer._suffixes(k):
        w_ih, w_hh, b_ih, b_hh = layer._weights(suffix)
        ws.append(_blocks(w_ih, order))
        rs.append(_blocks(w_hh, order))
        if b_ih is not None:
            bs.append(np.concatenate([_blocks(b_ih, order), _blocks(b_hh, order)]))
    return np.stack(ws), np.stack(rs), np.stack(bs) if bs else None


@converter(RNN, LSTM, GRU)
def recurrent(g, layer, x, value):
    if value.ndim != 3:
        raise ValueError(f"onnx.export: layer {g.layer!r} ({type(layer).__name__}) on an input of shape "
                         f"{value.shape}: tinynn exports batched (3-D) sequences")
    lstm, d = layer.mode == "LSTM", 2 if layer.bidirectional else 1
    op = {"LSTM": "LSTM", "GRU": "GRU"}.get(layer.mode, "RNN")
    attrs = {"hidden_size": layer.hidden_size, "direction": "bidirectional" if d == 2 else "forward"}
    if op == "GRU":
        attrs["linear_before_reset"] = 1
    if op == "RNN":
        attrs["activations"] = ["Tanh" if layer.mode == "RNN_TANH" else "Relu"] * d
    if layer.batch_first:
        x = g.node("Transpose", [x], perm=[1, 0, 2])
    finals = [[], []]
    for k in range(layer.num_layers):
        w, r, b = _weights(layer, k)
        inputs = [x, g.initializer(w, f"W_l{k}"), g.initializer(r, f"R_l{k}")]
        if b is not None:
            inputs.append(g.initializer(b, f"B_l{k}"))
        outs = g.node(op, inputs, outputs=3 if lstm else 2, **attrs)
        y = g.node("Transpose", [outs[0]], perm=[0, 2, 1, 3])
        x = g.node("Reshape", [y, g.constant([0, 0, -1], np.int64, "seq_shape")])
        for acc, state in zip(finals, outs[1:]):
            acc.append(state)
    states = [acc[0] if len(acc) == 1 else g.node("Concat", acc, axis=0) for acc in finals if acc]
    if layer.batch_first:
        x = g.node("Transpose", [x], perm=[1, 0, 2])
    return (x, tuple(states)) if lstm else (x, states[0])
