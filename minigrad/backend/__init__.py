"""One backend object per device; :func:`get_backend` maps a device name to it."""

from .cpu import CPUBackend

_BACKENDS = {"cpu": CPUBackend()}


def normalize_device(device):
    """'cpu', 'cuda', 'cuda:0' or None -> the canonical device name."""
    if device is None:
        return "cpu"
    name = str(device)
    if name.startswith("cuda"):
        return "cuda"
    if name == "cpu":
        return "cpu"
    raise ValueError(f"unknown device {device!r}: expected 'cpu' or 'cuda'")


def get_backend(device):
    """The backend object for ``device``; RuntimeError when it is not usable here."""
    name = normalize_device(device)
    try:
        return _BACKENDS[name]
    except KeyError:
        raise RuntimeError(
            f"device {name!r} is not available: this build of minigrad has no "
            f"{name.upper()} backend yet (only 'cpu')") from None
