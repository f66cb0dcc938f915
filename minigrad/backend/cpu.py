"""The CPU backend: NumPy arrays, BLAS for matrix products, numba kernels for the rest.

Every differentiable op in :mod:`minigrad.functions` is written against the
methods of a backend object, never against NumPy directly, so that the same
``forward``/``backward`` runs on any device. This file is the CPU half of that
contract; each method says what it returns. Methods that call a kernel make their
inputs C-contiguous first: kernels may assume it (DESIGN.md, principle 8).
"""

import numpy as np

from ..kernels import activations as _A
from ..kernels import cpu as K
from ..kernels.cpu import activations as _act
from ..kernels.cpu import matmul as _dense

from . import dispatch
from .dispatch import KernelTable

# The kernels built per activation code (kernels/activations.py), found by one lookup.
_FORWARD = KernelTable(_act.forward)
_BIAS_FORWARD = KernelTable(_act.bias_forward)
_BACKWARD = KernelTable(_act.backward)
_LINEAR_FORWARD = KernelTable(_dense.linear_forward)
_LINEAR_BACKWARD = KernelTable(_dense.linear_backward)



# Every matrix product of this backend is a call of _matmul: BLAS, through NumPy.
# (minigrad.trace() puts a recording function in its place while a trace is open.)
_BLAS_MATMUL = np.matmul
_matmul = _BLAS_MATMUL

_UFUNCS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide}

_UNUSED = {}


def _unused(dtype, ndim):
    """A length-0 array: what a kernel is given for an output it should not compute
    (one per dtype and ndim, shared: nothing is ever written to it)."""
    key = (dtype, ndim)
    a = _UNUSED.get(key)
    if a is None:
        a = _UNUSED[key] = np.empty((0,) * ndim, dtype)
    return a


def _contiguous(a):
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def _scale(grad, scale):
    """The scalar a loss kernel multiplies by: scale, times a 0-d upstream gradient."""
    return float(scale) * float(grad) if grad.ndim == 0 else float(scale)


def _flat(a):
    """A contiguous 1-D view (or copy, when ``a`` is not contiguous) of ``a``."""
    return _contiguous(a).reshape(-1)


def _pointwise_loss(kernel, pred, target, scale):
    """Run an elementwise loss kernel over flat views: (losses in pred's shape,
    scale · Σ losses as a 0-d array)."""
    pf = _flat(pred)
    losses = np.empty_like(pf)
    loss = np.empty(1, pred.dtype)
    kernel(pf, _flat(target), float(scale), losses, loss)
    return losses.reshape(pred.shape), loss.reshape(())


def _pointwise_loss_backward(kernel, pred, target, grad, scale):
    """Run an elementwise loss-gradient kernel; a non-0-d upstream grad (reduction
    "none") multiplies afterwards, elementwise."""
    pf = _flat(pred)
    out = np.empty_like(pf)
    kernel(pf, _flat(target), _scale(grad, scale), out)
    out = out.reshape(pred.shape)
    if grad.ndim:
        out *= grad
    return out


