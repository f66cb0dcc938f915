"""Elementwise arithmetic, elementwise functions and the matrix product.

Each Function's backward applies the chain rule for its op: given ∂L/∂out
(``grad``) it returns ∂L/∂input for each input. Binary ops broadcast as NumPy
does, so their backward sums the gradient back down to each input's shape.
"""

import numpy as np

from .. import tensor as _tensor
from ..autograd import RawFunction

_F64 = np.dtype(np.float64)


def _shape(x):
    return getattr(x, "shape", ())


def _promote(be, out, a, b):
    """Apply PyTorch's type promotion where NumPy's differs.

    NumPy turns int + Python float, int / int and int64 + float32 into float64;
    PyTorch gives the default float dtype (float32) unless an operand is float64. And a
    0-d tensor counts as a number does: it does not widen a tensor with dimensions of
    its own kind (float32 · 0-d float64 is float32, int32 + 0-d int64 is int32).
    """
    if out.dtype == _F64 and not _is_f64(a) and not _is_f64(b):
        default = _tensor._default_float
        return out if default == _F64 else be.astype(out, default)
    if getattr(a, "ndim", 1) == 0 or getattr(b, "ndim", 1) == 0:
        return _scalar_promote(be, out, a, b)
    return out


def _scalar_promote(be, out, a, b):
    big, small = (b, a) if getattr(a, "ndim", 1) == 0 else (a, b)
    if getattr(big, "ndim", 0) == 0 or not hasattr(small, "dtype"):
        return out                                   # both 0-d, or a Python number
    same_kind = (big.dtype.kind == "f") == (small.dtype.kind == "f") and big.dtype.kind != "b"
    if same_kind and out.dtype != big.dtype and out.dtype.kind == big.dtype.kind:
        return be.astype(out, big.dtype)
    return out


def _to_float(be, x):
    """An integer or bool input of a float op (exp, log, sin, ...) computes in the
    default float dtype, as in PyTorch: exp of an int64 tensor is float32."""
    return x if x.dtype.kind == "f" else be.astype(x, _tensor._default_float)


def _is_f64(x):
    dtype = getattr(x, "dtype", None)  # None for a Python number (and None == float64 in NumPy)
    return dtype is not None and dtype == _F64


def _binary(ctx, op, name, a, b):
    """op(a, b) with NumPy broadcasting, PyTorch's promotion, and an error naming the op."""
    try:
        out = op(a, b)
    except ValueError as e:
        try:
            np.broadcast_shapes(_shape(a), _shape(b))
        except ValueError:
            raise ValueError(f"{name}: shapes {_shape(a)} and {_shape(b)} cannot be "
                             f"broadcast together") from None
        raise ValueError(f"{name}: {e}") from None       # e.g. an integer to a negative power
    return _promote(ctx.backend, out, a, b)


def _reduce_to(ctx, i, g, shape):
    return ctx.backend.sum_to_shape(g, shape) if ctx.needs_input_grad[i] else None


