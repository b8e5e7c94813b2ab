"""The ONNX nodes that become one tinynn layer each, holding the node's constant inputs as its
parameters (so a loaded graph's state_dict reads layer by layer): the table LAYERS, op type ->
function(node, ctx) -> Module applied to the node's computed (non-constant) inputs, or None when the node is not in
that form (a MatMul of two computed tensors) and the plain operator of load_ops.OPS computes it.

    Gemm, MatMul      Linear, for a constant weight (a MatMul's bias: the Add after it, load.py)
    Conv              Conv1d / Conv2d / Conv3d by the weight's rank; pads begin = end, or PyTorch's "same"
    ConvTranspose     ConvTranspose1d / 2d / 3d (strides, pads begin = end, output_padding, dilations,
                      group)
    MaxPool           MaxPool1d / 2d / 3d; end pads longer than the begin ones by what PyTorch's
                      ceil_mode adds (tinynn's export of ceil_mode) read as ceil_mode=True
    AveragePool       AvgPool1d / 2d / 3d (count_include_pad as the node's), likewise
    GlobalAveragePool AdaptiveAvgPool1d(1) / 2d(1) / 3d(1)
    BatchNormalization BatchNorm1d (input rank 2 or 3) / BatchNorm2d (rank 4) / BatchNorm3d (rank 5) with its
                      running statistics
    LayerNormalization LayerNorm(scale's shape), over the last axes only
    Gather            Embedding, for a constant table gathered on axis 0
    LSTM, GRU, RNN    load_recurrent.py
"""
import numpy as np

from .. import nn
from ..backend.reference_conv import pool_output_size
from .load_ops import attrs, refuse
from .load_recurrent import recurrent

__all__ = ["LAYERS", "set_param"]


def set_param(param, value):
    param._data[...] = np.asarray(value, np.float32).reshape(param.shape)


def _weights(node, ctx, first=1):
    """The constant inputs from `first` on (None for an omitted one), or None if one is computed."""
    names = list(node.input[first:])
    if any(n and n not in ctx.consts for n in names):
        return None
    return [ctx.consts[n] if n else None for n in names]


def linear(weight, bias):
    """A Linear holding W (out, in) and b (out,) or no bias."""
    out_features, in_features = weight.shape
    layer = nn.Linear(in_features, out_features, bias=bias is not None)
    set_param(layer.weight, weight)
    if bias is not None:
        set_param(layer.bias, np.broadcast_to(bias, (out_features,)))
    return layer


def _gemm(node, ctx):
    a, found = attrs(node), _weights(node, ctx)
    if found is None or a.get("transA", 0):
        return None
    b, c = found[0].astype(np.float32), (found[1:] or [None])[0]
    w = b if a.get("transB", 0) else b.T
    alpha, beta = np.float32(a.get("alpha", 1.0)), np.float32(a.get("beta", 1.0))
    if c is not None and c.size not in (1, w.shape[0]):
        return None  # a C of several rows is not a bias
    return linear(w * alpha if alpha != 1 else w, None if c is None else (c * beta).astype(np.float32).reshape(-1))


def _matmul(node, ctx):
    found = _weights(node, ctx)
    return None if found is None or found[0].ndim != 2 else linear(found[0].astype(np.float32).T, None)


def _conv(node, ctx):
    a, found = attrs(node), _weights(node, ctx)
    if found is None:
        return None
    if a.get("auto_pad", "NOTSET") != "NOTSET":
        refuse(node, f"auto_pad={a['auto_pad']!r}; tinynn reads explicit pads")
    w, b = found[0], (found[1:] or [None])[0]
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
        refuse(node, f"pads {pads} are neither symmetric nor PyTorch's 'same'")
    if dims not in (1, 2, 3):
        refuse(node, f"a {dims}-D convolution; tinynn has Conv1d, Conv2d and Conv3d")
    groups = int(a.get("group", 1))
    cls = (nn.Conv1d, nn.Conv2d, nn.Conv3d)[dims - 1]
    one = (lambda v: v[0]) if dims == 1 else tuple
    layer = cls(w.shape[1] * groups, w.shape[0], one(kernel), stride=one(stride), padding=padding,
                dilation=one(dilation), groups=groups, bias=b is not None)
    set_param(layer.weight, w)
    if b is not None:
        set_param(layer.bias, b)
    return layer


def _conv_transpose(node, ctx):
    a, found = attrs(node), _weights(node, ctx)
    if found is None:
        return None
    w, b = found[0], (found[1:] or [None])[0]
    dims = w.ndim - 2
    if dims not in (1, 2, 3):
        refuse(node, f"a {dims}-D transposed convolution; tinynn has ConvTranspose1d, 2d and 3d")
    for name, default in (("auto_pad", "NOTSET"), ("output_shape", None)):
        if a.get(name, default) != default:
            refuse(node, f"{name}={a[name]!r}; tinynn reads explicit pads and output_padding")
    pads = list(a.get("pads", [0] * 2 * dims))
    if pads[:dims] != pads[dims:]:
        refuse(node, f"pads {pads}: ConvTranspose{dims}d pads both ends alike (an uneven end is its output_padding)")
    groups = int(a.get("group", 1))
    layer = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)[dims - 1](
        w.shape[0], w.shape[1] * groups, tuple(w.shape[2:]), stride=tuple(a.get("strides", (1,) * dims)),
        padding=tuple(pads[:dims]), output_padding=tuple(a.get("output_padding", (0,) * dims)), groups=groups,
        bias=b is not None, dilation=tuple(a.get("dilations", (1,) * dims)))
    set_param(layer.weight, w)
    if b is not None:
        set_param(layer.bias, b)
    return layer


