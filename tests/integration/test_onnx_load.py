"""tinynn.onnx.load as a reference runtime: export -> load gives the model's outputs (rtol 1e-5,
atol 1e-5 max|y|, every output of a layer that returns several) and onnxruntime's, at a batch other
than the example's, for every model of tinynn.models and every layer type tinynn exports; int8
models load back as tinynn's int8 layers with the same integers (equal outputs). Graphs tinynn did
not write (branches, Concat, several outputs, QDQ and integer operators, shape arithmetic) give
onnxruntime's outputs and the closed forms; the loaded model is differentiable."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="onnx is not installed (the [onnx] extra)")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (the [onnx] extra)")

import tinynn as tn  # noqa: E402
from tinynn import models, nn, quantize  # noqa: E402
from tinynn import onnx as tonnx  # noqa: E402
from tinynn.onnx.graph import helper, numpy_helper, run  # noqa: E402
from test_onnx import FLOAT_MODELS, close_float, rows  # noqa: E402
from test_onnx_sequence import ENCODERS, RECURRENT, flat  # noqa: E402
from test_onnx_transformer import MHA, scrambled  # noqa: E402
from test_onnx_vision import ACTIVATIONS, CONVS, POOLS, trained_batchnorm  # noqa: E402

TensorProto = onnx.TensorProto


def run_ort(path, *xs):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {i.name: x for i, x in zip(session.get_inputs(), xs)})


def outputs(model, *xs):
    with tn.no_grad():
        return flat(run(model, *(tn.tensor(x) for x in xs)) if len(xs) == 1 else model(*(tn.tensor(x) for x in xs)))


def export_load_agree(model, example, x, tmp_path, **kwargs):
    """Export on `example`, load, and check the loaded model against the model and onnxruntime on x."""
    model.eval()
    path = tmp_path / "m.onnx"
    tonnx.export(model, example, path, **kwargs)
    loaded = tonnx.load(path)
    ys, refs, theirs = outputs(loaded, x), outputs(model, x), run_ort(path, x)
    assert len(ys) == len(refs) == len(theirs)
    for y, ref, their in zip(ys, refs, theirs):
        close_float(y, ref)
        close_float(y, their)
    return loaded


MODELS = {
    "mlp": ((64,), lambda: models.MLP([64, 32, 16, 10])),
    "lenet5": ((64,), lambda: models.LeNet5(input_size=8)),
    "resnet": ((64,), lambda: models.ResNet(block_channels=(4, 8), blocks=1)),
    "resnet-on-images": ((1, 8, 8), lambda: models.ResNet(block_channels=(4,), blocks=2)),
    "lstm-classifier": ((64,), lambda: models.LSTMClassifier(hidden_size=12)),
    "lstm-classifier-bidirectional-2": ((64,), lambda: models.LSTMClassifier(hidden_size=6, num_layers=2,
                                                                             bidirectional=True)),
    "transformer-classifier": ((64,), lambda: models.TransformerClassifier(d_model=16, nhead=2, num_layers=2,
                                                                           dim_feedforward=24)),
}


@pytest.mark.parametrize("name", MODELS)
def test_every_model_loads_back(name, tmp_path):
    shape, make = MODELS[name]
    tn.manual_seed(1)
    model = make()
    if name.startswith("resnet"):  # running statistics far from (0, 1)
        for bn in [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]:
            trained_batchnorm(bn, (bn.num_features, 4, 4))
    loaded = export_load_agree(model, rows(2, shape, seed=99), rows(5, shape, seed=3), tmp_path)
    assert isinstance(loaded, tonnx.GraphModule)


def test_gpt_loads_back_at_other_lengths(tmp_path):
    model = scrambled(models.GPT(vocab_size=12, block_size=7, n_layer=2, n_head=2, n_embd=16))
    path = tmp_path / "gpt.onnx"
    tonnx.export(model, np.random.default_rng(0).integers(0, 12, (2, 7)), path)
    loaded = tonnx.load(path)
    assert {"Trilu", "Where", "Range"} <= {step.op_type for step in loaded.steps}
    for n, t in ((3, 7), (1, 4)):
        ids = np.random.default_rng(n + t).integers(0, 12, (n, t))
        y = outputs(loaded, ids)[0]
        close_float(y, outputs(model, ids)[0])
        close_float(y, run_ort(path, ids)[0])


def layer_cases():
    """(shape, make) of every layer type tinynn exports: the other test files' tables."""
    cases = {f"float-{k}": v for k, v in FLOAT_MODELS.items()}
    cases.update({f"conv-{k}": v for k, v in CONVS.items()})
    cases.update({f"pool-{k}": v for k, v in POOLS.items()})
    cases.update({f"act-{k}": ((40,), v) for k, v in ACTIVATIONS.items()})
    cases.update({f"rnn-{k}": ((6, 5), v) for k, v in RECURRENT.items()})
    cases.update({f"encoder-{k}": ((5, 8), v) for k, v in ENCODERS.items()})
    cases.update({f"mha-{k}": ((5, 8), v) for k, v in MHA.items()})
    cases.update({
        "batchnorm1d-2d": ((4,), lambda: trained_batchnorm(nn.BatchNorm1d(4), (4,))),
        "batchnorm1d-3d": ((4, 6), lambda: trained_batchnorm(nn.BatchNorm1d(4), (4, 6))),
        "batchnorm2d-no-affine": ((3, 5, 5), lambda: trained_batchnorm(nn.BatchNorm2d(3, affine=False), (3, 5, 5))),
        "layernorm-2-axes-no-bias": ((3, 4), lambda: nn.LayerNorm((3, 4), bias=False)),
    })
    return cases


