"""Loaders of the ONNX nodes that become one tinynn layer each (besides Gemm / MatMul): what
vision.py, sequence.py and layers.py write, read back.

    Conv              Conv1d / Conv2d by the weight's rank; pads begin = end, or PyTorch's "same"
    MaxPool           MaxPool1d / MaxPool2d; end pads longer than the begin ones by what PyTorch's
                      ceil_mode adds (tinynn's export of ceil_mode) read as ceil_mode=True
    AveragePool       AvgPool2d (count_include_pad as the node's), likewise
    GlobalAveragePool AdaptiveAvgPool2d(1)
    BatchNormalization BatchNorm1d (input rank 2 or 3) / BatchNorm2d (rank 4) with its running statistics
    LayerNormalization LayerNorm(scale's shape), over the last axes only
    Gather            Embedding, for a constant table gathered on axis 0
    LeakyRelu, Elu, Clip (constant bounds), Gelu   LeakyReLU, ELU, Hardtanh, GELU
"""
import numpy as np

from .. import nn
from ..backend.reference_conv import pool_output_size
from .graph import helper

__all__ = ["LAYER_LOADERS", "attrs", "const"]


def attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def const(node, consts, i, what):
    if len(node.input) <= i or not node.input[i]:
        return None
    if node.input[i] not in consts:
        raise ValueError(f"onnx.load: {node.op_type} node {node.name!r}: its {what} {node.input[i]!r} is not a "
                         "constant; tinynn reads layers whose weights are initializers")
    return consts[node.input[i]]


def _text(value):
    return value.decode() if isinstance(value, bytes) else value


def _refuse(node, why):
    raise ValueError(f"onnx.load: {node.op_type} node {node.name!r}: {why}")


def _set(param, value):
    param._data[...] = np.asarray(value, np.float32).reshape(param.shape)


