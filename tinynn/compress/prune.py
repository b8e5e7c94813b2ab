"""Magnitude pruning of `Linear` and `Conv1d`/`Conv2d` layers, PyTorch's `torch.nn.utils.prune` way
(whole channels of convolutional networks: `prune_conv`).

    prune.magnitude(model, 0.9, scope="global")   # zero the 90% smallest |w| of all Linear weights
    ... train ...                                  # pruned weights stay exactly zero
    prune.remove(model)                            # bake the masks in: plain Linear layers again

How masks persist. Pruning a layer's `weight` re-parametrises it: the weight Parameter (the same
object, so an optimizer built before pruning still holds it) is registered again as
`weight_orig` and leaves the parameters under its old name, a buffer `weight_mask` of 0/1 is
added, and a forward pre-hook sets the plain attribute

    weight = weight_orig * weight_mask              (elementwise)

before every forward. The forward pass therefore always uses exactly-zero pruned weights,
whatever the optimizer does to `weight_orig` (momentum, weight decay, Adam moments), and the
gradient reaching `weight_orig` is dL/dW * M. `state_dict()` holds `weight_orig` and
`weight_mask` (after the other parameters and buffers, as PyTorch orders them); between an
optimizer step and the next forward `layer.weight` still holds the previous product, as in
PyTorch. `remove()` writes W_orig * M into the original Parameter, registers it as `weight`
again and drops the hook and the mask.

Iterative pruning: calling `magnitude` again prunes `amount` of the weights that are still
unpruned (PyTorch's PruningContainer), so 0.5 then 0.5 leaves 25% of the weights.
"""
import copy

import numpy as np

from ..autograd import no_grad
from ..nn import Conv1d, Conv2d
from ..nn.layers import Dropout, Identity, Linear, ReLU, Sequential, Sigmoid, Tanh
from ..tensor import Tensor
from .prune_conv import conv_chains, shrink_channels

__all__ = ["magnitude", "remove", "shrink", "sparsity", "report", "is_pruned", "load_state_dict"]

SCOPES = ("layer", "global")
CONV_LAYERS = (Conv1d, Conv2d)
PRUNABLE = (Linear,) + CONV_LAYERS
_ELEMENTWISE = (ReLU, Sigmoid, Tanh, Identity, Dropout)


# ---------------------------------------------------------------- re-parametrisation
class _ApplyMask:
    """The forward pre-hook of a pruned tensor: layer.<name> = <name>_orig * <name>_mask.

    It holds only the tensor's name, so a deep copy of the layer carries a working hook."""

    def __init__(self, name):
        self.name = name

    def __call__(self, layer, args):
        setattr(layer, self.name, getattr(layer, self.name + "_orig") * getattr(layer, self.name + "_mask"))


def _hooks(layer):
    return [(k, h) for k, h in layer.__dict__.get("_forward_pre_hooks", {}).items() if isinstance(h, _ApplyMask)]


def _attach(layer, name):
    """Re-parametrise layer.<name> as <name>_orig * <name>_mask with a mask of ones (idempotent);
    returns the mask (None when the layer has no such Parameter)."""
    d = layer.__dict__
    if name + "_mask" in d["_buffers"]:
        return d["_buffers"][name + "_mask"]
    param = d["_parameters"].get(name)
    if param is None:
        return None
    delattr(layer, name)
    layer.register_parameter(name + "_orig", param)
    layer.register_buffer(name + "_mask", np.ones_like(param._data))
    layer.register_forward_pre_hook(_ApplyMask(name))
    return d["_buffers"][name + "_mask"]


def _refresh(layer):
    """Recompute every masked attribute now (after a mask or weight_orig changed outside forward)."""
    for _, hook in _hooks(layer):
        hook(layer, ())


def _detach(layer):
    d = layer.__dict__
    for key, hook in _hooks(layer):
        name = hook.name
        orig, mask = d["_parameters"][name + "_orig"], d["_buffers"][name + "_mask"]
        np.multiply(orig._data, mask, out=orig._data)  # W <- W_orig * M, in the same Parameter
        for attr in (name, name + "_orig", name + "_mask"):
            delattr(layer, attr)
        d["_forward_pre_hooks"].pop(key)
        layer.register_parameter(name, orig)


def is_pruned(layer):
    """True when `layer` carries a pruning mask (a forward pre-hook applying weight_mask or bias_mask)."""
    return bool(_hooks(layer))


