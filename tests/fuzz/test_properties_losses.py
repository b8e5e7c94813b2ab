"""Hypothesis properties of the losses and their options: cross_entropy / nll_loss (class weights,
ignore_index, label_smoothing, probability targets, (N, C, d...) and unbatched inputs),
binary_cross_entropy (weight), binary_cross_entropy_with_logits (weight, pos_weight), l1_loss,
smooth_l1_loss (beta), huber_loss (delta), each with reduction none / mean / sum: on random shapes
(batch 0 and 1 included), float32 and float64, any memory layout, the value and the input's gradient
under a random upstream gradient agree on both backends with the float64 reference, per element
within the loss's error bound (helpers.agreement); plus identities that need no reference."""
import numpy as np
import pytest
from hypothesis import example, given, strategies as st

import tinynn as tn
import tinynn.nn.functional as F

from helpers import fuzzing as fz
from helpers.agreement import assert_agree

K = 4  # a few roundings per term (exp, log, a product, a sum), on top of the terms' count
REDUCTIONS = ("none", "mean", "sum")
dtypes = st.sampled_from([np.float32, np.float64])
seeds = st.integers(0, 2**32 - 1)


def reduce_bound(m, loss64, reduction, denominator):
    """The value's magnitude: per element m (in eps of the unreduced loss); a sum of n terms adds
    n sum |l|; a mean divides by its denominator."""
    if reduction == "none":
        return m
    n = max(np.size(loss64), 1)
    total = np.sum(m) + n * np.sum(np.abs(fz.finite_part(loss64)))
    return total if reduction == "sum" else total / max(abs(denominator), 1e-300)


def upstream_of(u, reduction, denominator, shape):
    """|d loss / d l_n| per unreduced element: the upstream itself, or the scalar's over the mean."""
    return np.abs(u) if reduction == "none" else np.broadcast_to(np.abs(u) / (1 if reduction == "sum" else denominator), shape)


def log_softmax64(x, axis):
    m = np.max(x, axis=axis, keepdims=True, initial=-np.inf) if x.size else x
    with np.errstate(all="ignore"):
        return x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


# ---------------------------------------------------------------- cross entropy and NLL
@st.composite
def class_cases(draw, probabilities=False):
    dtype = draw(dtypes)
    c = draw(st.sampled_from([1, 2, 3, 7, 13]))
    unbatched = draw(st.booleans()) and draw(st.booleans())
    n = draw(st.sampled_from([0, 1, 1, 2, 5, 8]))
    extra = () if unbatched else draw(st.sampled_from([(), (), (1,), (3,), (2, 3)]))
    shape = (c,) if unbatched else (n, c) + extra
    x = draw(fz.st_array(shape, dtype, p_special=(0.0, 0.0, 0.05)))
    rng = np.random.default_rng(draw(seeds))
    tshape = () if unbatched else (n,) + extra
    ignore = draw(st.sampled_from([-100, -1, 0]))
    if probabilities:
        p = rng.dirichlet(np.ones(c), size=tshape)
        target = np.moveaxis(p, -1, 0 if unbatched else 1).astype(dtype)
    else:
        target = rng.integers(0, c, size=tshape)
        if target.size and draw(st.booleans()):
            target.reshape(-1)[rng.random(target.size) < 0.3] = ignore
    weight = rng.uniform(0.1, 3.0, c).astype(dtype) if draw(st.booleans()) else None
    smoothing = draw(st.sampled_from([0.0, 0.0, 0.1, 0.5]))
    return x, target, weight, ignore, smoothing, draw(st.sampled_from(REDUCTIONS))


def class_axis(a, unbatched):
    return a if unbatched else np.moveaxis(a, 1, -1)   # classes last: (..., C)


