"""tinynn.onnx for images: convolutions, pooling, BatchNorm (as an operator or folded into the conv),
the activations beyond ReLU, and the image models of tinynn.models, whose forward is not a chain
(LeNet5 and ResNet take flat rows, BasicBlock adds its shortcut). onnxruntime computes what tinynn
computes (rtol 1e-5, atol 1e-5 max|y|) at batch sizes other than the example's; export -> load
gives the same outputs."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="onnx is not installed (the [onnx] extra)")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (the [onnx] extra)")

import tinynn as tn  # noqa: E402
from tinynn import models, nn  # noqa: E402
from tinynn import onnx as tonnx  # noqa: E402
from test_onnx import BATCHES, close_float, exported, ours, rows, run_ort  # noqa: E402


def trained_batchnorm(bn, shape):
    """`bn` with running statistics far from (0, 1) and a non-trivial affine part, in eval mode."""
    for seed in range(3):
        bn(tn.tensor(rows(8, shape, seed=seed, scale=3.0) + 2.0))
    if bn.weight is not None:
        bn.weight._data[...] = np.linspace(0.5, 2.0, bn.num_features)
        bn.bias._data[...] = np.linspace(-1.0, 1.0, bn.num_features)
    return bn.eval()


def same_in_onnxruntime(model, shape, tmp_path, **kwargs):
    model.eval()
    path = exported(model, shape, tmp_path, **kwargs)
    for n in BATCHES:
        x = rows(n, shape, seed=n)
        close_float(run_ort(path, x), ours(model, x))
    return path


CONVS = {
    "stride-padding": ((3, 9, 9), lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1)),
    "rect-kernel-pairs": ((2, 8, 11), lambda: nn.Conv2d(2, 5, (3, 2), stride=(1, 2), padding=(2, 0), bias=False)),
    "same-dilated-even-kernel": ((3, 7, 8), lambda: nn.Conv2d(3, 4, (2, 4), padding="same", dilation=(2, 1))),
    "valid": ((3, 6, 6), lambda: nn.Conv2d(3, 2, 3, padding="valid")),
    "groups": ((4, 6, 6), lambda: nn.Conv2d(4, 6, 3, padding=1, groups=2)),
    "depthwise": ((4, 6, 6), lambda: nn.Conv2d(4, 4, 3, groups=4)),
    "reflect": ((2, 6, 7), lambda: nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode="reflect")),
    "replicate": ((2, 6, 7), lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="replicate")),
    "conv1d": ((3, 12), lambda: nn.Conv1d(3, 4, 3, stride=2, padding=2, dilation=2)),
    "conv1d-same-groups": ((4, 10), lambda: nn.Conv1d(4, 2, 4, padding="same", groups=2)),
    "conv1d-reflect": ((3, 9), lambda: nn.Conv1d(3, 2, 3, padding=1, padding_mode="reflect")),
}


@pytest.mark.parametrize("name", CONVS)
def test_convolutions_run_the_same_in_onnxruntime(name, tmp_path):
    shape, make = CONVS[name]
    tn.manual_seed(0)
    path = same_in_onnxruntime(make(), shape, tmp_path)
    assert "Conv" in {n.op_type for n in onnx.load(str(path)).graph.node}


def test_circular_padding_needs_opset_19(tmp_path):
    conv = nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular")
    with pytest.raises(ValueError, match=r"layer '<model>' \(Conv2d, padding_mode='circular'\) needs .* opset >= 19"):
        tonnx.export(conv, rows(2, (2, 5, 5)), tmp_path / "c.onnx")
    same_in_onnxruntime(conv, (2, 5, 5), tmp_path, opset_version=19)


POOLS = {
    "max": ((3, 8, 8), lambda: nn.MaxPool2d(2)),
    "max-ceil-padded": ((2, 9, 10), lambda: nn.MaxPool2d(3, 2, padding=1, ceil_mode=True)),
    "max-dilated-ceil": ((2, 11, 9), lambda: nn.MaxPool2d((3, 2), (2, 3), dilation=(2, 1), ceil_mode=True)),
    "max1d-ceil": ((3, 11), lambda: nn.MaxPool1d(3, 2, padding=1, ceil_mode=True)),
    "avg": ((3, 8, 8), lambda: nn.AvgPool2d(2)),
    "avg-padded": ((2, 7, 7), lambda: nn.AvgPool2d(3, 2, padding=1)),
    "avg-padded-exclude": ((2, 7, 7), lambda: nn.AvgPool2d(3, 2, padding=1, count_include_pad=False)),
    "avg-ceil": ((2, 8, 9), lambda: nn.AvgPool2d(3, 2, ceil_mode=True)),
    "avg-ceil-padded-include": ((2, 8, 9), lambda: nn.AvgPool2d(3, 2, padding=1, ceil_mode=True)),
    "avg-ceil-padded-exclude": ((2, 8, 9), lambda: nn.AvgPool2d((3, 2), (2, 2), padding=(1, 1), ceil_mode=True,
                                                                count_include_pad=False)),
    "adaptive-global": ((3, 5, 7), lambda: nn.AdaptiveAvgPool2d(1)),
    "adaptive-even": ((3, 6, 8), lambda: nn.AdaptiveAvgPool2d((3, 2))),
    "adaptive-none-axis": ((3, 6, 8), lambda: nn.AdaptiveAvgPool2d((2, None))),
}


@pytest.mark.parametrize("name", POOLS)
def test_pooling_runs_the_same_in_onnxruntime(name, tmp_path):
    shape, make = POOLS[name]
    same_in_onnxruntime(make(), shape, tmp_path)


def test_a_ceil_mode_window_past_the_input_is_divided_by_its_padded_part(tmp_path):
    # x 1x1x4 of ones, kernel 3, stride 2, padding 1, ceil_mode: windows [-1, 2) [1, 4) [3, 5): PyTorch's
    # divisors 3, 3, 2 (the last window stops at the padded edge 5) with count_include_pad, so the
    # last output is (1 + 0) / 2 -- not ONNX ceil_mode's 1/3 nor the unpadded mean 1
    pool = nn.AvgPool2d((1, 3), (1, 2), padding=(0, 1), ceil_mode=True)
    path = exported(pool, (1, 1, 4), tmp_path)
    y = run_ort(path, np.ones((2, 1, 1, 4), np.float32))
    np.testing.assert_allclose(y[0, 0, 0], [2 / 3, 1.0, 0.5], rtol=1e-6)


def test_adaptive_pooling_with_uneven_windows_is_an_error_naming_the_layer(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 2, 1), nn.AdaptiveAvgPool2d(3))
    with pytest.raises(ValueError, match=r"layer '1' \(AdaptiveAvgPool2d.*5x5"):
        tonnx.export(model, rows(2, (1, 5, 5)), tmp_path / "a.onnx")


@pytest.mark.parametrize("shape", [(4,), (4, 6)])
def test_batchnorm1d_in_eval_mode(shape, tmp_path):
    bn = trained_batchnorm(nn.BatchNorm1d(4), shape)
    path = same_in_onnxruntime(nn.Sequential(bn, nn.ReLU()), shape, tmp_path)
    assert "BatchNormalization" in {n.op_type for n in onnx.load(str(path)).graph.node}


def test_batchnorm2d_without_affine_and_its_fold_into_the_conv(tmp_path):
    tn.manual_seed(3)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), trained_batchnorm(nn.BatchNorm2d(4), (4, 5, 5)),
                          nn.ReLU(), nn.Conv2d(4, 2, 3, bias=False),
                          trained_batchnorm(nn.BatchNorm2d(2, affine=False), (2, 3, 3)))
    same_in_onnxruntime(model, (3, 5, 5), tmp_path)
    path = same_in_onnxruntime(model, (3, 5, 5), tmp_path, fold_batchnorm=True)
    assert [n.op_type for n in onnx.load(str(path)).graph.node] == ["Conv", "Relu", "Conv"]


def test_batchnorm_without_running_statistics_is_refused(tmp_path):
    bn = nn.BatchNorm2d(2, track_running_stats=False)
    with pytest.raises(ValueError, match="track_running_stats=False"):
        tonnx.export(bn, rows(2, (2, 3, 3)), tmp_path / "b.onnx")


ACTIVATIONS = {
    "leaky-relu": lambda: nn.LeakyReLU(0.2), "silu": nn.SiLU, "elu": lambda: nn.ELU(0.7),
    "softplus": nn.Softplus, "softplus-beta-threshold": lambda: nn.Softplus(beta=2.0, threshold=3.0),
    "hardtanh": lambda: nn.Hardtanh(-0.5, 0.8), "gelu": nn.GELU, "gelu-tanh": lambda: nn.GELU("tanh"),
}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activations_run_the_same_in_onnxruntime(name, tmp_path):
    # inputs up to |x| = 24: both sides of Softplus's threshold and the saturated tails
    model = nn.Sequential(ACTIVATIONS[name]())
    path = exported(model, (40,), tmp_path)
    x = np.linspace(-24, 24, 3 * 40, dtype=np.float32).reshape(3, 40)
    close_float(run_ort(path, x), ours(model, x))


def test_gelu_is_the_gelu_operator_from_opset_20(tmp_path):
    for approximate in ("none", "tanh"):
        path = same_in_onnxruntime(nn.Sequential(nn.GELU(approximate)), (12,), tmp_path, opset_version=20)
        assert [n.op_type for n in onnx.load(str(path)).graph.node] == ["Gelu"]


def test_lenet5_from_flat_rows_and_from_images(tmp_path):
    tn.manual_seed(0)
    lenet = models.LeNet5(input_size=8)
    same_in_onnxruntime(lenet, (64,), tmp_path)
    same_in_onnxruntime(lenet, (1, 8, 8), tmp_path)
    tn.manual_seed(1)
    same_in_onnxruntime(models.LeNet5(in_channels=3, input_size=28, width=2), (3, 28, 28), tmp_path)


@pytest.mark.parametrize("fold", [False, True])
def test_resnet_with_downsampling_blocks(fold, tmp_path):
    tn.manual_seed(0)
    net = models.ResNet((4, 8), in_channels=1, blocks=2)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean._data[...] = np.linspace(-0.3, 0.3, m.num_features)
            m.running_var._data[...] = np.linspace(0.5, 2.0, m.num_features)
    path = same_in_onnxruntime(net, (64,), tmp_path, fold_batchnorm=fold)
    ops = [n.op_type for n in onnx.load(str(path)).graph.node]
    assert ops.count("Add") == 4 and ops.count("Conv") == 1 + 4 * 2 + 1
    assert ops.count("BatchNormalization") == (0 if fold else ops.count("Conv"))


def test_a_basic_block_and_the_augmented_wrapper_in_eval(tmp_path):
    from tinynn.data import transforms

    tn.manual_seed(2)
    block = models.BasicBlock(3, 3)
    same_in_onnxruntime(block, (3, 6, 6), tmp_path)
    wrapped = models.Augmented(models.LeNet5(input_size=8), transforms.GaussianNoise(0.5))
    path = same_in_onnxruntime(wrapped, (64,), tmp_path)
    assert any(n.name.startswith("/model/conv1/") for n in onnx.load(str(path)).graph.node)


def test_a_dynamic_batch_even_when_the_example_has_one_row(tmp_path):
    tn.manual_seed(0)
    net = models.LeNet5(input_size=8).eval()
    path = tmp_path / "one.onnx"
    tonnx.export(net, rows(1, (64,)), path)
    x = rows(7, (64,), seed=5)
    close_float(run_ort(path, x), ours(net, x))


LOADABLE = {
    # 8 -> ceil max pool 5 (one window more than floor) -> ceil avg pool 3 (likewise) -> 1
    "conv-bn-pool-chain": ((3, 8, 8), lambda: nn.Sequential(
        nn.Conv2d(3, 4, 3, padding="same"), trained_batchnorm(nn.BatchNorm2d(4), (4, 8, 8)), nn.ReLU(),
        nn.MaxPool2d(3, 2, padding=1, ceil_mode=True), nn.Conv2d(4, 4, 3, padding=1, groups=2), nn.LeakyReLU(0.1),
        nn.AvgPool2d(2, 2, ceil_mode=True, count_include_pad=False), nn.ELU(),
        nn.AvgPool2d(2, count_include_pad=True), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3),
        nn.Hardtanh(-0.5, 0.5))),
    "conv1d-chain": ((3, 12), lambda: nn.Sequential(
        nn.Conv1d(3, 4, 3, stride=2, padding=1, dilation=2), trained_batchnorm(nn.BatchNorm1d(4), (4, 5)),
        nn.MaxPool1d(2, ceil_mode=True), nn.Flatten(), nn.Linear(12, 5), trained_batchnorm(nn.BatchNorm1d(5), (5,)))),
    "lenet-on-images": ((1, 8, 8), lambda: models.LeNet5(input_size=8)),
    "lenet-on-flat-rows": ((64,), lambda: models.LeNet5(input_size=8)),
}


@pytest.mark.parametrize("name", LOADABLE)
def test_export_then_load_gives_the_same_outputs(name, tmp_path):
    shape, make = LOADABLE[name]
    tn.manual_seed(4)
    model = make().eval()
    loaded = tonnx.load(same_in_onnxruntime(model, shape, tmp_path))
    x = rows(5, shape, seed=9)
    close_float(ours(loaded, x), ours(model, x))
    # the weighted layers and the poolings come back as layers (activations as the graph's operators)
    kinds = lambda m: [type(c).__name__ for c in m.modules() if not list(c.children()) and  # noqa: E731
                       (list(c.parameters()) or "Pool" in type(c).__name__) and c is not getattr(m, "constants", None)]
    assert kinds(loaded) == kinds(model)


def test_a_residual_block_loads(tmp_path):
    tn.manual_seed(2)
    block = models.BasicBlock(2, 3, stride=2).eval()
    loaded = tonnx.load(same_in_onnxruntime(block, (2, 4, 4), tmp_path))
    x = rows(3, (2, 4, 4), seed=4)
    close_float(ours(loaded, x), ours(block, x))
    assert "Add" in [step.op_type for step in loaded.steps]


def conv_step(layer, x):
    """One quantization step of each output channel of an int8 conv reading x: s_a s_w[o] max |q_w[o]|."""
    from tinynn.compress.qparams import calc_qparams

    s_a = float(layer.input_scale[0]) if layer.static else calc_qparams(
        x.min(), x.max(), "uint8", symmetric=False, reduce_range=True)[0]
    per_channel = layer.weight_scale * np.abs(layer.weight.astype(np.int32)).reshape(layer.out_channels, -1).max(1)
    return (s_a * per_channel).reshape(1, -1, 1, 1)


@pytest.mark.parametrize("kind", ["dynamic", "static"])
@pytest.mark.parametrize("conv", ["padded-strided", "dilated-groups"])
def test_int8_convolutions_run_within_one_quantization_step(kind, conv, tmp_path):
    from tinynn import quantize

    tn.manual_seed(6)
    layer = {"padded-strided": lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1),
             "dilated-groups": lambda: nn.Conv2d(4, 6, 3, padding=2, dilation=2, groups=2, bias=False)}[conv]()
    shape = (layer.in_channels, 7, 7)
    model = nn.Sequential(layer).eval()
    qmodel = (quantize.quantize_dynamic(model) if kind == "dynamic" else
              quantize.quantize_static(model, [tn.tensor(rows(16, shape, seed=s)) for s in range(2)]))
    path = exported(qmodel, shape, tmp_path)
    assert "ConvInteger" in {n.op_type for n in onnx.load(str(path)).graph.node}
    for n, scale in ((1, 1.0), (5, 3.0)):  # 3: beyond the static calibration range
        x = rows(n, shape, seed=30 + n, scale=scale)
        y, ref = run_ort(path, x), ours(qmodel, x)
        assert np.all(np.abs(y - ref) <= conv_step(qmodel[0], x) + 1e-5 * np.abs(ref).max())


def test_an_int8_lenet_gives_tinynns_outputs_on_the_digits(tmp_path):
    from tinynn import quantize
    from tinynn.datasets import load_digits

    X, _, X_test, _ = load_digits()
    tn.manual_seed(0)
    lenet = models.LeNet5(input_size=8).eval()
    for qmodel in (quantize.quantize_dynamic(lenet), quantize.quantize_static(lenet, [tn.tensor(X[:256])])):
        path = exported(qmodel, (64,), tmp_path)
        for batch in (X_test[:1], X_test[:100]):  # a dynamic model's qparams come from each batch
            np.testing.assert_array_equal(run_ort(path, batch), ours(qmodel, batch))


def test_an_int8_lenet_loads_back_with_the_same_integers(tmp_path):
    from tinynn import quantize

    tn.manual_seed(0)
    lenet = models.LeNet5(input_size=8).eval()
    calibration = [tn.tensor(rows(64, (64,), seed=1))]
    for qmodel in (quantize.quantize_dynamic(lenet), quantize.quantize_static(lenet, calibration)):
        loaded = tonnx.load(exported(qmodel, (64,), tmp_path))
        convs = [m for m in loaded.modules() if isinstance(m, quantize.QuantizedConv2d)]
        assert len(convs) == 2 and convs[0].padding == (2, 2, 2, 2)
        x = rows(9, (64,), seed=2)
        np.testing.assert_array_equal(ours(loaded, x), ours(qmodel, x))


def test_an_int8_lenet_file_is_at_most_30_percent_of_the_float_one(tmp_path):
    from tinynn import quantize

    for width in (1, 2):  # 1: 6 and 16 channels, 62k parameters (graph overhead counts most); 2: the recipe's
        tn.manual_seed(0)
        lenet = models.LeNet5(input_size=8, width=width).eval()
        size = exported(lenet, (64,), tmp_path, "float.onnx").stat().st_size
        for kind, qmodel in (("dynamic", quantize.quantize_dynamic(lenet)),
                             ("static", quantize.quantize_static(lenet, [tn.tensor(rows(64, (64,)))]))):
            assert exported(qmodel, (64,), tmp_path, "int8.onnx").stat().st_size <= 0.30 * size, (width, kind)
