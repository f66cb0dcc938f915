"""minigrad: reverse-mode autograd whose hot loops are numba kernels.

    import minigrad as mg
    x = mg.tensor([[1.0, 2.0]], requires_grad=True)
    y = (x * x).sum()
    y.backward()            # x.grad == 2x
"""

# tensor first: it imports the Functions, which import autograd, which needs Tensor.
from .tensor import (
    Tensor, arange, bool_, float32, float64, from_numpy, int64, ones, ones_like,
    rand, randn, tensor, zeros, zeros_like,
)
from . import autograd, cuda
from .autograd import enable_grad, is_grad_enabled, no_grad
from .gradcheck import GradcheckError, gradcheck
from .random import manual_seed
from .serialization import load, save
from . import data, metrics, nn, optim

__version__ = "0.1.0"
