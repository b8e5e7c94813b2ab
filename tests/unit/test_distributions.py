"""tinynn.distributions against closed forms written out here (log-densities, entropies, moments, cdfs),
identities (the probabilities of enumerate_support sum to 1, icdf(cdf(x)) = x, log|det J| of a transform
= log|f'(x)| by autograd), Monte Carlo estimates of the mean and variance within 6 standard errors
(seeded), the reparameterised draw x = mu + sigma eps on tinynn's global stream, validation errors, and
float64 gradcheck and gradgradcheck of log_prob, entropy, cdf, icdf and rsample on both backends."""
import math
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import tinynn as tn

D = tn.distributions
C = D.constraints
rng = np.random.default_rng(7)
LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def t(a, grad=False):
    return tn.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def close(a, b, rtol=1e-12, atol=1e-12):
    a = a.detach().numpy() if isinstance(a, tn.Tensor) else np.asarray(a)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


# ---- closed forms of log p(x) ----------------------------------------------------------------------

def test_normal_log_prob_cdf_entropy_moments():
    mu, sigma, x = rng.normal(size=(2, 3)), rng.uniform(0.3, 2, (2, 3)), rng.normal(size=(4, 2, 3))
    d = D.Normal(t(mu), t(sigma))
    close(d.log_prob(t(x)), -(x - mu) ** 2 / (2 * sigma ** 2) - np.log(sigma) - LOG_SQRT_2PI)
    close(d.cdf(t(x)), 0.5 * (1 + np.vectorize(math.erf)((x - mu) / (sigma * math.sqrt(2)))))
    close(d.entropy(), 0.5 + LOG_SQRT_2PI + np.log(sigma))
    close(d.perplexity(), np.exp(0.5 + LOG_SQRT_2PI + np.log(sigma)))
    close(d.mean, mu), close(d.mode, mu), close(d.variance, sigma ** 2), close(d.stddev, sigma)
    assert d.batch_shape == (2, 3) and d.event_shape == () and isinstance(d.batch_shape, tn.Size)


def test_normal_icdf_inverts_cdf_and_matches_known_quantiles():
    d = D.Normal(t(1.5), t(2.0))
    x = t(np.linspace(-6, 9, 31))
    close(d.icdf(d.cdf(x)), x.numpy(), rtol=1e-9, atol=1e-9)
    # Phi^-1(0.975) = 1.959963984540054 (the two-sided 95% point), Phi^-1(0.5) = 0
    close(D.Normal(0.0, 1.0).icdf(t([0.975, 0.5, 0.025])), [1.959963984540054, 0.0, -1.959963984540054], rtol=1e-13)
    assert D.Normal(0.0, 1.0).icdf(t([0.0, 1.0])).tolist() == [-math.inf, math.inf]
    close(D.Normal(0.0, 1.0).cdf(t(0.0)), 0.5), close(D.Normal(0.0, 1.0).icdf(t(0.5)), 0.0)  # 0-d values


def test_uniform_exponential_laplace_closed_forms():
    low, width = rng.normal(size=3), rng.uniform(0.5, 2, 3)
    x = low + width * np.array([0.2, -0.1, 1.3])  # one inside, one below, one above
    u = D.Uniform(t(low), t(low + width), validate_args=False)
    close(u.log_prob(t(x)), [-math.log(width[0]), -math.inf, -math.inf])
    close(u.cdf(t(x)), [0.2, 0.0, 1.0]), close(u.entropy(), np.log(width))
    close(u.mean, low + width / 2), close(u.variance, width ** 2 / 12)
    rate, x = rng.uniform(0.3, 3, 4), rng.uniform(0, 3, 4)
    e = D.Exponential(t(rate))
    close(e.log_prob(t(x)), np.log(rate) - rate * x), close(e.cdf(t(x)), 1 - np.exp(-rate * x))
    close(e.entropy(), 1 - np.log(rate)), close(e.mean, 1 / rate), close(e.variance, rate ** -2.0)
    mu, b, x = rng.normal(size=4), rng.uniform(0.3, 2, 4), rng.normal(size=4) * 3
    lap = D.Laplace(t(mu), t(b))
    close(lap.log_prob(t(x)), -np.log(2 * b) - np.abs(x - mu) / b)
    close(lap.cdf(t(x)), np.where(x < mu, 0.5 * np.exp((x - mu) / b), 1 - 0.5 * np.exp(-(x - mu) / b)))
    close(lap.entropy(), 1 + np.log(2 * b)), close(lap.variance, 2 * b ** 2)


