"""Converters of the Transformer models of tinynn.models: GPT (decoder, causal) and TransformerClassifier.

    GPT                   idx (N, T) int64, T dynamic (<= block_size): Gather(wte, idx) +
                          Gather(wpe, Range(0, T)), its blocks, ln_f, lm_head -> logits (N, T, V)
    Block                 x = x + attn(ln_1(x)); x + mlp(ln_2(x))
    CausalSelfAttention   c_attn, the heads' attention with Where(Trilu(ones (T, T)), scores, -inf)
                          before the Softmax, c_proj
    TransformerClassifier Reshape (N, seq_len, input_dim), embed, Concat([Expand(cls, (N, 1, d)),
                          tokens], axis 1) + pos_embed, the encoder, Gather position 0, norm, head
    MultiheadAttention    alone: self-attention of its one input, mha(x, x, x, need_weights=False)[0]
"""
import numpy as np

from ..autograd import no_grad
from ..models import GPT, TransformerClassifier
from ..models.gpt import Block, CausalSelfAttention
from ..nn import functional as F
from ..nn.attention import MultiheadAttention
from ..tensor import Tensor
from .attention import attend, self_attention
from .graph import RUNNERS, converter


def _axis(g, x, axis):
    """The size of x's `axis`, as a 1-D int64 tensor of one element."""
    return g.node("Slice", [g.node("Shape", [x]), g.constant([axis], np.int64, f"axis{axis}_i64"),
                            g.constant([axis + 1], np.int64, f"axis{axis + 1}_i64")])


@converter(GPT)
def gpt(g, layer, x, value):
    g.input_axes[x] = {0: "batch", 1: "sequence"}
    tokens, tokens_value = g.child(layer.wte, "wte", x, value)
    length = g.node("Squeeze", [_axis(g, x, 1), g.constant([0], np.int64, "axis0_i64")])
    positions = g.node("Range", [g.constant(0, np.int64, "zero_i64"), length, g.constant(1, np.int64, "one_i64")])
    pos, pos_value = g.child(layer.wpe, "wpe", positions, np.arange(value.shape[1]))
    h, h_value = g.node("Add", [tokens, pos]), tokens_value + pos_value
    for i, block in enumerate(layer.h):
        h, h_value = g.child(block, f"h.{i}", h, h_value)
    return g.child(layer.lm_head, "lm_head", *g.child(layer.ln_f, "ln_f", h, h_value))[0]


@converter(Block)
def block(g, layer, x, value):
    a, a_value = g.child(layer.ln_1, "ln_1", x, value)
    h = g.node("Add", [x, g.child(layer.attn, "attn", a, a_value)[0]])
    with no_grad():
        h_value = np.asarray((Tensor(value) + layer.attn(Tensor(a_value)))._data)
    m = g.child(layer.mlp, "mlp", *g.child(layer.ln_2, "ln_2", h, h_value))[0]
    return g.node("Add", [h, m])


@converter(CausalSelfAttention)
def causal_self_attention(g, layer, x, value):
    n, t, e = value.shape
    qkv, qkv_value = g.child(layer.c_attn, "c_attn", x, value)
    heads = Tensor(qkv_value).reshape(n, t, 3, layer.n_head, e // layer.n_head).permute(2, 0, 3, 1, 4)
    with no_grad():
        o_value = F.scaled_dot_product_attention(heads[0], heads[1], heads[2], is_causal=True)
    o_value = np.asarray(o_value.transpose(1, 2).reshape(n, t, e)._data)
    return g.child(layer.c_proj, "c_proj", attend(g, qkv, e, layer.n_head, causal=True), o_value)[0]


@converter(TransformerClassifier)
def transformer_classifier(g, layer, x, value):
    n, d = value.shape[0], layer.d_model
    rows = value.reshape(n, layer.seq_len, layer.input_dim)
    x = g.node("Reshape", [x, g.initializer(np.array([0, layer.seq_len, layer.input_dim], np.int64), "rows_shape")])
    tokens, tokens_value = g.child(layer.embed, "embed", x, rows)
    shape = g.node("Concat", [_axis(g, x, 0), g.initializer(np.array([1, d], np.int64), "cls_shape")], axis=0)
    cls = g.node("Expand", [g.initializer(layer.cls_token, "cls_token"), shape])
    z = g.node("Add", [g.node("Concat", [cls, tokens], axis=1), g.initializer(layer.pos_embed, "pos_embed")])
    cls_value = np.broadcast_to(layer.cls_token._data, (n, 1, d))
    z_value = np.concatenate([cls_value, tokens_value], 1) + layer.pos_embed._data
    z, z_value = g.child(layer.encoder, "encoder", z, z_value.astype(np.float32))
    first = g.node("Gather", [z, g.constant(0, np.int64, "zero_i64")], axis=1)
    return g.child(layer.head, "head", *g.child(layer.norm, "norm", first, z_value[:, 0]))[0]


@converter(MultiheadAttention)
def multihead_attention(g, layer, x, value):
    return self_attention(g, layer, x, value, path="")


RUNNERS[MultiheadAttention] = lambda mha, x: mha(x, x, x, need_weights=False)[0]
