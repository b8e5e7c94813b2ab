"""Converters of the convolution, pooling and batch-normalization layers (NCHW / NCL).

    Conv1d, Conv2d            Conv(x, W, b, strides, pads, dilations, group); "same" as the layer's own
                              (top, bottom, left, right) pads; padding_mode reflect / replicate / circular
                              as a Pad node (mode reflect / edge / wrap) before an unpadded Conv
    MaxPool1d, MaxPool2d      MaxPool(kernel_shape, strides, pads, dilations)
    AvgPool1d, AvgPool2d      AveragePool(kernel_shape, strides, pads, count_include_pad)
    AdaptiveAvgPool2d         GlobalAveragePool for output 1; AveragePool(kernel = stride = H/Ho, W/Wo)
                              when the input divides evenly; else an error naming the layer
    BatchNorm1d, BatchNorm2d  BatchNormalization(x, gamma, beta, running_mean, running_var, epsilon)
                              (eval mode: running statistics), or folded into the Conv before it
                              (export(..., fold_batchnorm=True), fold.py)

ceil_mode is written without ONNX's ceil_mode: the output length L is PyTorch's (tinynn's
pool_output_size, which drops a last window that would start in the right padding) and the end
padding is made just long enough that the floor formula gives L. For a max those extra positions
are -inf, for an average they are not counted; PyTorch's count_include_pad divisor counts the
padding but never the positions past it, so there the padding becomes an explicit zero Pad node (real
elements) and the extra end positions stay virtual (count_include_pad=0).
"""
import numpy as np

from ..backend.reference_conv import pool_output_size
from ..nn import conv, normalization, pooling
from ..nn.pooling_more import AvgPool1d
from ..ops.pool import adaptive_output_size
from .graph import KEEP_NONNEGATIVE, converter

PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _ints(value, dims):
    return [int(v) for v in value] if isinstance(value, (tuple, list)) else [int(value)] * dims


@converter(conv.Conv1d, conv.Conv2d)
def convolution(g, layer, x, value):
    dims = layer.dims
    pt, pb, pl, pr = layer._pads
    begin, end = ([pl], [pr]) if dims == 1 else ([pt, pl], [pb, pr])
    if layer.padding_mode != "zeros":
        mode = PAD_MODES[layer.padding_mode]
        if mode == "wrap" and g.opset_version < 19:
            raise ValueError(f"onnx.export: layer {g.layer!r} ({type(layer).__name__}, padding_mode='circular') "
                             f"needs Pad's wrap mode, opset >= 19 (got opset_version={g.opset_version})")
        x = g.node("Pad", [x, g.initializer(np.array([0, 0, *begin, 0, 0, *end], np.int64), "pads")], mode=mode)
        begin, end = [0] * dims, [0] * dims
    inputs = [x, g.initializer(layer.weight, "weight")]
    if layer.bias is not None:
        inputs.append(g.initializer(layer.bias, "bias"))
    return g.node("Conv", inputs, kernel_shape=list(layer.kernel_size), strides=list(layer.stride),
                  pads=begin + end, dilations=list(layer.dilation), group=int(layer.groups))


def _pool_pads(layer, value, dims, dilation):
    """(kernel, stride, begin pads, end pads) giving PyTorch's output lengths with ceil_mode=0."""
    kernel, stride, pad = _ints(layer.kernel_size, dims), _ints(layer.stride, dims), _ints(layer.padding, dims)
    end = []
    for size, k, s, p, d in zip(value.shape[2:], kernel, stride, pad, dilation):
        out = pool_output_size(size, k, s, p, d, bool(layer.ceil_mode))
        end.append(p + max(0, (out - 1) * s + d * (k - 1) + 1 - (size + 2 * p)))
    return kernel, stride, pad, end


def _pool_node(g, op_type, x, source, **attributes):
    """The pooling node, with the attributes that differ from ONNX's defaults (every byte counts in a small
    int8 file); a pooling of values known to be >= 0 (after a ReLU: the int8 layers use it) is >= 0."""
    defaults = {"strides": 1, "pads": 0, "dilations": 1, "count_include_pad": 0}
    y = g.node(op_type, [x], **{k: v for k, v in attributes.items() if k not in defaults or
                                v != ([defaults[k]] * len(v) if isinstance(v, list) else defaults[k])})
    if source in g.nonnegative:
        g.nonnegative.add(y)
    return y


