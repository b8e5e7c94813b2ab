"""Rprop: resilient backpropagation (Riedmiller and Braun 1993, "A Direct Adaptive Method for Faster
Backpropagation Learning: The RPROP Algorithm"), with PyTorch's rule (the iRprop- variant) and state names."""
import numpy as np

from .helpers import check_lr
from .optimizer import Optimizer, check_implementation


class Rprop(Optimizer):
    """Only the sign of the gradient is used. For each coordinate of a parameter p with gradient g, at step
    t = 1, 2, ... (eta-, eta+ = etas; the step sizes start at lr and stay in [step_sizes[0], step_sizes[1]]):

        g <- -g                                              (maximize=True)
        g g_{t-1} > 0:  s_t = min(s_{t-1} eta+, s_max)       (same sign: accelerate)
        g g_{t-1} < 0:  s_t = max(s_{t-1} eta-, s_min),  g <- 0   (the sign flipped: slow down, skip this step)
        g g_{t-1} = 0:  s_t = s_{t-1}
        p <- p - s_t sign(g),   g_t = g                      ("step_size" s, "prev" g_{t-1}, g_0 = 0)
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        check_implementation(self, dict(foreach=foreach, capturable=capturable, differentiable=differentiable))
        super().__init__(params, dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), foreach=foreach,
                                      maximize=bool(maximize), differentiable=differentiable, capturable=capturable))

    def _check_group(self, g):
        check_lr("Rprop", g["lr"])
        eta_minus, eta_plus = g["etas"]
        if not 0.0 < eta_minus < 1.0 < eta_plus:
            raise ValueError(f"Rprop: Invalid eta values: {eta_minus}, {eta_plus}")

    @staticmethod
    def _new_state(p, group):
        """A parameter's state at its first step, after "step": PyTorch's keys, in its order."""
        return {
            "prev": np.zeros(p.shape, p.dtype),
            "step_size": np.full(p.shape, group["lr"], p.dtype),
        }

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure() if given."""
        loss = self._closure(closure)
        for group, s, param, g in self._each_gradient(self._new_state):
            eta_minus, eta_plus = group["etas"]
            smin, smax = group["step_sizes"]
            product = g * s["prev"]
            flipped = product < 0
            factor = np.where(product > 0, eta_plus, np.where(flipped, eta_minus, 1.0)).astype(param.dtype, copy=False)
            step_size = s["step_size"]
            step_size *= factor
            np.clip(step_size, smin, smax, out=step_size)
            g = np.where(flipped, 0, g).astype(param.dtype, copy=False)
            param -= np.sign(g) * step_size
            s["prev"][...] = g
        return loss
