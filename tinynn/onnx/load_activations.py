"""The activations of activations.py (and layers.py's Clip) read back as tinynn layers:

    Selu, Celu, HardSigmoid, HardSwish, Softsign, Mish, Shrink   ACTIVATION_OPS: the layer (SELU with
        PyTorch's alpha and gamma, CELU(alpha), Hardsigmoid for alpha = 1/6 and beta = 1/2, Hardswish, Softsign,
        Mish, Hardshrink(l) for bias 0, Softshrink(l) for bias = l), else the operator's formula as a function
    PRelu(x, a), a constant                                      ACTIVATION_LAYERS: PReLU holding a
    Clip(x, lo, hi), constant float bounds                       ACTIVATION_LAYERS: ReLU6 for (0, 6), else Hardtanh
    x * Tanh(Softplus(x))                                        Mish            (find_activations: a block of nodes,
    -Softplus(-x)                                                LogSigmoid       as load_int8's, each reading only
    x - Tanh(x)                                                  Tanhshrink       x and constants inside)
    Where(Greater(x, t), x, v), t and v constant scalars         Threshold(t, v)
    Split(x, axis) -> a, b; a * Sigmoid(b)                       GLU(axis)
    Softmax(-x, axis)                                            Softmin(axis)
"""
import numpy as np

import tinynn as tn

from .. import nn
from ..nn import functional as F
from ..tensor import Tensor
from .activations import SELU_ALPHA, SELU_GAMMA
from .load_int8 import Int8Block as Block, wiring
from .load_layers import set_param
from .load_ops import attrs

__all__ = ["ACTIVATION_OPS", "ACTIVATION_LAYERS", "find_activations"]


def _near(a, b):
    """a equals b as float32 attributes hold them."""
    return np.float32(a) == np.float32(b)


def _selu(node, ctx):
    a = attrs(node)
    alpha, gamma = a.get("alpha", 1.67326319217681884765625), a.get("gamma", 1.05070102214813232421875)
    if _near(alpha, SELU_ALPHA) and _near(gamma, SELU_GAMMA):
        return nn.SELU()
    return lambda x: F.elu(x, alpha) * gamma  # gamma (x for x > 0, alpha (e^x - 1) otherwise)


def _hardsigmoid(node, ctx):
    a = attrs(node)
    alpha, beta = a.get("alpha", 0.2), a.get("beta", 0.5)
    if _near(alpha, 1 / 6) and _near(beta, 0.5):
        return nn.Hardsigmoid()
    return lambda x: tn.clamp(x * alpha + beta, 0.0, 1.0)


def _shrink(node, ctx):
    a = attrs(node)
    lambd, bias = float(a.get("lambd", 0.5)), float(a.get("bias", 0.0))
    if bias == 0:
        return nn.Hardshrink(lambd)
    if bias == lambd:
        return nn.Softshrink(lambd)

    def shrink(x):  # x + bias below -lambd, x - bias above lambd, 0 between
        zero = Tensor(np.zeros((), x.dtype))
        inner = tn.where(Tensor(x._data > lambd), x - bias, zero)
        return tn.where(Tensor(x._data < -lambd), x + bias, inner)
    return shrink


ACTIVATION_OPS = {
    "Selu": _selu, "Celu": lambda node, ctx: nn.CELU(float(attrs(node).get("alpha", 1.0))),
    "HardSigmoid": _hardsigmoid, "HardSwish": lambda node, ctx: nn.Hardswish(),
    "Softsign": lambda node, ctx: nn.Softsign(), "Mish": lambda node, ctx: nn.Mish(), "Shrink": _shrink,
}


def _prelu(node, ctx):
    slope = ctx.consts.get(node.input[1])
    if slope is None:
        return None  # a computed slope: the function of load_ops.OPS
    shape = ctx.shape(node.input[0])
    channels = slope.size
    if channels > 1 and (slope.shape[:1] != (channels,) or shape is None or len(shape) < 2
                         or shape[1] != channels or slope.ndim > len(shape) - 1):
        return None
    layer = nn.PReLU(channels)
    set_param(layer.weight, slope.reshape(-1))
    return layer


def _clip(node, ctx):
    bounds = [ctx.consts.get(n) if n else None for n in node.input[1:3]]
    if len(bounds) != 2 or any(b is None or b.size != 1 or b.dtype.kind != "f" for b in bounds):
        return None  # an integer or one-sided Clip: the function of load_ops.OPS
    lo, hi = (float(b.reshape(-1)[0]) for b in bounds)
    return nn.ReLU6() if (lo, hi) == (0.0, 6.0) else nn.Hardtanh(lo, hi)


def _prelu_op(node, ctx):
    return lambda x, slope: tn.where(Tensor(x._data < 0), x * slope, x)


ACTIVATION_LAYERS = {"PRelu": _prelu, "Clip": _clip}
ACTIVATION_OPS["PRelu"] = _prelu_op


def _scalar(consts, name):
    value = consts.get(name)
    return None if value is None or value.size != 1 else float(value.reshape(-1)[0])


def _match(node, producer, consts):
    """(nodes, x, layer) if `node` ends one of the composed activations, else None."""
    def made(name, op_type):
        n = producer.get(name)
        return n if n is not None and n.op_type == op_type else None

    op, ins = node.op_type, list(node.input)
    if op == "Mul" and len(ins) == 2:
        for x, t in (ins, ins[::-1]):
            tanh = made(t, "Tanh")
            soft = tanh and made(tanh.input[0], "Softplus")
            if soft is not None and soft.input[0] == x:
                return [soft, tanh, node], x, nn.Mish()
        sig = made(ins[1], "Sigmoid")
        split = sig and producer.get(sig.input[0])
        if (split is not None and split.op_type == "Split" and list(split.output) == [ins[0], sig.input[0]]
                and len(split.input) == 1 and "split" not in attrs(split)):
            return [split, sig, node], split.input[0], nn.GLU(int(attrs(split).get("axis", 0)))
    if op == "Neg":
        soft = made(ins[0], "Softplus")
        neg = soft and made(soft.input[0], "Neg")
        if neg is not None:
            return [neg, soft, node], neg.input[0], nn.LogSigmoid()
    if op == "Sub":
        tanh = made(ins[1], "Tanh")
        if tanh is not None and tanh.input[0] == ins[0]:
            return [tanh, node], ins[0], nn.Tanhshrink()
    if op == "Where":
        gt = made(ins[0], "Greater")
        t, v = (None, None) if gt is None else (_scalar(consts, gt.input[1]), _scalar(consts, ins[2]))
        if gt is not None and gt.input[0] == ins[1] and t is not None and v is not None:
            return [gt, node], ins[1], nn.Threshold(t, v)
    if op == "Softmax":
        neg = made(ins[0], "Neg")
        if neg is not None:
            return [neg, node], neg.input[0], nn.Softmin(dim=int(attrs(node).get("axis", -1)))
    return None


def find_activations(graph, consts, opset):
    """{id of every node of a block: its Block} for each composed activation of activations.py."""
    producer, readers, outputs = wiring(graph)
    blocks = {}
    for node in graph.node:
        found = _match(node, producer, consts)
        if found is None or (node.op_type == "Softmax" and opset < 13):
            continue
        nodes, x, layer = found
        block = Block(nodes, x, node.output[0], layer)
        if block.sealed(readers, outputs) and not any(id(n) in blocks for n in nodes):
            blocks.update({id(n): block for n in nodes})
    return blocks
