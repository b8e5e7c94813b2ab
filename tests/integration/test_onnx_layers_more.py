"""tinynn.onnx for GroupNorm, InstanceNorm1d/2d, ConvTranspose2d, Upsample (and its 2-D subclasses) and
Unflatten: every export passes onnx.checker (full_check), onnxruntime computes what tinynn computes at
batch sizes other than the example's (float32: rtol 1e-5, atol 1e-5 max|y|, the bound of the other ONNX
tests; the normalizations and linear resizing sum in another order, a few ulps), export -> load gives
the same outputs and each layer back with the same state dict; a few small cases are checked against
numbers worked out by hand; what cannot be exported is an error naming the layer and the attribute."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="onnx is not installed (the [onnx] extra)")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (the [onnx] extra)")

import tinynn as tn  # noqa: E402
from tinynn import nn  # noqa: E402
from tinynn import onnx as tonnx  # noqa: E402
from tinynn.onnx.graph import helper, numpy_helper  # noqa: E402
from test_onnx import BATCHES, close_float, exported, ours, rows, run_ort  # noqa: E402

TensorProto = onnx.TensorProto


def affine(layer):
    """`layer` with gamma, beta far from (1, 0), in eval mode."""
    if layer.weight is not None:
        layer.weight._data[...] = np.linspace(0.5, 2.0, layer.weight.shape[0])
    if layer.bias is not None:
        layer.bias._data[...] = np.linspace(-1.0, 1.0, layer.bias.shape[0])
    return layer.eval()


def with_running_stats(layer, shape):
    layer.train()
    for seed in range(3):
        layer(tn.tensor(rows(4, shape, seed=seed, scale=3.0) + 2.0))
    return layer.eval()


# name: (input shape without the batch, layer, opset)
NORMS = {
    "groupnorm-2d": ((6, 4, 5), lambda: affine(nn.GroupNorm(2, 6)), 17),
    "groupnorm-1d-no-affine": ((6, 7), lambda: nn.GroupNorm(3, 6, affine=False), 17),
    "groupnorm-one-group-no-bias": ((4, 3, 3), lambda: affine(nn.GroupNorm(1, 4, bias=False)), 17),
    "groupnorm-groups-equal-channels-eps": ((4, 5), lambda: affine(nn.GroupNorm(4, 4, eps=1e-2)), 17),
    "groupnorm-opset21": ((6, 4, 5), lambda: affine(nn.GroupNorm(3, 6)), 21),
    "groupnorm-opset21-no-affine": ((6, 4), lambda: nn.GroupNorm(2, 6, affine=False), 21),
    "instancenorm2d": ((3, 4, 5), lambda: nn.InstanceNorm2d(3), 17),
    "instancenorm2d-affine": ((3, 4, 5), lambda: affine(nn.InstanceNorm2d(3, affine=True, eps=1e-3)), 17),
    "instancenorm1d-affine-no-bias": ((3, 8), lambda: affine(nn.InstanceNorm1d(3, affine=True, bias=False)), 17),
}

CONV_TRANSPOSES = {
    "stride2-output-padding": ((4, 5, 6), lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, output_padding=1)),
    "pairs-padding": ((4, 5, 6), lambda: nn.ConvTranspose2d(4, 6, (3, 2), stride=(2, 3), padding=(1, 2),
                                                            output_padding=(1, 0))),
    "groups-dilation": ((4, 5, 6), lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1,
                                                              groups=2, dilation=2)),
    "depthwise-no-bias": ((4, 4, 4), lambda: nn.ConvTranspose2d(4, 4, 2, stride=3, output_padding=2, groups=4,
                                                                dilation=3, bias=False)),
}

UPSAMPLES = {
    "nearest-x2": ((2, 4, 5), lambda: nn.Upsample(scale_factor=2), 17),
    "nearest-non-integer": ((2, 13, 10), lambda: nn.Upsample(scale_factor=(1.3, 0.7)), 17),
    "nearest-gather-fallback": ((2, 10, 8), lambda: nn.Upsample(scale_factor=(2.6, 1.33)), 17),
    "nearest-size-opset17": ((2, 11, 15), lambda: nn.Upsample(size=(13, 26)), 17),
    "nearest-size-opset18": ((2, 11, 15), lambda: nn.UpsamplingNearest2d(size=(13, 26)), 18),
    "nearest-1d": ((2, 7), lambda: nn.Upsample(scale_factor=2.5), 17),
    "nearest-exact": ((2, 9, 7), lambda: nn.Upsample(scale_factor=(1.7, 0.6), mode="nearest-exact"), 17),
    "bilinear": ((2, 5, 6), lambda: nn.Upsample(scale_factor=(1.5, 2.2), mode="bilinear"), 17),
    "bilinear-align-corners": ((2, 5, 6), lambda: nn.Upsample(scale_factor=(1.5, 2.2), mode="bilinear",
                                                              align_corners=True), 17),
    "bilinear-same-size-one-axis": ((2, 3, 6), lambda: nn.Upsample(scale_factor=1.1, mode="bilinear"), 17),
    "bilinear-down-to-1": ((2, 5, 6), lambda: nn.Upsample(size=(1, 4), mode="bilinear"), 18),
    "bilinear-recompute": ((2, 9, 10), lambda: nn.Upsample(scale_factor=1.7, mode="bilinear",
                                                           recompute_scale_factor=True), 17),
    "upsampling-bilinear2d": ((2, 4, 5), lambda: nn.UpsamplingBilinear2d(size=(7, 3)), 17),
    "linear-1d": ((2, 7), lambda: nn.Upsample(scale_factor=2.5, mode="linear"), 17),
    "trilinear-align-corners": ((2, 3, 4, 5), lambda: nn.Upsample(scale_factor=1.5, mode="trilinear",
                                                                  align_corners=True), 17),
    "area": ((2, 6, 9), lambda: nn.Upsample(size=(2, 3), mode="area"), 17),
    "area-1d": ((2, 8), lambda: nn.Upsample(size=4, mode="area"), 17),
}

CASES = {f"norm-{k}": v for k, v in NORMS.items()}
CASES.update({f"convT-{k}": (shape, make, 17) for k, (shape, make) in CONV_TRANSPOSES.items()})
CASES.update({f"upsample-{k}": v for k, v in UPSAMPLES.items()})
CASES.update({
    "instancenorm2d-running-stats": ((3, 5, 5), lambda: with_running_stats(
        nn.InstanceNorm2d(3, track_running_stats=True), (3, 5, 5)), 17),
    "unflatten": ((12,), lambda: nn.Unflatten(1, (3, -1)), 17),
    "unflatten-last": ((2, 6), lambda: nn.Unflatten(-1, (2, 1, 3)), 17),
    "decoder": ((4, 6, 6), lambda: nn.Sequential(
        nn.Conv2d(4, 6, 3, padding=1), affine(nn.GroupNorm(3, 6)), nn.ReLU(),
        nn.ConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1), affine(nn.InstanceNorm2d(4, affine=True)),
        nn.Upsample(scale_factor=1.5, mode="bilinear"), nn.Conv2d(4, 2, 1)), 17),
})


def layers_with_state(module):
    return [m for m in module.modules() if not list(m.children()) and m.state_dict()]


@pytest.mark.parametrize("name", CASES)
def test_runs_the_same_in_onnxruntime_and_loads_back(name, tmp_path):
    shape, make, opset = CASES[name]
    tn.manual_seed(0)
    model = make().eval()
    path = exported(model, shape, tmp_path, opset_version=opset)  # full_check inside
    loaded = tonnx.load(path)
    for n in BATCHES:
        x = rows(n, shape, seed=n, scale=2.0)
        ref = ours(model, x)
        close_float(run_ort(path, x), ref)
        close_float(ours(loaded, x), ref)
    if name != "instancenorm2d-running-stats":  # (that one reads back as a BatchNorm2d: below)
        mine, back = layers_with_state(model), [m for m in layers_with_state(loaded) if m is not loaded.constants]
        assert [type(m) for m in back] == [type(m) for m in mine]
        for a, b in zip(mine, back):
            sa, sb = a.state_dict(), b.state_dict()
            assert list(sa) == list(sb)
            for key in sa:
                np.testing.assert_array_equal(sa[key].numpy(), sb[key].numpy(), err_msg=key)


def test_which_operators_each_form_uses(tmp_path):
    def ops(model, shape, opset=17):
        path = exported(model.eval(), shape, tmp_path, opset_version=opset)
        return [n.op_type for n in onnx.load(str(path)).graph.node]

    gn = affine(nn.GroupNorm(2, 4))
    assert ops(gn, (4, 3)) == ["Reshape", "InstanceNormalization", "Reshape", "Mul", "Add"]
    assert ops(gn, (4, 3), 21) == ["GroupNormalization"]
    assert ops(nn.Upsample(size=(5, 7)), (1, 3, 4)) == ["Shape", "Slice", "Concat", "Resize"]
    assert ops(nn.Upsample(size=(5, 7)), (1, 3, 4), 18) == ["Resize"]
    assert ops(nn.Upsample(scale_factor=(2.6, 1.33)), (1, 10, 8)) == ["Gather", "Gather"]
    proto = onnx.load(str(exported(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True).eval(),
                                   (1, 3, 4), tmp_path)))
    a = {x.name: helper.get_attribute_value(x) for x in proto.graph.node[0].attribute}
    assert a == {"mode": b"linear", "coordinate_transformation_mode": b"align_corners"}
    assert ops(with_running_stats(nn.InstanceNorm1d(2, track_running_stats=True), (2, 5)), (2, 5)) == \
        ["BatchNormalization"]


def ort_on(model, x, tmp_path, opset=17):
    path = tmp_path / "hand.onnx"
    tonnx.export(model.eval(), x, path, opset_version=opset)
    return run_ort(path, x)


def test_hand_computed_conv_transpose_stride_2_output_padding_1(tmp_path):
    # 2x2 kernel of ones, stride 2: each input pixel fills its own 2x2 block; output_padding adds a last
    # row and column that no input reaches (only the bias, 0.5): (2 - 1) 2 + 2 + 1 = 5
    layer = nn.ConvTranspose2d(1, 1, 2, stride=2, output_padding=1)
    layer.weight._data[...] = 1.0
    layer.bias._data[...] = 0.5
    x = np.array([[[[1, 2], [3, 4]]]], np.float32)
    want = np.full((5, 5), 0.5, np.float32)
    want[:2, :2], want[:2, 2:4], want[2:4, :2], want[2:4, 2:4] = 1.5, 2.5, 3.5, 4.5
    np.testing.assert_allclose(ort_on(layer, x, tmp_path)[0, 0], want, rtol=1e-6)


def test_hand_computed_resizing(tmp_path):
    x = np.array([[[[10, 20, 30, 40]]]], np.float32)
    # nearest, scale 1.5: PyTorch reads floor(i / 1.5) = 0 0 1 2 2 3 for i = 0..5 (6 = int(4 * 1.5))
    y = ort_on(nn.Upsample(scale_factor=(1.0, 1.5)), x, tmp_path)
    np.testing.assert_array_equal(y[0, 0, 0], [10, 10, 20, 30, 30, 40])
    two = np.array([[[0.0, 3.0]]], np.float32)
    # align_corners: x = i (2 - 1) / (4 - 1) = i / 3: 0, 1, 2, 3
    y = ort_on(nn.Upsample(size=4, mode="linear", align_corners=True), two, tmp_path)
    np.testing.assert_allclose(y[0, 0], [0, 1, 2, 3], rtol=1e-6)
    # half pixel, scale 2: x = (i + 1/2) / 2 - 1/2 = -1/4 (clamped to 0), 1/4, 3/4, 5/4 (clamped to 1)
    y = ort_on(nn.Upsample(scale_factor=2, mode="linear"), two, tmp_path)
    np.testing.assert_allclose(y[0, 0], [0, 0.75, 2.25, 3], rtol=1e-6)
    # one output: PyTorch reads the middle, x = 2 / 2 - 1/2 = 1/2 (ONNX's pytorch_half_pixel would read 0)
    y = ort_on(nn.Upsample(size=1, mode="linear"), two, tmp_path)
    np.testing.assert_allclose(y[0, 0], [1.5], rtol=1e-6)


def test_hand_computed_group_norm(tmp_path):
    # GroupNorm(2, 4) on one sample of 4 channels x 2 positions: group 0 = {0, 2, 4, 6}, mean 3, var 5
    x = np.array([[[0, 2], [4, 6], [1, 1], [1, 3]]], np.float32)
    g0 = (np.array([[0, 2], [4, 6]]) - 3) / np.sqrt(5 + 1e-5)
    g1 = (np.array([[1, 1], [1, 3]]) - 1.5) / np.sqrt(0.75 + 1e-5)  # {1, 1, 1, 3}: mean 1.5, var 0.75
    for opset in (17, 21):
        y = ort_on(nn.GroupNorm(2, 4), x, tmp_path, opset)
        np.testing.assert_allclose(y[0], np.concatenate([g0, g1]), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("model, shape, message", [
    (nn.Upsample(size=(2, 4), mode="area"), (2, 6, 9), r"layer '<model>' \(Upsample, mode='area'\) from \(6, 9\)"),
    (nn.Upsample(scale_factor=2, mode="lanczos"), (2, 4, 4), r"layer '<model>' \(Upsample, mode='lanczos'\)"),
    (nn.Sequential(nn.Flatten(), nn.GroupNorm(2, 4)), (4,), r"layer '1' \(GroupNorm\) on an input of shape \(2, 4\)"),
    (nn.Unflatten(0, (1, 2)), (3,), r"layer '<model>' \(Unflatten, dim=0\)"),
])
def test_unsupported_configurations_name_the_layer_and_attribute(model, shape, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        tonnx.export(model, rows(2, shape), tmp_path / "bad.onnx")


def test_instance_norm_on_an_unbatched_input_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"layer '<model>' \(InstanceNorm2d\) on an input of shape \(3, 4, 5\)"):
        tonnx.export(nn.InstanceNorm2d(3), rows(3, (4, 5)), tmp_path / "bad.onnx")


def foreign(tmp_path, node, x_shape, y_shape, inits, opset):
    graph = helper.make_graph([node], "foreign", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, y_shape)],
                              [numpy_helper.from_array(v, k) for k, v in inits.items()])
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    proto.ir_version = 8
    path = tmp_path / "foreign.onnx"
    onnx.save(proto, str(path))
    return path


def test_loader_refuses_forms_it_cannot_read(tmp_path):
    # (GroupNormalization before opset 21, per group, is refused too; onnx.checker already rejects it as deprecated)
    path = foreign(tmp_path, helper.make_node("Resize", ["x", "", "s"], ["y"], mode="cubic", cubic_coeff_a=-0.5,
                                              name="rs"),
                   [1, 1, 2, 2], [1, 1, 4, 4], {"s": np.array([1, 1, 2, 2], np.float32)}, 17)
    with pytest.raises(ValueError, match=r"Resize node 'rs': cubic_coeff_a=-0.5"):
        tonnx.load(path)
    path = foreign(tmp_path, helper.make_node("ConvTranspose", ["x", "w"], ["y"], output_shape=[5, 5], strides=[2, 2],
                                              name="ct"),
                   [1, 1, 2, 2], [1, 1, 5, 5], {"w": np.ones((1, 1, 2, 2), np.float32)}, 17)
    with pytest.raises(ValueError, match=r"ConvTranspose node 'ct': output_shape=\[5, 5\]"):
        tonnx.load(path)


def test_a_foreign_resize_with_pytorch_half_pixel_follows_onnx(tmp_path):
    # PyTorch's own exporter writes pytorch_half_pixel: an output of length 1 reads position 0 there
    x = np.arange(12, dtype=np.float32).reshape(1, 1, 3, 4)
    node = helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="linear",
                            coordinate_transformation_mode="pytorch_half_pixel")
    path = foreign(tmp_path, node, [1, 1, 3, 4], [1, 1, 1, 8], {"sizes": np.array([1, 1, 1, 8], np.int64)}, 17)
    y = ours(tonnx.load(path), x)
    close_float(y, run_ort(path, x))
    np.testing.assert_allclose(y[0, 0, 0, [0, 7]], [0, 3], atol=1e-6)  # row 0; x = -1/4 and 3.75 clamped: 0, 3
