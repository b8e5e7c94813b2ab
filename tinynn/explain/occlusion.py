"""Occlusion (Zeiler and Fergus, 2014): how much the target output drops when a patch of the input is
replaced by a baseline, Captum's Occlusion."""
import itertools

import numpy as np

from .. import Tensor
from .common import as_baselines, as_batch, as_targets, forward_target


def _per_axis(value, name, shape, fn, default=None):
    """A window shape or stride for one example (x.shape[1:]): a tuple with one positive int per axis
    (a stride may be one int for every axis)."""
    if value is None:
        value = default
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and name == "strides":
        value = (value,) * len(shape)
    value = tuple(value) if isinstance(value, (tuple, list)) else value
    if (not isinstance(value, tuple) or len(value) != len(shape)
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in value)):
        raise ValueError(f"{fn}: {name} must be {len(shape)} positive ints, one per axis of an example of "
                         f"shape {shape} (x without its batch axis), got {value!r}")
    return tuple(int(v) for v in value)


def window_starts(size, window, stride):
    """Captum's positions along one axis: 0, s, 2s, ... (ceil((size - window) / s) + 1 of them); the
    last window is cut at the edge, so every position is covered."""
    return range(0, stride * (-(-(size - window) // stride)) + 1, stride)


def occlusion(model, x, target, sliding_window_shapes, strides=None, baselines=0):
    """Attribution of feature i = the mean over the windows W that cover i of F(x) - F(x with W set to
    the baseline), F(x) = model(x)[n, target[n]].

    sliding_window_shapes: the window's shape for one example (one int per axis of x.shape[1:], as
    Captum takes it); strides: an int or one per axis (default 1); windows start at 0, s, 2s, ...
    and the last one is cut at the edge. baselines: a number, an array of x's shape or of shape
    (1, ...). A feature the model ignores gets 0. One forward pass per window position. Integer x
    (token ids, say) stays integer: the baseline is then a token. Returns a Tensor of x's shape."""
    fn = "occlusion"
    x = as_batch(x, fn, floating=False)
    shape = x.shape[1:]
    window = _per_axis(sliding_window_shapes, "sliding_window_shapes", shape, fn)
    stride = _per_axis(strides, "strides", shape, fn, default=1)
    if any(w > d for w, d in zip(window, shape)):
        raise ValueError(f"{fn}: sliding window {window} is larger than an example of shape {shape}")
    if any(s > w and w < d for s, w, d in zip(stride, window, shape)):
        raise ValueError(f"{fn}: strides {stride} larger than the sliding window {window} would skip features")
    t = as_targets(target, len(x), fn)
    x0 = as_baselines(baselines, x, fn)
    reference = forward_target(model, x, t, fn)
    total = np.zeros(x.shape, dtype=np.result_type(x.dtype, np.float32))
    count = np.zeros(shape)
    starts = [window_starts(d, w, s) for d, w, s in zip(shape, window, stride)]
    for corner in itertools.product(*starts):
        patch = (slice(None),) + tuple(slice(c, c + w) for c, w in zip(corner, window))
        occluded = x.copy()
        occluded[patch] = x0[patch]
        drop = reference - forward_target(model, occluded, t, fn)
        total[patch] += drop.reshape((-1,) + (1,) * len(shape))
        count[patch[1:]] += 1
    return Tensor((total / count).astype(total.dtype))
