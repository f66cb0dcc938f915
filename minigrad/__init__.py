"""minigrad: reverse-mode autograd whose hot loops are numba kernels.

    import minigrad as mg
    x = mg.tensor([[1.0, 2.0]], requires_grad=True)
    y = (x * x).sum()
    y.backward()            # x.grad == 2x

Its names and semantics are PyTorch's, so a PyTorch program for an MLP runs with
``import minigrad as torch`` (README.md, "PyTorch compatibility").
"""

# tensor first: it imports the Functions, which import autograd, which needs Tensor.
from .tensor import (
    MinMax, Tensor, arange, as_tensor, bool_, device, empty, empty_like, eye, float32, float64,
    from_numpy, full, full_like, get_default_device, get_default_dtype, int32, int64,
    is_tensor, linspace, ones, ones_like, rand, rand_like, randint, randn, randn_like,
    randperm, set_default_device, set_default_dtype, tensor, zeros, zeros_like,
)
from .ops import (
    abs, allclose, argmax, argmin, cat, clamp, clip, clone, concat, cos, exp, flatten, log,
    log_softmax, matmul, max, maximum, mean, min, minimum, mm, neg, numel, permute, pow, relu,
    reshape, sigmoid, sign, sin, softmax, sqrt, squeeze, stack, sum, t, tanh, transpose,
    unsqueeze, where,
)
from . import accelerator, autograd, cuda
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck
from .random import manual_seed, seed
from .serialization import load, save
from . import data, metrics, nn, optim, utils

# PyTorch's names for the dtypes (these shadow the builtins only inside minigrad's namespace)
float = float32
double = float64
long = int64
int = int32
bool = bool_

__version__ = "0.1.0"
