"""Optimizer update kernels: one call updates a whole flat parameter buffer.

Every update rule is PyTorch's (``torch.optim``), element for element. Each kernel
updates the parameter and all its state buffers in place, in one pass over
memory: it reads θ, g and the buffers once and writes θ and the buffers once.

Shapes: param, grad and every state buffer are 1-D (n,), C-contiguous, of one
float dtype (float32 or float64); a buffer an option does not use (no momentum,
no amsgrad) may be a length-0 array and is then not touched. Hyper-parameters
arrive as Python floats, flags as Python bools and step counts as ints; each
kernel casts the floats to the arrays' dtype once, so that a float32 update runs
in float32 arithmetic, as PyTorch's does, and vectorises.

Each ``X_step`` is the rule written as a plain loop. ``X_step_parallel`` runs the
same kernel over chunks of the buffers on all threads. Which of the two a training
step uses is decided by size in one place, ``PARALLEL_MIN`` in
minigrad/backend/dispatch.py, whose docstring says what was measured: on bare
arrays the threads pay from tens of thousands of elements, inside a training step
only from millions.
"""

import math

from numba import njit, prange


@njit(cache=True, error_model="numpy")
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
    lr, momentum, weight_decay = cast(lr), cast(momentum), cast(weight_decay)
    one_minus_dampening = cast(1.0 - dampening)
    for i in range(param.shape[0]):
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


@njit(cache=True, error_model="numpy")
def adagrad_step(param, grad, state_sum, lr, lr_decay, weight_decay, eps, step):
    """One step of Adagrad, PyTorch's rule (torch.optim.Adagrad), in place.

    With t = step (1 on the first step), η = lr, λ = weight_decay and G the
    running sum of squared gradients:

        η_t ← η / (1 + (t − 1) · lr_decay)
        g   ← ∇θ + λ θ
        G   ← G + g²
        θ   ← θ − η_t · g / (√G + ε)

    The textbook form divides by √(G + ε); PyTorch, and so minigrad, adds ε
    after the square root. The step shrinks forever as G grows: a coordinate
    that has seen large gradients moves slowly, a rarely-updated one keeps
    large steps.

    param, grad, state_sum: (n,); state_sum starts at initial_accumulator_value.
    """
    cast = param.dtype.type
    clr = cast(lr / (1.0 + (step - 1) * lr_decay))
    weight_decay, eps = cast(weight_decay), cast(eps)
    for i in range(param.shape[0]):
        g = grad[i] + weight_decay * param[i]
        s = state_sum[i] + g * g
        state_sum[i] = s
        param[i] = param[i] - clr * g / (math.sqrt(s) + eps)


