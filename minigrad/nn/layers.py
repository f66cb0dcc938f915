"""Layers: Linear, the activations, Dropout, Identity, Softmax, Flatten, Sequential
and ModuleList."""

import math
import numbers

import numpy as np

from ..functions import activation as _act
from .. import random as _random
from ..tensor import Tensor, _axis, _backend_for, _normalize_dtype, get_default_dtype
from . import functional as F
from . import module as _module
from .module import Module, Parameter

_NO_ACTIVATION = (_act.Activation.act, 0.0, 0.0)  # (code, p, q) of a Linear alone

__all__ = [
    "Linear", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "SiLU", "Softplus", "ELU",
    "Softmax", "LogSoftmax", "Identity", "Flatten", "Unflatten", "Dropout", "Sequential",
    "ModuleList",
]


class Linear(Module):
    """y = x Wᵀ + b, with weight W of shape (out_features, in_features).

    Initialised as PyTorch does: W and b uniform in ±1/√in_features. Made on the
    default device (``mg.set_default_device``) in the default dtype unless ``device``
    and ``dtype`` say otherwise.
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n <= 0:
                raise ValueError(f"Linear: {name} must be a positive integer, got {n!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        dtype = _normalize_dtype(dtype) or get_default_dtype()
        backend = _backend_for(device)
        bound = 1.0 / math.sqrt(in_features)
        rng = _random.generator()

        def uniform(*shape):
            host = rng.uniform(-bound, bound, shape).astype(dtype)
            return Parameter(_as_device(host, backend))

        self.weight = uniform(out_features, in_features)
        self.bias = uniform(out_features) if bias else None

    def forward(self, x):
        return F._linear(x, self.weight, self.bias, _NO_ACTIVATION)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


def _as_device(host, backend):
    return Tensor._make(backend.from_numpy(host), backend)


# ---- activations ----------------------------------------------------------------------
# Each calls its Function (minigrad/functions/activation.py), whose math is in
# kernels/activations.py. ``_fusable()`` gives f = (the Function's code, p, q): what lets
# Sequential run a Linear followed by the activation as one LinearActivation node.


class ReLU(Module):
    """max(x, 0)."""

    def forward(self, x):
        return F.relu(x)

    def _fusable(self):
        return _act.ReLU.act, 0.0, 0.0


class LeakyReLU(Module):
    """x for x > 0, negative_slope · x otherwise."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        F._check_slope(negative_slope)
        self.negative_slope = float(negative_slope)

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def _fusable(self):
        return _act.LeakyReLU.act, self.negative_slope, 0.0

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """σ(x) = 1 / (1 + e^{−x})."""

    def forward(self, x):
        return F.sigmoid(x)

    def _fusable(self):
        return _act.Sigmoid.act, 0.0, 0.0


class Tanh(Module):
    """tanh(x)."""

    def forward(self, x):
        return F.tanh(x)

    def _fusable(self):
        return _act.Tanh.act, 0.0, 0.0


class GELU(Module):
    """x Φ(x), Φ the standard normal CDF; ``approximate="tanh"``:
    ½ x (1 + tanh(√(2/π) (x + 0.044715 x³)))."""

    def __init__(self, approximate="none"):
        super().__init__()
        F._gelu_function(approximate)  # raises for anything else
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, self.approximate)

    def _fusable(self):
        return F._gelu_function(self.approximate).act, 0.0, 0.0

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x σ(x)."""

    def forward(self, x):
        return F.silu(x)

    def _fusable(self):
        return _act.SiLU.act, 0.0, 0.0


class Softplus(Module):
    """log(1 + e^{βx}) / β, and x where βx > threshold."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = F._check_real(beta, "Softplus", "beta", positive=True)
        self.threshold = F._check_real(threshold, "Softplus", "threshold")

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def _fusable(self):
        return _act.Softplus.act, self.beta, self.threshold

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class ELU(Module):
    """x for x > 0, α (eˣ − 1) otherwise."""

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = F._check_real(alpha, "ELU", "alpha")

    def forward(self, x):
        return F.elu(x, self.alpha)

    def _fusable(self):
        return _act.ELU.act, self.alpha, 0.0

    def extra_repr(self):
        return f"alpha={self.alpha}"


class Softmax(Module):
    """softmax along ``dim`` (``axis`` is accepted too)."""

    def __init__(self, dim=None, *, axis=None):
        super().__init__()
        self.dim = _axis(axis, dim, "Softmax", -1)

    def forward(self, x):
        return F.softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log softmax along ``dim`` (``axis`` is accepted too); NLLLoss's usual input."""

    def __init__(self, dim=None, *, axis=None):
        super().__init__()
        self.dim = _axis(axis, dim, "LogSoftmax", -1)

    def forward(self, x):
        return F.log_softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Identity(Module):
    def __init__(self, *args, **kwargs):  # takes and ignores any argument, as PyTorch's
        super().__init__()

    def forward(self, x):
        return x


