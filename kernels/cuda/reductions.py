"""Reduction kernels on the GPU: column sums (the twin of kernels.cpu.reductions),
and the row sums, row max, row argmax and whole-array sum that the GPU backend
needs besides.

Shapes: g and x are 2-D and C-contiguous; out is 1-D. float32 and float64 are
supported, and the row kernels also take integer and bool x (row_sums then into
an int64 out).

Every reduction here is a parallel tree: each thread first folds a strided share
of the data into one value in a register (reading memory coalesced: neighbouring
threads read neighbouring addresses), writes it to shared memory, and the block
then halves the number of live values until one is left:

    stride s = T/2, T/4, …, 1:   buf[t] ← buf[t] ⊕ buf[t + s]   for t < s

log₂ T steps with a barrier between them, T = threads per block (a power of two).
No atomics: every result is the same, bit for bit, from run to run.
"""

import numpy as np
from numba import cuda, float64, int64

from .launch import threads_for

# Size of the shared arrays of the one-block-per-row kernels, and so the most
# threads such a block may have. A compile-time constant, as shared arrays need.
_BLOCK = 256


# Block-wide reductions through shared memory: the helpers of every kernel here, and
# of the loss, softmax and dense-layer kernels of the other files, which import them
# (kernels/cache.py makes the cached kernels notice an edit to them).


@cuda.jit(device=True, inline="always")
def block_sum(buf, t):
    """Σ_k buf[k] over the block's T = blockDim.x entries (T a power of two), by
    halving: at stride s = T/2, …, 1 thread t < s adds buf[t + s] to buf[t].

    Every thread of the block must call it, with t = threadIdx.x, after writing
    its own buf[t]; every thread gets the total, and buf may be reused after."""
    s = cuda.blockDim.x // 2
    while s > 0:
        cuda.syncthreads()
        if t < s:
            buf[t] += buf[t + s]
        s //= 2
    cuda.syncthreads()
    total = buf[0]
    cuda.syncthreads()  # everyone has read buf[0] before anyone writes buf again
    return total


@cuda.jit(device=True, inline="always")
def block_max(buf, t):
    """max_k buf[k], as block_sum. A NaN loses every comparison and so drops out,
    as in the CPU's row max; the exp sum after it is then NaN anyway."""
    s = cuda.blockDim.x // 2
    while s > 0:
        cuda.syncthreads()
        if t < s and buf[t + s] > buf[t]:
            buf[t] = buf[t + s]
        s //= 2
    cuda.syncthreads()
    top = buf[0]
    cuda.syncthreads()
    return top


@cuda.jit(device=True, inline="always")
def lanes_sum(buf, r, c):
    """Σ_r buf[r, c] over the block's row lanes (buf: (LANES, COLS) in shared memory,
    LANES a power of two), by halving, in a fixed order (the same bits every run).

    Every thread (c, r) must call it after writing buf[r, c]; the sum is left in
    buf[0, c], to be read by the lane r = 0."""
    s = buf.shape[0] // 2
    while s > 0:
        cuda.syncthreads()
        if r < s:
            buf[r, c] += buf[r + s, c]
        s //= 2


# ------------------------------------------------------------------ column sums

# column_sums' blocks: 32 columns (one warp reads 32 neighbouring elements of a
# row: one coalesced transaction) × 8 row lanes.
_COLS = 32
_LANES = 8


@cuda.jit(cache=True)
def _column_sums(g, out):
    # Thread (c, r) of block b owns column j = 32 b + c and sums rows r, r + 8,
    # r + 16, …; the 8 lanes' partial sums then meet in shared memory.
    c = cuda.threadIdx.x
    r = cuda.threadIdx.y
    j = cuda.blockIdx.x * _COLS + c
    acc = out.dtype.type(0)
    if j < g.shape[1]:
        for i in range(r, g.shape[0], _LANES):
            acc += g[i, j]
    buf = cuda.shared.array((_LANES, _COLS), out.dtype)
    buf[r, c] = acc
    lanes_sum(buf, r, c)
    if r == 0 and j < g.shape[1]:
        out[j] = buf[0, c]


def column_sums(g, out):
    """out_j = Σ_i g_ij.   g: (N, M); out: (M,).

    The bias gradient of z = x W + b: ∂L/∂b = Σ_rows δ, δ = ∂L/∂z.
    Summed in out's dtype (as on the CPU), each column by 8 lanes that each take
    every 8th row, then the 8 partial sums in a fixed order: deterministic.

    One block per 32 columns: a layer of M units gets ⌈M/32⌉ blocks, too few to
    fill a large GPU when M is small, but each block streams its rows at full
    coalescing, and the whole sum is one launch.
    """
    if out.shape[0] == 0:
        return
    blocks = (out.shape[0] + _COLS - 1) // _COLS
    _column_sums[blocks, (_COLS, _LANES)](g, out)


# ------------------------------------------------------------------ row sums


@cuda.jit(cache=True)
def _row_sums(x, out):
    # One block per row i; thread t sums x[i, t], x[i, t + T], …
    i = cuda.blockIdx.x
    t = cuda.threadIdx.x
    acc = out.dtype.type(0)
    for j in range(t, x.shape[1], cuda.blockDim.x):
        acc += x[i, j]
    buf = cuda.shared.array(_BLOCK, out.dtype)
    buf[t] = acc
    total = block_sum(buf, t)
    if t == 0:
        out[i] = total


def row_sums(x, out):
    """out_i = Σ_j x_ij.   x: (M, R); out: (M,).  (CUDA only.)

    Accumulated in out's dtype: float32 sums float32, float64 float64, and an
    int64 out sums bool or int64 x (a count of True values). R = 0 gives 0.
    One block per row, of up to 256 threads.
    """
    if out.shape[0] == 0:
        return
    _row_sums[out.shape[0], threads_for(x.shape[1], _BLOCK)](x, out)


