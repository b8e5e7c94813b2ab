"""Transforms on NumPy arrays or Tensors: Normalize, Compose and image augmentations with
torchvision's names and arguments (RandomCrop, RandomRotation, RandomAffine) plus RandomShift and
GaussianNoise.

Image layouts: (C, H, W) one image or (N, C, H, W) a batch, as torchvision; and, because
tinynn's data sets are flat rows, (N, H*W) flat single-channel images or one flat image (H*W,),
square unless `image_shape=(H, W)` says otherwise. The output has the input's layout and type (a
Tensor in, a Tensor out). Unlike torchvision, which draws one set of parameters per call, each
image of a batch gets its own draw (augmenting whole batches is how tinynn trains). Randomness
comes from tinynn's generator (tn.manual_seed)."""
import math
import numbers

import numpy as np

from ..random import generator
from ..tensor import Tensor

__all__ = ["Compose", "Normalize", "RandomShift", "GaussianNoise", "RandomCrop", "RandomRotation", "RandomAffine"]
PADDING_MODES = ("constant", "edge", "reflect", "symmetric")


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
    """View x as a (B, C, H, W) batch; returns the view and a function that gives an output batch
    x's layout back. (N, C, H, W) and (C, H, W) are torchvision's; flat (N, H*W) rows and one flat
    image (H*W,) are single-channel, square unless image_shape = (H, W)."""
    if x.ndim == 4:
        return x, (lambda y: y)
    if x.ndim == 3:
        return x[None], (lambda y: y[0])
    if x.ndim not in (1, 2):
        raise ValueError(f"{op}: expected (N, C, H, W), (C, H, W), flat (N, H*W) or (H*W,) images, got shape {x.shape}")
    features = x.shape[-1]
    if image_shape is None:
        side = math.isqrt(features)
        if side * side != features:
            raise ValueError(f"{op}: cannot infer a square image from {features} features; pass image_shape=(H, W)")
        image_shape = (side, side)
    h, w = image_shape
    if h * w != features:
        raise ValueError(f"{op}: image_shape {tuple(image_shape)} does not match {features} features")
    return x.reshape(-1, 1, h, w), (lambda y: y.reshape(*x.shape[:-1], -1))


def _pair(value, op, name):
    """(a, b) from a number or a 2-sequence."""
    if isinstance(value, numbers.Number):
        return value, value
    if len(value) == 1:
        return value[0], value[0]
    if len(value) != 2:
        raise ValueError(f"{op}: {name} must be a number or a sequence of 2 numbers, got {value!r}")
    return tuple(value)


def _range(value, op, name):
    """[-v, v] from a number v >= 0, or (lo, hi) from a 2-sequence with lo <= hi (torchvision's rule)."""
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"{op}: if {name} is a single number, it must be non-negative, got {value}")
        return -float(value), float(value)
    if len(value) != 2 or value[0] > value[1]:
        raise ValueError(f"{op}: {name} must be a number or a sequence (min, max) with min <= max, got {value!r}")
    return float(value[0]), float(value[1])


class RandomShift:
    """Move each image by an independent random offset (dy, dx), each uniform in
    [-max_shift, max_shift], filling uncovered pixels with `fill`: y[c, r, s] = x[c, r - dy, s - dx]
    (every channel of an image moves together)."""

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
        n = imgs.shape[0]
        padded = np.pad(imgs, ((0, 0), (0, 0), (m, m), (m, m)), constant_values=self.fill)
        dy = generator().integers(-m, m + 1, size=n)
        dx = generator().integers(-m, m + 1, size=n)
        return _rewrap(restore(_windows(padded, m - dy, m - dx, imgs.shape[2:])), was)

    def __repr__(self):
        return f"RandomShift(max_shift={self.max_shift})"


def _windows(padded, top, left, size):
    """out[n] = padded[n, :, top_n : top_n + h, left_n : left_n + w] for every image n."""
    n, c = padded.shape[:2]
    h, w = size
    rows = np.asarray(top)[:, None] + np.arange(h)[None, :]
    cols = np.asarray(left)[:, None] + np.arange(w)[None, :]
    return padded[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None],
                  rows[:, None, :, None], cols[:, None, None, :]]


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