def _pooled(node, shape, make):
    """make(kernel, stride, padding, dilation, ceil_mode) from a pooling node, PyTorch's arguments. End
    pads longer than the begin ones are read as ceil_mode=True when PyTorch's ceil lengths on this
    input (its shape from shape inference) are the ones the floor formula gives with those pads."""
    a = attrs(node)
    if a.get("ceil_mode", 0) or a.get("auto_pad", "NOTSET") != "NOTSET" or shape is None:
        refuse(node, "tinynn reads pooling with explicit pads, ceil_mode=0 and an input shape known")
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
            refuse(node, f"pads {pads} on input {shape} are not PyTorch's ceil_mode nor symmetric")
    one = (lambda v: v[0]) if dims == 1 else tuple
    return make(one(kernel), one(stride), one(begin), one(dilation), ceil)


def _max_pool(node, ctx):
    if len(node.output) > 1 and node.output[1]:
        refuse(node, "tinynn returns no argmax indices from an ONNX MaxPool")
    return _pooled(node, ctx.shape(node.input[0]), lambda k, s, p, d, ceil: (
        nn.MaxPool1d if isinstance(k, int) else (nn.MaxPool2d, nn.MaxPool3d)[len(k) - 2])(k, s, p, d, ceil_mode=ceil))


def _avg_pool(node, ctx):
    include, shape = bool(attrs(node).get("count_include_pad", 0)), ctx.shape(node.input[0])
    if shape is None or len(shape) not in (3, 4, 5):
        refuse(node, f"tinynn has AvgPool1d, AvgPool2d and AvgPool3d only (input shape {shape})")
    return _pooled(node, shape, lambda k, s, p, d, ceil: (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)[len(shape) - 3](
        k, s, p, ceil_mode=ceil, count_include_pad=include))


def _global_avg_pool(node, ctx):
    shape = ctx.shape(node.input[0])
    if shape is None or len(shape) not in (3, 4, 5):
        refuse(node, f"tinynn has AdaptiveAvgPool1d, 2d and 3d only (input shape {shape})")
    return (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d)[len(shape) - 3](1)


def _batch_norm(node, ctx):
    found, shape = _weights(node, ctx), ctx.shape(node.input[0])
    rank = None if shape is None else len(shape)
    if found is None or len(found) != 4 or len(node.output) > 1:
        refuse(node, "tinynn reads inference-mode BatchNormalization with constant scale, bias, mean and variance")
    if rank not in (2, 3, 4, 5):
        refuse(node, f"tinynn has BatchNorm1d, 2d and 3d (input rank 2 to 5), the input has rank {rank}")
    gamma = found[0]
    cls = {4: nn.BatchNorm2d, 5: nn.BatchNorm3d}.get(rank, nn.BatchNorm1d)
    layer = cls(gamma.size, eps=float(attrs(node).get("epsilon", 1e-5)))
    for param, value in zip((layer.weight, layer.bias, layer.running_mean, layer.running_var), found):
        set_param(param, value)
    return layer.eval()


def _layer_norm(node, ctx):
    found, shape = _weights(node, ctx), ctx.shape(node.input[0])
    if found is None or len(node.output) > 1:
        refuse(node, "tinynn reads LayerNormalization with a constant scale (and bias) and one output")
    scale, bias = found[0], (found[1:] or [None])[0]
    axis = int(attrs(node).get("axis", -1))
    if shape is not None and axis >= 0:
        axis -= len(shape)
    if axis != -scale.ndim:
        refuse(node, f"axis {axis} does not normalize the last {scale.ndim} axes the scale covers")
    layer = nn.LayerNorm(scale.shape, eps=float(attrs(node).get("epsilon", 1e-5)), bias=bias is not None)
    set_param(layer.weight, scale)
    if bias is not None:
        set_param(layer.bias, bias)
    return layer


def _gather(node, ctx):
    table = ctx.consts.get(node.input[0])
    if table is None or table.ndim != 2 or table.dtype.kind != "f" or attrs(node).get("axis", 0) != 0:
        return None
    layer = nn.Embedding(*table.shape)
    set_param(layer.weight, table)
    return layer


LAYERS = {
    "Gemm": _gemm, "MatMul": _matmul, "Conv": _conv, "ConvTranspose": _conv_transpose,
    "MaxPool": _max_pool, "AveragePool": _avg_pool,
    "GlobalAveragePool": _global_avg_pool, "BatchNormalization": _batch_norm, "LayerNormalization": _layer_norm,
    "Gather": _gather, "LSTM": recurrent, "GRU": recurrent, "RNN": recurrent,
}
