"""Batch normalization (Ioffe & Szegedy, "Batch Normalization: Accelerating Deep Network Training by
Reducing Internal Covariate Shift", 2015): BatchNorm1d, BatchNorm2d and F.batch_norm."""
import numpy as np

from .. import ops
from ..autograd import no_grad
from ..tensor import Tensor, as_tensor, check_device
from .module import Module
from .parameter import Parameter


def _tensor(x):
    return x if isinstance(x, Tensor) else as_tensor(x)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """y = (x - mu_c) / sqrt(var_c + eps) gamma_c + beta_c for input (N, C, ...).

    training: mu, var are the batch's (biased var) over the N L values of each channel, and the running
    statistics (when given) move toward them: r <- (1 - momentum) r + momentum s, with the unbiased
    var M / (M - 1) var for running_var.  Otherwise mu, var are running_mean, running_var."""
    input = _tensor(input)
    if input.ndim < 2:
        raise ValueError(f"BatchNorm: expected an input (N, C, ...), got shape {input.shape}")
    if weight is None and bias is not None:
        weight = Tensor(np.ones(input.shape[1], dtype=input.dtype))
    params = tuple(_tensor(p) for p in (weight, bias) if p is not None)
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("BatchNorm: running_mean and running_var are needed when not training")
        return ops.BatchNormEval.apply(input, _tensor(running_mean), _tensor(running_var), *params, eps=eps)
    values = input.numel() // input.shape[1] if input.shape[1] else 0
    if values <= 1:
        raise ValueError(f"BatchNorm: expected more than 1 value per channel when training, got input of shape "
                         f"{input.shape}")
    stats = []
    y = ops.BatchNorm.apply(input, *params, eps=eps, stats_out=stats)
    if running_mean is not None and running_var is not None:
        mean, var = stats[0]
        m = float(momentum)
        for running, batch in ((running_mean, mean), (running_var, var * (values / (values - 1)))):
            data = running._data if isinstance(running, Tensor) else running
            data[...] = (1 - m) * data + m * batch  # in place: the module's buffers
    return y


class _NormBase(Module):
    """What BatchNorm and InstanceNorm share (as PyTorch's _NormBase): weight gamma (ones) and bias beta
    (zeros) when affine (beta only with bias=True); buffers running_mean (zeros), running_var (ones) and
    num_batches_tracked when track_running_stats, None otherwise."""

    layer = "BatchNorm2d"

    def __init__(self, num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=True):
        super().__init__()
        check_device(device, self.layer)
        if isinstance(num_features, bool) or not isinstance(num_features, (int, np.integer)) or num_features < 1:
            raise ValueError(f"{self.layer}: num_features must be a positive int, got {num_features!r}")
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        self.register_parameter("weight", Parameter(np.ones(self.num_features, dtype=dtype)) if affine else None)
        self.register_parameter("bias", Parameter(np.zeros(self.num_features, dtype=dtype)) if affine and bias
                                else None)
        stats = {"running_mean": np.zeros(self.num_features, dtype=dtype),
                 "running_var": np.ones(self.num_features, dtype=dtype), "num_batches_tracked": np.array(0, np.int64)}
        for name, value in stats.items():
            self.register_buffer(name, Tensor(value) if track_running_stats else None)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0


class _BatchNorm(_NormBase):
    """momentum=None: the running statistics are cumulative averages (momentum 1 / num_batches_tracked)."""

    layer, shapes = "BatchNorm2d", (4,)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None,
                 dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, x):
        x = _tensor(x)
        if x.ndim not in self.shapes:
            raise ValueError(f"{self.layer}: expected a {' or '.join(f'{n}-D' for n in self.shapes)} input "
                             f"({self.layout}), got shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{self.layer}: input has {x.shape[1]} channels but the layer has num_features="
                             f"{self.num_features} (input shape {x.shape})")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            with no_grad():
                self.num_batches_tracked._data += 1
            if self.momentum is None:
                momentum = 1.0 / float(self.num_batches_tracked._data)
        use_batch = self.training or self.running_mean is None
        keep = not self.training or self.track_running_stats
        return batch_norm(x, self.running_mean if keep else None, self.running_var if keep else None,
                          self.weight, self.bias, use_batch, momentum, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm2d(_BatchNorm):
    """y = (x - mu_c) / sqrt(var_c + eps) gamma_c + beta_c per channel c of x (N, C, H, W): batch statistics
    in training (the running ones updated), running statistics in eval()."""

    layer, shapes, layout = "BatchNorm2d", (4,), "N, C, H, W"


class BatchNorm1d(_BatchNorm):
    """BatchNorm2d's formula per channel c of x (N, C) or (N, C, L)."""

    layer, shapes, layout = "BatchNorm1d", (2, 3), "N, C) or (N, C, L"


class BatchNorm3d(_BatchNorm):
    """BatchNorm2d's formula per channel c of a volume batch x (N, C, D, H, W), over its N D H W values."""

    layer, shapes, layout = "BatchNorm3d", (5,), "N, C, D, H, W"
