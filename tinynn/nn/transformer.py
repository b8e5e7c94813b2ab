"""The Transformer encoder (Vaswani et al., 2017, "Attention Is All You Need", section 3.1), and the
helpers the decoder shares: the activation by name, the causal mask and its detection."""
import copy

import numpy as np

from . import functional as F
from .attention import MultiheadAttention
from .layernorm import LayerNorm
from .containers import ModuleList
from .layers import Dropout, Linear
from .module import Module
from ..tensor import Tensor, check_device

_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


class ActivationError(RuntimeError, ValueError):
    """An activation named by a string other than "relu" or "gelu" (PyTorch raises RuntimeError)."""


def activation_function(activation, op):
    """The feed-forward activation: "relu" -> F.relu, "gelu" -> F.gelu (exact), or a callable as it is."""
    if isinstance(activation, str):
        if activation not in _ACTIVATIONS:
            raise ActivationError(f"{op}: activation should be relu/gelu, not {activation!r}")
        return _ACTIVATIONS[activation]
    if not callable(activation):
        raise TypeError(f"{op}: activation must be 'relu', 'gelu' or a callable, got {type(activation).__name__}")
    return activation


def generate_square_subsequent_mask(sz, device=None, dtype=None):
    """The (sz, sz) causal mask M of a float dtype (float32 by default): M_ij = -inf for j > i (a
    position may not attend to a later one), 0 otherwise."""
    check_device(device, "generate_square_subsequent_mask")
    dtype = np.dtype(dtype or np.float32)
    if dtype.kind != "f":
        raise TypeError(f"generate_square_subsequent_mask: dtype must be a float dtype, got {dtype}")
    future = np.triu(np.ones((sz, sz), dtype=bool), 1)
    return Tensor._wrap(np.where(future, dtype.type(-np.inf), dtype.type(0)), False)


def is_causal_mask(mask, is_causal, size):
    """PyTorch's hint: is_causal as given (True/False), or, for is_causal=None, whether `mask` is
    the (size, size) causal mask, float (-inf above the diagonal, 0 elsewhere) or bool (True above
    the diagonal: may not attend). A detected mask lets attention skip building it."""
    if is_causal is not None or mask is None:
        return bool(is_causal)
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.shape != (size, size):
        return False
    future = np.triu(np.ones((size, size), dtype=bool), 1)
    if m.dtype == np.bool_:
        return bool(np.array_equal(m, future))
    return m.dtype.kind == "f" and bool(np.all(np.where(future, m == -np.inf, m == 0)))


def sequence_length(x, batch_first):
    """The sequence length of x: (L, E) unbatched, (L, N, E), or (N, L, E) with batch_first."""
    shape = tuple(x.shape)
    return shape[0] if len(shape) == 2 else shape[1 if batch_first else 0]


class TransformerEncoderLayer(Module):
    """Self-attention then a position-wise feed-forward net, each inside a residual connection:

    post-norm (norm_first=False, the paper's):  x = norm1(x + SA(x));  x = norm2(x + FF(x))
    pre-norm (norm_first=True, Xiong et al., 2020):  x = x + SA(norm1(x));  x = x + FF(norm2(x))

    SA(x) = dropout1(self_attn(x, x, x)),  FF(x) = dropout2(linear2(dropout(act(linear1(x))))).
    PyTorch's submodule names (self_attn, linear1, dropout, linear2, norm1, norm2, dropout1,
    dropout2), so state dicts move between the two."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        check_device(device, "TransformerEncoderLayer")
        activation = activation_function(activation, "TransformerEncoderLayer")
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = activation

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))


class TransformerEncoder(Module):
    """num_layers copies of encoder_layer applied in turn (layers.0, layers.1, ...), then `norm`
    if given: y = norm(layer_{n-1}(... layer_0(x))). is_causal=None detects a causal `mask`.

    enable_nested_tensor and mask_check choose PyTorch's nested-tensor fast path (kept as
    attributes, no effect here): tinynn always computes the padded batch in full."""

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True):
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor, self.use_nested_tensor, self.mask_check = enable_nested_tensor, False, mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        x = src
        first = self.layers[0] if len(self.layers) else None
        batch_first = getattr(getattr(first, "self_attn", None), "batch_first", False)
        is_causal = is_causal_mask(mask, is_causal, sequence_length(src, batch_first))
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=is_causal)
        return x if self.norm is None else self.norm(x)
