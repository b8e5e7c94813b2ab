"""Converters of the Transformer encoder: self-attention decomposed into MatMul and Softmax, and the
pieces the decoder shares (decoder_layers.py).

    self-attention (MultiheadAttention with query = key = value):
        [Transpose to (N, L, E) unless batch_first]
        q, k, v = Split(MatMul(x, W_in^T) + b_in, 3 along E)
        q -> Reshape [0, 0, h, d] -> Transpose (N, h, L, d);  k -> (N, h, d, L);  v -> (N, h, L, d)
        o = MatMul(Softmax(MatMul(q, k) * 1/sqrt(d) [causal: Where(Trilu(ones (L, L)), ., -inf)], axis=-1), v)
            -> Transpose, Reshape [0, 0, E]
        out_proj (MatMul + Add)  [Transpose back]
    cross-attention (query x, key = value = memory m): q = x W_q^T + b_q, [k, v] = Split(m W_kv^T + b_kv)
    TransformerEncoderLayer   post-norm: x = norm1(x + SA(x)); x = norm2(x + FF(x));
                              pre-norm:  x = x + SA(norm1(x)); x = x + FF(norm2(x)),
                              FF = linear2(act(linear1(x))), act relu or gelu (exact); dropout: nothing
    TransformerEncoder        its layers in turn, then its norm
Masks are arguments of forward, not inputs of the graph. The causal mask (export(..., kwargs={"mask":
causal}); src_mask for a layer) is built in the graph from the length (any length then; opset >= 14, for
Trilu); any other attention mask, and key padding masks, are refused by name.
"""
import math
from types import SimpleNamespace

import numpy as np

from ..autograd import no_grad
from ..nn import functional as F
from ..nn.transformer import TransformerEncoder, TransformerEncoderLayer, is_causal_mask, sequence_length
from ..tensor import Tensor
from .graph import RUNNERS, converter, numpy_helper, onnx
from .layers import gelu


def _run(fn, *arrays):
    with no_grad():
        return np.asarray(fn(*(Tensor(a) for a in arrays))._data)


def attend(g, qkv, e, h, causal=False):
    """The heads' attention of qkv (N, L, 3E), q, k, v side by side (see heads_attention)."""
    q, k, v = g.node("Split", [qkv, g.initializer(np.array([e, e, e], np.int64), "split")], outputs=3, axis=2)
    return heads_attention(g, q, k, v, e, h, causal)


def heads_attention(g, q, k, v, e, h, causal=False):
    """softmax(q k^T / sqrt(d) [key j > query i set to -inf if causal]) v per head, for q (N, L, E) and
    k, v (N, S, E), heads merged back to (N, L, E)."""
    d = e // h
    heads = g.initializer(np.array([0, 0, h, d], np.int64), "heads_shape")
    mask = causal_mask(g, q) if causal else None
    q, k, v = (g.node("Transpose", [g.node("Reshape", [t, heads])], perm=perm)
               for t, perm in ((q, [0, 2, 1, 3]), (k, [0, 2, 3, 1]), (v, [0, 2, 1, 3])))
    scores = g.node("Mul", [g.node("MatMul", [q, k]), g.initializer(np.float32(1 / math.sqrt(d)), "scale")])
    if causal:
        scores = g.node("Where", [mask, scores, g.constant(-np.inf, np.float32, "minus_inf")])
    o = g.node("MatMul", [g.node("Softmax", [scores], axis=-1), v])
    return g.node("Reshape", [g.node("Transpose", [o], perm=[0, 2, 1, 3]),
                              g.initializer(np.array([0, 0, e], np.int64), "embed_shape")])


