"""Data-parallel training over processes and machines, on MPI (mpi4py).

Launch N copies of one script, e.g. ``mpiexec -n 4 python train.py``. Every copy (a *rank*)
holds the whole model, reads its own shard of the data (`DistributedSampler`), and after each
``loss.backward()`` `DistributedDataParallel` replaces every gradient by its average over ranks:

    g  <-  (1/N) * sum_r g_r

With equal per-rank batches B and a loss that is a batch mean, that average is exactly the
gradient of the mean loss over the global batch of N*B samples, so N ranks with batch B take the
same optimizer steps as one process with batch N*B (up to float rounding order).

Without mpi4py, or in a single process, everything here still works: world size 1, rank 0, and
`DistributedDataParallel` does nothing but delegate. mpi4py is imported on first use, never by
``import tinynn``.

How it works is told in docs/06-distributed.md: a callback registered with autograd's
post-backward hook averages the gradients in a few flat buckets, one ``Allreduce(SUM)`` each;
a rank that raises aborts the whole job instead of leaving the others blocked in a collective.
"""
import contextlib
import os
import sys
import time
import traceback
import weakref

import numpy as np

from .utils.grads import grad_array

from . import autograd
from .nn import Module

__all__ = ["rank", "world_size", "is_initialized", "DistributedDataParallel", "DistributedSampler",
           "barrier", "broadcast", "all_reduce", "abort", "abort_on_error", "install_excepthook"]

_MPI = None          # the mpi4py.MPI module once loaded
_comm = None         # MPI.COMM_WORLD, or False when running without MPI
_previous_excepthook = None
_ABORT_GRACE_S = 1.0

# Environment variables through which common launchers announce the job size.
_LAUNCHER_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")


def _launcher_size():
    values = (os.environ.get(name, "") for name in _LAUNCHER_SIZE_VARS)
    return next((int(v) for v in values if v.isdigit()), 1)


def _world():
    """MPI.COMM_WORLD (initialising MPI on first call), or False when mpi4py is not installed."""
    global _MPI, _comm
    if _comm is None:
        try:
            from mpi4py import MPI
        except ImportError as exc:
            size = _launcher_size()
            if size > 1:
                raise RuntimeError(
                    f"tinynn.distributed: this process was launched as one of {size} MPI ranks, but "
                    f"mpi4py cannot be imported ({exc}); install it with `pip install 'tinynn-scratch[mpi]'` "
                    "(or `pip install mpi4py` against the cluster's MPI)"
                ) from exc
            _comm = False
        else:
            _MPI, _comm = MPI, MPI.COMM_WORLD
            if _comm.Get_size() > 1:
                install_excepthook()
    return _comm


def is_initialized():
    """True when tinynn.distributed runs on MPI (mpi4py importable; MPI is initialised on first
    call), False in a plain process without mpi4py. Either way `rank()` and `world_size()` work."""
    return _world() is not False


def world_size():
    """N, the number of processes (ranks) in the job; 1 without MPI."""
    comm = _world()
    return comm.Get_size() if comm else 1


def rank():
    """This process's index r in 0 .. N-1 (0 without MPI). By convention rank 0 prints and saves."""
    comm = _world()
    return comm.Get_rank() if comm else 0


_world_rank = rank  # DistributedSampler's `rank` argument shadows the function


def barrier():
    """Wait until every rank has reached this call (no-op in a single process)."""
    comm = _world()
    if comm and comm.Get_size() > 1:
        comm.Barrier()


def broadcast(array, root=0):
    """Overwrite the C-contiguous ndarray `array` on every rank with rank `root`'s copy, in place;
    returns it."""
    comm = _world()
    if comm and comm.Get_size() > 1:
        _check_buffer(array, "broadcast")
        comm.Bcast(array, root=root)
    return array


def all_reduce(array, average=False):
    """In place over ranks: array <- sum_r array_r (or the mean with `average=True`); returns it.
    `array` must be a C-contiguous numeric ndarray with the same shape and dtype on every rank."""
    comm = _world()
    if comm and comm.Get_size() > 1:
        _check_buffer(array, "all_reduce")
        comm.Allreduce(_MPI.IN_PLACE, array, op=_MPI.SUM)
        if average:
            array /= comm.Get_size()
    return array


def _check_buffer(array, op):
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{op}: need a numpy.ndarray, got {type(array).__name__}")
    if not (array.flags.c_contiguous and array.flags.writeable):
        raise ValueError(f"{op}: the array (shape {array.shape}, dtype {array.dtype}) must be C-contiguous and writeable")


# ----------------------------------------------------------------------------- failing loudly
def abort(code=1):
    """End every rank of the job now with exit status `code` (MPI_Abort); plain exit without MPI."""
    sys.stdout.flush()
    sys.stderr.flush()
    if _comm:
        # The launcher forwards each rank's output through a pipe and stops reading it once the
        # abort reaches it: give it a moment to pass on what this rank just printed.
        time.sleep(_ABORT_GRACE_S)
        _comm.Abort(code)
    os._exit(code)


