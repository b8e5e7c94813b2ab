"""tinynn.onnx for the Transformer models: GPT (int64 ids in, dynamic batch and length, causal
attention through Trilu/Where), TransformerClassifier ([CLS] token, Expand/Concat) and
MultiheadAttention alone (self-attention of one input). onnxruntime computes what tinynn computes
(rtol 1e-5, atol 1e-5 max|y|) at batch sizes and lengths other than the example's."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="onnx is not installed (the [onnx] extra)")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (the [onnx] extra)")

import tinynn as tn  # noqa: E402
from tinynn import models, nn  # noqa: E402
from tinynn import onnx as tonnx  # noqa: E402
from test_onnx import BATCHES, close_float, exported, rows  # noqa: E402


def session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def scrambled(model, seed=0, scale=0.3):
    """Weights far from the initial N(0, 0.02), so attention is not nearly uniform."""
    rng = np.random.default_rng(seed)
    for p in model.parameters():
        p._data[...] = (scale * rng.standard_normal(p.shape)).astype(p._data.dtype)
    return model.eval()


def ids(n, t, seed=None):
    return np.random.default_rng(n * 10 + t if seed is None else seed).integers(0, 12, (n, t))


@pytest.fixture(scope="module")
def gpt(tmp_path_factory):
    model = scrambled(models.GPT(vocab_size=12, block_size=7, n_layer=2, n_head=2, n_embd=16, dropout=0.1))
    path = tmp_path_factory.mktemp("gpt") / "gpt.onnx"
    tonnx.export(model, ids(2, 7), path)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    return model, session(path)


@pytest.mark.parametrize("n,t", [(1, 7), (3, 7), (17, 4), (5, 1)])
def test_gpt_logits_at_other_batches_and_lengths(gpt, n, t):
    model, sess = gpt
    x = ids(n, t)
    with tn.no_grad():
        ref = model(x).numpy()
    (y,) = sess.run(None, {"input": x})
    assert y.shape == (n, t, 12)
    close_float(y, ref)


def test_gpt_graph_declares_batch_and_sequence_and_is_causal(gpt):
    _, sess = gpt
    assert sess.get_inputs()[0].shape == ["batch", "sequence"] and sess.get_inputs()[0].type == "tensor(int64)"
    assert sess.get_outputs()[0].shape == ["batch", "sequence", 12]
    x = ids(4, 6)
    later = x.copy()
    later[:, 3:] = (later[:, 3:] + 5) % 12  # change tokens 3.. only
    (a,), (b,) = sess.run(None, {"input": x}), sess.run(None, {"input": later})
    np.testing.assert_array_equal(a[:, :3], b[:, :3])  # positions 0..2 never see them
    assert np.abs(a[:, 3:] - b[:, 3:]).max() > 1e-3


@pytest.mark.parametrize("shape", [(64,), (8, 8)])
def test_transformer_classifier(shape, tmp_path):
    model = scrambled(models.TransformerClassifier(d_model=16, nhead=2, num_layers=2, dim_feedforward=24), scale=0.2)
    sess = session(exported(model, shape, tmp_path))
    for n in BATCHES:
        x = rows(n, shape, seed=n)
        with tn.no_grad():
            ref = model(tn.tensor(x)).numpy()
        close_float(sess.run(None, {"input": x})[0], ref)


MHA = {
    "batch-first": lambda: nn.MultiheadAttention(8, 2, batch_first=True),
    "seq-first-no-bias": lambda: nn.MultiheadAttention(8, 4, bias=False),
}


@pytest.mark.parametrize("name", MHA)
def test_multihead_attention_alone_is_self_attention(name, tmp_path):
    mha = scrambled(MHA[name](), scale=0.5)
    sess = session(exported(mha, (3, 8), tmp_path))
    assert len(sess.get_outputs()) == 1  # need_weights=False: the output only
    for n in BATCHES:  # batch_first: the batch varies; seq-first: the length does
        x = rows(n, (3, 8), seed=n)
        with tn.no_grad():
            ref = mha(tn.tensor(x), tn.tensor(x), tn.tensor(x), need_weights=False)[0].numpy()
        close_float(sess.run(None, {"input": x})[0], ref)


def test_causal_attention_alone_and_its_opset(tmp_path):
    attn = scrambled(models.GPT(vocab_size=12, block_size=7, n_layer=1, n_head=2, n_embd=8), scale=0.5).h[0].attn
    with pytest.raises(ValueError, match=r"causal attention\) needs Trilu, opset >= 14 \(got opset_version=13\)"):
        tonnx.export(attn, rows(2, (7, 8)), tmp_path / "a.onnx", opset_version=13)
    sess = session(exported(attn, (7, 8), tmp_path, opset_version=14))
    x = rows(3, (7, 8), seed=3)
    with tn.no_grad():
        close_float(sess.run(None, {"input": x})[0], attn(tn.tensor(x)).numpy())
