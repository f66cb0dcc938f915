"""minigrad.data: TensorDataset, DataLoader, load_mnist, load_digits, train_test_split."""

import gzip
import math
import struct

import numpy as np
import pytest

import minigrad as mg
from minigrad.data import (
    DataLoader, Dataset, TensorDataset, load_digits, load_mnist, train_test_split,
)


def _ids_dataset(n=10):
    """Sample i is (i as float64 row [i, -i], label 2i as int32): a batch shows its order."""
    X = np.stack([np.arange(n), -np.arange(n)], axis=1).astype(np.float64)
    y = (2 * np.arange(n)).astype(np.int32)
    return TensorDataset(X, y)


def _order(batches):
    """The sample ids of an epoch, checking that X and y stayed aligned."""
    ids = []
    for xb, yb in batches:
        x, y = xb.numpy(), yb.numpy()
        np.testing.assert_array_equal(x[:, 1], -x[:, 0])
        np.testing.assert_array_equal(y, 2 * x[:, 0].astype(np.int64))
        ids.extend(x[:, 0].astype(int).tolist())
    return ids


# ---- TensorDataset -------------------------------------------------------------------


def test_tensor_dataset_indexes_rows_of_every_array():
    X = np.arange(12.0).reshape(4, 3)
    y = np.array([3, 1, 4, 1])
    ds = TensorDataset(X, mg.tensor(y))
    assert len(ds) == 4
    x2, y2 = ds[2]
    assert isinstance(x2, mg.Tensor) and isinstance(y2, mg.Tensor)
    np.testing.assert_array_equal(x2.numpy(), [6.0, 7.0, 8.0])
    assert y2.item() == 4
    assert all(isinstance(a, np.ndarray) for a in ds.arrays)


def test_tensor_dataset_length_mismatch_names_the_lengths():
    with pytest.raises(ValueError, match=r"\[5, 4\]"):
        TensorDataset(np.zeros((5, 2)), np.zeros(4))


def test_tensor_dataset_rejects_bad_arguments():
    with pytest.raises(ValueError):
        TensorDataset()
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(np.zeros(()))
    with pytest.raises(TypeError, match="list"):
        TensorDataset([1, 2, 3])
    with pytest.raises(TypeError, match="dtype"):
        TensorDataset(np.array(["a", "b"]))


def test_dataset_base_class_is_abstract():
    with pytest.raises(NotImplementedError):
        len(Dataset())
    with pytest.raises(NotImplementedError):
        Dataset()[0]


# ---- DataLoader: batching ---------------------------------------------------------------


@pytest.mark.parametrize("batch_size, drop_last, sizes", [
    (10, False, [10]),               # full batch: one step per epoch
    (3, False, [3, 3, 3, 1]),        # mini-batch, ragged last batch kept
    (3, True, [3, 3, 3]),            # ... or dropped
    (1, False, [1] * 10),            # stochastic: one sample per step
    (25, False, [10]),
    (25, True, []),
    (5, True, [5, 5]),
])
def test_batch_counts_and_sizes(batch_size, drop_last, sizes):
    loader = DataLoader(_ids_dataset(10), batch_size=batch_size, drop_last=drop_last)
    expected_len = 10 // batch_size if drop_last else math.ceil(10 / batch_size)
    assert len(loader) == expected_len == len(sizes)
    batches = list(loader)
    assert [len(xb) for xb, _ in batches] == sizes
    assert _order(batches) == list(range(sum(sizes)))  # unshuffled: in order


def test_batches_are_cpu_tensors_with_dtypes_kept():
    X = np.arange(8, dtype=np.uint8).reshape(4, 2)
    h = np.array([0.5, 1.5, 2.5, 3.5], dtype=np.float16)
    y = np.array([1, 0, 1, 1], dtype=np.int32)
    m = np.array([True, False, True, False])
    (xb, hb, yb, mb), = DataLoader(TensorDataset(X, h, y, m), batch_size=4)
    for t, a in ((xb, X), (hb, h), (yb, y), (mb, m)):
        assert isinstance(t, mg.Tensor) and t.device == "cpu"
        assert t.dtype == a.dtype and t.shape == a.shape
        np.testing.assert_array_equal(t.numpy(), a)


def test_batches_are_copies_not_views_of_the_dataset():
    X = np.zeros((4, 2), dtype=np.float32)
    xb, = next(iter(DataLoader(TensorDataset(X), batch_size=4)))
    xb.numpy()[...] = 1.0
    assert not X.any()


