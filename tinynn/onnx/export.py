"""`export(model, example_input, path)`: a tinynn model as an ONNX file that onnx.checker accepts and
onnxruntime runs with the same outputs.

The model runs on `example_input`, in eval mode, layer by layer (Graph.convert): each layer is
written by its converter from the table in graph.CONVERTERS, found along its class's MRO (layers.py
for the float layers and Sequential, vision.py for convolution, pooling and BatchNorm, sequence.py
for Embedding and LayerNorm, norms.py for GroupNorm and InstanceNorm, upsampling.py for
ConvTranspose1d/2d and Upsample, recurrent.py for RNN/LSTM/GRU, attention.py and
decoder_layers.py for the Transformer encoder, decoder and both, more_layers.py for padding, the
dropout variants, RReLU, ChannelShuffle, RMSNorm, LocalResponseNorm and EmbeddingBag, im2col.py
for Unfold and Fold, shuffle_pool.py for PixelShuffle/PixelUnshuffle, Softmax2d and the 1-D and max
adaptive pools, cells.py for RNNCell/LSTMCell/GRUCell, pairs.py for Bilinear, CosineSimilarity and
PairwiseDistance, volumes.py for the 3-D convolutions, pools and norms, models.py for the models of
tinynn.models that are not a chain, decoder.py for
GPT, TransformerClassifier and MultiheadAttention alone, quantized.py for the int8 Linear), and fed
the example's value at that point, which gives the converters the shapes they need. A layer with no
converter is an error naming it and its class. Axis 0 of each input is dynamic ("batch"), or the
axes its converter declares (g.input_axes: GPT's "sequence", the decoder's lengths), and so is each
output axis that follows them, unless `dynamic_axes` says otherwise (PyTorch's form:
{name: {axis: label}} or {name: [axes]})."""
import os
import tempfile

import numpy as np

from ..tensor import Tensor
# these fill the converter table
from . import (activations, attention, cells, decoder, decoder_layers, im2col, layers, models,  # noqa: F401
               more_layers, norms, pairs, quantized, recurrent, sequence, shuffle_pool, upsampling, vision,
               volumes)
from .fold import fold_batchnorms
from .graph import Graph, helper, onnx, signature

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


def _changed_axes(model, other, kwargs, y_values, out_names, label):
    """{output name: {axis: label}}: the axes of each output whose size differs when the model runs on
    the inputs `other` (the example with one more row, or one token less) instead of the example."""
    from ..autograd import no_grad
    from .graph import run, tensors, values

    was_training = model.training
    model.eval()
    try:
        with no_grad():
            changed = _flat(values(run(model, tensors(other), kwargs)))
    finally:
        model.train(was_training)
    return {name: {a: label for a, (m, n) in enumerate(zip(y.shape, z.shape)) if m != n}
            for name, y, z in zip(out_names, y_values, changed)}


def _default_axes(model, g, in_names, in_values, kwargs, y_values, out_names):
    """Each input's free axes: {0: "batch"}, or what its converter declared (g.input_axes: GPT's and the
    Transformer decoder's lengths too), and the output axes that follow each label, found by running the
    model on the inputs with one more row along the "batch" axes, or one position less along another
    label's (an axis of length 1 keeps its size)."""
    declared = {name: g.input_axes.get(name, {0: "batch"}) for name in in_names}
    axes = {name: {} for name in in_names}
    for label in dict.fromkeys(["batch", *(lb for d in declared.values() for lb in d.values())]):
        where = [(i, a) for i, name in enumerate(in_names) for a, lb in declared[name].items() if lb == label]
        if not where or (label != "batch" and any(in_values[i].shape[a] < 2 for i, a in where)):
            continue
        other = list(in_values)
        for i, a in where:
            v = other[i]
            other[i] = np.concatenate([v, np.take(v, [0], axis=a)], axis=a) if label == "batch" else \
                np.take(v, np.arange(v.shape[a] - 1), axis=a)
            axes[in_names[i]][a] = label
        other = tuple(other) if len(other) > 1 else other[0]
        for name, found in _changed_axes(model, other, kwargs, y_values, out_names, label).items():
            axes.setdefault(name, {}).update(found)
    return axes


def _flat(tree):
    return [leaf for t in tree for leaf in _flat(t)] if isinstance(tree, (tuple, list)) else [tree]


