"""Conv1d, Conv2d and F.pad: float64 gradient checks over random configurations (hypothesis) on every
backend, closed forms (a one-hot kernel copies a shifted input, groups are independent convolutions,
"same" keeps the size), PyTorch's initialisation and state-dict keys, and the errors."""
import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F
from tinynn.testing import assert_gradients_match

per_backend = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # the backend stays set


def t64(shape, rng, requires_grad=True):
    return tn.tensor(rng.standard_normal(shape), requires_grad=requires_grad)


@st.composite
def conv_configs(draw):
    """A convolution: groups (depthwise included), kernel, stride, padding (ints, pairs, "same", "valid"),
    dilation, odd sizes and batch 1, with the padded input at least as large as the dilated kernel."""
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = draw(st.sampled_from([0, 1, (0, 2), (1, 0), "same", "valid"]))
    stride = (1, 1) if padding == "same" else (draw(st.integers(1, 3)), draw(st.integers(1, 2)))
    pads = {"same": (0, 0), "valid": (0, 0)}.get(padding, padding if isinstance(padding, tuple) else (padding,) * 2)
    reach = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    h = draw(st.integers(max(1, reach[0] - 2 * pads[0]), 7))
    w = draw(st.integers(max(1, reach[1] - 2 * pads[1]), 7))
    return dict(n=draw(st.integers(1, 2)), cin=cin, cout=cout, hw=(h, w), kernel=kernel, stride=stride,
                padding=padding, dilation=dilation, groups=groups, bias=draw(st.booleans()))


@per_backend
@given(conv_configs(), st.integers(0, 2**32 - 1))
def test_conv2d_gradients_match_central_differences(backend_name, c, seed):
    rng = np.random.default_rng(seed)
    x = t64((c["n"], c["cin"], *c["hw"]), rng)
    w = t64((c["cout"], c["cin"] // c["groups"], *c["kernel"]), rng)
    inputs = (x, w, t64((c["cout"],), rng)) if c["bias"] else (x, w)
    args = (c["stride"], c["padding"], c["dilation"], c["groups"])
    assert assert_gradients_match(lambda x, w, b=None: F.conv2d(x, w, b, *args), *inputs)


@per_backend
@given(st.integers(1, 3), st.integers(1, 2), st.sampled_from([0, 1, "same", "valid"]), st.integers(1, 2),
       st.integers(0, 2**32 - 1))
def test_conv1d_gradients_match_central_differences(backend_name, k, dilation, padding, length_extra, seed):
    rng = np.random.default_rng(seed)
    stride = 1 if padding == "same" else 2
    x, w, b = t64((2, 2, dilation * (k - 1) + length_extra), rng), t64((3, 2, k), rng), t64((3,), rng)
    assert assert_gradients_match(lambda x, w, b: F.conv1d(x, w, b, stride, padding, dilation), x, w, b)


@pytest.mark.parametrize("stride, dilation", [(1, 1), (2, 1), (1, 2)])
def test_a_one_hot_kernel_gives_a_shifted_copy_of_its_channel(backend_name, stride, dilation):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 6))
    w = np.zeros((1, 3, 3, 3))
    w[0, 2, 2, 1] = 1.0  # y[i, j] = x_pad[channel 2, s i + 2 d, s j + d]
    y = F.conv2d(tn.tensor(x), tn.tensor(w), stride=stride, padding=2, dilation=dilation).numpy()
    xp = np.pad(x[:, 2], ((0, 0), (2, 2), (2, 2)))
    expected = xp[:, 2 * dilation::stride, dilation::stride][:, :y.shape[2], :y.shape[3]]
    assert y.shape == (2, 1, (7 + 4 - 2 * dilation - 1) // stride + 1, (6 + 4 - 2 * dilation - 1) // stride + 1)
    np.testing.assert_array_equal(y[:, 0], expected)


def test_groups_are_independent_convolutions_of_their_channels(backend_name):
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((2, 6, 5, 5)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    y = F.conv2d(tn.tensor(x), tn.tensor(w), tn.tensor(b), padding=1, groups=2).numpy()
    for g in range(2):
        part = F.conv2d(tn.tensor(x[:, 3 * g:3 * g + 3]), tn.tensor(w[2 * g:2 * g + 2]), tn.tensor(b[2 * g:2 * g + 2]),
                        padding=1).numpy()
        np.testing.assert_allclose(y[:, 2 * g:2 * g + 2], part, rtol=1e-12)


def test_a_depthwise_convolution_filters_each_channel_alone(backend_name):
    x = np.arange(2 * 3 * 4 * 4, dtype=np.float64).reshape(2, 3, 4, 4)
    w = np.zeros((3, 1, 1, 1))
    w[:, 0, 0, 0] = [1.0, -2.0, 0.5]
    y = F.conv2d(tn.tensor(x), tn.tensor(w), groups=3).numpy()
    np.testing.assert_array_equal(y, x * np.array([1.0, -2.0, 0.5])[None, :, None, None])


def test_a_conv1d_difference_kernel_gives_finite_differences(backend_name):
    x = np.array([[[1.0, 4.0, 9.0, 16.0, 25.0]]])
    y = F.conv1d(tn.tensor(x), tn.tensor(np.array([[[-1.0, 1.0]]])), tn.tensor(np.array([0.5]))).numpy()
    np.testing.assert_array_equal(y, [[[3.5, 5.5, 7.5, 9.5]]])


@pytest.mark.parametrize("kernel, dilation", [(3, 1), (4, 1), (2, 3), (5, 2)])
def test_same_padding_keeps_the_size_and_puts_the_odd_pad_after(backend_name, kernel, dilation):
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((1, 2, 6, 7)), rng.standard_normal((3, 2, kernel, kernel))
    y = F.conv2d(tn.tensor(x), tn.tensor(w), padding="same", dilation=dilation).numpy()
    total = dilation * (kernel - 1)
    before, after = total // 2, total - total // 2
    explicit = F.conv2d(F.pad(tn.tensor(x), (before, after, before, after)), tn.tensor(w), dilation=dilation).numpy()
    assert y.shape == (1, 3, 6, 7)
    np.testing.assert_array_equal(y, explicit)


def test_unbatched_inputs_run_as_a_batch_of_one(backend_name):
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 5, 5)), rng.standard_normal((3, 2, 3, 3))
    np.testing.assert_array_equal(F.conv2d(tn.tensor(x), tn.tensor(w)).numpy(),
                                  F.conv2d(tn.tensor(x[None]), tn.tensor(w)).numpy()[0])
    assert F.conv1d(tn.tensor(x[:, 0]), tn.tensor(w[:, :, 0])).shape == (3, 3)


