"""Stateless versions of the layers and losses: ``import minigrad.nn.functional as F``.

Each function checks its arguments (types, dtypes, shapes, values) and raises
before anything is computed, then calls one Function from :mod:`minigrad.functions`.
"""

import numbers

import numpy as np

from .. import functions as _fn
from .. import random as _random
from ..ops import where as _where
from ..tensor import Tensor, _axis
from ..tensor import arange as _arange

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

# F.linear's ``activation`` names: the code of each (its Function's ``act``), and its
# parameters (p, q) when the name alone gives them.
_FUSED = {
    "identity": (_fn.Activation.act, 0.0, 0.0),       # the identity
    "relu": (_fn.ReLU.act, 0.0, 0.0),
    "leaky_relu": (_fn.LeakyReLU.act, None, 0.0),   # p: negative_slope
    "sigmoid": (_fn.Sigmoid.act, 0.0, 0.0),
    "tanh": (_fn.Tanh.act, 0.0, 0.0),
    "gelu": (_fn.GELU.act, 0.0, 0.0),
    "gelu_tanh": (_fn.GELUTanh.act, 0.0, 0.0),
    "silu": (_fn.SiLU.act, 0.0, 0.0),
    "softplus": (_fn.Softplus.act, 1.0, 20.0),       # β = 1, threshold = 20
    "elu": (_fn.ELU.act, 1.0, 0.0),                  # α = 1
}


def linear(input, weight, bias=None, activation="identity", negative_slope=0.01):
    """y = input Wᵀ + b, for input (..., in), weight (out, in), bias (out,).

    ``activation`` (any name of ``kernels/activations.py``: relu, leaky_relu with
    ``negative_slope``, sigmoid, tanh, gelu, gelu_tanh, silu, softplus, elu, with
    PyTorch's default parameters) fuses f(y) into the same node and the same pass
    over memory; ``nn.Sequential`` fuses a Linear with the activation module that
    follows it the same way.
    """
    fused = _FUSED.get(activation) if isinstance(activation, str) else None
    if fused is None:
        raise ValueError(f"linear: activation must be one of {tuple(_FUSED)}, got {activation!r}")
    if fused[1] is None:
        _check_slope(negative_slope)
        fused = (fused[0], float(negative_slope), fused[2])
    return _linear(input, weight, bias, fused)


def _linear(input, weight, bias, f):
    """The dense layer and the activation ``f`` = (code, p, q) as one LinearActivation
    node, after the checks."""
    # The common case: LinearActivation checks the shapes and dtypes itself; anything
    # else takes the checks below, which say what is wrong.
    if (isinstance(input, Tensor) and isinstance(weight, Tensor) and input.raw.ndim == 2
            and input._backend is weight._backend
            and (bias is None or (isinstance(bias, Tensor) and bias._backend is weight._backend))):
        return _fn.LinearActivation.apply(input, weight, bias, f)
    _need_tensor(input, "linear")
    _need_tensor(weight, "linear", "weight")
    _check_same_device(input, weight, "linear")
    if bias is not None:
        _need_tensor(bias, "linear", "bias")
        _check_same_device(bias, weight, "linear")
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out, in), got shape {weight.shape}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input of shape {input.shape} does not match weight of shape "
            f"{weight.shape} (expected input (..., {weight.shape[1]}))")
    x = input if input.ndim == 2 else input.reshape(-1, weight.shape[1])
    y = _fn.LinearActivation.apply(x, weight, bias, f)
    return y if input.ndim == 2 else y.reshape(*input.shape[:-1], weight.shape[0])


def _check_slope(negative_slope):
    if not isinstance(negative_slope, numbers.Real) or negative_slope < 0:
        # The backward kernel reads the sign of x from y = f(x), which needs slope ≥ 0.
        raise ValueError(f"leaky_relu: negative_slope must be a number >= 0, got {negative_slope!r}")


def _check_real(value, op, name, positive=False):
    if (not isinstance(value, numbers.Real) or isinstance(value, bool)
            or (positive and not value > 0)):
        what = "a number > 0" if positive else "a number"
        raise ValueError(f"{op}: {name} must be {what}, got {value!r}")
    return float(value)


# ---- activations: each a Function of functions/activation.py, its math in
# kernels/activations.py --------------------------------------------------------------


def relu(input):
    """max(x, 0) elementwise."""
    _need_tensor(input, "relu")
    return _fn.ReLU.apply(input, 0.0, 0.0)


def leaky_relu(input, negative_slope=0.01):
    """x for x > 0, negative_slope · x otherwise."""
    _need_tensor(input, "leaky_relu")
    _check_slope(negative_slope)
    return _fn.LeakyReLU.apply(input, float(negative_slope), 0.0)


