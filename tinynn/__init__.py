"""tinynn: a small, readable deep-learning framework on NumPy with a compiled kernel core.

    import tinynn as tn
    x = tn.tensor([[1.0, 2.0]], requires_grad=True)
    (x * x).sum().backward()        # x.grad == 2 x
"""
from .autograd import no_grad, enable_grad, is_grad_enabled, detect_anomaly, inference_mode, set_grad_enabled
from .dtypes import (
    float16, float32, float64, int8, int16, int32, int64, uint8, bool_, get_default_dtype, set_default_dtype,
    promote_types, result_type,
)
from .tensor import Tensor, Size, device
from .creation import (
    tensor, as_tensor, from_numpy, zeros, ones, empty, full, eye, arange, linspace, logspace, rand, randn,
    randint, randperm, zeros_like, ones_like, empty_like, full_like, rand_like, randn_like, randint_like,
)
from .ops import concatenate, cat, stack, where  # also gives Tensor its math methods (ops/methods.py)
from .ops.torch_names import FUNCTIONS as _TORCH_FUNCTIONS
from .random import (
    Generator, default_generator, manual_seed, seed, initial_seed, get_rng_state, set_rng_state,
)
from .gradcheck import gradcheck, gradgradcheck, GradcheckError
from .backend import set_backend, get_backend, use_backend
from .threads import set_num_threads, get_num_threads

__version__ = "0.1.0"
bool = bool_  # noqa: A001 - PyTorch's dtype names and aliases: tn.float, tn.long, ...
float, double, half, long, int = float32, float64, float16, int64, int32  # noqa: A001
globals().update({name: fn for name, fn in _TORCH_FUNCTIONS.items() if name not in globals()})  # tn.sin(x), ...


_SUBMODULES = {"nn": "nn", "optim": "optim", "data": "data", "datasets": "datasets",
               "distributed": "distributed", "kernels": "kernels", "testing": "testing",
               "prune": "compress.prune", "quantize": "compress.quantize", "distill": "compress.distill",
               "compress": "compress", "io": "io", "serialization": "io.serialization", "utils": "utils",
               "explain": "explain", "linalg": "linalg"}
_SUBMODULES.update(tune="tune", onnx="onnx", models="models")  # the [tune] and [onnx] extras and tn.models: imported only on use


# torch.<name> that is torch.nn.functional.<name> with the same positional arguments (torch.embedding,
# batch_norm, dropout, ... are not: their arguments differ, so they stay missing rather than wrong)
_FUNCTIONAL = frozenset(("selu", "selu_", "celu", "celu_", "prelu", "threshold", "threshold_", "hardshrink", "relu_",
                         "cosine_similarity", "pairwise_distance", "pixel_shuffle", "pixel_unshuffle", "bilinear",
                         "conv1d", "conv2d", "conv_transpose2d", "max_pool1d", "max_pool2d", "avg_pool1d",
                         "adaptive_avg_pool1d", "group_norm"))


def __getattr__(name):
    # Submodules load on first use so that `import tinynn` stays cheap.
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f"tinynn.{_SUBMODULES[name]}")
    if name in _FUNCTIONAL:
        return getattr(importlib.import_module("tinynn.nn.functional"), name)
    if name in ("save", "load"):
        return getattr(importlib.import_module("tinynn.io.serialization"), name)
    raise AttributeError(f"module 'tinynn' has no attribute {name!r}: tinynn does not have torch.{name} "
                         "(docs/10-pytorch-compatibility.md lists what it has)")
