"""Train a small GPT (3 layers, 3 heads, 48 dims) to add two 2-digit numbers, then check it on
1,000 held-out problems it never saw: a problem counts only if all three answer digits are right.

    python examples/gpt_addition.py            # the recipe: 800 steps of 256, 100% held out
    python examples/gpt_addition.py --steps 300 --threads 2
"""
import argparse
import time

import tinynn as tn
from tinynn.datasets import sequences
from tinynn.models import GPT
from tinynn.models.gpt_training import RECIPES, task_batches, train_gpt


def main(steps=None, seed=0, threads=None, quiet=False):
    recipe = RECIPES["add"]
    steps = steps or recipe["steps"]
    if threads:
        tn.set_num_threads(threads)
    tn.manual_seed(seed)
    task = sequences.addition()
    model = GPT(task.vocab_size, task.train.shape[1] - 1, **recipe["model"])
    log = None if quiet else (lambda step, loss, sec: print(f"step {step:5d}  loss {loss:.4f}  {sec:6.1f} s", flush=True))
    start = time.perf_counter()
    train_gpt(model, task_batches(task, recipe["batch_size"]), steps, recipe["lr"], log=log)
    seconds = time.perf_counter() - start
    accuracy = sequences.exact_match_accuracy(model, task.test, task.prompt_len)
    print(f"held-out accuracy: {accuracy:.4f} ({len(task.test)} problems), training {seconds:.1f} s")
    a, b = task.test[0, :2], task.test[0, 2:4]
    answer = model.generate(task.test[:1, :4], 3, top_k=1).numpy()[0, 4:]
    print(f"e.g. {a[0]}{a[1]} + {b[0]}{b[1]} = {''.join(str(d) for d in answer[::-1])}")
    return accuracy, seconds


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    main(args.steps, args.seed, args.threads)
