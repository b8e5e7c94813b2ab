"""Reading back the int8 Linear and Conv2d that quantized.py writes: the nodes around each
MatMulInteger (ConvInteger),

    [s_a, z_a from x: ReduceMin/ReduceMax/Min/Max/Sub/Div/Neg/QuantizeLinear, or constants]
    QuantizeLinear(x, s_a, z_a) -> [Clip(0, 127)] -> MatMulInteger(., q_w^T, z_a) -> Cast
    -> Mul(., Mul(s_a, s_w)) [-> Add(., b)]

become one `QuantizedLinear` (`QuantizedConv2d`, its pads, strides, dilations and group) (static when s_a, z_a are constants, else dynamic). The qparam
nodes may only be of the kinds listed, so another tool's int8 form (DynamicQuantizeLinear: 8-bit
codes) is not mistaken for tinynn's 7-bit one; it is refused as an unsupported operator.
"""
import numpy as np

from ..compress.qconv import QuantizedConv2d
from ..compress.qlinear import QuantizedLinear
from .graph import helper

QPARAM_OPS = {"ReduceMin", "ReduceMax", "Min", "Max", "Sub", "Div", "Round", "Neg", "Cast", "Clip", "QuantizeLinear"}


class Int8Block:
    """The nodes of one int8 Linear, its input tensor and its output tensor."""

    def __init__(self, nodes, x, out, layer):
        self.nodes, self.x, self.out, self.layer = nodes, x, out, layer


def find_blocks(graph, consts):
    """{id of every node of a block: its Int8Block} for each tinynn int8 Linear of `graph`."""
    producer = {o: n for n in graph.node for o in n.output}
    readers = {}
    for n in graph.node:
        for i in n.input:
            readers.setdefault(i, []).append(n)
    blocks = {}
    for mm in (n for n in graph.node if n.op_type in ("MatMulInteger", "ConvInteger")):
        block = _block(mm, producer, readers, consts)
        if block is not None:
            blocks.update({id(n): block for n in block.nodes})
    return blocks


def _only(readers, name, op_type):
    found = [n for n in readers.get(name, ()) if n.op_type == op_type]
    return found[0] if len(found) == 1 else None


def _ancestors(names, producer, stop):
    """The nodes computing `names` from `stop` and constants (None if one is not a qparam op)."""
    seen, todo = [], list(names)
    while todo:
        node = producer.get(todo.pop())
        if node is None or node in seen:
            continue
        if node.op_type not in QPARAM_OPS:
            return None
        seen.append(node)
        todo.extend(i for i in node.input if i and i != stop)
    return seen


def _block(mm, producer, readers, consts):
    clip = producer.get(mm.input[0])  # none after an input >= 0 with dynamic qparams (quantized.py)
    quant = producer.get(clip.input[0]) if clip is not None and clip.op_type == "Clip" else clip
    if quant is None or quant.op_type != "QuantizeLinear" or mm.input[1] not in consts:
        return None
    x, s_name, z_name = quant.input[0], quant.input[1], quant.input[2]
    cast = _only(readers, mm.output[0], "Cast")
    mul = cast and _only(readers, cast.output[0], "Mul")
    product = mul and producer.get(next((i for i in mul.input if i != cast.output[0]), ""))
    if mul is None or product is None or product.op_type != "Mul" or s_name not in product.input:
        return None
    w_scale = next((i for i in product.input if i != s_name), None)
    qparams = _ancestors([s_name, z_name], producer, x)
    if w_scale not in consts or qparams is None:
        return None
    nodes = [*qparams, quant, *([clip] if clip is not quant else []), mm, cast, product, mul]
    out, bias = mul.output[0], None
    add = _only(readers, out, "Add")
    if add is not None and any(i in consts for i in add.input):
        bias = consts[next(i for i in add.input if i in consts)].astype(np.float32).reshape(-1)
        nodes.append(add)
        out = add.output[0]
    static = s_name in consts and z_name in consts
    qparams = (float(consts[s_name]), int(consts[z_name])) if static else (None, None)
    w_scale = consts[w_scale].reshape(-1)
    if mm.op_type == "MatMulInteger":
        layer = QuantizedLinear(np.ascontiguousarray(consts[mm.input[1]].T), w_scale, bias, *qparams)
    else:
        a = {at.name: helper.get_attribute_value(at) for at in mm.attribute}
        pads = list(a.get("pads", [0, 0, 0, 0]))
        layer = QuantizedConv2d(consts[mm.input[1]], w_scale, bias, a.get("strides", (1, 1)),
                                (pads[0], pads[2], pads[1], pads[3]), a.get("dilations", (1, 1)),
                                int(a.get("group", 1)), *qparams)
    return Int8Block(nodes, x, out, layer)
