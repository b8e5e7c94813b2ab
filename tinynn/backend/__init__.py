"""Backend selection: which implementation of the kernel functions the ops call.

Two backends expose the same function names with the same signatures:
`numpy` (`numpy_ref.py`, the readable specification) and `cython` (`cython.py`, the
compiled kernels in `tinynn.kernels`). `cython` is the default whenever the extension
is built; the environment variable TINYNN_BACKEND overrides the default.
"""
import contextlib
import importlib
import os

from . import numpy_ref

ACTIVATIONS = ("none", "relu", "sigmoid", "tanh")
NAMES = ("cython", "numpy")
_modules = {"numpy": numpy_ref}
active = numpy_ref  # the module of the active backend: ops call `backend.active.<kernel>(...)`
_current_name = "numpy"


def _load(name):
    if name not in NAMES:
        raise ValueError(f"set_backend: unknown backend {name!r}; choose one of {NAMES}")
    if name not in _modules:
        try:
            _modules[name] = importlib.import_module("tinynn.backend.cython")
        except ImportError as exc:
            raise RuntimeError(
                "set_backend('cython'): the compiled extension tinynn.kernels is not built "
                f"({exc}); reinstall with `pip install .` and a C compiler"
            ) from None
    return _modules[name]


def current():
    """The module of the active backend (also `backend.active`); ops look their kernel functions up on it."""
    return active


def set_backend(name):
    """Make `name` ("cython" or "numpy") the backend every op uses from now on."""
    global active, _current_name
    active = _load(name)
    _current_name = name


def get_backend():
    """Name of the active backend."""
    return _current_name


@contextlib.contextmanager
def use_backend(name):
    """`with tn.use_backend("numpy"): ...` runs the block on another backend, then restores."""
    previous = _current_name
    set_backend(name)
    try:
        yield
    finally:
        set_backend(previous)


def available():
    """Names of the backends that can be used on this installation."""
    names = ["numpy"]
    try:
        _load("cython")
        names.insert(0, "cython")
    except RuntimeError:
        pass
    return names


def _select_default():
    wanted = os.environ.get("TINYNN_BACKEND", "").strip().lower()
    if wanted:
        set_backend(wanted)
        return
    try:
        set_backend("cython")
    except RuntimeError:
        set_backend("numpy")


_select_default()
