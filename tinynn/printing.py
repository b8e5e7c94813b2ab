"""How a Tensor prints: `repr(t)`, `str(t)` and `print(t)` give what PyTorch prints for the same
values, dtype and flags, under options `set_printoptions` changes (process-wide, as in PyTorch).

The rules (PyTorch's documented output, written here in our own words):

- One format for the whole tensor. Integers and bools print as Python prints them, right-aligned
  to the widest. Floats look at their nonzero finite values v (of the summarised tensor, below):
  scientific notation `d.dddde+XX` when max|v| / min|v| > 1000, max|v| > 1e8 or min|v| < 1e-4
  (or as `sci_mode` forces); else, when every v is a whole number, `3.` style ("int mode");
  else fixed `precision` decimals. The width is the widest such v (nan, inf and zero do not
  count), and every element is right-aligned to it.
- Rows wrap: a 1-D row holds floor((linewidth - indent) / (width + 2)) elements a line. Nested
  dims print as nested brackets, each level indented one column more, with dim - 1 blank lines
  between slices of a dim-`dim` block.
- Above `threshold` elements the tensor is summarised: each dim shows its first and last
  `edgeitems` entries around `...`.
- Suffixes after the values: `size=(...)` for empty tensors that are not 1-D, `dtype=` for
  dtypes other than the default float, int64 and bool (any non-default dtype when empty),
  then `grad_fn=<NameBackward0>` for a tensor an op recorded, else `requires_grad=True`. A
  suffix that would pass `linewidth` starts a new line.

tinynn names dtypes `tinynn.float64` where PyTorch writes `torch.float64` (as `tinynn.Size`
stands for `torch.Size`), and a node by PyTorch's name for the same backward (`backward_name`).
"""
import math

import numpy as np

from .dtypes import get_default_dtype, int64, bool_

PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}
_options = dict(PROFILES["default"], sci_mode=None)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """Set how tensors print (PyTorch's `torch.set_printoptions`), for the whole process.

    precision: digits after the point (4); threshold: more elements than this are summarised
    (1000); edgeitems: entries kept at each end of a summarised dim (3); linewidth: characters a
    line before rows wrap (80); profile: 'default', 'short' (precision 2, edgeitems 2) or 'full'
    (threshold inf), applied first so the other arguments override it; sci_mode: True/False
    forces scientific notation on/off, None (the default, also when left out) chooses per tensor.
    """
    if profile is not None:
        if profile not in PROFILES:
            raise ValueError(f"set_printoptions: unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
        _options.update(PROFILES[profile])
    for key, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                       ("linewidth", linewidth)):
        if value is not None:
            _options[key] = value
    _options["sci_mode"] = sci_mode


def get_printoptions():
    """The current options as a dict that `set_printoptions(**options)` accepts."""
    return dict(_options)


