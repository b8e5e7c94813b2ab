"""nn.utils.parametrize and nn.utils.parametrizations.orthogonal: hand-written parametrizations (a symmetric
matrix W = triu(X) + triu(X, 1)^T, a scaling, a split into two originals), PyTorch's class swap and
state-dict keys, right_inverse on assignment, cached(), removal; orthogonal's three maps against their
closed forms on 2 x 2 rotations and Q^T Q = I on every shape."""
import copy
import pickle

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
from tinynn.func import functional_call
from tinynn.nn.utils import parametrizations, parametrize

BACKENDS = tn.backend.available()


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).mT

    def right_inverse(self, A):
        return A.triu()


class Scale(nn.Module):
    def forward(self, X):
        return 2 * X

    def right_inverse(self, Y):
        return Y / 2


class Split(nn.Module):  # W = A + B; right_inverse gives two originals
    def forward(self, A, B):
        return A + B

    def right_inverse(self, W):
        return W * 0.25, W * 0.75


class NoInverse(nn.Module):
    def forward(self, X):
        return 3 * X


def _linear(W):
    m = nn.Linear(W.shape[1], W.shape[0]).double()
    m.weight.data = tn.tensor(np.array(W, dtype=np.float64))
    return m


def test_symmetric_parametrization_class_keys_and_values():
    X = np.arange(9.0).reshape(3, 3)
    m = _linear(X)
    original = m.weight
    parametrize.register_parametrization(m, "weight", Symmetric())
    assert type(m).__name__ == "ParametrizedLinear" and isinstance(m, nn.Linear)
    assert parametrize.type_before_parametrizations(m) is nn.Linear
    assert parametrize.is_parametrized(m) and parametrize.is_parametrized(m, "weight")
    assert not parametrize.is_parametrized(m, "bias") and not parametrize.is_parametrized(nn.Linear(2, 2))
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original"]
    assert [n for n, _ in m.named_parameters()] == ["bias", "parametrizations.weight.original"]
    assert m.parametrizations.weight.original is original  # the same Parameter, values from right_inverse
    np.testing.assert_array_equal(original.numpy(), np.triu(X))
    expected = np.triu(X) + np.triu(X, 1).T
    np.testing.assert_array_equal(m.weight.numpy(), expected)
    x = np.array([[1.0, -2.0, 0.5]])
    np.testing.assert_allclose(m(tn.tensor(x)).numpy(), x @ expected.T + m.bias.numpy())


def test_gradient_reaches_the_original():
    """L = sum(C * W), W = triu(X) + triu(X, 1)^T: dL/dX_ij = C_ij + C_ji above the diagonal, C_ii on it, 0 below."""
    m = _linear(np.zeros((3, 3)))
    parametrize.register_parametrization(m, "weight", Symmetric())
    C = np.arange(1.0, 10.0).reshape(3, 3)
    (m.weight * tn.tensor(C)).sum().backward()
    expected = np.triu(C + C.T, 1) + np.diag(np.diag(C))
    np.testing.assert_array_equal(m.parametrizations.weight.original.grad.numpy(), expected)


def test_assignment_runs_the_right_inverses_of_a_chain():
    m = _linear(np.eye(3))
    parametrize.register_parametrization(m, "weight", Symmetric())
    parametrize.register_parametrization(m, "weight", Scale())  # W = 2 sym(X)
    assert len(m.parametrizations.weight) == 2
    S = np.array([[4.0, 2.0, 0.0], [2.0, 6.0, -2.0], [0.0, -2.0, 8.0]])
    m.weight = tn.tensor(S)
    np.testing.assert_array_equal(m.parametrizations.weight.original.numpy(), np.triu(S) / 2)
    np.testing.assert_array_equal(m.weight.numpy(), S)
    with pytest.raises(KeyError, match="already exists"):
        m.weight = nn.Parameter(tn.tensor(S))


def test_missing_right_inverse_is_the_identity_at_registration_and_an_error_on_assignment():
    m = _linear(np.ones((2, 2)))
    parametrize.register_parametrization(m, "weight", NoInverse())
    np.testing.assert_array_equal(m.weight.numpy(), 3 * np.ones((2, 2)))
    with pytest.raises(RuntimeError, match="NoInverse does not implement right_inverse"):
        m.weight = tn.ones(2, 2, dtype=tn.float64)


