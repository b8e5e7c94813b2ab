"""Where one module's output is the next one's input: the runs that fusion, quantization and channel
pruning follow.

A Sequential's children run in order, so each feeds the next. A module whose forward is not one
chain declares the runs inside it in a class attribute `chains`: tuples of child names, each child
feeding the next (models.BasicBlock: ("conv1", "bn1", "relu1", "conv2", "bn2"), the residual branch
before the addition)."""
from ..nn.layers import Sequential

__all__ = ["runs", "qualified"]


def qualified(prefix, name):
    return f"{prefix}.{name}" if prefix else name


def runs(model):
    """(parent's qualified name, parent, [child names in data-flow order]) for every Sequential in
    `model` (its non-None children) and every run a module declares in `chains`."""
    found = []
    for pname, parent in model.named_modules():
        if isinstance(parent, Sequential):
            found.append((pname, parent, [k for k, m in parent._modules.items() if m is not None]))
        for chain in getattr(type(parent), "chains", ()):
            found.append((pname, parent, [k for k in chain if parent._modules.get(k) is not None]))
    return found


def successor(model, layer):
    """(parent, name of the child right after `layer` in a run) or (None, None)."""
    for _, parent, names in runs(model):
        for a, b in zip(names, names[1:]):
            if parent._modules[a] is layer:
                return parent, b
    return None, None
