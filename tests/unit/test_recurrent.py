"""Recurrent layers: float64 gradient checks of cells and stacks on both backends, the fused LSTM op
against the step-by-step composition, closed forms, PyTorch's names and shapes, and errors."""
import math

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
from tinynn.nn.recurrent import run_direction, run_layer

F64 = np.float64
COMPILED = "cython" in tn.backend.available()
needs_cython = pytest.mark.skipif(not COMPILED, reason="compiled kernels not built")
CELLS = [(nn.RNNCell, {}), (nn.RNNCell, {"nonlinearity": "relu"}), (nn.LSTMCell, {}), (nn.GRUCell, {}),
         (nn.GRUCell, {"bias": False})]


def flat_outputs(result):
    """The tensors a recurrent module returns, in order: (output, h_n) or (output, (h_n, c_n)) or h or (h, c)."""
    if isinstance(result, tn.Tensor):
        return [result]
    return [t for part in result for t in flat_outputs(part)]


def weighted_sum(module, x, hx):
    """sum_k <w_k, output_k> with fixed random weights w_k, so no output's gradient can hide in a sum."""
    total = 0.0
    for k, y in enumerate(flat_outputs(module(x, hx))):
        w = np.random.default_rng(k).normal(size=y.shape)
        total = total + (y * tn.tensor(w)).sum()
    return total


def check_gradients(module, x, hx=None, eps=1e-6):
    """Backward's gradients of weighted_sum w.r.t. x, the states and every parameter against central
    differences, in float64 (1e-7 absolute, 1e-6 relative)."""
    states = [] if hx is None else ([hx] if isinstance(hx, tn.Tensor) else list(hx))
    for t in (x, *states):
        t.requires_grad_(True)
    module.zero_grad()
    weighted_sum(module, x, hx).backward()
    named = [("input", x)] + [(f"state {k}", s) for k, s in enumerate(states)] + list(module.named_parameters())
    for name, t in named:
        data, numeric = t.numpy(), np.zeros(t.shape)
        with tn.no_grad():
            for i in np.ndindex(t.shape):
                saved = data[i]
                data[i] = saved + eps
                plus = float(weighted_sum(module, x, hx).item())
                data[i] = saved - eps
                numeric[i] = (plus - float(weighted_sum(module, x, hx).item())) / (2 * eps)
                data[i] = saved
        np.testing.assert_allclose(t.grad.numpy(), numeric, atol=1e-7, rtol=1e-6, err_msg=name)


def randn(*shape):
    return tn.tensor(np.random.default_rng(len(shape) * 7 + shape[-1]).normal(size=shape))


@pytest.mark.parametrize("cls, kwargs", CELLS)
def test_cell_gradients(cls, kwargs, backend_name):
    cell = cls(3, 4, dtype=F64, **kwargs)
    h = randn(2, 4)
    check_gradients(cell, randn(2, 3), (h, randn(2, 4) * 0.5) if cls is nn.LSTMCell else h)


@pytest.mark.parametrize("cls, kwargs", [(nn.LSTM, {}), (nn.GRU, {}), (nn.RNN, {"nonlinearity": "relu"}),
                                         (nn.LSTM, {"bias": False, "batch_first": True})])
