"""Where a dense layer stops being "small": the one-call kernels of kernels/cpu/matmul.py
against BLAS plus the bias + activation kernel, forward and backward, over layer sizes.

The CPU backend runs a layer of at most ``SMALL_LINEAR`` multiply-adds (N·K·M) through
the one-call forward kernel, and of at most ``SMALL_LINEAR_BACKWARD`` through the
one-call backward kernel, anything larger through BLAS (minigrad/backend/dispatch.py); this
sweep is what those thresholds rest on. Sigmoid layers, float32, interleaved peers,
medians of ``--repeat`` rounds.

    python benchmarks/dense_small.py
    python benchmarks/dense_small.py --repeat 30
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402  (puts the checkout on sys.path)

from minigrad.kernels import cpu as K  # noqa: E402
from minigrad.kernels.activations import SIGMOID  # noqa: E402
from minigrad.kernels.cpu import activations as act  # noqa: E402
from minigrad.kernels.cpu import matmul as dense  # noqa: E402
from minigrad.backend.dispatch import SMALL_LINEAR, SMALL_LINEAR_BACKWARD  # noqa: E402

SIZES = [(4, 2, 8), (4, 8, 1), (8, 8, 8), (16, 16, 16), (32, 16, 16), (32, 32, 32), (64, 32, 32)]


def peers(n, k, m, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, k), np.float32)
    w = rng.standard_normal((m, k), np.float32)
    b = rng.standard_normal(m, np.float32)
    g = rng.standard_normal((n, m), np.float32)
    h = np.empty((n, m), np.float32)
    y = (1 / (1 + np.exp(-(x @ w.T + b)))).astype(np.float32)
    gx, gw, gb = np.empty((n, k), np.float32), np.empty((m, k), np.float32), np.empty(m, np.float32)

    bias_forward, backward = act.bias_forward(SIGMOID), act.backward(SIGMOID)
    linear_forward, linear_backward = dense.linear_forward(SIGMOID), dense.linear_backward(SIGMOID)

    def blas_forward():                   # what the backend does above the threshold
        z = x @ w.T
        bias_forward(z, b, 0.0, 0.0, z)

    def kernel_forward():
        linear_forward(x, w, b, 0.0, 0.0, h)

    def blas_backward():
        delta = np.empty_like(g)
        backward(g.reshape(-1), y.reshape(-1), 0.0, 0.0, delta.reshape(-1))
        np.matmul(delta.T, x, out=gw)
        K.column_sums(delta, gb)
        delta @ w

    def kernel_backward():
        linear_backward(g, x, w, y, 0.0, 0.0, gx, gw, gb)

    return {"BLAS forward": blas_forward, "kernel forward": kernel_forward,
            "BLAS backward": blas_backward, "kernel backward": kernel_backward}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=15)
    args = p.parse_args(argv)
    print(common.format_machine(common.machine_info()))
    print(f"SMALL_LINEAR = {SMALL_LINEAR}, SMALL_LINEAR_BACKWARD = {SMALL_LINEAR_BACKWARD} "
          f"multiply-adds\n")
    rows = []
    for n, k, m in SIZES:
        t = {name: common.median(ts) * 1e6
             for name, ts in common.interleave_short(peers(n, k, m), args.repeat).items()}
        rows.append([f"{n}×{k}×{m}", f"{n * k * m:,}",
                     f"{t['BLAS forward']:.2f}", f"{t['kernel forward']:.2f}",
                     f"{t['BLAS forward'] / t['kernel forward']:.2f}",
                     f"{t['BLAS backward']:.2f}", f"{t['kernel backward']:.2f}",
                     f"{t['BLAS backward'] / t['kernel backward']:.2f}"])
    print(common.markdown_table(
        ["N×K×M", "multiply-adds", "BLAS fwd µs", "kernel fwd µs", "BLAS / kernel",
         "BLAS bwd µs", "kernel bwd µs", "BLAS / kernel"], rows))


if __name__ == "__main__":
    main()
