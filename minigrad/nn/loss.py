"""Loss modules: thin wrappers that hold ``reduction`` (and their options) and call
nn.functional."""

import warnings

from ..tensor import Tensor
from . import functional as F
from .module import Module


def _legacy_reduction(size_average, reduce, reduction):
    """PyTorch's old arguments: size_average=False meant "sum", reduce=False "none"."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn("size_average and reduce are deprecated, as in PyTorch; use reduction=",
                  UserWarning, stacklevel=3)
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        reduction = _legacy_reduction(size_average, reduce, reduction)
        F._check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def extra_repr(self):
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if weight is not None and not isinstance(weight, Tensor):
            raise TypeError(f"{type(self).__name__}: weight must be a Tensor, got "
                            f"{type(weight).__name__}")
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """reduce((input − target)²); for the mean, ∂L/∂input = 2(input − target)/N."""

    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """reduce(|input − target|)."""

    def forward(self, input, target):
        return F.l1_loss(input, target, self.reduction)


class SmoothL1Loss(_Loss):
    """½d²/β where |d| < β, |d| − ½β elsewhere, d = input − target."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """½d² where |d| < δ, δ(|d| − ½δ) elsewhere, d = input − target."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax + cross-entropy on logits (N, C), with class-index (N,) or
    class-probability (N, C) targets; ∂L/∂z = (softmax(z) − onehot(y))/N for the mean.
    ``weight``, ``ignore_index`` and ``label_smoothing`` as PyTorch's."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean", label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction,
                               self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """−input[i, y_i] on log-probabilities (N, C), e.g. after ``LogSoftmax``;
    ``weight`` and ``ignore_index`` as PyTorch's."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy on probabilities, each log clamped at −100."""

    def forward(self, input, target):
        loss = F.binary_cross_entropy(input, target, reduction="none" if self.weight is not None
                                      else self.reduction)
        return loss if self.weight is None else F._reduce(loss * self.weight, self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Binary cross-entropy on logits, sigmoid fused in; stable for any logit;
    ∂L/∂z = (σ(z) − y)/N for the mean."""

    def forward(self, input, target):
        if self.weight is None:
            return F.binary_cross_entropy_with_logits(input, target, self.reduction)
        loss = F.binary_cross_entropy_with_logits(input, target, reduction="none")
        return F._reduce(loss * self.weight, self.reduction)
