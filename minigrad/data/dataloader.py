"""DataLoader: a dataset, cut into batches, in order or shuffled each epoch."""

import numbers

import numpy as np

from .. import random as _random
from ..tensor import Tensor, from_numpy, tensor
from .dataset import TensorDataset


def _is_int(x):
    return isinstance(x, (numbers.Integral, np.integer)) and not isinstance(x, (bool, np.bool_))


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` samples.

    Each iteration (one epoch) yields tuples of Tensors, one per field of a
    sample, each with a leading batch dimension: for ``TensorDataset(X, y)`` the
    batches are ``(X[idx], y[idx])``. Batches are CPU Tensors, except from a
    TensorDataset of CUDA tensors: those batches are gathered on the GPU, and the
    only copy to it is the epoch's order of samples, once per epoch. Dtypes are kept (float64 data stays
    float64, uint8 stays uint8); fields that are Python numbers follow
    :func:`minigrad.tensor` (floats become float32, ints int64).

    The batch size chooses the flavour of gradient descent:
    ``batch_size=len(dataset)`` is full-batch gradient descent, ``batch_size=1``
    is stochastic gradient descent, anything between is mini-batch gradient
    descent.

    Args:
        dataset: a :class:`TensorDataset`, or any object with ``__len__`` and
            ``__getitem__`` returning a sample (a tuple of arrays, Tensors or
            numbers, or one of those), whose samples are then stacked.
        batch_size: a positive int. The last batch is smaller when it does not
            divide ``len(dataset)``, unless ``drop_last``.
        shuffle: visit the samples in a new random order every epoch.
        drop_last: drop the last, incomplete batch.
        seed: with ``shuffle``, a non-negative int: a generator made once from it
            draws each epoch's permutation, so every epoch has a different order
            and the sequence of epochs repeats exactly from run to run. Without a
            seed, shuffling draws from the generator that
            :func:`minigrad.manual_seed` seeds.
        collate_fn: as PyTorch's: a function from the list of a batch's samples to
            the batch (by default they are stacked field by field).
        num_workers, pin_memory: PyTorch's, accepted so that its programs run: the
            samples are always loaded in this process, and memory is not pinned.

    ``len(loader)`` is the number of batches per epoch:
    ``ceil(len(dataset) / batch_size)``, or ``floor(...)`` with ``drop_last``.
    The permutation is drawn when ``iter(loader)`` is called.

    ``state_dict()`` saves where the loader is: its generator (with a seed), the
    current epoch's order and how many of its batches were handed out.
    ``load_state_dict()`` makes the next ``iter(loader)`` finish that epoch (the
    batches not yet handed out, in the saved order) instead of starting a new one,
    so a run resumed from a checkpoint sees the same batches as one never stopped.
    With one loop over the loader at a time, as in training, the state is that loop's.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=None, *,
                 collate_fn=None, num_workers=0, pin_memory=False):
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(
                f"DataLoader: dataset must have __len__ and __getitem__, "
                f"got {type(dataset).__name__}")
        if not _is_int(batch_size):
            raise TypeError(
                f"DataLoader: batch_size must be an int, got {type(batch_size).__name__}")
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be positive, got {batch_size}")
        for name, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(
                    f"DataLoader: {name} must be True or False, got {flag!r}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be callable, got {collate_fn!r}")
        if not _is_int(num_workers) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be an int >= 0, got {num_workers!r}")
        if seed is not None:
            if not _is_int(seed):
                raise TypeError(f"DataLoader: seed must be an int or None, got {seed!r}")
            if seed < 0:
                raise ValueError(f"DataLoader: seed must be non-negative, got {seed}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = seed
        self.collate_fn = collate_fn
        self.num_workers, self.pin_memory = int(num_workers), bool(pin_memory)
        # Made once, so that each epoch continues the same stream of permutations.
        self._generator = None if seed is None else np.random.default_rng(int(seed))
        self._order = None      # the current epoch's order (host), None between epochs
        self._position = 0      # batches of it handed out so far
        self._resume = None     # (order, position) from load_state_dict, for the next epoch
        # The fast path only where indexing is TensorDataset's own (not overridden).
        own = type(dataset).__getitem__ is TensorDataset.__getitem__ and collate_fn is None
        self._arrays = dataset.arrays if own else None
        self._backend = dataset._backend if own else None   # None: the data are on the CPU

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        if self._resume is not None:
            order, position = self._resume
            self._resume = None
        else:
            position = 0
            if self.shuffle:
                generator = self._generator if self._generator is not None else _random.generator()
                order = generator.permutation(n)
            else:
                order = np.arange(n)
        self._order, self._position = order, position
        if self._backend is not None:
            order = self._backend.from_numpy(order.astype(np.int64))  # once per epoch
        return self._batches(order, position)

    def _batches(self, order, position):
        n, size = len(order), self.batch_size
        stop = n - n % size if self.drop_last else n
        for start in range(position * size, stop, size):
            batch = self._fetch(order[start:start + size])
            self._position += 1
            yield batch
        self._order, self._position = None, 0

    def state_dict(self):
        """Where the loader is, as a dict of arrays and ints (``mg.save`` can write it):
        ``"generator"`` (the seeded generator's state, a uint8 array; None without a
        seed: unseeded shuffling draws from the generator that ``mg.get_rng_state``
        saves), ``"order"`` (the current epoch's order of samples, an int64 array;
        None between epochs or without shuffling) and ``"position"`` (batches of the
        current epoch handed out)."""
        if self._resume is not None:          # loaded, and not yet iterated
            order, position = self._resume
        else:
            order, position = self._order, self._position if self._order is not None else 0
        return {
            "generator": None if self._generator is None else _random.encode_state(self._generator),
            "order": None if order is None or not self.shuffle else np.array(order, np.int64),
            "position": position,
        }

    def load_state_dict(self, state_dict):
        """Resume from ``state_dict()``: the next ``iter(loader)`` yields the rest of
        the saved epoch, and later epochs continue the saved generator.

        Everything is checked first, so a bad state changes nothing: TypeError if it
        is not a dict; ValueError for missing or unexpected keys, a generator state
        where this loader has no seed (or none where it has one), an order that is
        not a permutation of the dataset's indices, or a position past the epoch.
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"DataLoader.load_state_dict: expected a dict from state_dict(), "
                            f"got {type(state_dict).__name__}")
        keys = {"generator", "order", "position"}
        if set(state_dict) != keys:
            raise ValueError(f"DataLoader.load_state_dict: expected the keys {sorted(keys)}, "
                             f"got {sorted(map(str, state_dict))}")
        saved, order, position = (state_dict[k] for k in ("generator", "order", "position"))
        if (saved is None) != (self._generator is None):
            raise ValueError("DataLoader.load_state_dict: the state was saved from a loader "
                             + ("without a seed, but this one has one" if saved is None
                                else "with a seed, but this one has none"))
        n = len(self.dataset)
        if order is not None:
            order = order._host() if isinstance(order, Tensor) else order
            if (not isinstance(order, np.ndarray) or order.dtype.kind not in "iu"
                    or order.shape != (n,) or not self.shuffle
                    or not np.array_equal(np.sort(order), np.arange(n))):
                raise ValueError(f"DataLoader.load_state_dict: 'order' must be a permutation "
                                 f"of the {n} sample indices of a shuffling loader")
        if not _is_int(position) or not 0 <= position <= len(self):
            raise ValueError(f"DataLoader.load_state_dict: 'position' must be an int in "
                             f"[0, {len(self)}], got {position!r}")
        if position and order is None and self.shuffle:
            raise ValueError("DataLoader.load_state_dict: a position inside an epoch needs "
                             "that epoch's 'order'")
        if saved is not None:
            probe = np.random.default_rng()
            _random.decode_state(_random._host_bytes(saved, "DataLoader.load_state_dict"),
                                 probe, "DataLoader.load_state_dict")
            self._generator.bit_generator.state = probe.bit_generator.state
        if position or order is not None:
            if order is None:
                order = np.arange(n)
            self._resume = (np.array(order, np.int64), int(position))
        else:
            self._resume = None
        self._order, self._position = None, 0

    def _fetch(self, indices):
        if self._backend is not None:
            # On the GPU: one gather per array, indices sliced from the epoch's order.
            be = self._backend
            return tuple(Tensor._make(be.getitem(a, indices), be) for a in self._arrays)
        if self._arrays is not None:
            # One gather per array; fancy indexing copies into a C-contiguous batch.
            return tuple(from_numpy(a[indices]) for a in self._arrays)
        return (self.collate_fn or collate)([self.dataset[int(i)] for i in indices])

    def __repr__(self):
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, seed={self.seed})")


def collate(samples):
    """Stack a list of samples into a tuple of batched CPU Tensors, field by field.

    A sample is a tuple or list of fields, or a single field; a field is a NumPy
    array, a Tensor or a Python/NumPy number. All samples must have the same
    number of fields and each field the same shape across samples.
    """
    first = samples[0]
    if isinstance(first, (tuple, list)):
        width = len(first)
        for k, s in enumerate(samples):
            if not isinstance(s, (tuple, list)) or len(s) != width:
                raise ValueError(
                    f"DataLoader: sample {k} of the batch does not have the "
                    f"{width} fields of the first sample")
        fields = list(zip(*samples))
    else:
        fields = [samples]
    return tuple(_stack(values, k) for k, values in enumerate(fields))


def _stack(values, field):
    if all(isinstance(v, (bool, int, float)) for v in values):
        return tensor(list(values))  # Python numbers: mg.tensor's dtype rules
    arrays = []
    for v in values:
        if isinstance(v, Tensor):
            v = v._host()
        elif isinstance(v, (np.ndarray, np.generic, bool, int, float)):
            v = np.asarray(v)
        else:
            raise TypeError(
                f"DataLoader: field {field} of a sample is a {type(v).__name__}; "
                f"expected a NumPy array, a Tensor or a number")
        arrays.append(v)
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(
            f"DataLoader: field {field} has different shapes across samples: "
            f"{sorted(shapes)}")
    batch = np.stack(arrays)
    if batch.dtype.kind not in "biuf":
        raise TypeError(f"DataLoader: field {field} has unsupported dtype {batch.dtype}")
    return from_numpy(batch)
