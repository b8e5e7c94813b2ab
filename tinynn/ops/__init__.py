"""Differentiable operations: one small Function class per op, forward and backward side by side;
`methods.py` gives them to Tensor as its operators and methods."""
from .arithmetic import Add, Sub, Mul, Div, Pow, Neg
from .matmul import MatMul
from .elementwise import Exp, Log, Sqrt, Abs, Clip, ReLU, Sigmoid, Tanh, Cast
from .reduction import Sum, Mean, Max, Min
from .shape import Reshape, Transpose, GetItem, Concatenate, Stack, Where
from .softmax import Softmax, LogSoftmax
from .layers import Linear, CrossEntropy, REDUCTIONS
from .losses import BinaryCrossEntropy, BinaryCrossEntropyWithLogits
from .quantize import FakeQuantize
from .methods import concatenate, cat, stack, where
from .gelu import GELU
from .normalization_layer import LayerNorm
from .embedding import Embedding
from .attention import ScaledDotProductAttention
from . import differentiable  # noqa: F401 - backend.active under create_graph (autograd/higher.py)
from .conv import Conv2d
from .pool import MaxPool2d, AvgPool2d, AdaptiveAvgPool2d
from .normalization import BatchNorm, BatchNormEval
from .pad import Pad
