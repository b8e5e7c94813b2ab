"""Converters of the layers whose forward takes two tensors (x1, x2), exported as two graph inputs
(export(layer, (x1, x2)); both batched, the batch axis 0 of each dynamic):

    Bilinear          y_k = Σ_ij x1_i A_kij x2_j + b_k: MatMul(x1, A') with A' = A permuted to (in1, out · in2),
                      Reshape (..., out, in2), Mul by Unsqueeze(x2, -2), ReduceSum over the last axis, Add b
                      (tinynn's own order of the sums)
    CosineSimilarity  cos = Σ_d (x1_d / max(||x1||, eps)) (x2_d / max(||x2||, eps)) along dim: each norm
                      Sqrt(ReduceSum(x x)), Max with eps, Div, Mul, ReduceSum; inputs of different shapes
                      are Expanded to their common shape first, as tinynn and PyTorch broadcast them
    PairwiseDistance  ||x1 - x2 + eps||_p along the last axis: p = 2 Sqrt(ReduceSum(d d)), p = 1 ReduceSum(Abs d),
                      p = inf ReduceMax(Abs d), other p > 0 Pow(ReduceSum(Pow(Abs d, p)), 1 / p)
"""
import math

import numpy as np

from ..nn.bilinear import Bilinear
from ..nn.distance import CosineSimilarity, PairwiseDistance
from .graph import converter
from .more_layers import reduce


def _pair(g, layer, x, value):
    (a, b), (va, vb) = x, value
    if va.ndim != vb.ndim or va.ndim < 2:
        raise ValueError(f"onnx.export: layer {g.layer!r} ({type(layer).__name__}) on inputs of shapes {va.shape} and "
                         f"{vb.shape}: tinynn exports two batched inputs of the same rank (N, ...)")
    return a, b, va, vb


@converter(Bilinear, inputs=2)
def bilinear(g, layer, x, value):
    x1, x2, v1, _ = _pair(g, layer, x, value)
    out, in1, in2 = layer.weight.shape
    w = np.transpose(layer.weight._data, (1, 0, 2)).reshape(in1, out * in2)
    a = g.node("MatMul", [x1, g.initializer(w, "weight_in1")])
    a = g.node("Reshape", [a, g.initializer(np.array([0] * (v1.ndim - 1) + [out, in2], np.int64), "shape")])
    x2 = g.node("Unsqueeze", [x2, g.constant([-2], np.int64, "minus_two_i64")])
    y = reduce(g, "ReduceSum", g.node("Mul", [a, x2]), [-1], keepdims=False)
    return y if layer.bias is None else g.node("Add", [y, g.initializer(layer.bias, "bias")])


@converter(CosineSimilarity, inputs=2)
def cosine_similarity(g, layer, x, value):
    x1, x2, v1, v2 = _pair(g, layer, x, value)
    if v1.shape != v2.shape:  # the norms of the broadcast tensors, as tinynn takes them
        x1, x2 = g.node("Expand", [x1, g.node("Shape", [x2])]), g.node("Expand", [x2, g.node("Shape", [x1])])
    dim, eps = int(layer.dim), g.constant(layer.eps, np.float32, "eps")

    def unit(t):
        norm = g.node("Sqrt", [reduce(g, "ReduceSum", g.node("Mul", [t, t]), [dim], keepdims=True)])
        return g.node("Div", [t, g.node("Max", [norm, eps])])
    return reduce(g, "ReduceSum", g.node("Mul", [unit(x1), unit(x2)]), [dim], keepdims=False)


@converter(PairwiseDistance, inputs=2)
def pairwise_distance(g, layer, x, value):
    x1, x2, _, _ = _pair(g, layer, x, value)
    p, keep = float(layer.norm), bool(layer.keepdim)
    if not p > 0:
        raise ValueError(f"onnx.export: layer {g.layer!r} (PairwiseDistance, p={layer.norm}): tinynn's norm takes "
                         "p > 0 (or inf)")
    d = g.node("Add", [g.node("Sub", [x1, x2]), g.constant(layer.eps, np.float32, "pairwise_eps")])
    if p == 2:
        return g.node("Sqrt", [reduce(g, "ReduceSum", g.node("Mul", [d, d]), [-1], keep)])
    d = g.node("Abs", [d])
    if p == 1:
        return reduce(g, "ReduceSum", d, [-1], keep)
    if math.isinf(p):
        return reduce(g, "ReduceMax", d, [-1], keep)
    total = reduce(g, "ReduceSum", g.node("Pow", [d, g.constant(p, np.float32, "p")]), [-1], keep)
    return g.node("Pow", [total, g.constant(1 / p, np.float32, "one_over_p")])
