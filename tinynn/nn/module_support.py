"""Helpers of Module: the argument parsing of Module.to and the handle a hook registration returns."""
import numpy as np

from ..tensor import Tensor


def to_dtype(args, kwargs):
    """The dtype Module.to's arguments ask for (None for a device alone), after checking the device."""
    unknown = sorted(set(kwargs) - {"device", "dtype", "non_blocking", "copy", "memory_format"})
    if unknown or len(args) > 2:
        raise TypeError(f"Module.to: unexpected arguments {unknown or args}; expected to(device), to(dtype), "
                        "to(device, dtype) or to(tensor)")
    device, dtype = kwargs.get("device"), kwargs.get("dtype")
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, str) or type(a).__name__ == "device":
            device = a
        else:
            dtype = a
    if device is not None and str(getattr(device, "type", device)).split(":")[0] != "cpu":
        raise RuntimeError(f"Module.to: device {str(device)!r} is not available; tinynn runs on the CPU only ('cpu')")
    if dtype is None:
        return None
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"Module.to: expected a dtype, a device or a tensor, got {dtype!r}") from None
    if dtype.kind != "f":
        raise TypeError(f"Module.to only accepts floating-point dtypes, got {dtype}")
    return dtype


class HookHandle:
    """Returned by register_*_hook; `handle.remove()` unregisters the hook."""

    _next = 0

    def __init__(self, registry, hook):
        HookHandle._next += 1
        self.id = HookHandle._next
        self.registry = registry
        registry[self.id] = hook

    def remove(self):
        self.registry.pop(self.id, None)