@pytest.mark.parametrize("dist", ["uniform", "exponential", "laplace", "lognormal"])
def test_icdf_inverts_cdf(dist):
    d = {"uniform": D.Uniform(t(-1.0), t(3.0)), "exponential": D.Exponential(t(0.7)),
         "laplace": D.Laplace(t(0.5), t(2.0)), "lognormal": D.LogNormal(t(0.2), t(0.6))}[dist]
    q = t(np.linspace(0.01, 0.99, 25))
    close(d.cdf(d.icdf(q)), q.numpy(), rtol=1e-10, atol=1e-12)


def test_bernoulli_probs_and_logits():
    p = rng.uniform(0.05, 0.95, 5)
    x = (rng.uniform(size=5) < 0.5).astype(float)
    for d in (D.Bernoulli(t(p)), D.Bernoulli(logits=t(np.log(p / (1 - p))))):
        close(d.log_prob(t(x)), x * np.log(p) + (1 - x) * np.log(1 - p), rtol=1e-10)
        close(d.entropy(), -(p * np.log(p) + (1 - p) * np.log(1 - p)), rtol=1e-10)
        close(d.probs, p, rtol=1e-10), close(d.logits, np.log(p / (1 - p)), rtol=1e-10)
        close(d.mean, p, rtol=1e-10), close(d.variance, p * (1 - p), rtol=1e-10)
    np.testing.assert_equal(D.Bernoulli(t([0.2, 0.5, 0.9])).mode.numpy(), [0.0, np.nan, 1.0])


def test_categorical_and_one_hot_normalise_and_score():
    w = rng.uniform(0.1, 1, (2, 4))
    p = w / w.sum(-1, keepdims=True)
    k = np.array([[3, 0], [1, 1], [2, 3]])
    for d in (D.Categorical(t(w)), D.Categorical(logits=t(np.log(w) + 5.0))):
        close(d.probs, p, rtol=1e-12), close(d.log_prob(tn.tensor(k)), np.log(p[[0, 1], k]), rtol=1e-12)
        close(d.entropy(), -(p * np.log(p)).sum(-1), rtol=1e-12)
        assert d.batch_shape == (2,) and d.event_shape == () and d.mode.tolist() == list(p.argmax(-1))
    one_hot = D.OneHotCategorical(t(w))
    assert one_hot.event_shape == (4,) and one_hot.batch_shape == (2,)
    close(one_hot.log_prob(t(np.eye(4)[k])), np.log(p[[0, 1], k]), rtol=1e-12)
    close(one_hot.mean, p), close(one_hot.variance, p * (1 - p))
    # a category of probability 0 adds 0 log 0 = 0 to the entropy
    close(D.Categorical(t([0.0, 0.25, 0.75])).entropy(), -(0.25 * math.log(0.25) + 0.75 * math.log(0.75)))


