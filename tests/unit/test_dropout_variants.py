"""Dropout1d/2d/3d, AlphaDropout and FeatureAlphaDropout (and their functions): which entries share a
mask (whole channels), the scale 1 / (1 - p), the alpha-dropout affine map and its fixed point (mean 0,
variance 1 kept, Klambauer et al., 2017), statistics of the masks, the identity in eval and at p = 0,
p = 1, PyTorch's rank rules, warnings, defaults, reprs and errors, the seeded generator; gradients and
gradients of gradients (of a fixed mask) in float64 on both backends."""
import math
import warnings

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F
from test_more_layers import check_gradients

LAMBDA, ALPHA = 1.0507009873554804934, 1.6732632423543772848  # SELU's constants (the paper's)
SATURATION = -LAMBDA * ALPHA  # alpha'


def alpha_affine(p):
    """(a, b) of alpha dropout: a = ((1 - p)(1 + p alpha'^2))^(-1/2), b = -a alpha' p."""
    a = ((1 - p) * (1 + p * SATURATION ** 2)) ** -0.5
    return a, -a * SATURATION * p


def channel_masks(y, x, spatial_axes):
    """Per (sample, channel): True where kept, False where dropped; asserts every channel is one or the other."""
    dropped, kept = (y == 0).all(axis=spatial_axes), (y != 0).all(axis=spatial_axes)
    assert (dropped | kept).all(), "a channel was partly dropped"
    return kept


@pytest.mark.parametrize("fn, shape, axes", [
    (F.dropout1d, (300, 8, 5), (2,)), (F.dropout2d, (200, 8, 3, 4), (2, 3)),
    (F.dropout3d, (100, 8, 2, 3, 2), (2, 3, 4)),
])
def test_whole_channels_are_dropped_and_the_rest_scaled(fn, shape, axes):
    x = tn.tensor(np.random.default_rng(0).uniform(1, 2, shape))  # no zeros of its own
    p = 0.3
    y = fn(x, p).numpy()
    kept = channel_masks(y, x.numpy(), axes)
    np.testing.assert_allclose(y[kept], x.numpy()[kept] / (1 - p), rtol=1e-15)
    n = kept.size
    assert abs((~kept).mean() - p) < 4 * math.sqrt(p * (1 - p) / n)  # 4 standard deviations of the frequency
    big = tn.ones(*shape[:2], *(1,) * len(axes)).expand(*shape)
    assert abs(fn(big, p).numpy().mean() - 1) < 0.06  # E[y] = x


def test_unbatched_inputs_take_one_mask_per_channel():
    y = F.dropout1d(tn.ones(400, 6), 0.5).numpy()      # (C, L)
    assert ((y == 0).all(1) | (y == 2).all(1)).all() and 0 < (y == 0).mean() < 1
    y = F.dropout3d(tn.ones(400, 2, 3, 2), 0.5).numpy()  # (C, D, H, W)
    assert ((y == 0).all((1, 2, 3)) | (y == 2).all((1, 2, 3))).all() and 0 < (y == 0).mean() < 1


def test_pytorchs_rank_rules_and_warnings():
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but received a 4D input"):
        F.dropout1d(tn.ones(2, 3, 4, 5))
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but received a 1D input"):
        F.dropout1d(tn.ones(3), training=False)  # checked out of training too
    with pytest.warns(UserWarning, match="dropout2d: Received a 3D input to dropout2d and assuming that channel-wise"):
        y = F.dropout2d(tn.ones(300, 4, 5)).numpy()     # taken as (N, C, L): masks per (n, c)
    assert ((y == 0).all(2) | (y == 2).all(2)).all()
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d, which is deprecated"):
        y = F.dropout2d(tn.ones(50, 40)).numpy()       # (N, C): every element its own channel
    assert 0 < (y == 0).mean() < 1 and not ((y == 0).all(1) | (y == 2).all(1)).all()
    with pytest.warns(UserWarning, match="Received a 3-D input to dropout3d"):
        y = F.dropout3d(tn.ones(300, 2, 2)).numpy()    # taken as unbatched (C, D, H): one mask per index of axis 0
    assert ((y == 0).all((1, 2)) | (y == 2).all((1, 2))).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.dropout2d(tn.ones(2, 3, 4, 5)), F.dropout3d(tn.ones(2, 3, 4, 5)), F.dropout3d(tn.ones(2, 3, 2, 4, 5))
    for call in (lambda: F.dropout2d(tn.ones(5)), lambda: F.feature_alpha_dropout(tn.ones(5), 0.5, True),
                 lambda: F.dropout3d(tn.ones(()))):
        with pytest.raises(RuntimeError, match="feature dropout requires at least 2 dimensions"), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call()


