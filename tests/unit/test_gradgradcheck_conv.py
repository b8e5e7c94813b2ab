"""Second derivatives of the convolution family (Conv1d/2d, MaxPool1d/2d, AvgPool2d, AdaptiveAvgPool2d,
BatchNorm in training and eval, F.pad in every mode): over random configurations (hypothesis) on both
backends, the create_graph gradient (the backward kernels as ops, ops/derivatives_conv.py) equals
the first-order one (the backend's kernels), and float64 `tn.gradgradcheck` checks it against
central differences. Then closed forms: the Hessian of ||conv(x, W)||^2 / 2 is A^T A with A the
convolution's matrix built by loops in NumPy, and a gradient penalty's derivative through LeNet5
and a ResNet in training mode equals central differences of the penalty."""
import importlib
import inspect

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

import tinynn as tn
import tinynn.nn.functional as F
from tinynn.autograd.function import Function
from tinynn.autograd.functional import hvp
from tinynn.ops.differentiable import OPS
from test_gradgradcheck import assert_same_as_first_order
from test_pooling import pool_configs  # sizes up to 7: one channel here

few = settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture])  # second order is slow
FAMILY = ("tinynn.ops.conv", "tinynn.ops.pool", "tinynn.ops.normalization", "tinynn.ops.pad",
          "tinynn.ops.derivatives_conv")


def t64(shape, rng, scale=1.0):
    return tn.tensor(rng.standard_normal(shape) * scale, requires_grad=True)


def check(fn, *inputs):
    """The create_graph gradient equals the first-order one, and gradgradcheck passes."""
    assert_same_as_first_order(fn, inputs)
    return tn.gradgradcheck(fn, *inputs)


@st.composite
def conv_configs(draw):
    """Groups (depthwise included), kernel, stride, padding (ints, pairs, "same", "valid"), dilation,
    odd sizes and batch 1; small, since each input element costs two create_graph walks."""
    groups = draw(st.sampled_from([1, 2]))
    cin = groups * draw(st.integers(1, 2))
    cout = cin if draw(st.booleans()) and groups > 1 else groups * draw(st.integers(1, 2))  # depthwise: cout = cin = G
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = draw(st.sampled_from([0, 1, (1, 0), "same", "valid"]))
    stride = (1, 1) if padding == "same" else (draw(st.integers(1, 2)), draw(st.integers(1, 3)))
    pads = {"same": (0, 0), "valid": (0, 0)}.get(padding, padding if isinstance(padding, tuple) else (padding,) * 2)
    reach = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    hw = tuple(draw(st.integers(max(1, r - 2 * p), r + 2)) for r, p in zip(reach, pads))
    return dict(n=draw(st.integers(1, 2)), cin=cin, cout=cout, hw=hw, kernel=kernel, stride=stride,
                padding=padding, dilation=dilation, groups=groups, bias=draw(st.booleans()))


