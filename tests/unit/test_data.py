"""TensorDataset, DataLoader (order, shuffling, drop_last, sampler) and transforms."""
import numpy as np
import pytest

import tinynn as tn
from tinynn import data
from tinynn.data import transforms as T


def make(n=10):
    X = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    y = np.arange(n, dtype=np.int32)
    return data.TensorDataset(X, y), X, y


def test_tensor_dataset_basics():
    ds, X, y = make()
    assert len(ds) == 10
    xi, yi = ds[3]
    assert isinstance(xi, tn.Tensor) and xi.shape == (2,) and yi.item() == 3
    assert yi.dtype == np.int64  # integer labels become int64
    with pytest.raises(IndexError):
        ds[10]
    with pytest.raises(ValueError, match=r"\[10, 9\]"):
        data.TensorDataset(X, y[:9])


def test_loader_sequential_batches_are_new_tensors():
    ds, X, y = make()
    batches = list(data.DataLoader(ds, batch_size=4))
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    xb, yb = batches[0]
    assert isinstance(xb, tn.Tensor) and yb.dtype == np.int64 and xb.dtype == np.float32
    np.testing.assert_array_equal(xb.numpy(), X[:4])
    xb.div_(255)                                  # as in PyTorch: the batch is its own tensor
    np.testing.assert_array_equal(ds.arrays[0][:4], X[:4])
    assert len(data.DataLoader(ds, batch_size=4)) == 3