def _conv(node, consts, opset, shape=None):
    a = attrs(node)
    if _text(a.get("auto_pad", "NOTSET")) != "NOTSET":
        _refuse(node, f"auto_pad={a['auto_pad']!r}; tinynn reads explicit pads")
    w, b = const(node, consts, 1, "weight"), const(node, consts, 2, "bias")
    dims = w.ndim - 2
    kernel = list(w.shape[2:])
    stride, dilation = a.get("strides", [1] * dims), a.get("dilations", [1] * dims)
    pads = a.get("pads", [0] * 2 * dims)
    begin, end = list(pads[:dims]), list(pads[dims:])
    totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
    if begin == end:
        padding = begin[0] if dims == 1 else tuple(begin)
    elif all(s == 1 for s in stride) and begin == [t // 2 for t in totals] and end == [t - t // 2 for t in totals]:
        padding = "same"
    else:
        _refuse(node, f"pads {pads} are neither symmetric nor PyTorch's 'same'")
    groups = int(a.get("group", 1))
    cls = nn.Conv1d if dims == 1 else nn.Conv2d
    one = (lambda v: v[0]) if dims == 1 else tuple
    layer = cls(w.shape[1] * groups, w.shape[0], one(kernel), stride=one(stride), padding=padding,
                dilation=one(dilation), groups=groups, bias=b is not None)
    _set(layer.weight, w)
    if b is not None:
        _set(layer.bias, b)
    return layer


def _pooled(node, shape, make):
    """make(kernel, stride, padding, dilation, ceil_mode) from a pooling node, PyTorch's arguments. End
    pads longer than the begin ones are read as ceil_mode=True when PyTorch's ceil lengths on this
    input (its shape from shape inference) are the ones the floor formula gives with those pads."""
    a = attrs(node)
    if a.get("ceil_mode", 0) or _text(a.get("auto_pad", "NOTSET")) != "NOTSET" or shape is None:
        _refuse(node, "tinynn reads pooling with explicit pads, ceil_mode=0 and an input shape known")
    kernel = list(a["kernel_shape"])
    dims = len(kernel)
    stride, dilation = list(a.get("strides", [1] * dims)), list(a.get("dilations", [1] * dims))
    pads = list(a.get("pads", [0] * 2 * dims))
    begin, end = pads[:dims], pads[dims:]
    ceil = begin != end
    if ceil:
        sizes = shape[2:]
        onnx_out = [(n + p + q - d * (k - 1) - 1) // s + 1 if isinstance(n, int) else None
                    for n, p, q, d, k, s in zip(sizes, begin, end, dilation, kernel, stride)]
        ours = [pool_output_size(n, k, s, p, d, True) if isinstance(n, int) else -1
                for n, k, s, p, d in zip(sizes, kernel, stride, begin, dilation)]
        if onnx_out != ours or (a.get("count_include_pad", 0) and node.op_type == "AveragePool"):
            _refuse(node, f"pads {pads} on input {shape} are not PyTorch's ceil_mode nor symmetric")
    one = (lambda v: v[0]) if dims == 1 else tuple
    return make(one(kernel), one(stride), one(begin), one(dilation), ceil)


def _max_pool(node, consts, opset, shape=None):
    return _pooled(node, shape, lambda k, s, p, d, ceil: (nn.MaxPool1d if isinstance(k, int) else nn.MaxPool2d)(
        k, s, p, d, ceil_mode=ceil))


def _avg_pool(node, consts, opset, shape=None):
    include = bool(attrs(node).get("count_include_pad", 0))
    if shape is None or len(shape) != 4:
        _refuse(node, f"tinynn has AvgPool2d only (input shape {shape})")
    return _pooled(node, shape, lambda k, s, p, d, ceil: nn.AvgPool2d(k, s, p, ceil_mode=ceil,
                                                                       count_include_pad=include))


def _batch_norm(node, consts, opset, shape=None):
    rank = None if shape is None else len(shape)
    gamma, beta, mean, var = (const(node, consts, i, what) for i, what in
                              enumerate(("scale", "B", "mean", "var"), start=1))
    if rank not in (2, 3, 4):
        _refuse(node, f"tinynn has BatchNorm1d and BatchNorm2d (input rank 2, 3 or 4), the input has rank {rank}")
    layer = (nn.BatchNorm2d if rank == 4 else nn.BatchNorm1d)(gamma.size, eps=float(attrs(node).get("epsilon", 1e-5)))
    for param, value in ((layer.weight, gamma), (layer.bias, beta), (layer.running_mean, mean),
                         (layer.running_var, var)):
        _set(param, value)
    return layer.eval()


def _layer_norm(node, consts, opset, shape=None):
    rank = None if shape is None else len(shape)
    scale, bias = const(node, consts, 1, "scale"), const(node, consts, 2, "B")
    axis = int(attrs(node).get("axis", -1))
    if rank is not None and axis >= 0:
        axis -= rank
    if axis != -scale.ndim:
        _refuse(node, f"axis {axis} does not normalize the last {scale.ndim} axes the scale covers")
    layer = nn.LayerNorm(scale.shape, eps=float(attrs(node).get("epsilon", 1e-5)), bias=bias is not None)
    _set(layer.weight, scale)
    if bias is not None:
        _set(layer.bias, bias)
    return layer


def _gather(node, consts, opset, shape=None):
    table = consts.get(node.input[0])
    if table is None or table.ndim != 2 or attrs(node).get("axis", 0) != 0:
        _refuse(node, "tinynn reads Gather of a constant 2-D table on axis 0 (an Embedding)")
    layer = nn.Embedding(*table.shape)
    _set(layer.weight, table)
    return layer


def _clip(node, consts, opset, shape=None):
    lo, hi = const(node, consts, 1, "min"), const(node, consts, 2, "max")
    if lo is None or hi is None:
        _refuse(node, "tinynn reads Clip with both bounds (a Hardtanh)")
    return nn.Hardtanh(float(lo), float(hi))


LAYER_LOADERS = {
    "Conv": _conv, "MaxPool": _max_pool, "AveragePool": _avg_pool, "BatchNormalization": _batch_norm,
    "GlobalAveragePool": lambda node, consts, opset, shape=None: nn.AdaptiveAvgPool2d(1),
    "LayerNormalization": _layer_norm, "Gather": _gather, "Clip": _clip,
    "LeakyRelu": lambda node, consts, opset, shape=None: nn.LeakyReLU(float(attrs(node).get("alpha", 0.01))),
    "Elu": lambda node, consts, opset, shape=None: nn.ELU(float(attrs(node).get("alpha", 1.0))),
    "Gelu": lambda node, consts, opset, shape=None: nn.GELU(_text(attrs(node).get("approximate", "none"))),
}