def sigmoid(input):
    """σ(x) = 1 / (1 + e^{−x}), computed stably."""
    _need_tensor(input, "sigmoid")
    return _fn.Sigmoid.apply(input, 0.0, 0.0)


def tanh(input):
    """tanh(x) elementwise."""
    _need_tensor(input, "tanh")
    return _fn.Tanh.apply(input, 0.0, 0.0)


def _gelu_function(approximate):
    if approximate == "none":
        return _fn.GELU
    if approximate == "tanh":
        return _fn.GELUTanh
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def gelu(input, approximate="none"):
    """x Φ(x), Φ the standard normal CDF; ``approximate="tanh"``:
    ½ x (1 + tanh(√(2/π) (x + 0.044715 x³)))."""
    _need_tensor(input, "gelu")
    return _gelu_function(approximate).apply(input, 0.0, 0.0)


def silu(input):
    """x σ(x) (also called swish)."""
    _need_tensor(input, "silu")
    return _fn.SiLU.apply(input, 0.0, 0.0)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + e^{βx}) / β, and x where βx > threshold."""
    _need_tensor(input, "softplus")
    beta = _check_real(beta, "softplus", "beta", positive=True)
    threshold = _check_real(threshold, "softplus", "threshold")
    return _fn.Softplus.apply(input, beta, threshold)


def elu(input, alpha=1.0):
    """x for x > 0, α (eˣ − 1) otherwise."""
    _need_tensor(input, "elu")
    return _fn.ELU.apply(input, _check_real(alpha, "elu", "alpha"), 0.0)


def softmax(input, dim=None, *, axis=None):
    """e^{x_i} / Σ_j e^{x_j} along ``axis`` (``dim`` is an alias; the last axis by
    default), computed stably."""
    _need_tensor(input, "softmax")
    return _fn.Softmax.apply(input, _axis(axis, dim, "softmax", -1))


def log_softmax(input, dim=None, *, axis=None):
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


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Softmax cross-entropy of logits ``input`` (N, C), fused and numerically stable.

    ``target`` is either class indices (N,) of an integer dtype, each in [0, C), or
    class probabilities (N, C) of a float dtype. A class index out of range raises
    ValueError on the CPU; on a GPU it makes that sample's loss NaN instead (checking
    first would copy the targets' range back to the host on every step).

    As PyTorch: ``weight`` (C,) scales each class's loss (the mean then divides by
    the total weight of the targets); samples whose target is ``ignore_index`` count
    for nothing; ``label_smoothing`` ε mixes the target with the uniform distribution,
    L = (1 − ε)·L_target + ε·(1/C)·Σ_c −log softmax(z)_c. With none of these, one
    fused kernel computes the loss; with any, it is composed of ``log_softmax`` and
    elementwise ops (same numbers, a few more passes).
    """
    op = "cross_entropy"
    plain = weight is None and not label_smoothing
    # (every class index checked to be in [0, C): none is ignore_index unless it is one)
    if (plain and isinstance(input, Tensor) and isinstance(target, Tensor)
            and not 0 <= ignore_index < input.raw.shape[-1]
            and reduction in _REDUCTIONS
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
    weight = _check_class_weight(weight, input, op)
    if not isinstance(label_smoothing, numbers.Real) or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing!r}")
    if target.ndim == 1:
        target, ignored = _class_target(input, target, op, ignore_index)
        # fused unless a sample is ignored (on a GPU, where that is not looked up, the
        # default ignore_index takes the fused kernel: such a sample's loss is NaN)
        if plain and (ignored is False or (ignored is None and ignore_index == -100)):
            return _fn.CrossEntropyLoss.apply(input, target, reduction)
        return _nll(input.log_softmax(1), target, weight, ignore_index, reduction, label_smoothing)
    if target.ndim == 2:
        if target.dtype.kind != "f":
            raise TypeError(
                f"{op}: a target of shape (N, C) holds class probabilities and must be "
                f"floating point, got dtype {target.dtype}")
        target = _float_target(input, target, op)
        if plain:
            return _fn.CrossEntropyLoss.apply(input, target, reduction)
        if label_smoothing:
            target = target * (1.0 - label_smoothing) + label_smoothing / c
        terms = -input.log_softmax(1) * target
        losses = (terms if weight is None else terms * weight).sum(1)
        return _reduce(losses, reduction)
    raise ValueError(
        f"{op}: target must be class indices ({n},) or probabilities ({n}, {c}), "
        f"got shape {target.shape}")


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """The negative log-likelihood of class targets under log-probabilities ``input``
    (N, C), as from ``log_softmax``: L_i = −w_{y_i} · input[i, y_i]; samples whose
    target is ``ignore_index`` count for nothing, and the mean divides by the total
    weight of the others. ``nll_loss(log_softmax(z), y)`` is ``cross_entropy(z, y)``."""
    op = "nll_loss"
    _check_pair(input, target, op)
    _check_reduction(reduction, op)
    if input.ndim != 2:
        raise ValueError(f"{op}: input must be log-probabilities of shape (N, C), got {input.shape}")
    weight = _check_class_weight(weight, input, op)
    if target.ndim != 1:
        raise ValueError(f"{op}: target must be class indices ({input.shape[0]},), got shape {target.shape}")
    target, _ = _class_target(input, target, op, ignore_index)
    return _nll(input, target, weight, ignore_index, reduction, 0.0)


