"""The one random source behind init, ``randn``/``rand``, Dropout and DataLoader shuffling.

It is a NumPy ``Generator`` (the PCG64 bit generator). ``manual_seed`` replaces it;
``get_rng_state``/``set_rng_state`` save and restore its position in its stream,
so that a run stopped part way resumes drawing exactly where it left off.
"""

import numpy as np

_generator = np.random.default_rng()

# A PCG64 state as bytes, little-endian: the 128-bit state, the 128-bit increment,
# then the one cached 32-bit half-draw (a flag byte and its value).
STATE_BYTES = 16 + 16 + 1 + 4


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


def get_rng_state():
    """The generator's state: a uint8 CPU Tensor of ``STATE_BYTES`` bytes, as
    PyTorch's ``torch.get_rng_state()``. Save it with the checkpoint; pass it to
    :func:`set_rng_state` to draw the same numbers again from here on."""
    from .tensor import from_numpy
    return from_numpy(encode_state(_generator))


def set_rng_state(new_state):
    """Restore a state from :func:`get_rng_state`: the next draws (init, ``randn``,
    Dropout's masks, unseeded shuffling) are those that followed it.

    The generator is changed in place, so the GPU's dropout streams (which
    ``mg.cuda.set_rng_state`` restores) are not re-made. Errors: TypeError unless
    ``new_state`` is a uint8 Tensor or array; ValueError if it is not a state
    (wrong length, or an increment PCG64 cannot have); nothing changes on error.
    """
    decode_state(_host_bytes(new_state, "set_rng_state"), _generator, "set_rng_state")


def encode_state(gen):
    """``gen``'s PCG64 state as a uint8 array of ``STATE_BYTES`` bytes."""
    s = gen.bit_generator.state
    if s["bit_generator"] != "PCG64":
        raise TypeError(f"only PCG64 generators have a saved state here, not {s['bit_generator']}")
    raw = (s["state"]["state"].to_bytes(16, "little") + s["state"]["inc"].to_bytes(16, "little")
           + bytes([s["has_uint32"]]) + s["uinteger"].to_bytes(4, "little"))
    return np.frombuffer(raw, np.uint8).copy()


def decode_state(raw, gen, who):
    """Set PCG64 generator ``gen`` to the state in ``raw`` (from :func:`encode_state`)."""
    if raw.shape != (STATE_BYTES,):
        raise ValueError(f"{who}: a generator state is {STATE_BYTES} bytes, "
                         f"got an array of shape {raw.shape}")
    b = raw.tobytes()
    state, inc = int.from_bytes(b[:16], "little"), int.from_bytes(b[16:32], "little")
    has_uint32, uinteger = b[32], int.from_bytes(b[33:], "little")
    if inc % 2 == 0 or has_uint32 > 1:
        raise ValueError(f"{who}: these bytes are not a generator state "
                         f"(PCG64's increment is odd and its flag byte is 0 or 1)")
    gen.bit_generator.state = {"bit_generator": "PCG64", "state": {"state": state, "inc": inc},
                               "has_uint32": has_uint32, "uinteger": uinteger}


def _host_bytes(value, who):
    """``value`` (a uint8 Tensor or NumPy array) as a 1-D uint8 NumPy array."""
    from .tensor import Tensor
    if isinstance(value, Tensor):
        value = value._host()
    if not isinstance(value, np.ndarray) or value.dtype != np.uint8:
        kind = value.dtype if isinstance(value, np.ndarray) else type(value).__name__
        raise TypeError(f"{who}: expected a uint8 Tensor (a saved state), got {kind}")
    return value


__all__ = ["manual_seed", "seed", "get_rng_state", "set_rng_state", "generator", "STATE_BYTES"]
