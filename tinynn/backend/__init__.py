"""Backend selection: which implementation of the kernel functions the ops call.

Two backends expose the same function names with the same signatures:
`numpy` (`numpy_ref.py`, the readable specification) and `cython` (`cython.py`, the
compiled kernels in `tinynn.kernels`). `cython` is the default whenever the extension
is built; the environment variable TINYNN_BACKEND overrides the default.
"""
import contextlib
import importlib
import os
import warnings

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
            raise RuntimeError(f"set_backend('cython'): tinynn.kernels is not built ({exc}); "
                               f"{_build_advice()[0]}") from None
    return _modules[name]


def _build_advice():
    """(How to build the kernels, whether tinynn/ lies in a source checkout): in a checkout, in place
    (there `pip install .` does not help: Python imports the checkout's unbuilt tinynn/ first)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if os.path.exists(os.path.join(root, "setup.py")) and os.path.isdir(os.path.join(root, "kernels")):
        return f'in the checkout {root}: `pip install -e ".[test]"` or `python setup.py build_ext --inplace`', True
    return "reinstall with `pip install .` and a C compiler", False


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
        advice, in_checkout = _build_advice()
        if in_checkout:
            warnings.warn(f"tinynn.kernels is not built: running on the slow NumPy backend; {advice}")


_select_default()
