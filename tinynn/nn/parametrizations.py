"""torch.nn.utils.parametrizations: weight normalisation, spectral normalisation and orthogonal matrices,
each a parametrization (parametrize.py) registered on a module's weight.

    layer = parametrizations.weight_norm(nn.Linear(20, 40))    # W = g v / ||v||
    layer = parametrizations.spectral_norm(nn.Linear(20, 40))  # W = W_orig / sigma(W_orig)
    layer = parametrizations.orthogonal(nn.Linear(20, 20))     # W^T W = I

The keys of their state are PyTorch's: `parametrizations.weight.original0` (g) and `.original1` (v) for
weight_norm; `parametrizations.weight.original` and the power-iteration vectors
`parametrizations.weight.0._u`, `._v` for spectral_norm.
"""
from ..autograd import no_grad
from ..creation import randn
from ..tensor import Tensor
from .conv_transpose import _ConvTransposeNd
from .functional_misc import normalize
from .module import Module
from .orthogonal import orthogonal
from . import parametrize

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


def norm_except_dim(v, pow=2, dim=0):
    """||v||_p over every dimension but `dim`, kept as size-1 dimensions (shape (n, 1, ..., 1) for dim=0);
    dim=-1 (or None) is the norm of the whole tensor, a 0-d tensor (torch.norm_except_dim)."""
    if dim is None or dim == -1:
        return v.norm(p=pow)
    if not -v.ndim <= dim < v.ndim:
        raise IndexError(f"norm_except_dim: dim {dim} is out of range for a tensor of shape {tuple(v.shape)}")
    dim %= v.ndim
    axes = tuple(d for d in range(v.ndim) if d != dim)
    return v.norm(p=pow, dim=axes, keepdim=True) if axes else v.abs()


def _weight_norm(v, g, dim):
    """w = g v / ||v||, the norm taken per slice along `dim` (whole tensor for dim=-1)."""
    return v * (g / norm_except_dim(v, 2, dim))


class _WeightNorm(Module):
    """w = g v / ||v|| from (original0, original1) = (g, v); right_inverse(w) = (||w||, w)."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Weight normalisation (Salimans & Kingma, "Weight Normalization: A Simple Reparameterization to Accelerate
    Training of Deep Neural Networks", 2016): `module.<name>` becomes w = g v / ||v||, with the magnitude g
    (`parametrizations.<name>.original0`, shape (n, 1, ..., 1) for dim=0) and the direction v (`original1`)
    learned separately; the norm runs over every dimension but `dim` (dim=None: over the whole tensor).
    Returns the module.

    PyTorch also loads a state dict saved with the old `nn.utils.weight_norm` keys (`weight_g`, `weight_v`)
    into it; tinynn has no load-state-dict hooks, so rename those keys to `parametrizations.weight.original0`
    and `.original1` first."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


class _SpectralNorm(Module):
    """W / sigma, sigma = u^T W_mat v estimated by power iteration (W_mat: W with `dim` first, flattened to
    2-D): in training mode each call first runs n_power_iterations of u <- W_mat v / ||W_mat v||,
    v <- W_mat^T u / ||W_mat^T u|| (in place, on the buffers _u and _v); in eval mode u and v stay as they
    are. A 1-D weight is just normalised, W / ||W||."""

    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            self.register_buffer("_u", normalize(randn(h, dtype=weight.dtype), dim=0, eps=eps))
            self.register_buffer("_v", normalize(randn(w, dtype=weight.dtype), dim=0, eps=eps))
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight):
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat, n_power_iterations):
        with no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(normalize(weight_mat.mv(self._v), dim=0, eps=self.eps))
                self._v.copy_(normalize(weight_mat.mT.mv(self._u), dim=0, eps=self.eps))

    def forward(self, weight):
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()  # copies: the next iteration writes the buffers in place
        sigma = (u * weight_mat.mv(v)).sum()  # u^T W v
        return weight / sigma

    def right_inverse(self, value):
        return value  # any W_orig gives W_orig / sigma; PyTorch does not rescale on assignment either


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Spectral normalisation (Miyato et al., "Spectral Normalization for Generative Adversarial Networks",
    ICLR 2018): `module.<name>` becomes W / sigma(W), sigma(W) the largest singular value of W viewed as a
    matrix with `dim` first (dim=None: 1 for ConvTranspose, else 0), estimated as sigma = u^T W v with
    u, v from power iteration (15 steps at registration, `n_power_iterations` per forward in training mode,
    none in eval mode). State: `parametrizations.<name>.original` and the buffers
    `parametrizations.<name>.0._u`, `._v`. Returns the module."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if isinstance(module, _ConvTransposeNd) else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
