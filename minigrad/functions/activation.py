"""Activations, softmax, dropout, and the dense layer fused with its activation.

Each activation is a Function named after it (``y.grad_fn`` is ``<SigmoidBackward>``),
and its math is one pair of functions in ``kernels/activations.py``: f, and the
gradient through f, g · f′. A Function says which pair by its code, ``act``. A dense
layer and the activation after it are one LinearActivation node
(``<LinearSigmoidBackward>``).

Forward keeps what the derivative reads: the output y where f′ can be written in
y (relu′ = [y > 0], σ′ = y(1 − y), tanh′ = 1 − y²), the input x otherwise (GELU,
SiLU, Softplus, ELU).
"""

import numbers

from ..kernels import activations as A

from ..autograd import RawFunction
from .arithmetic import _to_float


# The name of each activation's Function by its code, for the fused nodes' names.
_NAMES = {A.IDENTITY: ""}
_READS_INPUT, _IDENTITY = A.READS_INPUT, A.IDENTITY  # (one lookup fewer per node)


class Activation(RawFunction):
    """y = f(x) elementwise;  ∂L/∂x = ∂L/∂y ⊙ f′(x).

    The base of every activation: a subclass names its math by ``act``, a code of
    ``kernels/activations.py``. ``apply(x, p, q)``: p and q are the activation's
    parameters (the negative slope, ELU's α, Softplus's β and threshold; 0 where
    unused). A dense layer followed by it is one ``LinearActivation`` node, named
    after both (``LinearSigmoidBackward``).
    """

    act = A.IDENTITY
    reads_input = False  # act in A.READS_INPUT: what forward saves (set per subclass)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.reads_input = cls.act in A.READS_INPUT
        _NAMES[cls.act] = cls.__name__

    @staticmethod
    def forward(ctx, x, p, q):
        cls = type(ctx)
        x = _to_float(ctx.backend, x)
        y = ctx.backend.activation(cls.act, x, p, q)
        ctx.save_for_backward(x if cls.reads_input else y)
        ctx.p, ctx.q = p, q
        return y

    @staticmethod
    def backward(ctx, grad):
        (s,) = ctx.saved_tensors  # x or y: the one f′ reads
        return ctx.backend.activation_backward(type(ctx).act, grad, s, ctx.p, ctx.q), None, None


def _linear_mismatch(x, weight, bias):
    """Raise the error that says which of a dense layer's arrays does not fit."""
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out, in), got shape {weight.shape}")
    if x.ndim != 2 or x.shape[1] != weight.shape[1]:
        raise ValueError(
            f"linear: input of shape {x.shape} does not match weight of shape "
            f"{weight.shape} (expected input (..., {weight.shape[1]}))")
    if x.dtype != weight.dtype:
        raise TypeError(f"linear: input is {x.dtype} but weight is {weight.dtype}")
    if bias.shape != (weight.shape[0],):
        raise ValueError(
            f"linear: bias of shape {bias.shape} does not match weight of shape "
            f"{weight.shape} (expected ({weight.shape[0]},))")
    raise TypeError(f"linear: bias is {bias.dtype} but weight is {weight.dtype}")


class LinearActivation(RawFunction):
    """A dense layer and its activation in one node: h = f(z), z = x Wᵀ + b.

    ``apply(x, weight, bias, f)``: x is (N, in), W is (out, in) as in PyTorch, b is
    (out,) or None, and f = (code, p, q) the activation: its code and parameters
    (what an activation module's ``_fusable()`` returns). With δ = ∂L/∂h ⊙ f′(z): ∂L/∂x = δ W,  ∂L/∂W = δᵀ x,  ∂L/∂b = Σ_rows δ.
    The backend computes each direction in as few passes as the layer's size allows:
    a product, then bias and f in one kernel; or, for a small layer on the CPU, all of
    it in a single kernel call.

    One class for every activation, the code an argument like p and q; the node is
    named after both parts all the same (``_label``): ``LinearReLUBackward``, and
    ``LinearBackward`` for the identity.
    """

    @staticmethod
    def _label(node):
        return "Linear" + _NAMES.get(node.f[0], "")

    @staticmethod
    def forward(ctx, x, weight, bias, f):
        # The kernels index by these shapes: checked here, so that no caller (the
        # kernel-level one included) can make them read or write out of bounds.
        # (dtypes by identity first: NumPy keeps one object per native dtype)
        dtype = weight.dtype
        if not (x.ndim == 2 and weight.ndim == 2 and x.shape[1] == weight.shape[1]
                and (x.dtype is dtype or x.dtype == dtype)
                and (bias is None or (bias.ndim == 1 and len(bias) == len(weight)
                                      and (bias.dtype is dtype or bias.dtype == dtype)))):
            _linear_mismatch(x, weight, bias)
        ctx.f, ctx.has_bias = f, bias is not None   # first: they name the node
        act, p, q = f
        if act in _READS_INPUT:  # keep z for f′: the layer, then f (two passes)
            z = ctx.backend.linear(x, weight, bias, _IDENTITY)
            h = ctx.backend.activation(act, z, p, q)
            ctx.save_for_backward(x, weight, z)
        else:                    # f′ from h: the layer and f in one pass
            h = ctx.backend.linear(x, weight, bias, act, p, q)
            ctx.save_for_backward(x, weight, h)
        return h

    @staticmethod
    def backward(ctx, grad):
        x, weight, s = ctx.saved_tensors  # s: z or h, whichever f′ reads
        act, p, q = ctx.f
        needs = ctx.needs_input_grad
        need_b = ctx.has_bias and needs[2]
        # ∂W and ∂b straight into each leaf's gradient storage when it has one
        gx, gw, gb = ctx.backend.linear_backward(
            grad, x, weight, s, act, p, q, needs[0], needs[1], need_b,
            ctx.grad_buffer(1) if needs[1] else None, ctx.grad_buffer(2) if need_b else None)
        return gx, gw, gb, None


