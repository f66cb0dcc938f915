"""The tensor operations as functions, as PyTorch has them: ``mg.exp(x)`` is ``x.exp()``.

Arguments carry PyTorch's names (``input``, ``other``, ``dim``, ``keepdim``), so
``mg.matmul(input=a, other=b)`` and ``mg.sum(x, dim=0, keepdim=True)`` read as they do
there. Each function checks that its tensor arguments are Tensors and hands over to
the Tensor method, or, for the ops of several tensors (``cat``, ``where``,
``maximum``), to the op itself.
"""

import numbers

import numpy as np

from . import functions as _F
from .tensor import Tensor, _axis, _wrap_dim


def _need(x, op, what="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {what} must be a Tensor, got {type(x).__name__}")
    return x


# ---- one tensor --------------------------------------------------------------------------


def exp(input):
    return _need(input, "exp").exp()


def log(input):
    return _need(input, "log").log()


def sqrt(input):
    return _need(input, "sqrt").sqrt()


def sin(input):
    return _need(input, "sin").sin()


def cos(input):
    return _need(input, "cos").cos()


def abs(input):
    return _need(input, "abs").abs()


def neg(input):
    return -_need(input, "neg")


def sign(input):
    return _need(input, "sign").sign()


def sigmoid(input):
    return _need(input, "sigmoid").sigmoid()


def relu(input):
    return _need(input, "relu").relu()


def tanh(input):
    return _need(input, "tanh").tanh()


def softmax(input, dim=None, *, axis=None):
    return _need(input, "softmax").softmax(_axis(axis, dim, "softmax", -1))


def log_softmax(input, dim=None, *, axis=None):
    return _need(input, "log_softmax").log_softmax(_axis(axis, dim, "log_softmax", -1))


def clamp(input, min=None, max=None):
    return _need(input, "clamp").clamp(min, max)


clip = clamp


def pow(input, exponent):
    """inputᵉ; either may be a number (not both)."""
    if isinstance(input, Tensor):
        return input.pow(exponent)
    return _need(exponent, "pow", "exponent").__rpow__(input)


def sum(input, dim=None, keepdim=False, *, axis=None, keepdims=False):
    return _need(input, "sum").sum(dim, keepdim, axis=axis, keepdims=keepdims)


def mean(input, dim=None, keepdim=False, *, axis=None, keepdims=False):
    return _need(input, "mean").mean(dim, keepdim, axis=axis, keepdims=keepdims)


def max(input, dim=None, keepdim=False, *, axis=None, keepdims=False):
    """The largest element; ``(values, indices)`` along ``dim``; or, given a second
    Tensor, the elementwise maximum."""
    return _need(input, "max").max(dim, keepdim, axis=axis, keepdims=keepdims)


def min(input, dim=None, keepdim=False, *, axis=None, keepdims=False):
    return _need(input, "min").min(dim, keepdim, axis=axis, keepdims=keepdims)


def argmax(input, dim=None, keepdim=False, *, axis=None, keepdims=False):
    return _need(input, "argmax").argmax(dim, keepdim, axis=axis, keepdims=keepdims)


def argmin(input, dim=None, keepdim=False, *, axis=None, keepdims=False):
    return _need(input, "argmin").argmin(dim, keepdim, axis=axis, keepdims=keepdims)


def reshape(input, shape):
    return _need(input, "reshape").reshape(shape)


def flatten(input, start_dim=0, end_dim=-1):
    return _need(input, "flatten").flatten(start_dim, end_dim)


def squeeze(input, dim=None):
    return _need(input, "squeeze").squeeze(dim)


def unsqueeze(input, dim):
    return _need(input, "unsqueeze").unsqueeze(dim)


def transpose(input, dim0, dim1):
    return _need(input, "transpose").transpose(dim0, dim1)


def permute(input, dims):
    return _need(input, "permute").permute(*dims)


def t(input):
    return _need(input, "t").t()


def clone(input):
    return _need(input, "clone").clone()


def numel(input):
    return _need(input, "numel").numel()


# ---- two tensors -------------------------------------------------------------------------


def matmul(input, other):
    return _need(input, "matmul") @ _need(other, "matmul", "other")


def mm(input, mat2):
    return _need(input, "mm").mm(mat2)


def _pair(op, a, b):
    """Operands of an elementwise op of two: Tensors on one device, or a number."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{op}: expected at least one Tensor")
    t = a if isinstance(a, Tensor) else b
    a, b = (x if isinstance(x, Tensor) else t._operand(x) for x in (a, b))
    return a, b


def maximum(input, other):
    """The elementwise maximum (a NaN on either side gives NaN); at ties the gradient
    is split evenly."""
    return _F.Maximum.apply(*_pair("maximum", input, other))


def minimum(input, other):
    """The elementwise minimum; as ``maximum``."""
    return _F.Minimum.apply(*_pair("minimum", input, other))


def where(condition, input, other):
    """``input`` where ``condition`` is True, else ``other``, broadcast together; input
    or other may be a number. The gradient flows to the side that was taken."""
    _need(condition, "where", "condition")
    if condition.dtype.kind != "b":
        raise TypeError(f"where: condition must be a bool tensor, got dtype {condition.dtype}")
    a = condition._operand(input) if not isinstance(input, Tensor) else input
    b = condition._operand(other) if not isinstance(other, Tensor) else other
    for x in (a, b):
        if not isinstance(x, (Tensor, numbers.Number)):
            raise TypeError("where: input and other must be Tensors or numbers")
    return _F.Where.apply(condition, a, b)


# ---- several tensors ---------------------------------------------------------------------


def cat(tensors, dim=0, *, axis=None):
    """The tensors joined along ``dim``; every other dimension must match."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of Tensors")
    for i, x in enumerate(tensors):
        _need(x, "cat", f"tensors[{i}]")
    first = tensors[0]
    d = _wrap_dim(_axis(axis, dim, "cat", 0), first.ndim, "cat")
    for i, x in enumerate(tensors[1:], 1):
        if x.ndim != first.ndim or any(
                n != m for k, (n, m) in enumerate(zip(x.shape, first.shape)) if k != d):
            raise ValueError(f"cat: tensors[{i}] has shape {x.shape}, which does not match "
                             f"{first.shape} outside dim {d}")
    if len(tensors) == 1:
        return first.clone()        # new storage, as always
    return _F.Cat.apply(d, *tensors)


concat = cat


def stack(tensors, dim=0, *, axis=None):
    """The tensors, all of one shape, stacked along a new dimension ``dim``."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty list of Tensors")
    for i, x in enumerate(tensors):
        _need(x, "stack", f"tensors[{i}]")
        if x.shape != tensors[0].shape:
            raise ValueError(f"stack: tensors[{i}] has shape {x.shape}, tensors[0] {tensors[0].shape}")
    d = _wrap_dim(_axis(axis, dim, "stack", 0), tensors[0].ndim, "stack", extra=1)
    return cat([x.unsqueeze(d) for x in tensors], d)


def allclose(input, other, rtol=1e-5, atol=1e-8, equal_nan=False):
    return bool(np.allclose(input._host(), other._host(), rtol=rtol, atol=atol,
                            equal_nan=equal_nan))
