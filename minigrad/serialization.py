"""``save`` and ``load``: state dicts to and from a file, without pickle.

A pickle file runs code when it is loaded, so a model file from someone else
would be a program. Ours holds only data. It is a zip archive (NumPy's ``.npz``
layout) with

* ``__minigrad__.npy`` — a JSON document, stored as bytes, that describes the
  tree: ``{"format": "minigrad", "version": 1, "root": NODE}``;
* ``a0.npy``, ``a1.npy``, … — one entry per array, in NumPy's ``.npy`` format,
  which keeps dtype, shape and every bit of the values.

A NODE is ``null``, ``true``/``false``, a JSON integer, a JSON string, or an
object with a type tag ``"t"``:

    {"t": "dict", "k": [keys...], "v": [NODE...]}   keys are JSON strings or ints,
                                                    so int keys come back as int
    {"t": "list", "v": [NODE...]}   {"t": "tuple", "v": [NODE...]}
    {"t": "float", "v": "0x1.999999999999ap-4"}     float.hex: exact, inf and nan too
    {"t": "array", "i": 0}                          entry a0.npy
    {"t": "scalar", "i": 1}                         a NumPy scalar (np.float32(...))
    {"t": "tensor", "i": 2, "requires_grad": true}

JSON keeps ``true`` apart from ``1``, so bools stay bools and ints stay ints.

A file from elsewhere is checked before it can cost much: its entries must be
stored, not compressed (``save`` never compresses, so nothing inflates), each
array's declared size must fit in the bytes its entry holds, and the tree may nest
at most ``MAX_DEPTH`` levels. Anything else raises ValueError.
"""

import json
import numbers
import os
import secrets
import zipfile

import numpy as np

from .tensor import Tensor, from_numpy

_FORMAT = "minigrad"
_VERSION = 1
_META = "__minigrad__"
MAX_DEPTH = 100   # how deeply a loaded tree may nest (a state dict nests 3 or 4 levels)


def _where(path):
    return ".".join(str(k) for k in path) or "the top level"


def _encode(obj, path, arrays, active):
    """The JSON node for ``obj``; its arrays are appended to ``arrays``.

    ``path`` is the list of keys from the root (for error messages), ``active``
    the ids of the containers being encoded (to catch a container inside itself).
    """
    if isinstance(obj, Tensor):
        host = obj._host()
        _check_dtype(host.dtype, path)
        arrays.append(host)
        return {"t": "tensor", "i": len(arrays) - 1, "requires_grad": obj.requires_grad}
    # NumPy scalars before Python numbers: np.float64 subclasses float, and
    # should come back as np.float64.
    if isinstance(obj, (np.ndarray, np.generic)):
        _check_dtype(obj.dtype, path)
        arrays.append(np.asarray(obj))
        return {"t": "array" if isinstance(obj, np.ndarray) else "scalar",
                "i": len(arrays) - 1}
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, numbers.Integral):
        return int(obj)
    if isinstance(obj, float):
        return {"t": "float", "v": obj.hex()}
    if isinstance(obj, (dict, list, tuple)):
        if id(obj) in active:
            raise ValueError(f"save: the object at {_where(path)} contains itself")
        active.add(id(obj))
        try:
            if isinstance(obj, dict):
                keys = []
                for key in obj:
                    if isinstance(key, (bool, np.bool_)) or not isinstance(key, (str, numbers.Integral)):
                        raise TypeError(
                            f"save: dict keys must be str or int, got {key!r} "
                            f"({type(key).__name__}) at {_where(path)}")
                    keys.append(key if isinstance(key, str) else int(key))
                values = [_encode(v, path + [k], arrays, active) for k, v in obj.items()]
                if len(set(keys)) != len(keys):  # e.g. 1 and np.int64(1)
                    raise ValueError(f"save: duplicate dict keys at {_where(path)}")
                return {"t": "dict", "k": keys, "v": values}
            values = [_encode(v, path + [i], arrays, active) for i, v in enumerate(obj)]
            return {"t": "list" if isinstance(obj, list) else "tuple", "v": values}
        finally:
            active.discard(id(obj))
    raise TypeError(
        f"save: cannot save a value of type {type(obj).__name__} at {_where(path)}; "
        f"leaves must be NumPy arrays, Tensors, int, float, bool, str or None")


def _check_dtype(dtype, path):
    if dtype.hasobject:
        raise TypeError(
            f"save: the array at {_where(path)} has dtype {dtype}, which holds Python "
            f"objects; only plain numeric, bool and string arrays can be saved")


