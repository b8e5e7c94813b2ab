"""Recurrent layers with PyTorch's formulas, gate order, weight names, shapes and init:
RNNCell, LSTMCell, GRUCell (one time step) and RNN, LSTM, GRU (stacked, optionally bidirectional,
over a whole sequence).

With x_t the input, h the previous hidden state (and c the previous cell state), sigma the logistic
function and * the elementwise product, one step computes (Elman 1990; Hochreiter & Schmidhuber
1997 with the forget gate of Gers et al. 2000; Cho et al. 2014):

    RNN:   h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh),   act = tanh or relu
    LSTM:  (i, f, g, o) = split_4(x W_ih^T + b_ih + h W_hh^T + b_hh)
           c' = sigma(f) * c + sigma(i) * tanh(g),   h' = sigma(o) * tanh(c')
    GRU:   (r, z, n) with r = sigma(x W_ir^T + b_ir + h W_hr^T + b_hr), z likewise,
           n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)),   h' = (1 - z) * n + z * h

The gate blocks are stacked along the rows of each weight in that order: W_ih is (4H, in) for an
LSTM (i, f, g, o), (3H, in) for a GRU (r, z, n). Every weight and bias starts as U(-k, k) with
k = 1 / sqrt(hidden_size).
"""
import math

import numpy as np

from .. import ops
from ..ops.recurrent import GRUSequence, LSTMSequence
from ..tensor import Tensor, check_device
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter
from .rnn_utils import PackedSequence, packed_layer

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}  # gate blocks per weight, by mode


def _linear(x, weight, bias):
    return ops.Linear.apply(x, weight) if bias is None else ops.Linear.apply(x, weight, bias)


def rnn_step(gi, h, w_hh, b_hh, nonlinearity="tanh"):
    """h' = act(gi + h W_hh^T + b_hh) where gi = x W_ih^T + b_ih."""
    pre = gi + _linear(h, w_hh, b_hh)
    return pre.tanh() if nonlinearity == "tanh" else pre.relu()


def lstm_step(gi, h, c, w_hh, b_hh):
    """(h', c') of one LSTM step, gi = x W_ih^T + b_ih holding the (i, f, g, o) blocks."""
    i, f, g, o = (gi + _linear(h, w_hh, b_hh)).chunk(4, 1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c.tanh(), c


def gru_step(gi, h, w_hh, b_hh):
    """h' of one GRU step, gi = x W_ih^T + b_ih holding the (r, z, n) blocks."""
    i_r, i_z, i_n = gi.chunk(3, 1)
    h_r, h_z, h_n = _linear(h, w_hh, b_hh).chunk(3, 1)
    r, z = (i_r + h_r).sigmoid(), (i_z + h_z).sigmoid()
    n = (i_n + r * h_n).tanh()
    return (1 - z) * n + z * h  # not n + z (h - n): with z = 1 this keeps h exactly


def _check_size(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _reset(module):
    bound = 1.0 / math.sqrt(module.hidden_size)
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


def _check_hidden(layer, what, h, expected, dtype):
    if not isinstance(h, Tensor):
        raise TypeError(f"{layer}: {what} must be a Tensor, got {type(h).__name__}")
    if tuple(h.shape) != tuple(expected):
        raise ValueError(f"{layer}: expected {what} of shape {tuple(expected)}, got {tuple(h.shape)}")
    if h.dtype != dtype:
        raise TypeError(f"{layer}: {what} has dtype {h.dtype} but the input has {dtype}")


def _check_input(layer, x, input_size, ndims, dtype):
    if not isinstance(x, Tensor):
        raise TypeError(f"{layer}: input must be a Tensor, got {type(x).__name__}")
    if x.dtype != dtype:  # as PyTorch: no silent promotion, which would give the weights gradients of another dtype
        raise TypeError(f"{layer}: input has dtype {x.dtype} but the weights have {dtype}; convert one "
                        f"(input.to({str(dtype)!r}) or layer.to({str(x.dtype)!r}))")
    if x.ndim not in ndims:
        raise ValueError(f"{layer}: expected a {' or '.join(f'{d}-D' for d in ndims)} input, got shape {tuple(x.shape)}")
    if x.shape[-1] != input_size:
        raise ValueError(f"{layer}: input has {x.shape[-1]} features but input_size is {input_size} "
                         f"(input shape {tuple(x.shape)})")


class _CellBase(Module):
    """Weights of one recurrent step: weight_ih (G*H, in), weight_hh (G*H, H), bias_ih, bias_hh (G*H,)."""

    gates = 1

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        check_device(device, name)
        self.input_size = _check_size(f"{name}: input_size", input_size)
        self.hidden_size = _check_size(f"{name}: hidden_size", hidden_size)
        self.bias = bool(bias)
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        rows = self.gates * self.hidden_size
        self.weight_ih = Parameter(np.empty((rows, self.input_size), dtype))
        self.weight_hh = Parameter(np.empty((rows, self.hidden_size), dtype))
        for b in ("bias_ih", "bias_hh"):
            if bias:
                setattr(self, b, Parameter(np.empty((rows,), dtype)))
            else:
                self.register_parameter(b, None)
        self.reset_parameters()

    def reset_parameters(self):
        _reset(self)

    def _begin(self, x, hx, states):
        """(x as (N, in), the states as (N, H) each, whether the input was unbatched)."""
        name = type(self).__name__
        _check_input(name, x, self.input_size, (1, 2), self.weight_ih.dtype)
        unbatched = x.ndim == 1
        if unbatched:
            x = x.unsqueeze(0)
        shape = (x.shape[0], self.hidden_size)
        if hx is None:
            return x, [Tensor._wrap(np.zeros(shape, x.dtype), False) for _ in range(states)], unbatched
        hx = list(hx) if states > 1 else [hx]
        for k, h in enumerate(hx):
            what = ("h", "c")[k] if states > 1 else "hx"
            _check_hidden(name, what, h, shape[1:] if unbatched else shape, x.dtype)
        return x, [h.unsqueeze(0) if unbatched else h for h in hx], unbatched

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_CellBase):
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act = tanh (default) or relu."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; choose 'tanh' or 'relu'")
        self.__dict__["nonlinearity"] = nonlinearity
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        x, (h,), unbatched = self._begin(input, hx, 1)
        h = rnn_step(_linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh, self.nonlinearity)
        return h.squeeze(0) if unbatched else h


