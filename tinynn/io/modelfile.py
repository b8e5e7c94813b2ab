"""Self-describing model files: ONE .npz holding the weights and a JSON description of the network.

    from tinynn.io.modelfile import mlp, save_model, load_model
    model = mlp([64, 128, 64, 10])              # Linear-ReLU-Linear-ReLU-Linear
    save_model(model, "model.npz", spec={"sizes": [64, 128, 64, 10], "activation": "relu"})
    model, spec = load_model("model.npz")      # rebuilt from the file alone

The file is written with `tn.save` (an .npz, never pickle) and holds two entries:
  "tinynn_model"  a JSON string: {"format": "tinynn.model", "version": 1, "arch": "mlp",
                  "sizes": [n_0, ..., n_L], "activation": "relu", "quantized": null | {...}, ...}
                  or, for the convolutional models of tinynn.models, "arch": "lenet" with
                  "num_classes", "in_channels", "input_size", "width", or "arch": "resnet" with
                  "block_channels", "num_classes", "in_channels", "blocks", or "arch": "lstm" (an
                  LSTMClassifier reading the image's rows) with "row_size", "rows", "hidden_size",
                  "num_classes", or "arch": "transformer" (a TransformerClassifier over the rows) with
                  its sizes (their constructors' arguments, ARCHS); every image model also
                  records "input_shape": [C, H, W].
  "state"         the model's state_dict (name -> ndarray).
Extra keys of the description (training settings, test accuracy, pruning amount) are kept as
they are, for people reading the file. A quantized model is rebuilt by quantizing a freshly
built float model of the same shape and then loading the saved int8 state into it. A convolutional
network whose channels were pruned away (prune.shrink) is rebuilt from its arch and then cut to the
shapes of the stored weights (`fit_shapes`).
"""
import json

import numpy as np

from .. import backend

FORMAT = "tinynn.model"
VERSION = 1
ACTIVATIONS = tuple(a for a in backend.ACTIVATIONS if a != "none")  # a spec names its hidden layers' activation


class ModelFileError(ValueError):
    """A model file that cannot be read or does not describe a model tinynn can rebuild."""


def mlp(sizes, activation="relu", bias=None):
    """models.MLP(sizes, activation, bias): x -> Linear(n_0, n_1) -> act -> ... -> Linear(n_{L-1}, n_L)."""
    from ..models import MLP

    return MLP(sizes, activation, bias)


# arch -> (the spec's keys that are constructor arguments, with their JSON types)
ARCHS = {
    "lenet": {"num_classes": int, "in_channels": int, "input_size": int, "width": int},
    "resnet": {"block_channels": list, "num_classes": int, "in_channels": int, "blocks": int},
    "lstm": {"row_size": int, "rows": int, "hidden_size": int, "num_classes": int},
    "transformer": {"input_dim": int, "seq_len": int, "num_classes": int, "d_model": int, "nhead": int,
                    "num_layers": int, "dim_feedforward": int},
}


def conv_spec(arch, input_shape, **arguments):
    """The description of an image model: {"arch": arch, "input_shape": [C, H, W], **its arguments}."""
    return {"arch": arch, "input_shape": [int(v) for v in input_shape], **arguments}


def input_features(spec):
    """Features of one flat input row of the model `spec` describes."""
    if spec.get("arch", "mlp") == "mlp":
        return spec["sizes"][0]
    c, h, w = spec["input_shape"]
    return c * h * w


def num_outputs(spec):
    return spec["sizes"][-1] if spec.get("arch", "mlp") == "mlp" else spec["num_classes"]


def describe(spec):
    """A short name of the architecture: "64-128-64-10" for an MLP, "lenet 1x8x8->10" for an image model."""
    if spec.get("arch", "mlp") == "mlp":
        return "-".join(map(str, spec["sizes"]))
    return f"{spec['arch']} {'x'.join(map(str, spec['input_shape']))}->{spec['num_classes']}"


def linear_sizes(model):
    """[n_0, ..., n_L] of the Linear layers of a Sequential MLP, read from their weights."""
    from .. import nn

    sizes = []
    for m in model.modules():
        if isinstance(m, nn.Linear) or hasattr(m, "in_features") and hasattr(m, "out_features"):
            if not sizes:
                sizes.append(int(m.in_features))
            sizes.append(int(m.out_features))
    return sizes


def linear_bias(model):
    """One bool per Linear layer of `model`: has it a bias?"""
    return [getattr(m, "bias", None) is not None for m in model.modules()
            if hasattr(m, "in_features") and hasattr(m, "out_features")]


def save_model(model, path, spec, compress=False):
    """Write `model` and its description `spec` (a JSON-able dict with at least "sizes") to `path`.
    compress=True zlib-compresses the arrays (worth it for pruned models: zeros compress well)."""
    from .serialization import save

    spec = dict(spec)
    spec.setdefault("arch", "mlp")
    if spec["arch"] == "mlp":
        spec.setdefault("activation", "relu")
    spec.setdefault("quantized", None)
    if not spec.get("quantized") and spec["arch"] == "mlp":
        flags = linear_bias(model)
        if not all(flags):
            spec["bias"] = flags
    spec["format"], spec["version"] = FORMAT, VERSION
    state = {k: np.array(v, order="C") for k, v in model.state_dict().items()}  # 0-d buffers stay 0-d
    save({"tinynn_model": json.dumps(spec, sort_keys=True), "state": state}, path, compress=compress)


