"""The integer operators: QuantizeLinear, DequantizeLinear, MatMulInteger and ConvInteger as the
ONNX specification defines them (INT8_OPS, exact: integer sums in float64 are exact below 2^53),
and the int8 Linear and Conv2d that quantized.py writes read back as tinynn's own layers: the
nodes around each MatMulInteger (ConvInteger),

    [s_a, z_a from x: ReduceMin/ReduceMax/Min/Max/Sub/Div/Neg/QuantizeLinear, or constants]
    QuantizeLinear(x, s_a[, z_a]) -> [Clip(0, 127)] -> MatMulInteger(., q_w^T[, z_a])
    -> DequantizeLinear(., Mul(s_a, s_w), axis=1) [-> Add(., b)]       (z_a omitted: 0)

become one `QuantizedLinear` (`QuantizedConv2d`, its pads, strides, dilations and group; static
when s_a, z_a are constants, else dynamic), which computes what tinynn's int8 model computes bit for
bit (it multiplies by 1/s_a where QuantizeLinear divides: a code can differ by one). The qparam
nodes may only be of the kinds listed, so another tool's int8 form (DynamicQuantizeLinear: 8-bit
codes) is not mistaken for tinynn's 7-bit one; the operators compute that one node by node.
"""
import numpy as np

from ..compress.qconv import QuantizedConv2d
from ..compress.qlinear import QuantizedLinear
from ..nn import functional as F
from ..tensor import Tensor
from .graph import helper
from .load_ops import attrs

QPARAM_OPS = {"ReduceMin", "ReduceMax", "Min", "Max", "Sub", "Div", "Round", "Neg", "Cast", "Clip", "QuantizeLinear"}


class Int8Block:
    """The nodes of one int8 Linear, its input tensor and its output tensor."""

    def __init__(self, nodes, x, out, layer):
        self.nodes, self.x, self.out, self.layer = nodes, x, out, layer

    def sealed(self, readers, outputs):
        """True if no tensor computed inside the block but its output is read outside it."""
        inside = {id(n) for n in self.nodes}
        return not any(o != self.out and (o in outputs or any(id(r) not in inside for r in readers.get(o, ())))
                       for n in self.nodes for o in n.output)


def wiring(graph):
    """(producer, readers, outputs) of an ONNX graph: the node that writes each value, the nodes that
    read it, and the names of the graph's outputs."""
    producer = {o: n for n in graph.node for o in n.output}
    readers = {}
    for n in graph.node:
        for i in n.input:
            readers.setdefault(i, []).append(n)
    return producer, readers, {v.name for v in graph.output}


def find_blocks(graph, consts):
    """{id of every node of a block: its Int8Block} for each tinynn int8 Linear of `graph`."""
    producer, readers, outputs = wiring(graph)
    blocks = {}
    for mm in (n for n in graph.node if n.op_type in ("MatMulInteger", "ConvInteger")):
        block = _block(mm, producer, readers, consts)
        if block is not None and block.sealed(readers, outputs):
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
    x, s_name, z_name = (list(quant.input) + [""])[:3]
    if clip is not quant and [consts.get(i) for i in clip.input[1:]] != [0, 127] or \
            (list(mm.input) + [""])[2] != z_name:
        return None  # not tinynn's 7-bit codes, or another zero point for the product than for the codes
    deq = _only(readers, mm.output[0], "DequantizeLinear")
    product = deq and producer.get(deq.input[1])
    if product is None or product.op_type != "Mul" or s_name not in product.input or len(deq.input) > 2 or \
            attrs(deq).get("axis", 1) != 1:
        return None
    w_scale = next((i for i in product.input if i != s_name), None)
    qparams = _ancestors([s_name, z_name], producer, x)
    if w_scale not in consts or qparams is None:
        return None
    nodes = [*qparams, quant, *([clip] if clip is not quant else []), mm, product, deq]
    out, bias = deq.output[0], None
    add = _only(readers, out, "Add")
    if add is not None and any(i in consts for i in add.input):
        bias = consts[next(i for i in add.input if i in consts)].astype(np.float32).reshape(-1)
        nodes.append(add)
        out = add.output[0]
    static = s_name in consts and (not z_name or z_name in consts)
    qparams = (float(consts[s_name]), int(consts[z_name]) if z_name else 0) if static else (None, None)
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


