"""tn.normal, tn.bernoulli, tn.multinomial, tn.poisson and the Tensor samplers (bernoulli_, exponential_,
geometric_, cauchy_, log_normal_, random_): their distributions, PyTorch's dtypes, shapes and errors,
reproducibility from a seeded tn.Generator, and PyTorch's zero gradient through a sample.

Statistics: a sample mean of N draws lies within 6 standard errors (6 sqrt(Var / N)) of the true
mean, and a frequency within 6 sqrt(p (1 - p) / N) of its probability -- each fails by chance with
probability about 2e-9, and the draws are seeded besides. The moments are the textbook ones of each law."""
import math

import numpy as np
import pytest

import tinynn as tn

N = 100_000


def within(sample_mean, mean, variance, n=N):
    assert abs(sample_mean - mean) <= 6 * math.sqrt(variance / n), (sample_mean, mean)


def frequency_ok(hits, n, p):
    within(hits / n, p, p * (1 - p), n)


def gen(seed=0):
    return tn.Generator().manual_seed(seed)


# ------------------------------------------------------------------------------------------- normal

def test_normal_four_forms_have_the_right_moments_shapes_and_dtypes():
    means, stds = np.array([-2.0, 3.0]), np.array([0.5, 2.0])
    mean_t = tn.tensor(np.tile(means, (N, 1)), dtype=tn.float64)
    std_t = tn.tensor(np.tile(stds, (N, 1)), dtype=tn.float64)
    both = tn.normal(mean_t, std_t, generator=gen(1))           # (Tensor, Tensor)
    mean_only = tn.normal(mean_t, 2.0, generator=gen(2))         # (Tensor, float)
    std_only = tn.normal(1.5, std_t, generator=gen(3))           # (float, Tensor)
    sized = tn.normal(1.5, 0.25, (N, 2), generator=gen(4))       # (float, float, size)
    for x, m, s in ((both, means, stds), (mean_only, means, [2.0, 2.0]), (std_only, [1.5, 1.5], stds),
                    (sized, [1.5, 1.5], [0.25, 0.25])):
        assert x.shape == (N, 2)
        a = x.numpy()
        for j in range(2):
            within(a[:, j].mean(), m[j], s[j] ** 2)
            within(a[:, j].var(), s[j] ** 2, 2 * s[j] ** 4)   # Var(s^2) ~ 2 sigma^4 / N for a normal
    assert both.dtype == tn.float64 and sized.dtype == tn.get_default_dtype()
    assert tn.normal(0.0, 1.0, (3,), dtype=tn.float64).dtype == tn.float64


def test_normal_dtype_is_the_tensor_means_else_stds_and_shapes_broadcast():
    m32, s64 = tn.zeros(2, 1), tn.ones(3, dtype=tn.float64)
    assert tn.normal(m32, s64).dtype == tn.float32 and tn.normal(m32, s64).shape == (2, 3)
    assert tn.normal(0.0, s64).dtype == tn.float64
    assert tn.normal(mean=tn.zeros(4)).shape == (4,)                       # std defaults to 1
    assert tn.normal(tn.tensor([1.0, -2.0]), 0.0).tolist() == [1.0, -2.0]  # std 0: the mean itself
    assert tn.normal(0.0, 1.0, (2, 0)).shape == (2, 0)
    x = tn.normal(0.0, 1.0, (3,), requires_grad=True)
    assert x.requires_grad and x.is_leaf


def test_normal_errors():
    with pytest.raises(RuntimeError, match="std >= 0"):
        tn.normal(tn.zeros(2), -1.0)
    with pytest.raises(RuntimeError, match="std >= 0"):
        tn.normal(tn.zeros(2), tn.tensor([1.0, float("nan")]))
    with pytest.raises(RuntimeError, match="std >= 0"):
        tn.normal(0.0, -0.5, (2,))
    with pytest.raises(TypeError, match="size"):
        tn.normal(0.0, 1.0)
    with pytest.raises(NotImplementedError, match="int64"):
        tn.normal(tn.zeros(2, dtype=tn.int64), 1.0)
    with pytest.raises(NotImplementedError, match="int64"):
        tn.normal(0.0, 1.0, (2,), dtype=tn.int64)
    with pytest.raises(RuntimeError, match=r"\(2, 3\).*\(5,\)"):
        tn.normal(tn.zeros(2, 3), tn.ones(5))
    with pytest.raises(TypeError, match="mean"):
        tn.normal([0.0, 1.0], 1.0)
    with pytest.raises(TypeError, match="dtype"):
        tn.normal(tn.zeros(2), 1.0, dtype=tn.float64)