class LSTMCell(_CellBase):
    """(h', c') = one LSTM step; gates (i, f, g, o) stacked in weight_ih (4H, in), weight_hh (4H, H)."""

    gates = 4

    def forward(self, input, hx=None):
        x, (h, c), unbatched = self._begin(input, hx, 2)
        h, c = lstm_step(_linear(x, self.weight_ih, self.bias_ih), h, c, self.weight_hh, self.bias_hh)
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)


class GRUCell(_CellBase):
    """h' = one GRU step; gates (r, z, n) stacked in weight_ih (3H, in), weight_hh (3H, H)."""

    gates = 3

    def forward(self, input, hx=None):
        x, (h,), unbatched = self._begin(input, hx, 1)
        h = gru_step(_linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh)
        return h.squeeze(0) if unbatched else h


def run_direction(mode, gi, states, w_hh, b_hh, reverse=False):
    """Run one layer in one direction over gi (L, N, G*H) = x W_ih^T + b_ih, step by step with the
    composable ops: returns (outputs (L, N, H), final states). The plain path that the fused op of
    ops/recurrent.py is tested against."""
    steps = range(gi.shape[0] - 1, -1, -1) if reverse else range(gi.shape[0])
    outs = []
    for t in steps:
        if mode == "LSTM":
            states = lstm_step(gi[t], *states, w_hh, b_hh)
        elif mode == "GRU":
            states = (gru_step(gi[t], states[0], w_hh, b_hh),)
        else:
            states = (rnn_step(gi[t], states[0], w_hh, b_hh, "tanh" if mode == "RNN_TANH" else "relu"),)
        outs.append(states[0])
    if reverse:
        outs.reverse()
    return ops.stack(outs, 0), states


def run_layer(mode, gi, states, w_hh, b_hh, reverse=False):
    """run_direction's result; an LSTM or a GRU runs as one fused op (ops.recurrent)."""
    if mode == "GRU":
        out = GRUSequence.apply(gi, states[0], w_hh, *([] if b_hh is None else [b_hh]), reverse=reverse)
        return out, (out[0 if reverse else -1],)
    if mode != "LSTM":
        return run_direction(mode, gi, states, w_hh, b_hh, reverse)
    y = LSTMSequence.apply(gi, *states, w_hh, *([] if b_hh is None else [b_hh]), reverse=reverse)
    hidden, last = states[0].shape[-1], 0 if reverse else -1
    return y[:, :, :hidden], (y[last, :, :hidden], y[last, :, hidden:])


