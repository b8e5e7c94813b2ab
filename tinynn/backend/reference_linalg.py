"""The reference's einsum and dense linear algebra (NumPy's, batched over leading dims)."""
import numpy as np


def einsum(equation, *operands):
    """y = sum over the letters not right of '->' of prod_k operands[k][letters k] (explicit subscripts,
    no ellipsis); one operand without a sum may come back as a view of it (a transpose, a diagonal)."""
    if len(operands) == 1:
        return np.einsum(equation, operands[0])
    return np.einsum(equation, *operands, optimize=True)  # pairs through tensordot (BLAS) where it can


def det(a):
    """det A for each matrix A of a (..., n, n) (an LU factorization)."""
    return np.linalg.det(a)


def inv(a):
    """A^-1 for each matrix A of a (..., n, n); np.linalg.LinAlgError when one is singular."""
    return np.linalg.inv(a)


def solve(a, b):
    """X with A X = B for each A of a (..., n, n) and B of b (..., n, k) (batch dims broadcast)."""
    return np.linalg.solve(a, b)
