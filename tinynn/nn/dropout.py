"""Dropout of whole channels and dropout that keeps SELU's fixed point: Dropout1d, Dropout2d, Dropout3d
(Tompson et al., 2015, "Efficient Object Localization Using Convolutional Networks": a feature map is
dropped whole, since its neighbouring pixels are strongly correlated), AlphaDropout and
FeatureAlphaDropout (Klambauer et al., 2017, "Self-Normalizing Neural Networks"), and their functions.
(Plain elementwise Dropout is nn.layers.Dropout and F.dropout.)

Masks m ~ Bernoulli(1 - p) come from tinynn's seeded generator, one per element (alpha_dropout) or one
per (sample, channel), broadcast over the spatial axes. In training:
  channel dropout:  y = x m / (1 - p);
  alpha dropout:    y = a (x m + alpha' (1 - m)) + b, alpha' = -lambda alpha = -1.7580993... (SELU's
                    saturation value), a = ((1 - p) (1 + p alpha'^2))^(-1/2), b = -a alpha' p,
so that zero mean and unit variance stay so. Out of training, or with p = 0, the input itself; p = 1
gives x 0 (zeros, NaN staying NaN)."""
import warnings

import numpy as np

from .. import ops
from ..ops.inplace import inplace as _inplace
from ..random import generator
from ..tensor import Tensor, as_tensor
from .functional_activations import SELU_ALPHA, SELU_SCALE
from .module import Module

SELU_SATURATION = SELU_SCALE * SELU_ALPHA  # -alpha' = lambda alpha = 1.7580993408473766


def _tensor(x):
    return x if isinstance(x, Tensor) else as_tensor(x)


