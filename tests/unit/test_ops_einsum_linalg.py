"""einsum, tensordot, outer/ger, mv, addmm/addmv/baddbmm, trace, cross, kron, tinynn.linalg (vector_norm,
matrix_norm, norm, det, inv, solve, cross) and cdist: values from sums written out as loops, hand-computed
numbers and textbook identities (A A^-1 = I, det of a 2x2 is ad - bc, Jacobi's formula), PyTorch's
documented rules (implicit output sorted A-Z then a-z, ellipsis dims first, size-1 dims broadcast, beta = 0
ignores the input), gradient checks in float64 (and gradients of gradients) on both backends."""
import itertools
import math

import numpy as np
import pytest

import tinynn as tn

RNG = np.random.default_rng(7)
A = RNG.uniform(-1.0, 1.0, (2, 3))
B = RNG.uniform(-1.0, 1.0, (3, 4))
SQ = RNG.uniform(-1.0, 1.0, (3, 3)) + 3 * np.eye(3)  # well conditioned
SQ2 = RNG.uniform(-1.0, 1.0, (2, 3, 3)) + 3 * np.eye(3)


def t(a, grad=False):
    return tn.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def loop_sum(shape_by_letter, out, terms, arrays):
    """The einsum's definition as loops: y[out] = sum over every letter of prod_k arrays[k][terms[k]]."""
    letters = sorted(shape_by_letter)
    y = np.zeros([shape_by_letter[c] for c in out])
    for values in itertools.product(*[range(shape_by_letter[c]) for c in letters]):
        v = dict(zip(letters, values))
        y[tuple(v[c] for c in out)] += math.prod(a[tuple(v[c] for c in term)] for term, a in zip(terms, arrays))
    return y


# ---------------------------------------------------------------- einsum
@pytest.mark.parametrize("equation, shapes, size, out, terms", [
    ("ij,jk->ik", [(2, 3), (3, 4)], dict(i=2, j=3, k=4), "ik", ["ij", "jk"]),
    ("ij,jk", [(2, 3), (3, 4)], dict(i=2, j=3, k=4), "ik", ["ij", "jk"]),          # implicit: letters seen once
    ("ba,Ab", [(2, 3), (4, 2)], dict(a=3, b=2, A=4), "Aa", ["ba", "Ab"]),          # sorted A-Z before a-z
    ("ii", [(3, 3)], dict(i=3), "", ["ii"]),                                        # the trace
    ("iij->j", [(3, 3, 2)], dict(i=3, j=2), "j", ["iij"]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)], dict(b=2, i=2, j=3, k=2), "bik", ["bij", "bjk"]),
    ("...ij->...ji", [(2, 2, 3)], dict(e=2, i=2, j=3), "eji", ["eij"]),
    ("...ba", [(2, 3, 4)], dict(e=2, b=3, a=4), "eab", ["eba"]),                   # implicit: ellipsis dims first
    ("i,j->ij", [(2,), (3,)], dict(i=2, j=3), "ij", ["i", "j"]),
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)], dict(i=2, j=3, k=2, l=2), "il", ["ij", "jk", "kl"]),
    ("iij,jkk->ik", [(2, 2, 3), (3, 2, 2)], dict(i=2, j=3, k=2), "ik", ["iij", "jkk"]),
    ("...i->i", [(2, 2, 3)], dict(e=2, f=2, i=3), "i", ["efi"]),                  # ellipsis summed when not output
])
def test_einsum_is_the_sum_of_products_its_equation_names(backend_name, equation, shapes, size, out, terms):
    arrays = [RNG.uniform(-1, 1, s) for s in shapes]
    y = tn.einsum(equation, *[t(a) for a in arrays])
    np.testing.assert_allclose(y.numpy(), loop_sum(size, out, terms, arrays), rtol=1e-12, atol=1e-12)
    assert tn.einsum(equation, [t(a) for a in arrays]).shape == y.shape  # operands as one list


