"""Activation kernels on the GPU: the twins of kernels/cpu/activations.py.

The math is in ``kernels/activations.py``, shared with the CPU; here are the
GPU loops around it. As on the CPU, each function below takes an activation code
and returns the launcher for that activation, same names and arguments::

    forward(act)(x, p, q, out)              out_i  = f(x_i)
    bias_forward(act)(z, b, p, q, out)      out_ij = f(z_ij + b_j)
    backward(act)(grad, s, p, q, out)       out_i  = grad_i · f′(x_i)   (s: x or y)

Unlike the CPU, one compiled kernel serves every activation: the code is a kernel
argument, the same for every thread, so ``activate``'s branch goes the same way
across each warp and costs a few instructions per element, against a memory
access that takes hundreds of cycles.

Shapes as on the CPU: x, y, grad, out 1-D (n,); z, out (N, M) and b (M,) for
bias_forward; C-contiguous numba device arrays of one float dtype. One thread per
element: thread k computes element k and nothing else, so neighbouring threads
touch neighbouring addresses (coalesced) and an output may be an input (each
thread reads its element before writing it, and no other thread reads it).
bias_forward uses the flat index k = i·M + j over the N·M elements, so any M fills
the warps (a 2-D grid of 32-column blocks would leave most lanes idle for M = 10);
recovering (i, j) costs one integer division per element, cheap beside the memory
traffic.
"""

import functools

from numba import cuda

from ..activations import activate, activate_backward
from .launch import launch_1d


@cuda.jit(cache=True)
def _forward(x, act, p, q, out):
    i = cuda.grid(1)
    if i < x.shape[0]:
        out[i] = activate(act, x[i], p, q)


@cuda.jit(cache=True)
def _bias_forward(z, b, act, p, q, out):
    k = cuda.grid(1)
    m = z.shape[1]
    if k < z.shape[0] * m:
        i, j = k // m, k % m
        out[i, j] = activate(act, z[i, j] + b[j], p, q)


@cuda.jit(cache=True)
def _backward(grad, s, act, p, q, out):
    i = cuda.grid(1)
    if i < grad.shape[0]:
        out[i] = activate_backward(act, grad[i], s[i], s[i], p, q)


@functools.cache
def forward(act):
    """The launcher out_i = f(x_i) for activation ``act``:  (x, p, q, out)."""

    def activation_forward(x, p, q, out):
        launch_1d(_forward, x.shape[0], x, act, p, q, out)

    return activation_forward


@functools.cache
def bias_forward(act):
    """The launcher out_ij = f(z_ij + b_j) for activation ``act``:  (z, b, p, q, out)."""

    def bias_activation_forward(z, b, p, q, out):
        launch_1d(_bias_forward, z.shape[0] * z.shape[1], z, b, act, p, q, out)

    return bias_activation_forward


@functools.cache
def backward(act):
    """The launcher out_i = grad_i · f′(x_i) for activation ``act``:  (grad, s, p, q, out),
    s the input x or the output y, whichever f′ reads."""

    def activation_backward(grad, s, p, q, out):
        launch_1d(_backward, grad.shape[0], grad, s, act, p, q, out)

    return activation_backward
