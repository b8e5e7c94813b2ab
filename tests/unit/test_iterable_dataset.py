"""IterableDataset, ChainDataset, StackDataset, get_worker_info and DataLoader over a stream, as
torch.utils.data has them: batches cut from the stream, workers that each iterate their own copy and
take turns, sharding by get_worker_info covering every item exactly once, and PyTorch's errors."""
import dataclasses
import threading
import time
import warnings

import numpy as np
import pytest

import tinynn as tn
from tinynn import data
from tinynn.data import ChainDataset, DataLoader, IterableDataset, StackDataset, get_worker_info


class Range(IterableDataset):
    """0 .. n-1; in a worker, only the items k with k % num_workers == id (the usual sharding)."""

    def __init__(self, n, shard=True):
        self.n, self.shard = n, shard

    def __iter__(self):
        info = get_worker_info()
        if info is None or not self.shard:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


class SizedRange(Range):
    def __len__(self):
        return self.n


def values(loader):
    return [b.tolist() if isinstance(b, tn.Tensor) else b for b in loader]


# ------------------------------------------------------------------------------ batching the stream

def test_batches_are_cut_from_the_stream_in_order():
    assert values(DataLoader(Range(7), batch_size=3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert values(DataLoader(Range(7), batch_size=3, drop_last=True)) == [[0, 1, 2], [3, 4, 5]]
    assert values(DataLoader(Range(6), batch_size=3, drop_last=True)) == [[0, 1, 2], [3, 4, 5]]
    assert values(DataLoader(Range(4), batch_size=None)) == [0, 1, 2, 3]   # items, not batches
    assert values(DataLoader(Range(0), batch_size=2)) == []
    sums = list(DataLoader(Range(5), batch_size=2, collate_fn=sum))
    assert sums == [0 + 1, 2 + 3, 4]
    batch = next(iter(DataLoader(Range(3), batch_size=3)))
    assert isinstance(batch, tn.Tensor) and batch.dtype == tn.int64


class Pairs(IterableDataset):
    def __iter__(self):
        for i in range(3):
            yield np.full(2, i, dtype=np.float32), i


def test_samples_are_collated_field_by_field():
    xb, yb = next(iter(DataLoader(Pairs(), batch_size=2)))
    assert xb.tolist() == [[0.0, 0.0], [1.0, 1.0]] and yb.tolist() == [0, 1]
    x, y = next(iter(DataLoader(Pairs(), batch_size=None)))      # default_convert: the ndarray as a Tensor
    assert isinstance(x, tn.Tensor) and x.tolist() == [0.0, 0.0] and y == 0


def test_len_is_the_datasets_in_batches_and_a_type_error_without_one():
    assert len(DataLoader(SizedRange(7), batch_size=3)) == 3
    assert len(DataLoader(SizedRange(7), batch_size=3, drop_last=True)) == 2
    assert len(DataLoader(SizedRange(7), batch_size=None)) == 7
    with pytest.raises(TypeError, match="has no len"):
        len(DataLoader(Range(7)))


class Overlong(IterableDataset):
    def __iter__(self):
        return iter(range(5))

    def __len__(self):
        return 3


def test_a_stream_longer_than_its_len_warns_once_len_was_read():
    loader = DataLoader(Overlong(), batch_size=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert values(loader) == [[0, 1], [2, 3], [4]]           # len() not read: no warning
    assert len(loader) == 2
    with pytest.warns(UserWarning, match="reported to be 2"):
        assert values(loader) == [[0, 1], [2, 3], [4]]


def test_sampler_shuffle_and_batch_sampler_are_refused():
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        DataLoader(Range(3), shuffle=True)
    with pytest.raises(ValueError, match="expected unspecified sampler option"):
        DataLoader(Range(3), sampler=[0, 1])
    with pytest.raises(ValueError, match="expected unspecified batch_sampler option"):
        DataLoader(Range(3), batch_sampler=[[0, 1]])
    loader = DataLoader(Range(3), shuffle=False, batch_size=2)       # False is "unspecified" too
    assert values(loader) == [[0, 1], [2]] and loader.batch_sampler is not None
    assert DataLoader(Range(3), batch_size=None).batch_sampler is None


# -------------------------------------------------------------------------------------- workers

def test_workers_take_turns_as_in_pytorch():
    # worker 0 has 0, 2, 4, 6 and worker 1 has 1, 3, 5: batches alternate, then worker 0 finishes alone
    assert values(DataLoader(Range(7), batch_size=3, num_workers=2)) == [[0, 2, 4], [1, 3, 5], [6]]
    assert values(DataLoader(Range(7), batch_size=3, num_workers=2, drop_last=True)) == [[0, 2, 4], [1, 3, 5]]
    assert values(DataLoader(Range(7), batch_size=None, num_workers=2)) == [0, 1, 2, 3, 4, 5, 6]
    assert values(DataLoader(Range(7), batch_size=2, num_workers=3)) == [[0, 3], [1, 4], [2, 5], [6]]


@pytest.mark.parametrize("n", [0, 1, 5, 17])
@pytest.mark.parametrize("workers", [1, 2, 3, 4])
@pytest.mark.parametrize("batch_size", [None, 1, 3])
def test_sharding_by_worker_info_covers_each_item_exactly_once(n, workers, batch_size):
    out = values(DataLoader(Range(n), batch_size=batch_size, num_workers=workers, prefetch_factor=1))
    flat = out if batch_size is None else [v for batch in out for v in batch]
    assert sorted(flat) == list(range(n))


def test_without_sharding_every_worker_yields_the_whole_stream():
    assert values(DataLoader(Range(3, shard=False), batch_size=None, num_workers=2)) == [0, 0, 1, 1, 2, 2]


class Report(IterableDataset):
    def __iter__(self):
        info = get_worker_info()
        yield info.id, info.num_workers, info.seed, info.dataset is self, threading.current_thread().name


def test_worker_info_inside_and_outside_workers():
    assert get_worker_info() is None
    assert values(DataLoader(Range(2), batch_size=None)) == [0, 1]      # num_workers=0: the main thread, no info
    tn.manual_seed(5)
    dataset = Report()
    got = list(DataLoader(dataset, batch_size=None, num_workers=3))
    assert [g[:2] for g in got] == [[0, 3], [1, 3], [2, 3]]           # (default_convert makes tuples lists)
    base = got[0][2]
    assert [g[2] for g in got] == [base, base + 1, base + 2] and 0 <= base < 2 ** 63
    assert all(g[3] for g in got)                                   # info.dataset: the copy being iterated
    assert all(g[4].startswith("tinynn-data") for g in got)
    tn.manual_seed(5)
    assert list(DataLoader(Report(), batch_size=None, num_workers=3))[0][2] == base   # reproducible
    loader = DataLoader(Report(), batch_size=None, num_workers=1)
    assert list(loader)[0][2] != list(loader)[0][2]                 # a new base seed each pass


class Span(IterableDataset):
    """PyTorch's documented pattern: worker_init_fn narrows each worker's copy to its part of [start, end)."""

    def __init__(self, start, end):
        self.start, self.end = start, end

    def __iter__(self):
        return iter(range(self.start, self.end))


def split_span(worker_id):
    info = get_worker_info()
    span = info.dataset
    per = -(-(span.end - span.start) // info.num_workers)
    span.start, span.end = span.start + worker_id * per, min(span.start + (worker_id + 1) * per, span.end)


def test_worker_init_fn_configures_each_workers_own_copy():
    dataset = Span(3, 10)
    out = values(DataLoader(dataset, batch_size=None, num_workers=2, worker_init_fn=split_span))
    assert sorted(out) == list(range(3, 10)) and out[:2] == [3, 7]
    assert (dataset.start, dataset.end) == (3, 10)                  # the loader's dataset is untouched


def test_worker_info_is_read_only_and_reaches_map_style_workers():
    seen = []

    class Recording(data.Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            info = get_worker_info()
            seen.append((info.id, info.num_workers, info.dataset is dataset))
            with pytest.raises(dataclasses.FrozenInstanceError):
                info.id = 7
            return i

    dataset = Recording()
    assert values(DataLoader(dataset, batch_size=2, num_workers=2)) == [[0, 1], [2, 3], [4, 5]]
    assert len(seen) == 6 and all(i in (0, 1) and n == 2 and same for i, n, same in seen)


class Broken(IterableDataset):
    def __iter__(self):
        info = get_worker_info()
        for i in range(info.id, 20, info.num_workers):
            if i == 5:
                raise KeyError("item 5 is broken")
            yield i


def test_an_exception_in_a_worker_reaches_the_loop_in_its_turn():
    got = []
    with pytest.raises(KeyError, match="item 5 is broken"):
        for batch in DataLoader(Broken(), batch_size=2, num_workers=2):
            got.append(batch.tolist())
    assert got == [[0, 2], [1, 3], [4, 6]]                          # worker 1's second batch would hold 5


class Endless(IterableDataset):
    def __init__(self, delay=0.0):
        self.delay = delay

    def __iter__(self):
        i = 0
        while True:
            time.sleep(self.delay)
            yield i
            i += 1


def workers_alive():
    return [t for t in threading.enumerate() if t.name.startswith("tinynn-data")]


def test_leaving_the_loop_stops_the_workers_and_a_timeout_is_an_error():
    it = iter(DataLoader(Endless(), batch_size=4, num_workers=2))
    assert next(it).tolist() == [0, 1, 2, 3] and next(it).tolist() == [0, 1, 2, 3]   # unsharded: both the same
    it.close()
    deadline = time.monotonic() + 5
    while workers_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not workers_alive()
    with pytest.raises(RuntimeError, match="timed out"):
        next(iter(DataLoader(Endless(delay=0.5), batch_size=None, num_workers=1, timeout=0.05)))


# --------------------------------------------------------------------------- ChainDataset, StackDataset

def test_chain_dataset_concatenates_streams():
    chain = ChainDataset([Range(3), Range(2), SizedRange(1)])
    assert list(chain) == [0, 1, 2, 0, 1, 0] and list(chain) == [0, 1, 2, 0, 1, 0]   # iterable again
    assert list(Range(2) + Range(2)) == [0, 1, 0, 1] and isinstance(Range(2) + Range(2), ChainDataset)
    assert len(ChainDataset([SizedRange(3), SizedRange(4)])) == 7 and list(ChainDataset([])) == []
    with pytest.raises(TypeError, match="has no len"):
        len(ChainDataset([SizedRange(3), Range(4)]))
    mixed = ChainDataset([Range(2), [7, 8]])
    with pytest.raises(TypeError, match="only supports IterableDatasets"):
        list(mixed)
    assert values(DataLoader(chain, batch_size=4)) == [[0, 1, 2, 0], [1, 0]]


def test_iterable_dataset_is_abstract_and_has_no_len_of_its_own():
    with pytest.raises(TypeError, match="abstract"):
        IterableDataset()
    with pytest.raises(TypeError, match="has no len"):
        len(Range(3))
    assert list(Range(3)) == [0, 1, 2] and isinstance(Range(3), data.Dataset)


def test_stack_dataset_gives_tuples_or_dicts():
    a, b = data.TensorDataset(np.arange(3)), [10, 11, 12]
    pairs = StackDataset(a, b)
    assert len(pairs) == 3 and pairs[1][1] == 11 and pairs[1][0][0].item() == 1 and pairs.datasets == (a, b)
    named = StackDataset(x=[1, 2, 3], y=[10.0, 11.0, 12.0])
    assert named[2] == {"x": 3, "y": 12.0} and named.datasets == {"x": [1, 2, 3], "y": [10.0, 11.0, 12.0]}
    assert named.__getitems__([0, 2]) == [{"x": 1, "y": 10.0}, {"x": 3, "y": 12.0}]
    assert StackDataset([1, 2], [3, 4]).__getitems__([1, 0]) == [(2, 4), (1, 3)]
    batches = list(DataLoader(named, batch_size=2))
    assert batches[0]["x"].tolist() == [1, 2] and batches[0]["y"].tolist() == [10.0, 11.0]
    assert batches[1]["x"].tolist() == [3] and len(batches) == 2
    xb, yb = next(iter(DataLoader(StackDataset([1, 2, 3], [4, 5, 6]), batch_size=3)))
    assert xb.tolist() == [1, 2, 3] and yb.tolist() == [4, 5, 6]


def test_stack_dataset_errors():
    with pytest.raises(ValueError, match="size mismatch"):
        StackDataset([1, 2], [1])
    with pytest.raises(ValueError, match="not both"):
        StackDataset([1, 2], y=[1, 2])
    with pytest.raises(ValueError, match="at least one"):
        StackDataset()
    with pytest.raises(IndexError):
        StackDataset([1, 2])[5]

    class Short(list):
        def __getitems__(self, indices):
            return [self[i] for i in indices][:-1]

    with pytest.raises(ValueError, match="returned 1 samples for 2"):
        StackDataset(Short([1, 2]), [3, 4]).__getitems__([0, 1])
