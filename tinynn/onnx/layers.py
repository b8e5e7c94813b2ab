"""Converters of tinynn's float layers to ONNX operators (opset >= 13 semantics).

    Linear        y = x W^T + b      Gemm(x, W, b, transB=1) on 2-D input, else MatMul(x, W^T) + Add(b)
    ReLU/Sigmoid/Tanh                 Relu / Sigmoid / Tanh
    Softmax(dim), LogSoftmax(dim)     Softmax / LogSoftmax(axis=dim) (per axis, as PyTorch, since opset 13)
    Flatten(s, e)                     Flatten(axis=1) when it flattens all but the batch axis, else
                                      Reshape to [0]*s + [-1] + the kept trailing sizes
    Dropout, Identity                 no node (dropout is the identity at inference)
"""
from ..nn import layers as nn
from .graph import converter


@converter(nn.Linear)
def linear(g, layer, x, value):
    w = layer.weight._data
    if value.ndim == 2:
        inputs = [x, g.initializer(w, "weight")]
        if layer.bias is not None:
            inputs.append(g.initializer(layer.bias, "bias"))
        return g.node("Gemm", inputs, transB=1)
    y = g.node("MatMul", [x, g.initializer(w.T, "weight_t")])
    return y if layer.bias is None else g.node("Add", [y, g.initializer(layer.bias, "bias")])


def _elementwise(op_type, nonnegative=False):
    def convert(g, layer, x, value):
        y = g.node(op_type, [x])
        if nonnegative:
            g.nonnegative.add(y)
        return y
    convert.__name__ = op_type.lower()
    return convert


converter(nn.ReLU)(_elementwise("Relu", nonnegative=True))
converter(nn.Sigmoid)(_elementwise("Sigmoid", nonnegative=True))
converter(nn.Tanh)(_elementwise("Tanh"))


@converter(nn.Dropout, nn.Identity)
def identity(g, layer, x, value):
    """No node: the next layer reads x (PyTorch's exporter drops eval-mode dropout too)."""
    return x


def _axis(layer, value):
    """PyTorch's dim of a (Log)Softmax; dim=None picks 0 for 0-, 1- and 3-D inputs, else 1 (its legacy rule)."""
    if layer.dim is not None:
        return int(layer.dim)
    return 0 if value.ndim in (0, 1, 3) else 1


@converter(nn.Softmax)
def softmax(g, layer, x, value):
    return g.node("Softmax", [x], axis=_axis(layer, value))


@converter(nn.LogSoftmax)
def log_softmax(g, layer, x, value):
    return g.node("LogSoftmax", [x], axis=_axis(layer, value))


@converter(nn.Flatten)
def flatten(g, layer, x, value):
    import numpy as np

    ndim = max(value.ndim, 1)
    start, end = layer.start_dim % ndim, layer.end_dim % ndim
    if start == 1 and end == ndim - 1:
        return g.node("Flatten", [x], axis=1)
    if start >= end:
        return g.node("Identity", [x])
    # 0 copies an input size (the dynamic batch), -1 takes what is left: the flattened block
    shape = [0] * start + [-1] + list(value.shape[end + 1:])
    return g.node("Reshape", [x, g.initializer(np.array(shape, np.int64), "shape")])