def cross_entropy_bound(x64, target, weight, ignore, smoothing, reduction, values, grads, ups, nll=False):
    unbatched = x64.ndim == 1
    xs = class_axis(fz.finite_part(x64), unbatched)                  # (..., C), magnitudes of the finite logits
    c = xs.shape[-1]
    w = np.ones(c) if weight is None else weight.astype(np.float64)
    if target.dtype.kind == "f":                                     # probabilities: every class weighs in
        q = class_axis(target.astype(np.float64), unbatched) * (1 - smoothing) + smoothing / c
        wn = np.sum(np.abs(w * q), axis=-1)
        denominator = max(xs[..., 0].size, 1)
    else:
        kept = target != ignore
        wt = np.where(kept, w[np.where(kept, target, 0)], 0.0)
        wn = wt + smoothing * np.where(kept, np.sum(w), 0.0) / c
        denominator = np.sum(wt)
    # log p = x - m - log S: each within (C + K) eps of (|x| + |m| + log C + 1); p within as much relative
    spread = 2 * np.max(np.abs(xs), axis=-1, initial=0.0) + np.log(c) + 1
    if nll:
        spread = np.max(np.abs(xs), axis=-1, initial=0.0)
    m = (c + K) * wn * spread
    value = reduce_bound(m, values[0], reduction, denominator)
    g = upstream_of(ups[0], reduction, denominator, m.shape)
    grad = (c + K) * (g * wn * (2 + spread))[..., None] * np.ones(c)
    return [K * value, K * (grad if unbatched else np.moveaxis(grad, -1, 1))]


def _ce(target, weight, ignore, smoothing, reduction):
    return lambda x: F.cross_entropy(x, tn.tensor(target), None if weight is None else tn.tensor(weight),
                                     ignore_index=ignore, reduction=reduction, label_smoothing=smoothing)


@given(case=class_cases(), seed=seeds)
@example(
    case=(np.array([[[[-8.79663944e+00,  9.99999968e+37,  1.51387148e+01],
              [ 2.96002507e+00,  3.69809990e+01, -1.30744343e+01]],
     
             [[ 0.00000000e+00, -3.09997964e+00, -2.10830173e+01],
              [-1.48706570e+01, -9.67090225e+00, -9.76457500e+00]],
     
             [[ 3.40282347e+38,  7.69943714e-01, -1.90800209e+01],
              [-1.69226646e+01,  3.05094948e+01,  1.58206005e+01]],
     
             [[-7.14522018e+01,  5.40252507e-01, -1.17016392e+01],
              [-1.43949413e+01,  2.27420692e+01,  9.99999968e+37]],
     
             [[ 1.66853828e+01, -3.23334694e+01, -3.30735397e+01],
              [-1.94673328e+01,  4.55513611e+01,  1.76209774e+01]],
     
             [[            np.nan,  3.90471191e+01,  3.59340019e+01],
              [ 3.93747826e+01,  4.31497717e+00, -9.96279240e+00]],
     
             [[ 2.21677608e+01,  3.00879860e+01, -1.94839592e+01],
              [ 1.68307285e+01,  1.63393116e+00, -5.08215332e+00]],
     
             [[-4.10468531e+00,  9.99999968e+37, -3.40282347e+38],
              [-1.49463282e+01,  2.20820446e+01, -2.09866581e+01]],
     
             [[ 1.07503700e+01, -2.63493977e+01,  4.51323547e+01],
              [ 8.10237312e+00,  2.99285488e+01, -2.59385757e+01]],
     
             [[-3.09375305e+01,  1.76615486e+01, -3.54598083e+01],
              [ 5.87747175e-39,  1.24383154e+01, -1.02635050e+00]],
     
             [[ 3.21421242e+01,  2.12048874e+01,  1.41879387e+01],
              [-3.14874840e+01, -1.56421411e+00,  2.39289856e+01]],
     
             [[ 3.88677406e+01,  1.73485546e+01,  2.79298325e+01],
              [ 5.26543503e+01,  3.06050167e+01, -6.21175575e+00]],
     
             [[ 5.30281925e+00,  8.92570591e+00,             np.nan],
              [-2.44187717e+01,  3.47304153e+01, -4.20389539e-45]]]],
           dtype=np.float32), np.array([[[11,  8,  6],
             [ 3,  4,  0]]]), np.array([0.14793015, 2.4584837 , 2.7469912 , 1.8592438 , 2.21554   ,
            1.6765125 , 2.8117101 , 2.4659753 , 0.10794165, 2.5864725 ,
            0.19739817, 2.2160008 , 0.6094013 ], dtype=np.float32), -100, 0.1, 'none'),
    seed=0,  # or any other generated value
).via('discovered failure')
def test_cross_entropy_with_class_indices_agrees(case, seed):
    x, target, weight, ignore, smoothing, reduction = case
    assert_agree(_ce(target, weight, ignore, smoothing, reduction), [x],
                 lambda a, v, g, u: cross_entropy_bound(a[0], target, weight, ignore, smoothing, reduction, v, g, u),
                 seed=seed, what=f"cross_entropy {reduction}")


