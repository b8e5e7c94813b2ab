"""Adadelta (Zeiler 2012, "ADADELTA: An Adaptive Learning Rate Method"), with PyTorch's rule and state names."""
import numpy as np

from .helpers import check_lr, check_nonnegative
from .optimizer import Optimizer, check_implementation


class Adadelta(Optimizer):
    """For each parameter p with gradient g, at step t = 1, 2, ... (v_0 = u_0 = 0):

        g <- -g                                          (maximize=True)
        g <- g + wd p                                    (weight_decay, L2)
        v_t = rho v_{t-1} + (1 - rho) g^2                ("square_avg")
        dx_t = sqrt(u_{t-1} + eps) / sqrt(v_t + eps) g
        u_t = rho u_{t-1} + (1 - rho) dx_t^2             ("acc_delta")
        p <- p - lr dx_t

    The ratio of the two running RMS values gives each coordinate a step with the units of p; lr
    (1.0 by default, as in the paper) only scales it.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        check_implementation(self, dict(foreach=foreach, capturable=capturable, differentiable=differentiable))
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=bool(maximize),
                                      capturable=capturable, foreach=foreach, differentiable=differentiable))

    def _check_group(self, g):
        check_lr("Adadelta", g["lr"])
        if not 0.0 <= g["rho"] <= 1.0:
            raise ValueError(f"Adadelta: Invalid rho value: {g['rho']}")
        check_nonnegative("Adadelta", "epsilon", g["eps"])
        check_nonnegative("Adadelta", "weight_decay", g["weight_decay"])

    @staticmethod
    def _new_state(p, group):
        """A parameter's state at its first step, after "step": PyTorch's keys, in its order."""
        return {
            "square_avg": np.zeros(p.shape, p.dtype),
            "acc_delta": np.zeros(p.shape, p.dtype),
        }

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure() if given."""
        loss = self._closure(closure)
        for group, s, param, g in self._each_gradient(self._new_state):
            lr, rho, eps, wd = group["lr"], group["rho"], group["eps"], group["weight_decay"]
            if wd:
                g = g + wd * param
            v, u = s["square_avg"], s["acc_delta"]
            v *= rho
            v += (1 - rho) * g * g
            delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
            u *= rho
            u += (1 - rho) * delta * delta
            param -= lr * delta
        return loss
