"""tinynn.onnx for nn.TransformerDecoderLayer, nn.TransformerDecoder and nn.Transformer: two graph inputs
((tgt, memory), or (src, tgt)), batch and both lengths dynamic; onnxruntime computes what tinynn's own
forward computes (eval mode, float32: rtol 1e-5, atol 1e-5 max|y|, the bound of the other ONNX tests: the
graph is the same arithmetic in float32, summed in another order) at batch sizes and lengths other than
the example's, unmasked and with the causal tgt_mask / src_mask (built in the graph from the length);
export -> load gives the same outputs; every other mask is refused by name."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="onnx is not installed (the [onnx] extra)")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (the [onnx] extra)")

import tinynn as tn  # noqa: E402
from tinynn import nn  # noqa: E402
from tinynn import onnx as tonnx  # noqa: E402
from test_onnx import close_float  # noqa: E402

E = 8
causal = nn.Transformer.generate_square_subsequent_mask


def scrambled(model, seed=0, scale=0.3):
    """Weights far from the initial ones, so attention is not nearly uniform."""
    rng = np.random.default_rng(seed)
    for p in model.parameters():
        p._data[...] = (scale * rng.standard_normal(p.shape)).astype(np.float32)
    return model.eval()


def seq(n, length, batch_first, seed):
    shape = (n, length, E) if batch_first else (length, n, E)
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def export(model, example, tmp_path, **kwargs):
    path = tmp_path / "m.onnx"
    tonnx.export(model, example, path, **kwargs)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    return path, ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def ours(model, *xs, **kwargs):
    with tn.no_grad():
        return model(*(tn.tensor(x) for x in xs), **kwargs).numpy()


def run(sess, *xs):
    return sess.run(None, {i.name: x for i, x in zip(sess.get_inputs(), xs)})[0]


# (n, tgt length, memory length): the example is (2, 5, 3)
SIZES = [(1, 5, 3), (3, 4, 6), (4, 1, 2)]

LAYERS = {
    "batch-first-post-norm-relu": dict(batch_first=True),
    "seq-first-pre-norm-gelu": dict(norm_first=True, activation="gelu"),
    "batch-first-pre-norm-no-bias": dict(batch_first=True, norm_first=True, bias=False),
}


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "causal"])
def test_decoder_layer_runs_the_same_in_onnxruntime_and_loads_back(name, masked, tmp_path):
    options = LAYERS[name]
    bf = options.get("batch_first", False)
    layer = scrambled(nn.TransformerDecoderLayer(E, 2, 16, **options))
    kwargs = {"tgt_mask": causal(5)} if masked else None
    path, sess = export(layer, (seq(2, 5, bf, 0), seq(2, 3, bf, 1)), tmp_path, kwargs=kwargs)
    labels = ["batch", "tgt_sequence", E] if bf else ["tgt_sequence", "batch", E]
    assert sess.get_inputs()[0].shape == labels and sess.get_outputs()[0].shape == labels
    assert sess.get_inputs()[1].shape == (["batch", "memory_sequence", E] if bf else ["memory_sequence", "batch", E])
    back = tonnx.load(path)
    for k, (n, t, s) in enumerate(SIZES):
        tgt, mem = seq(n, t, bf, 10 + k), seq(n, s, bf, 20 + k)
        ref = ours(layer, tgt, mem, tgt_mask=causal(t) if masked else None)
        close_float(run(sess, tgt, mem), ref)
        close_float(ours(back, tgt, mem), ref)


@pytest.mark.parametrize("mask", [causal(6), np.triu(np.ones((6, 6), bool), 1)], ids=["float", "bool"])
def test_causal_graph_never_lets_a_position_see_a_later_one(mask, tmp_path):
    layer = scrambled(nn.TransformerDecoderLayer(E, 2, 16, batch_first=True))
    _, sess = export(layer, (seq(2, 6, True, 0), seq(2, 3, True, 1)), tmp_path, kwargs={"tgt_mask": mask})
    tgt, mem = seq(3, 7, True, 5), seq(3, 4, True, 6)
    later = tgt.copy()
    later[:, 4:] += 1.0  # change positions 4.. only
    a, b = run(sess, tgt, mem), run(sess, later, mem)
    np.testing.assert_array_equal(a[:, :4], b[:, :4])
    assert np.abs(a[:, 4:] - b[:, 4:]).max() > 1e-3
    unmasked = ours(layer, tgt, mem)
    assert np.abs(a - unmasked).max() > 1e-3  # the mask is in the graph


def test_decoder_stack_with_norm(tmp_path):
    dec = scrambled(nn.TransformerDecoder(nn.TransformerDecoderLayer(E, 2, 16, batch_first=True), 2, nn.LayerNorm(E)))
    path, sess = export(dec, (seq(2, 5, True, 0), seq(2, 3, True, 1)), tmp_path,
                        kwargs={"tgt_mask": causal(5), "tgt_is_causal": True})
    back = tonnx.load(path)
    for k, (n, t, s) in enumerate(SIZES):
        tgt, mem = seq(n, t, True, 30 + k), seq(n, s, True, 40 + k)
        ref = ours(dec, tgt, mem, tgt_mask=causal(t), tgt_is_causal=True)
        close_float(run(sess, tgt, mem), ref)
        close_float(ours(back, tgt, mem), ref)
    norms = [m for m in back.modules() if isinstance(m, nn.LayerNorm)]
    want = [dec.layers[i].get_submodule(f"norm{j}") for i in range(2) for j in (1, 2, 3)] + [dec.norm]
    assert len(norms) == len(want)
    for a, b in zip(norms, want):  # the loaded graph holds the same LayerNorms, in order
        np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())


@pytest.mark.parametrize("batch_first", [False, True])
def test_whole_transformer_with_causal_source_and_target(batch_first, tmp_path):
    model = scrambled(nn.Transformer(E, 2, 2, 1, 16, batch_first=batch_first), scale=0.25)
    kwargs = {"src_mask": causal(4), "tgt_mask": causal(5)}
    path, sess = export(model, (seq(2, 4, batch_first, 0), seq(2, 5, batch_first, 1)), tmp_path, kwargs=kwargs)
    assert [i.shape[1 if batch_first else 0] for i in sess.get_inputs()] == ["src_sequence", "tgt_sequence"]
    back = tonnx.load(path)
    for k, (n, t, s) in enumerate(SIZES):
        src, tgt = seq(n, s, batch_first, 50 + k), seq(n, t, batch_first, 60 + k)
        ref = ours(model, src, tgt, src_mask=causal(s), tgt_mask=causal(t))
        close_float(run(sess, src, tgt), ref)
        close_float(ours(back, src, tgt), ref)


def test_unmasked_transformer(tmp_path):
    model = scrambled(nn.Transformer(E, 2, 1, 1, 16), scale=0.25)
    _, sess = export(model, (seq(2, 4, False, 0), seq(2, 5, False, 1)), tmp_path)
    src, tgt = seq(3, 6, False, 2), seq(3, 2, False, 3)
    close_float(run(sess, src, tgt), ours(model, src, tgt))


@pytest.mark.parametrize("make, kwargs, message", [
    (lambda: nn.TransformerDecoderLayer(E, 2, 16), {"tgt_key_padding_mask": np.zeros((2, 5), bool)},
     r"layer '<model>' \(TransformerDecoderLayer\) is called with tgt_key_padding_mask, which tinynn does not export; "
     r"its converter reads tgt_mask, tgt_is_causal"),
    (lambda: nn.TransformerDecoder(nn.TransformerDecoderLayer(E, 2, 16), 1), {"memory_mask": np.zeros((5, 3), bool)},
     r"\(TransformerDecoder\) is called with memory_mask"),
    (lambda: nn.Transformer(E, 2, 1, 1, 16), {"memory_key_padding_mask": np.zeros((2, 3), bool)},
     r"\(Transformer\) is called with memory_key_padding_mask"),
    (lambda: nn.TransformerDecoderLayer(E, 2, 16), {"tgt_mask": np.zeros((5, 5), np.float32)},
     r"layer '<model>': tgt_mask is not the causal mask of length 5; tinynn exports the causal mask"),
])
def test_other_masks_are_refused_by_name(make, kwargs, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        tonnx.export(make(), (seq(2, 5, False, 0), seq(2, 3, False, 1)), tmp_path / "bad.onnx", kwargs=kwargs)


def test_signature_opset_and_unbatched_errors(tmp_path):
    layer = nn.TransformerDecoderLayer(E, 2, 16)
    with pytest.raises(ValueError, match=r"TransformerDecoderLayer is exported with 2 input tensor\(s\), got 1"):
        tonnx.export(layer, seq(2, 5, False, 0), tmp_path / "bad.onnx")
    with pytest.raises(ValueError, match=r"Linear\) is called with bias"):
        tonnx.export(nn.Linear(3, 2), np.zeros((1, 3), np.float32), tmp_path / "bad.onnx", kwargs={"bias": 1})
    with pytest.raises(ValueError, match=r"needs Trilu, opset >= 14 \(got opset_version=13\)"):
        tonnx.export(layer, (seq(2, 5, False, 0), seq(2, 3, False, 1)), tmp_path / "bad.onnx", opset_version=13,
                     kwargs={"tgt_mask": causal(5)})
    with pytest.raises(ValueError, match=r"\(TransformerDecoderLayer\) on an input of shape \(5, 8\): tinynn exports "
                                         r"batched inputs"):
        tonnx.export(layer, (seq(1, 5, True, 0)[0], seq(1, 3, True, 1)[0]), tmp_path / "bad.onnx")