def _along(t, axis, ndim):
    """A per-axis scale or zero point shaped to broadcast along `axis` of an ndim tensor (scalars as they are)."""
    v = np.asarray(t._data)
    if v.ndim == 0 or v.size == 1:
        return v.reshape(())
    shape = [1] * ndim
    shape[axis % ndim] = v.size
    return v.reshape(shape)


def _quantize(node, ctx):
    """y = saturate(round_half_even(x / s) + z) in z's type (uint8 when z is omitted)."""
    axis = attrs(node).get("axis", 1)

    def quantize(x, scale, zero=None):
        dtype = np.uint8 if zero is None else zero.dtype
        z = 0 if zero is None else _along(zero, axis, x.ndim).astype(np.float64)
        q = np.rint(x._data / _along(scale, axis, x.ndim)) + z
        info = np.iinfo(dtype)
        return Tensor(np.clip(q, info.min, info.max).astype(dtype))
    return quantize


def _dynamic_quantize(node, ctx):
    """(y, s, z) over the whole 8-bit range: lo = min(min x, 0), hi = max(max x, 0), s = (hi - lo) / 255,
    z = saturate(round(-lo / s)), y = saturate(round(x / s) + z), uint8 (onnxruntime's dynamic int8)."""
    def dynamic_quantize(x):
        v = np.asarray(x._data, np.float32)
        lo, hi = np.float32(min(v.min(), 0)), np.float32(max(v.max(), 0))
        scale = np.float32((hi - lo) / np.float32(255)) if hi > lo else np.float32(1)
        zero = np.uint8(np.clip(np.rint(-lo / scale), 0, 255))
        q = np.clip(np.rint(v / scale) + zero, 0, 255).astype(np.uint8)
        return Tensor(q), Tensor(np.asarray(scale)), Tensor(np.asarray(zero))
    return dynamic_quantize


def _dequantize(node, ctx):
    """y = (q - z) s, float32."""
    axis = attrs(node).get("axis", 1)

    def dequantize(q, scale, zero=None):
        z = 0 if zero is None else _along(zero, axis, q.ndim).astype(np.int32)
        return Tensor(((q._data.astype(np.int32) - z) * _along(scale, axis, q.ndim)).astype(np.float32))
    return dequantize


def _centered(t, zero, axis):
    """t - z as float64 (exact for 8-bit codes); z per row of A (axis 0 of a 2-D A) or per column of B."""
    z = np.zeros(()) if zero is None else np.asarray(zero._data, np.float64)
    if z.size > 1:
        z = z.reshape(-1, 1) if axis == 0 else z.reshape(1, -1)
    return Tensor(np.asarray(t._data, np.float64) - z)


def _matmul_integer(node, ctx):
    """y = (A - a_z) (B - b_z), int32."""
    def matmul_integer(a, b, a_zero=None, b_zero=None):
        y = _centered(a, a_zero, 0) @ _centered(b, b_zero, 1)
        return Tensor(np.asarray(y._data).astype(np.int32))
    return matmul_integer


def _conv_integer(node, ctx):
    """y = conv(x - x_z, w - w_z), int32: x padded with x_z, so (x - x_z) with zeros."""
    a = attrs(node)

    def conv_integer(x, w, x_zero=None, w_zero=None):
        dims = w.ndim - 2
        pads = list(a.get("pads", [0] * 2 * dims))
        if pads[:dims] != pads[dims:] or a.get("auto_pad", "NOTSET") != "NOTSET" or dims not in (1, 2):
            raise ValueError(f"onnx.load: ConvInteger node {node.name!r}: tinynn reads 1-D and 2-D ConvInteger "
                             f"with symmetric explicit pads, got pads {pads}")
        wz = 0.0 if w_zero is None else np.asarray(w_zero._data, np.float64).reshape(-1, *[1] * (dims + 1))
        conv = F.conv1d if dims == 1 else F.conv2d
        y = conv(_centered(x, x_zero, None), Tensor(np.asarray(w._data, np.float64) - wz),
                 stride=a.get("strides", [1] * dims), padding=pads[:dims], dilation=a.get("dilations", [1] * dims),
                 groups=a.get("group", 1))
        return Tensor(np.rint(np.asarray(y._data)).astype(np.int32))
    return conv_integer


INT8_OPS = {"QuantizeLinear": _quantize, "DequantizeLinear": _dequantize, "DynamicQuantizeLinear": _dynamic_quantize,
            "MatMulInteger": _matmul_integer, "ConvInteger": _conv_integer}
