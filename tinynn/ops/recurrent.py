"""A whole LSTM layer direction as one graph node: the forward loop over time and backpropagation
through time in one op, so a sequence of L steps costs one node instead of about 12 L.

The input projection of all steps, gi = x W_ih^T + b_ih (L, N, 4H), is one GEMM made before this
op (by nn.recurrent); each step here is one GEMM for h W_hh^T + b_hh and the pointwise kernel
`lstm_cell`. Backward walks the steps in reverse with `lstm_cell_backward` and one GEMM per step
for dh = da W_hh, then gets dW_hh and db_hh for all steps at once from one GEMM over the stacked
gate gradients. Tested equal to the step-by-step composition of nn.recurrent.run_direction.
"""
import numpy as np

from .. import backend
from ..autograd.function import Function


class LSTMSequence(Function):
    """Y[t] = [h_t, c_t] (L, N, 2H) for t in time order (or reversed), with
    (h_t, c_t) = lstm_cell(gi[t], h_{t-1} W_hh^T + b_hh, c_{t-1}) and (h_{-1}, c_{-1}) = (h0, c0).

    Backward (BPTT), with dh, dc flowing from step t+1 to t:
    da_t, dc_{t-1} = lstm_cell_backward(gates_t, c_{t-1}, c_t, dY_h[t] + dh_t, dY_c[t] + dc_t),
    dh_{t-1} = da_t W_hh;  dgi[t] = da_t;  dW_hh = sum_t da_t^T h_{t-1};  db_hh = sum_t,n da_t."""

    __slots__ = ("reverse", "w_hh", "y", "gates", "h0", "c0")
    exact_gradients = True

    def forward(self, gi, h0, c0, w_hh, b_hh=None, reverse=False):
        steps, n, hidden = gi.shape[0], h0.shape[0], h0.shape[1]
        self.reverse, self.w_hh, self.h0, self.c0 = reverse, w_hh, h0, c0
        y = np.empty((steps, n, 2 * hidden), gi.dtype)
        gates = np.empty((steps, n, 4 * hidden), gi.dtype)
        h, c = h0, c0
        for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
            h, c, gates[t] = backend.active.lstm_cell(gi[t], backend.active.linear(h, w_hh, b_hh), c)
            y[t, :, :hidden], y[t, :, hidden:] = h, c
        self.y, self.gates = y, gates
        return y

    def _previous(self, k):
        """Slice k (0: h, 1: c) of the states each step started from, (L, N, H) in time order."""
        hidden = self.h0.shape[1]
        first = (self.h0, self.c0)[k][None]
        part = self.y[:, :, k * hidden:(k + 1) * hidden]
        return np.concatenate([part[1:], first] if self.reverse else [first, part[:-1]], axis=0)

    def backward(self, g):
        steps, n, hidden2 = self.y.shape
        hidden = hidden2 // 2
        h_prev, c_prev = self._previous(0), self._previous(1)
        da = np.empty_like(self.gates)
        dh = dc = np.zeros((n, hidden), g.dtype)
        g_h, g_c = np.ascontiguousarray(g[:, :, :hidden]), np.ascontiguousarray(g[:, :, hidden:])  # the adds' fast path
        for t in (range(steps) if self.reverse else range(steps - 1, -1, -1)):
            da[t], dc = backend.active.lstm_cell_backward(self.gates[t], c_prev[t], self.y[t, :, hidden:],
                                                          backend.active.add(g_h[t], dh), backend.active.add(g_c[t], dc))
            dh = backend.active.matmul(da[t], self.w_hh)
        needs = self.needs_grad
        dw = db = None
        if needs[3] or (len(needs) > 4 and needs[4]):
            flat = da.reshape(-1, da.shape[2])
            _, dw, db = backend.active.linear_backward(h_prev.reshape(-1, hidden), self.w_hh, flat, flat, "none",
                                                       (False, needs[3], len(needs) > 4 and needs[4]))
        return (da, dh, dc, dw, db)[:len(needs)]
