"""A source checkout whose kernels are not built: `import tinynn` warns once, naming the command
that builds them, and set_backend("cython") fails with the same advice.  An installed tree
without the kernels (no setup.py beside it) gets the reinstall advice and no import warning.

Each case copies the package without its compiled extension into a temporary folder (with or
without a checkout's setup.py and kernels/ beside it) and imports it in a subprocess."""
import os
import pathlib
import shutil
import subprocess
import sys

import tinynn

PROBE = """
import sys, warnings
# an editable install (of this or another checkout) would hand its own tinynn.kernels to the copy
sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")]
warnings.simplefilter("always")            # every warning shown, so "once" is counted, not filtered
with warnings.catch_warnings(record=True) as caught:
    import tinynn
    import tinynn.backend
print("BACKEND", tinynn.get_backend())
for w in caught:
    print("WARNING", w.category.__name__, str(w.message).replace("\\n", " "))
try:
    tinynn.set_backend("cython")
except RuntimeError as exc:
    print("ERROR", exc)
"""
BUILD_COMMANDS = ('`pip install -e ".[test]"`', "`python setup.py build_ext --inplace`")


def run_copy(tmp_path, checkout):
    """Copy tinynn/ (without kernels*.so) into tmp_path, as a source checkout if asked; run PROBE on it."""
    shutil.copytree(pathlib.Path(tinynn.__file__).parent, tmp_path / "tinynn",
                    ignore=shutil.ignore_patterns("kernels*.so", "kernels*.pyd", "__pycache__"))
    if checkout:
        (tmp_path / "setup.py").write_text("# a checkout's build script\n")
        (tmp_path / "kernels").mkdir()
        (tmp_path / "kernels" / "kernels.pyx").write_text("# the kernels' sources\n")
    env = {k: v for k, v in os.environ.items() if k not in ("TINYNN_BACKEND", "PYTHONPATH")}
    env["PYTHONPATH"] = str(tmp_path)
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    return ([line.split(" ", 1)[1] for line in lines if line.startswith(kind)] for kind in ("BACKEND", "WARNING", "ERROR"))


def test_unbuilt_checkout_warns_once_with_the_build_command(tmp_path):
    backend, warnings, errors = run_copy(tmp_path, checkout=True)
    assert backend == ["numpy"]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("UserWarning") and "not built" in warnings[0] and "NumPy backend" in warnings[0]
    assert len(errors) == 1
    for message in (warnings[0], errors[0]):
        assert str(tmp_path) in message and all(command in message for command in BUILD_COMMANDS), message
    assert "pip install .`" not in errors[0]   # the advice that does not help inside a checkout


def test_installed_tree_without_kernels_advises_reinstall_and_does_not_warn(tmp_path):
    backend, warnings, errors = run_copy(tmp_path, checkout=False)
    assert backend == ["numpy"] and warnings == []
    assert len(errors) == 1 and "reinstall with `pip install .`" in errors[0], errors
    assert not any(command in errors[0] for command in BUILD_COMMANDS)
