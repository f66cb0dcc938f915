"""``mg.accelerator``: PyTorch's device-agnostic question "is there a GPU here?".

    device = mg.accelerator.current_accelerator().type if mg.accelerator.is_available() else "cpu"
"""

from .backend import cuda_unavailable_reason
from .tensor import device


def is_available():
    """True when an NVIDIA GPU is usable (as ``mg.cuda.is_available()``)."""
    return cuda_unavailable_reason() is None


def current_accelerator():
    """``mg.device("cuda")`` when a GPU is usable, else None."""
    return device("cuda") if is_available() else None


def device_count():
    return 1 if is_available() else 0
