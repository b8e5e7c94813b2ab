"""tinynn.onnx for sequences: RNN, LSTM and GRU as ONNX's operators (gate blocks permuted, every
output: the sequence and the final states), LSTMClassifier, Embedding (int64 ids in), LayerNorm.
onnxruntime computes what tinynn computes (rtol 1e-5, atol 1e-5 max|y|) at batch sizes other than
the example's."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="onnx is not installed (the [onnx] extra)")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (the [onnx] extra)")

import tinynn as tn  # noqa: E402
from tinynn import models, nn  # noqa: E402
from tinynn import onnx as tonnx  # noqa: E402
from test_onnx import BATCHES, close_float, exported, rows  # noqa: E402


def run_all(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})


def flat(result):
    if isinstance(result, (tuple, list)):
        return [a for r in result for a in flat(r)]
    return [result.numpy()]


def all_outputs_agree(model, shape, tmp_path, inputs=None, **kwargs):
    model.eval()
    if inputs is None:
        path = exported(model, shape, tmp_path, **kwargs)
    else:  # the example from `inputs` too (token ids)
        path = tmp_path / "m.onnx"
        tonnx.export(model, inputs(2), path, **kwargs)
        onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    for n in BATCHES:
        x = rows(n, shape, seed=n) if inputs is None else inputs(n)
        with tn.no_grad():
            refs = flat(model(tn.tensor(x)))
        ys = run_all(path, x)
        assert len(ys) == len(refs)
        for y, ref in zip(ys, refs):
            close_float(y, ref)
    return path


RECURRENT = {
    "lstm": lambda: nn.LSTM(5, 7, batch_first=True),
    "lstm-2-layers-bidirectional": lambda: nn.LSTM(5, 6, num_layers=2, bidirectional=True, batch_first=True),
    "lstm-no-bias-seq-first": lambda: nn.LSTM(5, 4, num_layers=2, bias=False),
    "gru": lambda: nn.GRU(5, 7, batch_first=True),
    "gru-2-layers-bidirectional": lambda: nn.GRU(5, 6, num_layers=2, bidirectional=True, batch_first=True),
    "rnn-tanh-seq-first": lambda: nn.RNN(5, 6, num_layers=2),
    "rnn-relu-bidirectional": lambda: nn.RNN(5, 6, nonlinearity="relu", bidirectional=True, batch_first=True),
}


@pytest.mark.parametrize("name", RECURRENT)
def test_recurrent_layers_and_their_final_states(name, tmp_path):
    # batch_first: axis 0 is the batch; seq-first: axis 0 is the sequence, so there the length varies
    tn.manual_seed(0)
    layer = RECURRENT[name]()
    path = all_outputs_agree(layer, (6, 5), tmp_path)
    op = {nn.LSTM: "LSTM", nn.GRU: "GRU", nn.RNN: "RNN"}[type(layer)]
    assert [n.op_type for n in onnx.load(str(path)).graph.node].count(op) == layer.num_layers


def test_the_gate_order_is_pytorchs(tmp_path):
    # one LSTM step from h = c = 0 with only gate g's and o's biases set: c' = sigma(i) tanh(g) =
    # 0.5 tanh(1), h' = sigma(o) tanh(c') = sigma(2) tanh(0.5 tanh(1)) -- a swapped block changes it
    lstm = nn.LSTM(1, 1, batch_first=True)
    for p in lstm.parameters():
        p._data[...] = 0
    lstm.bias_ih_l0._data[...] = [0.0, 0.0, 1.0, 2.0]  # (i, f, g, o)
    path = exported(lstm, (1, 1), tmp_path)
    out, h, c = run_all(path, np.zeros((1, 1, 1), np.float32))
    sigma = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    np.testing.assert_allclose(c.ravel(), [0.5 * np.tanh(1.0)], rtol=1e-6)
    np.testing.assert_allclose(h.ravel(), [sigma(2.0) * np.tanh(0.5 * np.tanh(1.0))], rtol=1e-6)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_lstm_classifier_from_flat_rows(bidirectional, tmp_path):
    tn.manual_seed(1)
    model = models.LSTMClassifier(hidden_size=12, num_layers=2, bidirectional=bidirectional)
    all_outputs_agree(model, (64,), tmp_path)


def test_embedding_layernorm_and_linear_on_token_ids(tmp_path):
    tn.manual_seed(2)
    model = nn.Sequential(nn.Embedding(11, 6, padding_idx=0), nn.LayerNorm(6), nn.Linear(6, 3))
    ids = lambda n: np.random.default_rng(n).integers(0, 11, (n, 5))  # noqa: E731
    path = tmp_path / "ids.onnx"
    tonnx.export(model.eval(), ids(2), path)
    graph = onnx.load(str(path)).graph
    assert graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64
    assert [n.op_type for n in graph.node][:2] == ["Gather", "LayerNormalization"]
    for n in BATCHES:
        with tn.no_grad():
            close_float(run_all(path, ids(n))[0], model(tn.tensor(ids(n))).numpy())


LAYERNORMS = {
    "affine": lambda: nn.LayerNorm(8),
    "two-axes": lambda: nn.LayerNorm((3, 8), eps=1e-3),
    "no-affine": lambda: nn.LayerNorm(8, elementwise_affine=False),
    "no-bias": lambda: nn.LayerNorm(8, bias=False),
}


@pytest.mark.parametrize("name", LAYERNORMS)
def test_layernorm_variants(name, tmp_path):
    norm = LAYERNORMS[name]()
    if norm.weight is not None:
        norm.weight._data[...] = np.linspace(0.5, 1.5, norm.weight._data.size).reshape(norm.weight.shape)
    if norm.bias is not None:
        norm.bias._data[...] = np.linspace(-1, 1, norm.bias._data.size).reshape(norm.bias.shape)
    all_outputs_agree(norm, (3, 8), tmp_path, inputs=lambda n: rows(n, (3, 8), seed=n, scale=4.0) + 3.0)


def test_layernorm_needs_opset_17(tmp_path):
    with pytest.raises(ValueError, match=r"LayerNorm\) needs LayerNormalization, opset >= 17"):
        tonnx.export(nn.LayerNorm(4), rows(2, (4,)), tmp_path / "l.onnx", opset_version=16)


def test_an_unbatched_sequence_is_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match=r"layer '1' \(GRU\).*batched"):
        tonnx.export(nn.Sequential(nn.Identity(), nn.GRU(3, 2)), np.zeros((4, 3), np.float32), tmp_path / "g.onnx")


def test_embedding_layernorm_gelu_export_then_load(tmp_path):
    tn.manual_seed(5)
    model = nn.Sequential(nn.Embedding(9, 4), nn.LayerNorm(4), nn.GELU("tanh"), nn.Linear(4, 2)).eval()
    ids = np.random.default_rng(3).integers(0, 9, (3, 6))
    path = tmp_path / "seq.onnx"
    tonnx.export(model, ids, path, opset_version=20)
    loaded = tonnx.load(path)
    assert [type(m).__name__ for m in loaded.children()][1:] == ["Embedding", "LayerNorm", "Linear"]
    assert [step.op_type for step in loaded.steps] == ["Gather", "LayerNormalization", "Gelu", "MatMul"]  # + its bias Add
    with tn.no_grad():
        close_float(loaded(tn.tensor(ids)).numpy(), model(tn.tensor(ids)).numpy())


ENCODERS = {
    "post-norm-relu": lambda: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, batch_first=True),
    "pre-norm-gelu-seq-first": lambda: nn.TransformerEncoderLayer(8, 4, 12, activation="gelu", norm_first=True),
    "encoder-with-norm": lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2,
                                                       norm=nn.LayerNorm(8)),
}


@pytest.mark.parametrize("name", ENCODERS)
def test_transformer_encoders_decomposed_into_matmul_and_softmax(name, tmp_path):
    tn.manual_seed(7)
    path = all_outputs_agree(ENCODERS[name](), (5, 8), tmp_path)
    ops = [n.op_type for n in onnx.load(str(path)).graph.node]
    assert ops.count("Softmax") == (2 if name == "encoder-with-norm" else 1) and "LayerNormalization" in ops


def test_a_token_classifier_with_an_encoder(tmp_path):
    tn.manual_seed(8)
    model = nn.Sequential(nn.Embedding(13, 8), nn.TransformerEncoderLayer(8, 2, 16, batch_first=True),
                          nn.Flatten(), nn.Linear(6 * 8, 3)).eval()
    ids = lambda n: np.random.default_rng(n).integers(0, 13, (n, 6))  # noqa: E731
    all_outputs_agree(model, (6,), tmp_path, inputs=ids)


def test_an_unsupported_encoder_activation_is_named(tmp_path):
    layer = nn.TransformerEncoderLayer(4, 1, 8, activation=lambda t: t * 2)
    with pytest.raises(ValueError, match=r"TransformerEncoderLayer\) has activation .*relu and gelu"):
        tonnx.export(layer, rows(2, (3, 4)), tmp_path / "t.onnx")
