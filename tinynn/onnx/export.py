"""`export(model, example_input, path)`: a tinynn model as an ONNX file that onnx.checker accepts and
onnxruntime runs with the same outputs.

The model runs on `example_input`, in eval mode, layer by layer (Graph.convert): each layer is
written by its converter from the table in graph.CONVERTERS, found along its class's MRO (layers.py
for the float layers and Sequential, vision.py for convolution, pooling and BatchNorm, sequence.py
for Embedding and LayerNorm, norms.py for GroupNorm and InstanceNorm, upsampling.py for
ConvTranspose2d and Upsample, recurrent.py for RNN/LSTM/GRU, models.py for the models of
tinynn.models that are not a chain, decoder.py for GPT, TransformerClassifier and
MultiheadAttention alone, quantized.py for the int8 Linear), and fed the example's value
at that point, which gives the converters the shapes they need. A layer with no converter is an
error naming it and its class. Axis 0 of the input is dynamic ("batch"), and so is each output
axis that follows it (and likewise "sequence" for the input axes a converter leaves free: GPT's
length), unless `dynamic_axes` says otherwise (PyTorch's form: {name: {axis: label}}
or {name: [axes]})."""
import os
import tempfile

import numpy as np

from ..tensor import Tensor
# these fill the converter table
from . import (activations, attention, decoder, layers, models, norms, quantized, recurrent, sequence,  # noqa: F401
               upsampling, vision)
from .fold import fold_batchnorms
from .graph import Graph, helper, onnx

__all__ = ["export", "MIN_OPSET"]

MIN_OPSET = 13  # Softmax/LogSoftmax per axis, Clip with tensor bounds on uint8, Split/Squeeze forms


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


def _changed_axes(model, other, y_values, out_names, label):
    """{output name: {axis: label}}: the axes of each output whose size differs when the model runs on
    `other` (the example with one more row, or one token less) instead of the example."""
    from ..autograd import no_grad
    from .graph import run, values

    was_training = model.training
    model.eval()
    try:
        with no_grad():
            changed = _flat(values(run(model, Tensor(other))))
    finally:
        model.train(was_training)
    return {name: {a: label for a, (m, n) in enumerate(zip(y.shape, z.shape)) if m != n}
            for name, y, z in zip(out_names, y_values, changed)}


def _default_axes(model, g, value, in_name, y_values, out_names):
    """Axis 0 ("batch") of the input and the output axes that follow it; likewise "sequence" for the
    input axes a converter left free (g.sequence_axes: GPT's length), found on one token less."""
    axes = {in_name: {0: "batch"}, **_changed_axes(model, np.concatenate([value, value[:1]]), y_values,
                                                   out_names, "batch")}
    for axis in sorted(g.sequence_axes):
        if value.shape[axis] > 1:
            axes[in_name][axis] = "sequence"
            shorter = np.take(value, np.arange(value.shape[axis] - 1), axis=axis)
            for name, found in _changed_axes(model, shorter, y_values, out_names, "sequence").items():
                axes[name].update(found)
    return axes


def _flat(tree):
    return [leaf for t in tree for leaf in _flat(t)] if isinstance(tree, (tuple, list)) else [tree]


def export(model, example_input, path, opset_version=17, input_names=None, output_names=None, dynamic_axes=None,
           fold_batchnorm=False):
    """Write `model` (a tinynn Module) as the ONNX file `path` (opset `opset_version`), traced on
    `example_input` (one array or Tensor: float, computed in float32, or integer token ids, int64).
    The graph has one input (default name "input") and one output ("output"; a model returning a
    tuple has one output per tensor, "output", "output_1", ... unless `output_names` says), axis 0
    of every input and output dynamic ("batch"); the weights are initializers. fold_batchnorm=True
    folds each eval-mode BatchNorm into the convolution before it (W' = W s, b' = (b - mean) s + beta,
    s = gamma / sqrt(var + eps)). The model is checked with onnx.checker before it is written.
    Returns the onnx.ModelProto."""
    if not isinstance(opset_version, int) or opset_version < MIN_OPSET:
        raise ValueError(f"onnx.export: opset_version must be an int >= {MIN_OPSET}, got {opset_version!r}")
    value = np.asarray(example_input._data if isinstance(example_input, Tensor) else example_input)
    if value.dtype.kind not in "fiu" or value.ndim == 0:
        raise TypeError(f"onnx.export: example_input must be a float (or integer id) array with a batch axis, "
                        f"got {value.dtype} of shape {value.shape}")
    value = value.astype(np.float32 if value.dtype.kind == "f" else np.int64)
    in_name = (input_names or ["input"])[0]
    was_training = model.training
    model.eval()
    g = Graph(opset_version)
    g.name(in_name)
    try:
        ys, y_values = g.convert(model, in_name, value, "")
    finally:
        model.train(was_training)
    ys, y_values = _flat(ys), _flat(y_values)
    out_names = list(output_names or []) + ["output" if i == 0 else f"output_{i}"
                                            for i in range(len(output_names or []), len(ys))]
    if in_name in out_names[:len(ys)]:
        raise ValueError(f"onnx.export: input and output names must differ, both are {in_name!r}")
    if dynamic_axes is None:
        dynamic_axes = _default_axes(model, g, value, in_name, y_values, out_names)
    outputs = []
    for y, y_value, out_name in zip(ys, y_values, out_names):
        if y == in_name or y in out_names or not g.rename_output(y, out_name):
            g.node("Identity", [y])
            g.rename_output(g.nodes[-1].output[0], out_name)
        outputs.append(helper.make_tensor_value_info(out_name, helper.np_dtype_to_tensor_dtype(np.dtype(np.float32)),
                                                     _dims(y_value.shape, _axes(dynamic_axes, out_name), out_name)))
    if fold_batchnorm:
        fold_batchnorms(g)
    graph = helper.make_graph(
        g.nodes, type(model).__name__,
        [helper.make_tensor_value_info(in_name, helper.np_dtype_to_tensor_dtype(value.dtype),
                                       _dims(value.shape, _axes(dynamic_axes, in_name), in_name))],
        outputs, g.initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset_version)],
                              producer_name="tinynn", doc_string=f"exported by tinynn from {type(model).__name__}")
    proto.ir_version = helper.find_min_ir_version_for(proto.opset_import)  # what older runtimes read
    onnx.checker.check_model(proto, full_check=True)
    _write(proto, path)
    return proto


def _write(proto, path):
    """The model's bytes to `path`: a binary file object (as torch.onnx.export's f takes), or a file
    name, written whole to a temporary file beside it and then renamed, so a failed write leaves no
    half-written file."""
    data = proto.SerializeToString()
    if hasattr(path, "write"):
        path.write(data)
        return
    try:
        where = os.fspath(path)
    except TypeError:
        raise TypeError(f"onnx.export: path must be a file name or a binary file object, got "
                        f"{type(path).__name__}") from None
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(where)), prefix=".onnx-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, where)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
