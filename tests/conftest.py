"""Runs before any test module imports numba: decides where the CUDA tests run.

On a machine with an NVIDIA GPU and its driver, the CUDA suite runs on the GPU.
Anywhere else it runs on numba's CUDA simulator, which executes every GPU thread
as Python code: the same kernels, slowly, on the CPU. The simulator has to be
chosen before numba is first imported, so it is chosen here. Setting
NUMBA_ENABLE_CUDASIM yourself (0 or 1) overrides the choice.
"""

import ctypes
import os
import sys


def _gpu_present():
    """True when the CUDA driver loads and sees at least one device (asked through
    the driver library itself, so that numba is not imported yet)."""
    name = "nvcuda.dll" if sys.platform == "win32" else "libcuda.so.1"
    try:
        driver = ctypes.CDLL(name)
    except OSError:
        return False
    count = ctypes.c_int(0)
    return (driver.cuInit(0) == 0
            and driver.cuDeviceGetCount(ctypes.byref(count)) == 0 and count.value > 0)


if "NUMBA_ENABLE_CUDASIM" not in os.environ:
    os.environ["NUMBA_ENABLE_CUDASIM"] = "0" if _gpu_present() else "1"

if os.environ["NUMBA_ENABLE_CUDASIM"] == "1":
    # The simulator runs each block's threads as OS threads that meet at every
    # syncthreads(); with Python's default 5 ms switch interval a thread waiting at a
    # barrier holds the GIL for most of it. A short interval makes the CUDA suite
    # about 3× faster there.
    sys.setswitchinterval(5e-4)
