"""Import time of tinynn: what `import tinynn` adds on top of NumPy's own import, and the total.

    python benchmarks/bench_import.py [--repeats 10]

Each sample is a fresh interpreter (`python -c`), run from the benchmarks folder with this
process's environment, so it imports the tinynn that `python` imports here (in a worktree:
PYTHONPATH=$PWD, or `tinynn bench import`). Reports the median and the spread (min..max) of the samples; NumPy's
import is outside tinynn's control and swings with machine load, so the added time is the
figure to watch. `python -X importtime -c "import tinynn"` breaks it down by module.
(This measurement was an assertion in tests/integration/test_package.py: timings belong here.)"""
import argparse
import os
import statistics
import subprocess
import sys

from _timing import parse_args

HERE = os.path.dirname(os.path.abspath(__file__))
QUICK = ["--repeats", "3"]

CODE = ("import time; t0 = time.perf_counter(); import numpy; t1 = time.perf_counter(); import tinynn; "
        "t2 = time.perf_counter(); print(f'{t2 - t1:.6f} {t2 - t0:.6f}')")


def sample():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True, cwd=HERE)
    if out.stderr:
        raise SystemExit(f"import tinynn wrote to stderr:\n{out.stderr}")
    added, total = map(float, out.stdout.split())
    return added, total


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=10, help="fresh interpreters to time (default 10)")
    args = parse_args(p, QUICK, argv)
    samples = [sample() for _ in range(args.repeats)]
    for k, what in enumerate(("added to numpy's import", "total with numpy")):
        values = [s[k] * 1000 for s in samples]
        print(f"import tinynn, {what}: median {statistics.median(values):.1f} ms "
              f"(min {min(values):.1f}, max {max(values):.1f}; {len(values)} fresh interpreters)")


if __name__ == "__main__":
    main()
