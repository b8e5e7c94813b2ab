"""`load(path)`: an ONNX model as a tinynn `Sequential`, for the operators tinynn has, so tinynn can
serve as a readable reference runtime to check another runtime's results.

The graph must be a chain (each node reads the output of the one before, plus constants). Each
node becomes a layer through the table LOADERS, op type -> function(node, constants, opset, shape
of its input) -> Module; Gemm/MatMul(+Add) become Linear layers, the convolution, pooling,
normalization, activation and Gather nodes their layers (load_layers.py), Dropout and Identity
become Identity, and the int8 Linear tinynn writes (QuantizeLinear ... MatMulInteger ...,
load_int8.py) a QuantizedLinear.
Anything else is a ValueError naming the operator and the node.
"""
import numpy as np

from .. import nn
from .graph import numpy_helper, onnx
from .load_int8 import find_blocks
from .load_layers import LAYER_LOADERS
from .load_layers import attrs as _attrs
from .load_layers import const as _const

__all__ = ["load", "LOADERS"]


class _Chain(ValueError):
    pass


def _linear(weight, bias):
    """A Linear holding W (out, in) and b (out,) or no bias."""
    out_features, in_features = weight.shape
    layer = nn.Linear(in_features, out_features, bias=bias is not None)
    layer.weight._data[...] = weight
    if bias is not None:
        layer.bias._data[...] = np.broadcast_to(bias, (out_features,))
    return layer


def _gemm(node, consts, opset, shape=None):
    a = _attrs(node)
    if a.get("transA", 0):
        raise ValueError(f"onnx.load: Gemm node {node.name!r} has transA=1; tinynn reads y = x B (+ C) only")
    b = _const(node, consts, 1, "B").astype(np.float32)
    w = b if a.get("transB", 0) else b.T
    c = _const(node, consts, 2, "C")
    alpha, beta = a.get("alpha", 1.0), a.get("beta", 1.0)
    return _linear(w * np.float32(alpha) if alpha != 1 else w,
                   None if c is None else (c * np.float32(beta)).astype(np.float32).reshape(-1))


def _matmul(node, consts, opset, shape=None):
    return _linear(_const(node, consts, 1, "weight").astype(np.float32).T, None)


def _axis_layer(cls):
    def make(node, consts, opset, shape=None):
        if opset < 13 and _attrs(node).get("axis", 1) != -1:
            raise ValueError(f"onnx.load: {node.op_type} node {node.name!r} of opset {opset} < 13 flattens to 2-D "
                             "before normalizing; tinynn reads opset >= 13 (or axis=-1)")
        return cls(dim=_attrs(node).get("axis", -1 if opset >= 13 else 1))
    return make


def _flatten(node, consts, opset, shape=None):
    if _attrs(node).get("axis", 1) != 1:
        raise ValueError(f"onnx.load: Flatten node {node.name!r} with axis={_attrs(node)['axis']}; tinynn reads axis=1")
    return nn.Flatten()


def _reshape(node, consts, opset, shape=None):
    shape = [int(s) for s in _const(node, consts, 1, "shape")]
    if len(shape) > 1 and shape[0] == 0 and all(s > 0 for s in shape[1:]):  # flat rows to images: [0, C, H, W]
        return _FlattenTo(1, shape[2:])
    if -1 in shape:
        start = shape.index(-1)
        if all(s == 0 for s in shape[:start]) and all(s > 0 for s in shape[start + 1:]) and start > 0:
            return _FlattenTo(start, shape[start + 1:])
    raise ValueError(f"onnx.load: Reshape node {node.name!r} to {shape}: tinynn reads the flattening form "
                     "[0, ..., 0, -1, n, ...] and [0, n, ...] only")


class _FlattenTo(nn.Module):
    """Reshape x to x.shape[:start] + (-1,) + tail (what tinynn.onnx writes for Flatten(start, end))."""

    def __init__(self, start, tail):
        super().__init__()
        self.start, self.tail = start, list(tail)

    def forward(self, x):
        return x.reshape(*x.shape[:self.start], -1, *self.tail)


def _simple(cls):
    return lambda node, consts, opset, shape=None: cls()


LOADERS = {"Gemm": _gemm, "MatMul": _matmul, "Relu": _simple(nn.ReLU), "Sigmoid": _simple(nn.Sigmoid),
           "Tanh": _simple(nn.Tanh), "Softmax": _axis_layer(nn.Softmax), "LogSoftmax": _axis_layer(nn.LogSoftmax),
           "Flatten": _flatten, "Reshape": _reshape, "Identity": _simple(nn.Identity),
           "Dropout": _simple(nn.Identity), **LAYER_LOADERS}


def _bias_of(node, consts, layers):
    """An Add of a constant vector right after a bias-free Linear (MatMul + Add) is that Linear's bias."""
    last = layers[-1] if layers else None
    c = consts.get(node.input[1]) if len(node.input) > 1 else None
    if isinstance(last, nn.Linear) and last.bias is None and c is not None and c.size == last.out_features:
        return _linear(last.weight._data, c.astype(np.float32).reshape(-1))
    return None


def _shapes(proto):
    """{tensor name: shape} from ONNX's shape inference (sizes, or the label of a dynamic axis): the
    layer of a BatchNormalization depends on its input's rank, a pooling's ceil_mode on its size."""
    graph = onnx.shape_inference.infer_shapes(proto).graph
    return {v.name: tuple(d.dim_param if d.HasField("dim_param") else d.dim_value for d in v.type.tensor_type.shape.dim)
            for v in (*graph.input, *graph.value_info, *graph.output) if v.type.tensor_type.HasField("shape")}


def load(path):
    """The ONNX model at `path` as a tinynn nn.Sequential in eval mode (one layer per node)."""
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto)
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 0)
    graph = proto.graph
    consts = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for node in graph.node:  # Constant nodes are constants too
        if node.op_type == "Constant":
            consts[node.output[0]] = numpy_helper.to_array(_attrs(node)["value"])
    inputs = [v.name for v in graph.input if v.name not in consts]
    if len(inputs) != 1 or len(graph.output) != 1:
        raise ValueError(f"onnx.load: {path}: tinynn reads graphs with one input and one output, this has inputs "
                         f"{inputs} and outputs {[v.name for v in graph.output]}")
    shapes = _shapes(proto)
    current, layers, done = inputs[0], [], set()
    blocks = find_blocks(graph, consts)
    for node in graph.node:
        if node.op_type == "Constant" or id(node) in done:
            continue
        block = blocks.get(id(node))
        if block is not None and block.x == current:
            layers.append(block.layer)
            done.update(id(n) for n in block.nodes)
            current = block.out
            continue
        data = [i for i in node.input if i and i not in consts]
        if data != [current] or len(node.output) < 1:
            raise ValueError(f"onnx.load: {path}: node {node.name!r} ({node.op_type}) reads {data}, not the output "
                             f"{current!r} of the node before it; tinynn reads chains of layers only")
        if node.op_type == "Add" and (fused := _bias_of(node, consts, layers)) is not None:
            layers[-1] = fused
        elif node.op_type in LOADERS:
            layers.append(LOADERS[node.op_type](node, consts, opset, shapes.get(current)))
        else:
            raise ValueError(f"onnx.load: {path}: unsupported ONNX operator {node.op_type!r} (node {node.name!r}); "
                             f"tinynn reads {', '.join(sorted(LOADERS))}")
        current = node.output[0]
    if current != graph.output[0].name:
        raise ValueError(f"onnx.load: {path}: the chain ends in {current!r}, not the graph output {graph.output[0].name!r}")
    return nn.Sequential(*layers).eval()
