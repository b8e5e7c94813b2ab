"""MultiheadAttention (Vaswani et al., 2017, "Attention Is All You Need", section 3.2.2)."""
import math

import numpy as np

from ..tensor import Tensor, check_device
from . import functional as F
from . import init
from .layers import Linear
from .module import Module
from .parameter import Parameter


def _additive(mask, dtype, name):
    """A mask as a float Tensor to add to the scores: a bool mask's True (PyTorch's MHA: "may not
    attend") becomes -inf and False 0; a float mask is added as it is."""
    mask = F._tensor(mask)
    if mask.dtype == np.bool_:
        return Tensor._wrap(np.where(mask._data, dtype.type(-np.inf), dtype.type(0)), False)
    if mask.dtype.kind != "f":
        raise TypeError(f"MultiheadAttention: {name} must be bool or float, got dtype {mask.dtype}")
    return mask


class MultiheadAttention(Module):
    """MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O + b^O,
    head_i = softmax((Q W_i^Q)(K W_i^K)^T / sqrt(d) + M) (V W_i^V), d = embed_dim / num_heads.

    PyTorch's parameters: in_proj_weight (3E, E) holding W^Q, W^K, W^V stacked (xavier-uniform),
    in_proj_bias (3E,) (zeros), out_proj a Linear(E, E) (bias zeros). Inputs (L, N, E), or
    (N, L, E) with batch_first, or unbatched (L, E). Masks: attn_mask (L, S) or (N num_heads, L, S)
    and key_padding_mask (N, S), bool (True = may not attend) or float (added). forward returns
    (output, weights): weights (N, L, S) averaged over the heads (or (N, num_heads, L, S)) when
    need_weights, else None."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False, kdim=None,
                 vdim=None, batch_first=False, device=None, dtype=None):
        super().__init__()
        check_device(device, "MultiheadAttention")
        for name, value in (("add_bias_kv", add_bias_kv), ("add_zero_attn", add_zero_attn)):
            if value:
                raise NotImplementedError(f"MultiheadAttention: {name}=True is not implemented in tinynn")
        for name, value in (("kdim", kdim), ("vdim", vdim)):
            if value is not None and value != embed_dim:
                raise NotImplementedError(f"MultiheadAttention: {name}={value} different from embed_dim={embed_dim} "
                                          "(separate key/value projections) is not implemented in tinynn")
        self.kdim = self.vdim = embed_dim
        self._qkv_same_embed_dim = True
        if num_heads < 1 or embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim {embed_dim} must be divisible by num_heads {num_heads}")
        self.embed_dim, self.num_heads, self.dropout, self.batch_first = embed_dim, num_heads, dropout, batch_first
        self.head_dim = embed_dim // num_heads
        dtype = np.dtype(dtype or np.float32)
        self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), dtype=dtype))
        if bias:
            self.in_proj_bias = Parameter(np.zeros(3 * embed_dim, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        init.xavier_uniform_(self.in_proj_weight)
        if bias:
            init.zeros_(self.out_proj.bias)

    def _project(self, query, key, value):
        """Q W^Q + b^Q, K W^K + b^K, V W^V + b^V: one product when query, key and value are one tensor."""
        w, b, e = self.in_proj_weight, self.in_proj_bias, self.embed_dim
        if query is key and key is value:
            return F.linear(query, w, b).chunk(3, dim=-1)
        return tuple(F.linear(x, w[i * e:(i + 1) * e], None if b is None else b[i * e:(i + 1) * e])
                     for i, x in enumerate((query, key, value)))

    def _mask(self, attn_mask, key_padding_mask, n, length, keys, dtype):
        """The masks as one additive Tensor broadcasting to (N, heads, L, S), or None."""
        mask, h = None, self.num_heads
        if attn_mask is not None:
            mask = _additive(attn_mask, dtype, "attn_mask")
            if mask.shape == (length, keys):
                pass
            elif mask.shape == (n * h, length, keys):
                mask = mask.reshape(n, h, length, keys)
            else:
                raise ValueError(f"MultiheadAttention: attn_mask of shape {tuple(mask.shape)} should be "
                                 f"({length}, {keys}) or ({n * h}, {length}, {keys}) (L, S or N*num_heads, L, S)")
        if key_padding_mask is not None:
            pad = _additive(key_padding_mask, dtype, "key_padding_mask")
            if pad.shape != (n, keys):
                raise ValueError(f"MultiheadAttention: key_padding_mask of shape {tuple(pad.shape)} should be "
                                 f"({n}, {keys}) (N, S)")
            pad = pad.reshape(n, 1, 1, keys)
            mask = pad if mask is None else mask + pad
        return mask

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        query, key, value = F._tensor(query), F._tensor(key), F._tensor(value)
        same = (query is key, key is value)
        unbatched = query.ndim == 2
        if unbatched:
            query, key, value = (x.unsqueeze(1) for x in (query, key, value))
            key_padding_mask = None if key_padding_mask is None else F._tensor(key_padding_mask).unsqueeze(0)
        elif self.batch_first:
            query, key, value = (x.transpose(0, 1) for x in (query, key, value))
        if query.ndim != 3 or key.ndim != 3 or value.ndim != 3 or query.shape[-1] != self.embed_dim:
            raise ValueError(f"MultiheadAttention: query, key and value must be (L, N, {self.embed_dim}) (or batch "
                             f"first, or unbatched), got shapes {query.shape}, {key.shape}, {value.shape}")
        if same[0] and same[1]:
            key = value = query  # the transposes above made new tensors: keep the one-product path
        length, n, e = query.shape
        keys, h, d = key.shape[0], self.num_heads, self.head_dim
        if is_causal and attn_mask is None:
            raise ValueError("MultiheadAttention: is_causal=True is a hint that attn_mask is the causal mask; "
                             "give attn_mask too (as PyTorch requires)")
        q, k, v = self._project(query, key, value)
        q, k, v = (x.reshape(x.shape[0], n, h, d).permute(1, 2, 0, 3) for x in (q, k, v))  # (N, h, L|S, d)
        p = self.dropout if self.training else 0.0
        causal = is_causal and key_padding_mask is None and not need_weights
        mask = None if causal else self._mask(attn_mask, key_padding_mask, n, length, keys, q.dtype)
        if need_weights:
            weights = F.softmax(q @ k.transpose(-2, -1) * (1.0 / math.sqrt(d)) + (0.0 if mask is None else mask), dim=-1)
            out = F.dropout(weights, p, True) @ v
        else:
            weights = None
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p, is_causal=causal)
        out = self.out_proj(out.permute(2, 0, 1, 3).reshape(length, n, e))  # (L, N, E)
        if weights is not None and average_attn_weights:
            weights = weights.mean(dim=1)
        if unbatched:
            return out.squeeze(1), None if weights is None else weights.squeeze(0)
        return (out.transpose(0, 1) if self.batch_first else out), weights

    def extra_repr(self):
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}, batch_first={self.batch_first}"
