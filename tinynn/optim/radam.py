"""RAdam: Adam with a rectified adaptive learning rate (Liu et al. 2020, "On the Variance of the Adaptive
Learning Rate and Beyond"), with PyTorch's rule and state names."""
import math

import numpy as np

from .helpers import check_betas, check_lr, check_nonnegative, lerp_
from .optimizer import Optimizer, check_implementation


class RAdam(Optimizer):
    """For each parameter p with gradient g, at step t = 1, 2, ... (m_0 = v_0 = 0):

        g <- -g                                            (maximize=True)
        g <- g + wd p,  or p <- p (1 - lr wd)              (decoupled_weight_decay=True: RAdamW)
        m_t = b1 m_{t-1} + (1 - b1) g                      ("exp_avg"),   m^ = m_t / (1 - b1^t)
        v_t = b2 v_{t-1} + (1 - b2) g^2                    ("exp_avg_sq")
        rho_inf = 2 / (1 - b2) - 1,   rho_t = rho_inf - 2 t b2^t / (1 - b2^t)
        rho_t > 5:  r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t)),
                    l_t = sqrt(1 - b2^t) / (sqrt(v_t) + eps),     p <- p - lr m^ r_t l_t
        otherwise:  p <- p - lr m^                          (the variance estimate is not yet tractable)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        check_implementation(self, dict(foreach=foreach, capturable=capturable, differentiable=differentiable))
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      maximize=bool(maximize), foreach=foreach, capturable=capturable,
                                      decoupled_weight_decay=bool(decoupled_weight_decay),
                                      differentiable=differentiable))

    def _check_group(self, g):
        check_lr("RAdam", g["lr"])
        check_nonnegative("RAdam", "epsilon", g["eps"])
        check_betas("RAdam", g["betas"])
        check_nonnegative("RAdam", "weight_decay", g["weight_decay"])

    @staticmethod
    def _new_state(p, group):
        """A parameter's state at its first step, after "step": PyTorch's keys, in its order."""
        return {
            "exp_avg": np.zeros(p.shape, p.dtype),
            "exp_avg_sq": np.zeros(p.shape, p.dtype),
        }

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure() if given."""
        loss = self._closure(closure)
        for group, s, param, g in self._each_gradient(self._new_state):
            lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            t = s["step"]
            if wd and group["decoupled_weight_decay"]:
                param *= 1 - lr * wd
            elif wd:
                g = g + wd * param
            m, v = s["exp_avg"], s["exp_avg_sq"]
            lerp_(m, g, 1 - b1)
            v *= b2
            v += (1 - b2) * g * g
            correction2 = 1 - b2**t
            m_hat = m / (1 - b1**t)
            rho_inf = 2 / (1 - b2) - 1
            rho_t = rho_inf - 2 * t * b2**t / correction2
            if rho_t > 5.0:
                rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                param -= m_hat * lr * (math.sqrt(correction2) / (np.sqrt(v) + eps)) * rect
            else:
                param -= m_hat * lr
        return loss