def test_stack_gradients_two_layers_bidirectional(cls, kwargs, backend_name):
    module = cls(3, 2, num_layers=2, bidirectional=True, dtype=F64, **kwargs)
    h0 = randn(4, 2, 2)
    x = randn(2, 3, 3) if module.batch_first else randn(3, 2, 3)  # (N, L, in) or (L, N, in)
    check_gradients(module, x, (h0, randn(4, 2, 2) * 0.5) if cls is nn.LSTM else h0)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_fused_op_equals_the_step_by_step_composition(mode, backend_name):
    rng = np.random.default_rng(3)
    gates = 4 if mode == "LSTM" else 3
    shapes = [(5, 3, 2 * gates), (3, 2), (3, 2), (2 * gates, 2), (2 * gates,)]
    tensors = [tn.tensor(rng.normal(size=s), requires_grad=True) for s in shapes]
    if mode == "GRU":
        del tensors[2]  # no cell state
    gi, states, (w_hh, b_hh) = tensors[0], tensors[1:-2], tensors[-2:]
    for reverse in (False, True):
        results = []
        for run in (run_direction, run_layer):
            out, final = run(mode, gi, list(states), w_hh, b_hh, reverse)
            for t in tensors:
                t.grad = None
            outputs = (out, *final)
            sum((y * tn.tensor(np.sin(np.arange(y.numel()).reshape(y.shape)))).sum() for y in outputs).backward()
            results.append([y.numpy() for y in outputs] + [t.grad.numpy() for t in tensors])
        for plain, fused in zip(*results):
            np.testing.assert_allclose(fused, plain, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
@pytest.mark.parametrize("steps", [0, 3])
def test_fused_op_in_float32_and_with_no_steps(mode, steps, backend_name):
    """float32 in: float32 out and float32 gradients (PyTorch's), equal to the float64 ones to float32
    accuracy; with no step the output is empty and every input's gradient is zero, in its shape.
    Without `reverse` the steps run in time order."""
    from tinynn.ops.recurrent import GRUSequence, LSTMSequence
    op, gates = (LSTMSequence, 4) if mode == "LSTM" else (GRUSequence, 3)
    rng = np.random.default_rng(8)
    shapes = [(steps, 2, gates * 3), (2, 3)] + [(2, 3)] * (gates == 4) + [(gates * 3, 3), (gates * 3,)]
    arrays = [rng.normal(size=s) for s in shapes]
    results = {}
    for dtype in (np.float32, F64):
        tensors = [tn.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
        y = op.apply(*tensors)
        np.testing.assert_array_equal(y.numpy(), op.apply(*tensors, reverse=False).numpy())  # time order by default
        (y * y).sum().backward()
        assert y.dtype == dtype and all(t.grad.dtype == dtype and t.grad.shape == t.shape for t in tensors)
        results[dtype] = [y.numpy()] + [t.grad.numpy() for t in tensors]
    for single, double in zip(results[np.float32], results[F64]):
        np.testing.assert_allclose(single, double, rtol=1e-4, atol=1e-5)
    if steps == 0:
        assert all(not g.any() for g in results[np.float32][2:])


@pytest.fixture(params=tn.kernels.simd_paths() if COMPILED else ["auto"])
def simd_path(request):
    """Run the test on each SIMD path the CPU has (portable, avx2, avx512)."""
    previous = tn.kernels.set_simd(request.param)
    yield request.param
    tn.kernels.set_simd(previous)


def _gate_bias(module, suffix, block, value):
    """Set bias_ih's gate block `block` to `value` and zero that block of bias_hh."""
    h = module.hidden_size
    getattr(module, f"bias_ih{suffix}").numpy()[block * h:(block + 1) * h] = value
    getattr(module, f"bias_hh{suffix}").numpy()[block * h:(block + 1) * h] = 0.0


def test_lstm_with_forget_gate_open_and_input_gate_closed_carries_its_cell_state(backend_name):
    lstm = nn.LSTM(3, 4, dtype=F64)
    _gate_bias(lstm, "_l0", 0, -60.0)  # i = sigmoid(~-60) ~ 1e-26: nothing written
    _gate_bias(lstm, "_l0", 1, 60.0)   # f = sigmoid(~60) = 1 in float64: everything kept
    c0 = randn(1, 2, 4)
    out, (h_n, c_n) = lstm(randn(6, 2, 3), (randn(1, 2, 4), c0))
    np.testing.assert_allclose(c_n.numpy(), c0.numpy(), rtol=1e-15, atol=1e-20)
    # every step's h = sigmoid(o) tanh(c0), strictly inside (-|tanh c0|, |tanh c0|)
    assert np.all(np.abs(out.numpy()) < np.abs(np.tanh(c0.numpy())))


def test_gru_with_update_gate_forced_to_one_keeps_its_state(backend_name):
    gru = nn.GRU(3, 4, dtype=F64)
    _gate_bias(gru, "_l0", 1, 60.0)  # z = 1: h' = (1 - z) n + z h = h
    h0 = randn(1, 2, 4)
    out, h_n = gru(randn(5, 2, 3), h0)
    np.testing.assert_array_equal(h_n.numpy(), h0.numpy())
    np.testing.assert_array_equal(out.numpy(), np.broadcast_to(h0.numpy(), (5, 2, 4)))


def test_one_step_rnn_is_the_tanh_of_its_two_affine_maps(backend_name):
    rnn = nn.RNN(3, 4, dtype=F64)
    x, h0 = randn(1, 2, 3), randn(1, 2, 4)
    out, h_n = rnn(x, h0)
    p = {k: v for k, v in rnn.state_dict().items()}
    expected = np.tanh(x.numpy()[0] @ p["weight_ih_l0"].T + p["bias_ih_l0"] + h0.numpy()[0] @ p["weight_hh_l0"].T
                       + p["bias_hh_l0"])
    np.testing.assert_allclose(out.numpy()[0], expected, rtol=1e-14)
    np.testing.assert_allclose(h_n.numpy()[0], expected, rtol=1e-14)


@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU])
def test_reverse_half_is_the_reverse_direction_run_on_the_flipped_sequence(cls, backend_name):
    both = cls(3, 4, bidirectional=True, dtype=F64)
    reverse = cls(3, 4, dtype=F64)
    reverse.load_state_dict({k.replace("_reverse", ""): v for k, v in both.state_dict().items() if "_reverse" in k})
    x = randn(5, 2, 3)
    out, state = both(x)
    rev_out, rev_state = reverse(tn.tensor(x.numpy()[::-1].copy()))
    np.testing.assert_allclose(out.numpy()[:, :, 4:], rev_out.numpy()[::-1], rtol=1e-14)
    h_n, rev_h = (state[0], rev_state[0]) if cls is nn.LSTM else (state, rev_state)
    np.testing.assert_allclose(h_n.numpy()[1], rev_h.numpy()[0], rtol=1e-14)