# ---- DataLoader: shuffling ---------------------------------------------------------------


def test_shuffle_visits_every_sample_exactly_once_per_epoch():
    loader = DataLoader(_ids_dataset(23), batch_size=4, shuffle=True, seed=1)
    for _ in range(3):
        ids = _order(loader)
        assert sorted(ids) == list(range(23))


def test_shuffle_with_drop_last_drops_only_the_tail():
    loader = DataLoader(_ids_dataset(10), batch_size=4, shuffle=True, drop_last=True, seed=0)
    ids = _order(loader)
    assert len(ids) == 8 and len(set(ids)) == 8


def test_seeded_shuffle_is_reproducible_and_differs_between_epochs():
    a = DataLoader(_ids_dataset(20), batch_size=6, shuffle=True, seed=123)
    b = DataLoader(_ids_dataset(20), batch_size=6, shuffle=True, seed=123)
    epochs_a = [_order(a) for _ in range(3)]
    epochs_b = [_order(b) for _ in range(3)]
    assert epochs_a == epochs_b
    assert epochs_a[0] != epochs_a[1] != epochs_a[2]
    # The documented rule: one Generator made from the seed, one permutation per epoch.
    rng = np.random.default_rng(123)
    assert epochs_a == [rng.permutation(20).tolist() for _ in range(3)]


def test_seeded_shuffle_ignores_the_global_seed():
    loader = DataLoader(_ids_dataset(20), batch_size=5, shuffle=True, seed=9)
    mg.manual_seed(0)
    first = _order(loader)
    mg.manual_seed(0)
    fresh = DataLoader(_ids_dataset(20), batch_size=5, shuffle=True, seed=9)
    assert _order(fresh) == first


def test_unseeded_shuffle_follows_manual_seed():
    loader = DataLoader(_ids_dataset(30), batch_size=7, shuffle=True)
    mg.manual_seed(42)
    run1 = [_order(loader), _order(loader)]
    mg.manual_seed(42)
    run2 = [_order(loader), _order(loader)]
    mg.manual_seed(43)
    other = _order(loader)
    assert run1 == run2
    assert run1[0] != run1[1]
    assert other != run1[0]
    assert sorted(other) == list(range(30))


def test_permutation_is_drawn_when_iter_is_called():
    loader = DataLoader(_ids_dataset(12), batch_size=12, shuffle=True)
    mg.manual_seed(5)
    it = iter(loader)
    mg.manual_seed(6)  # reseeding after iter() must not change this epoch
    ids = _order(it)
    mg.manual_seed(5)
    assert ids == _order(loader)


# ---- DataLoader: generic datasets ----------------------------------------------------------


class Squares(Dataset):
    """Sample i: (a 2x3 float32 array full of i, the Python int i*i, the Python float i/2)."""

    def __len__(self):
        return 5

    def __getitem__(self, i):
        return np.full((2, 3), i, dtype=np.float32), i * i, i / 2


def test_generic_dataset_samples_are_stacked_field_by_field():
    loader = DataLoader(Squares(), batch_size=2)
    assert len(loader) == 3
    batches = list(loader)
    x, sq, half = batches[0]
    assert x.shape == (2, 2, 3) and x.dtype == np.float32
    np.testing.assert_array_equal(x.numpy()[1], np.ones((2, 3)))
    assert sq.dtype == np.int64 and sq.tolist() == [0, 1]
    assert half.dtype == np.float32 and half.tolist() == [0.0, 0.5]  # as mg.tensor does
    x, sq, half = batches[2]
    assert x.shape == (1, 2, 3) and sq.tolist() == [16]


