"""Second derivatives of the last ops that lacked them: Prod, Cumprod, Norm, Scatter and the fused
recurrent sequences (LSTMSequence, GRUSequence; nn.LSTM/nn.GRU as wholes, and the cells). Each case,
on both backends, under hypothesis (shapes, dims, keepdim, p, zeros, layers, directions): float64
`tn.gradcheck`, the create_graph gradient equal to the first-order one, and float64
`tn.gradgradcheck` (central differences of the create_graph gradient, in the inputs and in the
incoming gradient). PyTorch's values where the function has a kink or a zero: closed forms for the
gradient and Hessian of prod with one and two zeros, and the zero subgradient of the norm at 0.
Last, no op class of tinynn.ops is left out of create_graph (but the conv family, named), each composite
has its kernel's signature, and a float32 create_graph gradient stays float32."""
import importlib
import inspect
import pkgutil

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinynn as tn
import tinynn.nn.functional as F
import tinynn.ops
from tinynn.autograd.function import Function
from tinynn.autograd.functional import hessian
from tinynn.ops.recurrent import GRUSequence, LSTMSequence
from test_gradgradcheck import assert_same_as_first_order

BACKENDS = tn.backend.available()
INF = float("inf")


def _check(fn, *inputs):
    """gradcheck; the create_graph gradient equals the first-order one; gradgradcheck."""
    assert tn.gradcheck(fn, *inputs)
    assert_same_as_first_order(fn, inputs)
    assert tn.gradgradcheck(fn, *inputs)


def _x(rng, shape, zeros=()):
    """float64 values of magnitude in [0.5, 1.5] (away from the kinks at 0), random signs, 0 at `zeros`."""
    a = rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
    for at in zeros:
        a[at] = 0.0
    return tn.tensor(a, dtype=tn.float64, requires_grad=True)


shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)
seeds = st.integers(0, 2 ** 32 - 1)


def _zeros_along(rng, shape, dim, count):
    """`count` distinct positions along dim (one line of it) to set to zero."""
    line = tuple(int(rng.integers(n)) for n in shape)
    picks = rng.choice(shape[dim], size=min(count, shape[dim]), replace=False)
    return [line[:dim] + (int(p),) + line[dim + 1:] for p in picks]


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=12)
@given(shape=shapes, data=st.data(), zeros=st.sampled_from([0, 1, 2]), seed=seeds)
def test_prod(backend, shape, data, zeros, seed):
    rng = np.random.default_rng(seed)
    dim = data.draw(st.sampled_from([None, *range(len(shape))]), "dim")
    keepdim = data.draw(st.booleans(), "keepdim")
    x = _x(rng, shape, _zeros_along(rng, shape, 0 if dim is None else dim, zeros))
    if dim is None:
        x = tn.tensor(x.numpy(), requires_grad=True)
    with tn.use_backend(backend):
        _check(lambda t: t.prod() if dim is None else t.prod(dim, keepdim=keepdim), x)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=12)
@given(shape=shapes, data=st.data(), zeros=st.sampled_from([0, 1, 2]), seed=seeds)
def test_cumprod(backend, shape, data, zeros, seed):
    rng = np.random.default_rng(seed)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), "dim")
    x = _x(rng, shape, _zeros_along(rng, shape, dim % len(shape), zeros))
    with tn.use_backend(backend):
        _check(lambda t: t.cumprod(dim), x)