@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU])
def test_batch_first_and_unbatched_equal_the_plain_call(cls):
    plain = cls(3, 4, num_layers=2, dtype=F64)
    first = cls(3, 4, num_layers=2, batch_first=True, dtype=F64)
    first.load_state_dict(plain.state_dict())
    x = randn(5, 2, 3)
    out, _ = plain(x)
    out_bf, _ = first(x.transpose(0, 1))
    np.testing.assert_array_equal(out_bf.numpy(), out.numpy().transpose(1, 0, 2))
    single, state = plain(tn.tensor(x.numpy()[:, 0]))
    np.testing.assert_allclose(single.numpy(), out.numpy()[:, 0], rtol=1e-14)
    assert (state[0] if cls is nn.LSTM else state).shape == (2, 4)


def test_state_dict_keys_and_shapes_are_pytorchs():
    """PyTorch's documented names: weight_ih_l{k}{_reverse} (G*H, in or D*H), weight_hh (G*H, H), biases (G*H,)."""
    expected = {}
    for k, width in ((0, 10), (1, 40)):
        for suffix in ("", "_reverse"):
            expected.update({f"weight_ih_l{k}{suffix}": (80, width), f"weight_hh_l{k}{suffix}": (80, 20),
                             f"bias_ih_l{k}{suffix}": (80,), f"bias_hh_l{k}{suffix}": (80,)})
    got = {k: tuple(v.shape) for k, v in nn.LSTM(10, 20, num_layers=2, bidirectional=True).state_dict().items()}
    assert list(got) == list(expected) and got == expected
    assert {k: tuple(v.shape) for k, v in nn.GRU(10, 20, bias=False).state_dict().items()} == {
        "weight_ih_l0": (60, 10), "weight_hh_l0": (60, 20)}
    assert {k: tuple(v.shape) for k, v in nn.RNNCell(10, 20).state_dict().items()} == {
        "weight_ih": (20, 10), "weight_hh": (20, 20), "bias_ih": (20,), "bias_hh": (20,)}


