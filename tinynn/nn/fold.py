"""Unfold and Fold (PyTorch's im2col and col2im) and their functions unfold and fold: the sliding
blocks of an image as columns, and those columns added back into an image. Fold is Unfold's adjoint,
<unfold(x), y> = <x, fold(y)> (so fold(unfold(x)) is x times how many blocks cover each pixel); a
convolution is unfold followed by a matrix product: conv2d(x, W) = W.view(O, -1) @ unfold(x)."""
import numbers

from ..ops.fold import Fold as _FoldOp, Unfold as _UnfoldOp
from ..tensor import Tensor, as_tensor
from .module import Module


def _tensor(x):
    return x if isinstance(x, Tensor) else as_tensor(x)


def _pair(op, what, value):
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(values) != 2:
        raise RuntimeError(f"{op}: it is expected {what} equals to 2, but got size {len(values)}")
    if any(isinstance(v, bool) or not isinstance(v, numbers.Integral) for v in values):
        raise TypeError(f"{op}: {what} must be an int or a pair of ints, got {value!r}")
    return tuple(int(v) for v in values)


def _geometry(op, kernel_size, dilation, padding, stride):
    """((kh, kw), dilation, padding, stride) as pairs, checked as PyTorch checks them."""
    geometry = tuple(_pair(op, what, v) for what, v in (("kernel_size", kernel_size), ("dilation", dilation),
                                                        ("padding", padding), ("stride", stride)))
    for (what, least, wording), (a, b) in zip((("kernel size", 1, "greater than zero"),
                                               ("dilation", 1, "greater than zero"),
                                               ("padding", 0, "non-negative"), ("stride", 1, "greater than zero")),
                                              geometry):
        if min(a, b) < least:
            raise RuntimeError(f"{op}: {what} should be {wording}, but got {a} along H and {b} along W")
    return geometry


def _blocks(size, geometry):
    """(Ho, Wo) = floor((n + 2 p - d (k - 1) - 1) / s) + 1 along H and W."""
    return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1 for n, k, d, p, s in zip(size, *geometry))


def _floating(op, x):
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got dtype {x.dtype}")


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """The sliding blocks of x (N, C, H, W) (or (C, H, W)) as columns (im2col):
    y[n, c k_h k_w + u k_w + v, i W_o + j] = x_pad[n, c, s_h i + d_h u, s_w j + d_w v], shape (N, C k_h k_w, L),
    L = H_o W_o, H_o = floor((H + 2 p_h - d_h (k_h - 1) - 1) / s_h) + 1 (likewise W_o); x_pad has p zeros
    on each side."""
    x = _tensor(input)
    geometry = _geometry("unfold", kernel_size, dilation, padding, stride)
    if x.ndim not in (3, 4) or 0 in x.shape[x.ndim - 3:]:
        raise RuntimeError(f"unfold: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input with nonzero C, H and W "
                           f"(N may be 0), got shape {tuple(x.shape)}")
    _floating("unfold", x)
    blocks = _blocks(x.shape[-2:], geometry)
    if min(blocks) < 1:
        raise RuntimeError(f"unfold: given an input of spatial size {tuple(x.shape[-2:])}, kernel_size={geometry[0]}, "
                           f"dilation={geometry[1]}, padding={geometry[2]}, the array of sliding blocks would be "
                           f"{blocks}, but each of its sizes must be at least one")
    if x.ndim == 3:
        return _UnfoldOp.apply(x.reshape(1, *x.shape), geometry=geometry)[0]
    return _UnfoldOp.apply(x, geometry=geometry)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The adjoint of unfold (col2im): columns x (N, C k_h k_w, L) (or (C k_h k_w, L)) added back into
    y (N, C, H, W), (H, W) = output_size: y_pad[n, c, s_h i + d_h u, s_w j + d_w v] += x[n, c k_h k_w + u k_w + v,
    i W_o + j], overlapping blocks summed, the padding then cropped; L must be H_o W_o (see unfold)."""
    x = _tensor(input)
    size = _pair("fold", "output_size", output_size)
    geometry = _geometry("fold", kernel_size, dilation, padding, stride)
    if x.ndim not in (2, 3) or 0 in x.shape[x.ndim - 2:]:
        raise RuntimeError(f"fold: expected a 2-D (C k_h k_w, L) or 3-D (N, C k_h k_w, L) input with nonzero sizes "
                           f"(N may be 0), got shape {tuple(x.shape)}")
    _floating("fold", x)
    (kh, kw), rows, length = geometry[0], x.shape[-2], x.shape[-1]
    if rows % (kh * kw):
        raise RuntimeError(f"fold: expected the input's size {rows} along dim {x.ndim - 2} to be divisible by the "
                           f"product of kernel_size {geometry[0]} (input shape {tuple(x.shape)})")
    blocks = _blocks(size, geometry)
    if min(blocks) < 1 or length != blocks[0] * blocks[1]:
        raise RuntimeError(f"fold: given output_size={size}, kernel_size={geometry[0]}, dilation={geometry[1]}, "
                           f"padding={geometry[2]}, stride={geometry[3]}, expected the input's size along its last dim "
                           f"to be the number of sliding blocks {blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, "
                           f"but got {length} (input shape {tuple(x.shape)})")
    if x.ndim == 2:
        return _FoldOp.apply(x.reshape(1, *x.shape), size=size, geometry=geometry)[0]
    return _FoldOp.apply(x, size=size, geometry=geometry)


class Unfold(Module):
    """y = unfold(x, kernel_size, dilation, padding, stride): (N, C, H, W) -> (N, C k_h k_w, L) (see unfold)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, stride={self.stride}"


class Fold(Module):
    """y = fold(x, output_size, kernel_size, dilation, padding, stride): (N, C k_h k_w, L) -> (N, C, H, W),
    overlapping blocks summed (see fold)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