class Formatter:
    """Formats every element of one tensor alike (the rules in the module docstring); `values`
    is the array, or its summary, whose elements decide the mode and the width."""

    def __init__(self, values):
        self.floating, self.int_mode, self.sci_mode, self.width = values.dtype.kind == "f", True, False, 1
        self.precision = _options["precision"]
        if not self.floating:
            self.width = max([1] + [len(str(v)) for v in values.ravel().tolist()])
            return
        flat = values.ravel().astype(np.float64)
        shown = flat[np.isfinite(flat) & (flat != 0)]
        if shown.size == 0:
            return
        magnitudes = np.abs(shown)
        small, large = float(magnitudes.min()), float(magnitudes.max())  # (Python floats: no overflow warning)
        self.int_mode = bool(np.all(shown == np.ceil(shown)))
        forced = _options["sci_mode"]
        self.sci_mode = bool(large / small > 1000.0 or large > 1.0e8 or small < 1.0e-4) if forced is None else forced
        shown = shown.tolist()
        if self.sci_mode:
            self.width = max(len(f"{v:.{self.precision}e}") for v in shown)
        elif self.int_mode:
            self.width = max(len(f"{v:.0f}") + 1 for v in shown)
        else:
            self.width = max(len(f"{v:.{self.precision}f}") for v in shown)

    def __call__(self, value):
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:.{self.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        else:
            text = f"{value:.{self.precision}f}"
        return text.rjust(self.width)


def summarized(array, edgeitems):
    """The elements a summarised print shows: the first and last `edgeitems` of every dim."""
    if array.ndim == 0:
        return array
    if array.ndim == 1:
        # (with edgeitems 0, array[-0:] is all of it: PyTorch then formats by every element)
        return np.concatenate((array[:edgeitems], array[-edgeitems:])) if len(array) > 2 * edgeitems else array
    if not edgeitems:
        return array[:0]
    rows = range(len(array))
    if len(array) > 2 * edgeitems:
        rows = [*range(edgeitems), *range(len(array) - edgeitems, len(array))]
    return np.stack([summarized(array[i], edgeitems) for i in rows])


def _row(array, indent, summarize, fmt):
    edgeitems = _options["edgeitems"]
    per_line = max(1, math.floor((_options["linewidth"] - indent) / (fmt.width + 2)))
    if summarize and not edgeitems:
        items = ["..."]
    elif summarize and len(array) > 2 * edgeitems:
        items = ([fmt(v) for v in array[:edgeitems].tolist()] + [" ..."]
                 + [fmt(v) for v in array[-edgeitems:].tolist()])
    else:
        items = [fmt(v) for v in array.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(array, indent, summarize, fmt):
    if array.ndim == 0:
        return fmt(array.item())
    if array.ndim == 1:
        return _row(array, indent, summarize, fmt)
    edgeitems, n = _options["edgeitems"], len(array)
    rows = range(n)
    if summarize and n > 2 * edgeitems:
        rows = [*range(edgeitems), None, *range(n - edgeitems, n)]
    parts = ["..." if i is None else _nested(array[i], indent + 1, summarize, fmt) for i in rows]
    return "[" + ("," + "\n" * (array.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def array_str(array, indent=0):
    """The bracketed values of a non-empty `array`, as they stand after `indent` columns."""
    summarize = array.size > _options["threshold"]
    fmt = Formatter(summarized(array, _options["edgeitems"]) if summarize else array)
    return _nested(array, indent, summarize, fmt)


def dtype_name(dtype):
    """tinynn's name for a dtype in a repr: `tinynn.float64` (PyTorch: `torch.float64`)."""
    return f"tinynn.{np.dtype(dtype).name}"


def _with_suffixes(text, suffixes, indent):
    """`text` + ", suffix" for each suffix, one going to a new line when it would pass linewidth."""
    length = len(text) - text.rfind("\n") + 1  # the last line's length, counted as PyTorch does
    for suffix in suffixes:
        if length + len(suffix) + 2 > _options["linewidth"]:
            text += ",\n" + " " * indent + suffix
            length = indent + len(suffix)
        else:
            text += ", " + suffix
            length += len(suffix) + 2
    return text + ")"


def tensor_repr(tensor):
    """`tensor(values, suffixes...)` for a tinynn Tensor, as PyTorch prints it."""
    array, prefix, suffixes = tensor._data, "tensor(", []
    if array.size == 0:
        body = "[]"
        if array.ndim != 1:
            suffixes.append(f"size={tuple(array.shape)}")
        if array.dtype != get_default_dtype():  # no element to tell an int64 or bool tensor apart
            suffixes.append(f"dtype={dtype_name(array.dtype)}")
    else:
        body = array_str(array, len(prefix))
        if not _options["edgeitems"]:
            suffixes.append(f"size={tuple(array.shape)}")
        if array.dtype not in (get_default_dtype(), int64, bool_):
            suffixes.append(f"dtype={dtype_name(array.dtype)}")
    if tensor._node is not None:
        suffixes.append(f"grad_fn=<{backward_name(tensor._node)}>")
    elif tensor.requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + body, suffixes, len(prefix))


# ---------------------------------------------------------------- node names
def _ndim(node, slot):
    value = getattr(node, slot, None)
    return getattr(value, "ndim", None)


def _matmul(node):
    ranks = (_ndim(node, "a"), _ndim(node, "b"))
    return {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (2, 2): "MmBackward0",
            (1, 2): "SqueezeBackward4"}.get(ranks, "UnsafeViewBackward0")


def _linear(node):
    if node.activation != "none":  # the fused activation is the last op PyTorch records
        return f"{node.activation.capitalize()}Backward0"  # relu, sigmoid, tanh
    bias = len(node.needs_grad) == 3
    if node.lead is not None:
        return "ViewBackward0" if bias else "UnsafeViewBackward0"
    return "AddmmBackward0" if bias else "MmBackward0"


def _transpose(node):
    axes = node.axes
    swapped = axes is not None and sum(i != a for i, a in enumerate(axes)) == 2
    return "TransposeBackward0" if swapped else "PermuteBackward0"


def _getitem(node):
    """PyTorch applies an index item by item: the last item that does something names the node."""
    items = node.index if isinstance(node.index, tuple) else (node.index,)
    if any(isinstance(i, np.ndarray) and i.ndim for i in items):
        return "IndexBackward0"
    full = [isinstance(i, slice) and i == slice(None) for i in items]
    acting = [i for i, skip in zip(items, full) if not skip and i is not Ellipsis]
    if not acting:
        return "SliceBackward0" if any(full) else "AliasBackward0"
    last = acting[-1]
    return "UnsqueezeBackward0" if last is None else "SliceBackward0" if isinstance(last, slice) else "SelectBackward0"


def _pow(node):
    base, exponent = node.needs_grad[:2]
    return "PowBackward1" if base and exponent else "PowBackward0" if base else "PowBackward2"


def _reduction(overload_all, overload_dim):
    return lambda node: overload_all if node.axis is None else overload_dim


# tinynn op class name -> PyTorch's grad_fn name, or a function of the node giving it. Any class
# not listed prints as its own name + "Backward0" (Exp -> ExpBackward0, Where -> WhereBackward0).
TORCH_NAMES = {
    "MatMul": _matmul, "Linear": _linear, "Transpose": _transpose, "GetItem": _getitem, "Pow": _pow,
    "Sum": _reduction("SumBackward0", "SumBackward1"), "Mean": _reduction("MeanBackward0", "MeanBackward1"),
    "Max": _reduction("MaxBackward1", "MaxBackward0"),
    "Min": _reduction("MinBackward1", "MinBackward0"),
    "Pad": lambda node: "ConstantPadNdBackward0" if node.mode == "constant" else "PadBackward0",
    "CtxNode": lambda node: f"{node.name}Backward",  # a custom Function class MyFn: MyFnBackward
    "Reshape": "ViewBackward0", "Concatenate": "CatBackward0", "Cast": "ToCopyBackward0",
    "Clip": "ClampBackward1", "ClampBounds": "ClampBackward0", "CrossEntropy": "NllLossBackward0",
    "BatchNorm": "NativeBatchNormBackward0", "BatchNormEval": "NativeBatchNormBackward0",
    "LayerNorm": "NativeLayerNormBackward0", "Conv2d": "ConvolutionBackward0",
    "ConvTranspose2d": "ConvolutionBackward0", "MaxPool2d": "MaxPool2DWithIndicesBackward0",
    "AvgPool2d": "AvgPool2DBackward0", "AdaptiveAvgPool2d": "AdaptiveAvgPool2DBackward0",
    "Det": "LinalgDetBackward0", "Inv": "LinalgInvExBackward0", "Solve": "LinalgSolveExBackward0",
    "Norm": "LinalgVectorNormBackward0", "StdRoot": "StdBackward0", "GELU": "GeluBackward0",
    "ReLU": "ReluBackward0", "ELU": "EluBackward0", "LeakyReLU": "LeakyReluBackward0", "SiLU": "SiluBackward0",
    "Log1p": "Log1PBackward0", "LogCumSumExp": "LogcumsumexpBackward0",
}


def backward_name(node):
    """PyTorch's name for the backward of the op that recorded `node` (`SumBackward0` for a sum of
    all elements, `SumBackward1` for a sum over dims, ...), as `grad_fn=<...>` shows it."""
    rule = TORCH_NAMES.get(type(node).__name__)
    if rule is None:
        return f"{node.name}Backward0"
    return rule if isinstance(rule, str) else rule(node)