LAYER_CASES = layer_cases()


@pytest.mark.parametrize("name", LAYER_CASES)
def test_every_layer_type_loads_back(name, tmp_path):
    shape, make = LAYER_CASES[name]
    tn.manual_seed(2)
    export_load_agree(make(), rows(2, shape, seed=99), rows(3, shape, seed=4, scale=3.0), tmp_path)


@pytest.mark.parametrize("opset", [19, 20])
def test_circular_padding_gelu_and_folded_batchnorm(opset, tmp_path):
    tn.manual_seed(3)
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular"),
                          trained_batchnorm(nn.BatchNorm2d(3), (3, 5, 5)), nn.GELU("tanh"))
    loaded = export_load_agree(model, rows(2, (2, 5, 5)), rows(4, (2, 5, 5), seed=1), tmp_path,
                               opset_version=opset, fold_batchnorm=True)
    assert [s.op_type for s in loaded.steps][:2] == ["Pad", "Conv"]


def test_embedding_layers_on_token_ids(tmp_path):
    tn.manual_seed(4)
    model = nn.Sequential(nn.Embedding(13, 8), nn.LayerNorm(8), nn.LSTM(8, 5, batch_first=True))
    ids = np.random.default_rng(1).integers(0, 13, (3, 6))
    export_load_agree(model, ids[:2], ids, tmp_path)


def int8_cases():
    tn.manual_seed(5)
    mlp = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 16), nn.Tanh(), nn.Linear(16, 10)).eval()
    lenet = models.LeNet5(input_size=8).eval()
    calibration = [tn.tensor(rows(32, (64,), seed=7))]
    return {f"{name}-{kind}": fn(model) for name, model in (("mlp", mlp), ("lenet", lenet))
            for kind, fn in (("dynamic", quantize.quantize_dynamic),
                             ("static", lambda m: quantize.quantize_static(m, calibration)))}


def test_int8_models_load_back_as_int8_layers_with_the_same_outputs(tmp_path):
    for name, qmodel in int8_cases().items():
        path = tmp_path / f"{name}.onnx"
        tonnx.export(qmodel, rows(2, (64,)), path)
        loaded = tonnx.load(path)
        kinds = {type(m).__name__ for m in loaded.modules()}
        assert {"QuantizedConv2d" if name.startswith("lenet") else "QuantizedLinear"} <= kinds, name
        for n, scale in ((4, 1.0), (9, 3.0)):
            x = rows(n, (64,), seed=n, scale=scale)
            np.testing.assert_array_equal(outputs(loaded, x)[0], outputs(qmodel, x)[0], err_msg=name)


