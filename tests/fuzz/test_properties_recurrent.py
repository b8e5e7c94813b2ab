"""Hypothesis properties of the recurrent layers: RNN (tanh, relu), LSTM and GRU, their cells and their
sequence layers (1 or 2 layers, bidirectional, batch_first, unbatched, batch 1): on random sizes,
float32 and float64, strided inputs, the outputs, the final states and the gradients of the input
and the initial state under random upstream gradients agree on both backends with the float64
reference, per sample within the recurrence's error bound (helpers.agreement); plus identities."""
import numpy as np
from hypothesis import given, strategies as st

import tinynn as tn
import tinynn.nn as nn

from helpers import fuzzing as fz
from helpers.agreement import assert_agree

K = 8
seeds = st.integers(0, 2**32 - 1)
KINDS = {"rnn": (nn.RNN, nn.RNNCell, {}), "rnn relu": (nn.RNN, nn.RNNCell, {"nonlinearity": "relu"}),
         "lstm": (nn.LSTM, nn.LSTMCell, {}), "gru": (nn.GRU, nn.GRUCell, {})}


def twin_layers(make, dtype, rng):
    """The same layer in float32 and float64 (float64 weights drawn anew half the time when the test
    runs in float64, so they need not be float32 values), and the weights' scales: the largest row
    sum of |W_ih| and of |W_hh| over the layers and directions, the largest |b_ih| + |b_hh|."""
    low = make()
    high = make().double()
    state = {k: np.asarray(v, np.float64) for k, v in low.state_dict().items()}
    if dtype == np.float64 and rng.random() < 0.5:
        state = {k: rng.uniform(-0.6, 0.6, v.shape) for k, v in state.items()}
    high.load_state_dict({k: tn.tensor(v) for k, v in state.items()})
    rows = lambda kind: max(np.abs(v).sum(axis=1).max() for k, v in state.items() if k.startswith(kind))  # noqa: E731
    bias = sum(max(np.abs(v).max() for k, v in state.items() if k.startswith(kind)) for kind in ("bias_ih", "bias_hh"))
    return {np.dtype(np.float32): low, np.dtype(np.float64): high}, (rows("weight_ih"), rows("weight_hh"), bias)


def per_sample(a, batch_axis):
    """max |a| over the finite values, per sample: a vector (N,) (one entry when unbatched)."""
    a = np.abs(fz.finite_part(a))
    if batch_axis is None:
        return np.max(a, initial=0.0, keepdims=True).reshape(1)
    return np.max(np.moveaxis(a, batch_axis, 0).reshape(a.shape[batch_axis], -1), axis=1, initial=0.0)


def along(v, shape, batch_axis):
    """A per-sample vector shaped to broadcast against an array of `shape` along its batch axis."""
    if batch_axis is None:
        return v.reshape(())
    return v.reshape((-1,) + (1,) * (len(shape) - 1 - batch_axis))


def recurrence_bound(inputs, outputs, grads, ups, axes, grad_axes, size, steps, scales):
    """Each step's gates are sums of `size` products: within (size + K) eps of the sum of |terms|,
    local = a_ih |x| + a_hh |h| + |b| (a: the weights' largest row sums of |W|; |h| <= 1 for tanh
    and sigmoid cells, the output's own size for relu). An error in the state enters the next step
    at most L = 1 + a_hh times over (|tanh'|, |sigmoid'|, f, z <= 1), so `steps` steps carry the
    local errors by amp = sum_t L^t. The gradients run the same Jacobians backward: their errors
    carry amp^2, on the scale of the sample's upstream through (1 + a_ih)(1 + a_hh). Per sample,
    for every output (batch axes `axes`) and every gradient (`grad_axes`)."""
    a_ih, a_hh, b = scales
    amp = sum((1 + a_hh) ** t for t in range(steps))
    x = per_sample(inputs[0], grad_axes[0])
    h = np.maximum(1.0, sum(per_sample(o, axis) for o, axis in zip(outputs, axes)))   # relu states may exceed 1
    for extra, axis in zip(inputs[1:], grad_axes[1:]):                                 # initial states given
        h = np.maximum(h, per_sample(extra, axis))
    local = (size + K) * (a_ih * np.maximum(x, h) + a_hh * h + b + 1)
    g = sum(per_sample(u, axis) for u, axis in zip(ups, axes))
    mags = [2 * np.abs(o) + along(local * amp, o.shape, axis) for o, axis in zip(outputs, axes)]
    for gr, axis in zip(grads, grad_axes):
        mags.append(2 * np.abs(gr) + along(g * local * (1 + a_ih) * (1 + a_hh) * amp ** 2, gr.shape, axis))
    return mags


@given(kind=st.sampled_from(sorted(KINDS)), dtype=st.sampled_from([np.float32, np.float64]),
       n=st.sampled_from([None, 1, 2, 3]), inp=st.sampled_from([1, 2, 5]), hidden=st.sampled_from([1, 3, 8]),
       with_state=st.booleans(), seed=seeds)
