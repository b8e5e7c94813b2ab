"""kl_divergence against closed forms written out here, KL(p, p) = 0 and KL >= 0, Monte Carlo estimates
E_p[log p(X) - log q(X)] within 6 standard errors for every registered pair with a finite value, the +inf
cases, dispatch (most specific registration, NotImplementedError for an unregistered pair, the
exponential-family Bregman fallback) and float64 gradcheck and gradgradcheck on both backends."""
import math
import warnings

import numpy as np
import pytest

import tinynn as tn

D = tn.distributions
rng = np.random.default_rng(11)


def t(a, grad=False):
    return tn.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def close(a, b, rtol=1e-12, atol=1e-12):
    np.testing.assert_allclose(a.detach().numpy() if isinstance(a, tn.Tensor) else a, b, rtol=rtol, atol=atol)


def pos(*shape):
    return rng.uniform(0.4, 2.0, shape)


def spd(n):
    a = rng.normal(size=(n, n))
    return a @ a.T + n * np.eye(n)


# builders of a random distribution of each registered family (a fresh draw of parameters per call)
FAMILIES = {
    "normal": lambda: D.Normal(t(rng.normal(size=3)), t(pos(3))),
    "uniform": lambda: D.Uniform(t(-pos(3)), t(pos(3))),
    "bernoulli": lambda: D.Bernoulli(t(rng.uniform(0.1, 0.9, 3))),
    "categorical": lambda: D.Categorical(t(pos(2, 4))),
    "one_hot": lambda: D.OneHotCategorical(logits=t(rng.normal(size=(2, 4)))),
    "exponential": lambda: D.Exponential(t(pos(3))),
    "laplace": lambda: D.Laplace(t(rng.normal(size=3)), t(pos(3))),
    "poisson": lambda: D.Poisson(t(pos(3) * 2)),
    "geometric": lambda: D.Geometric(t(rng.uniform(0.2, 0.9, 3))),
    "binomial": lambda: D.Binomial(5, t(rng.uniform(0.1, 0.9, 3))),
    "mvn": lambda: D.MultivariateNormal(t(rng.normal(size=3)), covariance_matrix=t(spd(3))),
    "independent": lambda: D.Independent(D.Normal(t(rng.normal(size=(2, 3))), t(pos(2, 3))), 1),
    "lognormal": lambda: D.LogNormal(t(rng.normal(size=3)), t(pos(3))),
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_kl_of_a_distribution_with_itself_is_zero_and_with_another_is_positive(family):
    p, q = FAMILIES[family](), FAMILIES[family]()
    close(D.kl_divergence(p, p), np.zeros(p.batch_shape), atol=1e-12)
    kl = D.kl_divergence(p, q).numpy()
    assert kl.shape == tuple(p.batch_shape) and np.all(kl > 0)


# (p, q) pairs whose KL is finite; the Monte Carlo estimate E_p[log p(X) - log q(X)] must agree
MONTE_CARLO = {
    "normal-normal": lambda: (FAMILIES["normal"](), FAMILIES["normal"]()),
    "uniform-uniform": lambda: (D.Uniform(t([0.0, -1.0]), t([1.0, 0.5])), D.Uniform(t([-1.0, -2.0]), t([2.0, 3.0]))),
    "bernoulli-bernoulli": lambda: (FAMILIES["bernoulli"](), FAMILIES["bernoulli"]()),
    "categorical-categorical": lambda: (FAMILIES["categorical"](), FAMILIES["categorical"]()),
    "one_hot-one_hot": lambda: (FAMILIES["one_hot"](), FAMILIES["one_hot"]()),
    "exponential-exponential": lambda: (FAMILIES["exponential"](), FAMILIES["exponential"]()),
    "laplace-laplace": lambda: (FAMILIES["laplace"](), FAMILIES["laplace"]()),
    "poisson-poisson": lambda: (FAMILIES["poisson"](), FAMILIES["poisson"]()),
    "geometric-geometric": lambda: (FAMILIES["geometric"](), FAMILIES["geometric"]()),
    "binomial-binomial": lambda: (FAMILIES["binomial"](), FAMILIES["binomial"]()),
    "mvn-mvn": lambda: (FAMILIES["mvn"](), FAMILIES["mvn"]()),
    "independent-independent": lambda: (FAMILIES["independent"](), FAMILIES["independent"]()),
    "lognormal-lognormal": lambda: (FAMILIES["lognormal"](), FAMILIES["lognormal"]()),
    "bernoulli-poisson": lambda: (FAMILIES["bernoulli"](), FAMILIES["poisson"]()),
    "exponential-normal": lambda: (FAMILIES["exponential"](), FAMILIES["normal"]()),
    "laplace-normal": lambda: (FAMILIES["laplace"](), FAMILIES["normal"]()),
    "normal-laplace": lambda: (FAMILIES["normal"](), FAMILIES["laplace"]()),
    "uniform-normal": lambda: (FAMILIES["uniform"](), FAMILIES["normal"]()),
    "uniform-exponential": lambda: (D.Uniform(t([0.0, 1.0]), t([2.0, 1.5])), D.Exponential(t(pos(2)))),
}


@pytest.mark.parametrize("pair", sorted(MONTE_CARLO))
def test_closed_form_agrees_with_a_monte_carlo_estimate(pair):
    p, q = MONTE_CARLO[pair]()
    n = 40000
    x = p.sample((n,))
    terms = (p.log_prob(x) - q.log_prob(x)).numpy()
    estimate, standard_error = terms.mean(0), terms.std(0) / math.sqrt(n)
    kl = D.kl_divergence(p, q).numpy()
    assert np.all(np.abs(estimate - kl) <= 6 * standard_error + 1e-12), (estimate, kl, standard_error)


def test_closed_forms():
    mp, sp, mq, sq = rng.normal(size=3), pos(3), rng.normal(size=3), pos(3)
    close(D.kl_divergence(D.Normal(t(mp), t(sp)), D.Normal(t(mq), t(sq))),
          np.log(sq / sp) + (sp ** 2 + (mp - mq) ** 2) / (2 * sq ** 2) - 0.5)
    a, b = rng.uniform(0.05, 0.95, 3), rng.uniform(0.05, 0.95, 3)
    close(D.kl_divergence(D.Bernoulli(t(a)), D.Bernoulli(logits=t(np.log(b / (1 - b))))),
          a * np.log(a / b) + (1 - a) * np.log((1 - a) / (1 - b)), rtol=1e-10)
    p, q = rng.dirichlet(np.ones(4), 2), rng.dirichlet(np.ones(4), 2)
    close(D.kl_divergence(D.Categorical(t(p)), D.Categorical(t(q))), (p * np.log(p / q)).sum(-1), rtol=1e-10)
    close(D.kl_divergence(D.Uniform(t(0.0), t(1.0)), D.Uniform(t(-1.0), t(3.0))), math.log(4.0))
    lp, lq = pos(3), pos(3)
    close(D.kl_divergence(D.Exponential(t(lp)), D.Exponential(t(lq))), np.log(lp / lq) + lq / lp - 1)
    sp_, sq_, mp_, mq_ = spd(3), spd(3), rng.normal(size=3), rng.normal(size=3)
    inv = np.linalg.inv(sq_)
    expected = 0.5 * (np.trace(inv @ sp_) + (mq_ - mp_) @ inv @ (mq_ - mp_) - 3
                      + np.linalg.slogdet(sq_)[1] - np.linalg.slogdet(sp_)[1])
    close(D.kl_divergence(D.MultivariateNormal(t(mp_), covariance_matrix=t(sp_)),
                          D.MultivariateNormal(t(mq_), scale_tril=t(np.linalg.cholesky(sq_)))), expected, rtol=1e-10)
    base_p = D.Normal(t(rng.normal(size=(2, 3))), t(pos(2, 3)))
    base_q = D.Normal(t(rng.normal(size=(2, 3))), t(pos(2, 3)))
    close(D.kl_divergence(D.Independent(base_p, 2), D.Independent(base_q, 2)),
          D.kl_divergence(base_p, base_q).numpy().sum())


def test_infinite_divergences_where_q_misses_part_of_ps_support():
    assert D.kl_divergence(D.Uniform(t(0.0), t(2.0)), D.Uniform(t(0.5), t(3.0))).item() == math.inf
    assert D.kl_divergence(D.Normal(t([0.0, 1.0]), t(1.0)), D.Uniform(t(-1.0), t(1.0))).tolist() == [math.inf] * 2
    assert D.kl_divergence(D.Uniform(t(-1.0), t(1.0)), D.Exponential(t(1.0))).item() == math.inf
    assert D.kl_divergence(D.Poisson(t([2.0])), D.Bernoulli(t([0.5]))).tolist() == [math.inf]
    cat = D.kl_divergence(D.Categorical(t([[0.5, 0.5, 0.0], [0.0, 0.5, 0.5]])), D.Categorical(t([0.5, 0.5, 0.0])))
    assert cat.tolist() == [0.0, math.inf]  # 0 log 0 = 0 where p has no mass; +inf where only q has none
    bern = D.kl_divergence(D.Bernoulli(t([0.0, 1.0, 0.5])), D.Bernoulli(t([0.3, 1.0, 1.0])))
    close(bern, [-math.log(0.7), 0.0, math.inf])


def test_unregistered_pairs_and_cross_family_bregman_raise_not_implemented():
    with pytest.raises(NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for p type Normal and q type "
                                                  "Categorical"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Categorical(t([0.5, 0.5])))
    with pytest.raises(NotImplementedError, match="different exponential families"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Bernoulli(t(0.5)))
    with pytest.raises(NotImplementedError, match="q.total_count > p.total_count"):
        D.kl_divergence(D.Binomial(2, t(0.5)), D.Binomial(3, t(0.5)))
    with pytest.raises(ValueError, match="different event shapes"):
        D.kl_divergence(D.MultivariateNormal(t([0.0]), scale_tril=t([[1.0]])),
                        D.MultivariateNormal(t([0.0, 0.0]), scale_tril=t(np.eye(2))))


class _RateFamily(D.ExponentialFamily):
    """Exp(lambda) as a bare exponential family: theta = -lambda, F(theta) = -log(-theta), h = 1."""

    arg_constraints = {"rate": D.constraints.positive}
    support = D.constraints.nonnegative
    _mean_carrier_measure = 0

    def __init__(self, rate):
        self.rate = rate
        super().__init__(rate.size())

    @property
    def _natural_params(self):
        return (-self.rate,)

    def _log_normalizer(self, x):
        return -(-x).log()


def test_exponential_family_bregman_kl_and_entropy_match_the_closed_forms():
    a, b = pos(3), pos(3)
    close(D.kl_divergence(_RateFamily(t(a)), _RateFamily(t(b))), np.log(a / b) + b / a - 1, rtol=1e-10)
    close(_RateFamily(t(a)).entropy(), 1 - np.log(a), rtol=1e-10)


def test_register_kl_dispatches_to_the_most_specific_registration():
    class MyNormal(D.Normal):
        pass

    class Other(D.Normal):
        pass

    @D.register_kl(MyNormal, D.Normal)
    def _mine(p, q):
        return p.loc * 0 + 42.0

    try:
        assert D.kl_divergence(MyNormal(t(0.0), t(1.0)), D.Normal(t(1.0), t(1.0))).item() == 42.0
        assert D.kl_divergence(MyNormal(t(0.0), t(1.0)), Other(t(0.0), t(1.0))).item() == 42.0
        close(D.kl_divergence(D.Normal(t(0.0), t(1.0)), MyNormal(t(1.0), t(1.0))), 0.5)  # the Normal formula

        @D.register_kl(D.Normal, Other)
        def _other(p, q):
            return p.loc * 0 - 1.0

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert D.kl_divergence(MyNormal(t(0.0), t(1.0)), Other(t(0.0), t(1.0))).item() == 42.0
        assert any("Ambiguous kl_divergence(MyNormal, Other)" in str(w.message) for w in caught)
    finally:
        registry = D.kl._KL_REGISTRY
        for key in [k for k in registry if MyNormal in k or Other in k]:
            del registry[key]
        D.kl._KL_MEMO.clear()
    with pytest.raises(TypeError, match="Distribution subclass"):
        D.register_kl(int, D.Normal)


GRADIENT_PAIRS = {
    "normal": (4, lambda a, b, c, d: (D.Normal(a, b.exp()), D.Normal(c, d.exp()))),
    "bernoulli": (2, lambda a, b: (D.Bernoulli(logits=a), D.Bernoulli(b.sigmoid()))),
    "categorical": (2, lambda a, b: (D.Categorical(logits=a), D.Categorical(b.exp()))),
    "uniform": (4, lambda a, b, c, d: (D.Uniform(a, a + b.exp()), D.Uniform(a - c.exp(), a + b.exp() + d.exp()))),
    "exponential": (2, lambda a, b: (D.Exponential(a.exp()), D.Exponential(b.exp()))),
    "laplace_normal": (4, lambda a, b, c, d: (D.Laplace(a, b.exp()), D.Normal(c, d.exp()))),
    "independent": (4, lambda a, b, c, d: (D.Independent(D.Normal(a, b.exp()), 1),
                                           D.Independent(D.Normal(c, d.exp()), 1))),
    "mvn": (4, lambda a, b, c, d: (
        D.MultivariateNormal(a, covariance_matrix=b.reshape(3, 3) @ b.reshape(3, 3).mT
                             + 2 * tn.eye(3, dtype=tn.float64)),
        D.MultivariateNormal(c, scale_tril=d.reshape(3, 3).tril(-1) + d.reshape(3, 3).diagonal().exp().diag()))),
}


@pytest.mark.parametrize("pair", sorted(GRADIENT_PAIRS))
def test_gradcheck_of_kl_divergence(pair, backend_name):
    count, make = GRADIENT_PAIRS[pair]
    size = 9 if pair == "mvn" else 3
    sizes = [3 if pair == "mvn" and i % 2 == 0 else size for i in range(count)]  # the mvn's locs and matrices
    inputs = tuple(t(rng.normal(size=n) * 0.5, grad=True) for n in sizes)
    kl = lambda *ps: D.kl_divergence(*make(*ps))  # noqa: E731
    assert tn.gradcheck(kl, inputs) and tn.gradgradcheck(kl, inputs)
