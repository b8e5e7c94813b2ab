"""Regressions found by a differential audit of tinynn.nn against PyTorch's documented behaviour.

Every expected value is written out from the formula or the documentation it comes from."""
import math

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.nn.functional as F
import tinynn.nn.init as init


def T(a, requires_grad=False, dtype=np.float64):
    return tn.tensor(np.asarray(a, dtype=dtype), requires_grad=requires_grad)


# ---------------------------------------------------------------- attention: fully masked queries
def test_sdpa_query_with_every_key_masked_gives_zero_output_and_zero_gradients():
    # PyTorch's scaled_dot_product_attention uses a "safe softmax": a row of -inf scores gives
    # probabilities 0 (not 0/0 = NaN), so that query's output is 0.
    rng = np.random.default_rng(0)
    q, k, v = (T(rng.standard_normal(s), True) for s in ((1, 3, 4), (1, 5, 4), (1, 5, 4)))
    mask = np.ones((3, 5), bool)
    mask[1] = False  # query 1 may attend nothing
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=tn.tensor(mask))
    assert np.array_equal(out.numpy()[0, 1], np.zeros(4))
    # the other rows are plain attention: softmax(q k^T / 2) v
    s = q.numpy()[0] @ k.numpy()[0].T / 2.0
    p = np.exp(s - s.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(out.numpy()[0, [0, 2]], (p @ v.numpy()[0])[[0, 2]], rtol=1e-12)
    (out * out).sum().backward()
    assert np.array_equal(q.grad.numpy()[0, 1], np.zeros(4))
    assert np.isfinite(k.grad.numpy()).all() and np.isfinite(v.grad.numpy()).all()


def test_sdpa_float_mask_row_of_minus_inf_and_second_order_gradients_stay_finite():
    rng = np.random.default_rng(1)
    q = T(rng.standard_normal((2, 3, 4)), True)
    k, v = T(rng.standard_normal((2, 5, 4))), T(rng.standard_normal((2, 5, 4)))
    m = np.zeros((3, 5))
    m[2] = -np.inf
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=T(m))
    assert np.array_equal(out.numpy()[:, 2], np.zeros((2, 4)))
    (g,) = tn.autograd.grad((out * out).sum(), q, create_graph=True)
    g.sum().backward()
    assert np.isfinite(q.grad.numpy()).all()
    assert np.array_equal(q.grad.numpy()[:, 2], np.zeros((2, 4)))


def test_multihead_attention_without_weights_on_a_fully_masked_query_returns_the_output_bias():
    # need_weights=False runs scaled_dot_product_attention: the masked query's attention is 0, so
    # its output is out_proj(0) = out_proj.bias.
    mha = nn.MultiheadAttention(4, 2).double()
    with tn.no_grad():
        mha.out_proj.bias.copy_(T([1.0, 2.0, 3.0, 4.0]))
    x = T(np.random.default_rng(2).standard_normal((3, 1, 4)))
    mask = np.zeros((3, 3), bool)
    mask[0] = True  # True = may not attend
    out, weights = mha(x, x, x, attn_mask=tn.tensor(mask), need_weights=False)
    assert weights is None
    np.testing.assert_allclose(out.numpy()[0, 0], [1.0, 2.0, 3.0, 4.0])


def test_sdpa_enable_gqa_shares_each_key_value_head_among_a_group_of_query_heads():
    rng = np.random.default_rng(3)
    q = T(rng.standard_normal((1, 4, 3, 2)))
    k, v = T(rng.standard_normal((1, 2, 5, 2))), T(rng.standard_normal((1, 2, 5, 2)))
    out = F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    # query heads 0, 1 use key/value head 0; heads 2, 3 use head 1 (repeat_interleave)
    k2, v2 = (T(np.repeat(t.numpy(), 2, axis=1)) for t in (k, v))
    np.testing.assert_allclose(out.numpy(), F.scaled_dot_product_attention(q, k2, v2).numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="enable_gqa"):
        F.scaled_dot_product_attention(T(np.ones((1, 3, 2, 2))), k, v, enable_gqa=True)


