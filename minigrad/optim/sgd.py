"""Stochastic gradient descent, with momentum, dampening, Nesterov and weight decay."""

from ..autograd import no_grad
from .optimizer import Optimizer, _non_negative


class SGD(Optimizer):
    r"""PyTorch's SGD, element for element. With g the gradient of θ:

        g ← g + λ·θ                                  (weight_decay λ)
        b ← g                        on the first step,
        b ← μ·b + (1 − τ)·g          after it         (momentum μ, dampening τ)
        g ← g + μ·b   if nesterov,   else   g ← b     (when μ ≠ 0)
        θ ← θ − η·g                                   (lr η)

    The textbook momentum v ← β·v + (1 − β)·g is the same method with dampening
    τ = β and a learning rate scaled by 1/(1 − β). The whole update of each
    parameter, buffers included, is one kernel call (``kernels/cpu/optim.py``).
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

    @no_grad()
    def step(self, closure=None):
        """Update every parameter that has a gradient; returns closure()'s loss if given."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            nesterov, weight_decay = group["nesterov"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                be = p._backend
                if momentum != 0:
                    state = self.state.setdefault(p, {})
                    buf = state.get("momentum_buffer")
                    first = buf is None
                    if first:
                        buf = state["momentum_buffer"] = be.empty(p.shape, p.dtype)
                else:
                    buf, first = be.empty((0,), p.dtype), True
                be.sgd_step(p.data, p.grad.data, buf, lr, momentum, dampening,
                            nesterov, weight_decay, first)
        return loss