def test_einsum_broadcasts_size_one_dims_and_keeps_dtypes(backend_name):
    a, b = RNG.uniform(-1, 1, (2, 1)), RNG.uniform(-1, 1, (2, 3))
    np.testing.assert_allclose(tn.einsum("ij,ij->ij", t(a), t(b)).numpy(), a * b)
    assert tn.einsum("...j,...j->...j", tn.ones(4, 1, 3), tn.ones(5, 3)).shape == (4, 5, 3)
    assert tn.einsum("i,i", tn.arange(3), tn.arange(3)).item() == 5  # 0 + 1 + 4, int64
    assert tn.einsum("i->", tn.ones(3, dtype=tn.int32)).dtype == tn.int64  # a sum of integers is int64
    assert tn.einsum("i,j", tn.ones(3, dtype=tn.int32), tn.ones(2, dtype=tn.int32)).dtype == tn.int32
    assert tn.einsum("ij,jk->ik", tn.ones(2, 0), tn.ones(0, 3)).tolist() == [[0.0] * 3] * 2
    assert tn.einsum("->", tn.tensor(3.0)).item() == 3.0
    assert tn.einsum(tn.ones(2, 3), [0, 1], tn.ones(3, 4), [1, 2], [0, 2]).tolist() == [[3.0] * 4] * 2  # sublists
    x = tn.ones(2, 3)
    tn.einsum("ij->ji", x)[0, 1] = 5.0  # a permutation is a view, as in PyTorch
    assert x[1, 0].item() == 5.0


@pytest.mark.parametrize("call, error, message", [
    (lambda: tn.einsum("ij,jk", tn.ones(2, 2)), RuntimeError, "fewer operands"),
    (lambda: tn.einsum("ij", tn.ones(2)), RuntimeError, "number of subscripts"),
    (lambda: tn.einsum("ij,jk", tn.ones(2, 2), tn.ones(3, 2)), RuntimeError, "subscript j has size 3"),
    (lambda: tn.einsum("ii", tn.ones(2, 3)), RuntimeError, "repeated for operand 0"),
    (lambda: tn.einsum("ij->ii", tn.ones(2, 2)), RuntimeError, "appears more than once"),
    (lambda: tn.einsum("ij->k", tn.ones(2, 2)), RuntimeError, "does not appear"),
    (lambda: tn.einsum("i1", tn.ones(2, 2)), RuntimeError, "invalid subscript"),
    (lambda: tn.einsum("...i...", tn.ones(2, 3)), RuntimeError, "ellipsis"),
    (lambda: tn.einsum("i,i", tn.ones(3), tn.ones(3, dtype=tn.float64)), RuntimeError, "one dtype"),
    (lambda: tn.einsum("i,i", tn.ones(3), 2.0), TypeError, "expected Tensor"),
    (lambda: tn.einsum("i"), ValueError, "at least one operand"),
    (lambda: tn.einsum("i,i", tn.ones(3, dtype=tn.bool), tn.ones(3, dtype=tn.bool)), NotImplementedError, "bool"),
])
def test_einsum_rejects_what_pytorch_rejects(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("equation, shapes", [
    ("ij,jk->ik", [(2, 3), (3, 2)]), ("ii->i", [(3, 3)]), ("iij,jkk->ik", [(2, 2, 3), (3, 2, 2)]),
    ("ij->", [(2, 3)]), ("ij,ij->ij", [(2, 1), (2, 3)]), ("bn,anm,bm->ba", [(2, 3), (2, 3, 2), (2, 2)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (2, 3, 2)]), ("iii->i", [(2, 2, 2)]),
])
def test_einsum_gradients_and_their_gradients(backend_name, equation, shapes):
    inputs = tuple(t(RNG.uniform(-1, 1, s), grad=True) for s in shapes)
    assert tn.gradcheck(lambda *xs: tn.einsum(equation, *xs), inputs)
    assert tn.gradgradcheck(lambda *xs: tn.einsum(equation, *xs), inputs)


def test_einsum_gradient_of_a_trace_is_the_identity(backend_name):
    x = t(SQ, grad=True)
    tn.einsum("ii", x).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.eye(3))


