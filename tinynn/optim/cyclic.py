"""CyclicLR: cyclical learning rates (Smith 2017, "Cyclical Learning Rates for Training Neural Networks"),
with PyTorch's policies, momentum cycling and bookkeeping."""
import math
import types
from functools import partial

from .scheduler import LRScheduler, checked_optimizer


def _per_group(name, value, optimizer):
    """One value per parameter group: a list/tuple of them, or one value for all."""
    groups = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != groups:
            raise ValueError(f"CyclicLR: {name} must have the same length as optimizer.param_groups. "
                             f"{name} has {len(value)} values, param_groups has {groups}.")
        return list(value)
    return [value] * groups


def _triangular(x):
    return 1.0


def _triangular2(x):
    return 1 / (2.0 ** (x - 1))


def _exp_range(gamma, x):
    return gamma**x


class CyclicLR(LRScheduler):
    """The rate moves between base_lr and max_lr in cycles of step_size_up + step_size_down steps
    (step() once per batch). With n the steps taken, T = step_size_up + step_size_down and
    r = step_size_up / T:

        c = floor(1 + n / T)                    (the cycle, from 1)
        x = 1 + n / T - c                       (the position in it, in [0, 1))
        h = x / r if x <= r else (x - 1) / (r - 1)      (rising 0 -> 1, then falling 1 -> 0)
        lr = base_lr + (max_lr - base_lr) h s

    with the amplitude scale s = scale_fn(c) (scale_mode "cycle") or scale_fn(n) ("iterations"):
    "triangular" s = 1, "triangular2" s = 1 / 2^(c - 1) (halved every cycle), "exp_range" s = gamma^n;
    a scale_fn given replaces the mode's. With cycle_momentum the momentum (SGD) or beta1 (Adam and
    the like) moves the opposite way: m = max_momentum - (max_momentum - base_momentum) h s.

    Construction sets each group's lr to base_lr (and momentum to max_momentum), unless resuming.
    """

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular",
                 gamma=1.0, scale_fn=None, scale_mode="cycle", cycle_momentum=True, base_momentum=0.8,
                 max_momentum=0.9, last_epoch=-1):
        checked_optimizer(self, optimizer)
        base_lrs = _per_group("base_lr", base_lr, optimizer)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
        self.max_lrs = _per_group("max_lr", max_lr, optimizer)
        step_size_up = float(step_size_up)
        step_size_down = float(step_size_down) if step_size_down is not None else step_size_up
        if not step_size_up + step_size_down > 0:
            raise ValueError(f"CyclicLR: a cycle must have a positive length, got step_size_up={step_size_up} "
                             f"and step_size_down={step_size_down}")
        self.total_size = step_size_up + step_size_down
        self.step_ratio = step_size_up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError(f"CyclicLR: mode {mode!r} is invalid and scale_fn is None")
        self.mode, self.gamma = mode, gamma
        self._scale_fn_custom, self.scale_mode = scale_fn, scale_mode
        self._init_scale_fn()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(f"CyclicLR: {type(optimizer).__name__} has neither momentum nor betas; "
                                 "optimizer must support momentum or beta1 with `cycle_momentum` option enabled")
            self.use_beta1 = "betas" in optimizer.defaults
            self.base_momentums = _per_group("base_momentum", base_momentum, optimizer)
            self.max_momentums = _per_group("max_momentum", max_momentum, optimizer)
            if last_epoch == -1:
                for top, bottom, group in zip(self.max_momentums, self.base_momentums, optimizer.param_groups):
                    self._set_momentum(group, top)
                    group["max_momentum"], group["base_momentum"] = top, bottom
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self):
        if self._scale_fn_custom is not None:
            return
        if self.mode == "triangular":
            self._scale_fn_ref, self.scale_mode = _triangular, "cycle"
        elif self.mode == "triangular2":
            self._scale_fn_ref, self.scale_mode = _triangular2, "cycle"
        elif self.mode == "exp_range":
            self._scale_fn_ref, self.scale_mode = partial(_exp_range, self.gamma), "iterations"

    def scale_fn(self, x):
        """The amplitude scale s at cycle (or step) x."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        return self._scale_fn_ref(x)

    def _set_momentum(self, group, value):
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def get_lr(self):
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        height = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [base + (top - base) * height * scale for base, top in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, bottom, top in zip(self.optimizer.param_groups, self.base_momentums, self.max_momentums):
                self._set_momentum(group, top - (top - bottom) * height * scale)
        return lrs

    def state_dict(self):
        """As LRScheduler's, without the mode's scale function; a custom scale_fn is saved as None (a
        plain function) or its object's __dict__ (a callable object), as PyTorch."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_scale_fn_ref", "_scale_fn_custom")}
        fn = self._scale_fn_custom
        state["_scale_fn_custom"] = None if fn is None or isinstance(fn, types.FunctionType) else dict(fn.__dict__)
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        attrs = state.pop("_scale_fn_custom", None)
        self.__dict__.update(state)
        if attrs is not None:
            self._scale_fn_custom.__dict__.update(attrs)
        self._init_scale_fn()
