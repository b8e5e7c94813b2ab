"""Training a GPT on a sequence task or a text: the recipes and the loop that `tinynn gpt` and
examples/gpt_addition.py share.

    task = sequences.addition()
    model = GPT(task.vocab_size, task.train.shape[1] - 1, **RECIPES["add"]["model"])
    train_gpt(model, task_batches(task, 256), steps=1200, lr=3e-3)
"""
import time

import numpy as np

from .. import optim
from ..datasets import sequences
from ..nn.utils import clip_grad_norm_
from ..random import generator

# Recipes that reach their task's target quickly on two cores (figures in docs/13-attention.md)
RECIPES = {
    "add": {"model": {"n_layer": 3, "n_head": 3, "n_embd": 48}, "steps": 800, "batch_size": 256, "lr": 3e-3},
    "sort": {"model": {"n_layer": 3, "n_head": 3, "n_embd": 48}, "steps": 600, "batch_size": 128, "lr": 3e-3},
    "text": {"model": {"n_layer": 4, "n_head": 4, "n_embd": 128}, "block_size": 64, "steps": 2000,
             "batch_size": 32, "lr": 1e-3},
}


def task_batches(task, batch_size):
    """batches(rng) -> (x, y): batch_size random training rows of a SequenceTask, with the
    prompt's targets not scored (sequences.inputs_and_targets)."""
    x, y = sequences.inputs_and_targets(task.train, task.prompt_len)

    def batches(rng):
        i = rng.integers(0, len(x), batch_size)
        return x[i], y[i]
    return batches


def text_batches(corpus, block_size, batch_size):
    """batches(rng) -> (x, y): random windows of a CharCorpus (sequences.random_windows)."""
    return lambda rng: sequences.random_windows(corpus.data, block_size, batch_size, rng)


def train_gpt(model, batches, steps, lr, weight_decay=0.1, clip=1.0, log=None, log_every=100):
    """AdamW (betas 0.9, 0.95; weight decay on matrices only, as GPT-2 and minGPT) under a one-cycle
    learning-rate schedule peaking at lr, gradients clipped to norm `clip`, for `steps` batches from
    batches(rng). log(step, loss, seconds) is called every log_every steps and at the end.
    Returns the list of (step, loss, seconds) logged."""
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    opt = optim.AdamW([{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
                      lr=lr, betas=(0.9, 0.95))
    schedule = optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    rng = np.random.default_rng(generator().integers(2 ** 63))
    model.train()
    history, start = [], time.perf_counter()
    for step in range(1, steps + 1):
        x, y = batches(rng)
        _, loss = model(x, y)
        opt.zero_grad()
        loss.backward()
        clip_grad_norm_(model.parameters(), clip)
        opt.step()
        schedule.step()
        if step % log_every == 0 or step == steps:
            record = (step, loss.item(), time.perf_counter() - start)
            history.append(record)
            if log is not None:
                log(*record)
    model.eval()
    return history


def save_gpt(model, path, **extra):
    """Write a GPT to one .npz (tn.save, never pickle): its weights under "state" and, under
    "tinynn_model", a JSON description {"format": "tinynn.model", "arch": "gpt", "config": {...},
    ...extra} (the task, or the characters of a text model, the accuracy reached)."""
    import json

    from ..io.modelfile import FORMAT, VERSION
    from ..io.serialization import save

    spec = {"format": FORMAT, "version": VERSION, "arch": "gpt", "config": model.config(), **extra}
    state = {k: np.ascontiguousarray(v) for k, v in model.state_dict().items()}
    save({"tinynn_model": json.dumps(spec, sort_keys=True), "state": state}, path)


def load_gpt(path):
    """(model, spec) from a file save_gpt wrote, in eval mode; ValueError naming the file otherwise."""
    import json

    from ..io.serialization import load
    from .gpt import GPT

    blob = load(path)
    try:
        spec = json.loads(blob["tinynn_model"])
        if spec.get("arch") != "gpt":
            raise ValueError(f"arch {spec.get('arch')!r}")
        model = GPT(**spec["config"])
        model.load_state_dict(blob["state"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"{path}: not a GPT model file written by tinynn ({exc})") from None
    model.eval()
    return model, spec