def test_cached_computes_once_per_block():
    m = _linear(np.eye(2))
    parametrize.register_parametrization(m, "weight", Scale())
    assert m.weight is not m.weight
    with parametrize.cached():
        first = m.weight
        with parametrize.cached():
            assert m.weight is first
        assert m.weight is first
    assert m.weight is not first


def test_right_inverse_returning_a_tuple_registers_original0_original1():
    W = np.array([[4.0, -8.0], [2.0, 12.0]])
    m = _linear(W)
    parametrize.register_parametrization(m, "weight", Split())
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original0", "parametrizations.weight.original1"]
    plist = m.parametrizations.weight
    assert isinstance(plist.original0, nn.Parameter) and plist.original0.requires_grad
    np.testing.assert_array_equal(plist.original0.numpy(), W / 4)
    np.testing.assert_array_equal(plist.original1.numpy(), 3 * W / 4)
    np.testing.assert_array_equal(m.weight.numpy(), W)
    with pytest.raises(ValueError, match="sequence of tensors"):
        parametrize.remove_parametrizations(m, "weight", leave_parametrized=False)
    parametrize.remove_parametrizations(m, "weight")
    assert type(m) is nn.Linear and list(m.state_dict()) == ["bias", "weight"]
    assert isinstance(m.weight, nn.Parameter) and m.weight.requires_grad
    np.testing.assert_array_equal(m.weight.numpy(), W)


@pytest.mark.parametrize("leave", [True, False])
def test_remove_parametrizations(leave):
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    m = _linear(X)
    original = m.weight
    parametrize.register_parametrization(m, "weight", Symmetric())
    parametrize.register_parametrization(m, "weight", Scale())
    parametrize.remove_parametrizations(m, "weight", leave_parametrized=leave)
    assert type(m) is nn.Linear and "parametrizations" not in m._modules and not parametrize.is_parametrized(m)
    assert m.weight is original and list(m.state_dict()) == ["bias", "weight"]
    triu = np.triu(X)
    np.testing.assert_array_equal(m.weight.numpy(), 2 * (triu + np.triu(X, 1).T) if leave else triu)
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        parametrize.remove_parametrizations(m, "weight")


def test_state_dict_round_trip_and_copies():
    src = _linear(np.array([[1.0, 2.0], [3.0, 4.0]]))
    parametrize.register_parametrization(src, "weight", Symmetric())
    dst = _linear(np.zeros((2, 2)))
    parametrize.register_parametrization(dst, "weight", Symmetric())
    dst.load_state_dict(src.state_dict())
    np.testing.assert_array_equal(dst.weight.numpy(), src.weight.numpy())
    twin = copy.deepcopy(src)
    assert type(twin).__name__ == "ParametrizedLinear"
    assert twin.parametrizations.weight.original is not src.parametrizations.weight.original
    np.testing.assert_array_equal(twin.weight.numpy(), src.weight.numpy())
    with pytest.raises(RuntimeError, match="state_dict"):
        pickle.dumps(src)


def test_buffers_errors_and_unsafe():
    bn = nn.BatchNorm1d(3)
    parametrize.register_parametrization(bn, "running_mean", Scale())
    assert "parametrizations.running_mean.original" in bn.state_dict()
    assert "running_mean" not in bn._buffers
    with pytest.raises(ValueError, match="does not have a parameter, a buffer"):
        parametrize.register_parametrization(bn, "nothing", Scale())

    class First(nn.Module):
        def forward(self, X):
            return X[0]
    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(nn.Linear(3, 3), "weight", First())
    m = nn.Linear(3, 2)
    parametrize.register_parametrization(m, "weight", First(), unsafe=True)
    assert m.weight.shape == (3,)


def test_parametrization_follows_train_and_eval():
    m = nn.Linear(2, 2)
    parametrize.register_parametrization(m, "weight", Scale())
    m.eval()
    assert not m.parametrizations.weight[0].training
    m.train()
    assert m.parametrizations.weight[0].training


# ---------------------------------------------------------------- orthogonal