def _check_p(p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def masked(input, keep, p, alpha):
    """y = x m / (1 - p), or a (x m + alpha' (1 - m)) + b when `alpha` (see the module docstring), for a
    boolean keep mask m broadcasting against x: multiply (and add) constants of x's dtype."""
    dtype = input.dtype
    if not alpha:
        return ops.Mul.apply(input, Tensor._wrap(keep.astype(dtype) * dtype.type(1.0 / (1.0 - p)), False))
    a = 1.0 / np.sqrt((SELU_SATURATION ** 2 * p + 1.0) * (1.0 - p))
    m = keep.astype(dtype)
    shift = (m - dtype.type(1)) * dtype.type(SELU_SATURATION * a) + dtype.type(SELU_SATURATION * a * p)
    return ops.Add.apply(ops.Mul.apply(input, Tensor._wrap(m * dtype.type(a), False)), Tensor._wrap(shift, False))


def _dropout(op, input, p, training, inplace, noise_shape, alpha=False, least=0):
    """The dropout variants' one path, in PyTorch's order of checks: `noise_shape` the mask's shape (None:
    x's own, one per element), `least` the rank a channel mask needs."""
    _check_p(p)
    if not training or p == 0.0 or input._data.size == 0:
        return input
    if p == 1.0:  # x 0, as PyTorch (any dtype; NaN stays NaN)
        compute = lambda s: ops.Mul.apply(s, Tensor._wrap(np.zeros((), input.dtype), False))  # noqa: E731
    else:
        if input.ndim < least:
            raise RuntimeError(f"{op}: feature dropout requires at least 2 dimensions in the input, got shape "
                               f"{tuple(input.shape)}")
        if input.dtype.kind != "f":
            raise TypeError(f"{op}: expected a floating-point input in training, got dtype {input.dtype}")
        shape = input.shape if noise_shape is None else noise_shape
        keep = generator().random(shape) >= p
        compute = lambda s: masked(s, keep, p, alpha)  # noqa: E731
    return _inplace(input, op + "_", compute) if inplace else compute(input)


def _channels(shape):
    """(N, C, 1, ..., 1): one mask entry per sample and channel."""
    return tuple(shape[:2]) + (1,) * (len(shape) - 2)


def _warn_rank(op, ndim, ranks, spatial):
    if ndim not in ranks:
        warnings.warn(f"{op}: Received a {ndim}-D input to {op}, which is deprecated and will result in an error in a "
                      f"future release. To retain the behavior and silence this warning, please use dropout instead. "
                      f"Note that {op} exists to provide channel-wise dropout on inputs with {spatial} spatial "
                      f"dimensions, a channel dimension, and an optional batch dimension (i.e. {ranks[0]}D or "
                      f"{ranks[1]}D inputs).", stacklevel=3)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Whole channels dropped: y[n, c, :] = x[n, c, :] m_nc / (1 - p), m_nc ~ Bernoulli(1 - p), for x (N, C, L)
    or (C, L) (then one m_c per channel); other ranks raise."""
    input = _tensor(input)
    _check_p(p)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
                           "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a "
                           "channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    noise = _channels(input.shape) if input.ndim == 3 else (input.shape[0], 1)
    return _dropout("dropout1d", input, p, training, inplace, noise)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Whole channels dropped: y[n, c] = x[n, c] m_nc / (1 - p), m_nc ~ Bernoulli(1 - p), for x (N, C, H, W).
    As PyTorch: a 3-D input is taken as (N, C, L) (dropout1d's behaviour, with a warning), and other ranks
    (>= 2) warn and drop x[d0, d1, ...] by (d0, d1)."""
    input = _tensor(input)
    _check_p(p)
    _warn_rank("dropout2d", input.ndim, (3, 4), 2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior "
                      "is desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior "
                      "will change in a future release to interpret the input as one without a batch dimension, i.e. "
                      "shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using "
                      "dropout1d instead.", stacklevel=2)
    return _dropout("dropout2d", input, p, training, inplace, _channels(input.shape), least=2)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Whole channels dropped: y[n, c] = x[n, c] m_nc / (1 - p), m_nc ~ Bernoulli(1 - p), for x (N, C, D, H, W)
    or (C, D, H, W) (one m_c per channel). As PyTorch, any rank but 5 is taken as unbatched (other ranks but
    4 warn): one mask entry per index of the first axis."""
    input = _tensor(input)
    _check_p(p)
    _warn_rank("dropout3d", input.ndim, (4, 5), 3)
    noise = _channels(input.shape) if input.ndim == 5 else input.shape[:1] + (1,) * (input.ndim - 1)
    return _dropout("dropout3d", input, p, training, inplace, noise, least=1)  # unbatched: 1 more axis


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout (Klambauer et al., 2017): y = a (x m + alpha' (1 - m)) + b, m_i ~ Bernoulli(1 - p) per
    element, alpha' = -1.7580993..., a = ((1 - p) (1 + p alpha'^2))^(-1/2), b = -a alpha' p; keeps mean 0 and
    variance 1. Note PyTorch's default training=False."""
    input = _tensor(input)
    return _dropout("alpha_dropout", input, p, training, inplace, None, alpha=True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels: alpha_dropout with one m_nc ~ Bernoulli(1 - p) per (sample, channel)
    of x (N, C, ...) (at least 2-D). Note PyTorch's default training=False."""
    input = _tensor(input)
    return _dropout("feature_alpha_dropout", input, p, training, inplace, _channels(input.shape), alpha=True,
                    least=2)


class _DropoutNd(Module):
    """A dropout layer: p (checked in [0, 1]) and inplace, applied in training mode only."""

    function = None

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return type(self).function(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_DropoutNd):
    """y = dropout1d(x, p) in training (whole channels of (N, C, L) or (C, L) zeroed, the rest scaled by
    1 / (1 - p)), the identity in eval()."""

    function = staticmethod(dropout1d)


class Dropout2d(_DropoutNd):
    """y = dropout2d(x, p) in training (whole channels of (N, C, H, W) zeroed, the rest scaled by 1 / (1 - p)),
    the identity in eval() (Tompson et al., 2015)."""

    function = staticmethod(dropout2d)


class Dropout3d(_DropoutNd):
    """y = dropout3d(x, p) in training (whole channels of (N, C, D, H, W) or (C, D, H, W) zeroed, the rest
    scaled by 1 / (1 - p)), the identity in eval()."""

    function = staticmethod(dropout3d)


class AlphaDropout(_DropoutNd):
    """y = alpha_dropout(x, p) in training, the identity in eval() (Klambauer et al., 2017). As PyTorch's
    layer, it does not pass `inplace` on (the output is a new tensor)."""

    def forward(self, input):
        return alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """y = feature_alpha_dropout(x, p) in training (whole channels set to SELU's saturation, then a x + b),
    the identity in eval(). As PyTorch's layer, it does not pass `inplace` on."""

    def forward(self, input):
        return feature_alpha_dropout(input, self.p, self.training)
