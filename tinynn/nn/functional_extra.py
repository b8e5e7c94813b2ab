"""The functions of tinynn.nn.functional defined beside their layers or in their own files, gathered
here so that functional.py re-exports them in one line."""
from .bilinear import bilinear
from .functional_activations import (celu, celu_, elu_, glu, hardshrink, hardsigmoid, hardswish, hardtanh_,
                                     leaky_relu_, logsigmoid, mish, prelu, relu6, relu_, selu, selu_, softmin,
                                     softshrink, softsign, tanhshrink, threshold, threshold_)
from .functional_losses import (cosine_embedding_loss, cosine_similarity, gaussian_nll_loss, hinge_embedding_loss,
                                margin_ranking_loss, multilabel_soft_margin_loss, pairwise_distance,
                                poisson_nll_loss, soft_margin_loss, triplet_margin_loss)
from .pixel_shuffle import pixel_shuffle, pixel_unshuffle
from .pixel_shuffle import channel_shuffle, native_channel_shuffle
from .dropout import alpha_dropout, dropout1d, dropout2d, dropout3d, feature_alpha_dropout
from .fold import fold, unfold
from .conv_transpose import conv_transpose1d
from .functional_activations import rrelu, rrelu_
from .pooling_more import adaptive_avg_pool1d, adaptive_max_pool1d, adaptive_max_pool2d, avg_pool1d
from .conv3d import conv3d, conv_transpose3d
from .pooling3d import adaptive_avg_pool3d, adaptive_max_pool3d, avg_pool3d, max_pool3d

__all__ = ["bilinear", "celu", "celu_", "elu_", "glu", "hardshrink", "hardsigmoid", "hardswish", "hardtanh_",
           "leaky_relu_", "logsigmoid", "mish", "prelu", "relu6", "relu_", "selu", "selu_", "softmin", "softshrink",
           "softsign", "tanhshrink", "threshold", "threshold_", "cosine_embedding_loss", "cosine_similarity",
           "gaussian_nll_loss", "hinge_embedding_loss", "margin_ranking_loss", "multilabel_soft_margin_loss",
           "pairwise_distance", "poisson_nll_loss", "soft_margin_loss", "triplet_margin_loss", "pixel_shuffle",
           "pixel_unshuffle", "adaptive_avg_pool1d", "adaptive_max_pool1d", "adaptive_max_pool2d", "avg_pool1d"]
__all__ += ["channel_shuffle", "native_channel_shuffle", "alpha_dropout", "dropout1d", "dropout2d", "dropout3d",
            "feature_alpha_dropout", "fold", "unfold", "conv_transpose1d", "rrelu", "rrelu_"]
__all__ += ["conv3d", "conv_transpose3d", "adaptive_avg_pool3d", "adaptive_max_pool3d", "avg_pool3d", "max_pool3d"]
