"""`export(model, example_input, path)`: a tinynn model as an ONNX file that onnx.checker accepts and
onnxruntime runs with the same outputs.

The model runs once on `example_input`, in eval mode, layer by layer: each leaf layer is written by
its converter from the table in graph.CONVERTERS (layers.py for the float layers, quantized.py for
the int8 Linear) and fed the example's value at that point, which gives the converters the shapes
they need (Gemm or MatMul, what Flatten keeps). Sequential containers are walked in order. A layer
with no converter is an error naming it and its class. Axis 0 of the input and of the output is
dynamic ("batch") unless `dynamic_axes` says otherwise (PyTorch's form: {name: {axis: label}} or
{name: [axes]})."""
import numpy as np

from ..autograd import no_grad
from ..nn.layers import Sequential
from ..tensor import Tensor
from . import layers, quantized  # noqa: F401 (they fill the converter table)
from .graph import CONVERTERS, Graph, helper, onnx

__all__ = ["export", "MIN_OPSET"]

MIN_OPSET = 13  # Softmax/LogSoftmax per axis, Clip with tensor bounds on uint8, Split/Squeeze forms


def _convert(g, module, x, value, path):
    """Write `module` applied to tensor `x` (example value `value`); returns (output name, output value)."""
    if isinstance(module, Sequential):
        for name, child in module.named_children():
            x, value = _convert(g, child, x, value, f"{path}.{name}" if path else name)
        return x, value
    convert = next((CONVERTERS[c] for c in type(module).__mro__ if c in CONVERTERS), None)
    if convert is None:
        known = ", ".join(sorted(c.__name__ for c in CONVERTERS)) + ", Sequential"
        raise ValueError(f"onnx.export: no ONNX converter for layer {path or '<model>'!r} of type "
                         f"{type(module).__name__}; tinynn.onnx converts {known} (add one with "
                         f"@tinynn.onnx.graph.converter({type(module).__name__}))")
    g.scope = path
    out = convert(g, module, x, value)
    with no_grad():
        result = module(Tensor(value))
    return out, np.asarray(result._data)


def _dims(shape, axes, name):
    """The ValueInfo dims: sizes, with the dynamic axes replaced by their labels."""
    dims = list(shape)
    for axis, label in axes.items():
        if not -len(dims) <= axis < len(dims):
            raise ValueError(f"onnx.export: dynamic axis {axis} of {name!r} is out of range for shape {tuple(shape)}")
        dims[axis] = label
    return dims


def _axes(dynamic_axes, name):
    spec = dynamic_axes.get(name, {})
    return dict(spec) if isinstance(spec, dict) else {int(a): f"{name}_dim{int(a)}" for a in spec}


def export(model, example_input, path, opset_version=17, input_names=None, output_names=None, dynamic_axes=None):
    """Write `model` (a tinynn Module) as the ONNX file `path` (opset `opset_version`), traced on
    `example_input` (one array or Tensor, float32). The graph has one input (default name "input")
    and one output ("output"), axis 0 of both dynamic ("batch"); the weights are initializers. The
    model is checked with onnx.checker before it is written. Returns the onnx.ModelProto."""
    if not isinstance(opset_version, int) or opset_version < MIN_OPSET:
        raise ValueError(f"onnx.export: opset_version must be an int >= {MIN_OPSET}, got {opset_version!r}")
    value = np.asarray(example_input._data if isinstance(example_input, Tensor) else example_input)
    if value.dtype.kind != "f" or value.ndim == 0:
        raise TypeError(f"onnx.export: example_input must be a float array with a batch axis, got {value.dtype} "
                        f"of shape {value.shape}")
    value = value.astype(np.float32)
    in_name = (input_names or ["input"])[0]
    out_name = (output_names or ["output"])[0]
    if in_name == out_name:
        raise ValueError(f"onnx.export: input and output names must differ, both are {in_name!r}")
    if dynamic_axes is None:
        dynamic_axes = {in_name: {0: "batch"}, out_name: {0: "batch"}}
    was_training = model.training
    model.eval()
    g = Graph(opset_version)
    g.name(in_name)
    try:
        y, y_value = _convert(g, model, in_name, value, "")
    finally:
        model.train(was_training)
    g.scope = ""
    if y == in_name or not g.rename_output(y, out_name):
        g.node("Identity", [y])
        g.rename_output(g.nodes[-1].output[0], out_name)
    dtype = helper.np_dtype_to_tensor_dtype(np.dtype(np.float32))
    graph = helper.make_graph(
        g.nodes, type(model).__name__,
        [helper.make_tensor_value_info(in_name, dtype, _dims(value.shape, _axes(dynamic_axes, in_name), in_name))],
        [helper.make_tensor_value_info(out_name, dtype, _dims(y_value.shape, _axes(dynamic_axes, out_name), out_name))],
        g.initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset_version)],
                              producer_name="tinynn", doc_string=f"exported by tinynn from {type(model).__name__}")
    proto.ir_version = helper.find_min_ir_version_for(proto.opset_import)  # what older runtimes read
    onnx.checker.check_model(proto, full_check=True)
    onnx.save(proto, str(path))
    return proto
