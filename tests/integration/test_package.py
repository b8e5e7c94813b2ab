"""Package-level promises: quiet, cheap import; the core stays within its line budget."""
import pathlib
import subprocess
import sys

import tinynn

# Subprocesses run in a neutral folder so they import the same tinynn as this process
# (the installed one), not the source tree of the current directory.
NEUTRAL = {"cwd": pathlib.Path(tinynn.__file__).parent.parent}
ROOT = pathlib.Path(tinynn.__file__).parent
CORE_LINE_BUDGET = 2000  # tensor.py + autograd/ + ops/: raise only on purpose (1500 -> 2000: issue 15, Tensor semantics)


def test_import_is_quiet_and_cheap():
    # NumPy's own import (~0.1 s idle here) is outside tinynn's control and swings with machine
    # load, so the budget checked is what tinynn adds on top of it; the total is measured in the
    # issue notes (python -X importtime -c "import tinynn").
    code = ("import time, numpy; t = time.perf_counter(); import tinynn; "
            "print(f'{time.perf_counter() - t:.4f}')")
    times = []
    for _ in range(5):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, **NEUTRAL)
        assert out.stderr == ""
        times.append(float(out.stdout))
    assert min(times) < 0.15, f"import tinynn added {min(times):.3f} s to numpy's import (best of 5)"


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
