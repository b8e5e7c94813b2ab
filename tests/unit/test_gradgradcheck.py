"""Second derivatives of every differentiable op: float64 `tn.gradgradcheck` (the gradient
computed with create_graph=True, checked against central differences both in the inputs and in
the incoming gradient) on both backends, over the op tables of the gradient tests; an op that does
not support create_graph raises NotImplementedError naming itself; gradgradcheck itself
catches a wrong second derivative and names the input, the index and both values."""
import numpy as np
import pytest

import tinynn as tn
from tinynn.autograd.function import Function
from test_ops import BINARY, UNARY, _values  # the gradient tests' op tables
from test_ops_elementwise import CLOSED

EXTRA = {  # ops outside those tables: name -> (function, inputs as arrays)
    "matmul_batched": (lambda a, b: a @ b, [(2, 3, 4), (4, 2)]),
    "matmul_vector": (lambda a, b: a @ b, [(4,), (4, 3)]),
    "linear_relu": (lambda x, w, b: tn.ops.Linear.apply(x, w, b, activation="relu"), [(3, 4), (2, 4), (2,)]),
    "linear_sigmoid": (lambda x, w, b: tn.ops.Linear.apply(x, w, b, activation="sigmoid"), [(3, 4), (2, 4), (2,)]),
    "linear_tanh_3d": (lambda x, w: tn.ops.Linear.apply(x, w, activation="tanh"), [(2, 3, 4), (2, 4)]),
    "cross_entropy": (lambda x: tn.nn.functional.cross_entropy(x, tn.tensor([0, 2, 1])), [(3, 4)]),
    "cross_entropy_smooth_sum": (lambda x: tn.nn.functional.cross_entropy(x, tn.tensor([0, 2, 1]), label_smoothing=0.2,
                                                                         reduction="sum"), [(3, 4)]),
    "cat": (lambda a, b: tn.cat([a, b * b], 1), [(2, 3), (2, 2)]),
    "stack": (lambda a, b: tn.stack([a * b, a], 1), [(2, 3), (2, 3)]),
    "expand_repeat": (lambda a: a.expand(2, 3, 4) * a.repeat(2, 1, 1), [(3, 1)]),
    "maximum_minimum": (lambda a, b: tn.maximum(a, b) * a + tn.minimum(a, b) * b, [(2, 3), (2, 3)]),
    "clamp_tensor": (lambda a, b: a.clamp(min=b) * a, [(2, 3), (2, 3)]),
    "remainder": (lambda a, b: (a % b) * a, [(2, 3), (2, 3)]),
    "max_dim": (lambda a: a.max(1).values * a.sum(1), [(2, 3)]),
    "gather": (lambda a: a.gather(1, tn.tensor([[0, 0], [2, 1]])) ** 2, [(2, 3)]),
    "cumsum": (lambda a: a.cumsum(1) ** 2, [(2, 3)]),
    "var_std": (lambda a: a.var(1) * a.std(1, correction=0), [(3, 4)]),
    "logsumexp": (lambda a: a.logsumexp(1) ** 2, [(3, 4)]),
    "bce": (lambda p, t: tn.nn.functional.binary_cross_entropy(p.sigmoid(), t.sigmoid()), [(2, 3), (2, 3)]),
    "bce_with_logits": (lambda x, t: tn.nn.functional.binary_cross_entropy_with_logits(x, t.sigmoid()), [(2, 3), (2, 3)]),
    "clone_masked_fill": (lambda a: a.clone().masked_fill(tn.tensor([True, False, True]), 0.5) ** 2, [(2, 3)]),
    "gelu": (lambda a: tn.nn.functional.gelu(a), [(2, 3)]),
    "gelu_tanh": (lambda a: tn.nn.functional.gelu(a, approximate="tanh"), [(2, 3)]),
    "layer_norm": (lambda x, w, b: tn.nn.functional.layer_norm(x, (3,), w, b), [(2, 3), (3,), (3,)]),
    "embedding": (lambda w: tn.nn.functional.embedding(tn.tensor([2, 0, 2]), w) ** 2, [(3, 2)]),
    "attention_causal": (lambda q, k, v: tn.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True),
                         [(2, 3, 2), (2, 3, 2), (2, 3, 2)]),
}



