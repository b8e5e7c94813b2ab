"""Type promotion of the binary ops over every pair of bool, uint8, int8, int16, int32, int64,
float32, float64, as dimensioned tensors, zero-dimensional tensors and Python scalars, against
PyTorch's documented rules (torch.promote_types and the "Type promotion" notes of torch.Tensor's
docs), typed here by hand from those rules, not read from tinynn:

- two operands of the same priority: torch.promote_types (PROMOTE below);
- priorities: dimensioned tensors > zero-dimensional tensors > Python scalars; an operand of lower
  priority takes part only when its category (bool < integer < floating) is higher than that of
  every operand of higher priority; then the result is the promotion of the operands of that
  category at the highest priority that has one, a Python int counting as int64 and a Python float
  as the default dtype (float32);
- true division of two integer/bool operands gives the default float dtype.
tests/unit/test_tensor_dtypes.py holds the hand-picked examples; this file is the whole table."""
import numpy as np
import pytest

import tinynn as tn

NAMES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float32", "float64")
# torch.promote_types(row, column), one row per line, columns in NAMES' order
PROMOTE_TEXT = """
bool     bool    uint8   int8    int16   int32   int64   float32 float64
uint8    uint8   uint8   int16   int16   int32   int64   float32 float64
int8     int8    int16   int8    int16   int32   int64   float32 float64
int16    int16   int16   int16   int16   int32   int64   float32 float64
int32    int32   int32   int32   int32   int32   int64   float32 float64
int64    int64   int64   int64   int64   int64   int64   float32 float64
float32  float32 float32 float32 float32 float32 float32 float32 float64
float64  float64 float64 float64 float64 float64 float64 float64 float64
"""
PROMOTE = {}
for line in PROMOTE_TEXT.strip().splitlines():
    row, *cells = line.split()
    PROMOTE.update({(row, col): cell for col, cell in zip(NAMES, cells)})
SCALARS = {"True": (True, "bool"), "2": (2, "int64"), "1.5": (1.5, "float32")}   # what each counts as


def category(name):
    return 0 if name == "bool" else 2 if name.startswith("float") else 1


def expected(left, right):
    """((kind, dtype name), (kind, dtype name)) -> the dtype PyTorch's rules give."""
    rank = {"dim": 2, "zero": 1, "scalar": 0}
    (ka, a), (kb, b) = left, right
    if rank[ka] == rank[kb]:
        return PROMOTE[(a, b)]
    (high_kind, high), (low_kind, low) = (left, right) if rank[ka] > rank[kb] else (right, left)
    return low if category(low) > category(high) else high


def operand(kind, name):
    if kind == "scalar":
        return SCALARS[name][0]
    return tn.tensor(np.ones(3 if kind == "dim" else (), dtype=name))


CASES = [((ka, a), (kb, b)) for ka, kb in (("dim", "dim"), ("dim", "zero"), ("zero", "zero"), ("dim", "scalar"),
                                           ("zero", "scalar"))
         for a in NAMES for b in (SCALARS if kb == "scalar" else NAMES)]


def _kind_name(side):
    kind, name = side
    return (kind, SCALARS[name][1]) if kind == "scalar" else side


def test_the_typed_table_is_symmetric_and_categories_win():
    for a in NAMES:
        for b in NAMES:
            assert PROMOTE[(a, b)] == PROMOTE[(b, a)]
            assert category(PROMOTE[(a, b)]) == max(category(a), category(b))


@pytest.mark.parametrize("left, right", CASES, ids=[f"{ka}:{a}-{kb}:{b}" for (ka, a), (kb, b) in CASES])
def test_binary_ops_promote_as_pytorch(left, right):
    want = np.dtype(expected(_kind_name(left), _kind_name(right)))
    x, y = operand(*left), operand(*right)
    assert tn.result_type(x, y) == want and tn.result_type(y, x) == want
    assert (x + y).dtype == want and (y + x).dtype == want
    assert (x * y).dtype == want and (y * x).dtype == want
    if "bool" not in (_kind_name(left)[1], _kind_name(right)[1]):   # `-` with any bool operand is an error in PyTorch
        assert (x - y).dtype == want and (y - x).dtype == want
    true_division = want if category(want.name) == 2 else np.dtype(np.float32)
    assert (x / y).dtype == true_division and (y / x).dtype == true_division
    assert (x == y).dtype == np.bool_ and (x < y).dtype == np.bool_
