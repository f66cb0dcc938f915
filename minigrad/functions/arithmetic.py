"""Elementwise arithmetic, elementwise functions and the matrix product.

Each Function's backward applies the chain rule for its op: given ∂L/∂out
(``grad``) it returns ∂L/∂input for each input. Binary ops broadcast as NumPy
does, so their backward sums the gradient back down to each input's shape.
"""

import numpy as np

from ..autograd import Function

_F64 = np.dtype(np.float64)
_F32 = np.dtype(np.float32)


def _shape(x):
    return getattr(x, "shape", ())


def _promote(be, out, a, b):
    """Apply PyTorch's type promotion where NumPy's differs.

    NumPy turns int + Python float, int / int and int64 + float32 into float64;
    PyTorch gives float32 unless an operand is float64 already.
    """
    if out.dtype == _F64 and not _is_f64(a) and not _is_f64(b):
        return be.astype(out, _F32)
    return out


def _is_f64(x):
    dtype = getattr(x, "dtype", None)  # None for a Python number (and None == float64 in NumPy)
    return dtype is not None and dtype == _F64


def _binary(ctx, op, name, a, b):
    """op(a, b) with NumPy broadcasting, PyTorch's promotion, and an error naming the op."""
    try:
        out = op(a, b)
    except ValueError:
        raise ValueError(
            f"{name}: shapes {_shape(a)} and {_shape(b)} cannot be broadcast together") from None
    return _promote(ctx.backend, out, a, b)


def _reduce_to(ctx, i, g, shape):
    return ctx.backend.sum_to_shape(g, shape) if ctx.needs_input_grad[i] else None


class Add(Function):
    """out = a + b;  ∂out/∂a = 1, ∂out/∂b = 1."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = _shape(a), _shape(b)
        return _binary(ctx, ctx.backend.add, "+", a, b)

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.shapes
        return _reduce_to(ctx, 0, grad, sa), _reduce_to(ctx, 1, grad, sb)


class Sub(Function):
    """out = a − b;  ∂out/∂a = 1, ∂out/∂b = −1."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = _shape(a), _shape(b)
        return _binary(ctx, ctx.backend.sub, "-", a, b)

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.shapes
        gb = _reduce_to(ctx, 1, grad, sb)
        return _reduce_to(ctx, 0, grad, sa), None if gb is None else ctx.backend.neg(gb)


class Mul(Function):
    """out = a · b;  ∂out/∂a = b, ∂out/∂b = a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _binary(ctx, ctx.backend.mul, "*", a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        mul = ctx.backend.mul
        ga = _reduce_to(ctx, 0, mul(grad, b), _shape(a)) if ctx.needs_input_grad[0] else None
        gb = _reduce_to(ctx, 1, mul(grad, a), _shape(b)) if ctx.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    """out = a / b;  ∂out/∂a = 1/b, ∂out/∂b = −a/b² = −out/b."""

    @staticmethod
    def forward(ctx, a, b):
        out = _binary(ctx, ctx.backend.div, "/", a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        be = ctx.backend
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = _reduce_to(ctx, 0, be.div(grad, b), _shape(a))
        if ctx.needs_input_grad[1]:
            gb = _reduce_to(ctx, 1, be.neg(be.div(be.mul(grad, out), b)), _shape(b))
        return ga, gb


class Neg(Function):
    """out = −x."""

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.neg(x)

    @staticmethod
    def backward(ctx, grad):
        return ctx.backend.neg(grad)


class Pow(Function):
    """out = xᵖ for a constant p;  ∂out/∂x = p · xᵖ⁻¹."""

    @staticmethod
    def forward(ctx, x, p):
        ctx.save_for_backward(x)
        ctx.p = p
        return _promote(ctx.backend, ctx.backend.power(x, p), x, p)  # int ** 0.5 -> float32

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        be, p = ctx.backend, ctx.p
        return be.mul(grad, be.mul(be.power(x, p - 1), p)), None


class Exp(Function):
    """out = eˣ;  ∂out/∂x = eˣ = out."""

    @staticmethod
    def forward(ctx, x):
        out = ctx.backend.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return ctx.backend.mul(grad, out)


class Log(Function):
    """out = ln x;  ∂out/∂x = 1/x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.backend.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return ctx.backend.div(grad, x)


class Sqrt(Function):
    """out = √x;  ∂out/∂x = 1 / (2√x) = 1 / (2·out)."""

    @staticmethod
    def forward(ctx, x):
        out = ctx.backend.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        be = ctx.backend
        return be.div(grad, be.mul(out, 2.0))


class Abs(Function):
    """out = |x|;  ∂out/∂x = sign(x) (0 at x = 0, as PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.backend.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return ctx.backend.mul(grad, ctx.backend.sign(x))


class Clamp(Function):
    """out = min(max(x, lo), hi);  ∂out/∂x = 1 where lo ≤ x ≤ hi, else 0."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.bounds = lo, hi
        return ctx.backend.clamp(x, lo, hi)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        be, (lo, hi) = ctx.backend, ctx.bounds
        inside = True
        if lo is not None:
            inside = be.ge(x, lo)
        if hi is not None:
            inside = be.logical_and(inside, be.le(x, hi))
        return be.mul(grad, inside), None, None


class MatMul(Function):
    """out = A B (1-D operands as NumPy: a vector on the left is a row, on the right a column).

    With G = ∂L/∂out:  ∂L/∂A = G Bᵀ,  ∂L/∂B = Aᵀ G.
    """

    @staticmethod
    def forward(ctx, a, b):
        if a.dtype != b.dtype:
            raise TypeError(f"@: both operands must have one dtype, got {a.dtype} and {b.dtype}")
        if a.ndim not in (1, 2) or b.ndim not in (1, 2):
            raise ValueError(f"@: operands must be 1-D or 2-D, got shapes {a.shape} and {b.shape}")
        inner = a.shape[a.ndim - 1]  # (a device array's shape takes no negative index)
        if inner != b.shape[0]:
            raise ValueError(
                f"@: shapes {tuple(a.shape)} and {tuple(b.shape)} do not align "
                f"({inner} != {b.shape[0]})")
        ctx.save_for_backward(a, b)
        return ctx.backend.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        be = ctx.backend
        a2 = be.reshape(a, (1, a.shape[0])) if a.ndim == 1 else a
        b2 = be.reshape(b, (b.shape[0], 1)) if b.ndim == 1 else b
        g2 = be.reshape(grad, (a2.shape[0], b2.shape[1]))
        ga = be.reshape(be.matmul_nt(g2, b2), a.shape) if ctx.needs_input_grad[0] else None
        gb = be.reshape(be.matmul_tn(a2, g2), b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb


class Cast(Function):
    """out = x as another floating dtype; the gradient is cast back."""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.in_dtype = x.dtype
        return ctx.backend.astype(x, dtype)

    @staticmethod
    def backward(ctx, grad):
        return ctx.backend.astype(grad, ctx.in_dtype), None


class ToDevice(Function):
    """out = x copied to another device; the gradient is copied back."""

    @staticmethod
    def forward(ctx, x, target):
        ctx.out_backend = target
        return target.from_numpy(ctx.backend.to_numpy(x))

    @staticmethod
    def backward(ctx, grad):
        return ctx.backend.from_numpy(ctx.out_backend.to_numpy(grad)), None
