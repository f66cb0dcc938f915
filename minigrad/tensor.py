"""The Tensor: an array on a device, plus what autograd needs to differentiate it.

A Tensor holds a raw array (``raw``: a ``numpy.ndarray`` on the CPU, a numba device
array on a GPU), the backend of its device, and, if it was computed by a
differentiable op while grad mode was on, ``grad_fn``: the graph node that made it.
Arithmetic and the methods below call the ops of :mod:`minigrad.functions`; this
file only routes, checks arguments, and keeps the in-place rules:

* An in-place op (``x += y``, ``x.add_(y)``, ``x[i] = v``, ...) writes into x's
  storage and advances x's version counter (shared with x's views).
* On a leaf that requires grad it raises RuntimeError while grad mode is on, as in
  PyTorch; under ``mg.no_grad()`` it is how a parameter is updated by hand.
* On a tensor that is part of a graph it is recorded: x takes the op's node as its
  ``grad_fn``, and a node that saved x's old values raises in ``backward()``.
"""

import collections
import numbers

import numpy as np

from .backend import get_backend, normalize_device
from . import random as _random

# ---- dtypes -------------------------------------------------------------------------------

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)     # bytes: images, saved generator states
bool_ = np.dtype(np.bool_)

_ALIASES = {"float": float32, "float32": float32, "double": float64, "float64": float64,
            "long": int64, "int64": int64, "int": int32, "int32": int32, "uint8": uint8, "bool": bool_}

_default_float = float32


def _normalize_dtype(dtype):
    """None, a NumPy dtype or type, or one of PyTorch's names -> a NumPy dtype."""
    if dtype is None:
        return None
    if isinstance(dtype, str) and dtype in _ALIASES:
        return _ALIASES[dtype]
    if dtype is float:
        return _default_float
    if dtype is int:
        return int64
    if dtype is bool:
        return bool_
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unsupported dtype {dtype!r}") from None
    if dt.kind not in "biuf" or dt == np.float16:
        raise TypeError(
            f"unsupported dtype {dt}: minigrad computes in float32, float64, integers and bool")
    return dt


def set_default_dtype(dtype):
    """The dtype of tensors made from Python floats, of ``randn`` and friends, and of
    integer tensors promoted by float ops: float32 (the default) or float64."""
    global _default_float
    d = _normalize_dtype(dtype)
    if d not in (float32, float64):
        raise TypeError(f"set_default_dtype: only float32 or float64, got {d}")
    _default_float = d


def get_default_dtype():
    return _default_float


def _float_dtype(dtype):
    """A float dtype stays; integers and bool compute in the default float dtype."""
    return dtype if dtype.kind == "f" else _default_float


# ---- devices ------------------------------------------------------------------------------


class device:
    """A device, as ``torch.device``: ``mg.device("cuda")``, ``mg.device("cuda:0")``,
    ``mg.device("cpu")``. ``type`` is "cpu" or "cuda". Accepted wherever a device is,
    and equal to its name: ``t.device == "cpu"``."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        name = str(type)
        if ":" in name:
            name, _, i = name.partition(":")
            if index is not None or not i.isdigit():
                raise ValueError(f"invalid device {type!r}")
            index = int(i)
        if name not in ("cpu", "cuda"):
            raise ValueError(f"unknown device {type!r}: expected 'cpu' or 'cuda'")
        object.__setattr__(self, "type", name)
        object.__setattr__(self, "index", index)

    def __setattr__(self, name, value):
        raise AttributeError("device objects are immutable")

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        i = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{i})"

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except ValueError:
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and (
            self.index is None or other.index is None or self.index == other.index)

    def __hash__(self):
        return hash(self.type)


_DEVICES = {"cpu": device("cpu"), "cuda": device("cuda")}
_default_device = "cpu"


def set_default_device(dev):
    """Where tensors, layers and ``randn`` and friends are made when no ``device=``
    is given ("cpu" unless set)."""
    global _default_device
    name = normalize_device(dev)
    get_backend(name)  # RuntimeError now if it is not usable
    _default_device = name


def get_default_device():
    return _DEVICES[_default_device]


def _backend_for(dev):
    return get_backend(_default_device if dev is None else dev)


# ---- arguments ----------------------------------------------------------------------------


def _axis(axis, dim, op, default=None):
    """``dim`` is PyTorch's name, ``axis`` NumPy's: either may be given, not both;
    ``default`` when neither is."""
    if dim is not None:
        if axis is not None:
            raise TypeError(f"{op}: pass dim or axis, not both")
        return dim
    return default if axis is None else axis


def _keep(keepdim, keepdims):
    """``keepdim`` (PyTorch) or ``keepdims`` (NumPy)."""
    return bool(keepdim or keepdims)


def _sizes(args, op):
    """``f(2, 3)``, ``f((2, 3))`` or ``f([2, 3])`` -> (2, 3), checked."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    for n in args:
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError(f"{op}: sizes must be integers, got {args}")
    return tuple(int(n) for n in args)


def _wrap_dim(d, ndim, op, extra=0):
    """A dimension index in [-(ndim + extra), ndim + extra) -> its non-negative form."""
    n = max(ndim + extra, 1)
    if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
        raise TypeError(f"{op}: dim must be an integer, got {d!r}")
    if not -n <= d < n:
        raise IndexError(
            f"{op}: dimension {d} is out of range for a tensor of {ndim} dimensions "
            f"(expected one in [{-n}, {n - 1}])")
    return int(d) % n


