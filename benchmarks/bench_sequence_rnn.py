"""A training step of an LSTM: tinynn (the fused LSTMSequence op, and the step-by-step composition
it replaces) against PyTorch (when installed), at 1 and 2 threads.

Workload (issue 17): nn.LSTM(input 32, hidden 64), 20 steps, batch 32, float32; the step is
forward, loss = mean of the last hidden state's squares plus the mean of the outputs, backward, and
SGD(lr=0.01) -- the same weights and data for both frameworks. Medians of contenders timed in turns;
the ratio is tinynn's median over PyTorch's (< 1: tinynn is faster).

    python benchmarks/bench_sequence_rnn.py [--quick] [--steps 20 --batch 32 --input 32 --hidden 64]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _timing import fmt_us, limits, median_times_in_turns, parse_args, print_table  # noqa: E402

import tinynn as tn  # noqa: E402
from tinynn.nn.recurrent import run_direction  # noqa: E402

QUICK = ["--min-time", "0.6"]  # --quick: a few seconds per thread count


def tinynn_step(lstm, opt, x, composed=False):
    opt.zero_grad()
    if composed:  # the plain path: one graph node per op of every time step
        p = lstm._parameters
        zeros = tn.zeros(x.shape[1], lstm.hidden_size)
        gi = tn.ops.Linear.apply(x, p["weight_ih_l0"], p["bias_ih_l0"])
        out, (h_n, _) = run_direction("LSTM", gi, [zeros, zeros], p["weight_hh_l0"], p["bias_hh_l0"])
    else:
        out, (h_n, _) = lstm(x)
        h_n = h_n[0]
    ((h_n * h_n).mean() + out.mean()).backward()
    opt.step()


def torch_step(lstm, opt, x):
    opt.zero_grad()
    out, (h_n, _) = lstm(x)
    ((h_n[0] * h_n[0]).mean() + out.mean()).backward()
    opt.step()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, default in (("steps", 20), ("batch", 32), ("input", 32), ("hidden", 64)):
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument("--min-time", type=float, default=2.0, help="seconds per contender and thread count")
    args = parse_args(parser, QUICK)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.steps, args.batch, args.input)).astype(np.float32)
    lstm = tn.nn.LSTM(args.input, args.hidden)
    opt = tn.optim.SGD(lstm.parameters(), lr=0.01)
    xt = tn.tensor(x)
    contenders = [("tinynn fused", lambda: tinynn_step(lstm, opt, xt)),
                  ("tinynn composed", lambda: tinynn_step(lstm, opt, xt, composed=True))]
    try:
        import torch
    except ImportError:
        torch = None
        print("PyTorch is not installed: tinynn alone")
    if torch is not None:
        t_lstm = torch.nn.LSTM(args.input, args.hidden)
        with torch.no_grad():
            for name, p in t_lstm.named_parameters():
                p.copy_(torch.from_numpy(np.array(lstm.state_dict()[name])))
        t_opt = torch.optim.SGD(t_lstm.parameters(), lr=0.01)
        x_torch = torch.from_numpy(x)
        contenders.append((f"torch {torch.__version__}", lambda: torch_step(t_lstm, t_opt, x_torch)))
    print(f"LSTM training step: input {args.input}, hidden {args.hidden}, {args.steps} steps, batch {args.batch}, "
          f"float32; backend {tn.get_backend()}; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    rows = []
    with limits():
        for threads in (1, 2):
            tn.set_num_threads(threads)
            if torch is not None:
                torch.set_num_threads(threads)
            times = median_times_in_turns([fn for _, fn in contenders], min_time=args.min_time, settle=0.05)
            base = times[-1] if torch is not None else times[0]
            for (name, _), t in zip(contenders, times):
                rows.append([threads, name, fmt_us(t), f"{t / base:.2f}"])
    print_table(rows, ["threads", "contender", "median us", "ratio to " + ("torch" if torch is not None else "fused")])


if __name__ == "__main__":
    main()
