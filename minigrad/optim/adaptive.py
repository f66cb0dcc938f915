"""The adaptive optimizers: Adagrad, RMSprop, Adam, AdamW, Adadelta.

Each class holds hyper-parameters, names its state buffers, and gives its update
rule as pseudocode; a step calls ``optim.functional`` once per parameter group,
which runs the rule's kernel (``kernels/cpu/optim.py``, where the loop is the
formula). Every rule is PyTorch's, element for element.
"""

from . import functional as OF
from .optimizer import Optimizer, _in_unit_interval, _non_negative


class Adagrad(Optimizer):
    """Adagrad: each coordinate's step shrinks with the sum of its squared gradients,
    so rare features keep large steps::

        input: θ₀, η (lr), λ (weight_decay), ε (eps), η_decay (lr_decay), G₀ (initial_accumulator_value)
        for t = 1, 2, …:
            g   ← ∇θ f(θ_{t−1}) + λ θ_{t−1}
            η_t ← η / (1 + (t − 1) η_decay)
            G   ← G + g²
            θ_t ← θ_{t−1} − η_t g / (√G + ε)

    (ε after the square root, as PyTorch.) Kernel: ``adagrad_step``.
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

    def _update(self, group, param, grad, buffers, step):
        OF.adagrad.unchecked(param, grad, buffers["sum"], lr=group["lr"],
                             lr_decay=group["lr_decay"], weight_decay=group["weight_decay"],
                             eps=group["eps"], step=step)


class RMSprop(Optimizer):
    """RMSprop: Adagrad with a moving average in place of the sum, so the step size
    recovers when gradients shrink::

        input: θ₀, η (lr), α (alpha), ε (eps), λ (weight_decay), μ (momentum), centered
        for t = 1, 2, …:
            g     ← ∇θ f(θ_{t−1}) + λ θ_{t−1}
            E[g²] ← α E[g²] + (1 − α) g²
            d     ← √E[g²] + ε
            if centered:  E[g] ← α E[g] + (1 − α) g;   d ← √(E[g²] − E[g]²) + ε
            if μ > 0:     b ← μ b + g / d;   θ_t ← θ_{t−1} − η b
            else:         θ_t ← θ_{t−1} − η g / d

    Kernel: ``rmsprop_step``.
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

    def _update(self, group, param, grad, buffers, step):
        OF.rmsprop.unchecked(param, grad, buffers["square_avg"], buffers.get("grad_avg"),
                             buffers.get("momentum_buffer"), lr=group["lr"],
                             alpha=group["alpha"],
                             eps=group["eps"], weight_decay=group["weight_decay"],
                             momentum=group["momentum"], centered=group["centered"])


class Adam(Optimizer):
    """Adam: moving averages of the gradient (m) and of its square (v), bias-corrected::

        input: θ₀, η (lr), β₁, β₂ (betas), ε (eps), λ (weight_decay), amsgrad
        m₀ ← 0, v₀ ← 0, v_max ← 0
        for t = 1, 2, …:
            g   ← ∇θ f(θ_{t−1})
            if AdamW:  θ_{t−1} ← θ_{t−1} (1 − η λ)      decoupled weight decay
            else:      g ← g + λ θ_{t−1}                 an L2 penalty
            m_t ← β₁ m_{t−1} + (1 − β₁) g
            v_t ← β₂ v_{t−1} + (1 − β₂) g²
            if amsgrad:  v_max ← max(v_max, v_t);  v_t ← v_max
            m̂   ← m_t / (1 − β₁ᵗ),   v̂ ← v_t / (1 − β₂ᵗ)   (m, v start at 0: bias correction)
            θ_t ← θ_{t−1} − η m̂ / (√v̂ + ε)

    Kernel: ``adam_step``.
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

    def _update(self, group, param, grad, buffers, step):
        beta1, beta2 = group["betas"]
        OF.adam.unchecked(param, grad, buffers["exp_avg"], buffers["exp_avg_sq"],
                          buffers.get("max_exp_avg_sq"), lr=group["lr"], beta1=beta1,
                          beta2=beta2, eps=group["eps"], weight_decay=group["weight_decay"],
                          decoupled_weight_decay=self._decoupled, amsgrad=group["amsgrad"],
                          step=step)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): θ ← θ (1 − η λ) before
    the Adam step, instead of adding λθ to the gradient (Adam's pseudocode, the
    AdamW branch). Kernel: ``adam_step``.
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)


class Adadelta(Optimizer):
    """Adadelta: the step is the ratio of two moving RMS values, of past updates and of
    gradients, times the gradient, so it needs no hand-set learning rate (PyTorch keeps
    ``lr``, default 1.0, as a multiplier)::

        input: θ₀, η (lr), ρ (rho), ε (eps), λ (weight_decay)
        E[g²]₀ ← 0, E[Δx²]₀ ← 0
        for t = 1, 2, …:
            g        ← ∇θ f(θ_{t−1}) + λ θ_{t−1}
            E[g²]_t  ← ρ E[g²]_{t−1} + (1 − ρ) g²
            Δx_t     ← −√(E[Δx²]_{t−1} + ε) / √(E[g²]_t + ε) · g
            E[Δx²]_t ← ρ E[Δx²]_{t−1} + (1 − ρ) Δx_t²
            θ_t      ← θ_{t−1} + η Δx_t

    Kernel: ``adadelta_step``.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))

    def _check_group(self, group):
        for key in ("lr", "eps", "weight_decay"):
            _non_negative(self, group, key)
        _in_unit_interval(self, group, "rho")

    def _buffers(self, group):
        return {"square_avg": 0.0, "acc_delta": 0.0}

    def _update(self, group, param, grad, buffers, step):
        OF.adadelta.unchecked(param, grad, buffers["square_avg"], buffers["acc_delta"],
                              lr=group["lr"], rho=group["rho"], eps=group["eps"],
                              weight_decay=group["weight_decay"])