def causal_mask(g, x):
    """(L, L) bool, True on and below the diagonal, L = x's axis 1 (any length: Trilu of ones)."""
    if g.opset_version < 14:
        raise ValueError(f"onnx.export: layer {g.layer!r} (causal attention) needs Trilu, opset >= 14 "
                         f"(got opset_version={g.opset_version})")
    length = g.node("Slice", [g.node("Shape", [x]), g.constant([1], np.int64, "one_i64"),
                              g.constant([2], np.int64, "two_i64")])
    square = g.node("Concat", [length, length], axis=0)
    ones = g.node("ConstantOfShape", [square], value=numpy_helper.from_array(np.ones(1, np.int64)))
    return g.node("Cast", [g.node("Trilu", [ones], upper=0)], to=onnx.TensorProto.BOOL)


def _projected(g, mha, x, rows, what):
    """x W_in[rows]^T (+ b_in[rows]): the rows of the packed input projection."""
    y = g.node("MatMul", [x, g.initializer(mha.in_proj_weight._data[rows].T, f"{what}_weight_t")])
    if mha.in_proj_bias is not None:
        y = g.node("Add", [y, g.initializer(mha.in_proj_bias._data[rows], f"{what}_bias")])
    return y


def _scoped(g, path, fn):
    scope = g.scope
    g.scope = ".".join(p for p in (scope, path) if p)
    try:
        return fn()
    finally:
        g.scope = scope


def _attention(g, mha, x, mem, value, causal):
    """mha(x, mem, mem)[0] (mem None: self-attention of x) in the current scope; returns the output's name."""
    e, h = mha.embed_dim, mha.num_heads
    if not mha.batch_first:
        x, mem = (None if t is None else g.node("Transpose", [t], perm=[1, 0, 2]) for t in (x, mem))
    if mem is None:
        qkv = g.node("MatMul", [x, g.initializer(mha.in_proj_weight._data.T, "in_proj_weight_t")])
        if mha.in_proj_bias is not None:
            qkv = g.node("Add", [qkv, g.initializer(mha.in_proj_bias, "in_proj_bias")])
        o = attend(g, qkv, e, h, causal)
    else:
        q = _projected(g, mha, x, slice(0, e), "q_proj")
        kv = _projected(g, mha, mem, slice(e, 3 * e), "kv_proj")
        k, v = g.node("Split", [kv, g.initializer(np.array([e, e], np.int64), "split")], outputs=2, axis=2)
        o = heads_attention(g, q, k, v, e, h)
    batch_first = value if mha.batch_first else value.transpose(1, 0, 2)
    y = g.child(mha.out_proj, "out_proj", o, batch_first)[0]
    return y if mha.batch_first else g.node("Transpose", [y], perm=[1, 0, 2])


def self_attention(g, mha, x, value, path="self_attn", causal=False):
    """The nodes of mha(x, x, x)[0] (causal: with the causal mask) under "<scope>.<path>" ("" for mha
    itself); returns the output's name."""
    return _scoped(g, path, lambda: _attention(g, mha, x, None, value, causal))


def cross_attention(g, mha, x, mem, value, path="multihead_attn"):
    """The nodes of mha(x, mem, mem)[0] under "<scope>.<path>"; returns the output's name."""
    return _scoped(g, path, lambda: _attention(g, mha, x, mem, value, False))


def batched(g, layer, value):
    """ValueError naming the layer unless value is (N, L, E) or (L, N, E) (the graph's batch axis)."""
    if value.ndim != 3:
        raise ValueError(f"onnx.export: layer {g.layer!r} ({type(layer).__name__}) on an input of shape "
                         f"{value.shape}: tinynn exports batched inputs, (N, L, E) or (L, N, E)")


def causal_call(g, mask_key, value, batch_first):
    """Whether the call being converted (g.kwargs) masks attention causally: True when its `mask_key` is
    the causal mask of the input's length (float: -inf above the diagonal, 0 elsewhere; or bool: True
    above it), False without a mask; any other mask is a ValueError naming it."""
    mask = g.kwargs.get(mask_key)
    if mask is None:
        return False
    length = sequence_length(value, batch_first)
    if not is_causal_mask(mask, None, length):
        raise ValueError(f"onnx.export: layer {g.layer!r}: {mask_key} is not the causal mask of length {length}; "
                         "tinynn exports the causal mask (built in the graph from the length) and no other "
                         "attention mask")
    return True


