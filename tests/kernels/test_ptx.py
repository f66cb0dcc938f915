"""The CUDA kernels of a training step compile for a real GPU (sm_90, an H100's), with
no GPU at hand: numba-cuda's NVVM turns each into PTX, in a process that does not use
the simulator.

The simulator runs kernels as Python, so it never compiles them: a kernel that the
GPU's compiler refuses passes every other test here. This one needs NVVM and NVRTC,
which come with CUDA's toolkit or with ``pip install "numba-cuda[cu13]"`` (about 450
MB, so not in the test extra); where a kernel of no project code cannot be compiled,
the test is skipped, saying so.

Compiling needs a device's compute capability, which a device function asks the
driver for; the script hands it sm_90 instead (there is no driver to ask).
"""

import os
import subprocess
import sys

import pytest

SCRIPT = r'''
import numba.cuda.dispatcher as dispatcher
from numba import cuda, types

class SM90:
    compute_capability = (9, 0)

dispatcher.get_current_device = lambda: SM90()  # no driver here to ask

from minigrad.kernels.cuda import activations as act, losses, matmul, optim, reductions

a1, a2 = types.Array(types.float32, 1, "C"), types.Array(types.float32, 2, "C")
i1 = types.Array(types.int64, 1, "C")
f32, f64, i64, b = types.float32, types.float64, types.int64, types.boolean
KERNELS = [  # (kernel, argument types as its launcher passes them)
    (act._forward, (a1, i64, f64, f64, a1)),
    (act._bias_forward, (a2, a1, i64, f64, f64, a2)),
    (act._backward, (a1, a1, i64, f64, f64, a1)),
    (act._softmax_rows, (a2, b, a2)),
    (matmul._product_small, (a2, b, a2, b, a1, i64, f64, f64, a2)),
    (matmul._product_big, (a2, b, a2, b, a1, i64, f64, f64, a2)),
    (matmul._delta_and_column_sums, (a2, a2, i64, f64, f64, a2, a1)),
    (reductions._column_sums, (a2, a1)),
    (reductions._sum_all, (a1, f64, a1)),
    (losses._softmax_xent_forward, (a2, i1, a2, a1)),
    (losses._softmax_xent_backward, (a2, i1, f64, a2)),
    (losses._bce_logits_forward, (a1, a1, a1)),
    (losses._bce_logits_backward, (a1, a1, f64, a1)),
    (optim._sgd_step, (a1, a1, a1, f32, f32, f32, b, f32, b)),
    (optim._adam_step, (a1, a1, a1, a1, a1) + (f32,) * 9 + (b,)),
]
for kernel, signature in KERNELS:
    ptx, _ = cuda.compile_ptx(kernel.py_func, signature, cc=(9, 0))
    assert ".entry" in ptx, kernel.py_func.__qualname__
    print("compiled", kernel.py_func.__qualname__)
print("all", len(KERNELS))
'''


# A kernel of no project code: if this does not compile, the toolchain is missing
# (NVVM, or NVRTC, which numba-cuda asks for the architectures it supports).
PROBE = r'''
from numba import cuda, types
def k(x):
    x[0] = 1.0
cuda.compile_ptx(k, (types.Array(types.float32, 1, "C"),), cc=(9, 0))
'''


def _can_compile_ptx():
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    return subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                          timeout=120).returncode == 0


@pytest.mark.skipif(not _can_compile_ptx(),
                    reason="no CUDA compiler toolchain here (pip install 'numba-cuda[cu13]')")
def test_the_kernels_of_a_training_step_compile_for_sm_90():
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-4000:]
    assert "all 15" in out.stdout
