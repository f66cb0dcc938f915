"""Reductions: sum, mean, max. Their backward spreads the gradient back over the
axes that were reduced (each input element contributed to one output element)."""

from ..autograd import Function


def _axes(axis, ndim):
    """axis (None, int or tuple, negatives allowed) -> a sorted tuple of axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in axes:
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"axis {a} is out of range for a tensor of {ndim} dimensions")
        out.append(a % ndim if ndim else 0)
    return tuple(sorted(set(out)))


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _spread(be, grad, in_shape, axes):
    """Reshape grad to keepdims form, then broadcast it over the reduced axes."""
    return be.broadcast_to(be.reshape(grad, _kept_shape(in_shape, axes)), in_shape)


class Sum(Function):
    """out = Σ x over ``axis``;  ∂out/∂x = 1 for every summed element."""

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        ctx.in_shape, ctx.axes = x.shape, _axes(axis, x.ndim)
        return ctx.backend.sum(x, ctx.axes, keepdims)

    @staticmethod
    def backward(ctx, grad):
        return _spread(ctx.backend, grad, ctx.in_shape, ctx.axes), None, None


class Mean(Function):
    """out = (1/n) Σ x over ``axis``;  ∂out/∂x = 1/n."""

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        ctx.in_shape, ctx.axes = x.shape, _axes(axis, x.ndim)
        n = 1
        for a in ctx.axes:
            n *= x.shape[a]
        ctx.n = n
        be = ctx.backend
        return be.div(be.sum(x, ctx.axes, keepdims), max(n, 1))

    @staticmethod
    def backward(ctx, grad):
        be = ctx.backend
        return be.div(_spread(be, grad, ctx.in_shape, ctx.axes), ctx.n), None, None


class Max(Function):
    """out = max x over ``axis``. The gradient goes to the maximal element; where
    several elements tie for the maximum it is split evenly between them."""

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        if x.size == 0:
            raise ValueError("max: the tensor is empty")
        be = ctx.backend
        ctx.axes = _axes(axis, x.ndim)
        kept = be.max(x, ctx.axes, True)
        ctx.save_for_backward(x, kept)
        return kept if keepdims else be.reshape(kept, tuple(
            n for i, n in enumerate(x.shape) if i not in ctx.axes))

    @staticmethod
    def backward(ctx, grad):
        x, kept = ctx.saved_tensors
        be = ctx.backend
        is_max = be.astype(be.eq(x, kept), x.dtype)
        share = be.div(is_max, be.sum(is_max, ctx.axes, True))
        return be.mul(_spread(be, grad, x.shape, ctx.axes), share), None, None