def _report(header):
    try:
        where = f"rank {rank()} of {world_size()}"
    except Exception:  # MPI could not even start: say what the launcher said
        where = f"rank {os.environ.get('PMI_RANK', os.environ.get('OMPI_COMM_WORLD_RANK', '?'))}"
    sys.stderr.write(f"tinynn.distributed: {where} {header}; aborting the job\n")


def _abort_excepthook(exc_type, exc, tb):
    try:
        _report(f"raised {exc_type.__name__}")
        (_previous_excepthook or sys.__excepthook__)(exc_type, exc, tb)
    finally:
        abort(1)


def install_excepthook():
    """Make an uncaught exception on this rank print its traceback and abort the whole job
    (instead of leaving the other ranks blocked in a collective). Installed automatically when
    MPI runs with more than one rank; calling it again is harmless."""
    global _previous_excepthook
    if sys.excepthook is not _abort_excepthook:
        _previous_excepthook = sys.excepthook
        sys.excepthook = _abort_excepthook


@contextlib.contextmanager
def abort_on_error():
    """Context manager: an exception (or ``sys.exit`` with a non-zero status) escaping the block on
    any rank prints that rank's traceback and aborts the whole job with a non-zero exit status.
    In a single process it changes nothing."""
    try:
        yield
    except SystemExit as exc:
        code = exc.code
        if code not in (None, 0) and world_size() > 1:
            if not isinstance(code, int):
                sys.stderr.write(f"{code}\n")
                code = 1
            _report(f"exited with status {code}")
            abort(code)
        raise
    except BaseException:
        if world_size() > 1:
            _report("raised")
            traceback.print_exc()
            abort(1)
        raise


# ----------------------------------------------------------------------------- data parallel
class _Bucket:
    """Parameters whose gradients travel in one Allreduce: a flat buffer and each one's slot."""

    __slots__ = ("buffer", "slots")

    def __init__(self, params, dtype):
        sizes = [p._data.size for p in params]
        self.buffer = np.empty(sum(sizes), dtype=dtype)
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        self.slots = [(p, int(offsets[i]), int(offsets[i + 1])) for i, p in enumerate(params)]

    def fill(self, arrays):
        """Copy one array per parameter (None: zeros) into the flat buffer."""
        for (_, lo, hi), a in zip(self.slots, arrays):
            self.buffer[lo:hi] = 0 if a is None else np.asarray(a).reshape(-1)

    def views(self):
        """(parameter, its slot of the buffer in the parameter's shape) for each parameter."""
        return [(p, self.buffer[lo:hi].reshape(p.shape)) for p, lo, hi in self.slots]


def _make_buckets(params, cap_bytes):
    """Group params (in reverse registration order, like PyTorch: the last layer's gradients are
    ready first) into runs of one dtype of at most cap_bytes each (a larger tensor gets its own)."""
    buckets, run, run_bytes = [], [], 0
    for p in reversed(params):
        nbytes = p._data.nbytes
        if run and (p.dtype != run[0].dtype or run_bytes + nbytes > cap_bytes):
            buckets.append(_Bucket(run, run[0].dtype))
            run, run_bytes = [], 0
        run.append(p)
        run_bytes += nbytes
    if run:
        buckets.append(_Bucket(run, run[0].dtype))
    return buckets


