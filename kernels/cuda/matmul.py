"""Matrix products and the dense layer h = f(x Wᵀ + b) on the GPU: tiled kernels.

The twins of kernels/cpu/matmul.py (linear_forward, linear_backward), plus the three
plain products the GPU backend needs, since there is no BLAS to hand them to:

    matmul(a, b, out)       out = a b       a (M, K), b (K, N)
    matmul_tn(a, b, out)    out = aᵀ b      a (K, M), b (K, N)
    matmul_nt(a, b, out)    out = a bᵀ      a (M, K), b (N, K)

All of them run one kernel, out_ij = f(bias_j + Σ_k A_ik B_kj), told how A and B
lie in memory, whose epilogue adds the bias and applies the activation as each
output leaves the registers (for the plain products f = identity, no bias).

How the product is tiled
------------------------
A GPU multiplies fast only if it re-uses every number it reads. Computed naively,
each output reads a row of A and a column of B from global memory: 2K loads for K
multiply-adds, far below what the arithmetic units could do. Tiling re-uses them:

  * Each block of threads owns a P × P tile of out (P = 128 in the big kernel, 16
    in the small one): rows m0 … m0+P−1, columns n0 … n0+P−1.
  * It walks K in steps of BK = 8. Each step, the block copies the P × BK slab of
    A and the BK × P slab of B that the tile needs into shared memory (fast,
    on-chip, shared by the block), waits for all its threads (syncthreads), and
    then every thread adds the slab's contribution to its outputs, reading only
    shared memory. Each number loaded from global memory is used P times.
  * Each thread owns a MICRO × MICRO "micro-tile" of outputs, kept in registers
    (a cuda.local.array indexed only by constants once the loops are unrolled).
    Per k it reads MICRO values of A and MICRO of B from shared memory and does
    MICRO² multiply-adds: in the big kernel (MICRO = 8, 256 threads) 64 FMAs per
    16 shared loads, the ratio at which an H100's shared memory (one 32-word load
    per clock) keeps up with its FMA units (four warp-wide FMAs per clock).
    Thread (ty, tx) owns rows ty + S i and columns tx + S j (i, j < MICRO; S =
    P / MICRO, 16 in the big kernel): strided, so that a warp's 32 threads read
    16 neighbouring words of B (16 banks) and 2 words of A (a broadcast).

        which thread owns which output, in a 4 × 4 tile of 2 × 2 threads
        (a, b, c, d) of 2 × 2 outputs each, S = 2:
            a b a b      a = (ty 0, tx 0): rows 0, 2 × columns 0, 2
            c d c d      b = (ty 0, tx 1): rows 0, 2 × columns 1, 3
            a b a b      c = (ty 1, tx 0): rows 1, 3 × columns 0, 2
            c d c d

  * While the block computes on one slab, each thread's loads of the next slab
    are already under way (into registers, stored to shared memory after the
    barrier): global-memory latency hides behind the FMAs.
  * Shared tiles are k-major, tile[k, p], whatever the operand's layout, so the
    inner loop reads A and B the same way in all three products.

Three layouts, one loader
-------------------------
Each slab is read from global memory in the order memory holds it, so that the
threads of a warp read neighbouring addresses (coalesced: a few transactions serve
the whole warp), and it is transposed on its way into shared memory:

    operand stored (P, K) (A of a b, B of a bᵀ):  neighbouring threads take neighbouring k
    operand stored (K, P) (A of aᵀ b, B of a b):  neighbouring threads take neighbouring p

Two short device functions (_fetch_slab, _store_slab) do this for both operands of
every product, told the layout by a flag, k_major. The flag is a kernel argument,
not a compile-time constant of three compiled variants: it is the same for every
thread, so its branch costs a few instructions per K-step against 8 × 64 FMAs per
thread, and there is one kernel to read, compile and cache instead of three. A row
of a shared tile is P + 4 words long: a warp storing a (P, K)-layout slab writes 8
values of k for 4 values of p, and a row stride ≡ 4 (mod 32) puts those 32 words
in 32 different banks (with no padding all 8 k's of one p would share a bank).

Edges: loads from outside the matrix give 0 (so a partial K-step adds nothing), and
outputs outside out are not stored; any M, N, K works, K = 0 included (out = f(bias)).
M or N = 0 launches nothing.

Which kernel
------------
A 128 × 128 tile wastes most of a block when out is small, and a small out gives
few blocks: a 512 × 512 out is 16 big blocks on a GPU with 132 multiprocessors.
Below _BIG_MIN_BLOCKS big blocks (or when M or N is under half a tile: a batch of
32 rows, say) the small kernel runs: 16 × 16 tiles, 64 threads of 2 × 2 outputs,
the same code with other sizes. Per multiprocessor it does a quarter of the big
kernel's work (one FMA per shared load), but a grid of small tiles fills the GPU;
the threshold is about where the two meet. Small MLPs (batch 4, 8 units) get one
small block per product: they cannot fill a GPU, and launch overhead dominates
their time anyway.

Shapes as in kernels/cpu/matmul.py: x (N, K); w (M, K) as in PyTorch; b (M,); h and
grad (N, M). All arrays are C-contiguous device arrays of one float dtype (float32
or float64); products are accumulated in that dtype, as BLAS and the CPU twins do.
"""

