"""RMSprop (Hinton's lecture 6e; the centered form from Graves 2013), with PyTorch's rule and state names."""
import numpy as np

from .optimizer import Optimizer, check_implementation, _check_options


class RMSprop(Optimizer):
    """For each parameter p with gradient g, at step t = 1, 2, ...:

        g <- -g                                   (maximize=True)
        g <- g + wd p                             (weight_decay, L2)
        v_t = alpha v_{t-1} + (1 - alpha) g^2     ("square_avg", v_0 = 0)
        centered:  a_t = alpha a_{t-1} + (1 - alpha) g   ("grad_avg"),  v~ = v_t - a_t^2;  else v~ = v_t
        momentum mu > 0:  b_t = mu b_{t-1} + g / (sqrt(v~) + eps)  ("momentum_buffer"),  p <- p - lr b_t
        otherwise:        p <- p - lr g / (sqrt(v~) + eps)

    eps is added after the square root, as in PyTorch.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 maximize=False, **implementation):
        check_implementation(self, implementation)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=bool(centered), maximize=bool(maximize)))

    def _check_group(self, g):
        _check_options("RMSprop", g, "lr", "alpha", "eps", "weight_decay", "momentum")

    @staticmethod
    def _new_state(p, group):
        """A parameter's state at its first step, after "step": PyTorch's keys, in its order."""
        state = {"square_avg": np.zeros(p.shape, p.dtype)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = np.zeros(p.shape, p.dtype)
        if group["centered"]:
            state["grad_avg"] = np.zeros(p.shape, p.dtype)
        return state

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure() if given."""
        loss = self._closure(closure)
        for group, s, param, g in self._each_gradient(self._new_state):
            alpha, eps, wd, mu = group["alpha"], group["eps"], group["weight_decay"], group["momentum"]
            if wd:
                g = g + wd * param
            v = s["square_avg"]
            v *= alpha
            v += (1 - alpha) * g * g
            if group["centered"]:
                a = s["grad_avg"]
                a *= alpha
                a += (1 - alpha) * g
                denom = np.sqrt(v - a * a) + eps
            else:
                denom = np.sqrt(v) + eps
            if mu > 0:
                b = s["momentum_buffer"]
                b *= mu
                b += g / denom
                param -= group["lr"] * b
            else:
                param -= group["lr"] * g / denom
        return loss