def test_conv2d_layer_has_pytorchs_shapes_init_and_state_dict_keys():
    conv = nn.Conv2d(6, 8, (3, 5), stride=2, padding=1, groups=2)
    assert list(conv.state_dict()) == ["weight", "bias"]
    assert conv.weight.shape == (8, 3, 3, 5) and conv.bias.shape == (8,)
    bound = 1 / math.sqrt(3 * 3 * 5)  # kaiming_uniform_(a=sqrt(5)) and the bias: U(-1/sqrt(fan_in), ...)
    for p in (conv.weight.numpy(), conv.bias.numpy()):
        assert np.abs(p).max() <= bound
    assert np.abs(conv.weight.numpy()).max() > 0.8 * bound
    assert conv(tn.randn(2, 6, 9, 10)).shape == (2, 8, 5, 4)
    assert list(nn.Conv1d(2, 4, 3, bias=False).state_dict()) == ["weight"]
    assert nn.Conv1d(2, 4, 3).weight.shape == (4, 2, 3)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_padding_mode_pads_the_input_then_convolves_without_padding(backend_name, mode):
    conv = nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode).double()
    x = tn.tensor(np.random.default_rng(4).standard_normal((1, 2, 5, 6)))
    expected = F.conv2d(F.pad(x, (2, 2, 1, 1), mode=mode), conv.weight, conv.bias).numpy()
    np.testing.assert_array_equal(conv(x).numpy(), expected)
    conv1 = nn.Conv1d(2, 3, 3, padding="same", padding_mode=mode).double()
    x1 = x[:, :, 0]
    np.testing.assert_array_equal(conv1(x1).numpy(), F.conv1d(F.pad(x1, (1, 1), mode=mode), conv1.weight,
                                                              conv1.bias).numpy())


