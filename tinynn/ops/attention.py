"""Scaled dot-product attention (Vaswani et al., 2017, "Attention Is All You Need") as one node."""
import math

import numpy as np

from ..autograd.function import Function
from .. import backend


def _check(q, k, v, mask):
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ValueError(f"scaled_dot_product_attention: query, key and value need at least 2 dims (..., L, E), "
                         f"got shapes {q.shape}, {k.shape}, {v.shape}")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"scaled_dot_product_attention: query (..., L, E), key (..., S, E) and value (..., S, Ev) "
                         f"do not fit: shapes {q.shape}, {k.shape}, {v.shape}")
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(f"scaled_dot_product_attention: batch dims of query {q.shape}, key {k.shape} and value "
                         f"{v.shape} cannot be broadcast together") from None
    scores = batch + (q.shape[-2], k.shape[-2])
    if mask is not None:
        try:
            if np.broadcast_shapes(mask.shape, scores) != scores:
                raise ValueError
        except ValueError:
            raise ValueError(f"scaled_dot_product_attention: attn_mask of shape {mask.shape} does not broadcast to "
                             f"the attention scores' shape {scores} (batch..., L, S)") from None
    return scores


def _dead_rows(mask):
    """(..., L, 1) True where a query's whole row of the additive mask is -inf (no key to attend), or None."""
    dead = backend.active.amax(mask, axis=-1, keepdims=True) == -np.inf
    return dead if dead.any() else None


def _zero_dead_rows(mask, out, probs):
    """out and probs with the rows of fully masked queries set to 0 (PyTorch's safe softmax)."""
    dead = _dead_rows(mask)
    if dead is None:
        return out, probs
    where = backend.active.where
    return where(dead, out.dtype.type(0), out), where(dead, probs.dtype.type(0), probs)


class ScaledDotProductAttention(Function):
    """O = D(P) V,  P = softmax(scale Q K^T + M) over the keys, Q (..., L, E), K (..., S, E),
    V (..., S, Ev), batch dims broadcasting; scale = 1/sqrt(E) by default; M an additive mask
    (an input when it is a float Tensor, else the `mask` option built from a bool mask); causal
    masks key j > query i without building a mask; D the dropout mask (kept / (1 - p)) or none.
    With dZ = P (dP - sum_j dP_j P_j), dP = D(G V^T):  dQ = scale dZ K,  dK = scale dZ^T Q,
    dV = D(P)^T G, dM = dZ.
    A query whose every key is masked (its row of M all -inf) gets P = 0 and O = 0, with zero
    gradients, as PyTorch's scaled_dot_product_attention (its "safe softmax"), not 0/0 = NaN."""

    __slots__ = ('q', 'k', 'v', 'probs', 'scale', 'dropout_mask', 'mask', 'causal')
    promotes = "common"
    differentiable = True  # create_graph: attention_backward is a composite of ops (ops/differentiable.py)
    constants = ('dropout_mask', 'mask')

    def forward(self, q, k, v, *float_mask, mask=None, causal=False, scale=None, dropout_mask=None):
        self.mask, self.causal = mask, causal  # a float-Tensor mask is an input, not saved
        if float_mask:
            mask = float_mask[0]
        if q.dtype.kind != "f":
            raise TypeError(f"scaled_dot_product_attention: query, key and value must be floating point, got {q.dtype}")
        if causal and mask is not None:
            raise ValueError("scaled_dot_product_attention: give either attn_mask or is_causal=True, not both")
        _check(q, k, v, mask)
        self.scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
        self.q, self.k, self.v, self.dropout_mask = q, k, v, dropout_mask
        out, self.probs = backend.active.attention(q, k, v, mask, causal, self.scale, dropout_mask)
        if mask is not None:
            out, self.probs = _zero_dead_rows(mask, out, self.probs)
        return out

    def recompute(self, name, inputs):
        """P = softmax(scale Q K^T + M) as a Tensor of the inputs (create_graph)."""
        if name != "probs":
            return None
        q, k = inputs[0], inputs[1]
        z = (q @ k.transpose(-1, -2)) * self.scale
        if self.causal:  # (never with a mask: forward refuses both)
            length, keys = z.shape[-2:]
            return z.masked_fill(np.arange(keys)[None, :] > np.arange(length)[:, None], -np.inf).softmax(-1)
        mask = inputs[3] if len(inputs) > 3 else self.mask
        if mask is None:
            return z.softmax(-1)
        dead = _dead_rows(mask._data if hasattr(mask, "_data") else mask)
        if dead is None:
            return (z + mask).softmax(-1)
        # fully masked rows: a finite softmax, then zeros (a NaN row would poison the gradients)
        mask = mask.masked_fill(dead, 0.0) if hasattr(mask, "masked_fill") else backend.active.where(dead, 0, mask)
        return (z + mask).softmax(-1).masked_fill(dead, 0.0)

    def backward(self, g):
        needs = self.needs_grad
        dq, dk, dv, dz = backend.active.attention_backward(self.q, self.k, self.v, self.probs, g, self.scale,
                                                           self.dropout_mask, needs[:3])
        return (dq, dk, dv, dz) if len(needs) > 3 else (dq, dk, dv)