def save(tmp_path, nodes, inputs, outputs_, initializers=(), opset=17):
    graph = helper.make_graph(nodes, "foreign", inputs, outputs_, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    path = tmp_path / "foreign.onnx"
    onnx.save(model, str(path))
    return path


def value(name, dtype, shape):
    return helper.make_tensor_value_info(name, dtype, shape)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_a_foreign_two_branch_graph_with_concat_and_two_outputs(tmp_path):
    w = rows(4, (3,), seed=1)
    nodes = [helper.make_node("Constant", [], ["W"], value=numpy_helper.from_array(w)),
             helper.make_node("Relu", ["x"], ["a"]), helper.make_node("MatMul", ["x", "W"], ["b"]),
             helper.make_node("Concat", ["a", "b"], ["c"], axis=1), helper.make_node("Softmax", ["c"], ["y"], axis=1),
             helper.make_node("Tanh", ["x"], ["t"]), helper.make_node("Mul", ["t", "x"], ["z"])]
    path = save(tmp_path, nodes, [value("x", TensorProto.FLOAT, ["n", 4])],
                [value("y", TensorProto.FLOAT, ["n", 7]), value("z", TensorProto.FLOAT, ["n", 4])])
    x = rows(5, (4,), seed=2)
    y, z = outputs(tonnx.load(path), x)
    close_float(y, softmax(np.concatenate([np.maximum(x, 0), x @ w], axis=1)))
    close_float(z, np.tanh(x) * x)
    for ours, theirs in zip((y, z), run_ort(path, x)):
        close_float(ours, theirs)


def test_a_foreign_graph_with_two_inputs_and_shape_arithmetic(tmp_path):
    # y = Where(a > 0, a, b) over the last axis, transposed, a reflect Pad, its lower triangle, the mean
    # of the kept rows, Gather of rows [2, 0], Unsqueeze, Sqrt of the square plus 1
    inits = [numpy_helper.from_array(np.array([0, 1, 0, 1], np.int64), "pads"),
             numpy_helper.from_array(np.array([2, 0], np.int64), "rows"),
             numpy_helper.from_array(np.array([0], np.int64), "axis0"),
             numpy_helper.from_array(np.float32(1), "one"), numpy_helper.from_array(np.float32(0), "zero")]
    nodes = [helper.make_node("Greater", ["a", "zero"], ["pos"]), helper.make_node("Where", ["pos", "a", "b"], ["w"]),
             helper.make_node("Transpose", ["w"], ["wt"], perm=[1, 0]),
             helper.make_node("Pad", ["wt", "pads"], ["p"], mode="reflect"),
             helper.make_node("Trilu", ["p"], ["low"], upper=0),
             helper.make_node("ReduceMean", ["low"], ["m"], axes=[1], keepdims=1),
             helper.make_node("Gather", ["m", "rows"], ["g"], axis=0),
             helper.make_node("Unsqueeze", ["g", "axis0"], ["u"]),
             helper.make_node("Mul", ["u", "u"], ["sq"]), helper.make_node("Add", ["sq", "one"], ["s1"]),
             helper.make_node("Sqrt", ["s1"], ["y"])]
    path = save(tmp_path, nodes, [value("a", TensorProto.FLOAT, [3, 4]), value("b", TensorProto.FLOAT, [3, 4])],
                [value("y", TensorProto.FLOAT, [1, 2, 1])], inits)
    a, b = rows(3, (4,), seed=3), rows(3, (4,), seed=4)
    low = np.tril(np.pad(np.where(a > 0, a, b).T, ((0, 0), (1, 1)), mode="reflect"))
    expected = np.sqrt(low.mean(axis=1, keepdims=True)[[2, 0]][None] ** 2 + 1)
    y = outputs(tonnx.load(path), a, b)[0]
    close_float(y, expected)
    close_float(y, run_ort(path, a, b)[0])


def test_a_foreign_qdq_graph_gives_onnxruntimes_outputs(tmp_path):
    # what onnxruntime's static quantizer writes: activations and per-column weights through Q/DQ pairs
    w_q = np.random.default_rng(5).integers(-127, 128, (6, 3)).astype(np.int8)
    w_s = np.array([0.01, 0.02, 0.005], np.float32)
    inits = [numpy_helper.from_array(np.float32(0.03), "s"), numpy_helper.from_array(np.uint8(120), "z"),
             numpy_helper.from_array(w_q, "w_q"), numpy_helper.from_array(w_s, "w_s")]
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
             helper.make_node("DequantizeLinear", ["q", "s", "z"], ["xd"]),
             helper.make_node("DequantizeLinear", ["w_q", "w_s"], ["w"], axis=1),
             helper.make_node("MatMul", ["xd", "w"], ["y"])]
    path = save(tmp_path, nodes, [value("x", TensorProto.FLOAT, ["n", 6])], [value("y", TensorProto.FLOAT, ["n", 3])],
                inits)
    x = rows(7, (6,), seed=6, scale=3.0)
    q = np.clip(np.rint(x / np.float32(0.03)) + 120, 0, 255)  # saturated at both ends by the scale 3 inputs
    expected = ((q - 120) * np.float32(0.03)) @ (w_q * w_s)
    y = outputs(tonnx.load(path), x)[0]
    close_float(y, expected)
    close_float(y, run_ort(path, x)[0])