# ---------------------------------------------------------------- tensordot, outer, addmm, trace, cross, kron
def test_tensordot_pairs_dims(backend_name):
    a, b = RNG.uniform(-1, 1, (2, 3, 4)), RNG.uniform(-1, 1, (3, 4, 2))
    np.testing.assert_allclose(tn.tensordot(t(a), t(b)).numpy(), a.reshape(2, 12) @ b.reshape(12, 2), rtol=1e-12)
    c = RNG.uniform(-1, 1, (4, 3, 2))
    np.testing.assert_allclose(tn.tensordot(t(a), t(c), dims=([1, 2], [1, 0])).numpy(),
                               a.reshape(2, 12) @ c.transpose(1, 0, 2).reshape(12, 2), rtol=1e-12)
    np.testing.assert_allclose(tn.tensordot(t([1.0, 2.0]), t([3.0, 4.0, 5.0]), dims=0).numpy(),
                               [[3, 4, 5], [6, 8, 10]])
    with pytest.raises(RuntimeError, match="dims >= 0"):
        tn.tensordot(tn.ones(2), tn.ones(2), dims=-1)
    with pytest.raises(TypeError, match="pair of lists"):
        tn.tensordot(tn.ones(2, 3), tn.ones(3, 2), dims=[1, 0])
    assert tn.gradgradcheck(lambda x, y: tn.tensordot(x, y, dims=([1], [0])), (t(A, True), t(B, True)))


def test_outer_mv_and_the_add_products(backend_name):
    np.testing.assert_array_equal(tn.outer(tn.tensor([1, 2]), tn.tensor([1.0, 0.5])).numpy(), [[1, 0.5], [2, 1]])
    assert tn.ger(tn.ones(2), tn.ones(3)).shape == (2, 3)
    np.testing.assert_allclose(tn.mv(t(A), t([1.0, 2.0, 3.0])).numpy(), A @ [1.0, 2.0, 3.0])
    m1, m2, bias = RNG.uniform(-1, 1, (2, 3)), RNG.uniform(-1, 1, (3, 4)), RNG.uniform(-1, 1, 4)
    np.testing.assert_allclose(tn.addmm(t(bias), t(m1), t(m2), beta=0.5, alpha=2.0).numpy(),
                               0.5 * bias + 2.0 * (m1 @ m2), rtol=1e-12)
    nan = tn.full((2, 4), float("nan"))
    np.testing.assert_allclose(tn.addmm(nan.double(), t(m1), t(m2), beta=0).numpy(), m1 @ m2)  # input ignored
    np.testing.assert_allclose(t(bias[:2]).addmv(t(A), t([1.0, 1.0, 1.0]), beta=2, alpha=3).numpy(),
                               2 * bias[:2] + 3 * A.sum(1), rtol=1e-12)
    assert tn.baddbmm(tn.ones(2, 2), tn.ones(4, 2, 3), tn.ones(4, 3, 2), alpha=2).tolist() == [[[7.0] * 2] * 2] * 4
    with pytest.raises(RuntimeError, match="outer: Expected 1-D"):
        tn.outer(tn.ones(2, 2), tn.ones(2))
    with pytest.raises(RuntimeError, match="does not broadcast"):
        tn.addmm(tn.ones(3), tn.ones(3, 3), tn.ones(3, 2))
    with pytest.raises(RuntimeError, match="2-D"):
        tn.addmm(tn.ones(2, 2), tn.ones(1, 2, 3), tn.ones(3, 2))
    args = (t(bias, True), t(m1, True), t(m2, True))
    assert tn.gradgradcheck(lambda c, a, b: tn.addmm(c, a, b, beta=0.5, alpha=-2.0), args)
    x = t(np.ones((2, 4)), grad=True)
    tn.addmm(x, t(m1), t(m2), beta=0).sum().backward()
    assert x.grad.tolist() == [[0.0] * 4] * 2  # a zero gradient, as PyTorch's, not None


