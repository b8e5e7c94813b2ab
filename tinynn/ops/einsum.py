"""torch.einsum: the equation parsed once into explicit subscripts (an ellipsis becomes letters of
its own, an implicit output is the letters seen once, sorted), size-1 dims broadcast, and the
operands contracted pairwise from the left, as PyTorch does, by the one op Einsum (one or two
operands). Its gradient for an operand is itself an einsum (of the incoming gradient and the other
operand), so it is differentiable to any order."""
import string

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..tensor import Tensor
from .views import Expand

LETTERS = string.ascii_uppercase + string.ascii_lowercase  # PyTorch's label order: A-Z, then a-z


def _delta(n, order, dtype):
    """The constant delta_{i1 ... ik}: 1 where all k indices are equal, else 0 (shape (n,) * k)."""
    d = np.zeros((n,) * order, dtype)
    d[(np.arange(n),) * order] = 1
    return d


class Einsum(Function):
    """y = einsum("t0[,t1]->out", a[, b]), subscripts explicit (no ellipsis), sizes already matching.

    dL/da_{t0} = sum over the letters not in t0 of g_{out} b_{t1}: the einsum "out,t1->u" over t0's
    distinct letters u, spread along the letters only t0 has (broadcast) and onto the diagonals t0
    repeats (times delta_{i i' ...}, a constant); the same for b with the roles swapped."""

    __slots__ = ('terms', 'out', 'a', 'b', 'shapes')
    differentiable = True

    def forward(self, *operands, terms, out):
        self.terms, self.out, self.shapes = terms, out, [x.shape for x in operands]
        self.a, self.b = operands[0], (operands[1] if len(operands) > 1 else None)
        y = backend.active.einsum(",".join(terms) + "->" + out, *operands)
        if len(operands) == 1 and np.may_share_memory(y, operands[0]):  # a permutation or diagonal: a view, as in PyTorch
            y.flags.writeable = operands[0].flags.writeable
        return y

    def backward(self, g):
        ops = [self.a] if self.b is None else [self.a, self.b]
        return tuple(self._operand_grad(i, g, ops) if self.needs_grad[i] else None for i in range(len(ops)))

    def _operand_grad(self, i, g, ops):
        term, shape = self.terms[i], self.shapes[i]
        others = [(t, x) for j, (t, x) in enumerate(zip(self.terms, ops)) if j != i]
        unique = "".join(dict.fromkeys(term))
        present = "".join(c for c in unique if c in self.out or any(c in t for t, _ in others))
        size = {c: shape[term.index(c)] for c in unique}
        grad = backend.active.einsum(",".join([self.out] + [t for t, _ in others]) + "->" + present,
                                     g, *[x for _, x in others])
        if present != unique:  # letters only this operand has were summed: the gradient is constant along them
            grad = backend.active.broadcast_to(grad.reshape([size[c] if c in present else 1 for c in unique]),
                                               tuple(size[c] for c in unique))
        if unique == term:
            return grad
        spare = iter(c for c in LETTERS if c not in term and c not in self.out and all(c not in t for t, _ in others))
        fresh, deltas = [], []
        for k, c in enumerate(term):  # a repeated letter's later places get letters of their own ...
            if c in term[:k]:
                fresh.append(next(spare))
                deltas[[d[0] for d in deltas].index(c)] += fresh[-1]
            else:
                fresh.append(c)
                if term.count(c) > 1:
                    deltas.append(c)
        constants = [_delta(size[d[0]], len(d), np.asarray(g).dtype) for d in deltas]  # ... tied to it by a delta
        return backend.active.einsum(",".join([unique] + deltas) + "->" + "".join(fresh), grad, *constants)


