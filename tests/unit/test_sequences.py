"""The generated sequence tasks: right answers, fixed disjoint splits, the targets' masking,
character corpora and windows."""
import numpy as np
import pytest

from tinynn.datasets import sequences


def value(digits):
    return int("".join(map(str, digits)))


def test_addition_rows_hold_the_reversed_sum():
    task = sequences.addition()
    assert task.vocab_size == 10 and task.prompt_len == 4
    assert task.train.shape == (9000, 7) and task.test.shape == (1000, 7)
    for row in np.concatenate([task.train[:50], task.test[:50]]):
        assert value(row[:2]) + value(row[2:4]) == value(row[4:][::-1])
    problems = {tuple(r) for r in task.train} | {tuple(r) for r in task.test}
    assert len(problems) == 10000  # every problem once: train and test are disjoint
    again = sequences.addition()
    assert (again.test == task.test).all()  # the same split every time
    assert not (sequences.addition(seed=1).test == task.test).all()


def test_sorting_rows_hold_the_sorted_copy():
    task = sequences.sorting(length=5, num_digits=3)
    assert task.train.shape[0] + task.test.shape[0] == 3 ** 5 and task.test.shape == (49, 10)
    for row in task.train:
        assert (np.sort(row[:5]) == row[5:]).all()


def test_inputs_and_targets_shift_by_one_and_hide_the_prompt():
    rows = np.array([[1, 2, 3, 4, 5, 6, 7]])
    x, y = sequences.inputs_and_targets(rows, 4)
    assert x.tolist() == [[1, 2, 3, 4, 5, 6]] and y.tolist() == [[-1, -1, -1, 5, 6, 7]]


def test_characters_and_windows():
    corpus = sequences.characters("abcab")
    assert corpus.chars == "abc" and corpus.data.tolist() == [0, 1, 2, 0, 1]
    x, y = sequences.random_windows(np.arange(10), 4, 3, np.random.default_rng(0))
    assert x.shape == (3, 4) and (y == x + 1).all()
    with pytest.raises(ValueError, match="the text is empty"):
        sequences.characters("")
    with pytest.raises(ValueError, match="fewer than block_size"):
        sequences.random_windows(np.arange(4), 4, 1, np.random.default_rng(0))


def test_exact_match_accuracy_counts_whole_answers():
    rows = np.array([[1, 2, 3], [1, 2, 4]])

    class Echo:  # a stand-in model: answers by repeating the prompt's last token + 1
        training = False

        def eval(self):
            pass

        def train(self, mode=True):
            pass

        def generate(self, idx, n, top_k=None):
            from tinynn import tensor
            return tensor(np.concatenate([idx, idx[:, -1:] + 1 + np.zeros((1, n), np.int64)], axis=1))
    assert sequences.exact_match_accuracy(Echo(), rows, 2) == 0.5
