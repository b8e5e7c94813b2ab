"""tinynn.distributed: the single-process path in this process, the MPI path under `mpiexec -n 2`.

The multi-process tests launch tests/helpers/distributed_worker.py with the `mpiexec` that sits
next to this Python (the `mpich` wheel from `pip install ".[mpi]"` puts it there) or on PATH.
Without mpi4py or mpiexec they skip on a developer's machine and fail when `CI` is set (CI
installs `[mpi]`, so a missing one there is a broken install). How fast a failing job dies is
measured by benchmarks, not asserted here. The pytest process itself never initialises MPI."""
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinynn as tn
from tinynn import autograd
from tinynn import distributed as dist
from tinynn import nn

WORKER = Path(__file__).resolve().parent.parent / "helpers" / "distributed_worker.py"


# ----------------------------------------------------------------------------- single process
@pytest.fixture
def no_mpi(monkeypatch):
    """As if mpi4py were not installed (and keep MPI out of the pytest process)."""
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    monkeypatch.setattr(dist, "_comm", None)
    for name in dist._LAUNCHER_SIZE_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_world_of_one_without_mpi4py(no_mpi):
    assert (dist.rank(), dist.world_size(), dist.is_initialized()) == (0, 1, False)
    a = np.arange(4.0)
    assert dist.all_reduce(a, average=True) is a and a.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert dist.broadcast(a) is a
    dist.barrier()


def test_launched_by_mpiexec_without_mpi4py_refuses_to_run_alone(no_mpi):
    no_mpi.setenv("PMI_SIZE", "2")
    with pytest.raises(RuntimeError, match="mpi4py"):
        dist.world_size()


def test_import_tinynn_does_not_import_mpi():
    code = "import sys, tinynn, tinynn.distributed; print('mpi4py' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env=_env(), check=True).stdout
    assert out.strip() == "False"


def test_ddp_single_process_delegates_and_keeps_gradients(no_mpi):
    model = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2))
    before = [p.numpy().copy() for p in model.parameters()]
    ddp = dist.DistributedDataParallel(model)
    assert ddp.module is model
    assert [n for n, _ in ddp.named_parameters()] == ["module." + n for n, _ in model.named_parameters()]
    assert all(np.array_equal(a, p.numpy()) for a, p in zip(before, model.parameters()))
    x = tn.randn(3, 4)
    np.testing.assert_array_equal(ddp(x).numpy(), model(x).numpy())
    ddp(x).sum().backward()
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    model(x).sum().backward()
    for g, p in zip(grads, model.parameters()):
        np.testing.assert_array_equal(g, p.grad)


def test_ddp_rejects_a_non_module(no_mpi):
    with pytest.raises(TypeError, match="DistributedDataParallel"):
        dist.DistributedDataParallel(lambda x: x)


def test_buckets_respect_cap_and_dtype_and_reverse_order():
    ps = [nn.Parameter(np.zeros(n, dtype=dt)) for n, dt in
          [(10, np.float32), (10, np.float32), (30, np.float32), (4, np.float64), (5, np.float32)]]
    buckets = dist._make_buckets(ps, cap_bytes=80)
    index = {id(p): i for i, p in enumerate(ps)}
    groups = [[index[id(p)] for p, _, _ in b.slots] for b in buckets]
    assert groups == [[4], [3], [2], [1, 0]]  # dtype change, 120-byte tensor alone, 40+40 <= 80
    assert [b.buffer.dtype for b in buckets] == [np.float32, np.float64, np.float32, np.float32]
    for b in buckets:
        assert b.buffer.flags.c_contiguous and b.buffer.size == sum(hi - lo for _, lo, hi in b.slots)


def test_post_backward_hook_runs_once_per_backward_until_removed():
    calls = []
    key = autograd.register_post_backward_hook(lambda: calls.append(1))
    try:
        x = tn.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        assert len(calls) == 1 and x.grad.tolist() == [2.0, 4.0]  # grads are in place when it runs
        x.backward(tn.ones(2))  # a leaf root
        assert len(calls) == 2
    finally:
        autograd.remove_post_backward_hook(key)
    (x * x).sum().backward()
    assert len(calls) == 2
    autograd.remove_post_backward_hook(key)  # removing twice is harmless


# ----------------------------------------------------------------------------- the sampler
class _Sized:
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n


