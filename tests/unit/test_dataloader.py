"""DataLoader's PyTorch arguments: keyword checking, sampler / batch_sampler / collate_fn / drop_last /
generator and their mutual exclusions, background workers (same order, errors reach the caller),
and tinynn.utils.data."""
import threading
import time

import numpy as np
import pytest

import tinynn as tn
from tinynn import data


def make(n=10):
    return data.TensorDataset(np.arange(n * 2, dtype=np.float32).reshape(n, 2), np.arange(n))


def labels(loader):
    return [yb.numpy().tolist() for _, yb in loader]


def test_unknown_keywords_are_a_type_error_naming_them():
    with pytest.raises(TypeError, match="shufle"):
        data.DataLoader(make(), shufle=True)
    with pytest.raises(TypeError, match="num_worker"):
        data.DataLoader(make(), num_worker=2)


def test_pytorch_keywords_without_effect_on_a_cpu_are_accepted():
    loader = data.DataLoader(make(), batch_size=5, pin_memory=True, timeout=0, multiprocessing_context=None,
                             pin_memory_device="")
    assert labels(loader) == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]


def test_mutual_exclusions():
    ds = make()
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        data.DataLoader(ds, sampler=[0, 1], shuffle=True)
    for kw in (dict(batch_size=2), dict(shuffle=True), dict(sampler=[0]), dict(drop_last=True)):
        with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
            data.DataLoader(ds, batch_sampler=[[0, 1]], **kw)
    with pytest.raises(ValueError, match="drop_last"):
        data.DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="num_workers"):
        data.DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="prefetch_factor"):
        data.DataLoader(ds, prefetch_factor=2)
    with pytest.raises(ValueError, match="persistent_workers"):
        data.DataLoader(ds, persistent_workers=True)


def test_batch_sampler_collate_fn_and_no_batching():
    ds = make()
    loader = data.DataLoader(ds, batch_sampler=[[3, 1], [0], [9, 8, 7]])
    assert labels(loader) == [[3, 1], [0], [9, 8, 7]] and len(loader) == 3
    bs = data.BatchSampler(data.SequentialSampler(ds), batch_size=4, drop_last=True)
    assert labels(data.DataLoader(ds, batch_sampler=bs)) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    sums = list(data.DataLoader(ds, batch_size=4, collate_fn=lambda samples: sum(int(y.item()) for _, y in samples)))
    assert sums == [0 + 1 + 2 + 3, 4 + 5 + 6 + 7, 8 + 9]
    singles = list(data.DataLoader(ds, batch_size=None, sampler=[2, 5]))
    assert [y.item() for _, y in singles] == [2, 5] and singles[0][0].shape == (2,)
    assert len(data.DataLoader(ds, batch_size=None)) == 10


def test_generator_makes_shuffling_reproducible():
    ds = make(30)
    a = labels(data.DataLoader(ds, batch_size=7, shuffle=True, generator=np.random.default_rng(5)))
    b = labels(data.DataLoader(ds, batch_size=7, shuffle=True, generator=np.random.default_rng(5)))
    assert a == b and sorted(sum(a, [])) == list(range(30))
    assert a != labels(data.DataLoader(ds, batch_size=7, shuffle=True, generator=np.random.default_rng(6)))
    parts = data.random_split(ds, [10, 20], generator=np.random.default_rng(1))
    again = data.random_split(ds, [10, 20], generator=np.random.default_rng(1))
    assert parts[0].indices.tolist() == again[0].indices.tolist()


class Slow(data.Dataset):
    """Samples whose loading takes time and records the thread that loaded it."""

    def __init__(self, n=24, delay=0.002, fail_at=None):
        self.n, self.delay, self.fail_at, self.threads = n, delay, fail_at, set()

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.fail_at:
            raise KeyError(f"sample {i} is broken")
        time.sleep(self.delay * ((i * 7) % 5))   # uneven, so batches finish out of order
        self.threads.add(threading.get_ident())
        return np.full(3, i, dtype=np.float32), i


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("drop_last", [False, True])
def test_workers_give_the_order_of_num_workers_0(shuffle, drop_last):
    def run(workers):
        tn.manual_seed(11)
        ds = Slow()
        out = [labels(data.DataLoader(ds, batch_size=5, shuffle=shuffle, drop_last=drop_last, num_workers=workers))
               for _ in range(2)]
        return out, ds.threads

    (serial, serial_threads), (parallel, worker_threads) = run(0), run(3)
    assert parallel == serial
    assert serial_threads == {threading.get_ident()}
    assert threading.get_ident() not in worker_threads and len(worker_threads) >= 2   # really in the background
    if shuffle:
        assert serial[0] != serial[1]   # a fresh permutation each pass, in both


def test_workers_with_a_fast_tensor_dataset_and_init_fn():
    ids = []
    loader = data.DataLoader(make(50), batch_size=8, shuffle=True, num_workers=2, prefetch_factor=1,
                             worker_init_fn=ids.append)
    tn.manual_seed(3)
    parallel = labels(loader)
    tn.manual_seed(3)
    serial = labels(data.DataLoader(make(50), batch_size=8, shuffle=True))
    assert parallel == serial and sorted(ids) == list(range(len(ids))) and 1 <= len(ids) <= 2


def test_an_exception_in_a_worker_reaches_the_caller():
    loader = data.DataLoader(Slow(fail_at=13), batch_size=4, num_workers=2)
    got = []
    with pytest.raises(KeyError, match="sample 13 is broken"):
        for _, yb in loader:
            got.append(yb.numpy().tolist())
    assert got == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]   # every batch before the broken one


class Counting(data.Dataset):
    def __init__(self, n):
        self.n, self.calls = n, 0

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        time.sleep(0.002)
        self.calls += 1
        return np.zeros(1, np.float32), i


def test_leaving_the_loop_early_stops_the_workers():
    ds = Counting(400)
    it = iter(data.DataLoader(ds, batch_size=2, num_workers=2))   # up to 2 * 2 batches in flight
    next(it)
    it.close()   # what a `break` does to the loop's iterator once it is dropped
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(t.name.startswith("tinynn-data") for t in threading.enumerate()):
        time.sleep(0.01)
    assert not any(t.name.startswith("tinynn-data") for t in threading.enumerate())
    assert ds.calls <= 2 * 5   # the batch taken and at most the four fetched ahead; the rest were cancelled


def test_tinynn_utils_data_is_tinynn_data():
    import tinynn.utils.data as utils_data
    from tinynn.utils.data import DataLoader, TensorDataset

    assert utils_data is data and DataLoader is data.DataLoader and TensorDataset is data.TensorDataset
    assert tn.utils.data is data


def test_sampler_attribute_as_pytorch():
    ds = make()
    assert isinstance(data.DataLoader(ds).sampler, data.SequentialSampler)
    assert isinstance(data.DataLoader(ds, shuffle=True).sampler, data.RandomSampler)