def test_identity_out_of_training_and_at_p_zero_zeros_at_p_one():
    x = tn.randn(2, 3, 4, 5)
    for fn in (F.dropout2d, F.dropout3d, F.alpha_dropout, F.feature_alpha_dropout):
        assert fn(x, 0.5, False) is x and fn(x, 0.0, True) is x
    assert F.alpha_dropout(x) is x and F.feature_alpha_dropout(x) is x  # PyTorch's default training=False
    y = F.alpha_dropout(tn.tensor([1.0, np.nan]), 1.0, True).numpy()  # x 0, as PyTorch: NaN stays
    assert y[0] == 0 and np.isnan(y[1])
    assert (F.dropout2d(tn.ones(2, 3, 2, 2), 1.0).numpy() == 0).all()
    assert F.dropout2d(tn.ones(2, 3, 2, 2, dtype=tn.int64), 0.5, False).dtype == tn.int64
    with pytest.raises(TypeError, match="dropout2d: expected a floating-point input in training, got dtype int64"):
        F.dropout2d(tn.ones(2, 3, 2, 2, dtype=tn.int64), 0.5)
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            F.dropout1d(tn.ones(2, 3), bad)
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            nn.FeatureAlphaDropout(bad)


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_alpha_dropout_is_the_affine_map_of_the_mask_and_keeps_selu_fixed_point(p):
    a, b = alpha_affine(p)
    x = tn.tensor(np.random.default_rng(1).standard_normal(200_000))
    y = F.alpha_dropout(x, p, True).numpy()
    kept = np.isclose(y, a * x.numpy() + b, rtol=0, atol=1e-12)
    dropped = np.isclose(y, a * SATURATION + b, rtol=0, atol=1e-12)
    assert (kept | dropped).all() and abs(dropped.mean() - p) < 0.01
    # the paper's fixed point: inputs of mean 0 and variance 1 keep them
    assert abs(y.mean()) < 0.01 and abs(y.var() - 1) < 0.02
    y = F.feature_alpha_dropout(tn.tensor(np.random.default_rng(2).standard_normal((500, 100, 4))), p, True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.var() - 1) < 0.03
    constant = np.isclose(y, a * SATURATION + b, rtol=0, atol=1e-12).all(axis=2)  # dropped: the saturation, mapped
    assert abs(constant.mean() - p) < 0.02


def test_layers_defaults_reprs_train_eval_and_inplace():
    assert repr(nn.Dropout2d(0.3)) == "Dropout2d(p=0.3, inplace=False)"
    assert repr(nn.AlphaDropout(0.2, True)) == "AlphaDropout(p=0.2, inplace=True)"
    assert repr(nn.Dropout1d(inplace=True)) == "Dropout1d(p=0.5, inplace=True)"
    assert repr(nn.FeatureAlphaDropout()) == "FeatureAlphaDropout(p=0.5, inplace=False)"
    x = tn.randn(4, 3, 2, 2, 2)
    for layer in (nn.Dropout3d(), nn.AlphaDropout(), nn.FeatureAlphaDropout()):
        assert not np.array_equal(layer(x).numpy(), x.numpy())
        layer.eval()
        assert layer(x) is x
    x = tn.randn(2, 3, 4)
    assert F.dropout1d(x, 0.5, True, True) is x and ((x.numpy() == 0).all(2) | (x.numpy() != 0).all(2)).all()
    y = tn.randn(2, 3, 4)
    assert nn.AlphaDropout(0.5, inplace=True)(y) is not y  # as PyTorch's layer: inplace is not passed on


def test_masks_follow_manual_seed():
    x = tn.ones(4, 6, 3)
    tn.manual_seed(7)
    first = [F.dropout1d(x).numpy(), F.alpha_dropout(x, 0.5, True).numpy()]
    tn.manual_seed(7)
    np.testing.assert_array_equal(first[0], F.dropout1d(x).numpy())
    np.testing.assert_array_equal(first[1], F.alpha_dropout(x, 0.5, True).numpy())


@pytest.mark.parametrize("fn", [
    lambda x: F.dropout2d(x, 0.4), lambda x: F.alpha_dropout(x, 0.4, True),
    lambda x: F.feature_alpha_dropout(x, 0.4, True), lambda x: F.dropout1d(x.reshape(6, 4), 0.4)])
def test_gradients_of_a_fixed_mask(backend_name, fn):
    x = tn.tensor(np.random.default_rng(3).standard_normal((2, 3, 2, 2)), requires_grad=True)

    def seeded(x):
        tn.manual_seed(11)  # the same mask at every evaluation
        return fn(x) ** 2

    check_gradients(seeded, x)
    tn.manual_seed(11)
    fn(x).sum().backward()
    at = {}
    for v in (0.0, 1.0):  # the same mask for both
        tn.manual_seed(11)
        at[v] = fn(tn.full((2, 3, 2, 2), v, dtype=tn.float64))
    slope = at[1.0] - at[0.0]
    np.testing.assert_allclose(x.grad.numpy(), slope.numpy().reshape(x.shape), rtol=1e-12)  # m / (1 - p) or a m
