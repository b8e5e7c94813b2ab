"""Converters of the layers without a model of their own in ONNX's graph beyond one operator or a short
composition: the padding layers, the dropout variants, RReLU, ChannelShuffle, RMSNorm, LocalResponseNorm
and EmbeddingBag.

    ZeroPad/ConstantPad/ReflectionPad/ReplicationPad/CircularPad 1d/2d/3d
                        Pad(x, pads, value) of the last 1, 2 or 3 axes, mode constant / reflect / edge /
                        wrap (wrap from opset 19); PyTorch's (left, right, top, bottom, front, back) are
                        ONNX's begin and end pads of the last axes, negative ones crop as in both
    Dropout1d/2d/3d, AlphaDropout, FeatureAlphaDropout
                        nothing: the identity in eval mode, as Dropout
    RReLU(l, u)         LeakyRelu(alpha = (l + u) / 2), its eval-mode slope
    ChannelShuffle(g)   Reshape [0, g, C/g, -1] -> Transpose (0, 2, 1, 3) -> Reshape to Shape(x)
    RMSNorm             opset >= 23: RMSNormalization(x, gamma, axis = -len(normalized_shape), epsilon);
                        before: x / Sqrt(ReduceMean(x x, last axes) + eps) [* gamma]; eps=None is float32's
                        machine epsilon (the graph computes in float32)
    LocalResponseNorm   LRN(size, alpha, beta, bias = k) on a 4-D input with an odd size (ONNX's window
                        c - (n-1)/2 ... c + (n-1)/2 is PyTorch's then, alpha divided by n in both; onnxruntime
                        runs LRN on 4-D inputs with odd sizes only); else PyTorch's composition: the squares
                        Reshape (N, 1, C, -1), Pad n // 2 zero channels before and (n - 1) // 2 after,
                        AveragePool (n, 1) (the mean of the window), (k + alpha mean)^beta, Div
    EmbeddingBag        on a 2-D input (B, L) of ids, each row a bag: Gather(W, ids) (B, L, D), then
                        ReduceSum / ReduceMean / ReduceMax over axis 1; with padding_idx the padding entries
                        are left out: Where(ids != p, rows, 0 or -inf), the mean divided by
                        Max(count, 1), a bag of padding alone 0. A 1-D input cut by offsets, and
                        per_sample_weights, are forward arguments: refused by name
"""
import numpy as np

from ..nn import activations, dropout, padding
from ..nn.embedding_bag import EmbeddingBag
from ..nn.local_response_norm import LocalResponseNorm
from ..nn.pixel_shuffle import ChannelShuffle
from ..nn.rms_norm import RMSNorm
from .graph import KEEP_NONNEGATIVE, converter, onnx
from .layers import identity

PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}
RMS_NORMALIZATION_OPSET = 23
# the opset from which axes is an input
REDUCE_AXES_INPUT = {"ReduceSum": 13, "ReduceMean": 18, "ReduceMax": 18, "ReduceMin": 18}


def reduce(g, op_type, x, axes, keepdims):
    """op_type(x) over `axes`, as an attribute or (from its opset) an input."""
    if g.opset_version >= REDUCE_AXES_INPUT[op_type]:
        return g.node(op_type, [x, g.initializer(np.array(axes, np.int64), "axes")], keepdims=int(keepdims))
    return g.node(op_type, [x], axes=list(axes), keepdims=int(keepdims))


@converter(padding._PadNd)
def pad(g, layer, x, value):
    mode, sides = PAD_MODES[layer.mode], layer.sides
    if mode == "wrap" and g.opset_version < 19:
        raise ValueError(f"onnx.export: layer {g.layer!r} ({type(layer).__name__}) needs Pad's wrap mode, opset >= 19 "
                         f"(got opset_version={g.opset_version})")
    begin, end = [0] * value.ndim, [0] * value.ndim
    for i in range(sides):  # PyTorch's pairs start at the last axis
        begin[value.ndim - 1 - i], end[value.ndim - 1 - i] = int(layer.padding[2 * i]), int(layer.padding[2 * i + 1])
    inputs = [x, g.initializer(np.array(begin + end, np.int64), "pads")]
    if mode == "constant" and float(layer.value) != 0:
        inputs.append(g.initializer(np.float32(layer.value), "value"))
    return g.node("Pad", inputs, mode=mode) if mode != "constant" else g.node("Pad", inputs)


converter(dropout.Dropout1d, dropout.Dropout2d, dropout.Dropout3d, dropout.AlphaDropout,
          dropout.FeatureAlphaDropout)(identity)


@converter(activations.RReLU)
def rrelu(g, layer, x, value):
    return g.node("LeakyRelu", [x], alpha=float((layer.lower + layer.upper) / 2))