class ReLU(Activation):
    """f(x) = max(x, 0)."""
    act = A.RELU


class LeakyReLU(Activation):
    """f(x) = x if x > 0 else p · x."""
    act = A.LEAKY_RELU


class Sigmoid(Activation):
    """f(x) = σ(x) = 1 / (1 + e⁻ˣ)."""
    act = A.SIGMOID


class Tanh(Activation):
    """f(x) = tanh(x)."""
    act = A.TANH


class GELU(Activation):
    """f(x) = x Φ(x), Φ the standard normal CDF."""
    act = A.GELU


class GELUTanh(Activation):
    """GELU's tanh approximation: f(x) = ½ x (1 + tanh(√(2/π) (x + 0.044715 x³)))."""
    act = A.GELU_TANH


class SiLU(Activation):
    """f(x) = x σ(x)."""
    act = A.SILU


class Softplus(Activation):
    """f(x) = log(1 + e^(βx)) / β (x past the threshold), p = β, q = the threshold."""
    act = A.SOFTPLUS


class ELU(Activation):
    """f(x) = x if x > 0 else α (eˣ − 1), p = α."""
    act = A.ELU


def _along(be, op, x, axis):
    """``be.softmax`` or ``be.log_softmax`` (``op``) of x along ``axis``, checked.

    A 0-d tensor takes axis 0 and −1, as in PyTorch, and is one row of one element.
    """
    _check_axis(axis, x.ndim, op)
    x = _to_float(be, x)
    if x.ndim == 0:
        return be.reshape(getattr(be, op)(be.reshape(x, (1,)), 0), ())
    return getattr(be, op)(x, axis)


def _check_axis(axis, ndim, op):
    """IndexError naming ``op`` unless ``axis`` is one of the ``ndim`` axes."""
    n = max(ndim, 1)
    if not isinstance(axis, numbers.Integral) or isinstance(axis, bool):
        raise TypeError(f"{op}: dim must be an integer, got {axis!r}")
    if not -n <= axis < n:
        raise IndexError(f"{op}: dim {axis} is out of range for a tensor of {ndim} dimensions "
                         f"(expected one in [{-n}, {n - 1}])")


class Softmax(RawFunction):
    """y = softmax(x) along ``axis``;  ∂L/∂x = y ⊙ (g − Σ_axis g ⊙ y)."""

    @staticmethod
    def forward(ctx, x, axis):
        y = _along(ctx.backend, "softmax", x, axis)
        ctx.save_for_backward(y)
        ctx.axis = axis if x.ndim else None
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        be = ctx.backend
        if ctx.axis is None:          # a 0-d x: y = 1 whatever x is, so ∂L/∂x = 0
            return be.sub(grad, grad), None
        dot = be.sum(be.mul(grad, y), ctx.axis, True)
        return be.mul(y, be.sub(grad, dot)), None


class LogSoftmax(RawFunction):
    """y = x − log Σ_axis eˣ (stable);  ∂L/∂x = g − softmax(x) · Σ_axis g."""

    @staticmethod
    def forward(ctx, x, axis):
        y = _along(ctx.backend, "log_softmax", x, axis)
        ctx.save_for_backward(y)
        ctx.axis = axis if x.ndim else None
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        be = ctx.backend
        if ctx.axis is None:          # a 0-d x: y = 0 whatever x is
            return be.sub(grad, grad), None
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
