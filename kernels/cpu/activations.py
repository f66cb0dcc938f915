"""Activation kernels: forward, fused bias + activation, and backward.

Shapes: x, y, grad, out are 1-D (n,) unless stated; z is 2-D (N, M) and b is
1-D (M,). All arrays are C-contiguous and of one float dtype (float32 or
float64). A caller with an N-D array passes its flat view (``a.reshape(-1)``).

The backward kernels take the forward's OUTPUT y, not its input x: each
derivative here can be written in terms of y, so the forward result is all a
Function needs to save.
"""

import math

from numba import njit


@njit(cache=True, inline="always", error_model="numpy")
def _relu(x):
    # Written as "x unless x < 0" so that a NaN passes through (as in NumPy
    # and PyTorch) instead of silently becoming 0 and hiding a divergence.
    return 0.0 if x < 0.0 else x


@njit(cache=True, inline="always", error_model="numpy")
def _leaky_relu(x, slope):
    return slope * x if x < 0.0 else x


@njit(cache=True, inline="always", error_model="numpy")
def _sigmoid(x):
    # 1/(1 + exp(-x)) overflows exp for x << 0; with e = exp(-|x|) <= 1 both
    # branches are exact rewrites that never overflow.
    e = math.exp(-abs(x))
    if x >= 0.0:
        return 1.0 / (1.0 + e)
    return e / (1.0 + e)


# ---------------------------------------------------------------- forward


@njit(cache=True, error_model="numpy")
def relu_forward(x, out):
    """out_i = max(x_i, 0).   x, out: (n,)."""
    for i in range(x.shape[0]):
        out[i] = _relu(x[i])


@njit(cache=True, error_model="numpy")
def leaky_relu_forward(x, slope, out):
    """out_i = x_i if x_i > 0 else slope · x_i.   x, out: (n,); slope: float."""
    for i in range(x.shape[0]):
        out[i] = _leaky_relu(x[i], slope)


@njit(cache=True, error_model="numpy")
def sigmoid_forward(x, out):
    """out_i = σ(x_i) = 1 / (1 + exp(−x_i)).   x, out: (n,).

    Evaluated as 1/(1 + e) for x ≥ 0 and e/(1 + e) for x < 0, e = exp(−|x|),
    so no exp overflows (σ(±1000) = 1, 0 exactly).
    """
    for i in range(x.shape[0]):
        out[i] = _sigmoid(x[i])


@njit(cache=True, error_model="numpy")
def tanh_forward(x, out):
    """out_i = tanh(x_i).   x, out: (n,).  (math.tanh: no overflow.)"""
    for i in range(x.shape[0]):
        out[i] = math.tanh(x[i])


# ------------------------------------------------ fused bias + activation


@njit(cache=True, error_model="numpy")
def bias_add(z, b, out):
    """out_ij = z_ij + b_j.   z, out: (N, M); b: (M,).  out may be z."""
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            out[i, j] = z[i, j] + b[j]


@njit(cache=True, error_model="numpy")
def bias_relu_forward(z, b, out):
    """out_ij = max(z_ij + b_j, 0).   z, out: (N, M); b: (M,).  out may be z."""
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            out[i, j] = _relu(z[i, j] + b[j])


@njit(cache=True, error_model="numpy")
def bias_leaky_relu_forward(z, b, slope, out):
    """out_ij = a if a > 0 else slope · a,  a = z_ij + b_j.

    z, out: (N, M); b: (M,); slope: float.  out may be z.
    """
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            out[i, j] = _leaky_relu(z[i, j] + b[j], slope)


@njit(cache=True, error_model="numpy")
def bias_sigmoid_forward(z, b, out):
    """out_ij = σ(z_ij + b_j), stable as in sigmoid_forward.

    z, out: (N, M); b: (M,).  out may be z.
    """
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            out[i, j] = _sigmoid(z[i, j] + b[j])


@njit(cache=True, error_model="numpy")
def bias_tanh_forward(z, b, out):
    """out_ij = tanh(z_ij + b_j).   z, out: (N, M); b: (M,).  out may be z."""
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            out[i, j] = math.tanh(z[i, j] + b[j])


# ---------------------------------------------------------------- backward


@njit(cache=True, error_model="numpy")
def relu_backward(grad, y, out):
    """out_i = grad_i · [y_i > 0],  y = relu(x).   grad, y, out: (n,).

    relu'(x) = [x > 0], and y > 0 exactly when x > 0.  out may be grad.
    """
    for i in range(grad.shape[0]):
        out[i] = grad[i] if y[i] > 0.0 else 0.0


@njit(cache=True, error_model="numpy")
def leaky_relu_backward(grad, y, slope, out):
    """out_i = grad_i · (1 if y_i > 0 else slope),  y = leaky_relu(x).

    grad, y, out: (n,); slope: float.  out may be grad.
    Valid for slope ≥ 0 only: then y > 0 exactly when x > 0 (a negative
    slope maps negative x to positive y).
    """
    for i in range(grad.shape[0]):
        out[i] = grad[i] if y[i] > 0.0 else slope * grad[i]


@njit(cache=True, error_model="numpy")
def sigmoid_backward(grad, y, out):
    """out_i = grad_i · y_i · (1 − y_i),  y = σ(x), since σ' = σ(1 − σ).

    grad, y, out: (n,).  out may be grad.
    """
    for i in range(grad.shape[0]):
        out[i] = grad[i] * y[i] * (1.0 - y[i])


@njit(cache=True, error_model="numpy")
def tanh_backward(grad, y, out):
    """out_i = grad_i · (1 − y_i²),  y = tanh(x), since tanh' = 1 − tanh².

    grad, y, out: (n,).  out may be grad.
    """
    for i in range(grad.shape[0]):
        out[i] = grad[i] * (1.0 - y[i] * y[i])