def test_poisson_binomial_geometric_mass_functions():
    rate, k = rng.uniform(0.2, 6, 5), np.array([0.0, 1, 3, 7, 12])
    close(D.Poisson(t(rate)).log_prob(t(k)),
          [ki * math.log(r) - r - math.log(math.factorial(int(ki))) for r, ki in zip(rate, k)])
    close(D.Poisson(t([0.0])).log_prob(t([0.0])), [0.0])  # P(0) = 1 when the rate is 0
    n, p, k = 7, rng.uniform(0.05, 0.95, 5), np.array([0.0, 2, 3, 6, 7])
    expected = [math.log(math.comb(n, int(ki))) + ki * math.log(pi) + (n - ki) * math.log(1 - pi)
                for pi, ki in zip(p, k)]
    close(D.Binomial(n, t(p)).log_prob(t(k)), expected, rtol=1e-10)
    close(D.Binomial(n, logits=t(np.log(p / (1 - p)))).log_prob(t(k)), expected, rtol=1e-10)
    close(D.Binomial(n, t(p)).mean, n * p), close(D.Binomial(n, t(p)).variance, n * p * (1 - p))
    p, k = rng.uniform(0.05, 0.95, 5), np.array([0.0, 1, 2, 5, 9])
    g = D.Geometric(t(p))
    close(g.log_prob(t(k)), k * np.log(1 - p) + np.log(p), rtol=1e-12)
    close(g.entropy(), -(p * np.log(p) + (1 - p) * np.log(1 - p)) / p, rtol=1e-10)
    close(g.mean, 1 / p - 1), close(g.variance, (1 / p - 1) / p)
    close(D.Geometric(t([1.0])).log_prob(t([0.0])), [0.0])


def test_multivariate_normal_three_parameterisations():
    a = rng.normal(size=(2, 3, 3))
    cov = a @ a.transpose(0, 2, 1) + 3 * np.eye(3)
    mu, x = rng.normal(size=(2, 3)), rng.normal(size=(5, 2, 3))
    diff = x - mu
    maha = np.einsum("...i,...ij,...j->...", diff, np.linalg.inv(cov), diff)
    expected = -0.5 * (3 * math.log(2 * math.pi) + np.linalg.slogdet(cov)[1] + maha)
    entropy = 0.5 * (3 * (1 + math.log(2 * math.pi)) + np.linalg.slogdet(cov)[1])
    for kw in ({"covariance_matrix": t(cov)}, {"scale_tril": t(np.linalg.cholesky(cov))},
               {"precision_matrix": t(np.linalg.inv(cov))}):
        d = D.MultivariateNormal(t(mu), **kw)
        assert d.batch_shape == (2,) and d.event_shape == (3,)
        close(d.log_prob(t(x)), expected, rtol=1e-10), close(d.entropy(), entropy, rtol=1e-10)
        close(d.covariance_matrix, cov, rtol=1e-10), close(d.precision_matrix, np.linalg.inv(cov), rtol=1e-9)
        close(d.variance, np.diagonal(cov, axis1=-2, axis2=-1), rtol=1e-10)
        close(d.scale_tril @ d.scale_tril.mT, cov, rtol=1e-10)


def test_independent_sums_the_reinterpreted_dimensions():
    mu, sigma, x = rng.normal(size=(2, 3)), rng.uniform(0.5, 2, (2, 3)), rng.normal(size=(2, 3))
    base = D.Normal(t(mu), t(sigma))
    d = D.Independent(base, 1)
    assert d.batch_shape == (2,) and d.event_shape == (3,) and d.has_rsample
    close(d.log_prob(t(x)), base.log_prob(t(x)).numpy().sum(-1)), close(d.entropy(), base.entropy().numpy().sum(-1))
    assert D.Independent(base, 2).log_prob(t(x)).shape == ()


def test_lognormal_and_transformed_distributions():
    mu, s, y = rng.normal(size=3), rng.uniform(0.3, 1.5, 3), np.exp(rng.normal(size=3))
    d = D.LogNormal(t(mu), t(s))
    close(d.log_prob(t(y)), -(np.log(y) - mu) ** 2 / (2 * s ** 2) - np.log(s) - LOG_SQRT_2PI - np.log(y), rtol=1e-12)
    close(d.mean, np.exp(mu + s ** 2 / 2)), close(d.variance, (np.exp(s ** 2) - 1) * np.exp(2 * mu + s ** 2))
    close(d.entropy(), 0.5 + LOG_SQRT_2PI + np.log(s) + mu)
    # Y = a + b X is N(a + b mu, (|b| s)^2); with b < 0 the cdf flips
    z = rng.normal(size=3)
    affine = D.TransformedDistribution(D.Normal(t(mu), t(s)), [D.AffineTransform(2.0, -3.0)])
    close(affine.log_prob(t(z)), D.Normal(t(2 - 3 * mu), t(3 * s)).log_prob(t(z)).numpy(), rtol=1e-12)
    close(affine.cdf(t(z)), D.Normal(t(2 - 3 * mu), t(3 * s)).cdf(t(z)).numpy(), rtol=1e-12)
    # tanh-squashed normal: log p(y) = log N(atanh y) - log(1 - y^2)
    y = np.array([-0.7, 0.1, 0.95])
    squashed = D.TransformedDistribution(D.Normal(t(mu), t(s)), [D.TanhTransform()])
    x = np.arctanh(y)
    close(squashed.log_prob(t(y)), -(x - mu) ** 2 / (2 * s ** 2) - np.log(s) - LOG_SQRT_2PI - np.log(1 - y ** 2),
          rtol=1e-10)


