"""A GPT training step, tinynn against PyTorch (when installed), at 1 and 2 threads.

    python benchmarks/bench_sequence.py [--batch 64] [--context 7] [--threads 1 2]

The model is issue 17's: 3 layers, 3 heads, 48 dims, a vocabulary of 10 (the addition task's
digits); one step is forward, cross-entropy over every position, backward and an AdamW update.
PyTorch runs the same architecture written with torch.nn (pre-norm blocks, fused c_attn, causal
scaled_dot_product_attention, tanh GELU, untied head). Medians of the two timed in turns;
the ratio is PyTorch's time over tinynn's (above 1: tinynn is faster)."""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _timing import fmt_us, median_times_in_turns, parse_args, print_table  # noqa: E402

import tinynn as tn  # noqa: E402
from tinynn.models import GPT  # noqa: E402

QUICK = ["--threads", "1"]
VOCAB, LAYERS, HEADS, EMBD = 10, 3, 3, 48


def tinynn_step(batch, context, rng):
    model = GPT(VOCAB, context, LAYERS, HEADS, EMBD)
    opt = tn.optim.AdamW(model.parameters(), lr=1e-3)
    x, y = rng.integers(0, VOCAB, (batch, context)), rng.integers(0, VOCAB, (batch, context))

    def step():
        _, loss = model(x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def torch_step(batch, context, rng):
    """The same step in PyTorch, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    nn, F = torch.nn, torch.nn.functional

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.ln_2 = nn.LayerNorm(EMBD), nn.LayerNorm(EMBD)
            self.c_attn, self.c_proj = nn.Linear(EMBD, 3 * EMBD), nn.Linear(EMBD, EMBD)
            self.mlp = nn.Sequential(nn.Linear(EMBD, 4 * EMBD), nn.GELU(approximate="tanh"), nn.Linear(4 * EMBD, EMBD))

        def forward(self, x):
            b, t, c = x.shape
            q, k, v = self.c_attn(self.ln_1(x)).reshape(b, t, 3, HEADS, c // HEADS).permute(2, 0, 3, 1, 4)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(b, t, c)
            x = x + self.c_proj(y)
            return x + self.mlp(self.ln_2(x))

    class TorchGPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(VOCAB, EMBD), nn.Embedding(context, EMBD)
            self.h = nn.ModuleList([Block() for _ in range(LAYERS)])
            self.ln_f, self.lm_head = nn.LayerNorm(EMBD), nn.Linear(EMBD, VOCAB, bias=False)

        def forward(self, idx):
            x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
            for block in self.h:
                x = block(x)
            return self.lm_head(self.ln_f(x))

    model = TorchGPT()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.from_numpy(rng.integers(0, VOCAB, (batch, context)))
    y = torch.from_numpy(rng.integers(0, VOCAB, (batch, context)))

    def step():
        loss = F.cross_entropy(model(x).reshape(-1, VOCAB), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step, torch


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--context", type=int, default=7)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parse_args(parser, QUICK)
    rng = np.random.default_rng(0)
    print(f"GPT {LAYERS} layers, {HEADS} heads, {EMBD} dims, context {args.context}, batch {args.batch}; "
          f"kernels.info()={tn.kernels.info()}")
    ours = tinynn_step(args.batch, args.context, rng)
    theirs = torch_step(args.batch, args.context, rng)
    rows = []
    for threads in args.threads:
        tn.set_num_threads(threads)
        if theirs is None:
            (t_ours,) = median_times_in_turns([ours])
            rows.append([threads, fmt_us(t_ours), "-", "-"])
            continue
        step, torch = theirs
        torch.set_num_threads(threads)
        t_ours, t_theirs = median_times_in_turns([ours, step], min_time=2.0)
        rows.append([threads, fmt_us(t_ours), fmt_us(t_theirs), f"{t_theirs / t_ours:.2f}"])
    print_table(rows, ["threads", "tinynn us/step", "pytorch us/step", "pytorch / tinynn"])


if __name__ == "__main__":
    main()
