"""dtypes: the ones tinynn supports, the default float dtype, and PyTorch's type promotion.

PyTorch's rule (`torch.result_type`): the categories are bool < integer < floating. Operands
come in three tiers: tensors with dimensions, zero-dimensional tensors, Python numbers. Within a
tier dtypes promote as usual (the larger type of the higher category). A lower tier matters only
when its category is higher than every higher tier's: `int32 tensor + 0-d int64 tensor` is
int32, `float32 tensor * 2.0` stays float32, but `int64 tensor + 0.5` is floating. A Python float
counts as the default dtype (`get_default_dtype()`, float32), a Python int as int64.
"""
import numpy as np

float16, float32, float64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
int8, int16, int32, int64 = np.dtype(np.int8), np.dtype(np.int16), np.dtype(np.int32), np.dtype(np.int64)
uint8, bool_ = np.dtype(np.uint8), np.dtype(np.bool_)
ALIASES = {"float": float32, "double": float64, "half": float16, "long": int64, "int": int32, "bool": bool_}
SUPPORTED_DTYPES = frozenset((float16, float32, float64, int8, int16, int32, int64, uint8, bool_))

_default = [float32]


def get_default_dtype():
    """The dtype Python floats and the floating creation functions get (float32 unless set)."""
    return _default[0]


def set_default_dtype(dtype):
    """Make `dtype` (a floating dtype) the default: `tn.tensor(1.0)`, `tn.zeros(2)`, `int / int`."""
    dtype = checked_dtype(dtype, "set_default_dtype")
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes can be the default, got {dtype}")
    _default[0] = dtype


def checked_dtype(dtype, op="tensor"):
    """np.dtype(dtype) if tinynn supports it, else a TypeError naming the op."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: unknown dtype {dtype!r}") from None
    if dtype not in SUPPORTED_DTYPES:
        raise TypeError(f"{op}: unsupported dtype {dtype}; supported: {sorted(str(d) for d in SUPPORTED_DTYPES)}")
    return dtype


_CATEGORIES = {"b": 0, "i": 1, "u": 1, "f": 2}


def category(dtype):
    """0 bool, 1 integer, 2 floating."""
    return _CATEGORIES[dtype.kind]


def promote_types(a, b):
    """The smallest dtype both `a` and `b` convert to within PyTorch's categories: the floating one
    when only one is floating (int64 with float16 is float16), else NumPy's promotion."""
    ca, cb = category(a), category(b)
    if ca != cb and 2 in (ca, cb):
        return a if ca == 2 else b
    return np.promote_types(a, b)


def scalar_dtype(value):
    """The dtype a Python number gets: bool, int64, or the default float dtype."""
    if isinstance(value, (bool, np.bool_)):
        return bool_
    return int64 if isinstance(value, (int, np.integer)) else get_default_dtype()


def result_type(*operands):
    """The dtype PyTorch gives an elementwise op of `operands` (arrays, Tensors or Python numbers)."""
    tiers = [None, None, None]  # dimensioned, zero-dimensional, Python numbers
    for x in operands:
        if getattr(x, "dtype", None) is None:
            tier, dtype = 2, scalar_dtype(x)
        else:
            tier, dtype = (0 if len(x.shape) else 1), np.dtype(x.dtype)
        tiers[tier] = dtype if tiers[tier] is None else promote_types(tiers[tier], dtype)
    result = None
    for dtype in tiers:  # highest tier first; a lower tier counts only with a higher category
        if dtype is None:
            continue
        if result is None:
            result = dtype
        elif category(dtype) > category(result):
            result = promote_types(result, dtype)
    return result
