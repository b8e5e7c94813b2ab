"""Converters of the Transformer encoder: self-attention decomposed into MatMul and Softmax.

    self-attention (MultiheadAttention with query = key = value, no mask):
        [Transpose to (N, L, E) unless batch_first]
        q, k, v = Split(MatMul(x, W_in^T) + b_in, 3 along E)
        q -> Reshape [0, 0, h, d] -> Transpose (N, h, L, d);  k -> (N, h, d, L);  v -> (N, h, L, d)
        o = MatMul(Softmax(MatMul(q, k) * 1/sqrt(d), axis=-1), v) -> Transpose, Reshape [0, 0, E]
        out_proj (MatMul + Add)  [Transpose back]
    TransformerEncoderLayer   post-norm: x = norm1(x + SA(x)); x = norm2(x + FF(x));
                              pre-norm:  x = x + SA(norm1(x)); x = x + FF(norm2(x)),
                              FF = linear2(act(linear1(x))), act relu or gelu (exact); dropout: nothing
    TransformerEncoder        its layers in turn, then its norm
Masks are arguments of forward, not part of a one-input graph: the layers are exported unmasked.
"""
import math
from types import SimpleNamespace

import numpy as np

from ..autograd import no_grad
from ..nn import functional as F
from ..nn.transformer import TransformerEncoder, TransformerEncoderLayer
from ..tensor import Tensor
from .graph import converter, numpy_helper, onnx
from .layers import gelu


def _run(fn, *arrays):
    with no_grad():
        return np.asarray(fn(*(Tensor(a) for a in arrays))._data)


def attend(g, qkv, e, h, causal=False):
    """The heads' attention of qkv (N, L, 3E), q, k, v side by side: softmax(q k^T / sqrt(d)
    [key j > query i set to -inf if causal]) v per head, heads merged back to (N, L, E)."""
    d = e // h
    q, k, v = g.node("Split", [qkv, g.initializer(np.array([e, e, e], np.int64), "split")], outputs=3, axis=2)
    heads = g.initializer(np.array([0, 0, h, d], np.int64), "heads_shape")
    q, k, v = (g.node("Transpose", [g.node("Reshape", [t, heads])], perm=perm)
               for t, perm in ((q, [0, 2, 1, 3]), (k, [0, 2, 3, 1]), (v, [0, 2, 1, 3])))
    scores = g.node("Mul", [g.node("MatMul", [q, k]), g.initializer(np.float32(1 / math.sqrt(d)), "scale")])
    if causal:
        scores = g.node("Where", [causal_mask(g, qkv), scores, g.constant(-np.inf, np.float32, "minus_inf")])
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


def self_attention(g, mha, x, value, path="self_attn"):
    """The nodes of mha(x, x, x)[0] under "<scope>.<path>" ("" for mha itself); returns the output's name."""
    scope = g.scope
    g.scope = ".".join(p for p in (scope, path) if p)
    try:
        e, h = mha.embed_dim, mha.num_heads
        if not mha.batch_first:
            x = g.node("Transpose", [x], perm=[1, 0, 2])
        qkv = g.node("MatMul", [x, g.initializer(mha.in_proj_weight._data.T, "in_proj_weight_t")])
        if mha.in_proj_bias is not None:
            qkv = g.node("Add", [qkv, g.initializer(mha.in_proj_bias, "in_proj_bias")])
        o = attend(g, qkv, e, h)
        batch_first = value if mha.batch_first else value.transpose(1, 0, 2)
        y = g.child(mha.out_proj, "out_proj", o, batch_first)[0]
        return y if mha.batch_first else g.node("Transpose", [y], perm=[1, 0, 2])
    finally:
        g.scope = scope


def _activation(g, fn, x):
    if fn is F.relu:
        return g.node("Relu", [x])
    if fn is F.gelu:
        return gelu(g, SimpleNamespace(approximate="none"), x, None)
    raise ValueError(f"onnx.export: layer {g.layer!r} (TransformerEncoderLayer) has activation {fn!r}; tinynn "
                     "exports relu and gelu")


@converter(TransformerEncoderLayer)
def encoder_layer(g, layer, x, value):
    def sa(h, h_value):
        return g.node("Add", [x_in[0], self_attention(g, layer.self_attn, h, h_value)]), \
            x_in[1] + _run(lambda t: layer._sa_block(t, None, None, False), h_value)

    def ff(h, h_value):
        a, a_value = g.child(layer.linear1, "linear1", h, h_value)
        a = _activation(g, layer.activation, a)
        y = g.child(layer.linear2, "linear2", a, _run(layer.activation, a_value))[0]
        return g.node("Add", [ff_in[0], y]), ff_in[1] + _run(layer._ff_block, h_value)

    x_in = (x, value)
    if layer.norm_first:
        ff_in = sa(*g.child(layer.norm1, "norm1", x, value))
        return ff(*g.child(layer.norm2, "norm2", *ff_in))[0]
    ff_in = g.child(layer.norm1, "norm1", *sa(x, value))
    return g.child(layer.norm2, "norm2", *ff(*ff_in))[0]


@converter(TransformerEncoder)
def encoder(g, layer, x, value):
    for i, block in enumerate(layer.layers):
        x, value = g.child(block, f"layers.{i}", x, value)
    return x if layer.norm is None else g.child(layer.norm, "norm", x, value)[0]
