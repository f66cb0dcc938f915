"""Loss modules: thin wrappers that hold ``reduction`` and call nn.functional."""

from . import functional as F
from .module import Module


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        F._check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def extra_repr(self):
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """reduce((input − target)²); for the mean, ∂L/∂input = 2(input − target)/N."""

    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)


class CrossEntropyLoss(_Loss):
    """Softmax + cross-entropy on logits (N, C), with class-index (N,) or
    class-probability (N, C) targets; ∂L/∂z = (softmax(z) − onehot(y))/N for the mean."""

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities, each log clamped at −100."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits, sigmoid fused in; stable for any logit;
    ∂L/∂z = (σ(z) − y)/N for the mean."""

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.reduction)
