"""Activation kernels on the GPU: the twins of kernels.cpu.activations.

Shapes: x, y, grad, out are 1-D (n,) unless stated; z is 2-D (N, M) and b is
1-D (M,). All arrays are C-contiguous numba device arrays of one float dtype
(float32 or float64). A caller with an N-D array passes its flat view.

One thread per element: thread k of the grid computes element k and nothing
else, so neighbouring threads touch neighbouring addresses (coalesced) and an
output may be an input ("out may be z", "out may be grad": each thread reads its
element before writing it, and no other thread reads it). The 2-D kernels use the
flat index k = i·M + j over the N·M elements, so any M fills the warps (a 2-D
grid of 32-column blocks would leave most lanes idle for M = 10); recovering
(i, j) costs one integer division per element, cheap beside the memory traffic.

The backward kernels take the forward's OUTPUT y, not its input x (see the CPU
twin's module docstring).
"""

import math

from numba import cuda

from .launch import grid_1d


# The three helpers are the CPU's (kernels/cpu/activations.py), copied: a device
# function imported from another file would escape numba's cache check.
@cuda.jit(device=True, inline="always")
def _relu(x):
    # "x unless x < 0", so that a NaN passes through instead of becoming 0.
    return 0.0 if x < 0.0 else x


@cuda.jit(device=True, inline="always")
def _leaky_relu(x, slope):
    return slope * x if x < 0.0 else x


@cuda.jit(device=True, inline="always")
def _sigmoid(x):
    # With e = exp(−|x|) ≤ 1 both branches are exact rewrites of 1/(1 + exp(−x))
    # in which exp never overflows.
    e = math.exp(-abs(x))
    if x >= 0.0:
        return 1.0 / (1.0 + e)
    return e / (1.0 + e)


def _launch_1d(kernel, n, *args):
    """kernel[grid](*args) with one thread per element of an n-element array;
    nothing for n = 0."""
    if n == 0:
        return
    blocks, threads = grid_1d(n)
    kernel[blocks, threads](*args)


# ---------------------------------------------------------------- forward


@cuda.jit(cache=True)
def _relu_forward(x, out):
    i = cuda.grid(1)
    if i < x.shape[0]:
        out[i] = _relu(x[i])


def relu_forward(x, out):
    """out_i = max(x_i, 0), NaN passing through.   x, out: (n,)."""
    _launch_1d(_relu_forward, x.shape[0], x, out)


@cuda.jit(cache=True)
def _leaky_relu_forward(x, slope, out):
    i = cuda.grid(1)
    if i < x.shape[0]:
        out[i] = _leaky_relu(x[i], slope)


def leaky_relu_forward(x, slope, out):
    """out_i = x_i if x_i > 0 else slope · x_i.   x, out: (n,); slope: float."""
    _launch_1d(_leaky_relu_forward, x.shape[0], x, slope, out)


@cuda.jit(cache=True)
def _sigmoid_forward(x, out):
    i = cuda.grid(1)
    if i < x.shape[0]:
        out[i] = _sigmoid(x[i])


def sigmoid_forward(x, out):
    """out_i = σ(x_i) = 1 / (1 + exp(−x_i)).   x, out: (n,).

    Evaluated as 1/(1 + e) for x ≥ 0 and e/(1 + e) for x < 0, e = exp(−|x|),
    so no exp overflows (σ(±1000) = 1, 0 exactly).
    """
    _launch_1d(_sigmoid_forward, x.shape[0], x, out)


@cuda.jit(cache=True)
def _tanh_forward(x, out):
    i = cuda.grid(1)
    if i < x.shape[0]:
        out[i] = math.tanh(x[i])


def tanh_forward(x, out):
    """out_i = tanh(x_i).   x, out: (n,).  (math.tanh: no overflow.)"""
    _launch_1d(_tanh_forward, x.shape[0], x, out)


# ------------------------------------------------ fused bias + activation
# Thread k handles element (i, j) = (k // M, k mod M) of z.


@cuda.jit(cache=True)
def _bias_add(z, b, out):
    k = cuda.grid(1)
    m = z.shape[1]
    if k < z.shape[0] * m:
        i, j = k // m, k % m
        out[i, j] = z[i, j] + b[j]


def bias_add(z, b, out):
    """out_ij = z_ij + b_j.   z, out: (N, M); b: (M,).  out may be z."""
    _launch_1d(_bias_add, z.shape[0] * z.shape[1], z, b, out)


