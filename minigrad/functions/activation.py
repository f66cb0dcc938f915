"""Activations, softmax, dropout, and the dense layer fused with its activation.

Activation derivatives are written in terms of the output y = f(x), which is what
forward keeps: relu′ = [y > 0], σ′ = y(1 − y), tanh′ = 1 − y².
"""

from ..autograd import RawFunction
from .arithmetic import _to_float


class Activation(RawFunction):
    """y = f(x) elementwise for f in relu, leaky_relu, sigmoid, tanh;  ∂L/∂x = ∂L/∂y ⊙ f′."""

    @staticmethod
    def forward(ctx, x, name, slope):
        y = ctx.backend.activation(name, _to_float(ctx.backend, x), slope)
        ctx.save_for_backward(y)
        ctx.activation, ctx.slope = name, slope
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return ctx.backend.activation_backward(ctx.activation, grad, y, ctx.slope), None, None


class LinearActivation(RawFunction):
    """A dense layer and its activation in one node: h = f(x Wᵀ + b).

    x is (N, in), W is (out, in) as in PyTorch, b is (out,) or None, f one of
    identity, relu, leaky_relu, sigmoid, tanh. With δ = ∂L/∂h ⊙ f′:
    ∂L/∂x = δ W,  ∂L/∂W = δᵀ x,  ∂L/∂b = Σ_rows δ.
    The backend computes each direction in as few passes as the layer's size allows:
    a product, then bias and f in one kernel; or, for a small layer on the CPU, all of
    it in a single kernel call.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, name, slope):
        h = ctx.backend.linear(x, weight, bias, name, slope)
        ctx.save_for_backward(x, weight, h)
        ctx.activation, ctx.slope, ctx.has_bias = name, slope, bias is not None
        return h

    @staticmethod
    def backward(ctx, grad):
        x, weight, h = ctx.saved_tensors
        needs = ctx.needs_input_grad
        need_b = ctx.has_bias and needs[2]
        # ∂W and ∂b straight into the optimizer's gradient buffer when it has a slot
        gx, gw, gb = ctx.backend.linear_backward(
            grad, x, weight, h, ctx.activation, ctx.slope, needs[0], needs[1], need_b,
            ctx.grad_buffer(1) if needs[1] else None, ctx.grad_buffer(2) if need_b else None)
        return gx, gw, gb, None, None


class Softmax(RawFunction):
    """y = softmax(x) along ``axis``;  ∂L/∂x = y ⊙ (g − Σ_axis g ⊙ y)."""

    @staticmethod
    def forward(ctx, x, axis):
        y = ctx.backend.softmax(_to_float(ctx.backend, x), axis)
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        be = ctx.backend
        dot = be.sum(be.mul(grad, y), ctx.axis, True)
        return be.mul(y, be.sub(grad, dot)), None


class LogSoftmax(RawFunction):
    """y = x − log Σ_axis eˣ (stable);  ∂L/∂x = g − softmax(x) · Σ_axis g."""

    @staticmethod
    def forward(ctx, x, axis):
        y = ctx.backend.log_softmax(_to_float(ctx.backend, x), axis)
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        be = ctx.backend
        return be.sub(grad, be.mul(be.exp(y), be.sum(grad, ctx.axis, True))), None


class Dropout(RawFunction):
    """y = x ⊙ mask, mask = [u ≥ p] / (1 − p);  ∂L/∂x = ∂L/∂y ⊙ mask."""

    @staticmethod
    def forward(ctx, x, mask):
        ctx.save_for_backward(mask)
        return ctx.backend.mul(x, mask)

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return ctx.backend.mul(grad, mask), None
