"""Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay (PyTorch's rule)."""
from ..backend import current as backend
from .optimizer import Optimizer, _required


class SGD(Optimizer):
    """For each parameter p with gradient g, at step t (PyTorch's formulation):

        g <- g + wd p                                  (weight_decay)
        b_1 = g;  b_t = mu b_{t-1} + (1 - dampening) g  (momentum mu > 0)
        g <- g + mu b_t  (nesterov)  or  g <- b_t
        p <- p - lr g
    """

    def __init__(self, params, lr=_required, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _check_group(self, g):
        if g["lr"] is _required:
            raise ValueError("SGD: lr is required")
        if not g["lr"] >= 0.0:
            raise ValueError(f"SGD: invalid learning rate {g['lr']}")
        if not g["momentum"] >= 0.0:
            raise ValueError(f"SGD: invalid momentum {g['momentum']}")
        if not g["weight_decay"] >= 0.0:
            raise ValueError(f"SGD: invalid weight_decay {g['weight_decay']}")
        if g["nesterov"] and (g["momentum"] <= 0 or g["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum > 0 and zero dampening")

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure() if given."""
        loss = self._closure(closure)
        sgd_step = backend().sgd_step
        state = self.state
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            wd, nesterov = group["weight_decay"], group["nesterov"]
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                buf, first = None, False
                if momentum:
                    s = state.get(p)
                    if s is None or s.get("momentum_buffer") is None:
                        buf = grad.copy()  # b_1 = g (the backend overwrites it with g + wd p)
                        state[p] = {"momentum_buffer": buf}
                        first = True
                    else:
                        buf = s["momentum_buffer"]
                sgd_step(p.data, grad, buf, lr, momentum, dampening, wd, nesterov, first)
        return loss
