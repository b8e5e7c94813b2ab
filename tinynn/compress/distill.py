"""Knowledge distillation (Hinton et al., 2015): a small student learns from a teacher's softened outputs.

    loss = alpha T^2 KL(softmax(z_t / T) || softmax(z_s / T)) + (1 - alpha) CE(z_s, y)

The T^2 keeps the soft term's gradients on the scale of the hard term's as T grows.
"""
from ..autograd import no_grad
from ..nn import functional as F
from ..tensor import Tensor, as_tensor

__all__ = ["kd_loss", "distill"]


def _logits(x, op, name):
    x = x if isinstance(x, Tensor) else as_tensor(x)
    if x.ndim != 2:
        raise ValueError(f"{op}: {name} must be (N, C) logits, got shape {x.shape}")
    return x


def kd_loss(student_logits, teacher_logits, target, T=4.0, alpha=0.9):
    """alpha T^2 (1/N) sum_n KL(p_n || q_n) + (1 - alpha) (1/N) sum_n CE(z_s,n, y_n), with
    p_n = softmax(z_t,n / T) (the teacher's, a constant: no gradient flows into it),
    q_n = softmax(z_s,n / T) and KL(p || q) = sum_c p_c (ln p_c - ln q_c): a true per-sample KL
    averaged over the batch (not over the N C elements).

    d loss / d z_s,n = (alpha T / N) (q_n - p_n) + ((1 - alpha) / N) (softmax(z_s,n) - onehot(y_n))."""
    s = _logits(student_logits, "kd_loss", "student_logits")
    t = _logits(teacher_logits, "kd_loss", "teacher_logits")
    if s.shape != t.shape:
        raise ValueError(f"kd_loss: student logits {s.shape} and teacher logits {t.shape} differ in shape")
    if not T > 0:
        raise ValueError(f"kd_loss: temperature T must be > 0, got {T}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"kd_loss: alpha must be in [0, 1], got {alpha}")
    with no_grad():
        p = F.softmax(t.detach() / T, dim=1)
    soft = F.kl_div(F.log_softmax(s / T, dim=1), p, reduction="batchmean")
    loss = soft * (alpha * T * T)
    if alpha < 1.0:
        loss = loss + F.cross_entropy(s, target) * (1.0 - alpha)
    return loss


def distill(teacher, student, loader, optimizer, epochs, T=4.0, alpha=0.9, callback=None):
    """Train `student` on `kd_loss(student(x), teacher(x), y, T, alpha)` over `loader` (yielding
    (x, y) batches) for `epochs` epochs with `optimizer` (over the student's parameters). The
    teacher runs in eval mode without gradients and is not changed. Returns the list of per-epoch
    mean losses (weighted by batch size); `callback(epoch, loss)` is called after each epoch."""
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 0:
        raise ValueError(f"distill: epochs must be an int >= 0, got {epochs!r}")
    was_training = teacher.training
    teacher.eval()
    student.train()
    losses = []
    try:
        for epoch in range(epochs):
            total, count = 0.0, 0
            for batch in loader:
                x, y = batch[0], batch[1]
                with no_grad():
                    z_t = teacher(x)
                loss = kd_loss(student(x), z_t, y, T, alpha)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                n = len(x)
                total += loss.item() * n
                count += n
            if count == 0:
                raise ValueError("distill: the loader yielded no batches")
            losses.append(total / count)
            if callback is not None:
                callback(epoch, losses[-1])
    finally:
        teacher.train(was_training)
    return losses
