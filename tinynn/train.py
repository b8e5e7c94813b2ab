"""The training loop and its measurements, shared by the `tinynn` command, the demo and your
scripts: fit(model, make_optimizer("adam", model.parameters()), X, y, epochs=5, batch_size=32),
then evaluate(model, X_test, y_test). Progress: a bar on stderr on a terminal, else a line per epoch."""
import re
import statistics
import sys
import time

import numpy as np

DEFAULT_LR = {"sgd": 0.05, "adam": 1e-3, "adamw": 1e-3}  # Adam's own default, not SGD's
SCHEDULES = ("none", "cosine", "step")


def format_table(headers, rows, align=None):
    """A plain-text table: `headers` and `rows` of strings; numbers right-aligned, text left."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) if cells else len(str(h)) for i, h in enumerate(headers)]
    align = align or ["<"] + [">"] * (len(headers) - 1)
    line = lambda row: "  ".join(f"{c:{a}{w}}" for c, a, w in zip(row, align, widths)).rstrip()
    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line([str(h) for h in headers]), rule] + [line(r) for r in cells])


def _is_tty(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """Training progress. On a terminal: one tqdm bar over all steps with loss and accuracy.
    Otherwise (a pipe, a log file, CI): no bar, one plain line per epoch (the first, every
    ceil(epochs/10)-th and the last) -- never a spam of carriage returns. `quiet` silences both."""

    current, test = "1", ""

    def __init__(self, total, desc, quiet=False, stream=None, epochs=None):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.bar = None
        if not quiet and _is_tty(self.stream):
            from tqdm.auto import tqdm  # lazily: `import tinynn` never pays for tqdm

            self.bar = tqdm(total=total, desc=desc, unit="step", dynamic_ncols=True, leave=True,
                            file=self.stream, mininterval=0.1)
        self.desc = desc
        self.current = f"1/{epochs}" if epochs else "1"

    def step(self, loss, acc):
        """One optimizer step done; `loss` and `acc` are the running means of the epoch so far."""
        if self.bar is not None:
            self.bar.update(1)
            if self.bar.n % 8 == 0:
                self.bar.set_postfix_str(f"epoch {self.current}  loss {loss:.4f}  acc {acc:.1%}{self.test}",
                                         refresh=False)

    def epoch(self, record, epochs):
        """Epoch `record` (fit()'s history entry) done: update the bar, or print one line."""
        parts = [f"loss {record['loss']:.4f}", f"train acc {record['train_acc']:.1%}"]
        if record.get("test_acc") is not None:
            parts.append(f"test acc {record['test_acc']:.1%}")
            self.test = f"  test acc {record['test_acc']:.1%}"
        self.current = f"{min(record['epoch'] + 1, epochs)}/{epochs}"
        if self.bar is not None:
            self.bar.set_postfix_str(f"epoch {record['epoch']}/{epochs}  " + "  ".join(parts))
        elif not self.quiet and (record["epoch"] % max(1, -(-epochs // 10)) == 0 or record["epoch"] in (1, epochs)):
            print(f"{self.desc}: epoch {record['epoch']:>3}/{epochs}  " + "  ".join(parts)
                  + f"  ({record['seconds']:.2f} s)", flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def predict(model, X, batch_size=256):
    """Logits of `model` for the rows of X, in eval mode, without building a graph."""
    from . import no_grad, tensor

    was_training = getattr(model, "training", False)
    model.eval()
    with no_grad():
        out = [model(tensor(X[i:i + batch_size]))._data for i in range(0, len(X), batch_size)]
    if was_training:
        model.train()
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def evaluate(model, X, y, batch_size=256):
    """{"accuracy", "loss", "confusion"} of `model` on (X, y): accuracy = mean[argmax_c z_nc = y_n],
    loss = mean_n -log softmax(z_n)_{y_n} (nn.functional.cross_entropy), confusion[i, j] = how many
    samples of class i were predicted as j."""
    from . import no_grad, tensor
    from .nn import functional as F

    logits = predict(model, X, batch_size)
    with no_grad():
        loss = F.cross_entropy(tensor(logits), tensor(np.asarray(y, dtype=np.int64))).item()
    pred = logits.argmax(axis=1)
    k = logits.shape[1]
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (y, pred), 1)
    return {"accuracy": float((pred == y).mean()), "loss": float(loss), "confusion": confusion}


_PARAM_NAME = re.compile(r"(weight|bias)(_[ih]h(_l\d+(_reverse)?)?)?")  # a recurrent layer's weight_ih_l0 too


def count_params(model, nonzero=False):
    """Number of parameter values of `model` (weights and biases; int8 ones of a quantized model
    too), or only the non-zero ones."""
    total = 0
    for name, a in model.state_dict().items():
        a = np.asarray(a)
        if a.dtype.kind in "fi" and _PARAM_NAME.fullmatch(name.rsplit(".", 1)[-1]):
            total += int(np.count_nonzero(a)) if nonzero else a.size
    return total


def model_bytes(model):
    """Bytes of stored parameters (compress.quantize.model_size: int8 codes count one byte)."""
    from .compress import quantize

    return int(quantize.model_size(model))


def times_in_turns(fns, rounds, warmup=3):
    """Seconds of each call of each fn in `fns`: `rounds` rounds, each calling every fn once in turn
    (after `warmup` untimed rounds), so a busy spell of the machine hits them all alike and their
    ratios stay meaningful. Returns one list of `rounds` times per fn."""
    times = [[] for _ in fns]
    for r in range(warmup + rounds):
        for fn, t in zip(fns, times):
            start = time.perf_counter()
            fn()
            if r >= warmup:
                t.append(time.perf_counter() - start)
    return times


def latency_ms(models, n_features, batch=256, rounds=30, warmup=3, threads=None):
    """Median wall time in ms of one forward pass (no graph) of a batch of `batch` random rows,
    for one model or a list of models (timed in turns), with `threads` kernel threads (default: as set)."""
    from . import get_num_threads, no_grad, set_num_threads, tensor

    single = not isinstance(models, (list, tuple))
    models = [models] if single else list(models)
    x = tensor(np.random.default_rng(0).random((batch, n_features), dtype=np.float32))
    for m in models:
        m.eval()
    previous = get_num_threads()
    if threads:
        set_num_threads(threads)
    try:
        with no_grad():
            times = times_in_turns([lambda m=m: m(x) for m in models], rounds, warmup)
    finally:
        set_num_threads(previous)
    result = [1e3 * statistics.median(t) for t in times]
    return result[0] if single else result


def make_optimizer(name, params, lr=None, momentum=0.9, weight_decay=0.0):
    """optim.SGD (with `momentum`), Adam or AdamW by name; lr=None takes DEFAULT_LR[name]."""
    from . import optim

    if name not in DEFAULT_LR:
        raise ValueError(f"make_optimizer: unknown optimizer {name!r}; choose one of {', '.join(DEFAULT_LR)}")
    lr = DEFAULT_LR[name] if lr is None else lr
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    return (optim.Adam if name == "adam" else optim.AdamW)(params, lr=lr, weight_decay=weight_decay)


def make_scheduler(name, opt, epochs):
    """None, cosine annealing over `epochs`, or a step decay (x0.1 every third of the run)."""
    from .optim import lr_scheduler

    if name not in SCHEDULES:
        raise ValueError(f"make_scheduler: unknown learning-rate schedule {name!r}; choose one of {', '.join(SCHEDULES)}")
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    if name == "step":
        return lr_scheduler.StepLR(opt, step_size=max(1, epochs // 3), gamma=0.1)
    return None


def fit(model, opt, X, y, *, epochs, batch_size, start_epoch=0, scheduler=None, loss_fn=None,
        sampler=None, eval_data=None, desc="train", quiet=False, history=None, after_epoch=None):
    """Train `model` for epochs start_epoch+1 .. epochs with mini-batches of `batch_size`.

    Each step: loss = loss_fn(model(x), y, x) (default: cross-entropy), backward, opt.step().
    The order of the samples comes from tinynn's generator (so tn.manual_seed, or restoring the
    generator's state, fixes it) unless `sampler` (e.g. a DistributedSampler) gives it. After each
    epoch: scheduler.step(), test accuracy on `eval_data`, a record {epoch, loss, train_acc,
    test_acc, seconds} appended to `history`, then `after_epoch(epoch)` (checkpointing).
    Returns the history."""
    from . import nn
    from .data import DataLoader, TensorDataset

    history = [] if history is None else history
    if loss_fn is None:
        ce = nn.CrossEntropyLoss()
        loss_fn = lambda out, target, inputs: ce(out, target)
    loader = DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=sampler is None, sampler=sampler)
    progress = Progress(max(0, epochs - start_epoch) * len(loader), desc, quiet=quiet, epochs=epochs)
    try:
        for epoch in range(start_epoch, epochs):
            if sampler is not None and hasattr(sampler, "set_epoch"):
                sampler.set_epoch(epoch)
            model.train()
            start = time.perf_counter()
            total_loss, correct, seen = 0.0, 0, 0
            for xb, yb in loader:
                opt.zero_grad()
                out = model(xb)
                loss = loss_fn(out, yb, xb)
                loss.backward()
                opt.step()
                n = len(yb._data)
                total_loss += loss.item() * n
                correct += int((out._data.argmax(axis=1) == yb._data).sum())
                seen += n
                progress.step(loss=total_loss / seen, acc=correct / seen)
            if getattr(sampler, "num_replicas", 1) > 1:  # a DistributedSampler: report over all ranks
                from . import distributed

                total_loss, correct, seen = distributed.all_reduce(np.array([total_loss, correct, seen], dtype=np.float64))
            if scheduler is not None:
                scheduler.step()
            record = {"epoch": epoch + 1, "loss": total_loss / max(seen, 1), "train_acc": correct / max(seen, 1),
                      "test_acc": None, "seconds": time.perf_counter() - start}
            if eval_data is not None:
                record["test_acc"] = evaluate(model, *eval_data)["accuracy"]
            history.append(record)
            progress.epoch(record, epochs)
            if after_epoch is not None:
                after_epoch(epoch + 1)
    finally:
        progress.close()
    return history