def test_trace_cross_and_kron(backend_name):
    assert tn.trace(tn.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).item() == 6.0  # 1 + 5
    assert tn.tensor([[1, 2], [3, 4]], dtype=tn.int32).trace().dtype == tn.int64
    with pytest.raises(RuntimeError, match="expected a matrix"):
        tn.trace(tn.ones(2, 2, 2))
    e1, e2 = tn.tensor([1.0, 0.0, 0.0]), tn.tensor([0.0, 1.0, 0.0])
    assert tn.cross(e1, e2, dim=0).tolist() == [0.0, 0.0, 1.0]  # e1 x e2 = e3
    assert tn.linalg.cross(tn.tensor([[1.0, 2.0, 3.0]]), tn.tensor([4.0, 5.0, 6.0])).tolist() == [[-3.0, 6.0, -3.0]]
    with pytest.raises(RuntimeError, match="must have length 3"):
        tn.cross(tn.ones(4, 4), tn.ones(4, 4), dim=0)
    k = tn.kron(tn.tensor([[1.0, 2.0], [3.0, 4.0]]), tn.tensor([[0.0, 1.0], [1.0, 0.0]]))
    assert k.tolist() == [[0, 1, 0, 2], [1, 0, 2, 0], [0, 3, 0, 4], [3, 0, 4, 0]]
    assert tn.kron(tn.ones(2, 3), tn.ones(4)).shape == (2, 12)
    assert tn.gradgradcheck(lambda a, b: tn.cross(a, b, dim=-1), (t(RNG.uniform(-1, 1, (2, 3)), True),
                                                                 t(RNG.uniform(-1, 1, (2, 3)), True)))
    assert tn.gradgradcheck(lambda a, b: tn.kron(a, b), (t(A, True), t(RNG.uniform(-1, 1, 2), True)))
    assert tn.gradcheck(lambda a: a.trace(), t(A, True))


# ---------------------------------------------------------------- linalg
def test_det_inv_solve_values(backend_name):
    assert tn.linalg.det(t([[1.0, 2.0], [3.0, 4.0]])).item() == pytest.approx(-2.0)  # ad - bc
    assert tn.linalg.det(t(np.zeros((0, 0)))).item() == 1.0
    np.testing.assert_allclose(tn.linalg.inv(t([[2.0, 1.0], [1.0, 1.0]])).numpy(), [[1, -1], [-1, 2]])
    np.testing.assert_allclose((t(SQ2) @ tn.linalg.inv(t(SQ2))).numpy(), np.broadcast_to(np.eye(3), (2, 3, 3)), atol=1e-12)
    b = RNG.uniform(-1, 1, 3)
    x = tn.linalg.solve(t(SQ), t(b))
    assert x.shape == (3,)
    np.testing.assert_allclose(SQ @ x.numpy(), b, atol=1e-12)
    assert tn.linalg.solve(t(SQ2), t(RNG.uniform(-1, 1, (2, 3)))).shape == (2, 3)  # a batch of vectors
    assert tn.linalg.solve(t(SQ), t(RNG.uniform(-1, 1, (2, 3, 4)))).shape == (2, 3, 4)  # batch dims broadcast
    xl = tn.linalg.solve(t(SQ), t(B.T), left=False)  # X A = B
    np.testing.assert_allclose(xl.numpy() @ SQ, B.T, atol=1e-12)
    assert t(SQ).det().item() == pytest.approx(np.prod(np.linalg.eigvals(SQ)).real)
    with pytest.raises(RuntimeError, match="singular"):
        tn.linalg.inv(tn.zeros(3, 3))
    with pytest.raises(RuntimeError, match="square"):
        tn.linalg.det(tn.ones(3, 2))
    with pytest.raises(RuntimeError, match="floating point"):
        tn.linalg.solve(tn.eye(3, dtype=tn.int64), tn.ones(3, dtype=tn.int64))