def _effective(layer, name):
    """layer.<name> as the next forward computes it: <name>_orig * <name>_mask, or the Parameter."""
    d = layer.__dict__
    mask = d["_buffers"].get(name + "_mask")
    if mask is None:
        p = d["_parameters"].get(name)
        return None if p is None else p._data
    return d["_parameters"][name + "_orig"]._data * mask


def _weight(layer):
    return _effective(layer, "weight")


# ---------------------------------------------------------------- magnitude pruning
def _linears(model):
    """(name, layer) of every prunable layer: Linear, Conv1d, Conv2d."""
    if isinstance(model, PRUNABLE):
        return [("", model)]
    return [(name, m) for name, m in model.named_modules() if isinstance(m, PRUNABLE)]


def _check_amount(amount):
    if isinstance(amount, bool) or not isinstance(amount, (int, float, np.integer, np.floating)):
        raise TypeError(f"prune.magnitude: amount must be a float fraction in [0, 1] or an int count, got {amount!r}")
    if isinstance(amount, (int, np.integer)):
        if amount < 0:
            raise ValueError(f"prune.magnitude: amount={amount} is negative; give a count >= 0 or a fraction in [0, 1]")
        return
    if not 0.0 <= amount <= 1.0:  # also catches nan
        raise ValueError(f"prune.magnitude: amount={amount} is not a fraction in [0, 1] (an int gives a count)")


def _count(amount, n_alive, what):
    """Number to prune now: round(amount * n) for a fraction (Python rounding), or the int itself."""
    if isinstance(amount, (int, np.integer)):
        if amount > n_alive:
            raise ValueError(f"prune.magnitude: amount={amount} is more than the {n_alive} unpruned {what}")
        return int(amount)
    return int(round(float(amount) * n_alive))


def _scores(layer, structured):
    """Importance of each prunable unit and whether it is still unpruned.

    Unstructured: |w_ij| of every weight. Structured: ||W_j||_2, the L2 norm of each output
    neuron's weight row (a convolution's output filter W_o[c, u, v])."""
    w = _weight(layer)
    mask = layer.__dict__["_buffers"].get("weight_mask")
    if structured:
        rows = tuple(range(1, w.ndim))
        score = np.sqrt(np.sum(np.square(w, dtype=np.float64), axis=rows))
        alive = np.ones(w.shape[0], bool) if mask is None else np.any(mask != 0, axis=rows)
    else:
        score = np.abs(w).ravel().astype(np.float64)
        alive = np.ones(w.size, bool) if mask is None else (mask != 0).ravel()
    return score, alive


def _smallest(score, alive, k):
    """Indices of the k smallest-score alive units (ties broken by position, so exactly k)."""
    idx = np.flatnonzero(alive)
    if k <= 0:
        return idx[:0]
    return idx[np.argsort(score[idx], kind="stable")[:k]]


def _apply(layer, units, structured, norm=None):
    mask = _attach(layer, "weight")
    if structured:
        mask[units] = 0
        for m in (layer, norm) if norm is not None else (layer,):
            for name in ("bias", "weight") if m is norm else ("bias",):
                pmask = _attach(m, name)
                if pmask is not None:
                    pmask[units] = 0
            _refresh(m)
    else:
        mask.reshape(-1)[units] = 0
    _refresh(layer)