def _prod_hessian(a):
    """d2/dx_i dx_j prod_k x_k = prod_{k != i, j} x_k for i != j, 0 on the diagonal."""
    n = len(a)
    return [[0.0 if i == j else np.prod(np.delete(a, [i, j])) for j in range(n)] for i in range(n)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_prod_with_one_and_two_zeros_has_pytorchs_gradient_and_hessian(backend):
    """y = prod_i x_i: dy/dx_i = prod_{j != i} x_j, d2y/dx_i dx_j = prod_{k != i, j} x_k: with one
    zero only the zero's gradient is nonzero; with two none is, but the Hessian entry of the two
    zeros is the product of the rest. Also per row of a dim (rows: one zero, two zeros)."""
    with tn.use_backend(backend):
        for values in ([2.0, 0.0, 3.0, -1.5], [2.0, 0.0, 0.0, -1.5]):
            a = np.array(values)
            x = tn.tensor(a, requires_grad=True)
            (g,) = tn.autograd.grad(x.prod(), x, create_graph=True)
            np.testing.assert_array_equal(g.numpy(), [np.prod(np.delete(a, i)) for i in range(4)])
            np.testing.assert_array_equal(hessian(lambda t: t.prod(), x).numpy(), _prod_hessian(a))
        rows = np.array([[2.0, 0.0, 3.0], [0.0, -1.5, 0.0]])
        blocks = np.zeros((6, 6))
        blocks[:3, :3], blocks[3:, 3:] = _prod_hessian(rows[0]), _prod_hessian(rows[1])
        x = tn.tensor(rows.reshape(-1), requires_grad=True)
        np.testing.assert_array_equal(hessian(lambda t: t.reshape(2, 3).prod(1).sum(), x).numpy(), blocks)


@pytest.mark.parametrize("backend", BACKENDS)
def test_cumprod_with_zeros_has_the_closed_form_gradient(backend):
    """dL/dx_i = sum_{j >= i} prod_{k <= j, k != i} x_k for L = sum_j y_j: [2, 0, 3] gives
    (1 + 0 + 0, 2 + 2 * 3, 0) = (1, 8, 0); [0, 0, 3] gives (1, 0, 0)."""
    with tn.use_backend(backend):
        x = tn.tensor([[2.0, 0.0, 3.0], [0.0, 0.0, 3.0]], dtype=tn.float64, requires_grad=True)
        (g,) = tn.autograd.grad(x.cumprod(1).sum(), x, create_graph=True)
        np.testing.assert_array_equal(g.numpy(), [[1, 8, 0], [1, 0, 0]])
        assert tn.gradgradcheck(lambda t: t.cumprod(1), x)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=15)
@given(shape=shapes, data=st.data(), p=st.sampled_from([1, 2, INF, "fro", 3, 1.5, 0.7]), seed=seeds)
def test_norm(backend, shape, data, p, seed):
    dims = [None, *range(len(shape))] + ([(0, len(shape) - 1)] if len(shape) > 1 else [])
    dim = data.draw(st.sampled_from(dims), "dim")
    keepdim = data.draw(st.booleans(), "keepdim")
    x = _x(np.random.default_rng(seed), shape)
    with tn.use_backend(backend):
        _check(lambda t: t.norm(p, dim=dim, keepdim=keepdim), x)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("p", [2, "fro", 1, 3, INF])
def test_norm_at_zero_has_the_zero_subgradient(backend, p):
    """As PyTorch: at x = 0 the gradient is 0, and so is the gradient of that gradient; a zero
    row reduced along dim gets 0 while the other rows get x_i / ||x|| (p = 2)."""
    with tn.use_backend(backend):
        x = tn.zeros(3, dtype=tn.float64, requires_grad=True)
        (g,) = tn.autograd.grad(x.norm(p), x, create_graph=True)
        np.testing.assert_array_equal(g.numpy(), 0.0)
        if g.requires_grad:
            (h,) = tn.autograd.grad(g.sum(), x, allow_unused=True)
            assert h is None or not np.any(h.numpy())
        rows = tn.tensor([[0.0, 0.0], [3.0, -4.0]], dtype=tn.float64, requires_grad=True)
        (g,) = tn.autograd.grad(rows.norm(dim=1).sum(), rows, create_graph=True)
        np.testing.assert_allclose(g.numpy(), [[0, 0], [0.6, -0.8]], rtol=1e-15)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=12)
@given(shape=shapes, data=st.data(), seed=seeds)
def test_scatter(backend, shape, data, seed):
    rng = np.random.default_rng(seed)
    dim = data.draw(st.integers(0, len(shape) - 1), "dim")
    # distinct targets along dim in each line (a repeated target keeps one write: no derivative)
    size = tuple(data.draw(st.integers(1, n), f"index size {d}") for d, n in enumerate(shape))
    index = np.argsort(rng.random(shape), axis=dim)[tuple(slice(0, n) for n in size)]
    src_shape = tuple(n + data.draw(st.integers(0, 1), f"src extra {d}") for d, n in enumerate(size))
    x, src = _x(rng, shape), _x(rng, src_shape)
    with tn.use_backend(backend):
        _check(lambda a, s: a.scatter(dim, tn.tensor(index), s) * a, x, src)


def _lstm_inputs(rng, steps, batch, hidden, bias, gates):
    shapes = [(steps, batch, gates * hidden), (batch, hidden)] + [(batch, hidden)] * (gates == 4) + \
             [(gates * hidden, hidden)] + [(gates * hidden,)] * bias
    return [tn.tensor(rng.standard_normal(s) * 0.8, requires_grad=True) for s in shapes]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("op", [LSTMSequence, GRUSequence])
@settings(max_examples=5)
@given(steps=st.integers(1, 3), batch=st.integers(1, 2), hidden=st.integers(1, 2), bias=st.booleans(),
       reverse=st.booleans(), seed=seeds)
