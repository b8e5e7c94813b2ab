"""ASGD: averaged stochastic gradient descent (Polyak and Juditsky 1992, "Acceleration of Stochastic
Approximation by Averaging"), with PyTorch's rule, schedules and state names."""
import numpy as np

from .helpers import check_lr, check_nonnegative, scalar, scalar_dtype
from .optimizer import Optimizer, check_implementation


class ASGD(Optimizer):
    """For each parameter p with gradient g, at step t = 1, 2, ... (eta_0 = lr, mu_0 = 1, a_0 = 0):

        g <- -g                                     (maximize=True)
        g <- g + wd p                               (weight_decay, L2)
        p <- p (1 - lambd eta_{t-1}) - eta_{t-1} g
        a_t = a_{t-1} + mu_{t-1} (p - a_{t-1})      ("ax": the running average of the iterates; a_t = p if mu = 1)
        eta_t = lr / (1 + lambd lr t)^alpha         ("eta")
        mu_t = 1 / max(1, t - t0)                   ("mu": averaging starts after t0 steps)

    The averaged iterate is in optimizer.state[p]["ax"]; p itself follows plain (decayed) SGD. As in
    PyTorch, eta and mu are 0-d scalars kept in float32 (float64 when that is the default dtype).
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        check_implementation(self, dict(foreach=foreach, capturable=capturable, differentiable=differentiable))
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                                      foreach=foreach, maximize=bool(maximize), differentiable=differentiable,
                                      capturable=capturable))

    def _check_group(self, g):
        check_lr("ASGD", g["lr"])
        check_nonnegative("ASGD", "weight_decay", g["weight_decay"])

    @staticmethod
    def _new_state(p, group):
        """A parameter's state at its first step, after "step": PyTorch's keys, in its order."""
        return {
            "eta": np.array(group["lr"], scalar_dtype()),
            "mu": np.ones((), scalar_dtype()),
            "ax": np.zeros(p.shape, p.dtype),
        }

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure() if given."""
        loss = self._closure(closure)
        for group, s, param, g in self._each_gradient(self._new_state):
            lr, lambd, alpha, t0, wd = group["lr"], group["lambd"], group["alpha"], group["t0"], group["weight_decay"]
            t = s["step"]
            if wd:
                g = g + wd * param
            eta = float(scalar(s["eta"]))
            param *= 1 - lambd * eta
            param -= eta * g
            ax, mu = s["ax"], float(scalar(s["mu"]))
            if mu != 1:
                ax += (param - ax) * mu
            else:
                ax[...] = param
            s["eta"] = np.array(lr / (1 + lambd * lr * t) ** alpha, scalar_dtype())
            s["mu"] = np.array(1 / max(1, t - t0), scalar_dtype())
        return loss
