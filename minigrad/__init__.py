"""minigrad: reverse-mode autograd whose hot loops are numba kernels.

    import minigrad as mg
    x = mg.tensor([[1.0, 2.0]], requires_grad=True)
    y = (x * x).sum()
    y.backward()            # x.grad == 2x

Its names and semantics are PyTorch's, so a PyTorch program for an MLP runs with
``import minigrad as torch`` (README.md, "PyTorch compatibility").
"""



def _find_kernels():
    """Make ``minigrad.kernels`` importable. pip installs the source tree's top-level
    ``kernels/`` folder as the subpackage ``minigrad/kernels`` (pyproject.toml's
    package-dir); run from a source tree (an editable install, or its root on
    PYTHONPATH) there is no such subpackage, and the ``kernels/`` folder beside this
    package is loaded under that name."""
    import importlib.util
    import os
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    if os.path.isdir(os.path.join(here, "kernels")):
        return  # installed: an ordinary subpackage
    name = __name__ + ".kernels"
    folder = os.path.join(os.path.dirname(here), "kernels")
    init = os.path.join(folder, "__init__.py")
    if not os.path.isfile(init):
        raise ImportError(f"minigrad: no kernels package, neither installed in {here} "
                          f"nor beside it at {folder}")
    spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[folder])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    globals()["kernels"] = module  # as the import system would: minigrad.kernels


_find_kernels()

# tensor first: it imports the Functions, which import autograd, which needs Tensor.
from .tensor import (  # noqa: E402
    MinMax, Tensor, arange, as_tensor, bool_, device, empty, empty_like, eye, float32, float64,
    from_numpy, full, full_like, get_default_device, get_default_dtype, int32, int64,
    is_tensor, linspace, ones, ones_like, rand, rand_like, randint, randn, randn_like,
    randperm, set_default_device, set_default_dtype, tensor, uint8, zeros, zeros_like,
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
from .random import get_rng_state, manual_seed, seed, set_rng_state
from .serialization import load, save
from . import data, metrics, nn, optim, utils, viz
from .tracing import trace

# PyTorch's names for the dtypes (these shadow the builtins only inside minigrad's namespace)
float = float32
double = float64
long = int64
int = int32
bool = bool_

__version__ = "0.1.0"