def test_generic_dataset_of_tensors_and_single_fields():
    class Rows(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return mg.tensor([float(i), 1.0], dtype=mg.float64)

    (xb,) = next(iter(DataLoader(Rows(), batch_size=4)))  # one field -> 1-tuple
    assert xb.dtype == np.float64
    np.testing.assert_array_equal(xb.numpy(), [[0, 1], [1, 1], [2, 1], [3, 1]])


def test_generic_dataset_shuffled_sees_every_sample():
    loader = DataLoader(Squares(), batch_size=2, shuffle=True, seed=3)
    seen = sorted(v for _, sq, _ in loader for v in sq.tolist())
    assert seen == [0, 1, 4, 9, 16]


def test_subclass_that_overrides_getitem_is_not_fast_pathed():
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            (x,) = super().__getitem__(i)
            return (x * 2,)

    (xb,) = next(iter(DataLoader(Doubled(np.arange(3.0)), batch_size=3)))
    np.testing.assert_array_equal(xb.numpy(), [0.0, 2.0, 4.0])


def test_generic_dataset_with_ragged_fields_raises():
    class Ragged(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return (np.zeros(i + 1),)

    with pytest.raises(ValueError, match="shape"):
        list(DataLoader(Ragged(), batch_size=2))


def test_empty_dataset_has_no_batches():
    loader = DataLoader(TensorDataset(np.zeros((0, 3))), batch_size=4)
    assert len(loader) == 0 and list(loader) == []


@pytest.mark.parametrize("kwargs, error", [
    (dict(batch_size=0), ValueError),
    (dict(batch_size=-2), ValueError),
    (dict(batch_size=2.0), TypeError),
    (dict(batch_size=True), TypeError),
    (dict(shuffle="yes"), TypeError),
    (dict(drop_last=1), TypeError),
    (dict(seed=-1), ValueError),
    (dict(seed=1.5), TypeError),
])
def test_dataloader_validates_its_arguments(kwargs, error):
    with pytest.raises(error):
        DataLoader(_ids_dataset(4), **kwargs)


def test_dataloader_needs_a_dataset():
    with pytest.raises(TypeError, match="__len__"):
        DataLoader(42)


# ---- load_mnist -------------------------------------------------------------------------------


def _write_idx(path, header, payload, gz=False):
    raw = struct.pack(">" + "I" * len(header), *header) + bytes(payload)
    if gz:
        path = path.with_name(path.name + ".gz")
        with gzip.open(path, "wb") as f:
            f.write(raw)
    else:
        path.write_bytes(raw)
    return path


def _mnist_files(directory, prefix="train", n=3, gz=False):
    pixels = (np.arange(n * 784) * 7 % 256).astype(np.uint8)  # covers 0..255
    labels = np.arange(n, dtype=np.uint8) % 10
    _write_idx(directory / f"{prefix}-images-idx3-ubyte", [0x803, n, 28, 28], pixels, gz)
    _write_idx(directory / f"{prefix}-labels-idx1-ubyte", [0x801, n], labels, gz)
    return pixels, labels


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("split, prefix", [("train", "train"), ("test", "t10k")])
def test_load_mnist_reads_idx_files(tmp_path, gz, split, prefix):
    pixels, labels = _mnist_files(tmp_path, prefix, n=3, gz=gz)
    X, y = load_mnist(tmp_path, split=split)
    assert X.shape == (3, 784) and X.dtype == np.float32
    assert y.shape == (3,) and y.dtype == np.int64
    # Pixel k of image i is byte 16 + 784*i + k of the file, divided by 255.
    np.testing.assert_allclose(X, pixels.reshape(3, 784) / 255.0, rtol=1e-6)
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(y, labels)


def test_load_mnist_accepts_the_dotted_file_names(tmp_path):
    _write_idx(tmp_path / "train-images.idx3-ubyte", [0x803, 1, 28, 28], bytes(784))
    _write_idx(tmp_path / "train-labels.idx1-ubyte", [0x801, 1], [7])
    X, y = load_mnist(str(tmp_path))
    assert X.shape == (1, 784) and y.tolist() == [7]


def test_load_mnist_missing_files_say_where_they_looked(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte") as e:
        load_mnist(tmp_path)
    assert str(tmp_path) in str(e.value)
    _write_idx(tmp_path / "train-images-idx3-ubyte", [0x803, 1, 28, 28], bytes(784))
    with pytest.raises(FileNotFoundError, match="train-labels-idx1-ubyte"):
        load_mnist(tmp_path)
    with pytest.raises(FileNotFoundError):
        load_mnist(tmp_path / "nowhere")


def test_load_mnist_bad_magic(tmp_path):
    _mnist_files(tmp_path, n=2)
    # Labels' magic in the images file: a swapped file.
    _write_idx(tmp_path / "train-images-idx3-ubyte", [0x801, 2, 28, 28], bytes(2 * 784))
    with pytest.raises(ValueError, match="magic"):
        load_mnist(tmp_path)


def test_load_mnist_truncated(tmp_path):
    _mnist_files(tmp_path, n=2)
    _write_idx(tmp_path / "train-images-idx3-ubyte", [0x803, 2, 28, 28], bytes(784 + 100))
    with pytest.raises(ValueError, match="truncated"):
        load_mnist(tmp_path)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08")  # not even a header
    with pytest.raises(ValueError, match="truncated"):
        load_mnist(tmp_path)


def test_load_mnist_count_mismatch(tmp_path):
    _mnist_files(tmp_path, n=3)
    _write_idx(tmp_path / "train-labels-idx1-ubyte", [0x801, 2], [1, 2])
    with pytest.raises(ValueError, match="3 images but .* 2 labels"):
        load_mnist(tmp_path)


def test_load_mnist_bad_gzip_and_bad_split(tmp_path):
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    _write_idx(tmp_path / "train-labels-idx1-ubyte", [0x801, 1], [1])
    with pytest.raises(ValueError, match="gzip"):
        load_mnist(tmp_path)
    with pytest.raises(ValueError, match="split"):
        load_mnist(tmp_path, split="validation")


# ---- load_digits ------------------------------------------------------------------------------


def test_load_digits_shapes_dtypes_and_range():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(X * 16, np.round(X * 16))  # counts 0..16 over 16
    assert y[:10].tolist() == list(range(10))  # the file starts with one of each digit
    # The class counts of the UCI test set (optdigits.tes), from the dataset's description.
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_load_digits_matches_scikit_learns_copy():
    datasets = pytest.importorskip("sklearn.datasets")
    bunch = datasets.load_digits()
    X, y = load_digits()
    np.testing.assert_array_equal(X, (bunch.data / 16).astype(np.float32))
    np.testing.assert_array_equal(y, bunch.target)


def test_load_digits_says_what_is_wrong_with_a_broken_file(monkeypatch, tmp_path):
    import minigrad.data.datasets as datasets
    missing = tmp_path / "digits.csv.gz"
    monkeypatch.setattr(datasets, "_DIGITS_PATH", str(missing))
    with pytest.raises(FileNotFoundError, match="reinstall"):
        load_digits()
    missing.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="unreadable"):
        load_digits()
    with gzip.open(missing, "wt") as f:  # a row short
        f.write("\n".join(",".join(["1"] * 64 + ["3"]) for _ in range(1796)) + "\n")
    with pytest.raises(ValueError, match=r"1797 rows .* shape \(1796, 65\)"):
        load_digits()
    with gzip.open(missing, "wt") as f:  # a count of 17 cannot come from a 4x4 block
        f.write("\n".join(",".join(["17"] * 64 + ["3"]) for _ in range(1797)) + "\n")
    with pytest.raises(ValueError, match="outside 0..16"):
        load_digits()


# ---- train_test_split -------------------------------------------------------------------------


def test_train_test_split_sizes_order_and_alignment():
    X = np.arange(20).reshape(10, 2)
    y = np.arange(10) * 10
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.25, seed=1)
    assert len(X_test) == math.ceil(0.25 * 10) == 3 and len(X_train) == 7
    np.testing.assert_array_equal(X_train[:, 0] * 5, y_train)  # rows stay paired
    np.testing.assert_array_equal(X_test[:, 0] * 5, y_test)
    assert sorted(y_train.tolist() + y_test.tolist()) == y.tolist()


def test_train_test_split_is_seeded():
    X = np.arange(50)
    a = train_test_split(X, seed=4)
    b = train_test_split(X, seed=4)
    c = train_test_split(X, seed=5)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not np.array_equal(a[1], c[1])


def test_train_test_split_keeps_tensors_and_validates():
    Xt = mg.tensor(np.arange(12.0).reshape(6, 2))
    tr, te = train_test_split(Xt, test_fraction=0.5)
    assert isinstance(tr, mg.Tensor) and tr.dtype == np.float64 and tr.shape == (3, 2)
    with pytest.raises(ValueError, match=r"\[6, 5\]"):
        train_test_split(np.zeros(6), np.zeros(5))
    for bad in (0.0, 1.0, -0.1):
        with pytest.raises(ValueError, match="test_fraction"):
            train_test_split(np.zeros(6), test_fraction=bad)


def test_pytorchs_dataloader_arguments_and_path():
    from minigrad.utils.data import DataLoader as Loader, TensorDataset as TD
    ds = TD(np.arange(6.0).reshape(3, 2), np.array([0, 1, 2]))
    loader = Loader(ds, batch_size=2, num_workers=2, pin_memory=True)
    assert [x.shape for x, _ in loader] == [(2, 2), (1, 2)]
    pairs = Loader(ds, batch_size=3, collate_fn=lambda samples: len(samples))
    assert list(pairs) == [3]
    with pytest.raises(TypeError, match="collate_fn"):
        Loader(ds, collate_fn=3)
    with pytest.raises(ValueError, match="num_workers"):
        Loader(ds, num_workers=-1)
