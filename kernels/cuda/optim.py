"""Optimizer update kernels on the GPU: the twins of kernels.cpu.optim.

Every update rule is PyTorch's (``torch.optim``), element for element, in the
same arithmetic as the CPU twin: one thread per element reads θ, g and the
state buffers once and writes θ and the buffers once.

Shapes: param, grad and every state buffer are 1-D (n,), C-contiguous numba
device arrays of one float dtype (float32 or float64); a buffer an option does
not use (no momentum, no amsgrad) may be a length-0 array and is then not
touched. Hyper-parameters arrive as Python floats, flags as Python bools and
step counts as ints.

The CPU kernels cast each float hyper-parameter to the arrays' dtype inside the
kernel (``cast = param.dtype.type``), so that a float32 update runs in float32
arithmetic. Here each launcher does the same casts on the host, with NumPy, and
passes the kernel scalars that are already float32 (or float64): numba then
compiles the kernel's arithmetic in that type. Quantities that the CPU forms in
float64 before rounding (1 − β, the bias corrections, Adagrad's decayed rate)
are formed the same way, in Python floats, then cast.
"""

import math

from numba import cuda

from .launch import launch_1d


@cuda.jit(cache=True)
def _sgd_step(param, grad, momentum_buf, lr, momentum, one_minus_dampening, nesterov,
              weight_decay, first_step):
    i = cuda.grid(1)
    if i < param.shape[0]:
        g = grad[i] + weight_decay * param[i]
        if momentum != 0.0:
            if first_step:
                b = g
            else:
                b = momentum * momentum_buf[i] + one_minus_dampening * g
            momentum_buf[i] = b
            if nesterov:
                g = g + momentum * b
            else:
                g = b
        param[i] = param[i] - lr * g


def sgd_step(param, grad, momentum_buf, lr, momentum, dampening, nesterov,
             weight_decay, first_step):
    """One step of SGD with momentum, PyTorch's rule (torch.optim.SGD), in place.

    For each element, with μ = momentum, τ = dampening, λ = weight_decay,
    γ = lr and b the momentum buffer:

        g ← ∇θ + λ θ
        if μ ≠ 0:
            b ← g                       on the first step
            b ← μ b + (1 − τ) g         on later steps
            g ← g + μ b   if nesterov   else   b
        θ ← θ − γ g

    As in PyTorch, the buffer starts as the first gradient itself: there is
    no dampening on the first step (a zero-initialised buffer would damp it).

    param, grad, momentum_buf: (n,); momentum_buf is updated in place and may
    have length 0 when momentum == 0, in which case it is not touched.
    lr, momentum, dampening, weight_decay: float; nesterov, first_step: bool.
    """
    cast = param.dtype.type
    launch_1d(_sgd_step, param.shape[0],
              param, grad, momentum_buf, cast(lr), cast(momentum), cast(1.0 - dampening),
              bool(nesterov), cast(weight_decay), bool(first_step))


@cuda.jit(cache=True)
def _adagrad_step(param, grad, state_sum, clr, weight_decay, eps):
    i = cuda.grid(1)
    if i < param.shape[0]:
        g = grad[i] + weight_decay * param[i]
        s = state_sum[i] + g * g
        state_sum[i] = s
        param[i] = param[i] - clr * g / (math.sqrt(s) + eps)


def adagrad_step(param, grad, state_sum, lr, lr_decay, weight_decay, eps, step):
    """One step of Adagrad, PyTorch's rule (torch.optim.Adagrad), in place.

    With t = step (1 on the first step), η = lr, λ = weight_decay and G the
    running sum of squared gradients:

        η_t ← η / (1 + (t − 1) · lr_decay)
        g   ← ∇θ + λ θ
        G   ← G + g²
        θ   ← θ − η_t · g / (√G + ε)

    ε is added after the square root, as in PyTorch.

    param, grad, state_sum: (n,); state_sum starts at initial_accumulator_value.
    """
    cast = param.dtype.type
    clr = cast(lr / (1.0 + (step - 1) * lr_decay))  # η_t in float64, then rounded
    launch_1d(_adagrad_step, param.shape[0],
              param, grad, state_sum, clr, cast(weight_decay), cast(eps))


@cuda.jit(cache=True)
def _rmsprop_step(param, grad, square_avg, grad_avg, momentum_buf, lr, alpha,
                  one_minus_alpha, eps, weight_decay, momentum, centered):
    i = cuda.grid(1)
    if i < param.shape[0]:
        g = grad[i] + weight_decay * param[i]
        sq = alpha * square_avg[i] + one_minus_alpha * g * g
        square_avg[i] = sq
        if centered:
            ga = alpha * grad_avg[i] + one_minus_alpha * g
            grad_avg[i] = ga
            d = math.sqrt(sq - ga * ga) + eps
        else:
            d = math.sqrt(sq) + eps
        if momentum > 0.0:
            b = momentum * momentum_buf[i] + g / d
            momentum_buf[i] = b
            param[i] = param[i] - lr * b
        else:
            param[i] = param[i] - lr * g / d


