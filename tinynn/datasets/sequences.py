"""Sequence tasks that need no download: 2-digit addition and sorting (as in minGPT's demos),
generated deterministically with a held-out split, and character-level text from a local file.

A task's sequences are whole token-id rows (prompt, then answer). A language model reads
x = seq[:-1] and learns y = seq[1:]; the prompt's own positions are not scored
(`inputs_and_targets` marks them -1), and a problem counts as solved when greedy decoding of the
prompt reproduces the answer exactly (`exact_match_accuracy`).

    task = addition()                       # 47 + 85 = 132: [4, 7, 8, 5, 2, 3, 1] (sum reversed)
    x, y = inputs_and_targets(task.train, task.prompt_len)
"""
from collections import namedtuple
import numpy as np

SequenceTask = namedtuple("SequenceTask", "name vocab_size prompt_len train test")
SequenceTask.__doc__ = """A generated task: `train` and `test` (n, L) int64 token rows, the first
`prompt_len` tokens the question, the rest the answer; tokens are 0..vocab_size-1."""

CharCorpus = namedtuple("CharCorpus", "data chars")
CharCorpus.__doc__ = """A text as int64 token ids `data` (one per character) over the sorted
distinct characters `chars` (token i is chars[i])."""


def _split(rows, test_size, seed):
    """A fixed shuffle of the rows, the first `test_size` held out."""
    order = np.random.default_rng(seed).permutation(len(rows))
    return rows[order[test_size:]], rows[order[:test_size]]


def addition(ndigit=2, test_size=1000, seed=0):
    """Every sum a + b of two ndigit numbers (10^(2 ndigit) problems), as digit tokens:
    a's digits, b's digits (zero-padded, most significant first), then the ndigit + 1 digits of
    a + b reversed, least significant first (as minGPT's adder: the model writes the carry last).
    A fixed random `test_size` of the problems is held out."""
    n = 10 ** ndigit
    a, b = np.divmod(np.arange(n * n), n)

    def digits(v, width):  # most significant first
        return (v[:, None] // 10 ** np.arange(width - 1, -1, -1)) % 10
    rows = np.concatenate([digits(a, ndigit), digits(b, ndigit), digits(a + b, ndigit + 1)[:, ::-1]], axis=1)
    train, test = _split(rows.astype(np.int64), test_size, seed)
    return SequenceTask(f"add{ndigit}", 10, 2 * ndigit, train, test)


def sorting(length=6, num_digits=3, test_fraction=0.2, seed=0):
    """Every sequence of `length` digits in 0..num_digits-1 followed by its sorted copy
    (num_digits^length problems), a fixed random `test_fraction` of them held out."""
    n = num_digits ** length
    seqs = (np.arange(n)[:, None] // num_digits ** np.arange(length)) % num_digits
    rows = np.concatenate([seqs, np.sort(seqs, axis=1)], axis=1).astype(np.int64)
    train, test = _split(rows, int(round(n * test_fraction)), seed)
    return SequenceTask(f"sort{length}", num_digits, length, train, test)


def inputs_and_targets(rows, prompt_len):
    """x = rows[:, :-1], y = rows[:, 1:] with the targets inside the prompt set to -1 (not scored):
    position t of x predicts token t + 1, and only the answer's tokens count."""
    x, y = rows[:, :-1].copy(), rows[:, 1:].copy()
    y[:, :prompt_len - 1] = -1
    return x, y


def exact_match_accuracy(model, rows, prompt_len, batch_size=1000):
    """The fraction of rows whose answer greedy decoding reproduces exactly:
    model.generate(prompt, len(answer), top_k=1) == the row."""
    was_training = model.training
    model.eval()
    right = 0
    try:
        for i in range(0, len(rows), batch_size):
            part = rows[i:i + batch_size]
            out = model.generate(part[:, :prompt_len], part.shape[1] - prompt_len, top_k=1).numpy()
            right += int(np.sum(np.all(out == part, axis=1)))
    finally:
        model.train(was_training)
    return right / max(len(rows), 1)


def characters(text):
    """A character-level corpus of a string (read a user's file with open(path).read()): ids over
    its sorted distinct characters. An empty text is an error."""
    if not text:
        raise ValueError("characters: the text is empty")
    chars = sorted(set(text))
    lookup = {c: i for i, c in enumerate(chars)}
    return CharCorpus(np.array([lookup[c] for c in text], dtype=np.int64), "".join(chars))


def random_windows(data, block_size, batch_size, rng):
    """A batch of language-model windows from a long id sequence: x = data[s:s+T],
    y = data[s+1:s+T+1] for batch_size random starts s."""
    if len(data) < block_size + 1:
        raise ValueError(f"random_windows: the text has {len(data)} tokens, fewer than block_size + 1 = {block_size + 1}")
    starts = rng.integers(0, len(data) - block_size, size=batch_size)
    index = starts[:, None] + np.arange(block_size)
    return data[index], data[index + 1]