# -------------------------------------------------------------------------------------- bernoulli

def test_bernoulli_frequencies_and_dtype():
    p = tn.tensor(np.tile([0.0, 0.3, 1.0], (N, 1)), dtype=tn.float64)
    x = tn.bernoulli(p, generator=gen()).numpy()
    assert tn.bernoulli(p[:2]).dtype == tn.float64 and set(np.unique(x)) <= {0.0, 1.0}
    assert x[:, 0].sum() == 0 and x[:, 2].sum() == N                 # p = 0 never, p = 1 always
    frequency_ok(x[:, 1].sum(), N, 0.3)
    y = tn.bernoulli(tn.zeros(N, dtype=tn.int64), 0.25, generator=gen())   # a float p: input's shape and dtype only
    assert y.dtype == tn.int64
    frequency_ok(int(y.sum().item()), N, 0.25)
    assert tn.ones(3).bernoulli(0.0).tolist() == [0.0, 0.0, 0.0]       # the method


def test_bernoulli_errors():
    with pytest.raises(RuntimeError, match=r"\[0, 1\]"):
        tn.bernoulli(tn.tensor([0.5, 1.5]))
    with pytest.raises(RuntimeError, match=r"\[0, 1\]"):
        tn.bernoulli(tn.tensor([float("nan")]))
    with pytest.raises(RuntimeError, match=r"\[0, 1\]"):
        tn.bernoulli(tn.ones(2), 1.5)
    with pytest.raises(NotImplementedError, match="int64"):
        tn.bernoulli(tn.ones(2, dtype=tn.int64))
    with pytest.raises(TypeError, match="p must be a float"):
        tn.bernoulli(tn.ones(2), tn.ones(2))


# ------------------------------------------------------------------------------------ multinomial

def test_multinomial_with_replacement_follows_the_normalised_weights():
    w = [1.0, 0.0, 3.0, 6.0]                                          # need not sum to 1
    x = tn.multinomial(tn.tensor(w), N, replacement=True, generator=gen()).numpy()
    assert x.dtype == np.int64 and x.shape == (N,)
    counts = np.bincount(x, minlength=4)
    assert counts[1] == 0                                             # a zero weight is never drawn
    for i in (0, 2, 3):
        frequency_ok(counts[i], N, w[i] / 10)
    rows = tn.multinomial(tn.tensor([[0.0, 1.0], [1.0, 0.0]]), 50, True)   # each row its own distribution
    assert rows.shape == (2, 50) and rows[0].tolist() == [1] * 50 and rows[1].tolist() == [0] * 50


def test_multinomial_without_replacement_draws_distinct_indices_as_successive_draws():
    w = np.array([1.0, 2.0, 3.0, 4.0])
    rows = 40_000
    x = tn.multinomial(tn.tensor(np.tile(w, (rows, 1))), 4, generator=gen()).numpy()
    assert all(sorted(r) == [0, 1, 2, 3] for r in x[:50]) and (np.sort(x, axis=1) == np.arange(4)).all()
    # first draw: P(i) = w_i / W; second: P(j) = sum_{i != j} (w_i / W) (w_j / (W - w_i))
    total = w.sum()
    for j in range(4):
        frequency_ok((x[:, 0] == j).sum(), rows, w[j] / total)
        second = sum(w[i] / total * w[j] / (total - w[i]) for i in range(4) if i != j)
        frequency_ok((x[:, 1] == j).sum(), rows, second)


def test_multinomial_zero_weights_only_after_the_positive_ones_without_replacement():
    for seed in range(20):
        x = tn.multinomial(tn.tensor([0.0, 1.0, 0.0, 2.0]), 4, generator=gen(seed)).tolist()
        assert sorted(x[:2]) == [1, 3] and sorted(x[2:]) == [0, 2]
        assert 0 not in tn.multinomial(tn.tensor([0.0, 5.0, 1e-3]), 2, generator=gen(seed)).tolist()
    assert tn.tensor([1.0, 1.0, 1.0]).multinomial(2).shape == (2,)      # the method
    assert tn.multinomial(tn.ones(0, 3), 2).shape == (0, 2)