def test_det_inv_solve_gradients(backend_name):
    x = t(SQ, grad=True)
    tn.linalg.det(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), np.linalg.det(SQ) * np.linalg.inv(SQ).T, rtol=1e-10)  # Jacobi
    for fn, inputs in [(tn.linalg.det, (t(SQ2, True),)), (tn.linalg.inv, (t(SQ2, True),)),
                       (tn.linalg.solve, (t(SQ, True), t(RNG.uniform(-1, 1, (2, 3, 2)), True))),
                       (tn.linalg.solve, (t(SQ2, True), t(RNG.uniform(-1, 1, 3), True)))]:
        assert tn.gradcheck(fn, inputs)
        assert tn.gradgradcheck(fn, inputs)


def test_vector_and_matrix_norms(backend_name):
    v = tn.tensor([3.0, -4.0, 0.0])
    assert tn.linalg.vector_norm(v).item() == 5.0
    assert tn.linalg.vector_norm(v, 1).item() == 7.0
    assert tn.linalg.vector_norm(v, float("inf")).item() == 4.0
    assert tn.linalg.vector_norm(v, float("-inf")).item() == 0.0
    assert tn.linalg.vector_norm(v, 0).item() == 2.0  # the nonzeros
    assert tn.linalg.vector_norm(tn.tensor([1.0, 2.0]), -1).item() == pytest.approx(2 / 3)  # (1 + 1/2)^-1
    assert tn.linalg.vector_norm(tn.ones(2, 3), keepdim=True).shape == (1, 1)
    assert tn.linalg.vector_norm(tn.ones(2, 3), dim=1).tolist() == pytest.approx([math.sqrt(3)] * 2)
    assert tn.linalg.vector_norm(tn.ones(2), dtype=tn.float64).dtype == tn.float64
    m = tn.tensor([[1.0, -2.0], [3.0, 4.0]])
    assert tn.linalg.matrix_norm(m).item() == pytest.approx(math.sqrt(30))
    assert [tn.linalg.matrix_norm(m, o).item() for o in (1, -1, float("inf"), float("-inf"))] == [6, 4, 7, 3]
    assert tn.linalg.matrix_norm(tn.ones(2, 3, 4), 1, keepdim=True).shape == (2, 1, 1)
    assert tn.linalg.norm(m, 1).item() == 6.0 and tn.linalg.norm(m, 1, dim=1).tolist() == [3.0, 7.0]
    assert tn.linalg.norm(tn.ones(2, 2, 2)).item() == pytest.approx(math.sqrt(8))
    with pytest.raises(RuntimeError, match="floating point"):
        tn.linalg.vector_norm(tn.arange(3))
    with pytest.raises(RuntimeError, match="Order 3 not supported"):
        tn.linalg.matrix_norm(m, 3)
    with pytest.raises(RuntimeError, match="1D or 2D"):
        tn.linalg.norm(tn.ones(2, 2, 2), 2)
    with pytest.raises(AttributeError, match="torch.linalg.eig"):
        tn.linalg.eig  # noqa: B018 - complex results: not in tinynn
    z = t(np.zeros(3), grad=True)
    tn.linalg.vector_norm(z).backward()
    assert z.grad.tolist() == [0.0, 0.0, 0.0]  # PyTorch's subgradient at 0
    x = t(RNG.uniform(0.5, 1.5, (2, 3)) * np.array([[1, -1, 1], [-1, 1, 1]]), grad=True)
    for fn in (lambda a: tn.linalg.vector_norm(a, 3.0, dim=1), lambda a: tn.linalg.vector_norm(a, -1.5),
               lambda a: tn.linalg.matrix_norm(a), lambda a: tn.linalg.matrix_norm(a, 1)):
        assert tn.gradcheck(fn, (x,))
        assert tn.gradgradcheck(fn, (x,))


