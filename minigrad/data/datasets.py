"""Ready-made datasets, and a train/test split.

Nothing here downloads: ``load_digits`` reads the small digits set that ships
inside minigrad (``digits.csv.gz`` beside this file), and ``load_mnist`` reads
IDX files from a directory you give it.
"""

import gzip
import math
import os

import numpy as np

from .. import random as _random
from ..tensor import Tensor, from_numpy

_IDX_IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
_IDX_LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension


# ---- MNIST ------------------------------------------------------------------------


def _find(directory, stem):
    """The path of ``stem`` (or ``stem.gz``, or the dotted variant some mirrors use)."""
    # "train-images-idx3-ubyte" is sometimes distributed as "train-images.idx3-ubyte".
    dotted = stem.replace("-idx", ".idx")
    candidates = [os.path.join(directory, name)
                  for name in (stem, stem + ".gz", dotted, dotted + ".gz")]
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(
        f"load_mnist: no {stem} in {os.path.abspath(directory)!r}; looked for "
        f"{', '.join(os.path.basename(p) for p in candidates)}. minigrad never "
        f"downloads: put the MNIST IDX files (raw or .gz) in that directory")


def _read_bytes(path):
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            return f.read()
    except (gzip.BadGzipFile, EOFError, OSError) as e:
        if isinstance(e, (FileNotFoundError, PermissionError, IsADirectoryError)):
            raise
        raise ValueError(f"load_mnist: {path} is not a readable gzip file ({e})") from e


def _read_idx(path, magic, ndim):
    """The header sizes and the uint8 payload of an IDX file of unsigned bytes.

    IDX layout: a big-endian uint32 magic number (0x0000080N: unsigned bytes,
    N dimensions), then N big-endian uint32 sizes, then the values row-major.
    """
    raw = _read_bytes(path)
    header = 4 * (1 + ndim)
    if len(raw) < header:
        raise ValueError(
            f"load_mnist: {path} is truncated: {len(raw)} bytes, shorter than its "
            f"{header}-byte header")
    found, *sizes = (int(v) for v in np.frombuffer(raw, ">u4", count=1 + ndim))
    if found != magic:
        raise ValueError(
            f"load_mnist: {path} has magic number 0x{found:08x}, expected "
            f"0x{magic:08x}; is it the right file?")
    expected = header + math.prod(sizes)
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "longer than its header says"
        raise ValueError(
            f"load_mnist: {path} is {what}: {len(raw)} bytes, expected {expected} "
            f"for sizes {tuple(sizes)}")
    return sizes, np.frombuffer(raw, np.uint8, offset=header)


def load_mnist(directory, split="train"):
    """Read MNIST (or any dataset in its IDX format) from ``directory``.

    Looks for ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte``
    (``t10k-…`` for ``split="test"``), each raw or gzipped (``.gz``). It never
    downloads.

    Returns ``(X, y)``: X float32 of shape (N, 784) — each 28×28 image flattened
    row by row and scaled from 0…255 to [0, 1] — and y int64 of shape (N,).

    Raises FileNotFoundError naming the directory and file names it looked for;
    ValueError for an unknown split, a bad magic number, a truncated file, or
    image and label counts that differ.
    """
    if split not in ("train", "test"):
        raise ValueError(f"load_mnist: split must be 'train' or 'test', got {split!r}")
    directory = os.fspath(directory)
    prefix = "train" if split == "train" else "t10k"
    images_path = _find(directory, f"{prefix}-images-idx3-ubyte")
    labels_path = _find(directory, f"{prefix}-labels-idx1-ubyte")

    (n_images, rows, cols), pixels = _read_idx(images_path, _IDX_IMAGES_MAGIC, 3)
    (n_labels,), labels = _read_idx(labels_path, _IDX_LABELS_MAGIC, 1)
    if n_images != n_labels:
        raise ValueError(
            f"load_mnist: {images_path} holds {n_images} images but {labels_path} "
            f"holds {n_labels} labels")

    X = pixels.reshape(n_images, rows * cols).astype(np.float32)
    X /= 255.0
    return X, labels.astype(np.int64)


# ---- the 8x8 digits ---------------------------------------------------------------

_DIGITS_PATH = os.path.join(os.path.dirname(__file__), "digits.csv.gz")


