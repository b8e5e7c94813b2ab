"""Every differentiable op: float64 gradient check and forward against a closed form, on both
backends; the compiled backend against the NumPy reference over random (broadcastable) shapes for
the ops that run a kernel the compiled backend implements itself (the others run the same code on
both: their closed forms and gradient checks are the test); backward leaving its inputs and
incoming gradient untouched."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import tinynn as tn
from tinynn import ops
from tinynn.testing import (assert_backends_match, assert_gradients_match, broadcastable_shapes, kernels_called,
                            own_kernels)


def positive(a):
    return np.abs(a) + 0.5


def away_from_zero(a):
    return np.where(a >= 0, 1.0, -1.0) * (np.abs(a) + 0.2)


def identity(a):
    return a


# name: (function of tensors, number of inputs, domain, closed form on arrays)
UNARY = {
    "exp": (lambda x: x.exp(), away_from_zero, np.exp),
    "log": (lambda x: x.log(), positive, np.log),
    "sqrt": (lambda x: x.sqrt(), positive, np.sqrt),
    "abs": (lambda x: x.abs(), away_from_zero, np.abs),
    "relu": (lambda x: x.relu(), away_from_zero, lambda a: np.maximum(a, 0)),
    "sigmoid": (lambda x: x.sigmoid(), identity, lambda a: 1 / (1 + np.exp(-a))),
    "tanh": (lambda x: x.tanh(), identity, np.tanh),
    "neg": (lambda x: -x, identity, np.negative),
    "clip": (lambda x: x.clip(-0.5, 0.5), lambda a: np.where(np.abs(np.abs(a) - 0.5) < 0.05, a * 1.5, a), lambda a: np.clip(a, -0.5, 0.5)),
    "pow_scalar": (lambda x: x ** 3, identity, lambda a: a ** 3),
    "rpow_scalar": (lambda x: 2.0 ** x, identity, lambda a: 2.0 ** a),
    "rdiv_scalar": (lambda x: 1.0 / x, away_from_zero, lambda a: 1.0 / a),
    "sum": (lambda x: x.sum(), identity, lambda a: np.sum(a)),
    "sum_axis": (lambda x: x.sum(axis=-1, keepdims=True), identity, lambda a: np.sum(a, axis=-1, keepdims=True)),
    "mean": (lambda x: x.mean(), identity, lambda a: np.mean(a)),
    "mean_dim": (lambda x: x.mean(dim=0), identity, lambda a: np.mean(a, axis=0)),
    "max": (lambda x: x.max(), identity, lambda a: np.max(a)),
    "max_axis": (lambda x: x.amax(axis=-1), identity, lambda a: np.max(a, axis=-1)),
    "min_axis": (lambda x: x.amin(axis=0, keepdims=True), identity, lambda a: np.min(a, axis=0, keepdims=True)),
    "reshape": (lambda x: x.reshape(-1), identity, lambda a: a.reshape(-1)),
    "transpose": (lambda x: x.transpose(), identity, lambda a: a.transpose()),
    "T": (lambda x: x.T, identity, lambda a: a.T),
    "flatten": (lambda x: x.flatten(), identity, lambda a: a.reshape(-1)),
    "getitem": (lambda x: x.flip(-1)[0], identity, lambda a: a[..., ::-1][0]),
    "getitem_array": (lambda x: x[np.array([0, 0, -1])], identity, lambda a: a[np.array([0, 0, -1])]),
    "softmax": (lambda x: x.softmax(axis=-1), identity, lambda a: np.exp(a) / np.exp(a).sum(-1, keepdims=True)),
    "softmax_dim0": (lambda x: x.softmax(dim=0), identity, lambda a: np.exp(a) / np.exp(a).sum(0, keepdims=True)),
    "log_softmax": (lambda x: x.log_softmax(axis=-1), identity, lambda a: a - np.log(np.exp(a).sum(-1, keepdims=True))),
}

BINARY = {
    "add": (lambda a, b: a + b, identity, identity, np.add),
    "sub": (lambda a, b: a - b, identity, identity, np.subtract),
    "mul": (lambda a, b: a * b, identity, identity, np.multiply),
    "div": (lambda a, b: a / b, identity, away_from_zero, np.divide),
    "pow": (lambda a, b: a ** b, positive, identity, np.power),
    "where": (lambda a, b: tn.where(a > 0, a, b), away_from_zero, identity, lambda a, b: np.where(a > 0, a, b)),
}

NEEDS_ND = {"max_axis", "min_axis", "transpose", "T", "getitem", "getitem_array", "softmax", "softmax_dim0",
            "log_softmax", "sum_axis", "mean_dim"}


def _values(shape, domain, seed):
    rng = np.random.default_rng(seed)
    return domain(rng.uniform(-2, 2, size=shape))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradient_and_closed_form(name, backend_name):
    fn, domain, closed = UNARY[name]
    a = _values((3, 4), domain, 1)
    x = tn.tensor(a, requires_grad=True)
    np.testing.assert_allclose(fn(x).numpy(), closed(a), rtol=1e-12, atol=1e-12)
    assert assert_gradients_match(fn, x)


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((2, 3, 4), (4,)), ((), (2, 3))])
def test_binary_gradient_with_broadcasting(name, shapes, backend_name):
    fn, dom_a, dom_b, closed = BINARY[name]
    a, b = _values(shapes[0], dom_a, 2), _values(shapes[1], dom_b, 3)
    x, y = tn.tensor(a, requires_grad=True), tn.tensor(b, requires_grad=True)
    out = fn(x, y)
    np.testing.assert_allclose(out.numpy(), closed(a, b), rtol=1e-12)
    assert assert_gradients_match(fn, x, y)


@pytest.mark.parametrize("shapes", [((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 2)), ((3, 4), (4, 2)),
                                    ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3))])
def test_matmul_gradient_all_ranks(shapes, backend_name):
    a, b = _values(shapes[0], identity, 4), _values(shapes[1], identity, 5)
    x, y = tn.tensor(a, requires_grad=True), tn.tensor(b, requires_grad=True)
    np.testing.assert_allclose((x @ y).numpy(), np.matmul(a, b), rtol=1e-12)
    assert assert_gradients_match(lambda p, q: p @ q, x, y)


def test_cast_keeps_the_gradient_path_between_float_dtypes():
    x = tn.tensor(np.array([0.25, -1.5, 3.0]), requires_grad=True)
    y = x.astype(np.float32)
    assert y.dtype == np.float32 and y.requires_grad
    (y * tn.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, [1.0, 2.0, 3.0])
    assert not x.long().requires_grad and x.long().dtype == np.int64


def test_concatenate_and_stack_gradients(backend_name):
    parts = [tn.tensor(_values((2, k), identity, k), requires_grad=True) for k in (1, 2, 3)]
    assert assert_gradients_match(lambda *ts: tn.concatenate(ts, axis=1) * tn.arange(6, dtype=np.float64), *parts)
    same = [tn.tensor(_values((2, 3), identity, k), requires_grad=True) for k in range(3)]
    assert assert_gradients_match(lambda *ts: tn.stack(ts, dim=1) ** 2, *same)
    np.testing.assert_array_equal(tn.stack(same, axis=2).numpy(), np.stack([t.numpy() for t in same], axis=2))


@pytest.mark.parametrize("activation", ["none", "relu", "sigmoid", "tanh"])
def test_fused_linear_gradient(activation, backend_name):
    x = tn.tensor(_values((5, 3), identity, 6), requires_grad=True)
    w = tn.tensor(_values((4, 3), identity, 7), requires_grad=True)
    b = tn.tensor(_values((4,), identity, 8), requires_grad=True)
    expected = x.numpy() @ w.numpy().T + b.numpy()
    expected = {"none": expected, "relu": np.maximum(expected, 0), "sigmoid": 1 / (1 + np.exp(-expected)),
                "tanh": np.tanh(expected)}[activation]
    np.testing.assert_allclose(ops.Linear.apply(x, w, b, activation=activation).numpy(), expected, rtol=1e-12)
    assert assert_gradients_match(lambda x, w, b: ops.Linear.apply(x, w, b, activation=activation), x, w, b)
    assert assert_gradients_match(lambda x, w: ops.Linear.apply(x, w, activation=activation), x, w)


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_fused_cross_entropy_gradient_and_closed_form(smoothing, reduction, backend_name):
    logits = _values((6, 4), identity, 9)
    target = np.array([0, 3, 1, 1, 2, 0])
    x = tn.tensor(logits, requires_grad=True)
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    q = np.full((6, 4), smoothing / 4) + (1 - smoothing) * np.eye(4)[target]
    per_sample = -(q * logp).sum(1)
    expected = {"mean": per_sample.mean(), "sum": per_sample.sum(), "none": per_sample}[reduction]
    out = ops.CrossEntropy.apply(x, tn.tensor(target), label_smoothing=smoothing, reduction=reduction)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    assert assert_gradients_match(
        lambda x: ops.CrossEntropy.apply(x, target, label_smoothing=smoothing, reduction=reduction), x)


# ---------------------------------------------------------------- compiled backend vs reference
def _compiled_available():
    return "cython" in tn.backend.available()


def _runs_own_kernel(fn, *domains):
    """True when fn runs a kernel the compiled backend implements itself (forward or backward)."""
    if not _compiled_available():
        return False
    inputs = [tn.tensor(d(np.linspace(-1, 1, 12).reshape(3, 4)), requires_grad=True) for d in domains]
    with tn.use_backend("cython"):
        return bool(kernels_called(fn, *inputs) & own_kernels())


AGREE_UNARY = sorted(n for n, (fn, domain, _) in UNARY.items() if _runs_own_kernel(fn, domain))
AGREE_BINARY = sorted(n for n, (fn, da, db, _) in BINARY.items() if _runs_own_kernel(fn, da, db))


@pytest.mark.skipif(not _compiled_available(), reason="compiled extension not built")
def test_the_ops_left_out_of_backend_agreement_run_the_same_code_on_both():
    """What each op runs, from the backend table: these ops call only functions both backends share."""
    assert sorted(set(UNARY) - set(AGREE_UNARY)) == ["T", "clip", "flatten", "getitem", "getitem_array", "log",
                                                     "neg", "reshape", "sqrt", "transpose"]
    assert sorted(set(BINARY) - set(AGREE_BINARY)) == ["where"]


def _draw_shape(draw, name):
    min_dims = 2 if name in NEEDS_ND else 0
    if name == "getitem_array":
        return draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    return draw(hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=5))


@pytest.mark.skipif(not _compiled_available(), reason="compiled extension not built")
@pytest.mark.parametrize("name", AGREE_UNARY)
@given(data=st.data(), dtype=st.sampled_from([np.float32, np.float64]))
def test_unary_backends_agree(name, data, dtype):
    fn, domain, _ = UNARY[name]
    shape = _draw_shape(data.draw, name)
    values = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-3, 3)))
    assert_backends_match(fn, tn.tensor(domain(values).astype(dtype), requires_grad=True))


@pytest.mark.skipif(not _compiled_available(), reason="compiled extension not built")
@pytest.mark.parametrize("name", AGREE_BINARY)
@given(data=st.data(), shapes=broadcastable_shapes(), dtype=st.sampled_from([np.float32, np.float64]))
def test_binary_backends_agree(name, data, shapes, dtype):
    fn, dom_a, dom_b, _ = BINARY[name]
    a = data.draw(hnp.arrays(np.float64, shapes[0], elements=st.floats(-3, 3)))
    b = data.draw(hnp.arrays(np.float64, shapes[1], elements=st.floats(-3, 3)))
    assert_backends_match(fn, tn.tensor(dom_a(a).astype(dtype), requires_grad=True),
                          tn.tensor(dom_b(b).astype(dtype), requires_grad=True))


def _value_and_grads(fn, inputs, backend, seed=None):
    with tn.use_backend(backend):
        leaves = [tn.tensor(t, requires_grad=True) for t in inputs]
        out = fn(*leaves)
        out.backward(np.linspace(-1, 1, out.numel()).reshape(out.shape).astype(out.dtype) if seed is None else seed)
    return [out.numpy()] + [t.grad for t in leaves]


def _assert_gemm_backends_agree(fn, arrays, k, bound_fn=None, ulps=0):
    """float32 GEMM on both backends, value and gradients: each within k u (|A| |B|)_ij of the exact
    product (u = eps / 2, k the longest sum any of the products makes), so within k eps of each other,
    plus `ulps` eps of each value for what follows the product (an activation).
    (|A| |B|)_ij for every output is fn (or bound_fn) and its gradients at |inputs| with seed |G|, in float64."""
    compiled = _value_and_grads(fn, arrays, "cython")
    reference = _value_and_grads(fn, arrays, "numpy")
    seed = np.abs(np.linspace(-1, 1, compiled[0].size).reshape(compiled[0].shape))
    bounds = _value_and_grads(bound_fn or fn, [np.abs(a).astype(np.float64) for a in arrays], "numpy", seed)
    for what, c, r, bound in zip(["value"] + [f"gradient {i}" for i in range(len(arrays))], compiled, reference, bounds):
        assert c.dtype == r.dtype == np.float32
        excess = np.abs(c.astype(np.float64) - r) - np.finfo(np.float32).eps * (k * bound + ulps * np.abs(r))
        assert np.all(excess <= 0), f"{what}: off by {excess.max()} beyond the bound"


@pytest.mark.skipif(not _compiled_available(), reason="compiled extension not built")
@given(m=st.integers(1, 40), k=st.integers(1, 40), n=st.integers(1, 40), batch=st.sampled_from([(), (2,), (2, 1)]),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_matmul_backends_agree(m, k, n, batch, dtype, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((*batch, m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    if dtype == np.float64:
        assert_backends_match(lambda p, q: p @ q, tn.tensor(a, requires_grad=True), tn.tensor(b, requires_grad=True))
    else:
        _assert_gemm_backends_agree(lambda p, q: p @ q, [a, b], max(k, n, m * int(np.prod(batch))))


@pytest.mark.skipif(not _compiled_available(), reason="compiled extension not built")
@given(n=st.integers(1, 40), d_in=st.integers(1, 40), d_out=st.integers(1, 40), bias=st.booleans(),
       activation=st.sampled_from(["none", "relu", "sigmoid", "tanh"]), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**16))
def test_fused_linear_backends_agree(n, d_in, d_out, bias, activation, dtype, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(dtype) for s in ((n, d_in), (d_out, d_in), (d_out,))][:3 if bias else 2]

    def fn(*t):
        return ops.Linear.apply(*t, activation=activation)
    if dtype == np.float64:
        assert_backends_match(fn, *[tn.tensor(a, requires_grad=True) for a in arrays])
    elif activation in ("none", "relu"):  # |x| |W|^T + |b| bounds relu's (masked) sums too
        _assert_gemm_backends_agree(fn, arrays, max(n, d_in, d_out) + 1)
    else:  # sigmoid and tanh: slopes <= 1, their values and derivatives within 8 ulps (of 1) on each backend
        _assert_gemm_backends_agree(fn, arrays, max(n, d_in, d_out) + 1 + 16, lambda *t: ops.Linear.apply(*t), ulps=16)


@pytest.mark.skipif(not _compiled_available(), reason="compiled extension not built")
@given(n=st.integers(1, 16), c=st.integers(1, 12), smoothing=st.sampled_from([0.0, 0.1]),
       reduction=st.sampled_from(["mean", "sum", "none"]), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**16))
def test_cross_entropy_backends_agree(n, c, smoothing, reduction, dtype, seed):
    rng = np.random.default_rng(seed)
    logits = tn.tensor((rng.standard_normal((n, c)) * 5).astype(dtype), requires_grad=True)
    target = rng.integers(0, c, size=n)
    assert_backends_match(lambda x: ops.CrossEntropy.apply(x, target, label_smoothing=smoothing, reduction=reduction),
                          logits)


# ---------------------------------------------------------------- backward purity
@pytest.mark.parametrize("name", sorted(UNARY))
def test_backward_mutates_neither_inputs_nor_incoming_gradient(name, backend_name):
    fn, domain, _ = UNARY[name]
    a = _values((3, 4), domain, 10)
    x = tn.tensor(a, requires_grad=True)
    out = fn(x)
    seed = np.linspace(-1, 1, out.numel()).reshape(out.shape)
    seed_copy = seed.copy()
    out.backward(seed)
    np.testing.assert_array_equal(x.numpy(), a)
    np.testing.assert_array_equal(seed, seed_copy)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradients_never_share_memory(name, backend_name):
    fn, dom_a, dom_b, _ = BINARY[name]
    x = tn.tensor(_values((3, 4), dom_a, 11), requires_grad=True)
    y = tn.tensor(_values((3, 4), dom_b, 12), requires_grad=True)
    out = fn(x, y)
    seed = np.ones(out.shape)
    out.backward(seed)
    assert not np.shares_memory(x.grad, y.grad)
    assert not np.shares_memory(x.grad, seed) and not np.shares_memory(y.grad, seed)
    np.testing.assert_array_equal(seed, 1.0)
