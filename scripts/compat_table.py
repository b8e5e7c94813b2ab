"""The table of docs/10-pytorch-compatibility.md: which `torch` names tinynn has, read from the code.

    PYTHONPATH=. python scripts/compat_table.py           # rewrite the table in the page
    PYTHONPATH=. python scripts/compat_table.py --check   # exit 1 if the page's table is stale

For every name PyTorch programs reach for (API.md, "Tensors and autograd"), the spellings PyTorch
has: `torch.<name>` (a function or attribute of the module) and `Tensor.<name>` (a method or
attribute). A spelling counts as present when tinynn has the attribute; the page's code block runs
`table()` and checks the page holds its output, so the table cannot drift from the code."""
import argparse
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "10-pytorch-compatibility.md"
START, END = "<!-- compat-table:start -->", "<!-- compat-table:end -->"

# group: names; ":f" only torch.<name> exists, ":m" only Tensor.<name>, otherwise both
NAMES = {
    "creation": "tensor:f as_tensor:f from_numpy:f zeros:f ones:f full:f empty:f eye:f arange:f linspace:f "
                "logspace:f rand:f randn:f randint:f randperm:f zeros_like:f ones_like:f full_like:f "
                "empty_like:f rand_like:f randn_like:f normal:f bernoulli multinomial poisson:f",
    "dtypes": "float32:f float64:f float16:f int8:f uint8:f int16:f int32:f int64:f float double long int bool "
              "half get_default_dtype:f set_default_dtype:f to:m cpu:m type:m",
    "attributes": "shape:m dtype:m ndim:m device:m requires_grad:m is_leaf:m grad:m grad_fn:m data:m size:m dim:m "
                  "numel item:m tolist:m numpy:m detach clone contiguous:m requires_grad_:m retain_grad:m "
                  "register_hook:m backward:m",
    "arithmetic": "add sub mul div pow remainder floor_divide neg matmul mm bmm __add__:m __sub__:m __mul__:m "
                  "__truediv__:m __floordiv__:m __mod__:m __pow__:m __matmul__:m __neg__:m __eq__:m __lt__:m",
    "elementwise": "exp exp2 log log2 log1p expm1 sqrt rsqrt abs sign reciprocal sin cos tan tanh sinh cosh asin "
                   "acos atan sigmoid relu erf floor ceil round trunc clamp clip maximum minimum where "
                   "erfc erfinv lgamma digamma polygamma mvlgamma logit xlogy sinc i0 hypot logaddexp logaddexp2 "
                   "copysign ldexp float_power heaviside nextafter deg2rad rad2deg sgn nan_to_num signbit isneginf "
                   "isposinf",
    "reductions": "sum mean prod var std logsumexp norm amax amin all any max min argmax argmin cumsum cumprod",
    "shape": "view:m reshape flatten unflatten permute transpose t T:m mT:m unsqueeze squeeze expand:m "
             "expand_as:m repeat:m chunk split narrow cat:f concatenate:f stack:f gather scatter index_select "
             "masked_fill softmax log_softmax",
    "in place": "add_:m sub_:m mul_:m div_:m zero_:m fill_:m copy_:m clamp_:m uniform_:m normal_:m __iadd__:m "
                "bernoulli_:m exponential_:m geometric_:m cauchy_:m log_normal_:m random_:m",
    "more math": "absolute acosh arccosh atan2 arctan2 fix positive fmax fmin gcd lcm bitwise_left_shift frexp addcmul "
                 "addcdiv addr addbmm dot inner dist diff renorm aminmax mode nanmedian msort cov corrcoef histc "
                 "histogram isin:f trapezoid:f cumulative_trapezoid:f rsub:f hann_window:f kaiser_window:f range:f "
                 "scalar_tensor:f",
    "more in place": "sin_ exp2_ rsqrt_ square_ atan2_:m eq_:m lt_:m logical_and_:m addcmul_:m addmm_:m cumsum_:m "
                     "tril_:m masked_fill_:m lerp_:m clamp_min_ gcd_ __ilshift__:m",
    "more shape": "unbind tensor_split hsplit vsplit dsplit split_with_sizes swapaxes swapdims select unfold:m "
                  "view_as:m reshape_as:m type_as:m atleast_1d:f atleast_2d:f atleast_3d:f block_diag:f "
                  "broadcast_tensors:f broadcast_shapes:f cartesian_prod:f combinations:f column_stack:f row_stack:f "
                  "diag_embed diagflat fliplr flipud rot90 ravel vander:f sum_to_size:m unsqueeze_:m squeeze_:m t_:m "
                  "transpose_:m swapaxes_:m swapdims_:m",
    "more indexing": "take take_along_dim index_fill index_fill_:m index_copy index_copy_:m index_put index_put_ "
                     "index_reduce index_reduce_:m scatter_reduce scatter_reduce_:m scatter_:m masked_scatter "
                     "masked_scatter_:m put put_:m select_scatter slice_scatter diagonal_scatter fill_diagonal_:m "
                     "tril_indices:f triu_indices:f unravel_index:f argwhere unique_consecutive",
    "introspection": "nelement:m ndimension:m nbytes:m itemsize:m is_cpu:m is_cuda:m is_sparse:m is_quantized:m "
                     "is_meta:m is_nested:m layout strided:f data_ptr:m storage_offset:m retains_grad:m is_complex "
                     "is_signed is_nonzero is_same_size equal is_tensor:f is_floating_point byte:m char:m short",
    "autograd": "no_grad:f enable_grad:f set_grad_enabled:f inference_mode:f is_grad_enabled:f manual_seed:f "
                "autograd.grad:f autograd.Function:f autograd.functional.jacobian:f autograd.functional.hessian:f "
                "autograd.functional.vjp:f autograd.functional.hvp:f autograd.detect_anomaly:f",
}


def _has(obj, dotted):
    for part in dotted.split("."):
        try:
            obj = getattr(obj, part)
        except Exception:  # an AttributeError, or a lazily imported submodule that fails to load
            return False
    return True


def rows():
    """(group, name, has torch.<name> or None, has Tensor.<name> or None) for every name; None: PyTorch lacks it."""
    import tinynn

    for group, names in NAMES.items():
        for entry in names.split():
            name, _, only = entry.partition(":")
            yield (group, name, None if only == "m" else _has(tinynn, name),
                   None if only == "f" else _has(tinynn.Tensor, name))


def table():
    """The Markdown table and a count line, as the page holds them."""
    mark = {True: "yes", False: "**no**", None: ""}
    lines = ["| group | name | `tn.<name>` | `Tensor.<name>` |", "|---|---|---|---|"]
    have = total = 0
    for group, name, function, method in rows():
        lines.append(f"| {group} | `{name}` | {mark[function]} | {mark[method]} |")
        spellings = [s for s in (function, method) if s is not None]
        have, total = have + sum(spellings), total + len(spellings)
    return "\n".join(lines + ["", f"tinynn has {have} of these {total} spellings."]) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--check", action="store_true", help="exit 1 if the page's table is not table()'s output")
    args = p.parse_args()
    page = PAGE.read_text()
    head, rest = page.split(START + "\n", 1)
    _, tail = rest.split(END, 1)
    fresh = f"{head}{START}\n{table()}{END}{tail}"
    if args.check:
        sys.exit(0 if fresh == page else "docs/10-pytorch-compatibility.md is stale: run scripts/compat_table.py")
    PAGE.write_text(fresh)


if __name__ == "__main__":
    main()
