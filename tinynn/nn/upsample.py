"""Resizing: F.interpolate and the layers Upsample, UpsamplingNearest2d and UpsamplingBilinear2d, with
PyTorch's output sizes and source positions. Every mode is separable: the input is resampled along one
spatial axis at a time (the Resample op), the last one first ("area" is adaptive average pooling).

PyTorch's source positions (ATen/native/UpSample.h), for output index i of an axis of size `n` resized
to `m`, with r = 1 / scale_factor when one was given, else n / m:
  nearest:        floor(i r) in float32, at most n - 1 (on 2-D images: i itself when m = n, i // 2 when
                  m = 2 n, whatever the scale factor; PyTorch's 1-D and 3-D forward kernels skip these
                  shortcuts, which its backward kernels take: tinynn's gradient is its forward's);
  nearest-exact:  floor((i + 1/2) r), at most n - 1;
  linear:         x = r (i + 1/2) - 1/2, clamped at 0 (align_corners=False), or x = i (n - 1) / (m - 1)
                  (align_corners=True); i0 = floor(x), i1 = min(i0 + 1, n - 1), lambda = x - i0;
                  y_i = (1 - lambda) v[i0] + lambda v[i1] (y = v when m = n);
  cubic:          x as linear's but not clamped, i0 = floor(x), t = x - i0; y_i = sum_k W(t - k) v[i0 + k]
                  over k = -1, 0, 1, 2, each index clamped into [0, n - 1], W Keys' cubic convolution kernel
                  with a = -0.75 (Keys, 1981, "Cubic Convolution Interpolation for Digital Image Processing").
"""
import numbers

import numpy as np

from ..ops.interpolate import Resample
from ..tensor import Tensor, as_tensor
from .module import Module
from .pooling import adaptive_avg_pool2d

LINEAR = {"linear": 3, "bilinear": 4, "trilinear": 5}  # mode: the input's dims it needs (bicubic: 4)
CUBIC_A = -0.75  # Keys' free parameter a, PyTorch's choice (and OpenCV's)
MODES = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"


def source_positions(mode, n, m, scale, align_corners, dtype, shortcuts=True):
    """(indices, weights) of output positions 0..m-1 on an axis of size n: nearest modes ((i0,), None),
    linear ((i0, i1), (1 - lambda, lambda)) with weights of `dtype`. `scale` is the user's scale factor or None;
    `shortcuts`: nearest's cases m = n and m = 2 n."""
    i = np.arange(m)
    if mode in ("nearest", "nearest-exact"):
        r = np.float32(1.0 / scale) if scale else np.float32(n) / np.float32(m)
        if mode == "nearest-exact":
            src = np.floor(((i + 0.5) * np.float64(r)).astype(np.float32))
        elif shortcuts and m in (n, 2 * n):
            src = i * n // m
        else:
            src = np.floor(i.astype(np.float32) * r)
        return (np.minimum(src.astype(np.int64), n - 1),), None
    if m == n and mode != "bicubic":
        return (i, i), (np.ones(m, dtype), np.zeros(m, dtype))
    if align_corners:
        x = (dtype.type(n - 1) / dtype.type(m - 1) if m > 1 else dtype.type(0)) * i.astype(dtype)
    else:
        r = dtype.type(1.0 / scale) if scale else dtype.type(n) / dtype.type(m)
        x = r * (i.astype(dtype) + dtype.type(0.5)) - dtype.type(0.5)
    if mode == "bicubic":
        return cubic_taps(x, n)
    x = np.maximum(x, 0)
    i0 = np.minimum(np.floor(x.astype(np.float32)).astype(np.int64), n - 1)
    lam = np.clip(x - i0.astype(dtype), 0, 1)
    return (i0, i0 + (i0 < n - 1)), (1 - lam, lam)


def cubic_taps(x, n):
    """((i0 - 1, i0, i0 + 1, i0 + 2) clamped into [0, n - 1], (W(t + 1), W(t), W(1 - t), W(2 - t))) at source
    positions x, i0 = floor(x), t = x - i0, with Keys' kernel W(s) = (a + 2)|s|^3 - (a + 3)|s|^2 + 1 for |s| <= 1,
    a|s|^3 - 5a|s|^2 + 8a|s| - 4a for 1 < |s| < 2 (0 beyond), in x's dtype; the weights sum to 1."""
    a, one = x.dtype.type(CUBIC_A), x.dtype.type(1)
    near = lambda s: ((a + 2) * s - (a + 3)) * s * s + one  # noqa: E731
    far = lambda s: ((a * s - 5 * a) * s + 8 * a) * s - 4 * a  # noqa: E731
    i0 = np.floor(x)
    t = x - i0
    i0 = i0.astype(np.int64)
    return tuple(np.clip(i0 + k, 0, n - 1) for k in (-1, 0, 1, 2)), (far(t + one), near(t), near(one - t),
                                                                    far(one - t + one))


