"""PyTorch's products beyond matmul, composed of einsum, matmul and elementwise ops (their gradients
are those ops'): tensordot, outer/ger, mv, addmm/addmv/baddbmm, trace, cross, kron."""
import warnings

import numpy as np

from ..tensor import Tensor
from .dims import one_dim
from .einsum import LETTERS, contract
from .matmul import MatMul
from .shape import Where


def _same_dtype(op, *tensors):
    if any(t.dtype != tensors[0].dtype for t in tensors):
        raise RuntimeError(f"{op}: expected operands of one dtype, got {[str(t.dtype) for t in tensors]}")


def tensordot(a, b, dims=2, out=None):
    """sum over the paired dims of a and b of a[i..., k...] b[k..., j...]: dims = n pairs a's last n dims
    with b's first n; dims = (dims_a, dims_b) pairs them one by one."""
    _same_dtype("tensordot", a, b)
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        dims = (list(range(a.ndim - dims, a.ndim)), list(range(dims)))
    if len(dims) != 2 or any(isinstance(d, (int, np.integer)) for d in dims):
        raise TypeError(f"tensordot: dims must be an int or a pair of lists of dims, got {dims!r}")
    da, db = (list(d) for d in dims)
    if len(da) != len(db):
        raise RuntimeError(f"tensordot: both dimension lists should have same length, got {da} and {db}")
    da, db = [one_dim("tensordot", d, a.ndim) for d in da], [one_dim("tensordot", d, b.ndim) for d in db]
    ta, tb = LETTERS[:a.ndim], list(LETTERS[a.ndim:a.ndim + b.ndim])
    for i, j in zip(da, db):
        tb[j] = ta[i]
    tb = "".join(tb)
    return contract([ta, tb], "".join(c for c in ta if c not in tb) + "".join(c for c in tb if c not in ta), [a, b])


def outer(self, vec2):
    """(self vec2^T)_{ij} = self_i vec2_j of two vectors (PyTorch's promotion)."""
    for name, t in (("self", self), ("vec2", vec2)):
        if t.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t.ndim}-D")
    return self.reshape(-1, 1) * vec2


def mv(self, vec):
    """(A v)_i = sum_j A_ij v_j: a matrix times a vector."""
    if self.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"mv: vector + matrix @ vector expected, got shapes {tuple(self.shape)} and {tuple(vec.shape)}")
    return MatMul.apply(self, vec)


def _add_product(op, product, ndims):
    def method(self, m1, m2, *, beta=1, alpha=1, out=None):
        for name, t, n in zip(("first", "second"), (m1, m2), ndims):
            if t.ndim != n:
                raise RuntimeError(f"{op}: the {name} factor must be a {n}-D tensor, got shape {tuple(t.shape)}")
        _same_dtype(op, self, m1, m2)
        if self.dtype == np.bool_:
            raise NotImplementedError(f"{op}: not implemented for bool tensors (as in PyTorch)")
        if self.dtype.kind in "iu" and any(isinstance(v, float) for v in (beta, alpha)):
            raise TypeError(f"{op}: for integer tensors beta and alpha must be integers, got {beta} and {alpha}")
        p = product(m1, m2)
        p = p if alpha == 1 else p * alpha
        try:
            start = self.expand(*p.shape)
        except ValueError:
            raise RuntimeError(f"{op}: input of shape {tuple(self.shape)} does not broadcast to the result's "
                               f"{tuple(p.shape)}") from None
        if beta == 0:  # input ignored, NaN too; its gradient is 0 (not None), as PyTorch's
            return Where.apply(p, start, condition=np.ones((), bool))
        return p + (start if beta == 1 else start * beta)
    method.__name__ = op
    method.__doc__ = f"{op}(input, a, b, *, beta=1, alpha=1) = beta input + alpha (a @ b) (input broadcast; ignored when beta = 0)."
    return method


addmm = _add_product("addmm", lambda a, b: MatMul.apply(a, b), (2, 2))
addmv = _add_product("addmv", lambda a, b: MatMul.apply(a, b), (2, 1))
baddbmm = _add_product("baddbmm", lambda a, b: a.bmm(b), (3, 3))


def trace(self):
    """sum_i x_ii of a matrix, i < min(rows, cols) (integers summed as int64)."""
    if self.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {self.ndim}")
    if self.dtype == np.bool_:
        raise NotImplementedError("trace: not implemented for bool tensors (as in PyTorch)")
    return self.diagonal().sum()


def cross(self, other, dim=None):
    """The cross product along dim (of size 3): c_i = a_{i+1} b_{i+2} - a_{i+2} b_{i+1}, indices mod 3;
    inputs broadcast; dim=None: the first dim of size 3 (PyTorch's deprecated default)."""
    _same_dtype("cross", self, other)
    shape = np.broadcast_shapes(tuple(self.shape), tuple(other.shape))
    a, b = self.expand(*shape), other.expand(*shape)
    if dim is None:
        warnings.warn("cross: dim=None picks the first dim of size 3; pass dim explicitly", UserWarning, stacklevel=2)
        if 3 not in shape:
            raise RuntimeError(f"cross: no dimension of size 3 in input (shape {shape})")
        dim = shape.index(3)
    d = one_dim("cross", dim, len(shape))
    if shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. "
                           f"Got {self.shape[d] if self.ndim == len(shape) else shape[d]} and {shape[d]}")
    return a.roll(-1, d) * b.roll(-2, d) - a.roll(-2, d) * b.roll(-1, d)


def kron(self, other):
    """(A (x) B)[i_1 m_1 + k_1, ...] = A[i_1, ...] B[k_1, ...], m the sizes of B (the fewer dims padded with 1s)."""
    n = max(self.ndim, other.ndim)
    sa, sb = (1,) * (n - self.ndim) + tuple(self.shape), (1,) * (n - other.ndim) + tuple(other.shape)
    interleaved = self.reshape(*[s for d in sa for s in (d, 1)]) * other.reshape(*[s for d in sb for s in (1, d)])
    return interleaved.reshape(*[p * q for p, q in zip(sa, sb)])