def magnitude(model, amount, scope="layer", structured=False, layers=None):
    """Prune the smallest-magnitude weights of every Linear layer, in place; returns `model`.

    amount: a fraction in [0, 1] (prune round(amount * n) of the n units that are still
        unpruned, Python rounding) or an int (prune exactly that many).
    scope="layer": each layer separately; "global": one ranking over all the layers' units.
    structured=False: the units are single weights, ranked by |w_ij|.
    structured=True: the units are whole output neurons, ranked by ||W_j||_2; the neuron's
        weight row and its bias entry are masked, so its pre-activation is exactly 0. The
        model's last Linear (whose outputs are the model's outputs) is left out unless `layers`
        says otherwise. Of the convolutions, those whose channels `shrink` can remove (prune_conv:
        a conv feeding, through an optional BatchNorm, the next conv or a Flatten and Linear) lose
        whole output filters, with their bias and the BatchNorm's gamma and beta masked too.
    layers: optional list of Linear modules (or their qualified names) to prune instead of all.

    Masks multiply with earlier ones (iterative pruning) and persist through training: see
    the module docstring."""
    if scope not in SCOPES:
        raise ValueError(f"prune.magnitude: unknown scope {scope!r}; choose one of {SCOPES}")
    _check_amount(amount)
    targets = _linears(model)
    if not targets:
        raise ValueError(f"prune.magnitude: {type(model).__name__} has no Linear layer to prune")
    if layers is not None:
        wanted = [l for l in layers]
        by_name = dict(targets)
        chosen = []
        for l in wanted:
            if isinstance(l, str):
                if l not in by_name:
                    raise ValueError(f"prune.magnitude: no Linear layer named {l!r}; have {list(by_name)}")
                chosen.append((l, by_name[l]))
            else:
                match = [(n, m) for n, m in targets if m is l]
                if not match:
                    raise ValueError(f"prune.magnitude: {type(l).__name__} in layers is not a Linear of this model")
                chosen.append(match[0])
        targets = chosen
    elif structured:
        linears = [(n, m) for n, m in targets if isinstance(m, Linear)]
        heads = {id(c.conv) for c in conv_chains(model)}
        targets = [(n, m) for n, m in targets if id(m) in heads] + (linears[:-1] if len(linears) > 1 else linears)
    norms = {id(c.conv): c.bn for c in conv_chains(model)} if structured else {}
    what = "neurons" if structured else "weights"
    if scope == "layer":
        plans = []
        for name, layer in targets:
            score, alive = _scores(layer, structured)
            k = _count(amount, int(alive.sum()), f"{what} of layer {name or type(layer).__name__!r} "
                                                 f"(weight shape {_weight(layer).shape})")
            plans.append((layer, _smallest(score, alive, k)))
        for layer, units in plans:
            _apply(layer, units, structured, norms.get(id(layer)))
        return model
    scores, alives, sizes = [], [], []
    for _, layer in targets:
        s, a = _scores(layer, structured)
        scores.append(s)
        alives.append(a)
        sizes.append(s.size)
    score, alive = np.concatenate(scores), np.concatenate(alives)
    k = _count(amount, int(alive.sum()), f"{what} of the {len(targets)} Linear layers")
    chosen = _smallest(score, alive, k)
    bounds = np.cumsum([0] + sizes)
    for (_, layer), lo, hi in zip(targets, bounds[:-1], bounds[1:]):
        units = chosen[(chosen >= lo) & (chosen < hi)] - lo
        _apply(layer, np.sort(units), structured, norms.get(id(layer)))
    return model


def remove(model):
    """Make pruning permanent: every pruned layer gets back a plain `weight` (and `bias`)
    Parameter holding W_orig * M (the same Parameter object), and the masks are dropped.
    Returns `model`. (Every masked module: a conv chain's BatchNorm carries masks too.)"""
    for _, layer in model.named_modules():
        _detach(layer)
    return model


def load_state_dict(model, state_dict, strict=True):
    """Load a state dict saved from a pruned model into `model` (pruned or not): layers whose
    entries include `<name>.weight_mask` / `<name>.bias_mask` are given masks first, then
    `model.load_state_dict(state_dict, strict)` copies weights and masks. Returns its result."""
    for name, layer in model.named_modules():
        pre = f"{name}." if name else ""
        for p in ("weight", "bias"):
            if pre + p + "_mask" in state_dict:
                _attach(layer, p)
    result = model.load_state_dict(state_dict, strict=strict)
    for _, layer in model.named_modules():
        _refresh(layer)
    return result


# ---------------------------------------------------------------- measuring
def report(model):
    """One dict per Linear layer, in order:
    {"layer": qualified name, "shape": (out, in), "weights": n, "zeros": number of zero weights,
     "sparsity": zeros / n, "neurons": out, "pruned_neurons": rows that are entirely zero,
     "masked": whether the layer carries a mask}."""
    rows = []
    for name, layer in _linears(model):
        w = _weight(layer)
        zeros = int(w.size - np.count_nonzero(w))
        rows.append({
            "layer": name, "shape": tuple(w.shape), "weights": int(w.size), "zeros": zeros,
            "sparsity": zeros / w.size if w.size else 0.0, "neurons": int(w.shape[0]),
            "pruned_neurons": int(np.sum(~np.any(w.reshape(w.shape[0], -1) != 0, axis=1))) if w[0].size
            else int(w.shape[0]),
            "masked": is_pruned(layer),
        })
    return rows


