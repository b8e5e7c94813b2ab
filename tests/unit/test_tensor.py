"""Tensor semantics: dtypes, factories, the graph (reuse, freeing, depth), no_grad, errors, numerics."""
import numpy as np
import pytest

import tinynn as tn


def test_dtype_rules():
    assert tn.tensor(1.5).dtype == np.float32
    assert tn.tensor([1.0, 2.0]).dtype == np.float32
    assert tn.tensor(np.ones(3)).dtype == np.float64
    assert tn.tensor(np.float64(2.0)).dtype == np.float64
    assert tn.tensor([1, 2]).dtype == np.int64
    assert tn.tensor(3).dtype == np.int64
    assert tn.tensor([True, False]).dtype == np.bool_
    assert tn.tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert tn.Tensor([1.0], requires_grad=True).requires_grad


def test_tensor_copies_its_data():
    a = np.ones(3)
    t = tn.tensor(a)
    a[0] = 5
    assert t.numpy()[0] == 1


@pytest.mark.parametrize("bad", [np.array([1 + 2j]), np.array(["a"]), np.array([object()], dtype=object)])
def test_unsupported_dtypes_raise_type_error(bad):
    with pytest.raises(TypeError, match="dtype"):
        tn.tensor(bad)


def test_only_float_tensors_require_grad():
    with pytest.raises(TypeError, match="int64"):
        tn.tensor([1, 2], requires_grad=True)


def test_factories():
    assert tn.zeros(2, 3).shape == (2, 3) and tn.zeros(2, 3).numpy().sum() == 0
    assert tn.ones((2, 3)).numpy().sum() == 6
    assert tn.zeros(2, dtype=np.float64).dtype == np.float64
    assert tn.ones(2, requires_grad=True).requires_grad
    assert tn.zeros_like(tn.ones(4, dtype=np.float64)).dtype == np.float64
    assert tn.ones_like(tn.zeros(2, 2)).numpy().sum() == 4
    np.testing.assert_array_equal(tn.arange(4).numpy(), [0, 1, 2, 3])
    assert tn.arange(4).dtype == np.int64
    assert tn.arange(3, dtype=np.float32).dtype == np.float32
    assert tn.randn(3, 4).dtype == np.float32 and tn.rand(5).numpy().min() >= 0
    with pytest.raises(ValueError, match="invalid shape"):
        tn.zeros(-1)


def test_attributes_and_conversions():
    t = tn.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert t.shape == (2, 3) and t.ndim == 2 and len(t) == 2 and t.numel() == 6
    assert isinstance(t.numpy(), np.ndarray)
    assert tn.tensor([2.5]).item() == 2.5
    with pytest.raises(ValueError, match="one-element"):
        t.item()
    t.data = np.zeros((2, 3), dtype=np.float32)
    assert t.numpy().sum() == 0
    assert "requires_grad=True" in repr(tn.ones(2, requires_grad=True))


def test_manual_seed_reproduces_random_choices():
    tn.manual_seed(123)
    a = tn.randn(5).numpy()
    tn.manual_seed(123)
    np.testing.assert_array_equal(a, tn.randn(5).numpy())


def test_python_scalars_keep_the_tensor_dtype():
    x = tn.ones(3)
    for y in (x * 2.0, 2.0 * x, x + 1, x / 3.0, x ** 2, 1 - x):
        assert y.dtype == np.float32
    assert (tn.ones(3, dtype=np.float64) * 2.0).dtype == np.float64