@cuda.jit(cache=True)
def _bias_relu_forward(z, b, out):
    k = cuda.grid(1)
    m = z.shape[1]
    if k < z.shape[0] * m:
        i, j = k // m, k % m
        out[i, j] = _relu(z[i, j] + b[j])


def bias_relu_forward(z, b, out):
    """out_ij = max(z_ij + b_j, 0).   z, out: (N, M); b: (M,).  out may be z."""
    _launch_1d(_bias_relu_forward, z.shape[0] * z.shape[1], z, b, out)


@cuda.jit(cache=True)
def _bias_leaky_relu_forward(z, b, slope, out):
    k = cuda.grid(1)
    m = z.shape[1]
    if k < z.shape[0] * m:
        i, j = k // m, k % m
        out[i, j] = _leaky_relu(z[i, j] + b[j], slope)


def bias_leaky_relu_forward(z, b, slope, out):
    """out_ij = a if a > 0 else slope · a,  a = z_ij + b_j.

    z, out: (N, M); b: (M,); slope: float.  out may be z.
    """
    _launch_1d(_bias_leaky_relu_forward, z.shape[0] * z.shape[1], z, b, slope, out)


@cuda.jit(cache=True)
def _bias_sigmoid_forward(z, b, out):
    k = cuda.grid(1)
    m = z.shape[1]
    if k < z.shape[0] * m:
        i, j = k // m, k % m
        out[i, j] = _sigmoid(z[i, j] + b[j])


def bias_sigmoid_forward(z, b, out):
    """out_ij = σ(z_ij + b_j), stable as in sigmoid_forward.

    z, out: (N, M); b: (M,).  out may be z.
    """
    _launch_1d(_bias_sigmoid_forward, z.shape[0] * z.shape[1], z, b, out)


@cuda.jit(cache=True)
def _bias_tanh_forward(z, b, out):
    k = cuda.grid(1)
    m = z.shape[1]
    if k < z.shape[0] * m:
        i, j = k // m, k % m
        out[i, j] = math.tanh(z[i, j] + b[j])


def bias_tanh_forward(z, b, out):
    """out_ij = tanh(z_ij + b_j).   z, out: (N, M); b: (M,).  out may be z."""
    _launch_1d(_bias_tanh_forward, z.shape[0] * z.shape[1], z, b, out)


# ---------------------------------------------------------------- backward


@cuda.jit(cache=True)
def _relu_backward(grad, y, out):
    i = cuda.grid(1)
    if i < grad.shape[0]:
        out[i] = grad[i] if y[i] > 0.0 else 0.0


def relu_backward(grad, y, out):
    """out_i = grad_i · [y_i > 0],  y = relu(x).   grad, y, out: (n,).

    relu'(x) = [x > 0], and y > 0 exactly when x > 0.  out may be grad.
    """
    _launch_1d(_relu_backward, grad.shape[0], grad, y, out)


@cuda.jit(cache=True)
def _leaky_relu_backward(grad, y, slope, out):
    i = cuda.grid(1)
    if i < grad.shape[0]:
        out[i] = grad[i] if y[i] > 0.0 else slope * grad[i]


def leaky_relu_backward(grad, y, slope, out):
    """out_i = grad_i · (1 if y_i > 0 else slope),  y = leaky_relu(x).

    grad, y, out: (n,); slope: float.  out may be grad.
    Valid for slope ≥ 0 only: then y > 0 exactly when x > 0.
    """
    _launch_1d(_leaky_relu_backward, grad.shape[0], grad, y, slope, out)


@cuda.jit(cache=True)
def _sigmoid_backward(grad, y, out):
    i = cuda.grid(1)
    if i < grad.shape[0]:
        out[i] = grad[i] * y[i] * (1.0 - y[i])


def sigmoid_backward(grad, y, out):
    """out_i = grad_i · y_i · (1 − y_i),  y = σ(x), since σ' = σ(1 − σ).

    grad, y, out: (n,).  out may be grad.
    """
    _launch_1d(_sigmoid_backward, grad.shape[0], grad, y, out)


@cuda.jit(cache=True)
def _tanh_backward(grad, y, out):
    i = cuda.grid(1)
    if i < grad.shape[0]:
        out[i] = grad[i] * (1.0 - y[i] * y[i])


def tanh_backward(grad, y, out):
    """out_i = grad_i · (1 − y_i²),  y = tanh(x), since tanh' = 1 − tanh².

    grad, y, out: (n,).  out may be grad.
    """
    _launch_1d(_tanh_backward, grad.shape[0], grad, y, out)
