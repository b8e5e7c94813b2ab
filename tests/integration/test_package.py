"""Package-level promises: a quiet import that loads no heavy module; the core stays within its line budget."""
import pathlib
import subprocess
import sys

import tinynn

# Subprocesses run in a neutral folder so they import the same tinynn as this process
# (the installed one), not the source tree of the current directory.
NEUTRAL = {"cwd": pathlib.Path(tinynn.__file__).parent.parent}
ROOT = pathlib.Path(tinynn.__file__).parent
CORE_LINE_BUDGET = 7500  # tensor.py + autograd/ + ops/: raise only on purpose (1500 -> 2750: issue 15, Tensor
# semantics and ops; -> 4400: issue 15's higher-order gradients, ctx Functions, autograd.functional and activations,
# and the layer families' ops of issues 16 and 17: convolution, pooling, normalization, attention, recurrent;
# -> 4750: create_graph through every op, the convolution and recurrent families included; -> 5200: an audit
# against PyTorch 2.13: logical and bitwise ops, index_put with gradients, gradients that reach a tensor's node
# from before an in-place change, PyTorch's promotion in // % maximum minimum clamp, and the new_* methods;
# -> 5500: PyTorch's commonly used ops that were missing: sort argsort topk median, tril triu diag diagonal,
# roll movedim hstack vstack dstack, nansum nanmean fmod frac lerp, stride, and flip as an op of its own;
# -> 5600: ConvTranspose2d's and interpolate's ops; -> 6500: einsum (its gradient an einsum), tensordot outer
# addmm trace cross kron, linalg's norms det inv solve and cdist, scatter_add index_add repeat_interleave tile
# meshgrid, cummax cummin logcumsumexp kthvalue quantile unique bincount searchsorted; -> 7500: PyTorch's
# names a program reaches for: linalg's decompositions (svd eigh qr cholesky solve_triangular matrix_exp pinv,
# each gradient written once), the special functions (lgamma digamma polygamma erfinv i0 ...), fold/unfold,
# scatter_reduce and Tensor.unfold, atan2 fmax fmin, the table of in-place math methods, 3-D convolution)


def test_import_is_quiet():
    """`import tinynn` prints nothing and warns nothing (its time is measured, not asserted:
    python benchmarks/bench_import.py)."""
    out = subprocess.run([sys.executable, "-c", "import tinynn"], capture_output=True, text=True, check=True, **NEUTRAL)
    assert out.stdout == "" and out.stderr == ""


def test_import_does_not_load_heavy_modules():
    code = "import sys, tinynn; print(' '.join(m for m in ('tqdm', 'mpi4py', 'matplotlib', 'hypothesis') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, **NEUTRAL)
    assert out.stdout.strip() == ""


def test_core_line_budget():
    files = [ROOT / "tensor.py", *sorted((ROOT / "autograd").glob("*.py")), *sorted((ROOT / "ops").glob("*.py"))]
    total = sum(len(f.read_text().splitlines()) for f in files)
    assert total <= CORE_LINE_BUDGET, f"core is {total} lines, budget {CORE_LINE_BUDGET}"


def test_backend_switching():
    assert tinynn.get_backend() in ("cython", "numpy")
    with tinynn.use_backend("numpy"):
        assert tinynn.get_backend() == "numpy"
    previous = tinynn.get_backend()
    tinynn.set_backend("numpy")
    assert tinynn.get_backend() == "numpy"
    tinynn.set_backend(previous)
    import pytest

    with pytest.raises(ValueError, match="unknown backend"):
        tinynn.set_backend("cuda")


def test_environment_variable_selects_the_backend():
    code = "import tinynn; print(tinynn.get_backend())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, **NEUTRAL,
                         env={**__import__("os").environ, "TINYNN_BACKEND": "numpy"})
    assert out.stdout.strip() == "numpy"


def test_compiled_backend_is_the_default_when_built():
    assert "cython" in tinynn.backend.available()
    code = "import os; os.environ.pop('TINYNN_BACKEND', None); import tinynn; print(tinynn.get_backend())"
    env = {k: v for k, v in __import__("os").environ.items() if k != "TINYNN_BACKEND"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, **NEUTRAL, env=env)
    assert out.stdout.strip() == "cython"


def test_kernel_info_reports_simd_openmp_threads():
    from tinynn import kernels

    info = kernels.info()
    assert {"simd", "openmp", "threads"} <= set(info)
