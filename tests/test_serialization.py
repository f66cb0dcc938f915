"""minigrad.serialization: save/load round trips, refusals, and crash safety."""

import math
import os
import pickle
import zipfile

import numpy as np
import pytest

import minigrad as mg
from minigrad.serialization import load, save


def _same_bits(a, b):
    return (isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
            and a.tobytes() == b.tobytes())


def test_arrays_round_trip_bit_for_bit(tmp_path):
    nan_with_payload = np.array([0x7FF8DEADBEEF0001], dtype=np.uint64).view(np.float64)
    arrays = {
        "f16": np.array([[1.5, -0.0], [np.inf, np.nan]], dtype=np.float16),
        "f32": np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32),
        "f64_nan_payload": nan_with_payload,
        "i8": np.array([-128, 0, 127], dtype=np.int8),
        "u8": np.arange(256, dtype=np.uint8),
        "i64": np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max]),
        "bool": np.array([True, False, True]),
        "empty": np.zeros((0, 5), dtype=np.float32),
        "scalar0d": np.array(3.25),
        "big_endian": np.arange(4, dtype=">i4"),
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "strided_view": np.arange(10.0)[::3],
    }
    path = tmp_path / "arrays.mg"
    save(arrays, path)
    back = load(path)
    assert list(back) == list(arrays)
    for key, a in arrays.items():
        assert _same_bits(a, back[key]), key
        np.testing.assert_array_equal(back[key], a)


def test_tree_structure_and_python_leaves_round_trip(tmp_path):
    obj = {
        "state": {0: {"step": 7, "exp_avg": np.ones(2)}, 3: {"step": 0}},
        "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 3],
                          "amsgrad": False, "name": None}],
        "floats": [0.1, -0.0, 1e-310, math.inf, -math.inf, 1.7976931348623157e308],
        "flags": [True, False, 1, 0],
        "big_int": 2 ** 70,
        "text": "héllo \"quoted\" \n",
        "nested": [[[]], {}, ()],
        "": "empty key",
    }
    path = tmp_path / "state.mg"
    save(obj, path)
    back = load(path)
    assert back.keys() == obj.keys()
    # int keys stay ints; str keys stay strs
    assert list(back["state"]) == [0, 3]
    assert all(type(k) is int for k in back["state"])
    assert back["state"][0]["step"] == 7 and _same_bits(np.ones(2), back["state"][0]["exp_avg"])
    assert back["param_groups"] == obj["param_groups"]
    assert type(back["param_groups"][0]["betas"]) is tuple
    # floats exact, -0.0 keeps its sign, inf survives; bool and int kept apart
    assert back["floats"] == obj["floats"]
    assert math.copysign(1.0, back["floats"][1]) == -1.0
    assert [type(v) for v in back["flags"]] == [bool, bool, int, int]
    assert back["big_int"] == 2 ** 70 and back["text"] == obj["text"]
    assert back["nested"] == [[[]], {}, ()] and back[""] == "empty key"


def test_nan_float_and_numpy_scalars_round_trip(tmp_path):
    obj = {"nan": math.nan, "f32": np.float32(0.1), "i32": np.int32(-5),
           "f64": np.float64(2.5), "b": np.bool_(True)}
    path = tmp_path / "scalars.mg"
    save(obj, path)
    back = load(path)
    assert type(back["nan"]) is float and math.isnan(back["nan"])
    for key in ("f32", "i32", "f64", "b"):
        assert type(back[key]) is type(obj[key]) and back[key] == obj[key]


def test_tensors_come_back_as_cpu_tensors_with_requires_grad(tmp_path):
    w = mg.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3), requires_grad=True)
    idx = mg.tensor([3, 1, 2])
    path = tmp_path / "tensors.mg"
    save({"w": w, "idx": idx}, path)
    back = load(path)
    assert isinstance(back["w"], mg.Tensor) and back["w"].device == "cpu"
    assert back["w"].requires_grad and not back["idx"].requires_grad
    assert back["w"].dtype == np.float32 and back["idx"].dtype == np.int64
    assert back["w"].detach().numpy().tobytes() == w.detach().numpy().tobytes()
    assert back["idx"].tolist() == [3, 1, 2]


