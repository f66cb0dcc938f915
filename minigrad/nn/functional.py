"""Stateless versions of the layers and losses: ``import minigrad.nn.functional as F``.

Each function checks its arguments (types, dtypes, shapes, values) and raises
before anything is computed, then calls one Function from :mod:`minigrad.functions`.
"""

import numbers

import numpy as np

from .. import functions as _fn
from .. import random as _random
from ..tensor import Tensor, _axis

_REDUCTIONS = ("mean", "sum", "none")
_INT64 = np.dtype(np.int64)


def _need_tensor(x, op, what="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {what} must be a Tensor, got {type(x).__name__}")


def _check_reduction(reduction, op):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _check_same_device(a, b, op):
    if a._backend is not b._backend:
        raise RuntimeError(f"{op}: expected both tensors on one device, got {a.device} and {b.device}")


# ---- layers -------------------------------------------------------------------------

_ACTIVATIONS = ("identity", "relu", "leaky_relu", "sigmoid", "tanh")
_FAST = frozenset(("identity", "relu", "sigmoid", "tanh"))  # no slope to check


def linear(input, weight, bias=None, activation="identity", negative_slope=0.01):
    """y = input Wᵀ + b, for input (..., in), weight (out, in), bias (out,).

    ``activation`` (identity, relu, leaky_relu, sigmoid, tanh) fuses f(y) into the
    same node and the same pass over memory; ``nn.Sequential`` uses it to fuse a
    Linear with the activation that follows it.
    """
    # The common case, checked in one expression; anything else takes the checks
    # below, which say what is wrong.
    if (isinstance(input, Tensor) and isinstance(weight, Tensor) and activation in _FAST
            and input.raw.ndim == 2 and weight.raw.ndim == 2
            and input.raw.shape[1] == weight.raw.shape[1]
            and input.raw.dtype == weight.raw.dtype and input._backend is weight._backend
            and (bias is None or (isinstance(bias, Tensor) and bias._backend is weight._backend
                                  and bias.raw.shape == (weight.raw.shape[0],)
                                  and bias.raw.dtype == weight.raw.dtype))):
        return _fn.LinearActivation.apply(input, weight, bias, activation, 0.0)
    _need_tensor(input, "linear")
    _need_tensor(weight, "linear", "weight")
    if activation not in _ACTIVATIONS:
        raise ValueError(f"linear: activation must be one of {_ACTIVATIONS}, got {activation!r}")
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out, in), got shape {weight.shape}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input of shape {input.shape} does not match weight of shape "
            f"{weight.shape} (expected input (..., {weight.shape[1]}))")
    if input.dtype != weight.dtype:
        raise TypeError(f"linear: input is {input.dtype} but weight is {weight.dtype}")
    _check_same_device(input, weight, "linear")
    if bias is not None:
        _need_tensor(bias, "linear", "bias")
        if bias.shape != (weight.shape[0],):
            raise ValueError(
                f"linear: bias of shape {bias.shape} does not match weight of shape "
                f"{weight.shape} (expected ({weight.shape[0]},))")
        if bias.dtype != weight.dtype:
            raise TypeError(f"linear: bias is {bias.dtype} but weight is {weight.dtype}")
        _check_same_device(bias, weight, "linear")
    if activation == "leaky_relu":
        _check_slope(negative_slope)
    x = input if input.ndim == 2 else input.reshape(-1, weight.shape[1])
    y = _fn.LinearActivation.apply(x, weight, bias, activation, float(negative_slope))
    return y if input.ndim == 2 else y.reshape(*input.shape[:-1], weight.shape[0])


def _check_slope(negative_slope):
    if not isinstance(negative_slope, numbers.Real) or negative_slope < 0:
        # The backward kernel reads the sign of x from y = f(x), which needs slope ≥ 0.
        raise ValueError(f"leaky_relu: negative_slope must be a number >= 0, got {negative_slope!r}")


def relu(input):
    """max(x, 0) elementwise."""
    _need_tensor(input, "relu")
    return _fn.Activation.apply(input, "relu", 0.0)


def leaky_relu(input, negative_slope=0.01):
    """x for x > 0, negative_slope · x otherwise."""
    _need_tensor(input, "leaky_relu")
    _check_slope(negative_slope)
    return _fn.Activation.apply(input, "leaky_relu", float(negative_slope))


def sigmoid(input):
    """σ(x) = 1 / (1 + e^{−x}), computed stably."""
    _need_tensor(input, "sigmoid")
    return _fn.Activation.apply(input, "sigmoid", 0.0)


def tanh(input):
    _need_tensor(input, "tanh")
    return _fn.Activation.apply(input, "tanh", 0.0)


def softmax(input, axis=None, *, dim=None):
    """e^{x_i} / Σ_j e^{x_j} along ``axis`` (``dim`` is an alias; the last axis by
    default), computed stably."""
    _need_tensor(input, "softmax")
    return _fn.Softmax.apply(input, _axis(axis, dim, "softmax", -1))


def log_softmax(input, axis=None, *, dim=None):
    """x_i − log Σ_j e^{x_j} along ``axis`` (``dim`` is an alias), computed stably."""
    _need_tensor(input, "log_softmax")
    return _fn.LogSoftmax.apply(input, _axis(axis, dim, "log_softmax", -1))


