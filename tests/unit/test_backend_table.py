"""The backend table: both backends define exactly the names of `tinynn.backend.KERNELS`, with the
same signatures, and for every name this file says whether the compiled backend has its own
implementation. Backend agreement tests (tinynn.testing.assert_backends_match) run only where it
does; a name without one runs the same function on both backends and is checked once, directly,
by the test named beside it."""
import ast
import inspect
import pathlib
import types

import numpy as np
import pytest

import tinynn as tn
from tinynn import backend
from tinynn.backend import reference
from tinynn.testing import own_kernels

needs_cython = pytest.mark.skipif("cython" not in backend.available(), reason="compiled kernels not built")

# name -> True: a compiled implementation of its own; else the test that checks the shared function
TABLE = {
    "add": True, "subtract": True, "multiply": True, "same_layout": True,
    "divide": "test_ops.py div, rdiv_scalar", "negative": "test_ops.py neg", "power": "test_ops.py pow, pow_scalar",
    "exp": "test_ops.py exp", "log": "test_ops.py log", "sqrt": "test_ops.py sqrt", "absolute": "test_ops.py abs",
    "sign": "test_ops.py abs (its backward)", "clip": "test_ops.py clip", "where": "test_ops.py where, clip",
    "relu": True, "relu_backward": True, "sigmoid": True, "sigmoid_backward": True, "tanh": True,
    "tanh_backward": True, "activation": True,
    "sum": "test_ops.py sum, sum_axis", "mean": "test_ops.py mean, mean_dim", "broadcast_to": True,
    "amax": "test_ops.py max, max_axis", "amin": "test_ops.py min_axis",
    "softmax": True, "softmax_backward": True, "log_softmax": True, "log_softmax_backward": True,
    "cross_entropy": True, "cross_entropy_backward": True,
    "binary_cross_entropy": "test_losses.py bce", "binary_cross_entropy_backward": "test_losses.py bce",
    "binary_cross_entropy_with_logits": "test_losses.py bce_with_logits",
    "binary_cross_entropy_with_logits_backward": "test_losses.py bce_with_logits",
    "matmul": True, "linear": True, "linear_backward": True,
    "sgd_step": True, "adam_step": True, "sgd_step_multi": True, "adam_step_multi": True,
    "int8_matmul": True, "minmax": True, "quantize_rows": True, "requantize": True, "int8_linear": True,
    "fake_quantize": "test_quantize.py (fake quantization, QAT)",
    "pack_int8_weight": True, "quantized_linear": True,
    "quantized_conv2d": True,
    "fma_f32": "test_quantize_ties.py (exact rationals, ties)",
    "lstm_cell": True, "lstm_cell_backward": True, "gru_cell": True, "gru_cell_backward": True,
    **{name: "test_ops_elementwise.py (closed forms, gradient checks)" for name in (
        "sin", "cos", "tan", "sinh", "cosh", "arcsin", "arccos", "arctan", "exp2", "log2", "log1p", "expm1", "erf",
        "floor", "ceil", "round", "trunc", "maximum", "minimum", "remainder", "floor_divide")},
    **{name: "test_ops_reductions.py (closed forms, gradient checks)" for name in ("prod", "cumsum", "cumprod")},
    "fmod": "test_ops_sorting_and_more.py fmod (closed forms, gradient checks)",
    "argsort": "test_ops_sorting_and_more.py sort, argsort, topk, median (hand-sorted values, ties, NaN)",
    **{name: "test_activations.py (closed forms, kinks, gradient checks)" for name in (
        "leaky_relu", "leaky_relu_backward", "silu", "silu_backward", "elu", "elu_backward",
        "softplus", "softplus_backward", "hardtanh", "hardtanh_backward")},
    "conv2d": True, "conv2d_backward_input": True, "conv2d_backward_weight": True,
    **{name: "test_conv.py (closed forms, gradient checks)" for name in ("pad", "pad_backward")},
    "max_pool2d": True, "max_pool2d_backward": True, "avg_pool2d": True, "avg_pool2d_backward": True,
    **{name: "test_pooling.py (PyTorch's loops, gradient checks)" for name in (
        "adaptive_avg_pool2d", "adaptive_avg_pool2d_backward")},
    "batch_norm": True, "batch_norm_backward": True, "batch_norm_eval": True,
}
TABLE.update({  # sequence models
    "gelu": True, "gelu_backward": True, "layer_norm": True, "layer_norm_backward": True,
    "embedding": "test_embedding.py", "embedding_backward": "test_embedding.py",
    "scaled_softmax": True, "scaled_softmax_backward": True, "attention": True, "attention_backward": True,
})
TABLE.update({name: "test_ops_einsum_linalg.py (closed forms, gradient checks)" for name in (
    "einsum", "det", "inv", "solve", "searchsorted", "unique", "bincount", "cummax_index", "logcumsumexp")})
