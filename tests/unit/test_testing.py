"""tinynn.testing: random computation graphs checked with both asserts, the asserts' failure
messages, the array/layout strategies, and detect_anomaly inside drawn graphs."""
import re
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

import tinynn as tn
from tinynn import testing
from tinynn.autograd import Function
from tinynn.testing import (GRAPH_OPS, KINKED_OPS, LAYOUTS, GradcheckError, as_layout, assert_backends_match,
                            assert_gradients_match, graphs, kernels_called, own_kernels)

needs_cython = pytest.mark.skipif("cython" not in tn.backend.available(), reason="compiled kernels not built")


# ---------------------------------------------------------------- random graphs
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # the backend stays set for every example
@given(graphs())
def test_random_graph_gradients_match(backend_name, graph_and_inputs):
    graph, inputs = graph_and_inputs
    assert_gradients_match(graph, *inputs)


def _runs_own_kernel(graph, inputs):
    with tn.use_backend("cython"):
        return bool(kernels_called(graph, *inputs) & own_kernels())


@needs_cython
@given(graphs(dtype=np.float64))
def test_random_graph_backends_match_float64(graph_and_inputs):
    graph, inputs = graph_and_inputs
    assume(_runs_own_kernel(graph, inputs))
    assert_backends_match(graph, *inputs)


# ops whose compiled kernels do the same IEEE operations as the reference (ULPS 0): bit for bit in float32;
# the others (sigmoid, tanh, softmax, matmul) are compared one op at a time, within their bounds (test_ops.py)
EXACT_OPS = tuple(op for op in GRAPH_OPS if op not in ("sigmoid", "tanh", "softmax", "log_softmax", "matmul", "matmul_T"))


@needs_cython
@given(graphs(dtype=np.float32, ops=EXACT_OPS, max_ops=4))
def test_random_graph_backends_match_float32_bit_for_bit(graph_and_inputs):
    graph, inputs = graph_and_inputs
    assume(_runs_own_kernel(graph, inputs))
    assert_backends_match(graph, *inputs, ulps=0)


@settings(max_examples=60)
@given(graphs(max_ops=8, num_inputs=(1, 4)))
def test_graph_repr_is_the_program(graph_and_inputs):
    """repr(graph) is Python source that computes the same value (so a failure is reproducible)."""
    graph, inputs = graph_and_inputs
    scope = {"tn": tn, "np": np}
    exec(repr(graph), scope)
    with tn.no_grad():
        np.testing.assert_array_equal(scope["graph"](*inputs).numpy(), graph(*inputs).numpy())
    assert all(t.requires_grad and t.dtype == np.float64 for t in inputs)
    assert len(graph.steps) >= 1 and all(name in GRAPH_OPS for name, _, _ in graph.steps)


@given(graphs(ops=("exp", "add", "matmul", "sum"), smooth=True, num_inputs=2))
def test_graphs_draw_only_the_chosen_ops(graph_and_inputs):
    graph, inputs = graph_and_inputs
    assert {name for name, _, _ in graph.steps} <= {"exp", "add", "matmul", "sum", "affine"}
    assert len(inputs) == 2
    np.broadcast_shapes(*(t.shape for t in inputs))  # leaves are mutually broadcastable


def test_graphs_cover_every_op():
    """Over many draws, every op of GRAPH_OPS appears (no op is silently never applicable)."""
    seen = set()

    @settings(max_examples=300, database=None, derandomize=True)
    @given(graphs(max_ops=6))
    def collect(graph_and_inputs):
        seen.update(name for name, _, _ in graph_and_inputs[0].steps)

    collect()
    assert seen == set(GRAPH_OPS)


def test_graphs_rejects_unknown_ops():
    with pytest.raises(ValueError, match="unknown ops"):
        graphs(ops=("exp", "conv2d"))
    assert KINKED_OPS <= set(GRAPH_OPS)


