"""Self-describing model files: ONE .npz holding the weights and a JSON description of the network.

    from tinynn.io.modelfile import mlp, save_model, load_model
    model = mlp([64, 128, 64, 10])              # Linear-ReLU-Linear-ReLU-Linear
    save_model(model, "model.npz", spec={"sizes": [64, 128, 64, 10], "activation": "relu"})
    model, spec = load_model("model.npz")      # rebuilt from the file alone

The file is written with `tn.save` (an .npz, never pickle) and holds two entries:
  "tinynn_model"  a JSON string: {"format": "tinynn.model", "version": 1, "arch": "mlp",
                  "sizes": [n_0, ..., n_L], "activation": "relu", "quantized": null | {...}, ...}
  "state"         the model's state_dict (name -> ndarray).
Extra keys of the description (training settings, test accuracy, pruning amount) are kept as
they are, for people reading the file. A quantized model is rebuilt by quantizing a freshly
built float model of the same shape and then loading the saved int8 state into it.
"""
import json

import numpy as np

from .. import backend

FORMAT = "tinynn.model"
VERSION = 1
ARCHS = ("mlp", "lstm")  # lstm: tinynn.models.LSTMClassifier(**spec["lstm"]), spec["sizes"] = [features, classes]
ACTIVATIONS = tuple(a for a in backend.ACTIVATIONS if a != "none")  # a spec names its hidden layers' activation


class ModelFileError(ValueError):
    """A model file that cannot be read or does not describe a model tinynn can rebuild."""


def mlp(sizes, activation="relu", bias=None):
    """A multilayer perceptron n_0 -> n_1 -> ... -> n_L:
    x -> Linear(n_0, n_1) -> act -> ... -> Linear(n_{L-1}, n_L) (no activation after the last layer).
    `bias`: one bool per Linear (default: all True)."""
    from .. import nn

    acts = {cls.activation: cls for cls in (nn.ReLU, nn.Sigmoid, nn.Tanh)}
    if activation not in ACTIVATIONS:
        raise ValueError(f"mlp: unknown activation {activation!r}; choose one of {ACTIVATIONS}")
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or any(s < 1 for s in sizes):
        raise ValueError(f"mlp: need at least two positive layer sizes, got {sizes}")
    bias = [True] * (len(sizes) - 1) if bias is None else [bool(b) for b in bias]
    if len(bias) != len(sizes) - 1:
        raise ValueError(f"mlp: {len(sizes) - 1} layers but {len(bias)} bias flags")
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out, bias=bias[i]))
        if i < len(sizes) - 2:
            layers.append(acts[activation]())
    return nn.Sequential(*layers)


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
    spec.setdefault("activation", "relu")
    spec.setdefault("quantized", None)
    if not spec.get("quantized"):
        flags = linear_bias(model)
        if not all(flags):
            spec["bias"] = flags
    spec["format"], spec["version"] = FORMAT, VERSION
    state = {k: np.ascontiguousarray(v) for k, v in model.state_dict().items()}
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
    sizes = spec.get("sizes")
    if (spec.get("arch") not in ARCHS or spec.get("arch") == "lstm" and not isinstance(spec.get("lstm"), dict) or not isinstance(sizes, list) or len(sizes) < 2
            or not all(isinstance(s, int) and s > 0 for s in sizes) or spec.get("activation") not in ACTIVATIONS):
        raise ModelFileError(f"{path}: cannot rebuild arch={spec.get('arch')!r} sizes={sizes!r} "
                             f"activation={spec.get('activation')!r}")
    return spec, blob["state"]


def build(spec):
    """An untrained model with the architecture `spec` describes (quantized if it says so)."""
    if spec.get("arch") == "lstm":
        from ..models import LSTMClassifier

        model = LSTMClassifier(**spec["lstm"])
    else:
        model = mlp(spec["sizes"], spec.get("activation", "relu"), spec.get("bias"))
    q = spec.get("quantized")
    if q:
        from ..compress import quantize

        if q.get("method", "dynamic") == "static":
            calib = [np.zeros((1, spec["sizes"][0]), dtype=np.float32)]
            from ..creation import tensor

            model = quantize.quantize_static(model, [tensor(c) for c in calib], observer=q.get("observer", "minmax"))
        else:
            model = quantize.quantize_dynamic(model)
    return model


def load_model(path):
    """(model, spec) rebuilt from a file written by save_model, in eval mode."""
    spec, state = read_spec(path)
    model = build(spec)
    try:
        model.load_state_dict(state)
    except (ValueError, TypeError) as exc:
        raise ModelFileError(f"{path}: weights do not fit the described model: {exc}") from None
    model.eval()
    return model, spec