def test_cdist_is_the_pairwise_p_norm(backend_name):
    x1, x2 = tn.tensor([[0.0, 0.0], [1.0, 1.0]]), tn.tensor([[3.0, 4.0], [1.0, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(tn.cdist(x1, x2).numpy(), [[5, 1, 0], [math.sqrt(13), 1, math.sqrt(2)]], rtol=1e-6)
    assert tn.cdist(x1, x2, p=1).tolist() == [[7, 1, 0], [5, 1, 2]]
    assert tn.cdist(x1, x2, p=float("inf")).tolist() == [[4, 1, 0], [3, 1, 1]]
    assert tn.cdist(tn.ones(2, 1, 2, 3), tn.ones(4, 5, 3)).shape == (2, 4, 2, 5)
    with pytest.raises(RuntimeError, match="same number of columns"):
        tn.cdist(tn.ones(2, 3), tn.ones(2, 4))
    with pytest.raises(RuntimeError, match="non-negative p"):
        tn.cdist(tn.ones(2, 3), tn.ones(2, 3), p=-1)
    a = t(RNG.uniform(-1, 1, (3, 2)), True)
    b = t(RNG.uniform(-1, 1, (4, 2)), True)
    assert tn.gradcheck(tn.cdist, (a, b)) and tn.gradgradcheck(tn.cdist, (a, b))


# ---------------------------------------------------------------- selection, accumulation, tiling
def test_masked_select_scatter_add_and_index_add(backend_name):
    x = tn.tensor([[1, 2], [3, 4]])
    assert tn.masked_select(x, tn.tensor([True, False])).tolist() == [1, 3]  # the mask broadcast over rows
    with pytest.raises(RuntimeError, match="bool mask"):
        x.masked_select(tn.tensor([1, 0]))
    assert tn.zeros(3).scatter_add(0, tn.tensor([0, 0, 2]), tn.tensor([1.0, 2.0, 3.0, 4.0])).tolist() == [3, 0, 3]
    assert tn.zeros(3, 2).index_add(0, tn.tensor([0, 0, 2]), tn.ones(3, 2), alpha=2).tolist() == [[4, 4], [0, 0], [2, 2]]
    y = tn.zeros(3)
    assert y.index_add_(0, tn.tensor([1], dtype=tn.int32), tn.ones(1)) is y and y.tolist() == [0, 1, 0]
    y.scatter_add_(0, tn.tensor([2, 2]), tn.tensor([0.5, 0.25]))
    assert y.tolist() == [0, 1, 0.75]
    with pytest.raises(IndexError, match="out of range"):
        tn.zeros(3).index_add(0, tn.tensor([-1]), tn.ones(1))
    with pytest.raises(RuntimeError, match="dtype"):
        tn.zeros(3).scatter_add(0, tn.tensor([0]), tn.tensor([1]))
    index = tn.tensor([[0, 2, 1], [1, 1, 0]])
    args = (t(RNG.uniform(-1, 1, (2, 4)), True), t(RNG.uniform(-1, 1, (2, 3)), True))
    assert tn.gradgradcheck(lambda a, s: a.scatter_add(1, index, s), args)
    assert tn.gradgradcheck(lambda a, s: a.index_add(1, tn.tensor([2, 0, 2]), s, alpha=-1.5), args)
    assert tn.gradgradcheck(lambda a: tn.masked_select(a, tn.tensor([True, False, True])), args[1])


def test_repeat_interleave_tile_broadcast_to_meshgrid(backend_name):
    x = tn.tensor([[1, 2], [3, 4]])
    assert tn.repeat_interleave(x, 2).tolist() == [1, 1, 2, 2, 3, 3, 4, 4]
    assert x.repeat_interleave(tn.tensor([1, 2]), dim=0).tolist() == [[1, 2], [3, 4], [3, 4]]
    assert tn.repeat_interleave(tn.tensor([2, 0, 1])).tolist() == [0, 0, 2]
    with pytest.raises(RuntimeError, match="same size as input"):
        x.repeat_interleave(tn.tensor([1, 2, 3]), dim=0)
    assert tn.tile(tn.tensor([1, 2]), (2, 2)).tolist() == [[1, 2, 1, 2], [1, 2, 1, 2]]
    assert tn.tensor([[1, 2]]).tile(2).tolist() == [[1, 2, 1, 2]]  # fewer dims: 1s in front
    assert tn.broadcast_to(tn.tensor([1, 2]), (3, -1)).tolist() == [[1, 2]] * 3
    gx, gy = tn.meshgrid(tn.tensor([1, 2]), tn.tensor([3, 4, 5]), indexing="xy")
    assert gx.tolist() == [[1, 2]] * 3 and gy.tolist() == [[3, 3], [4, 4], [5, 5]]
    with pytest.warns(UserWarning, match="indexing"):
        gi, gj = tn.meshgrid([tn.tensor([1, 2]), tn.tensor([3, 4, 5])])
    assert gi.tolist() == [[1, 1, 1], [2, 2, 2]] and gj.tolist() == [[3, 4, 5]] * 2
    assert tn.gradgradcheck(lambda a: a.repeat_interleave(tn.tensor([1, 0, 2]), dim=1).tile(2, 1), t(A, True))


def test_count_nonzero_clamp_min_max_var_mean(backend_name):
    m = tn.tensor([[0.0, 1.0], [2.0, 0.0]])
    assert tn.count_nonzero(m).item() == 2 and m.count_nonzero(0).tolist() == [1, 1]
    assert tn.count_nonzero(m, dim=(0, 1)).dtype == tn.int64
    assert tn.tensor([1, 5]).clamp_min(3).tolist() == [3, 5] and tn.clamp_max(tn.tensor([1.0, 5.0]), 2).tolist() == [1, 2]
    v, mean = tn.var_mean(tn.tensor([[1.0, 2.0], [3.0, 5.0]]), 1)
    assert v.tolist() == [0.5, 2.0] and mean.tolist() == [1.5, 4.0]  # Bessel's correction: /(n - 1)
    v, mean = tn.var_mean(tn.tensor([[1.0, 2.0], [3.0, 5.0]]), dim=1, correction=0, keepdim=True)
    assert v.tolist() == [[0.25], [1.0]] and mean.shape == (2, 1)
    s, mean = tn.std_mean(tn.tensor([1.0, 2.0, 3.0]))
    assert s.item() == 1.0 and mean.item() == 2.0


# ---------------------------------------------------------------- running extrema, order statistics, counting
def test_cummax_cummin_take_the_last_place_of_ties_and_nan_from_where_it_occurs(backend_name):
    r = tn.cummax(tn.tensor([1.0, 3.0, 3.0, 2.0, 5.0, 5.0]), 0)
    assert r.values.tolist() == [1, 3, 3, 3, 5, 5] and r.indices.tolist() == [0, 1, 2, 2, 4, 5]
    r = tn.tensor([3.0, 1.0, 1.0, 2.0, 0.0, 0.0]).cummin(0)
    assert r.values.tolist() == [3, 1, 1, 1, 0, 0] and r.indices.tolist() == [0, 1, 2, 2, 4, 5]
    r = tn.cummax(tn.tensor([1.0, float("nan"), 2.0, float("nan"), 0.0]), 0)
    assert np.isnan(r.values.numpy()[1:]).all() and r.indices.tolist() == [0, 1, 1, 3, 3]
    assert tn.cummax(tn.tensor([1, 3, 2]), 0).values.tolist() == [1, 3, 3]
    assert tn.gradgradcheck(lambda a: a.cummax(1).values * a.cummin(0).values, t(A, True))


def test_logcumsumexp_without_overflow(backend_name):
    y = tn.logcumsumexp(t([-1000.0, 0.0, 1.0]), 0)
    np.testing.assert_allclose(y.numpy(), [-1000.0, 0.0, 1.0 + math.log1p(math.exp(-1.0))], rtol=1e-12)
    with pytest.raises(NotImplementedError, match="int64"):
        tn.logcumsumexp(tn.tensor([1, 2]), 0)
    assert tn.gradcheck(lambda a: a.logcumsumexp(1), t(A, True))
    assert tn.gradgradcheck(lambda a: a.logcumsumexp(0), t(A, True))


def test_kthvalue_and_quantile(backend_name):
    r = tn.kthvalue(tn.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]]), 1, dim=0, keepdim=True)
    assert r.values.tolist() == [[0, 1, 2]] and r.indices.tolist() == [[1, 0, 0]]
    with pytest.raises(RuntimeError, match="out of range"):
        tn.kthvalue(tn.tensor([3.0, 1.0]), 3)
    x = tn.tensor([1.0, 2.0, 3.0, 4.0])
    assert tn.quantile(x, 0.4).item() == pytest.approx(2.2)  # position 0.4 * 3 = 1.2: 2 + 0.2 (3 - 2)
    assert [tn.quantile(x, 0.4, interpolation=m).item() for m in ("lower", "higher", "nearest", "midpoint")] == \
        [2.0, 3.0, 2.0, 2.5]
    q = tn.quantile(tn.tensor([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 1.0, 1.0]]), tn.tensor([0.25, 0.5]), dim=1, keepdim=True)
    assert q.shape == (2, 2, 1) and q.flatten().tolist() == [1.75, 0.0, 2.5, 0.5]
    nan = float("nan")
    assert np.isnan(tn.quantile(tn.tensor([1.0, nan, 3.0]), 0.5).item())
    assert tn.nanquantile(tn.tensor([1.0, nan, 3.0]), 0.5).item() == 2.0
    with pytest.raises(RuntimeError, match="range"):
        tn.quantile(x, 1.5)
    with pytest.raises(RuntimeError, match="float or double"):
        tn.quantile(tn.tensor([1, 2]), 0.5)
    assert tn.gradgradcheck(lambda a: tn.quantile(a, t([0.3, 0.8]), dim=1), t(A, True))
    assert tn.gradgradcheck(lambda a: a.kthvalue(2, 1).values, t(A, True))


