"""The optimizers as functions: one update of one flat parameter, in place.

Between the classes and the kernels. A class (``optim.Adam``, …) holds the
hyper-parameters, the parameter groups and their flat buffers, and the state; it
calls one of these functions per group and step. A function here names every
hyper-parameter (keywords only), converts them once, and runs the kernel: the
update rule itself is the kernel's loop (``kernels/cpu/optim.py``, and its twin
in ``kernels/cuda/optim.py``), written out in its docstring and, as pseudocode, in
the class's.

The arrays are 1-D (flat) Tensors or raw arrays (``t.raw``) of one length, device
and float dtype: the parameter, its gradient, and the state buffers the rule keeps,
updated in place (pass ``p.raw.reshape(-1)`` for a parameter of another shape). A
buffer that an option leaves unused (no momentum, no amsgrad) is ``None``. Use them
to step your own flat buffers::

    import minigrad.optim.functional as OF
    OF.adam(theta, grad, m, v, lr=1e-3, step=t)

The kernels index every array they read by the parameter's length, so each call
checks first that those arrays are there and match the parameter's shape and dtype
(ValueError naming the function and the array): no call can make a kernel read or
write out of bounds. The classes call ``OF.adam.unchecked`` and the like instead,
which skip that: their buffers are made to fit, and checked when loaded.
"""

import functools
import inspect

import numpy as np

from ..backend import get_backend
from ..tensor import Tensor

_CPU = get_backend("cpu")


_NONE = {}  # (device, dtype) -> the length-0 array that stands for an unused buffer


def _arrays(param, *others):
    """(backend, param's raw array, each other's raw array; a length-0 array for None)."""
    if type(param) is np.ndarray:
        be, raw = _CPU, param
    elif isinstance(param, Tensor):
        be, raw = param._backend, param.raw
    else:
        be, raw = get_backend("cuda"), param
    out = [be, raw]
    for a in others:
        if a is None:
            a = _NONE.get((be.name, raw.dtype))
            if a is None:
                a = _NONE[be.name, raw.dtype] = be.empty((0,), raw.dtype)
        elif isinstance(a, Tensor):
            a = a.raw
        out.append(a)
    return out


def _checked(reads):
    """Decorate a rule so that its calls are checked first (see the module docstring).

    ``reads(args)`` gives, from the call's arguments by name, whether the rule reads
    each array after the parameter (an option such as momentum = 0 leaves one unused).
    The rule itself stays available, unchecked, as ``.unchecked``.
    """
    def decorate(rule):
        signature = inspect.signature(rule)
        names = [n for n, p in signature.parameters.items() if p.kind is p.POSITIONAL_OR_KEYWORD]

        @functools.wraps(rule)
        def checked(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            given = bound.arguments
            _check(rule.__name__, given[names[0]],
                   [(n, given[n]) for n, read in zip(names[1:], reads(given)) if read])
            return rule(*args, **kwargs)

        checked.unchecked = rule
        return checked
    return decorate


def _check(op, param, arrays):
    """ValueError unless ``param`` is a flat float array and each (name, array) of
    ``arrays`` is there, on its device, with its shape and dtype."""
    raw = param.raw if isinstance(param, Tensor) else param
    shape, dtype = raw.shape, raw.dtype
    if len(shape) != 1 or dtype.kind != "f":
        raise ValueError(f"optim.functional.{op}: the parameter must be a flat (1-D) float "
                         f"array, got shape {shape} and dtype {dtype} (pass p.raw.reshape(-1))")
    for name, a in arrays:
        if a is None:
            raise ValueError(f"optim.functional.{op}: {name} is needed with these options, "
                             f"got None")
        a = a.raw if isinstance(a, Tensor) else a
        if isinstance(a, np.ndarray) != isinstance(raw, np.ndarray):
            raise ValueError(f"optim.functional.{op}: {name} and the parameter are on two "
                             f"devices ({type(a).__name__} and {type(raw).__name__})")
        if a.shape != shape or a.dtype != dtype:
            raise ValueError(f"optim.functional.{op}: {name} has shape {a.shape} and dtype "
                             f"{a.dtype}; the parameter's are {shape} and {dtype}")


@_checked(lambda a: (True, a["momentum"] != 0))
def sgd(param, grad, momentum_buffer=None, *, lr, momentum=0.0, dampening=0.0,
        nesterov=False, weight_decay=0.0, first_step=True):
    """One step of ``optim.SGD``; ``momentum_buffer`` is needed when momentum ≠ 0,
    ``first_step`` says whether it is to be started from the gradient."""
    be, param, grad, momentum_buffer = _arrays(param, grad, momentum_buffer)
    be.optimizer_kernel("sgd_step", param.size)(
        param, grad, momentum_buffer, float(lr), float(momentum), float(dampening),
        bool(nesterov), float(weight_decay), bool(first_step))


@_checked(lambda a: (True, True))
def adagrad(param, grad, state_sum, *, lr=0.01, lr_decay=0.0, weight_decay=0.0, eps=1e-10,
            step):
    """One step of ``optim.Adagrad``; ``step`` counts from 1."""
    be, param, grad, state_sum = _arrays(param, grad, state_sum)
    be.optimizer_kernel("adagrad_step", param.size)(
        param, grad, state_sum, float(lr), float(lr_decay), float(weight_decay), float(eps),
        int(step))


@_checked(lambda a: (True, True, a["centered"], a["momentum"] > 0))
def rmsprop(param, grad, square_avg, grad_avg=None, momentum_buffer=None, *, lr=0.01,
            alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    """One step of ``optim.RMSprop``; ``grad_avg`` is needed when centered,
    ``momentum_buffer`` when momentum > 0."""
    be, param, grad, square_avg, grad_avg, momentum_buffer = _arrays(
        param, grad, square_avg, grad_avg, momentum_buffer)
    be.optimizer_kernel("rmsprop_step", param.size)(
        param, grad, square_avg, grad_avg, momentum_buffer, float(lr), float(alpha),
        float(eps), float(weight_decay), float(momentum), bool(centered))


@_checked(lambda a: (True, True, True, a["amsgrad"]))
def adam(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq=None, *, lr=1e-3, beta1=0.9,
         beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False,
         amsgrad=False, step):
    """One step of ``optim.Adam`` (``optim.AdamW`` with ``decoupled_weight_decay``);
    ``max_exp_avg_sq`` is needed with amsgrad; ``step`` counts from 1."""
    be, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq = _arrays(
        param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq)
    be.optimizer_kernel("adam_step", param.size)(
        param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, float(lr), float(beta1),
        float(beta2), float(eps), float(weight_decay), bool(decoupled_weight_decay),
        bool(amsgrad), int(step))


@_checked(lambda a: (True, True, True))
def adadelta(param, grad, square_avg, acc_delta, *, lr=1.0, rho=0.9, eps=1e-6,
             weight_decay=0.0):
    """One step of ``optim.Adadelta``."""
    be, param, grad, square_avg, acc_delta = _arrays(param, grad, square_avg, acc_delta)
    be.optimizer_kernel("adadelta_step", param.size)(
        param, grad, square_avg, acc_delta, float(lr), float(rho), float(eps),
        float(weight_decay))
