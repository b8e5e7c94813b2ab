"""Embedded digits and the MNIST IDX reader (on small IDX files written here)."""
import gzip
import struct

import numpy as np
import pytest

from tinynn import datasets


def test_load_digits_contract():
    X_train, y_train, X_test, y_test = datasets.load_digits()
    assert X_train.dtype == np.float32 and X_test.dtype == np.float32
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64
    assert X_train.shape[1] == 64 and X_test.shape[1] == 64
    assert len(X_train) + len(X_test) == 1797 and len(X_train) == len(y_train) and len(X_test) == len(y_test)
    assert 0.18 < len(X_test) / 1797 < 0.22
    assert X_train.min() == 0.0 and X_train.max() == 1.0 and X_test.max() <= 1.0
    assert np.all(np.unique(X_train * 16) == np.arange(17))  # pixel counts 0..16, divided by 16
    train_counts, test_counts = np.bincount(y_train, minlength=10), np.bincount(y_test, minlength=10)
    fractions = test_counts / (train_counts + test_counts)
    assert np.all(np.abs(fractions - 0.2) < 0.02)  # stratified
    again = datasets.load_digits()
    np.testing.assert_array_equal(again[3], y_test)  # fixed split


def idx_bytes(array, type_code=0x08):
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(">" + "I" * array.ndim, *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_mnist(root, n_train=5, n_test=3, gz=False, rows=4, cols=4):
    rng = np.random.default_rng(0)
    files = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, rows, cols), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        for kind, arr in (("images-idx3-ubyte", images), ("labels-idx1-ubyte", labels)):
            name = f"{split}-{kind}" + (".gz" if gz else "")
            raw = idx_bytes(arr)
            (root / name).write_bytes(gzip.compress(raw) if gz else raw)
            files[(split, kind)] = arr
    return files


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_plain_and_gz(tmp_path, gz):
    files = write_mnist(tmp_path, gz=gz)
    X_train, y_train, X_test, y_test = datasets.load_mnist(tmp_path)
    assert X_train.shape == (5, 16) and X_test.shape == (3, 16)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64
    np.testing.assert_allclose(X_train, files[("train", "images-idx3-ubyte")].reshape(5, 16) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y_test, files[("t10k", "labels-idx1-ubyte")])
    assert X_train.min() >= 0 and X_train.max() <= 1


def test_load_mnist_bad_magic(tmp_path):
    write_mnist(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte"
    raw = bytearray(path.read_bytes())
    raw[0] = 7
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.*magic"):
        datasets.load_mnist(tmp_path)


def test_load_mnist_truncated(tmp_path):
    write_mnist(tmp_path, gz=True)
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[:-1]))
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte.gz.*truncated"):
        datasets.load_mnist(tmp_path)


def test_load_mnist_truncated_gzip_stream(tmp_path):
    write_mnist(tmp_path, gz=True)
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.gz"):
        datasets.load_mnist(tmp_path)


def test_load_mnist_wrong_dimensions(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros((5, 2), np.uint8)))
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.*dimension"):
        datasets.load_mnist(tmp_path)
    write_mnist(tmp_path)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((5, 16), np.uint8)))
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.*dimension"):
        datasets.load_mnist(tmp_path)


def test_load_mnist_count_mismatch_and_missing(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(2, np.uint8)))
    with pytest.raises(ValueError, match="3 images.*2 labels"):
        datasets.load_mnist(tmp_path)
    with pytest.raises(FileNotFoundError):
        datasets.load_mnist(tmp_path / "nowhere")
