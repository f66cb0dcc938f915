"""Datasets: anything with a length that can be indexed for one sample.

A dataset answers two questions — how many samples (``len``) and what is sample
``i`` (``dataset[i]``). :class:`~minigrad.data.DataLoader` turns that into
batches. :class:`TensorDataset` covers the common case of samples that are rows
of a few equally long arrays (features ``X``, labels ``y``).
"""

import numpy as np

from ..tensor import Tensor, from_numpy


class Dataset:
    """The base class of a map-style dataset.

    Subclasses implement ``__len__`` (the number of samples) and
    ``__getitem__(i)`` for ``0 <= i < len(self)``, returning one sample: a tuple
    (or list) of fields such as ``(x, y)``, or a single field. A field is a NumPy
    array, a Tensor or a Python number; :class:`~minigrad.data.DataLoader`
    stacks each field across a batch.
    """

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")


def _as_array(x, position, backend):
    if isinstance(x, Tensor):
        return x.raw if backend is not None else x._host()
    if isinstance(x, np.ndarray):
        return x
    raise TypeError(
        f"TensorDataset: argument {position} must be a NumPy array or a Tensor, "
        f"got {type(x).__name__} (wrap it in np.asarray(...) or mg.tensor(...))")


class TensorDataset(Dataset):
    """Samples that are rows of equally long arrays: ``TensorDataset(X, y)[i] == (X[i], y[i])``.

    Each argument is a NumPy array or a Tensor. On the CPU they are kept as NumPy
    arrays in ``self.arrays`` — a NumPy argument is kept as is, not copied — and
    indexing returns a tuple of CPU Tensors (views of the rows, as indexing a tensor
    is in PyTorch). When every argument is a CUDA tensor the data stay on the GPU
    (``self.arrays`` holds device arrays, ``self.device`` is "cuda") and samples and
    batches are CUDA tensors, gathered on the GPU. A DataLoader over a TensorDataset
    gathers a whole batch from each array in one indexing step instead of stacking
    samples one by one.

    Raises ValueError when no arrays are given, when one is 0-d, or when their
    first dimensions differ (the message lists every length); TypeError for
    anything that is not an array or Tensor, or an array of non-numeric dtype.
    """

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset: expected at least one array")
        devices = {a.device if isinstance(a, Tensor) else "cpu" for a in arrays}
        if len(devices) > 1:
            raise RuntimeError(
                f"TensorDataset: expected every array on one device, got {sorted(devices)}")
        # on a GPU the data stay there; on the CPU they are NumPy arrays
        backend = arrays[0]._backend if devices != {"cpu"} else None
        arrays = tuple(_as_array(a, k, backend) for k, a in enumerate(arrays))
        for k, a in enumerate(arrays):
            if a.ndim == 0:
                raise ValueError(
                    f"TensorDataset: argument {k} is 0-d; every array needs a first "
                    f"dimension that indexes the samples")
            if a.dtype.kind not in "biuf":
                raise TypeError(
                    f"TensorDataset: argument {k} has dtype {a.dtype}; expected a "
                    f"bool, integer or floating-point array")
        lengths = [a.shape[0] for a in arrays]
        if len(set(lengths)) > 1:
            raise ValueError(
                f"TensorDataset: every array must have the same first dimension, "
                f"got lengths {lengths}")
        self.arrays = arrays
        self._backend = backend
        self.device = "cpu" if backend is None else backend.name

    def __len__(self):
        return self.arrays[0].shape[0]

    def __getitem__(self, index):
        if self._backend is not None:
            return tuple(Tensor._make(self._backend.getitem(a, index), self._backend)
                         for a in self.arrays)
        return tuple(from_numpy(np.asarray(a[index])) for a in self.arrays)

    def __repr__(self):
        shapes = ", ".join(f"{a.shape} {a.dtype}" for a in self.arrays)
        return f"TensorDataset({shapes})"
