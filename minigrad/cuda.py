"""``mg.cuda.is_available()``: whether tensors can be put on an NVIDIA GPU."""

from .backend import cuda_unavailable_reason


def is_available():
    """True when an NVIDIA GPU, its driver and numba's CUDA support (the numba-cuda
    package: ``pip install "minigrad[cuda]"``) are all usable. With
    ``NUMBA_ENABLE_CUDASIM=1`` set before numba is imported, numba's CUDA simulator
    counts as a GPU: the CUDA kernels then run, slowly, on the CPU."""
    return cuda_unavailable_reason() is None