# ---------------------------------------------------------------- the asserts' failures
class WrongSquare(Function):
    """y = x^2 with a deliberately wrong backward (3x instead of 2x)."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, g):
        return 3 * self.x * g


def test_assert_gradients_match_names_input_index_and_values():
    good = tn.tensor([0.5, 1.0], dtype=np.float64, requires_grad=True)
    x = tn.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=np.float64, requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        assert_gradients_match(lambda a, b: (a * WrongSquare.apply(b)).sum(), good, x)
    message = str(info.value)
    assert "input 1" in message and "(2, 2)" in message and "index (0, 0)" in message
    w = float(np.random.default_rng(0).standard_normal())  # the check's seeded weight on the one output
    analytic, numeric = (float(v) for v in re.search(r"analytic (\S+) vs numerical (\S+)", message).groups())
    assert "(value 1.0)" in message and np.isclose(analytic, 1.5 * w) and np.isclose(numeric, 1.0 * w)  # 0.5*3*1, 0.5*2*1
    assert assert_gradients_match(lambda a: (a * a).sum(), good) is True


class SoftmaxAveragingG(Function):
    """softmax whose backward averages g where it must weight it by y: y (g - mean g) instead of
    y (g - <y, g>). For g = 1 both are 0, so the gradient of sum(softmax(x)) cannot tell them apart."""

    def forward(self, x):
        e = np.exp(x - x.max())
        self.y = e / e.sum()
        return self.y

    def backward(self, g):
        return self.y * (g - g.mean())


def test_gradient_checks_weigh_the_outputs_so_an_error_hidden_from_their_sum_fails():
    x = tn.tensor([0.3, -1.2, 2.0], dtype=np.float64, requires_grad=True)
    wrong = SoftmaxAveragingG.apply(x)
    assert np.allclose(tn.autograd.grad(wrong.sum(), x)[0].numpy(), 0.0)  # the sum's gradient is right: 0
    with pytest.raises(GradcheckError, match="input 0"):
        tn.gradcheck(lambda t: SoftmaxAveragingG.apply(t), x)
    assert tn.gradcheck(lambda t: t.softmax(0), x)


class ScaledSquare(Function):
    """y = x^2 whose backward is 2x (1 + error): off by `error`, relatively, everywhere."""

    error = 1e-5

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, g):
        return 2 * self.x * g * (1 + self.error)


def test_the_suites_gradient_check_catches_a_backward_off_by_1e_5_relatively(backend_name):
    x = tn.tensor(np.linspace(-2, 2, 7), dtype=np.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="input 0"):
        assert_gradients_match(lambda t: ScaledSquare.apply(t), x)
    assert tn.gradcheck(lambda t: ScaledSquare.apply(t), x)  # PyTorch's defaults (rtol 1e-3) let it pass
    assert assert_gradients_match(lambda t: t * t, x)         # the right backward passes the tight check


@needs_cython
def test_assert_backends_match_refuses_a_function_both_backends_run_alike():
    x = tn.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    with pytest.raises(ValueError, match="same code"):
        assert_backends_match(lambda t: t.reshape(2, 1).log(), x)  # Reshape, Log: no compiled kernel of their own
    assert assert_backends_match(lambda t: t.reshape(2, 1).sigmoid(), x) == ["sigmoid", "sigmoid_backward"]


@needs_cython
def test_assert_backends_match_reports_a_difference():
    x = tn.tensor([1.0, 2.0, 3.0], dtype=np.float64, requires_grad=True)

    def differs(t):  # a "kernel" that is off by 1e-6 on one backend
        return t * (1.0 + (1e-6 if tn.get_backend() == "cython" else 0.0))

    with pytest.raises(AssertionError, match="value"):
        assert_backends_match(differs, x)
    assert_backends_match(differs, x, rtol=1e-5)  # within a looser tolerance
    nan_in = tn.tensor([np.nan, 1.0], requires_grad=True)
    assert_backends_match(lambda t: t.exp(), nan_in)  # NaN matches NaN


# ---------------------------------------------------------------- arrays and layouts
@given(testing.arrays(st.sampled_from([np.float16, np.float32, np.float64, np.int8, np.uint8, np.int64,
                                       np.bool_, np.complex64, np.complex128, object]),
                      special=True, min_side=0),
       testing.layouts())
def test_as_layout_keeps_values_and_sets_the_layout(a, layout):
    b = as_layout(a, layout)
    assert b.shape == a.shape and b.dtype == a.dtype
    np.testing.assert_array_equal(b, a)
    if layout == "readonly":
        assert not b.flags.writeable
    if layout == "misaligned" and a.dtype.alignment > 1 and a.size and not a.dtype.hasobject:
        assert not b.flags.aligned
    if layout == "negative" and a.size > 1 and a.ndim:
        assert any(s < 0 for s in b.strides)
    if layout == "F":
        assert b.flags.f_contiguous


def test_as_layout_rejects_unknown_names():
    with pytest.raises(ValueError, match="unknown layout"):
        as_layout(np.zeros(3), "diagonal")
    assert set(LAYOUTS) >= {"C", "F", "sliced", "negative", "misaligned", "readonly"}


def test_special_arrays_draw_nan_inf_and_denormals():
    found = set()

    @settings(max_examples=200, database=None, derandomize=True)
    @given(testing.arrays(np.float32, shape=(8,), special=True))
    def collect(a):
        found.update({"nan"} if np.isnan(a).any() else set())
        found.update({"inf"} if np.isinf(a).any() else set())
        tiny = np.abs(a[np.isfinite(a)])
        found.update({"denormal"} if ((tiny > 0) & (tiny < np.finfo(np.float32).tiny)).any() else set())
        found.update({"huge"} if (tiny >= 1e38).any() else set())

    collect()
    assert found == {"nan", "inf", "denormal", "huge"}


@given(testing.tensors(np.float32, max_dims=2))
def test_tensors_strategy(t):
    assert isinstance(t, tn.Tensor) and t.dtype == np.float32 and t.requires_grad
    assert np.all(np.abs(t.numpy()) <= 10)


# ---------------------------------------------------------------- detect_anomaly
def test_detect_anomaly_names_the_op_nearest_the_loss_whose_backward_made_nan():
    x = tn.tensor([0.0, 2.0], dtype=np.float64, requires_grad=True)
    with tn.detect_anomaly(), np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        y = ((x * 1e200) * 1e200).exp()          # forward overflows to inf: allowed, as in PyTorch
        assert np.isinf(y.numpy()[1])
        with pytest.raises(RuntimeError, match=r"Function 'Log' backward"):
            # d/dx log(x) at 0 is 1/0 = inf, times the 0 from `* 0`: NaN in Log's backward, the first
            # op on the walk back from the loss to produce one (Sqrt below it never runs)
            (x.sqrt().log() * 0.0).sum().backward()


def test_detect_anomaly_is_per_thread():
    seen = {}

    def other_thread():
        x = tn.tensor([-1.0], dtype=np.float64)
        with np.errstate(invalid="ignore"):
            seen["value"] = x.log().numpy()  # no anomaly mode here: NaN passes silently

    with tn.detect_anomaly():
        t = threading.Thread(target=other_thread)
        t.start()
        t.join()
    assert np.isnan(seen["value"]).all()


def test_gradcheck_is_not_swamped_by_a_large_independent_output():
    # found by hypothesis: exp(exp(exp(x))) at x = (0.035, 1.35) is (16.7, 4.7e20); summing the
    # outputs before differencing lost the first element's change in the second's rounding
    x = tn.tensor(np.array([0.03546487410077015, 1.35139109]), requires_grad=True)
    assert tn.gradcheck(lambda t: t.exp().exp().exp(), x)