@given(case=class_cases(probabilities=True), seed=seeds)
def test_cross_entropy_with_probability_targets_agrees(case, seed):
    x, target, weight, ignore, smoothing, reduction = case
    fn = lambda x, t: F.cross_entropy(x, t, None if weight is None else tn.tensor(weight),  # noqa: E731
                                      reduction=reduction, label_smoothing=smoothing)
    assert_agree(fn, [x, target], lambda a, v, g, u: cross_entropy_bound(a[0], target, weight, ignore, smoothing,
                                                                          reduction, v, g, u),
                 seed=seed, what=f"cross_entropy (probabilities) {reduction}", grad=(True, False))


@given(case=class_cases(), seed=seeds)
def test_nll_loss_agrees(case, seed):
    x, target, weight, ignore, _, reduction = case
    fn = lambda x: F.nll_loss(x, tn.tensor(target), None if weight is None else tn.tensor(weight),  # noqa: E731
                              ignore_index=ignore, reduction=reduction)
    assert_agree(fn, [x], lambda a, v, g, u: cross_entropy_bound(a[0], target, weight, ignore, 0.0, reduction, v, g, u,
                                                                 nll=True),
                 seed=seed, what=f"nll_loss {reduction}")


# ---------------------------------------------------------------- elementwise losses
@st.composite
def pair(draw, kind="any"):
    dtype = draw(dtypes)
    shape = draw(st.lists(st.sampled_from([0, 1, 1, 2, 3, 5, 8]), max_size=3).map(tuple))
    x = draw(fz.st_array(shape, dtype, p_special=(0.0, 0.0, 0.05)))
    rng = np.random.default_rng(draw(seeds))
    if kind == "probability":
        x = fz.as_layout(np.clip(np.abs(np.nan_to_num(x)) % 1.0, 1e-3, 1 - 1e-3).astype(dtype), "C")
        y = rng.uniform(0, 1, shape).astype(dtype)
    else:
        y = (rng.standard_normal(shape) * 2).astype(dtype)
    weight = rng.uniform(0.1, 3.0, shape[-1:]).astype(dtype) if draw(st.booleans()) else None
    return x, y, weight, draw(st.sampled_from(REDUCTIONS))


def elementwise_bound(m_value, m_grad, reduction, values, ups, size):
    """m_value: per element of the unreduced loss; m_grad: per input element for an upstream of 1."""
    value = reduce_bound(m_value, values[0], reduction, size)
    return [K * value, K * upstream_of(ups[0], reduction, max(size, 1), np.shape(m_grad)) * m_grad]


@pytest.mark.parametrize("name", ["l1", "smooth_l1 beta=1", "smooth_l1 beta=0.5", "smooth_l1 beta=0", "huber delta=1",
                                  "huber delta=2.5"])
