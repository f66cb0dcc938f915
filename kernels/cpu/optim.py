"""Optimizer update kernels: one call updates a whole flat parameter buffer.

Shapes: param, grad and every state buffer are 1-D (n,), C-contiguous, of one
float dtype (float32 or float64). Hyper-parameters are Python floats and
flags Python bools; pass them as such (not ints) so that numba compiles one
specialisation per dtype, not one per argument type.
"""

from numba import njit


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
    for i in range(param.shape[0]):
        g = grad[i] + weight_decay * param[i]
        if momentum != 0.0:
            if first_step:
                b = g
            else:
                b = momentum * momentum_buf[i] + (1.0 - dampening) * g
            momentum_buf[i] = b
            if nesterov:
                g = g + momentum * b
            else:
                g = b
        param[i] = param[i] - lr * g
