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
from .activations import (ReLU6, SELU, CELU, Mish, Hardsigmoid, Hardswish, Threshold, Softsign, Tanhshrink,
                          LogSigmoid, Softshrink, Hardshrink, Softmin, Softmax2d, GLU, PReLU)
from .losses import L1Loss, SmoothL1Loss, HuberLoss
from .losses import (MarginRankingLoss, HingeEmbeddingLoss, CosineEmbeddingLoss, SoftMarginLoss,
                     MultiLabelSoftMarginLoss, TripletMarginLoss, PoissonNLLLoss, GaussianNLLLoss)
from .distance import CosineSimilarity, PairwiseDistance
from .padding import (ZeroPad1d, ZeroPad2d, ConstantPad1d, ConstantPad2d, ReflectionPad1d, ReflectionPad2d,
                      ReplicationPad1d, ReplicationPad2d)
from .pixel_shuffle import PixelShuffle, PixelUnshuffle
from .pooling_more import AvgPool1d, AdaptiveAvgPool1d, AdaptiveMaxPool1d, AdaptiveMaxPool2d
from .bilinear import Bilinear
from .recurrent import RNNCell, LSTMCell, GRUCell, RNN, LSTM, GRU
from . import functional, init, utils
from .gelu import GELU
from .layernorm import LayerNorm
from .embedding import Embedding
from .attention import MultiheadAttention
from .transformer import TransformerEncoderLayer, TransformerEncoder
from .transformer_decoder import TransformerDecoderLayer, TransformerDecoder, Transformer
from .rms_norm import RMSNorm
from .conv import Conv1d, Conv2d
from .pooling import MaxPool1d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d
from .normalization import BatchNorm1d, BatchNorm2d
from .conv_transpose import ConvTranspose2d
from .group_norm import GroupNorm, InstanceNorm1d, InstanceNorm2d
from .upsample import Upsample, UpsamplingNearest2d, UpsamplingBilinear2d
from .losses_margin import MultiMarginLoss, MultiLabelMarginLoss
from .ctc import CTCLoss
from .parameter_containers import ParameterList, ParameterDict
from .embedding_bag import EmbeddingBag
from .local_response_norm import LocalResponseNorm
from .padding import (ZeroPad3d, ConstantPad3d, ReflectionPad3d, ReplicationPad3d, CircularPad1d, CircularPad2d,
                      CircularPad3d)
from .dropout import Dropout1d, Dropout2d, Dropout3d, AlphaDropout, FeatureAlphaDropout
from .fold import Fold, Unfold
from .activations import RReLU
from .pixel_shuffle import ChannelShuffle
from .conv_transpose import ConvTranspose1d
from .conv3d import Conv3d, ConvTranspose3d
from .pooling3d import MaxPool3d, AvgPool3d, AdaptiveAvgPool3d, AdaptiveMaxPool3d
from .normalization import BatchNorm3d
from .group_norm import InstanceNorm3d

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
__all__ += ["TransformerDecoderLayer", "TransformerDecoder", "Transformer", "RMSNorm"]
__all__ += ["ConvTranspose2d", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "Upsample", "UpsamplingNearest2d",
            "UpsamplingBilinear2d"]
__all__ += ["ReLU6", "SELU", "CELU", "Mish", "Hardsigmoid", "Hardswish", "Threshold", "Softsign", "Tanhshrink",
            "LogSigmoid", "Softshrink", "Hardshrink", "Softmin", "Softmax2d", "GLU", "PReLU"]
__all__ += ["MarginRankingLoss", "HingeEmbeddingLoss", "CosineEmbeddingLoss", "SoftMarginLoss",
            "MultiLabelSoftMarginLoss", "TripletMarginLoss", "PoissonNLLLoss", "GaussianNLLLoss"]
__all__ += ["CosineSimilarity", "PairwiseDistance"]
__all__ += ["MultiMarginLoss", "MultiLabelMarginLoss", "CTCLoss", "ParameterList", "ParameterDict", "EmbeddingBag",
            "LocalResponseNorm", "ZeroPad3d", "ConstantPad3d", "ReflectionPad3d", "ReplicationPad3d", "CircularPad1d",
            "CircularPad2d", "CircularPad3d"]
__all__ += ["Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout", "Fold", "Unfold", "RReLU",
            "ChannelShuffle", "ConvTranspose1d"]
__all__ += ["ZeroPad1d", "ZeroPad2d", "ConstantPad1d", "ConstantPad2d", "ReflectionPad1d", "ReflectionPad2d",
            "ReplicationPad1d", "ReplicationPad2d", "PixelShuffle", "PixelUnshuffle", "AvgPool1d", "AdaptiveAvgPool1d",
            "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "Bilinear"]
__all__ += ["Conv3d", "ConvTranspose3d", "MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d", "AdaptiveMaxPool3d",
            "BatchNorm3d", "InstanceNorm3d"]
