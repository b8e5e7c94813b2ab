"""torch.nn.utils: gradient clipping and flattening parameters into one vector (and back); the submodules
rnn, parametrize, parametrizations and stateless, and the hook-based weight_norm and spectral_norm."""
import math
import sys

import numpy as np

from ..ops.methods import concatenate
from ..tensor import Tensor
from ..utils.grads import array_of, grad_array


def _tensors(parameters):
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _writable_grad(p):
    """p.grad's memory as a writeable ndarray (a read-only gradient is first replaced by a copy)."""
    g = grad_array(p)
    if not g.flags.writeable:
        copy = np.array(g)
        p.grad = Tensor(copy) if isinstance(p.grad, Tensor) else copy
        g = grad_array(p)
    return g


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale every gradient by min(1, max_norm / (N + 1e-6)), in place, where N is the norm of all the
    gradients taken together: N = (sum_i |g_i|^p)^(1/p) over every element of every gradient (norm_type p;
    p = inf: N = max_i |g_i|). Returns N as a 0-d Tensor (0 when no parameter has a gradient).

    With error_if_nonfinite=True a NaN or infinite N raises RuntimeError instead of scaling."""
    p_norm = float(norm_type)
    params = [p for p in _tensors(parameters) if p.grad is not None]
    if not params:
        return Tensor(np.array(0.0, dtype=np.float32))
    grads = [grad_array(p) for p in params]
    dtype = np.result_type(*grads)
    if p_norm == math.inf:
        norms = [np.abs(g).max(initial=0.0) for g in grads]
        total = max(norms)
    else:
        norms = [np.linalg.norm(g.ravel().astype(np.float64, copy=False), p_norm) for g in grads]
        total = np.linalg.norm(np.array(norms), p_norm)
    total = float(total)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is non-finite "
                           f"({total}), so it cannot be clipped; pass error_if_nonfinite=False to scale by it anyway")
    coef = min(max_norm / (total + 1e-6), 1.0)
    if coef < 1.0 or not math.isfinite(total):
        for p in params:
            _writable_grad(p)[...] *= coef
    return Tensor(np.array(total, dtype=dtype))


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    c = float(clip_value)
    for p in _tensors(parameters):
        if p.grad is not None:
            g = _writable_grad(p)
            np.clip(g, -c, c, out=g)


def parameters_to_vector(parameters):
    """One 1-D Tensor: the parameters flattened (row-major) and concatenated, differentiably."""
    flat = [p.reshape(-1) for p in _tensors(parameters)]
    if not flat:
        raise ValueError("parameters_to_vector: got no parameters")
    return concatenate(flat)


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D Tensor `vec` into the parameters (reshaped, cast to their dtypes).

    Copies, where PyTorch makes each parameter a view of `vec`: the values are the same, and changing
    `vec` afterwards leaves the model alone."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor, got {type(vec).__name__}")
    values = array_of(vec)
    params = _tensors(parameters)
    total = sum(p.numel() for p in params)
    if values.ndim != 1 or values.size != total:
        raise ValueError(f"vector_to_parameters: vec has shape {values.shape}; the parameters need a 1-D "
                         f"vector of {total} elements")
    start = 0
    for p in params:
        n = p.numel()
        np.copyto(array_of(p), values[start:start + n].reshape(p.shape), casting="unsafe")
        start += n


# torch.nn.utils.rnn lives in rnn_utils.py; registered as a submodule so that both
# `tinynn.nn.utils.rnn.pad_sequence` and `from tinynn.nn.utils.rnn import pad_sequence` work.
from . import rnn_utils as rnn  # noqa: E402
sys.modules[__name__ + ".rnn"] = rnn
# The same for parametrize, parametrizations and stateless (parametrize.py, parametrizations.py,
# stateless.py); as in PyTorch, nn.utils.weight_norm and nn.utils.spectral_norm are the functions, their
# modules still importable as tinynn.nn.utils.weight_norm / .spectral_norm.
from . import parametrize, parametrizations, stateless  # noqa: E402
from . import weight_norm as _weight_norm_module, spectral_norm as _spectral_norm_module  # noqa: E402
from .weight_norm import weight_norm, remove_weight_norm  # noqa: E402
from .spectral_norm import spectral_norm, remove_spectral_norm  # noqa: E402
for _module in (parametrize, parametrizations, stateless, _weight_norm_module, _spectral_norm_module):
    sys.modules[__name__ + "." + _module.__name__.rpartition(".")[2]] = _module
