"""tinynn.explain against mathematics: closed forms for linear models, central differences of an
independent NumPy forward pass in float64, completeness of integrated gradients, and the
convergence of its quadrature (hypothesis properties over random small MLPs)."""
import numpy as np
import pytest
from hypothesis import example, given, strategies as st

import tinynn as tn
from tinynn import explain, nn

METHODS = ("gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid")


def mlp(sizes, seed, scale=1.0):
    """A float64 tanh MLP with N(0, scale^2 / fan_in) weights (smooth, so quadrature converges)."""
    rng = np.random.default_rng(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        lin = nn.Linear(a, b, dtype=np.float64)
        lin.weight.numpy()[...] = rng.standard_normal((b, a)) * scale / np.sqrt(a)
        lin.bias.numpy()[...] = rng.standard_normal(b) * 0.1
        layers += [lin] + ([nn.Tanh()] if i < len(sizes) - 2 else [])
    return nn.Sequential(*layers)


def numpy_forward(model, x):
    """The same network evaluated with NumPy alone (the reference the tests compare against)."""
    h = x.reshape(len(x), -1)
    for m in model._modules.values():
        if isinstance(m, nn.Linear):
            h = h @ np.asarray(m.weight.numpy()).T + np.asarray(m.bias.numpy())
        elif isinstance(m, nn.Tanh):
            h = np.tanh(h)
    return h


def central_gradient(model, x, target, eps=1e-6):
    """dF/dx by central differences of numpy_forward, F = output[n, target[n]]."""
    target = np.broadcast_to(target, (len(x),))
    rows = np.arange(len(x))
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape[1:]):
        step = np.zeros_like(x)
        step[(slice(None),) + i] = eps
        up, down = numpy_forward(model, x + step), numpy_forward(model, x - step)
        g[(slice(None),) + i] = (up[rows, target] - down[rows, target]) / (2 * eps)
    return g


def linear_model(w, b):
    lin = nn.Linear(w.shape[1], w.shape[0], dtype=np.float64)
    lin.weight.numpy()[...] = w
    lin.bias.numpy()[...] = b
    return lin


def target_value(model, x, target):
    return numpy_forward(model, x)[np.arange(len(x)), np.broadcast_to(target, (len(x),))]


# ------------------------------------------------------------ integrated gradients

@given(seed=st.integers(0, 2**16), width=st.integers(1, 6), depth=st.integers(1, 3), n=st.integers(1, 4),
       target=st.integers(0, 2))
def test_integrated_gradients_completeness(seed, width, depth, n, target):
    """sum of the attributions = F(x) - F(x0), F evaluated independently; the returned delta is that gap."""
    model = mlp([4] + [width] * depth + [3], seed)
    rng = np.random.default_rng(seed + 1)
    x, x0 = rng.uniform(-1, 1, (n, 4)), rng.uniform(-1, 1, (n, 4))
    attr, delta = explain.integrated_gradients(model, x, target, baselines=x0, n_steps=64,
                                               return_convergence_delta=True)
    gap = target_value(model, x, target) - target_value(model, x0, target)
    sums = attr.numpy().sum(axis=1)
    np.testing.assert_allclose(sums, gap, rtol=1e-9, atol=1e-10)
    assert isinstance(attr, tn.Tensor) and attr.shape == x.shape and delta.shape == (n,)
    np.testing.assert_allclose(delta.numpy(), sums - gap, atol=1e-12)


def path_derivative_bounds(model, x, target, points=801, h=1e-3):
    """sup over t in [0, 1] of |g'|, |g''| and |g'''| per row, g(t) = F(t x) (the path from the zero
    baseline), by central differences of numpy_forward on a grid (an estimate of the sup, hence the
    slack where it is used)."""
    t = np.linspace(0, 1, points)
    def g(s):   # (points, rows): every point of every row's path in one forward
        out = numpy_forward(model, (s[:, None, None] * x[None]).reshape(-1, x.shape[1]))
        return out[:, target].reshape(len(s), len(x))
    d1 = (g(t + h) - g(t - h)) / (2 * h)
    d2 = (g(t + h) - 2 * g(t) + g(t - h)) / h ** 2
    d3 = (g(t + 2 * h) - 2 * g(t + h) + 2 * g(t - h) - g(t - 2 * h)) / (2 * h ** 3)
    return np.abs(d1).max(axis=0), np.abs(d2).max(axis=0), np.abs(d3).max(axis=0)