@pytest.mark.parametrize("transform", [D.ExpTransform(), D.AffineTransform(0.5, -2.0), D.SigmoidTransform(),
                                       D.TanhTransform(), D.SoftplusTransform(), D.ExpTransform().inv,
                                       D.transforms.ComposeTransform([D.AffineTransform(1.0, 0.5), D.TanhTransform()])])
def test_transform_inverse_and_log_det_jacobian_by_autograd(transform):
    x = t(rng.uniform(-1.5, 1.5, 6) if transform != D.ExpTransform().inv else rng.uniform(0.2, 3, 6), grad=True)
    y = transform(x)
    close(transform.inv(y), x.detach().numpy(), rtol=1e-10, atol=1e-12)
    (dy,) = tn.autograd.grad(y.sum(), [x])
    close(transform.log_abs_det_jacobian(x, y), np.log(np.abs(dy.numpy())), rtol=1e-10, atol=1e-12)


def test_transform_cache_returns_the_same_tensor():
    tanh = D.TanhTransform(cache_size=1)
    x = t([0.3, 20.0])
    y = tanh(x)
    assert tanh.inv(y) is x and tanh(x) is y  # atanh(tanh(20)) would be inf in float64
    assert D.TanhTransform() == D.TanhTransform() and D.ExpTransform().inv == D.ExpTransform().inv
    with pytest.raises(ValueError, match="cache_size"):
        D.ExpTransform(cache_size=2)


# ---- identities and sampling -----------------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda: D.Bernoulli(t([0.3, 0.9])),
                                  lambda: D.Categorical(t(rng.uniform(size=(2, 5)))),
                                  lambda: D.OneHotCategorical(logits=t(rng.normal(size=(3, 4)))),
                                  lambda: D.Binomial(6, t([0.2, 0.7]))])
def test_enumerate_support_probabilities_sum_to_one(make):
    d = make()
    support = d.enumerate_support()
    assert support.shape[1:] == tuple(d.batch_shape) + tuple(d.event_shape)
    close(d.log_prob(support).exp().sum(0), np.ones(d.batch_shape), rtol=1e-12)
    unexpanded = d.enumerate_support(expand=False)
    assert unexpanded.shape == (support.shape[0],) + (1,) * len(d.batch_shape) + tuple(d.event_shape)
    entropy = -(d.log_prob(support).exp() * d.log_prob(support)).sum(0)
    close(d.entropy(), entropy.numpy(), rtol=1e-10, atol=1e-12)


# distribution, its mean and variance in closed form
MOMENTS = [
    (lambda: D.Normal(t(1.0), t(2.0)), 1.0, 4.0),
    (lambda: D.Uniform(t(-1.0), t(3.0)), 1.0, 16 / 12),
    (lambda: D.Exponential(t(2.0)), 0.5, 0.25),
    (lambda: D.Laplace(t(-1.0), t(0.5)), -1.0, 0.5),
    (lambda: D.Bernoulli(t(0.3)), 0.3, 0.21),
    (lambda: D.Poisson(t(3.5)), 3.5, 3.5),
    (lambda: D.Binomial(10, t(0.25)), 2.5, 1.875),
    (lambda: D.Geometric(t(0.4)), 1.5, 3.75),
    (lambda: D.LogNormal(t(0.0), t(0.5)), math.exp(0.125), (math.exp(0.25) - 1) * math.exp(0.25)),
    (lambda: D.TransformedDistribution(D.Exponential(t(1.0)), [D.AffineTransform(2.0, 3.0)]), 5.0, 9.0),
]