def _per_axis(what, value, dims, input):
    """value for each of the `dims` spatial axes (a number, or a list/tuple of `dims` of them)."""
    if not isinstance(value, (list, tuple)):
        return [value] * dims
    if len(value) != dims:
        spatial = list(input.shape[2:])
        raise ValueError(f"Input and {what} must have the same number of spatial dimensions, but got input with "
                         f"spatial dimensions of {spatial} and {what} of {tuple(value)}. Please provide input tensor "
                         f"in (N, C, d1, d2, ...,dK) format and {what} in (o1, o2, ...,oK) format.")
    return list(value)


def _check_arguments(input, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias):
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    if input.ndim not in (3, 4, 5) or mode not in (*LINEAR, "nearest", "nearest-exact", "area", "bicubic", "lanczos"):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for "
                                  f"the modes: {MODES} (got {mode})")
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D "
                         "tensor as input")
    if mode == "lanczos" or antialias:
        raise NotImplementedError(f"interpolate: mode={mode!r}{' with antialias=True' if antialias else ''} is not "
                                  "supported by tinynn (nearest, nearest-exact, linear, bilinear, bicubic, trilinear "
                                  "and area without antialias are)")
    if mode == "bicubic" and input.ndim != 4:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for "
                                  f"the modes: {MODES} (got {mode})")
    if mode in LINEAR and input.ndim != LINEAR[mode]:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {LINEAR[mode]}D input")


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    """Resize the spatial axes of input (N, C, d1[, d2[, d3]]) to `size`, or to floor(d scale_factor) (the
    kernel then uses 1 / scale_factor as the step, unless recompute_scale_factor=True). y_i reads
    nearest: x[floor(i r)];  nearest-exact: x[floor((i + 1/2) r)];  (bi/tri)linear: (1 - lambda) x[i0] + lambda x[i1]
    around the source position r (i + 1/2) - 1/2 (align_corners=False, the default) or i (d - 1) / (o - 1)
    (align_corners=True);  bicubic (4-D): sum_k W(t - k) x[i0 + k], k = -1..2, Keys' kernel with a = -0.75 and
    border indices clamped (see cubic_taps);  area: adaptive average pooling.  r = d / o, or 1 / scale_factor
    when one is given. antialias=True is not supported (NotImplementedError)."""
    input = input if isinstance(input, Tensor) else as_tensor(input)
    _check_arguments(input, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)
    dims = input.ndim - 2
    if size is not None:
        sizes, scales = _per_axis("output size", size, dims, input), [None] * dims
        if any(isinstance(n, bool) or not isinstance(n, numbers.Integral) for n in sizes):
            raise TypeError(f"expected size to be one of int or Tuple[int] or Tuple[int, int] or Tuple[int, int, int], "
                            f"but got size with types {[type(n) for n in sizes]}")
        sizes = [int(n) for n in sizes]
    else:
        scales = [float(s) for s in _per_axis("scale_factor", scale_factor, dims, input)]
        sizes = [int(d * s) for d, s in zip(input.shape[2:], scales)]  # (C++'s cast: truncation)
        if recompute_scale_factor or mode == "area":
            scales = [None] * dims
    if mode != "area" and (min(sizes) < 1 or min(input.shape[2:]) < 1):
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input {tuple(input.shape[2:])} "
                           f"output {tuple(sizes)}")
    if mode == "area":
        if dims == 1:
            return adaptive_avg_pool2d(input.unsqueeze(2), (1, sizes[0])).squeeze(2)
        if dims == 3:  # separable: pool (H, W), then D (its windows' averages of averages are the means)
            n, c, d, h, w = input.shape
            y = adaptive_avg_pool2d(input.reshape(n, c * d, h, w), tuple(sizes[1:]))
            y = adaptive_avg_pool2d(y.reshape(n, c, d, sizes[1] * sizes[2]), (sizes[0], sizes[1] * sizes[2]))
            return y.reshape(n, c, *sizes)
        return adaptive_avg_pool2d(input, tuple(sizes))
    if input.dtype.kind != "f" and not (input.dtype == np.uint8 and mode.startswith("nearest")):
        raise NotImplementedError(f"interpolate: mode {mode!r} is not implemented for dtype {input.dtype}")
    opmath = np.dtype(np.float64 if input.dtype == np.float64 else np.float32)
    y = input
    for axis in reversed(range(2, input.ndim)):
        n, m = input.shape[axis], sizes[axis - 2]
        index, weights = source_positions(mode, n, m, scales[axis - 2], align_corners, opmath, shortcuts=dims == 2)
        if weights is not None:
            weights = tuple(w.astype(input.dtype) for w in weights)
        y = Resample.apply(y, axis=axis, index=index, weights=weights)
    return y


class Upsample(Module):
    """y = interpolate(x, size, scale_factor, mode, align_corners, recompute_scale_factor) (see interpolate)."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners, self.recompute_scale_factor = mode, align_corners, recompute_scale_factor

    def forward(self, input):
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Upsample(size, scale_factor, mode="nearest") for (N, C, H, W) inputs."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Upsample(size, scale_factor, mode="bilinear", align_corners=True) for (N, C, H, W) inputs."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
