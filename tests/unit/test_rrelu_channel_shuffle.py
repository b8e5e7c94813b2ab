"""nn.RReLU / F.rrelu / F.rrelu_ (randomized leaky ReLU, Xu et al., 2015) and nn.ChannelShuffle /
F.channel_shuffle / F.native_channel_shuffle (ShuffleNet, Zhang et al., 2018): the eval slope
(lower + upper) / 2 exactly, the training slopes' range and moments (U(lower, upper): mean (l + u) / 2,
variance (u - l)^2 / 12) and the gradient being the drawn slope, the hand-worked channel permutation and
its inverse, PyTorch's defaults, reprs and errors; gradients and gradients of gradients in float64 on both
backends."""
import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F
from test_more_layers import check_gradients


def test_rrelu_out_of_training_is_leaky_relu_with_the_mean_slope():
    x = tn.tensor([-2.0, -1.0, 0.0, 1.0, 2.0], requires_grad=True)
    y = F.rrelu(x, 0.1, 0.3)  # PyTorch's default: training=False
    np.testing.assert_allclose(y.numpy(), [-0.4, -0.2, 0.0, 1.0, 2.0], rtol=1e-7)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.2, 0.2, 0.2, 1.0, 1.0], rtol=1e-7)  # slope at 0, as PyTorch
    m = nn.RReLU()
    assert (m.lower, m.upper) == (1 / 8, 1 / 3)
    m.eval()
    np.testing.assert_allclose(m(tn.tensor([-24.0])).numpy(), [-24 * (1 / 8 + 1 / 3) / 2], rtol=1e-7)


def test_rrelu_training_slopes_are_uniform_and_are_the_gradient():
    lower, upper = 0.1, 0.4
    x = tn.tensor(-np.ones(100_000), requires_grad=True)
    y = F.rrelu(x, lower, upper, training=True)
    y.sum().backward()
    slopes = -y.numpy()
    assert lower <= slopes.min() and slopes.max() <= upper
    assert abs(slopes.mean() - (lower + upper) / 2) < 0.002
    assert abs(slopes.var() - (upper - lower) ** 2 / 12) < 0.0003
    np.testing.assert_array_equal(x.grad.numpy(), slopes)
    # x > 0 passes through; x = 0 gets a drawn slope as its gradient; -inf and nan go through as PyTorch's
    z = tn.tensor([0.0, 3.0, -np.inf, np.nan], requires_grad=True)
    out = F.rrelu(z, lower, upper, training=True)
    out.sum().backward()
    assert out.numpy()[0] == 0 and out.numpy()[1] == 3 and out.numpy()[2] == -np.inf and np.isnan(out.numpy()[3])
    assert lower <= z.grad.numpy()[0] <= upper and z.grad.numpy()[1] == 1


def test_rrelu_layer_inplace_seed_and_errors():
    m = nn.RReLU(0.1, 0.3, inplace=True)
    assert repr(m) == "RReLU(lower=0.1, upper=0.3, inplace=True)"
    assert repr(nn.RReLU()) == "RReLU(lower=0.125, upper=0.3333333333333333)"
    x = tn.tensor([-1.0, 2.0])
    assert m(x) is x and 0.1 <= -x.numpy()[0] <= 0.3 and x.numpy()[1] == 2  # training by default
    x = tn.tensor([-1.0])
    assert F.rrelu_(x, 0.5, 0.5, True) is x and x.numpy()[0] == -0.5
    tn.manual_seed(3)
    first = F.rrelu(-tn.ones(10), training=True).numpy()
    tn.manual_seed(3)
    np.testing.assert_array_equal(first, F.rrelu(-tn.ones(10), training=True).numpy())
    with pytest.raises(RuntimeError, match="rrelu: Lower bound should be less than or equal to the upper bound"):
        F.rrelu(tn.ones(3), 0.5, 0.2)
    with pytest.raises(TypeError, match="rrelu: not implemented for dtype int64"):
        F.rrelu(tn.tensor([1, -2]))
    assert tn.rrelu is F.rrelu and tn.rrelu_ is F.rrelu_


@pytest.mark.parametrize("training", [False, True])
def test_rrelu_gradients(training, backend_name):
    x = tn.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)

    def seeded(x):
        tn.manual_seed(5)  # the same slopes at every evaluation
        return F.rrelu(x, 0.1, 0.3, training) ** 2

    check_gradients(seeded, x)


# ---------------------------------------------------------------- channel_shuffle
def test_channel_shuffle_by_hand_and_its_inverse():
    x = tn.arange(12.0).reshape(1, 6, 2)  # channel c holds 2c, 2c + 1
    # g = 2 groups of k = 3: the (2, 3) grid [[0, 1, 2], [3, 4, 5]] read by columns: 0 3 1 4 2 5
    assert F.channel_shuffle(x, 2).numpy()[0, :, 0].tolist() == [0, 6, 2, 8, 4, 10]
    assert F.channel_shuffle(x, 3).numpy()[0, :, 0].tolist() == [0, 4, 8, 2, 6, 10]  # 0 2 4 1 3 5
    y = tn.randn(2, 12, 3, 2)
    np.testing.assert_array_equal(F.channel_shuffle(F.channel_shuffle(y, 3), 4).numpy(), y.numpy())  # (3,4)^T
    np.testing.assert_array_equal(F.native_channel_shuffle(y, 3).numpy(), F.channel_shuffle(y, 3).numpy())
    np.testing.assert_array_equal(F.channel_shuffle(y, 1).numpy(), y.numpy())
    assert F.channel_shuffle(tn.ones(2, 4, 1, 1, 1, dtype=tn.int64), 2).dtype == tn.int64
    assert F.channel_shuffle(tn.zeros(0, 6, 2), 2).shape == (0, 6, 2)


def test_channel_shuffle_layer_and_errors():
    m = nn.ChannelShuffle(2)
    assert repr(m) == "ChannelShuffle(groups=2)" and m.state_dict() == {}
    np.testing.assert_array_equal(m(tn.arange(8.0).reshape(1, 4, 2)).numpy()[0, :, 0], [0, 4, 2, 6])
    with pytest.raises(RuntimeError, match=r"expects input with > 2 dims, but got input with sizes \[2, 6\]"):
        F.channel_shuffle(tn.ones(2, 6), 2)
    with pytest.raises(RuntimeError, match="Number of channels must be divisible by groups. Got 5 channels and 2"):
        F.channel_shuffle(tn.ones(1, 5, 2), 2)
    with pytest.raises(RuntimeError, match="must be positive. Value of groups:0"):
        F.channel_shuffle(tn.ones(1, 6, 2), 0)
    with pytest.raises(TypeError, match="groups must be an int"):
        F.channel_shuffle(tn.ones(1, 6, 2), 2.0)
    assert tn.channel_shuffle is F.channel_shuffle and tn.native_channel_shuffle is F.native_channel_shuffle


def test_channel_shuffle_gradients(backend_name):
    x = tn.tensor(np.random.default_rng(1).standard_normal((2, 6, 3)), requires_grad=True)
    check_gradients(lambda x: F.channel_shuffle(x, 3) ** 2, x)