class RNNBase(Module):
    """A stack of `num_layers` recurrent layers over a sequence; layer k > 0 reads the outputs of
    layer k - 1 (both directions concatenated), with dropout between layers in training."""

    mode = "RNN_TANH"

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        check_device(device, name)
        if proj_size:
            raise NotImplementedError(f"{name}: proj_size={proj_size} (projected LSTM) is not implemented in tinynn")
        self.input_size = _check_size(f"{name}: input_size", input_size)
        self.hidden_size = _check_size(f"{name}: hidden_size", hidden_size)
        self.num_layers = _check_size(f"{name}: num_layers", num_layers)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{name}: dropout must be a number in [0, 1], got {dropout!r}")
        self.bias, self.batch_first, self.bidirectional = bool(bias), bool(batch_first), bool(bidirectional)
        self.dropout, self.proj_size = float(dropout), 0
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        rows = GATES[self.mode] * self.hidden_size
        directions = 2 if self.bidirectional else 1
        for layer in range(self.num_layers):
            width = self.input_size if layer == 0 else self.hidden_size * directions
            for suffix in self._suffixes(layer):
                setattr(self, f"weight_ih{suffix}", Parameter(np.empty((rows, width), dtype)))
                setattr(self, f"weight_hh{suffix}", Parameter(np.empty((rows, self.hidden_size), dtype)))
                if self.bias:
                    setattr(self, f"bias_ih{suffix}", Parameter(np.empty((rows,), dtype)))
                    setattr(self, f"bias_hh{suffix}", Parameter(np.empty((rows,), dtype)))
        self.reset_parameters()

    def _suffixes(self, layer):
        return (f"_l{layer}", f"_l{layer}_reverse") if self.bidirectional else (f"_l{layer}",)

    def reset_parameters(self):
        _reset(self)

    def flatten_parameters(self):
        """Nothing to do: PyTorch packs the weights into one buffer for cuDNN; tinynn reads them as they are."""

    @property
    def all_weights(self):
        """[[weight_ih, weight_hh, bias_ih, bias_hh] (no biases if bias=False)] per layer and direction."""
        return [[p for p in self._weights(suffix) if p is not None]
                for layer in range(self.num_layers) for suffix in self._suffixes(layer)]

    def _weights(self, suffix):
        p = self._parameters
        return (p[f"weight_ih{suffix}"], p[f"weight_hh{suffix}"], p.get(f"bias_ih{suffix}"), p.get(f"bias_hh{suffix}"))

    def _initial(self, x, hx, unbatched):
        """The initial states as a list of (D*num_layers, N, H) tensors (h, and c for an LSTM)."""
        name, states = type(self).__name__, 2 if self.mode == "LSTM" else 1
        shape = ((2 if self.bidirectional else 1) * self.num_layers, x.shape[1], self.hidden_size)
        if hx is None:
            return [Tensor._wrap(np.zeros(shape, x.dtype), False) for _ in range(states)]
        if states == 2 and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"{name}: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
        hx = list(hx) if states == 2 else [hx]
        for what, h in zip(("h_0", "c_0"), hx):
            _check_hidden(name, what, h, (shape[0], shape[2]) if unbatched else shape, x.dtype)
        return [h.unsqueeze(1) if unbatched else h for h in hx]

    def _step(self, w_hh, b_hh):
        """step(gi_t, *states) -> new states, for packed_layer."""
        if self.mode == "LSTM":
            return lambda gi, h, c: lstm_step(gi, h, c, w_hh, b_hh)
        if self.mode == "GRU":
            return lambda gi, h: (gru_step(gi, h, w_hh, b_hh),)
        return lambda gi, h: (rnn_step(gi, h, w_hh, b_hh, "tanh" if self.mode == "RNN_TANH" else "relu"),)

    def _forward_packed(self, packed, hx):
        """forward on a PackedSequence: each sequence runs to its own length (rnn_utils.packed_layer);
        hx and h_n are in the batch's original order, as in PyTorch."""
        name, x = type(self).__name__, packed.data
        _check_input(name, x, self.input_size, (2,), self.weight_ih_l0.dtype)
        sizes = packed.batch_sizes
        batch = int(sizes[0]) if len(sizes) else 0
        order = packed.sorted_indices
        if hx is not None and order is not None:
            hx = tuple(h.index_select(1, order) for h in hx) if self.mode == "LSTM" else hx.index_select(1, order)
        initial = self._initial(x[:batch].unsqueeze(0), hx, False)  # reads only (N, dtype)
        x, finals = self._stack(x, initial, 1, lambda xw, w_hh, b_hh, states, reverse: packed_layer(
            self._step(w_hh, b_hh), xw, sizes, tuple(states), reverse))
        if packed.unsorted_indices is not None:
            finals = [s.index_select(1, packed.unsorted_indices) for s in finals]
        out = PackedSequence(x, sizes, packed.sorted_indices, packed.unsorted_indices)
        return (out, tuple(finals)) if self.mode == "LSTM" else (out, finals[0])

    def _stack(self, x, initial, feature_dim, run):
        """The layers (dropout between them in training) and directions of the network over x:
        run(x W_ih^T + b_ih, W_hh, b_hh, initial states, reverse) -> (outputs, final states) runs one
        direction of one layer; the directions' outputs are joined along feature_dim. Returns the last
        layer's outputs and the final states stacked as (layers * directions, ...)."""
        finals = [[] for _ in initial]
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                x = F.dropout(x, self.dropout, True)
            outs = []
            for d, suffix in enumerate(self._suffixes(layer)):
                w_ih, w_hh, b_ih, b_hh = self._weights(suffix)
                k = layer * (2 if self.bidirectional else 1) + d
                out, states = run(_linear(x, w_ih, b_ih), w_hh, b_hh, [s[k] for s in initial], d == 1)
                outs.append(out)
                for acc, s in zip(finals, states):
                    acc.append(s)
            x = outs[0] if len(outs) == 1 else ops.cat(outs, feature_dim)
        return x, [ops.stack(acc, 0) for acc in finals]

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        name = type(self).__name__
        _check_input(name, input, self.input_size, (2, 3), self.weight_ih_l0.dtype)
        unbatched = input.ndim == 2
        x = input.unsqueeze(1) if unbatched else (input.transpose(0, 1) if self.batch_first else input)
        if x.shape[0] == 0:   # (PyTorch: "Expected sequence length to be larger than 0 in RNN")
            raise ValueError(f"{name}: the input sequence has no step (input shape {tuple(input.shape)}); "
                             "a sequence needs at least one")
        initial = self._initial(x, hx, unbatched)
        x, finals = self._stack(x, initial, 2, lambda xw, w_hh, b_hh, states, reverse: run_layer(
            self.mode, xw, states, w_hh, b_hh, reverse))
        if unbatched:
            x, finals = x.squeeze(1), [s.squeeze(1) for s in finals]
        elif self.batch_first:
            x = x.transpose(0, 1)
        return (x, tuple(finals)) if self.mode == "LSTM" else (x, finals[0])

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        for key, default in (("num_layers", 1), ("bias", True), ("batch_first", False), ("dropout", 0.0),
                             ("bidirectional", False)):
            if getattr(self, key) != default:
                s += f", {key}={getattr(self, key)}"
        return s


class RNN(RNNBase):
    """Elman RNN over a sequence: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act = tanh
    (default) or relu. forward(input, h_0=None) -> (output (L, N, D*H), h_n (D*num_layers, N, H))."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; choose 'tanh' or 'relu'")
        self.__dict__["mode"] = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        self.__dict__["nonlinearity"] = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


class LSTM(RNNBase):
    """LSTM over a sequence (gates i, f, g, o; see the module docstring).
    forward(input, (h_0, c_0)=None) -> (output (L, N, D*H), (h_n, c_n) each (D*num_layers, N, H))."""

    mode = "LSTM"


class GRU(RNNBase):
    """GRU over a sequence (gates r, z, n; see the module docstring).
    forward(input, h_0=None) -> (output (L, N, D*H), h_n (D*num_layers, N, H))."""

    mode = "GRU"
