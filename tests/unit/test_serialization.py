"""tn.save / tn.load: round trips (nested, optimizer state), atomic writes, clear errors."""
import os
import zipfile

import numpy as np
import pytest

import tinynn as tn
import tinynn.nn as nn
import tinynn.optim as optim
import tinynn.io.serialization as ser


def model():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def test_model_state_round_trip(tmp_path):
    a, b = model(), model()
    path = tmp_path / "m.npz"
    tn.save(a.state_dict(), path)
    loaded = tn.load(path)
    assert list(loaded) == list(a.state_dict())
    assert all(isinstance(v, tn.Tensor) and v.dtype == tn.float32 for v in loaded.values())
    b.load_state_dict(loaded)
    x = tn.randn(2, 4)
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    with np.load(path) as f:  # a plain npz whose members carry the parameter names
        assert "0.weight" in f.files


def test_nested_structures_round_trip(tmp_path):
    obj = {
        "epoch": 3, "name": "run", "nothing": None, "ok": True, "lr": 0.1, "inf": float("inf"),
        "betas": (0.9, 0.999), "list": [1, np.arange(3)], "int_keys": {0: np.ones(2), 5: {"x": np.float64(2.5)}},
        "scalar32": np.float32(1.5), "t": tn.tensor([1.0, 2.0]), "i8": np.array([-1, 2], dtype=np.int8),
        "0-d": np.array(7, dtype=np.int64),
    }
    path = tmp_path / "nested.npz"
    tn.save(obj, path)
    out = tn.load(path)
    assert out["epoch"] == 3 and out["name"] == "run" and out["nothing"] is None and out["ok"] is True
    assert out["lr"] == 0.1 and out["inf"] == float("inf") and out["betas"] == (0.9, 0.999)
    assert out["list"][0] == 1 and np.array_equal(out["list"][1], np.arange(3))
    assert set(out["int_keys"]) == {0, 5} and out["int_keys"][5]["x"] == 2.5
    assert isinstance(out["scalar32"], np.float32)
    assert isinstance(out["t"], tn.Tensor) and out["t"].tolist() == [1.0, 2.0]   # a Tensor comes back a Tensor
    assert out["i8"].dtype == np.int8 and out["0-d"].shape == ()