def _flat_tuple(example):
    """The example tensors, nested tuples flattened in order: an LSTMCell's (x, (h, c)) is x, h, c."""
    return [leaf for e in example for leaf in _flat_tuple(e)] if isinstance(example, tuple) else [example]


def _example(x):
    value = np.asarray(x._data if isinstance(x, Tensor) else x)
    if value.dtype.kind not in "fiu" or value.ndim == 0:
        raise TypeError(f"onnx.export: example_input must be a float (or integer id) array with a batch axis, "
                        f"got {value.dtype} of shape {value.shape}")
    return value.astype(np.float32 if value.dtype.kind == "f" else np.int64)


def _input_names(model, count, input_names):
    wanted = signature(model)[0]
    wanted = wanted if isinstance(wanted, tuple) else (wanted,)
    if count not in wanted:
        raise ValueError(f"onnx.export: {type(model).__name__} is exported with {' or '.join(map(str, wanted))} "
                         f"input tensor(s), got "
                         f"{count} example input(s) (several go in a tuple: (tgt, memory), (x, (h, c)))")
    names = list(input_names or [])[:count]
    names += ["input" if i == 0 else f"input_{i}" for i in range(len(names), count)]
    if len(set(names)) != count:
        raise ValueError(f"onnx.export: input names must differ, got {names}")
    return names


def export(model, example_input, path, opset_version=17, input_names=None, output_names=None, dynamic_axes=None,
           fold_batchnorm=False, kwargs=None):
    """Write `model` (a tinynn Module) as the ONNX file `path` (opset `opset_version`), traced on
    `example_input` (one array or Tensor: float, computed in float32, or integer token ids, int64; a
    tuple of them for a model whose forward takes several, as torch.onnx.export's args: a Transformer's
    (src, tgt)) called with the keyword arguments `kwargs` (those its converter reads, e.g. a causal
    tgt_mask; any other is refused by name). The graph has one input per example tensor (default names
    "input", "input_1", ...) and one output ("output"; a model returning a tuple has one output per
    tensor, "output", "output_1", ... unless `output_names` says), axis 0 of every input and output
    dynamic ("batch"), or the axes the converter declares; the weights are initializers.
    fold_batchnorm=True folds each eval-mode BatchNorm into the convolution before it (W' = W s,
    b' = (b - mean) s + beta, s = gamma / sqrt(var + eps)). The model is checked with onnx.checker
    before it is written. Returns the onnx.ModelProto."""
    if not isinstance(opset_version, int) or opset_version < MIN_OPSET:
        raise ValueError(f"onnx.export: opset_version must be an int >= {MIN_OPSET}, got {opset_version!r}")
    in_values = [_example(x) for x in _flat_tuple(example_input)]  # (x, (h, c)): three inputs, as PyTorch's
    in_names = _input_names(model, len(in_values), input_names)
    several = len(in_values) > 1
    was_training = model.training
    model.eval()
    g = Graph(opset_version)
    for name in in_names:
        g.name(name)
    try:
        ys, y_values = g.convert(model, tuple(in_names) if several else in_names[0],
                                 tuple(in_values) if several else in_values[0], "", kwargs)
    finally:
        model.train(was_training)
    ys, y_values = _flat(ys), _flat(y_values)
    out_names = list(output_names or []) + ["output" if i == 0 else f"output_{i}"
                                            for i in range(len(output_names or []), len(ys))]
    if set(in_names) & set(out_names[:len(ys)]):
        raise ValueError(f"onnx.export: input and output names must differ, both have "
                         f"{sorted(set(in_names) & set(out_names[:len(ys)]))}")
    if dynamic_axes is None:
        dynamic_axes = _default_axes(model, g, in_names, in_values, kwargs, y_values, out_names)
    outputs = []
    for y, y_value, out_name in zip(ys, y_values, out_names):
        if y in in_names or y in out_names or not g.rename_output(y, out_name):
            g.node("Identity", [y])
            g.rename_output(g.nodes[-1].output[0], out_name)
        outputs.append(helper.make_tensor_value_info(out_name, helper.np_dtype_to_tensor_dtype(np.dtype(np.float32)),
                                                     _dims(y_value.shape, _axes(dynamic_axes, out_name), out_name)))
    if fold_batchnorm:
        fold_batchnorms(g)
    inputs = [helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(value.dtype),
                                            _dims(value.shape, _axes(dynamic_axes, name), name))
              for name, value in zip(in_names, in_values)]
    graph = helper.make_graph(g.nodes, type(model).__name__, inputs, outputs, g.initializers)
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
