"""The multivariate normal distribution N(mu, Sigma), parameterised by its Cholesky factor."""
import math

from ..creation import eye
from ..linalg import cholesky, solve_triangular
from ..linalg.torch_names import cholesky_inverse
from ..tensor import Size, Tensor
from . import constraints
from .distribution import Distribution
from .utils import broadcast_shape, lazy_property, standard_normal


def batch_mahalanobis(scale_tril, x):
    """x^T Sigma^-1 x = |L^-1 x|^2 for Sigma = L L^T, over the broadcast batch of L (..., n, n) and x (..., n)."""
    solved = solve_triangular(scale_tril, x.unsqueeze(-1), upper=False)
    return solved.squeeze(-1).pow(2).sum(-1)


def half_log_det(scale_tril):
    """log |Sigma|^(1/2) = sum_i log L_ii."""
    return scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)


def precision_to_scale_tril(precision):
    """The lower Cholesky factor L of Sigma = P^-1 without inverting P: with J the flip (reversed rows),
    J P J = L_f L_f^T (Cholesky), so P = U U^T with U = J L_f J upper triangular, and Sigma = L L^T with
    L = U^-T, the solution of the lower-triangular system U^T L = I."""
    flipped = cholesky(precision.flip((-2, -1)))
    inverse_tril = flipped.flip((-2, -1)).transpose(-2, -1)
    identity = eye(precision.shape[-1], dtype=precision.dtype)
    return solve_triangular(inverse_tril, identity, upper=False)


class MultivariateNormal(Distribution):
    """N(mu, Sigma) on R^n, mu = loc, with exactly one of covariance_matrix Sigma, precision_matrix
    P = Sigma^-1 or scale_tril L (lower triangular, positive diagonal, Sigma = L L^T):

        log p(x) = -(n log(2 pi) + (x - mu)^T Sigma^-1 (x - mu)) / 2 - sum_i log L_ii
        H = n (1 + log(2 pi)) / 2 + sum_i log L_ii
        rsample: x = mu + L eps, eps ~ N(0, I_n)
    """

    arg_constraints = {"loc": constraints.real_vector, "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite, "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None):
        if not isinstance(loc, Tensor):
            raise TypeError(f"MultivariateNormal: loc must be a Tensor, got {type(loc).__name__}")
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = [(name, m) for name, m in (("scale_tril", scale_tril), ("covariance_matrix", covariance_matrix),
                                           ("precision_matrix", precision_matrix)) if m is not None]
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        name, matrix = given[0]
        if not isinstance(matrix, Tensor):
            raise TypeError(f"MultivariateNormal: {name} must be a Tensor, got {type(matrix).__name__}")
        if matrix.ndim < 2:
            raise ValueError(f"{name} must be at least two-dimensional, with optional leading batch dimensions")
        batch_shape = broadcast_shape(matrix.shape[:-2], loc.shape[:-1], op="MultivariateNormal")
        setattr(self, name, matrix.expand(tuple(batch_shape) + matrix.shape[-2:]))
        self.loc = loc.expand(tuple(batch_shape) + loc.shape[-1:])
        super().__init__(batch_shape, self.loc.shape[-1:], validate_args=validate_args)
        if name == "scale_tril":
            self._unbroadcasted_scale_tril = matrix
        elif name == "covariance_matrix":
            self._unbroadcasted_scale_tril = cholesky(matrix)
        else:
            self._unbroadcasted_scale_tril = precision_to_scale_tril(matrix)

    def expand(self, batch_shape, _instance=None):
        new = self._expand_params(MultivariateNormal, batch_shape, _instance,
                                  (("loc", 1), ("covariance_matrix", 2), ("scale_tril", 2), ("precision_matrix", 2)))
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        return new

    def _matrix_shape(self):
        return tuple(self._batch_shape) + tuple(self._event_shape) * 2

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self):
        tril = self._unbroadcasted_scale_tril
        return (tril @ tril.mT).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self):
        return cholesky_inverse(self._unbroadcasted_scale_tril).expand(self._matrix_shape())

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        shape = tuple(self._batch_shape) + tuple(self._event_shape)
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(shape)

    def rsample(self, sample_shape=Size()):
        eps = standard_normal(self._extended_shape(sample_shape), self.loc.dtype)
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        mahalanobis = batch_mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        n = self._event_shape[0]
        return -0.5 * (n * math.log(2 * math.pi) + mahalanobis) - half_log_det(self._unbroadcasted_scale_tril)

    def entropy(self):
        n = self._event_shape[0]
        entropy = 0.5 * n * (1.0 + math.log(2 * math.pi)) + half_log_det(self._unbroadcasted_scale_tril)
        return entropy if len(self._batch_shape) == 0 else entropy.expand(self._batch_shape)