@pytest.mark.parametrize("make, mean, variance", MOMENTS)
def test_monte_carlo_mean_and_variance_within_six_standard_errors(make, mean, variance):
    d, n = make(), 40000
    x = d.sample((n,)).numpy().astype(np.float64)
    assert x.shape == (n,) and bool(d.support.check(tn.tensor(x)).all())
    assert abs(x.mean() - mean) < 6 * math.sqrt(variance / n)
    y = (x - mean) ** 2  # E[y] = variance; its standard error from the sample itself
    assert abs(y.mean() - variance) < 6 * y.std() / math.sqrt(n)
    try:
        close(d.mean, mean, rtol=1e-12), close(d.variance, variance, rtol=1e-12)
    except NotImplementedError:  # a general TransformedDistribution has no moments in closed form (nor in PyTorch)
        assert type(d) is D.TransformedDistribution


def test_categorical_and_multivariate_normal_sample_statistics():
    p = np.array([0.1, 0.6, 0.3])
    counts = np.bincount(D.Categorical(t(p)).sample((30000,)).numpy(), minlength=3) / 30000
    assert np.all(np.abs(counts - p) < 6 * np.sqrt(p * (1 - p) / 30000))
    cov = np.array([[2.0, 0.6], [0.6, 1.0]])
    x = D.MultivariateNormal(t([1.0, -1.0]), covariance_matrix=t(cov)).sample((30000,)).numpy()
    assert np.all(np.abs(x.mean(0) - [1.0, -1.0]) < 6 * np.sqrt(np.diag(cov) / 30000))
    # the sample covariance of a bivariate normal: Var(x_i x_j) = S_ii S_jj + S_ij^2 (Isserlis)
    se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov ** 2) / 30000)
    assert np.all(np.abs(np.cov(x.T) - cov) < 6 * se)


@pytest.mark.parametrize("make", [
    lambda: D.Normal(t(np.zeros((2, 3))), 1.0), lambda: D.Uniform(0.0, t(np.ones(3))),
    lambda: D.Bernoulli(t([0.5, 0.5])),
    lambda: D.Categorical(t(np.ones((2, 4)))), lambda: D.OneHotCategorical(t(np.ones((2, 4)))),
    lambda: D.Exponential(t([1.0, 2.0])), lambda: D.Laplace(0.0, t([1.0, 2.0])), lambda: D.Poisson(t([1.0, 2.0])),
    lambda: D.Binomial(t([3.0, 4.0]), t([0.5, 0.5])), lambda: D.Geometric(t([0.5, 0.2])),
    lambda: D.MultivariateNormal(t(np.zeros((2, 3))), scale_tril=t(np.eye(3))), lambda: D.LogNormal(t([0.0, 1.0]), 1.0),
    lambda: D.Independent(D.Normal(t(np.zeros((2, 3))), 1.0), 1), lambda: D.Normal(0.0, 1.0)])
def test_sample_shapes(make):
    d = make()
    for sample_shape in ((), (5,), (2, 3), [4]):
        x = d.sample(sample_shape)
        assert x.shape == tuple(sample_shape) + tuple(d.batch_shape) + tuple(d.event_shape)
        assert not x.requires_grad
    assert d.expand((4,) + tuple(d.batch_shape)).sample().shape == (4,) + tuple(d.batch_shape) + tuple(d.event_shape)
    with pytest.raises(TypeError, match="shape"):
        d.sample(5)


