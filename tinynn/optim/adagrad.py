"""Adagrad (Duchi, Hazan and Singer 2011, "Adaptive Subgradient Methods"), with PyTorch's rule and state names."""
import numpy as np

from .optimizer import Optimizer, check_implementation, _check_options


class Adagrad(Optimizer):
    """For each parameter p with gradient g, at step t = 1, 2, ...:

        g <- -g                                   (maximize=True)
        lr~ = lr / (1 + (t - 1) lr_decay)
        g <- g + wd p                             (weight_decay, L2)
        s_t = s_{t-1} + g^2                       ("sum", s_0 = initial_accumulator_value)
        p <- p - lr~ g / (sqrt(s_t) + eps)

    The state ("step", "sum") exists from construction, as in PyTorch.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 maximize=False, **implementation):
        check_implementation(self, implementation)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps,
                                      maximize=bool(maximize)))
        for group in self.param_groups:  # (PyTorch makes Adagrad's state at construction)
            for p in group["params"]:
                self.state[p] = {"step": 0, **self._new_state(p, group)}

    @staticmethod
    def _new_state(p, group):
        """A parameter's state after "step": the running sum of squared gradients."""
        return {"sum": np.full(p.shape, group["initial_accumulator_value"], p.dtype)}

    def _check_group(self, g):
        _check_options("Adagrad", g, "lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure() if given."""
        loss = self._closure(closure)
        for group, s, param, g in self._each_gradient(self._new_state):  # (new state: a group added later)
            if group["weight_decay"]:
                g = g + group["weight_decay"] * param
            clr = group["lr"] / (1 + (s["step"] - 1) * group["lr_decay"])
            s["sum"] += g * g
            param -= clr * g / (np.sqrt(s["sum"]) + group["eps"])
        return loss
