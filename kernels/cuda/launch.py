"""How the CUDA kernels are launched: grids sized for the data.

Each public function in ``kernels.cuda`` is a launcher with the name and argument
order of its CPU twin in ``kernels.cpu``: it takes numba device arrays (never host
arrays, which numba would copy to the GPU and back on every call), picks a grid
for their sizes and launches one or more ``@cuda.jit`` kernels, written just above
it. The launch is asynchronous: the launcher returns before the GPU has finished,
and results stay on the device until someone copies them back.
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
