"""Ops that move elements without changing them: reshape, transpose, indexing,
concatenation, item assignment."""

import numpy as np

from .. import tensor as _tensor
from ..autograd import RawFunction

_F64 = np.dtype(np.float64)

_BASIC = (int, slice, type(None), type(Ellipsis))


class Reshape(RawFunction):
    """out = x with a new shape;  the gradient takes the old shape back."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        try:
            return ctx.backend.reshape(x, shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {x.shape} "
                f"({x.size} elements) into {tuple(shape)}") from None

    @staticmethod
    def backward(ctx, grad):
        return ctx.backend.reshape(grad, ctx.in_shape), None


class Transpose(RawFunction):
    """out = x with its axes permuted;  the gradient is permuted back."""

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return ctx.backend.transpose(x, axes)

    @staticmethod
    def backward(ctx, grad):
        inverse = [0] * len(ctx.axes)
        for i, a in enumerate(ctx.axes):
            inverse[a] = i
        return ctx.backend.transpose(grad, tuple(inverse)), None


class GetItem(RawFunction):
    """out = x[index];  the gradient lands on the selected elements, zero elsewhere."""

    @staticmethod
    def forward(ctx, x, index):
        ctx.in_shape, ctx.index, ctx.dtype = x.shape, index, x.dtype
        parts = index if isinstance(index, tuple) else (index,)
        ctx.basic = all(isinstance(i, _BASIC) and not isinstance(i, bool) for i in parts)
        return ctx.backend.getitem(x, index)

    @staticmethod
    def backward(ctx, grad):
        return ctx.backend.index_grad(ctx.in_shape, ctx.index, grad, ctx.dtype, ctx.basic), None


class Cat(RawFunction):
    """out = the inputs joined along ``dim``;  each input's gradient is its slice of ∂L/∂out."""

    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim, ctx.sizes = dim, [x.shape[dim] for x in xs]
        out = ctx.backend.concatenate(xs, dim)
        if out.dtype == _F64 and all(x.dtype != _F64 for x in xs):
            out = ctx.backend.astype(out, _tensor._default_float)
        return out

    @staticmethod
    def backward(ctx, grad):
        grads, start, lead = [None], 0, (slice(None),) * ctx.dim
        for n, needed in zip(ctx.sizes, ctx.needs_input_grad[1:]):
            grads.append(ctx.backend.getitem(grad, lead + (slice(start, start + n),))
                         if needed else None)
            start += n
        return tuple(grads)


class SetItem(RawFunction):
    """out = x with out[index] = value (``x[index] = value`` on a tensor of a graph);
    ∂L/∂x = ∂L/∂out with the assigned elements zeroed, ∂L/∂value = ∂L/∂out[index]
    summed back to value's shape."""

    @staticmethod
    def forward(ctx, x, index, value):
        be = ctx.backend
        out = be.copy(x)
        be.setitem(out, index, value)
        ctx.index, ctx.value_shape = index, getattr(value, "shape", ())
        return out

    @staticmethod
    def backward(ctx, grad):
        be = ctx.backend
        gx = gv = None
        if ctx.needs_input_grad[0]:
            gx = be.copy(grad)
            be.setitem(gx, ctx.index, 0)
        if ctx.needs_input_grad[2]:
            gv = be.sum_to_shape(be.getitem(grad, ctx.index), ctx.value_shape)
        return gx, None, gv
