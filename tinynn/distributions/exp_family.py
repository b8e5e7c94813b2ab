"""`ExponentialFamily`: distributions with density p(x; theta) = h(x) exp(<theta, t(x)> - F(theta)).

theta are the natural parameters (`_natural_params`), F the log-normalizer (`_log_normalizer`) and
E[log h(X)] the mean carrier measure (`_mean_carrier_measure`). Then the entropy is
H = F(theta) - <theta, grad F(theta)> - E[log h(X)], and the KL divergence between two members of the
same family is the Bregman divergence of F (Nielsen and Nock, "Entropies and cross-entropies of
exponential families", 2010): KL(p || q) = F(theta_q) - F(theta_p) - <theta_q - theta_p, grad F(theta_p)>.
"""
from ..autograd import grad
from .distribution import Distribution
from .utils import sum_rightmost


class ExponentialFamily(Distribution):
    """The base of the exponential-family distributions (Normal, Bernoulli, Exponential, Poisson):
    a subclass gives _natural_params, _log_normalizer(*theta) and _mean_carrier_measure."""

    @property
    def _natural_params(self):
        """The natural parameters theta, a tuple of Tensors."""
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        """F(theta): log of the normalizing integral, as a function of the natural parameters."""
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        """E[log h(X)]."""
        raise NotImplementedError

    def entropy(self):
        """H = F(theta) - <theta, grad F(theta)> - E[log h(X)], grad F by automatic differentiation."""
        result = -self._mean_carrier_measure
        thetas = [theta.detach().requires_grad_() for theta in self._natural_params]
        log_normalizer = self._log_normalizer(*thetas)
        gradients = grad(log_normalizer.sum(), thetas, create_graph=True)
        result = result + log_normalizer
        for theta, g in zip(thetas, gradients):
            result = result - sum_rightmost(theta * g, len(self.event_shape))
        return result
