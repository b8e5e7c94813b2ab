"""A whole LSTM or GRU layer direction as one graph node: the forward loop over time and
backpropagation through time in one op, so a sequence of L steps costs one node instead of about
12 L.

The input projection of all steps, gi = x W_ih^T + b_ih (L, N, G H), is one GEMM made before this
op (by nn.recurrent); each step here is one GEMM for the G gates' h W_hh^T + b_hh and a pointwise
kernel (`lstm_cell`, `gru_cell`). Backward walks the steps in reverse with the kernel's backward
and one GEMM per step for the state's gradient, then gets dW_hh and db_hh for all steps at once
from one GEMM over the stacked gate gradients. Tested equal to the step-by-step composition of
nn.recurrent.run_direction.

Under create_graph the same backward runs on Tensors: the saved states are rebuilt by the steps
again, recorded, and the cells' backward are compositions of ops (ops/differentiable_recurrent.py).
"""
import numpy as np

from .. import backend
from ..autograd.function import Function
from .array_or_tensor import contiguous, flipped, per_step, stacked, values
from .differentiable_recurrent import gru_cell, lstm_cell, recorded_steps


class _Steps(Function):
    """The two sequence ops' create_graph: `recorded_steps` with the op's `cell` (and its `count` of
    states) rebuilds their saved "states" and per-step arrays (slot `step_slot`) as Tensors, recorded,
    once for both."""

    __slots__ = ()
    exact_gradients = True
    differentiable = True

    def recompute(self, name, inputs):
        if self.recorded is None:
            steps = recorded_steps(self.cell, self.count, inputs, self.reverse)
            self.recorded = dict(zip(("states", self.step_slot), steps))
        value = self.recorded.pop(name)
        self.recorded = self.recorded or None
        return value


class LSTMSequence(_Steps):
    """Y[t] = [h_t, c_t] (L, N, 2H) for t in time order (or reversed), with
    (h_t, c_t) = lstm_cell(gi[t], h_{t-1} W_hh^T + b_hh, c_{t-1}) and (h_{-1}, c_{-1}) = (h0, c0).

    Backward (BPTT), with dh, dc flowing from step t+1 to t:
    da_t, dc_{t-1} = lstm_cell_backward(gates_t, c_{t-1}, c_t, dY_h[t] + dh_t, dY_c[t] + dc_t),
    dh_{t-1} = da_t W_hh;  dgi[t] = da_t;  dW_hh = sum_t da_t^T h_{t-1};  db_hh = sum_t,n da_t."""

    __slots__ = ("reverse", "w_hh", "states", "gates", "recorded")
    step_slot, cell, count = "gates", staticmethod(lstm_cell), 2

    def forward(self, gi, h0, c0, w_hh, b_hh=None, reverse=False):
        steps, n, hidden = gi.shape[0], h0.shape[0], h0.shape[1]
        # states[0][k], states[1][k]: h and c before the k-th step taken (k = 0: h0, c0), contiguous
        # rows so that each step's GEMM reads its h in place and backward needs no gather
        states = np.empty((2, steps + 1, n, hidden), gi.dtype)
        states[0, 0], states[1, 0] = h0, c0
        gates = np.empty((steps, n, 4 * hidden), gi.dtype)
        order = range(steps - 1, -1, -1) if reverse else range(steps)
        for k, t in enumerate(order):
            states[0, k + 1], states[1, k + 1], gates[k] = backend.active.lstm_cell(
                gi[t], backend.active.linear(states[0, k], w_hh, b_hh), states[1, k])
        self.reverse, self.w_hh, self.states, self.gates, self.recorded = reverse, w_hh, states, gates, None
        taken = slice(None, 0, -1) if reverse else slice(1, None)  # the states after each step, in time order
        return np.concatenate([states[0, taken], states[1, taken]], axis=2)

    def backward(self, g):
        steps, n, hidden = self.gates.shape[0], self.states.shape[2], self.states.shape[3]
        if self.reverse:
            g = flipped(g, 0)  # into the order the steps were taken
        h_prev, c_prev, c_new = self.states[0, :-1], self.states[1, :-1], self.states[1, 1:]
        da = per_step(self.gates.shape, self.gates)
        dh = dc = np.zeros((n, hidden), values(g).dtype)
        g_h, g_c = contiguous(g[:, :, :hidden]), contiguous(g[:, :, hidden:])  # the adds' fast path
        for k in range(steps - 1, -1, -1):
            da[k], dc = backend.active.lstm_cell_backward(self.gates[k], c_prev[k], c_new[k],
                                                          backend.active.add(g_h[k], dh), backend.active.add(g_c[k], dc))
            dh = backend.active.matmul(da[k], self.w_hh)
        da = stacked(da)
        dw, db = _recurrent_weight_grads(self.needs_grad, 3, da, h_prev, self.w_hh)
        return (_time_order(da, self.reverse), dh, dc, dw, db)[:len(self.needs_grad)]