import functools

from numba import cuda

from ..activations import IDENTITY, activate, activate_backward
from .reductions import lanes_sum

# ------------------------------------------------------------------ sizes

# K-step of both kernels, and the padding of a shared tile's rows (see above).
_BK = 8
_PAD = 4

# The big kernel: a 128 × 128 tile per block, 8 × 8 outputs per thread (256 threads).
# The small one: a 16 × 16 tile, 2 × 2 outputs per thread (64 threads).
# ptxas (CUDA 13, sm_90) gives the float32 big kernel 122 registers a thread, no
# spills: two blocks fit on a multiprocessor (64 K registers). Past 128 only one
# would, so check the count (numba's compile_ptx, then ptxas -v) after changing it.
_BIG, _BIG_MICRO = 128, 8
_SMALL, _SMALL_MICRO = 16, 2

# The big kernel is used when its grid has at least this many blocks (and M, N are
# at least half a tile). A rough crossover, from counting shared loads per FMA
# (the big kernel does 4 FMAs per shared load, the small one 1, on 132
# multiprocessors); measure on the GPU at hand to move it.
_BIG_MIN_BLOCKS = 32


def _use_big_tiles(m, n):
    """True when an (m, n) out should go to the 128 × 128-tile kernel."""
    blocks = ((m + _BIG - 1) // _BIG) * ((n + _BIG - 1) // _BIG)
    return blocks >= _BIG_MIN_BLOCKS and min(m, n) >= _BIG // 2


# ------------------------------------------------------------------ slab loads and epilogue

# A slab is the BK × P piece of an operand that one K-step of a block needs: S[p, k]
# for p0 ≤ p < p0 + P, k0 ≤ k < k0 + BK, where S is A (p = output row) or Bᵀ (p =
# output column). The block's T threads share its BK · P elements, R = BK · P / T
# each: load r of thread t is element (p, k) of _slab_coords. Neighbouring t take
# neighbouring addresses of the operand, and a thread's successive loads lie T / P
# apart in k (operand stored (K, P)) or T / BK apart in p (stored (P, K)).


@cuda.jit(device=True, inline="always")
def _slab_coords(k_major, t, r, width, threads):
    """(p, k) of load r of thread t in a BK × width slab of an operand stored (K, P)
    (k_major: p runs fastest) or (P, K) (k runs fastest)."""
    if k_major:
        return t % width, t // width + r * (threads // width)
    return t // _BK + r * (threads // _BK), t % _BK


@cuda.jit(device=True, inline="always")
def _fetch_slab(src, k_major, p0, k0, regs, t, width, threads):
    """regs[r] ← S[p0 + p, k0 + k] for this thread's loads (p, k) of the slab, 0
    outside S. src holds S as src[k, p] (k_major) or src[p, k]. The loads go from
    global memory to registers; _store_slab moves them on to shared memory."""
    n_p = src.shape[1] if k_major else src.shape[0]
    n_k = src.shape[0] if k_major else src.shape[1]
    for r in range(regs.shape[0]):
        p, k = _slab_coords(k_major, t, r, width, threads)
        v = regs.dtype.type(0)
        if p0 + p < n_p and k0 + k < n_k:
            v = src[k0 + k, p0 + p] if k_major else src[p0 + p, k0 + k]
        regs[r] = v


@cuda.jit(device=True, inline="always")
def _store_slab(regs, k_major, tile, t, width, threads):
    """tile[k, p] ← regs[r]: the fetched slab into shared memory, k-major whatever
    the operand's layout (this is where aᵀ and bᵀ are transposed)."""
    for r in range(regs.shape[0]):
        p, k = _slab_coords(k_major, t, r, width, threads)
        tile[k, p] = regs[r]


@cuda.jit(device=True, inline="always")
def _finish(out, i, j, acc, bias, act, p, q):
    """The epilogue: out_ij = f(acc + b_j) (no b_j when bias has length 0), if (i, j)
    is inside out. f is the activation with code act, from kernels/activations.py."""
    if i < out.shape[0] and j < out.shape[1]:
        if bias.shape[0] > 0:
            acc += bias[j]
        out[i, j] = activate(act, acc, p, q)


# ------------------------------------------------------------------ the product kernel


def _make_product_kernel(TILE, MICRO):
    """The kernel out = f(A B + bias) with TILE × TILE outputs per block and MICRO ×
    MICRO per thread.

    A factory, because the big and the small kernel are one loop with different
    sizes, and numba needs the shapes of shared and local arrays as compile-time
    constants, which a closure's variables are. Each call makes a separate kernel,
    compiled and cached on its own (numba's cache key includes the closure's
    values). The operands' layouts, by contrast, are run-time flags (see above)."""
    SPAN = TILE // MICRO                # threads along each side of the tile
    THREADS = SPAN * SPAN
    PER_THREAD = _BK * TILE // THREADS  # slab elements each thread loads, per operand
    TILE_SHAPE = (_BK, TILE + _PAD)
    assert THREADS % TILE == 0 and THREADS % _BK == 0  # as _slab_coords assumes

    @cuda.jit(cache=True)
    def product(a, a_k_major, b, b_k_major, bias, act, p, q, out):
        # Block (bx, by) computes out[m0 : m0+TILE, n0 : n0+TILE]; thread (ty, tx)
        # the outputs (m0 + ty + SPAN i, n0 + tx + SPAN j), i, j < MICRO. a holds A
        # as (K, M) if a_k_major else (M, K); b holds B as (K, N) if b_k_major
        # else (N, K).
        #
        # The & is a no-op (t < THREADS) that tells the compiler t ≥ 0: without it,
        # every index derived from t carries the sign corrections of Python's % and
        # // and of negative-index wraparound, which cost registers here.
        t = cuda.threadIdx.x & (THREADS - 1)
        tx = t % SPAN
        ty = t // SPAN
        m0 = cuda.blockIdx.y * TILE
        n0 = cuda.blockIdx.x * TILE
        k_len = a.shape[0] if a_k_major else a.shape[1]

        a_tile = cuda.shared.array(TILE_SHAPE, out.dtype)   # a_tile[k, i] = A[m0+i, k0+k]
        b_tile = cuda.shared.array(TILE_SHAPE, out.dtype)   # b_tile[k, j] = B[k0+k, n0+j]
        a_next = cuda.local.array(PER_THREAD, out.dtype)    # the next slabs, on their way
        b_next = cuda.local.array(PER_THREAD, out.dtype)
        acc = cuda.local.array((MICRO, MICRO), out.dtype)   # this thread's outputs
        a_frag = cuda.local.array(MICRO, out.dtype)
        b_frag = cuda.local.array(MICRO, out.dtype)
        zero = out.dtype.type(0)
        for i in range(MICRO):
            for j in range(MICRO):
                acc[i, j] = zero

        _fetch_slab(a, a_k_major, m0, 0, a_next, t, TILE, THREADS)
        _fetch_slab(b, b_k_major, n0, 0, b_next, t, TILE, THREADS)
        for k0 in range(0, k_len, _BK):
            _store_slab(a_next, a_k_major, a_tile, t, TILE, THREADS)
            _store_slab(b_next, b_k_major, b_tile, t, TILE, THREADS)
            cuda.syncthreads()
            if k0 + _BK < k_len:  # the next K-step's loads fly while this one computes
                _fetch_slab(a, a_k_major, m0, k0 + _BK, a_next, t, TILE, THREADS)
                _fetch_slab(b, b_k_major, n0, k0 + _BK, b_next, t, TILE, THREADS)
            # acc_ij += A[m0 + ty + SPAN i, k0 + k] · B[k0 + k, n0 + tx + SPAN j]:
            # for each k, the outer product of MICRO values of A and MICRO of B.
            for k in range(_BK):
                for i in range(MICRO):
                    a_frag[i] = a_tile[k, ty + i * SPAN]
                for j in range(MICRO):
                    b_frag[j] = b_tile[k, tx + j * SPAN]
                for i in range(MICRO):
                    for j in range(MICRO):
                        acc[i, j] += a_frag[i] * b_frag[j]
            cuda.syncthreads()  # all are done with the tiles before they are refilled

        for i in range(MICRO):
            for j in range(MICRO):
                _finish(out, m0 + ty + i * SPAN, n0 + tx + j * SPAN, acc[i, j],
                        bias, act, p, q)

    return product


_product_big = _make_product_kernel(_BIG, _BIG_MICRO)
_product_small = _make_product_kernel(_SMALL, _SMALL_MICRO)


def _gemm(a, a_k_major, b, b_k_major, bias, out, act=IDENTITY, p=0.0, q=0.0):
    """out = f(A B + bias), A held by a as (K, M) if a_k_major else (M, K), B held by
    b as (K, N) if b_k_major else (N, K). Picks the kernel and the grid."""
    m, n = out.shape
    if m == 0 or n == 0:
        return
    if _use_big_tiles(m, n):
        kernel, tile, micro = _product_big, _BIG, _BIG_MICRO
    else:
        kernel, tile, micro = _product_small, _SMALL, _SMALL_MICRO
    grid = ((n + tile - 1) // tile, (m + tile - 1) // tile)
    kernel[grid, (tile // micro) ** 2](a, a_k_major, b, b_k_major, bias, act, float(p),
                                       float(q), out)


def _no_bias(out):
    # A length-0 bias: no allocation (numba gives an empty array a null pointer).
    return cuda.device_array(0, out.dtype)


# ------------------------------------------------------------------ the products


def matmul(a, b, out):
    """out = a b:   out_ij = Σ_k a_ik b_kj.   a: (M, K); b: (K, N); out: (M, N)."""
    _gemm(a, False, b, True, _no_bias(out), out)


def matmul_tn(a, b, out):
    """out = aᵀ b:   out_ij = Σ_k a_ki b_kj.   a: (K, M); b: (K, N); out: (M, N).

    aᵀ is never formed: a's tiles are read as they lie and transposed on their way
    into shared memory. (The weight gradient δᵀ x of a dense layer.)"""
    _gemm(a, True, b, True, _no_bias(out), out)


def matmul_nt(a, b, out):
    """out = a bᵀ:   out_ij = Σ_k a_ik b_jk.   a: (M, K); b: (N, K); out: (M, N).

    bᵀ is never formed. (The dense layer's x Wᵀ, W stored (out, in) as in PyTorch.)"""
    _gemm(a, False, b, False, _no_bias(out), out)


# ------------------------------------------------------------------ the dense layer


@functools.cache
def linear_forward(act):
    """The launcher out = f(x Wᵀ + b) for activation ``act``:  (x, w, b, p, q, out),
    the twin of kernels/cpu/matmul.py's linear_forward (formula and shapes there).

    One launch: the product x Wᵀ (matmul_nt's tiles), with b_j added and f applied
    to each output in the kernel's epilogue, before it is written. K = 0 gives f(b).
    """

    def linear_forward(x, w, b, p, q, out):
        _gemm(x, False, w, False, b, out, act, p, q)

    return linear_forward


# δ = grad ⊙ f′ and Σ_rows δ: blocks of 32 columns (a warp reads 32 neighbouring
# elements of a row: one coalesced transaction) × 8 row lanes, as column_sums in
# kernels/cuda/reductions.py.
_COLS = 32
_LANES = 8


@cuda.jit(cache=True)
def _delta_and_column_sums(grad, s, act, p, q, delta, gb):
    # Thread (c, r) of block bx owns column j = 32 bx + c, rows r, r + 8, r + 16, …:
    # it writes δ_ij there (unless delta has length 0) and sums them; the 8 lanes'
    # partial sums then meet in shared memory in a fixed order (no atomics: the
    # same bits every run). gb of length 0: the sums are not stored.
    c = cuda.threadIdx.x
    r = cuda.threadIdx.y
    j = cuda.blockIdx.x * _COLS + c
    n, m = grad.shape
    store = delta.shape[0] > 0
    acc = grad.dtype.type(0)
    if j < m:
        for i in range(r, n, _LANES):
            d = activate_backward(act, grad[i, j], s[i, j], s[i, j], p, q)
            if store:
                delta[i, j] = d
            acc += d
    buf = cuda.shared.array((_LANES, _COLS), grad.dtype)
    buf[r, c] = acc
    lanes_sum(buf, r, c)
    if r == 0 and j < m and gb.shape[0] > 0:
        gb[j] = buf[0, c]


@functools.cache
def linear_backward(act):
    """The launcher of all three gradients of h = f(x Wᵀ + b) for activation ``act``:
    (grad, x, w, s, p, q, gx, gw, gb), the twin of kernels/cpu/matmul.py's
    linear_backward (the formulas, shapes and length-0 "not wanted" arrays are there).

    Up to three launches: one pass over grad and s writes δ to a temporary
    (N, M) array (none for IDENTITY, where δ = grad) and, in the same pass, the
    column sums gb; then gw = δᵀ x (matmul_tn's kernel) and gx = δ W (matmul's).
    The δ pass has one block per 32 columns, too few to fill a large GPU for a
    narrow layer, but it is one read of N·M numbers against the products' N·M·K FMAs.
    """

    def linear_backward(grad, x, w, s, p, q, gx, gw, gb):
        n, m = grad.shape
        want_x, want_w, want_b = gx.shape[0] > 0, gw.shape[0] > 0, gb.shape[0] > 0
        # δ as an array is needed only by the products, and is grad itself for IDENTITY.
        delta = grad
        if act != IDENTITY and (want_x or want_w):
            delta = cuda.device_array((n, m), grad.dtype)
        if (delta is not grad or want_b) and m > 0:
            store = delta if delta is not grad else cuda.device_array((0, 0), grad.dtype)
            blocks = (m + _COLS - 1) // _COLS
            _delta_and_column_sums[blocks, (_COLS, _LANES)](
                grad, s, act, float(p), float(q), store, gb)
        if want_w:
            _gemm(delta, True, x, True, _no_bias(gw), gw)      # δᵀ x
        if want_x:
            _gemm(delta, False, w, True, _no_bias(gx), gx)     # δ W

    return linear_backward