@few
@given(conv_configs(), st.integers(0, 2**32 - 1))
def test_conv2d(backend_name, c, seed):
    rng = np.random.default_rng(seed)
    x, w = t64((c["n"], c["cin"], *c["hw"]), rng), t64((c["cout"], c["cin"] // c["groups"], *c["kernel"]), rng)
    inputs = (x, w, t64((c["cout"],), rng)) if c["bias"] else (x, w)
    args = (c["stride"], c["padding"], c["dilation"], c["groups"])
    assert check(lambda x, w, b=None: F.conv2d(x, w, b, *args).tanh(), *inputs)  # tanh: x and W meet again


@st.composite
def conv1d_configs(draw):
    k, dilation = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    padding = draw(st.sampled_from([0, 1, "same", "valid"]))
    return dict(k=k, dilation=dilation, padding=padding, stride=1 if padding == "same" else draw(st.integers(1, 2)),
                length=dilation * (k - 1) + 1 + draw(st.integers(0, 2)))


@few
@given(conv1d_configs(), st.integers(0, 2**32 - 1))
def test_conv1d(backend_name, c, seed):
    rng = np.random.default_rng(seed)
    x, w, b = t64((1, 2, c["length"]), rng), t64((2, 2, c["k"]), rng), t64((2,), rng)
    args = (c["stride"], c["padding"], c["dilation"])
    assert check(lambda x, w, b: F.conv1d(x, w, b, *args) ** 2, x, w, b)


def distinct(shape, seed):
    """Values at least 0.1 apart: no central difference crosses a tie of max pooling."""
    rng = np.random.default_rng(seed)
    values = rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 + rng.uniform(0, 0.01, shape)
    return tn.tensor(values - values.mean(), requires_grad=True)


@few
@given(pool_configs(), st.integers(0, 2**32 - 1))
def test_max_pool2d(backend_name, c, seed):
    x = distinct((c["n"], 1, *c["hw"]), seed)
    args = (c["kernel"], c["stride"], c["padding"], c["dilation"], c["ceil_mode"])
    assume(np.isfinite(F.max_pool2d(x, *args).numpy()).all())  # a window of padding only gives -inf
    assert check(lambda x: F.max_pool2d(x, *args) ** 2, x)  # squared: gz depends on x through the pooled values


def test_max_pool_windows_of_padding_only_at_second_order(backend_name):
    """Taps at columns -1 and 1 of a 1-wide input: each window holds padding only, its maximum is -inf
    and its index PyTorch's start, h W + 1: for row 0 the flat index 1 (the element below), for row 1
    the index 2, outside x (g dropped). The second derivative is the gather at the same indices:
    d<u, gx>/dv = (u[1], 0)."""
    x = tn.tensor([[[[1.0], [2.0]]]], requires_grad=True)
    v = tn.tensor([[[[3.0], [4.0]]]], requires_grad=True)
    y = F.max_pool2d(x, (1, 2), padding=(0, 1), dilation=(1, 2))
    assert y.numpy().tolist() == [[[[-np.inf], [-np.inf]]]]
    (gx,) = tn.autograd.grad(y, x, v, create_graph=True)
    (gv,) = tn.autograd.grad((gx * tn.tensor([[[[5.0], [6.0]]]])).sum(), v)
    assert gx.numpy().tolist() == [[[[0.0], [3.0]]]] and gv.numpy().tolist() == [[[[6.0], [0.0]]]]


def test_max_pool_of_a_single_element_whose_window_holds_padding_only(backend_name):
    """A 1x1 input with taps at columns -1 and 1: the one window's index, 1, lies outside x (which has
    only index 0), so nothing reaches x at first order and d<u, gx>/dv is 0, without reading gz there."""
    x = tn.tensor([[[[2.0]]]], requires_grad=True)
    v = tn.tensor([[[[3.0]]]], requires_grad=True)
    y, indices = F.max_pool2d(x, (1, 2), padding=(0, 1), dilation=(1, 2), return_indices=True)
    assert y.numpy().tolist() == [[[[-np.inf]]]] and indices.numpy().tolist() == [[[[1]]]]
    (gx,) = tn.autograd.grad(y, x, v, create_graph=True)
    (gv,) = tn.autograd.grad((gx * 5.0).sum(), v)
    assert gx.numpy().tolist() == [[[[0.0]]]] and gv.numpy().tolist() == [[[[0.0]]]]


@few
@given(st.integers(1, 3), st.sampled_from([None, 1, 2]), st.integers(0, 1), st.integers(0, 2**32 - 1))
def test_max_pool1d(backend_name, k, stride, padding, seed):
    x = distinct((2, 2, k + 2), seed)
    assert check(lambda x: F.max_pool1d(x, k, stride, min(padding, k // 2), ceil_mode=True) ** 2, x)


@few
@given(pool_configs(dilation=False), st.booleans(), st.integers(0, 2**32 - 1))
def test_avg_pool2d(backend_name, c, count_include_pad, seed):
    x = t64((c["n"], 1, *c["hw"]), np.random.default_rng(seed))
    args = (c["kernel"], c["stride"], c["padding"], c["ceil_mode"], count_include_pad)
    assert check(lambda x: F.avg_pool2d(x, *args) ** 2, x)


@few
@given(st.integers(1, 5), st.integers(1, 5), st.sampled_from([1, 2, 3, (2, None), (None, 3), (3, 2)]),
       st.integers(0, 2**32 - 1))
def test_adaptive_avg_pool2d(backend_name, h, w, size, seed):
    x = t64((1, 2, h, w), np.random.default_rng(seed))
    assert check(lambda x: F.adaptive_avg_pool2d(x, size) ** 2, x)


@few
@given(st.sampled_from([(4, 2), (2, 2, 3), (2, 2, 2, 3)]), st.booleans(), st.sampled_from(["both", "bias", "none"]),
       st.booleans(), st.integers(0, 2**32 - 1))
def test_batch_norm(backend_name, shape, training, affine, transposed, seed):
    """Training (batch statistics, one node whose backward is a composite of ops) and eval (running
    statistics: an affine map of plain ops); gamma and beta, beta alone, or neither; a transposed
    (non-contiguous) input, whose (N, C, L) view the node recomputes as a Tensor."""
    rng = np.random.default_rng(seed)
    x = t64(shape[:-2] + shape[:-3:-1] if transposed and len(shape) == 4 else shape, rng)
    params = {"both": (t64((2,), rng), t64((2,), rng)), "bias": (t64((2,), rng),), "none": ()}[affine]
    mean, var = rng.standard_normal(2), rng.uniform(0.5, 2.0, 2)

    def bn(x, *p):
        x = x.transpose(2, 3) if transposed and x.ndim == 4 else x
        weight, bias = (p + (None, None))[:2] if affine != "bias" else (None, p[0])
        return F.batch_norm(x, tn.tensor(mean), tn.tensor(var), weight, bias, training=training).tanh()
    assert check(bn, x, *params)


@pytest.mark.parametrize("affine", ["none", "weight", "weight and a constant bias", "weight alone asks"])
def test_batch_norm_in_training_without_gamma_or_with_gamma_alone(backend_name, affine):
    """Every example, not a draw: no gamma (the scale is r alone); gamma asking for a gradient while
    beta is absent or a constant (the kernel must still return dL/dgamma); gamma the only input that
    asks (x a constant: the kernel returns no dL/dx)."""
    rng = np.random.default_rng(8)
    x, gamma, beta = t64((3, 2, 2), rng), t64((2,), rng), tn.tensor(rng.standard_normal(2))
    bias = beta if affine.endswith("bias") else None
    if affine == "none":
        assert check(lambda x: F.batch_norm(x, None, None, training=True).tanh(), x)
    elif affine == "weight alone asks":
        x = x.detach()
        assert check(lambda gamma: F.batch_norm(x, None, None, gamma, training=True).tanh(), gamma)
    else:
        assert check(lambda x, gamma: F.batch_norm(x, None, None, gamma, bias, training=True).tanh(), x, gamma)


@st.composite
def pads(draw):
    """A mode, an input of 3 or 4 axes and PyTorch's flat pad over its last one or two (a negative
    constant pad crops; reflect needs pads < the size, circular <= the size)."""
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    shape = draw(st.sampled_from([(1, 2, 4), (2, 1, 3, 4)]))
    flat = []
    for size in shape[::-1][:draw(st.integers(1, 2))]:
        limit = {"constant": 2, "reflect": size - 1, "replicate": 2, "circular": size}[mode]
        lowest = -1 if mode == "constant" else 0
        flat += [draw(st.integers(lowest, min(limit, 3))), draw(st.integers(lowest, min(limit, 3)))]
    return mode, shape, tuple(flat)


@few
@given(pads(), st.integers(0, 2**32 - 1))
def test_pad(backend_name, p, seed):
    mode, shape, flat = p
    x = t64(shape, np.random.default_rng(seed))
    assert check(lambda x: F.pad(x, flat, mode=mode, value=0.5) ** 2, x)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_every_mode_on_an_image(backend_name, mode):
    x = t64((1, 2, 3, 4), np.random.default_rng(3))
    assert check(lambda x: F.pad(x, (2, 1, 1, 2), mode=mode).tanh(), x)


# ---------------------------------------------------------------- closed forms
def loop_conv(x, w, stride, pad, dilation, groups):
    """y[n, o, i, j] = sum_{c, u, v} W[o, c, u, v] x[n, g(o) C/G + c, s_h i - p + d_h u, s_w j - p + d_w v]
    (zero outside x), by loops: PyTorch's definition, independent of tinynn."""
    n, cin, h, wd = x.shape
    cout, cg, kh, kw = w.shape
    ho = (h + 2 * pad - dilation * (kh - 1) - 1) // stride + 1
    wo = (wd + 2 * pad - dilation * (kw - 1) - 1) // stride + 1
    y = np.zeros((n, cout, ho, wo))
    for b, o, i, j, c, u, v in np.ndindex(n, cout, ho, wo, cg, kh, kw):
        r, q = i * stride - pad + u * dilation, j * stride - pad + v * dilation
        if 0 <= r < h and 0 <= q < wd:
            y[b, o, i, j] += w[o, c, u, v] * x[b, (o // (cout // groups)) * cg + c, r, q]
    return y


def matrix_of(linear, shape):
    """The matrix of a linear map of arrays of `shape`: its columns are the images of unit arrays."""
    size = int(np.prod(shape))
    return np.stack([linear(np.eye(size)[k].reshape(shape)).ravel() for k in range(size)], axis=1)


def test_hessian_of_the_squared_convolution_is_a_transpose_a(backend_name):
    """f(x, W) = ||conv(x, W)||^2 / 2 is quadratic in x (and in W): its Hessian in x is A^T A with
    A x = conv(x, W), in W it is B^T B with B W = conv(x, W); the Hessian-vector products through
    create_graph (the transposed convolution of a convolution) equal them."""
    rng = np.random.default_rng(0)
    geometry = dict(stride=2, padding=1, dilation=2, groups=2)
    x0, w0 = rng.standard_normal((1, 4, 5, 6)), rng.standard_normal((2, 2, 2, 3))
    v, u = rng.standard_normal(x0.shape), rng.standard_normal(w0.shape)
    loop = dict(stride=2, pad=1, dilation=2, groups=2)
    a = matrix_of(lambda e: loop_conv(e, w0, **loop), x0.shape)
    b = matrix_of(lambda e: loop_conv(x0, e, **loop), w0.shape)

    def f(x, w):
        y = F.conv2d(x, w, **geometry)
        return (y * y).sum() * 0.5
    _, (hx, hw) = hvp(f, (tn.tensor(x0), tn.tensor(w0)), (tn.tensor(v), tn.tensor(np.zeros_like(w0))))
    np.testing.assert_allclose(hx.numpy().ravel(), a.T @ a @ v.ravel(), rtol=1e-10, atol=1e-10)
    _, (hx, hw) = hvp(f, (tn.tensor(x0), tn.tensor(w0)), (tn.tensor(np.zeros_like(x0)), tn.tensor(u)))
    np.testing.assert_allclose(hw.numpy().ravel(), b.T @ b @ u.ravel(), rtol=1e-10, atol=1e-10)


def _penalty(model, x, create_graph):
    """P = ||d sum(model(x) c) / dx||^2 (a gradient penalty), c fixed weights of the outputs."""
    out = model(x)
    weights = tn.tensor(np.linspace(-1.0, 1.0, out.numel()).reshape(out.shape))
    (gx,) = tn.autograd.grad((out * weights).sum(), x, create_graph=create_graph)
    return (gx * gx).sum()


@pytest.mark.parametrize("name", ["lenet", "resnet"])
def test_a_gradient_penalty_trains_through_lenet_and_a_resnet_in_training_mode(backend_name, name):
    """dP/dtheta by double backward equals the central difference of P (each P a first-order
    gradient), for entries of the first convolution's weight; the ResNet's BatchNorms use batch statistics."""
    tn.manual_seed(0)
    model = (tn.models.LeNet5(input_size=8) if name == "lenet"
             else tn.models.ResNet(block_channels=(2, 3), in_channels=1)).double().train()
    x = tn.tensor(np.random.default_rng(1).standard_normal((2, 1, 8, 8)), requires_grad=True)
    weight = next(p for p in model.parameters() if p.ndim == 4)
    _penalty(model, x, create_graph=True).backward()
    analytic, eps = weight.grad.numpy().copy(), 1e-6
    for index in [(0, 0, 0, 0), (1, 0, 1, 2), tuple(s - 1 for s in weight.shape)]:
        with tn.no_grad():
            original = float(weight[index])
            weight[index] = original + eps
        plus = float(_penalty(model, x, False))
        with tn.no_grad():
            weight[index] = original - eps
        minus = float(_penalty(model, x, False))
        with tn.no_grad():
            weight[index] = original
        assert analytic[index] == pytest.approx((plus - minus) / (2 * eps), rel=1e-5, abs=1e-7)


# ---------------------------------------------------------------- every op of the family takes part
def test_every_op_of_the_convolution_family_supports_create_graph():
    ops = [cls for name in FAMILY for _, cls in inspect.getmembers(importlib.import_module(name), inspect.isclass)
           if issubclass(cls, Function) and cls.__module__ == name]
    assert {"Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm", "Pad", "Conv2dBackwardInput",
            "MaxPool2dBackward", "PadBackward"} <= {cls.__name__ for cls in ops}
    assert [cls.__name__ for cls in ops if not cls.differentiable] == []


def test_every_backward_kernel_of_the_family_has_an_op():
    """The kernels the family's backwards call, and the ones those ops' backwards call, all record."""
    kernels = ["conv2d", "conv2d_backward_input", "conv2d_backward_weight", "max_pool2d_backward", "avg_pool2d",
               "avg_pool2d_backward", "adaptive_avg_pool2d", "adaptive_avg_pool2d_backward", "pad", "pad_backward",
               "batch_norm_backward"]
    assert [k for k in kernels if k not in OPS] == []


# ---------------------------------------------------------------- one input constant, and third order
def test_hessian_in_one_input_when_the_other_is_a_constant(backend_name):
    """With W a constant (no gradient) the Hessian of ||conv(x, W)||^2 / 2 in x is still A^T A, and with x
    a constant the one in W is B^T B: the backward kernel's own backward must give dL/dg whether or not
    its other argument asks for a gradient."""
    rng = np.random.default_rng(3)
    x0, w0 = rng.standard_normal((1, 2, 4, 5)), rng.standard_normal((3, 2, 2, 2))
    v, u = rng.standard_normal(x0.shape), rng.standard_normal(w0.shape)
    a = matrix_of(lambda e: loop_conv(e, w0, stride=1, pad=1, dilation=1, groups=1), x0.shape)
    b = matrix_of(lambda e: loop_conv(x0, e, stride=1, pad=1, dilation=1, groups=1), w0.shape)

    def half_square(y):
        return (y * y).sum() * 0.5
    _, hx = hvp(lambda x: half_square(F.conv2d(x, tn.tensor(w0), padding=1)), tn.tensor(x0), tn.tensor(v))
    np.testing.assert_allclose(hx.numpy().ravel(), a.T @ a @ v.ravel(), rtol=1e-10, atol=1e-10)
    _, hw = hvp(lambda w: half_square(F.conv2d(tn.tensor(x0), w, padding=1)), tn.tensor(w0), tn.tensor(u))
    np.testing.assert_allclose(hw.numpy().ravel(), b.T @ b @ u.ravel(), rtol=1e-10, atol=1e-10)


def third_order(f, *inputs):
    """The backward of a backward kernel records the forward op (conv2d, pad) only at third order: for
    h(x) = d f(x) / dx (create_graph), the create_graph gradient of h equals the first-order one, and
    gradgradcheck of h checks the third derivatives of f against central differences."""
    def gradient(*xs):
        return tn.autograd.grad(f(*xs), xs, create_graph=True)
    for i in range(len(inputs)):
        assert_same_as_first_order(lambda *xs: gradient(*xs)[i], inputs)
    return tn.gradgradcheck(gradient, *inputs)


def test_third_derivatives_of_a_convolution(backend_name):
    rng = np.random.default_rng(4)
    x, w = t64((1, 1, 3, 4), rng), t64((1, 1, 2, 2), rng)
    assert third_order(lambda x, w: F.conv2d(x, w, stride=(1, 2), padding=(1, 0), dilation=(2, 1)).tanh().sum(), x, w)


@pytest.mark.parametrize("mode", ["constant", "reflect"])
def test_third_derivatives_of_a_pad(backend_name, mode):
    x = t64((1, 1, 3, 4), np.random.default_rng(5))
    assert third_order(lambda x: F.pad(x, (2, 1, 0, 1), mode=mode).tanh().sum(), x)


def test_the_pad_recorded_at_third_order_fills_zeros(backend_name):
    """y = pad(x) (constant), gx = d sum(tanh y) / dx = pad_backward(tanh'(y)): d <gx, v> / dy, taken with
    create_graph (the adjoint pad recorded as an op), is tanh''(y) pad(v) with zeros where no x is copied."""
    rng = np.random.default_rng(6)
    x, v = t64((1, 2, 3), rng), rng.standard_normal((1, 2, 3))
    y = F.pad(x, (1, 2, 1, 0))
    (gx,) = tn.autograd.grad(y.tanh().sum(), x, create_graph=True)
    (gy,) = tn.autograd.grad((gx * tn.tensor(v)).sum(), y, create_graph=True)
    t = np.tanh(y.numpy())
    np.testing.assert_allclose(gy.numpy(), -2 * t * (1 - t * t) * np.pad(v, ((0, 0), (1, 0), (1, 2))), rtol=1e-12)
