"""Per-op overhead in CPU instructions, immune to the load of a shared machine: valgrind's callgrind
counts the instructions of the chain bench_overhead.py times (100 multiplies of 1-element tensors,
forward + backward), at two numbers of chains, and reports the difference per op, so the cost of
starting Python and importing tinynn cancels out.

    python benchmarks/callgrind_overhead.py                  # the tinynn that `python` imports
    python benchmarks/callgrind_overhead.py --tree /path/to/checkout --tree /other/checkout
    python benchmarks/callgrind_overhead.py --workload mixed # a mix of operators and methods

Needs valgrind. Instruction counts track time closely for this interpreter-bound code, but not
exactly (cache misses and branch mispredictions are not counted): time it too, with bench_overhead.py.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

LENGTH = 100

WORKLOADS = {
    # the chain of bench_overhead.py: y = y * c, 100 times, then sum and backward
    "chain": f"""
x = tn.tensor([1.0], requires_grad=True)
c = tn.tensor([1.0001])
def run():
    y = x
    for _ in range({LENGTH}):
        y = y * c
    y.sum().backward()
""",
    # 100 ops: 20 rounds of + * exp tanh, then - , sum and backward
    "mixed": f"""
x = tn.tensor([0.5, 0.25], requires_grad=True)
c = tn.tensor([0.9, 1.1])
def run():
    y = x
    for _ in range({LENGTH // 5}):
        y = ((y + c) * c).exp().tanh() - 0.5
    y.sum().backward()
""",
}

PROGRAM = """
import sys
import tinynn as tn
tn.set_backend(sys.argv[2])
{workload}
for _ in range(int(sys.argv[1])):
    run()
"""


def instructions(tree, workload, chains, backend):
    """Total instructions (callgrind's Ir) of a Python process running `chains` chains."""
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "loop.py")
        with open(script, "w") as f:
            f.write(PROGRAM.format(workload=WORKLOADS[workload]))
        out = os.path.join(tmp, "callgrind.out")
        env = dict(os.environ, PYTHONPATH=tree or os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1")
        result = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
                                 script, str(chains), backend], env=env, capture_output=True, text=True)
        match = re.search(r"Collected : (\d+)", result.stderr)
        if result.returncode or not match:
            raise RuntimeError(f"callgrind failed on {tree or 'the default tinynn'}:\n{result.stderr[-2000:]}")
        return int(match.group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", action="append", help="a checkout to measure (its root on PYTHONPATH); repeatable")
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="chain")
    parser.add_argument("--backend", default="cython")
    parser.add_argument("--chains", type=int, nargs=2, default=(10, 110), metavar=("FEW", "MANY"))
    args = parser.parse_args()
    few, many = args.chains
    for tree in args.tree or [None]:
        per_op = (instructions(tree, args.workload, many, args.backend)
                  - instructions(tree, args.workload, few, args.backend)) / ((many - few) * LENGTH)
        print(f"{tree or 'tinynn on the path'}: {per_op:,.0f} instructions per op "
              f"({args.workload}, {args.backend}, forward + backward)", flush=True)


if __name__ == "__main__":
    main()
