"""``mg.cuda.is_available()``: whether tensors can be put on an NVIDIA GPU."""

from .backend import _BACKENDS


def is_available():
    """True when a CUDA GPU, its driver and minigrad's CUDA backend are all usable."""
    return "cuda" in _BACKENDS