# ------------------------------------------------------------------ row max


@cuda.jit(device=True, inline="always")
def _max_nan(a, b):
    # max(a, b) in which a NaN wins, as in NumPy's max (a != a only for NaN).
    if a != a or a >= b:
        return a
    return b


@cuda.jit(cache=True)
def _row_max(x, out):
    i = cuda.blockIdx.x
    t = cuda.threadIdx.x
    # Start every thread at x[i, 0] (R ≥ 1), so a thread with no element of its
    # own holds a value of the row, not a made-up −∞ that an int row cannot hold.
    m = x[i, 0]
    for j in range(t, x.shape[1], cuda.blockDim.x):
        m = _max_nan(m, x[i, j])
    buf = cuda.shared.array(_BLOCK, x.dtype)
    buf[t] = m
    s = cuda.blockDim.x // 2
    while s > 0:
        cuda.syncthreads()
        if t < s:
            buf[t] = _max_nan(buf[t], buf[t + s])
        s //= 2
    if t == 0:
        out[i] = buf[0]


def row_max(x, out):
    """out_i = max_j x_ij, NaN if the row holds a NaN (as numpy.max).

    x: (M, R) with R ≥ 1; out: (M,) of x's dtype.  (CUDA only.)
    One block per row, of up to 256 threads.
    """
    if out.shape[0] == 0:
        return
    _row_max[out.shape[0], threads_for(x.shape[1], _BLOCK)](x, out)


# ------------------------------------------------------------------ row argmax


@cuda.jit(device=True, inline="always")
def _beats(v, k, best_v, best_k):
    """True when (value v, index k) comes before (best_v, best_k) in argmax's
    order: a NaN before any number (NumPy's argmax returns the first NaN), then
    the larger value, then, between equals, the smaller index. A total order, so
    the tree may combine pairs in any grouping and still find the first maximum."""
    if best_v != best_v:  # best is NaN: only an earlier NaN beats it
        return v != v and k < best_k
    if v != v:
        return True
    return v > best_v or (v == best_v and k < best_k)


@cuda.jit(cache=True)
def _row_argmax(x, out):
    i = cuda.blockIdx.x
    t = cuda.threadIdx.x
    best_v = x[i, 0]  # a real element, so threads with nothing to scan are harmless
    best_k = 0
    for j in range(t, x.shape[1], cuda.blockDim.x):
        if _beats(x[i, j], j, best_v, best_k):
            best_v = x[i, j]
            best_k = j
    vals = cuda.shared.array(_BLOCK, x.dtype)
    idxs = cuda.shared.array(_BLOCK, int64)
    vals[t] = best_v
    idxs[t] = best_k
    s = cuda.blockDim.x // 2
    while s > 0:
        cuda.syncthreads()
        if t < s and _beats(vals[t + s], idxs[t + s], vals[t], idxs[t]):
            vals[t] = vals[t + s]
            idxs[t] = idxs[t + s]
        s //= 2
    if t == 0:
        out[i] = idxs[0]


def row_argmax(x, out):
    """out_i = the first j at which x_ij is maximal (numpy.argmax along rows; a
    NaN counts as the maximum, so the first NaN's index if the row has one).

    x: (M, R) with R ≥ 1; out: (M,) int64.  (CUDA only.)
    One block per row, of up to 256 threads.
    """
    if out.shape[0] == 0:
        return
    _row_argmax[out.shape[0], threads_for(x.shape[1], _BLOCK)](x, out)


# ------------------------------------------------------------------ sum of all

# Each thread of sum_all's first pass sums at least this many elements, so that
# a sum of up to 8 · 256 = 2048 elements (a batch's losses) is one block and one
# launch; and at most this many blocks, enough to fill an H100 (132 SMs × 2048
# threads ≈ 1024 blocks of 256), so the second pass adds at most 1024 numbers.
_PER_THREAD = 8
_MAX_BLOCKS = 1024


@cuda.jit(cache=True)
def _sum_all(x, scale, out):
    # out[b] = scale · Σ of block b's share of x, summed in float64. The grid
    # strides over x: thread t of block b sums x[k], k = b T + t, then k + B T, …
    t = cuda.threadIdx.x
    acc = 0.0
    start = cuda.blockIdx.x * cuda.blockDim.x + t
    for k in range(start, x.shape[0], cuda.gridDim.x * cuda.blockDim.x):
        acc += float(x[k])
    buf = cuda.shared.array(_BLOCK, float64)
    buf[t] = acc
    total = block_sum(buf, t)
    if t == 0:
        out[cuda.blockIdx.x] = scale * total


def sum_all(x, scale, out):
    """out[0] = scale · Σ_k x_k, the sum taken in float64, stored in out's dtype.

    x: (n,), n ≥ 0 (empty gives 0); out: (1,); scale: float.  (CUDA only.)

    Up to 2048 elements: one block, one launch. Beyond: B ≤ 1024 blocks each
    write their float64 partial sum to a scratch array, and the same kernel run
    as a single block sums those B partials and applies scale: two launches, no
    atomics, so the result does not change from run to run (float64 atomics
    would add in whatever order the blocks finish).
    """
    n = x.shape[0]
    threads = threads_for(n, _BLOCK)
    per_block = threads * _PER_THREAD
    blocks = min((n + per_block - 1) // per_block, _MAX_BLOCKS)
    if blocks <= 1:  # includes n = 0, which still writes out[0] = 0
        _sum_all[1, threads](x, scale, out)
        return
    partial = cuda.device_array(blocks, np.float64)
    _sum_all[blocks, threads](x, 1.0, partial)
    _sum_all[1, threads_for(blocks, _BLOCK)](partial, scale, out)