def test_comparisons_and_argmax_are_not_differentiable():
    x = tn.tensor([[1.0, 5.0, 3.0], [7.0, 0.0, 2.0]], requires_grad=True)
    mask = x > 2.0
    assert mask.dtype == np.bool_ and not mask.requires_grad
    np.testing.assert_array_equal(mask.numpy(), [[False, True, True], [True, False, False]])
    np.testing.assert_array_equal((x == 5.0).numpy(), x.numpy() == 5.0)
    np.testing.assert_array_equal((x != x).numpy(), np.zeros((2, 3), bool))
    np.testing.assert_array_equal((x <= 2.0).numpy(), x.numpy() <= 2.0)
    np.testing.assert_array_equal((x < 2.0).numpy(), x.numpy() < 2.0)
    np.testing.assert_array_equal((x >= 3.0).numpy(), x.numpy() >= 3.0)
    np.testing.assert_array_equal(x.argmax(axis=1).numpy(), [1, 0])
    np.testing.assert_array_equal(x.argmax(dim=0).numpy(), [1, 0, 0])
    assert x.argmax().item() == 3 and x.argmax().dtype == np.int64


def test_reused_node_accumulates_gradients():
    x = tn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x            # used twice below
    z = (y + y * 3.0).sum()
    z.backward()
    np.testing.assert_allclose(x.grad, 8 * x.numpy())   # d/dx 4 x^2


@pytest.mark.parametrize("older_first", [True, False])
def test_ladder_graph_runs_every_node_after_all_its_consumers(older_first):
    """f0 = x, f1 = 2x, f_k = f_(k-1) + f_(k-2): every node feeds the next two, so the walk keeps
    switching between the node it reached first and a newer waiting one. df_n/dx = c_n with
    c_0 = 1, c_1 = 2, c_k = c_(k-1) + c_(k-2)."""
    x = tn.tensor([0.5], dtype=np.float64, requires_grad=True)
    f = [x, x * 2.0]
    c = [1, 2]
    for _ in range(30):
        f.append(f[-2] + f[-1] if older_first else f[-1] + f[-2])
        c.append(c[-1] + c[-2])
    f[-1].sum().backward()
    assert x.grad[0] == c[-1]


def test_gradients_accumulate_across_backward_calls():
    x = tn.tensor([1.0, -2.0], requires_grad=True)
    (x * 3.0).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, 3.0 + 2 * x.numpy())


def test_backward_frees_the_graph_and_a_second_call_is_a_clear_error():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2.0).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="already freed"):
        y.backward()


def test_backward_needs_a_gradient_for_non_scalars():
    y = tn.ones(3, requires_grad=True) * 2.0
    with pytest.raises(RuntimeError, match="scalar"):
        y.backward()
    with pytest.raises(ValueError, match="does not match"):
        y.backward(np.ones(4))


def test_a_chain_of_ten_thousand_ops_does_not_recurse():
    x = tn.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0001 ** 10_000], rtol=1e-3)


def test_no_grad_and_detach():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    with tn.no_grad():
        y = x * 2.0
    assert not y.requires_grad and y.is_leaf

    @tn.no_grad()
    def double(t):
        return t * 2.0

    assert not double(x).requires_grad
    assert (x * 2.0).requires_grad
    d = x.detach()
    assert not d.requires_grad and np.shares_memory(d.numpy(), x.numpy())


def test_dim_is_an_alias_of_axis():
    x = tn.tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(x.sum(dim=1).numpy(), x.sum(axis=1).numpy())
    np.testing.assert_array_equal(x.max(dim=0).values.numpy(), [3.0, 4.0, 5.0])
    np.testing.assert_allclose(x.softmax(dim=0).numpy().sum(0), 1.0)
    np.testing.assert_array_equal(tn.concatenate([x, x], dim=1).shape, (2, 6))


def test_indexing_with_integer_arrays_accumulates_repeats():
    x = tn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[tn.tensor([0, 0, 2])].sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, 1.0])


def test_max_shares_the_gradient_between_ties():
    x = tn.tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.5, 0.5])


