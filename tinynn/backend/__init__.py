"""Backends: the one list of kernel names, and which implementation of them the ops call.

Two backends define exactly the names in `KERNELS`, with the same signatures
(tests/unit/test_backend_table.py checks it): "numpy" (`reference.py`, the readable
specification) and "cython" (`compiled.py`, the compiled kernels in `tinynn.kernels`, or the
reference's own function where there is no kernel). An op calls `backend.active.<name>(...)`.
"cython" is the default whenever the extension is built; the environment variable
TINYNN_BACKEND overrides the default.
"""
import contextlib
import os
import warnings

ACTIVATIONS = ("none", "relu", "sigmoid", "tanh")  # what a fused Linear (and the GEMM epilogue) can apply

KERNELS = (  # by family: elementwise, activations, reductions, softmax and losses, GEMM, optimizers, int8
    "add", "subtract", "multiply", "divide", "negative", "power", "exp", "log", "sqrt", "absolute", "sign", "clip",
    "where", "same_layout",
    "sin", "cos", "tan", "sinh", "cosh", "arcsin", "arccos", "arctan", "exp2", "log2", "log1p", "expm1", "erf",
    "floor", "ceil", "round", "trunc", "maximum", "minimum", "remainder", "floor_divide", "prod", "cumsum", "cumprod",
    "fmod", "argsort",
    "relu", "relu_backward", "sigmoid", "sigmoid_backward", "tanh", "tanh_backward", "activation",
    "sum", "mean", "amax", "amin", "broadcast_to",
    "softmax", "softmax_backward", "log_softmax", "log_softmax_backward", "cross_entropy", "cross_entropy_backward",
    "binary_cross_entropy", "binary_cross_entropy_backward",
    "binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits_backward",
    "matmul", "linear", "linear_backward",
    "sgd_step", "adam_step", "sgd_step_multi", "adam_step_multi",
    "int8_matmul", "minmax", "quantize_rows", "requantize", "int8_linear", "fake_quantize",
    "pack_int8_weight", "quantized_linear", "fma_f32",
    "leaky_relu", "leaky_relu_backward", "silu", "silu_backward", "elu", "elu_backward",
    "softplus", "softplus_backward", "hardtanh", "hardtanh_backward",
    "lstm_cell", "lstm_cell_backward", "gru_cell", "gru_cell_backward",
)
KERNELS += (  # sequence models (reference_attention.py): GELU, LayerNorm, embedding, attention
    "gelu", "gelu_backward", "layer_norm", "layer_norm_backward", "embedding", "embedding_backward",
    "scaled_softmax", "scaled_softmax_backward", "attention", "attention_backward",
    "conv2d", "conv2d_backward_input", "conv2d_backward_weight", "max_pool2d", "max_pool2d_backward",
    "avg_pool2d", "avg_pool2d_backward", "adaptive_avg_pool2d", "adaptive_avg_pool2d_backward",
    "batch_norm", "batch_norm_backward", "batch_norm_eval", "pad", "pad_backward",
)
KERNELS += ("quantized_conv2d",)  # the int8 convolution (reference_qconv.py)
KERNELS += ("einsum", "det", "inv", "solve")  # einsum and dense linear algebra (reference_linalg.py)
KERNELS += ("svd", "eigh", "qr", "cholesky", "inv_ex", "solve_triangular", "slogdet", "pinv", "matrix_exp")  # decompositions (reference_linalg.py)
KERNELS += ("searchsorted", "unique", "bincount", "cummax_index", "logcumsumexp")  # reference_search.py
KERNELS += ("im2col", "col2im")  # F.unfold and F.fold (reference_fold.py)
KERNELS += ("vol2col", "col2vol")  # 3-D convolutions and pools (reference_conv3d.py)
KERNELS += ("scatter_reduce", "unique_consecutive")  # reference_scatter.py
KERNELS += ("lgamma", "digamma", "polygamma", "erfc", "erfinv", "ndtr", "ndtri", "log_ndtr",  # reference_special.py
            "i0", "i0e", "i1", "i1e", "sinc", "entr", "logit", "xlogy", "xlog1py", "hypot",  # _bessel, _pointwise
            "logaddexp", "logaddexp2", "copysign", "nextafter", "heaviside")
KERNELS += ("arccosh", "arcsinh", "arctanh", "arctan2", "fmax", "fmin", "gcd", "lcm", "frexp",  # reference_math.py
            "left_shift", "right_shift", "histogram", "isin")

NAMES = ("cython", "numpy")
_modules = {}
active = None  # the module of the active backend (set below): ops call `backend.active.<kernel>(...)`
_active_name = None


def _load(name):
    if name not in NAMES:
        raise ValueError(f"set_backend: unknown backend {name!r}; choose one of {NAMES}")
    if name not in _modules:
        if name == "numpy":
            from . import reference as module
        else:
            try:
                from . import compiled as module
            except ImportError as exc:
                raise RuntimeError(f"set_backend('cython'): tinynn.kernels is not built ({exc}); "
                                   f"{_build_advice()[0]}") from None
        _modules[name] = module
    return _modules[name]


def _build_advice():
    """(How to build the kernels, whether tinynn/ lies in a source checkout): in a checkout, in place
    (there `pip install .` does not help: Python imports the checkout's unbuilt tinynn/ first)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if os.path.exists(os.path.join(root, "setup.py")) and os.path.isdir(os.path.join(root, "kernels")):
        return f'in the checkout {root}: `pip install -e ".[test]"` or `python setup.py build_ext --inplace`', True
    return "reinstall with `pip install .` and a C compiler", False


def set_backend(name):
    """Make `name` ("cython" or "numpy") the backend every op uses from now on."""
    global active, _active_name
    active = _load(name)
    _active_name = name


def get_backend():
    """Name of the active backend."""
    return _active_name


@contextlib.contextmanager
def use_backend(name):
    """`with tn.use_backend("numpy"): ...` runs the block on another backend, then restores."""
    previous = _active_name
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
