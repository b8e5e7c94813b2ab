"""Converters of the activation layers beyond layers.py's to ONNX operators (the exporter's default opset 17):

    SELU                Selu(alpha = 1.6732632..., gamma = 1.0507009..., PyTorch's constants)
    CELU(alpha)         Celu(alpha)
    Hardsigmoid         HardSigmoid(alpha = 1/6, beta = 1/2): max(0, min(1, x/6 + 1/2))
    Hardswish           HardSwish (opset 14; x * HardSigmoid(x) at opset 13)
    Mish                Mish from opset 18; below it x * Tanh(Softplus(x))
    Softsign            Softsign: x / (1 + |x|)
    PReLU               PRelu(x, a), a (C,) reshaped to (C, 1, ...) for the input's rank (channels on axis 1)
    Hardshrink(l)       Shrink(lambd = l, bias = 0)
    Softshrink(l)       Shrink(lambd = l, bias = l)
    ReLU6               Clip(0, 6) (a Hardtanh: layers.py)
    LogSigmoid          -Softplus(-x)
    Tanhshrink          x - Tanh(x)
    Threshold(t, v)     Where(Greater(x, t), x, v)
    GLU(dim)            Split(x, axis = dim) into a, b; a * Sigmoid(b)
    Softmin(dim)        Softmax(-x, axis = dim) (dim=None: PyTorch's legacy choice, as Softmax)

load_activations.py reads each back as the same layer.
"""
import numpy as np

from ..nn import activations as act
from .graph import converter
from .layers import _axis

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_GAMMA = 1.0507009873554804934193349852946


@converter(act.SELU)
def selu(g, layer, x, value):
    return g.node("Selu", [x], alpha=SELU_ALPHA, gamma=SELU_GAMMA)


@converter(act.CELU)
def celu(g, layer, x, value):
    return g.node("Celu", [x], alpha=float(layer.alpha))


@converter(act.Hardsigmoid)
def hardsigmoid(g, layer, x, value):
    y = g.node("HardSigmoid", [x], alpha=1 / 6, beta=0.5)
    g.nonnegative.add(y)
    return y


@converter(act.Hardswish)
def hardswish(g, layer, x, value):
    if g.opset_version >= 14:
        return g.node("HardSwish", [x])
    return g.node("Mul", [x, g.node("HardSigmoid", [x], alpha=1 / 6, beta=0.5)])


@converter(act.Mish)
def mish(g, layer, x, value):
    if g.opset_version >= 18:
        return g.node("Mish", [x])
    return g.node("Mul", [x, g.node("Tanh", [g.node("Softplus", [x])])])


@converter(act.Softsign)
def softsign(g, layer, x, value):
    return g.node("Softsign", [x])


@converter(act.PReLU)
def prelu(g, layer, x, value):
    a = np.asarray(layer.weight._data)
    if a.size > 1:
        if value.ndim < 2 or value.shape[1] != a.size:
            raise ValueError(f"onnx.export: layer {g.layer!r} (PReLU, num_parameters={a.size}) needs its "
                             f"{a.size} channels on axis 1, the input has shape {tuple(value.shape)}")
        a = a.reshape((a.size,) + (1,) * (value.ndim - 2))  # ONNX broadcasts from the right
    return g.node("PRelu", [x, g.initializer(a, "weight")])


@converter(act.Hardshrink)
def hardshrink(g, layer, x, value):
    return g.node("Shrink", [x], lambd=float(layer.lambd), bias=0.0)


@converter(act.Softshrink)  # Hardshrink subclasses Softshrink: its own entry comes first along the MRO
def softshrink(g, layer, x, value):
    return g.node("Shrink", [x], lambd=float(layer.lambd), bias=float(layer.lambd))


@converter(act.LogSigmoid)
def logsigmoid(g, layer, x, value):
    return g.node("Neg", [g.node("Softplus", [g.node("Neg", [x])])])


@converter(act.Tanhshrink)
def tanhshrink(g, layer, x, value):
    return g.node("Sub", [x, g.node("Tanh", [x])])


@converter(act.Threshold)
def threshold(g, layer, x, value):
    above = g.node("Greater", [x, g.initializer(np.float32(layer.threshold), "threshold")])
    return g.node("Where", [above, x, g.initializer(np.float32(layer.value), "value")])


@converter(act.GLU)
def glu(g, layer, x, value):
    ndim = value.ndim
    if ndim == 0 or not -ndim <= layer.dim < ndim or value.shape[layer.dim] % 2:
        raise ValueError(f"onnx.export: layer {g.layer!r} (GLU, dim={layer.dim}) halves an axis of even size, "
                         f"the input has shape {tuple(value.shape)}")
    a, b = g.node("Split", [x], outputs=2, axis=int(layer.dim) % ndim)
    return g.node("Mul", [a, g.node("Sigmoid", [b])])


@converter(act.Softmin)
def softmin(g, layer, x, value):
    y = g.node("Softmax", [g.node("Neg", [x])], axis=_axis(layer, value))
    g.nonnegative.add(y)
    return y