# ---------------------------------------------------------------- errors name the op and shapes
def test_shape_mismatch_errors_name_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        tn.ones(2, 3) @ tn.ones(4, 5)
    with pytest.raises(ValueError, match=r"Add.*\(2, 3\).*\(4,\)"):
        tn.ones(2, 3) + tn.ones(4)
    with pytest.raises(ValueError, match=r"reshape.*\(2, 3\).*\(4,\)"):
        tn.ones(2, 3).reshape(4)
    with pytest.raises(ValueError, match=r"Mul.*\(2,\).*\(3,\)"):
        tn.ones(2) * tn.ones(3)
    with pytest.raises(IndexError, match=r"tensor\[index\]"):
        tn.ones(2, 3)[5]
    with pytest.raises(IndexError, match="sum: dim 2"):
        tn.ones(2, 3).sum(axis=2)


# ---------------------------------------------------------------- numerical care
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_family_and_sigmoid_are_stable_for_huge_logits(dtype, backend_name):
    x = tn.tensor(np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], dtype=dtype), requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        s = x.softmax(axis=-1)
        ls = x.log_softmax(axis=-1)
        sg = x.sigmoid()
    np.testing.assert_allclose(s.numpy(), [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], atol=1e-6)
    assert np.all(np.isfinite(ls.numpy()))
    np.testing.assert_allclose(ls.numpy()[0], [0.0, -2e4, -1e4], rtol=1e-6)
    np.testing.assert_allclose(sg.numpy(), [[1, 0, 0.5], [0, 0, 0]], atol=1e-6)
    (s.sum() + ls.sum() + sg.sum()).backward()
    assert np.all(np.isfinite(x.grad))


def test_log_of_zero_is_minus_infinity_like_numpy():
    assert tn.tensor(0.0).log().item() == -np.inf
    assert np.isnan(tn.tensor(-1.0).log().item())


def test_relu_derivative_at_zero_is_zero(backend_name):
    x = tn.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 1.0])


