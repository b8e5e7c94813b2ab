"""Faults: tn.save interrupted at any point of the write -- an exception after k bytes, Ctrl-C, a
failing rename, the process killed mid-write -- leaves the previous file intact and loadable.
(tests/unit/test_serialization.py covers the basic failed write and corrupt/truncated files.)"""
import os
import pathlib
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import tinynn as tn
import tinynn.io.serialization as ser

OLD = {"w": np.arange(1000.0), "meta": {"epoch": 3}}


class FailingFile:
    """Wraps a binary file; the write that would pass byte `limit` writes part of it, then raises."""

    def __init__(self, f, limit, exc):
        self.f, self.limit, self.exc, self.written = f, limit, exc, 0

    def write(self, data):
        data = bytes(data)
        if self.written + len(data) > self.limit:
            self.f.write(data[: self.limit - self.written])
            self.written = self.limit
            raise self.exc
        self.written += len(data)
        return self.f.write(data)

    def __getattr__(self, name):
        return getattr(self.f, name)


def assert_old_file_intact(path, before):
    assert path.read_bytes() == before
    loaded = tn.load(path)
    np.testing.assert_array_equal(loaded["w"], OLD["w"])
    assert loaded["meta"] == {"epoch": 3}


@pytest.mark.parametrize("compress", [False, True])
def test_save_failing_after_k_bytes_leaves_old_file(tmp_path, monkeypatch, compress):
    path = tmp_path / "ckpt.npz"
    tn.save(OLD, path)
    before = path.read_bytes()
    real = ser._write_npz
    new = {"w": np.zeros(5000), "b": np.ones((30, 30), np.float32)}
    import io
    full = io.BytesIO()
    real(full, dict(new), compress)
    size = len(full.getvalue())
    for limit in sorted({0, 1, 30, 100, 1000, size // 2, size - 22, size - 1} & set(range(size))):  # -22: the zip end record
        monkeypatch.setattr(ser, "_write_npz", lambda f, arrays, c, limit=limit: real(FailingFile(f, limit, OSError(28, "No space left on device")), arrays, c))
        with pytest.raises(OSError, match="No space"):
            tn.save(new, path, compress=compress)
        assert_old_file_intact(path, before)
        assert sorted(os.listdir(tmp_path)) == ["ckpt.npz"], f"temporary file left behind (limit={limit})"


def test_save_interrupted_by_ctrl_c_leaves_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    tn.save(OLD, path)
    before = path.read_bytes()
    real = ser._write_npz
    monkeypatch.setattr(ser, "_write_npz", lambda f, arrays, c: real(FailingFile(f, 500, KeyboardInterrupt()), arrays, c))
    with pytest.raises(KeyboardInterrupt):
        tn.save({"w": np.zeros(5000)}, path)
    assert_old_file_intact(path, before)
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_failing_rename_or_fsync_leaves_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    tn.save(OLD, path)
    before = path.read_bytes()
    for target in ("replace", "fsync"):
        with monkeypatch.context() as m:
            def boom(*args, **kwargs):
                raise OSError(5, f"{target} failed")
            m.setattr(ser.os, target, boom)
            with pytest.raises(OSError, match=f"{target} failed"):
                tn.save({"w": np.zeros(3)}, path)
        assert_old_file_intact(path, before)
        assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_save_into_a_missing_or_readonly_folder_raises_cleanly(tmp_path):
    with pytest.raises(OSError):
        tn.save(OLD, tmp_path / "no" / "such" / "dir" / "x.npz")
    if os.geteuid() != 0:  # root ignores permissions
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        try:
            with pytest.raises(OSError):
                tn.save(OLD, ro / "x.npz")
        finally:
            ro.chmod(0o700)


KILLED_WRITER = r"""
import sys, time
import numpy as np
import tinynn as tn
import tinynn.io.serialization as ser
real = ser._write_npz
class Slow:
    def __init__(self, f): self.f = f; self.n = 0
    def write(self, data):
        self.n += len(data)
        if self.n > 4096:
            print("writing", flush=True)
            time.sleep(60)          # killed here, half-way through the archive
        return self.f.write(data)
    def __getattr__(self, name): return getattr(self.f, name)
ser._write_npz = lambda f, arrays, c: real(Slow(f), arrays, c)
tn.save({"w": np.zeros(100000)}, sys.argv[1])
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_process_killed_mid_save_leaves_old_file(tmp_path):
    path = tmp_path / "ckpt.npz"
    tn.save(OLD, path)
    before = path.read_bytes()
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(path)], stdout=subprocess.PIPE, text=True,
                            cwd=pathlib.Path(tn.__file__).parent.parent)
    try:
        assert proc.stdout.readline().strip() == "writing"
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert_old_file_intact(path, before)
    leftovers = [p for p in os.listdir(tmp_path) if p != "ckpt.npz"]
    assert all(p.startswith(".ckpt.npz.") and p.endswith(".tmp") for p in leftovers)  # a hidden temp, never the target
    tn.save({"w": np.ones(2), "meta": {"epoch": 4}}, path)  # the next save still works
    assert tn.load(path)["meta"] == {"epoch": 4}
