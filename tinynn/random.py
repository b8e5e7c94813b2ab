"""tinynn's randomness, PyTorch's way: `tn.Generator` objects and one default generator behind every
random choice tinynn makes (initialisation, dropout masks, shuffling, augmentation), which
`tn.manual_seed(seed)` reseeds.

    g = tn.Generator().manual_seed(0)          # its own stream: the global one is neither used nor advanced
    x = tn.rand(3, generator=g)
    train, val = tn.data.random_split(ds, [0.8, 0.2], generator=g)

A Generator draws from NumPy's PCG64 bit generator (O'Neill, "PCG: A Family of Simple Fast
Space-Efficient Statistically Good Algorithms for Random Number Generation", 2014), so its numbers
are not PyTorch's (which uses the Mersenne Twister); its behaviour is: the same seed gives the same
draws, `get_state()` is a uint8 Tensor that `set_state` restores exactly, a new `Generator()` starts
from PyTorch's fixed default seed, and the default generator from a fresh, non-deterministic one.
Wherever a `generator=` is taken, a numpy.random.Generator is accepted too (drawn from directly).
"""
import contextlib
import os

import numpy as np

from .tensor import Tensor, check_device, device as _device

DEFAULT_SEED = 67280421310721  # PyTorch's seed for a new CPU generator (c10::default_rng_seed_val)
_MASK64 = (1 << 64) - 1
# get_state()'s bytes, little-endian: initial seed (8), PCG64 state (16) and increment (16),
# has_uint32 (8) and uinteger (8): the whole state of numpy's PCG64, plus the seed as in PyTorch's.
_FIELDS = (("seed", 8), ("state", 16), ("inc", 16), ("has_uint32", 8), ("uinteger", 8))
STATE_SIZE = sum(n for _, n in _FIELDS)


def _seed_value(seed, op):
    """A seed as a 64-bit unsigned int: ints in [-2**63, 2**64) are taken mod 2**64, as in PyTorch."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{op}: expected an int seed, got {type(seed).__name__}")
    seed = int(seed)
    if not -(1 << 63) <= seed <= _MASK64:
        raise ValueError(f"{op}: seed {seed} is out of range [-2**63, 2**64 - 1]")
    return seed & _MASK64


class Generator:
    """A stream of random numbers with its own state (torch.Generator): `manual_seed(seed)` (returns
    the generator), `seed()`, `initial_seed()`, `get_state()` / `set_state(state)` (a uint8 Tensor of
    STATE_SIZE bytes), `clone_state()`; `device` is always the CPU. Pass it as `generator=` to
    tn.rand/randn/randint/randperm (and their _like forms), tn.normal/bernoulli/multinomial/poisson and
    the Tensor samplers (sampling.py), data.random_split, the random samplers and data.DataLoader: those draws then come from it alone, leaving tn.manual_seed's stream as it was."""

    def __init__(self, device="cpu"):
        self.device = _device(check_device(device, "Generator"))
        self._rng = np.random.Generator(np.random.PCG64(DEFAULT_SEED))
        self._seed = DEFAULT_SEED

    def manual_seed(self, seed):
        """Restart the stream from `seed` (an int; negative ones are taken mod 2**64). Returns self."""
        self._seed = _seed_value(seed, "Generator.manual_seed")
        self._rng.bit_generator.state = np.random.PCG64(self._seed).state  # in place: holders see it
        return self

    def seed(self):
        """Reseed from a non-deterministic 64-bit seed (the OS's entropy) and return that seed."""
        self.manual_seed(int.from_bytes(os.urandom(8), "little"))
        return self._seed

    def initial_seed(self):
        """The seed the stream last started from."""
        return self._seed

    def get_state(self):
        """The whole state, as a new 1-D uint8 Tensor (set_state restores it exactly)."""
        pcg = self._rng.bit_generator.state
        values = {"seed": self._seed, "state": pcg["state"]["state"], "inc": pcg["state"]["inc"],
                  "has_uint32": pcg["has_uint32"], "uinteger": pcg["uinteger"]}
        raw = b"".join(int(values[name]).to_bytes(n, "little") for name, n in _FIELDS)
        return Tensor._wrap(np.frombuffer(raw, dtype=np.uint8).copy(), False)

    def set_state(self, new_state):
        """Continue from a state get_state returned (a uint8 Tensor). Returns self."""
        if not isinstance(new_state, Tensor):
            raise TypeError(f"Generator.set_state: expected a uint8 Tensor, got {type(new_state).__name__}")
        if new_state.dtype != np.uint8:
            raise TypeError(f"Generator.set_state: the state must be a uint8 Tensor, got dtype {new_state.dtype}")
        raw = np.ascontiguousarray(new_state.numpy()).reshape(-1).tobytes()
        if len(raw) != STATE_SIZE:
            raise RuntimeError(f"Generator.set_state: expected a state of {STATE_SIZE} bytes (as get_state "
                               f"returns), got {len(raw)}")
        values, at = {}, 0
        for name, n in _FIELDS:
            values[name], at = int.from_bytes(raw[at:at + n], "little"), at + n
        if values["inc"] % 2 == 0 or values["has_uint32"] > 1 or values["uinteger"] >> 32:
            raise RuntimeError("Generator.set_state: invalid state (not one get_state returned)")
        self._rng.bit_generator.state = {
            "bit_generator": "PCG64", "state": {"state": values["state"], "inc": values["inc"]},
            "has_uint32": values["has_uint32"], "uinteger": values["uinteger"]}
        self._seed = values["seed"]
        return self

    def clone_state(self):
        """A new Generator in this one's state (their draws then coincide)."""
        return Generator(self.device).set_state(self.get_state())

    def __reduce__(self):  # pickle and copy.deepcopy keep the state, as PyTorch's do
        return _restore, (self.get_state().numpy().tobytes(),)

    def __repr__(self):
        return f"<tinynn.Generator device='cpu' initial_seed={self._seed}>"


