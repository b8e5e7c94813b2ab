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
from .pooling_more import adaptive_avg_pool1d, adaptive_max_pool1d, adaptive_max_pool2d, avg_pool1d

__all__ = ["bilinear", "celu", "celu_", "elu_", "glu", "hardshrink", "hardsigmoid", "hardswish", "hardtanh_",
           "leaky_relu_", "logsigmoid", "mish", "prelu", "relu6", "relu_", "selu", "selu_", "softmin", "softshrink",
           "softsign", "tanhshrink", "threshold", "threshold_", "cosine_embedding_loss", "cosine_similarity",
           "gaussian_nll_loss", "hinge_embedding_loss", "margin_ranking_loss", "multilabel_soft_margin_loss",
           "pairwise_distance", "poisson_nll_loss", "soft_margin_loss", "triplet_margin_loss", "pixel_shuffle",
           "pixel_unshuffle", "adaptive_avg_pool1d", "adaptive_max_pool1d", "adaptive_max_pool2d", "avg_pool1d"]