class CPUBackend:
    """Array creation, copies and the kernel behind each primitive, on the CPU."""

    name = "cpu"
    array_type = np.ndarray
    # Values are checked before a kernel runs (class indices in range, probabilities in
    # [0, 1]): on the CPU that costs one pass, on a GPU it would cost a copy back.
    checks_values = True

    # ---- arrays -------------------------------------------------------------

    @staticmethod
    def empty(shape, dtype):
        return np.empty(shape, dtype)

    @staticmethod
    def zeros(shape, dtype):
        return np.zeros(shape, dtype)

    @staticmethod
    def ones(shape, dtype):
        a = np.empty(shape, dtype)   # np.ones is Python code; this is 4× faster on 0-d
        a.fill(1)
        return a

    @staticmethod
    def full(shape, value, dtype):
        return np.full(shape, value, dtype)

    @staticmethod
    def from_numpy(a):
        """Host array -> array on this device (the same array on the CPU)."""
        return a

    @staticmethod
    def to_numpy(a):
        """Array on this device -> host array (the same array on the CPU)."""
        return a

    @staticmethod
    def asarray(x, dtype=None):
        return np.asarray(x, dtype)

    @staticmethod
    def copy(a):
        return np.array(a, copy=True, order="C")

    @staticmethod
    def astype(a, dtype):
        return a.astype(dtype)

    @staticmethod
    def copy_(dst, src):
        """dst[...] = src, in place (casting to dst's dtype)."""
        np.copyto(dst, src, casting="unsafe")

    @staticmethod
    def add_(dst, src):
        """dst += src, in place."""
        np.add(dst, src, out=dst)

    @staticmethod
    def mul_(dst, value):
        np.multiply(dst, value, out=dst)

    @staticmethod
    def binary_(op, dst, other):
        """dst = dst OP other in place ("add", "sub", "mul", "div"; other broadcast to
        dst's shape, the result cast to dst's dtype)."""
        _UFUNCS[op](dst, other, out=dst, casting="unsafe")

    @staticmethod
    def fill_(dst, value):
        dst.fill(value)

    # ---- elementwise (NumPy broadcasting) ------------------------------------

    add = staticmethod(np.add)
    sub = staticmethod(np.subtract)
    mul = staticmethod(np.multiply)
    div = staticmethod(np.true_divide)
    neg = staticmethod(np.negative)
    power = staticmethod(np.power)
    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    sqrt = staticmethod(np.sqrt)
    abs = staticmethod(np.abs)
    sign = staticmethod(np.sign)
    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)
    maximum = staticmethod(np.maximum)
    minimum = staticmethod(np.minimum)
    where = staticmethod(np.where)
    eq = staticmethod(np.equal)
    ne = staticmethod(np.not_equal)
    lt = staticmethod(np.less)
    le = staticmethod(np.less_equal)
    gt = staticmethod(np.greater)
    ge = staticmethod(np.greater_equal)
    logical_and = staticmethod(np.logical_and)

    @staticmethod
    def clamp(x, lo, hi):
        return np.clip(x, lo, hi)

    @staticmethod
    def log_clamped(x, floor):
        """max(log x, floor): log 0 = −inf is expected here, so it does not warn."""
        with np.errstate(divide="ignore"):
            return np.maximum(np.log(x), floor)

    # ---- reductions -------------------------------------------------------------

    @staticmethod
    def sum(x, axis=None, keepdims=False):
        return np.asarray(x.sum(axis=axis, keepdims=keepdims))

    @staticmethod
    def max(x, axis=None, keepdims=False):
        return np.asarray(x.max(axis=axis, keepdims=keepdims))

    @staticmethod
    def min(x, axis=None, keepdims=False):
        return np.asarray(x.min(axis=axis, keepdims=keepdims))

    @staticmethod
    def argmax(x, axis=None):
        return np.asarray(x.argmax(axis=axis)).astype(np.int64, copy=False)

    @staticmethod
    def argmin(x, axis=None):
        return np.asarray(x.argmin(axis=axis)).astype(np.int64, copy=False)

    @staticmethod
    def column_sums(g, out=None):
        """Σ over rows of a 2-D array: the bias gradient Σ_rows δ (into ``out`` when given)."""
        if out is None:
            out = np.empty(g.shape[1], g.dtype)
        K.column_sums(_contiguous(g), out)
        return out

    @classmethod
    def sum_to_shape(cls, g, shape):
        """Undo NumPy broadcasting: sum ``g`` down to ``shape``.

        A gradient flowing into a broadcast input must be summed over every axis
        along which that input was repeated.
        """
        if g.shape == shape:
            return g
        if g.ndim == 2 and shape == (g.shape[1],):
            return cls.column_sums(g)  # the bias of a dense layer: the common case
        lead = g.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            i + lead for i, n in enumerate(shape) if n == 1 and g.shape[i + lead] != 1
        )
        return np.asarray(g.sum(axis=axes, keepdims=True)).reshape(shape)

    @staticmethod
    def broadcast_to(g, shape):
        return np.broadcast_to(g, shape)

    # ---- shapes and indexing ----------------------------------------------------

    @staticmethod
    def reshape(x, shape):
        return x.reshape(shape)

    @staticmethod
    def transpose(x, axes):
        return x.transpose(axes)

    @staticmethod
    def getitem(x, index):
        out = x[index]
        if not isinstance(out, np.ndarray):
            # an integer per axis gives NumPy a scalar (a copy); with a trailing ... it
            # gives a 0-d view, as PyTorch's t[i] is a view
            out = x[(index if isinstance(index, tuple) else (index,)) + (Ellipsis,)]
        return out

    @staticmethod
    def setitem(x, index, value):
        """x[index] = value, in place (value broadcast to the selection)."""
        x[index] = value

    @staticmethod
    def concatenate(xs, axis):
        return np.concatenate(xs, axis)

    @staticmethod
    def may_share_memory(a, b):
        """Whether a and b may be views of one storage (a bounds check, no more)."""
        return np.may_share_memory(a, b)

    @staticmethod
    def is_contiguous(a):
        return a.flags.c_contiguous

    @staticmethod
    def index_grad(shape, index, g, dtype, basic):
        """The gradient of ``x[index]``: ``g`` scattered into zeros of ``shape``.

        Basic indexing never selects an element twice, so a plain assignment is
        enough; integer-array indexing may repeat elements, whose gradients add.
        """
        out = np.zeros(shape, dtype)
        if basic:
            out[index] = g
        else:
            np.add.at(out, index, g)
        return out

    # ---- matrix products (BLAS) -------------------------------------------------

    @staticmethod
    def matmul(a, b):
        """a b, with NumPy's broadcasting of leading dimensions."""
        return _matmul(a, b)

    @staticmethod
    def matmul_tn(a, b, out=None):
        """aᵀ b without materialising aᵀ (into ``out`` when given)."""
        return _matmul(a.T, b, out=out)

    @staticmethod
    def matmul_nt(a, b):
        """a bᵀ without materialising bᵀ."""
        return _matmul(a, b.T)

    # ---- the dense layer, fused with its activation ----------------------------------
    # ``act`` is an activation code of kernels/activations.py, p and q its parameters.

    @staticmethod
    def linear(x, w, b, act, p=0.0, q=0.0):
        """h = f(x wᵀ + b) for x (N, K), w (M, K), b (M,) or None: one kernel call for a
        small layer, BLAS and one pass for a larger one (dispatch.SMALL_LINEAR)."""
        n, k = x.shape
        m = w.shape[0]
        if n * k * m <= dispatch.SMALL_LINEAR:
            h = np.empty((n, m), x.dtype)
            _LINEAR_FORWARD[act](_contiguous(x), w, _unused(w.dtype, 1) if b is None else b,
                                 p, q, h)
            return h
        h = _matmul(x, w.T)                   # BLAS; then bias and f in one pass, in place
        if b is not None:
            _BIAS_FORWARD[act](h, b, p, q, h)
        elif act != _A.IDENTITY:
            hf = h.reshape(-1)
            _FORWARD[act](hf, p, q, hf)
        return h

    @staticmethod
    def linear_backward(grad, x, w, s, act, p, q, need_x, need_w, need_b, gw=None, gb=None):
        """(∂L/∂x, ∂L/∂w, ∂L/∂b) of h = f(z), z = x wᵀ + b, each None when not needed.

        With δ = grad ⊙ f′(z), f′ read from s (z for the codes in READS_INPUT, h for
        the others): ∂L/∂x = δ w,  ∂L/∂w = δᵀ x,  ∂L/∂b = Σ_rows δ. ``gw`` and ``gb``,
        when given, are where to write ∂L/∂w and ∂L/∂b (an optimizer's gradient
        slots). One kernel call for a small layer (dispatch.SMALL_LINEAR_BACKWARD).
        """
        n, k = x.shape
        m = w.shape[0]
        grad = _contiguous(grad)
        if n * k * m <= dispatch.SMALL_LINEAR_BACKWARD:
            gx = np.empty((n, k), x.dtype) if need_x else None
            if need_w and gw is None:
                gw = np.empty((m, k), w.dtype)
            if need_b and gb is None:
                gb = np.empty(m, w.dtype)
            dt = w.dtype
            _LINEAR_BACKWARD[act](
                grad, _contiguous(x), w, s, p, q,
                _unused(dt, 2) if gx is None else gx, gw if need_w else _unused(dt, 2),
                gb if need_b else _unused(dt, 1))
            return gx, gw if need_w else None, gb if need_b else None
        delta = grad if act == _A.IDENTITY else CPUBackend.activation_backward(act, grad, s, p, q)
        gx = _matmul(delta, w) if need_x else None
        gw = _matmul(delta.T, x, out=gw) if need_w else None
        gb = CPUBackend.column_sums(delta, out=gb) if need_b else None
        return gx, gw, gb

    # ---- activations ------------------------------------------------------------

    @staticmethod
    def activation(act, x, p=0.0, q=0.0):
        """y = f(x) elementwise, f the activation with code ``act``."""
        xf = _flat(x)
        out = np.empty_like(xf)
        _FORWARD[act](xf, p, q, out)
        return out.reshape(x.shape)

    @staticmethod
    def activation_backward(act, grad, s, p=0.0, q=0.0):
        """grad ⊙ f′(x), f′ read from s: the input x for the codes in READS_INPUT, the
        output y = f(x) for the others."""
        gf, sf = _flat(grad), _flat(s)
        out = np.empty_like(sf)
        _BACKWARD[act](gf, sf, p, q, out)
        return out.reshape(s.shape)

    @staticmethod
    def _along_rows(kernel, x, axis):
        """Apply a row kernel (softmax_rows, log_softmax_rows) along ``axis``: the
        axis moved last, the rows made contiguous, and moved back."""
        moved = np.ascontiguousarray(np.moveaxis(x, axis, -1))
        rows = moved.reshape(-1, moved.shape[-1]) if moved.ndim != 2 else moved
        out = np.empty_like(rows)
        if out.size:
            kernel(rows, out)
        out = out.reshape(moved.shape)
        return out if axis in (-1, x.ndim - 1) else np.ascontiguousarray(np.moveaxis(out, -1, axis))

    @staticmethod
    def softmax(x, axis):
        return CPUBackend._along_rows(K.softmax_rows, x, axis)

    @staticmethod
    def log_softmax(x, axis):
        return CPUBackend._along_rows(K.log_softmax_rows, x, axis)

    # ---- losses -------------------------------------------------------------------

    @staticmethod
    def softmax_xent(z, target, scale):
        """Per-row softmax cross-entropy: (probs, losses, scale · Σ losses as 0-d)."""
        z = _contiguous(z)
        probs = np.empty_like(z)
        losses = np.empty(z.shape[0], z.dtype)
        loss = np.empty(1, z.dtype)
        kernel = K.softmax_xent_forward if target.ndim == 1 else K.softmax_xent_prob_forward
        kernel(z, _contiguous(target), float(scale), probs, losses, loss)
        return probs, losses, loss.reshape(())

    @staticmethod
    def softmax_xent_backward(probs, target, grad, scale):
        """grad · scale · (softmax(z) − onehot(y)), or its probability-target form.

        ``grad`` is the upstream gradient: 0-d after a mean or sum, one value per
        row for ``reduction="none"``.
        """
        out = np.empty_like(probs)
        kernel = K.softmax_xent_backward if target.ndim == 1 else K.softmax_xent_prob_backward
        kernel(probs, _contiguous(target), _scale(grad, scale), out)
        if grad.ndim:
            out *= grad.reshape(-1, 1)
        return out

    @staticmethod
    def validate_classes(target, num_classes):
        """The first class index outside [0, num_classes), or None if all are valid."""
        first = np.empty(1, np.int64)
        K.first_invalid_class(_contiguous(target), int(num_classes), first)
        return None if first[0] < 0 else int(target[first[0]])

    @staticmethod
    def all_in_range(x, lo, hi):
        return x.size == 0 or bool(x.min() >= lo and x.max() <= hi)

    @staticmethod
    def bce_logits(z, y, scale):
        """max(z, 0) − z·y + log(1 + e^{−|z|}) elementwise: (losses, scale · Σ losses)."""
        return _pointwise_loss(K.bce_logits_forward, z, y, scale)

    @staticmethod
    def bce_logits_backward(z, y, grad, scale):
        """grad · scale · (σ(z) − y)."""
        return _pointwise_loss_backward(K.bce_logits_backward, z, y, grad, scale)

    @staticmethod
    def mse(pred, target, scale):
        """(pred − target)² elementwise: (losses, scale · Σ losses)."""
        return _pointwise_loss(K.mse_forward, pred, target, scale)

    @staticmethod
    def mse_backward(pred, target, grad, scale):
        """grad · scale · 2(pred − target)."""
        return _pointwise_loss_backward(K.mse_backward, pred, target, grad, scale)

    # ---- randomness ------------------------------------------------------------------

    @staticmethod
    def dropout_mask(shape, p, dtype, generator):
        """[u ≥ p] / (1 − p) with u ~ U[0, 1): zeroes a fraction p, keeps the mean."""
        if p == 1.0:
            return np.zeros(shape, dtype)
        keep = generator.random(shape) >= p
        return (keep / (1.0 - p)).astype(dtype)

    # ---- optimizers ------------------------------------------------------------------

    @staticmethod
    def optimizer_kernel(name, size):
        """The kernel ``name`` of kernels/cpu/optim.py (``"adam_step"``, …) for a flat
        buffer of ``size`` elements: its ``_parallel`` variant from
        dispatch.PARALLEL_MIN elements on. minigrad/optim/functional.py calls it."""
        if size >= dispatch.PARALLEL_MIN:
            name += "_parallel"
        return getattr(K, name)