@converter(ChannelShuffle)
def channel_shuffle(g, layer, x, value):
    groups = int(layer.groups)
    grid = g.initializer(np.array([0, groups, value.shape[1] // groups, -1], np.int64), "grid_shape")
    y = g.node("Transpose", [g.node("Reshape", [x, grid])], perm=[0, 2, 1, 3])
    return g.node("Reshape", [y, g.node("Shape", [x])])


@converter(RMSNorm)
def rms_norm(g, layer, x, value):
    k = len(layer.normalized_shape)
    eps = float(np.finfo(np.float32).eps if layer.eps is None else layer.eps)
    if g.opset_version >= RMS_NORMALIZATION_OPSET:
        gamma = np.ones(layer.normalized_shape, np.float32) if layer.weight is None else layer.weight
        return g.node("RMSNormalization", [x, g.initializer(gamma, "weight")], axis=-k, epsilon=eps)
    mean = reduce(g, "ReduceMean", g.node("Mul", [x, x]), range(value.ndim - k, value.ndim), keepdims=True)
    y = g.node("Div", [x, g.node("Sqrt", [g.node("Add", [mean, g.initializer(np.float32(eps), "eps")])])])
    return y if layer.weight is None else g.node("Mul", [y, g.initializer(layer.weight, "weight")])


@converter(LocalResponseNorm)
def local_response_norm(g, layer, x, value):
    n, alpha, beta, k = int(layer.size), float(layer.alpha), float(layer.beta), float(layer.k)
    if value.ndim == 4 and n % 2:
        return g.node("LRN", [x], size=n, alpha=alpha, beta=beta, bias=k)
    if value.ndim < 3:
        raise ValueError(f"onnx.export: layer {g.layer!r} (LocalResponseNorm) on an input of shape {value.shape}: "
                         "it needs (N, C, *)")
    rows = g.node("Reshape", [g.node("Mul", [x, x]),
                              g.initializer(np.array([0, 1, value.shape[1], -1], np.int64), "rows_shape")])
    rows = g.node("Pad", [rows, g.initializer(np.array([0, 0, n // 2, 0, 0, 0, (n - 1) // 2, 0], np.int64), "pads")])
    mean = g.node("AveragePool", [rows], kernel_shape=[n, 1])
    scaled = g.node("Add", [g.node("Mul", [mean, g.initializer(np.float32(alpha), "alpha")]),
                            g.initializer(np.float32(k), "k")])
    den = g.node("Pow", [scaled, g.initializer(np.float32(beta), "beta")])
    return g.node("Div", [x, g.node("Reshape", [den, g.node("Shape", [x])])])


@converter(EmbeddingBag)
def embedding_bag(g, layer, x, value):
    if value.dtype.kind not in "iu" or value.ndim != 2 or value.shape[1] == 0:
        raise ValueError(f"onnx.export: layer {g.layer!r} (EmbeddingBag) on an input of shape {value.shape} and "
                         f"dtype {value.dtype}: tinynn exports a 2-D input of ids (bags, length > 0), each row a bag "
                         "(a 1-D input cut by offsets, and per_sample_weights, are not exported)")
    rows = g.node("Gather", [g.initializer(layer.weight, "weight"), x], axis=0)  # (B, L, D)
    op = {"sum": "ReduceSum", "mean": "ReduceMean", "max": "ReduceMax"}[layer.mode]
    if layer.padding_idx is None:
        return reduce(g, op, rows, [1], keepdims=False)
    keep = g.node("Not", [g.node("Equal", [x, g.initializer(np.int64(layer.padding_idx), "padding_idx")])])
    keep3 = g.node("Unsqueeze", [keep, g.constant([2], np.int64, "two_i64")])
    fill = g.constant(-np.inf, np.float32, "minus_inf") if layer.mode == "max" else \
        g.constant(0.0, np.float32, "zero")
    total = reduce(g, "ReduceMax" if layer.mode == "max" else "ReduceSum", g.node("Where", [keep3, rows, fill]), [1],
                   keepdims=False)
    count = reduce(g, "ReduceSum", g.node("Cast", [keep], to=onnx.TensorProto.FLOAT), [1], keepdims=True)  # (B, 1)
    if layer.mode == "sum":
        return total
    if layer.mode == "mean":
        return g.node("Div", [total, g.node("Max", [count, g.constant(1.0, np.float32, "one")])])
    return g.node("Where", [g.node("Greater", [count, g.constant(0.0, np.float32, "zero")]), total,
                            g.constant(0.0, np.float32, "zero")])


KEEP_NONNEGATIVE.update({ChannelShuffle, padding.ZeroPad1d, padding.ZeroPad2d, padding.ZeroPad3d,
                         padding.ReflectionPad1d, padding.ReflectionPad2d, padding.ReflectionPad3d,
                         padding.ReplicationPad1d, padding.ReplicationPad2d, padding.ReplicationPad3d,
                         padding.CircularPad1d, padding.CircularPad2d, padding.CircularPad3d})