def test_multinomial_errors():
    with pytest.raises(RuntimeError, match="inf, nan or an element < 0"):
        tn.multinomial(tn.tensor([1.0, -1.0]), 1)
    for bad in (float("inf"), float("nan")):
        with pytest.raises(RuntimeError, match="inf, nan or an element < 0"):
            tn.multinomial(tn.tensor([1.0, bad]), 1, True)
    with pytest.raises(RuntimeError, match="sum of probabilities is <= 0"):
        tn.multinomial(tn.tensor([[1.0, 1.0], [0.0, 0.0]]), 1, True)
    with pytest.raises(RuntimeError, match="without replacement"):
        tn.multinomial(tn.ones(3), 4)
    with pytest.raises(RuntimeError, match="num_samples <= 0"):
        tn.multinomial(tn.ones(3), 0)
    with pytest.raises(RuntimeError, match="1-D or 2-D"):
        tn.multinomial(tn.ones(2, 2, 2), 1)
    with pytest.raises(RuntimeError, match="floating"):
        tn.multinomial(tn.ones(3, dtype=tn.int64), 1)
    with pytest.raises(TypeError, match="num_samples"):
        tn.multinomial(tn.ones(3), 1.0)
    with pytest.raises(TypeError, match="replacement"):
        tn.multinomial(tn.ones(3), 1, 1)


# ---------------------------------------------------------------------------------------- poisson

def test_poisson_mean_is_the_rate_and_dtype_is_kept():
    rates = [0.0, 0.5, 4.0, 100.0]
    x = tn.poisson(tn.tensor(np.tile(rates, (N, 1)), dtype=tn.float64), generator=gen()).numpy()
    assert x.dtype == np.float64 and (x == np.round(x)).all() and (x >= 0).all()
    assert (x[:, 0] == 0).all()
    for j, rate in enumerate(rates[1:], 1):
        within(x[:, j].mean(), rate, rate)                           # Poisson: mean = variance = rate
    assert tn.poisson(tn.ones(2, dtype=tn.float16)).dtype == tn.float16


def test_poisson_errors():
    with pytest.raises(RuntimeError, match="non-negative"):
        tn.poisson(tn.tensor([1.0, -1.0]))
    with pytest.raises(RuntimeError, match="non-negative"):
        tn.poisson(tn.tensor([float("nan")]))
    with pytest.raises(RuntimeError, match="too large"):
        tn.poisson(tn.tensor([float("inf")]))
    with pytest.raises(NotImplementedError, match="int64"):
        tn.poisson(tn.tensor([1, 2]))


# ------------------------------------------------------------------------------ in-place samplers

def test_exponential_geometric_cauchy_log_normal_laws():
    e = tn.empty(N, dtype=tn.float64).exponential_(2.0, generator=gen(1)).numpy()
    assert (e > 0).all()
    within(e.mean(), 1 / 2.0, 1 / 2.0 ** 2)                          # Exp(lambda): mean 1/lambda, var 1/lambda^2
    g = tn.empty(N, dtype=tn.int64).geometric_(0.25, generator=gen(2)).numpy()
    assert g.min() >= 1
    within(g.mean(), 1 / 0.25, (1 - 0.25) / 0.25 ** 2)               # trials to the first success
    frequency_ok((g == 1).sum(), N, 0.25)
    c = tn.empty(N, dtype=tn.float64).cauchy_(3.0, 2.0, generator=gen(3)).numpy()
    frequency_ok((c <= 3.0).sum(), N, 0.5)                           # F(x) = 1/2 + arctan((x - m) / s) / pi
    frequency_ok((c <= 3.0 + 2.0).sum(), N, 0.75)
    ln = np.log(tn.empty(N, dtype=tn.float64).log_normal_(0.5, 0.75, generator=gen(4)).numpy())
    within(ln.mean(), 0.5, 0.75 ** 2)                                # log x ~ N(mean, std^2)
    within(ln.var(), 0.75 ** 2, 2 * 0.75 ** 4)