# ---------------------------------------------------------------- softmax's implicit dim
@pytest.mark.parametrize("shape, dim", [((4,), 0), ((2, 3), 1), ((2, 3, 4), 0), ((2, 3, 4, 5), 1)])
def test_softmax_without_dim_uses_pytorchs_legacy_choice(shape, dim):
    # torch.nn.functional._get_softmax_dim: 0 for 0-, 1- and 3-D inputs, 1 otherwise
    x = T(np.random.default_rng(4).standard_normal(shape))
    for y in (nn.Softmax()(x), F.softmax(x)):
        np.testing.assert_allclose(y.numpy().sum(axis=dim), 1.0, rtol=1e-12)
    for y in (nn.LogSoftmax()(x), F.log_softmax(x)):
        np.testing.assert_allclose(np.exp(y.numpy()).sum(axis=dim), 1.0, rtol=1e-12)
    assert nn.Softmax().dim is None and nn.LogSoftmax().dim is None


def test_softmax_dtype_casts_the_input_first():
    y = F.softmax(tn.ones(2, 4), dim=1, dtype=tn.float64)
    assert y.dtype == tn.float64
    np.testing.assert_allclose(y.numpy(), 0.25)


# ---------------------------------------------------------------- Flatten, Unflatten, Dropout
def test_flatten_of_a_zero_dim_tensor():
    assert nn.Flatten(0, -1)(tn.tensor(3.0)).shape == (1,)
    with pytest.raises(IndexError):
        nn.Flatten()(tn.tensor(3.0))  # start_dim=1 does not exist on a 0-d tensor


def test_unflatten_splits_one_axis():
    x = tn.arange(24.0).reshape(4, 6)
    y = nn.Unflatten(1, (2, -1))(x)
    assert y.shape == (4, 2, 3)
    assert np.array_equal(y.numpy().reshape(4, 6), x.numpy())
    assert "Unflatten" in nn.__all__


def test_dropout_inplace_writes_into_the_input_and_needs_a_float_input_in_training():
    tn.manual_seed(0)
    x = tn.ones(1000)
    y = nn.Dropout(0.5, inplace=True)(x)
    assert y is x
    assert set(np.unique(x.numpy())) <= {0.0, 2.0}  # kept values scaled by 1 / (1 - p)
    with pytest.raises(TypeError, match="floating-point"):
        F.dropout(tn.ones(3, dtype=tn.int64), 0.5, training=True)
    ints = tn.ones(3, dtype=tn.int64)
    assert F.dropout(ints, 0.5, training=False) is ints


# ---------------------------------------------------------------- Module: state dict and registration
def test_state_dict_lists_a_shared_submodule_under_every_name():
    # PyTorch's state_dict walks _modules without removing duplicates; parameters() counts them once
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, lin)
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert len(list(seq.parameters())) == 2
    assert [name for name, _ in seq.named_children()] == ["0"]
    sd = {k: np.full(v.shape, 0.5) for k, v in seq.state_dict().items()}
    seq.load_state_dict(sd)
    assert np.array_equal(lin.weight.numpy(), np.full((2, 2), 0.5, np.float32))


def test_apply_visits_children_once_per_parent():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    seen = []
    seq.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Sequential"]


def test_register_buffer_and_parameter_check_the_name_and_the_value():
    m = nn.Module()
    with pytest.raises(KeyError):
        m.register_buffer("a.b", tn.ones(1))
    with pytest.raises(KeyError):
        m.register_buffer("", tn.ones(1))
    with pytest.raises(TypeError):
        m.register_buffer("x", 3)
    m.register_parameter("p", nn.Parameter(tn.ones(1)))
    with pytest.raises(KeyError):
        m.register_buffer("p", tn.ones(1))
    m.register_buffer("b", tn.ones(1), persistent=False)
    assert "b" not in m.state_dict()
    m.register_buffer("b", tn.ones(1), persistent=True)
    assert list(m.state_dict()) == ["p", "b"]


def test_load_state_dict_errors_are_runtime_errors_as_in_pytorch():
    lin = nn.Linear(2, 2)
    with pytest.raises(RuntimeError, match="missing keys"):
        lin.load_state_dict({"weight": np.zeros((2, 2))})
    with pytest.raises(RuntimeError, match="shape mismatch"):
        lin.load_state_dict({"weight": np.zeros((3, 2)), "bias": np.zeros(2)}, strict=False)
    with pytest.raises(ValueError):  # still a ValueError too
        lin.load_state_dict({"weight": np.zeros((2, 2))})


