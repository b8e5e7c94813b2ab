"""The kernel and fuzz tests against a debug build of tinynn.kernels (TINYNN_DEBUG_KERNELS=1:
Cython bounds/wraparound checks on, -O0 -g, UndefinedBehaviorSanitizer aborting on the first
report), built from the source checkout into a temporary folder and run in a subprocess.

Needs the source tree (setup.py and kernels/ next to tests/) and a C compiler: in CI (the CI
variable set) their absence is a failure; elsewhere the test skips. TINYNN_SKIP_DEBUG_BUILD=1
skips it locally (it takes one to two minutes)."""
import importlib.util
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

import tinynn

ROOT = pathlib.Path(__file__).resolve().parents[2]
TESTS = ["fuzz/test_fuzz_kernels.py", "fuzz/test_fuzz_ops.py", "kernels/test_kernels_elementwise.py",
         "kernels/test_kernels_softmax.py", "kernels/test_kernels_optim.py", "kernels/test_kernels_gemm.py",
         "kernels/test_kernels_config.py", "kernels/test_fused_activation.py", "kernels/test_int8_paths.py"]
IN_CI = bool(os.environ.get("CI"))


def _unavailable(reason):
    if IN_CI:
        pytest.fail(f"debug build: {reason} (required in CI)")
    pytest.skip(reason)


def test_kernel_and_fuzz_tests_pass_on_the_debug_build(tmp_path):
    if os.environ.get("TINYNN_SKIP_DEBUG_BUILD") and not IN_CI:
        pytest.skip("TINYNN_SKIP_DEBUG_BUILD is set")
    if not (ROOT / "setup.py").exists() or not (ROOT / "kernels" / "kernels.pyx").exists():
        _unavailable(f"no source tree (setup.py, kernels/) at {ROOT}")
    if shutil.which(os.environ.get("CC", "gcc")) is None and shutil.which("cc") is None:
        _unavailable("no C compiler")
    missing = [m for m in ("Cython", "setuptools") if importlib.util.find_spec(m) is None]
    if missing:
        _unavailable(f"{' and '.join(missing)} not installed (pip install '.[test]')")

    # Build from a copy of the sources, so the checkout's generated kernels/kernels.c is untouched.
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(ROOT / "setup.py", src)
    if (ROOT / "pyproject.toml").exists():
        shutil.copy(ROOT / "pyproject.toml", src)
    shutil.copytree(ROOT / "kernels", src / "kernels", ignore=shutil.ignore_patterns("*.c", "*.so", "*.html"))
    env = dict(os.environ, TINYNN_DEBUG_KERNELS="1")
    build = subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--build-lib", str(tmp_path / "lib"),
                            "--build-temp", str(tmp_path / "tmp")], cwd=src, env=env, capture_output=True, text=True,
                           timeout=900)
    assert build.returncode == 0, f"debug build failed:\n{build.stdout[-3000:]}\n{build.stderr[-3000:]}"
    built = list((tmp_path / "lib" / "tinynn").glob("kernels*.so")) + list((tmp_path / "lib" / "tinynn").glob("kernels*.pyd"))
    assert len(built) == 1, f"expected one built extension, got {built}"

    # A copy of the package under test with the debug extension in place of the optimised one.
    package = pathlib.Path(tinynn.__file__).parent
    site = tmp_path / "site"
    shutil.copytree(package, site / "tinynn", ignore=shutil.ignore_patterns("kernels*.so", "kernels*.pyd", "__pycache__"))
    shutil.copy(built[0], site / "tinynn" / built[0].name)

    env = dict(os.environ, PYTHONPATH=str(site), UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1",
               HYPOTHESIS_PROFILE=os.environ.get("HYPOTHESIS_PROFILE", "ci"))
    env.pop("TINYNN_BACKEND", None)
    probe = subprocess.run([sys.executable, "-c", "import tinynn.kernels as k; print(k.__file__); print(k.info()['debug'])"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0, probe.stderr
    where, debug = probe.stdout.split()
    assert pathlib.Path(where).is_relative_to(site) and debug == "True", probe.stdout

    tests = [ROOT / "tests" / name for name in TESTS]
    missing = [str(t) for t in tests if not t.exists()]
    assert not missing, f"debug build: test files not found: {missing}"
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-o", "addopts=",
                          *map(str, tests)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    tail = (run.stdout[-4000:] + "\n" + run.stderr[-4000:])
    assert run.returncode == 0, f"kernel/fuzz tests failed on the debug build (rc={run.returncode}):\n{tail}"
    assert "runtime error" not in run.stderr, tail  # a UBSan report
    print(run.stdout.strip().splitlines()[-1])