def causal_tensor(value, batch_first):
    """The float causal mask of value's length (what the graph builds), as a Tensor."""
    n = sequence_length(value, batch_first)
    return Tensor(np.where(np.triu(np.ones((n, n), bool), 1), np.float32(-np.inf), np.float32(0)))


def batch_first_of(layer):
    """batch_first of a Transformer, one of its stacks or layers (False for an empty stack)."""
    if hasattr(layer, "self_attn"):
        return layer.self_attn.batch_first
    if hasattr(layer, "layers"):
        return bool(len(layer.layers)) and batch_first_of(layer.layers[0])
    return bool(getattr(layer, "batch_first", False))


def causal_runner(*keys):
    """A RUNNERS entry: the layer called with each causal mask keys[i] (for input i) remade for that
    input's length, as the graph builds it from the length (export runs the model at other lengths)."""
    def run(layer, *xs, **kwargs):
        for key, x in zip(keys, xs):
            mask = kwargs.get(key)
            if key and mask is not None and len(mask.shape) == 2 and is_causal_mask(mask, None, mask.shape[0]):
                kwargs[key] = causal_tensor(np.empty(x.shape, np.float32), batch_first_of(layer))
        return layer(*xs, **kwargs)
    return run


def _activation(g, fn, x, cls):
    if fn is F.relu:
        return g.node("Relu", [x])
    if fn is F.gelu:
        return gelu(g, SimpleNamespace(approximate="none"), x, None)
    raise ValueError(f"onnx.export: layer {g.layer!r} ({cls}) has activation {fn!r}; tinynn exports relu and gelu")


def feed_forward(g, layer, h, h_value):
    """linear2(act(linear1(h))): (output name, its value)."""
    a, a_value = g.child(layer.linear1, "linear1", h, h_value)
    a = _activation(g, layer.activation, a, type(layer).__name__)
    return g.child(layer.linear2, "linear2", a, _run(layer.activation, a_value))


def residual(g, x, x_value, y, y_value):
    """x + y: (name, value)."""
    return g.node("Add", [x, y]), (x_value + y_value).astype(np.float32)


@converter(TransformerEncoderLayer, kwargs=("src_mask", "is_causal"))
def encoder_layer(g, layer, x, value):
    batched(g, layer, value)
    causal = causal_call(g, "src_mask", value, layer.self_attn.batch_first)
    mask = causal_tensor(value, layer.self_attn.batch_first) if causal else None

    def sa(h, h_value):
        y = self_attention(g, layer.self_attn, h, h_value, causal=causal)
        return residual(g, *x_in, y, _run(lambda t: layer._sa_block(t, mask, None, causal), h_value))

    def ff(h, h_value):
        return residual(g, *ff_in, *feed_forward(g, layer, h, h_value))

    x_in = (x, value)
    if layer.norm_first:
        ff_in = sa(*g.child(layer.norm1, "norm1", x, value))
        return ff(*g.child(layer.norm2, "norm2", *ff_in))[0]
    ff_in = g.child(layer.norm1, "norm1", *sa(x, value))
    return g.child(layer.norm2, "norm2", *ff(*ff_in))[0]


@converter(TransformerEncoder, kwargs=("mask", "is_causal"))
def encoder(g, layer, x, value):
    causal = causal_call(g, "mask", value, batch_first_of(layer)) if len(layer.layers) else False
    call = {"src_mask": causal_tensor(value, batch_first_of(layer)), "is_causal": True} if causal else None
    for i, block in enumerate(layer.layers):
        x, value = g.child(block, f"layers.{i}", x, value, kwargs=call)
    return x if layer.norm is None else g.child(layer.norm, "norm", x, value)[0]


RUNNERS[TransformerEncoderLayer] = causal_runner("src_mask")
RUNNERS[TransformerEncoder] = causal_runner("mask")
