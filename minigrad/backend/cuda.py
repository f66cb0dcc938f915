"""The CUDA backend: numba device arrays on an NVIDIA GPU, every primitive a kernel.

This is the GPU half of the backend contract; read it beside ``cpu.py``, method for
method. Where the CPU backend calls NumPy or a kernel of ``kernels.cpu``, this one
launches the kernel of the same name in ``kernels.cuda`` (the twins), or one of the
GPU-only kernels that stand in for NumPy (``kernels/cuda/elementwise.py``).

Arrays here are numba device arrays, always C-contiguous: an operation that would
give a strided view on the CPU (a transpose, ``broadcast_to``, a slice with a step)
gathers into a new array instead, so every kernel may assume contiguous input.
Reshapes and slices of whole rows stay views, as on the CPU.

Nothing here copies between host and GPU except ``from_numpy`` (host → GPU) and
``to_numpy`` (GPU → host): a training step calls neither unless the user asks for a
number (``item()``, ``numpy()``, ``repr``). That is also why two checks that the CPU
backend makes before a kernel runs are not made here (``checks_values`` is False): a
class index outside [0, C) makes that sample's cross-entropy NaN instead of raising,
and a BCE input outside [0, 1] gives NaN; asking the GPU first would copy a number
back, and wait for the GPU, on every step.
"""

import math

import numpy as np
from numba import cuda

from ..kernels import cuda as K
from ..kernels.cuda.launch import SIMULATOR
from ..kernels.cuda import elementwise as E
from ..kernels.cuda import reductions as R
from ..kernels.cuda import activations as _act
from ..kernels.cuda import matmul as D

from .dispatch import KernelTable

# The launchers built per activation code (kernels/activations.py), found by one lookup.
_FORWARD = KernelTable(_act.forward)
_BACKWARD = KernelTable(_act.backward)
_LINEAR_FORWARD = KernelTable(D.linear_forward)
_LINEAR_BACKWARD = KernelTable(D.linear_backward)

_BOOL = np.dtype(np.bool_)
_INT64 = np.dtype(np.int64)


def _size(shape):
    return math.prod(shape)


_RESULT_DTYPES = {}


def _result_dtype(ufunc, *operands):
    """The dtype NumPy gives ``ufunc(*operands)``, found once on 0-d stand-ins for each
    combination of operand dtypes (a Python number counts by its type: NumPy's
    promotion treats it as 'weak', whatever its value)."""
    key = (ufunc,) + tuple(x.dtype if hasattr(x, "dtype") else type(x) for x in operands)
    dtype = _RESULT_DTYPES.get(key)
    if dtype is None:
        stand_ins = [np.ones((), x.dtype) if hasattr(x, "dtype") else x for x in operands]
        with np.errstate(all="ignore"):
            dtype = _RESULT_DTYPES[key] = ufunc(*stand_ins).dtype
    return dtype


def _shape_of(x):
    return x.shape if hasattr(x, "shape") else ()