def test_drop_last():
    ds, _, _ = make()
    loader = data.DataLoader(ds, batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [len(b[1]) for b in loader] == [4, 4]
    assert len(list(data.DataLoader(ds, batch_size=4, shuffle=True, drop_last=True))) == 2


def test_shuffle_reproducible_with_manual_seed():
    ds, _, _ = make(50)

    def order():
        return np.concatenate([yb.numpy() for _, yb in data.DataLoader(ds, batch_size=8, shuffle=True)])

    tn.manual_seed(7)
    a, b = order(), order()  # two epochs differ
    tn.manual_seed(7)
    c, d = order(), order()
    np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(b, d)
    assert not np.array_equal(a, b)
    assert sorted(a.tolist()) == list(range(50))


def test_sampler_controls_order():
    ds, X, _ = make()
    loader = data.DataLoader(ds, batch_size=3, sampler=[9, 0, 5, 5, 2])
    ys = [yb.numpy().tolist() for _, yb in loader]
    assert ys == [[9, 0, 5], [5, 2]]
    assert len(loader) == 2
    with pytest.raises(ValueError, match="exclusive"):
        data.DataLoader(ds, sampler=[0], shuffle=True)
    tn.manual_seed(1)
    seen = np.concatenate([yb.numpy() for _, yb in data.DataLoader(ds, batch_size=4, sampler=data.RandomSampler(ds))])
    assert sorted(seen.tolist()) == list(range(10))
    sub = np.concatenate([yb.numpy() for _, yb in data.DataLoader(ds, batch_size=4, sampler=data.SubsetRandomSampler([1, 3, 5]))])
    assert sorted(sub.tolist()) == [1, 3, 5]


class Squares(data.Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return np.array([i, i * i], dtype=np.float32), i


def test_generic_dataset_is_collated():
    batches = list(data.DataLoader(Squares(), batch_size=2))
    xb, yb = batches[0]
    assert xb.shape == (2, 2) and yb.dtype == np.int64 and yb.numpy().tolist() == [0, 1]
    assert [len(b[1]) for b in batches] == [2, 2, 1]


def test_loader_argument_errors():
    ds, _, _ = make()
    with pytest.raises(ValueError):
        data.DataLoader(ds, batch_size=0)


def test_normalize_and_compose():
    x = np.array([[1.0, 2.0], [3.0, 6.0]], dtype=np.float32)
    y = T.Normalize(mean=[2.0, 4.0], std=[1.0, 2.0])(x)
    np.testing.assert_allclose(y, [[-1, -1], [1, 1]])
    assert y.dtype == np.float32
    c = T.Compose([T.Normalize(1.0, 2.0), T.Normalize(0.0, 0.5)])
    np.testing.assert_allclose(c(x), (x - 1) / 2 / 0.5)
    assert isinstance(T.Normalize(0, 1)(tn.tensor(x)), tn.Tensor)
    with pytest.raises(ValueError):
        T.Normalize(0, 0)


def test_random_shift_flat_and_2d():
    img = np.zeros((3, 3), dtype=np.float32)
    img[1, 1] = 1.0
    tn.manual_seed(0)
    flat = np.tile(img.reshape(1, 9), (200, 1))
    out = T.RandomShift(max_shift=1)(flat)
    assert out.shape == (200, 9)
    assert np.all(out.sum(axis=1) == 1)  # a centre pixel shifted by <= 1 stays inside
    assert set(out.argmax(axis=1).tolist()) == set(range(9))  # every offset occurs
    imgs = np.tile(img, (5, 1, 1))
    assert T.RandomShift(1)(imgs).shape == (5, 3, 3)
    edge = np.zeros((1, 2, 2), np.float32)
    edge[0, 0, 0] = 1
    shifted = [T.RandomShift(1)(edge).sum() for _ in range(30)]
    assert min(shifted) == 0 and max(shifted) == 1  # shifted out of the frame is filled with 0
    with pytest.raises(ValueError, match="square"):
        T.RandomShift(1)(np.zeros((2, 10)))
    assert T.RandomShift(1, image_shape=(2, 5))(np.zeros((2, 10))).shape == (2, 10)


def test_random_shift_moves_whole_image_exactly():
    tn.manual_seed(3)
    x = np.arange(1, 26, dtype=np.float32).reshape(1, 5, 5)
    y = T.RandomShift(2)(x)[0]
    # find the shift: y[r, c] = x[r - dy, c - dx] wherever both inside
    matches = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
               if np.array_equal(y, np.pad(x[0], 2)[2 - dy:7 - dy, 2 - dx:7 - dx])]
    assert len(matches) == 1


def test_gaussian_noise_statistics_and_seed():
    x = np.zeros((100, 100), dtype=np.float32)
    tn.manual_seed(0)
    y = T.GaussianNoise(std=0.2)(x)
    assert y.dtype == np.float32 and abs(y.std() - 0.2) < 0.01 and abs(y.mean()) < 0.01
    tn.manual_seed(0)
    np.testing.assert_array_equal(T.GaussianNoise(std=0.2)(x), y)
    z = T.GaussianNoise(std=1.0, clip=(0.0, 1.0))(x)
    assert z.min() >= 0 and z.max() <= 1


def test_dataset_transform_applies_to_features_only():
    ds, X, y = make(4)
    ds.transform = T.Normalize(0.0, 2.0)
    xb, yb = next(iter(data.DataLoader(ds, batch_size=4)))
    np.testing.assert_allclose(xb.numpy(), X / 2)
    np.testing.assert_array_equal(yb.numpy(), y)


from hypothesis import given, strategies as st  # noqa: E402


@given(n=st.integers(0, 40), batch_size=st.integers(1, 12), shuffle=st.booleans(), drop_last=st.booleans(),
       seed=st.integers(0, 2**16))
def test_batches_partition_the_dataset(n, batch_size, shuffle, drop_last, seed):
    tn.manual_seed(seed)
    ds = data.TensorDataset(np.arange(n, dtype=np.float32).reshape(n, 1), np.arange(n))
    loader = data.DataLoader(ds, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last)
    batches = list(loader)
    assert len(batches) == len(loader)
    sizes = [len(yb) for _, yb in batches]
    assert all(s == batch_size for s in sizes[:-1]) and (not sizes or 0 < sizes[-1] <= batch_size)
    seen = np.concatenate([yb.numpy() for _, yb in batches]) if batches else np.zeros(0, np.int64)
    assert len(set(seen.tolist())) == len(seen)  # no sample twice
    assert len(seen) == (n - n % batch_size if drop_last else n)
    if not shuffle:
        assert seen.tolist() == list(range(len(seen)))
    for xb, yb in batches:
        np.testing.assert_array_equal(xb.numpy()[:, 0], yb.numpy())  # rows stay paired
