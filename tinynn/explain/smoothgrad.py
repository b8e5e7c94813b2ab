"""SmoothGrad (Smilkov et al., 2017): saliency averaged over noisy copies of the input, Captum's
NoiseTunnel(Saliency) with nt_type="smoothgrad"."""
import numpy as np

from .. import Tensor
from ..random import generator
from .common import as_batch, as_targets, check_count, input_gradient


def smoothgrad(model, x, target, nt_samples=5, stdevs=1.0):
    """Attributions (1/S) sum_s |dF/dx|(x + e_s), e_s ~ N(0, stdevs^2) per element, S = nt_samples.

    The noise is one draw of shape (nt_samples, *x.shape) from tinynn's generator (`tn.manual_seed`
    makes it reproducible), scaled by stdevs; stdevs=0 gives saliency(model, x, target). Returns a
    Tensor of x's shape."""
    fn = "smoothgrad"
    x = as_batch(x, fn)
    nt_samples = check_count(nt_samples, "nt_samples", fn)
    if not np.isfinite(stdevs) or stdevs < 0:
        raise ValueError(f"{fn}: stdevs must be a number >= 0, got {stdevs!r}")
    t = as_targets(target, len(x), fn)
    noise = generator().standard_normal((nt_samples,) + x.shape) * stdevs
    # the S noisy copies go through the model as one batch of S * N examples, copy s in rows s*N..s*N+N-1
    noisy = (x[None] + noise).astype(x.dtype).reshape((nt_samples * len(x),) + x.shape[1:])
    tiled = None if t is None else np.tile(t, nt_samples)
    grads = input_gradient(model, noisy, tiled, fn).reshape((nt_samples,) + x.shape)
    return Tensor(np.abs(grads).mean(axis=0))