def rmsprop_step(param, grad, square_avg, grad_avg, momentum_buf, lr, alpha, eps,
                 weight_decay, momentum, centered):
    """One step of RMSprop, PyTorch's rule (torch.optim.RMSprop), in place.

    With α = alpha, μ = momentum, η = lr, λ = weight_decay, E[g²] the moving
    average of squared gradients (square_avg) and E[g] that of gradients
    (grad_avg, kept only when centered):

        g     ← ∇θ + λ θ
        E[g²] ← α E[g²] + (1 − α) g²
        E[g]  ← α E[g]  + (1 − α) g                      (centered only)
        d     ← √(E[g²] − E[g]²) + ε   if centered,   else   √E[g²] + ε
        b     ← μ b + g / d,  θ ← θ − η b                 if μ > 0
        θ     ← θ − η g / d                               otherwise

    ε enters after the square root, as in PyTorch. The momentum buffer b
    starts at zero.

    param, grad, square_avg: (n,); grad_avg: (n,) if centered else (0,);
    momentum_buf: (n,) if momentum > 0 else (0,).
    """
    cast = param.dtype.type
    launch_1d(_rmsprop_step, param.shape[0],
              param, grad, square_avg, grad_avg, momentum_buf, cast(lr), cast(alpha),
              cast(1.0 - alpha), cast(eps), cast(weight_decay), cast(momentum), bool(centered))


@cuda.jit(cache=True)
def _adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step_size,
               inv_bias_correction2_sqrt, decay, l2, beta1, one_minus_beta1, beta2,
               one_minus_beta2, eps, amsgrad):
    i = cuda.grid(1)
    if i < param.shape[0]:
        p = param[i] * decay
        g = grad[i] + l2 * p
        m = beta1 * exp_avg[i] + one_minus_beta1 * g
        v = beta2 * exp_avg_sq[i] + one_minus_beta2 * g * g
        exp_avg[i] = m
        exp_avg_sq[i] = v
        if amsgrad:
            v = max(max_exp_avg_sq[i], v)
            max_exp_avg_sq[i] = v
        param[i] = p - step_size * m / (math.sqrt(v) * inv_bias_correction2_sqrt + eps)


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2,
              eps, weight_decay, decoupled_weight_decay, amsgrad, step):
    """One step of Adam or AdamW, PyTorch's rule (torch.optim.Adam/AdamW), in place.

    With t = step (1 on the first step), η = lr, λ = weight_decay, m the first
    moment (exp_avg) and v the second (exp_avg_sq):

        θ   ← θ (1 − η λ)                    AdamW: decoupled weight decay
        g   ← ∇θ + λ θ                       Adam: L2 penalty in the gradient
        m   ← β₁ m + (1 − β₁) g
        v   ← β₂ v + (1 − β₂) g²
        v̂max← max(v̂max, v)                   amsgrad only; used in place of v below
        m̂   = m / (1 − β₁ᵗ),   v̂ = v / (1 − β₂ᵗ)          (bias correction)
        θ   ← θ − η m̂ / (√v̂ + ε)

    written, as PyTorch computes it, as θ ← θ − (η / (1 − β₁ᵗ)) · m /
    (√v / √(1 − β₂ᵗ) + ε). m and v start at zero, which is why the bias
    correction is needed: without it the first steps would be too small.

    param, grad, exp_avg, exp_avg_sq: (n,); max_exp_avg_sq: (n,) if amsgrad
    else (0,). decoupled_weight_decay: True for AdamW.
    """
    cast = param.dtype.type
    # The step's constants in float64, then rounded, as the CPU twin does; 1 − β
    # too: in float32, 1 − float32(0.999) is 1.3e-5 off.
    step_size = cast(lr / (1.0 - beta1 ** step))
    inv_bias_correction2_sqrt = cast(1.0 / math.sqrt(1.0 - beta2 ** step))
    decay = cast(1.0 - lr * weight_decay) if decoupled_weight_decay else cast(1.0)
    l2 = cast(0.0) if decoupled_weight_decay else cast(weight_decay)
    launch_1d(_adam_step, param.shape[0],
              param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step_size,
              inv_bias_correction2_sqrt, decay, l2, cast(beta1),
              cast(1.0 - beta1), cast(beta2), cast(1.0 - beta2), cast(eps),
              bool(amsgrad))


@cuda.jit(cache=True)
def _adadelta_step(param, grad, square_avg, acc_delta, lr, rho, one_minus_rho, eps,
                   weight_decay):
    i = cuda.grid(1)
    if i < param.shape[0]:
        g = grad[i] + weight_decay * param[i]
        sq = rho * square_avg[i] + one_minus_rho * g * g
        square_avg[i] = sq
        delta = math.sqrt(acc_delta[i] + eps) / math.sqrt(sq + eps) * g
        acc_delta[i] = rho * acc_delta[i] + one_minus_rho * delta * delta
        param[i] = param[i] - lr * delta


def adadelta_step(param, grad, square_avg, acc_delta, lr, rho, eps, weight_decay):
    """One step of Adadelta, PyTorch's rule (torch.optim.Adadelta), in place.

    With ρ = rho, E[g²] the moving average of squared gradients (square_avg)
    and E[Δx²] that of squared updates (acc_delta):

        g          ← ∇θ + λ θ
        E[g²]_t    = ρ·E[g²]_{t−1} + (1 − ρ)·g_t²
        Δx_t       = −√(E[Δx²]_{t−1} + ε) / √(E[g²]_t + ε) · g_t
        E[Δx²]_t   = ρ·E[Δx²]_{t−1} + (1 − ρ)·Δx_t²
        x_{t+1}    = x_t + lr·Δx_t

    Both averages start at zero.

    param, grad, square_avg, acc_delta: (n,).
    """
    cast = param.dtype.type
    launch_1d(_adadelta_step, param.shape[0],
              param, grad, square_avg, acc_delta, cast(lr), cast(rho), cast(1.0 - rho),
              cast(eps), cast(weight_decay))


# On the GPU every kernel is parallel: the _parallel names are the same launchers.
sgd_step_parallel = sgd_step
adagrad_step_parallel = adagrad_step
rmsprop_step_parallel = rmsprop_step
adam_step_parallel = adam_step
adadelta_step_parallel = adadelta_step