def test_rsample_is_loc_plus_scale_times_the_global_streams_noise():
    loc, scale = t([0.5, -1.0], grad=True), t([2.0, 0.3], grad=True)
    tn.manual_seed(11)
    x = D.Normal(loc, scale).rsample((3,))
    tn.manual_seed(11)
    close(x, loc.detach().numpy() + scale.detach().numpy() * tn.randn(3, 2, dtype=tn.float64).numpy())
    x.sum().backward()  # d/dloc sum x = 3, d/dscale sum x = sum eps
    close(loc.grad, [3.0, 3.0]), close(scale.grad, ((x.detach().numpy() - [0.5, -1.0]) / [2.0, 0.3]).sum(0))
    assert not D.Normal(loc, scale).sample().requires_grad


# ---- gradients -------------------------------------------------------------------------------------

def pos(*shape):
    return rng.uniform(0.4, 2.0, shape)


GRADIENT_CASES = {  # parameters (float64 arrays), a distribution built from them, a value to score
    "normal": ([rng.normal(size=3), pos(3)], lambda a, b: D.Normal(a, b), rng.normal(size=3)),
    "uniform": ([rng.normal(size=3), pos(3)], lambda a, b: D.Uniform(a, a + b), None),
    "bernoulli": ([rng.uniform(0.1, 0.9, 3)], lambda p: D.Bernoulli(p), np.array([0.0, 1.0, 1.0])),
    "bernoulli_logits": ([rng.normal(size=3)], lambda l: D.Bernoulli(logits=l), np.array([0.0, 1.0, 1.0])),
    "categorical": ([pos(2, 4)], lambda w: D.Categorical(w), np.array([[1, 3], [0, 2]])),
    "categorical_logits": ([rng.normal(size=(2, 4))], lambda l: D.Categorical(logits=l), np.array([[1, 3]])),
    "exponential": ([pos(3)], lambda r: D.Exponential(r), pos(3)),
    "laplace": ([rng.normal(size=3), pos(3)], lambda a, b: D.Laplace(a, b), rng.normal(size=3)),
    "poisson": ([pos(3) * 2], lambda r: D.Poisson(r), np.array([0.0, 2.0, 5.0])),
    "binomial": ([rng.uniform(0.1, 0.9, 3)], lambda p: D.Binomial(4, p), np.array([0.0, 2.0, 4.0])),
    "geometric": ([rng.uniform(0.1, 0.9, 3)], lambda p: D.Geometric(p), np.array([0.0, 2.0, 5.0])),
    "mvn": ([rng.normal(size=(2, 3)), rng.normal(size=(3, 3))],
            lambda m, a: D.MultivariateNormal(m, covariance_matrix=a @ a.mT + 2 * tn.eye(3, dtype=tn.float64)),
            rng.normal(size=(2, 3))),
    "mvn_precision": ([rng.normal(size=3), rng.normal(size=(3, 3))],
                      lambda m, a: D.MultivariateNormal(m, precision_matrix=a @ a.mT + 2 * tn.eye(3, dtype=tn.float64)),
                      rng.normal(size=3)),
    "lognormal": ([rng.normal(size=3), pos(3)], lambda a, b: D.LogNormal(a, b), pos(3)),
    "tanh_normal": ([rng.normal(size=3), pos(3)],
                    lambda a, b: D.TransformedDistribution(D.Normal(a, b), [D.TanhTransform()]),
                    np.array([-0.5, 0.2, 0.8])),
}


@pytest.mark.parametrize("name", sorted(GRADIENT_CASES))
def test_gradcheck_of_log_prob_and_entropy(name, backend_name):
    params, make, value = GRADIENT_CASES[name]
    inputs = tuple(t(p, grad=True) for p in params)
    if value is not None:
        v = tn.tensor(value) if value.dtype.kind == "i" else t(value)
        assert tn.gradcheck(lambda *ps: make(*ps).log_prob(v), inputs)
        assert tn.gradgradcheck(lambda *ps: make(*ps).log_prob(v), inputs)
    try:
        make(*inputs).entropy()
    except NotImplementedError:  # Poisson, TransformedDistribution: none in closed form, as in PyTorch
        return
    assert tn.gradcheck(lambda *ps: make(*ps).entropy(), inputs)
    assert tn.gradgradcheck(lambda *ps: make(*ps).entropy(), inputs)