def read_spec(path):
    """(spec, state) of a model file; ModelFileError if it is not one."""
    from .serialization import load

    try:
        blob = load(path)
    except FileNotFoundError:
        raise
    except ValueError as exc:
        raise ModelFileError(str(exc)) from None
    if not isinstance(blob, dict) or not isinstance(blob.get("tinynn_model"), str) or not isinstance(blob.get("state"), dict):
        raise ModelFileError(f"{path}: a tinynn file, but not a model file (no 'tinynn_model' description); "
                             "write one with `tinynn train` or tinynn.modelfile.save_model")
    try:
        spec = json.loads(blob["tinynn_model"])
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{path}: unreadable model description: {exc}") from None
    if not isinstance(spec, dict) or spec.get("format") != FORMAT:
        raise ModelFileError(f"{path}: model description has format {spec.get('format') if isinstance(spec, dict) else None!r}, "
                             f"expected {FORMAT!r}")
    if spec.get("version", 0) > VERSION:
        raise ModelFileError(f"{path}: written by a newer tinynn (model format version {spec['version']})")
    if spec.get("arch") in ARCHS:
        _check_conv_spec(path, spec)
        return spec, blob["state"]
    sizes = spec.get("sizes")
    if (spec.get("arch") != "mlp" or not isinstance(sizes, list) or len(sizes) < 2
            or not all(isinstance(s, int) and s > 0 for s in sizes) or spec.get("activation") not in ACTIVATIONS):
        raise ModelFileError(f"{path}: cannot rebuild arch={spec.get('arch')!r} sizes={sizes!r} "
                             f"activation={spec.get('activation')!r}")
    return spec, blob["state"]


def _check_conv_spec(path, spec):
    shape = spec.get("input_shape")
    ok = isinstance(shape, list) and len(shape) == 3 and all(isinstance(v, int) and v > 0 for v in shape)
    for key, kind in ARCHS[spec["arch"]].items():
        value = spec.get(key)
        ok = ok and isinstance(value, kind) and (kind is not int or value > 0)
        ok = ok and (kind is not list or (value and all(isinstance(v, int) and v > 0 for v in value)))
    if not ok:
        raise ModelFileError(f"{path}: cannot rebuild arch={spec['arch']!r} from "
                             f"{ {k: spec.get(k) for k in ('input_shape', *ARCHS[spec['arch']])} }")


def build_float(spec):
    """The untrained float model of `spec` (models.MLP, LeNet5 or ResNet)."""
    from .. import models

    arch = spec.get("arch", "mlp")
    if arch == "mlp":
        return mlp(spec["sizes"], spec.get("activation", "relu"), spec.get("bias"))
    return models.BUILDERS[arch](**{k: spec[k] for k in ARCHS[arch]})


def fit_shapes(model, state):
    """Cut model's Linear, Conv and BatchNorm layers to the shapes of the weights in `state` (what
    prune.shrink removed: output channels or neurons, and the matching inputs); a BatchNorm without
    stored weights (folded into its conv by quantization) follows the conv before it."""
    from ..compress.prune_conv import conv_chains
    from ..nn.parameter import Parameter

    for name, m in model.named_modules():
        key = f"{name}.weight" if name else "weight"
        w = getattr(m, "weight", None)
        if key not in state or not isinstance(w, Parameter) or np.shape(state[key]) == w.shape:
            continue
        shape = np.shape(state[key])
        m.weight = Parameter(np.zeros(shape, w._data.dtype))
        if getattr(m, "bias", None) is not None:
            m.bias = Parameter(np.zeros(shape[0], w._data.dtype))
        _resize(m, shape)
    for chain in conv_chains(model):
        if chain.bn is not None and chain.bn.num_features != chain.conv.out_channels:
            _resize(chain.bn, (chain.conv.out_channels,))


def _resize(m, shape):
    from ..nn.parameter import Parameter

    if hasattr(m, "out_channels"):
        m.out_channels, m.in_channels = shape[0], shape[1] * getattr(m, "groups", 1)
    elif hasattr(m, "out_features"):
        m.out_features, m.in_features = shape[0], shape[1]
    elif hasattr(m, "num_features"):
        m.num_features = shape[0]
        if m.weight.shape != shape:
            m.weight, m.bias = Parameter(np.ones(shape, np.float32)), Parameter(np.zeros(shape, np.float32))
        for buf, fill in (("running_mean", 0.0), ("running_var", 1.0)):
            if getattr(m, buf, None) is not None:
                setattr(m, buf, np.full(shape, fill, np.float32))


def build(spec, state=None):
    """An untrained model with the architecture `spec` describes (quantized if it says so), cut to
    the weight shapes of `state` when given."""
    model = build_float(spec)
    if state is not None and spec.get("arch", "mlp") != "mlp":
        fit_shapes(model, state)
    q = spec.get("quantized")
    if q:
        from ..compress import quantize

        if q.get("method", "dynamic") == "static":
            calib = [np.zeros((1, input_features(spec)), dtype=np.float32)]
            from ..creation import tensor

            model = quantize.quantize_static(model, [tensor(c) for c in calib], observer=q.get("observer", "minmax"))
        else:
            model = quantize.quantize_dynamic(model)
    return model


def load_model(path):
    """(model, spec) rebuilt from a file written by save_model, in eval mode."""
    spec, state = read_spec(path)
    model = build(spec, state)
    try:
        model.load_state_dict(state)
    except (ValueError, TypeError) as exc:
        raise ModelFileError(f"{path}: weights do not fit the described model: {exc}") from None
    model.eval()
    return model, spec