def load_digits():
    """The 8×8 handwritten digits that ship with minigrad: 1797 images of 0–9.

    Returns ``(X, y)``: X float32 of shape (1797, 64), pixel counts 0…16 divided
    by 16 into [0, 1]; y int64 of shape (1797,).

    The file, ``digits.csv.gz`` beside this module (57 KB), is the test set
    (``optdigits.tes``) of *Optical Recognition of Handwritten Digits* by
    E. Alpaydin and C. Kaynak (1998), UCI Machine Learning Repository,
    https://doi.org/10.24432/C50P49, licensed CC BY 4.0: the same 1797 images
    that scikit-learn's ``load_digits`` returns, in the same order. Each line is
    one image: 64 counts (a 32×32 bitmap cut into an 8×8 grid of 4×4 blocks, row
    by row, each count the number of pixels set in its block), then the digit.

    Raises FileNotFoundError if the file is missing and ValueError if it is not
    1797 rows of 65 integers, the pixels in 0…16 and the digits in 0…9 (both
    mean a broken install: reinstall minigrad).
    """
    try:
        table = np.loadtxt(_DIGITS_PATH, delimiter=",", dtype=np.int64)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"load_digits: {_DIGITS_PATH} is missing; it ships with minigrad, so "
            f"reinstall it (pip install minigrad, or pip install -e . in a checkout)") from None
    except (OSError, EOFError, ValueError) as e:
        raise ValueError(f"load_digits: {_DIGITS_PATH} is unreadable ({e}); "
                         f"reinstall minigrad") from None
    if table.shape != (1797, 65):
        raise ValueError(
            f"load_digits: {_DIGITS_PATH} should hold 1797 rows of 65 integers, but "
            f"holds an array of shape {table.shape}; reinstall minigrad")
    pixels, digits = table[:, :64], table[:, 64]
    if pixels.min() < 0 or pixels.max() > 16 or digits.min() < 0 or digits.max() > 9:
        raise ValueError(
            f"load_digits: {_DIGITS_PATH} holds pixel counts outside 0..16 or digits "
            f"outside 0..9; reinstall minigrad")
    X = pixels.astype(np.float32) / np.float32(16.0)
    return X, digits.copy()


# ---- splitting ---------------------------------------------------------------------


def train_test_split(*arrays, test_fraction=0.2, seed=0):
    """Shuffle the samples once and split every array the same way.

    ``train_test_split(X, y)`` returns ``X_train, X_test, y_train, y_test`` — the
    order scikit-learn's function uses. The test part holds
    ``ceil(test_fraction * N)`` samples, the train part the rest. The same
    ``seed`` (an int; None draws from the generator ``mg.manual_seed`` seeds)
    gives the same split. Arrays stay arrays; Tensors come back as CPU Tensors
    of the same dtype (not requiring grad).

    Raises ValueError when no arrays are given, their lengths differ, or
    ``test_fraction`` leaves either part empty.
    """
    if not arrays:
        raise ValueError("train_test_split: expected at least one array")
    hosts = [a._host() if isinstance(a, Tensor) else np.asarray(a) for a in arrays]
    for k, a in enumerate(hosts):
        if a.ndim == 0:
            raise ValueError(f"train_test_split: argument {k} is 0-d; it has no samples")
    lengths = [a.shape[0] for a in hosts]
    if len(set(lengths)) > 1:
        raise ValueError(
            f"train_test_split: every array must have the same first dimension, "
            f"got lengths {lengths}")
    if not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
        raise ValueError(
            f"train_test_split: test_fraction must be between 0 and 1, got {test_fraction!r}")
    n = lengths[0]
    n_test = math.ceil(test_fraction * n)
    if n_test >= n:
        raise ValueError(
            f"train_test_split: test_fraction={test_fraction} of {n} samples "
            f"leaves no training samples")

    if seed is None:
        generator = _random.generator()
    else:
        generator = np.random.default_rng(seed)
    order = generator.permutation(n)
    test, train = order[:n_test], order[n_test:]

    out = []
    for original, a in zip(arrays, hosts):
        for part in (train, test):
            piece = a[part]
            out.append(from_numpy(piece) if isinstance(original, Tensor) else piece)
    return out
