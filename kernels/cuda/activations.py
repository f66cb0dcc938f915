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
import math

from numba import cuda, float64

from ..activations import activate, activate_backward
from .launch import ROW_THREADS, launch_1d, launch_rows
from .reductions import block_max, block_sum


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


# ------------------------------------------------------------------ softmax
#
# One block per row. Its T threads read the row in strides of T (thread t takes
# columns t, t + T, …: coalesced) and meet in shared memory for the row's max and
# sum. T = threads_for(C): one warp for a 10-class row, up to 256 threads for rows
# of thousands, where each thread then handles C / 256 elements. A warp per row
# (the other usual choice) suits 10-class rows as well, but leaves a 4096-column
# row to 32 threads. The grid is M blocks: a batch fills the GPU, a handful of
# rows cannot (but then the whole softmax takes microseconds).
#
# Three passes over the row (max, sum, write) rather than the one-pass "online"
# softmax: the row, at most tens of KB, is still in L1/L2 for passes two and
# three, and the three passes are the formula as written. Max, sum and the
# exponentials are in float64 (as on the CPU), rounded once on the store.

@cuda.jit(cache=True)
def _softmax_rows(x, log, out):
    i = cuda.blockIdx.x
    t = cuda.threadIdx.x
    n_cols = x.shape[1]
    buf = cuda.shared.array(ROW_THREADS, float64)

    # m = max_j x_ij. Subtracting it makes every exponent ≤ 0 (no overflow) and
    # the largest term exp(0) = 1 (so s ≥ 1 and log s is finite). NaNs are skipped
    # here but reach the sum below, so a row with a NaN gives NaN throughout.
    m = -math.inf
    for j in range(t, n_cols, cuda.blockDim.x):
        v = float(x[i, j])
        if v > m:
            m = v
    buf[t] = m
    m = block_max(buf, t)

    # s = Σ_j exp(x_ij − m)
    s = 0.0
    for j in range(t, n_cols, cuda.blockDim.x):
        s += math.exp(x[i, j] - m)
    buf[t] = s
    s = block_sum(buf, t)

    if log:  # log softmax = x − m − log s
        log_s = math.log(s)
        for j in range(t, n_cols, cuda.blockDim.x):
            out[i, j] = (x[i, j] - m) - log_s
    else:  # softmax = exp(x − m) / s
        for j in range(t, n_cols, cuda.blockDim.x):
            out[i, j] = math.exp(x[i, j] - m) / s


def softmax_rows(x, out):
    """out_ij = exp(x_ij − m_i) / Σ_k exp(x_ik − m_i),  m_i = max_k x_ik.

    Softmax along the last axis. x, out: (M, C), float32 or float64, C ≥ 1.
    Stable at any logits (±1000 included); a row with a NaN, +inf, or only −inf
    gives NaN.
    """
    launch_rows(_softmax_rows, x, x, False, out)


def log_softmax_rows(x, out):
    """out_ij = x_ij − m_i − log Σ_k exp(x_ik − m_i),  m_i = max_k x_ik.

    log(softmax(x)) along the last axis without forming softmax (which would
    underflow to 0 and give −inf). x, out: (M, C), float32 or float64, C ≥ 1.
    """
    launch_rows(_softmax_rows, x, x, True, out)
