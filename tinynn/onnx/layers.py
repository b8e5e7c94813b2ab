"""Converters of tinynn's float layers to ONNX operators (opset >= 13 semantics).

    Linear        y = x W^T + b      Gemm(x, W, b, transB=1) on 2-D input, else MatMul(x, W^T) + Add(b)
    ReLU/Sigmoid/Tanh                 Relu / Sigmoid / Tanh
    Softmax(dim), LogSoftmax(dim)     Softmax / LogSoftmax(axis=dim) (per axis, as PyTorch, since opset 13)
    Flatten(s, e)                     Flatten(axis=1) when it flattens all but the batch axis, else
                                      Reshape to [0]*s + [-1] + the kept trailing sizes
    Unflatten(d, sizes)               Reshape to [0]*d + sizes + the trailing sizes (d > 0: the batch stays)
    Dropout, Identity                 no node (dropout is the identity at inference)
    Sequential                        its layers' nodes, in order (g.child each)
    LeakyReLU(a), ELU(a), Hardtanh    LeakyRelu(alpha=a), Elu(alpha=a), Clip(min_val, max_val)
    SiLU                              x * Sigmoid(x)
    Softplus(beta, t)                 Where(beta x > t, x, Softplus(beta x) / beta)
    GELU                              0.5 x (1 + Erf(x / sqrt 2));
                                      tanh: 0.5 x (1 + Tanh(sqrt(2/pi) (x + 0.044715 x^3)));
                                      the Gelu operator from opset 20
"""
import math

import numpy as np

from ..nn import activations as act
from ..nn import layers as nn
from ..nn.gelu import GELU
from .graph import KEEP_NONNEGATIVE, converter


@converter(nn.Sequential)
def sequential(g, layer, x, value):
    for name, child in layer.named_children():
        x, value = g.child(child, name, x, value)
    return x


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
    ndim = max(value.ndim, 1)
    start, end = layer.start_dim % ndim, layer.end_dim % ndim
    if start == 1 and end == ndim - 1:
        return g.node("Flatten", [x])  # axis=1, its default
    if start >= end:
        return g.node("Identity", [x])
    # 0 copies an input size (the dynamic batch), -1 takes what is left: the flattened block
    shape = [0] * start + [-1] + list(value.shape[end + 1:])
    return g.node("Reshape", [x, g.initializer(np.array(shape, np.int64), "shape")])


@converter(nn.Unflatten)
def unflatten(g, layer, x, value):
    dim = layer.dim % max(value.ndim, 1)
    if dim == 0:
        raise ValueError(f"onnx.export: layer {g.layer!r} (Unflatten, dim={layer.dim}) unflattens axis 0, the "
                         "graph's dynamic batch axis; tinynn exports Unflatten of the other axes")
    shape = [0] * dim + [int(s) for s in layer.unflattened_size] + list(value.shape[dim + 1:])
    return g.node("Reshape", [x, g.initializer(np.array(shape, np.int64), "shape")])


@converter(act.LeakyReLU)
def leaky_relu(g, layer, x, value):
    return g.node("LeakyRelu", [x], alpha=float(layer.negative_slope))


@converter(act.ELU)
def elu(g, layer, x, value):
    return g.node("Elu", [x], alpha=float(layer.alpha))


@converter(act.Hardtanh)
def hardtanh(g, layer, x, value):
    return g.node("Clip", [x, g.constant(layer.min_val, np.float32, "min_val"),
                           g.constant(layer.max_val, np.float32, "max_val")])


@converter(act.SiLU)
def silu(g, layer, x, value):
    return g.node("Mul", [x, g.node("Sigmoid", [x])])


@converter(act.Softplus)
def softplus(g, layer, x, value):
    bx = x if layer.beta == 1 else g.node("Mul", [x, g.constant(layer.beta, np.float32, "beta")])
    soft = g.node("Softplus", [bx])
    if layer.beta != 1:
        soft = g.node("Div", [soft, g.constant(layer.beta, np.float32, "beta")])
    linear = g.node("Greater", [bx, g.constant(layer.threshold, np.float32, "threshold")])
    return g.node("Where", [linear, x, soft])


@converter(GELU)
def gelu(g, layer, x, value):
    if g.opset_version >= 20:
        return g.node("Gelu", [x], approximate=layer.approximate)
    half, one = g.constant(0.5, np.float32, "half"), g.constant(1.0, np.float32, "one")
    if layer.approximate == "tanh":
        cube = g.node("Mul", [g.node("Mul", [x, x]), x])
        inner = g.node("Add", [x, g.node("Mul", [cube, g.constant(0.044715, np.float32, "gelu_c")])])
        inner = g.node("Mul", [inner, g.constant(math.sqrt(2 / math.pi), np.float32, "sqrt_2_over_pi")])
        phi = g.node("Tanh", [inner])
    else:
        phi = g.node("Erf", [g.node("Mul", [x, g.constant(1 / math.sqrt(2), np.float32, "rsqrt2")])])
    return g.node("Mul", [g.node("Mul", [x, half]), g.node("Add", [phi, one])])


KEEP_NONNEGATIVE.update({nn.Flatten, nn.Unflatten})  # the same values, reshaped