def test_pytorch_helpers_flatten_parameters_and_all_weights():
    gru = nn.GRU(3, 4, num_layers=2, bidirectional=True, bias=False)
    assert gru.flatten_parameters() is None
    assert [[tuple(w.shape) for w in ws] for ws in gru.all_weights] == [[(12, 3), (12, 4)]] * 2 + [[(12, 8), (12, 4)]] * 2
    assert gru.all_weights[3][0] is gru.weight_ih_l1_reverse


@pytest.mark.parametrize("module", [nn.LSTM(6, 25), nn.GRUCell(6, 25), nn.RNN(6, 25, num_layers=2)])
def test_init_is_uniform_within_one_over_sqrt_hidden(module):
    values = np.concatenate([p.numpy().ravel() for p in module.parameters()])
    bound = 1 / math.sqrt(25)
    assert values.dtype == np.float32 and np.all(np.abs(values) <= bound)
    assert abs(values.mean()) < 0.02 and abs(values.std() - bound / math.sqrt(3)) < 0.01


def test_inter_layer_dropout_only_in_training():
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=1.0, dtype=F64)
    x = randn(4, 2, 3)
    shifted = tn.tensor(x.numpy() + 1.0)
    # p = 1 in training: layer 2 sees zeros, so the output no longer depends on x
    np.testing.assert_array_equal(lstm(x)[0].numpy(), lstm(shifted)[0].numpy())
    lstm.eval()
    assert not np.allclose(lstm(x)[0].numpy(), lstm(shifted)[0].numpy())


def test_errors_name_the_layer_and_the_shapes():
    with pytest.raises(ValueError, match=r"LSTM: input has 5 features but input_size is 3 \(input shape \(4, 2, 5\)\)"):
        nn.LSTM(3, 4)(tn.randn(4, 2, 5))
    with pytest.raises(ValueError, match=r"GRU: expected h_0 of shape \(2, 2, 4\), got \(1, 2, 4\)"):
        nn.GRU(3, 4, bidirectional=True)(tn.randn(4, 2, 3), tn.zeros(1, 2, 4))
    with pytest.raises(ValueError, match=r"LSTM: expected c_0 of shape \(1, 2, 4\), got \(1, 3, 4\)"):
        nn.LSTM(3, 4)(tn.randn(4, 2, 3), (tn.zeros(1, 2, 4), tn.zeros(1, 3, 4)))
    with pytest.raises(TypeError, match=r"LSTM: hx must be a tuple \(h_0, c_0\)"):
        nn.LSTM(3, 4)(tn.randn(4, 2, 3), tn.zeros(1, 2, 4))
    with pytest.raises(ValueError, match=r"RNN: expected a 2-D or 3-D input, got shape \(3,\)"):
        nn.RNN(3, 4)(tn.randn(3))
    with pytest.raises(ValueError, match=r"LSTMCell: expected c of shape \(2, 4\), got \(2, 5\)"):
        nn.LSTMCell(3, 4)(tn.randn(2, 3), (tn.zeros(2, 4), tn.zeros(2, 5)))
    with pytest.raises(ValueError, match=r"GRUCell: input has 2 features but input_size is 3"):
        nn.GRUCell(3, 4)(tn.randn(2, 2))
    with pytest.raises(TypeError, match=r"GRU: input has dtype float64 but the weights have float32"):
        nn.GRU(3, 4)(tn.randn(4, 2, 3, dtype=F64))
    with pytest.raises(TypeError, match=r"LSTMCell: c has dtype float64 but the input has float32"):
        nn.LSTMCell(3, 4)(tn.randn(2, 3), (tn.zeros(2, 4), tn.zeros(2, 4, dtype=F64)))
    with pytest.raises(RuntimeError, match=r"RNNCell: device 'cuda' is not available"):
        nn.RNNCell(3, 4, device="cuda")
    assert nn.LSTM(3, 4, device="cpu").weight_hh_l0.shape == (16, 4)
    with pytest.raises(NotImplementedError, match=r"LSTM: proj_size=2"):
        nn.LSTM(3, 4, proj_size=2)
    with pytest.raises(ValueError, match=r"RNN: unknown nonlinearity 'gelu'"):
        nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match=r"GRU: hidden_size must be a positive int, got 0"):
        nn.GRU(3, 0)