class Add(RawFunction):
    """out = a + b;  ∂out/∂a = 1, ∂out/∂b = 1."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = _shape(a), _shape(b)
        return _binary(ctx, ctx.backend.add, "+", a, b)

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.shapes
        return _reduce_to(ctx, 0, grad, sa), _reduce_to(ctx, 1, grad, sb)


class Sub(RawFunction):
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


class Mul(RawFunction):
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


class Div(RawFunction):
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


class Neg(RawFunction):
    """out = −x."""

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.neg(x)

    @staticmethod
    def backward(ctx, grad):
        return ctx.backend.neg(grad)


class Pow(RawFunction):
    """out = aᵇ, a and b each a tensor or a number (broadcast);
    ∂out/∂a = b · aᵇ⁻¹ (0 where b = 0, as PyTorch: d(x⁰)/dx = 0 even at x = 0),
    ∂out/∂b = aᵇ · ln a (0 where a = 0 and b ≥ 0)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.shapes = _shape(a), _shape(b)
        return _binary(ctx, ctx.backend.power, "**", a, b)

    @staticmethod
    def backward(ctx, grad):
        # aᵇ⁻¹ and ln a are ±inf at a = 0, where the where()s below replace them: the
        # CPU's warnings about them would be noise
        with np.errstate(divide="ignore", invalid="ignore"):
            return Pow._gradients(ctx, grad)

    @staticmethod
    def _gradients(ctx, grad):
        a, b = ctx.saved_tensors
        be, (sa, sb) = ctx.backend, ctx.shapes
        ga = gb = None
        if ctx.needs_input_grad[0]:
            if isinstance(b, (int, float)):
                if b == 0:
                    ga = be.zeros(sa, a.dtype)
                else:
                    ga = be.mul(grad, be.mul(be.power(a, b - 1), b))
            else:
                # where b = 0 the power aᵇ⁻¹ may be inf (a = 0): the factor b = 0 wins
                d = be.mul(be.power(a, be.sub(b, 1)), b)
                d = be.where(be.eq(b, 0), 0.0, d)
                ga = _reduce_to(ctx, 0, be.mul(grad, d), sa)
        if ctx.needs_input_grad[1]:
            out = be.power(a, b)
            log_a = np.log(a) if isinstance(a, (int, float)) else be.log(a)
            d = be.mul(out, log_a)
            if not isinstance(a, (int, float)):
                d = be.where(be.logical_and(be.eq(a, 0), be.ge(b, 0)), 0.0, d)
            elif a == 0:
                d = be.where(be.ge(b, 0), 0.0, d)
            gb = _reduce_to(ctx, 1, be.mul(grad, d), sb)
        return ga, gb


class Exp(RawFunction):
    """out = eˣ;  ∂out/∂x = eˣ = out."""

    @staticmethod
    def forward(ctx, x):
        out = ctx.backend.exp(_to_float(ctx.backend, x))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return ctx.backend.mul(grad, out)


class Log(RawFunction):
    """out = ln x;  ∂out/∂x = 1/x."""

    @staticmethod
    def forward(ctx, x):
        x = _to_float(ctx.backend, x)
        ctx.save_for_backward(x)
        return ctx.backend.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return ctx.backend.div(grad, x)


class Sqrt(RawFunction):
    """out = √x;  ∂out/∂x = 1 / (2√x) = 1 / (2·out)."""

    @staticmethod
    def forward(ctx, x):
        out = ctx.backend.sqrt(_to_float(ctx.backend, x))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        be = ctx.backend
        return be.div(grad, be.mul(out, 2.0))


class Sin(RawFunction):
    """out = sin x;  ∂out/∂x = cos x."""

    @staticmethod
    def forward(ctx, x):
        x = _to_float(ctx.backend, x)
        ctx.save_for_backward(x)
        return ctx.backend.sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return ctx.backend.mul(grad, ctx.backend.cos(x))


class Cos(RawFunction):
    """out = cos x;  ∂out/∂x = −sin x."""

    @staticmethod
    def forward(ctx, x):
        x = _to_float(ctx.backend, x)
        ctx.save_for_backward(x)
        return ctx.backend.cos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        be = ctx.backend
        return be.neg(be.mul(grad, be.sin(x)))