def test_fused_sequence_op(backend, op, steps, batch, hidden, bias, reverse, seed):
    """Every input of the op: the input projections gi, the initial states, W_hh and b_hh."""
    inputs = _lstm_inputs(np.random.default_rng(seed), steps, batch, hidden, bias, 4 if op is LSTMSequence else 3)
    with tn.use_backend(backend):
        _check(lambda *ts: op.apply(*ts, reverse=reverse), *inputs)


@pytest.mark.parametrize("op", [LSTMSequence, GRUSequence])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
def test_fused_sequence_op_create_graph_every_direction_and_bias(op, bias, reverse, backend_name):
    """Every case the hypothesis test above may not draw, each run: with and without b_hh, both
    directions, 3 steps != 2 rows != 5 hidden units (so no two can be swapped unseen; 5, as chunking
    4 H gates into 5 pieces gives 4 for H <= 4), and LSTM's h != c.
    The create_graph gradient (the forward recorded again from the inputs) equals the first-order one."""
    inputs = _lstm_inputs(np.random.default_rng(5), 3, 2, 5, bias, 4 if op is LSTMSequence else 3)
    assert_same_as_first_order(lambda *ts: op.apply(*ts, reverse=reverse), inputs)


@pytest.mark.parametrize("op", [LSTMSequence, GRUSequence])
def test_fused_sequence_op_bias_gradient_when_the_states_need_none(op, backend_name):
    """b_hh needs a gradient while the initial states (the inputs before W_hh) and W_hh need none: the
    op must still compute db_hh = sum_t,n d_t (checked against central differences)."""
    gates = 4 if op is LSTMSequence else 3
    inputs = _lstm_inputs(np.random.default_rng(7), 3, 2, 2, True, gates)
    constants, b_hh = [t.detach() for t in inputs[:-1]], inputs[-1]
    assert tn.gradcheck(lambda b: op.apply(*constants, b), (b_hh,))


def _with_weights(module, names, run):
    """fn(x, *states, *weights): `run(module, x, *states)` with module's parameters `names` being
    the given Tensors, so the checks differentiate through the weights too."""
    def fn(*ts):
        for name, w in zip(names, ts[len(ts) - len(names):]):
            module._parameters[name] = vars(module)[name] = w  # where named_parameters and forward read it
        return run(module, *ts[:len(ts) - len(names)])
    return fn


def _flat(*ts):
    return tn.cat([t.reshape(-1) for t in ts])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
@settings(max_examples=3)
@given(layers=st.integers(1, 2), bidirectional=st.booleans(), batch_first=st.booleans(), steps=st.integers(1, 2),
       seed=seeds)
def test_lstm_and_gru_modules(backend, mode, layers, bidirectional, batch_first, steps, seed):
    """nn.LSTM / nn.GRU whole: the output sequence and final states, in the input, the initial
    states and two weights (the first layer's recurrent weight, the last layer's input bias)."""
    rng = np.random.default_rng(seed)
    tn.manual_seed(seed % 1000)
    module = getattr(tn.nn, mode)(2, 2, num_layers=layers, bidirectional=bidirectional,
                                  batch_first=batch_first).double()
    directions = 2 if bidirectional else 1
    x = tn.tensor(rng.standard_normal((1, steps, 2) if batch_first else (steps, 1, 2)), requires_grad=True)
    states = [tn.tensor(rng.standard_normal((layers * directions, 1, 2)) * 0.5, requires_grad=True)
              for _ in range(2 if mode == "LSTM" else 1)]
    names = ["weight_hh_l0", f"bias_ih_l{layers - 1}"]
    weights = [module._parameters[n].detach().clone().requires_grad_(True) for n in names]

    def run(m, x, *hx):
        out, h = m(x, tuple(hx) if mode == "LSTM" else hx[0])
        return _flat(out, *(h if mode == "LSTM" else (h,)))
    with tn.use_backend(backend):
        _check(_with_weights(module, names, run), x, *states, *weights)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", ["LSTMCell", "GRUCell"])
def test_cells(backend, mode):
    tn.manual_seed(3)
    cell = getattr(tn.nn, mode)(3, 2).double()
    rng = np.random.default_rng(4)
    x = tn.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    states = [tn.tensor(rng.standard_normal((2, 2)) * 0.5, requires_grad=True)
              for _ in range(2 if mode == "LSTMCell" else 1)]
    names = ["weight_ih", "bias_hh"]
    weights = [cell._parameters[n].detach().clone().requires_grad_(True) for n in names]

    def run(m, x, *hx):
        out = m(x, tuple(hx) if mode == "LSTMCell" else hx[0])
        return _flat(*out) if mode == "LSTMCell" else out
    with tn.use_backend(backend):
        _check(_with_weights(cell, names, run), x, *states, *weights)


