"""Channel pruning of convolutional networks: which output channels of a Conv2d can go, and shrinking
the network without them.

An output channel o of a convolution can be removed only where its consumers are known: the conv
must feed, through a run of modules (chains.runs), an optional BatchNorm, modules that map zero to
zero (ReLU, Tanh, pooling, Dropout, Identity) and then one consumer: the next Conv2d or a Flatten and
a Linear. Structured pruning of such a conv masks its filter W_o, its bias b_o and the BatchNorm's
gamma_o and beta_o, so the channel is exactly zero after the BatchNorm in training and in eval mode
(whatever its running statistics) and stays zero up to the consumer, where it adds nothing: shrinking
then drops it from the conv, the BatchNorm and the consumer's inputs (a Conv2d's input channel o,
or the Linear's columns o*S .. (o+1)*S - 1 for S = features per channel after Flatten) and the
outputs do not change. A conv feeding a residual addition is no such chain and is left alone.
"""
import numpy as np

from ..nn import AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Conv2d, MaxPool2d
from ..nn.layers import Dropout, Flatten, Identity, Linear, ReLU, Tanh
from ..nn.parameter import Parameter
from .chains import runs

__all__ = ["conv_chains", "shrink_channels"]

ZERO_PRESERVING = (ReLU, Tanh, Identity, Dropout, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d)


class Chain:
    """conv -> [bn] -> zero-preserving modules -> consumer (a Conv2d, or a Linear after `flatten`)."""

    def __init__(self, conv, bn, consumer, flatten):
        self.conv, self.bn, self.consumer, self.flatten = conv, bn, consumer, flatten


def conv_chains(model):
    """Every Chain in `model`, in the order of its runs; a conv appears at most once."""
    found, seen = [], set()
    for _, parent, names in runs(model):
        mods = [parent._modules[n] for n in names]
        for i, m in enumerate(mods):
            if type(m) is not Conv2d or m.groups != 1 or id(m) in seen:
                continue
            j, bn = i + 1, None
            if j < len(mods) and type(mods[j]) is BatchNorm2d:
                bn, j = mods[j], j + 1
            while j < len(mods) and type(mods[j]) in ZERO_PRESERVING:
                j += 1
            if j < len(mods) and type(mods[j]) is Conv2d and mods[j].groups == 1:
                found.append(Chain(m, bn, mods[j], False))
            elif j + 1 < len(mods) and type(mods[j]) is Flatten and type(mods[j + 1]) is Linear:
                found.append(Chain(m, bn, mods[j + 1], True))
            else:
                continue
            seen.add(id(m))
    return found


def _keep(values, keep):
    return np.ascontiguousarray(np.asarray(values)[keep])


def _dead_channels(chain):
    """Output channels of chain.conv that are exactly zero after its BatchNorm (see the module docstring)."""
    w = chain.conv.weight._data
    dead = ~np.any(w.reshape(w.shape[0], -1) != 0, axis=1)
    if chain.conv.bias is not None:
        dead &= chain.conv.bias._data == 0
    if chain.bn is not None:
        if chain.bn.weight is None:
            return np.zeros_like(dead)
        dead &= (chain.bn.weight._data == 0) & (chain.bn.bias._data == 0)
    return dead


def _shrink_chain(chain):
    keep = np.flatnonzero(~_dead_channels(chain))
    conv, n = chain.conv, chain.conv.out_channels
    if len(keep) == n:
        return
    conv.weight = Parameter(_keep(conv.weight._data, keep))
    if conv.bias is not None:
        conv.bias = Parameter(_keep(conv.bias._data, keep))
    conv.out_channels = len(keep)
    bn = chain.bn
    if bn is not None:
        bn.weight, bn.bias = Parameter(_keep(bn.weight._data, keep)), Parameter(_keep(bn.bias._data, keep))
        for name in ("running_mean", "running_var"):
            if getattr(bn, name, None) is not None:
                setattr(bn, name, _keep(getattr(bn, name), keep))
        bn.num_features = len(keep)
    nxt = chain.consumer
    w = nxt.weight._data
    if chain.flatten:
        per = w.shape[1] // n
        nxt.weight = Parameter(np.ascontiguousarray(w.reshape(w.shape[0], n, per)[:, keep].reshape(w.shape[0], -1)))
        nxt.in_features = len(keep) * per
    else:
        nxt.weight = Parameter(np.ascontiguousarray(w[:, keep]))
        nxt.in_channels = len(keep)


def shrink_channels(model):
    """`model` (a plain copy: no masks) without the exactly-zero channels of its conv chains, in place."""
    for chain in conv_chains(model):
        _shrink_chain(chain)
    return model