def test_onnxruntimes_dynamic_int8_form_is_computed_node_by_node_exactly(tmp_path):
    # DynamicQuantizeLinear (8-bit codes) -> MatMulInteger and ConvInteger: the integers are exact
    rng = np.random.default_rng(7)
    w = rng.integers(-128, 128, (5, 4)).astype(np.int8)
    k = rng.integers(-128, 128, (2, 1, 3, 3)).astype(np.int8)
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(k, "k"),
             numpy_helper.from_array(np.array([1, 1, 4, 5], np.int64), "image")]
    nodes = [helper.make_node("DynamicQuantizeLinear", ["x"], ["q", "s", "z"]),
             helper.make_node("MatMulInteger", ["q", "w", "z"], ["acc"]),
             helper.make_node("Cast", ["acc"], ["accf"], to=TensorProto.FLOAT),
             helper.make_node("Mul", ["accf", "s"], ["y"]),
             helper.make_node("Reshape", ["q", "image"], ["qi"]),
             helper.make_node("ConvInteger", ["qi", "k", "z"], ["c"], pads=[1, 1, 1, 1])]
    path = save(tmp_path, nodes, [value("x", TensorProto.FLOAT, [4, 5])],
                [value("y", TensorProto.FLOAT, [4, 4]), value("c", TensorProto.INT32, [1, 2, 4, 5])], inits, opset=13)
    x = rows(4, (5,), seed=8)
    lo, hi = min(x.min(), 0), max(x.max(), 0)
    s = np.float32((np.float32(hi) - np.float32(lo)) / np.float32(255))
    z = np.rint(-np.float32(lo) / s)
    q = np.clip(np.rint(x / s) + z, 0, 255)
    y, c = outputs(tonnx.load(path), x)
    np.testing.assert_array_equal(y, ((q - z) @ w).astype(np.float32) * s)  # exact integer sums
    theirs = run_ort(path, x)
    np.testing.assert_array_equal(y, theirs[0])
    np.testing.assert_array_equal(c, theirs[1])
    padded = np.pad(q - z, 1)  # x padded with z: (q - z) with zeros
    window = np.array([[padded[i:i + 3, j:j + 3] for j in range(5)] for i in range(4)])
    np.testing.assert_array_equal(c[0], np.einsum("ijab,oab->oij", window, k[:, 0].astype(np.int64)))


def test_the_loaded_model_is_differentiable(tmp_path):
    tn.manual_seed(6)
    model = models.ResNet(block_channels=(2, 4), blocks=1).eval()
    path = tmp_path / "r.onnx"
    tonnx.export(model, rows(2, (64,)), path)
    loaded = tonnx.load(path)
    x = rows(3, (64,), seed=1)
    grads = []
    for m in (model, loaded):
        t = tn.tensor(x, requires_grad=True)
        (m(t) ** 2).sum().backward()
        grads.append(t.grad.numpy())
    close_float(grads[1], grads[0])  # the same function, so the same input gradient
    assert all(p.grad is not None for p in loaded.parameters())
    small = tonnx.load(save(tmp_path, [helper.make_node("Softmax", ["x"], ["h"], axis=1),
                                       helper.make_node("Mul", ["h", "x"], ["y"])],
                            [value("x", TensorProto.FLOAT, ["n", 4])], [value("y", TensorProto.FLOAT, ["n", 4])]))
    assert tn.gradcheck(lambda t: small(t), tn.tensor(rows(2, (4,), seed=3).astype(np.float64), requires_grad=True))


def test_unsupported_operators_and_bad_inputs_are_named(tmp_path):
    path = save(tmp_path, [helper.make_node("Relu", ["x"], ["h"], name="first"),
                           helper.make_node("Mod", ["h", "h"], ["y"], name="odd", fmod=1)],
                [value("x", TensorProto.FLOAT, ["n", 4])], [value("y", TensorProto.FLOAT, ["n", 4])])
    with pytest.raises(ValueError, match=r"unsupported ONNX operator 'Mod' \(node 'odd'\)"):
        tonnx.load(path)
    path = save(tmp_path, [helper.make_node("MatMul", ["x", "W"], ["y"], name="mm")],
                [value("x", TensorProto.FLOAT, ["n", 4])], [value("y", TensorProto.FLOAT, ["n", 2])],
                [numpy_helper.from_array(rows(4, (2,)), "W")])
    with pytest.raises(ValueError, match=r"node 'mm' \(MatMul\)"):
        outputs(tonnx.load(path), rows(3, (5,)))