@given(seed=st.integers(0, 2**16), width=st.integers(1, 6), method=st.sampled_from(METHODS))
@example(seed=221, width=4, method="riemann_trapezoid")   # n = 4 beat n = 32: the error is not monotone in n
def test_convergence_delta_is_within_the_quadrature_rules_error_bound(seed, width, method):
    """delta = sum_i w_i g'(alpha_i) - (g(1) - g(0)) is the quadrature error of the rule on g' (g: the
    target along the path): at most sup|g''| / (2n) for a left or right Riemann sum, sup|g'''| / (24 n^2)
    for the midpoint rule, and for Captum's trapezoid (n points, weights summing to 1 - 1/n) the
    trapezoid rule's sup|g'''| / (12 (n-1)^2) plus the missing 1/n of the integral, sup|g'| / n.
    Gauss-Legendre: within the midpoint rule's bound."""
    model = mlp([3, width, width, 2], seed, scale=2.0)
    rng = np.random.default_rng(seed + 1)
    x = rng.uniform(-2, 2, (3, 3))
    d1, d2, d3 = path_derivative_bounds(model, x, 1)
    for n in (4, 32, 256):
        delta = np.abs(explain.integrated_gradients(model, x, 1, n_steps=n, method=method,
                                                    return_convergence_delta=True)[1].numpy())
        bound = {"riemann_left": d2 / (2 * n), "riemann_right": d2 / (2 * n),
                 "riemann_middle": d3 / (24 * n ** 2), "gausslegendre": d3 / (24 * n ** 2),
                 "riemann_trapezoid": d3 / (12 * (n - 1) ** 2) + d1 / n}[method]
        assert np.all(delta <= 1.05 * bound + 1e-10), (n, delta, bound)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("baselines", [None, 0.5, "array", "row"])