@converter(pooling.MaxPool2d, pooling.MaxPool1d)
def max_pool(g, layer, x, value):
    if layer.return_indices:
        raise ValueError(f"onnx.export: layer {g.layer!r} ({type(layer).__name__}) has return_indices=True; "
                         "tinynn exports the pooled values only")
    dims = value.ndim - 2
    dilation = _ints(layer.dilation, dims)
    kernel, stride, begin, end = _pool_pads(layer, value, dims, dilation)
    return _pool_node(g, "MaxPool", x, x, kernel_shape=kernel, strides=stride, pads=begin + end, dilations=dilation)


@converter(pooling.AvgPool2d, AvgPool1d)
def avg_pool(g, layer, x, value):
    dims = 1 if isinstance(layer, AvgPool1d) else 3 if type(layer).__name__ == "AvgPool3d" else 2
    if value.ndim != dims + 2:
        raise ValueError(f"onnx.export: layer {g.layer!r} ({type(layer).__name__}) on an input of shape {value.shape}: "
                         f"tinynn exports a batched input (N, C, {('L', 'H, W', 'D, H, W')[dims - 1]})")
    kernel, stride, begin, end = _pool_pads(layer, value, dims, [1] * dims)
    extra, source = [e - b for b, e in zip(begin, end)], x
    if layer.count_include_pad and any(begin) and any(extra):
        # the padding counts in the divisor, the extra end positions do not: pad with real zeros
        x = g.node("Pad", [x, g.initializer(np.array([0, 0, *begin, 0, 0, *begin], np.int64), "pads")])
        begin, end = [0] * dims, extra
    include = int(bool(layer.count_include_pad) and not any(extra))
    return _pool_node(g, "AveragePool", x, source, kernel_shape=kernel, strides=stride, pads=begin + end,
                      count_include_pad=include)


@converter(pooling.AdaptiveAvgPool2d)
def adaptive_avg_pool(g, layer, x, value):
    from ..tensor import Tensor

    out = adaptive_output_size("AdaptiveAvgPool2d", Tensor(value), layer.output_size)
    size = value.shape[2:]
    if out == (1, 1):
        return g.node("GlobalAveragePool", [x])
    if any(s % o for s, o in zip(size, out)):
        raise ValueError(f"onnx.export: layer {g.layer!r} (AdaptiveAvgPool2d, output_size {layer.output_size!r}) "
                         f"on a {size[0]}x{size[1]} input: its windows differ in size, which no ONNX pooling "
                         f"operator computes; tinynn exports it when the output size divides the input's "
                         f"(or is 1)")
    kernel = [s // o for s, o in zip(size, out)]
    return g.node("AveragePool", [x], kernel_shape=kernel, strides=kernel)


@converter(normalization.BatchNorm1d, normalization.BatchNorm2d)
def batch_norm(g, layer, x, value):
    if layer.running_mean is None:
        raise ValueError(f"onnx.export: layer {g.layer!r} ({type(layer).__name__}, track_running_stats=False) "
                         "normalizes with each batch's statistics even in eval mode; tinynn exports BatchNorm "
                         "with running statistics only")
    c = layer.num_features
    gamma = np.ones(c, np.float32) if layer.weight is None else layer.weight
    beta = np.zeros(c, np.float32) if layer.bias is None else layer.bias
    return g.node("BatchNormalization", [x, g.initializer(gamma, "weight"), g.initializer(beta, "bias"),
                                         g.initializer(layer.running_mean, "running_mean"),
                                         g.initializer(layer.running_var, "running_var")],
                  epsilon=float(layer.eps))


# a max or mean of values >= 0 (padding included: -inf never wins a max over a real value, and an
# average's padding is 0) is >= 0
KEEP_NONNEGATIVE.update({pooling.MaxPool1d, pooling.MaxPool2d, pooling.AvgPool2d, pooling.AdaptiveAvgPool2d, AvgPool1d})
