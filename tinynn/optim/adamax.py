"""Adamax: Adam with the infinity norm (Kingma and Ba 2015, "Adam: A Method for Stochastic Optimization",
section 7.1), with PyTorch's rule and state names."""
import numpy as np

from .helpers import check_betas, check_lr, check_nonnegative, lerp_
from .optimizer import Optimizer, check_implementation


class Adamax(Optimizer):
    """For each parameter p with gradient g, at step t = 1, 2, ... (m_0 = u_0 = 0):

        g <- -g                                      (maximize=True)
        g <- g + wd p                                (weight_decay, L2)
        m_t = b1 m_{t-1} + (1 - b1) g                ("exp_avg")
        u_t = max(b2 u_{t-1}, |g| + eps)             ("exp_inf": an exponentially weighted infinity norm)
        p <- p - lr m_t / ((1 - b1^t) u_t)

    u_t needs no bias correction; eps inside the max keeps it from being zero.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        check_implementation(self, dict(foreach=foreach, capturable=capturable, differentiable=differentiable))
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, foreach=foreach,
                                      maximize=bool(maximize), differentiable=differentiable, capturable=capturable))

    def _check_group(self, g):
        check_lr("Adamax", g["lr"])
        check_nonnegative("Adamax", "epsilon", g["eps"])
        check_betas("Adamax", g["betas"])
        check_nonnegative("Adamax", "weight_decay", g["weight_decay"])

    @staticmethod
    def _new_state(p, group):
        """A parameter's state at its first step, after "step": PyTorch's keys, in its order."""
        return {
            "exp_avg": np.zeros(p.shape, p.dtype),
            "exp_inf": np.zeros(p.shape, p.dtype),
        }

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure() if given."""
        loss = self._closure(closure)
        for group, s, param, g in self._each_gradient(self._new_state):
            lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            if wd:
                g = g + wd * param
            m, u = s["exp_avg"], s["exp_inf"]
            lerp_(m, g, 1 - b1)
            u *= b2
            np.maximum(u, np.abs(g) + eps, out=u)
            param -= (lr / (1 - b1 ** s["step"])) * m / u
        return loss
