"""Gradient clipping: the standard remedy for exploding gradients."""

import math

from ..autograd import no_grad
from ..tensor import Tensor


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    """Scale all gradients together so that their global norm is at most ``max_norm``.

    total = (Σ_p ‖g_p‖^norm_type)^(1/norm_type) over every gradient at once; if
    total > max_norm every gradient is multiplied by max_norm / (total + 1e−6).
    Returns ``total``, the norm before clipping, as a float.
    """
    if max_norm < 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be >= 0, got {max_norm}")
    grads = _grads(parameters)
    if not grads:
        return 0.0
    norm_type = float(norm_type)
    with no_grad():
        if math.isinf(norm_type):
            total = max(float(g.abs().max().item()) for g in grads)
        else:
            total = sum(float((g.abs() ** norm_type).sum().item()) for g in grads) ** (1.0 / norm_type)
        coef = max_norm / (total + 1e-6)
        if coef < 1.0:
            for g in grads:
                g._backend.mul_(g.raw, coef)
    return total


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element into [−clip_value, clip_value], in place."""
    if clip_value < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for g in _grads(parameters):
        g._backend.copy_(g.raw, g._backend.clamp(g.raw, -clip_value, clip_value))
