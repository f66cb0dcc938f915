"""Activation kernels: forward, bias + activation, and backward, for any activation.

The math is in ``kernels/activations.py`` (f and g · f′ of each activation, one
definition for both devices); here are the loops around it. Each function below
takes an activation code (``RELU``, ``GELU``, …) and returns the kernel for that
activation, compiled on its first call and cached on disk like every kernel::

    forward(act)(x, p, q, out)              out_i  = f(x_i)
    bias_forward(act)(z, b, p, q, out)      out_ij = f(z_ij + b_j)
    backward(act)(grad, s, p, q, out)       out_i  = grad_i · f′(x_i)

One compiled kernel per activation, not one kernel that branches on the code:
with the code a run-time argument the branch sits in the loop and stops LLVM
from vectorising it, and bias + ReLU at 256 × 512 float32 took 400 µs against
12 µs. The kernel is a closure over the code, which numba treats as a constant
(its cache key includes it), so ``activate``'s chain of ``if`` folds to the one
activation.

Shapes: x, y, grad, out are 1-D (n,) for forward and backward (a caller with an
N-D array passes its flat view, ``a.reshape(-1)``); z and out are (N, M) and b is
(M,) for bias_forward. All arrays are C-contiguous and of one float dtype. ``p``,
``q`` are the activation's parameters (floats, 0 where unused). In backward, ``s``
is what f′ reads: the input x for the codes in ``READS_INPUT``, the output y = f(x)
for the others (one array, not both: no activation here needs both, and every
array argument costs a kernel call time). An output may be an input
(``bias_forward(act)(h, b, p, q, h)``, ``backward(act)(g, s, p, q, g)``).
"""

import functools
import math

from numba import njit

from ..activations import activate, activate_backward


@functools.cache
def forward(act):
    """The kernel out_i = f(x_i) for activation ``act``:  (x, p, q, out)."""

    @njit(cache=True, error_model="numpy")
    def activation_forward(x, p, q, out):
        for i in range(x.shape[0]):
            out[i] = activate(act, x[i], p, q)

    return activation_forward


@functools.cache
def bias_forward(act):
    """The kernel out_ij = f(z_ij + b_j) for activation ``act``:  (z, b, p, q, out).

    The bias add and the activation after a matrix product, in one pass.
    """

    @njit(cache=True, error_model="numpy")
    def bias_activation_forward(z, b, p, q, out):
        for i in range(z.shape[0]):
            for j in range(z.shape[1]):
                out[i, j] = activate(act, z[i, j] + b[j], p, q)

    return bias_activation_forward


@functools.cache
def backward(act):
    """The kernel out_i = grad_i · f′(x_i) for activation ``act``:  (grad, s, p, q, out),
    s the input x or the output y, whichever f′ reads."""

    @njit(cache=True, error_model="numpy")
    def activation_backward(grad, s, p, q, out):
        for i in range(grad.shape[0]):
            out[i] = activate_backward(act, grad[i], s[i], s[i], p, q)

    return activation_backward


# ---------------------------------------------------------------- softmax
# Along the last axis of a matrix: x, out (M, C), C ≥ 1. Not an elementwise
# activation (each output depends on its whole row), so not built per code.
# Max and sum in float64; stable at any logits (±1000 included); a row with a NaN,
# +inf, or only −inf gives NaN.


@njit(cache=True, inline="always", error_model="numpy")
def row_softmax(z, i, probs):
    """Write softmax(z_i) into probs[i] and return (m_i, log s_i), whose sum is
    lse_i = log Σ_j exp(z_ij): the softmax kernels below and the cross-entropy
    kernels of losses.py share it.

    Subtracting the row max m makes every exponent ≤ 0: no overflow, and the
    largest term is exp(0) = 1, so the log never sees 0. One exp per element:
    e_ij = exp(z_ij − m) goes into probs and into the sum s (in float64), then
    probs_ij = e_ij / s. m and log s come back apart: a caller computing
    lse_i − z_ij writes it (m_i − z_ij) + log s_i, exact where m_i + log s_i would
    round log s_i away (logits of 1e16: tied ones lose log 2).
    """
    m = -math.inf
    for j in range(z.shape[1]):
        if z[i, j] > m:
            m = float(z[i, j])
    s = 0.0
    for j in range(z.shape[1]):
        e = math.exp(z[i, j] - m)
        probs[i, j] = e
        s += e
    for j in range(z.shape[1]):
        probs[i, j] = probs[i, j] / s
    return m, math.log(s)


@njit(cache=True, error_model="numpy")
def softmax_rows(x, out):
    """out_ij = exp(x_ij − m_i) / Σ_k exp(x_ik − m_i),  m_i = max_k x_ik."""
    for i in range(x.shape[0]):
        row_softmax(x, i, out)


@njit(cache=True, error_model="numpy")
def log_softmax_rows(x, out):
    """out_ij = x_ij − m_i − log Σ_k exp(x_ik − m_i),  m_i = max_k x_ik: log(softmax(x))
    without forming softmax (which would underflow to 0 and give −inf)."""
    for i in range(x.shape[0]):
        m = -math.inf
        for j in range(x.shape[1]):
            if x[i, j] > m:
                m = float(x[i, j])
        s = 0.0
        for j in range(x.shape[1]):
            s += math.exp(x[i, j] - m)
        log_s = math.log(s)   # (x − m) − log s, not x − (m + log s): see row_softmax
        for j in range(x.shape[1]):
            out[i, j] = (x[i, j] - m) - log_s
