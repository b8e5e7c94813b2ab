"""Transforms on NumPy batches (or single samples): Normalize, Compose and image augmentations.

Images are flat (N, H*W) rows -- H = W = sqrt(H*W) unless `image_shape` says otherwise --
or 2-D (N, H, W). Transforms also accept a Tensor and then return a Tensor.
Randomness comes from tinynn's generator (tn.manual_seed)."""
import math

import numpy as np

from ..random import generator
from ..tensor import Tensor


def _unwrap(x):
    return (x._data, True) if isinstance(x, Tensor) else (np.asarray(x), False)


def _rewrap(array, was_tensor):
    return Tensor._wrap(array, False) if was_tensor else array


class Compose:
    """Apply transforms in order: Compose([a, b])(x) = b(a(x))."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self):
        return "Compose(" + ", ".join(repr(t) for t in self.transforms) + ")"


class Normalize:
    """y = (x - mean) / std, mean and std scalars or broadcastable per-feature arrays."""

    def __init__(self, mean, std):
        self.mean = np.asarray(mean, dtype=np.float64)
        self.std = np.asarray(std, dtype=np.float64)
        if np.any(self.std == 0):
            raise ValueError("Normalize: std must be non-zero")

    def __call__(self, x):
        x, was = _unwrap(x)
        dtype = x.dtype if x.dtype.kind == "f" else np.float32
        y = ((x - self.mean) / self.std).astype(dtype, copy=False)
        return _rewrap(y, was)

    def __repr__(self):
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


def _as_images(x, image_shape, op):
    """View x -- flat (N, H*W), one flat image (H*W,) or 2-D images (N, H, W) -- as (N, H, W);
    returns the view and a function that restores x's layout."""
    if x.ndim == 3:
        return x, (lambda y: y)
    if x.ndim not in (1, 2):
        raise ValueError(f"{op}: expected flat (N, H*W), (H*W,) or 2-D (N, H, W) images, got shape {x.shape}")
    features = x.shape[-1]
    if image_shape is None:
        side = math.isqrt(features)
        if side * side != features:
            raise ValueError(f"{op}: cannot infer a square image from {features} features; pass image_shape=(H, W)")
        image_shape = (side, side)
    h, w = image_shape
    if h * w != features:
        raise ValueError(f"{op}: image_shape {tuple(image_shape)} does not match {features} features")
    return x.reshape(-1, h, w), (lambda y: y.reshape(x.shape))


class RandomShift:
    """Move each image by an independent random offset (dy, dx), each uniform in
    [-max_shift, max_shift], filling uncovered pixels with `fill`: y[r, c] = x[r - dy, c - dx]."""

    def __init__(self, max_shift=1, image_shape=None, fill=0.0):
        if not isinstance(max_shift, int) or max_shift < 0:
            raise ValueError(f"RandomShift: max_shift must be a non-negative int, got {max_shift!r}")
        self.max_shift, self.image_shape, self.fill = max_shift, image_shape, fill

    def __call__(self, x):
        x, was = _unwrap(x)
        imgs, restore = _as_images(x, self.image_shape, "RandomShift")
        m = self.max_shift
        if m == 0 or imgs.size == 0:
            return _rewrap(x.copy(), was)
        n, h, w = imgs.shape
        padded = np.full((n, h + 2 * m, w + 2 * m), self.fill, dtype=imgs.dtype)
        padded[:, m:m + h, m:m + w] = imgs
        dy = generator().integers(-m, m + 1, size=n)
        dx = generator().integers(-m, m + 1, size=n)
        rows = (m - dy)[:, None] + np.arange(h)[None, :]
        cols = (m - dx)[:, None] + np.arange(w)[None, :]
        out = padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
        return _rewrap(restore(out), was)

    def __repr__(self):
        return f"RandomShift(max_shift={self.max_shift})"


class GaussianNoise:
    """y = x + std * z, z ~ N(0, 1) elementwise; then clipped to `clip` = (lo, hi) if given."""

    def __init__(self, std=0.1, clip=None):
        if std < 0:
            raise ValueError(f"GaussianNoise: std must be >= 0, got {std}")
        self.std, self.clip = std, clip

    def __call__(self, x):
        x, was = _unwrap(x)
        dtype = x.dtype if x.dtype.kind == "f" else np.float32
        y = (x + self.std * generator().standard_normal(x.shape)).astype(dtype)
        if self.clip is not None:
            np.clip(y, self.clip[0], self.clip[1], out=y)
        return _rewrap(y, was)

    def __repr__(self):
        return f"GaussianNoise(std={self.std}, clip={self.clip})"
