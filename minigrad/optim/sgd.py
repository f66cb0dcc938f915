"""Stochastic gradient descent, with momentum, dampening, Nesterov and weight decay."""

from .optimizer import Optimizer, _non_negative


class SGD(Optimizer):
    r"""PyTorch's SGD, element for element. With g the gradient of θ:

        g ← g + λ·θ                                  (weight_decay λ)
        b ← g                        on the first step,
        b ← μ·b + (1 − τ)·g          after it         (momentum μ, dampening τ)
        g ← g + μ·b   if nesterov,   else   g ← b     (when μ ≠ 0)
        θ ← θ − η·g                                   (lr η)

    The textbook momentum v ← β·v + (1 − β)·g is the same method with dampening
    τ = β and a learning rate scaled by 1/(1 − β). Each step is one kernel call per
    parameter group (``kernels/cpu/optim.py: sgd_step``).
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

    def _update(self, be, group, param, grad, buffers, step):
        buf = buffers.get("momentum_buffer")
        be.sgd_step(param, grad, be.empty((0,), param.dtype) if buf is None else buf,
                    group["lr"], group["momentum"], group["dampening"], group["nesterov"],
                    group["weight_decay"], step == 1)