def test_get_submodule_get_parameter_and_half():
    net = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.BatchNorm1d(3)))
    assert net.get_submodule("1.0") is net[1][0]
    assert net.get_parameter("0.weight") is net[0].weight
    assert net.get_buffer("1.0.running_mean") is net[1][0].running_mean
    with pytest.raises(AttributeError, match="no sub-module '2'"):
        net.get_submodule("2")
    assert net.half()[0].weight.dtype == tn.float16


# ---------------------------------------------------------------- containers
def test_modulelist_behaves_like_pytorchs():
    a, b, c = nn.ReLU(), nn.Tanh(), nn.Sigmoid()
    ml = nn.ModuleList([a, b])
    assert isinstance(ml[0:1], nn.ModuleList) and list(ml[0:1]) == [a]
    assert ml.extend([c]) is ml and list(ml) == [a, b, c]
    ml.insert(0, nn.Identity())
    assert list(ml._modules) == ["0", "1", "2", "3"] and ml[1] is a
    assert ml.pop(0).__class__ is nn.Identity
    del ml[0]
    assert list(ml) == [b, c] and list(ml._modules) == ["0", "1"]
    ml[0] = a
    assert ml[0] is a and ml[-1] is c
    assert list(ml + nn.ModuleList([b])) == [a, c, b]
    with pytest.raises(IndexError):
        ml[2]


def test_sequential_insert_pop_and_delete_renumber():
    r, t, s = nn.ReLU(), nn.Tanh(), nn.Sigmoid()
    seq = nn.Sequential(r, t)
    assert seq.insert(1, s) is seq
    assert list(seq) == [r, s, t] and list(seq._modules) == ["0", "1", "2"]
    assert seq.pop(0) is r and list(seq) == [s, t]
    assert seq.extend([r]) is seq and len(seq) == 3
    del seq[1]
    assert list(seq) == [s, r] and list(seq._modules) == ["0", "1"]
    x = T([-1.0, 2.0])
    np.testing.assert_allclose(seq(x).numpy(), 1 / (1 + np.exp([1.0, -2.0])))


# ---------------------------------------------------------------- functional one_hot and normalize
def test_one_hot():
    y = F.one_hot(tn.tensor([[0, 3], [2, 1]]))
    assert y.dtype == tn.int64 and y.shape == (2, 2, 4)
    assert np.array_equal(y.numpy()[0, 1], [0, 0, 0, 1])
    assert F.one_hot(tn.tensor([1]), num_classes=3).numpy().tolist() == [[0, 1, 0]]
    for bad in (tn.tensor([-1, 0]), tn.tensor([1, 5])):
        with pytest.raises(RuntimeError):
            F.one_hot(bad, 3)
    with pytest.raises(RuntimeError):
        F.one_hot(tn.tensor([1, 2], dtype=tn.int32))


def test_normalize_divides_by_the_p_norm_clamped_at_eps():
    x = T([[3.0, 4.0], [0.0, 0.0]], True)
    y = F.normalize(x)  # p=2, dim=1
    np.testing.assert_allclose(y.numpy(), [[0.6, 0.8], [0.0, 0.0]])
    np.testing.assert_allclose(F.normalize(T([[3.0, 4.0]]), p=1).numpy(), [[3 / 7, 4 / 7]])
    np.testing.assert_allclose(F.normalize(T([[3.0], [4.0]]), dim=0).numpy(), [[0.6], [0.8]])
    y.sum().backward()
    # d/dx (x / |x|) summed: (1 - x (x . 1) / |x|^2) / |x| for the first row; zero row: 1 / eps
    v = np.array([3.0, 4.0])
    np.testing.assert_allclose(x.grad.numpy()[0], (1 - v * v.sum() / 25) / 5, rtol=1e-12)
    assert np.isfinite(x.grad.numpy()).all()


