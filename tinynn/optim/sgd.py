"""Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay (PyTorch's rule)."""
import numpy as np

from .. import backend
from ..utils.grads import grad_array
from .optimizer import Optimizer, check_implementation


class SGD(Optimizer):
    """For each parameter p with gradient g, at step t (PyTorch's formulation):

        g <- -g                                        (maximize=True: ascend f instead)
        g <- g + wd p                                  (weight_decay)
        b_1 = g;  b_t = mu b_{t-1} + (1 - dampening) g  (momentum mu > 0)
        g <- g + mu b_t  (nesterov)  or  g <- b_t
        p <- p - lr g
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                 maximize=False, **implementation):
        check_implementation(self, implementation)
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=bool(maximize)))

    def _check_group(self, g):
        if not g["lr"] >= 0.0:
            raise ValueError(f"SGD: invalid learning rate {g['lr']}")
        if not g["momentum"] >= 0.0:
            raise ValueError(f"SGD: invalid momentum {g['momentum']}")
        if not g["weight_decay"] >= 0.0:
            raise ValueError(f"SGD: invalid weight_decay {g['weight_decay']}")
        if g["nesterov"] and (g["momentum"] <= 0 or g["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum > 0 and zero dampening")

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure() if given.
        Each group goes to the backend as whole lists (sgd_step_multi): one call for the
        parameters whose momentum buffer is new (first step) and one for the rest."""
        loss = self._closure(closure)
        step_multi = backend.active.sgd_step_multi
        state = self.state
        for group in self.param_groups:
            momentum, maximize = group["momentum"], group.get("maximize", False)
            new, running = ([], [], []), ([], [], [])  # (params, grads, buffers): buffer new / not new
            for p in group["params"]:
                grad = p.grad
                if maximize or type(grad) is not np.ndarray:  # the plain case stays a single check per step
                    grad = grad_array(p, maximize)
                if grad is None:
                    continue
                lists, buf = running, None
                if momentum:
                    s = state.get(p)
                    buf = None if s is None else s.get("momentum_buffer")
                    if buf is None:
                        buf = np.empty(p.shape, dtype=p.dtype)  # b_1 = g + wd p, written by the backend
                        state[p] = {"momentum_buffer": buf}
                        lists = new
                lists[0].append(self._writable(p))
                lists[1].append(grad)
                lists[2].append(buf)
            for lists, first in ((new, True), (running, False)):
                if lists[0]:
                    step_multi(lists[0], lists[1], lists[2] if momentum else None, group["lr"], momentum,
                               group["dampening"], group["weight_decay"], group["nesterov"], first)
        return loss