def dropout(input, p=0.5, training=True):
    """Zero each element with probability p and scale the rest by 1/(1 − p), when training."""
    _need_tensor(input, "dropout")
    if not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    if not training or p == 0.0:
        return input
    be = input._backend
    mask = be.dropout_mask(input.shape, float(p), input.dtype, _random.generator())
    return _fn.Dropout.apply(input, mask)


# ---- losses -----------------------------------------------------------------------------


def _check_pair(input, target, op):
    _need_tensor(input, op)
    _need_tensor(target, op, "target")
    _check_same_device(input, target, op)
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {input.dtype}")


def _same_float_pair(input, target, reduction):
    """True when input and target are float Tensors of one shape, dtype and device."""
    return (isinstance(input, Tensor) and isinstance(target, Tensor) and reduction in _REDUCTIONS
            and input.raw.dtype.kind == "f" and input.raw.dtype == target.raw.dtype
            and input.raw.shape == target.raw.shape and input._backend is target._backend)


def _float_target(input, target, op):
    """The target as the input's float dtype (shapes must match exactly)."""
    if input.shape != target.shape:
        raise ValueError(
            f"{op}: input of shape {input.shape} and target of shape {target.shape} differ")
    if target.dtype.kind not in "biuf":
        raise TypeError(f"{op}: target must be numeric, got dtype {target.dtype}")
    return target if target.dtype == input.dtype else target.to(dtype=input.dtype)


def mse_loss(input, target, reduction="mean"):
    """Mean squared error: reduce((input − target)²)."""
    if _same_float_pair(input, target, reduction):
        return _fn.MSELoss.apply(input, target, reduction)
    _check_pair(input, target, "mse_loss")
    _check_reduction(reduction, "mse_loss")
    target = _float_target(input, target, "mse_loss")
    return _fn.MSELoss.apply(input, target, reduction)


def cross_entropy(input, target, reduction="mean"):
    """Softmax cross-entropy of logits ``input`` (N, C), fused and numerically stable.

    ``target`` is either class indices (N,) of an integer dtype, each in [0, C), or
    class probabilities (N, C) of a float dtype. A class index out of range raises
    ValueError on the CPU; on a GPU it makes that sample's loss NaN instead (checking
    first would copy the targets' range back to the host on every step).
    """
    op = "cross_entropy"
    if (isinstance(input, Tensor) and isinstance(target, Tensor) and reduction in _REDUCTIONS
            and input.raw.ndim == 2 and input.raw.dtype.kind == "f"
            and target.raw.ndim == 1 and target.raw.dtype == _INT64
            and target.raw.shape[0] == input.raw.shape[0] and input._backend is target._backend):
        be = input._backend
        if not be.checks_values or be.validate_classes(target.raw, input.raw.shape[1]) is None:
            return _fn.CrossEntropyLoss.apply(input, target, reduction)
    _check_pair(input, target, op)
    _check_reduction(reduction, op)
    if input.ndim != 2:
        raise ValueError(f"{op}: input must be logits of shape (N, C), got {input.shape}")
    n, c = input.shape
    if target.ndim == 1:
        if target.dtype.kind not in "iu":
            raise TypeError(
                f"{op}: a target of shape ({n},) holds class indices and must be an "
                f"integer tensor, got dtype {target.dtype} (use .long())")
        if target.shape[0] != n:
            raise ValueError(f"{op}: input has {n} rows but target has {target.shape[0]}")
        bad = input._backend.validate_classes(target.raw, c) if input._backend.checks_values else None
        if bad is not None:
            raise ValueError(f"{op}: target class {bad} is out of range for {c} classes [0, {c})")
        if target.dtype.itemsize != 8 or target.dtype.kind != "i":
            target = target.long()
    elif target.ndim == 2:
        if target.dtype.kind != "f":
            raise TypeError(
                f"{op}: a target of shape (N, C) holds class probabilities and must be "
                f"floating point, got dtype {target.dtype}")
        target = _float_target(input, target, op)
    else:
        raise ValueError(
            f"{op}: target must be class indices ({n},) or probabilities ({n}, {c}), "
            f"got shape {target.shape}")
    return _fn.CrossEntropyLoss.apply(input, target, reduction)


def binary_cross_entropy(input, target, reduction="mean"):
    """−(y log p + (1 − y) log(1 − p)) on probabilities p in [0, 1], logs clamped at −100.

    An input outside [0, 1] raises ValueError on the CPU and gives NaN on a GPU.
    """
    op = "binary_cross_entropy"
    _check_pair(input, target, op)
    _check_reduction(reduction, op)
    target = _float_target(input, target, op)
    if input._backend.checks_values and not input._backend.all_in_range(input.raw, 0.0, 1.0):
        raise ValueError(f"{op}: every input must be a probability in [0, 1] (use "
                         f"binary_cross_entropy_with_logits for logits)")
    return _fn.BCELoss.apply(input, target, reduction)


def binary_cross_entropy_with_logits(input, target, reduction="mean"):
    """Binary cross-entropy of σ(z), fused with the sigmoid: stable for any logit z."""
    op = "binary_cross_entropy_with_logits"
    if _same_float_pair(input, target, reduction):
        return _fn.BCEWithLogitsLoss.apply(input, target, reduction)
    _check_pair(input, target, op)
    _check_reduction(reduction, op)
    target = _float_target(input, target, op)
    return _fn.BCEWithLogitsLoss.apply(input, target, reduction)