@pytest.mark.parametrize("name", ["normal", "uniform", "exponential", "laplace", "lognormal"])
def test_gradcheck_of_cdf_and_icdf(name, backend_name):
    params, make, _ = GRADIENT_CASES[name]
    inputs = tuple(t(p, grad=True) for p in params)
    q = t([0.1, 0.45, 0.8], grad=True)  # not 1/2: Laplace.icdf has a kink there
    assert tn.gradcheck(lambda *a: make(*a[:-1]).icdf(a[-1]), inputs + (q,))
    assert tn.gradgradcheck(lambda *a: make(*a[:-1]).icdf(a[-1]), inputs + (q,))
    x = make(*inputs).icdf(t([0.2, 0.45, 0.7])).detach().requires_grad_()
    assert tn.gradcheck(lambda *a: make(*a[:-1]).cdf(a[-1]), inputs + (x,))
    assert tn.gradgradcheck(lambda *a: make(*a[:-1]).cdf(a[-1]), inputs + (x,))


@pytest.mark.parametrize("name", ["normal", "uniform", "exponential", "laplace", "mvn", "lognormal", "tanh_normal"])
def test_gradcheck_of_rsample_with_fixed_noise(name, backend_name):
    params, make, _ = GRADIENT_CASES[name]
    inputs = tuple(t(p, grad=True) for p in params)
    assert make(*inputs).has_rsample

    def draw(*ps):
        tn.manual_seed(5)  # the same noise at every evaluation: x = g(params, eps) is then a plain function
        return make(*ps).rsample((2,))

    assert tn.gradcheck(draw, inputs) and tn.gradgradcheck(draw, inputs)


# ---- validation, expand, laziness ------------------------------------------------------------------

