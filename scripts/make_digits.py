"""Produce tinynn/datasets/digits.npz once, from the copy of the UCI digits that scikit-learn ships.

    pip download --no-deps scikit-learn -d /tmp/sk       # or any local scikit-learn wheel
    python scripts/make_digits.py /tmp/sk/scikit_learn-*.whl

Reads sklearn/datasets/data/digits.csv.gz out of the wheel (a zip file) -- 1,797 rows of
64 pixel counts in 0..16 followed by the label -- and writes a compressed npz with
X_train, y_train, X_test, y_test: X float32 (n, 64) = counts / 16, y int64. The split is
stratified and fixed: for each class c (in order) the rows of class c are permuted with
numpy.random.default_rng(20240601) and the first round(0.2 * n_c) go to the test set.
Nothing here runs at import time of tinynn; the npz is committed to the repository.
"""
import gzip
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

SEED = 20240601
TEST_FRACTION = 0.2
OUT = Path(__file__).resolve().parent.parent / "tinynn" / "datasets" / "digits.npz"


def read_csv_from_wheel(wheel):
    with zipfile.ZipFile(wheel) as zf:
        raw = zf.read("sklearn/datasets/data/digits.csv.gz")
    table = np.loadtxt(io.StringIO(gzip.decompress(raw).decode("ascii")), delimiter=",")
    if table.shape != (1797, 65):
        raise ValueError(f"{wheel}: digits.csv.gz has shape {table.shape}, expected (1797, 65)")
    return table[:, :64], table[:, 64].astype(np.int64)


def stratified_split(y, fraction, seed):
    rng = np.random.default_rng(seed)
    test = []
    for c in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == c))
        test.extend(rows[: int(round(fraction * len(rows)))].tolist())
    test = np.sort(np.array(test))
    train = np.setdiff1d(np.arange(len(y)), test)
    return train, test


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    pixels, y = read_csv_from_wheel(argv[1])
    X = (pixels / 16.0).astype(np.float32)
    train, test = stratified_split(y, TEST_FRACTION, SEED)
    np.savez_compressed(OUT, X_train=X[train], y_train=y[train], X_test=X[test], y_test=y[test])
    print(f"wrote {OUT}: {len(train)} train, {len(test)} test")


if __name__ == "__main__":
    main(sys.argv)
