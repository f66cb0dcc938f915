"""Stochastic gradient descent, with momentum, dampening, Nesterov and weight decay."""

from . import functional as OF
from .optimizer import Optimizer, _non_negative


class SGD(Optimizer):
    r"""Stochastic gradient descent with momentum, PyTorch's rule element for element::

        input: θ₀ (params), η (lr), μ (momentum), τ (dampening), λ (weight_decay), nesterov
        for t = 1, 2, …:
            g ← ∇θ f(θ_{t−1})
            if λ ≠ 0:  g ← g + λ θ_{t−1}
            if μ ≠ 0:
                b ← g                    if t = 1
                b ← μ b + (1 − τ) g      otherwise
                g ← g + μ b   if nesterov   else   b
            θ_t ← θ_{t−1} − η g

    The textbook momentum v ← β·v + (1 − β)·g, θ ← θ − α·v (v₀ = 0) is this rule
    with μ = β, no dampening and lr = α·(1 − β): unrolled, v_t = (1 − β)·Σᵢ β^(t−i)·gᵢ
    and b_t = Σᵢ μ^(t−i)·gᵢ (docs/backprop.md works two steps of it). Dampening τ = β
    is not the same: it starts b₁ = g₁, where the average starts at (1 − β)·g₁. Each step is one call of
    ``optim.functional.sgd`` per parameter group: one kernel (``sgd_step``) over the
    group's flat buffer.
    """

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        nesterov=nesterov, weight_decay=weight_decay)
        super().__init__(params, defaults)

    def _check_group(self, group):
        for key in ("lr", "momentum", "dampening", "weight_decay"):
            _non_negative(self, group, key)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: nesterov momentum requires momentum > 0 and dampening = 0")

    def _buffers(self, group):
        return {"momentum_buffer": 0.0} if group["momentum"] != 0 else {}

    def _update(self, group, param, grad, buffers, step):
        OF.sgd.unchecked(param, grad, buffers.get("momentum_buffer"), lr=group["lr"],
                         momentum=group["momentum"], dampening=group["dampening"],
                         nesterov=group["nesterov"], weight_decay=group["weight_decay"],
                         first_step=step == 1)
