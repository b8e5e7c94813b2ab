"""Converters of the layers that enlarge images: ConvTranspose1d/2d and Upsample (UpsamplingNearest2d,
UpsamplingBilinear2d).

    ConvTranspose1d/2d ConvTranspose(x, W, b, kernel_shape, strides, pads, output_padding, dilations, group):
                      W is stored (C_in, C_out / groups, *kernel) in both; the output length is
                      (n - 1) s - 2 p + d (k - 1) + output_padding + 1 in both
    Upsample          Resize(x, roi "", scales [1, 1, s...]) for a scale_factor (PyTorch then steps by 1 / s),
                      Resize(x, sizes) for a size or recompute_scale_factor=True (steps by n / m), with
        nearest         coordinate_transformation_mode "asymmetric", nearest_mode "floor":   x[floor(i r)]
        nearest-exact   "half_pixel", "round_prefer_ceil":  x[floor((i + 1/2) r - 1/2 + 1/2)] = x[floor((i + 1/2) r)]
        (bi/tri)linear  "half_pixel" (align_corners=False): r (i + 1/2) - 1/2, clamped at 0, as PyTorch
                        (not "pytorch_half_pixel", which puts an output of length 1 at 0 where PyTorch reads
                        the middle n / 2 - 1/2); "align_corners" (align_corners=True): i (n - 1) / (m - 1)
        bicubic         mode "cubic", cubic_coeff_a = -0.75 (Keys' a, PyTorch's), exclude_outside 0, the same
                        coordinates unclamped (as both compute cubic ones), border taps clamped in both;
                        onnxruntime copies an axis whose length stays, where PyTorch given a scale s != 1
                        resamples it by 1 / s: then the layer is written as one MatMul per axis by the
                        (m, n) matrix of PyTorch's taps (exact weights, the products summed in another order)
                      A size is written as the sizes input: with axes=[2, ...] from opset 18, before it as
                      Concat(Shape(x)[:2], spatial sizes) (the batch is dynamic). Each axis's float32 scale
                      is chosen so that Resize's output length (floor(n scale)) and, for the nearest modes,
                      its source indices are PyTorch's (checked here with ONNX's formulas); a nearest resize
                      that no scale gives becomes one Gather of PyTorch's indices per axis (exact).
    area mode         AveragePool when each output length divides the input's (an adaptive pooling), else an error.
"""
import numpy as np

from ..nn.conv_transpose import ConvTranspose1d, ConvTranspose2d
from ..nn.upsample import (CUBIC_A, LINEAR, Upsample, UpsamplingBilinear2d, UpsamplingNearest2d, interpolate,
                           source_positions)
from ..tensor import Tensor
from .graph import KEEP_NONNEGATIVE, converter

RESIZE_AXES_OPSET = 18  # Resize's `axes` attribute: sizes of the spatial axes only

COORDINATES = {  # mode: (mode, coordinate_transformation_mode, nearest_mode) of Resize
    "nearest": ("nearest", "asymmetric", "floor"),
    "nearest-exact": ("nearest", "half_pixel", "round_prefer_ceil"),
}


@converter(ConvTranspose1d, ConvTranspose2d)
def conv_transpose(g, layer, x, value):
    if layer.padding_mode != "zeros":  # (the layer refuses any other; kept for a subclass that would not)
        raise ValueError(f"onnx.export: layer {g.layer!r} ({type(layer).__name__}, "
                         f"padding_mode={layer.padding_mode!r}): "
                         "only 'zeros' padding is exported")
    inputs = [x, g.initializer(layer.weight, "weight")]
    if layer.bias is not None:
        inputs.append(g.initializer(layer.bias, "bias"))
    attributes = dict(kernel_shape=list(layer.kernel_size), strides=list(layer.stride),
                      pads=list(layer.padding) * 2, dilations=list(layer.dilation), group=int(layer.groups))
    if any(layer.output_padding):
        attributes["output_padding"] = list(layer.output_padding)
    return g.node("ConvTranspose", inputs, **attributes)


