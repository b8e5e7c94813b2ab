"""tinynn.explain on the reference models (a CNN, a ResNet with BatchNorm, a Transformer encoder) and
on a batch: saliency against central differences of the model's own forward in float64, occlusion
against the forward with one pixel replaced, and the completeness gap of integrated gradients
shrinking with the number of steps."""
import numpy as np
import pytest

import tinynn as tn
from tinynn import explain
from tinynn.models import LeNet5, ResNet, TransformerClassifier


def lenet():
    return LeNet5(input_size=8)


def resnet():
    return ResNet([4, 8])


def transformer():
    return TransformerClassifier(d_model=16, nhead=2, num_layers=1, dim_feedforward=32, dropout=0.0)


MODELS = {"lenet": (lenet, (1, 8, 8)), "resnet": (resnet, (1, 8, 8)), "transformer": (transformer, (8, 8))}


def build(name, batch=3, seed=0):
    """The model in float64 eval mode (BatchNorm's running statistics from one batch) and a batch."""
    make, shape = MODELS[name]
    tn.manual_seed(seed)
    model = make().double()
    x = np.random.default_rng(seed).random((batch, *shape))
    if name == "resnet":
        with tn.no_grad():
            model(tn.tensor(x))
    return model.eval(), x


def scores(model, x, target):
    """F_n = model(x)[n, target_n], as a float64 array (no autograd)."""
    with tn.no_grad():
        out = model(tn.tensor(x)).numpy()
    return out[np.arange(len(x)), target]


def central_gradient(model, x, target, eps=1e-6):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape[1:]):
        plus, minus = x.copy(), x.copy()
        plus[(slice(None), *i)] += eps
        minus[(slice(None), *i)] -= eps
        grad[(slice(None), *i)] = (scores(model, plus, target) - scores(model, minus, target)) / (2 * eps)
    return grad


@pytest.mark.parametrize("name", sorted(MODELS))
def test_saliency_is_the_absolute_gradient_of_the_target_score(name):
    model, x = build(name)
    target = np.array([3, 0, 7])
    found = explain.saliency(model, tn.tensor(x), target=target.tolist()).numpy()
    np.testing.assert_allclose(found, np.abs(central_gradient(model, x, target)), rtol=1e-5, atol=1e-8)
    signed = explain.input_x_gradient(model, tn.tensor(x), target=target.tolist()).numpy()
    np.testing.assert_allclose(signed, x * central_gradient(model, x, target), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("name", ["lenet", "resnet"])
def test_occlusion_of_one_pixel_is_the_score_lost_without_it(name):
    model, x = build(name)
    target = np.array([1, 4, 9])
    found = explain.occlusion(model, tn.tensor(x), target=target.tolist(), sliding_window_shapes=(1, 1, 1)).numpy()
    for pixel in [(0, 0, 0), (0, 3, 5), (0, 7, 7)]:
        occluded = x.copy()
        occluded[(slice(None), *pixel)] = 0.0
        expected = scores(model, x, target) - scores(model, occluded, target)
        np.testing.assert_allclose(found[(slice(None), *pixel)], expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_integrated_gradients_completeness_gap_shrinks_with_the_steps(name):
    model, x = build(name)
    target = [2, 5, 8]
    gaps = []
    for n_steps in (8, 512):
        attr, delta = explain.integrated_gradients(model, tn.tensor(x), target=target, n_steps=n_steps,
                                                   method="riemann_trapezoid", return_convergence_delta=True)
        total = attr.numpy().reshape(len(x), -1).sum(axis=1)
        change = scores(model, x, target) - scores(model, np.zeros_like(x), target)
        np.testing.assert_allclose(delta.numpy(), total - change, rtol=1e-9, atol=1e-12)  # what delta is
        gaps.append(np.abs(delta.numpy()))
    # measured 30x-130x smaller on these models and seeds (ReLU kinks slow the trapezoid rule down)
    assert np.all(gaps[1] <= gaps[0] / 10 + 1e-12)
