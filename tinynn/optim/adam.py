"""Adam and AdamW (PyTorch's rules: bias correction, eps added after the square root, amsgrad, maximize)."""
import numpy as np

from .. import backend
from ..utils.grads import grad_array
from .optimizer import Optimizer, check_implementation


class Adam(Optimizer):
    """For each parameter p with gradient g, at step t = 1, 2, ...:

        g <- -g                          (maximize=True)
        g <- g + wd p                    (Adam's L2 weight decay; AdamW decays p instead)
        m_t = b1 m_{t-1} + (1 - b1) g,   v_t = b2 v_{t-1} + (1 - b2) g^2
        v_t <- max(v_max, v_t) = v_max   (amsgrad=True: the largest v so far, kept as "max_exp_avg_sq")
        p <- p - lr (m_t / (1 - b1^t)) / (sqrt(v_t / (1 - b2^t)) + eps)

    decoupled_weight_decay=True makes it AdamW (Loshchilov and Hutter 2019): p <- p (1 - lr wd) first,
    instead of adding wd p to g.

    amsgrad (Reddi et al. 2018, "On the Convergence of Adam and Beyond") takes the maximum of the
    raw second moments, before bias correction, as PyTorch's implementation does.
    """

    decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 maximize=False, decoupled_weight_decay=False, **implementation):
        check_implementation(self, implementation)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=bool(amsgrad), maximize=bool(maximize),
                                      decoupled_weight_decay=bool(decoupled_weight_decay)))

    def _check_group(self, g):
        name = type(self).__name__
        if not g["lr"] >= 0.0:
            raise ValueError(f"{name}: invalid learning rate {g['lr']}")
        if not g["eps"] >= 0.0:
            raise ValueError(f"{name}: invalid eps {g['eps']}")
        b1, b2 = g["betas"]
        if not 0.0 <= b1 < 1.0 or not 0.0 <= b2 < 1.0:
            raise ValueError(f"{name}: invalid betas {g['betas']}; each must be in [0, 1)")
        if not g["weight_decay"] >= 0.0:
            raise ValueError(f"{name}: invalid weight_decay {g['weight_decay']}")

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure() if given.
        Parameters at the same step t go to the backend together (adam_step_multi); amsgrad,
        which the kernels do not have, is the NumPy update of _amsgrad_step."""
        loss = self._closure(closure)
        step_multi = backend.active.adam_step_multi
        state = self.state
        for group in self.param_groups:
            decoupled = group.get("decoupled_weight_decay", self.decoupled)
            lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            amsgrad, maximize = group.get("amsgrad", False), group.get("maximize", False)
            by_step = {}
            for p in group["params"]:
                grad = p.grad
                if maximize or type(grad) is not np.ndarray:  # the plain case stays a single check per step
                    grad = grad_array(p, maximize)
                if grad is None:
                    continue
                s = state.get(p)
                if s is None:
                    s = state[p] = {"step": 0, "exp_avg": np.zeros(p.shape, p.dtype), "exp_avg_sq": np.zeros(p.shape, p.dtype)}
                s["step"] += 1
                if amsgrad:
                    if "max_exp_avg_sq" not in s:
                        s["max_exp_avg_sq"] = np.zeros(p.shape, p.dtype)
                    _amsgrad_step(self._writable(p), grad, s, lr, b1, b2, eps, wd, decoupled)
                    continue
                lists = by_step.setdefault(s["step"], ([], [], [], []))
                lists[0].append(self._writable(p))
                lists[1].append(grad)
                lists[2].append(s["exp_avg"])
                lists[3].append(s["exp_avg_sq"])
            for t, (params, grads, ms, vs) in by_step.items():
                step_multi(params, grads, ms, vs, t, lr, b1, b2, eps, wd, decoupled)
        return loss


def _amsgrad_step(p, g, s, lr, b1, b2, eps, wd, decoupled):
    """The update of Adam's docstring with amsgrad, in place on p and the state s."""
    t, m, v, v_max = s["step"], s["exp_avg"], s["exp_avg_sq"], s["max_exp_avg_sq"]
    if wd and decoupled:
        p *= 1 - lr * wd
    elif wd:
        g = g + wd * p
    m *= b1
    m += (1 - b1) * g
    v *= b2
    v += (1 - b2) * g * g
    np.maximum(v_max, v, out=v_max)
    denom = np.sqrt(v_max) / np.sqrt(1 - b2**t) + eps
    p -= (lr / (1 - b1**t)) * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay: p <- p (1 - lr wd) before the Adam update (default wd = 0.01)."""

    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                 maximize=False, **implementation):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, decoupled_weight_decay=True, **implementation)
