"""tinynn's single source of randomness: `tn.manual_seed(seed)` makes every random choice
(initialisation, dropout masks, shuffling, augmentation) reproducible."""
import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed):
    """Reseed the generator behind every random choice tinynn makes."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative int, got {seed!r}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def generator():
    """The current numpy Generator."""
    return _generator
