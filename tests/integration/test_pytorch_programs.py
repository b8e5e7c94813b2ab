"""PyTorch's beginner programs ("Learning PyTorch with Examples": fit sin(x) on [-pi, pi] with a cubic,
and a line fit) written as a PyTorch user writes them, with only `import torch` changed to tinynn,
each checked against the loss a NumPy computation predicts for it.

The prediction: with A = [1, x, x^2, x^3] and loss(theta) = ||A theta - y||^2, the least-squares
optimum theta* = lstsq(A, y), and T steps of gradient descent with rate lr from theta_0 land exactly
at theta_T = theta* + (I - 2 lr A^T A)^T (theta_0 - theta*), whose loss is
loss(theta*) + e^T A^T A e, e = theta_T - theta* (a closed form, computed in float64).
The programs run in float32 (torch.float); a float32 sum of 2000 terms is good to ~1e-6 relative and
gradient descent contracts errors, so they match to ~1e-6 in practice; rtol 1e-4 keeps a margin
while a wrong gradient or an update that does not reach the parameters (the classic
`p -= lr * p.grad` rebinding a name instead of writing in place) misses by orders of magnitude.
RMSprop and SGD with momentum have no closed form: a NumPy replica of the same iteration predicts them.
The custom autograd Function program is in the autograd tests.
"""
import math
import random

import numpy as np

import tinynn as torch
import tinynn.nn as nn

STEPS = 2000
LR = 1e-6
RTOL = 1e-4


def _features(x, degree=3):
    x = np.asarray(x, np.float64)
    return np.stack([x ** k for k in range(degree + 1)], axis=1)


def gd_prediction(x, y, theta0, steps=STEPS, lr=LR):
    """(the loss after `steps` steps of gradient descent from theta0, the least-squares minimum)."""
    a, y = _features(x), np.asarray(y, np.float64)
    theta_star = np.linalg.lstsq(a, y, rcond=None)[0]
    minimum = np.sum((a @ theta_star - y) ** 2)
    h = a.T @ a
    e = np.linalg.matrix_power(np.eye(4) - 2 * lr * h, steps) @ (np.asarray(theta0, np.float64) - theta_star)
    return minimum + e @ h @ e, minimum


def sine_data():
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=torch.float)
    return x, torch.sin(x)


def test_raw_tensors_with_manual_gradients():
    dtype = torch.float
    device = torch.device("cpu")
    x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
    y = torch.sin(x)
    a = torch.randn((), device=device, dtype=dtype)
    b = torch.randn((), device=device, dtype=dtype)
    c = torch.randn((), device=device, dtype=dtype)
    d = torch.randn((), device=device, dtype=dtype)
    theta0 = [a.item(), b.item(), c.item(), d.item()]
    learning_rate = 1e-6
    for t in range(STEPS):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum().item()
        grad_y_pred = 2.0 * (y_pred - y)
        grad_a = grad_y_pred.sum()
        grad_b = (grad_y_pred * x).sum()
        grad_c = (grad_y_pred * x ** 2).sum()
        grad_d = (grad_y_pred * x ** 3).sum()
        a -= learning_rate * grad_a
        b -= learning_rate * grad_b
        c -= learning_rate * grad_c
        d -= learning_rate * grad_d
    final = (a + b * x + c * x ** 2 + d * x ** 3 - y).pow(2).sum().item()
    predicted, minimum = gd_prediction(x.numpy(), y.numpy(), theta0)
    assert isinstance(loss, float) and y_pred.dtype == torch.float32
    np.testing.assert_allclose(final, predicted, rtol=RTOL)
    assert final < 1.05 * minimum   # and that is within 5% of the best cubic


def test_autograd_with_manual_sgd_under_no_grad():
    x, y = sine_data()
    a = torch.randn((), dtype=torch.float, requires_grad=True)
    b = torch.randn((), dtype=torch.float, requires_grad=True)
    c = torch.randn((), dtype=torch.float, requires_grad=True)
    d = torch.randn((), dtype=torch.float, requires_grad=True)
    theta0 = [p.item() for p in (a, b, c, d)]
    learning_rate = 1e-6
    for t in range(STEPS):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad.zero_()
            d.grad.zero_()
    predicted, _ = gd_prediction(x.numpy(), y.numpy(), theta0, steps=STEPS - 1)
    np.testing.assert_allclose(loss.item(), predicted, rtol=RTOL)  # the last loss was computed before the last step
    assert a.requires_grad and a.grad is None and a.is_leaf


def test_nn_sequential_with_manual_update():
    x, y = sine_data()
    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    loss_fn = torch.nn.MSELoss(reduction="sum")
    linear_layer = model[0]
    theta0 = [linear_layer.bias.item()] + [linear_layer.weight[:, i].item() for i in range(3)]
    learning_rate = 1e-6
    for t in range(STEPS):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= learning_rate * param.grad
    assert xx.shape == (2000, 3) and xx.dtype == torch.float32
    predicted, _ = gd_prediction(x.numpy(), y.numpy(), theta0, steps=STEPS - 1)
    np.testing.assert_allclose(loss.item(), predicted, rtol=RTOL)


def rmsprop_prediction(x, y, theta0, lr, steps, alpha=0.99, eps=1e-8):
    """The loss before the last of `steps` RMSprop steps (PyTorch's: v = alpha v + (1 - alpha) g^2,
    theta -= lr g / (sqrt(v) + eps)), replayed in float64 NumPy."""
    a, y = _features(x), np.asarray(y, np.float64)
    theta, v = np.asarray(theta0, np.float64), np.zeros(4)
    for _ in range(steps):
        r = a @ theta - y
        loss = r @ r
        g = 2 * a.T @ r
        v = alpha * v + (1 - alpha) * g * g
        theta = theta - lr * g / (np.sqrt(v) + eps)
    return loss


