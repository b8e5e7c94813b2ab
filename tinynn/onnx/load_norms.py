"""The per-sample normalizations read back as tinynn layers (norms.py writes them):

    GroupNormalization (opset >= 21)   GroupNorm(num_groups, C, epsilon), scale and bias its gamma, beta
    Reshape(x, [0, G, -1]) -> InstanceNormalization(ones(G), zeros(G)) -> Reshape(., [0, C, ...])
        [-> Mul(gamma (C, 1, ...)) [-> Add(beta (C, 1, ...))]]
                                       one GroupNorm(G, C, epsilon) (find_group_norms: a block, as load_int8's)
    InstanceNormalization              InstanceNorm1d / InstanceNorm2d (input rank 3 / 4), scale and B its gamma, beta

Whether the layer is affine: its gamma, beta are what tinynn (and PyTorch's exporter) name "weight" and
"bias", or differ from 1 and 0; a scale of ones and a bias of zeros under other names (norms.py names
them "ones", "zeros") are no affine map (affine=False), so the layer's state dict comes back as it was.
"""
import numpy as np

from .. import nn
from .load_int8 import Int8Block as Block, wiring
from .load_layers import set_param
from .load_ops import attrs, refuse

__all__ = ["NORM_LAYERS", "find_group_norms"]


def _affine(names, scale, bias):
    """(affine, bias): the layer's affine and bias arguments for the constant scale and bias."""
    weight = names[0].endswith("weight") or not np.all(scale == 1)
    has_bias = names[1].endswith("bias") or not np.all(bias == 0)
    return weight or has_bias, has_bias


def _fill(layer, scale, bias):
    if layer.weight is not None:
        set_param(layer.weight, scale)
    if layer.bias is not None:
        set_param(layer.bias, bias)
    return layer


def _constants(node, ctx):
    found = [ctx.consts.get(n) for n in node.input[1:3]]
    if len(found) != 2 or any(f is None for f in found):
        refuse(node, "tinynn reads it with a constant scale and bias")
    return found


def _group_normalization(node, ctx):
    if ctx.opset < 21:
        refuse(node, f"opset {ctx.opset} < 21: its scale and bias are per group, which no GroupNorm holds; "
                     "tinynn reads the per-channel GroupNormalization of opset 21")
    scale, bias = _constants(node, ctx)
    affine, has_bias = _affine(node.input[1:3], scale, bias)
    a = attrs(node)
    layer = nn.GroupNorm(int(a["num_groups"]), scale.size, eps=float(a.get("epsilon", 1e-5)), affine=affine,
                         bias=has_bias)
    return _fill(layer, scale, bias)


def _instance_normalization(node, ctx):
    scale, bias = _constants(node, ctx)
    shape = ctx.shape(node.input[0])
    if shape is None or len(shape) not in (3, 4, 5):
        refuse(node, f"tinynn has InstanceNorm1d, 2d and 3d (input rank 3 to 5), the input has shape {shape}")
    affine, has_bias = _affine(node.input[1:3], scale, bias)
    cls = (nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d)[len(shape) - 3]
    layer = cls(scale.size, eps=float(attrs(node).get("epsilon", 1e-5)), affine=affine, bias=has_bias)
    return _fill(layer, scale, bias)


NORM_LAYERS = {"GroupNormalization": _group_normalization, "InstanceNormalization": _instance_normalization}


def _only_reader(readers, name, op_type):
    found = readers.get(name, [])
    return found[0] if len(found) == 1 and found[0].op_type == op_type else None


def _channel_constant(node, y, consts, channels):
    """The constant node multiplies or adds to y, if it has the shape (C, 1, ...) of a per-channel one."""
    other = [i for i in node.input if i != y]
    value = consts.get(other[0]) if len(other) == 1 else None
    if value is None or value.size != channels or value.shape[:1] != (channels,):
        return None
    return value


def _group_block(inorm, producer, readers, consts):
    first = producer.get(inorm.input[0])
    scale, bias = consts.get(inorm.input[1]), consts.get(inorm.input[2])
    if first is None or first.op_type != "Reshape" or scale is None or bias is None:
        return None
    rows = consts.get(first.input[1])
    groups = scale.size
    if rows is None or list(rows) != [0, groups, -1] or not (np.all(scale == 1) and np.all(bias == 0)):
        return None
    back = _only_reader(readers, inorm.output[0], "Reshape")
    shape = None if back is None else consts.get(back.input[1])
    if shape is None or len(shape) < 3 or shape[0] != 0 or shape[1] % groups or min(shape[1:]) < 1:
        return None
    channels, nodes, out = int(shape[1]), [first, inorm, back], back.output[0]
    gamma = beta = None
    mul = _only_reader(readers, out, "Mul")
    if mul is not None and (gamma := _channel_constant(mul, out, consts, channels)) is not None:
        nodes, out = nodes + [mul], mul.output[0]
        add = _only_reader(readers, out, "Add")
        if add is not None and (beta := _channel_constant(add, out, consts, channels)) is not None:
            nodes, out = nodes + [add], add.output[0]
    layer = nn.GroupNorm(groups, channels, eps=float(attrs(inorm).get("epsilon", 1e-5)), affine=gamma is not None,
                         bias=beta is not None)
    return Block(nodes, first.input[0], out, _fill(layer, gamma, beta))


def find_group_norms(graph, consts):
    """{id of every node of a block: its Block} for each GroupNorm written as Reshape -> InstanceNormalization
    -> Reshape [-> Mul -> Add] (norms.py below opset 21, PyTorch's exporter likewise)."""
    producer, readers, outputs = wiring(graph)
    blocks = {}
    for inorm in (n for n in graph.node if n.op_type == "InstanceNormalization"):
        block = _group_block(inorm, producer, readers, consts)
        if block is not None and block.sealed(readers, outputs):
            blocks.update({id(n): block for n in block.nodes})
    return blocks
