"""torch.func's place in tinynn: for now only `functional_call` (tinynn has no vmap, grad or jacrev
transforms; `tinynn.autograd.functional` has jacobian, hessian, vjp and hvp).

    from tinynn.func import functional_call
    params = {k: v.detach().requires_grad_() for k, v in model.named_parameters()}
    loss = loss_fn(functional_call(model, params, (x,)), y)
    grads = tinynn.autograd.grad(loss, tuple(params.values()))
"""
from collections.abc import Sequence

from ..nn.stateless import _functional_call

__all__ = ["functional_call"]


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """module(*args, **kwargs) computed with the module's parameters and buffers replaced by the given tensors:
    y = f(x; theta') with theta'[k] = parameter_and_buffer_dicts[k] for each dotted name k given, the module's
    own value elsewhere. The module is left unchanged afterwards (even if forward raises) and gradients flow
    to the given tensors. `parameter_and_buffer_dicts` is a dict or a sequence of dicts with disjoint keys
    (a key in two is a ValueError); `args` that is not a tuple is a single argument. tie_weights: a tensor
    registered under several names takes the value given for any of them; strict: the keys must be exactly
    the module's parameters and buffers (RuntimeError otherwise)."""
    if isinstance(parameter_and_buffer_dicts, dict):
        values = parameter_and_buffer_dicts
    elif isinstance(parameter_and_buffer_dicts, Sequence):
        if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
            raise ValueError("Expected all elements of parameter_and_buffer_dicts to be dictionaries")
        counts = {}
        for d in parameter_and_buffer_dicts:
            for k in d:
                counts[k] = counts.get(k, 0) + 1
        repeated = [k for k, n in counts.items() if n > 1]
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional call is ambiguous")
        values = {k: v for d in parameter_and_buffer_dicts for k, v in d.items()}
    else:
        raise ValueError("Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, but got "
                         f"{type(parameter_and_buffer_dicts)}")
    return _functional_call(module, values, args, kwargs, tie_weights=tie_weights, strict=strict)