@njit(cache=True, error_model="numpy")
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

    A moving average in place of Adagrad's sum, so the step size recovers
    when gradients shrink. ε enters after the square root, as in PyTorch
    (the textbook writes √(E[g²] + ε)). The momentum buffer b starts at zero.

    param, grad, square_avg: (n,); grad_avg: (n,) if centered else (0,);
    momentum_buf: (n,) if momentum > 0 else (0,).
    """
    cast = param.dtype.type
    lr, alpha, eps = cast(lr), cast(alpha), cast(eps)
    weight_decay, momentum = cast(weight_decay), cast(momentum)
    one_minus_alpha = cast(1.0 - alpha)
    for i in range(param.shape[0]):
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


@njit(cache=True, error_model="numpy")
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
    step_size = cast(lr / (1.0 - beta1 ** step))
    inv_bias_correction2_sqrt = cast(1.0 / math.sqrt(1.0 - beta2 ** step))
    decay = cast(1.0 - lr * weight_decay) if decoupled_weight_decay else cast(1.0)
    l2 = cast(0.0) if decoupled_weight_decay else cast(weight_decay)
    # 1 − β in float64, then rounded: in float32, 1 − float32(0.999) is 1.3e-5 off
    one_minus_beta1, one_minus_beta2 = cast(1.0 - beta1), cast(1.0 - beta2)
    beta1, beta2, eps = cast(beta1), cast(beta2), cast(eps)
    for i in range(param.shape[0]):
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


@njit(cache=True, error_model="numpy")
def adadelta_step(param, grad, square_avg, acc_delta, lr, rho, eps, weight_decay):
    """One step of Adadelta, PyTorch's rule (torch.optim.Adadelta), in place.

    With ρ = rho, E[g²] the moving average of squared gradients (square_avg)
    and E[Δx²] that of squared updates (acc_delta):

        g          ← ∇θ + λ θ
        E[g²]_t    = ρ·E[g²]_{t−1} + (1 − ρ)·g_t²
        Δx_t       = −√(E[Δx²]_{t−1} + ε) / √(E[g²]_t + ε) · g_t
        E[Δx²]_t   = ρ·E[Δx²]_{t−1} + (1 − ρ)·Δx_t²
        x_{t+1}    = x_t + lr·Δx_t

    The ratio of the two RMS values is a per-coordinate learning rate with the
    units of x, so the original method needs no lr at all (PyTorch keeps one,
    default 1.0). Both averages start at zero.

    param, grad, square_avg, acc_delta: (n,).
    """
    cast = param.dtype.type
    one_minus_rho = cast(1.0 - rho)  # in float64, then rounded (see adam_step)
    lr, rho, eps, weight_decay = cast(lr), cast(rho), cast(eps), cast(weight_decay)
    for i in range(param.shape[0]):
        g = grad[i] + weight_decay * param[i]
        sq = rho * square_avg[i] + one_minus_rho * g * g
        square_avg[i] = sq
        delta = math.sqrt(acc_delta[i] + eps) / math.sqrt(sq + eps) * g
        acc_delta[i] = rho * acc_delta[i] + one_minus_rho * delta * delta
        param[i] = param[i] - lr * delta


# ---- the same kernels, in chunks shared among the threads ----------------------------

# Chunks per call: enough for numba's scheduler to balance any thread count up to
# this, few enough that each chunk is long and its loop vectorises. A constant,
# so that the kernels can be cached (get_num_threads() inside would prevent it).
_PARTS = 64


@njit(cache=True, inline="always")
def _chunk(n, parts, c):
    """[lo, hi) of chunk c when n elements are cut into ``parts`` near-equal chunks."""
    size = (n + parts - 1) // parts
    lo = min(n, c * size)
    return lo, min(n, lo + size)


@njit(cache=True)
def _part(a, lo, hi):
    """a[lo:hi], or a itself when it is an unused length-0 buffer."""
    return a[lo:hi] if a.shape[0] else a


@njit(cache=True, parallel=True)
def sgd_step_parallel(param, grad, momentum_buf, lr, momentum, dampening, nesterov,
                      weight_decay, first_step):
    """sgd_step, in chunks, in parallel."""
    n, parts = param.shape[0], _PARTS
    for c in prange(parts):
        lo, hi = _chunk(n, parts, c)
        sgd_step(param[lo:hi], grad[lo:hi], _part(momentum_buf, lo, hi), lr, momentum,
                 dampening, nesterov, weight_decay, first_step)


@njit(cache=True, parallel=True)
def adagrad_step_parallel(param, grad, state_sum, lr, lr_decay, weight_decay, eps, step):
    """adagrad_step, in chunks, in parallel."""
    n, parts = param.shape[0], _PARTS
    for c in prange(parts):
        lo, hi = _chunk(n, parts, c)
        adagrad_step(param[lo:hi], grad[lo:hi], state_sum[lo:hi], lr, lr_decay,
                     weight_decay, eps, step)


@njit(cache=True, parallel=True)
def rmsprop_step_parallel(param, grad, square_avg, grad_avg, momentum_buf, lr, alpha, eps,
                          weight_decay, momentum, centered):
    """rmsprop_step, in chunks, in parallel."""
    n, parts = param.shape[0], _PARTS
    for c in prange(parts):
        lo, hi = _chunk(n, parts, c)
        rmsprop_step(param[lo:hi], grad[lo:hi], square_avg[lo:hi], _part(grad_avg, lo, hi),
                     _part(momentum_buf, lo, hi), lr, alpha, eps, weight_decay, momentum,
                     centered)


@njit(cache=True, parallel=True)
def adam_step_parallel(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2,
                       eps, weight_decay, decoupled_weight_decay, amsgrad, step):
    """adam_step, in chunks, in parallel."""
    n, parts = param.shape[0], _PARTS
    for c in prange(parts):
        lo, hi = _chunk(n, parts, c)
        adam_step(param[lo:hi], grad[lo:hi], exp_avg[lo:hi], exp_avg_sq[lo:hi],
                  _part(max_exp_avg_sq, lo, hi), lr, beta1, beta2, eps, weight_decay,
                  decoupled_weight_decay, amsgrad, step)


@njit(cache=True, parallel=True)
def adadelta_step_parallel(param, grad, square_avg, acc_delta, lr, rho, eps, weight_decay):
    """adadelta_step, in chunks, in parallel."""
    n, parts = param.shape[0], _PARTS
    for c in prange(parts):
        lo, hi = _chunk(n, parts, c)
        adadelta_step(param[lo:hi], grad[lo:hi], square_avg[lo:hi], acc_delta[lo:hi],
                      lr, rho, eps, weight_decay)
