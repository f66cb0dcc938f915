"""Which kernel runs: the one place where a backend chooses between implementations.

Two kinds of choice, both made here and nowhere else:

- **By activation.** A kernel that applies an activation is built per activation
  code (``kernels/activations.py``); ``KernelTable`` holds the built ones, so
  that finding the kernel for a code costs one dict lookup in a training step.

- **By size, on the CPU.** Three thresholds, each set by a sweep whose figures are
  in ``benchmarks/RESULTS.md``:

  ========================  =======================================================
  ``SMALL_LINEAR``          a dense layer's forward: the one-call kernel of
                            ``kernels/cpu/matmul.py`` (at most this many N·K·M
                            multiply-adds) or BLAS and the bias + activation kernel
  ``SMALL_LINEAR_BACKWARD`` the same choice for its backward
  ``PARALLEL_MIN``          an optimizer update: the serial kernel, or the
                            ``_parallel`` one on all threads (from this many elements)
  ========================  =======================================================

  ``CPUBackend.linear``, ``CPUBackend.linear_backward`` and
  ``CPUBackend.optimizer_kernel`` compare against them. On the GPU the one size choice is inside the kernels (the
  product's tile size: ``_use_big_tiles`` in ``kernels/cuda/matmul.py``).

Each threshold is an ``int`` that carries, as its docstring, what was measured to
set it: ``help(minigrad.backend.dispatch.SMALL_LINEAR)``. Change one to try
another (``dispatch.SMALL_LINEAR = Threshold(0, "…")`` sends every layer to BLAS)
and ``benchmarks/dense_small.py`` or ``benchmarks/optim_step.py`` shows the effect.
"""


class Threshold(int):
    """An ``int`` with a docstring: the measurement behind a size threshold."""

    def __new__(cls, value, doc):
        self = super().__new__(cls, value)
        self.__doc__ = doc
        return self


SMALL_LINEAR = Threshold(4096, """\
A dense layer of at most this many multiply-adds (N·K·M) runs forward through the
one-call kernel of kernels/cpu/matmul.py, a larger one through BLAS plus the bias +
activation kernel. Below it a BLAS call costs more than the arithmetic: at 4×2×8 the
kernel takes ~1.5 µs against ~5 µs for BLAS and the bias kernel, and the two meet at
16×16×16 (benchmarks/dense_small.py, 2-core Zen 4; figures in RESULTS.md).""")

SMALL_LINEAR_BACKWARD = Threshold(32768, """\
The same choice for a dense layer's backward, where one kernel call replaces four
(the activation's derivative, two products, the bias's column sums): the two meet
between 32×32×32 and 64×32×32 (benchmarks/dense_small.py; RESULTS.md).""")

PARALLEL_MIN = Threshold(4_194_304, """\
From this many elements on, an optimizer update runs on all threads. On bare arrays
the threads pay from ~64k elements (benchmarks/optim_step.py's sweep), but in
training the update follows BLAS calls whose idle threads keep spinning, and a
parallel region can then wait a scheduler tick (~4 ms) for a core: W3's
535k-parameter Adam took 3–8 ms in parallel against 0.1 ms serial (RESULTS.md). So
threads are used only where the serial update itself takes several ms.""")


class KernelTable(dict):
    """Kernels by activation code, each built by ``build(code)`` on first use
    (``kernels.cpu.activations.forward``, …) and then found by one dict lookup."""

    def __init__(self, build):
        super().__init__()
        self.build = build

    def __missing__(self, act):
        kernel = self[act] = self.build(act)
        return kernel
