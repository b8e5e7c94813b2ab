# cython: language_level=3
"""tinynn.kernels: the compiled kernel core. Plain arrays in, plain arrays out.

Each Python-facing function validates dtypes, shapes and strides, then calls a
nogil C-level loop with bounds checks off (see setup.py for the debug switch).

The kernels live in one folder per family under `kernels/` (gemm, quant, elementwise,
softmax, optim), each a `.pxi` (Cython wrappers) included below with one line and `.h`
files (C with SIMD).  What they share is in `kernels/common/`: run-time configuration
(SIMD level and dispatch, OpenMP threads: simd.h), the parallel loop (parallel.h) and the
math (exp.h, activations.h).  Every C symbol and macro starts with tn_ / TN_.
"""
import numpy as np
cimport numpy as cnp
from cpython.object cimport PyObject, PyTypeObject
from cpython.ref cimport Py_INCREF

cnp.import_array()

ctypedef fused floating:
    float
    double

cdef extern from "common/simd.h":
    ctypedef Py_ssize_t tn_idx
    int tn_simd_level
    int tn_simd_best
    int tn_num_threads
    int tn_forked
    int TN_SIMD_PORTABLE
    int TN_SIMD_AVX2
    int TN_SIMD_AVX512
    void tn_simd_init() nogil
    int tn_openmp_enabled() nogil

cdef extern from *:
    """
    #ifndef TN_DEBUG
    #define TN_DEBUG 0
    #endif
    """
    int TN_DEBUG

tn_simd_init()

_FLOAT_TYPES = (np.dtype(np.float32), np.dtype(np.float64))
_SIMD_NAMES = {TN_SIMD_PORTABLE: "portable", TN_SIMD_AVX2: "avx2", TN_SIMD_AVX512: "avx512"}
_SIMD_LEVELS = {name: level for level, name in _SIMD_NAMES.items()}
_SIMD_LEVELS["avx2+fma"] = TN_SIMD_AVX2   # the AVX2 path's former name


def _float_array(name, x):
    """Check that x is a float32/float64 ndarray; return it C-contiguous (no copy if it already is)."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name}: expected a numpy.ndarray, got {type(x).__name__}")
    if x.dtype not in _FLOAT_TYPES:
        raise TypeError(f"{name}: expected float32 or float64, got {x.dtype}")
    return np.require(x, requirements="C")


cdef inline int _native_float_type(object x):
    """Type number of x if it is a float32/float64 ndarray (not a subclass) in native byte
    order, else -1."""
    if not cnp.PyArray_CheckExact(x) or not cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray>x):
        return -1
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>x)
    return t if t == cnp.NPY_FLOAT32 or t == cnp.NPY_FLOAT64 else -1


def same_float(a, b=None, c=None):
    """True when a, and b and c unless they are None, are ndarrays (not subclasses) of one
    dtype, float32 or float64 (native byte order): what the float kernels take.  A backend asks this (one cheap
    C-level check) to choose between a kernel and the NumPy reference."""
    cdef int t = _native_float_type(a)
    if t < 0:
        return False
    if b is not None and _native_float_type(b) != t:
        return False
    return c is None or _native_float_type(c) == t


def same_float_shape(a, b):
    """same_float(a, b) and a.shape == b.shape."""
    cdef int t = _native_float_type(a)
    return (t >= 0 and _native_float_type(b) == t
            and cnp.PyArray_SAMESHAPE(<cnp.ndarray>a, <cnp.ndarray>b))


def same_layout(a, b):
    """True when a and b are ndarrays with a.shape == b.shape and a.dtype == b.dtype: one C-level
    check (anything that is not an ndarray, a NumPy scalar included, gives False)."""
    return bool(cnp.PyArray_Check(a) and cnp.PyArray_Check(b)
                and cnp.PyArray_SAMESHAPE(<cnp.ndarray>a, <cnp.ndarray>b)
                and cnp.PyArray_EquivArrTypes(<cnp.ndarray>a, <cnp.ndarray>b))


cdef extern from "numpy/arrayobject.h":
    # (numpy's .pxd leaves it out) steals a reference to descr
    object _new_array_view "PyArray_NewFromDescr" (PyTypeObject *subtype, cnp.PyArray_Descr *descr, int nd,
                                                   cnp.npy_intp *dims, cnp.npy_intp *strides, void *data,
                                                   int flags, PyObject *obj)


def broadcast_to(x, shape):
    """np.broadcast_to(x, shape): a read-only view of the ndarray x in `shape` (a tuple of ints),
    stride 0 along the axes it adds or stretches from 1, made by one C call instead of NumPy's
    nditer (~0.5 us against ~10 us here).  Anything else (a subclass, a list, a shape that does
    not fit) goes to np.broadcast_to, so the result or the error is NumPy's own."""
    if not cnp.PyArray_CheckExact(x) or type(shape) is not tuple:
        return np.broadcast_to(x, shape)
    cdef cnp.ndarray a = <cnp.ndarray>x
    cdef Py_ssize_t nd = len(shape)
    cdef Py_ssize_t lead = nd - cnp.PyArray_NDIM(a), i
    cdef cnp.npy_intp dims[32]
    cdef cnp.npy_intp strides[32]
    if lead < 0 or nd > 32:
        return np.broadcast_to(x, shape)
    for i in range(nd):
        size = shape[i]
        if type(size) is not int or size < 0:
            return np.broadcast_to(x, shape)
        dims[i] = size
        if i < lead or cnp.PyArray_DIM(a, i - lead) == 1:
            strides[i] = 0  # (NumPy's nditer gives every length-1 axis stride 0 too)
        elif cnp.PyArray_DIM(a, i - lead) == dims[i]:
            strides[i] = cnp.PyArray_STRIDE(a, i - lead)
        else:
            return np.broadcast_to(x, shape)
    cdef cnp.PyArray_Descr *descr = cnp.PyArray_DESCR(a)
    Py_INCREF(<object>descr)
    view = _new_array_view(<PyTypeObject *>np.ndarray, descr, <int>nd, dims, strides, cnp.PyArray_DATA(a), 0, NULL)
    cnp.set_array_base(<cnp.ndarray>view, x)
    return view


