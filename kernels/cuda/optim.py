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
    """One step of SGD, in place: the twin of kernels/cpu/optim.py's sgd_step, whose
    docstring writes out the rule and the arrays' shapes.
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
    """One step of Adagrad, in place: the twin of kernels/cpu/optim.py's adagrad_step, whose
    docstring writes out the rule and the arrays' shapes.
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
    """One step of RMSprop, in place: the twin of kernels/cpu/optim.py's rmsprop_step, whose
    docstring writes out the rule and the arrays' shapes.
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
    """One step of Adam or AdamW, in place: the twin of kernels/cpu/optim.py's adam_step, whose
    docstring writes out the rule and the arrays' shapes.
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
    """One step of Adadelta, in place: the twin of kernels/cpu/optim.py's adadelta_step, whose
    docstring writes out the rule and the arrays' shapes.
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
