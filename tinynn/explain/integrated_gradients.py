"""Integrated gradients (Sundararajan et al., 2017) with Captum's quadrature rules."""
import numpy as np

from .. import Tensor
from .common import as_baselines, as_batch, as_targets, check_count, forward_target, input_gradient

METHODS = ("gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid")


def quadrature(method, n_steps):
    """(alphas, weights): the points in [0, 1] and the weights of Captum's rule with n_steps points.

    gausslegendre: numpy's Gauss-Legendre nodes u_i and weights v_i on [-1, 1], moved to [0, 1] as
    alpha_i = (1 + u_i) / 2, weight_i = v_i / 2 (exact for polynomials of degree < 2 n_steps).
    riemann_left / right / middle: weight 1/n at alpha_i = i/n, (i+1)/n, (i+1/2)/n, i = 0..n-1.
    riemann_trapezoid: alpha_i = i/(n-1) with weights 1/n, the first and last halved. As in Captum
    these weights sum to 1 - 1/n, not 1, so this rule's attributions are (1 - 1/n) times the integral
    for a linear model (the convergence delta shows it)."""
    n = check_count(n_steps, "n_steps", "integrated_gradients", least=1 if method == "gausslegendre" else 2)
    if method == "gausslegendre":
        nodes, weights = np.polynomial.legendre.leggauss(n)
        return 0.5 * (1 + nodes), 0.5 * weights
    weights = np.full(n, 1.0 / n)
    if method == "riemann_left":
        return np.linspace(0, 1 - 1 / n, n), weights
    if method == "riemann_right":
        return np.linspace(1 / n, 1, n), weights
    if method == "riemann_middle":
        return np.linspace(1 / (2 * n), 1 - 1 / (2 * n), n), weights
    weights[[0, -1]] /= 2
    return np.linspace(0, 1, n), weights


def integrated_gradients(model, x, target, baselines=None, n_steps=50, method="gausslegendre",
                         return_convergence_delta=False, internal_batch_size=None):
    """Attributions (x - x0) * integral_0^1 dF/dx(x0 + a (x - x0)) da, Captum's IntegratedGradients.

    The integral is the quadrature sum_i weight_i * dF/dx(x0 + alpha_i (x - x0)) (see `quadrature`).
    Completeness: for the exact integral, sum(attributions of example n) = F(x_n) - F(x0_n).
    baselines x0: None (zeros), a number, an array of x's shape or of shape (1, ...). method: one of
    METHODS. The N * n_steps scaled inputs go through the model in batches of internal_batch_size
    rows (all at once if None). Returns a Tensor of x's shape, and with return_convergence_delta the
    Tensor delta_n = sum(attributions_n) - (F(x_n) - F(x0_n)) of shape (N,)."""
    fn = "integrated_gradients"
    if method not in METHODS:
        raise ValueError(f"{fn}: unknown method {method!r}; choose one of {', '.join(METHODS)}")
    x = as_batch(x, fn)
    n = len(x)
    t = as_targets(target, n, fn)
    x0 = as_baselines(baselines, x, fn)
    alphas, weights = quadrature(method, n_steps)
    per_batch = len(alphas) if internal_batch_size is None else max(
        1, check_count(internal_batch_size, "internal_batch_size", fn) // n)
    total = np.zeros_like(x, dtype=np.result_type(x.dtype, weights.dtype))
    for start in range(0, len(alphas), per_batch):
        a = alphas[start:start + per_batch].reshape((-1,) + (1,) * x.ndim)
        scaled = (x0[None] + a * (x - x0)[None]).astype(x.dtype)  # (steps, N, ...): step s in rows s*N..
        tiled = None if t is None else np.tile(t, len(a))
        grads = input_gradient(model, scaled.reshape((-1,) + x.shape[1:]), tiled, fn).reshape(scaled.shape)
        total += np.tensordot(weights[start:start + per_batch], grads, axes=1)
    attributions = (total * (x - x0)).astype(x.dtype)
    if not return_convergence_delta:
        return Tensor(attributions)
    gap = forward_target(model, x, t, fn) - forward_target(model, x0, t, fn)
    return Tensor(attributions), Tensor(attributions.reshape(n, -1).sum(axis=1) - gap)