class Flatten(Module):
    """Dimensions ``start_dim`` to ``end_dim`` merged into one: (N, C, H, W) -> (N, C·H·W)
    by default, keeping the batch dimension."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Dimension ``dim`` split into ``unflattened_size``: Flatten's inverse."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        return x.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Dropout(Module):
    """Zeroes each element with probability p while training (scaling the rest by
    1/(1 − p)); the identity in eval mode."""

    def __init__(self, p=0.5):
        super().__init__()
        if not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


def _fuses(module):
    """True when ``module`` is an activation whose ``_fusable`` describes what its
    forward does (a subclass that overrides forward runs as written, unfused)."""
    cls = type(module)
    for klass in cls.__mro__:
        if "_fusable" in klass.__dict__:
            return cls.forward is klass.__dict__.get("forward")
    return False


class Sequential(Module):
    """Modules applied one after another. Indexable, sliceable, ``len``-able.

    A Linear followed directly by an activation module (one with ``_fusable``: ReLU,
    LeakyReLU, Sigmoid, Tanh, GELU, SiLU, Softplus, ELU) runs as one fused node,
    ``<LinearReLUBackward>`` and so on (matmul, then bias add and activation in one kernel) —
    the same numbers as running the two modules, with one pass over memory fewer.
    """

    def __init__(self, *modules):
        super().__init__()
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: argument {i} is a {type(m).__name__}, not a Module")
            setattr(self, str(i), m)

    def forward(self, x):
        plan = self.__dict__.get("_cached_plan")
        if plan is None or self.__dict__["_plan_hooks"] != _module.hooks_version:
            plan = self._plan()
        for module, act_module in plan:
            if act_module is None:
                x = module(x)
            else:  # a Linear and the activation after it, as one node
                x = F._linear(x, module.weight, module.bias, act_module._fusable())
        return x

    def _plan(self):
        """[(module, the activation module to fuse into it, or None)]. forward makes it
        on first use and keeps it until the modules change (__setattr__ and
        __delattr__ drop it) or a hook is added or removed anywhere."""
        mods = tuple(self._modules.values())
        plan, i = [], 0
        while i < len(mods):
            m = mods[i]
            nxt = mods[i + 1] if i + 1 < len(mods) else None
            # (a module with hooks runs as itself, so that they see its call)
            if type(m) is Linear and _fuses(nxt) and not m._hooked and not nxt._hooked:
                plan.append((m, nxt))
                i += 2
            else:
                plan.append((m, None))
                i += 1
        object.__setattr__(self, "_cached_plan", plan)
        object.__setattr__(self, "_plan_hooks", _module.hooks_version)
        return plan

    def __setattr__(self, name, value):
        self.__dict__.pop("_cached_plan", None)
        super().__setattr__(name, value)

    def __delattr__(self, name):
        self.__dict__.pop("_cached_plan", None)
        super().__delattr__(name)

    def __getitem__(self, index):
        if isinstance(index, slice):
            part = Sequential()
            for name in list(self._modules)[index]:  # keep the names, as PyTorch does
                setattr(part, name, self._modules[name])
            return part
        return list(self._modules.values())[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        if not isinstance(module, Module):
            raise TypeError(f"Sequential.append: expected a Module, got {type(module).__name__}")
        i = len(self)
        while str(i) in self._modules:  # a slice keeps its names, so len may be taken
            i += 1
        setattr(self, str(i), module)
        return self


class ModuleList(Module):
    """Modules held in a list, each registered (so ``parameters()`` sees them); it has
    no ``forward``: the model that holds it decides how they are called."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _check(self, module, op):
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList.{op}: expected a Module, got {type(module).__name__}")
        return module

    def _renumber(self, modules):
        for name in list(self._modules):
            delattr(self, name)
        for i, m in enumerate(modules):
            setattr(self, str(i), m)

    def append(self, module):
        setattr(self, str(len(self)), self._check(module, "append"))
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        modules = list(self)
        modules.insert(index, self._check(module, "insert"))
        self._renumber(modules)

    def __getitem__(self, index):
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(modules[index])
        return modules[index]

    def __setitem__(self, index, module):
        modules = list(self)
        modules[index] = self._check(module, "__setitem__")
        self._renumber(modules)

    def __delitem__(self, index):
        modules = list(self)
        del modules[index]
        self._renumber(modules)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward(): iterate over it in your model's")