def test_conv_errors_name_the_layer_and_the_shapes():
    x, w = tn.randn(2, 3, 5, 5), tn.randn(4, 3, 3, 3)
    with pytest.raises(ValueError, match=r"Conv2d: input has 3 channels but the weight \(4, 2, 3, 3\) with groups=1 "
                                         r"expects 2 \(input shape \(2, 3, 5, 5\)\)"):
        F.conv2d(x, tn.randn(4, 2, 3, 3))
    with pytest.raises(ValueError, match=r"Conv2d: input has 4 channels .* \(input shape \(2, 4, 5, 5\)\)"):
        nn.Conv2d(3, 4, 3)(tn.randn(2, 4, 5, 5))
    with pytest.raises(ValueError, match=r"Conv2d: kernel size \(7, 7\) \(dilated\) is larger than the padded input "
                                         r"\(5, 5\)"):
        F.conv2d(x, w, dilation=3)
    assert F.conv2d(x, w, padding=1, dilation=3).shape == (2, 4, 1, 1)  # a kernel as large as the padded input fits
    with pytest.raises(ValueError, match=r"Conv2d: kernel size \(6, 6\) \(dilated\) is larger than the padded input "
                                         r"\(5, 5\) \(input shape \(2, 3, 5, 5\)"):
        F.conv2d(x, tn.randn(4, 3, 6, 6))
    with pytest.raises(ValueError, match=r"Conv2d: groups=2 does not divide the 3 output channels"):
        F.conv2d(tn.randn(1, 4, 5, 5), tn.randn(3, 2, 3, 3), groups=2)
    with pytest.raises(ValueError, match=r"Conv2d: groups=3 must divide in_channels=4 and out_channels=6"):
        nn.Conv2d(4, 6, 3, groups=3)
    with pytest.raises(ValueError, match=r"Conv2d: padding must be 'same', 'valid', an int or a pair of ints, "
                                         r"got 'full'"):
        F.conv2d(x, w, padding="full")
    with pytest.raises(ValueError, match=r"Conv2d: padding='same' is not supported for strided convolutions"):
        F.conv2d(x, w, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"Conv2d: padding='same' is not supported for strided convolutions"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"Conv1d: padding='same' is not supported"):
        nn.Conv1d(3, 4, 3, stride=(2,), padding="same")
    with pytest.raises(ValueError, match=r"Conv2d: expected input \(N, C, H, W\) .* got shapes \(3, 5\)"):
        F.conv2d(tn.randn(3, 5), w)
    with pytest.raises(TypeError, match=r"Conv2d: input, weight and bias must share one float dtype, got float64, "
                                        r"float32"):
        F.conv2d(x.double(), w)
    with pytest.raises(ValueError, match=r"Conv2d: stride must be an int >= 1"):
        F.conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match=r"Conv1d: expected input \(N, C, L\)"):
        F.conv1d(x, w)
    with pytest.raises(ValueError, match=r"Conv2d: padding_mode must be one of"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")


def test_conv_argument_errors_say_which_argument_and_its_value():
    """Each argument is checked before any arithmetic with it, and the message names the op, the
    argument and the value or the dtypes (PyTorch refuses the same calls)."""
    x, w = tn.randn(1, 3, 5, 5), tn.randn(4, 3, 3, 3)
    with pytest.raises(TypeError, match=r"Conv2d: input, weight and bias must share one float dtype, "
                                        r"got int64, int64$"):
        F.conv2d(tn.tensor(np.ones((1, 3, 5, 5), np.int64)), tn.tensor(np.ones((4, 3, 3, 3), np.int64)))
    with pytest.raises(TypeError, match=r"Conv2d: input, weight and bias must share one float dtype, got float64, "
                                        r"float64, float32$"):
        F.conv2d(x.double(), w.double(), tn.zeros(4))
    for groups in (0, 2.0, True):
        with pytest.raises(ValueError, match=rf"Conv2d: groups must be an int >= 1, got {groups!r}$"):
            F.conv2d(x, w, groups=groups)
    with pytest.raises(ValueError, match=r"Conv2d: bias of shape \(3,\) does not match weight of shape \(4, 3, 3, 3\)"):
        F.conv2d(x, w, tn.zeros(3))
    for what, minimum in (("stride", 1), ("padding", 0), ("dilation", 1)):
        with pytest.raises(ValueError, match=rf"Conv2d: {what} must be an int >= {minimum} or a pair of them, "
                                             rf"got {minimum - 1}$"):
            F.conv2d(x, w, **{what: minimum - 1})


@pytest.mark.parametrize("x_shape, w_shape, padding, padded", [
    ((1, 3, 2, 5), (4, 3, 3, 1), 0, (2, 5)),          # too short, wide enough
    ((1, 3, 2, 5), (4, 3, 3, 1), (0, 1), (2, 7)),     # padding along W does not lengthen H
    ((1, 3, 0, 5), (4, 3, 2, 1), "same", (1, 5)),     # "same" pads an even kernel 0 before, 1 after
    ((1, 3, 5, 0), (4, 3, 1, 2), "same", (5, 1)),
])
def test_a_kernel_longer_than_the_padded_input_along_one_axis_is_refused(x_shape, w_shape, padding, padded):
    reach = tuple(w_shape[2:])
    with pytest.raises(ValueError, match=rf"Conv2d: kernel size {re.escape(str(reach))} \(dilated\) is larger than "
                                         rf"the padded input {re.escape(str(padded))}"):
        F.conv2d(tn.zeros(*x_shape), tn.zeros(*w_shape), padding=padding)


def test_valid_padding_is_no_padding(backend_name):
    rng = np.random.default_rng(7)
    x, w = t64((1, 2, 4, 6), rng, False), t64((3, 2, 2, 3), rng, False)
    y = F.conv2d(x, w, padding="valid")
    assert y.shape == (1, 3, 3, 4)
    np.testing.assert_array_equal(y.numpy(), F.conv2d(x, w, padding=0).numpy())


# ---------------------------------------------------------------- F.pad
@pytest.mark.parametrize("mode, expected", [
    ("constant", [9, 9, 1, 2, 3, 9]),
    ("reflect", [3, 2, 1, 2, 3, 2]),
    ("replicate", [1, 1, 1, 2, 3, 3]),
    ("circular", [2, 3, 1, 2, 3, 1]),
])
def test_pad_modes_by_their_definitions(backend_name, mode, expected):
    x = tn.tensor(np.array([[[1.0, 2.0, 3.0]]]))
    y = F.pad(x, (2, 1), mode=mode, value=9.0) if mode == "constant" else F.pad(x, (2, 1), mode=mode)
    np.testing.assert_array_equal(y.numpy()[0, 0], expected)


def test_a_negative_constant_pad_crops_and_the_pad_order_is_last_axis_first(backend_name):
    x = np.arange(12.0).reshape(1, 3, 4)
    y = F.pad(tn.tensor(x), (-1, 2, 1, 0)).numpy()  # W: crop 1 left, 2 zeros right; H: 1 zero row on top
    expected = np.zeros((1, 4, 5))
    expected[0, 1:, :3] = x[0, :, 1:]
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_gradients_match_central_differences(backend_name, mode):
    x = t64((2, 2, 4, 5), np.random.default_rng(5))
    pads = (-1, 2, 1, 3) if mode == "constant" else (2, 1, 3, 0)
    assert assert_gradients_match(lambda x: F.pad(x, pads, mode=mode) * F.pad(x, pads, mode=mode), x)


def test_pad_errors():
    x = tn.randn(1, 2, 3)
    with pytest.raises(ValueError, match=r"pad: pad must be a tuple of an even number of ints"):
        F.pad(x, (1, 2, 3))
    with pytest.raises(ValueError, match=r"pad: reflect padding \(3, 0\) must be smaller than the padded axis"):
        F.pad(x, (3, 0), mode="reflect")
    with pytest.raises(ValueError, match=r"pad: mode must be one of"):
        F.pad(x, (1, 1), mode="wrap")
    with pytest.raises(ValueError, match=r"pad: pad \(1, 1, 1, 1, 1, 1, 1, 1\) pads 4 axes but the input has shape"):
        F.pad(x, (1,) * 8)
