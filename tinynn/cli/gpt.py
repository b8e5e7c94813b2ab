"""`tinynn gpt`: train a small GPT (decoder-only Transformer) on a built-in task -- 2-digit
addition or sorting, scored on held-out problems -- or on a text file, character by character;
`tinynn gpt sample MODEL.npz --prompt TEXT` continues a prompt with a trained model."""
import sys

from .common import CLIError, check_npz, check_out, nonneg_int, positive_float, positive_int, setup

TASKS = ("add", "sort")


def add_parser(sub):
    g = sub.add_parser("gpt", help="train a small GPT on addition, sorting or a text file, and sample from it",
                       description=__doc__)
    g.add_argument("action", nargs="?", choices=("train", "sample"), default="train",
                   help="train (default) or sample from MODEL")
    g.add_argument("model", nargs="?", help="(sample) the model .npz to sample from")
    source = g.add_mutually_exclusive_group()
    source.add_argument("--task", choices=TASKS, help="built-in task (default add)")
    source.add_argument("--text", metavar="FILE", help="train a character-level model on this text file")
    g.add_argument("--steps", type=positive_int, help="optimizer steps (default: the task's recipe)")
    g.add_argument("--batch-size", type=positive_int, help="(default: the task's recipe)")
    g.add_argument("--lr", type=positive_float, help="peak learning rate (default: the task's recipe)")
    g.add_argument("--layers", type=positive_int, help="(default: the recipe's)")
    g.add_argument("--heads", type=positive_int, help="(default: the recipe's)")
    g.add_argument("--embd", type=positive_int, help="embedding width (default: the recipe's)")
    g.add_argument("--block-size", type=positive_int, help="(text) context length (default 64)")
    g.add_argument("--out", default="gpt.npz", help="where to save the trained model (default gpt.npz)")
    g.add_argument("--prompt", default=None, help="(sample) the text to continue (for add: digits such as 4785)")
    g.add_argument("--tokens", type=nonneg_int, default=None, help="(sample) tokens to generate")
    g.add_argument("--temperature", type=positive_float, default=1.0, help="(sample) softmax temperature (default 1)")
    g.add_argument("--top-k", type=positive_int, default=None, help="(sample) keep the k likeliest tokens (1: greedy)")
    g.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    g.add_argument("--threads", type=positive_int, help="threads for the compiled kernels")
    g.add_argument("--quiet", action="store_true", help="no progress lines")
    g.set_defaults(func=run)


def run(args):
    setup(args)
    if args.action == "sample":
        return _sample(args)
    if args.model is not None:
        raise CLIError(f"unexpected argument {args.model!r} (a model file is only read by `tinynn gpt sample`)")
    check_out(args.out)
    return _train(args)


def _train(args):
    from ..datasets import sequences
    from ..models import GPT
    from ..models.gpt_training import RECIPES, save_gpt, task_batches, text_batches, train_gpt
    from ..train import format_table

    name = "text" if args.text else (args.task or "add")
    recipe = RECIPES[name]
    shape = {"n_layer": args.layers or recipe["model"]["n_layer"], "n_head": args.heads or recipe["model"]["n_head"],
             "n_embd": args.embd or recipe["model"]["n_embd"]}
    batch_size, steps, lr = args.batch_size or recipe["batch_size"], args.steps or recipe["steps"], args.lr or recipe["lr"]
    if args.text:
        corpus = sequences.characters(_read(args.text))
        block = args.block_size or recipe["block_size"]
        model, batches = GPT(len(corpus.chars), block, **shape), text_batches(corpus, block, batch_size)
        extra = {"chars": corpus.chars, "text": str(args.text)}
    else:
        task = sequences.addition() if name == "add" else sequences.sorting()
        model, batches = GPT(task.vocab_size, task.train.shape[1] - 1, **shape), task_batches(task, batch_size)
        extra = {"task": name}
    log = None if args.quiet else (lambda step, loss, sec: print(
        f"step {step:6d}/{steps}  loss {loss:.4f}  {sec:7.1f} s", file=sys.stderr, flush=True))
    history = train_gpt(model, batches, steps, lr, log=log, log_every=max(1, min(100, steps // 10)))
    rows = [["steps", f"{steps}"], ["final loss", f"{history[-1][1]:.4f}"], ["seconds", f"{history[-1][2]:.1f}"]]
    if not args.text:
        accuracy = sequences.exact_match_accuracy(model, task.test, task.prompt_len)
        extra["test_accuracy"] = accuracy
        rows.append([f"held-out exact ({len(task.test)})", f"{accuracy:.2%}"])
    save_gpt(model, args.out, **extra)
    print(format_table(["gpt " + name, "value"], rows))
    print(f"saved {args.out}")
    return 0


def _read(path):
    try:
        return open(path, encoding="utf-8").read()
    except UnicodeDecodeError:
        raise CLIError(f"{path}: not UTF-8 text") from None


def _sample(args):
    import numpy as np

    from ..models.gpt_training import load_gpt

    if args.model is None:
        raise CLIError("sample needs a model file: tinynn gpt sample MODEL.npz --prompt TEXT")
    check_npz(args.model)
    model, spec = load_gpt(args.model)
    chars = spec.get("chars")
    prompt = args.prompt if args.prompt is not None else ("" if chars is None else chars[0])
    if chars is not None:
        unknown = sorted(set(prompt) - set(chars))
        if unknown or not prompt:
            raise CLIError(f"the prompt must be non-empty text over the model's characters (unknown: {unknown!r})")
        ids = [chars.index(c) for c in prompt]
        tokens = 200 if args.tokens is None else args.tokens
    else:
        if not prompt.isdigit() or not prompt or max(map(int, prompt)) >= model.vocab_size:
            raise CLIError(f"the prompt must be digits below {model.vocab_size} for a {spec.get('task')} model, "
                           f"e.g. --prompt {'4785' if spec.get('task') == 'add' else '210120'}")
        ids = [int(c) for c in prompt]
        if len(ids) > model.block_size:
            raise CLIError(f"a prompt of {len(ids)} digits is longer than the model's context "
                           f"block_size={model.block_size}")
        tokens = model.block_size + 1 - len(ids) if args.tokens is None else args.tokens
    out = model.generate(np.array([ids]), tokens, temperature=args.temperature, top_k=args.top_k).numpy()[0]
    new = out[len(ids):]
    text = "".join(chars[i] for i in new) if chars is not None else "".join(map(str, new))
    if spec.get("task") == "add" and len(ids) == 4 and len(new) == 3:
        print(f"{prompt[:2]} + {prompt[2:]} = {text[::-1]}  (the model writes the sum's digits reversed: {text})")
    else:
        print(prompt + text if chars is not None else f"{prompt} -> {text}")
    return 0
