"""The dense layer h = f(x Wᵀ + b) in one kernel, forward and backward, for small layers.

On the CPU, matrix products go to BLAS (NumPy's ``@``), which is as fast as the
machine allows on large matrices but costs a microsecond or two per call before any
arithmetic. For a layer of a few thousand multiply-adds (an XOR net, a toy
regression) those calls are most of the time, so the CPU backend runs layers below
a size threshold through these two kernels instead: one call does the product, the
bias and the activation; one call does all three gradients. Above the threshold it
uses BLAS and the fused bias + activation kernels of activations.py. The CUDA twins
(kernels/cuda/matmul.py) are tiled GPU kernels, used at every size.

The activation is a code, ``act``: IDENTITY, RELU, LEAKY_RELU, SIGMOID, TANH (with
``slope`` the leaky slope). Shapes: x (N, K), w (M, K) as in PyTorch, b (M,), h and
grad (N, M). All arrays are C-contiguous and of one float dtype, and products are
accumulated in that dtype, as BLAS does.
"""

import math

import numpy as np

from numba import njit

IDENTITY, RELU, LEAKY_RELU, SIGMOID, TANH = 0, 1, 2, 3, 4


# The activations and their derivatives, as in activations.py. Kept here rather than
# imported: numba's cache does not notice changes to functions defined in another
# file, so an imported helper that someone edits would leave these kernels stale.
@njit(cache=True, inline="always", error_model="numpy")
def _activate(act, a, slope):
    if act == RELU:
        return 0.0 if a < 0.0 else a        # NaN passes through, as in relu_forward
    if act == LEAKY_RELU:
        return slope * a if a < 0.0 else a
    if act == SIGMOID:
        e = math.exp(-abs(a))               # never overflows: see sigmoid_forward
        return 1.0 / (1.0 + e) if a >= 0.0 else e / (1.0 + e)
    if act == TANH:
        return math.tanh(a)
    return a


@njit(cache=True, inline="always", error_model="numpy")
def _times_derivative(act, g, y, slope):
    """g · f′, with f′ written in terms of the output y = f(a), as in the *_backward
    kernels of activations.py."""
    if act == RELU:
        return g if y > 0.0 else 0.0
    if act == LEAKY_RELU:
        return g if y > 0.0 else slope * g
    if act == SIGMOID:
        return g * y * (1.0 - y)
    if act == TANH:
        return g * (1.0 - y * y)
    return g


@njit(cache=True, error_model="numpy")
def linear_forward(x, w, b, act, slope, out):
    """out = f(x Wᵀ + b):   out_ij = f(b_j + Σ_k x_ik W_jk).

    x: (N, K); w: (M, K); b: (M,), or (0,) for a layer without bias; out: (N, M);
    act: activation code; slope: float (LEAKY_RELU only).
    """
    n, k_in = x.shape
    m = w.shape[0]
    zero = out.dtype.type(0.0)
    has_bias = b.shape[0] > 0
    for i in range(n):
        for j in range(m):
            acc = b[j] if has_bias else zero
            for k in range(k_in):
                acc += x[i, k] * w[j, k]
            out[i, j] = _activate(act, acc, slope)


@njit(cache=True, error_model="numpy")
def linear_backward(grad, x, w, y, act, slope, gx, gw, gb):
    """All three gradients of h = f(x Wᵀ + b), given grad = ∂L/∂h and the output y = h:

        δ    = grad ⊙ f′            (f′ from y, as in the *_backward kernels)
        gw   = δᵀ x                 ∂L/∂W,  (M, K)
        gb   = Σ_rows δ             ∂L/∂b,  (M,)
        gx   = δ W                  ∂L/∂x,  (N, K)

    grad, y: (N, M); x: (N, K); w: (M, K). A gradient that is not needed is passed
    as a length-0 array ((0, 0) for gx or gw, (0,) for gb) and is not computed.
    One row of δ at a time: each is used for all three and then dropped.
    """
    n, m = grad.shape
    k_in = x.shape[1]
    want_x, want_w, want_b = gx.shape[0] > 0, gw.shape[0] > 0, gb.shape[0] > 0
    zero = grad.dtype.type(0.0)
    if want_w:
        gw[:, :] = zero
    if want_b:
        gb[:] = zero
    delta = np.empty(m, grad.dtype)
    for i in range(n):
        for j in range(m):
            delta[j] = _times_derivative(act, grad[i, j], y[i, j], slope)
        if want_b:
            for j in range(m):
                gb[j] += delta[j]
        if want_w:
            for j in range(m):
                for k in range(k_in):
                    gw[j, k] += delta[j] * x[i, k]
        if want_x:
            for k in range(k_in):
                gx[i, k] = zero
            for j in range(m):
                for k in range(k_in):
                    gx[i, k] += delta[j] * w[j, k]
