"""The reference backend's kernels for sequence models: GELU, layer normalization, embedding
lookup and scaled dot-product attention (part of `reference.py`, which imports them; kept apart
so each file stays one idea).

Arrays in, arrays out, inputs already checked by the ops. The compiled backend must compute the
same values within float rounding.
"""
import math

import numpy as np

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715  # the tanh approximation's coefficient (Hendrycks and Gimpel, 2016)


# ---------------------------------------------------------------- GELU
def _phi_cdf(x):
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2, the standard normal CDF (math.erf per element), in float64:
    GELU and its derivative round once, to x's dtype, at the end."""
    # (np.asarray: frompyfunc returns a bare Python float for a 0-d input)
    erf = np.asarray(np.frompyfunc(math.erf, 1, 1)(x * (1.0 / math.sqrt(2.0))), dtype=np.float64)
    return 0.5 * (1.0 + erf)


def gelu(x, approximate="none"):
    """GELU(x) = x Phi(x) (approximate="none"), or
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (approximate="tanh")."""
    if approximate == "tanh":
        return (0.5 * x * (1.0 + np.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x)))).astype(x.dtype, copy=False)
    return (x * _phi_cdf(x)).astype(x.dtype, copy=False)


def gelu_backward(x, grad, approximate="none"):
    """dGELU/dx = Phi(x) + x phi(x), phi(x) = e^(-x^2/2) / sqrt(2 pi) (exact); for the tanh form,
    with t = tanh(u), u = sqrt(2/pi) (x + 0.044715 x^3):
    0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 0.044715 x^2).  Times grad."""
    if approximate == "tanh":
        t = np.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x))
        d = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_CUBIC * x * x)
    else:
        d = _phi_cdf(x) + x * np.exp(-0.5 * x * x) * (1.0 / math.sqrt(2.0 * math.pi))
    return (grad * d).astype(grad.dtype, copy=False)


# ---------------------------------------------------------------- layer normalization
def layer_norm(x, weight, bias, eps):
    """Per row of x (M, N): mu = mean_j x_j, r = 1 / sqrt(mean_j (x_j - mu)^2 + eps),
    y = (x - mu) r w + b (w, b of shape (N,), or None for 1 and 0).
    Returns (y, mu (M,), r (M,)): backward needs mu and r."""
    mu = np.mean(x, axis=1)
    centred = x - mu[:, None]
    rstd = 1.0 / np.sqrt(np.mean(centred * centred, axis=1) + eps)
    y = centred * rstd[:, None]
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y.astype(x.dtype, copy=False), mu, rstd.astype(x.dtype, copy=False)


def layer_norm_backward(x, weight, mean, rstd, grad, needs=(True, True, True)):
    """Gradients of y = xhat w + b, xhat = (x - mu) r, per row of N:
    dxhat = g w;  dx = r (dxhat - mean_j dxhat_j - xhat mean_j (dxhat_j xhat_j));
    dw = sum_rows g xhat;  db = sum_rows g.  Returns (dx, dw, db), None where `needs` is false."""
    xhat = (x - mean[:, None]) * rstd[:, None]
    dxhat = grad if weight is None else grad * weight
    dx = dw = db = None
    if needs[0]:
        dx = rstd[:, None] * (dxhat - np.mean(dxhat, axis=1, keepdims=True)
                              - xhat * np.mean(dxhat * xhat, axis=1, keepdims=True))
        dx = dx.astype(x.dtype, copy=False)
    if needs[1]:
        dw = np.sum(grad * xhat, axis=0)
    if needs[2]:
        db = np.sum(grad, axis=0)
    return dx, dw, db


# ---------------------------------------------------------------- embedding
def embedding(weight, indices):
    """y[..., :] = W[indices[...], :]: row i of W (num_embeddings, D) for each index."""
    return weight[indices]


def embedding_backward(indices, grad, num_embeddings, padding_idx=None):
    """dL/dW[i] = sum of grad[n] over the positions n with indices[n] = i (a scatter-add), with
    row padding_idx left at zero (the padding row never learns)."""
    dim = grad.shape[-1]
    dw = np.zeros((num_embeddings, dim), dtype=grad.dtype)
    np.add.at(dw, indices.reshape(-1), grad.reshape(-1, dim))
    if padding_idx is not None:
        dw[padding_idx] = 0
    return dw


# ---------------------------------------------------------------- attention
def scaled_softmax(scores, scale, causal=False):
    """P = softmax(scale S) along the last axis of S (..., L, K); with causal, entry (i, j) with
    j > i takes no part (P_ij = 0), as if S_ij were -inf. An all-masked row (only possible for
    non-causal -inf scores) gives NaN, as softmax of -inf does."""
    z = scores * scores.dtype.type(scale)
    if causal:
        length, keys = z.shape[-2:]
        future = np.arange(keys)[None, :] > np.arange(length)[:, None]
        z = np.where(future, -np.inf, z)
    with np.errstate(invalid="ignore"):
        z = z - np.max(z, axis=-1, keepdims=True)
        e = np.exp(z)
        return (e / np.sum(e, axis=-1, keepdims=True)).astype(scores.dtype, copy=False)


def scaled_softmax_backward(probs, grad, scale):
    """dL/dS = scale P (G - sum_j G_j P_j) for P = scaled_softmax(S, scale, causal) (masked
    entries have P = 0, so they get no gradient)."""
    return (scale * probs * (grad - np.sum(grad * probs, axis=-1, keepdims=True))).astype(probs.dtype, copy=False)


def attention(query, key, value, mask=None, causal=False, scale=1.0, dropout_mask=None):
    """O = D(P) V with P = softmax(scale Q K^T + M) (causal: j > i masked) and D the dropout
    mask (kept/(1 - p), or None for none), Q (..., L, E), K (..., S, E), V (..., S, Ev), batch
    dims broadcasting, M an additive float mask (-inf where a position takes no part) or None.
    Returns (O, P)."""
    scores = np.matmul(query, np.swapaxes(key, -1, -2))
    if mask is None:
        probs = scaled_softmax(scores, scale, causal)
    else:
        probs = scaled_softmax(scores * scores.dtype.type(scale) + mask, 1.0, causal)
    weights = probs if dropout_mask is None else probs * dropout_mask
    return np.matmul(weights, value), probs


def attention_backward(query, key, value, probs, grad, scale=1.0, dropout_mask=None, needs=(True, True, True)):
    """Gradients of O = D(P) V, P = softmax(scale Q K^T + M), in the broadcast batch shape:
    dV = D(P)^T G;  dP = D(G V^T);  dZ = P (dP - sum_j dP_j P_j) (the gradient of the mask M);
    dQ = scale dZ K;  dK = scale dZ^T Q.  Returns (dQ, dK, dV, dZ), None for dQ, dK, dV where
    `needs` is false."""
    weights = probs if dropout_mask is None else probs * dropout_mask
    dv = np.matmul(np.swapaxes(weights, -1, -2), grad) if needs[2] else None
    dp = np.matmul(grad, np.swapaxes(value, -1, -2))
    if dropout_mask is not None:
        dp = dp * dropout_mask
    dz = scaled_softmax_backward(probs, dp, 1.0)
    dq = np.matmul(dz, key) * dz.dtype.type(scale) if needs[0] else None
    dk = np.matmul(np.swapaxes(dz, -1, -2), query) * dz.dtype.type(scale) if needs[1] else None
    return dq, dk, dv, dz