def save(obj, path):
    """Write ``obj`` — a state dict — to the file ``path`` (no suffix is added).

    ``obj`` is a tree of dicts (keys str or int), lists and tuples whose leaves
    are NumPy arrays or scalars, Tensors (any device; stored from the host),
    int, float, bool, str or None. Nothing is pickled.

    The whole tree is checked before anything is written: an unsupported leaf
    raises TypeError naming where it sits (e.g. ``state.3.exp_avg``), an
    object-dtype array TypeError too. The file is written under a temporary
    name in the same directory and then renamed over ``path``, so an earlier
    file at ``path`` survives any failure part way through.
    """
    arrays = []
    root = _encode(obj, [], arrays, set())
    meta = json.dumps({"format": _FORMAT, "version": _VERSION, "root": root},
                      allow_nan=False).encode("utf-8")
    entries = {f"a{i}": a for i, a in enumerate(arrays)}
    entries[_META] = np.frombuffer(meta, dtype=np.uint8)

    path = os.fspath(path)
    directory, name = os.path.split(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"save: directory {directory!r} does not exist")
    _remove_abandoned(directory, name)
    while True:
        tmp = os.path.join(directory, f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            f = open(tmp, "xb")  # "x": never reuse a file that exists; mode follows umask
        except FileExistsError:
            continue
        break
    try:
        with f:
            np.savez(f, **entries)  # object arrays were refused above: nothing to pickle
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _sync_directory(directory)   # so that the rename itself survives a power cut


def _remove_abandoned(directory, name):
    """Delete the temporaries that saves of ``name`` killed part way (SIGKILL, a
    power cut) left behind: ``.NAME.PID.TOKEN.tmp`` whose process is gone."""
    prefix = f".{name}."
    try:
        entries = os.listdir(directory)
    except OSError:
        return
    for entry in entries:
        if not (entry.startswith(prefix) and entry.endswith(".tmp")):
            continue
        parts = entry[len(prefix):-len(".tmp")].split(".")
        if len(parts) != 2 or not parts[0].isdigit() or _alive(int(parts[0])):
            continue
        try:
            os.unlink(os.path.join(directory, entry))
        except OSError:
            pass


def _alive(pid):
    if pid == os.getpid():
        return True
    if os.name != "posix":
        return True   # (no cheap, safe test there: leave the file)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True   # it exists, owned by someone else
    return True


def _sync_directory(directory):
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _not_ours(path, why):
    return ValueError(f"load: {path} is not a minigrad file ({why})")


def load(path):
    """Read a file written by :func:`save`; returns the same tree.

    Arrays come back as NumPy arrays identical bit for bit (dtype, shape, byte
    order and every value, NaN payloads included), NumPy scalars as NumPy
    scalars, Tensors as CPU Tensors with their ``requires_grad`` flag, tuples as
    tuples, int dict keys as ints. Nothing is unpickled.

    Raises FileNotFoundError when ``path`` does not exist and ValueError for any
    file that is not one of ours (a pickle, another zip, a ``.npy``, a damaged
    file) or that a newer minigrad wrote.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":
            raise _not_ours(path, "it is not a zip archive")
        f.seek(0)
        try:
            with np.load(f, allow_pickle=False) as npz:
                _check_entries(npz, path)
                meta = _read_meta(npz, path)
                return _decode(meta["root"], npz, path, 0)
        except RecursionError:
            raise _not_ours(path, "its header nests too deeply") from None
        except (zipfile.BadZipFile, OSError, EOFError, KeyError, ValueError,
                TypeError, UnicodeDecodeError) as e:
            if isinstance(e, ValueError) and str(e).startswith("load: "):
                raise
            raise _not_ours(path, f"{type(e).__name__}: {e}") from e


def _check_entries(npz, path):
    """Every entry stored as written (no compression: nothing inflates) and holding
    at least the bytes its .npy header declares (no huge allocation for a small file)."""
    for info in npz.zip.infolist():
        if info.compress_type != zipfile.ZIP_STORED:
            raise _not_ours(path, f"entry {info.filename} is compressed")
        if not info.filename.endswith(".npy"):
            raise _not_ours(path, f"unexpected entry {info.filename}")
        with npz.zip.open(info) as entry:
            version = np.lib.format.read_magic(entry)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(entry)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(entry)
            else:
                raise _not_ours(path, f"entry {info.filename}: .npy version {version}")
            header = entry.tell()
        count = 1
        for n in shape:
            count *= n
        if dtype.hasobject or header + count * dtype.itemsize > info.file_size:
            raise _not_ours(path, f"entry {info.filename} declares {shape} {dtype}, more "
                                  f"than its {info.file_size} bytes hold")


def _read_meta(npz, path):
    if f"{_META}.npy" not in npz.zip.namelist():
        raise _not_ours(path, f"no {_META} entry")
    raw = npz[_META]
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise _not_ours(path, f"the {_META} entry is not a byte string")
    meta = json.loads(raw.tobytes().decode("utf-8"))
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT or "root" not in meta:
        raise _not_ours(path, "its header does not name the minigrad format")
    version = meta.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _not_ours(path, f"bad format version {version!r}")
    if version > _VERSION:
        raise ValueError(
            f"load: {path} was written by a newer minigrad (format version "
            f"{version}; this one reads up to {_VERSION}); upgrade minigrad")
    return meta


def _decode(node, npz, path, depth):
    if node is None or isinstance(node, (bool, int, str)):
        return node
    if depth >= MAX_DEPTH:
        raise _not_ours(path, f"its tree nests deeper than {MAX_DEPTH} levels")
    depth += 1
    if not isinstance(node, dict):
        raise _not_ours(path, f"unexpected node {node!r}")
    tag = node.get("t")
    if tag == "dict":
        keys, values = node["k"], node["v"]
        if len(keys) != len(values) or not all(
                isinstance(k, (str, int)) and not isinstance(k, bool) for k in keys):
            raise _not_ours(path, "a damaged dict node")
        return {k: _decode(v, npz, path, depth) for k, v in zip(keys, values)}
    if tag in ("list", "tuple"):
        items = [_decode(v, npz, path, depth) for v in node["v"]]
        return items if tag == "list" else tuple(items)
    if tag == "float":
        return float.fromhex(node["v"])
    if tag in ("array", "scalar", "tensor"):
        i = node["i"]
        if not isinstance(i, int) or isinstance(i, bool):
            raise _not_ours(path, "a damaged array node")
        a = npz[f"a{i}"]
        if tag == "array":
            return a
        if tag == "scalar":
            return a[()]
        t = from_numpy(a)
        if node.get("requires_grad"):
            t.requires_grad_(True)
        return t
    raise _not_ours(path, f"unknown node type {tag!r}")
