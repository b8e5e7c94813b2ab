"""`load(path)`: an ONNX model as a tinynn Module, so tinynn can serve as a readable reference runtime
to check another runtime's results.

The graph may be any DAG (residual Adds, several inputs and outputs, operators with several
outputs). Each node becomes one step of a `GraphModule`, which evaluates the steps in the graph's
(topological) order on tinynn ops, so the loaded model is differentiable:

- a node with constant weights in a layer's form becomes that layer, a child module holding them as
  its parameters (load_layers.LAYERS: Gemm/MatMul -> Linear, with the Add of a bias after a MatMul,
  Conv, ConvTranspose, pooling, BatchNormalization, LayerNormalization, Gather of a table -> Embedding,
  LSTM/GRU/RNN; load_norms.NORM_LAYERS: GroupNormalization, InstanceNormalization; load_more: RMSNormalization,
  and LRN as a LocalResponseNorm; load_shuffle_pool: GlobalMaxPool, and DepthToSpace (CRD) as a PixelShuffle);
- a GroupNorm written as Reshape -> InstanceNormalization -> Reshape [-> Mul -> Add] becomes one GroupNorm
  (load_norms.py);
- the activations of activations.py become their layers (load_activations.py: Selu -> SELU, PRelu -> PReLU,
  Clip of constant bounds -> Hardtanh / ReLU6, x * Tanh(Softplus(x)) -> Mish, Softmax(-x) -> Softmin, ...);
- tinynn's int8 Linear and Conv2d blocks (QuantizeLinear ... MatMulInteger / ConvInteger ... Mul)
  become QuantizedLinear / QuantizedConv2d (load_int8.py), bit for bit tinynn's int8 model;
- every other node is a function on Tensors from the table load_ops.OPS (and load_int8.INT8_OPS),
  one converter per op type (Resize: load_resize.py); the constants it reads are the module's parameters
  (float tensors of more than one value: a learned positional embedding) or buffers (scalars, shapes, indices).
An operator in none of the tables is a ValueError naming it and the node.
"""
import os
import re

import numpy as np

from .. import nn
from ..tensor import Tensor
from .graph import numpy_helper, onnx
from .load_activations import ACTIVATION_LAYERS, ACTIVATION_OPS, find_activations
from .load_int8 import INT8_OPS, find_blocks
from .load_layers import LAYERS, linear
from .load_more import MORE_LAYERS, MORE_OPS
from .load_norms import NORM_LAYERS, find_group_norms
from .load_ops import OPS, attrs
from .load_resize import resize
from .load_shuffle_pool import SHUFFLE_POOL_LAYERS, SHUFFLE_POOL_OPS

__all__ = ["load", "GraphModule", "OPS", "LAYERS"]

OPS = {**OPS, **INT8_OPS, **ACTIVATION_OPS, **MORE_OPS, **SHUFFLE_POOL_OPS, "Resize": resize}
LAYERS = {**LAYERS, **NORM_LAYERS, **ACTIVATION_LAYERS, **MORE_LAYERS, **SHUFFLE_POOL_LAYERS}


class Step:
    """One node (or fused block) of a loaded graph: outputs = fn(*inputs), tensors named as in the graph."""

    def __init__(self, name, op_type, fn, inputs, outputs):
        self.name, self.op_type, self.fn = name, op_type, fn
        self.inputs, self.outputs = list(inputs), list(outputs)

    def __repr__(self):
        return f"{self.name}: {self.op_type}({', '.join(self.inputs)}) -> {', '.join(self.outputs)}"


class GraphModule(nn.Module):
    """outputs = graph(inputs): the steps of an ONNX graph, in order, on tinynn Tensors. Layers are
    its child modules (named after their nodes), constants are in `self.constants`; `steps` lists
    what each node computes from which tensors."""

    def __init__(self, input_names, output_names):
        super().__init__()
        self.input_names, self.output_names = list(input_names), list(output_names)
        self.constants = nn.Module()
        self.steps, self._constant_names = [], {}

    def add_step(self, node, fn, inputs, outputs, op_type=None):
        """Append a step; a Module fn becomes a child named after the node (its path, '.' and '/' as '_')."""
        name = node.name or f"{node.op_type}_{len(self.steps)}"
        if isinstance(fn, nn.Module):
            self.add_module(self._free(self, name), fn)
        self.steps.append(Step(name, op_type or node.op_type, fn, inputs, outputs))

    def add_constant(self, name, array):
        """Hold constant `name`: a Parameter if float with more than one value, else a buffer."""
        attr = self._free(self.constants, name)
        if array.dtype.kind == "f" and array.size > 1:
            setattr(self.constants, attr, nn.Parameter(np.array(array, np.float32)))
        else:
            self.constants.register_buffer(attr, np.array(array))
        self._constant_names[name] = attr

    @staticmethod
    def _free(module, name):
        base = re.sub(r"\W+", "_", name).strip("_") or "node"
        attr, k = base, 1
        while hasattr(module, attr):
            attr, k = f"{base}_{k}", k + 1
        return attr

    def forward(self, *inputs):
        if len(inputs) != len(self.input_names):
            raise TypeError(f"GraphModule: the graph takes {len(self.input_names)} input(s) {self.input_names}, "
                            f"got {len(inputs)}")
        env = {name: _tensor(getattr(self.constants, attr)) for name, attr in self._constant_names.items()}
        env.update((name, _tensor(x)) for name, x in zip(self.input_names, inputs))
        for step in self.steps:
            try:
                result = step.fn(*(env[i] if i else None for i in step.inputs))
            except (ValueError, TypeError, IndexError) as exc:
                raise type(exc)(f"onnx.load: node {step.name!r} ({step.op_type}): {exc}") from exc
            for name, value in zip(step.outputs, result if isinstance(result, tuple) else (result,)):
                if name:
                    env[name] = value
        outputs = tuple(env[name] for name in self.output_names)
        return outputs[0] if len(outputs) == 1 else outputs

    def extra_repr(self):
        return f"inputs={self.input_names}, outputs={self.output_names}, {len(self.steps)} steps"