@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("trivialization", [True, False])
@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
def test_orthogonal_is_orthogonal_and_takes_assignments(orthogonal_map, trivialization, shape):
    tn.manual_seed(0)
    m = nn.Linear(shape[1], shape[0]).double()
    parametrizations.orthogonal(m, orthogonal_map=orthogonal_map, use_trivialization=trivialization)
    W = m.weight.numpy()
    gram = W.T @ W if shape[0] >= shape[1] else W @ W.T
    np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-12)
    keys = ["bias", "parametrizations.weight.original"] + (["parametrizations.weight.0.base"] if trivialization else [])
    assert list(m.state_dict()) == keys
    Q = np.linalg.qr(np.random.default_rng(1).standard_normal((max(shape), min(shape))))[0]
    Q = Q if shape[0] >= shape[1] else Q.T
    if not trivialization and orthogonal_map != "householder":
        with pytest.raises(NotImplementedError, match="use_trivialization=False"):
            m.weight = tn.tensor(Q)
    else:
        m.weight = tn.tensor(Q)
        np.testing.assert_allclose(m.weight.numpy(), Q, atol=1e-12)


def _rotation_module(orthogonal_map, t):
    m = nn.Linear(2, 2).double()
    parametrizations.orthogonal(m, orthogonal_map=orthogonal_map, use_trivialization=False)
    m.parametrizations.weight.original.data = tn.tensor([[1.0, 0.0], [t, 1.0]], dtype=tn.float64)
    return m


def test_orthogonal_maps_closed_forms():
    """X = [[1, 0], [t, 1]]: A = tril(X) - tril(X)^T = [[0, -t], [t, 0]]; exp(A) is the rotation by t, the
    Cayley map (I - A/2)^-1 (I + A/2) the rotation by 2 atan(t/2); Householder: w = (1, t),
    tau = 2 / (1 + t^2), Q = (I - tau w w^T) diag(1, -1) (the second reflector is I - 2 e2 e2^T)."""
    t = 0.7
    c, s = np.cos(t), np.sin(t)
    np.testing.assert_allclose(_rotation_module("matrix_exp", t).weight.numpy(), [[c, -s], [s, c]], atol=1e-14)
    a = 2 * np.arctan(t / 2)
    np.testing.assert_allclose(_rotation_module("cayley", t).weight.numpy(),
                               [[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]], atol=1e-14)
    w = np.array([[1.0], [t]])
    H = np.eye(2) - 2 / (1 + t * t) * (w @ w.T)
    np.testing.assert_allclose(_rotation_module("householder", t).weight.numpy(), H @ np.diag([1.0, -1.0]), atol=1e-14)


def test_orthogonal_defaults_and_errors():
    square, tall = nn.Linear(3, 3), nn.Linear(2, 4)
    parametrizations.orthogonal(square)
    parametrizations.orthogonal(tall)
    assert square.parametrizations.weight[0].orthogonal_map == "matrix_exp"
    assert tall.parametrizations.weight[0].orthogonal_map == "householder"
    with pytest.raises(ValueError, match="orthogonal_map has to be one of"):
        parametrizations.orthogonal(nn.Linear(2, 2), orthogonal_map="qr")
    with pytest.raises(ValueError, match="Got a tensor of 1 dimensions"):
        parametrizations.orthogonal(nn.Linear(2, 2), "bias")
    with pytest.raises(ValueError, match="has no parameter or buffer"):
        parametrizations.orthogonal(nn.Linear(2, 2), "nothing")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
def test_orthogonal_gradcheck(backend, orthogonal_map):
    """d/dX of the map, X's strictly lower part (Householder's diagonal only picks signs, a step function)."""
    with tn.use_backend(backend):
        m = nn.Linear(3, 4).double()
        parametrizations.orthogonal(m, orthogonal_map=orthogonal_map)
        rng = np.random.default_rng(2)
        L = tn.tensor(0.3 * rng.standard_normal((4, 3)), requires_grad=True)
        x = tn.tensor(rng.standard_normal((2, 3)), requires_grad=True)
        sign = tn.tensor(-np.eye(4, 3))

        def f(L, x):
            return functional_call(m, {"parametrizations.weight.original": L.tril(-1) + sign}, (x,))
        assert tn.gradcheck(f, L, x)
