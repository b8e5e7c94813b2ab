"""The ONNX Resize operator on tinynn Tensors, as the specification defines it (opset >= 13 forms), one
axis at a time through tinynn's Resample op (so it is differentiable): for output index i of an axis
resized from n to m (m = sizes[axis], or floor(n scales[axis]); scale = scales[axis], or m / n):

    coordinate_transformation_mode    x = (in float32, as onnxruntime computes it)
      asymmetric                        i / scale
      half_pixel                        (i + 1/2) / scale - 1/2
      pytorch_half_pixel                the same when m > 1, else 0
      align_corners                     i (n - 1) / (m - 1), 0 when m = 1
    mode nearest: x rounded by nearest_mode (floor, ceil, round_prefer_floor, round_prefer_ceil), in [0, n - 1];
    mode linear:  x clamped to [0, n - 1], y = (1 - lambda) v[floor x] + lambda v[min(floor x + 1, n - 1)];
    mode cubic:   y = sum_k W(t - k) v[floor x + k], k = -1 .. 2, t = x - floor x, indices clamped into
                  [0, n - 1] (the specification pads with the edge values), W Keys' kernel with
                  cubic_coeff_a = -0.75 (nn.upsample.cubic_taps) and exclude_outside = 0.

tinynn's export writes PyTorch's nearest as asymmetric + floor, nearest-exact as half_pixel +
round_prefer_ceil, (bi/tri)linear as half_pixel or align_corners and bicubic as cubic (upsampling.py),
only where these formulas give PyTorch's indices; so export -> load gives the model's outputs. Another
cubic_coeff_a, exclude_outside, antialias, tf_crop_and_resize and keep_aspect_ratio_policy other than
stretch are refused, naming the attribute.
"""
import numpy as np

from ..nn.upsample import CUBIC_A, cubic_taps
from ..ops.interpolate import Resample
from .load_ops import attrs, ints, refuse

__all__ = ["resize", "source_index"]

COORDINATE_MODES = ("asymmetric", "half_pixel", "pytorch_half_pixel", "align_corners")
ROUNDING = {
    "floor": np.floor, "ceil": np.ceil,
    "round_prefer_floor": lambda x: np.ceil(x - np.float32(0.5)),
    "round_prefer_ceil": lambda x: np.floor(x + np.float32(0.5)),
}


def source_index(a, n, m, scale):
    """(indices, weights) of the m outputs of an axis of length n, for the node attributes `a`:
    nearest ((i0,), None), linear ((i0, i1), (1 - lambda, lambda)), lambda float32; cubic: four taps."""
    i = np.arange(m, dtype=np.float32)
    scale, mode = np.float32(scale), a.get("coordinate_transformation_mode", "half_pixel")
    if mode == "asymmetric":
        x = i / scale
    elif mode == "align_corners":
        x = i * (np.float32(n - 1) / np.float32(m - 1)) if m > 1 else np.zeros(m, np.float32)
    else:
        x = (i + np.float32(0.5)) / scale - np.float32(0.5)
        if mode == "pytorch_half_pixel" and m == 1:
            x = np.zeros(m, np.float32)
    if a.get("mode", "nearest") == "nearest":
        rounded = ROUNDING[a.get("nearest_mode", "round_prefer_floor")](x)
        return (np.clip(rounded, 0, n - 1).astype(np.int64),), None
    if a.get("mode") == "cubic":
        return cubic_taps(x, n)
    x = np.clip(x, np.float32(0), np.float32(n - 1))
    i0 = np.floor(x).astype(np.int64)
    lam = (x - i0.astype(np.float32)).astype(np.float32)
    return (i0, np.minimum(i0 + 1, n - 1)), (1 - lam, lam)


def _check(node):
    a = attrs(node)
    checks = (("mode", a.get("mode", "nearest"), ("nearest", "linear", "cubic")),
              ("cubic_coeff_a", float(np.float32(a.get("cubic_coeff_a", CUBIC_A))), (float(np.float32(CUBIC_A)),)),
              ("exclude_outside", a.get("exclude_outside", 0), (0,)),
              ("coordinate_transformation_mode", a.get("coordinate_transformation_mode", "half_pixel"),
               COORDINATE_MODES),
              ("nearest_mode", a.get("nearest_mode", "round_prefer_floor"), tuple(ROUNDING)),
              ("antialias", a.get("antialias", 0), (0,)),
              ("keep_aspect_ratio_policy", a.get("keep_aspect_ratio_policy", "stretch"), ("stretch",)))
    for name, got, known in checks:
        if got not in known:
            refuse(node, f"{name}={got!r}; tinynn reads {name} in {list(known)}")
    return a


def resize(node, ctx):
    """Resize(x, roi, scales, sizes) -> y; the roi is ignored (it matters for tf_crop_and_resize only)."""
    a = _check(node)

    def run(x, roi=None, scales=None, sizes=None):
        axes = [v % x.ndim for v in a.get("axes", range(x.ndim))]
        spatial = [x.shape[axis] for axis in axes]
        if sizes is not None and sizes.numel() > 0:
            ms = ints(sizes)
            factors = [np.float32(m) / np.float32(n) for m, n in zip(ms, spatial)]
        elif scales is not None and scales.numel() > 0:
            factors = [np.float32(s) for s in np.asarray(scales._data).reshape(-1)]
            ms = [int(np.floor(np.float32(n) * s)) for n, s in zip(spatial, factors)]
        else:
            refuse(node, "neither scales nor sizes given")
        if len(ms) != len(axes):
            refuse(node, f"{len(ms)} sizes or scales for the {len(axes)} axes {axes} of an input of shape {x.shape}")
        y = x
        for axis, n, m, scale in reversed(list(zip(axes, spatial, ms, factors))):
            if m == n and scale == 1:
                continue
            if min(n, m) < 1:
                refuse(node, f"axis {axis} resized from {n} to {m}")
            index, weights = source_index(a, n, m, scale)
            if weights is not None:
                weights = tuple(w.astype(x.dtype) for w in weights)
            y = Resample.apply(y, axis=axis, index=index, weights=weights)
        return y
    return run
