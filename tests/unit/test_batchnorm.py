"""BatchNorm1d/2d and F.batch_norm: the training output is normalized per channel, the running
statistics follow PyTorch's update (unbiased variance, momentum, cumulative average), eval uses them,
float64 gradient checks in both modes on every backend, buffers, state dict and errors."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F
from tinynn.testing import assert_gradients_match

per_backend = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # the backend stays set


def batch(shape, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return tn.tensor((rng.standard_normal(shape) * 3 + 2).astype(dtype), requires_grad=True)


@pytest.mark.parametrize("shape", [(8, 3, 4, 5), (16, 3), (6, 3, 7)])
def test_the_training_output_has_mean_0_and_variance_1_per_channel(backend_name, shape):
    layer = (nn.BatchNorm2d if len(shape) == 4 else nn.BatchNorm1d)(3).double()
    y = layer(batch(shape)).numpy()
    axes = tuple(i for i in range(len(shape)) if i != 1)
    np.testing.assert_allclose(y.mean(axis=axes), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=axes), 1 - 1e-5 / batch(shape).numpy().var(axis=axes), rtol=1e-10)


def test_float32_training_output_is_normalized_too(backend_name):
    y = nn.BatchNorm2d(4)(batch((5, 4, 6, 6), dtype=np.float32)).numpy()
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(y.std(axis=(0, 2, 3)), 1, atol=1e-3)


def test_running_statistics_move_by_momentum_toward_the_unbiased_batch_variance(backend_name):
    layer = nn.BatchNorm2d(3, momentum=0.25).double()
    x = batch((4, 3, 2, 5), seed=1)
    layer(x)
    data = x.numpy()
    np.testing.assert_allclose(layer.running_mean.numpy(), 0.25 * data.mean(axis=(0, 2, 3)), rtol=1e-12)
    unbiased = data.transpose(1, 0, 2, 3).reshape(3, -1).var(axis=1, ddof=1)
    np.testing.assert_allclose(layer.running_var.numpy(), 0.75 + 0.25 * unbiased, rtol=1e-12)
    assert layer.num_batches_tracked.numpy() == 1 and layer.num_batches_tracked.dtype == np.int64


def test_momentum_none_keeps_the_cumulative_average(backend_name):
    layer = nn.BatchNorm1d(2, momentum=None).double()
    means = []
    for seed in range(3):
        x = batch((5, 2), seed=seed)
        means.append(x.numpy().mean(axis=0))
        layer(x)
    np.testing.assert_allclose(layer.running_mean.numpy(), np.mean(means, axis=0), rtol=1e-12)
    assert layer.num_batches_tracked.numpy() == 3


def test_eval_uses_the_running_statistics(backend_name):
    layer = nn.BatchNorm2d(2, eps=0.5).double()
    layer.running_mean.numpy()[...] = [1.0, -2.0]
    layer.running_var.numpy()[...] = [3.5, 0.5]
    layer.weight.numpy()[...] = [2.0, 3.0]
    layer.bias.numpy()[...] = [0.5, 0.0]
    layer.eval()
    x = np.array([[[[3.0]], [[-1.0]]]])
    np.testing.assert_allclose(layer(tn.tensor(x)).numpy(), [[[[2.0 * 2 / 2 + 0.5]], [[3.0 * 1 / 1]]]], rtol=1e-15)
    assert layer.num_batches_tracked.numpy() == 0  # eval does not count batches


@per_backend
@given(st.sampled_from([(3, 2, 2, 3), (4, 3), (2, 2, 5), (1, 2, 3, 1)]), st.booleans(), st.integers(0, 2**32 - 1))
def test_training_gradients_match_central_differences(backend_name, shape, affine, seed):
    rng = np.random.default_rng(seed)
    x = tn.tensor(rng.standard_normal(shape), requires_grad=True)
    c = shape[1]
    params = (tn.tensor(rng.standard_normal(c), requires_grad=True),
              tn.tensor(rng.standard_normal(c), requires_grad=True)) if affine else ()
    probe = tn.tensor(rng.standard_normal(shape))  # a weighted sum: the plain sum's gradient is 0
    assert assert_gradients_match(lambda x, *p: F.batch_norm(x, None, None, *p, training=True) * probe, x, *params)


def test_eval_gradients_match_central_differences(backend_name):
    rng = np.random.default_rng(3)
    x, w, b = (tn.tensor(rng.standard_normal(s), requires_grad=True) for s in ((3, 2, 2, 2), (2,), (2,)))
    mean, var = tn.tensor(rng.standard_normal(2)), tn.tensor(rng.uniform(0.5, 2, 2))
    assert assert_gradients_match(lambda x, w, b: F.batch_norm(x, mean, var, w, b, training=False) ** 2, x, w, b)


@pytest.mark.parametrize("params", [0, 1, 2])
def test_eval_gradients_reach_the_statistics_too(backend_name, params):
    """One node (BatchNormEval) for the whole affine map: its gradients for x, running_mean,
    running_var, gamma and beta against central differences, with or without gamma and beta."""
    rng = np.random.default_rng(4)
    x = tn.tensor(rng.standard_normal((3, 2, 5)), requires_grad=True)
    mean = tn.tensor(rng.standard_normal(2), requires_grad=True)
    var = tn.tensor(rng.uniform(0.5, 2, 2), requires_grad=True)
    affine = [tn.tensor(rng.standard_normal(2), requires_grad=True) for _ in range(params)]
    probe = tn.tensor(rng.standard_normal((3, 2, 5)))
    y = F.batch_norm(x, mean, var, *affine, training=False)
    assert type(y.grad_fn).__name__ == "BatchNormEval"
    assert assert_gradients_match(lambda *a: F.batch_norm(*a, training=False) * probe, x, mean, var, *affine)


def test_eval_output_keeps_shape_and_dtype_of_a_non_contiguous_input(backend_name):
    layer = nn.BatchNorm2d(3).eval()
    layer.running_mean.numpy()[...] = [1, 2, 3]
    x = tn.tensor(np.arange(2 * 4 * 5 * 3, dtype=np.float32).reshape(2, 4, 5, 3)).permute(0, 3, 1, 2)
    y = layer(x)
    assert y.shape == (2, 3, 4, 5) and y.dtype == tn.float32
    np.testing.assert_allclose(y.numpy(), (x.numpy() - np.array([1, 2, 3])[:, None, None]) / np.sqrt(1 + 1e-5),
                               rtol=1e-6)


def test_buffers_parameters_and_state_dict_are_pytorchs():
    layer = nn.BatchNorm2d(4)
    assert list(layer.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    np.testing.assert_array_equal(layer.weight.numpy(), 1)
    np.testing.assert_array_equal(layer.bias.numpy(), 0)
    np.testing.assert_array_equal(layer.running_var.numpy(), 1)
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert list(nn.BatchNorm1d(3, affine=False).state_dict()) == ["running_mean", "running_var", "num_batches_tracked"]
    assert list(nn.BatchNorm1d(3, track_running_stats=False).state_dict()) == ["weight", "bias"]


def test_without_running_statistics_eval_normalizes_with_the_batch(backend_name):
    layer = nn.BatchNorm1d(2, track_running_stats=False, affine=False).double().eval()
    y = layer(batch((6, 2))).numpy()
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-12)
    assert layer.running_mean is None


def test_batchnorm_errors_name_the_layer_and_the_shapes():
    with pytest.raises(ValueError, match=r"BatchNorm2d: input has 3 channels but the layer has num_features=4 "
                                         r"\(input shape \(2, 3, 5, 5\)\)"):
        nn.BatchNorm2d(4)(tn.randn(2, 3, 5, 5))
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected a 4-D input \(N, C, H, W\), got shape \(2, 3\)"):
        nn.BatchNorm2d(3)(tn.randn(2, 3))
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected a 2-D or 3-D input"):
        nn.BatchNorm1d(3)(tn.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"BatchNorm: expected more than 1 value per channel when training, got "
                                         r"input of shape \(1, 3\)"):
        nn.BatchNorm1d(3)(tn.randn(1, 3))
    with pytest.raises(ValueError, match=r"BatchNorm: running_var of shape \(3,\) does not match the input's 4 "
                                         r"channels \(input shape \(2, 4, 5\)\)"):
        F.batch_norm(tn.randn(2, 4, 5), tn.zeros(4), tn.ones(3), training=False)
    with pytest.raises(TypeError, match=r"BatchNorm: expected a float input, got int64"):
        F.batch_norm(tn.tensor(np.ones((2, 3), np.int64)), np.zeros(3, np.int64), np.ones(3, np.int64), training=False)
    with pytest.raises(ValueError, match=r"BatchNorm1d: num_features must be a positive int"):
        nn.BatchNorm1d(0)