@given(case=pair(), seed=seeds)
def test_regression_losses_agree(name, case, seed):
    x, y, _, reduction = case
    param = float(name.split("=")[1]) if "=" in name else 0.0
    fn = {"l1": lambda a: F.l1_loss(a, tn.tensor(y), reduction=reduction),
          "smooth_l1": lambda a: F.smooth_l1_loss(a, tn.tensor(y), reduction=reduction, beta=param),
          "huber": lambda a: F.huber_loss(a, tn.tensor(y), reduction=reduction, delta=param)}[name.split()[0]]
    scale = param if name.startswith("huber") else 1.0
    inner = 1 / param if param else 0.0   # d / beta inside |d| < beta (times delta for huber)

    def bound(a, v, g, u):
        d = np.abs(fz.finite_part(a[0])) + np.abs(y.astype(np.float64))   # x - y rounds relative to |x| + |y|
        return elementwise_bound(2 * d * scale * (1 + np.minimum(d * inner, 1)), 2 * d * inner * scale,
                                 reduction, v, u, x.size)
    assert_agree(fn, [x], bound, seed=seed, what=f"{name} {reduction}")


@given(case=pair("probability"), seed=seeds)
def test_binary_cross_entropy_with_weight_agrees(case, seed):
    x, y, weight, reduction = case
    fn = lambda a: F.binary_cross_entropy(a, tn.tensor(y), None if weight is None else tn.tensor(weight),  # noqa: E731
                                          reduction=reduction)

    def bound(a, v, g, u):
        p, t = a[0], y.astype(np.float64)
        w = 1.0 if weight is None else np.abs(weight.astype(np.float64))
        # log(1 - p): 1 - p rounds relative to 1, so log carries eps / (1 - p); the gradient
        # w (p - t) / (p (1 - p)) the same relative error of 1 - p, doubled
        value = w * (np.abs(t * np.log(p)) + np.abs((1 - t) * np.log1p(-p)) + 1 / (1 - p) + 1)
        grad = w * (np.abs(p) + np.abs(t)) / (p * (1 - p)) * (2 + 2 / (1 - p))
        return elementwise_bound(value, grad, reduction, v, u, x.size)
    assert_agree(fn, [x], bound, seed=seed, what=f"binary_cross_entropy {reduction}")


@given(case=pair(), pos=st.booleans(), seed=seeds)
def test_binary_cross_entropy_with_logits_weight_and_pos_weight_agree(case, pos, seed):
    x, y, weight, reduction = case
    y = np.abs(y) % 1.0
    pos_weight = np.linspace(0.5, 3, x.shape[-1]).astype(x.dtype) if pos and x.ndim else None
    fn = lambda a: F.binary_cross_entropy_with_logits(  # noqa: E731
        a, tn.tensor(y), None if weight is None else tn.tensor(weight), reduction=reduction,
        pos_weight=None if pos_weight is None else tn.tensor(pos_weight))

    def bound(a, v, g, u):
        z, t = fz.finite_part(a[0]), y.astype(np.float64)
        w = 1.0 if weight is None else np.abs(weight.astype(np.float64))
        p = 1.0 if pos_weight is None else pos_weight.astype(np.float64)
        coef = np.abs(1 - t) + np.abs(p * t) + np.abs(p - 1) * t
        # (1 - y) x + (1 + (p - 1) y) softplus(-x): terms of size |x| and softplus(|x|) <= |x| + 1
        value = w * coef * (2 * np.abs(z) + 2)
        grad = w * coef * (2 + np.abs(z))
        return elementwise_bound(value, grad, reduction, v, u, x.size)
    assert_agree(fn, [x], bound, seed=seed, what=f"binary_cross_entropy_with_logits {reduction}")


# ---------------------------------------------------------------- identities (no reference)
backends = st.sampled_from(tn.backend.available())


@given(n=st.integers(1, 6), c=st.integers(1, 6), seed=seeds, weighted=st.booleans(), smoothing=st.sampled_from([0.0, 0.2]),
       reduction=st.sampled_from(REDUCTIONS), backend=backends)
