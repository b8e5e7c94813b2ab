"""export(..., fold_batchnorm=True): each BatchNormalization that reads a Conv's output (and is that
output's only reader) becomes part of the Conv, as PyTorch's exporter and quantize.fuse_modules do:

    y = (conv(x, W) + b - mean) s + beta,  s = gamma / sqrt(var + eps)
      = conv(x, W s[o]) + ((b - mean) s + beta)

computed in float64 and stored as float32. A pass over the finished graph, so it folds wherever
the pair occurs (a Sequential, a residual block, its downsample branch)."""
import numpy as np

from .graph import helper, numpy_helper

__all__ = ["fold_batchnorms"]


def fold_batchnorms(g):
    """Fold every foldable BatchNormalization of graph `g` into its Conv (in place)."""
    inits = {t.name: t for t in g.initializers}
    producer = {o: n for n in g.nodes for o in n.output}
    readers = {}
    for n in g.nodes:
        for i in n.input:
            readers[i] = readers.get(i, 0) + 1
    dropped = set()
    for bn in [n for n in g.nodes if n.op_type == "BatchNormalization"]:
        conv = producer.get(bn.input[0])
        if conv is None or conv.op_type != "Conv" or readers[bn.input[0]] != 1 or \
                not all(i in inits for i in (*bn.input[1:], *conv.input[1:])):
            continue
        gamma, beta, mean, var = (numpy_helper.to_array(inits[i]).astype(np.float64) for i in bn.input[1:5])
        eps = next((helper.get_attribute_value(a) for a in bn.attribute if a.name == "epsilon"), 1e-5)
        scale = gamma / np.sqrt(var + eps)
        w = numpy_helper.to_array(inits[conv.input[1]]).astype(np.float64)
        b = numpy_helper.to_array(inits[conv.input[2]]).astype(np.float64) if len(conv.input) > 2 else 0.0
        w_name = conv.input[1]
        b_name = g.name(f"{w_name}.folded_bias")
        _replace(g, inits[w_name], (w * scale.reshape(-1, *[1] * (w.ndim - 1))).astype(np.float32), w_name)
        g.initializers.append(numpy_helper.from_array(((b - mean) * scale + beta).astype(np.float32), b_name))
        del conv.input[2:]
        conv.input.append(b_name)
        conv.output[0] = bn.output[0]
        dropped.add(id(bn))
    g.nodes[:] = [n for n in g.nodes if id(n) not in dropped]
    used = {i for n in g.nodes for i in n.input}
    g.initializers[:] = [t for t in g.initializers if t.name in used]


def _replace(g, old, array, name):
    g.initializers[g.initializers.index(old)] = numpy_helper.from_array(array, name)
