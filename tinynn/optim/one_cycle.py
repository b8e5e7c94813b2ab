"""OneCycleLR: the 1cycle policy (Smith and Topin 2017, "Super-Convergence"), with PyTorch's phases."""
import math

from .scheduler import LRScheduler, checked_optimizer


def _per_group(name, value, groups):
    if isinstance(value, (list, tuple)):
        if len(value) != groups:
            raise ValueError(f"OneCycleLR: expected {groups} values of {name} (one per group), got {len(value)}")
        return list(value)
    return [value] * groups


class OneCycleLR(LRScheduler):
    """Per-batch schedule over total_steps N (or epochs * steps_per_epoch). With lr0 = max_lr / div_factor
    and lr_min = lr0 / final_div_factor, the rate moves by `anneal` between the phase end points

        two phases:   step 0 -> pct_start N - 1:  lr0 -> max_lr,   then -> N - 1:  max_lr -> lr_min
        three_phase:  lr0 -> max_lr -> lr0 (ending at 2 pct_start N - 2), then lr0 -> lr_min

    anneal "cos": end + (start - end) (1 + cos(pi pct)) / 2, "linear": start + (end - start) pct, where pct
    is the fraction of the current phase done. With cycle_momentum the momentum (SGD) or beta1 (Adam) moves
    the opposite way, max_momentum -> base_momentum -> max_momentum. Stepping past N raises ValueError."""

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95,
                 div_factor=25.0, final_div_factor=1e4, three_phase=False, last_epoch=-1):
        groups = checked_optimizer(self, optimizer).param_groups
        if total_steps is None:
            if not all(isinstance(v, int) and v > 0 for v in (epochs, steps_per_epoch)):
                raise ValueError("OneCycleLR: give total_steps, or epochs and steps_per_epoch (positive ints)")
            total_steps = epochs * steps_per_epoch
        if not isinstance(total_steps, int) or total_steps <= 0:
            raise ValueError(f"OneCycleLR: total_steps must be a positive int, got {total_steps!r}")
        if not 0 <= pct_start <= 1 or isinstance(pct_start, bool):
            raise ValueError(f"OneCycleLR: pct_start must be a float in [0, 1], got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        self.total_steps, self.anneal_strategy, self.cycle_momentum = total_steps, anneal_strategy, cycle_momentum
        up = float(pct_start * total_steps) - 1
        if three_phase:
            self._schedule_phases = [
                dict(end_step=up, start_lr="initial_lr", end_lr="max_lr", start_momentum="max_momentum", end_momentum="base_momentum"),
                dict(end_step=float(2 * pct_start * total_steps) - 2, start_lr="max_lr", end_lr="initial_lr",
                     start_momentum="base_momentum", end_momentum="max_momentum"),
                dict(end_step=total_steps - 1, start_lr="initial_lr", end_lr="min_lr", start_momentum="max_momentum", end_momentum="max_momentum"),
            ]
        else:
            self._schedule_phases = [
                dict(end_step=up, start_lr="initial_lr", end_lr="max_lr", start_momentum="max_momentum", end_momentum="base_momentum"),
                dict(end_step=total_steps - 1, start_lr="max_lr", end_lr="min_lr", start_momentum="base_momentum", end_momentum="max_momentum"),
            ]
        if last_epoch == -1:
            for group, top in zip(groups, _per_group("max_lr", max_lr, len(groups))):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        if cycle_momentum:
            defaults = optimizer.defaults
            if "momentum" not in defaults and "betas" not in defaults:
                raise ValueError(f"OneCycleLR: {type(optimizer).__name__} has neither momentum nor betas; "
                                 "pass cycle_momentum=False")
            self.use_beta1 = "betas" in defaults
            if last_epoch == -1:
                pairs = zip(groups, _per_group("max_momentum", max_momentum, len(groups)),
                            _per_group("base_momentum", base_momentum, len(groups)))
                for group, top, bottom in pairs:
                    self._set_momentum(group, top)
                    group["max_momentum"], group["base_momentum"] = top, bottom
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group, value):
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def _anneal(self, start, end, pct):
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {step} times; total_steps is {self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end = phase["end_step"]
                if step <= end or i == len(self._schedule_phases) - 1:
                    pct = (step - start) / (end - start)
                    lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(group[phase["start_momentum"]],
                                                               group[phase["end_momentum"]], pct))
                    break
                start = end
        return lrs
