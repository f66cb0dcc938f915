"""CUDA kernels: ``@cuda.jit`` twins of ``kernels.cpu``, and what a GPU needs besides.

Every kernel of ``kernels/cpu/NAME.py`` has a twin of the same name and argument
order in ``kernels/cuda/NAME.py`` (``tests/kernels/test_parity.py`` runs each pair on
the same inputs). What is called here is a *launcher*: a Python function that takes
numba device arrays, sizes a grid for them and launches the ``@cuda.jit`` kernel
written just above it; see ``launch.py``. Results are written into the device
arrays passed in and stay on the GPU.

Beyond the twins:

- ``matmul.py``: tiled shared-memory matrix products (``matmul.matmul``,
  ``matmul_tn``, ``matmul_nt``), which on the CPU are BLAS's job, and the twins of
  ``kernels/cpu/matmul.py``'s dense layer: ``linear_forward`` with its bias and
  activation in the product's epilogue, and ``linear_backward``.
- ``reductions.py``: row sums, row max, row argmax and whole-array sums, for the
  Tensor reductions that NumPy does on the CPU.
- ``elementwise.py``: arithmetic and comparisons with broadcasting, strided
  gathers and scatters (transpose, slicing), dropout masks: what NumPy does for a
  Tensor on the CPU.

Importing this package needs numba's CUDA support (the numba-cuda package) but no
GPU: kernels compile the first time they are launched. With
``NUMBA_ENABLE_CUDASIM=1`` set before numba is imported they run on numba's CUDA
simulator instead, thread by thread in Python.
"""

from .. import activations as _math
from .. import cache as _cache
from .launch import SIMULATOR

if not SIMULATOR:  # (the simulator runs kernels as Python: nothing to compile or cache)
    # numba-cuda (the package; numba's own numba.cuda has neither) keeps its own cache
    # classes and its own registry of functions that compiled code may call: the
    # package-wide cache stamp (kernels/cache.py) and the shared activation math
    # (kernels/activations.py) are installed in both.
    from numba.cuda.core import caching as _caching
    from numba.cuda.extending import register_jitable as _register_jitable

    _cache.install(_caching.CacheImpl)
    for _fn in _math.SCALARS:
        _register_jitable(_fn)

from . import activations, elementwise, losses, matmul, optim, reductions  # noqa: E402
from .activations import log_softmax_rows, softmax_rows  # noqa: E402
from .losses import (
    bce_logits_backward,
    bce_logits_forward,
    first_invalid_class,
    mse_backward,
    mse_forward,
    softmax_xent_backward,
    softmax_xent_forward,
    softmax_xent_prob_backward,
    softmax_xent_prob_forward,
)
from .optim import (
    adadelta_step,
    adadelta_step_parallel,
    adagrad_step,
    adagrad_step_parallel,
    adam_step,
    adam_step_parallel,
    rmsprop_step,
    rmsprop_step_parallel,
    sgd_step,
    sgd_step_parallel,
)
from .reductions import column_sums

# The modules that hold launchers, for tools that walk them (the tests' transfer count).
MODULES = (activations, elementwise, losses, matmul, optim, reductions)

# The twins of kernels.cpu.__all__, in the same order.
__all__ = [
    "softmax_rows",
    "log_softmax_rows",
    "column_sums",
    "softmax_xent_forward",
    "softmax_xent_backward",
    "softmax_xent_prob_forward",
    "softmax_xent_prob_backward",
    "bce_logits_forward",
    "first_invalid_class",
    "bce_logits_backward",
    "mse_forward",
    "mse_backward",
    "sgd_step",
    "sgd_step_parallel",
    "adagrad_step",
    "adagrad_step_parallel",
    "rmsprop_step",
    "rmsprop_step_parallel",
    "adam_step",
    "adam_step_parallel",
    "adadelta_step",
    "adadelta_step_parallel",
]
