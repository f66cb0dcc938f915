"""``mg.cuda.is_available()``: whether tensors can be put on an NVIDIA GPU."""

from .backend import cuda_unavailable_reason


def is_available():
    """True when an NVIDIA GPU, its driver and numba's CUDA support (the numba-cuda
    package: ``pip install "minigrad[cuda]"``) are all usable. With
    ``NUMBA_ENABLE_CUDASIM=1`` set before numba is imported, numba's CUDA simulator
    counts as a GPU: the CUDA kernels then run, slowly, on the CPU."""
    return cuda_unavailable_reason() is None


def get_rng_state(device="cuda"):
    """The GPU's dropout generator state: a uint8 CPU Tensor, as PyTorch's
    ``torch.cuda.get_rng_state()``. Empty until the first dropout on the GPU after
    a seeding (the GPU's streams are then made from the CPU generator, so its state
    from :func:`minigrad.get_rng_state` covers them). RuntimeError without CUDA."""
    from .tensor import from_numpy
    return from_numpy(_cuda_backend(device).rng_state())


def set_rng_state(new_state, device="cuda"):
    """Restore a state from :func:`get_rng_state`: the GPU's next dropout masks are
    those that followed it. TypeError unless it is a uint8 Tensor or array;
    ValueError if its size does not fit this GPU's streams; nothing changes on error."""
    from .random import _host_bytes
    _cuda_backend(device).set_rng_state(_host_bytes(new_state, "cuda.set_rng_state"))


def _cuda_backend(device):
    from .backend import get_backend, normalize_device
    if normalize_device(device) != "cuda":
        raise ValueError(f"mg.cuda: device must be 'cuda', got {device!r}")
    return get_backend("cuda")
