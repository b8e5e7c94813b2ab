"""MaxPool3d, AvgPool3d, AdaptiveAvgPool3d, AdaptiveMaxPool3d, BatchNorm3d and InstanceNorm3d: forwards and
max-pool indices against loops over PyTorch's documented window rules (padding at most half the kernel,
ceil_mode, count_include_pad both ways, divisor_override, the first maximum on ties), the norms against
their 2-D layers on a reshaped input, float64 gradients and gradients of gradients on every backend."""
import math

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F
from test_gradgradcheck import assert_same_as_first_order

BACKENDS = tn.backend.available()


def out_size(n, k, s, p, d, ceil_mode):
    """PyTorch's: (n + 2p - d (k - 1) - 1) / s + 1 rounded down (up with ceil_mode, unless the last window
    would start in the right padding)."""
    span = n + 2 * p - d * (k - 1) - 1
    o = (math.ceil(span / s) if ceil_mode else span // s) + 1
    return o - 1 if ceil_mode and (o - 1) * s >= n + p else o


def max_pool_by_loops(x, k, s, p, d, ceil_mode):
    """Each window's maximum over the taps inside x, scanned in (t, u, v) order keeping the first maximum."""
    size = x.shape[2:]
    out = [out_size(*a, ceil_mode) for a in zip(size, k, s, p, d)]
    y, index = np.full(x.shape[:2] + tuple(out), -np.inf), np.zeros(x.shape[:2] + tuple(out), dtype=np.int64)
    for n, c, i, j, l in np.ndindex(*y.shape):
        for t, u, v in np.ndindex(*k):
            q = [a * st - pp + dd * tap for a, st, pp, dd, tap in zip((i, j, l), s, p, d, (t, u, v))]
            if all(0 <= a < m for a, m in zip(q, size)) and x[n, c, q[0], q[1], q[2]] > y[n, c, i, j, l]:
                y[n, c, i, j, l] = x[n, c, q[0], q[1], q[2]]
                index[n, c, i, j, l] = (q[0] * size[1] + q[1]) * size[2] + q[2]
    return y, index


def avg_pool_by_loops(x, k, s, p, ceil_mode, count_include_pad, divisor_override=None):
    size = x.shape[2:]
    out = [out_size(*a, 1, ceil_mode) for a in zip(size, k, s, p)]
    y = np.zeros(x.shape[:2] + tuple(out))
    for i, j, l in np.ndindex(*out):
        starts = [a * st - pp for a, st, pp in zip((i, j, l), s, p)]
        ends = [min(b + kk, m + pp) for b, kk, m, pp in zip(starts, k, size, p)]   # clipped to the padded input
        inside = [slice(max(b, 0), min(e, m)) for b, e, m in zip(starts, ends, size)]
        total = x[:, :, inside[0], inside[1], inside[2]].sum(axis=(2, 3, 4))
        if divisor_override:
            divisor = divisor_override
        elif count_include_pad:
            divisor = np.prod([e - b for b, e in zip(starts, ends)])
        else:
            divisor = np.prod([sl.stop - sl.start for sl in inside])
        y[:, :, i, j, l] = total / divisor
    return y


POOLS = [  # kernel, stride, padding, dilation, ceil_mode, (D, H, W)
    ((2, 2, 2), (2, 2, 2), (0, 0, 0), (1, 1, 1), False, (4, 5, 4)),
    ((3, 2, 2), (2, 1, 3), (1, 1, 0), (1, 2, 1), True, (5, 4, 6)),
    ((2, 3, 1), (3, 2, 1), (1, 1, 0), (2, 1, 1), True, (6, 5, 2)),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("config", POOLS)
def test_max_pool3d_equals_a_loop(backend, config):
    k, s, p, d, ceil_mode, size = config
    x = np.round(np.random.default_rng(0).standard_normal((2, 2, *size)) * 2)   # many ties
    with tn.use_backend(backend):
        y, index = F.max_pool3d(tn.tensor(x), k, s, p, d, ceil_mode, return_indices=True)
    expected, expected_index = max_pool_by_loops(x, k, s, p, d, ceil_mode)
    np.testing.assert_array_equal(y.numpy(), expected)
    np.testing.assert_array_equal(index.numpy(), expected_index)
    y1, index1 = F.max_pool3d(tn.tensor(x[0]), k, s, p, d, ceil_mode, return_indices=True)   # unbatched
    np.testing.assert_array_equal(index1.numpy(), expected_index[0])


def test_max_pool3d_gradient_goes_to_the_first_maximum():
    x = tn.tensor(np.ones((1, 1, 2, 2, 2)), requires_grad=True)
    F.max_pool3d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy().ravel(), [1, 0, 0, 0, 0, 0, 0, 0])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("config", POOLS)
def test_avg_pool3d_equals_a_loop(backend, config, count_include_pad):
    k, s, p, _, ceil_mode, size = config
    x = np.random.default_rng(1).standard_normal((2, 3, *size))
    with tn.use_backend(backend):
        y = F.avg_pool3d(tn.tensor(x), k, s, p, ceil_mode, count_include_pad)
        y7 = F.avg_pool3d(tn.tensor(x), k, s, p, ceil_mode, count_include_pad, divisor_override=7)
    np.testing.assert_allclose(y.numpy(), avg_pool_by_loops(x, k, s, p, ceil_mode, count_include_pad), atol=1e-12)
    np.testing.assert_allclose(y7.numpy(), avg_pool_by_loops(x, k, s, p, ceil_mode, count_include_pad, 7), atol=1e-12)


def test_adaptive_pools_equal_loops():
    x = np.random.default_rng(2).standard_normal((2, 2, 5, 4, 7))
    out = (2, 3, 4)

    def windows(n, o):
        return [(i * n // o, -(-(i + 1) * n // o)) for i in range(o)]
    mean, top, where = np.zeros((2, 2, *out)), np.zeros((2, 2, *out)), np.zeros((2, 2, *out), dtype=np.int64)
    for (i, (a, b)), (j, (c, e)), (l, (f, g)) in ((p, q, r) for p in enumerate(windows(5, 2))
                                                  for q in enumerate(windows(4, 3)) for r in enumerate(windows(7, 4))):
        block = x[:, :, a:b, c:e, f:g]
        mean[:, :, i, j, l] = block.mean(axis=(2, 3, 4))
        top[:, :, i, j, l] = block.max(axis=(2, 3, 4))
        t, u, v = np.unravel_index(block.reshape(2, 2, -1).argmax(-1), block.shape[2:])
        where[:, :, i, j, l] = ((a + t) * 4 + c + u) * 7 + f + v
    np.testing.assert_allclose(F.adaptive_avg_pool3d(tn.tensor(x), out).numpy(), mean, atol=1e-12)
    y, index = F.adaptive_max_pool3d(tn.tensor(x), out, return_indices=True)
    np.testing.assert_array_equal(y.numpy(), top)
    np.testing.assert_array_equal(index.numpy(), where)
    assert nn.AdaptiveAvgPool3d((None, 2, 1))(tn.tensor(x)).shape == (2, 2, 5, 2, 1)
    assert nn.AdaptiveMaxPool3d(1)(tn.tensor(x[0])).shape == (2, 1, 1, 1)


def test_modules_repr_and_errors():
    assert repr(nn.MaxPool3d(2)) == "MaxPool3d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.AvgPool3d(3, 2, 1)) == "AvgPool3d(kernel_size=3, stride=2, padding=1)"
    assert repr(nn.AdaptiveAvgPool3d(2)) == "AdaptiveAvgPool3d(output_size=2)"
    y, index = nn.MaxPool3d(2, return_indices=True)(tn.randn(1, 2, 4, 4, 4))
    assert y.shape == index.shape == (1, 2, 2, 2, 2) and index.dtype == np.int64
    with pytest.raises(ValueError, match="max_pool3d: padding"):
        F.max_pool3d(tn.randn(1, 1, 4, 4, 4), 2, padding=2)
    with pytest.raises(ValueError, match="avg_pool3d: expected a 4-D"):
        F.avg_pool3d(tn.randn(4, 4, 4), 2)
    with pytest.raises(ValueError, match="divisor_override"):
        F.avg_pool3d(tn.randn(1, 1, 4, 4, 4), 2, divisor_override=0)


def test_batch_norm3d_equals_batch_norm2d_on_a_reshaped_input():
    x = tn.tensor(np.random.default_rng(3).standard_normal((3, 2, 4, 3, 5)) * 2 + 1)
    bn3, bn2 = nn.BatchNorm3d(2, dtype=tn.float64), nn.BatchNorm2d(2, dtype=tn.float64)
    for _ in range(2):
        np.testing.assert_allclose(bn3(x).numpy(), bn2(x.reshape(3, 2, 12, 5)).numpy().reshape(x.shape), atol=1e-12)
    np.testing.assert_allclose(bn3.running_var.numpy(), bn2.running_var.numpy(), atol=1e-12)
    bn3.eval(), bn2.eval()
    np.testing.assert_allclose(bn3(x).numpy(), bn2(x.reshape(3, 2, 12, 5)).numpy().reshape(x.shape), atol=1e-12)
    assert list(bn3.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    with pytest.raises(ValueError, match="BatchNorm3d: expected a 5-D input"):
        bn3(x[0])
    in3, in2 = nn.InstanceNorm3d(2, affine=True, dtype=tn.float64), nn.InstanceNorm2d(2, affine=True, dtype=tn.float64)
    np.testing.assert_allclose(in3(x).numpy(), in2(x.reshape(3, 2, 12, 5)).numpy().reshape(x.shape), atol=1e-12)
    np.testing.assert_allclose(in3(x[0]).numpy(), in3(x).numpy()[0], atol=1e-12)


def _check(fn, *inputs):
    assert tn.gradcheck(fn, *inputs)
    assert_same_as_first_order(fn, inputs)
    assert tn.gradgradcheck(fn, *inputs)


@pytest.mark.parametrize("backend", BACKENDS)
def test_gradients_and_gradients_of_gradients(backend):
    rng = np.random.default_rng(4)
    distinct = rng.permutation(2 * 3 * 4 * 4).reshape(1, 2, 3, 4, 4) * 0.1   # no ties: max is differentiable
    x = tn.tensor(distinct + rng.uniform(0, 0.01, distinct.shape), requires_grad=True)
    with tn.use_backend(backend):
        _check(lambda a: F.max_pool3d(a, (2, 2, 3), (1, 2, 1), (1, 0, 1), (1, 1, 1), True), x)
        _check(lambda a: F.avg_pool3d(a, (2, 3, 2), (1, 1, 2), (1, 1, 0), True, False), x)
        _check(lambda a: F.adaptive_avg_pool3d(a, (2, 3, 3)), x)
        _check(lambda a: F.adaptive_max_pool3d(a, (2, 2, 3)), x)