def test_optimizer_state_round_trip_resumes_identically(tmp_path):
    tn.manual_seed(0)
    net = model()
    opt = optim.Adam(net.parameters(), lr=0.01)
    x, y = tn.randn(8, 4), tn.tensor(np.arange(8) % 3)
    loss_fn = nn.CrossEntropyLoss()

    def step(n, o):
        o.zero_grad()
        loss_fn(n(x), y).backward()
        o.step()

    step(net, opt)
    tn.save({"model": net.state_dict(), "optim": opt.state_dict()}, tmp_path / "ckpt.npz")
    ckpt = tn.load(tmp_path / "ckpt.npz")
    net2 = model()
    net2.load_state_dict(ckpt["model"])
    opt2 = optim.Adam(net2.parameters(), lr=0.5)
    opt2.load_state_dict(ckpt["optim"])
    assert opt2.param_groups[0]["lr"] == 0.01 and opt2.param_groups[0]["betas"] == (0.9, 0.999)
    for _ in range(2):
        step(net, opt)
        step(net2, opt2)
    for p, q in zip(net.parameters(), net2.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_failed_write_leaves_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "keep.npz"
    tn.save({"w": np.arange(4.0)}, path)
    before = path.read_bytes()

    def broken(f, arrays, compress):
        f.write(b"PK\x03\x04 partial garbage")
        raise OSError("disk full")

    monkeypatch.setattr(ser, "_write_npz", broken)
    with pytest.raises(OSError, match="disk full"):
        tn.save({"w": np.zeros(4)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["keep.npz"]  # no temporary file left behind
    monkeypatch.undo()
    np.testing.assert_array_equal(tn.load(path)["w"], np.arange(4.0))


def test_unstorable_values_are_refused_before_writing(tmp_path):
    path = tmp_path / "x.npz"
    with pytest.raises(TypeError, match="object"):
        tn.save({"bad": object()}, path)
    with pytest.raises(TypeError, match="dtype"):
        tn.save({"bad": np.array([{"a": 1}], dtype=object)}, path)
    with pytest.raises(TypeError, match="object"):
        tn.save([np.zeros(1), object()], path)
    assert not path.exists() and os.listdir(tmp_path) == []


def test_truncated_file(tmp_path):
    path = tmp_path / "t.npz"
    tn.save({"w": np.arange(1000.0)}, path)
    raw = path.read_bytes()
    for cut in (len(raw) // 2, len(raw) - 30, 10):
        path.write_bytes(raw[:cut])
        with pytest.raises(ValueError, match="t.npz"):
            tn.load(path)


def test_corrupt_file(tmp_path):
    path = tmp_path / "c.npz"
    tn.save({"w": np.arange(1000.0)}, path)
    raw = bytearray(path.read_bytes())
    raw[200] ^= 0xFF  # flip bits inside the array data: the zip CRC check catches it
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="c.npz"):
        tn.load(path)


def test_foreign_files(tmp_path):
    plain = tmp_path / "plain.npz"
    np.savez(plain, w=np.zeros(3))
    with pytest.raises(ValueError, match="plain.npz.*not"):
        tn.load(plain)
    npy = tmp_path / "a.npy"
    np.save(npy, np.zeros(3))
    with pytest.raises(ValueError, match="a.npy"):
        tn.load(npy)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="notes.txt"):
        tn.load(text)
    pickled = tmp_path / "p.npz"
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    os.replace(str(pickled) + ".npy", pickled)
    with pytest.raises(ValueError, match="p.npz"):
        tn.load(pickled)
    wrong_manifest = tmp_path / "m.npz"
    np.savez(wrong_manifest, __tinynn__=np.frombuffer(b'{"format": "other"}', dtype=np.uint8))
    with pytest.raises(ValueError, match="m.npz"):
        tn.load(wrong_manifest)
    zipped = tmp_path / "z.npz"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("readme.txt", "not numpy")
    with pytest.raises(ValueError, match="z.npz"):
        tn.load(zipped)
    with pytest.raises(FileNotFoundError):
        tn.load(tmp_path / "missing.npz")


def test_compressed_save(tmp_path):
    tn.save({"w": np.zeros(10000)}, tmp_path / "small.npz", compress=True)
    assert (tmp_path / "small.npz").stat().st_size < 2000
    assert tn.load(tmp_path / "small.npz")["w"].shape == (10000,)


from hypothesis import given, settings, HealthCheck, strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

_arrays = hnp.arrays(dtype=st.sampled_from([np.float32, np.float64, np.int64, np.uint8, np.bool_]),
                     shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
_leaves = st.one_of(_arrays, st.integers(-2**40, 2**40), st.floats(allow_nan=False), st.none(), st.text(max_size=5), st.booleans())
_trees = st.recursive(_leaves, lambda kids: st.one_of(
    st.lists(kids, max_size=3), st.dictionaries(st.one_of(st.text(max_size=6), st.integers(0, 9)), kids, max_size=3)),
    max_leaves=8)


def _equal(a, b):
    if isinstance(a, np.ndarray):
        return (isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
                and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))  # NaN saved is NaN loaded
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=st.dictionaries(st.one_of(st.text(max_size=6), st.integers(0, 9)), _trees, max_size=4))
def test_any_nested_state_round_trips(tmp_path, tree):
    path = tmp_path / "h.npz"
    tn.save(tree, path)
    assert _equal(tree, tn.load(path))


def test_keys_that_cannot_name_a_zip_member_round_trip(tmp_path):
    # Found by hypothesis in CI: a NUL in a key truncated the npz member name.
    state = {"\x00": np.float32(0.0), "a\x00b": np.arange(3), "/lead": np.ones(2), "trail/": np.zeros(1),
             "a//b": np.eye(2), "ünï": np.array([1.5]), "__tinynn__": np.array([7]), "x.npy": np.array([2])}
    tn.save(state, tmp_path / "odd.npz")
    back = tn.load(tmp_path / "odd.npz")
    assert list(back) == list(state)
    for key in state:
        np.testing.assert_array_equal(back[key], state[key])