def _x(shape, domain=lambda a: a, seed=1):
    return tn.tensor(_values(shape, domain, seed), requires_grad=True)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_table(name, backend_name):
    fn, domain, _ = UNARY[name]
    assert tn.gradgradcheck(fn, _x((3, 4), domain))


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 1), (1, 4))])
def test_binary_table_with_broadcasting(name, shapes, backend_name):
    fn, dom_a, dom_b, _ = BINARY[name]
    assert tn.gradgradcheck(fn, _x(shapes[0], dom_a, 2), _x(shapes[1], dom_b, 3))


@pytest.mark.parametrize("name", sorted(CLOSED))
def test_elementwise_table(name, backend_name):
    values, _ = CLOSED[name]
    assert tn.gradgradcheck(lambda t: getattr(t, name)(), tn.tensor(values, requires_grad=True))


@pytest.mark.parametrize("name", sorted(EXTRA))
def test_more_ops(name, backend_name):
    fn, shapes = EXTRA[name]
    assert tn.gradgradcheck(fn, *[_x(s, seed=k) for k, s in enumerate(shapes)])


def assert_same_as_first_order(fn, inputs):
    """The create_graph gradient (ops on Tensors, composites in ops/differentiable.py) equals the
    first-order one (the backend's kernels on arrays): gradgradcheck alone differentiates the
    create_graph gradient, so it cannot see a composite that is wrong but smooth."""
    weights = tn.tensor(np.random.default_rng(9).standard_normal(fn(*inputs).shape), dtype=tn.float64)
    first = tn.autograd.grad((fn(*inputs) * weights).sum(), inputs)
    second = tn.autograd.grad((fn(*inputs) * weights).sum(), inputs, create_graph=True)
    for a, b in zip(first, second):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(EXTRA))
def test_create_graph_gradient_equals_first_order(name, backend_name):
    fn, shapes = EXTRA[name]
    assert_same_as_first_order(fn, [_x(s, seed=k) for k, s in enumerate(shapes)])


class _SquareOnArrays(Function):
    """y = x^2 with a backward written on arrays only (no `differentiable`): create_graph must refuse it."""

    __slots__ = ('x',)
    exact_gradients = True

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, g):
        return 2.0 * np.asarray(self.x) * g


def test_ops_without_create_graph_support_raise_naming_the_op():
    x = _x((2, 3))
    (g,) = tn.autograd.grad(_SquareOnArrays.apply(x).sum(), x)  # first order works
    np.testing.assert_allclose(g.numpy(), 2 * x.numpy())
    with pytest.raises(NotImplementedError, match="^_SquareOnArrays: backward\\(create_graph=True\\)"):
        tn.autograd.grad(_SquareOnArrays.apply(x).sum(), x, create_graph=True)


class _CubeWrongSecond(Function):
    """y = x^3 with dy/dx = 3 x^2 right, but computed as 3 * x * (x as a constant): the first
    derivative is exact, the second misses half of 6x."""

    __slots__ = ('x',)
    differentiable = True
    constants = ('x',)

    def forward(self, x):
        self.x = x
        return x ** 3

    def backward(self, g):
        return g * (self.x * self.x * 3.0)


def test_gradgradcheck_catches_a_wrong_second_derivative_and_names_it():
    x = tn.tensor([0.5, -1.0, 2.0], requires_grad=True)
    assert tn.gradcheck(_CubeWrongSecond.apply, x)
    with pytest.raises(tn.GradcheckError, match=r"gradgradcheck: input 0 \(shape \(3,\)\) at index \(0,\) "
                                                r"\(value 0.5\): analytic 0.0 vs numerical"):
        tn.gradgradcheck(_CubeWrongSecond.apply, x)


def test_gradgradcheck_takes_pytorch_spelling_and_checks_grad_outputs():
    x = tn.tensor([0.3, -0.2], requires_grad=True)
    assert tn.gradgradcheck(lambda t: t.tanh() * t, (x,))   # inputs as one tuple, as in PyTorch
    with pytest.raises(ValueError, match="no input requires a gradient"):
        tn.gradgradcheck(lambda t: t * 2.0, tn.tensor([1.0]))
