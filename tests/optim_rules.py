"""The optimizers' update rules, written out in plain float64 NumPy: the expected
values of the optimizer tests (test_optim.py, test_optim_adaptive.py) and of the
optimizer kernels' tests (kernels/test_cpu_kernels.py).

Each rule is REFERENCE.md's, as PyTorch runs it (torch.optim), with PyTorch's details
(where ε enters, bias correction, weight decay, the first momentum step) noted where
they differ from the textbook form. Each takes θ₀, ``grad_fn`` (θ ↦ ∇L(θ);
``grad_sequence`` replays given gradients instead) and a number of steps, and returns
θ after each step and the state at the end, under PyTorch's names.
"""

import numpy as np


def grad_sequence(grads):
    """A grad_fn that ignores θ and returns the given gradients in turn, in float64 (so
    that a float32 gradient does not pull the rule's arithmetic down to float32)."""
    it = iter(grads)
    return lambda theta: np.asarray(next(it), dtype=np.float64)


def sgd_reference(theta, grad_fn, steps, lr, momentum=0.0, dampening=0.0,
                  nesterov=False, weight_decay=0.0):
    """SGD (REFERENCE.md), as PyTorch documents it (torch.optim.SGD), with μ = momentum,
    τ = dampening, λ = weight_decay, γ = lr:

        g ← ∇L(θ) + λθ
        if μ ≠ 0:  b ← g (first step) else μb + (1 − τ)g;  g ← g + μb (Nesterov) else b
        θ ← θ − γg

    The buffer starts as the first gradient itself: no dampening on the first step.
    """
    theta = np.array(theta, dtype=np.float64)
    buf = None
    trajectory = []
    for _ in range(steps):
        g = grad_fn(theta) + weight_decay * theta
        if momentum != 0:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        theta = theta - lr * g
        trajectory.append(theta.copy())
    state = {"step": steps}
    if buf is not None:
        state["momentum_buffer"] = buf
    return trajectory, state


def adagrad_reference(theta, grad_fn, steps, lr=0.01, lr_decay=0.0, weight_decay=0.0,
                      initial_accumulator_value=0.0, eps=1e-10):
    """AdaGrad (REFERENCE.md: G_t = G_{t−1} + g_t²; θ ← θ − η g_t / sqrt(G_t + ε)),
    as PyTorch runs it, for t = 1, 2, …:

        η_t = η / (1 + (t − 1)·lr_decay)
        g_t = ∇L(θ) + λθ
        G_t = G_{t−1} + g_t²,              G_0 = initial_accumulator_value
        θ  ← θ − η_t · g_t / (sqrt(G_t) + ε)     PyTorch: ε outside the root
    """
    theta = np.array(theta, dtype=np.float64)
    G = np.full_like(theta, initial_accumulator_value)
    trajectory = []
    for t in range(1, steps + 1):
        g = grad_fn(theta) + weight_decay * theta
        G = G + g * g
        eta_t = lr / (1 + (t - 1) * lr_decay)
        theta = theta - eta_t * g / (np.sqrt(G) + eps)
        trajectory.append(theta.copy())
    return trajectory, {"step": steps, "sum": G}


def rmsprop_reference(theta, grad_fn, steps, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0,
                      momentum=0.0, centered=False):
    """RMSprop (REFERENCE.md: E[g²]_t = β E[g²]_{t−1} + (1−β) g_t²;
    θ ← θ − η g_t / sqrt(E[g²]_t + ε)), as PyTorch runs it, with β = alpha:

        g_t     = ∇L(θ) + λθ
        E[g²]_t = α E[g²]_{t−1} + (1 − α) g_t²
        E[g]_t  = α E[g]_{t−1}  + (1 − α) g_t                 centered only
        d_t     = sqrt(E[g²]_t − E[g]_t²) + ε   if centered,  else  sqrt(E[g²]_t) + ε
                                                 PyTorch: ε outside the root
        b_t = μ b_{t−1} + g_t / d_t,  θ ← θ − η b_t          if μ > 0 (b_0 = 0)
        θ ← θ − η g_t / d_t                                   otherwise
    """
    theta = np.array(theta, dtype=np.float64)
    sq, ga, b = np.zeros_like(theta), np.zeros_like(theta), np.zeros_like(theta)
    trajectory = []
    for _ in range(steps):
        g = grad_fn(theta) + weight_decay * theta
        sq = alpha * sq + (1 - alpha) * g * g
        if centered:
            ga = alpha * ga + (1 - alpha) * g
            d = np.sqrt(sq - ga * ga) + eps
        else:
            d = np.sqrt(sq) + eps
        if momentum > 0:
            b = momentum * b + g / d
            theta = theta - lr * b
        else:
            theta = theta - lr * g / d
        trajectory.append(theta.copy())
    state = {"step": steps, "square_avg": sq}
    if momentum > 0:
        state["momentum_buffer"] = b
    if centered:
        state["grad_avg"] = ga
    return trajectory, state


