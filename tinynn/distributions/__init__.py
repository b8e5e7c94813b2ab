"""Probability distributions with PyTorch's API (torch.distributions): sampling, log-densities,
entropies, cdf/icdf and KL divergences, built on tinynn's differentiable ops so that `log_prob`,
`entropy`, `kl_divergence` and `rsample` are differentiable with respect to the parameters
(variational auto-encoders, policy gradients, the reparameterisation trick).

    import tinynn as tn
    D = tn.distributions
    mu = tn.zeros(3, requires_grad=True)
    q = D.Normal(mu, 1.0)
    z = q.rsample((16,))                        # (16, 3): z = mu + eps, differentiable in mu
    loss = D.kl_divergence(q, D.Normal(0.0, 1.0)).sum() - q.log_prob(z).mean()

Draws come from tinynn's default generator (tn.manual_seed seeds it); the streams are not PyTorch's.
Not here (yet): Beta, Gamma, Dirichlet and the distributions built on them (their log-densities need
lgamma/digamma of parameters and their rsample the implicit reparameterisation of gamma draws),
LowRankMultivariateNormal and the mixture and relaxed distributions.
"""
from . import constraints, transforms
from .bernoulli import Bernoulli
from .binomial import Binomial
from .categorical import Categorical
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .geometric import Geometric
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .log_normal import LogNormal
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .poisson import Poisson
from .transformed_distribution import TransformedDistribution
from .transforms import (AffineTransform, ComposeTransform, ExpTransform, IndependentTransform, SigmoidTransform,
                         SoftplusTransform, TanhTransform, Transform)
from .uniform import Uniform
from . import kl_formulas  # noqa: E402,F401 - registers the closed forms with kl_divergence

__all__ = ["AffineTransform", "Bernoulli", "Binomial", "Categorical", "ComposeTransform", "Distribution",
           "ExpTransform", "Exponential", "ExponentialFamily", "Geometric", "Independent", "IndependentTransform",
           "Laplace", "LogNormal", "MultivariateNormal", "Normal", "OneHotCategorical", "Poisson", "SigmoidTransform",
           "SoftplusTransform", "TanhTransform", "Transform", "TransformedDistribution", "Uniform", "constraints",
           "kl_divergence", "register_kl", "transforms"]