def test_one_hot_probability_targets_equal_class_indices(n, c, seed, weighted, smoothing, reduction, backend):
    """PyTorch's two target forms agree where they mean the same thing (weights and smoothing
    included; "mean" differs only by its denominator, sum w_t against N)."""
    rng = np.random.default_rng(seed)
    x, t = rng.standard_normal((n, c)), rng.integers(0, c, n)
    w = tn.tensor(rng.uniform(0.5, 2, c)) if weighted else None
    with tn.use_backend(backend):
        by_index = F.cross_entropy(tn.tensor(x), tn.tensor(t), w, reduction=reduction, label_smoothing=smoothing).numpy()
        by_prob = F.cross_entropy(tn.tensor(x), tn.tensor(np.eye(c)[t]), w, reduction=reduction,
                                  label_smoothing=smoothing).numpy()
    if reduction == "mean" and weighted:
        by_prob = by_prob * n / w.numpy()[t].sum()
    np.testing.assert_allclose(by_index, by_prob, rtol=1e-13, atol=1e-15)


@given(n=st.integers(1, 8), c=st.integers(2, 5), seed=seeds, reduction=st.sampled_from(REDUCTIONS), backend=backends,
       fn=st.sampled_from(["cross_entropy", "nll_loss"]))
def test_ignored_rows_contribute_nothing_and_the_mean_divides_by_the_kept_weight(n, c, seed, reduction, backend, fn):
    rng = np.random.default_rng(seed)
    x, t, w = rng.standard_normal((n, c)), rng.integers(0, c, n), rng.uniform(0.5, 2, c)
    ignored = rng.random(n) < 0.4
    t_ignored = np.where(ignored, -7, t)
    loss = getattr(F, fn)
    with tn.use_backend(backend):
        xt = tn.tensor(x, requires_grad=True)
        out = loss(xt, tn.tensor(t_ignored), tn.tensor(w), ignore_index=-7, reduction=reduction)
        out.backward(tn.ones_like(out))
        per_row = loss(tn.tensor(x), tn.tensor(t), tn.tensor(w), reduction="none").numpy()
    kept = per_row * ~ignored
    with np.errstate(invalid="ignore"):
        expected = {"none": kept, "sum": kept.sum(), "mean": kept.sum() / (w[t] * ~ignored).sum()}[reduction]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-13)   # (all ignored: 0 / 0 = NaN, PyTorch's too)
    np.testing.assert_array_equal(xt.grad.numpy()[ignored], 0.0)


@given(x=st.lists(st.floats(-20, 20), min_size=1, max_size=30), delta=st.floats(0.01, 10), backend=backends,
       reduction=st.sampled_from(REDUCTIONS))
def test_huber_is_delta_times_smooth_l1_with_beta_delta(x, delta, backend, reduction):
    a = np.array(x)
    target = np.linspace(-3, 3, a.size)
    with tn.use_backend(backend):
        huber = F.huber_loss(tn.tensor(a), tn.tensor(target), reduction=reduction, delta=delta).numpy()
        smooth = F.smooth_l1_loss(tn.tensor(a), tn.tensor(target), reduction=reduction, beta=delta).numpy()
    np.testing.assert_allclose(huber, delta * smooth, rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
def test_every_target_ignored_gives_a_nan_mean_and_a_zero_gradient(fn):
    """Regression (found by the property above): the mean's 1 / sum(w) = inf times the ignored
    rows' weight 0 made every gradient NaN; PyTorch's backward skips ignored targets (zeros)."""
    for backend in tn.backend.available():
        with tn.use_backend(backend):
            x = tn.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
            out = fn(x, tn.tensor([-100, -100]), label_smoothing=0.1) if fn is F.cross_entropy else fn(x, tn.tensor([-100, -100]))
            out.backward()
        assert np.isnan(out.item())
        np.testing.assert_array_equal(x.grad.numpy(), 0.0)