def _family_paths():
    """{kernel family: the code path it takes at the current SIMD level}.  GEMM, elementwise,
    softmax and optimizer loops have a body per level; int8 names the path the quantized Linear
    takes (common/cpu_int8.h: VNNI or AMX where the CPU has them, capped by a forced lower level)."""
    level = _SIMD_NAMES[tn_simd_level]
    paths = {family: level for family in ("gemm", "elementwise", "softmax", "optim")}
    paths["int8"] = int8_path()
    return paths


def simd_paths():
    """Every SIMD path this CPU (and OS, and build) can run, slowest first, e.g.
    ["portable", "avx2", "avx512"]: what set_simd accepts here."""
    return [_SIMD_NAMES[level] for level in sorted(_SIMD_NAMES) if level <= tn_simd_best]


def info():
    """What the kernels run with: {"simd": the SIMD path used now ("avx512" | "avx2" |
    "portable"), "simd_available": the best path this CPU and OS support, "paths": {kernel
    family (gemm, elementwise, softmax, optim, int8): the path it takes now}, "openmp": built
    with OpenMP (bool), "threads": threads the OpenMP kernels use, "debug": True for a
    TINYNN_DEBUG_KERNELS=1 build}."""
    return {
        "simd": _SIMD_NAMES[tn_simd_level],
        "simd_available": _SIMD_NAMES[tn_simd_best],
        "paths": _family_paths(),
        "openmp": bool(tn_openmp_enabled()),
        "threads": tn_num_threads,
        "debug": bool(TN_DEBUG),
    }


def set_simd(level="auto"):
    """Choose the SIMD path: "auto" (the best the CPU supports), "portable" (plain C), "avx2"
    (AVX2+FMA; "avx2+fma" is accepted too) or "avx512" (AVX-512 F/BW/DQ/VL), the last two
    only where the CPU and OS support them.  Returns the previous level's name.  Tests use it
    to run every path (simd_paths())."""
    global tn_simd_level
    previous = _SIMD_NAMES[tn_simd_level]
    if level == "auto":
        tn_simd_level = tn_simd_best
    elif level in _SIMD_LEVELS:
        if tn_simd_best < _SIMD_LEVELS[level]:
            raise ValueError(f"set_simd: this CPU (or OS, or build) cannot run {level!r}; it can run {simd_paths()}")
        tn_simd_level = _SIMD_LEVELS[level]
    else:
        raise ValueError(f"set_simd: level must be 'auto' or one of {sorted(_SIMD_LEVELS)}, got {level!r}")
    return previous


def get_simd():
    """Name of the SIMD path the kernels take now ("avx512" | "avx2" | "portable")."""
    return _SIMD_NAMES[tn_simd_level]


# Calls with less work than this (elements, or multiply-adds of a product) keep the GIL: releasing
# and re-taking it costs more than a microsecond's worth of arithmetic is worth to other threads.
cdef long long _nogil_min = 1 << 14


def _set_nogil_min(long long work):
    """Keep the GIL in elementwise, optimizer and GEMM calls of less than `work` elements or
    multiply-adds (default 2^14); returns the previous limit.  For tests: a huge limit makes
    a long kernel call hold the GIL, the control that the GIL-release test must tell apart."""
    global _nogil_min
    previous = _nogil_min
    _nogil_min = work
    return previous


def set_num_threads(int n):
    """Use n >= 1 threads in the kernels' OpenMP loops (tinynn.set_num_threads calls this).
    In a process forked from the one that loaded the kernels they use one thread whatever n
    is: the OpenMP thread pool does not survive fork (see common/simd.h)."""
    global tn_num_threads
    if n < 1:
        raise ValueError(f"set_num_threads: need n >= 1, got {n}")
    tn_num_threads = 1 if tn_forked else n


def get_num_threads():
    """Threads the kernels' OpenMP loops use."""
    return tn_num_threads


include "elementwise/elementwise.pxi"
include "softmax/softmax.pxi"
include "optim/optim.pxi"
include "quant/quant.pxi"
include "gemm/gemm.pxi"
include "rnn/rnn.pxi"
include "attention/attention.pxi"
include "conv/conv.pxi"
include "conv/pool.pxi"
include "conv/batchnorm.pxi"
include "quant/qconv.pxi"