@given(n=st.integers(0, 60), replicas=st.integers(1, 7), shuffle=st.booleans(),
       drop_last=st.booleans(), epoch=st.integers(0, 3))
def test_sampler_shards_are_disjoint_and_cover(n, replicas, shuffle, drop_last, epoch):
    shards = []
    for r in range(replicas):
        s = dist.DistributedSampler(_Sized(n), num_replicas=replicas, rank=r, shuffle=shuffle,
                                    seed=5, drop_last=drop_last)
        s.set_epoch(epoch)
        idx = list(s)
        assert len(idx) == len(s) == (n // replicas if drop_last else -(-n // replicas))
        assert all(isinstance(i, int) and 0 <= i < n for i in idx)
        shards.append(idx)
    flat = [i for shard in shards for i in shard]
    if drop_last:  # n - n % N distinct samples, nothing repeated
        assert len(set(flat)) == len(flat) == n - n % replicas
    else:  # every sample at least once; the N*m - n padding repeats the first ones
        assert set(flat) == set(range(n))
        assert len(flat) - len(set(flat)) == len(flat) - n
    if not shuffle and not drop_last and n:
        assert flat and sorted(shards[0]) == shards[0]


def test_sampler_pads_by_wrapping_like_pytorch():
    shards = [list(dist.DistributedSampler(_Sized(5), num_replicas=3, rank=r, shuffle=False)) for r in range(3)]
    assert shards == [[0, 3], [1, 4], [2, 0]]
    assert [list(dist.DistributedSampler(_Sized(2), num_replicas=5, rank=r, shuffle=False)) for r in range(5)] == \
        [[0], [1], [0], [1], [0]]


def test_sampler_reshuffles_per_epoch_and_is_reproducible():
    def order(epoch, seed=0):
        s = dist.DistributedSampler(_Sized(50), num_replicas=1, rank=0, seed=seed)
        s.set_epoch(epoch)
        return list(s)

    assert order(0) == order(0) and sorted(order(0)) == list(range(50))
    assert order(0) != order(1) and order(0) != order(0, seed=1)


def test_sampler_works_in_a_dataloader():
    from tinynn.data import DataLoader, TensorDataset

    ds = TensorDataset(np.arange(10, dtype=np.float32).reshape(10, 1))
    seen = []
    for r in range(2):
        s = dist.DistributedSampler(ds, num_replicas=2, rank=r, shuffle=True, seed=3)
        for (xb,) in DataLoader(ds, batch_size=2, sampler=s):
            seen.extend(int(v) for v in xb.numpy().ravel())
    assert sorted(seen) == list(range(10))


def test_sampler_rejects_bad_arguments():
    with pytest.raises(ValueError, match="rank"):
        dist.DistributedSampler(_Sized(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="num_replicas"):
        dist.DistributedSampler(_Sized(4), num_replicas=0, rank=0)
    with pytest.raises(ValueError, match="epoch"):
        dist.DistributedSampler(_Sized(4), num_replicas=1, rank=0).set_epoch(-1)


# ----------------------------------------------------------------------------- under mpiexec
def _mpiexec():
    if importlib.util.find_spec("mpi4py") is None:
        return None
    here = Path(sys.executable).parent
    return shutil.which("mpiexec", path=str(here)) or shutil.which("mpiexec")


MPIEXEC = _mpiexec()


@pytest.fixture(scope="module")
def mpiexec():
    """The mpiexec to launch ranks with; skips without one, but fails under CI, which installs [mpi]."""
    if MPIEXEC is None:
        missing = "needs mpi4py and mpiexec: pip install '.[mpi]'"
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but tinynn[mpi] is not usable: {missing}")
        pytest.skip(missing)
    return MPIEXEC


def _env():
    env = dict(os.environ)
    root = str(Path(tn.__file__).resolve().parent.parent)  # run the same tinynn as this process
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "") if env.get("PYTHONPATH") else root
    env.update(TINYNN_NUM_THREADS="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


def _run(args, timeout=60):
    """Run a command in its own process group; kill the whole group if it outlives `timeout`
    (a hung job fails the test instead of hanging the suite). Returns (code, stdout, stderr)."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env(), start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{' '.join(map(str, args))} hung for {timeout} s\nstdout:\n{out}\nstderr:\n{err}")
    return proc.returncode, out, err


@pytest.fixture(scope="module")
def two_rank_run(tmp_path_factory, mpiexec):
    """2 ranks x batch 32, and the reference: 1 plain process x batch 64, same data order."""
    two, one = tmp_path_factory.mktemp("two_ranks"), tmp_path_factory.mktemp("one_process")
    code, out, err = _run([mpiexec, "-n", "2", sys.executable, str(WORKER), "train", str(two), "32"])
    assert code == 0, f"mpiexec -n 2 failed ({code})\n{out}\n{err}"
    code, out, err = _run([sys.executable, str(WORKER), "train", str(one), "64"])
    assert code == 0, f"single-process reference failed ({code})\n{out}\n{err}"
    return [np.load(two / f"rank{r}.npz") for r in range(2)], np.load(one / "rank0.npz")


def test_two_ranks_have_bit_identical_parameters(two_rank_run):
    (r0, r1), _ = two_rank_run
    assert int(r0["world_size"]) == int(r1["world_size"]) == 2
    assert r0["trajectory"].shape[0] == 20
    np.testing.assert_array_equal(r0["trajectory"], r1["trajectory"])  # after every step, not only the last
    assert not np.array_equal(r0["losses"], r1["losses"])  # each rank did see different data


def test_two_ranks_of_32_follow_one_process_of_64(two_rank_run):
    (r0, r1), ref = two_rank_run
    assert int(ref["world_size"]) == 1
    np.testing.assert_allclose(r0["trajectory"], ref["trajectory"], rtol=1e-4, atol=1e-5)
    # the global mean loss is the mean of the two ranks' batch means
    np.testing.assert_allclose((r0["losses"] + r1["losses"]) / 2, ref["losses"], rtol=1e-4, atol=1e-6)
    assert ref["losses"][-1] < ref["losses"][0]  # it did train


def test_sampler_shards_across_real_ranks(two_rank_run):
    (r0, r1), ref = two_rank_run
    for e in (0, 1):
        a, b = r0[f"shard_epoch{e}"], r1[f"shard_epoch{e}"]
        assert len(a) == len(b) == 128 and not set(a) & set(b) and set(a) | set(b) == set(range(256))
        # rank r holds every other sample of the one-process order of the same epoch
        np.testing.assert_array_equal(np.ravel(np.column_stack([a, b])), ref[f"shard_epoch{e}"])
    assert not np.array_equal(r0["shard_epoch0"], r0["shard_epoch1"])


@pytest.mark.parametrize("scenario, message", [("raise", "rank 1 fails on purpose"),
                                               ("raise_early", "rank 1 fails before using MPI"),
                                               ("exit", None)])
def test_a_failing_rank_aborts_the_job(tmp_path, mpiexec, scenario, message):
    code, out, err = _run([mpiexec, "-n", "2", sys.executable, str(WORKER), scenario, str(tmp_path)])
    assert code != 0
    if message is None:  # sys.exit(3) inside abort_on_error()
        assert "rank 1 of 2 exited with status 3" in err
    else:
        assert f"ValueError: {message}" in err and "rank 1 of 2 raised" in err
    assert "rank 0 was not aborted" not in out


def test_cli_train_distributed(tmp_path, mpiexec):
    out = tmp_path / "model.npz"
    cmd = [mpiexec, "-n", "2", sys.executable, "-m", "tinynn", "train", "--distributed", "--epochs", "2",
           "--hidden", "32", "--out", str(out)]
    code, stdout, err = _run(cmd, timeout=120)
    assert code == 0, f"{stdout}\n{err}"
    assert stdout.count("training 64-32-10 MLP") == 1 and "2 ranks" in stdout  # rank 0 alone prints
    assert out.exists() and out.with_suffix("").with_suffix(".ckpt.npz").exists()
    ckpt = tn.load(out.with_suffix("").with_suffix(".ckpt.npz"))
    assert [r["epoch"] for r in ckpt["history"]] == [1, 2]
    assert ckpt["history"][-1]["train_acc"] > 0.5


def test_cli_error_on_every_rank_ends_the_job(tmp_path, mpiexec):
    cmd = [mpiexec, "-n", "2", sys.executable, "-m", "tinynn", "train", "--distributed", "--data", "mnist",
           "--data-dir", str(tmp_path / "missing"), "--out", str(tmp_path / "m.npz")]
    code, stdout, err = _run(cmd, timeout=60)
    assert code != 0 and "tinynn train: error:" in err
