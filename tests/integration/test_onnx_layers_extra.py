"""tinynn.onnx for the padding layers (ZeroPad/ConstantPad/ReflectionPad/ReplicationPad/CircularPad 1d-3d),
the dropout variants, RReLU, ChannelShuffle, RMSNorm, LocalResponseNorm, EmbeddingBag, Unfold/Fold,
ConvTranspose1d and bicubic Upsample: every export passes onnx.checker (full_check); onnxruntime computes
what tinynn's own forward computes in eval mode at batch sizes other than the example's (float32: rtol 1e-5,
atol 1e-5 max|y|, the bound of the other ONNX tests: the normalizations and resizing sum in another order,
a few ulps; padding, shuffling, gathering and the one-hot convolutions are exact); export -> load gives the
same outputs (and RMSNorm, ConvTranspose1d back with the same state dict); small cases checked against
numbers worked out by hand; what cannot be exported is an error naming the layer."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="onnx is not installed (the [onnx] extra)")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (the [onnx] extra)")

import tinynn as tn  # noqa: E402
from tinynn import nn  # noqa: E402
from tinynn import onnx as tonnx  # noqa: E402
from tinynn.onnx.graph import helper, numpy_helper  # noqa: E402
from test_onnx import BATCHES, close_float, exported, ours, rows, run_ort  # noqa: E402


def rms(shape, **kwargs):
    layer = nn.RMSNorm(shape, **kwargs)
    if layer.weight is not None:
        layer.weight._data[...] = np.linspace(0.5, 2.0, layer.weight.numel()).reshape(layer.weight.shape)
    return layer


def ids(n, shape, seed=0):
    return np.random.default_rng(seed).integers(0, 10, (n, *shape))


# name: (input shape without the batch, layer, opset, same layers back)
CASES = {
    "zeropad1d": ((3, 5), lambda: nn.ZeroPad1d((2, 1)), 17, False),
    "constantpad2d-crop": ((3, 4, 5), lambda: nn.ConstantPad2d((1, -1, 2, 0), -0.5), 17, False),
    "zeropad3d": ((2, 3, 4, 5), lambda: nn.ZeroPad3d((1, 2, 0, 1, 2, 0)), 17, False),
    "constantpad3d": ((2, 3, 4, 5), lambda: nn.ConstantPad3d((1, 0, 2, 1, 1, 1), 0.7), 17, False),
    "reflectionpad3d": ((2, 3, 4, 5), lambda: nn.ReflectionPad3d((1, 2, 2, 1, 1, 0)), 17, False),
    "replicationpad3d": ((2, 3, 4, 5), lambda: nn.ReplicationPad3d(2), 17, False),
    "circularpad1d": ((3, 5), lambda: nn.CircularPad1d((1, 3)), 19, False),
    "circularpad2d": ((3, 4, 5), lambda: nn.CircularPad2d((1, 0, 2, 3)), 19, False),
    "circularpad3d": ((2, 3, 4, 5), lambda: nn.CircularPad3d(1), 19, False),
    "dropouts-rrelu": ((4, 5), lambda: nn.Sequential(
        nn.Dropout1d(0.3), nn.Linear(5, 6), nn.RReLU(0.1, 0.3), nn.AlphaDropout(0.2), nn.Unflatten(2, (3, 2)),
        nn.Dropout2d(0.5), nn.FeatureAlphaDropout(0.4), nn.Unflatten(3, (2, 1)), nn.Dropout3d(0.1), nn.Flatten(2)),
        17, False),
    "channel-shuffle": ((6, 2, 3), lambda: nn.ChannelShuffle(3), 17, False),
    "rmsnorm-opset17": ((3, 4), lambda: rms((3, 4), eps=1e-4), 17, False),
    "rmsnorm-opset18-no-affine": ((3, 4), lambda: rms(4, elementwise_affine=False), 18, False),
    "rmsnorm-opset23": ((3, 4), lambda: rms(4), 23, True),
    "lrn-odd-4d": ((7, 3, 3), lambda: nn.LocalResponseNorm(3, 0.3, 0.75, 2.0), 17, True),
    "lrn-even-4d": ((7, 3, 3), lambda: nn.LocalResponseNorm(4, 0.3, 0.75, 2.0), 17, False),
    "lrn-3d": ((7, 5), lambda: nn.LocalResponseNorm(3, 1e-2), 17, False),
    "unfold": ((3, 7, 8), lambda: nn.Unfold((2, 3), dilation=(1, 2), padding=(1, 0), stride=(2, 1)), 17, False),
    "fold": ((18, 16), lambda: nn.Fold((7, 8), (2, 3), dilation=(1, 2), padding=(1, 0), stride=(2, 1)), 17, False),
    "conv-transpose1d": ((4, 7), lambda: nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1,
                                                            groups=2, dilation=2), 17, True),
    "bicubic-x2": ((2, 5, 6), lambda: nn.Upsample(scale_factor=2, mode="bicubic"), 17, False),
    "bicubic-scales": ((2, 5, 6), lambda: nn.Upsample(scale_factor=(1.5, 0.7), mode="bicubic"), 17, False),
    "bicubic-same-size": ((2, 5, 6), lambda: nn.Upsample(scale_factor=1.1, mode="bicubic"), 17, False),
    "bicubic-size-align": ((2, 5, 6), lambda: nn.Upsample(size=(7, 4), mode="bicubic", align_corners=True), 18, False),
    "bicubic-recompute": ((2, 5, 6), lambda: nn.Upsample(scale_factor=1.7, mode="bicubic",
                                                         recompute_scale_factor=True), 17, False),
}
BAGS = {f"embedding-bag-{mode}{'-padding' if p is not None else ''}": (mode, p)
        for mode in ("sum", "mean", "max") for p in (None, 3)}


def layers_with_state(module):
    return [m for m in module.modules() if not list(m.children()) and m.state_dict()]


@pytest.mark.parametrize("name", CASES)
def test_runs_the_same_in_onnxruntime_and_loads_back(name, tmp_path):
    shape, make, opset, same_layers = CASES[name]
    tn.manual_seed(0)
    model = make().eval()
    path = exported(model, shape, tmp_path, opset_version=opset)  # full_check inside
    loaded = tonnx.load(path)
    for n in BATCHES:
        x = rows(n, shape, seed=n, scale=2.0)
        ref = ours(model, x)
        close_float(run_ort(path, x), ref)
        close_float(ours(loaded, x), ref)
    if same_layers:
        back = [m for m in loaded.modules() if m not in (loaded, loaded.constants) and not list(m.children())]
        assert [type(m) for m in back] == [type(m) for m in model.modules()]
        for a, b in zip(layers_with_state(model), layers_with_state(loaded)):
            for key, value in a.state_dict().items():
                np.testing.assert_array_equal(value.numpy(), b.state_dict()[key].numpy(), err_msg=key)


@pytest.mark.parametrize("name", BAGS)
def test_embedding_bag_of_rows(name, tmp_path):
    mode, padding_idx = BAGS[name]
    tn.manual_seed(0)
    bag = nn.EmbeddingBag(10, 4, mode=mode, padding_idx=padding_idx).eval()
    path = tmp_path / "bag.onnx"
    tonnx.export(bag, ids(2, (5,)), path)
    loaded = tonnx.load(path)
    for n in BATCHES:
        x = ids(n, (5,), seed=n)
        x[0, :] = 3  # a bag of padding alone (when padding_idx=3)
        ref = ours(bag, x)
        np.testing.assert_allclose(run_ort(path, x), ref, rtol=1e-6, atol=1e-7)  # one sum of at most 5 rows
        np.testing.assert_allclose(ours(loaded, x), ref, rtol=1e-6, atol=1e-7)


def ops(model, x, tmp_path, opset=17):
    path = tmp_path / "ops.onnx"
    tonnx.export(model.eval(), x, path, opset_version=opset)
    return [n.op_type for n in onnx.load(str(path)).graph.node]


def test_which_operators_each_form_uses(tmp_path):
    x4 = rows(2, (6, 3, 3))
    assert ops(nn.LocalResponseNorm(5), x4, tmp_path) == ["LRN"]
    assert ops(nn.LocalResponseNorm(2), x4, tmp_path) == ["Mul", "Reshape", "Pad", "AveragePool", "Mul", "Add", "Pow",
                                                          "Shape", "Reshape", "Div"]
    assert ops(rms(3), x4, tmp_path, 23) == ["RMSNormalization"]
    assert ops(rms(3), x4, tmp_path, 18) == ["Mul", "ReduceMean", "Add", "Sqrt", "Div", "Mul"]
    assert ops(nn.Sequential(nn.Dropout2d(), nn.AlphaDropout(), nn.RReLU()), x4, tmp_path) == ["LeakyRelu"]
    assert ops(nn.Upsample(scale_factor=1.1, mode="bicubic"), x4, tmp_path) == ["MatMul", "MatMul"]
    proto = onnx.load(str(exported(nn.Upsample(scale_factor=2, mode="bicubic").eval(), (3, 4, 4), tmp_path)))
    a = {x.name: helper.get_attribute_value(x) for x in proto.graph.node[0].attribute}
    assert a == {"mode": b"cubic", "coordinate_transformation_mode": b"half_pixel", "cubic_coeff_a": -0.75}


def ort_on(model, x, tmp_path, opset=17):
    path = tmp_path / "hand.onnx"
    tonnx.export(model.eval(), x, path, opset_version=opset)
    return run_ort(path, x)


def test_hand_computed_local_response_norm(tmp_path):
    # b_c = a_c / (k + alpha/n sum a^2)^beta, alpha = beta = k = 1, channels a = 1, 2, 3 (squares 1, 4, 9)
    x = np.array([1, 2, 3], np.float32).reshape(1, 3, 1, 1)
    # n = 3: windows {0, 1}, {0, 1, 2}, {1, 2}: sums 5, 14, 13
    np.testing.assert_allclose(ort_on(nn.LocalResponseNorm(3, 1.0, 1.0, 1.0), x, tmp_path).reshape(-1),
                               [1 / (1 + 5 / 3), 2 / (1 + 14 / 3), 3 / (1 + 13 / 3)], rtol=1e-6)
    # n = 2: PyTorch's window is c - 1 .. c (ONNX's LRN would take c .. c + 1): sums 1, 5, 13
    np.testing.assert_allclose(ort_on(nn.LocalResponseNorm(2, 1.0, 1.0, 1.0), x, tmp_path).reshape(-1),
                               [1 / 1.5, 2 / 3.5, 3 / 7.5], rtol=1e-6)


def test_hand_computed_shuffles_pads_bags_and_slopes(tmp_path):
    x = np.arange(6, dtype=np.float32).reshape(1, 6, 1)
    # groups g = 2, k = 3: y[i g + j] = x[j k + i]
    np.testing.assert_array_equal(ort_on(nn.ChannelShuffle(2), x, tmp_path).reshape(-1), [0, 3, 1, 4, 2, 5])
    row = np.array([[[1, 2, 3]]], np.float32)
    np.testing.assert_array_equal(ort_on(nn.CircularPad1d((2, 1)), row, tmp_path, 19)[0, 0], [2, 3, 1, 2, 3, 1])
    np.testing.assert_array_equal(ort_on(nn.ReflectionPad1d(2), row, tmp_path)[0, 0], [3, 2, 1, 2, 3, 2, 1])
    np.testing.assert_array_equal(ort_on(nn.ReplicationPad1d((1, 2)), row, tmp_path)[0, 0], [1, 1, 2, 3, 3, 3])
    np.testing.assert_allclose(ort_on(nn.RReLU(0.1, 0.3), np.array([[-2.0, 3.0]], np.float32), tmp_path),
                               [[-0.4, 3.0]], rtol=1e-6)  # the eval slope (0.1 + 0.3) / 2
    bag = nn.EmbeddingBag.from_pretrained(tn.tensor(np.arange(20, dtype=np.float32).reshape(10, 2)), mode="mean",
                                          padding_idx=3)
    bags = np.array([[1, 3, 2], [3, 3, 3], [4, 4, 6]])
    # rows W[i] = (2i, 2i + 1); padding left out of the sum and of the count; a bag of padding alone is 0
    np.testing.assert_allclose(ort_on(bag, bags, tmp_path), [[3, 4], [0, 0], [28 / 3, 31 / 3]], rtol=1e-6)


def test_hand_computed_fold_of_unfold_counts_the_blocks(tmp_path):
    # fold(unfold(x)) multiplies each pixel by the number of 2x2 blocks that cover it: 1 2 2 1 along each axis
    model = nn.Sequential(nn.Unfold(2), nn.Fold((4, 4), 2))
    y = ort_on(model, np.ones((1, 2, 4, 4), np.float32), tmp_path)
    np.testing.assert_array_equal(y[0, 1], np.outer([1, 2, 2, 1], [1, 2, 2, 1]))


def test_hand_computed_bicubic_reproduces_a_ramp_inside(tmp_path):
    # Keys' kernel (a = -0.75) reproduces linear functions where all four taps are inside the input: with
    # align_corners, output i of 19 reads x = i * 9 / 18 = i / 2 of the ramp 0 .. 9, so y_i = i / 2 for
    # 1 <= x <= 7 (taps floor(x) - 1 .. floor(x) + 2 within 0 .. 9)
    ramp = np.tile(np.arange(10, dtype=np.float32), (1, 1, 3, 1))
    y = ort_on(nn.Upsample(size=(3, 19), mode="bicubic", align_corners=True), ramp, tmp_path)
    np.testing.assert_allclose(y[0, 0, 1, 2:15], np.arange(2, 15) / 2, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("model, x, message", [
    (nn.CircularPad2d(1), rows(2, (3, 4, 5)), r"layer '<model>' \(CircularPad2d\) needs Pad's wrap mode, opset >= 19"),
    (nn.EmbeddingBag(10, 4), ids(1, (6,))[0], r"layer '<model>' \(EmbeddingBag\) on an input of shape \(6,\)"),
    (nn.Unfold(2), rows(3, (4, 5)), r"layer '<model>' \(Unfold\) on an input of shape \(3, 4, 5\)"),
    (nn.Fold((3, 3), 2), rows(4, (4,)), r"layer '<model>' \(Fold\) on an input of shape \(4, 4\)"),
])
def test_unsupported_forms_name_the_layer(model, x, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        tonnx.export(model, x, tmp_path / "bad.onnx")


def test_embedding_bag_offsets_are_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match=r"\(EmbeddingBag\) is called with offsets, which tinynn does not export"):
        tonnx.export(nn.EmbeddingBag(10, 4), ids(1, (6,))[0], tmp_path / "bad.onnx",
                     kwargs={"offsets": np.array([0, 2])})


def test_a_foreign_even_lrn_follows_onnx(tmp_path):
    # the specification's window for n = 2 is c .. c + 1 (onnxruntime refuses even sizes): sums 5, 13, 9
    x = np.array([1, 2, 3], np.float32).reshape(1, 3, 1, 1)
    node = helper.make_node("LRN", ["x"], ["y"], size=2, alpha=1.0, beta=1.0, bias=1.0)
    graph = helper.make_graph([node], "lrn", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3, 1, 1])],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 3, 1, 1])])
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    proto.ir_version = 8
    np.testing.assert_allclose(ours(tonnx.load(proto), x).reshape(-1), [1 / 3.5, 2 / 7.5, 3 / 5.5], rtol=1e-6)
    assert numpy_helper is not None
