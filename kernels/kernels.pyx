# cython: language_level=3
"""tinynn.kernels: the compiled kernel core. Plain arrays in, plain arrays out.

Each Python-facing function validates dtypes, shapes and strides, then calls a
nogil C-level loop with bounds checks off (see setup.py for the debug switch).
"""
import numpy as np
cimport numpy as cnp
from libc.math cimport exp, tanh as c_tanh

cnp.import_array()

ctypedef fused floating:
    float
    double

_FLOAT_TYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _float_array(name, x):
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name}: expected a numpy.ndarray, got {type(x).__name__}")
    if x.dtype not in _FLOAT_TYPES:
        raise TypeError(f"{name}: expected float32 or float64, got {x.dtype}")
    return np.ascontiguousarray(x)


def info():
    """What the kernels were built with: SIMD level, OpenMP, threads."""
    return {"simd": "none", "openmp": False, "threads": 1}


cdef void _relu(floating[::1] x, floating[::1] y) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(x.shape[0]):
        y[i] = x[i] if x[i] > 0 else 0


def relu(x):
    """y = max(x, 0)."""
    x = _float_array("relu", x)
    y = np.empty_like(x)
    if x.dtype == np.float32:
        _relu[float](x.reshape(-1), y.reshape(-1))
    else:
        _relu[double](x.reshape(-1), y.reshape(-1))
    return y


def matmul(a, b):
    """C = A B for 2-D float arrays (naive)."""
    a = _float_array("matmul", a)
    b = _float_array("matmul", b)
    return a @ b
