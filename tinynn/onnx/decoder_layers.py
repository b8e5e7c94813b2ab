"""Converters of the Transformer decoder and the whole encoder-decoder (nn.TransformerDecoderLayer,
nn.TransformerDecoder, nn.Transformer): two graph inputs each, every axis but E dynamic.

    TransformerDecoderLayer  inputs (tgt, memory):
        post-norm:  x = norm1(x + SA(x));  x = norm2(x + MHA(x, m));  x = norm3(x + FF(x))
        pre-norm:   x = x + SA(norm1(x));  x = x + MHA(norm2(x), m);  x = x + FF(norm3(x))
        SA the self-attention of attention.py (causal when tgt_mask is the causal mask), MHA the
        cross-attention (q from x, k and v from m), FF = linear2(act(linear1(x))); dropout: nothing
    TransformerDecoder       inputs (tgt, memory): its layers in turn on the same memory, then its norm
    Transformer              inputs (src, tgt): memory = encoder(src) (attention.py), decoder(tgt, memory)

The graph's input axes: "batch" (axis 0 with batch_first, else 1) and "tgt_sequence" /
"memory_sequence" (the Transformer's: "src_sequence" / "tgt_sequence"), each free. Masks are keyword
arguments of forward (export(..., kwargs={"tgt_mask": causal})): tgt_mask and src_mask may be the causal
mask (built in the graph from the length, opset >= 14); memory_mask, the key padding masks and
memory_is_causal are refused by name (a mask that changes per sample would be a graph input; tinynn
exports none, as for the encoder).
"""
from ..nn.transformer_decoder import Transformer, TransformerDecoder, TransformerDecoderLayer
from .attention import (_run, batch_first_of, batched, causal_call, causal_runner, causal_tensor, cross_attention,
                        feed_forward, residual, self_attention)
from .graph import RUNNERS, converter

TGT = ("tgt_mask", "tgt_is_causal")


def _inputs(g, layer, x, value, labels):
    """The two inputs' names and values, checked batched, their axes declared."""
    batch_first = batch_first_of(layer)
    for v in value:
        batched(g, layer, v)
    for name, label in zip(x, labels):
        g.input_axes[name] = {0: "batch", 1: label} if batch_first else {0: label, 1: "batch"}
    return x, value, batch_first


@converter(TransformerDecoderLayer, inputs=2, kwargs=TGT)
def decoder_layer(g, layer, x, value):
    (x, mem), (value, mem_value), batch_first = _inputs(g, layer, x, value, ("tgt_sequence", "memory_sequence"))
    causal = causal_call(g, "tgt_mask", value, batch_first)
    mask = causal_tensor(value, batch_first) if causal else None

    def sa(h, h_value, into):
        y = self_attention(g, layer.self_attn, h, h_value, causal=causal)
        return residual(g, *into, y, _run(lambda t: layer._sa_block(t, mask, None, causal), h_value))

    def mha(h, h_value, into):
        y = cross_attention(g, layer.multihead_attn, h, mem, h_value)
        return residual(g, *into, y, _run(lambda t, m: layer._mha_block(t, m, None, None), h_value, mem_value))

    def ff(h, h_value, into):
        return residual(g, *into, *feed_forward(g, layer, h, h_value))

    if layer.norm_first:
        h = sa(*g.child(layer.norm1, "norm1", x, value), (x, value))
        h = mha(*g.child(layer.norm2, "norm2", *h), h)
        return ff(*g.child(layer.norm3, "norm3", *h), h)[0]
    h = g.child(layer.norm1, "norm1", *sa(x, value, (x, value)))
    h = g.child(layer.norm2, "norm2", *mha(*h, h))
    return g.child(layer.norm3, "norm3", *ff(*h, h))[0]


@converter(TransformerDecoder, inputs=2, kwargs=TGT)
def decoder(g, layer, x, value):
    (x, mem), (value, mem_value), batch_first = _inputs(g, layer, x, value, ("tgt_sequence", "memory_sequence"))
    causal = causal_call(g, "tgt_mask", value, batch_first) if len(layer.layers) else False
    call = {"tgt_mask": causal_tensor(value, batch_first), "tgt_is_causal": True} if causal else None
    for i, block in enumerate(layer.layers):
        x, value = g.child(block, f"layers.{i}", (x, mem), (value, mem_value), kwargs=call)
    return x if layer.norm is None else g.child(layer.norm, "norm", x, value)[0]


@converter(Transformer, inputs=2, kwargs=("src_mask", "src_is_causal") + TGT)
def transformer(g, layer, x, value):
    (src, tgt), (src_value, tgt_value), batch_first = _inputs(g, layer, x, value, ("src_sequence", "tgt_sequence"))
    calls = []
    for key, v in (("src_mask", src_value), ("tgt_mask", tgt_value)):
        causal = causal_call(g, key, v, batch_first)
        calls.append({"mask" if key == "src_mask" else key: causal_tensor(v, batch_first),
                      "is_causal" if key == "src_mask" else "tgt_is_causal": True} if causal else None)
    memory, memory_value = g.child(layer.encoder, "encoder", src, src_value, kwargs=calls[0])
    return g.child(layer.decoder, "decoder", (tgt, memory), (tgt_value, memory_value), kwargs=calls[1])[0]


RUNNERS[TransformerDecoderLayer] = RUNNERS[TransformerDecoder] = causal_runner("tgt_mask")
RUNNERS[Transformer] = causal_runner("src_mask", "tgt_mask")