def test_integrated_gradients_of_a_linear_model_is_x_minus_baseline_times_w(method, baselines):
    """F(x) = w.x + b has a constant gradient w, so the quadrature sum is exact: (x - x0) * w times
    the sum of the rule's weights, 1 for every rule but Captum's riemann_trapezoid (1 - 1/n)."""
    rng = np.random.default_rng(3)
    w, x = rng.standard_normal((3, 5)), rng.standard_normal((4, 5))
    x0 = {None: np.zeros((4, 5)), 0.5: np.full((4, 5), 0.5), "array": rng.standard_normal((4, 5)),
          "row": np.broadcast_to(rng.standard_normal((1, 5)), (4, 5))}[baselines]
    given_baselines = {None: None, 0.5: 0.5, "array": x0, "row": x0[:1]}[baselines]
    target = np.array([0, 2, 1, 2])
    n = 7
    attr, delta = explain.integrated_gradients(linear_model(w, rng.standard_normal(3)), x, target,
                                               baselines=given_baselines, n_steps=n, method=method,
                                               return_convergence_delta=True)
    share = 1 - 1 / n if method == "riemann_trapezoid" else 1.0
    np.testing.assert_allclose(attr.numpy(), share * (x - x0) * w[target], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(delta.numpy(), (share - 1) * ((x - x0) * w[target]).sum(axis=1), atol=1e-12)


def test_integrated_gradients_batches_agree():
    """internal_batch_size only changes how the scaled inputs are grouped, and each example's
    attributions do not depend on the rest of the batch."""
    model, x = mlp([4, 5, 3], 1), np.random.default_rng(2).uniform(-1, 1, (3, 4))
    whole = explain.integrated_gradients(model, x, [0, 1, 2], n_steps=20).numpy()
    chunked = explain.integrated_gradients(model, x, [0, 1, 2], n_steps=20, internal_batch_size=7).numpy()
    alone = np.concatenate([explain.integrated_gradients(model, x[i:i + 1], i, n_steps=20).numpy() for i in range(3)])
    np.testing.assert_allclose(chunked, whole, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(alone, whole, rtol=1e-12, atol=1e-15)


def test_gauss_legendre_is_exact_for_polynomials():
    """F(x) = x^3 (one feature, cubic): 2 Gauss-Legendre points integrate 3 a^2 x^3 exactly, x^3 in total."""
    class Cube(nn.Module):
        def forward(self, x):
            return x * x * x

    x = np.array([[1.5], [-0.7]])
    attr = explain.integrated_gradients(Cube(), x, 0, n_steps=2).numpy()
    np.testing.assert_allclose(attr, x ** 3, rtol=1e-13)


# ------------------------------------------------------------ gradients

def test_saliency_of_a_linear_model_is_abs_w():
    rng = np.random.default_rng(4)
    w, x = rng.standard_normal((3, 5)), rng.standard_normal((4, 5))
    model = linear_model(w, rng.standard_normal(3))
    np.testing.assert_allclose(explain.saliency(model, x, 2).numpy(), np.abs(np.broadcast_to(w[2], x.shape)), rtol=1e-14)
    np.testing.assert_allclose(explain.saliency(model, x, [0, 1, 2, 0], abs=False).numpy(), w[[0, 1, 2, 0]], rtol=1e-14)
    np.testing.assert_allclose(explain.input_x_gradient(model, x, 1).numpy(), x * w[1], rtol=1e-14)


@given(seed=st.integers(0, 2**16), n=st.integers(1, 3))
def test_saliency_and_input_x_gradient_equal_central_differences(seed, n):
    model = mlp([4, 6, 5, 3], seed)
    x = np.random.default_rng(seed).uniform(-1, 1, (n, 4))
    target = np.arange(n) % 3
    g = central_gradient(model, x, target)
    np.testing.assert_allclose(explain.saliency(model, x, target).numpy(), np.abs(g), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(explain.saliency(model, x, target, abs=False).numpy(), g, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(explain.input_x_gradient(model, x, target).numpy(), x * g, rtol=1e-6, atol=1e-9)


def autograd_gradient(model, x, target):
    """d model(x)[n, target[n]] / dx by tinynn's own autograd, another route than explain's: the
    picked outputs summed, then tn.autograd.grad (PyTorch's signature) where it exists, else backward."""
    xt = tn.tensor(x, requires_grad=True)
    picked = (model(xt) * tn.tensor(np.eye(3)[target])).sum()
    grad = getattr(tn.autograd, "grad", None)
    if grad is None:
        picked.backward()
        return np.asarray(xt.grad)
    return np.asarray(grad(picked, (xt,))[0])


@given(seed=st.integers(0, 2**16), n=st.integers(1, 4))
def test_saliency_is_the_absolute_autograd_gradient(seed, n):
    model = mlp([5, 7, 3], seed)
    x = np.random.default_rng(seed).uniform(-1, 1, (n, 5))
    target = np.arange(n) % 3
    np.testing.assert_allclose(explain.saliency(model, x, target).numpy(), np.abs(autograd_gradient(model, x, target)),
                               rtol=1e-12, atol=1e-15)


def test_gradients_leave_the_parameters_alone():
    model = mlp([4, 5, 3], 0)
    for p in model.parameters():
        p.grad = np.full(p.shape, 7.0)
    explain.saliency(model, np.ones((2, 4)), 1)
    explain.integrated_gradients(model, np.ones((2, 4)), 1, n_steps=4)
    assert all(p.requires_grad and np.all(np.asarray(p.grad) == 7.0) for p in model.parameters())


def test_shape_generic_inputs():
    """An (N, C, H, W) input through a flattening model: attributions keep x's shape and follow the
    closed forms of the linear model on the flattened input."""
    rng = np.random.default_rng(5)
    w, x = rng.standard_normal((3, 24)), rng.standard_normal((2, 2, 3, 4))
    model = nn.Sequential(nn.Flatten(), linear_model(w, np.zeros(3)))
    wt = w[1].reshape(2, 3, 4)
    np.testing.assert_allclose(explain.saliency(model, x, 1).numpy(), np.abs(np.broadcast_to(wt, x.shape)), rtol=1e-14)
    np.testing.assert_allclose(explain.integrated_gradients(model, x, 1, n_steps=3).numpy(), x * wt, rtol=1e-12)
    np.testing.assert_allclose(explain.occlusion(model, x, 1, (1, 1, 1)).numpy(), x * wt, rtol=1e-12)
    assert explain.smoothgrad(model, x, 1).shape == x.shape


def test_attributions_keep_x_dtype():
    model = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3))  # float32
    x = np.random.default_rng(12).uniform(size=(2, 4)).astype(np.float32)
    for attr in (explain.saliency(model, x, 0), explain.input_x_gradient(model, x, 0),
                 explain.integrated_gradients(model, x, 0, n_steps=4), explain.smoothgrad(model, x, 0),
                 explain.occlusion(model, x, 0, (2,))):
        assert attr.dtype == np.float32 and attr.shape == (2, 4)


def test_tensor_arguments_and_one_output_per_example():
    """x, target and baselines may be tinynn Tensors; a model with one output per example (N,) takes
    target=None, as in Captum. F(x) = w.x: integrated gradients (x - x0) * w."""
    rng = np.random.default_rng(10)
    w, x, x0 = rng.standard_normal(4), rng.standard_normal((3, 4)), rng.standard_normal((1, 4))

    class Dot(nn.Module):
        def forward(self, v):
            return (v * tn.tensor(w)).sum(axis=1)

    attr = explain.integrated_gradients(Dot(), tn.tensor(x), None, baselines=tn.tensor(x0), n_steps=2)
    np.testing.assert_allclose(attr.numpy(), (x - x0) * w, rtol=1e-12)
    lin = linear_model(rng.standard_normal((3, 4)), np.zeros(3))
    np.testing.assert_array_equal(explain.saliency(lin, tn.tensor(x), tn.tensor([2, 0, 1])).numpy(),
                                  explain.saliency(lin, x, [2, 0, 1]).numpy())
    with pytest.raises(ValueError, match=r"one value per example; give target=None"):
        explain.saliency(Dot(), x, 0)


# ------------------------------------------------------------ smoothgrad

def test_smoothgrad_without_noise_is_saliency():
    model, x = mlp([4, 6, 3], 2), np.random.default_rng(6).uniform(-1, 1, (3, 4))
    np.testing.assert_allclose(explain.smoothgrad(model, x, [2, 0, 1], stdevs=0.0).numpy(),
                               explain.saliency(model, x, [2, 0, 1]).numpy(), rtol=1e-14)


@pytest.mark.parametrize("nt_samples, stdevs", [(5, 1.0), (3, 0.2), (1, 2.0)])
def test_smoothgrad_is_the_mean_saliency_at_the_drawn_points(nt_samples, stdevs):
    """The documented draw: one standard normal array of shape (nt_samples, *x.shape) from tinynn's
    generator, times stdevs."""
    model, x = mlp([4, 6, 3], 3), np.random.default_rng(7).uniform(-1, 1, (2, 4))
    tn.manual_seed(11)
    noise = tn.random.generator().standard_normal((nt_samples,) + x.shape) * stdevs
    expected = np.mean([explain.saliency(model, x + e, 1).numpy() for e in noise], axis=0)
    tn.manual_seed(11)
    np.testing.assert_allclose(explain.smoothgrad(model, x, 1, nt_samples, stdevs).numpy(), expected, rtol=1e-13)
    assert not np.allclose(explain.smoothgrad(model, x, 1, nt_samples, stdevs).numpy(), expected)  # fresh draws


# ------------------------------------------------------------ occlusion

def test_occlusion_of_an_ignored_feature_is_zero():
    model = mlp([5, 6, 3], 8)
    model._modules["0"].weight.numpy()[:, 2] = 0  # feature 2 never reaches the output
    x = np.random.default_rng(8).uniform(-1, 1, (4, 5))
    attr = explain.occlusion(model, x, [0, 1, 2, 0], (1,), baselines=0.3).numpy()
    np.testing.assert_array_equal(attr[:, 2], 0)
    assert np.all(attr[:, [0, 1, 3, 4]] != 0)


@pytest.mark.parametrize("window, stride", [((1,), None), ((2,), 1), ((3,), 2), ((3,), 3), ((7,), 1)])
def test_occlusion_of_a_linear_model(window, stride):
    """F = w.x + b: hiding window W drops F by sum_{j in W} w_j (x_j - x0_j); feature i gets the mean
    drop over Captum's windows (starts 0, s, 2s, ..., the last cut at the edge) that cover it."""
    rng = np.random.default_rng(9)
    w, x, x0 = rng.standard_normal((2, 7)), rng.standard_normal((3, 7)), rng.standard_normal((1, 7))
    attr = explain.occlusion(linear_model(w, rng.standard_normal(2)), x, 1, window, stride, baselines=x0).numpy()
    k, s = window[0], stride or 1
    starts = [i * s for i in range(int(np.ceil((7 - k) / s)) + 1)]
    drops = {c: ((x - x0) * w[1])[:, c:c + k].sum(axis=1) for c in starts}
    expected = np.stack([np.mean([drops[c] for c in starts if c <= i < c + k], axis=0) for i in range(7)], axis=1)
    np.testing.assert_allclose(attr, expected, rtol=1e-12)


def test_occlusion_of_token_ids_replaces_tokens():
    """Integer inputs stay integer (an embedding model's token ids): F = sum_j E[x_j, target], so
    hiding token j under the baseline token 0 drops F by E[x_j, t] - E[0, t]."""
    table = np.random.default_rng(11).standard_normal((6, 3))

    class BagOfTokens(nn.Module):
        def forward(self, ids):
            assert ids.dtype.kind == "i"
            return tn.tensor(table[ids.numpy()].sum(axis=1))

    ids = np.array([[1, 5, 2, 0], [3, 3, 4, 1]])
    attr = explain.occlusion(BagOfTokens(), ids, [2, 1], (1,)).numpy()
    np.testing.assert_allclose(attr, table[ids, np.array([[2], [1]])] - table[0, np.array([[2], [1]])], rtol=1e-12)


# ------------------------------------------------------------ bad input

@pytest.mark.parametrize("fn", [explain.saliency, explain.input_x_gradient, explain.integrated_gradients,
                                explain.smoothgrad, lambda m, x, t: explain.occlusion(m, x, t, (1,))])
def test_target_out_of_range_names_the_function_and_shape(fn):
    model = mlp([4, 3], 0)
    with pytest.raises(IndexError, match=r"target 3 is out of range for the model's output of shape \(N, 3\)"):
        fn(model, np.ones((2, 4)), 3)
    with pytest.raises(IndexError, match="target -1"):
        fn(model, np.ones((2, 4)), [0, -1])
    with pytest.raises(ValueError, match="3 targets for a batch of 2"):
        fn(model, np.ones((2, 4)), [0, 1, 2])
    with pytest.raises(TypeError, match="target must be an int"):
        fn(model, np.ones((2, 4)), 1.5)


def test_bad_arguments_name_the_function_and_shapes():
    model, x = mlp([4, 3], 0), np.ones((2, 4))
    with pytest.raises(ValueError, match=r"integrated_gradients: baselines of shape \(3, 4\) do not fit x of shape \(2, 4\)"):
        explain.integrated_gradients(model, x, 0, baselines=np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"occlusion: baselines of shape \(5,\)"):
        explain.occlusion(model, x, 0, (1,), baselines=np.zeros(5))
    with pytest.raises(ValueError, match="integrated_gradients: unknown method 'simpson'; choose one of gausslegendre"):
        explain.integrated_gradients(model, x, 0, method="simpson")
    with pytest.raises(ValueError, match="n_steps must be an int >= 2"):
        explain.integrated_gradients(model, x, 0, n_steps=1, method="riemann_left")
    with pytest.raises(ValueError, match=r"occlusion: sliding_window_shapes must be 1 positive ints.*shape \(4,\)"):
        explain.occlusion(model, x, 0, (2, 2))
    with pytest.raises(ValueError, match=r"sliding window \(5,\) is larger than an example of shape \(4,\)"):
        explain.occlusion(model, x, 0, (5,))
    with pytest.raises(ValueError, match="would skip features"):
        explain.occlusion(model, x, 0, (1,), strides=2)
    with pytest.raises(ValueError, match="smoothgrad: stdevs must be a number >= 0"):
        explain.smoothgrad(model, x, 0, stdevs=-1.0)
    with pytest.raises(ValueError, match=r"saliency: x must be a batch of shape \(N, \.\.\.\)"):
        explain.saliency(model, np.float64(1.0), 0)
    with pytest.raises(ValueError, match=r"saliency: the model's output has shape \(2, 3\); give target"):
        explain.saliency(model, x, None)