def _raw_index(index):
    """An index with each Tensor in it (masks, index tensors) replaced by its raw array."""
    if isinstance(index, Tensor):
        return index.raw
    if isinstance(index, tuple):
        return tuple(i.raw if isinstance(i, Tensor) else i for i in index)
    return index


def _broadcasts_to(shape, target):
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


MinMax = collections.namedtuple("MinMax", ["values", "indices"])
MinMax.__doc__ = "What ``max(dim)`` and ``min(dim)`` return: ``(values, indices)``, as PyTorch."


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    Make tensors with :func:`minigrad.tensor`, :func:`minigrad.zeros` and friends.
    ``mg.Tensor(data)`` (a float tensor) and ``mg.Tensor(2, 3)`` (an uninitialised
    one of that shape) work as in PyTorch.

    ``raw`` is the array itself (``numpy.ndarray`` on the CPU, a numba device array
    on a GPU), for kernel work: pass it to a kernel, read it, write into it. ``data``
    is PyTorch's: a Tensor sharing this one's storage, outside the graph.
    """

    # _grad_storage (left unset on most tensors): where backward() puts this leaf's
    # gradient when .grad is None, instead of allocating (autograd.set_grad_storage).
    # _counter: the version counter (autograd.Version), left unset until first needed
    # (autograd.counter reads it); making every tensor without it is what keeps it free.
    __slots__ = ("raw", "_backend", "_requires_grad", "grad", "grad_fn", "_grad_storage",
                 "_counter", "__weakref__")
    __array_priority__ = 1000  # numpy_array + tensor -> Tensor.__radd__

    @classmethod
    def _make(cls, raw, backend, requires_grad=False, grad_fn=None):
        t = object.__new__(cls)
        t.raw = raw
        t._backend = backend
        t._requires_grad = requires_grad
        t.grad = None
        t.grad_fn = grad_fn
        return t

    def __init__(self, *args, dtype=None, device=None, requires_grad=False):
        if args and all(isinstance(a, (int, np.integer)) and not isinstance(a, bool)
                        for a in args):
            t = empty(*args, dtype=dtype, device=device)         # mg.Tensor(2, 3)
        else:
            if len(args) != 1:
                raise TypeError("Tensor(data) or Tensor(*sizes)")
            t = tensor(args[0], dtype=dtype or _default_float, device=device)
        self.raw, self._backend = t.raw, t._backend
        self.grad, self.grad_fn = None, None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ---- attributes ------------------------------------------------------------

    @property
    def data(self):
        """A Tensor sharing this one's storage, detached from the graph, with a version
        counter of its own (as PyTorch's ``.data``): ``p.data -= lr * p.grad`` updates p
        and records nothing. Assigning a Tensor replaces the storage, after checking
        that shape, dtype and device match."""
        return Tensor._make(self.raw, self._backend)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data: assign a Tensor, got {type(value).__name__}")
        if value._backend is not self._backend:
            raise RuntimeError(
                f"data: the new data is on {value.device}, this tensor on {self.device}")
        if value.shape != self.shape:
            raise ValueError(f"data: the new data has shape {value.shape}, this tensor {self.shape}")
        if value.dtype != self.dtype:
            raise TypeError(f"data: the new data is {value.dtype}, this tensor {self.dtype}")
        self.raw = value.raw

    @property
    def shape(self):
        return tuple(self.raw.shape)  # a plain tuple on every device

    @property
    def ndim(self):
        return self.raw.ndim

    @property
    def dtype(self):
        return self.raw.dtype

    @property
    def device(self):
        d = _DEVICES.get(self._backend.name)
        return d if d is not None else self._backend.name  # a backend the tests make up

    @property
    def is_cuda(self):
        return self._backend.name == "cuda"

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    @property
    def _version(self):
        """How many times this storage was modified in place (PyTorch's ``_version``)."""
        v = _autograd.counter(self)
        return 0 if v is None else v.current()

    def requires_grad_(self, flag=True):
        """Set ``requires_grad`` in place (leaves only); returns self."""
        flag = bool(flag)
        if self.grad_fn is not None and not flag:
            raise RuntimeError(
                "requires_grad_: only leaf tensors can change requires_grad; "
                "use detach() to get a leaf from a computed tensor")
        if self.grad_fn is not None:
            return self  # a computed tensor that already requires grad
        if flag and self.raw.dtype.kind != "f":
            raise TypeError(
                f"requires_grad_: only floating-point tensors can require grad, "
                f"got dtype {self.raw.dtype}")
        self._requires_grad = flag
        return self

    def numel(self):
        return self.raw.size

    nelement = numel

    def dim(self):
        return self.raw.ndim

    def size(self, dim=None):
        """The shape, or the length of dimension ``dim``."""
        if dim is None:
            return self.shape
        return self.shape[_wrap_dim(dim, self.ndim, "size")]

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    # ---- conversions -----------------------------------------------------------

    def numpy(self):
        """A NumPy array: shares memory on the CPU, a copy from a GPU."""
        if self._requires_grad:
            raise RuntimeError(
                "numpy(): this tensor requires grad; call tensor.detach().numpy()")
        return self._backend.to_numpy(self.raw)

    def _host(self):
        return self._backend.to_numpy(self.raw)

    def item(self):
        if self.raw.size != 1:
            raise ValueError(
                f"item(): only a one-element tensor converts to a Python number, "
                f"got shape {self.shape}")
        return self._host().reshape(-1)[0].item()

    def tolist(self):
        return self._host().tolist()

    def __array__(self, dtype=None, copy=None):
        if self._backend.name != "cpu":
            raise TypeError(
                f"can't convert a {self.device} tensor to a NumPy array implicitly: "
                f"call tensor.cpu() or tensor.numpy() first")
        return self.raw if dtype is None else self.raw.astype(dtype, copy=False)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.kind not in "iu" or self.raw.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.item())

    def __bool__(self):
        if self.raw.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self.raw.size} elements is ambiguous")
        return bool(self.item())

    __hash__ = object.__hash__  # == is elementwise, so identity is the hash

    def __repr__(self):
        body = np.array2string(self._host(), separator=", ", prefix="tensor(",
                               precision=4, threshold=200)
        extra = [f"dtype={self.dtype}", f"device='{self.device}'"]
        if self.grad_fn is not None:
            extra.append(f"grad_fn={self.grad_fn!r}")
        elif self._requires_grad:
            extra.append("requires_grad=True")
        return f"tensor({body}, {', '.join(extra)})"

    # ---- autograd ---------------------------------------------------------------

    def backward(self, grad=None, retain_graph=False):
        """Accumulate the gradient of this tensor into every leaf's ``.grad``.

        A tensor of more than one element needs ``grad`` (∂L/∂self, same shape).
        Without ``retain_graph`` the graph's saved values are freed afterwards and
        a second backward through it raises RuntimeError.
        """
        _autograd.backward(self, grad, retain_graph)

    def register_hook(self, hook):
        """Call ``hook(grad)`` with this tensor's gradient during every backward; a
        Tensor it returns replaces the gradient. Returns a handle: ``.remove()``.

        >>> h = y.register_hook(lambda g: print(g.norm()))   # see ∂L/∂y go by
        >>> h = w.register_hook(lambda g: g.clamp(-1, 1))    # clip w's gradient
        """
        return _autograd.register_hook(self, hook)

    def retain_grad(self):
        """Keep this (non-leaf) tensor's gradient in ``.grad`` after backward, as a
        leaf's is."""
        _autograd.retain_grad(self)

    @property
    def retains_grad(self):
        """Whether ``retain_grad()`` was called on this non-leaf tensor."""
        return _autograd.retains_grad(self)

    def detach(self):
        """The same storage (shared, not copied) as a new leaf that does not require
        grad; it shares the version counter too, as in PyTorch."""
        return _autograd.share_version(Tensor._make(self.raw, self._backend), self)

    def detach_(self):
        """Make this tensor a leaf that does not require grad; returns self."""
        self.grad_fn = None
        self._requires_grad = False
        return self

    def to(self, *args, dtype=None, device=None, copy=False):
        """This tensor on another device and/or as another dtype: ``to("cuda")``,
        ``to(mg.float64)``, ``to("cpu", mg.float32)``, ``to(other_tensor)``; self when
        nothing changes."""
        for a in args:
            if isinstance(a, Tensor):
                device, dtype = a.device, a.dtype
            elif isinstance(a, (str, _DEVICE_TYPES)) and not (isinstance(a, str) and a in _ALIASES):
                device = a
            else:
                dtype = a
        out = self
        if dtype is not None:
            dtype = _normalize_dtype(dtype)
            if dtype != self.dtype and dtype.kind != "f":  # integers carry no gradient
                out = Tensor._make(self._backend.astype(self.raw, dtype), self._backend)
            elif dtype != self.dtype:
                out = _F.Cast.apply(out, dtype)
        if device is not None:
            backend = get_backend(device)
            if backend is not out._backend:
                out = _F.ToDevice.apply(out, backend)
        if copy and out is self:
            out = self.clone()
        return out

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda")

    def float(self):
        return self.to(dtype=float32)

    def double(self):
        return self.to(dtype=float64)

    def long(self):
        return self.to(dtype=int64)

    def int(self):
        return self.to(dtype=int32)

    def bool(self):
        return self.to(dtype=bool_)

    def type_as(self, other):
        return self.to(dtype=other.dtype)

    def type(self, dtype=None):
        """The dtype's name without an argument; with one, ``to(dtype)``."""
        return str(self.dtype) if dtype is None else self.to(dtype=dtype)

    # ---- arithmetic -----------------------------------------------------------------

    def _operand(self, other):
        if isinstance(other, Tensor):
            return other
        if isinstance(other, np.generic):
            return other.item()  # a NumPy scalar acts as the Python number it holds
        if isinstance(other, numbers.Number):
            return other
        return tensor(other, device=self.device)

    def __add__(self, other):
        return _F.Add.apply(self, self._operand(other))

    def __radd__(self, other):
        return _F.Add.apply(self._operand(other), self)

    def __sub__(self, other):
        return _F.Sub.apply(self, self._operand(other))

    def __rsub__(self, other):
        return _F.Sub.apply(self._operand(other), self)

    def __mul__(self, other):
        return _F.Mul.apply(self, self._operand(other))

    def __rmul__(self, other):
        return _F.Mul.apply(self._operand(other), self)

    def __truediv__(self, other):
        return _F.Div.apply(self, self._operand(other))

    def __rtruediv__(self, other):
        return _F.Div.apply(self._operand(other), self)

    def __neg__(self):
        return _F.Neg.apply(self)

    def __pos__(self):
        return self

    def __pow__(self, exponent):
        return self.pow(exponent)

    def __rpow__(self, base):
        base = self._operand(base)
        return _F.Pow.apply(base, self)

    def pow(self, exponent):
        """selfᵉ elementwise; the exponent is a number or a Tensor (broadcast)."""
        if not isinstance(exponent, (Tensor, numbers.Number, np.generic)):
            raise TypeError(
                f"pow: the exponent must be a number or a Tensor, got {type(exponent).__name__}")
        return _F.Pow.apply(self, self._operand(exponent))

    def __matmul__(self, other):
        if not isinstance(other, Tensor):
            raise TypeError(f"@: expected a Tensor, got {type(other).__name__}")
        return _F.MatMul.apply(self, other)

    def __rmatmul__(self, other):
        return self._operand(other).__matmul__(self)

    matmul = __matmul__

    def mm(self, other):
        """The product of two 2-D tensors (``matmul`` also takes 1-D ones)."""
        if not isinstance(other, Tensor):
            raise TypeError(f"mm: expected a Tensor, got {type(other).__name__}")
        if self.ndim != 2 or other.ndim != 2:
            raise ValueError(f"mm: both operands must be 2-D, got shapes {self.shape} and {other.shape}")
        return _F.MatMul.apply(self, other)

    def add(self, other, alpha=1):
        return self + (other if alpha == 1 else self._operand(other) * alpha)

    def sub(self, other, alpha=1):
        return self - (other if alpha == 1 else self._operand(other) * alpha)

    def mul(self, other):
        return self * other

    def div(self, other):
        return self / other

    def neg(self):
        return _F.Neg.apply(self)

    # ---- comparisons (not differentiable: bool tensors) ------------------------------

    def _compare(self, other, op):
        other = self._operand(other)
        b = other.raw if isinstance(other, Tensor) else other
        if isinstance(other, Tensor) and other._backend is not self._backend:
            raise RuntimeError(
                f"comparison: expected both tensors on one device, got "
                f"{self.device} and {other.device}")
        return Tensor._make(getattr(self._backend, op)(self.raw, b), self._backend)

    def __eq__(self, other):
        return self._compare(other, "eq")

    def __ne__(self, other):
        return self._compare(other, "ne")

    def __lt__(self, other):
        return self._compare(other, "lt")

    def __le__(self, other):
        return self._compare(other, "le")

    def __gt__(self, other):
        return self._compare(other, "gt")

    def __ge__(self, other):
        return self._compare(other, "ge")

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    # ---- reductions ---------------------------------------------------------------------

    def sum(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """Σ over ``dim`` (an int, a tuple, or all of them)."""
        return _F.Sum.apply(self, _axis(axis, dim, "sum"), _keep(keepdim, keepdims))

    def mean(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """The mean over ``dim``; NaN over zero elements, as in PyTorch."""
        return _F.Mean.apply(self, _axis(axis, dim, "mean"), _keep(keepdim, keepdims))

    def _extreme(self, op, dim, keepdim, axis, keepdims):
        fn = _F.Max if op == "max" else _F.Min
        if isinstance(dim, Tensor):               # max(other): the elementwise maximum
            return maximum(self, dim) if op == "max" else minimum(self, dim)
        d = _axis(axis, dim, op)
        keep = _keep(keepdim, keepdims)
        if d is None:
            return fn.apply(self, None, keep)
        if not isinstance(d, (int, np.integer)):   # several dims: values only, as NumPy
            return fn.apply(self, d, keep)
        values = fn.apply(self, d, keep)
        arg = self.argmax if op == "max" else self.argmin
        return MinMax(values, arg(d, keep))

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """The largest element (a 0-d tensor); with ``dim``, the named tuple
        ``(values, indices)``, as PyTorch; with a Tensor, the elementwise maximum. The
        gradient goes to the maximal element, split evenly between ties."""
        return self._extreme("max", dim, keepdim, axis, keepdims)

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """The smallest element, or ``(values, indices)`` along ``dim``: as ``max``."""
        return self._extreme("min", dim, keepdim, axis, keepdims)

    def amax(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """The largest values over ``dim`` (an int, a tuple, or all dimensions); the
        gradient is split evenly between ties."""
        return _F.Max.apply(self, _axis(axis, dim, "amax"), _keep(keepdim, keepdims))

    def amin(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """The smallest values over ``dim``: as ``amax``."""
        return _F.Min.apply(self, _axis(axis, dim, "amin"), _keep(keepdim, keepdims))

    def _arg(self, op, dim, keepdim, axis, keepdims):
        d = _axis(axis, dim, op)
        if self.raw.size == 0:
            raise ValueError(f"{op}: the tensor is empty")
        if d is not None:
            d = _wrap_dim(d, self.ndim, op) if self.ndim else None
        be = self._backend
        out = getattr(be, op)(self.raw, d)
        if _keep(keepdim, keepdims):
            shape = (tuple(1 if i == d else n for i, n in enumerate(self.shape))
                     if d is not None else (1,) * self.ndim)
            out = be.reshape(out, shape)
        return Tensor._make(out, be)

    def argmax(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """The index of the largest element (flat, without ``dim``); int64."""
        return self._arg("argmax", dim, keepdim, axis, keepdims)

    def argmin(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """The index of the smallest element (flat, without ``dim``); int64."""
        return self._arg("argmin", dim, keepdim, axis, keepdims)

    # ---- shapes (views share this tensor's storage and version counter) -----------------

    def _view(self, out):
        if self._backend.may_share_memory(out.raw, self.raw):
            _autograd.register_view(out, self)
        return out

    def reshape(self, *shape):
        shape = _sizes(shape, "reshape")
        return self._view(_F.Reshape.apply(self, shape))

    def view(self, *shape):
        return self.reshape(*shape)

    def view_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        """Dimensions ``start_dim`` to ``end_dim`` (both included) merged into one."""
        if self.ndim == 0:
            return self.reshape(1)
        s = _wrap_dim(start_dim, self.ndim, "flatten")
        e = _wrap_dim(end_dim, self.ndim, "flatten")
        if s > e:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        return self.reshape(*self.shape[:s], -1, *self.shape[e + 1:])

    def unflatten(self, dim, sizes):
        d = _wrap_dim(dim, self.ndim, "unflatten")
        return self.reshape(*self.shape[:d], *sizes, *self.shape[d + 1:])

    def squeeze(self, dim=None):
        """Dimensions of length 1 removed (only ``dim``, when given, and only if it is 1)."""
        if dim is None:
            dims = {i for i, n in enumerate(self.shape) if n == 1}
        else:
            dims = dim if isinstance(dim, (tuple, list)) else (dim,)
            dims = {i for i in (_wrap_dim(d, self.ndim, "squeeze") for d in dims)
                    if self.ndim and self.shape[i] == 1}
        return self.reshape(*(n for i, n in enumerate(self.shape) if i not in dims))

    def unsqueeze(self, dim):
        """A dimension of length 1 inserted at ``dim`` (in [−ndim − 1, ndim])."""
        d = _wrap_dim(dim, self.ndim, "unsqueeze", extra=1)
        return self.reshape(*self.shape[:d], 1, *self.shape[d:])

    def transpose(self, dim0, dim1):
        a = _wrap_dim(dim0, self.ndim, "transpose")
        b = _wrap_dim(dim1, self.ndim, "transpose")
        axes = list(range(self.ndim))
        axes[a], axes[b] = axes[b], axes[a]
        return self._view(_F.Transpose.apply(self, tuple(axes)))

    def permute(self, *dims):
        dims = _sizes(dims, "permute")
        axes = tuple(_wrap_dim(d, self.ndim, "permute") for d in dims)
        if sorted(axes) != list(range(self.ndim)):
            raise ValueError(f"permute: {dims} is not a permutation of the {self.ndim} dimensions")
        return self._view(_F.Transpose.apply(self, axes))

    def t(self):
        """The transpose of a tensor of at most 2 dimensions."""
        if self.ndim > 2:
            raise ValueError(f"t(): expects a tensor of at most 2 dimensions, got {self.ndim}")
        return self if self.ndim < 2 else self.transpose(0, 1)

    @property
    def T(self):
        return self._view(_F.Transpose.apply(self, tuple(reversed(range(self.ndim)))))

    def expand(self, *sizes):
        """This tensor repeated along its dimensions of length 1 (and new leading ones)
        to ``sizes``; −1 keeps a dimension as it is."""
        sizes = _sizes(sizes, "expand")
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: {sizes} has fewer dimensions than the tensor's {self.shape}")
        shape = tuple(self.shape[i - lead] if n == -1 and i >= lead else n
                      for i, n in enumerate(sizes))
        try:
            np.broadcast_shapes(self.shape, shape)
        except ValueError:
            raise ValueError(f"expand: a tensor of shape {self.shape} cannot expand to {sizes}") from None
        if shape == self.shape:
            return self
        return self._view(_F.Expand.apply(self, shape))

    def expand_as(self, other):
        return self.expand(*other.shape)

    def clone(self):
        """A copy with storage of its own; the gradient flows back unchanged."""
        return _F.Clone.apply(self)

    def contiguous(self):
        """Self when its storage is in C order already, otherwise a copy that is."""
        return self if self._backend.is_contiguous(self.raw) else _F.Clone.apply(self)

    def __getitem__(self, index):
        return self._view(_F.GetItem.apply(self, _raw_index(index)))

    # ---- elementwise functions ----------------------------------------------------------

    def exp(self):
        return _F.Exp.apply(self)

    def log(self):
        return _F.Log.apply(self)

    def sqrt(self):
        return _F.Sqrt.apply(self)

    def sin(self):
        return _F.Sin.apply(self)

    def cos(self):
        return _F.Cos.apply(self)

    def abs(self):
        return _F.Abs.apply(self)

    def sign(self):
        return Tensor._make(self._backend.sign(self.raw), self._backend)

    def clamp(self, min=None, max=None):
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        return _F.Clamp.apply(self, min, max)

    clip = clamp

    def relu(self):
        return _F.ReLU.apply(self, 0.0, 0.0)

    def sigmoid(self):
        return _F.Sigmoid.apply(self, 0.0, 0.0)

    def tanh(self):
        return _F.Tanh.apply(self, 0.0, 0.0)

    def softmax(self, dim=None, *, axis=None):
        """softmax along ``dim`` (the last one by default)."""
        return _F.Softmax.apply(self, _axis(axis, dim, "softmax", -1))

    def log_softmax(self, dim=None, *, axis=None):
        """log softmax along ``dim`` (the last one by default)."""
        return _F.LogSoftmax.apply(self, _axis(axis, dim, "log_softmax", -1))

    # ---- in place ---------------------------------------------------------------------------

    def _inplace(self, op, compute, *args, augmented=False):
        """self ← compute(self, *args), in self's storage; returns self.

        ``compute`` is the out-of-place op. Its result must have self's shape and a
        dtype self can hold; both are checked before self changes. With grad mode on
        and a tensor that requires grad involved, the op is recorded: it runs on a
        copy of self's old values, and self takes its node as ``grad_fn``.

        A view inside a graph is the exception: the op would change its base's values
        behind the base's node. So ``t[i] += v`` (``augmented``) gives the new values
        out of place, and the item assignment Python does next records them on t;
        ``t[i].add_(v)`` raises.
        """
        be = self._backend
        tracked = _autograd.is_grad_enabled() and (self._requires_grad or any(
            isinstance(a, Tensor) and a._requires_grad for a in args))
        if tracked:
            if self.grad_fn is None and self._requires_grad:
                raise RuntimeError(
                    f"{op}: a leaf tensor that requires grad is being used in an in-place "
                    f"operation; update parameters by hand under mg.no_grad()")
            v = _autograd.counter(self)
            base = self if v is None else v.base
            if base is not self and base.grad_fn is None and base._requires_grad:
                raise RuntimeError(
                    f"{op}: a view of a leaf tensor that requires grad is being used in "
                    f"an in-place operation; update it under mg.no_grad()")
            if base is not self and _autograd.is_graph_view(self):
                if augmented:  # (on a copy: the assignment will change the view's values)
                    return compute(_F.Clone.apply(self), *args)
                raise RuntimeError(
                    f"{op}: in-place on a view of another tensor, with a tensor that requires "
                    f"grad involved, is not recorded by minigrad (it would change the other "
                    f"tensor behind its graph); assign through the tensor itself, "
                    f"t[index] = value or t[index] += value")
            old = Tensor._make(be.copy(self.raw), be, self._requires_grad, self.grad_fn)
            new = compute(old, *args)
        else:
            with _autograd.no_grad():
                new = compute(self, *args)
        if new.shape != self.shape:
            raise ValueError(
                f"{op}: the result has shape {new.shape}, which an in-place operation "
                f"cannot write into a tensor of shape {self.shape}")
        if new.dtype != self.dtype and not (
                new.dtype.kind == self.dtype.kind or self.dtype.kind == "f"
                or (self.dtype.kind == "i" and new.dtype.kind in "ub")):
            raise RuntimeError(f"{op}: the result type {new.dtype} can't be cast to this "
                               f"tensor's dtype {self.dtype}")
        if new.raw is not self.raw:
            be.copy_(self.raw, new.raw)
        _autograd.bump_version(self)
        if tracked:
            _autograd.rebase(self, new.grad_fn)
            self._requires_grad = new._requires_grad
            _autograd.invalidate_views(self)
        return self

    def _operand_for(self, other, op):
        other = self._operand(other)
        if isinstance(other, Tensor) and other._backend is not self._backend:
            raise RuntimeError(
                f"{op}: expected both tensors on one device, got {self.device} and {other.device}")
        return other

    def _arith_(self, op, name, compute, other, augmented=False):
        """self OP= other. Outside a graph, into a float tensor, with other broadcasting
        to self's shape (``p -= lr * p.grad`` under no_grad): one pass of the backend's
        in-place kernel. Anything else: the general rule of _inplace."""
        other = self._operand_for(other, name)
        if (self.raw.dtype.kind == "f" and not (_autograd.is_grad_enabled() and (
                self._requires_grad or (isinstance(other, Tensor) and other._requires_grad)))):
            if not isinstance(other, Tensor) or _broadcasts_to(other.shape, self.shape):
                self._backend.binary_(op, self.raw, other.raw if isinstance(other, Tensor) else other)
                _autograd.bump_version(self)
                return self
        return self._inplace(name, compute, other, augmented=augmented)

    def add_(self, other, alpha=1):
        other = self._operand_for(other, "add_")
        return self._arith_("add", "add_", Tensor.__add__, other if alpha == 1 else other * alpha)

    def sub_(self, other, alpha=1):
        other = self._operand_for(other, "sub_")
        return self._arith_("sub", "sub_", Tensor.__sub__, other if alpha == 1 else other * alpha)

    def mul_(self, other):
        return self._arith_("mul", "mul_", Tensor.__mul__, other)

    def div_(self, other):
        return self._arith_("div", "div_", Tensor.__truediv__, other)

    def pow_(self, exponent):
        return self._inplace("pow_", Tensor.pow, self._operand_for(exponent, "pow_"))

    def clamp_(self, min=None, max=None):
        if min is None and max is None:
            raise ValueError("clamp_: at least one of min and max must be given")
        return self._inplace("clamp_", lambda a: a.clamp(min, max))

    clip_ = clamp_

    def neg_(self):
        return self._inplace("neg_", Tensor.__neg__)

    def __iadd__(self, other):
        return self._arith_("add", "+=", Tensor.__add__, other, augmented=True)

    def __isub__(self, other):
        return self._arith_("sub", "-=", Tensor.__sub__, other, augmented=True)

    def __imul__(self, other):
        return self._arith_("mul", "*=", Tensor.__mul__, other, augmented=True)

    def __itruediv__(self, other):
        return self._arith_("div", "/=", Tensor.__truediv__, other, augmented=True)

    def fill_(self, value):
        """Every element set to ``value``; returns self."""
        if isinstance(value, Tensor):
            value = value.item()
        if not isinstance(value, (numbers.Number, np.generic)):
            raise TypeError(f"fill_: value must be a number, got {type(value).__name__}")
        if _autograd.is_grad_enabled() and self._requires_grad:
            return self._inplace("fill_", lambda a: _F.Full.apply(a, value))
        self._backend.fill_(self.raw, value)
        _autograd.bump_version(self)
        return self

    def zero_(self):
        return self.fill_(0)

    def copy_(self, src):
        """self's elements set to ``src``'s (broadcast to self's shape, cast to its
        dtype, copied from another device if need be); returns self."""
        if not isinstance(src, Tensor):
            src = tensor(src, dtype=self.dtype, device=self.device)
        if src._backend is not self._backend:
            src = src.to(self.device)
        if not _broadcasts_to(src.shape, self.shape):
            raise ValueError(f"copy_: a tensor of shape {src.shape} cannot be copied into "
                               f"one of shape {self.shape}")
        if _autograd.is_grad_enabled() and (self._requires_grad or src._requires_grad):
            def compute(a, s):
                return (s if s.dtype == a.dtype else s.to(dtype=a.dtype)).expand(*a.shape).clone()
            return self._inplace("copy_", compute, src)
        self._backend.copy_(self.raw, src.raw)
        _autograd.bump_version(self)
        return self

    def __setitem__(self, index, value):
        """``t[index] = value``: value a number or a Tensor broadcast to the selection."""
        index = _raw_index(index)
        if isinstance(value, Tensor):
            if value._backend is not self._backend:
                raise RuntimeError(
                    f"item assignment: the value is on {value.device}, the tensor on {self.device}")
        elif isinstance(value, (numbers.Number, np.generic)):
            value = value.item() if isinstance(value, np.generic) else value
        else:
            value = tensor(value, dtype=self.dtype, device=self.device)
        if _autograd.is_grad_enabled() and (self._requires_grad or (
                isinstance(value, Tensor) and value._requires_grad)):
            self._inplace("item assignment", lambda a, v: _F.SetItem.apply(a, index, v), value)
            return
        v = value.raw if isinstance(value, Tensor) else value
        try:
            self._backend.setitem(self.raw, index, v)
        except (ValueError, IndexError) as e:
            raise type(e)(f"item assignment: {e}") from None
        _autograd.bump_version(self)

    # ---- new tensors like this one ---------------------------------------------------------

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return zeros(*size, dtype=dtype or self.dtype, device=device or self.device,
                     requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return ones(*size, dtype=dtype or self.dtype, device=device or self.device,
                    requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                    requires_grad=requires_grad)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        return tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                      requires_grad=requires_grad)


_DEVICE_TYPES = (device,)


# ---- creation -------------------------------------------------------------------------


def _default_dtype(a, from_python):
    kind = a.dtype.kind
    if kind == "b":
        return bool_
    if kind in "iu":
        return int64
    if kind == "f":
        if from_python:
            return _default_float
        # a NumPy array keeps its float dtype, in this machine's byte order (the copy
        # below swaps a big-endian one); one that is not float32 or float64 is refused
        return _normalize_dtype(a.dtype.newbyteorder("="))
    raise TypeError(f"tensor: unsupported data of dtype {a.dtype}")


def _finish(t, requires_grad):
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data``.

    ``data`` is a Python number, a nested list (of numbers or of 0-d tensors), a NumPy
    array or a Tensor. Python floats become the default float dtype (float32); a
    NumPy array keeps its float dtype; integers become int64; bools stay bool.
    """
    backend = _backend_for(device)
    if isinstance(data, Tensor):
        host = data._host()
        from_python = False
    else:
        from_python = not isinstance(data, (np.ndarray, np.generic))
        if isinstance(data, (list, tuple)) and any(isinstance(v, Tensor) for v in data):
            data = [v.item() if isinstance(v, Tensor) else v for v in data]
        try:
            host = np.asarray(data)
        except ValueError as e:   # lists of unequal lengths
            raise ValueError(f"tensor: nested lists must have equal lengths at each depth "
                             f"(NumPy: {e})") from None
        if host.dtype == object:
            raise TypeError("tensor: data must be numbers, nested lists of numbers or an array")
    dtype = _normalize_dtype(dtype) or _default_dtype(host, from_python)
    host = np.array(host, dtype=dtype, copy=True, order="C")
    return _finish(Tensor._make(backend.from_numpy(host), backend), requires_grad)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing memory when it already is one (or a CPU array)."""
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    if (isinstance(data, np.ndarray) and (device is None or normalize_device(device) == "cpu")
            and _default_device == "cpu" and (dtype is None or np.dtype(dtype) == data.dtype)):
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def is_tensor(obj):
    return isinstance(obj, Tensor)


def from_numpy(a):
    """A CPU tensor sharing memory with the NumPy array ``a``."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(a).__name__}")
    if a.dtype.kind not in "biuf":
        raise TypeError(f"from_numpy: unsupported dtype {a.dtype}")
    # (it shares a's memory as it is: a float16 or big-endian array is kept, as data,
    # and an op that would hand it to a kernel says so: RawFunction.apply)
    return Tensor._make(a, get_backend("cpu"))


def _shape(shape):
    shape = _sizes(shape, "shape")
    for n in shape:
        if n < 0:
            raise ValueError(f"invalid shape {shape}: sizes must be non-negative integers")
    return shape


def _from_host(host, device, requires_grad):
    backend = _backend_for(device)
    return _finish(Tensor._make(backend.from_numpy(host), backend), requires_grad)


def _constant(shape, value, dtype, device, requires_grad):
    """A tensor of ``value`` made on its device (no host array is copied to a GPU)."""
    backend = _backend_for(device)
    shape, dtype = _shape(shape), _normalize_dtype(dtype) or _default_float
    raw = backend.zeros(shape, dtype) if value == 0 else backend.full(shape, value, dtype)
    return _finish(Tensor._make(raw, backend), requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _constant(size, 0, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _constant(size, 1, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of ``size`` whose values are whatever its memory held."""
    backend = _backend_for(device)
    raw = backend.empty(_shape(size), _normalize_dtype(dtype) or _default_float)
    return _finish(Tensor._make(raw, backend), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor of ``size`` filled with ``fill_value``; its dtype follows the value's
    (bool, int64, or the default float dtype) unless ``dtype`` says otherwise."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:
        dtype = (bool_ if isinstance(fill_value, (bool, np.bool_)) else
                 int64 if isinstance(fill_value, (int, np.integer)) else _default_float)
    size = size if isinstance(size, (tuple, list)) else (size,)
    return _constant(size, fill_value, dtype, device, requires_grad)


def _like(t, dtype, device):
    return dtype or t.dtype, device or t.device


def zeros_like(t, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(t, dtype, device)
    return zeros(*t.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def ones_like(t, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(t, dtype, device)
    return ones(*t.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def empty_like(t, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(t, dtype, device)
    return empty(*t.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(t, dtype, device)
    return full(t.shape, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


def _random_float(dtype, op):
    dtype = _normalize_dtype(dtype) or _default_float
    if dtype.kind != "f":
        raise TypeError(f"{op}: samples of a continuous distribution need a float dtype, got {dtype}")
    return dtype


def randn(*size, dtype=None, device=None, requires_grad=False):
    """Samples of N(0, 1), drawn from the generator that ``manual_seed`` seeds."""
    dtype = _random_float(dtype, "randn")
    host = _random.generator().standard_normal(_shape(size)).astype(dtype)
    return _from_host(host, device, requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False):
    """Samples of U[0, 1), drawn from the generator that ``manual_seed`` seeds."""
    dtype = _random_float(dtype, "rand")
    host = _random.generator().random(_shape(size)).astype(dtype)
    return _from_host(host, device, requires_grad)


def randn_like(t, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(t, dtype, device)
    return randn(*t.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def rand_like(t, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(t, dtype, device)
    return rand(*t.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def randint(*args, size=None, dtype=None, device=None, requires_grad=False):
    """Integers drawn uniformly from [low, high): ``randint(high, size)`` or
    ``randint(low, high, size)``; int64 unless ``dtype`` says otherwise."""
    if size is None:
        *args, size = args
    if len(args) == 1:
        low, high = 0, args[0]
    elif len(args) == 2:
        low, high = args
    else:
        raise TypeError("randint(high, size) or randint(low, high, size)")
    if not high > low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    dtype = _normalize_dtype(dtype) or int64
    host = _random.generator().integers(low, high, _shape(tuple(size))).astype(dtype)
    return _from_host(host, device, requires_grad)


def randperm(n, dtype=None, device=None):
    """A random permutation of 0, …, n − 1 (int64)."""
    host = _random.generator().permutation(int(n)).astype(_normalize_dtype(dtype) or int64)
    return _from_host(host, device, False)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Values from ``start`` (0 when one argument is given) up to ``end``, exclusive,
    ``step`` apart; int64 when all three are integers, else the default float dtype."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero")
    if (end - start) * step < 0:
        raise ValueError(f"arange: the range [{start}, {end}) cannot be walked with step {step}")
    is_float = any(isinstance(v, (float, np.floating)) for v in (start, end, step))
    dtype = _normalize_dtype(dtype) or (_default_float if is_float else int64)
    return _from_host(np.arange(start, end, step).astype(dtype), device, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """``steps`` values evenly spaced from ``start`` to ``end``, both included."""
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative integer, got {steps!r}")
    dtype = _normalize_dtype(dtype) or _default_float
    return _from_host(np.linspace(start, end, int(steps)).astype(dtype), device, requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    """The n × m identity (m = n by default)."""
    dtype = _normalize_dtype(dtype) or _default_float
    return _from_host(np.eye(n, n if m is None else m, dtype=dtype), device, requires_grad)


from . import functions as _F  # noqa: E402  (functions builds on Tensor)
from . import autograd as _autograd  # noqa: E402
from .ops import maximum, minimum  # noqa: E402