def _check_class_weight(weight, input, op):
    if weight is None:
        return None
    if isinstance(weight, str):
        raise TypeError(f"{op}: weight must be a Tensor, got {weight!r}: the third argument is "
                        f"weight, as in PyTorch; pass reduction={weight!r} by name")
    _need_tensor(weight, op, "weight")
    _check_same_device(input, weight, op)
    if weight.shape != (input.shape[1],):
        raise ValueError(f"{op}: weight must have one value per class, shape "
                         f"({input.shape[1]},), got {weight.shape}")
    return weight if weight.dtype == input.dtype else weight.to(dtype=input.dtype)


def _class_target(input, target, op, ignore_index):
    """(class indices as int64, whether one of them is ``ignore_index``). On the CPU
    each is checked to be in [0, C) or ``ignore_index``; on a GPU nothing is looked
    up (that would copy the targets back every step), and the second is None."""
    n, c = input.shape
    if target.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: a target of shape ({n},) holds class indices and must be an "
            f"integer tensor, got dtype {target.dtype} (use .long())")
    if target.shape[0] != n:
        raise ValueError(f"{op}: input has {n} rows but target has {target.shape[0]}")
    be = input._backend
    ignored = None
    if be.checks_values:
        host = be.to_numpy(target.raw)
        is_ignored = host == ignore_index
        bad = host[~is_ignored & ((host < 0) | (host >= c))]
        if bad.size:
            raise ValueError(f"{op}: target class {int(bad[0])} is out of range for {c} "
                             f"classes [0, {c})")
        ignored = bool(is_ignored.any())
    return (target if target.dtype == _INT64 else target.long()), ignored


def _nll(logp, target, weight, ignore_index, reduction, smoothing):
    """−w_{y_i} log p_{i, y_i} per sample (and the label-smoothing term), composed of
    where and sums so that it runs on every device; reduced as PyTorch does."""
    n, c = logp.shape
    classes = _arange(c, device=logp.device)
    picks = target.unsqueeze(1) == classes                   # (N, C): True at y_i
    valid = target != ignore_index                           # (N,)
    if weight is None:
        w = valid.to(dtype=logp.dtype)                       # w_{y_i} = 1, 0 when ignored
    else:
        w = _where(valid, _where(picks, weight, 0.0).sum(1), 0.0)
    losses = -_where(valid, _where(picks, logp, 0.0).sum(1), 0.0) * w
    if smoothing:
        uniform = -(logp if weight is None else logp * weight).sum(1)
        losses = losses * (1.0 - smoothing) + _where(valid, uniform, 0.0) * (smoothing / c)
    if reduction == "mean":
        return losses.sum() / w.sum()
    return losses.sum() if reduction == "sum" else losses


def _reduce(losses, reduction):
    if reduction == "mean":
        return losses.mean()
    return losses.sum() if reduction == "sum" else losses


def l1_loss(input, target, reduction="mean"):
    """Mean absolute error: reduce(|input − target|)."""
    _check_pair(input, target, "l1_loss")
    _check_reduction(reduction, "l1_loss")
    return _reduce((input - _float_target(input, target, "l1_loss")).abs(), reduction)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """With d = input − target: ½d²/β where |d| < β, |d| − ½β elsewhere (β = 0: L1)."""
    op = "smooth_l1_loss"
    _check_pair(input, target, op)
    _check_reduction(reduction, op)
    if not isinstance(beta, numbers.Real) or beta < 0:
        raise ValueError(f"{op}: beta must be a number >= 0, got {beta!r}")
    d = input - _float_target(input, target, op)
    ad = d.abs()
    if beta == 0:
        return _reduce(ad, reduction)
    return _reduce(_where(ad < beta, d * d * (0.5 / beta), ad - 0.5 * beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """With d = input − target: ½d² where |d| < δ, δ(|d| − ½δ) elsewhere."""
    op = "huber_loss"
    _check_pair(input, target, op)
    _check_reduction(reduction, op)
    if not isinstance(delta, numbers.Real) or delta <= 0:
        raise ValueError(f"{op}: delta must be a number > 0, got {delta!r}")
    d = input - _float_target(input, target, op)
    ad = d.abs()
    return _reduce(_where(ad < delta, d * d * 0.5, (ad - 0.5 * delta) * delta), reduction)


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
