"""The dense layer h = f(x Wᵀ + b) in one kernel, forward and backward, for small layers.

On the CPU, matrix products go to BLAS (NumPy's ``@``), which is as fast as the
machine allows on large matrices but costs a microsecond or two per call before any
arithmetic. For a layer of a few thousand multiply-adds (an XOR net, a toy
regression) those calls are most of the time, so the CPU backend runs layers below
a size threshold through these two kernels instead: one call does the product, the
bias and the activation; one call does all three gradients. Above the threshold it
uses BLAS and the fused bias + activation kernels of activations.py. The CUDA twins
(kernels/cuda/matmul.py) are tiled GPU kernels, used at every size.

The activation is a code from ``kernels/activations.py`` (RELU, GELU, …), with its
parameters p and q, and as in ``activations.py`` each function below returns the
kernel compiled for one activation. Shapes: x (N, K), w (M, K) as in PyTorch, b
(M,), h, z and grad (N, M). All arrays are C-contiguous and of one float dtype,
and products are accumulated in that dtype, as BLAS does.
"""

import functools

import numpy as np

from numba import njit

from ..activations import activate, activate_backward


@functools.cache
def linear_forward(act):
    """The kernel out = f(x Wᵀ + b) for activation ``act``:  (x, w, b, p, q, out).

        out_ij = f(b_j + Σ_k x_ik W_jk)

    x: (N, K); w: (M, K); b: (M,), or (0,) for a layer without bias; out: (N, M).
    (An activation whose derivative reads its input needs z = x Wᵀ + b kept for
    backward: the backend gets it as linear_forward(IDENTITY), then f.)
    """

    @njit(cache=True, error_model="numpy")
    def linear_forward(x, w, b, p, q, out):
        n, k_in = x.shape
        m = w.shape[0]
        zero = out.dtype.type(0.0)
        has_bias = b.shape[0] > 0
        for i in range(n):
            for j in range(m):
                acc = b[j] if has_bias else zero
                for k in range(k_in):
                    acc += x[i, k] * w[j, k]
                out[i, j] = activate(act, acc, p, q)

    linear_forward.py_func.flops = _forward_flops   # for minigrad.trace()
    return linear_forward


def _forward_flops(x, w, b, p, q, out):
    """The multiply-adds of the product, 2·N·K·M FLOPs (the bias and f not counted)."""
    return 2 * x.shape[0] * x.shape[1] * w.shape[0]


def _backward_flops(grad, x, w, s, p, q, gx, gw, gb):
    """2·N·K·M FLOPs for each of gw and gx that is computed."""
    return 2 * x.shape[0] * x.shape[1] * w.shape[0] * ((gx.shape[0] > 0) + (gw.shape[0] > 0))


@functools.cache
def linear_backward(act):
    """The kernel of all three gradients of h = f(z), z = x Wᵀ + b, for activation
    ``act``: (grad, x, w, s, p, q, gx, gw, gb), given grad = ∂L/∂h and s, what f′
    reads: the pre-activation z for the codes in READS_INPUT, the output h otherwise:

        δ    = grad ⊙ f′(z)         ∂L/∂z
        gw   = δᵀ x                 ∂L/∂W,  (M, K)
        gb   = Σ_rows δ             ∂L/∂b,  (M,)
        gx   = δ W                  ∂L/∂x,  (N, K)

    grad, s: (N, M); x: (N, K); w: (M, K). A
    gradient that is not needed is passed as a length-0 array ((0, 0) for gx or gw,
    (0,) for gb) and is not computed. One row of δ at a time: each is used for all
    three and then dropped.
    """

    @njit(cache=True, error_model="numpy")
    def linear_backward(grad, x, w, s, p, q, gx, gw, gb):
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
                delta[j] = activate_backward(act, grad[i, j], s[i, j], s[i, j], p, q)
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

    linear_backward.py_func.flops = _backward_flops
    return linear_backward