def test_optim_rmsprop():
    x, y = sine_data()
    xx = x.unsqueeze(-1).pow(torch.tensor([1, 2, 3]))
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    loss_fn = torch.nn.MSELoss(reduction="sum")
    theta0 = [model[0].bias.item()] + model[0].weight.detach().numpy().ravel().tolist()
    learning_rate = 1e-3
    optimizer = torch.optim.RMSprop(model.parameters(), lr=learning_rate)
    for t in range(STEPS):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    predicted = rmsprop_prediction(x.numpy(), y.numpy(), theta0, learning_rate, STEPS)
    # RMSprop's normalized steps keep moving by ~lr near the optimum whatever the gradient's size, so
    # float32 and float64 trajectories part by a fraction of lr in the parameters: about 1e-3 of the
    # loss (7e-4 observed), not 1e-6; a wrong update rule misses by far more
    np.testing.assert_allclose(loss.item(), predicted, rtol=5e-3)
    _, minimum = gd_prediction(x.numpy(), y.numpy(), theta0)
    assert loss.item() < 1.1 * minimum


class Polynomial3(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.randn(()))
        self.b = torch.nn.Parameter(torch.randn(()))
        self.c = torch.nn.Parameter(torch.randn(()))
        self.d = torch.nn.Parameter(torch.randn(()))

    def forward(self, x):
        return self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3

    def string(self):
        return f"y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + {self.d.item()} x^3"


def test_custom_module_with_optim_sgd():
    x, y = sine_data()
    model = Polynomial3()
    theta0 = [model.a.item(), model.b.item(), model.c.item(), model.d.item()]
    criterion = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-6)
    for t in range(STEPS):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    predicted, _ = gd_prediction(x.numpy(), y.numpy(), theta0, steps=STEPS - 1)
    np.testing.assert_allclose(loss.item(), predicted, rtol=RTOL)
    assert model.string().startswith("y = ") and len(list(model.parameters())) == 4


class DynamicNet(Polynomial3):
    def __init__(self):
        super().__init__()
        self.e = torch.nn.Parameter(torch.randn(()))

    def forward(self, x):
        y = super().forward(x)
        for exp in range(4, random.randint(4, 6)):   # 0, 1 or 2 reuses of the same parameter
            y = y + self.e * x ** exp
        return y


def momentum_prediction(x, y, theta0, draws, lr=1e-8, momentum=0.9):
    """The loss before the last SGD-with-momentum step of DynamicNet, replayed in float64 NumPy with
    the same random depths `draws`. At depth 4, e is not in the graph: its .grad stays None after
    zero_grad(), and SGD then leaves e and its momentum buffer alone (PyTorch's rule)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    theta, buf = np.asarray(theta0, np.float64), [None] * 5
    for top in draws:
        feats = [x ** k for k in range(4)] + [sum((x ** k for k in range(4, top)), np.zeros_like(x))]
        a = np.stack(feats, axis=1)
        r = a @ theta - y
        loss = r @ r
        g = 2 * a.T @ r
        for i in range(5 if top > 4 else 4):
            buf[i] = g[i] if buf[i] is None else momentum * buf[i] + g[i]
            theta[i] -= lr * buf[i]
    return loss


def test_dynamic_graph_with_reused_parameters():
    steps = 500
    x, y = sine_data()
    model = DynamicNet()
    theta0 = [p.item() for p in model.parameters()]
    criterion = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
    random.seed(15)
    for t in range(steps):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    random.seed(15)
    draws = [random.randint(4, 6) for _ in range(steps)]
    assert len(set(draws)) == 3   # every depth occurred
    np.testing.assert_allclose(loss.item(), momentum_prediction(x.numpy(), y.numpy(), theta0, draws), rtol=RTOL)


def test_linear_regression_with_size_and_inplace_updates():
    torch.manual_seed(3)
    X = torch.randn(100, 1)
    y = 3 * X + 2 + 0.1 * torch.randn(100, 1)
    w = torch.zeros(1, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    lr = 0.1
    for epoch in range(300):
        pred = X.mm(w) + b
        loss = ((pred - y) ** 2).sum() / X.size(0)
        loss.backward()
        with torch.no_grad():
            w.sub_(lr * w.grad)
            b -= lr * b.grad
            w.grad.zero_()
            b.grad.zero_()
    design = np.hstack([X.numpy().astype(np.float64), np.ones((100, 1))])
    coef, residual, *_ = np.linalg.lstsq(design, y.numpy().astype(np.float64).ravel(), rcond=None)
    # 300 steps contract the error by (1 - 2 lr lambda_min)^300 < 1e-20 here: the fit is the optimum
    np.testing.assert_allclose([w.item(), b.item()], coef, rtol=1e-5)
    np.testing.assert_allclose(loss.item(), residual[0] / X.size(0), rtol=RTOL)
    assert X.size(0) == 100 and X.size() == (100, 1)


def test_nn_linear_line_fit_with_optim():
    torch.manual_seed(4)
    x = torch.rand(64, 1) * 4 - 2
    y = -1.5 * x + 0.5 + 0.2 * torch.randn(64, 1)
    model = nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.MSELoss()
    for _ in range(200):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
    design = np.hstack([x.numpy().astype(np.float64), np.ones((64, 1))])
    coef, residual, *_ = np.linalg.lstsq(design, y.numpy().astype(np.float64).ravel(), rcond=None)
    np.testing.assert_allclose([model.weight.item(), model.bias.item()], coef, rtol=1e-4)
    np.testing.assert_allclose(loss.item(), residual[0] / 64, rtol=RTOL)
