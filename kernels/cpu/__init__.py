"""CPU kernels: ``@njit(cache=True, error_model="numpy")`` functions on C-contiguous NumPy arrays.

Each kernel takes float32 or float64 arrays of one dtype (index arrays are
int64), writes its results into the output arrays passed in, and returns None.
Each has a twin of the same name and argument order in ``kernels.cuda``
(tests/kernels/test_parity.py runs every pair on the same inputs). Matrix products are not here: on the CPU they go to
BLAS through NumPy's ``@``, except in the dense layers too small for a BLAS call to
pay, which ``matmul.py``'s two kernels do in one call each way.

``error_model="numpy"``: a float division by zero gives inf or NaN, as in NumPy,
instead of numba's default check that raises ZeroDivisionError. Besides being the
semantics a tensor library wants, the check is a branch in every loop iteration
that stops LLVM from vectorising the loop: an Adam step over 10M float32 values
takes 12 ms without it and 52 ms with it (one core).

In place (an output that is also an input, ``bias_forward(RELU)(h, b, 0, 0, h)``):
the result is right, but LLVM vectorises a loop only after a run-time check that
its arrays do not overlap, and an array overlaps itself, so the scalar loop runs.
At 256×512 float32 on a hot cache, bias + ReLU took 60 µs in place against 22 µs
into a second array, and the ReLU backward 87 against 27 µs (2-core Zen 3; the
per-activation kernels of the time, the same loops). Inside a W3 training step the
difference did not show (there the pass waits on memory: benchmarks/RESULTS.md),
but time an in-place call knowing this.

The activations' math (f and the gradient through f) is not here but in
``kernels/activations.py``, shared with ``kernels.cuda``: ``activations.py`` and
``matmul.py`` here build a kernel per activation around it (``forward(act)``,
``bias_forward(act)``, ``backward(act)``, ``matmul.linear_forward(act)``,
``matmul.linear_backward(act)``), and ``losses.py`` uses its sigmoid.
"""

from . import activations, matmul
from .activations import log_softmax_rows, softmax_rows
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
    sgd_step,
    sgd_step_parallel,
    adagrad_step,
    adagrad_step_parallel,
    rmsprop_step,
    rmsprop_step_parallel,
    adam_step,
    adam_step_parallel,
    adadelta_step,
    adadelta_step_parallel,
)
from .reductions import column_sums

# Kernels for a given activation are built by activations.forward(act),
# bias_forward(act), backward(act) and matmul.linear_forward(act), linear_backward(act).
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