@needs_cython
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n, hidden", [(1, 1), (7, 5), (3, 33)])
def test_compiled_lstm_cell_kernels_equal_the_reference(dtype, n, hidden, simd_path):
    """On every SIMD path, sizes that are not multiples of any vector width, and row-strided slices."""
    rng = np.random.default_rng(5)
    wide = [rng.normal(size=(n, 8 * hidden)).astype(dtype) for _ in range(2)]
    gi, gh = wide[0][:, :4 * hidden], wide[1][:, 1:4 * hidden + 1]  # slices: rows not contiguous with each other
    c, grad_h, grad_c = (rng.normal(size=(n, 2 * hidden)).astype(dtype)[:, :hidden] for _ in range(3))
    ref = tn.backend.reference
    h_new, c_new, gates = ref.lstm_cell(gi, gh, c)
    expected = [h_new, c_new, gates, *ref.lstm_cell_backward(gates, c, c_new, grad_h, grad_c)]
    ours = [*tn.kernels.lstm_cell(gi, gh, c)]
    ours += [*tn.kernels.lstm_cell_backward(ours[2], c, ours[1], grad_h, grad_c)]
    tol = 1e-5 if dtype == np.float32 else 1e-13
    for a, b in zip(ours, expected):
        assert a.dtype == dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@needs_cython
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n, hidden", [(1, 1), (7, 5), (3, 33)])
def test_compiled_gru_cell_kernels_equal_the_reference(dtype, n, hidden, simd_path):
    rng = np.random.default_rng(6)
    gi, gh = (rng.normal(size=(n, 6 * hidden)).astype(dtype)[:, :3 * hidden] for _ in range(2))
    h, grad_h = (rng.normal(size=(n, 2 * hidden)).astype(dtype)[:, hidden:] for _ in range(2))
    ref = tn.backend.reference
    h_new, saved = ref.gru_cell(gi, gh, h)
    expected = [h_new, saved, *ref.gru_cell_backward(saved, h, grad_h)]
    ours = [*tn.kernels.gru_cell(gi, gh, h)]
    ours += [*tn.kernels.gru_cell_backward(ours[1], h, grad_h)]
    tol = 1e-5 if dtype == np.float32 else 1e-13
    for a, b in zip(ours, expected):
        assert a.dtype == dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@needs_cython
def test_compiled_recurrent_kernels_check_their_arguments():
    c = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match=r"lstm_cell: gi has shape \(2, 11\), expected \(2, 12\)"):
        tn.kernels.lstm_cell(np.zeros((2, 11), np.float32), np.zeros((2, 12), np.float32), c)
    with pytest.raises(TypeError, match=r"lstm_cell: gh has dtype float64, expected float32"):
        tn.kernels.lstm_cell(np.zeros((2, 12), np.float32), np.zeros((2, 12)), c)
    with pytest.raises(TypeError, match=r"lstm_cell_backward: c must be a 2-D float32/float64 ndarray"):
        tn.kernels.lstm_cell_backward(np.zeros((2, 12)), [1.0], c, c, c)
    with pytest.raises(ValueError, match=r"gru_cell_backward: saved has shape \(2, 9\), expected \(2, 12\)"):
        tn.kernels.gru_cell_backward(np.zeros((2, 9), np.float32), c, c)


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_a_sequence_of_no_step_is_refused_naming_the_layer(mode):
    # PyTorch: "Expected sequence length to be larger than 0 in RNN"
    layer = getattr(nn, mode)(3, 5)
    with pytest.raises(ValueError, match=f"{mode}: the input sequence has no step .input shape \\(0, 2, 3\\)"):
        layer(tn.zeros(0, 2, 3))
    batch_first = getattr(nn, mode)(3, 5, batch_first=True)
    with pytest.raises(ValueError, match=f"{mode}: the input sequence has no step"):
        batch_first(tn.zeros(2, 0, 3))
    assert batch_first(tn.zeros(0, 1, 3))[0].shape == (0, 1, 5)   # an empty batch is fine
