"""Datasets: the handwritten 8x8 digits shipped with tinynn, and a reader for local MNIST IDX files.

Nothing is ever downloaded."""
import gzip
import os
from pathlib import Path

import numpy as np

__all__ = ["load_digits", "load_mnist", "read_idx"]

_HERE = Path(__file__).resolve().parent


def load_digits():
    """The UCI optical-recognition handwritten digits (8x8, 1,797 images, 10 classes; CC BY 4.0,
    see DIGITS_LICENSE.txt) with a fixed stratified split (1,438 train / 359 test).

    Returns (X_train, y_train, X_test, y_test): X float32 (n, 64) = pixel counts / 16 in [0, 1],
    y int64 in 0..9. Made by scripts/make_digits.py."""
    path = _HERE / "digits.npz"
    with np.load(path, allow_pickle=False) as f:
        return (f["X_train"].astype(np.float32), f["y_train"].astype(np.int64),
                f["X_test"].astype(np.float32), f["y_test"].astype(np.int64))


_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path):
    """Read one IDX file (plain, or gzip when it starts with the gzip magic bytes).

    Layout: 2 zero bytes, a type code (0x08 = uint8, ...), the number of dimensions d,
    d big-endian uint32 sizes, then the data. Anything else raises ValueError naming the file."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"read_idx: {path}: cannot read or decompress: {exc}") from None
    if len(raw) < 4:
        raise ValueError(f"read_idx: {path}: file too short ({len(raw)} bytes) for an IDX header")
    if raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"read_idx: {path}: bad magic number 0x{raw[:4].hex()} (not an IDX file)")
    dtype, ndim = np.dtype(_IDX_TYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise ValueError(f"read_idx: {path}: header declares {ndim} dimensions but the file has {len(raw)} bytes")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    have = len(raw) - header
    if have != expected:
        kind = "truncated" if have < expected else "has trailing bytes"
        raise ValueError(f"read_idx: {path}: {kind}: dimensions {dims} need {expected} data bytes, found {have}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)


def _find(root, stem):
    candidates = [stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"]
    for name in candidates:
        p = Path(root) / name
        if p.exists():
            return p
    raise FileNotFoundError(f"load_mnist: none of {candidates} found in {root}")


def load_mnist(root):
    """Read MNIST from the four original IDX files in the folder `root` (plain or .gz):
    train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte.

    Returns (X_train, y_train, X_test, y_test): X float32 (n, rows*cols) = pixels / 255, y int64.
    A malformed file (bad magic, wrong dimensions, truncated) raises ValueError naming it."""
    out = []
    for split in ("train", "t10k"):
        img_path = _find(root, f"{split}-images-idx3-ubyte")
        lab_path = _find(root, f"{split}-labels-idx1-ubyte")
        images, labels = read_idx(img_path), read_idx(lab_path)
        if images.ndim != 3 or images.dtype != np.uint8:
            raise ValueError(f"load_mnist: {img_path}: expected uint8 images with 3 dimensions, got {images.dtype} {images.shape}")
        if labels.ndim != 1 or labels.dtype != np.uint8:
            raise ValueError(f"load_mnist: {lab_path}: expected uint8 labels with 1 dimension, got {labels.dtype} {labels.shape}")
        if len(images) != len(labels):
            raise ValueError(f"load_mnist: {img_path} has {len(images)} images but {lab_path} has {len(labels)} labels")
        out.append((images.reshape(len(images), -1).astype(np.float32) / np.float32(255.0)))
        out.append(labels.astype(np.int64))
    return tuple(out)
