"""F.scaled_dot_product_attention (Vaswani et al., 2017, "Attention Is All You Need", section 3.2.1;
part of tinynn.nn.functional, which re-exports it)."""
import numpy as np

from .. import ops
from ..random import generator
from ..tensor import Tensor, as_tensor


def _tensor(x):
    return x if isinstance(x, Tensor) else as_tensor(x)


def _repeat_heads(x, heads, name):
    """x (..., H_kv, S, E) with each head repeated heads / H_kv times in a row (torch.repeat_interleave
    along dim -3): grouped-query attention's key and value heads shared by groups of query heads."""
    if x.ndim < 3 or heads % x.shape[-3]:
        raise ValueError(f"scaled_dot_product_attention: enable_gqa needs the query's {heads} heads (dim -3) to be "
                         f"a multiple of the {name}'s, got {name} shape {tuple(x.shape)}")
    group = heads // x.shape[-3]
    if group == 1:
        return x
    lead, (h, s, e) = x.shape[:-3], x.shape[-3:]
    return x.unsqueeze(-3).expand(*lead, h, group, s, e).reshape(*lead, h * group, s, e)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(Q K^T scale + M) V with scale = 1/sqrt(E) by default, Q (..., L, E), K (..., S, E),
    V (..., S, Ev). attn_mask: bool (True = takes part) or float (added to the scores), broadcasting
    to (..., L, S); is_causal masks key j > query i (giving attn_mask too is an error, as PyTorch
    documents); a query with no key left gets a zero output; dropout_p drops attention weights
    (always: as in PyTorch, pass 0.0 outside training); enable_gqa lets K and V have fewer heads
    (dim -3) than Q, each shared by a group of query heads."""
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"scaled_dot_product_attention: dropout_p must be in [0, 1], got {dropout_p}")
    query, key, value = _tensor(query), _tensor(key), _tensor(value)
    if enable_gqa and query.ndim >= 3:
        key, value = _repeat_heads(key, query.shape[-3], "key"), _repeat_heads(value, query.shape[-3], "value")
    inputs, options = [query, key, value], {"causal": bool(is_causal), "scale": scale}
    if attn_mask is not None:
        attn_mask = _tensor(attn_mask)
        if attn_mask.dtype == np.bool_:
            dtype = np.result_type(query.dtype, key.dtype, value.dtype)
            options["mask"] = np.where(attn_mask._data, dtype.type(0), dtype.type(-np.inf))
        else:
            inputs.append(attn_mask)
    if dropout_p > 0.0:
        batch = np.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
        shape = batch + (query.shape[-2], key.shape[-2])
        keep = generator().random(shape) >= dropout_p
        options["dropout_mask"] = keep.astype(query.dtype) * query.dtype.type(1.0 / (1.0 - dropout_p)) \
            if dropout_p < 1.0 else np.zeros(shape, query.dtype)
    return ops.ScaledDotProductAttention.apply(*inputs, **options)
