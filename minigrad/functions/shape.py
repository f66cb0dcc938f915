"""Ops that move elements without changing them: reshape, transpose, indexing."""

from ..autograd import Function

_BASIC = (int, slice, type(None), type(Ellipsis))


class Reshape(Function):
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


class Transpose(Function):
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


class GetItem(Function):
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
