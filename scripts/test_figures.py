"""The test-suite figures README.md and docs/07-testing.md quote, computed rather than typed.

    python scripts/test_figures.py            # collect counts (seconds) and run the fuzz suite (~1 min)
    python scripts/test_figures.py --collect  # collect counts only, nothing run

Prints, each with the command that measures it:
- tests collected in the whole suite;
- the fuzz suite's generated cases and kernels/ops (its summary line `fuzz: N generated cases over
  M kernels/ops`, default case counts; the hypothesis examples come on top);
- tests collected by the AddressSanitizer selection of docs/07-testing.md (kernel, fuzz and
  concurrency tests). How many of them pass under ASan is known only from an ASan run of that
  recipe, which CI does not make: the docs quote the size of the selection, not a pass count.
Run from any folder; it runs the checkout's tests against the tinynn Python imports (CI=true, as
CI runs them)."""
import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASAN_SELECTION = ["tests/kernels/test_kernels_*.py", "tests/fuzz/test_fuzz_*.py", "tests/kernels/test_concurrency.py"]


def pytest(*args):
    env = dict(os.environ, CI="true")
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)


def collected(paths):
    """Number of tests pytest collects from these paths (globs relative to the repository)."""
    files = [str(p.relative_to(ROOT)) for pattern in paths for p in sorted(ROOT.glob(pattern))]
    out = pytest("--collect-only", "-q", *files)
    m = re.search(r"(\d+) tests? collected", out.stdout)
    if not m:
        raise SystemExit(f"pytest --collect-only gave no count:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return int(m.group(1))


def fuzz_line():
    out = pytest("-q", "tests/fuzz/")
    m = re.search(r"fuzz: (\d+) generated cases over (\d+) kernels/ops", out.stdout)
    if out.returncode != 0 or not m:
        raise SystemExit(f"the fuzz suite failed or printed no count:\n{out.stdout[-3000:]}")
    return int(m.group(1)), int(m.group(2))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--collect", action="store_true", help="only count collected tests; run nothing")
    args = p.parse_args(argv)
    print(f"suite: {collected(['tests'])} tests collected   (python -m pytest --collect-only -q tests)")
    print(f"AddressSanitizer selection: {collected(ASAN_SELECTION)} tests collected   "
          f"(python -m pytest --collect-only -q {' '.join(ASAN_SELECTION)})")
    if not args.collect:
        cases, ops = fuzz_line()
        print(f"fuzz: {cases} generated cases over {ops} kernels/ops   (python -m pytest -q tests/fuzz/)")


if __name__ == "__main__":
    main()
