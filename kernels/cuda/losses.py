"""Loss kernels on the GPU: the twins of kernels.cpu.losses.

Shapes: z are logits (N, C) for the softmax losses and (n,) for the others;
probs is (N, C); losses is (N,) or (n,). All float arrays are C-contiguous
numba device arrays of one dtype (float32 or float64); class-index targets are
int64. ``scale`` is the reduction's factor (1/N for a mean, 1 for a sum; in the
backward kernels times the upstream gradient), a Python float.

The forward kernels write one loss per sample into ``losses``, then reduce them
into ``loss[0] = scale · Σ losses`` (the sum in float64; ``loss`` is a (1,)
device array of the losses' dtype) with a second launch: reductions.sum_all,
a parallel tree. A GPU cannot sum across blocks within one launch without
atomics, and atomics would make the loss change in its last bits from run to run.

Difference from the CPU: the GPU backend does not check class targets before
the cross-entropy kernels run (that would copy a number back to the host every
step). So softmax_xent_forward and softmax_xent_backward never index with a
target outside [0, C): such a row gets a NaN loss (so ``loss`` is NaN) and a
NaN gradient, where the CPU would read out of bounds. first_invalid_class finds
the culprit when someone asks.
"""

import math

from numba import cuda, float64, int64

from .launch import ROW_THREADS, launch_1d, launch_rows, threads_for
from ..activations import sigmoid
from .reductions import block_max, block_sum, sum_all



@cuda.jit(device=True, inline="always")
def _row_logsumexp(z, i, t, buf):
    """(m_i, log s_i), m_i = max_j z_ij and s_i = Σ_j exp(z_ij − m_i), in float64,
    by the whole block: thread t takes columns t, t + T, t + 2T, … of row i. Their
    sum is lse_i; they come back apart for the reason row_softmax's docstring gives
    (kernels/cpu/activations.py): (m_i − z_ij) + log s_i keeps what m_i + log s_i
    would round away.

    Subtracting the row max makes every exponent ≤ 0: no overflow, and the
    largest term is exp(0) = 1, so the log never sees 0."""
    step = cuda.blockDim.x
    m = -math.inf
    for j in range(t, z.shape[1], step):
        if z[i, j] > m:
            m = float(z[i, j])
    buf[t] = m
    m = block_max(buf, t)
    s = 0.0
    for j in range(t, z.shape[1], step):
        s += math.exp(z[i, j] - m)
    buf[t] = s
    return m, math.log(block_sum(buf, t))


# The softmax losses work row by row: each row needs its max and its sum of
# exponentials before any probability can be written. One block per row does
# it: the block's threads stride over the row's C columns (coalesced reads),
# and the max and the sum meet in a shared-memory tree. T = threads_for(C) is a
# power of two from 32 (one warp, for C ≤ 32) to 256 (C > 128, each thread then
# taking ⌈C/256⌉ columns), so C in the thousands keeps 256 threads busy. For
# C = 10, 22 of the warp's 32 lanes idle: packing several rows into a block would
# use them, at the cost of a second index in every loop; a batch of a few hundred
# rows of 10 is a few microseconds either way, so the simple layout stays.
# ------------------------------------------------ softmax cross-entropy


@cuda.jit(cache=True)
def _first_invalid_class(target, num_classes, out):
    # One block: thread t checks targets t, t + T, …, keeping the first bad i it
    # meets (they come in increasing order); the block then takes the minimum.
    # n (one past the end) stands for "none".
    t = cuda.threadIdx.x
    n = target.shape[0]
    first = n
    for i in range(t, n, cuda.blockDim.x):
        if target[i] < 0 or target[i] >= num_classes:
            first = i
            break
    buf = cuda.shared.array(ROW_THREADS, int64)
    buf[t] = first
    s = cuda.blockDim.x // 2
    while s > 0:
        cuda.syncthreads()
        if t < s and buf[t + s] < buf[t]:
            buf[t] = buf[t + s]
        s //= 2
    if t == 0:
        out[0] = -1 if buf[0] == n else buf[0]


