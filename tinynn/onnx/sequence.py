"""Converters of the layers of token sequences.

    Embedding   Gather(W, ids, axis=0): the graph's input is then int64 ids (export takes an integer
                example); the rows W[ids] whatever padding_idx (it only stops gradients)
    LayerNorm   LayerNormalization(x, gamma, beta, axis=-len(normalized_shape), epsilon) (opset 17);
                gamma = 1 and beta = 0 stored when the layer has none
"""
import numpy as np

from ..nn.embedding import Embedding
from ..nn.layernorm import LayerNorm
from .graph import converter


@converter(Embedding)
def embedding(g, layer, x, value):
    if value.dtype.kind not in "iu":
        raise ValueError(f"onnx.export: layer {g.layer!r} (Embedding) reads integer ids, got {value.dtype} values")
    return g.node("Gather", [g.initializer(layer.weight, "weight"), x], axis=0)


@converter(LayerNorm)
def layer_norm(g, layer, x, value):
    if g.opset_version < 17:
        raise ValueError(f"onnx.export: layer {g.layer!r} (LayerNorm) needs LayerNormalization, opset >= 17 "
                         f"(got opset_version={g.opset_version})")
    shape = layer.normalized_shape
    gamma = np.ones(shape, np.float32) if layer.weight is None else layer.weight
    inputs = [x, g.initializer(gamma, "weight")]
    if layer.bias is not None:
        inputs.append(g.initializer(layer.bias, "bias"))
    return g.node("LayerNormalization", inputs, axis=-len(shape), epsilon=float(layer.eps))
