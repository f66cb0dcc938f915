"""The one random source behind init, ``randn``/``rand``, Dropout and DataLoader shuffling."""

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed):
    """Seed every random source minigrad uses, so a run can be repeated exactly."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative integer, got {seed!r}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def generator():
    """The generator that ``manual_seed`` last seeded (read it each time: seeding replaces it)."""
    return _generator


def seed():
    """Seed every random source from the operating system's entropy; returns the seed
    used, so that the run can be repeated with ``manual_seed``."""
    s = int(np.random.SeedSequence().entropy % 2**63)
    manual_seed(s)
    return s
