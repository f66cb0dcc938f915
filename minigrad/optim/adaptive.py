"""The adaptive optimizers: Adagrad, RMSprop, Adam, AdamW, Adadelta.

Each class holds hyper-parameters and names its state buffers; the update rule
itself is one kernel in ``kernels/cpu/optim.py``, whose docstring writes it out.
Every rule is PyTorch's, element for element.
"""

from .optimizer import Optimizer, _in_unit_interval, _non_negative


def _no_buffer(be, param):
    return be.empty((0,), param.dtype)


class Adagrad(Optimizer):
    """Adagrad: G ← G + g²,  θ ← θ − η_t · g / (√G + ε),  η_t = lr / (1 + (t − 1)·lr_decay).

    Each coordinate's step shrinks with the sum of its squared gradients, so rare
    features keep large steps. (kernel: ``adagrad_step``)
    """

    def __init__(self, params, lr=0.01, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps))

    def _check_group(self, group):
        for key in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            _non_negative(self, group, key)

    def _buffers(self, group):
        return {"sum": group["initial_accumulator_value"]}

    def _update(self, be, group, param, grad, buffers, step):
        be.adagrad_step(param, grad, buffers["sum"], group["lr"], group["lr_decay"],
                        group["weight_decay"], group["eps"], step)


class RMSprop(Optimizer):
    """RMSprop: E[g²] ← α E[g²] + (1 − α) g²,  θ ← θ − η g / (√E[g²] + ε),
    optionally centered (subtracting E[g]²) and with momentum. (kernel: ``rmsprop_step``)
    """

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0,
                 momentum=0.0, centered=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def _check_group(self, group):
        for key in ("lr", "alpha", "eps", "weight_decay", "momentum"):
            _non_negative(self, group, key)

    def _buffers(self, group):
        names = {"square_avg": 0.0}
        if group["momentum"] > 0:
            names["momentum_buffer"] = 0.0
        if group["centered"]:
            names["grad_avg"] = 0.0
        return names

    def _update(self, be, group, param, grad, buffers, step):
        be.rmsprop_step(param, grad, buffers["square_avg"],
                        buffers.get("grad_avg", _no_buffer(be, param)),
                        buffers.get("momentum_buffer", _no_buffer(be, param)),
                        group["lr"], group["alpha"], group["eps"], group["weight_decay"],
                        group["momentum"], group["centered"])


class Adam(Optimizer):
    """Adam: moving averages of the gradient (m) and of its square (v), bias-corrected:
    θ ← θ − η m̂ / (√v̂ + ε). ``weight_decay`` adds λθ to the gradient (an L2 penalty);
    ``amsgrad`` divides by the running maximum of v̂. (kernel: ``adam_step``)
    """

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad))

    def _check_group(self, group):
        for key in ("lr", "eps", "weight_decay"):
            _non_negative(self, group, key)
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{type(self).__name__}: betas must be a pair, got {betas!r}")
        _in_unit_interval(self, group, "betas[0]", betas[0])
        _in_unit_interval(self, group, "betas[1]", betas[1])

    def _buffers(self, group):
        names = {"exp_avg": 0.0, "exp_avg_sq": 0.0}
        if group["amsgrad"]:
            names["max_exp_avg_sq"] = 0.0
        return names

    def _update(self, be, group, param, grad, buffers, step):
        beta1, beta2 = group["betas"]
        be.adam_step(param, grad, buffers["exp_avg"], buffers["exp_avg_sq"],
                     buffers.get("max_exp_avg_sq", _no_buffer(be, param)),
                     group["lr"], beta1, beta2, group["eps"], group["weight_decay"],
                     self._decoupled, group["amsgrad"], step)


class AdamW(Adam):
    """Adam with decoupled weight decay: θ ← θ(1 − ηλ) before the Adam step, instead
    of adding λθ to the gradient (Loshchilov & Hutter). (kernel: ``adam_step``)
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)


class Adadelta(Optimizer):
    """Adadelta: the step is the ratio of two moving RMS values, of past updates and of
    gradients, times the gradient, so it needs no hand-set learning rate (PyTorch keeps
    ``lr``, default 1.0, as a multiplier). (kernel: ``adadelta_step``)
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))

    def _check_group(self, group):
        for key in ("lr", "eps", "weight_decay"):
            _non_negative(self, group, key)
        _in_unit_interval(self, group, "rho")

    def _buffers(self, group):
        return {"square_avg": 0.0, "acc_delta": 0.0}

    def _update(self, be, group, param, grad, buffers, step):
        be.adadelta_step(param, grad, buffers["square_avg"], buffers["acc_delta"],
                         group["lr"], group["rho"], group["eps"], group["weight_decay"])