def _parse(op, equation, shapes):
    """(terms, out): explicit subscripts for each operand and the output, checked as PyTorch checks them."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise RuntimeError(f"{op}(): {'fewer' if len(terms) > len(shapes) else 'more'} operands were provided "
                           f"than specified in the equation {equation!r} ({len(shapes)} operands)")
    for k, c in enumerate(eq.replace("->", "  ", 1).replace(",", " ").replace(".", " ")):
        if c != " " and c not in LETTERS:
            raise RuntimeError(f"{op}(): invalid subscript given at index {k} in the equation string, "
                               "subscripts must be in [a-zA-Z]")
    used = set(c for c in eq if c in LETTERS)
    spare = [c for c in LETTERS if c not in used]
    widths = []
    for n, (t, shape) in enumerate(zip(terms, shapes)):
        if t.replace("...", "", 1).count(".") or t.count("...") > 1:
            raise RuntimeError(f"{op}(): found '.' for operand {n} that is not part of one ellipsis ('...')")
        letters = len(t) - 3 * ("..." in t)
        if letters > len(shape) or (letters != len(shape) and "..." not in t):
            raise RuntimeError(f"{op}(): the number of subscripts in the equation ({letters}) does not match the "
                               f"number of dimensions ({len(shape)}) for operand {n}"
                               f"{'' if '...' in t else ' and no ellipsis was given'}")
        widths.append(len(shape) - letters)
    width = max(widths, default=0)
    if width > len(spare):
        raise RuntimeError(f"{op}(): too many dimensions: the ellipsis and the subscripts need more than 52 letters")
    ellipsis = "".join(spare[:width])
    terms = [t.replace("...", ellipsis[width - w:]) for t, w in zip(terms, widths)]
    if not arrow:
        once = sorted(c for c in used if lhs.count(c) == 1)
        return terms, ellipsis + "".join(once)
    if rhs.replace("...", "", 1).count(".") or rhs.count("...") > 1:
        raise RuntimeError(f"{op}(): found '.' for the output that is not part of one ellipsis ('...')")
    out = rhs.replace("...", ellipsis)
    for c in out:
        if out.count(c) > 1:
            raise RuntimeError(f"{op}(): output subscript {c} appears more than once in the output")
        if c not in lhs and c not in ellipsis:
            raise RuntimeError(f"{op}(): output subscript {c} does not appear in the equation for any input operand")
    return terms, out


def _sublists(args):
    """einsum(op0, sublist0, op1, sublist1, ..., [out]): the equation string it stands for, and the operands."""
    def letters(sublist):
        for s in sublist:
            if s is not Ellipsis and not (isinstance(s, (int, np.integer)) and 0 <= s < 52):
                raise ValueError("einsum(): subscript in subscript list is not within the valid range [0, 52)")
        return "".join("..." if s is Ellipsis else LETTERS[26:][s] if s < 26 else LETTERS[s - 26] for s in sublist)
    operands, terms = list(args[0::2]), [letters(s) for s in args[1::2]]
    out = "->" + letters(operands.pop()) if len(operands) > len(terms) else ""
    return ",".join(terms) + out, operands


def einsum(*args):
    """torch.einsum(equation, *operands): sum over the letters not in the output of the product of the
    operands' elements, y_{out} = sum prod_k x_k[t_k], e.g. "ij,jk->ik" is A B, "ii" the trace,
    "bij,bjk->bik" a batched product, "...ij->...ji" a transpose of the last two dims. Operands may
    be varargs or one list; also the sublist form einsum(x, [0, 1], y, [1, 2], [0, 2])."""
    if not args or (isinstance(args[0], str) and len(args) == 1):
        raise ValueError("einsum(): must specify the equation string and at least one operand, "
                         "or at least one operand and its subscripts list")
    if isinstance(args[0], str):
        equation, operands = args[0], list(args[1][:] if len(args) == 2 and isinstance(args[1], (list, tuple)) else args[1:])
    else:
        equation, operands = _sublists(args)
    for k, x in enumerate(operands):
        if not isinstance(x, Tensor):
            raise TypeError(f"einsum(): expected Tensor as operand {k}, but got {type(x).__name__}")
    if any(x.dtype != operands[0].dtype for x in operands):
        raise RuntimeError(f"einsum(): expected operands of one dtype, got {[str(x.dtype) for x in operands]}")
    terms, out = _parse("einsum", equation, [x.shape for x in operands])
    return contract(terms, out, operands)


def contract(terms, out, operands):
    """The einsum of explicit subscripts: size-1 dims broadcast, then operands contracted pairwise from the left."""
    size = {}
    for n, (t, x) in enumerate(zip(terms, operands)):
        first = {}
        for c, s in zip(t, x.shape):
            if c in first:
                if s != first[c]:
                    raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {n} but the sizes "
                                       f"don't match, {s} != {first[c]}")
                continue
            first[c] = s
            if size.get(c, 1) != 1 and s not in (1, size[c]):
                raise RuntimeError(f"einsum(): subscript {c} has size {s} for operand {n} which does not broadcast "
                                   f"with previously seen size {size[c]} (shapes {[tuple(o.shape) for o in operands]})")
            size[c] = s if size.get(c, 1) == 1 else size[c]
    operands = [x if tuple(size[c] for c in t) == tuple(x.shape) else Expand.apply(x, shape=tuple(size[c] for c in t))
                for t, x in zip(terms, operands)]
    kind = operands[0].dtype.kind
    if kind == "b" and len(operands) > 1 and any(c not in out for c in "".join(terms)):
        raise NotImplementedError("einsum(): a contraction of bool tensors is not implemented (as in PyTorch)")
    if len(operands) == 1 and kind in "biu" and any(c not in out for c in terms[0]):
        operands = [operands[0].long()]  # a sum of integers is int64, as torch.sum's
    y, t = operands[0], terms[0]
    if len(operands) == 1:
        return Einsum.apply(y, terms=(t,), out=out)
    for k in range(1, len(operands)):
        later = out + "".join(terms[k + 1:])
        keep = out if k == len(operands) - 1 else "".join(dict.fromkeys(c for c in t + terms[k] if c in later))
        y, t = Einsum.apply(y, operands[k], terms=(t, terms[k]), out=keep), keep
    return y


def differentiable_einsum(equation, *operands):
    """The kernel einsum on Tensors (backward(create_graph=True)): arrays among the operands are constants."""
    operands = [x if isinstance(x, Tensor) else Tensor._wrap(np.asarray(x), False) for x in operands]
    lhs, out = equation.split("->")
    return contract(lhs.split(","), out, operands)
