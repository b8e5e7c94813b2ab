"""int8 convolution: BatchNorm folding (fuse_modules), QuantizedConv2d against the float convolution
of the same quantized values, dynamic/static quantization of whole conv networks, and QAT through
conv converted to the same numbers."""
import numpy as np
import pytest

import tinynn as tn
import tinynn.nn.functional as F
from tinynn import nn, quantize
from tinynn.compress.qconv import QATConv2d, QuantizedConv2d
from tinynn.compress.qparams import calc_qparams, dequantize_tensor, quantize_tensor
from tinynn.models import LeNet5, ResNet


def conv_bn_relu(seed=0):
    tn.manual_seed(seed)
    model = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU())
    bn = model[1]
    rng = np.random.default_rng(seed)
    bn.running_mean[...] = rng.normal(size=6)
    bn.running_var[...] = rng.uniform(0.5, 2.0, size=6)
    with tn.no_grad():
        bn.weight.copy_(tn.tensor(rng.uniform(0.5, 1.5, size=6).astype(np.float32)))
        bn.bias.copy_(tn.tensor(rng.normal(size=6).astype(np.float32)))
    return model.eval()


def test_fuse_conv_bn_relu_keeps_eval_outputs():
    model = conv_bn_relu()
    x = tn.randn(4, 3, 7, 7)
    fused = quantize.fuse_modules(model, [["0", "1", "2"]])
    assert isinstance(fused[0], quantize.ConvReLU2d) and type(fused[1]) is nn.Identity and type(fused[2]) is nn.Identity
    np.testing.assert_allclose(fused(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-5)
    only_bn = quantize.fuse_modules(model, [["0", "1"]])
    assert type(only_bn[0]) is nn.Conv2d and type(only_bn[2]) is nn.ReLU
    np.testing.assert_allclose(only_bn(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-5)
    with pytest.raises(RuntimeError, match="eval mode"):
        quantize.fuse_modules(model.train(), [["0", "1"]])


def test_fuse_folds_the_formula():
    model = conv_bn_relu(1)
    conv, bn = model[0], model[1]
    k = bn.weight.numpy() / np.sqrt(bn.running_var + bn.eps)
    fused = quantize.fuse_modules(model, ["0", "1"])[0]
    np.testing.assert_allclose(fused.weight.numpy(), conv.weight.numpy() * k[:, None, None, None], rtol=1e-6)
    np.testing.assert_allclose(fused.bias.numpy(), (conv.bias.numpy() - bn.running_mean) * k + bn.bias.numpy(),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("stride, padding, dilation, groups, bias", [
    (1, 0, 1, 1, True), (2, 1, 1, 1, False), (1, 2, 2, 1, True), (1, 1, 1, 2, True), (2, (1, 0), 1, 4, False)])
def test_quantized_conv_equals_float_conv_of_the_quantized_values(stride, padding, dilation, groups, bias):
    tn.manual_seed(0)
    conv = nn.Conv2d(4, 8, 3, stride=stride, padding=padding, dilation=dilation, groups=groups, bias=bias)
    x = tn.rand(3, 4, 9, 8) * 4 - 1
    for static in (False, True):
        lo, hi = (-0.5, 2.0) if static else (float(x.numpy().min()), float(x.numpy().max()))
        q = QuantizedConv2d.from_float(conv, (lo, hi) if static else None)
        s_a, z_a = calc_qparams(lo, hi, "uint8", symmetric=False, reduce_range=True)
        xq = np.clip(quantize_tensor(x, s_a, z_a, "uint8"), 0, 127)     # 7-bit activations
        x_hat = dequantize_tensor(xq, s_a, z_a).astype(np.float64)
        w_hat = dequantize_tensor(q.weight, q.weight_scale, 0, axis=0).astype(np.float64)
        b = None if conv.bias is None else tn.tensor(conv.bias.numpy().astype(np.float64))
        expected = F.conv2d(tn.tensor(x_hat), tn.tensor(w_hat), b, stride, padding, dilation, groups).numpy()
        got = q(x).numpy()
        assert got.shape == expected.shape and got.dtype == np.float32
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())


def test_quantized_conv_fuses_relu_and_checks_input():
    tn.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU())
    q = quantize.quantize_dynamic(model)
    assert isinstance(q[0], QuantizedConv2d) and q[0].activation_name == "relu" and type(q[1]) is nn.Identity
    assert q(tn.randn(2, 2, 5, 5)).numpy().min() >= 0
    with pytest.raises(ValueError, match="QuantizedConv2d: expected input"):
        q(tn.randn(2, 3, 5, 5))


@pytest.mark.parametrize("make", [lambda: LeNet5(input_size=8), lambda: ResNet([4, 8], num_classes=10)])
def test_quantized_networks_stay_close_to_float(make):
    tn.manual_seed(2)
    model = make()
    x = tn.rand(32, 64)
    model.train()
    model(x)                                        # BatchNorm statistics of this data
    model.eval()
    ref = model(x).numpy()
    dyn = quantize.quantize_dynamic(model)
    static = quantize.quantize_static(model, [x[:16], x[16:]])
    assert not any(isinstance(m, nn.BatchNorm2d) for m in dyn.modules())        # folded into the convs
    assert sum(isinstance(m, QuantizedConv2d) for m in static.modules()) == sum(
        isinstance(m, nn.Conv2d) for m in model.modules())
    for q in (dyn, static):
        err = np.abs(q(x).numpy() - ref).max() / np.abs(ref).max()
        assert err < 0.05
    assert quantize.model_size(dyn) < quantize.model_size(model) / 2.5


def test_qat_through_conv_trains_and_converts_to_the_same_numbers():
    tn.manual_seed(3)
    model = LeNet5(input_size=8)
    qat = quantize.prepare_qat(model)
    assert isinstance(qat.conv1, QATConv2d) and isinstance(qat.conv2, QATConv2d)
    x, y = tn.rand(16, 64), tn.tensor(np.arange(16) % 10)
    opt = tn.optim.SGD(qat.parameters(), lr=0.05)
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = F.cross_entropy(qat(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] and qat.conv1.weight.grad is not None
    qat.eval()
    int8 = quantize.convert(qat)
    assert isinstance(int8.conv1, QuantizedConv2d) and int8.conv1.static
    np.testing.assert_allclose(int8(x).numpy(), qat(x).numpy(), rtol=1e-4, atol=1e-4)