# ---------------------------------------------------------------- init
def test_orthogonal_init_gives_orthonormal_rows_or_columns_times_gain():
    tn.manual_seed(0)
    for shape in ((4, 6), (6, 4), (3, 2, 2)):
        w = init.orthogonal_(tn.empty(*shape, dtype=tn.float64), gain=2.0).numpy().reshape(shape[0], -1)
        gram = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
        np.testing.assert_allclose(gram, 4.0 * np.eye(len(gram)), atol=1e-12)
    with pytest.raises(ValueError):
        init.orthogonal_(tn.empty(3))


def test_trunc_normal_eye_dirac_and_gain():
    tn.manual_seed(0)
    x = init.trunc_normal_(tn.empty(10000), mean=1.0, std=2.0, a=0.0, b=2.0).numpy()
    assert x.min() >= 0.0 and x.max() <= 2.0
    assert abs(x.mean() - 1.0) < 0.05  # symmetric interval around the mean
    assert np.array_equal(init.eye_(tn.empty(2, 3)).numpy(), np.eye(2, 3))
    w = init.dirac_(tn.empty(3, 3, 3, 3, dtype=tn.float64))
    x = T(np.random.default_rng(5).standard_normal((1, 3, 4, 4)))
    np.testing.assert_allclose(F.conv2d(x, w, padding=1).numpy(), x.numpy())  # the identity convolution
    assert init.calculate_gain("conv_transpose2d") == 1.0


# ---------------------------------------------------------------- Embedding, device, BatchNorm
def test_embedding_from_pretrained_is_frozen_and_shares_memory():
    w = T([[1.0, 2.0], [3.0, 4.0]])
    emb = nn.Embedding.from_pretrained(w)
    assert not emb.weight.requires_grad
    assert emb(tn.tensor([1, 0])).numpy().tolist() == [[3.0, 4.0], [1.0, 2.0]]
    w.numpy()[0, 0] = 9.0
    assert emb.weight.numpy()[0, 0] == 9.0
    assert nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad
    with pytest.raises(NotImplementedError, match="max_norm"):
        nn.Embedding(3, 2, max_norm=1.0)


@pytest.mark.parametrize("make", [
    lambda d: nn.Linear(2, 3, device=d), lambda d: nn.Conv2d(1, 2, 3, device=d), lambda d: nn.Conv1d(1, 2, 3, device=d),
    lambda d: nn.BatchNorm1d(3, device=d), lambda d: nn.LayerNorm(3, device=d), lambda d: nn.Embedding(3, 2, device=d),
    lambda d: nn.MultiheadAttention(4, 2, device=d), lambda d: nn.TransformerEncoderLayer(4, 2, 8, device=d),
])
def test_layers_take_pytorchs_device_argument(make):
    assert isinstance(make("cpu"), nn.Module)
    with pytest.raises(RuntimeError, match="cpu"):
        make("cuda")


def test_multihead_attention_kdim_equal_to_embed_dim_is_accepted_and_others_fail_loudly():
    assert nn.MultiheadAttention(4, 2, kdim=4, vdim=4).kdim == 4
    with pytest.raises(NotImplementedError, match="kdim"):
        nn.MultiheadAttention(4, 2, kdim=3)
    with pytest.raises(NotImplementedError, match="add_bias_kv"):
        nn.MultiheadAttention(4, 2, add_bias_kv=True)


def test_batchnorm_in_eval_mode_accepts_an_empty_batch():
    bn = nn.BatchNorm1d(3).eval()
    assert bn(tn.zeros(0, 3)).shape == (0, 3)
    assert nn.BatchNorm2d(3).eval()(tn.zeros(0, 3, 2, 2)).shape == (0, 3, 2, 2)


def test_calculate_gain_values():
    assert init.calculate_gain("tanh") == 5.0 / 3
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2.0 / (1 + 0.2 ** 2))


def test_dropout_of_an_integer_tensor_in_training_is_defined_only_for_p_0_and_1():
    """PyTorch: p = 0 returns the input and p = 1 zeros, whatever the dtype; other p need a float."""
    x = tn.tensor([1, 2, 3])
    assert F.dropout(x, 0.0, True).tolist() == [1, 2, 3]
    zeros = F.dropout(x, 1.0, True)
    assert zeros.tolist() == [0, 0, 0] and zeros.dtype == tn.int64
    with pytest.raises(TypeError, match="dropout: expected a floating-point input in training, got dtype int64"):
        F.dropout(x, 0.5, True)