def first_invalid_class(target, num_classes, out):
    """out[0] = the first i with target_i outside [0, num_classes), or −1 if none.

    target: (N,) int64; out: (1,) int64.

    One block of up to 256 threads (targets are one per sample: a batch, a few
    thousand at most, which one block checks in a handful of strided passes)
    and a shared-memory minimum: one launch, no atomics, no initialisation.
    """
    _first_invalid_class[1, threads_for(target.shape[0], ROW_THREADS)](target, num_classes, out)


@cuda.jit(cache=True)
def _softmax_xent_forward(z, target, probs, losses):
    i = cuda.blockIdx.x
    t = cuda.threadIdx.x
    buf = cuda.shared.array(ROW_THREADS, float64)
    m, log_s = _row_logsumexp(z, i, t, buf)
    c = z.shape[1]
    if t == 0:
        y = target[i]
        losses[i] = (m - z[i, y]) + log_s if 0 <= y < c else math.nan  # never read z[i, C]
    for j in range(t, c, cuda.blockDim.x):
        probs[i, j] = math.exp((z[i, j] - m) - log_s)


def softmax_xent_forward(z, target, scale, probs, losses, loss):
    """Softmax cross-entropy with class-index targets.

    Per row i, with y_i = target[i], m_i = max_j z_ij and s_i = Σ_j exp(z_ij − m_i):
        probs_ij  = exp((z_ij − m_i) − log s_i)       (= softmax(z)_ij)
        losses_i  = (m_i − z_{i,y_i}) + log s_i       (= lse_i − z_{i,y_i}
                                                         = −log softmax(z)_{i,y_i})

        loss[0]   = scale · Σ_i losses_i              (Σ in float64)

    z, probs: (N, C); target: (N,) int64; losses: (N,); loss: (1,).
    probs is exact softmax: softmax_xent_backward uses it as is.

    GPU only: a target outside [0, C) is not read through; its row gets
    losses_i = NaN (so loss[0] is NaN), and its probs are still the softmax.
    """
    launch_rows(_softmax_xent_forward, z, z, target, probs, losses)
    sum_all(losses, scale, loss)


@cuda.jit(cache=True)
def _softmax_xent_backward(probs, target, scale, out):
    k = cuda.grid(1)
    c = probs.shape[1]
    if k < probs.shape[0] * c:
        i, j = k // c, k % c
        y = target[i]
        if 0 <= y < c:
            onehot = 1.0 if j == y else 0.0
            out[i, j] = scale * (probs[i, j] - onehot)
        else:
            out[i, j] = math.nan


def softmax_xent_backward(probs, target, scale, out):
    """∂L/∂z = scale · (softmax(z) − onehot(y)):

        out_ij = scale · (probs_ij − [j = y_i])

    probs, out: (N, C); target: (N,) int64; scale: float.  out may be probs.
    One thread per element.

    GPU only: a row whose target is outside [0, C) gets NaN in every element.
    """
    n = probs.shape[0] * probs.shape[1]
    if n == 0:
        return
    launch_1d(_softmax_xent_backward, n, probs, target, scale, out)


@cuda.jit(cache=True)
def _softmax_xent_prob_forward(z, target, probs, losses):
    i = cuda.blockIdx.x
    t = cuda.threadIdx.x
    buf = cuda.shared.array(ROW_THREADS, float64)
    m, log_s = _row_logsumexp(z, i, t, buf)
    row_loss = 0.0
    for j in range(t, z.shape[1], cuda.blockDim.x):
        row_loss += target[i, j] * ((m - z[i, j]) + log_s)
        probs[i, j] = math.exp((z[i, j] - m) - log_s)
    buf[t] = row_loss
    row_loss = block_sum(buf, t)
    if t == 0:
        losses[i] = row_loss


def softmax_xent_prob_forward(z, target, scale, probs, losses, loss):
    """Softmax cross-entropy with probability targets t (e.g. label smoothing).

    Per row i, with m_i, s_i and probs_ij as in softmax_xent_forward:
        losses_i = −Σ_j t_ij log softmax(z)_ij = Σ_j t_ij ((m_i − z_ij) + log s_i)
        loss[0]  = scale · Σ_i losses_i              (Σ in float64)

    z, target, probs: (N, C); losses: (N,); loss: (1,).
    """
    launch_rows(_softmax_xent_prob_forward, z, z, target, probs, losses)
    sum_all(losses, scale, loss)


