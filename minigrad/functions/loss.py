"""Loss functions, each fused into one node: forward computes the per-element
losses and their reduction in one kernel; backward is one kernel too.

``reduction`` is "mean" (divide the sum by the number of losses), "sum" or "none"
(one loss per element or row). The upstream gradient ``grad`` is 0-d after a mean
or sum and has the losses' shape after "none"; the backend folds it into the kernel.
"""

from ..autograd import RawFunction


def _shapes_differ(op, a, b):
    """The error for a fused kernel's two arrays (it walks both by the first one's shape)."""
    return ValueError(f"{op}: input of shape {a.shape} and target of shape {b.shape} differ")


def _scale(reduction, n):
    return 1.0 / max(n, 1) if reduction == "mean" else 1.0


class MSELoss(RawFunction):
    """L = reduce((ŷ − y)²);  ∂L/∂ŷ = 2(ŷ − y)/N for the mean,  ∂L/∂y = −∂L/∂ŷ."""

    @staticmethod
    def forward(ctx, pred, target, reduction):
        if pred.shape != target.shape:
            raise _shapes_differ("mse_loss", pred, target)
        ctx.save_for_backward(pred, target)
        ctx.reduction = reduction
        losses, reduced = ctx.backend.mse(pred, target, _scale(reduction, pred.size))
        return losses if reduction == "none" else reduced

    @staticmethod
    def backward(ctx, grad):
        pred, target = ctx.saved_tensors
        be = ctx.backend
        g = be.mse_backward(pred, target, grad, _scale(ctx.reduction, pred.size))
        return g, be.neg(g) if ctx.needs_input_grad[1] else None, None


class CrossEntropyLoss(RawFunction):
    """Softmax and cross-entropy fused, on logits z (N, C).

    Class targets y (N,):            L_i = log Σ_j e^{z_ij} − z_{i,y_i}
    Probability targets t (N, C):    L_i = −Σ_j t_ij log softmax(z)_ij
    ∂L_i/∂z_i = softmax(z_i) − onehot(y_i)   (for t: softmax(z_i) · Σ_j t_ij − t_i);
    for probability targets ∂L_i/∂t_ij = −log softmax(z)_ij.
    """

    @staticmethod
    def forward(ctx, z, target, reduction):
        if not (z.ndim == 2 and (target.shape == (z.shape[0],) or target.shape == z.shape)):
            raise ValueError(
                f"cross_entropy: expected logits (N, C) and a target of class indices (N,) "
                f"or probabilities (N, C), got {z.shape} and {target.shape}")
        probs, losses, reduced = ctx.backend.softmax_xent(z, target, _scale(reduction, z.shape[0]))
        ctx.save_for_backward(z, probs, target)
        ctx.reduction = reduction
        return losses if reduction == "none" else reduced

    @staticmethod
    def backward(ctx, grad):
        z, probs, target = ctx.saved_tensors
        be = ctx.backend
        scale = _scale(ctx.reduction, z.shape[0])
        gz = be.softmax_xent_backward(probs, target, grad, scale) if ctx.needs_input_grad[0] else None
        gt = None
        if ctx.needs_input_grad[1]:
            row_grad = grad if grad.ndim == 0 else be.reshape(grad, (-1, 1))
            gt = be.mul(be.neg(be.log_softmax(z, 1)), be.mul(row_grad, scale))
        return gz, gt, None


class BCEWithLogitsLoss(RawFunction):
    """Binary cross-entropy on logits z, stable for any z:
    L = max(z, 0) − z·y + log(1 + e^{−|z|});  ∂L/∂z = σ(z) − y,  ∂L/∂y = −z."""

    @staticmethod
    def forward(ctx, z, target, reduction):
        if z.shape != target.shape:
            raise _shapes_differ("binary_cross_entropy_with_logits", z, target)
        ctx.save_for_backward(z, target)
        ctx.reduction = reduction
        losses, reduced = ctx.backend.bce_logits(z, target, _scale(reduction, z.size))
        return losses if reduction == "none" else reduced

    @staticmethod
    def backward(ctx, grad):
        z, target = ctx.saved_tensors
        be = ctx.backend
        scale = _scale(ctx.reduction, z.size)
        gz = be.bce_logits_backward(z, target, grad, scale) if ctx.needs_input_grad[0] else None
        gt = be.mul(be.neg(z), be.mul(grad, scale)) if ctx.needs_input_grad[1] else None
        return gz, gt, None


class BCELoss(RawFunction):
    """Binary cross-entropy on probabilities p, each log clamped at −100 as PyTorch:
    L = −(y·log p + (1 − y)·log(1 − p));
    ∂L/∂p = (p − y) / max(p(1 − p), 1e−12),  ∂L/∂y = log(1 − p) − log p (clamped)."""

    @staticmethod
    def forward(ctx, p, target, reduction):
        be = ctx.backend
        log_p = be.log_clamped(p, -100.0)
        log_1mp = be.log_clamped(be.sub(1.0, p), -100.0)
        losses = be.neg(be.add(be.mul(target, log_p), be.mul(be.sub(1.0, target), log_1mp)))
        ctx.save_for_backward(p, target, log_p, log_1mp)
        ctx.reduction = reduction
        if reduction == "none":
            return losses
        return be.mul(be.sum(losses), _scale(reduction, losses.size))

    @staticmethod
    def backward(ctx, grad):
        p, target, log_p, log_1mp = ctx.saved_tensors
        be = ctx.backend
        g = be.mul(grad, _scale(ctx.reduction, p.size))
        gp = gt = None
        if ctx.needs_input_grad[0]:
            denom = be.clamp(be.mul(p, be.sub(1.0, p)), 1e-12, None)
            gp = be.mul(g, be.div(be.sub(p, target), denom))
        if ctx.needs_input_grad[1]:
            gt = be.mul(g, be.sub(log_1mp, log_p))
        return gp, gt, None