def test_unique_bincount_searchsorted_bucketize(backend_name):
    values, inverse, counts = tn.unique(tn.tensor([3, 1, 2, 3, 1]), return_inverse=True, return_counts=True)
    assert values.tolist() == [1, 2, 3] and inverse.tolist() == [2, 0, 1, 2, 0] and counts.tolist() == [2, 1, 2]
    rows, inverse = tn.tensor([[1, 2], [1, 2], [0, 5]]).unique(dim=0, return_inverse=True)
    assert rows.tolist() == [[0, 5], [1, 2]] and inverse.tolist() == [1, 1, 0]
    assert tn.bincount(tn.tensor([0, 2, 2]), minlength=5).tolist() == [1, 0, 2, 0, 0]
    w = tn.bincount(tn.tensor([0, 2, 2]), weights=tn.tensor([1.0, 2.0, 3.0]))
    assert w.tolist() == [1, 0, 5] and w.dtype == tn.float32
    assert tn.bincount(tn.tensor([0, 1]), weights=tn.tensor([1, 2])).dtype == tn.float64
    with pytest.raises(RuntimeError, match="non-negative integral"):
        tn.bincount(tn.tensor([0, -2]))
    seq = tn.tensor([1, 3, 5, 7])
    assert tn.searchsorted(seq, tn.tensor([3, 6, 9])).tolist() == [1, 3, 4]
    assert tn.searchsorted(seq, tn.tensor([3, 6, 9]), right=True).tolist() == [2, 3, 4]
    assert tn.searchsorted(seq, tn.tensor([3]), side="right", out_int32=True).dtype == tn.int32
    assert tn.searchsorted(tn.tensor([[1, 3, 5], [2, 4, 6]]), tn.tensor([[3, 6], [1, 5]])).tolist() == [[1, 3], [0, 2]]
    assert tn.bucketize(tn.tensor([3, 6, 9]), seq).tolist() == [1, 3, 4]
    assert tn.bucketize(tn.tensor([3, 6, 9]), seq, right=True).tolist() == [2, 3, 4]