@cuda.jit(cache=True)
def _softmax_xent_prob_backward(probs, target, scale, out):
    # One block per row: first Σ_k t_ik by the block, then each thread its
    # columns of the row.
    i = cuda.blockIdx.x
    t = cuda.threadIdx.x
    step = cuda.blockDim.x
    t_sum = 0.0
    for k in range(t, target.shape[1], step):
        t_sum += target[i, k]
    buf = cuda.shared.array(ROW_THREADS, float64)
    buf[t] = t_sum
    t_sum = block_sum(buf, t)
    for j in range(t, probs.shape[1], step):
        out[i, j] = scale * (probs[i, j] * t_sum - target[i, j])


def softmax_xent_prob_backward(probs, target, scale, out):
    """∂L/∂z for probability targets t:

        out_ij = scale · (probs_ij · Σ_k t_ik − t_ij)

    which is scale · (softmax(z) − t) when each row of t sums to 1.
    probs, target, out: (N, C); scale: float.  out may be probs.
    """
    launch_rows(_softmax_xent_prob_backward, probs, probs, target, scale, out)


# ------------------------------------------- binary cross-entropy on logits


@cuda.jit(cache=True)
def _bce_logits_forward(z, y, losses):
    i = cuda.grid(1)
    if i < z.shape[0]:
        losses[i] = max(z[i], 0.0) - z[i] * y[i] + math.log1p(math.exp(-abs(z[i])))


def bce_logits_forward(z, y, scale, losses, loss):
    """Binary cross-entropy on logits, −[y log σ(z) + (1 − y) log(1 − σ(z))]:

        losses_i = max(z_i, 0) − z_i · y_i + log(1 + exp(−|z_i|))
        loss[0]  = scale · Σ_i losses_i              (Σ in float64)

    an exact rewrite in which exp never overflows and log never sees 0, so it
    is finite for any finite z.  z, y, losses: (n,); loss: (1,).
    """
    n = z.shape[0]
    if n > 0:
        launch_1d(_bce_logits_forward, n, z, y, losses)
    sum_all(losses, scale, loss)


@cuda.jit(cache=True)
def _bce_logits_backward(z, y, scale, out):
    i = cuda.grid(1)
    if i < z.shape[0]:
        out[i] = scale * (sigmoid(z[i], 0.0, 0.0) - y[i])


def bce_logits_backward(z, y, scale, out):
    """∂L/∂z_i = scale · (σ(z_i) − y_i), σ evaluated stably.

    z, y, out: (n,); scale: float.
    """
    n = z.shape[0]
    if n == 0:
        return
    launch_1d(_bce_logits_backward, n, z, y, scale, out)


# ------------------------------------------------------ mean squared error


@cuda.jit(cache=True)
def _mse_forward(pred, target, losses):
    i = cuda.grid(1)
    if i < pred.shape[0]:
        d = pred[i] - target[i]
        losses[i] = d * d


def mse_forward(pred, target, scale, losses, loss):
    """losses_i = (pred_i − target_i)²;  loss[0] = scale · Σ_i losses_i (Σ in float64).

    pred, target, losses: (n,); loss: (1,).
    """
    n = pred.shape[0]
    if n > 0:
        launch_1d(_mse_forward, n, pred, target, losses)
    sum_all(losses, scale, loss)


@cuda.jit(cache=True)
def _mse_backward(pred, target, scale, out):
    i = cuda.grid(1)
    if i < pred.shape[0]:
        out[i] = 2.0 * scale * (pred[i] - target[i])


def mse_backward(pred, target, scale, out):
    """∂L/∂pred_i = 2 · scale · (pred_i − target_i).

    pred, target, out: (n,); scale: float.
    """
    n = pred.shape[0]
    if n == 0:
        return
    launch_1d(_mse_backward, n, pred, target, scale, out)