def test_random_ranges_per_dtype():
    x = tn.empty(N).random_(3, 7, generator=gen()).numpy()
    assert set(np.unique(x)) == {3.0, 4.0, 5.0, 6.0}                  # [from, to - 1]
    for v in range(3, 7):
        frequency_ok((x == v).sum(), N, 0.25)
    assert set(tn.empty(1000, dtype=tn.int64).random_(5).tolist()) == {0, 1, 2, 3, 4}
    assert set(tn.empty(1000, dtype=tn.int64).random_(**{"from": -2, "to": 1}).tolist()) == {-2, -1, 0}
    assert set(tn.empty(100, dtype=tn.bool).random_().tolist()) == {False, True}
    u8 = tn.empty(5000, dtype=tn.uint8).random_().numpy()
    assert u8.min() < 10 and u8.max() > 245                          # [0, 255]
    i8 = tn.empty(5000, dtype=tn.int8).random_().numpy()
    assert i8.min() >= 0 and i8.max() > 120                          # [0, 127]
    f = tn.empty(5000).random_().numpy()
    assert f.min() >= 0 and f.max() <= 2 ** 24 and f.max() > 2 ** 23  # a float32 holds the integers to 2^24
    assert tn.empty(3, dtype=tn.int64).random_(-2 ** 63, None).dtype == tn.int64   # to None: up to the dtype's max


def test_bernoulli_in_place_with_a_float_or_a_tensor_p():
    x = tn.empty(N, dtype=tn.int64)
    assert x.bernoulli_(0.7, generator=gen()) is x and x.dtype == tn.int64
    frequency_ok(int(x.sum().item()), N, 0.7)
    m = tn.zeros(2, 3).bernoulli_(tn.tensor([0.0, 1.0, 1.0]))        # p broadcast to the tensor's shape
    assert m.tolist() == [[0.0, 1.0, 1.0], [0.0, 1.0, 1.0]]
    assert tn.zeros(5, dtype=tn.bool).bernoulli_(1.0).tolist() == [True] * 5
    for p in (tn.ones(1, 3), tn.ones(2)):
        with pytest.raises(RuntimeError, match="broadcast"):
            tn.zeros(3).bernoulli_(p)
    with pytest.raises(RuntimeError, match=r"\[0, 1\]"):
        tn.zeros(3).bernoulli_(1.5)
    with pytest.raises(NotImplementedError, match="floating"):
        tn.zeros(3).bernoulli_(tn.ones(3, dtype=tn.int64))


def test_in_place_samplers_write_views_and_check_their_arguments():
    base = tn.zeros(4, 3)
    base[1].exponential_()                                           # a view: the base sees the draws
    assert (base[1].numpy() > 0).all() and (base[0].numpy() == 0).all()
    for call, error, match in [(lambda: tn.zeros(3).exponential_(0.0), RuntimeError, "lambda > 0"),
                               (lambda: tn.zeros(3).geometric_(1.0), RuntimeError, r"\(0, 1\)"),
                               (lambda: tn.zeros(3).geometric_(0.0), RuntimeError, r"\(0, 1\)"),
                               (lambda: tn.zeros(3).cauchy_(0.0, -1.0), RuntimeError, "sigma > 0"),
                               (lambda: tn.zeros(3).log_normal_(0.0, 0.0), RuntimeError, "std > 0"),
                               (lambda: tn.zeros(3).random_(5, 5), RuntimeError, "less than 'to'"),
                               (lambda: tn.zeros(3, dtype=tn.uint8).random_(-1, 3), RuntimeError, "out of bounds"),
                               (lambda: tn.zeros(3, dtype=tn.int8).random_(0, 300), RuntimeError, "out of bounds"),
                               (lambda: tn.zeros(3).random_(1.5, 3.5), TypeError, "int"),
                               (lambda: tn.zeros(3).random_(**{"from": 2}), TypeError, "to="),
                               (lambda: tn.zeros(3, dtype=tn.int64).exponential_(), RuntimeError, "floating"),
                               (lambda: tn.zeros(3, dtype=tn.int64).cauchy_(), RuntimeError, "floating"),
                               (lambda: tn.zeros(3, dtype=tn.int64).log_normal_(), NotImplementedError, "floating"),
                               (lambda: tn.zeros(3, dtype=tn.bool).geometric_(0.5), NotImplementedError, "bool")]:
        with pytest.raises(error, match=match):
            call()
    with pytest.warns(UserWarning, match="2\\^24"):
        tn.zeros(3).random_(0, 2 ** 25)


