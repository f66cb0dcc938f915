"""One backend object per device; :func:`get_backend` maps a device name to it.

The CPU backend always exists. The CUDA backend is made the first time a CUDA
device is asked for (or ``mg.cuda.is_available()`` is called), because importing
numba's CUDA support takes most of a second that a CPU-only program should not pay.
"""

from .cpu import CPUBackend

_BACKENDS = {"cpu": CPUBackend()}
_cuda_unavailable = None   # why the CUDA backend could not be made, once tried


def normalize_device(device):
    """'cpu', 'cuda', 'cuda:0' or None -> the canonical device name."""
    if device is None:
        return "cpu"
    name = str(device)
    if name == "cuda" or name.startswith("cuda:"):
        return "cuda"
    if name == "cpu":
        return "cpu"
    raise ValueError(f"unknown device {device!r}: expected 'cpu' or 'cuda'")


def cuda_unavailable_reason():
    """None when the CUDA backend works here; otherwise why not (made once, then kept)."""
    global _cuda_unavailable
    if "cuda" in _BACKENDS:
        return None
    if _cuda_unavailable is None:
        try:
            from numba import cuda
        except ImportError as e:
            _cuda_unavailable = f"numba's CUDA support is not installed ({e}); pip install numba-cuda"
            return _cuda_unavailable
        if not cuda.is_available():
            _cuda_unavailable = "no CUDA GPU or driver was found (numba.cuda.is_available() is False)"
            return _cuda_unavailable
        from .cuda import CUDABackend
        _BACKENDS["cuda"] = CUDABackend()
    return _cuda_unavailable


def get_backend(device):
    """The backend object for ``device``; RuntimeError when it is not usable here."""
    name = normalize_device(device)
    backend = _BACKENDS.get(name)
    if backend is not None:
        return backend
    reason = cuda_unavailable_reason()
    if reason is not None:
        raise RuntimeError(f"device 'cuda' is not available: {reason}")
    return _BACKENDS[name]