def _time_order(steps, reverse):
    """Per-step arrays (L, ...) in the order the steps were taken, put in time order (contiguous)."""
    return contiguous(flipped(steps, 0)) if reverse else steps


def _recurrent_weight_grads(needs, first, d, h_prev, w_hh):
    """(dW_hh, db_hh) = (sum_t d_t^T h_{t-1}, sum_t,n d_t) in one GEMM over all steps, each None
    where inputs `first` (W_hh) and `first + 1` (b_hh, if given) need no gradient."""
    need_w, need_b = needs[first], len(needs) > first + 1 and needs[first + 1]
    if not (need_w or need_b):
        return None, None
    flat = d.reshape(-1, d.shape[2])
    _, dw, db = backend.active.linear_backward(h_prev.reshape(-1, h_prev.shape[2]), w_hh, flat, flat, "none",
                                               (False, need_w, need_b))
    return dw, db


class GRUSequence(_Steps):
    """Y[t] = h_t (L, N, H) for t in time order (or reversed), with
    h_t = gru_cell(gi[t], h_{t-1} W_hh^T + b_hh, h_{t-1}) and h_{-1} = h0.

    Backward (BPTT), with dh flowing from step t+1 to t:
    (dgi_t, dgh_t, direct) = gru_cell_backward(saved_t, h_{t-1}, dY[t] + dh_t),
    dh_{t-1} = direct + dgh_t W_hh;  dW_hh = sum_t dgh_t^T h_{t-1};  db_hh = sum_t,n dgh_t."""

    __slots__ = ("reverse", "w_hh", "states", "saved", "recorded")
    step_slot, cell, count = "saved", staticmethod(gru_cell), 1

    def forward(self, gi, h0, w_hh, b_hh=None, reverse=False):
        steps, n, hidden = gi.shape[0], h0.shape[0], h0.shape[1]
        states = np.empty((steps + 1, n, hidden), gi.dtype)  # h before the k-th step taken, contiguous
        states[0] = h0
        saved = np.empty((steps, n, 4 * hidden), gi.dtype)
        for k, t in enumerate(range(steps - 1, -1, -1) if reverse else range(steps)):
            states[k + 1], saved[k] = backend.active.gru_cell(gi[t], backend.active.linear(states[k], w_hh, b_hh),
                                                              states[k])
        self.reverse, self.w_hh, self.states, self.saved, self.recorded = reverse, w_hh, states, saved, None
        return _time_order(states[1:], reverse)

    def backward(self, g):
        steps = self.saved.shape[0]
        g = _time_order(g, self.reverse)  # (the same flip takes time order to step order)
        shape = (steps, self.states.shape[1], 3 * self.states.shape[2])
        dgi, dgh = per_step(shape, g), per_step(shape, g)
        dh = np.zeros(self.states.shape[1:], values(g).dtype)
        for k in range(steps - 1, -1, -1):
            dgi[k], dgh[k], direct = backend.active.gru_cell_backward(self.saved[k], self.states[k],
                                                                      backend.active.add(g[k], dh))
            dh = backend.active.add(direct, backend.active.matmul(dgh[k], self.w_hh))
        dgi, dgh = stacked(dgi), stacked(dgh)
        dw, db = _recurrent_weight_grads(self.needs_grad, 2, dgh, self.states[:-1], self.w_hh)
        return (_time_order(dgi, self.reverse), dh, dw, db)[:len(self.needs_grad)]