def _resize_mode(g, layer):
    """(mode, coordinate_transformation_mode, nearest_mode or None) of Resize for the layer's mode."""
    if layer.mode in COORDINATES:
        return COORDINATES[layer.mode]
    if layer.mode in LINEAR:
        return "linear", "align_corners" if layer.align_corners else "half_pixel", None
    if layer.mode == "bicubic":
        return "cubic", "align_corners" if layer.align_corners else "half_pixel", None
    if layer.mode == "area":
        return None, None, None
    raise ValueError(f"onnx.export: layer {g.layer!r} ({type(layer).__name__}, mode={layer.mode!r}): tinynn "
                     f"exports the modes nearest, nearest-exact, {', '.join(LINEAR)}, bicubic and area")


def _area(g, layer, x, value, sizes):
    """mode='area' is adaptive average pooling: an AveragePool when every output length divides its input's."""
    spatial = value.shape[2:]
    if any(n % m for n, m in zip(spatial, sizes)):
        raise ValueError(f"onnx.export: layer {g.layer!r} ({type(layer).__name__}, mode='area') from {spatial} to "
                         f"{tuple(sizes)}: its windows differ in size, which no ONNX pooling computes; tinynn exports "
                         "area resizing when each output length divides the input's")
    kernel = [n // m for n, m in zip(spatial, sizes)]
    if len(kernel) > 1:
        return g.node("AveragePool", [x], kernel_shape=kernel, strides=kernel)
    axis = g.constant(np.array([2]), np.int64, "two_1d")  # (N, C, L) pooled as (N, C, 1, L), as tinynn does
    y = g.node("AveragePool", [g.node("Unsqueeze", [x, axis])], kernel_shape=[1, *kernel], strides=[1, *kernel])
    return g.node("Squeeze", [y, axis])


def _sizes_input(g, x, value, sizes):
    """The `sizes` input of a Resize whose batch (and channels) stay: the node attributes and the inputs."""
    spatial = np.array(sizes, np.int64)
    if g.opset_version >= RESIZE_AXES_OPSET:
        return {"axes": list(range(2, value.ndim))}, g.initializer(spatial, "sizes")
    kept = g.node("Slice", [g.node("Shape", [x]), g.constant(np.array([0]), np.int64, "zero_1d"),
                            g.constant(np.array([2]), np.int64, "two_1d")])
    return {}, g.node("Concat", [kept, g.initializer(spatial, "sizes")], axis=0)


def _onnx_nearest(mode, n, m, scale):
    """The source index of each output position as Resize defines it for `scale` (float32 arithmetic):
    asymmetric + floor: floor(i / scale); half_pixel + round_prefer_ceil: floor((i + 1/2) / scale - 1/2 + 1/2)."""
    i = np.arange(m, dtype=np.float32)
    x = i / scale if mode == "nearest" else (i + np.float32(0.5)) / scale - np.float32(0.5) + np.float32(0.5)
    return np.clip(np.floor(x).astype(np.int64), 0, n - 1)


def _scale(mode, n, m, s, table, align_corners=False):
    """The float32 scale of one axis resized from n to m with scale_factor s, or None if none fits: PyTorch's
    linear modes copy the input when m = n, whatever s, so that axis gets 1; else float32(s) or a neighbour,
    the first whose floor(n scale) is m (in float32 and float64) and, for the nearest modes, whose Resize
    indices are PyTorch's `table` (PyTorch steps by float32(1 / s) where Resize divides by s; m / n is a
    candidate there too: PyTorch's nearest on images reads i // 2 when m = 2 n, whatever s)."""
    if m == n and mode in LINEAR:
        return np.float32(1.0)
    if m == n and mode == "bicubic":  # onnxruntime copies the axis; PyTorch too where it steps by 1
        return np.float32(1.0) if align_corners or s == 1 else None
    scale = np.float32(s)
    candidates = [scale, np.nextafter(scale, np.float32(np.inf)), np.nextafter(scale, np.float32(0))]
    for c in candidates + ([np.float32(m) / np.float32(n)] if table is not None else []):
        if {int(np.floor(t(n) * t(c))) for t in (np.float32, np.float64)} != {m}:
            continue
        if table is None or np.array_equal(_onnx_nearest(mode, n, m, c), table):
            return c
    return None


def _matrices(g, layer, x, value, sizes, given):
    """Resizing as one MatMul per axis by the (m, n) matrix M of PyTorch's taps and weights (float32):
    x M^T along the last axis, M x along the one before (broadcast over the leading axes)."""
    spatial, last = value.shape[2:], value.ndim - 1
    for axis, n, m, s in reversed(list(zip(range(2, value.ndim), spatial, sizes, given or [None] * len(sizes)))):
        index, weights = source_positions(layer.mode, n, m, s, layer.align_corners, np.dtype(np.float32))
        matrix = np.zeros((m, n), np.float32)
        for taps, w in zip(index, weights):
            np.add.at(matrix, (np.arange(m), taps), w)
        if axis == last:
            x = g.node("MatMul", [x, g.initializer(matrix.T, f"resize_{axis}_t")])
        elif axis == last - 1:
            x = g.node("MatMul", [g.initializer(matrix, f"resize_{axis}"), x])
        else:  # (bicubic is 4-D; kept general) bring the axis last and back
            perm = [a for a in range(value.ndim) if a != axis] + [axis]
            back = list(np.argsort(perm))
            y = g.node("MatMul", [g.node("Transpose", [x], perm=perm), g.initializer(matrix.T, f"resize_{axis}_t")])
            x = g.node("Transpose", [y], perm=back)
    return x


def _gather(g, x, tables):
    """Nearest resizing as one Gather of PyTorch's source indices per axis (exact; the fallback)."""
    for axis, table in enumerate(tables, start=2):
        x = g.node("Gather", [x, g.initializer(table, f"index_{axis}")], axis=axis)
    return x


@converter(Upsample)
def upsample(g, layer, x, value):
    from ..autograd import no_grad

    mode, coordinates, nearest = _resize_mode(g, layer)
    with no_grad():
        y = interpolate(Tensor(value), layer.size, layer.scale_factor, layer.mode, layer.align_corners,
                        recompute_scale_factor=layer.recompute_scale_factor)
    sizes = list(y.shape[2:])
    if layer.mode == "area":
        return _area(g, layer, x, value, sizes)
    attributes = {"mode": mode, "coordinate_transformation_mode": coordinates}
    if mode == "cubic":
        attributes["cubic_coeff_a"] = CUBIC_A
    dims, spatial = value.ndim - 2, value.shape[2:]
    given = None if layer.size is not None or layer.recompute_scale_factor else \
        layer.scale_factor if isinstance(layer.scale_factor, tuple) else (layer.scale_factor,) * dims
    tables = [None] * dims
    if nearest is not None:
        attributes["nearest_mode"] = nearest
        tables = [source_positions(layer.mode, n, m, s, None, np.dtype(np.float32), shortcuts=dims == 2)[0][0]
                  for n, m, s in zip(spatial, sizes, given or [None] * dims)]
    if given is not None:
        scales = [_scale(layer.mode, n, m, s, t, layer.align_corners)
                  for n, m, s, t in zip(spatial, sizes, given, tables)]
        if None not in scales:
            return g.node("Resize", [x, "", g.initializer(np.array([1, 1, *scales], np.float32), "scales")],
                          **attributes)
        if layer.mode == "bicubic":
            return _matrices(g, layer, x, value, sizes, given)
        if nearest is None:
            raise ValueError(f"onnx.export: layer {g.layer!r} ({type(layer).__name__}, scale_factor="
                             f"{layer.scale_factor!r}) on {spatial}: no float32 scale gives Resize PyTorch's output "
                             f"size {tuple(sizes)} (int(n * s)); give the layer a size instead")
        return _gather(g, x, tables)
    steps = [np.float32(m) / np.float32(n) for n, m in zip(spatial, sizes)]  # Resize's scale for given sizes
    if nearest is not None and any(not np.array_equal(_onnx_nearest(layer.mode, n, m, c), t)
                                   for n, m, c, t in zip(spatial, sizes, steps, tables)):
        return _gather(g, x, tables)
    extra, sizes_name = _sizes_input(g, x, value, sizes)
    return g.node("Resize", [x, "", "", sizes_name], **attributes, **extra)


# nearest and area resizing of values >= 0 are >= 0 (as are linear ones: convex combinations; not bicubic
# ones, whose kernel has negative lobes: graph.keeps_nonnegative)
KEEP_NONNEGATIVE.update({Upsample, UpsamplingNearest2d, UpsamplingBilinear2d})