def adam_reference(theta, grad_fn, steps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                   weight_decay=0.0, amsgrad=False, decoupled=False):
    """Adam (REFERENCE.md), as PyTorch runs it, for t = 1, 2, …:

        g_t = ∇L(θ) + λθ                  Adam: weight decay as an L2 term in the gradient
        g_t = ∇L(θ);  θ ← θ(1 − ηλ)       AdamW (decoupled=True): decay θ itself first
        m_t = β₁ m_{t−1} + (1 − β₁) g_t
        v_t = β₂ v_{t−1} + (1 − β₂) g_t²
        v_t ← max(v_max, v_t) = v_max     amsgrad: PyTorch keeps the running maximum of
                                          the uncorrected v_t and uses it in place of v_t
        m̂_t = m_t / (1 − β₁ᵗ),  v̂_t = v_t / (1 − β₂ᵗ)
        θ  ← θ − η m̂_t / (sqrt(v̂_t) + ε)  ε outside the root, after bias correction
    """
    beta1, beta2 = betas
    theta = np.array(theta, dtype=np.float64)
    m, v, v_max = np.zeros_like(theta), np.zeros_like(theta), np.zeros_like(theta)
    trajectory = []
    for t in range(1, steps + 1):
        g = grad_fn(theta)
        if decoupled:
            theta = theta * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * theta
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        denominator = v
        if amsgrad:
            v_max = np.maximum(v_max, v)
            denominator = v_max
        m_hat = m / (1 - beta1 ** t)
        v_hat = denominator / (1 - beta2 ** t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        trajectory.append(theta.copy())
    state = {"step": steps, "exp_avg": m, "exp_avg_sq": v}
    if amsgrad:
        state["max_exp_avg_sq"] = v_max
    return trajectory, state


def adamw_reference(theta, grad_fn, steps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                    weight_decay=1e-2, amsgrad=False):
    """AdamW (Loshchilov & Hutter): Adam with θ ← θ(1 − ηλ) instead of the L2 term."""
    return adam_reference(theta, grad_fn, steps, lr, betas, eps, weight_decay, amsgrad,
                          decoupled=True)


def adadelta_reference(theta, grad_fn, steps, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
    """Adadelta (REFERENCE.md), with γ = rho, as PyTorch runs it:

        g_t       = ∇L(θ) + λθ
        E[g²]_t   = γ E[g²]_{t−1} + (1 − γ) g_t²
        Δx_t      = −sqrt(E[Δx²]_{t−1} + ε) / sqrt(E[g²]_t + ε) · g_t   ε inside both roots
        E[Δx²]_t  = γ E[Δx²]_{t−1} + (1 − γ) Δx_t²
        x        ← x + lr·Δx_t                  PyTorch's lr (default 1: the original)
    """
    x = np.array(theta, dtype=np.float64)
    Eg2, Edx2 = np.zeros_like(x), np.zeros_like(x)
    trajectory = []
    for _ in range(steps):
        g = grad_fn(x) + weight_decay * x
        Eg2 = rho * Eg2 + (1 - rho) * g * g
        dx = -np.sqrt(Edx2 + eps) / np.sqrt(Eg2 + eps) * g
        Edx2 = rho * Edx2 + (1 - rho) * dx * dx
        x = x + lr * dx
        trajectory.append(x.copy())
    return trajectory, {"step": steps, "square_avg": Eg2, "acc_delta": Edx2}
