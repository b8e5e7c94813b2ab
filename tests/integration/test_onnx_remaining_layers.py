"""tinynn.onnx for PixelShuffle/PixelUnshuffle, Softmax2d, AvgPool1d, the adaptive pools (AdaptiveAvgPool1d,
AdaptiveMaxPool1d/2d), Bilinear, CosineSimilarity, PairwiseDistance and the cells RNNCell/LSTMCell/GRUCell
(with and without a state), and the volume layers (Conv3d, ConvTranspose3d, MaxPool3d, AvgPool3d, the 3-D adaptive
pools, BatchNorm3d, InstanceNorm3d): every export passes onnx.checker (full_check); onnxruntime computes what tinynn's
own forward computes in eval mode at batch sizes other than the example's (float32: rtol 1e-5, atol
1e-5 max|y|, the bound of the other ONNX tests); export -> load gives the same outputs; small cases are checked
against numbers worked out by hand (the channel orders, PyTorch's gate orders); what cannot be exported is an
error naming the layer and the argument."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="onnx is not installed (the [onnx] extra)")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (the [onnx] extra)")

import tinynn as tn  # noqa: E402
from tinynn import nn  # noqa: E402
from tinynn import onnx as tonnx  # noqa: E402
from tinynn.onnx.graph import helper  # noqa: E402
from test_onnx import BATCHES, close_float, rows  # noqa: E402

# name: (layer, input shapes without the batch, the layer classes load gives back, or None)
CASES = {
    "pixel-shuffle": (lambda: nn.PixelShuffle(2), [(8, 3, 5)], [nn.PixelShuffle]),
    "pixel-shuffle-5d": (lambda: nn.PixelShuffle(3), [(2, 9, 2, 3)], None),
    "pixel-unshuffle": (lambda: nn.PixelUnshuffle(2), [(3, 4, 6)], None),
    "pixel-unshuffle-5d": (lambda: nn.PixelUnshuffle(2), [(2, 3, 4, 2)], None),
    "softmax2d": (lambda: nn.Softmax2d(), [(3, 4, 5)], None),
    "avg-pool1d": (lambda: nn.AvgPool1d(3, 2, 1), [(3, 10)], [nn.AvgPool1d]),
    "avg-pool1d-ceil-exclude": (lambda: nn.AvgPool1d(3, 2, 1, ceil_mode=True, count_include_pad=False), [(3, 10)],
                                None),
    "avg-pool1d-ceil-include": (lambda: nn.AvgPool1d(4, 3, 1, ceil_mode=True), [(3, 11)], None),
    "adaptive-avg-pool1d": (lambda: nn.AdaptiveAvgPool1d(5), [(3, 10)], None),
    "adaptive-avg-pool1d-global": (lambda: nn.AdaptiveAvgPool1d(1), [(3, 10)], [nn.AdaptiveAvgPool1d]),
    "adaptive-max-pool1d": (lambda: nn.AdaptiveMaxPool1d(5), [(3, 10)], None),
    "adaptive-max-pool1d-global": (lambda: nn.AdaptiveMaxPool1d(1), [(3, 10)], [nn.AdaptiveMaxPool1d]),
    "adaptive-max-pool2d-none": (lambda: nn.AdaptiveMaxPool2d((2, None)), [(3, 4, 6)], None),
    "adaptive-max-pool2d-global": (lambda: nn.AdaptiveMaxPool2d(1), [(3, 4, 6)], [nn.AdaptiveMaxPool2d]),
    "bilinear": (lambda: nn.Bilinear(4, 5, 3), [(4,), (5,)], None),
    "bilinear-3d-no-bias": (lambda: nn.Bilinear(4, 5, 3, bias=False), [(2, 4), (2, 5)], None),
    "cosine-similarity": (lambda: nn.CosineSimilarity(dim=1), [(4, 5), (4, 5)], None),
    "cosine-similarity-broadcast": (lambda: nn.CosineSimilarity(dim=-1, eps=1e-3), [(4, 5), (1, 5)], None),
    "pairwise-distance-2": (lambda: nn.PairwiseDistance(), [(5,), (5,)], None),
    "pairwise-distance-1-keepdim": (lambda: nn.PairwiseDistance(1, keepdim=True), [(5,), (5,)], None),
    "pairwise-distance-inf": (lambda: nn.PairwiseDistance(float("inf")), [(5,), (5,)], None),
    "pairwise-distance-3": (lambda: nn.PairwiseDistance(3.0, eps=1e-3), [(3, 5), (3, 5)], None),
    "rnn-cell": (lambda: nn.RNNCell(4, 6), [(4,), (6,)], None),
    "rnn-cell-relu-no-state": (lambda: nn.RNNCell(4, 6, nonlinearity="relu"), [(4,)], None),
    "lstm-cell": (lambda: nn.LSTMCell(4, 6), [(4,), (6,), (6,)], None),
    "lstm-cell-no-state": (lambda: nn.LSTMCell(4, 6), [(4,)], None),
    "lstm-cell-no-bias": (lambda: nn.LSTMCell(4, 6, bias=False), [(4,), (6,), (6,)], None),
    "gru-cell": (lambda: nn.GRUCell(4, 6), [(4,), (6,)], None),
    "gru-cell-no-state": (lambda: nn.GRUCell(4, 6), [(4,)], None),
    "gru-cell-no-bias": (lambda: nn.GRUCell(4, 6, bias=False), [(4,), (6,)], None),
    "conv3d": (lambda: nn.Conv3d(2, 4, 3, stride=(1, 2, 1), padding=1, dilation=(1, 1, 2), groups=2), [(2, 5, 6, 7)],
               [nn.Conv3d]),
    "conv3d-same-reflect": (lambda: nn.Conv3d(2, 3, (2, 3, 2), padding="same", padding_mode="reflect"),
                            [(2, 5, 6, 7)], None),
    "conv-transpose3d": (lambda: nn.ConvTranspose3d(2, 4, 3, stride=2, padding=1, output_padding=1), [(2, 3, 4, 3)],
                         [nn.ConvTranspose3d]),
    "max-pool3d-ceil": (lambda: nn.MaxPool3d(2, padding=1, ceil_mode=True), [(2, 5, 6, 7)], [nn.MaxPool3d]),
    "avg-pool3d-ceil": (lambda: nn.AvgPool3d(2, padding=1, ceil_mode=True), [(2, 5, 6, 7)], None),
    "avg-pool3d": (lambda: nn.AvgPool3d(2), [(2, 4, 6, 6)], [nn.AvgPool3d]),
    "adaptive-avg-pool3d": (lambda: nn.AdaptiveAvgPool3d((2, 1, 3)), [(2, 4, 6, 6)], None),
    "adaptive-max-pool3d-global": (lambda: nn.AdaptiveMaxPool3d(1), [(2, 4, 6, 6)], [nn.AdaptiveMaxPool3d]),
    "batch-norm3d": (lambda: nn.BatchNorm3d(2), [(2, 4, 6, 6)], [nn.BatchNorm3d]),
    "instance-norm3d": (lambda: nn.InstanceNorm3d(2, affine=True), [(2, 4, 6, 6)], [nn.InstanceNorm3d]),
}


def call(model, xs):
    """model on the arrays xs, PyTorch's way: an LSTMCell's state is the pair (h, c)."""
    ts = [tn.tensor(x) for x in xs]
    with tn.no_grad():
        y = model(ts[0], tuple(ts[1:])) if isinstance(model, nn.LSTMCell) and len(ts) == 3 else model(*ts)
    return [t.numpy() for t in (y if isinstance(y, tuple) else (y,))]


def example(shapes):
    xs = tuple(rows(2, s, seed=99 + i) for i, s in enumerate(shapes))
    if len(xs) == 3:
        return xs[0], (xs[1], xs[2])  # an LSTMCell's (x, (h, c)), as PyTorch's exporter takes it
    return xs if len(xs) > 1 else xs[0]


def run_all(path, xs):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {i.name: x for i, x in zip(session.get_inputs(), xs)})


@pytest.mark.parametrize("name", CASES)
def test_runs_the_same_in_onnxruntime_and_loads_back(name, tmp_path):
    make, shapes, back_types = CASES[name]
    tn.manual_seed(0)
    model = make().eval()
    path = tmp_path / "m.onnx"
    tonnx.export(model, example(shapes), path)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    loaded = tonnx.load(path)
    for n in BATCHES:
        xs = [rows(n, s, seed=n + i, scale=2.0) for i, s in enumerate(shapes)]
        refs = call(model, xs)
        for y, ref in zip(run_all(path, xs), refs, strict=True):
            close_float(y, ref)
        with tn.no_grad():
            back = loaded(*[tn.tensor(x) for x in xs])
        for y, ref in zip(back if isinstance(back, tuple) else (back,), refs, strict=True):
            close_float(y.numpy(), ref)
    if back_types is not None:
        assert [type(m) for m in loaded.modules() if m not in (loaded, loaded.constants)] == back_types


def ort_on(model, x, tmp_path, opset=17):
    path = tmp_path / "hand.onnx"
    tonnx.export(model.eval(), x, path, opset_version=opset)
    flat = [x] if not isinstance(x, tuple) else [v for e in x for v in (e if isinstance(e, tuple) else (e,))]
    return run_all(path, flat)


def test_hand_computed_pixel_shuffles_keep_pytorchs_channel_order(tmp_path):
    # y[c, h r + i, w r + j] = x[c r^2 + i r + j, h, w]: with C = 2, r = 2, H = W = 1 the channels 0..7 become
    # two 2x2 blocks [[0, 1], [2, 3]] and [[4, 5], [6, 7]]
    x = np.arange(8, dtype=np.float32).reshape(1, 8, 1, 1)
    y = ort_on(nn.PixelShuffle(2), x, tmp_path)[0]
    np.testing.assert_array_equal(y, [[[[0, 1], [2, 3]], [[4, 5], [6, 7]]]])
    # PixelUnshuffle reads them back in that order (SpaceToDepth would give 0, 4, 1, 5, ...)
    np.testing.assert_array_equal(ort_on(nn.PixelUnshuffle(2), y, tmp_path)[0].reshape(-1), np.arange(8))


def test_hand_computed_pools_distances_and_bilinear(tmp_path):
    x = np.array([[[1, 5, 2, 4, 3, 0]]], np.float32)
    np.testing.assert_array_equal(ort_on(nn.AdaptiveMaxPool1d(3), x, tmp_path)[0], [[[5, 4, 3]]])
    np.testing.assert_allclose(ort_on(nn.AdaptiveAvgPool1d(2), x, tmp_path)[0], [[[8 / 3, 7 / 3]]], rtol=1e-6)
    # padding 1, count_include_pad: windows (pad, 1), (5, 2), (4, 3), (0, pad), each sum / 2
    np.testing.assert_allclose(ort_on(nn.AvgPool1d(2, 2, 1), x, tmp_path)[0], [[[0.5, 3.5, 3.5, 0.0]]], rtol=1e-6)
    a, b = np.array([[3.0, 4.0]], np.float32), np.zeros((1, 2), np.float32)
    np.testing.assert_allclose(ort_on(nn.PairwiseDistance(eps=0.0), (a, b), tmp_path)[0], [5.0], rtol=1e-6)
    np.testing.assert_allclose(ort_on(nn.PairwiseDistance(1, eps=0.0), (a, b), tmp_path)[0], [7.0], rtol=1e-6)
    np.testing.assert_allclose(ort_on(nn.CosineSimilarity(), (a, np.array([[4.0, -3.0]], np.float32)), tmp_path)[0],
                               [0.0], atol=1e-7)
    # y_k = x1^T A_k x2 + b_k, A_0 = [[1, 0], [0, 1]], A_1 = [[0, 2], [0, 0]], b = (0.5, -1): x1 = (1, 2), x2 = (3, 4)
    bil = nn.Bilinear(2, 2, 2)
    bil.weight._data[...] = [[[1, 0], [0, 1]], [[0, 2], [0, 0]]]
    bil.bias._data[...] = [0.5, -1]
    y = ort_on(bil, (np.array([[1, 2]], np.float32), np.array([[3, 4]], np.float32)), tmp_path)[0]
    np.testing.assert_allclose(y, [[1 * 3 + 2 * 4 + 0.5, 2 * 1 * 4 - 1]], rtol=1e-6)


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def test_hand_computed_cells_follow_pytorchs_gate_order(tmp_path):
    # zero weights: the gates are the biases, blocks (i, f, g, o) = (0.1, 0.2, 0.3, 0.4) in bias_ih, 0 in bias_hh
    lstm = nn.LSTMCell(2, 1)
    for p in lstm.parameters():
        p._data[...] = 0
    lstm.bias_ih._data[...] = [0.1, 0.2, 0.3, 0.4]
    x, h, c = np.ones((1, 2), np.float32), np.full((1, 1), 0.5, np.float32), np.full((1, 1), 2.0, np.float32)
    c_new = sigmoid(0.2) * 2.0 + sigmoid(0.1) * np.tanh(0.3)
    h_new, c_out = ort_on(lstm, (x, (h, c)), tmp_path)
    np.testing.assert_allclose(c_out, [[c_new]], rtol=1e-6)
    np.testing.assert_allclose(h_new, [[sigmoid(0.4) * np.tanh(c_new)]], rtol=1e-6)
    # GRU (r, z, n): r = σ(0.1 + 0.4), z = σ(0.2 + 0.5), n = tanh(0.3 + r 0.6), h' = (1 - z) n + z h
    gru = nn.GRUCell(2, 1)
    for p in gru.parameters():
        p._data[...] = 0
    gru.bias_ih._data[...], gru.bias_hh._data[...] = [0.1, 0.2, 0.3], [0.4, 0.5, 0.6]
    r, z = sigmoid(0.5), sigmoid(0.7)
    n = np.tanh(0.3 + r * 0.6)
    np.testing.assert_allclose(ort_on(gru, (x, h), tmp_path)[0], [[(1 - z) * n + z * 0.5]], rtol=1e-6)
    np.testing.assert_allclose(ort_on(gru, x, tmp_path)[0], [[(1 - z) * n]], rtol=1e-6)  # h = 0


def operators(model, x, tmp_path):
    path = tmp_path / "ops.onnx"
    tonnx.export(model.eval(), x, path)
    return [n.op_type for n in onnx.load(str(path)).graph.node]


def test_which_operators_each_form_uses(tmp_path):
    x4 = rows(2, (8, 2, 2))
    assert operators(nn.PixelShuffle(2), x4, tmp_path) == ["DepthToSpace"]
    assert operators(nn.PixelUnshuffle(2), x4, tmp_path) == ["Reshape", "Transpose", "Reshape"]
    assert operators(nn.AdaptiveMaxPool2d(1), x4, tmp_path) == ["GlobalMaxPool"]
    assert operators(nn.AdaptiveMaxPool2d((1, 2)), x4, tmp_path) == ["MaxPool"]
    assert operators(nn.RNNCell(3, 2), rows(2, (3,)), tmp_path) == ["Gemm", "Add", "Tanh"]  # a_h = b_hh
    assert operators(nn.LSTMCell(3, 2), (rows(2, (3,)), (rows(2, (2,)), rows(2, (2,)))), tmp_path).count("Gemm") == 2


@pytest.mark.parametrize("model, x, message", [
    (nn.AdaptiveAvgPool1d(4), rows(2, (3, 10)), r"'<model>' \(AdaptiveAvgPool1d, output_size 4\) on an input of "
                                                r"spatial size \(10,\): its windows differ"),
    (nn.AdaptiveMaxPool2d((3, 2)), rows(2, (3, 4, 6)), r"\(AdaptiveMaxPool2d, output_size \(3, 2\)\)"),
    (nn.AdaptiveMaxPool1d(2, return_indices=True), rows(2, (3, 4)), r"\(AdaptiveMaxPool1d\) has return_indices=True"),
    (nn.AvgPool1d(2), rows(3, (4,)), r"'<model>' \(AvgPool1d\) on an input of shape \(3, 4\)"),
    (nn.PixelShuffle(2), rows(4, (2, 2)), r"\(PixelShuffle\) on an input of shape \(4, 2, 2\)"),
    (nn.GRUCell(3, 2), rows(1, (3,))[0], r"'<model>' \(GRUCell\) on an input of shape \(3,\)"),
    (nn.Bilinear(3, 2, 1), (rows(2, (3,)), rows(2, (2,))[0]), r"\(Bilinear\) on inputs of shapes \(2, 3\) and \(2,\)"),
    (nn.LSTMCell(3, 2), (rows(2, (3,)), rows(2, (2,))), r"LSTMCell is exported with 1 or 3 input tensor\(s\), got 2"),
    (nn.AvgPool3d(2, divisor_override=3), rows(2, (1, 2, 2, 2)), r"\(AvgPool3d, divisor_override=3\)"),
    (nn.AdaptiveAvgPool3d((3, 1, 1)), rows(2, (1, 4, 2, 2)), r"\(AdaptiveAvgPool3d, output_size \(3, 1, 1\)\)"),
])
def test_unsupported_forms_name_the_layer(model, x, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        tonnx.export(model, x, tmp_path / "bad.onnx")


@pytest.mark.parametrize("op, attributes", [("DepthToSpace", {"mode": "DCR"}), ("DepthToSpace", {"mode": "CRD"}),
                                            ("SpaceToDepth", {})])
def test_foreign_depth_and_space_nodes_load_as_onnx_defines_them(op, attributes, tmp_path):
    shape = (2, 8, 3, 2) if op == "DepthToSpace" else (2, 2, 6, 4)
    out = (2, 2, 6, 4) if op == "DepthToSpace" else (2, 8, 3, 2)
    graph = helper.make_graph([helper.make_node(op, ["x"], ["y"], blocksize=2, **attributes)], "g",
                              [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, out)])
    path = tmp_path / "foreign.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    x = rows(2, shape[1:])
    np.testing.assert_array_equal(tonnx.load(path)(tn.tensor(x)).numpy(), run_all(path, [x])[0])
