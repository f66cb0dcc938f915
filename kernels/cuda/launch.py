"""How the CUDA kernels are launched: grids sized for the data.

Each public function in ``kernels.cuda`` is a launcher with the name and argument
order of its CPU twin in ``kernels.cpu``: it takes numba device arrays (never host
arrays, which numba would copy to the GPU and back on every call), picks a grid
for their sizes and launches one or more ``@cuda.jit`` kernels, written just above
it. The launch is asynchronous: the launcher returns before the GPU has finished,
and results stay on the device until someone copies them back.

Launches are written one of three ways: ``launch_1d`` (one thread per element, the
common case), ``launch_rows`` (one block per row, its threads meeting in shared
memory: softmax, cross-entropy), or, for kernels that tile a matrix (the products
of matmul.py, the column sums of reductions.py and matmul.py's δ pass), a grid
spelled out beside the kernel, where the tile sizes are explained.
"""

from numba import config

# Threads per block for kernels with one thread per element: a multiple of the
# 32-thread warp, large enough to hide memory latency, small enough that many
# blocks fit on each multiprocessor.
THREADS = 256

# True when the kernels run on numba's CUDA simulator (NUMBA_ENABLE_CUDASIM=1),
# which runs every GPU thread as Python code: tests keep their sizes small there.
SIMULATOR = bool(config.ENABLE_CUDASIM)


def threads_for(n, most=THREADS):
    """Threads per block for n work items: a power of two from 32 (one warp) up to
    ``most``, so a small launch does not start hundreds of idle threads."""
    t = 32
    while t < n and t < most:
        t *= 2
    return t


def grid_1d(n, most=THREADS):
    """(blocks, threads per block) that give each of n items one thread."""
    t = threads_for(n, most)
    return (n + t - 1) // t, t


def launch_1d(kernel, n, *args):
    """kernel[grid](*args) with one thread per item of n; nothing for n = 0 (a grid
    of 0 blocks is an error on a GPU)."""
    if n == 0:
        return
    blocks, threads = grid_1d(n)
    kernel[blocks, threads](*args)


# The most threads a row kernel's block may have: the size of the shared arrays
# that its threads meet in (a compile-time constant, as shared arrays need).
ROW_THREADS = 256


def launch_rows(kernel, rows, *args):
    """kernel[grid](*args) with one block per row of ``rows`` (an (M, C) array), of
    threads_for(C) threads (at most ROW_THREADS) that stride along the row; nothing
    for M = 0."""
    if rows.shape[0] == 0:
        return
    kernel[rows.shape[0], threads_for(rows.shape[1], ROW_THREADS)](*args)
