"""The Tensor: an array on a device, plus what autograd needs to differentiate it.

A Tensor holds a raw array (``data``: a NumPy array on the CPU), the backend of
its device, and — if it was computed by a differentiable op while grad mode was
on — ``grad_fn``, the graph node that made it. Arithmetic and the methods below
call the Functions in :mod:`minigrad.functions`; this file only routes.
"""

import numbers

import numpy as np

from .backend import get_backend
from . import random as _random

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)


def _normalize_dtype(dtype):
    if dtype is None:
        return None
    if isinstance(dtype, str) and dtype in ("float", "double", "long"):
        dtype = {"float": float32, "double": float64, "long": int64}[dtype]
    return np.dtype(dtype)


def _axis(axis, dim, op, default=None):
    """``dim`` is accepted as an alias of ``axis`` everywhere; ``default`` when neither is given."""
    if dim is not None:
        if axis is not None:
            raise TypeError(f"{op}: pass axis or dim, not both")
        return dim
    return default if axis is None else axis


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    Create tensors with :func:`minigrad.tensor`, :func:`minigrad.zeros` and
    friends rather than by calling this class.
    """

    # _grad_slot (left unset on most tensors): an array an optimizer keeps for this
    # leaf's gradient, a view into its flat buffer; backward() writes the gradient there.
    __slots__ = ("data", "_backend", "_requires_grad", "grad", "grad_fn", "_grad_slot",
                 "__weakref__")
    __array_priority__ = 1000  # numpy_array + tensor -> Tensor.__radd__

    @classmethod
    def _make(cls, data, backend, requires_grad=False, grad_fn=None):
        t = object.__new__(cls)
        t.data = data
        t._backend = backend
        t._requires_grad = requires_grad
        t.grad = None
        t.grad_fn = grad_fn
        return t

    def __init__(self, data, dtype=None, device="cpu", requires_grad=False):
        t = tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
        self.data, self._backend = t.data, t._backend
        self._requires_grad, self.grad, self.grad_fn = t._requires_grad, None, None

    # ---- attributes ------------------------------------------------------------

    @property
    def shape(self):
        return tuple(self.data.shape)  # a plain tuple on every device

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def device(self):
        return self._backend.name

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, flag=True):
        """Set ``requires_grad`` in place (leaves only); returns self."""
        flag = bool(flag)
        if self.grad_fn is not None and not flag:
            raise RuntimeError(
                "requires_grad_: only leaf tensors can change requires_grad; "
                "use detach() to get a leaf from a computed tensor")
        if self.grad_fn is not None:
            return self  # a computed tensor that already requires grad
        if flag and self.data.dtype.kind != "f":
            raise TypeError(
                f"requires_grad_: only floating-point tensors can require grad, "
                f"got dtype {self.data.dtype}")
        self._requires_grad = flag
        return self

    def numel(self):
        return self.data.size

    def size(self, axis=None):
        return self.shape if axis is None else self.shape[axis]

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
        return self._backend.to_numpy(self.data)

    def _host(self):
        return self._backend.to_numpy(self.data)

    def item(self):
        if self.data.size != 1:
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
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous")
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

    def detach(self):
        """The same data (shared, not copied) as a new leaf that does not require grad."""
        return Tensor._make(self.data, self._backend)

    def to(self, device=None, dtype=None):
        """This tensor on ``device`` and/or as ``dtype``; self when nothing changes."""
        out = self
        if dtype is not None:
            dtype = _normalize_dtype(dtype)
            if dtype != self.dtype and dtype.kind != "f":  # integers carry no gradient
                out = Tensor._make(self._backend.astype(self.data, dtype), self._backend)
            elif dtype != self.dtype:
                out = _F.Cast.apply(out, dtype)
        if device is not None:
            backend = get_backend(device)
            if backend is not out._backend:
                out = _F.ToDevice.apply(out, backend)
        return out

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def float(self):
        return self.to(dtype=float32)

    def double(self):
        return self.to(dtype=float64)

    def long(self):
        return self.to(dtype=int64)

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
        if isinstance(exponent, Tensor) or not isinstance(exponent, numbers.Number):
            raise TypeError(
                f"**: the exponent must be a Python number, got {type(exponent).__name__}")
        return _F.Pow.apply(self, exponent)

    def __matmul__(self, other):
        if not isinstance(other, Tensor):
            raise TypeError(f"@: expected a Tensor, got {type(other).__name__}")
        return _F.MatMul.apply(self, other)

    def __rmatmul__(self, other):
        return self._operand(other).__matmul__(self)

    # ---- comparisons (not differentiable: bool tensors) ------------------------------

    def _compare(self, other, op):
        other = self._operand(other)
        b = other.data if isinstance(other, Tensor) else other
        if isinstance(other, Tensor) and other._backend is not self._backend:
            raise RuntimeError(
                f"comparison: expected both tensors on one device, got "
                f"{self.device} and {other.device}")
        return Tensor._make(getattr(self._backend, op)(self.data, b), self._backend)

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

    # ---- reductions ---------------------------------------------------------------------

    def sum(self, axis=None, keepdims=False, *, dim=None):
        return _F.Sum.apply(self, _axis(axis, dim, "sum"), keepdims)

    def mean(self, axis=None, keepdims=False, *, dim=None):
        return _F.Mean.apply(self, _axis(axis, dim, "mean"), keepdims)

    def max(self, axis=None, keepdims=False, *, dim=None):
        """The maximum values (as NumPy's ``max``; ``argmax`` gives the indices)."""
        return _F.Max.apply(self, _axis(axis, dim, "max"), keepdims)

    def argmax(self, axis=None, *, dim=None):
        axis = _axis(axis, dim, "argmax")
        return Tensor._make(self._backend.argmax(self.data, axis), self._backend)

    # ---- shapes -------------------------------------------------------------------------

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _F.Reshape.apply(self, shape)

    view = reshape

    def flatten(self, start_dim=0):
        start = start_dim % self.ndim if self.ndim else 0
        return self.reshape(*self.shape[:start], -1)

    def transpose(self, a, b):
        axes = list(range(self.ndim))
        axes[a], axes[b] = axes[b], axes[a]
        return _F.Transpose.apply(self, tuple(axes))

    @property
    def T(self):
        return _F.Transpose.apply(self, tuple(reversed(range(self.ndim))))

    def __getitem__(self, index):
        return _F.GetItem.apply(self, index)

    # ---- elementwise functions ----------------------------------------------------------

    def exp(self):
        return _F.Exp.apply(self)

    def log(self):
        return _F.Log.apply(self)

    def sqrt(self):
        return _F.Sqrt.apply(self)

    def abs(self):
        return _F.Abs.apply(self)

    def clamp(self, min=None, max=None):
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        return _F.Clamp.apply(self, min, max)

    clip = clamp

    def relu(self):
        return _F.Activation.apply(self, "relu", 0.0)

    def sigmoid(self):
        return _F.Activation.apply(self, "sigmoid", 0.0)

    def tanh(self):
        return _F.Activation.apply(self, "tanh", 0.0)

    def softmax(self, axis=None, *, dim=None):
        """softmax along ``axis`` (the last one by default)."""
        return _F.Softmax.apply(self, _axis(axis, dim, "softmax", -1))

    def log_softmax(self, axis=None, *, dim=None):
        """log softmax along ``axis`` (the last one by default)."""
        return _F.LogSoftmax.apply(self, _axis(axis, dim, "log_softmax", -1))

    # ---- in place, outside the graph ----------------------------------------------------

    def zero_(self):
        self._backend.fill_(self.data, 0)
        return self


# ---- creation -------------------------------------------------------------------------


def _default_dtype(a, from_python):
    kind = a.dtype.kind
    if kind == "b":
        return bool_
    if kind in "iu":
        return int64
    if kind == "f":
        return float32 if from_python else a.dtype
    raise TypeError(f"tensor: unsupported data of dtype {a.dtype}")


def tensor(data, dtype=None, device="cpu", requires_grad=False):
    """A new tensor holding a copy of ``data``.

    ``data`` is a Python number, a nested list, a NumPy array or a Tensor. Python
    floats become float32; a NumPy array keeps its float dtype; integers become
    int64; bools stay bool.
    """
    backend = get_backend(device)
    if isinstance(data, Tensor):
        host = data._host()
        from_python = False
    else:
        from_python = not isinstance(data, (np.ndarray, np.generic))
        host = np.asarray(data)
        if host.dtype == object:
            raise TypeError("tensor: data must be numbers, nested lists of numbers or an array")
    dtype = _normalize_dtype(dtype) or _default_dtype(host, from_python)
    host = np.array(host, dtype=dtype, copy=True, order="C")
    t = Tensor._make(backend.from_numpy(host), backend)
    if requires_grad:
        t.requires_grad_(True)
    return t


def from_numpy(a):
    """A CPU tensor sharing memory with the NumPy array ``a``."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(a).__name__}")
    if a.dtype.kind not in "biuf":
        raise TypeError(f"from_numpy: unsupported dtype {a.dtype}")
    return Tensor._make(a, get_backend("cpu"))


def _shape(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for n in shape:
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"invalid shape {shape}: sizes must be non-negative integers")
    return tuple(int(n) for n in shape)


def _filled(host, device, requires_grad):
    backend = get_backend(device)
    t = Tensor._make(backend.from_numpy(host), backend)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _constant(shape, value, dtype, device, requires_grad):
    """A tensor of ``value`` made on its device (no host array is copied to a GPU)."""
    backend = get_backend(device)
    shape, dtype = _shape(shape), _normalize_dtype(dtype) or float32
    data = backend.zeros(shape, dtype) if value == 0 else backend.full(shape, value, dtype)
    t = Tensor._make(data, backend)
    if requires_grad:
        t.requires_grad_(True)
    return t


def zeros(*shape, dtype=None, device="cpu", requires_grad=False):
    return _constant(shape, 0, dtype, device, requires_grad)


def ones(*shape, dtype=None, device="cpu", requires_grad=False):
    return _constant(shape, 1, dtype, device, requires_grad)


def zeros_like(t, dtype=None, device=None, requires_grad=False):
    return zeros(*t.shape, dtype=dtype or t.dtype, device=device or t.device,
                 requires_grad=requires_grad)


def ones_like(t, dtype=None, device=None, requires_grad=False):
    return ones(*t.shape, dtype=dtype or t.dtype, device=device or t.device,
                requires_grad=requires_grad)


def randn(*shape, dtype=None, device="cpu", requires_grad=False):
    """Samples of N(0, 1), drawn from the generator that ``manual_seed`` seeds."""
    dtype = _normalize_dtype(dtype) or float32
    host = _random.generator().standard_normal(_shape(shape)).astype(dtype)
    return _filled(host, device, requires_grad)


def rand(*shape, dtype=None, device="cpu", requires_grad=False):
    """Samples of U[0, 1), drawn from the generator that ``manual_seed`` seeds."""
    dtype = _normalize_dtype(dtype) or float32
    host = _random.generator().random(_shape(shape)).astype(dtype)
    return _filled(host, device, requires_grad)


def arange(start, end=None, step=1, dtype=None, device="cpu", requires_grad=False):
    """Values from ``start`` (0 when one argument is given) up to ``end``, exclusive."""
    if end is None:
        start, end = 0, start
    is_float = any(isinstance(v, float) for v in (start, end, step))
    dtype = _normalize_dtype(dtype) or (float32 if is_float else int64)
    return _filled(np.arange(start, end, step).astype(dtype), device, requires_grad)


from . import functions as _F  # noqa: E402  (functions builds on Tensor)
from . import autograd as _autograd  # noqa: E402