def test_writes_exactly_the_given_path(tmp_path):
    path = tmp_path / "model"  # no suffix: none may be added
    save({"a": np.zeros(1)}, str(path))
    assert sorted(os.listdir(tmp_path)) == ["model"]
    assert load(str(path))["a"].tolist() == [0.0]


def test_file_is_a_zip_numpy_reads_without_pickle(tmp_path):
    path = tmp_path / "m.mg"
    save({"a": np.arange(3), "b": [1.0, "x"]}, path)
    with np.load(path, allow_pickle=False) as npz:  # every entry loads with pickling off
        entries = {name: npz[name] for name in npz.files}
    assert entries["a0"].tolist() == [0, 1, 2]
    assert all(e.dtype != object for e in entries.values())


# ---- refusals -----------------------------------------------------------------------------------


def test_pickle_file_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    with open(path, "wb") as f:
        pickle.dump({"w": np.zeros(3)}, f)
    with pytest.raises(ValueError, match="not a minigrad file"):
        load(path)


@pytest.mark.parametrize("write", [
    lambda p: np.save(p, np.arange(3)),                          # a plain .npy
    lambda p: np.savez(p, x=np.arange(3)),                       # someone else's .npz
    lambda p: zipfile.ZipFile(p, "w").writestr("hello.txt", "hi"),  # a random zip
    lambda p: p.write_bytes(b"PK\x03\x04 but then garbage"),     # a damaged zip
    lambda p: p.write_bytes(os.urandom(64)),                     # noise
    lambda p: p.write_bytes(b""),                                # empty
])
def test_files_that_are_not_ours_are_refused(tmp_path, write):
    path = tmp_path / "other"
    write(path)
    if not path.exists():  # np.save/np.savez on a path add their suffix
        path = next(tmp_path.iterdir())
    with pytest.raises(ValueError, match="not a minigrad file"):
        load(path)


def test_zip_with_a_foreign_header_is_refused(tmp_path):
    path = tmp_path / "fake.mg"
    with open(path, "wb") as f:
        np.savez(f, __minigrad__=np.frombuffer(b'{"format": "other"}', np.uint8))
    with pytest.raises(ValueError, match="not a minigrad file"):
        load(path)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "absent.mg")


@pytest.mark.parametrize("obj, where", [
    ({"state": {3: {"exp_avg": object()}}}, "state.3.exp_avg"),
    ({"groups": [{"fn": len}]}, "groups.0.fn"),
    ({"s": {1, 2}}, "s"),
    ({"a": np.array([1, "x"], dtype=object)}, "a"),
])
def test_unsupported_leaves_raise_type_error_naming_the_path(tmp_path, obj, where):
    with pytest.raises(TypeError, match=rf"at {where};|at {where} "):
        save(obj, tmp_path / "x.mg")
    assert os.listdir(tmp_path) == []


def test_bad_keys_and_cycles_are_refused(tmp_path):
    with pytest.raises(TypeError, match="keys"):
        save({(1, 2): 0}, tmp_path / "x.mg")
    with pytest.raises(TypeError, match="keys"):
        save({True: 0}, tmp_path / "x.mg")
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        save({"loop": loop}, tmp_path / "x.mg")


# ---- crash safety -------------------------------------------------------------------------------


def test_failed_save_keeps_the_earlier_file_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "ckpt.mg"
    save({"w": np.arange(4.0)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError):
        save({"w": np.zeros(4), "bad": object()}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.mg"]
    assert load(path)["w"].tolist() == [0.0, 1.0, 2.0, 3.0]


def test_failure_while_writing_removes_the_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.mg"
    save({"w": np.arange(4.0)}, path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        save({"w": np.zeros(4)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.mg"]


def test_saving_over_an_existing_file_replaces_it(tmp_path):
    path = tmp_path / "ckpt.mg"
    save({"step": 1}, path)
    save({"step": 2}, path)
    assert load(path) == {"step": 2}
    assert os.listdir(tmp_path) == ["ckpt.mg"]


def test_save_into_a_missing_directory_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        save({"a": 1}, tmp_path / "nowhere" / "x.mg")
