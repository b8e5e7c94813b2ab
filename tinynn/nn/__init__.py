"""Neural-network building blocks with PyTorch's names and semantics.

    import tinynn.nn as nn
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    loss = nn.CrossEntropyLoss()(model(x), y)
"""
from .parameter import Parameter
from .module import Module
from .layers import Linear, ReLU, Sigmoid, Tanh, Identity, Softmax, LogSoftmax, Flatten, Unflatten, Dropout
from .containers import Sequential, ModuleList, ModuleDict
from .losses import MSELoss, CrossEntropyLoss, NLLLoss, BCELoss, BCEWithLogitsLoss, KLDivLoss
from .activations import LeakyReLU, SiLU, ELU, Softplus, Hardtanh
from .losses import L1Loss, SmoothL1Loss, HuberLoss
from .recurrent import RNNCell, LSTMCell, GRUCell, RNN, LSTM, GRU
from . import functional, init, utils
from .gelu import GELU
from .layernorm import LayerNorm
from .embedding import Embedding
from .attention import MultiheadAttention
from .transformer import TransformerEncoderLayer, TransformerEncoder
from .conv import Conv1d, Conv2d
from .pooling import MaxPool1d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d
from .normalization import BatchNorm1d, BatchNorm2d
from .conv_transpose import ConvTranspose2d
from .group_norm import GroupNorm, InstanceNorm1d, InstanceNorm2d
from .upsample import Upsample, UpsamplingNearest2d, UpsamplingBilinear2d

__all__ = [
    "Parameter", "Module", "Linear", "ReLU", "Sigmoid", "Tanh", "Identity", "Softmax", "LogSoftmax",
    "Flatten", "Unflatten", "Dropout", "Sequential", "ModuleList", "ModuleDict", "MSELoss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
    "BCEWithLogitsLoss", "KLDivLoss", "functional", "init", "utils",
    "LeakyReLU", "SiLU", "ELU", "Softplus", "Hardtanh",
    "L1Loss", "SmoothL1Loss", "HuberLoss",
    "RNNCell", "LSTMCell", "GRUCell", "RNN", "LSTM", "GRU",
    "Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm1d", "BatchNorm2d",
]
__all__ += ["GELU", "LayerNorm", "Embedding", "MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder"]
__all__ += ["ConvTranspose2d", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "Upsample", "UpsamplingNearest2d",
            "UpsamplingBilinear2d"]