class CUDABackend:
    """Array creation, copies and the kernel behind each primitive, on one GPU."""

    name = "cuda"
    checks_values = False   # see the module docstring

    def __init__(self):
        self.array_type = type(cuda.device_array(0, np.float32))
        self._rng_states = None      # xoroshiro128p states for dropout, made on first use
        self._rng_source = None      # the host generator they were seeded from

    # ---- arrays -------------------------------------------------------------------

    @staticmethod
    def empty(shape, dtype):
        return cuda.device_array(shape, np.dtype(dtype))

    def zeros(self, shape, dtype):
        return self.full(shape, 0, dtype)

    def ones(self, shape, dtype):
        return self.full(shape, 1, dtype)

    def full(self, shape, value, dtype):
        out = self.empty(shape, dtype)
        E.fill(out, value)
        return out

    @staticmethod
    def from_numpy(a):
        """Host array -> a new device array holding a copy (a host-to-GPU transfer)."""
        a = np.asarray(a)
        return cuda.to_device(a if a.flags.c_contiguous else a.copy(order="C"))

    @staticmethod
    def to_numpy(a):
        """Device array -> a new host array (a GPU-to-host transfer; waits for the GPU)."""
        return a.copy_to_host()

    def asarray(self, x, dtype=None):
        if isinstance(x, self.array_type):
            return x if dtype is None or np.dtype(dtype) == x.dtype else self.astype(x, dtype)
        return self.from_numpy(np.asarray(x, dtype))

    def copy(self, a):
        return self.astype(a, a.dtype)

    def astype(self, a, dtype):
        out = self.empty(a.shape, dtype)
        E.cast(a, out)
        return out

    def copy_(self, dst, src):
        """dst[...] = src, in place (casting to dst's dtype; src broadcast to dst's shape)."""
        if src.shape == dst.shape:
            E.cast(src, dst)
        else:
            E.gather(src, 0, self._broadcast_strides(src.shape, dst.shape), dst)

    @staticmethod
    def add_(dst, src):
        """dst += src, in place."""
        E.binary("add", dst, src, dst)

    @staticmethod
    def mul_(dst, value):
        E.binary("mul", dst, value, dst)

    @staticmethod
    def binary_(op, dst, other):
        """dst = dst OP other in place ("add", "sub", "mul", "div"; other broadcast to
        dst's shape; each element is read and written by one thread)."""
        E.binary(op, dst, other, dst)

    @staticmethod
    def fill_(dst, value):
        E.fill(dst, value)

    # ---- elementwise (NumPy broadcasting and result types) ----------------------------

    def _binary(self, op, ufunc, a, b):
        shape = np.broadcast_shapes(_shape_of(a), _shape_of(b))  # ValueError if they don't
        out = self.empty(shape, _result_dtype(ufunc, a, b))
        E.binary(op, a, b, out)
        return out

    def add(self, a, b):
        return self._binary("add", np.add, a, b)

    def sub(self, a, b):
        return self._binary("sub", np.subtract, a, b)

    def mul(self, a, b):
        return self._binary("mul", np.multiply, a, b)

    def div(self, a, b):
        return self._binary("div", np.true_divide, a, b)

    def power(self, a, b):
        return self._binary("pow", np.power, a, b)

    def _unary(self, op, ufunc, x):
        out = self.empty(x.shape, _result_dtype(ufunc, x))
        E.unary(op, x, out)
        return out

    def neg(self, x):
        return self._unary("neg", np.negative, x)

    def exp(self, x):
        return self._unary("exp", np.exp, x)

    def log(self, x):
        return self._unary("log", np.log, x)

    def sqrt(self, x):
        return self._unary("sqrt", np.sqrt, x)

    def abs(self, x):
        return self._unary("abs", np.abs, x)

    def sign(self, x):
        return self._unary("sign", np.sign, x)

    def sin(self, x):
        return self._unary("sin", np.sin, x)

    def cos(self, x):
        return self._unary("cos", np.cos, x)

    def maximum(self, a, b):
        return self._binary("maximum", np.maximum, a, b)

    def minimum(self, a, b):
        return self._binary("minimum", np.minimum, a, b)

    def where(self, cond, a, b):
        """a where cond else b, broadcast (np.where); a or b may be a Python number."""
        shape = np.broadcast_shapes(cond.shape, _shape_of(a), _shape_of(b))
        dtype = np.result_type(*(x.dtype if hasattr(x, "dtype") else x for x in (a, b)))
        out = self.empty(shape, dtype)
        E.where(cond, a, b, out)
        return out

    def _compare(self, op, a, b):
        out = self.empty(np.broadcast_shapes(_shape_of(a), _shape_of(b)), _BOOL)
        E.compare(op, a, b, out)
        return out

    def eq(self, a, b):
        return self._compare("eq", a, b)

    def ne(self, a, b):
        return self._compare("ne", a, b)

    def lt(self, a, b):
        return self._compare("lt", a, b)

    def le(self, a, b):
        return self._compare("le", a, b)

    def gt(self, a, b):
        return self._compare("gt", a, b)

    def ge(self, a, b):
        return self._compare("ge", a, b)

    def logical_and(self, a, b):
        return self._compare("and", a, b)

    def clamp(self, x, lo, hi):
        out = self.empty(x.shape, x.dtype)
        E.clamp(x, lo, hi, out)
        return out

    def log_clamped(self, x, floor):
        """max(log x, floor)."""
        out = self.log(x)
        E.binary("maximum", out, floor, out)
        return out

    # ---- reductions ---------------------------------------------------------------------

    def _rows(self, x, axes):
        """x with the reduced ``axes`` moved last, as a contiguous (kept, reduced) matrix,
        and the shape of the kept axes."""
        kept = [i for i in range(x.ndim) if i not in axes]
        order = kept + [i for i in range(x.ndim) if i in axes]
        if order != list(range(x.ndim)):
            x = self.transpose(x, tuple(order))
        kept_shape = tuple(x.shape[:len(kept)])
        return x.reshape(_size(kept_shape), _size(x.shape[len(kept):])), kept_shape

    @staticmethod
    def _axes(x, axis):
        if axis is None:
            return tuple(range(x.ndim))
        axes = axis if isinstance(axis, (tuple, list)) else (axis,)
        return tuple(sorted(a % x.ndim for a in axes)) if x.ndim else ()

    @staticmethod
    def _out_shape(x, axes, keepdims):
        if keepdims:
            return tuple(1 if i in axes else n for i, n in enumerate(x.shape))
        return tuple(n for i, n in enumerate(x.shape) if i not in axes)

    def sum(self, x, axis=None, keepdims=False):
        axes = self._axes(x, axis)
        dtype = _result_dtype(np.sum, x)
        shape = self._out_shape(x, axes, keepdims)
        if x.ndim == 2 and axes == (0,) and x.dtype.kind == "f":
            out = self.empty(x.shape[1], dtype)
            R.column_sums(x, out)          # the bias gradient: no transpose needed
            return out.reshape(shape)
        rows, _ = self._rows(x, axes)
        out = self.empty(rows.shape[0], dtype)
        if rows.shape[1] == 0:
            E.fill(out, 0)
        else:
            R.row_sums(rows, out)
        return out.reshape(shape)

    def max(self, x, axis=None, keepdims=False):
        axes = self._axes(x, axis)
        rows, _ = self._rows(x, axes)
        if rows.shape[1] == 0 and rows.shape[0] > 0:
            raise ValueError("max: zero-size reduction, which has no identity")
        out = self.empty(rows.shape[0], x.dtype)
        R.row_max(rows, out)
        return out.reshape(self._out_shape(x, axes, keepdims))

    def argmax(self, x, axis=None):
        axes = self._axes(x, axis)
        rows, _ = self._rows(x, axes)
        out = self.empty(rows.shape[0], _INT64)
        R.row_argmax(rows, out)
        return out.reshape(self._out_shape(x, axes, False))

    # min(x) = −max(−x), and the first index of the largest −x is that of the smallest
    # x: two more passes than a kernel of their own, on ops no training step runs. It
    # needs a signed type (and an int64 of −2⁶³ has no negative).

    @staticmethod
    def _signed(x, op):
        if x.dtype.kind not in "fi":
            raise TypeError(f"{op}: a CUDA tensor of dtype {x.dtype} is not supported "
                            f"(float or signed integer only)")

    def min(self, x, axis=None, keepdims=False):
        self._signed(x, "min")
        return self.neg(self.max(self.neg(x), axis, keepdims))

    def argmin(self, x, axis=None):
        self._signed(x, "argmin")
        return self.argmax(self.neg(x), axis)

    def column_sums(self, g, out=None):
        """Σ over rows of a 2-D array: the bias gradient Σ_rows δ (into ``out`` when given)."""
        if out is None:
            out = self.empty(g.shape[1], g.dtype)
        R.column_sums(g, out)
        return out

    def sum_to_shape(self, g, shape):
        """Undo NumPy broadcasting: sum ``g`` down to ``shape`` (as CPUBackend.sum_to_shape)."""
        if g.shape == shape:
            return g
        if g.ndim == 2 and shape == (g.shape[1],):
            return self.column_sums(g)
        lead = g.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            i + lead for i, n in enumerate(shape) if n == 1 and g.shape[i + lead] != 1)
        return self.sum(g, axes, True).reshape(shape) if axes else g.reshape(shape)

    @staticmethod
    def _broadcast_strides(shape, target):
        """Strides that read an array of ``shape`` as if broadcast to ``target``."""
        np.broadcast_shapes(shape, target)          # ValueError when it can't be
        lead = len(target) - len(shape)
        own = E.contiguous_strides(shape)
        return tuple(0 if i < lead or shape[i - lead] == 1 else own[i - lead]
                     for i in range(len(target)))

    def broadcast_to(self, g, shape):
        shape = tuple(shape)
        out = self.empty(shape, g.dtype)
        E.gather(g, 0, self._broadcast_strides(g.shape, shape), out)
        return out

    # ---- shapes and indexing ------------------------------------------------------------

    @staticmethod
    def reshape(x, shape):
        return x.reshape(tuple(shape))

    def transpose(self, x, axes):
        strides = E.contiguous_strides(x.shape)
        out = self.empty(tuple(x.shape[a] for a in axes), x.dtype)
        E.gather(x, 0, tuple(strides[a] for a in axes), out)
        return out

    @staticmethod
    def _basic_view(shape, index):
        """(offset, shape, strides) in elements of ``x[index]`` for a basic index, read
        off a host stand-in with one byte per element (``np.empty`` does not touch its
        pages, so this costs no memory however large x is)."""
        base = np.empty(max(_size(shape), 1), np.int8)
        stand_in = np.lib.stride_tricks.as_strided(base, shape, E.contiguous_strides(shape))
        view = stand_in[index]
        offset = view.__array_interface__["data"][0] - base.__array_interface__["data"][0]
        return offset, view.shape, view.strides

    def _row_index(self, x, index):
        """An integer-array index of the first axis as a device int64 array, checked."""
        if isinstance(index, self.array_type):
            # Already on the GPU: its range cannot be checked without copying it back.
            if index.dtype.kind not in "iu" or index.ndim != 1:
                raise IndexError("CUDA tensors take a 1-D integer index array on the first axis")
            return index if index.dtype == _INT64 else self.astype(index, _INT64)
        host = np.asarray(index)
        if host.dtype.kind not in "iu" or host.ndim != 1:
            raise IndexError(
                "CUDA tensors support basic indexing (integers, slices, None, ...) and a "
                "1-D integer array on the first axis; got an index of dtype "
                f"{host.dtype} and shape {host.shape}")
        n = x.shape[0]
        if host.size and (host.min() < -n or host.max() >= n):
            raise IndexError(f"index out of range for a first axis of size {n}")
        return self.from_numpy(host.astype(np.int64))

    def _mask_index(self, x, mask):
        """A bool mask over x's leading dimensions -> (flat rows view of x, the
        positions it selects as a device int64 array). The positions are found on
        the host: how many there are decides the result's shape."""
        if tuple(mask.shape) != tuple(x.shape[:mask.ndim]):
            raise IndexError(f"a boolean mask of shape {tuple(mask.shape)} does not match "
                             f"the tensor's shape {tuple(x.shape)}")
        picked = np.flatnonzero(self.to_numpy(mask)).astype(np.int64)
        lead = _size(x.shape[:mask.ndim])
        return x.reshape(lead, _size(x.shape[mask.ndim:])), self.from_numpy(picked)

    def _is_mask(self, index):
        return isinstance(index, (self.array_type, np.ndarray)) and index.dtype == _BOOL

    def getitem(self, x, index):
        if self._is_mask(index):
            rows, picked = self._mask_index(x, self.asarray(index))
            out = self.empty((picked.shape[0],) + tuple(x.shape[index.ndim:]), x.dtype)
            E.take_rows(rows, picked, out.reshape(picked.shape[0], rows.shape[1]))
            return out
        parts = index if isinstance(index, tuple) else (index,)
        if all(isinstance(i, (int, slice, type(None), type(Ellipsis))) and not isinstance(i, bool)
               for i in parts):
            offset, shape, strides = self._basic_view(x.shape, index)
            out = self.empty(shape, x.dtype)
            E.gather(x, offset, strides, out)
            return out
        if x.ndim == 0:
            raise IndexError("a 0-d CUDA tensor cannot be indexed with an array")
        rows = self._row_index(x, index)
        out = self.empty((rows.shape[0],) + tuple(x.shape[1:]), x.dtype)
        width = _size(x.shape[1:])
        E.take_rows(x.reshape(x.shape[0], width), rows, out.reshape(rows.shape[0], width))
        return out

    def index_grad(self, shape, index, g, dtype, basic):
        """The gradient of ``x[index]``: ``g`` scattered into zeros of ``shape``."""
        out = self.zeros(shape, dtype)
        if self._is_mask(index):
            rows, picked = self._mask_index(out, self.asarray(index))
            E.index_add_rows(g.reshape(picked.shape[0], rows.shape[1]), picked, rows)
            return out
        if basic:
            offset, _, strides = self._basic_view(shape, index)
            E.scatter(g, offset, strides, out)
        else:
            rows = self._row_index(out, index)
            width = _size(shape[1:])
            E.index_add_rows(g.reshape(rows.shape[0], width), rows,
                             out.reshape(shape[0], width))
        return out

    def setitem(self, x, index, value):
        """x[index] = value, in place: a basic index (integers, slices, None, ...) or a
        bool mask of x's shape; value a number or an array broadcast to the selection."""
        if self._is_mask(index):
            mask = self.asarray(index)
            if not isinstance(value, self.array_type) or value.size == 1:
                if tuple(mask.shape) != tuple(x.shape):
                    raise IndexError(
                        f"a boolean mask of shape {tuple(mask.shape)} does not match the "
                        f"tensor's shape {tuple(x.shape)}")
                # one value for every selected element: no need to know which they are
                E.where(mask, value if not isinstance(value, self.array_type)
                        else value.reshape(()), x, x)
                return
            # values in order, one per selected element (or row): as NumPy's x[mask] = v,
            # v broadcast to the selection's shape; the positions come from the host
            rows, picked = self._mask_index(x, mask)
            selection = (picked.shape[0],) + tuple(x.shape[mask.ndim:])
            try:
                part = value if tuple(value.shape) == selection else self.broadcast_to(value, selection)
            except ValueError:
                raise ValueError(f"cannot assign values of shape {tuple(value.shape)} to the "
                                 f"{picked.shape[0]} elements a mask selects") from None
            E.put_rows(part.reshape(picked.shape[0], rows.shape[1]), picked, rows)
            return
        parts = index if isinstance(index, tuple) else (index,)
        if not all(isinstance(i, (int, slice, type(None), type(Ellipsis)))
                   and not isinstance(i, bool) for i in parts):
            raise IndexError(
                "CUDA tensors take item assignment with a basic index (integers, slices, "
                "None, ...) or a boolean mask; gather the rows with x[index] instead")
        offset, shape, strides = self._basic_view(x.shape, index)
        if isinstance(value, self.array_type) and tuple(value.shape) == tuple(shape):
            part = value
        elif isinstance(value, self.array_type):
            part = self.broadcast_to(value, shape)
        else:
            part = self.full(shape, value, x.dtype)
        E.scatter(part, offset, strides, x)

    def concatenate(self, xs, axis):
        """The arrays joined along ``axis``: each scattered into its slice of the result."""
        shape = list(xs[0].shape)
        shape[axis] = sum(x.shape[axis] for x in xs)
        out = self.empty(tuple(shape), np.result_type(*(x.dtype for x in xs)))
        start = 0
        for x in xs:
            n = x.shape[axis]
            index = (slice(None),) * axis + (slice(start, start + n),)
            offset, _, strides = self._basic_view(out.shape, index)
            E.scatter(x, offset, strides, out)
            start += n
        return out

    @staticmethod
    def _span(a):
        """[first, last) byte address of a's elements (the simulator's arrays are NumPy
        arrays inside, with NumPy's interface and no CUDA one)."""
        interface = a.__array_interface__ if SIMULATOR else a.__cuda_array_interface__
        start = interface["data"][0]
        return start, start + a.size * a.dtype.itemsize

    def may_share_memory(self, a, b):
        """Whether a and b overlap in device memory (a bounds check, no more)."""
        (a0, a1), (b0, b1) = self._span(a), self._span(b)
        return a0 < b1 and b0 < a1

    @staticmethod
    def is_contiguous(a):
        return True  # every array of this backend is C-contiguous

    # ---- matrix products ----------------------------------------------------------------

    def matmul(self, a, b):
        """a @ b for 1-D or 2-D operands, as NumPy (a vector is a row on the left, a
        column on the right, and that axis is dropped from the result)."""
        a2 = a.reshape(1, a.shape[0]) if a.ndim == 1 else a
        b2 = b.reshape(b.shape[0], 1) if b.ndim == 1 else b
        out = self.empty((a2.shape[0], b2.shape[1]), np.result_type(a.dtype, b.dtype))
        D.matmul(a2, b2, out)
        shape = (() if a.ndim == 1 else (a2.shape[0],)) + (() if b.ndim == 1 else (b2.shape[1],))
        return out.reshape(shape)

    def matmul_tn(self, a, b, out=None):
        """aᵀ b without materialising aᵀ (into ``out`` when given)."""
        if out is None:
            out = self.empty((a.shape[1], b.shape[1]), a.dtype)
        D.matmul_tn(a, b, out)
        return out

    def matmul_nt(self, a, b):
        """a bᵀ without materialising bᵀ."""
        out = self.empty((a.shape[0], b.shape[0]), a.dtype)
        D.matmul_nt(a, b, out)
        return out

    # ---- the dense layer, fused with its activation ---------------------------------------

    def linear(self, x, w, b, act, p=0.0, q=0.0):
        """h = f(x wᵀ + b): one tiled product with the bias and f in its epilogue."""
        h = self.empty((x.shape[0], w.shape[0]), x.dtype)
        _LINEAR_FORWARD[act](x, w, self.empty(0, w.dtype) if b is None else b,
                             p, q, h)
        return h

    def linear_backward(self, grad, x, w, s, act, p, q, need_x, need_w, need_b, gw=None,
                        gb=None):
        """(∂L/∂x, ∂L/∂w, ∂L/∂b) of h = f(z), z = x wᵀ + b, each None when not needed;
        with δ = grad ⊙ f′(z), f′ read from s (z or h): δ w, δᵀ x, Σ_rows δ (as
        CPUBackend.linear_backward)."""
        n, k = x.shape
        m = w.shape[0]
        gx = self.empty((n, k), x.dtype) if need_x else None
        if need_w and gw is None:
            gw = self.empty((m, k), w.dtype)
        if need_b and gb is None:
            gb = self.empty(m, w.dtype)
        unused2 = self.empty((0, 0), w.dtype)
        _LINEAR_BACKWARD[act](grad, x, w, s, p, q,
                              unused2 if gx is None else gx, gw if need_w else unused2,
                              gb if need_b else self.empty(0, w.dtype))
        return gx, gw if need_w else None, gb if need_b else None

    # ---- activations ----------------------------------------------------------------------

    def activation(self, act, x, p=0.0, q=0.0):
        """y = f(x) elementwise, f the activation with code ``act``."""
        out = self.empty(x.shape, x.dtype)
        _FORWARD[act](x.reshape(x.size), p, q, out.reshape(x.size))
        return out

    def activation_backward(self, act, grad, s, p=0.0, q=0.0):
        """grad ⊙ f′(x), f′ read from s (x or y = f(x), as CPUBackend.activation_backward)."""
        out = self.empty(s.shape, s.dtype)
        n = s.size
        _BACKWARD[act](grad.reshape(n), s.reshape(n), p, q, out.reshape(n))
        return out

    def _along_rows(self, kernel, x, axis):
        """Apply a row kernel (softmax, log_softmax) along ``axis``."""
        axis = axis % x.ndim
        last = x.ndim - 1
        if axis != last:
            order = tuple(i for i in range(x.ndim) if i != axis) + (axis,)
            x = self.transpose(x, order)
        shape = tuple(x.shape)
        rows = x.reshape(_size(shape[:-1]), shape[-1])
        out = self.empty(rows.shape, x.dtype)
        kernel(rows, out)
        out = out.reshape(x.shape)
        if axis != last:
            inverse = [0] * x.ndim
            for i, a in enumerate(order):
                inverse[a] = i
            out = self.transpose(out, tuple(inverse))
        return out

    def softmax(self, x, axis):
        return self._along_rows(K.softmax_rows, x, axis)

    def log_softmax(self, x, axis):
        return self._along_rows(K.log_softmax_rows, x, axis)

    # ---- losses ---------------------------------------------------------------------------
    # The backward kernels take the reduction's factor as a Python float; the upstream
    # gradient is a device array (0-d after a mean or sum), so it multiplies afterwards
    # on the GPU: reading it here would copy it back to the host.

    def _times_upstream(self, out, grad, row_shaped=False):
        g = grad.reshape(grad.size, 1) if row_shaped and grad.ndim else grad
        E.binary("mul", out, g, out)
        return out

    def softmax_xent(self, z, target, scale):
        """Per-row softmax cross-entropy: (probs, losses, scale · Σ losses as 0-d)."""
        probs = self.empty(z.shape, z.dtype)
        losses = self.empty(z.shape[0], z.dtype)
        loss = self.empty(1, z.dtype)
        kernel = K.softmax_xent_forward if target.ndim == 1 else K.softmax_xent_prob_forward
        kernel(z, target, float(scale), probs, losses, loss)
        return probs, losses, loss.reshape(())

    def softmax_xent_backward(self, probs, target, grad, scale):
        """grad · scale · (softmax(z) − onehot(y)), or its probability-target form."""
        out = self.empty(probs.shape, probs.dtype)
        kernel = K.softmax_xent_backward if target.ndim == 1 else K.softmax_xent_prob_backward
        kernel(probs, target, float(scale), out)
        return self._times_upstream(out, grad, row_shaped=True)

    def _pointwise_loss(self, kernel, pred, target, scale):
        losses = self.empty(pred.shape, pred.dtype)
        loss = self.empty(1, pred.dtype)
        kernel(pred.reshape(pred.size), target.reshape(target.size), float(scale),
               losses.reshape(pred.size), loss)
        return losses, loss.reshape(())

    def _pointwise_loss_backward(self, kernel, pred, target, grad, scale):
        out = self.empty(pred.shape, pred.dtype)
        kernel(pred.reshape(pred.size), target.reshape(target.size), float(scale),
               out.reshape(pred.size))
        return self._times_upstream(out, grad)

    def bce_logits(self, z, y, scale):
        """max(z, 0) − z·y + log(1 + e^{−|z|}) elementwise: (losses, scale · Σ losses)."""
        return self._pointwise_loss(K.bce_logits_forward, z, y, scale)

    def bce_logits_backward(self, z, y, grad, scale):
        """grad · scale · (σ(z) − y)."""
        return self._pointwise_loss_backward(K.bce_logits_backward, z, y, grad, scale)

    def mse(self, pred, target, scale):
        """(pred − target)² elementwise: (losses, scale · Σ losses)."""
        return self._pointwise_loss(K.mse_forward, pred, target, scale)

    def mse_backward(self, pred, target, grad, scale):
        """grad · scale · 2(pred − target)."""
        return self._pointwise_loss_backward(K.mse_backward, pred, target, grad, scale)

    # ---- randomness -------------------------------------------------------------------------

    # One generator state per GPU thread that draws: enough threads to fill a large GPU
    # (on numba's simulator, where states are made one by one in Python, a few).
    RNG_STATES = 64 if SIMULATOR else 65536

    def _rng(self, generator):
        """The device generator states, (re)made from the host generator that
        ``mg.manual_seed`` last seeded: once per seeding, not per draw."""
        if self._rng_states is None or self._rng_source is not generator:
            from numba.cuda.random import create_xoroshiro128p_states
            seed = int(generator.integers(2**63))
            self._rng_states = create_xoroshiro128p_states(self.RNG_STATES, seed)
            self._rng_source = generator
        return self._rng_states

    def rng_state(self):
        """The dropout streams' states as bytes (a uint8 NumPy array; 16 bytes per
        stream), or an empty array while none are made (the next draw makes them
        from the host generator)."""
        from .. import random as _random
        if self._rng_states is None or self._rng_source is not _random.generator():
            return np.zeros(0, np.uint8)
        return self._rng_states.copy_to_host().view(np.uint8).copy()

    def set_rng_state(self, raw):
        """Restore the states that :meth:`rng_state` returned (see there)."""
        from numba.cuda.random import xoroshiro128p_dtype
        from .. import random as _random
        size = self.RNG_STATES * xoroshiro128p_dtype.itemsize
        if raw.shape not in ((0,), (size,)):
            raise ValueError(
                f"set_rng_state: a CUDA generator state here is {size} bytes "
                f"({self.RNG_STATES} streams), or empty; got an array of shape {raw.shape}"
                + (" (a state saved on numba's simulator, or from it, does not fit the other)"
                   if raw.ndim == 1 and raw.size % xoroshiro128p_dtype.itemsize == 0 else ""))
        if raw.size == 0:
            self._rng_states = self._rng_source = None
            return
        self._rng_states = cuda.to_device(np.ascontiguousarray(raw).view(xoroshiro128p_dtype))
        self._rng_source = _random.generator()

    def dropout_mask(self, shape, p, dtype, generator):
        """[u ≥ p] / (1 − p) with u ~ U[0, 1) drawn on the GPU."""
        out = self.empty(shape, dtype)
        E.dropout_mask(self._rng(generator), float(p), out)
        return out

    # ---- optimizers ---------------------------------------------------------------------------
    # One kernel launch per parameter group, as on the CPU (every GPU kernel is parallel).

    @staticmethod
    def optimizer_kernel(name, size):
        """The launcher ``name`` of kernels/cuda/optim.py (``"adam_step"``, …): one
        launch updates the whole flat buffer, at every size."""
        return getattr(K, name)