def sparsity(model):
    """Fraction of zero entries over all Linear weights: sum_l #{W_l == 0} / sum_l |W_l|."""
    rows = report(model)
    if not rows:
        raise ValueError(f"prune.sparsity: {type(model).__name__} has no Linear layer")
    total = sum(r["weights"] for r in rows)
    return sum(r["zeros"] for r in rows) / total if total else 0.0


# ---------------------------------------------------------------- shrinking
def shrink(model):
    """A new, smaller, dense `Sequential` with the same outputs as `model`.

    `model` is a Sequential of Linear layers with elementwise modules between them (ReLU,
    Sigmoid, Tanh, Identity, Dropout). A hidden neuron j whose weight row is entirely zero (as
    structured pruning leaves it) outputs the constant c_j = act(b_j) for every input; it is
    dropped, its column of the next Linear W' is dropped too, and its constant contribution is
    folded into the next bias: b' <- b' + W'[:, dropped] act(b[dropped]). The last Linear keeps
    all its outputs. Masks are not copied: the result is a plain model."""
    if not isinstance(model, Sequential):
        raise TypeError(f"prune.shrink: expected an nn.Sequential, got {type(model).__name__}")
    mods = [m for m in model if m is not None]
    if any(isinstance(m, CONV_LAYERS) for m in model.modules()):
        new = shrink_channels(remove(copy.deepcopy(model)))
        _shrink_linear_runs(new)
        return new
    for i, m in enumerate(mods):
        if not isinstance(m, Linear) and not isinstance(m, _ELEMENTWISE):
            raise ValueError(f"prune.shrink: module {i} ({type(m).__name__}) is neither Linear nor an elementwise "
                             "activation; shrink handles Sequential(Linear, activation, ..., Linear) and "
                             "convolutional networks")
    if not any(isinstance(m, Linear) for m in mods):
        raise ValueError("prune.shrink: the model has no Linear layer")
    return Sequential(*_shrink_linears(mods))


def _shrink_linear_runs(model):
    """In place: each run of Linear and elementwise modules in a Sequential of `model`, from its
    first Linear, replaced by its shrunk layers (its last Linear keeps its outputs)."""
    for parent in [m for m in model.modules() if isinstance(m, Sequential)]:
        names = [k for k, m in parent._modules.items() if m is not None]
        start = None
        for j, name in enumerate(names + [None]):
            m = parent._modules[name] if name is not None else None
            if isinstance(m, Linear) and start is None:
                start = j
            elif start is not None and not isinstance(m, (Linear,) + _ELEMENTWISE):
                segment = names[start:j]
                for key, new in zip(segment, _shrink_linears([parent._modules[k] for k in segment])):
                    setattr(parent, key, new)
                start = None


def _shrink_linears(mods):
    """New modules for `mods` (Linear and elementwise ones, in order) without the Linears' all-zero
    neurons, their constant outputs folded into the next Linear's bias (see shrink)."""
    lin = [i for i, m in enumerate(mods) if isinstance(m, Linear)]
    out = [copy.deepcopy(m) for m in mods]
    keep_in = dropped_in = const_in = None
    for pos, i in enumerate(lin):
        layer = mods[i]
        w = _weight(layer)
        b = _effective(layer, "bias")
        has_bias = b is not None
        b = np.zeros(w.shape[0], w.dtype) if b is None else b.copy()
        if keep_in is not None:
            if len(dropped_in):
                extra = w[:, dropped_in] @ const_in
                if np.any(extra != 0):
                    has_bias = True
                b = b + extra.astype(w.dtype)
            w = w[:, keep_in]
        if pos == len(lin) - 1:
            keep_out = np.arange(w.shape[0])
        else:
            alive = np.any(w != 0, axis=1)
            keep_out, dropped_out = np.flatnonzero(alive), np.flatnonzero(~alive)
            between = [copy.deepcopy(m).eval() for m in mods[i + 1:lin[pos + 1]]]
            with no_grad():
                c = Tensor(b[None, :].copy())
                for m in between:
                    c = m(c)
            const_in, keep_in, dropped_in = c._data[0, dropped_out], keep_out, dropped_out
        new = Linear(w.shape[1], len(keep_out), bias=has_bias, dtype=w.dtype)
        new.weight._data[...] = w[keep_out]
        if has_bias:
            new.bias._data[...] = b[keep_out]
        new.train(layer.training)
        out[i] = new
    return out