class DistributedDataParallel(Module):
    """Wraps `module` for data-parallel training: forward is ``module(*args, **kwargs)``.

    At wrap time every parameter is broadcast from rank 0, so all ranks start equal. After each
    ``loss.backward()`` that follows a forward through this wrapper, every rank holds

        p.grad = (1/N) * sum_{r=0}^{N-1} g_r(p)

    (an unused parameter contributes zeros), reduced in few large in-place Allreduces over flat
    buckets of about `bucket_cap_mb` megabytes. So N ranks with batch B follow the trajectory of
    one process with batch N*B. Gradient accumulation over several backward() calls stays correct
    (averaging is linear); inside ``with ddp.no_sync():`` the reduction is skipped and the next
    backward outside it averages the accumulated sum. With one process it only delegates.

    When more than one rank shares a machine and the kernel thread count was not set
    (`tn.set_num_threads` or TINYNN_NUM_THREADS), each rank gets cores // ranks-on-this-machine
    threads, so the ranks do not oversubscribe the cores.
    """

    def __init__(self, module, bucket_cap_mb=25.0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: need an nn.Module, got {type(module).__name__}")
        if not bucket_cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be > 0, got {bucket_cap_mb!r}")
        self.module = module
        self.bucket_cap_mb = float(bucket_cap_mb)
        self._pending, self._sync, self._buckets, self._hook_key = False, True, [], None
        if world_size() > 1:
            self._limit_threads()
            params = [p for p in module.parameters() if p.requires_grad]  # each shared one once
            self._check_same_model(params)
            self._buckets = _make_buckets(params, int(self.bucket_cap_mb * 2**20))
            self._broadcast_parameters()
            ref = weakref.ref(self)

            def hook():
                ddp = ref()
                if ddp is not None:
                    ddp._after_backward()

            self._hook_key = autograd.register_post_backward_hook(hook)
            weakref.finalize(self, autograd.remove_post_backward_hook, self._hook_key)

    def forward(self, *args, **kwargs):
        if autograd.is_grad_enabled():
            self._pending = True
        return self.module(*args, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Skip gradient averaging for backward() calls inside the block (local accumulation)."""
        previous, self._sync = self._sync, False
        try:
            yield
        finally:
            self._sync = previous

    def _after_backward(self):
        if self._pending and self._sync:
            self._pending = False
            self.allreduce_gradients()

    def allreduce_gradients(self):
        """Average every parameter's `.grad` over the ranks now (done automatically after backward)."""
        comm = _world()
        if not comm or comm.Get_size() == 1:
            return
        scale = 1.0 / comm.Get_size()
        for bucket in self._buckets:
            bucket.fill(p.grad for p, _, _ in bucket.slots)
            comm.Allreduce(_MPI.IN_PLACE, bucket.buffer, op=_MPI.SUM)
            bucket.buffer *= bucket.buffer.dtype.type(scale)
            for p, avg in bucket.views():
                g = grad_array(p)
                if isinstance(g, np.ndarray) and g.shape == avg.shape and g.dtype == avg.dtype and g.flags.writeable:
                    np.copyto(g, avg)
                else:
                    p.grad = avg.copy()

    def _broadcast_parameters(self):
        for bucket in self._buckets:
            bucket.fill(p._data for p, _, _ in bucket.slots)
            _comm.Bcast(bucket.buffer, root=0)
            for p, value in bucket.views():
                p._data[...] = value

    def _check_same_model(self, params):
        mine = [(tuple(p.shape), str(p.dtype)) for p in params]
        everyone = _comm.allgather(mine)
        for r, theirs in enumerate(everyone):
            if theirs != mine:
                raise ValueError(
                    f"DistributedDataParallel: rank {rank()} has parameters {_summary(mine)} but rank {r} "
                    f"has {_summary(theirs)}; every rank must build the same model"
                )

    @staticmethod
    def _limit_threads():
        from . import threads

        if threads._threads is not None or os.environ.get("TINYNN_NUM_THREADS"):
            return
        local = _comm.Split_type(_MPI.COMM_TYPE_SHARED)
        try:
            per_rank = max(1, threads.get_num_threads() // local.Get_size())
        finally:
            local.Free()
        threads.set_num_threads(per_rank)


def _summary(shapes):
    text = ", ".join(f"{s}:{d}" for s, d in shapes[:6])
    return f"[{text}{', ...' if len(shapes) > 6 else ''}] ({len(shapes)} tensors)"


class DistributedSampler:
    """Each rank's share of a dataset's indices, for ``DataLoader(dataset, sampler=...)``.

    With n samples and N ranks every rank gets m = ceil(n / N) indices (floor with
    ``drop_last=True``). The order pi is ``0..n-1`` or, with `shuffle`, a permutation drawn from
    ``seed + epoch`` (the same on every rank; call `set_epoch` before each epoch to reshuffle);
    without `drop_last` it is padded to N*m by wrapping around (pi_0, pi_1, ... again, like
    PyTorch), with `drop_last` its tail is cut to N*m. Rank r gets pi_r, pi_{r+N}, pi_{r+2N}, ...:
    the shards are disjoint (before padding) and together cover the dataset.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        self.dataset = dataset
        self.num_replicas = world_size() if num_replicas is None else num_replicas
        self.rank = _world_rank() if rank is None else rank
        if not isinstance(self.num_replicas, (int, np.integer)) or self.num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be an int >= 1, got {self.num_replicas!r}")
        if not isinstance(self.rank, (int, np.integer)) or not 0 <= self.rank < self.num_replicas:
            raise ValueError(f"DistributedSampler: rank must be in [0, {self.num_replicas - 1}], got {self.rank!r}")
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"DistributedSampler: seed must be a non-negative int, got {seed!r}")
        self.shuffle, self.seed, self.drop_last, self.epoch = bool(shuffle), int(seed), bool(drop_last), 0
        n, N = len(dataset), self.num_replicas
        self.num_samples = n // N if self.drop_last else -(-n // N)
        self.total_size = self.num_samples * N

    def set_epoch(self, epoch):
        """Use the permutation of `epoch` next (identical on every rank for the same seed)."""
        if not isinstance(epoch, (int, np.integer)) or epoch < 0:
            raise ValueError(f"DistributedSampler.set_epoch: epoch must be a non-negative int, got {epoch!r}")
        self.epoch = int(epoch)

    def indices(self):
        """This rank's indices for the current epoch, as an int64 ndarray of length `len(self)`."""
        n = len(self.dataset)
        order = np.random.default_rng(self.seed + self.epoch).permutation(n) if self.shuffle else np.arange(n)
        if n:
            order = np.resize(order, self.total_size)  # pads by wrapping around, or cuts the tail
        return order[self.rank:self.total_size:self.num_replicas].astype(np.int64)

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self):
        return self.num_samples


if _launcher_size() > 1:
    # Started by mpiexec/srun as one of several ranks: fail the whole job on an uncaught
    # exception even if it comes before MPI is first used (MPI starts inside the hook then).
    install_excepthook()