TABLE.update({name: "test_linalg_decompositions.py, fuzz/test_properties_linalg.py (identities, gradient checks)"
              for name in ("svd", "eigh", "qr", "cholesky", "inv_ex", "solve_triangular", "slogdet", "pinv", "matrix_exp")})
TABLE.update({name: "test_fold.py (closed forms, adjoint identity, gradient checks)" for name in ("im2col", "col2im")})
TABLE.update({name: "test_conv3d.py, test_pool3d.py (loops, adjoint identity, gradient checks)"
              for name in ("vol2col", "col2vol")})
TABLE.update({name: "test_shape_index_more.py, fuzz/test_properties_shape_index_more.py (Python loops, gradient checks)"
              for name in ("scatter_reduce", "unique_consecutive")})
TABLE.update({name: "test_special.py, fuzz/test_properties_special.py (closed forms, identities, gradient checks)"
              for name in ("lgamma", "digamma", "polygamma", "erfc", "erfinv", "ndtr", "ndtri", "log_ndtr", "i0", "i0e",
                           "i1", "i1e", "sinc", "entr", "logit", "xlogy", "xlog1py", "hypot", "logaddexp",
                           "logaddexp2", "copysign", "nextafter", "heaviside")})
TABLE.update({name: "test_math_more.py, fuzz/test_properties_math_more.py (closed forms, identities, gradient checks)"
              for name in ("arccosh", "arcsinh", "arctanh", "arctan2", "fmax", "fmin", "gcd", "lcm", "frexp",
                           "left_shift", "right_shift", "histogram", "isin")})


def defined_names(module):
    """The names a backend module defines: its functions and aliases, not the modules it imports (nor
    the trampolines mutmut adds when scripts/mutation.py runs this test on a mutated copy)."""
    return {n for n, v in vars(module).items() if not n.startswith("_") and not isinstance(v, types.ModuleType)
            and "__mutmut" not in n and n != "MutantDict"}


def test_the_table_lists_every_kernel_name_once():
    assert len(set(backend.KERNELS)) == len(backend.KERNELS)
    assert set(TABLE) == set(backend.KERNELS)


def test_the_reference_defines_exactly_the_kernel_names_each_with_a_docstring():
    assert defined_names(reference) == set(backend.KERNELS)
    assert all(getattr(reference, name).__doc__ for name in backend.KERNELS)


@needs_cython
def test_the_compiled_backend_defines_exactly_the_kernel_names_with_the_same_signatures():
    from tinynn.backend import compiled

    assert defined_names(compiled) == set(backend.KERNELS)
    for name in backend.KERNELS:
        ours, spec = getattr(compiled, name), getattr(reference, name)
        assert inspect.signature(ours) == inspect.signature(spec), name


@needs_cython
def test_which_names_have_a_compiled_implementation_of_their_own():
    from tinynn.backend import compiled

    own = {name for name in backend.KERNELS if getattr(compiled, name) is not getattr(reference, name)}
    assert own == {name for name, entry in TABLE.items() if entry is True}
    assert own_kernels() == own


def test_no_module_of_tinynn_star_imports():
    root = pathlib.Path(tn.__file__).parent
    star = [str(path.relative_to(root)) for path in root.rglob("*.py")
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.ImportFrom) and any(alias.name == "*" for alias in node.names)]
    assert star == []


@needs_cython
@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
def test_the_compiled_activation_runs_the_compiled_kernels(name):
    """activation() on the compiled backend is its own relu/sigmoid/tanh (the reference's ran NumPy's)."""
    from tinynn.backend import compiled

    x = np.linspace(-6, 6, 97, dtype=np.float32)
    np.testing.assert_array_equal(compiled.activation(x, name), getattr(tn.kernels, name)(x))
    assert compiled.activation(x, "none") is x


def test_the_active_backend_is_reached_one_way():
    with tn.use_backend("numpy"):
        assert backend.active is reference and tn.get_backend() == "numpy"
    assert not hasattr(backend, "current")


@pytest.mark.parametrize("activation", ["gelu", None, 3])
def test_a_linear_call_is_checked_once_at_the_op_with_a_clear_error(activation, backend_name):
    x, w = tn.randn(2, 3), tn.randn(4, 3)
    with pytest.raises(ValueError, match=r"Linear: unknown activation .*choose one of \('none', 'relu'"):
        tn.ops.Linear.apply(x, w, activation=activation)
    with pytest.raises(ValueError, match=r"Linear: input has 5 features but the layer expects 3 \(input shape \(2, 5\)"):
        tn.ops.Linear.apply(tn.randn(2, 5), w)
    with pytest.raises(ValueError, match=r"Linear: bias of shape \(3,\) does not match weight of shape \(4, 3\)"):
        tn.ops.Linear.apply(x, w, tn.randn(3))