def test_invalid_parameters_and_values_raise_pytorchs_value_errors():
    with pytest.raises(ValueError, match=r"Expected parameter scale \(Tensor of shape \(2,\)\) of distribution "
                                         r"Normal\(.*\) to satisfy the constraint GreaterThan\(lower_bound=0.0\)"):
        D.Normal(t([0.0, 1.0]), t([1.0, -1.0]))
    with pytest.raises(ValueError, match="Simplex"):
        D.Categorical(t([0.5, -0.1, 0.6]))
    with pytest.raises(ValueError, match="PositiveDefinite"):
        D.MultivariateNormal(t([0.0, 0.0]), covariance_matrix=t([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="LowerCholesky"):
        D.MultivariateNormal(t([0.0, 0.0]), scale_tril=t([[1.0, 0.5], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="to be positive"):
        D.Geometric(t([0.0, 0.5]))
    with pytest.raises(ValueError, match="but not both"):
        D.Bernoulli(probs=t(0.5), logits=t(0.0))
    with pytest.raises(ValueError, match="Exactly one of"):
        D.MultivariateNormal(t([0.0]))
    with pytest.raises(ValueError, match=r"within the support \(GreaterThanEq\(lower_bound=0.0\)\)"):
        D.Exponential(t(1.0)).log_prob(t(-1.0))
    with pytest.raises(ValueError, match="IntegerInterval"):
        D.Categorical(t([0.5, 0.5])).log_prob(tn.tensor(2))
    with pytest.raises(ValueError, match="must be a Tensor"):
        D.Normal(0.0, 1.0).log_prob(1.0)
    with pytest.raises(ValueError, match="not broadcastable"):
        D.Normal(t([0.0, 1.0]), 1.0).log_prob(t([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="right-most size of value must match event_shape"):
        D.MultivariateNormal(t([0.0, 0.0]), scale_tril=t(np.eye(2))).log_prob(t([1.0, 2.0, 3.0]))
    with pytest.raises(NotImplementedError, match="Inhomogeneous"):
        D.Binomial(t([2.0, 3.0]), t([0.5, 0.5])).entropy()
    with pytest.raises(NotImplementedError):
        D.Bernoulli(t(0.5)).rsample()


def test_validation_can_be_switched_off():
    assert D.Normal(0.0, -1.0, validate_args=False).scale.item() == -1.0
    assert D.Uniform(0.0, 1.0, validate_args=False).log_prob(t(2.0)).item() == -math.inf
    D.Distribution.set_default_validate_args(False)
    try:
        assert D.Exponential(t(-1.0)).rate.item() == -1.0
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args("yes")
    with pytest.raises(ValueError):
        D.Exponential(t(-1.0))


def test_poisson_and_binomial_log_prob_are_differentiable_in_the_counts_too(backend_name):
    # as PyTorch's: log k! = lgamma(k + 1) has derivative digamma(k + 1) in k (a continuous extension)
    rate, n, p = t([1.5, 4.0], grad=True), t([5.0, 7.0], grad=True), t([0.3, 0.6], grad=True)
    k = t([2.0, 3.0], grad=True)
    assert tn.gradcheck(lambda r, k: D.Poisson(r, validate_args=False).log_prob(k), (rate, k))
    assert tn.gradgradcheck(lambda r, k: D.Poisson(r, validate_args=False).log_prob(k), (rate, k))
    binomial = lambda n, p, k: D.Binomial(n, p, validate_args=False).log_prob(k)  # noqa: E731
    assert tn.gradcheck(binomial, (n, p, k)) and tn.gradgradcheck(binomial, (n, p, k))


def test_expand_views_the_parameters_and_keeps_the_formulas():
    d = D.Normal(t([0.0, 1.0]), t([1.0, 2.0]))
    e = d.expand((3, 2))
    assert e.batch_shape == (3, 2) and e.loc.shape == (3, 2)
    close(e.log_prob(t([0.5, 0.5])), np.broadcast_to(d.log_prob(t([0.5, 0.5])).numpy(), (3, 2)))
    assert type(D.LogNormal(0.0, 1.0).expand((2,))) is D.LogNormal
    mvn = D.MultivariateNormal(t([0.0, 0.0]), covariance_matrix=t(np.eye(2)))
    assert mvn.expand((4,)).covariance_matrix.shape == (4, 2, 2)
    assert D.Categorical(t([0.2, 0.8])).expand((3,)).probs.shape == (3, 2)


def test_the_other_parameterisation_is_lazy_and_differentiable():
    logits = t([0.3, -1.2], grad=True)
    d = D.Bernoulli(logits=logits)
    assert "probs" not in d.__dict__
    close(d.probs, 1 / (1 + np.exp(-logits.detach().numpy())))
    d.probs.sum().backward()
    assert logits.grad is not None and "probs" in d.__dict__


def test_constraints():
    assert C.positive.check(t([1.0, 0.0, -1.0])).tolist() == [True, False, False]
    assert C.nonnegative_integer.check(t([0.0, 1.5, 3.0, -1.0])).tolist() == [True, False, True, False]
    assert C.simplex.check(t([[0.2, 0.8], [0.5, 0.6]])).tolist() == [True, False]
    assert C.independent(C.real, 1).check(t([[1.0, math.nan], [0.0, 1.0]])).tolist() == [False, True]
    assert C.positive_definite.check(t([[[2.0, 1.0], [1.0, 2.0]], [[1.0, 2.0], [2.0, 1.0]]])).tolist() == [True, False]
    assert repr(C.interval(0.0, 1.0)) == "Interval(lower_bound=0.0, upper_bound=1.0)"
    assert C.is_dependent(D.Uniform.support)
    assert repr(D.Uniform(0.0, 2.0).support) == "Interval(lower_bound=0.0, upper_bound=2.0)"


def test_import_tinynn_does_not_import_distributions():
    loaded = "print('tinynn.distributions' in sys.modules)"
    code = f"import sys, tinynn; {loaded}; tinynn.distributions.Normal; {loaded}"
    neutral = pathlib.Path(tn.__file__).parent.parent  # imports this tinynn, whatever the working directory
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=neutral)
    assert out.stdout.split() == ["False", "True"]