class RandomCrop:
    """torchvision's RandomCrop: pad the image by `padding`, then cut out a (h, w) = `size` window
    at a random offset, i ~ U{0..H'-h}, j ~ U{0..W'-w}: y = pad(x)[:, i:i + h, j:j + w].

    padding: an int (every side), (left/right, top/bottom) or (left, top, right, bottom);
    pad_if_needed: pad width (both sides by w - W) and height when the image is smaller than size;
    padding_mode: "constant" (with `fill`), "edge", "reflect" or "symmetric" (NumPy's np.pad modes
    of the same names, which are torchvision's)."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant", image_shape=None):
        self.size = tuple(int(s) for s in _pair(size, "RandomCrop", "size"))
        if min(self.size) < 1:
            raise ValueError(f"RandomCrop: size must be positive, got {size!r}")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"RandomCrop: padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}")
        if padding is not None:
            padding = [padding] if isinstance(padding, numbers.Number) else list(padding)
            if len(padding) not in (1, 2, 4) or any(int(p) != p or p < 0 for p in padding):
                raise ValueError(f"RandomCrop: padding must be a non-negative int or a sequence of 2 or 4, got {padding!r}")
            padding = {1: lambda p: p * 4, 2: lambda p: p * 2, 4: lambda p: p}[len(padding)](padding)
        self.padding, self.pad_if_needed, self.fill = padding, pad_if_needed, fill
        self.padding_mode, self.image_shape = padding_mode, image_shape

    def _pad(self, imgs, left, top, right, bottom):
        widths = ((0, 0), (0, 0), (int(top), int(bottom)), (int(left), int(right)))
        if self.padding_mode == "constant":
            return np.pad(imgs, widths, constant_values=self.fill)
        return np.pad(imgs, widths, mode=self.padding_mode)

    def __call__(self, x):
        x, was = _unwrap(x)
        imgs, _ = _as_images(x, self.image_shape, "RandomCrop")
        if self.padding is not None:
            imgs = self._pad(imgs, *self.padding)
        h, w = self.size
        if self.pad_if_needed and imgs.shape[3] < w:
            imgs = self._pad(imgs, w - imgs.shape[3], 0, w - imgs.shape[3], 0)
        if self.pad_if_needed and imgs.shape[2] < h:
            imgs = self._pad(imgs, 0, h - imgs.shape[2], 0, h - imgs.shape[2])
        H, W = imgs.shape[2:]
        if H < h or W < w:
            raise ValueError(f"RandomCrop: crop size {self.size} is larger than the (padded) image size {(H, W)}")
        n = imgs.shape[0]
        top = generator().integers(0, H - h + 1, size=n)
        left = generator().integers(0, W - w + 1, size=n)
        out = _windows(imgs, top, left, (h, w))
        if x.ndim == 3:
            out = out[0]
        elif x.ndim < 3:
            out = out.reshape(*x.shape[:-1], h * w)
        return _rewrap(out, was)

    def __repr__(self):
        return f"RandomCrop(size={self.size}, padding={self.padding})"


# ---------------------------------------------------------------- affine warps
def _warp(imgs, forward, translate, interpolation, fill):
    """Each image n warped by the affine map p_out = c + A_n (p_in - c) + t_n about the centre
    c = ((W - 1) / 2, (H - 1) / 2) of its pixel grid (x to the right, y down), sampled backwards:
    y[:, r, s] = x at p_in = c + A_n^-1 ((s, r) - c - t_n), "nearest" (rounded half to even) or
    "bilinear"; samples outside the image read `fill`."""
    n, ch, h, w = imgs.shape
    cx, cy = (w - 1) / 2, (h - 1) / 2
    inv = np.linalg.inv(forward)                                     # (n, 2, 2)
    ys, xs = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    u = xs[None] - cx - translate[:, 0, None, None]
    v = ys[None] - cy - translate[:, 1, None, None]
    src_x = inv[:, 0, 0, None, None] * u + inv[:, 0, 1, None, None] * v + cx
    src_y = inv[:, 1, 0, None, None] * u + inv[:, 1, 1, None, None] * v + cy
    padded = np.pad(imgs, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=fill)
    batch = np.arange(n)[:, None, None, None]
    chan = np.arange(ch)[None, :, None, None]

    def read(yy, xx):  # pixel (yy, xx) of every image, `fill` outside; indices shifted by the 1-pixel border
        yy = np.clip(yy, -1, h).astype(np.int64) + 1
        xx = np.clip(xx, -1, w).astype(np.int64) + 1
        return padded[batch, chan, yy[:, None], xx[:, None]]

    if interpolation == "nearest":
        return read(np.rint(src_y), np.rint(src_x)).astype(imgs.dtype, copy=False)
    x0, y0 = np.floor(src_x), np.floor(src_y)
    fx, fy = (src_x - x0)[:, None], (src_y - y0)[:, None]
    out = ((1 - fy) * ((1 - fx) * read(y0, x0) + fx * read(y0, x0 + 1))
           + fy * ((1 - fx) * read(y0 + 1, x0) + fx * read(y0 + 1, x0 + 1)))
    return out.astype(imgs.dtype if imgs.dtype.kind == "f" else np.float32)


def _affine_matrices(angle, scale, shear_x, shear_y):
    """A = s R(a) SHy(sy) SHx(sx) (torchvision's affine, angles in degrees, clockwise on screen):
    R(a) = [[cos a, -sin a], [sin a, cos a]], SHx = [[1, -tan sx], [0, 1]], SHy = [[1, 0], [-tan sy, 1]]."""
    a, sx, sy = (np.radians(np.asarray(v, np.float64)) for v in (angle, shear_x, shear_y))
    c, s = np.cos(a), np.sin(a)
    rot = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)
    one, zero = np.ones_like(a), np.zeros_like(a)
    shx = np.stack([np.stack([one, -np.tan(sx)], -1), np.stack([zero, one], -1)], -2)
    shy = np.stack([np.stack([one, zero], -1), np.stack([-np.tan(sy), one], -1)], -2)
    return np.asarray(scale, np.float64)[..., None, None] * rot @ shy @ shx


INTERPOLATIONS = ("nearest", "bilinear")


def _interpolation(value, op):
    name = getattr(value, "value", value)  # torchvision's InterpolationMode enum carries the name as its value
    if name not in INTERPOLATIONS:
        raise ValueError(f"{op}: interpolation must be one of {INTERPOLATIONS}, got {value!r}")
    return name


class RandomAffine:
    """torchvision's RandomAffine: each image moved by p_out = c + s R(a) SHy(sy) SHx(sx) (p_in - c) + t
    about its centre c, with a ~ U(degrees) (clockwise, as torchvision's affine), t = (round(U(-tx W,
    tx W)), round(U(-ty H, ty H))) for translate = (tx, ty), s ~ U(scale) and shear sx ~ U(shear)
    (a number d: (-d, d); 2 numbers: x range; 4 numbers: x then y range). Nearest (default) or
    bilinear sampling, `fill` outside the image."""

    def __init__(self, degrees, translate=None, scale=None, shear=None, interpolation="nearest", fill=0,
                 image_shape=None):
        op = type(self).__name__
        self.degrees = _range(degrees, op, "degrees")
        if translate is not None and (len(translate) != 2 or not all(0 <= t <= 1 for t in translate)):
            raise ValueError(f"{op}: translate must be a pair of fractions in [0, 1], got {translate!r}")
        if scale is not None and (len(scale) != 2 or not 0 < scale[0] <= scale[1]):
            raise ValueError(f"{op}: scale must be a pair (min, max) with 0 < min <= max, got {scale!r}")
        if shear is not None:
            if isinstance(shear, numbers.Number):
                shear = _range(shear, op, "shear") + (0.0, 0.0)
            elif len(shear) == 2:
                shear = _range(shear, op, "shear") + (0.0, 0.0)
            elif len(shear) == 4:
                shear = _range(shear[:2], op, "shear") + _range(shear[2:], op, "shear")
            else:
                raise ValueError(f"{op}: shear must be a number or a sequence of 2 or 4 numbers, got {shear!r}")
        self.translate, self.scale, self.shear = translate, scale, shear
        self.interpolation, self.fill, self.image_shape = _interpolation(interpolation, op), fill, image_shape

    def _params(self, n, h, w):
        g = generator()
        angle = g.uniform(*self.degrees, size=n)
        t = np.zeros((n, 2))
        if self.translate is not None:
            t[:, 0] = np.round(g.uniform(-self.translate[0] * w, self.translate[0] * w, size=n))
            t[:, 1] = np.round(g.uniform(-self.translate[1] * h, self.translate[1] * h, size=n))
        s = g.uniform(*self.scale, size=n) if self.scale is not None else np.ones(n)
        sx = g.uniform(*self.shear[:2], size=n) if self.shear is not None else np.zeros(n)
        sy = g.uniform(*self.shear[2:], size=n) if self.shear is not None else np.zeros(n)
        return _affine_matrices(angle, s, sx, sy), t

    def __call__(self, x):
        x, was = _unwrap(x)
        imgs, restore = _as_images(x, self.image_shape, type(self).__name__)
        if imgs.size == 0:
            return _rewrap(x.copy(), was)
        forward, t = self._params(imgs.shape[0], *imgs.shape[2:])
        return _rewrap(restore(_warp(imgs, forward, t, self.interpolation, self.fill)), was)

    def __repr__(self):
        return (f"RandomAffine(degrees={self.degrees}, translate={self.translate}, scale={self.scale}, "
                f"shear={self.shear}, interpolation={self.interpolation!r})")


class RandomRotation(RandomAffine):
    """torchvision's RandomRotation: each image rotated about its centre by an angle a ~ U(degrees),
    counter-clockwise on screen for a > 0 (so 90 degrees of a square image is np.rot90):
    y = x at c + R(a)^-1-style backward map (see RandomAffine with angle -a). Nearest sampling by
    default, as torchvision; `fill` where the rotated image does not reach."""

    def __init__(self, degrees, interpolation="nearest", expand=False, center=None, fill=0, image_shape=None):
        if expand or center is not None:
            raise NotImplementedError("RandomRotation: expand=True and center= are not supported by tinynn")
        super().__init__(degrees, interpolation=interpolation, fill=fill, image_shape=image_shape)

    def _params(self, n, h, w):
        angle = generator().uniform(*self.degrees, size=n)
        return _affine_matrices(-angle, np.ones(n), np.zeros(n), np.zeros(n)), np.zeros((n, 2))

    def __repr__(self):
        return f"RandomRotation(degrees={self.degrees}, interpolation={self.interpolation!r})"
