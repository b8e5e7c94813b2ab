"""Converters of the volume (3-D) layers, the 1-D and 2-D converters' operators with three spatial axes:

    Conv3d                Conv(x, W, b, strides, pads, dilations, group), pads the layer's (before, after) per axis;
                          padding_mode reflect / replicate / circular as a Pad node (reflect / edge / wrap) first
    ConvTranspose3d       ConvTranspose (upsampling.py's converter)
    MaxPool3d, AvgPool3d  MaxPool / AveragePool (vision.py's converters; ceil_mode as end pads); AvgPool3d's
                          divisor_override is refused by name (no ONNX pooling divides by a given number)
    AdaptiveAvgPool3d, AdaptiveMaxPool3d
                          GlobalAveragePool / GlobalMaxPool for output 1, else AveragePool / MaxPool when each output
                          size divides the input's (shuffle_pool.py's rule; other sizes are refused by name)
    BatchNorm3d           BatchNormalization with the running statistics (vision.py)
    InstanceNorm3d        InstanceNormalization, or BatchNormalization with track_running_stats (norms.py)
"""
import numpy as np

from ..nn.conv3d import Conv3d, ConvTranspose3d
from ..nn.group_norm import InstanceNorm3d
from ..nn.normalization import BatchNorm3d
from ..nn.pooling3d import AdaptiveAvgPool3d, AdaptiveMaxPool3d, AvgPool3d, MaxPool3d
from .graph import KEEP_NONNEGATIVE, converter
from .norms import instance_norm
from .shuffle_pool import _adaptive
from .upsampling import conv_transpose
from .vision import PAD_MODES, avg_pool, batch_norm, max_pool

converter(ConvTranspose3d)(conv_transpose)
converter(MaxPool3d)(max_pool)
converter(BatchNorm3d)(batch_norm)
converter(InstanceNorm3d)(instance_norm)


@converter(Conv3d)
def conv3d(g, layer, x, value):
    begin, end = [b for b, _ in layer._pads], [a for _, a in layer._pads]
    if layer.padding_mode != "zeros":
        mode = PAD_MODES[layer.padding_mode]
        if mode == "wrap" and g.opset_version < 19:
            raise ValueError(f"onnx.export: layer {g.layer!r} (Conv3d, padding_mode='circular') needs Pad's wrap "
                             f"mode, opset >= 19 (got opset_version={g.opset_version})")
        x = g.node("Pad", [x, g.initializer(np.array([0, 0, *begin, 0, 0, *end], np.int64), "pads")], mode=mode)
        begin, end = [0] * 3, [0] * 3
    inputs = [x, g.initializer(layer.weight, "weight")]
    if layer.bias is not None:
        inputs.append(g.initializer(layer.bias, "bias"))
    return g.node("Conv", inputs, kernel_shape=list(layer.kernel_size), strides=list(layer.stride),
                  pads=begin + end, dilations=list(layer.dilation), group=int(layer.groups))


@converter(AvgPool3d)
def avg_pool3d(g, layer, x, value):
    if layer.divisor_override is not None:
        raise ValueError(f"onnx.export: layer {g.layer!r} (AvgPool3d, divisor_override={layer.divisor_override}): "
                         "no ONNX pooling operator divides by a given number; tinynn exports divisor_override=None")
    return avg_pool(g, layer, x, value)


@converter(AdaptiveAvgPool3d)
def adaptive_avg_pool3d(g, layer, x, value):
    return _adaptive(g, layer, x, value, 3, "AveragePool")


@converter(AdaptiveMaxPool3d)
def adaptive_max_pool3d(g, layer, x, value):
    return _adaptive(g, layer, x, value, 3, "MaxPool")


KEEP_NONNEGATIVE.update({MaxPool3d, AvgPool3d, AdaptiveAvgPool3d, AdaptiveMaxPool3d})