def _restore(raw):
    return Generator().set_state(Tensor._wrap(np.frombuffer(raw, dtype=np.uint8).copy(), False))


default_generator = Generator()
default_generator.seed()  # as in PyTorch, a fresh process starts from a non-deterministic seed


def numpy_generator(generator, op):
    """The numpy Generator to draw from for `generator=`: None -> the default generator's; a tinynn
    Generator -> its own; a numpy.random.Generator -> itself; anything else is a TypeError naming `op`."""
    if generator is None:
        return default_generator._rng
    if isinstance(generator, Generator):
        return generator._rng
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"{op}: generator must be a tinynn.Generator (or a numpy.random.Generator), "
                    f"got {type(generator).__name__}")


def check_generator(generator, op):
    """`generator` itself, after numpy_generator's type check (for objects that draw later)."""
    numpy_generator(generator, op)
    return generator


def manual_seed(seed):
    """Reseed the default generator, behind every random choice tinynn makes; returns it (as
    torch.manual_seed does). As in PyTorch, the seed goes through int() first, so 3.0 means 3."""
    try:
        seed = int(seed)
    except (TypeError, ValueError, OverflowError) as error:
        raise TypeError(f"manual_seed: expected an int seed, got {seed!r}") from error
    return default_generator.manual_seed(_seed_value(seed, "manual_seed"))


def seed():
    """Reseed the default generator non-deterministically; returns the seed."""
    return default_generator.seed()


def initial_seed():
    """The seed the default generator last started from."""
    return default_generator.initial_seed()


def get_rng_state():
    """The default generator's state (a uint8 Tensor)."""
    return default_generator.get_state()


def set_rng_state(new_state):
    """Restore the default generator's state from get_rng_state()."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type="cpu"):
    """Inside the block, draws from the default generator happen as usual; on leaving it, its state is
    restored (torch.random.fork_rng; `devices` is ignored, there being only the CPU)."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


def generator():
    """The numpy Generator behind the default generator (always the same object: reseeding is in place)."""
    return default_generator._rng
