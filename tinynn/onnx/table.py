"""The layer table of an ONNX graph: one row per node with its operator, output shape (from ONNX
shape inference; the dynamic batch axis shows as its label) and the constants it holds."""
import numpy as np

from .graph import numpy_helper, onnx

__all__ = ["layer_rows", "layer_table"]


def _model(model):
    return onnx.load(str(model)) if not isinstance(model, onnx.ModelProto) else model


def _shape(info):
    dims = info.type.tensor_type.shape.dim
    return "(" + ", ".join(d.dim_param or str(d.dim_value) for d in dims) + ")"


def layer_rows(model):
    """[(node name, op type, output shape, constants)] of `model` (a path or an onnx.ModelProto);
    constants: the node's initializer inputs, as 'dtype[size]' each."""
    proto = onnx.shape_inference.infer_shapes(_model(model))
    graph = proto.graph
    shapes = {v.name: _shape(v) for v in (*graph.input, *graph.value_info, *graph.output)}
    consts = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    rows = []
    for node in graph.node:
        held = [consts[i] for i in node.input if i in consts and np.asarray(consts[i]).size > 1]
        rows.append((node.name or node.output[0], node.op_type, shapes.get(node.output[0], "?"),
                     " ".join(f"{a.dtype}{list(a.shape)}" for a in held)))
    return rows


def layer_table(model):
    """layer_rows(model) as a plain-text table, with the graph's input and output above it and the
    totals (nodes, stored values, bytes of initializers) below."""
    from ..train import format_table

    proto = _model(model)
    rows = layer_rows(proto)
    inits = [numpy_helper.to_array(t) for t in proto.graph.initializer]
    io = lambda vs: ", ".join(f"{v.name} {_shape(v)}" for v in vs)  # noqa: E731
    head = f"input {io(proto.graph.input)} -> output {io(proto.graph.output)}, opset {proto.opset_import[0].version}"
    foot = (f"{len(rows)} nodes, {sum(a.size for a in inits):,} stored values, "
            f"{sum(a.nbytes for a in inits):,} bytes of initializers")
    return "\n".join([head, format_table(["node", "op", "output shape", "weights"], rows,
                                         align=["<", "<", "<", "<"]), foot])
