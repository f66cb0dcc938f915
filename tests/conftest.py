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


def _lock_simulator_shared_arrays():
    """Make the simulator's cuda.shared.array safe for the threads of one block.

    numba-cuda's simulator (0.30) gives a block's threads one shared array by looking
    it up by call site and, on a miss, making it, without a lock: two threads that
    miss together each make their own, and a block reduction then adds up the wrong
    one (seen here as a rare wrong loss in a 20-step training test). This is its
    lookup, under a lock; the call site is read off the caller's frame, as it does.
    """
    import threading

    import numpy as np
    from numba.cuda.simulator import kernelapi
    from numba.np import numpy_support
    from numba.core import types

    lock = threading.Lock()
    original = kernelapi.FakeCUDAShared.array

    def array(self, shape, dtype, alignment=None):
        if alignment is not None or shape == 0:   # its own checks, and dynamic shared memory
            return original(self, shape, dtype, alignment)
        if isinstance(dtype, types.Type):
            dtype = numpy_support.as_dtype(dtype)
        frame = sys._getframe(1)
        caller = (frame.f_code.co_filename, frame.f_lineno)
        with lock:
            found = self._allocations.get(caller)
            if found is None:
                found = self._allocations[caller] = np.empty(shape, dtype)
        return found

    kernelapi.FakeCUDAShared.array = array


if os.environ["NUMBA_ENABLE_CUDASIM"] == "1":
    # The simulator runs each block's threads as OS threads that meet at every
    # syncthreads(); with Python's default 5 ms switch interval a thread waiting at a
    # barrier holds the GIL for most of it. A short interval makes the CUDA suite
    # about 3× faster there.
    sys.setswitchinterval(5e-4)
    _lock_simulator_shared_arrays()
