"""tinynn: a small, readable deep-learning framework on NumPy with a compiled kernel core.

    import tinynn as tn
    x = tn.tensor([[1.0, 2.0]], requires_grad=True)
    (x * x).sum().backward()        # x.grad == 2 x
"""
import warnings as _warnings

# PyTorch makes inf and NaN silently; NumPy warns ("invalid value encountered in divide") from inside
# tinynn's ops. Those floating-point RuntimeWarnings are ignored when raised in tinynn's own modules; no
# other warning, module or NumPy setting is touched.
_warnings.filterwarnings("ignore", r"(invalid value|divide by zero|overflow|underflow) encountered",
                         RuntimeWarning, r"tinynn(\.|$)")

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
from .sampling import normal, bernoulli, multinomial, poisson  # also Tensor.bernoulli_, .random_, ... (sampling.py)
from .gradcheck import gradcheck, gradgradcheck, GradcheckError
from .backend import set_backend, get_backend, use_backend
from .threads import set_num_threads, get_num_threads
from .printing import set_printoptions
from .creation_more import (  # (tn.range: in __getattr__, so that `range` in this module stays Python's)
    hann_window, hamming_window, blackman_window, bartlett_window, kaiser_window, scalar_tensor,
)

__version__ = "0.1.0"
bool = bool_  # noqa: A001 - PyTorch's dtype names and aliases: tn.float, tn.long, ...
float, double, half, long, int = float32, float64, float16, int64, int32  # noqa: A001
globals().update({name: fn for name, fn in _TORCH_FUNCTIONS.items() if name not in globals()})  # tn.sin(x), ...
from .linalg import torch_names as _linalg_names  # noqa: E402
from .special import torch_names as _special_names  # noqa: E402
from . import tensor_extras as _tensor_extras, math_extras as _math_extras  # noqa: E402
# PyTorch's names outside ops/: torch.slogdet and x.cholesky() (linalg), tn.lgamma and x.erfinv_() (special),
# tn.unbind and x.unfold() (tensor_extras), tn.addcmul and x.gcd() (math_extras)
for _names in (_linalg_names, _special_names, _tensor_extras, _math_extras):
    globals().update(_names.FUNCTIONS)
    for _name, _method in _names.METHODS.items():
        setattr(Tensor, _name, _method)


_SUBMODULES = {"nn": "nn", "optim": "optim", "data": "data", "datasets": "datasets",
               "distributed": "distributed", "kernels": "kernels", "testing": "testing",
               "prune": "compress.prune", "quantize": "compress.quantize", "distill": "compress.distill",
               "compress": "compress", "io": "io", "serialization": "io.serialization", "utils": "utils",
               "explain": "explain", "linalg": "linalg", "distributions": "distributions", "special": "special",
               "func": "func"}  # (tinynn.func: torch.func's functional_call only)
_SUBMODULES.update(tune="tune", onnx="onnx", models="models")  # the [tune] and [onnx] extras and tn.models: imported only on use


# torch.<name> that is torch.nn.functional.<name> with the same positional arguments (torch.embedding,
# batch_norm, dropout, ... are not: their arguments differ, so they stay missing rather than wrong)
_FUNCTIONAL = frozenset(("selu", "selu_", "celu", "celu_", "prelu", "threshold", "threshold_", "hardshrink", "relu_",
                         "cosine_similarity", "pairwise_distance", "pixel_shuffle", "pixel_unshuffle", "bilinear",
                         "conv1d", "conv2d", "conv_transpose2d", "max_pool1d", "max_pool2d", "avg_pool1d",
                         "adaptive_avg_pool1d", "group_norm", "rrelu", "rrelu_", "channel_shuffle",
                         "native_channel_shuffle", "conv_transpose1d", "conv3d", "conv_transpose3d", "max_pool3d"))


def __getattr__(name):
    # Submodules load on first use so that `import tinynn` stays cheap.
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f"tinynn.{_SUBMODULES[name]}")
    if name in _FUNCTIONAL:
        return getattr(importlib.import_module("tinynn.nn.functional"), name)
    if name in ("save", "load"):
        return getattr(importlib.import_module("tinynn.io.serialization"), name)
    if name == "range":  # torch.range (deprecated there too): not a global here, where it would hide Python's
        return importlib.import_module("tinynn.creation_more").range
    raise AttributeError(f"module 'tinynn' has no attribute {name!r}: tinynn does not have torch.{name} "
                         "(docs/10-pytorch-compatibility.md lists what it has)")
