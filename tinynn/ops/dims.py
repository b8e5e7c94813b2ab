"""PyTorch's dimension arguments, normalised: `dim`/`keepdim`, and NumPy's `axis`/`keepdims`
(which PyTorch accepts too). No math here."""
import operator


def one_dim(op, dim, ndim):
    """`dim` as an index in [0, ndim): negative dims count from the end; a 0-d tensor takes -1 and 0
    (as in PyTorch). IndexError naming the op otherwise."""
    size = max(ndim, 1)
    try:
        d = operator.index(dim)
    except TypeError:
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}") from None
    if not -size <= d < size:
        raise IndexError(f"{op}: dim {d} is out of range for a tensor with {ndim} dimensions "
                         f"(expected in [{-size}, {size - 1}])")
    return d % size


def reduce_dims(op, ndim, dim=None, keepdim=False, axis=None, keepdims=None):
    """(axis, keepdims) for a reduction over `dim` (an int, a tuple/list of ints, or None for every
    dim); `axis`/`keepdims` are the NumPy spellings of the same arguments."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{op}: got both dim={dim} and axis={axis}; pass one")
        dim = axis
    keepdim = bool(keepdim if keepdims is None else keepdims)
    if dim is None:
        return None, keepdim
    if type(dim) is int and -ndim <= dim < ndim:  # the common case, without building a tuple
        return dim % ndim, keepdim
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    dims = tuple(one_dim(op, d, ndim) for d in dims)
    if len(set(dims)) != len(dims):
        raise ValueError(f"{op}: dim {dim} names a dimension twice")
    if ndim == 0 or not dims:
        return None, keepdim  # a 0-d tensor reduced over its dim 0 (or -1) is itself
    return (dims[0] if len(dims) == 1 else dims), keepdim


def no_out(op, out):
    """PyTorch's and NumPy's `out=` (NumPy's np.sum(t) passes out=None): only None is supported."""
    if out is not None:
        raise TypeError(f"{op}: out= is not supported by tinynn; use the returned tensor")


def reduction_method(cls, op, formula):
    """The Tensor method `op(dim=None, keepdim=False, *, dtype=None)` of a reduction op `cls` taking
    (axis, keepdims); `dtype` casts the input first, as PyTorch does."""
    def method(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None, out=None):
        no_out(op, out)
        dim, keepdim = reduce_dims(op, self.ndim, dim, keepdim, axis, keepdims)
        return cls.apply(self if dtype is None else self.to(dtype), axis=dim, keepdims=keepdim)
    method.__name__ = method.__qualname__ = op
    method.__doc__ = f"{formula} over dim (an int, a tuple, or every dim when None)."
    return method
