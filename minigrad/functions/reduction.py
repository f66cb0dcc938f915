"""Reductions: sum, mean, max, min. Their backward spreads the gradient back over the
axes that were reduced (each input element contributed to one output element)."""

import numpy as np

from ..autograd import RawFunction


def _axes(axis, ndim, op):
    """axis (None, int or tuple, negatives allowed) -> a sorted tuple of axes.

    A 0-d tensor takes dim 0 and −1 (as PyTorch), which reduce nothing."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"{op}: dim must be an integer or a tuple of them, got {axis!r}")
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise IndexError(f"{op}: dim {a} is out of range for a tensor of {ndim} dimensions")
        if ndim:
            out.append(a % ndim)
    return tuple(sorted(set(out)))


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _spread(be, grad, in_shape, axes):
    """Reshape grad to keepdims form, then broadcast it over the reduced axes."""
    return be.broadcast_to(be.reshape(grad, _kept_shape(in_shape, axes)), in_shape)


class Sum(RawFunction):
    """out = Σ x over ``axis``;  ∂out/∂x = 1 for every summed element."""

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        ctx.in_shape, ctx.axes = x.shape, _axes(axis, x.ndim, "sum")
        return ctx.backend.sum(x, ctx.axes, keepdims)

    @staticmethod
    def backward(ctx, grad):
        return _spread(ctx.backend, grad, ctx.in_shape, ctx.axes), None, None


class Mean(RawFunction):
    """out = (1/n) Σ x over ``axis`` (NaN when n = 0, as PyTorch);  ∂out/∂x = 1/n."""

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        if x.dtype.kind != "f":
            raise TypeError(f"mean: the mean of a tensor of dtype {x.dtype} is not defined "
                            f"(as in PyTorch): convert it first, x.float().mean()")
        ctx.in_shape, ctx.axes = x.shape, _axes(axis, x.ndim, "mean")
        n = 1
        for a in ctx.axes:
            n *= x.shape[a]
        ctx.n = n
        be = ctx.backend
        total = be.sum(x, ctx.axes, keepdims)
        if n == 0:
            return be.full(total.shape, np.nan, total.dtype)
        return be.div(total, n)

    @staticmethod
    def backward(ctx, grad):
        be = ctx.backend
        return be.div(_spread(be, grad, ctx.in_shape, ctx.axes), ctx.n), None, None


class _Extreme(RawFunction):
    """out = max x (Max) or min x (Min) over ``axis``. The gradient goes to the
    extremal element; where several elements tie for it, it is split evenly."""

    reduce = None  # the backend's method: "max" or "min"

    @classmethod
    def forward(cls, ctx, x, axis, keepdims):
        if x.size == 0:
            raise ValueError(f"{cls.reduce}: the tensor is empty")
        be = ctx.backend
        ctx.axes = _axes(axis, x.ndim, cls.reduce)
        kept = getattr(be, cls.reduce)(x, ctx.axes, True)
        ctx.save_for_backward(x, kept)
        return kept if keepdims else be.reshape(kept, tuple(
            n for i, n in enumerate(x.shape) if i not in ctx.axes))

    @staticmethod
    def backward(ctx, grad):
        x, kept = ctx.saved_tensors
        be = ctx.backend
        is_extreme = be.astype(be.eq(x, kept), x.dtype)
        share = be.div(is_extreme, be.sum(is_extreme, ctx.axes, True))
        return be.mul(_spread(be, grad, x.shape, ctx.axes), share), None, None


class Max(_Extreme):
    reduce = "max"


class Min(_Extreme):
    reduce = "min"