# ---- every op takes part in create_graph


def _op_classes():
    """Every Function subclass defined in a module of tinynn.ops."""
    for info in pkgutil.iter_modules(tinynn.ops.__path__):
        module = importlib.import_module(f"tinynn.ops.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Function) and value.__module__ == module.__name__:
                yield value


def test_every_op_class_supports_create_graph():
    classes = {cls.__name__: cls for cls in _op_classes()}
    assert {"Prod", "Cumprod", "Norm", "Scatter", "LSTMSequence", "GRUSequence", "Tanh", "Conv2d", "BatchNorm", "Pad"} <= set(classes)
    missing = sorted(name for name, cls in classes.items() if not cls.differentiable)
    assert not missing, f"op classes without differentiable = True (backward(create_graph=True) raises): {missing}"


def test_each_composite_has_its_kernels_signature():
    """Under create_graph a kernel's name is its composite (ops/differentiable*.py): the same
    arguments and defaults, so a backward that leans on a default computes the same on both paths."""
    from tinynn.backend import reference
    from tinynn.ops.differentiable import OPS
    composites = {name: f for name, f in OPS.items() if inspect.isfunction(f) and f.__name__ == name}
    assert {"attention_backward", "gelu_backward", "layer_norm_backward", "linear", "lstm_cell"} <= set(composites)
    for name, composite in composites.items():
        assert inspect.signature(composite) == inspect.signature(getattr(reference, name)), name


FLOAT32 = {  # name -> (function, input shape)
    "cross_entropy": (lambda x: F.cross_entropy(x, tn.tensor([0, 2, 3]), label_smoothing=0.1), (3, 4)),
    "layer_norm": (lambda x: F.layer_norm(x, (4,)) ** 2, (3, 4)),
    "gelu": (lambda x: F.gelu(x, approximate="tanh") * x, (3, 4)),
    "causal_attention": (lambda x: F.scaled_dot_product_attention(x, x, x, is_causal=True) ** 2, (3, 4)),
}


@pytest.mark.parametrize("name", sorted(FLOAT32))
def test_create_graph_gradient_of_float32_stays_float32(name, backend_name):
    """PyTorch: a float32 input's gradient is float32, with create_graph too (and equals the
    first-order one to float32 accuracy)."""
    fn, shape = FLOAT32[name]
    x = tn.tensor(np.random.default_rng(2).standard_normal(shape).astype(np.float32), requires_grad=True)
    (first,) = tn.autograd.grad(fn(x).sum(), x)
    (second,) = tn.autograd.grad(fn(x).sum(), x, create_graph=True)
    assert first.dtype == second.dtype == tn.float32 and second.requires_grad
    np.testing.assert_allclose(second.numpy(), first.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("activation", ["none", "relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("bias", [False, True])
def test_linear_composite_is_the_kernel_with_every_activation(activation, bias, backend_name):
    """OPS["linear"] (what backend.active.linear records under create_graph) computes the kernel's
    act(x W^T + b), the activation included."""
    from tinynn.ops.differentiable import OPS
    rng = np.random.default_rng(6)
    x, w, b = rng.standard_normal((3, 4)), rng.standard_normal((2, 4)), rng.standard_normal(2) if bias else None
    z = x @ w.T + (0.0 if b is None else b)
    expected = {"none": z, "relu": np.maximum(z, 0.0), "sigmoid": 1.0 / (1.0 + np.exp(-z)), "tanh": np.tanh(z)}
    y = OPS["linear"](tn.tensor(x), tn.tensor(w), None if b is None else tn.tensor(b), activation)
    np.testing.assert_allclose(y.numpy(), expected[activation], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_cross_entropy_over_one_class_has_zero_gradient(label_smoothing, backend_name):
    """One class: its softmax is 1 and the smoothed target q = ls / 1 + (1 - ls) is 1, so the loss
    and its gradient (p - q) g are 0 (create_graph too)."""
    x = tn.tensor(np.random.default_rng(1).standard_normal((3, 1)), requires_grad=True)
    loss = F.cross_entropy(x, tn.tensor([0, 0, 0]), label_smoothing=label_smoothing)
    (g,) = tn.autograd.grad(loss, x, create_graph=True)
    assert float(loss.item()) == 0.0
    np.testing.assert_array_equal(g.numpy(), np.zeros((3, 1)))