def _tensor(x):
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


class Context:
    """What a converter may read besides its node: the opset, the constants ({name: array}) and the
    shapes ONNX's shape inference gives (sizes, or the label of a dynamic axis)."""

    def __init__(self, proto, consts):
        self.opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 0)
        self.consts = consts
        try:
            graph = onnx.shape_inference.infer_shapes(proto).graph
        except Exception:  # noqa: BLE001 - a graph shape inference cannot follow still loads; shapes unknown
            graph = proto.graph
        values = (*graph.input, *graph.value_info, *graph.output)
        self.shapes = {v.name: tuple(d.dim_param if d.HasField("dim_param") else d.dim_value
                                     for d in v.type.tensor_type.shape.dim)
                       for v in values if v.type.tensor_type.HasField("shape")}

    def shape(self, name):
        return self.shapes.get(name)


def _bias_add(node, layer, readers, consts, outputs):
    """The Add that reads only a bias-free Linear's output (a MatMul's) and a constant of out_features
    values: the Linear's bias. None if there is none."""
    after = readers.get(node.output[0], [])
    if len(after) != 1 or after[0].op_type != "Add" or node.output[0] in outputs:
        return None
    add = after[0]
    other = [i for i in add.input if i != node.output[0]]
    bias = consts.get(other[0]) if len(other) == 1 else None
    return add if bias is not None and bias.size == layer.out_features and bias.shape[-1:] == (bias.size,) else None


def _step_of(node, ctx, module, readers, skip):
    """Add `node`'s step to `module`: its layer, else its operator; ValueError if tinynn has neither."""
    layer = LAYERS[node.op_type](node, ctx) if node.op_type in LAYERS else None
    computed = [i for i in node.input if i and i not in ctx.consts]
    if layer is not None and computed:
        outputs = list(node.output)
        if isinstance(layer, nn.Linear) and layer.bias is None and node.op_type == "MatMul":
            add = _bias_add(node, layer, readers, ctx.consts, set(module.output_names))
            if add is not None:
                bias = ctx.consts[next(i for i in add.input if i in ctx.consts)]
                layer, outputs = linear(layer.weight._data, bias.reshape(-1)), list(add.output)
                skip.add(id(add))
        module.add_step(node, layer, computed, outputs)
    elif node.op_type in OPS:
        module.add_step(node, OPS[node.op_type](node, ctx), node.input, node.output)
    else:
        known = sorted(set(OPS) | set(LAYERS))
        raise ValueError(f"onnx.load: unsupported ONNX operator {node.op_type!r} (node {node.name!r}); tinynn "
                         f"reads {', '.join(known)}")


def load(path):
    """The ONNX model at `path` (a file name, a binary file object or an onnx.ModelProto) as a tinynn
    GraphModule in eval mode: model(*inputs) gives the graph's output (a tuple of them if it has several)."""
    if isinstance(path, onnx.ModelProto) or hasattr(path, "read"):
        proto = path if isinstance(path, onnx.ModelProto) else onnx.load(path)
    else:
        try:
            proto = onnx.load(os.fspath(path))
        except TypeError:
            raise TypeError(f"onnx.load: path must be a file name, a binary file object or an onnx.ModelProto, "
                            f"got {type(path).__name__}") from None
    onnx.checker.check_model(proto)
    graph = proto.graph
    consts = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for node in graph.node:  # Constant nodes are constants too
        if node.op_type == "Constant":
            value = attrs(node).get("value")
            if value is None:
                raise ValueError(f"onnx.load: Constant node {node.name!r}: tinynn reads the 'value' form only")
            consts[node.output[0]] = numpy_helper.to_array(value)
    ctx = Context(proto, consts)
    module = GraphModule([v.name for v in graph.input if v.name not in consts], [v.name for v in graph.output])
    readers = {}
    for node in graph.node:
        for i in node.input:
            readers.setdefault(i, []).append(node)
    blocks = {**find_activations(graph, consts, ctx.opset), **find_blocks(graph, consts),
              **find_group_norms(graph, consts)}
    skip = set()
    for node in graph.node:
        if node.op_type == "Constant" or id(node) in skip:
            continue
        if node.domain not in ("", "ai.onnx"):
            raise ValueError(f"onnx.load: unsupported ONNX operator {node.domain}.{node.op_type} (node {node.name!r})")
        block = blocks.get(id(node))
        if block is not None:  # placed at its first node: every node of it reads only x and constants
            module.add_step(node, block.layer, [block.x], [block.out], op_type=type(block.layer).__name__)
            skip.update(id(n) for n in block.nodes)
        else:
            _step_of(node, ctx, module, readers, skip)
    for name in dict.fromkeys(i for step in module.steps for i in step.inputs if i in consts):
        module.add_constant(name, consts[name])
    for name in module.output_names:
        if name in consts and name not in module._constant_names:
            module.add_constant(name, consts[name])
    return module.eval()