class Abs(RawFunction):
    """out = |x|;  ∂out/∂x = sign(x) (0 at x = 0, as PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.backend.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return ctx.backend.mul(grad, ctx.backend.sign(x))


class Clamp(RawFunction):
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
        if lo is None and hi is None:
            return grad, None, None
        if lo is None:
            inside = be.le(x, hi)
        else:
            inside = be.ge(x, lo) if hi is None else be.logical_and(be.ge(x, lo), be.le(x, hi))
        # where, not grad · inside: outside the bounds the gradient is 0 even when the
        # gradient arriving there is NaN or inf (clamp(min=0).sqrt() at x < 0)
        return be.where(inside, grad, 0.0), None, None


class MatMul(RawFunction):
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


class Cast(RawFunction):
    """out = x as another floating dtype; the gradient is cast back."""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.in_dtype = x.dtype
        return ctx.backend.astype(x, dtype)

    @staticmethod
    def backward(ctx, grad):
        return ctx.backend.astype(grad, ctx.in_dtype), None


class ToDevice(RawFunction):
    """out = x copied to another device; the gradient is copied back."""

    @staticmethod
    def forward(ctx, x, target):
        ctx.out_backend = target
        return target.from_numpy(ctx.backend.to_numpy(x))

    @staticmethod
    def backward(ctx, grad):
        return ctx.backend.from_numpy(ctx.out_backend.to_numpy(grad)), None


class _Extremum(RawFunction):
    """out = max(a, b) (Maximum) or min(a, b) (Minimum) elementwise; the gradient goes
    to the operand that was chosen, split evenly between the two where they tie."""

    pick = None  # the backend's method: "maximum" or "minimum"

    @classmethod
    def forward(cls, ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.shapes = _shape(a), _shape(b)
        return _binary(ctx, getattr(ctx.backend, cls.pick), cls.pick, a, b)

    @classmethod
    def backward(cls, ctx, grad):
        a, b = ctx.saved_tensors
        be, (sa, sb) = ctx.backend, ctx.shapes
        wins = be.gt(a, b) if cls.pick == "maximum" else be.lt(a, b)
        # share of a: 1 where it was chosen, ½ on a tie, 0 where b was
        share = be.add(be.astype(wins, grad.dtype), be.mul(be.astype(be.eq(a, b), grad.dtype), 0.5))
        ga = _reduce_to(ctx, 0, be.mul(grad, share), sa) if ctx.needs_input_grad[0] else None
        gb = (_reduce_to(ctx, 1, be.mul(grad, be.sub(1.0, share)), sb)
              if ctx.needs_input_grad[1] else None)
        return ga, gb


class Maximum(_Extremum):
    pick = "maximum"


class Minimum(_Extremum):
    pick = "minimum"


class Where(RawFunction):
    """out = a where cond else b (a, b broadcast; either may be a number);
    ∂out/∂a = [cond], ∂out/∂b = [not cond]."""

    @staticmethod
    def forward(ctx, cond, a, b):
        if cond.dtype.kind != "b":
            raise TypeError(f"where: the condition must be a bool tensor, got dtype {cond.dtype}")
        ctx.save_for_backward(cond)
        ctx.shapes = _shape(a), _shape(b)
        be = ctx.backend
        try:
            out = be.where(cond, a, b)
        except ValueError:
            raise ValueError(f"where: shapes {_shape(cond)}, {_shape(a)} and {_shape(b)} "
                             f"cannot be broadcast together") from None
        return _promote(be, out, a, b)

    @staticmethod
    def backward(ctx, grad):
        (cond,) = ctx.saved_tensors
        be, (sa, sb) = ctx.backend, ctx.shapes
        ga = _reduce_to(ctx, 1, be.where(cond, grad, 0.0), sa) if ctx.needs_input_grad[1] else None
        gb = _reduce_to(ctx, 2, be.where(cond, 0.0, grad), sb) if ctx.needs_input_grad[2] else None
        return None, ga, gb


class Clone(RawFunction):
    """out = a copy of x in storage of its own (in C order);  ∂out/∂x = 1."""

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.copy(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


class Expand(RawFunction):
    """out = x repeated along its broadcast dimensions;  the gradient is summed back."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return ctx.backend.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return ctx.backend.sum_to_shape(grad, ctx.in_shape), None


class Full(RawFunction):
    """out = ``value`` everywhere, in x's shape and dtype: ``fill_`` on a tensor of a
    graph. out does not depend on x, so no gradient flows back to it."""

    @staticmethod
    def forward(ctx, x, value):
        return ctx.backend.full(x.shape, value, x.dtype)

    @staticmethod
    def backward(ctx, grad):
        return None, None