def test_detect_anomaly_is_pytorchs_a_nan_gradient_raises_naming_the_op():
    # PyTorch's anomaly mode checks what each backward returns, for NaN only: NaN or inf in a forward
    # output (log(-1), a -inf attention mask) and inf gradients pass
    x = tn.tensor([1.0, -1.0], requires_grad=True)
    with tn.detect_anomaly():
        with np.errstate(invalid="ignore"):
            assert np.isnan(x.log().numpy()[1])
        masked = tn.tensor([0.0, float("-inf")], requires_grad=True).softmax(0)
        masked.sum().backward()                                 # softmax's gradient stays finite
        z = tn.tensor([0.0], requires_grad=True)
        z.sqrt().sum().backward()                               # d sqrt at 0 = 1 / 0 = inf: allowed
        assert z.grad.numpy()[0] == np.inf
        w = tn.tensor([0.0], requires_grad=True)
        with pytest.raises(RuntimeError, match=r"Function 'Sqrt' backward returned nan values in its gradient "
                                               r"for input 0"), np.errstate(invalid="ignore"):
            (w.sqrt() * 0.0).sum().backward()                   # 0 / (2 sqrt 0) = 0 / 0
    w = tn.tensor([0.0], requires_grad=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        (w.sqrt() * 0.0).sum().backward()                       # outside the block nothing is checked
    assert np.isnan(w.grad.numpy()[0])
    with tn.detect_anomaly(check_nan=False), np.errstate(invalid="ignore", divide="ignore"):
        w.grad = None
        (w.sqrt() * 0.0).sum().backward()
    assert np.isnan(w.grad.numpy()[0])


class _FailingBackward(tn.autograd.Function):
    """y = x, whose backward raises: a walk that stops half-way."""

    __slots__ = ()
    exact_gradients = True

    def forward(self, x):
        return x.copy()

    def backward(self, g):
        raise ArithmeticError("backward failed on purpose")


def test_a_failed_backward_leaves_no_gradient_behind_for_the_next_one():
    """The walk parks each waiting node's gradient on the node; when a backward fails, what it
    parked is cleared, so a later backward through the same nodes starts from zero."""
    x = tn.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    a = x * 2.0                       # shared by both graphs below
    failing = _FailingBackward.apply(a)
    b = a * 3.0                       # newer than `failing`: runs first and hands `a` its gradient
    with pytest.raises(ArithmeticError, match="on purpose"):
        (b + failing).sum().backward()
    assert x.grad is None
    (a * 5.0).sum().backward()        # a's node was never run, so this graph is whole
    np.testing.assert_array_equal(x.grad, [10.0, 10.0])


# ---------------------------------------------------------------- the fast path equals Function.apply
FASTS = {name: getattr(tn.Tensor, name) for name in dir(tn.Tensor) if hasattr(getattr(tn.Tensor, name), "op")}
FAST = {name: f for name, f in FASTS.items() if f.__name__.startswith("binary_operator(") and "reflected" not in f.__name__}


def _operands(op, needs):
    rng = np.random.default_rng(len(op.__name__))
    shape = (3, 3) if op is tn.ops.MatMul else (2, 3)
    return [tn.tensor(np.abs(rng.standard_normal(shape)) + 1.5, requires_grad=n) for n in needs]  # log(log x) finite


def _graph(t):
    """The recorded graph below t as nested (op name, needs_grad, [input ids or subgraphs])."""
    node = t._node
    if node is None:
        return id(t)
    return type(node).__name__, node.needs_grad, [_graph(i) for i in node.inputs]


def test_every_fast_operator_is_listed():
    assert {f.op.__name__ for f in FAST.values()} == {"Add", "Sub", "Mul", "Div", "Pow", "MatMul"}
    assert {n for n, f in FASTS.items() if "reflected" in f.__name__} == {"__radd__", "__rsub__", "__rmul__",
                                                                          "__rtruediv__", "__rpow__"}
    assert {n for n in FASTS if n not in FAST and "__r" not in n} == {
        "__neg__", "exp", "log", "sqrt", "abs", "relu", "sigmoid", "tanh"}


def _unary_and_scalar_cases():
    """(name, how to call the fast path, how Function.apply is called) for the fast one-input methods
    and the operators meeting a Python number (either side)."""
    for name, f in FASTS.items():
        if f.__name__.startswith("binary_operator("):
            for number in (2, 0.5):
                if "reflected" in f.__name__:
                    yield f"{name} {number}", (lambda x, f=f, c=number: f(x, c)), (lambda x, f=f, c=number: f.op.apply(c, x))
                elif f.op is not tn.ops.MatMul:
                    yield f"{name} {number}", (lambda x, f=f, c=number: f(x, c)), (lambda x, f=f, c=number: f.op.apply(x, c))
        elif name in FASTS and name not in FAST:
            yield name, f, f.op.apply


UNARY_AND_SCALAR = {name: (fast, general) for name, fast, general in _unary_and_scalar_cases()}


@pytest.mark.parametrize("name", sorted(UNARY_AND_SCALAR))
@pytest.mark.parametrize("mode", ["grad", "no_grad", "anomaly"])
@pytest.mark.parametrize("needs", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_the_unary_and_number_fast_paths_give_what_function_apply_gives(name, mode, needs, dtype):
    """Same values, dtypes, graph and gradients, in every grad mode and dtype (integers: general path)."""
    results = []
    for run in UNARY_AND_SCALAR[name]:
        x = tn.tensor(np.array([[2.5, 3.25, 4.0], [3.5, 5.0, 2.25]]).astype(dtype), requires_grad=needs and dtype != np.int64)
        with {"grad": tn.enable_grad, "no_grad": tn.no_grad, "anomaly": tn.detect_anomaly}[mode]():
            out = run(x)
        graph = _relabel(_graph(out), {id(x): 0})
        if out.requires_grad:
            out.backward(np.linspace(-1, 1, out.numel()).reshape(out.shape))
        results.append((out.numpy(), out.dtype, out.requires_grad, graph, x.grad))
    (fv, fdt, freq, fgraph, fgrad), (pv, pdt, preq, pgraph, pgrad) = results
    np.testing.assert_array_equal(fv, pv)
    assert fdt == pdt and freq == preq and fgraph == pgraph
    assert (fgrad is None) == (pgrad is None)
    if fgrad is not None:
        np.testing.assert_array_equal(fgrad, pgrad)


def _cases():
    for name in sorted(FAST):
        for needs in [(True, True), (True, False), (False, True), (False, False)]:
            yield name, needs


@pytest.mark.parametrize("name, needs", list(_cases()))
@pytest.mark.parametrize("mode", ["grad", "no_grad", "anomaly"])
def test_the_fast_path_gives_what_function_apply_gives(name, needs, mode, backend_name):
    """Same values, same graph (node types, needs_grad, inputs), same gradients, same ordering."""
    fast = FAST[name]
    results = []
    for run in (fast, fast.op.apply):
        inputs = _operands(fast.op, needs)
        with {"grad": tn.enable_grad, "no_grad": tn.no_grad, "anomaly": tn.detect_anomaly}[mode]():
            first = run(*inputs)
            out = run(first, *inputs[1:])  # two nodes: the second is stamped after the first
        ids = {id(t): k for k, t in enumerate(inputs)}
        graph = _relabel(_graph(out), ids)
        if out.requires_grad:
            assert out._node.order < first._node.order  # newer nodes have smaller (negative) stamps
            out.backward(np.linspace(-1, 1, out.numel()).reshape(out.shape))
        results.append((out.numpy(), out.dtype, out.requires_grad, graph, [t.grad for t in inputs]))
    (fv, fdt, freq, fgraph, fgrads), (pv, pdt, preq, pgraph, pgrads) = results
    np.testing.assert_array_equal(fv, pv)
    assert fdt == pdt and freq == preq == (mode != "no_grad" and any(needs))
    assert fgraph == pgraph
    for f, p in zip(fgrads, pgrads):
        assert (f is None) == (p is None)
        if f is not None:
            np.testing.assert_array_equal(f, p)


def _relabel(graph, ids):
    """The graph with leaves named by their input position (a new leaf: the output itself)."""
    if isinstance(graph, int):
        return "leaf", ids.get(graph, "output")
    name, needs, inputs = graph
    return name, needs, [_relabel(g, ids) for g in inputs]


def test_the_fast_path_hands_a_non_tensor_operand_to_function_apply():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0                      # 2.0 becomes a float32 constant, as Function.apply makes it
    assert y.dtype == np.float32 and type(y._node).__name__ == "Mul" and not y._node.inputs[1].requires_grad
    np.testing.assert_array_equal(y.numpy(), [2.0, 4.0])


def test_the_helpers_of_backwards_written_once_for_arrays_and_tensors():
    # ops/array_or_tensor.py: what a backward that runs on arrays (first order) and on Tensors
    # (create_graph) needs spelled two ways; the array side keeps the forward's dtype and layout
    from tinynn.ops.array_or_tensor import constant, contiguous, per_step, stacked, values
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    c = constant(a)  # an array becomes a constant of the recorded graph, with its values
    assert type(c) is tn.Tensor and c.requires_grad is False and c.dtype == tn.float32
    np.testing.assert_array_equal(c.numpy(), a)
    t = tn.ones(2, requires_grad=True)
    assert constant(t) is t and constant(None) is None and contiguous(t) is t and values(t) is t._data
    reversed_rows = contiguous(a[::-1, ::2])  # a strided view copied into C order for the kernels
    assert reversed_rows.flags.c_contiguous
    np.testing.assert_array_equal(reversed_rows, [[3.0, 5.0], [0.0, 2.0]])
    room = per_step((4, 2), a)  # float32 steps stay float32 (the backward works in the forward's precision)
    assert room.shape == (4, 2) and room.dtype == np.float32 and stacked(room) is room
    steps = per_step((2, 3), t)
    assert steps == [None, None]
    steps[:] = [t * 2.0, t * 3.0]
    joined = stacked(steps)
    assert joined.shape == (2, 2) and joined.requires_grad
    np.testing.assert_array_equal(joined.numpy(), [[2.0, 2.0], [3.0, 3.0]])