# ------------------------------------------------------------------------------- reproducibility

SAMPLERS = {
    "normal": lambda g: tn.normal(tn.zeros(5), tn.ones(5), generator=g),
    "normal_sized": lambda g: tn.normal(0.0, 1.0, (5,), generator=g),
    "bernoulli": lambda g: tn.bernoulli(tn.full((50,), 0.5), generator=g),
    "multinomial": lambda g: tn.multinomial(tn.ones(2, 20), 10, generator=g),
    "multinomial_replacement": lambda g: tn.multinomial(tn.ones(20), 10, True, generator=g),
    "poisson": lambda g: tn.poisson(tn.full((20,), 3.0), g),
    "bernoulli_": lambda g: tn.zeros(50).bernoulli_(generator=g),
    "exponential_": lambda g: tn.zeros(5).exponential_(generator=g),
    "geometric_": lambda g: tn.zeros(5).geometric_(0.3, generator=g),
    "cauchy_": lambda g: tn.zeros(5).cauchy_(generator=g),
    "log_normal_": lambda g: tn.zeros(5).log_normal_(generator=g),
    "random_": lambda g: tn.zeros(5, dtype=tn.int64).random_(generator=g),
}


@pytest.mark.parametrize("name", SAMPLERS)
def test_a_seeded_generator_fixes_the_samples_and_leaves_the_default_stream(name):
    draw = SAMPLERS[name]
    state = tn.get_rng_state()
    a, b = draw(gen(7)), draw(gen(7))
    assert tn.equal(a, b) and not tn.equal(a, draw(gen(8)))
    assert tn.equal(tn.get_rng_state(), state)                      # the default generator was not used
    tn.manual_seed(3)
    c = draw(None)
    tn.manual_seed(3)
    assert tn.equal(c, draw(None))                                  # nor differs when it is


# --------------------------------------------------------------------------------------- gradients

def test_samples_have_zero_gradient_as_in_pytorch(backend_name):
    """PyTorch's samplers do not reparameterize: d sample / d parameter is 0 (a graph node that requires grad)."""
    mean = tn.tensor([0.5, -1.0], dtype=tn.float64, requires_grad=True)
    std = tn.tensor([[1.0], [2.0]], dtype=tn.float32, requires_grad=True)
    y = tn.normal(mean, std)
    assert y.requires_grad and y.dtype == tn.float64 and y.shape == (2, 2)
    (y * y).sum().backward()
    assert mean.grad.tolist() == [0.0, 0.0] and std.grad.tolist() == [[0.0], [0.0]]
    for sample in (tn.bernoulli, tn.poisson):
        p = tn.tensor([0.2, 0.7], dtype=tn.float64, requires_grad=True)
        sample(p).sum().backward()
        assert p.grad.tolist() == [0.0, 0.0]
    with tn.no_grad():
        assert not tn.normal(mean, 1.0).requires_grad
    leaf = tn.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="exponential_: a leaf Variable"):
        leaf.exponential_()
    x = tn.ones(3, dtype=tn.float64, requires_grad=True)
    z = x * 2
    version = z._version
    z.cauchy_()                                                     # recorded: the old z gets gradient zero
    assert z._version > version and z.requires_grad
    (z.sum() + (x * 3).sum()).backward()
    assert x.grad.tolist() == [3.0, 3.0, 3.0]
    p = tn.tensor([0.5, 0.5, 0.5], dtype=tn.float64, requires_grad=True)
    before = tn.ones(3, dtype=tn.float64, requires_grad=True)
    w = before * 1
    w.bernoulli_(p)                                                 # a tensor p that requires grad: zero too
    w.sum().backward()
    assert p.grad.tolist() == [0.0, 0.0, 0.0] and before.grad.tolist() == [0.0, 0.0, 0.0]
