"""NAdam: Adam with Nesterov momentum (Dozat 2016, "Incorporating Nesterov Momentum into Adam"),
with PyTorch's momentum schedule, rule and state names."""
import numpy as np

from .helpers import check_betas, check_lr, check_nonnegative, lerp_, scalar, scalar_dtype
from .optimizer import Optimizer, check_implementation


class NAdam(Optimizer):
    """For each parameter p with gradient g, at step t = 1, 2, ... (m_0 = v_0 = 0, psi = momentum_decay):

        g <- -g                                            (maximize=True)
        g <- g + wd p,  or p <- p (1 - lr wd)              (decoupled_weight_decay=True: NAdamW)
        mu_t = b1 (1 - 0.96^(t psi) / 2),   mu_{t+1} = b1 (1 - 0.96^((t+1) psi) / 2)
        P_t = mu_1 mu_2 ... mu_t                           ("mu_product", a 0-d scalar)
        m_t = b1 m_{t-1} + (1 - b1) g                      ("exp_avg")
        v_t = b2 v_{t-1} + (1 - b2) g^2                    ("exp_avg_sq")
        d = sqrt(v_t / (1 - b2^t)) + eps
        p <- p - lr (1 - mu_t) / (1 - P_t) g / d - lr mu_{t+1} / (1 - P_t mu_{t+1}) m_t / d

    The first term is the gradient's share of the Nesterov look-ahead, the second the momentum's.
    As in PyTorch, P_t is kept in float32 (float64 when that is the default dtype).
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False, differentiable=False):
        check_implementation(self, dict(foreach=foreach, capturable=capturable, differentiable=differentiable))
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=bool(decoupled_weight_decay), maximize=bool(maximize), foreach=foreach, capturable=capturable,
                                      differentiable=differentiable))

    def _check_group(self, g):
        check_lr("NAdam", g["lr"])
        check_nonnegative("NAdam", "epsilon", g["eps"])
        check_betas("NAdam", g["betas"])
        check_nonnegative("NAdam", "weight_decay", g["weight_decay"])
        check_nonnegative("NAdam", "momentum_decay", g["momentum_decay"])

    @staticmethod
    def _new_state(p, group):
        """A parameter's state at its first step, after "step": PyTorch's keys, in its order."""
        return {
            "mu_product": np.ones((), scalar_dtype()),
            "exp_avg": np.zeros(p.shape, p.dtype),
            "exp_avg_sq": np.zeros(p.shape, p.dtype),
        }

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure() if given."""
        loss = self._closure(closure)
        for group, s, param, g in self._each_gradient(self._new_state):
            lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            psi = group["momentum_decay"]
            t = s["step"]
            if wd and group["decoupled_weight_decay"]:
                param *= 1 - lr * wd
            elif wd:
                g = g + wd * param
            mu = b1 * (1.0 - 0.5 * 0.96 ** (t * psi))
            mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
            product = scalar(s["mu_product"])
            product = product * product.dtype.type(mu)  # rounded to the scalar dtype, as PyTorch's 0-d tensor
            s["mu_product"] = np.array(product)
            m, v = s["exp_avg"], s["exp_avg_sq"]
            lerp_(m, g, 1 - b1)
            v *= b2
            v += (1 - b2) * g * g
            denom = np.sqrt(v / (1 - b2**t)) + eps
            product = float(product)
            param -= (lr * (1.0 - mu) / (1.0 - product)) * g / denom
            param -= (lr * mu_next / (1.0 - product * mu_next)) * m / denom
        return loss
