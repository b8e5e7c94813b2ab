"""Converters of the models of tinynn.models whose forward is not a plain chain of layers: one
function per class, writing the sub-layers through g.child and the nodes between them.

    LeNet5, ResNet   flat rows (N, C*S*S) -> Reshape [0, C, S, S] (as_images), then the layers in order
    BasicBlock       relu2(bn2(conv2(relu1(bn1(conv1(x))))) + shortcut), shortcut x or downsample(x): an Add
    Augmented        eval mode: its inner model (the transform runs in training only)
    LSTMClassifier   Reshape to (N, rows, row_size), the LSTM, its top layer's final state(s)
                     Slice [-D:] -> Transpose -> Reshape [0, -1], then the head
"""
import numpy as np

from ..models import Augmented, BasicBlock, LeNet5, LSTMClassifier, ResNet
from .graph import converter
from .layers import sequential


def reshape(g, x, shape, what="shape"):
    """Reshape to `shape` (0 copies the input's size there: the dynamic batch)."""
    return g.node("Reshape", [x, g.initializer(np.array(shape, np.int64), what)])


@converter(LeNet5, ResNet)
def image_model(g, layer, x, value):
    if value.ndim == 2:  # flat rows: as_images
        side = int(round((value.shape[1] // layer.in_channels) ** 0.5))
        x = reshape(g, x, [0, layer.in_channels, side, side], "image_shape")
        value = value.reshape(value.shape[0], layer.in_channels, side, side)
    return sequential(g, layer, x, value)


@converter(BasicBlock)
def basic_block(g, layer, x, value):
    out, out_value = x, value
    for name in ("conv1", "bn1", "relu1", "conv2", "bn2"):
        out, out_value = g.child(getattr(layer, name), name, out, out_value)
    shortcut = x if layer.downsample is None else g.child(layer.downsample, "downsample", x, value)[0]
    total = g.node("Add", [out, shortcut])
    return g.child(layer.relu2, "relu2", total, out_value)[0]


@converter(Augmented)
def augmented(g, layer, x, value):
    return g.child(layer.model, "model", x, value)[0]


@converter(LSTMClassifier)
def lstm_classifier(g, layer, x, value):
    n = value.shape[0]
    seq = value.reshape(n, layer.rows, layer.row_size)
    (_, (h_n, _)), (_, (h_value, _)) = g.child(layer.lstm, "lstm", reshape(g, x, [0, layer.rows, layer.row_size]), seq)
    d = 2 if layer.lstm.bidirectional else 1
    last = g.node("Slice", [h_n, g.initializer(np.array([-d], np.int64), "starts"),
                            g.initializer(np.array([np.iinfo(np.int64).max], np.int64), "ends"),
                            g.initializer(np.array([0], np.int64), "axes")])
    features = reshape(g, g.node("Transpose", [last], perm=[1, 0, 2]), [0, -1], "features_shape")
    features_value = h_value[-d:].transpose(1, 0, 2).reshape(n, -1)
    return g.child(layer.head, "head", features, features_value)[0]
