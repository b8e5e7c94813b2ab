"""Knowledge distillation: kd_loss value in closed form, gradient check, no teacher gradient, training loop."""
import copy

import numpy as np
import pytest

import tinynn as tn
from tinynn import data, distill, nn, optim


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def closed_form(s, t, y, T, alpha):
    p, q = softmax(t / T), softmax(s / T)
    kl = np.sum(p * (np.log(p) - np.log(q))) / len(s)
    ce = -np.mean(np.log(softmax(s)[np.arange(len(s)), y]))
    return alpha * T * T * kl + (1 - alpha) * ce


@pytest.mark.parametrize("T, alpha", [(4.0, 0.9), (1.0, 0.5), (2.5, 1.0), (3.0, 0.0)])
def test_kd_loss_closed_form_and_gradient(T, alpha):
    rng = np.random.default_rng(0)
    s = rng.standard_normal((5, 4)) * 3
    t = rng.standard_normal((5, 4)) * 3
    y = rng.integers(0, 4, 5)
    loss = distill.kd_loss(tn.tensor(s), tn.tensor(t), tn.tensor(y), T=T, alpha=alpha)
    assert loss.item() == pytest.approx(closed_form(s, t, y, T, alpha), rel=1e-10)
    st = tn.tensor(s, requires_grad=True)
    tt = tn.tensor(t, requires_grad=True)
    assert tn.gradcheck(lambda a: distill.kd_loss(a, tt, tn.tensor(y), T=T, alpha=alpha), st)
    # the analytic gradient of the docstring
    distill.kd_loss(st, tt, tn.tensor(y), T=T, alpha=alpha).backward()
    onehot = np.eye(4)[y]
    expected = alpha * T / 5 * (softmax(s / T) - softmax(t / T)) + (1 - alpha) / 5 * (softmax(s) - onehot)
    np.testing.assert_allclose(st.grad, expected, rtol=1e-9, atol=1e-12)
    assert tt.grad is None  # the teacher gets no gradient


def test_kd_loss_is_batch_mean_kl_not_element_mean():
    s = np.zeros((2, 10))
    t = np.zeros((2, 10))
    t[:, 0] = 5.0
    loss = distill.kd_loss(tn.tensor(s), tn.tensor(t), tn.tensor([0, 1]), T=1.0, alpha=1.0).item()
    p = softmax(t)
    assert loss == pytest.approx(np.sum(p[0] * np.log(p[0] * 10)), rel=1e-9)
    assert distill.kd_loss(tn.tensor(t), tn.tensor(t), tn.tensor([0, 0]), alpha=1.0).item() == pytest.approx(0, abs=1e-12)


def test_kd_loss_errors():
    a = tn.zeros(3, 4)
    with pytest.raises(ValueError, match="shape"):
        distill.kd_loss(a, tn.zeros(3, 5), tn.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="T must be > 0"):
        distill.kd_loss(a, a, tn.tensor([0, 1, 2]), T=0)
    with pytest.raises(ValueError, match="alpha"):
        distill.kd_loss(a, a, tn.tensor([0, 1, 2]), alpha=1.5)


def test_distill_trains_the_student_only():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((96, 8)).astype(np.float32)
    y = (x[:, :3].sum(axis=1) > 0).astype(np.int64)
    tn.manual_seed(0)
    teacher = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 2))
    opt = optim.SGD(teacher.parameters(), lr=0.1, momentum=0.9)
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=16, shuffle=True)
    for _ in range(10):
        for xb, yb in loader:
            opt.zero_grad()
            nn.CrossEntropyLoss()(teacher(xb), yb).backward()
            opt.step()
    teacher.zero_grad()
    frozen = copy.deepcopy(teacher.state_dict())
    student = nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 2))
    seen = []
    losses = distill.distill(teacher, student, loader, optim.SGD(student.parameters(), lr=0.1, momentum=0.9),
                             epochs=6, T=2.0, alpha=0.7, callback=lambda e, l: seen.append((e, l)))
    assert len(losses) == 6 and losses[-1] < losses[0]
    assert seen == list(enumerate(losses))
    for k, v in teacher.state_dict().items():
        np.testing.assert_array_equal(v, frozen[k])
    assert all(p.grad is None for p in teacher.parameters())
    assert teacher.training and student.training


def test_distill_mean_loss_weights_batches_by_size_with_the_teacher_in_eval_mode():
    # lr = 0 keeps the student fixed, so each batch's loss can be computed on its own; the teacher's
    # Dropout is active in training mode, so a teacher not put in eval mode would give other losses.
    rng = np.random.default_rng(3)
    batches = [(tn.tensor(rng.standard_normal((n, 4)).astype(np.float32)), tn.tensor(rng.integers(0, 3, n)))
               for n in (5, 2)]
    teacher = nn.Sequential(nn.Linear(4, 3), nn.Dropout(0.5))
    student = nn.Linear(4, 3)
    losses = distill.distill(teacher, student, batches, optim.SGD(student.parameters(), lr=0.0), epochs=2, T=2.0)
    teacher.eval()
    with tn.no_grad():
        per_batch = [distill.kd_loss(student(x), teacher(x), y, T=2.0).item() for x, y in batches]
    expected = (5 * per_batch[0] + 2 * per_batch[1]) / 7
    np.testing.assert_allclose(losses, [expected, expected], rtol=1e-6)
    assert per_batch[0] != per_batch[1]  # so the weighting matters


def test_distill_zero_epochs_is_a_no_op():
    student = nn.Linear(3, 2)
    before = copy.deepcopy(student.state_dict())
    teacher = nn.Linear(3, 2)
    assert distill.distill(teacher, student, [], optim.SGD(student.parameters(), lr=0.1), epochs=0) == []
    for k, v in student.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
