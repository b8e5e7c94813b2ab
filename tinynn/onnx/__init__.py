"""Exchange with ONNX (extra `tinynn[onnx]`: onnx and onnxruntime).

    from tinynn import onnx as tonnx
    tonnx.export(model, example_input, "model.onnx")     # dynamic batch axis, checked by onnx.checker
    same = tonnx.load("model.onnx")                      # a tinynn GraphModule, for the ops tinynn has
    print(tonnx.layer_table("model.onnx"))               # the graph, one row per node

Export: export.py (the walk), graph.py (the graph builder and the per-layer converter table),
layers.py (float layers), activations.py (the other activations), attention.py and decoder_layers.py
(the Transformer), more_layers.py and im2col.py (padding, RMSNorm, LRN, EmbeddingBag, Unfold/Fold, ...),
shuffle_pool.py (PixelShuffle/Unshuffle, Softmax2d, adaptive pools), cells.py (RNNCell/LSTMCell/GRUCell),
pairs.py (Bilinear, CosineSimilarity, PairwiseDistance), volumes.py (the 3-D layers),
quantized.py (the int8 Linear).
Load: load.py (the GraphModule), load_ops.py (a converter per operator), load_layers.py and
load_recurrent.py (nodes with weights), load_activations.py, load_more.py, load_shuffle_pool.py, load_int8.py.
Needs the `onnx` package; `import tinynn` does not import it.
"""
from .export import export
from .graph import CONVERTERS, converter
from .load import GraphModule, load
from .table import layer_rows, layer_table

__all__ = ["export", "load", "GraphModule", "layer_table", "layer_rows", "converter", "CONVERTERS"]