def test_cells_agree(kind, dtype, n, inp, hidden, with_state, seed):
    rng = np.random.default_rng(seed)
    _, cell, options = KINDS[kind]
    layers, scales = twin_layers(lambda: cell(inp, hidden, **options), dtype, rng)
    batch = () if n is None else (n,)
    x = (rng.standard_normal(batch + (inp,)) * 2).astype(dtype)
    states = [rng.uniform(-1, 1, batch + (hidden,)).astype(dtype) for _ in range(2 if kind == "lstm" else 1)]

    def fn(x, *s):
        layer = layers[x.dtype]
        if not s:
            return layer(x)
        return layer(x, tuple(s)) if kind == "lstm" else layer(x, s[0])
    arrays = [x] + (states if with_state else [])
    axis = None if n is None else 0
    outs = 2 if kind == "lstm" else 1
    assert_agree(fn, arrays, lambda a, v, g, u: recurrence_bound(a, v, g, u, [axis] * outs, [axis] * len(arrays),
                                                                 inp + hidden, 1, scales),
                 seed=seed, what=f"{kind} cell")


@given(kind=st.sampled_from(sorted(KINDS)), dtype=st.sampled_from([np.float32, np.float64]),
       n=st.sampled_from([None, 1, 3]), length=st.sampled_from([1, 2, 5]), inp=st.sampled_from([1, 3]),
       hidden=st.sampled_from([1, 4]), layers_=st.sampled_from([1, 2]), bidirectional=st.booleans(),
       batch_first=st.booleans(), strided=st.booleans(), special=st.sampled_from([None, None, np.nan, np.inf, -np.inf]),
       seed=seeds)
def test_sequence_layers_agree(kind, dtype, n, length, inp, hidden, layers_, bidirectional, batch_first, strided, special,
                               seed):
    rng = np.random.default_rng(seed)
    layer, _, options = KINDS[kind]
    layers, scales = twin_layers(lambda: layer(inp, hidden, num_layers=layers_, bidirectional=bidirectional,
                                          batch_first=batch_first, **options), dtype, rng)
    if n is None:
        shape, axis = (length, inp), None
    else:
        shape, axis = ((n, length, inp), 0) if batch_first else ((length, n, inp), 1)
    x = (rng.standard_normal(shape) * 2).astype(dtype)
    if special is not None:   # one NaN or infinity: non-finite exactly where the float64 reference is
        x.reshape(-1)[rng.integers(x.size)] = special
    if strided:  # every other time step of a longer sequence: a strided view
        time = 1 if (batch_first and n is not None) else 0
        longer = np.repeat(x, 2, axis=time)
        x = longer[(slice(None),) * time + (slice(None, None, 2),)]
        assert not x.flags.c_contiguous or x.shape[time] == 1

    def fn(x):
        out, state = layers[x.dtype](x)
        return (out,) + (tuple(state) if kind == "lstm" else (state,))
    state_axis = None if n is None else 1          # h_n, c_n: (layers * directions, N, H)
    outs = 3 if kind == "lstm" else 2
    size = inp + hidden * (2 if bidirectional else 1) + hidden
    assert_agree(fn, [x], lambda a, v, g, u: recurrence_bound(a, v, g, u, [axis] + [state_axis] * (outs - 1), [axis], size,
                                                             length * layers_, scales),
                 seed=seed, what=f"{kind} layers={layers_} bidirectional={bidirectional} batch_first={batch_first}")


# ---------------------------------------------------------------- identities (no reference)
@given(kind=st.sampled_from(["rnn", "lstm", "gru"]), length=st.integers(2, 6), t=st.integers(0, 5), seed=seeds,
       backend=st.sampled_from(tn.backend.available()))
def test_a_forward_layers_output_at_step_t_ignores_later_inputs(kind, length, t, seed, backend):
    t = t % length
    rng = np.random.default_rng(seed)
    layer_cls, _, options = KINDS[kind]
    with tn.use_backend(backend):
        layer = layer_cls(3, 4, num_layers=2, **options).double()
        x = rng.standard_normal((length, 2, 3))
        x2 = x.copy()
        x2[t + 1:] = rng.standard_normal(x2[t + 1:].shape) * 5
        a, b = layer(tn.tensor(x))[0].numpy(), layer(tn.tensor(x2))[0].numpy()
    np.testing.assert_array_equal(a[:t + 1], b[:t + 1])


@given(kind=st.sampled_from(["rnn", "lstm", "gru"]), length=st.integers(1, 5), n=st.integers(1, 3), seed=seeds,
       backend=st.sampled_from(tn.backend.available()))
def test_the_sequence_layer_is_its_cell_stepped_through_time(kind, length, n, seed, backend):
    """One layer, one direction: the layer's outputs are the cell's states step by step, with the
    layer's weights (PyTorch's weight_ih_l0 / weight_hh_l0 / biases are the cell's)."""
    rng = np.random.default_rng(seed)
    layer_cls, cell_cls, options = KINDS[kind]
    with tn.use_backend(backend):
        layer = layer_cls(3, 4, **options).double()
        cell = cell_cls(3, 4, **options).double()
        cell.load_state_dict({k.removesuffix("_l0"): v for k, v in layer.state_dict().items()})
        x = rng.standard_normal((length, n, 3))
        out = layer(tn.tensor(x))[0].numpy()
        state = None
        for step in range(length):
            state = cell(tn.tensor(x[step])) if state is None else cell(tn.tensor(x[step]), state)
            h = state[0] if kind == "lstm" else state
            np.testing.assert_allclose(h.numpy(), out[step], rtol=1e-12, atol=1e-14)
