"""Module, the base of every layer, and Parameter, a tensor a module learns."""

from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from .. import autograd as _autograd
from ..autograd import RawFunction, RemovableHandle, no_grad
from ..backend import get_backend
from ..tensor import _ALIASES as _DTYPE_NAMES
from ..tensor import Tensor, _normalize_dtype, float32, float64
from ..tensor import device as _device


def _convert(t, backend, dtype):
    """Put tensor t (its storage, in place of the old) on ``backend`` and/or, if it is
    floating point, in ``dtype``."""
    if dtype is not None and t.dtype.kind == "f" and t.dtype != dtype:
        t.raw = t._backend.astype(t.raw, dtype)
    if backend is not None and t._backend is not backend:
        t.raw = backend.from_numpy(t._backend.to_numpy(t.raw))
        t._backend = backend


class Parameter(Tensor):
    """A Tensor that requires grad and registers itself when assigned to a Module."""

    __slots__ = ()

    def __init__(self, data, requires_grad=True):
        if isinstance(data, Tensor):
            backend, array = data._backend, data.raw
        else:
            backend, array = get_backend("cpu"), np.asarray(data)
        if array.dtype.kind != "f":
            raise TypeError(f"Parameter: data must be floating point, got dtype {array.dtype}")
        if isinstance(array, np.ndarray) and not array.flags.c_contiguous:
            array = np.ascontiguousarray(array)  # optimizer kernels update flat views in place
        self.raw, self._backend = array, backend
        self._requires_grad, self.grad, self.grad_fn = bool(requires_grad), None, None

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of every layer and model.

    Subclasses set their parameters and sub-modules as attributes in ``__init__``
    (after calling ``super().__init__()``) and define ``forward``. Assigning a
    Parameter or Module to an attribute registers it, in assignment order, which is
    the order ``parameters()`` yields; assigning None or deleting it unregisters it.
    Tensors that are state but not learned (running statistics, constants) are
    registered with ``register_buffer``: they move with ``to()`` and are saved in
    ``state_dict()``, but no optimizer sees them.
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() is called "
                f"(call super().__init__() first in {type(self).__name__}.__init__)")
        params, modules, buffers = self._parameters, self._modules, self._buffers
        if name in params and value is not None and not isinstance(value, Parameter):
            raise TypeError(
                f"cannot assign a {type(value).__name__} to {name!r}: it holds a Parameter, "
                f"so it takes a Parameter or None (delete the attribute first to replace it)")
        if name in buffers and not isinstance(value, Parameter):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign a {type(value).__name__} to buffer {name!r}: "
                    f"it takes a Tensor or None")
            buffers[name] = value
            object.__setattr__(self, name, value)
            return
        # A Parameter or Module replacing one of its kind keeps its place (its position
        # in parameters() and in a Sequential), as in PyTorch
        kind = params if isinstance(value, Parameter) else modules if isinstance(value, Module) else None
        for registry in (params, modules, buffers):
            if registry is not kind:
                registry.pop(name, None)
        if kind is not None:
            kind[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        self._buffers.pop(name, None)
        object.__delattr__(self, name)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    # Hooks (register_forward_hook, register_full_backward_hook): a module with none
    # costs __call__ one attribute test.
    _hooked = False

    def __call__(self, *args, **kwargs):
        if self._hooked:
            return self._call_hooked(args, kwargs)
        return self.forward(*args, **kwargs)

    # ---- hooks ----------------------------------------------------------------

    def register_forward_hook(self, hook):
        """Call ``hook(module, inputs, output)`` after every forward (``inputs`` is the
        tuple of positional arguments); if it returns a value, that replaces the
        output. Returns a handle: ``.remove()``."""
        return self._add_hook("_forward_hooks", hook)

    def register_full_backward_hook(self, hook):
        """Call ``hook(module, grad_input, grad_output)`` when the gradients with
        respect to this module's inputs have been computed: tuples with one entry per
        Tensor input and output (None where an input needs no gradient). If it returns
        a tuple, that replaces ``grad_input``. Returns a handle: ``.remove()``."""
        return self._add_hook("_backward_hooks", hook)

    def _add_hook(self, kind, hook):
        if not callable(hook):
            raise TypeError(f"{kind[1:-1]}: expected a function, got {type(hook).__name__}")
        hooks = self.__dict__.get(kind)
        if hooks is None:
            hooks = {}
            object.__setattr__(self, kind, hooks)
        key = object()
        hooks[key] = hook
        object.__setattr__(self, "_hooked", True)
        _hooks_changed()

        def remove():
            hooks.pop(key, None)
            object.__setattr__(self, "_hooked", bool(
                self.__dict__.get("_forward_hooks") or self.__dict__.get("_backward_hooks")))
            _hooks_changed()
        return RemovableHandle(remove)

    def _call_hooked(self, args, kwargs):
        backward_hooks = self.__dict__.get("_backward_hooks")
        if backward_hooks and _autograd.is_grad_enabled():
            gate = _BackwardHooks(self, list(backward_hooks.values()))
            args = gate.enter(args)
        else:
            gate = None
        output = self.forward(*args, **kwargs)
        for hook in list((self.__dict__.get("_forward_hooks") or {}).values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        return output if gate is None else gate.leave(output)

    # ---- the tree -------------------------------------------------------------

    def register_parameter(self, name, param):
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None")
        setattr(self, name, param)

    def register_buffer(self, name, tensor, persistent=True):
        """Keep ``tensor`` as state that is not learned: ``self.<name>``, moved by
        ``to()``, in ``state_dict()`` unless ``persistent`` is False."""
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"register_buffer: invalid buffer name {name!r}")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, "
                            f"got {type(tensor).__name__}")
        if name in self._parameters or name in self._modules:
            raise KeyError(f"register_buffer: {name!r} is already a parameter or a module")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)
        object.__setattr__(self, name, tensor)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module or None")
        setattr(self, name, module)

    def named_children(self):
        return iter(self._modules.items())

    def children(self):
        return iter(self._modules.values())

    def named_modules(self, prefix=""):
        """This module and every module below it, depth first, each once."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{n}" if name else n, m)
                        for n, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_parameters(self, prefix=""):
        """(name, Parameter) pairs: each module's own, in registration order, then its
        children's; a parameter shared by two modules appears once."""
        seen = set()
        for mod_name, module in self.named_modules(prefix):
            for name, p in module._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self, recurse=True):
        if not recurse:
            return (p for p in self._parameters.values() if p is not None)
        return (p for _, p in self.named_parameters())

    def named_buffers(self, prefix=""):
        """(name, Tensor) pairs of every registered buffer, this module's first."""
        for mod_name, module in self.named_modules(prefix):
            for name, b in module._buffers.items():
                if b is not None:
                    yield (f"{mod_name}.{name}" if mod_name else name), b

    def buffers(self):
        return (b for _, b in self.named_buffers())

    def apply(self, fn):
        """Call ``fn(module)`` on every child module, depth first, then on this one (as
        PyTorch: ``model.apply(init_weights)``); returns self."""
        for child in self.children():
            if child is not None:
                child.apply(fn)
        fn(self)
        return self

    # ---- modes and gradients ------------------------------------------------------

    def train(self, mode=True):
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    def requires_grad_(self, flag=True):
        for p in self.parameters():
            p.requires_grad_(flag)
        return self

    def to(self, *args, device=None, dtype=None):
        """Move every parameter and buffer (the same objects) to ``device`` and/or
        convert the floating-point ones to ``dtype``: ``to("cuda")``, ``to(mg.float64)``,
        ``to("cuda", mg.float64)``; returns self. Create optimizers after this."""
        for a in args:
            if isinstance(a, (str, _device)) and not (isinstance(a, str) and a in _DTYPE_NAMES):
                device = a
            else:
                dtype = a
        backend = None if device is None else get_backend(device)
        dtype = _normalize_dtype(dtype)
        if dtype is not None and dtype.kind != "f":
            raise TypeError(f"Module.to: dtype must be a floating-point type, got {dtype}")
        for p in self.parameters():          # the same Parameters, their storage replaced
            _convert(p, backend, dtype)
            if p.grad is not None:
                _convert(p.grad, backend, dtype)
        for module in self.modules():        # buffers: new tensors (the old are the caller's)
            for name, b in list(module._buffers.items()):
                if b is not None:
                    new = Tensor._make(b.raw, b._backend)
                    _convert(new, backend, dtype)
                    if new.raw is not b.raw or new._backend is not b._backend:
                        setattr(module, name, new)
        return self

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda")

    def float(self):
        return self.to(dtype=float32)

    def double(self):
        return self.to(dtype=float64)

    # ---- state ----------------------------------------------------------------------

    def _state(self):
        """name -> Tensor: every parameter, then every persistent buffer."""
        state = OrderedDict(self.named_parameters())
        for mod_name, module in self.named_modules():
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    state[f"{mod_name}.{name}" if mod_name else name] = b
        return state

    def state_dict(self):
        """name -> a NumPy copy of each parameter's and persistent buffer's values."""
        return OrderedDict((name, np.array(t._host(), copy=True))
                           for name, t in self._state().items())

    def load_state_dict(self, state_dict, strict=True):
        """Copy values from ``state_dict`` into the parameters and buffers.

        Everything is checked before anything is copied, so a failed load changes
        nothing. With ``strict``, missing or unexpected keys raise RuntimeError; a
        value of the wrong shape raises ValueError either way. Returns the lists of
        missing and unexpected keys.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: expected a mapping of names to arrays, "
                            f"got {type(state_dict).__name__}")
        own = self._state()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise RuntimeError(
                f"load_state_dict for {type(self).__name__}: missing keys {missing}, "
                f"unexpected keys {unexpected}")
        values = {}
        for name, p in own.items():
            if name not in state_dict:
                continue
            v = state_dict[name]
            v = v._host() if isinstance(v, Tensor) else np.asarray(v)
            if v.shape != p.shape:
                raise ValueError(
                    f"load_state_dict: {name!r} has shape {v.shape} in the state dict "
                    f"but {p.shape} in the model")
            if v.dtype.kind not in "fiu":
                raise TypeError(f"load_state_dict: {name!r} has non-numeric dtype {v.dtype}")
            values[name] = v
        with no_grad():
            for name, v in values.items():
                p = own[name]
                p._backend.copy_(p.raw, p._backend.from_numpy(np.ascontiguousarray(v)))
        return missing, unexpected

    # ---- printing ---------------------------------------------------------------------

    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = []
        for name, m in self._modules.items():
            child = repr(m).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n" + "\n".join(lines) + "\n)"


# ---- hooks -----------------------------------------------------------------------------

# Counts hook registrations and removals: Sequential remakes its plan when it moved,
# so that a module with hooks runs as itself, not fused with its neighbour.
hooks_version = 0


def _hooks_changed():
    global hooks_version
    hooks_version += 1


class BackwardHook(RawFunction):
    """The identity, as a node of the graph: its backward sees the gradient flowing
    through one side of a module with backward hooks and hands it to ``gate``."""

    @staticmethod
    def forward(ctx, x, gate, index):
        ctx.gate, ctx.index = gate, index
        return x

    @staticmethod
    def backward(ctx, grad):
        return ctx.gate.passed(ctx.index, grad, ctx.backend), None, None


class _BackwardHooks:
    """One forward of a module with full backward hooks: identity nodes on its Tensor
    inputs (index ≥ 0) and on its output (index −1). The output's node runs first in
    backward and keeps grad_output; the hooks run when the last input's node has run,
    or at once when no input needs a gradient."""

    def __init__(self, module, hooks):
        self.module, self.hooks = module, hooks
        self.grad_output = None
        self.inputs = []       # positions of the Tensor inputs
        self.waiting = set()   # of those, the ones whose gradient is still to come
        self.grad_input = []

    def enter(self, args):
        args = list(args)
        for i, a in enumerate(args):
            if isinstance(a, Tensor):
                self.inputs.append(i)
                if a.requires_grad:
                    self.waiting.add(len(self.grad_input))
                    args[i] = BackwardHook.apply(a, self, len(self.grad_input))
                self.grad_input.append(None)
        return tuple(args)

    def leave(self, output):
        if not isinstance(output, Tensor) or not output.requires_grad:
            return output
        return BackwardHook.apply(output, self, -1)

    def passed(self, index, grad, backend):
        if index < 0:
            self.grad_output = Tensor._make(grad, backend)
            if not self.waiting:
                self._run()
            return grad
        self.grad_input[index] = Tensor._make(grad, backend)
        self.waiting.discard(index)
        if not self.waiting:
            self._run()
            replaced = self.grad_input[index]
            return grad if replaced is None else replaced.raw
        return grad  # (a replacement can only reach the input whose node runs last)

    def _run(self):
        grad_input = tuple(self.grad_input)
        for hook in self.hooks:
            result = hook(self.module, grad_input, (self.grad_output,))
            if result is not None:
                result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
                if len(result) != len(grad_input):
                    raise RuntimeError(
                        f"backward hook of {type(self.module).__name__} returned "
                        f"{len(result)} gradients for {len(grad_input)} inputs")
                if len(self.inputs) > 1:
                    raise RuntimeError(
                        f"backward hook of {type(self.module).__name__}: replacing "
                        f"grad_input is supported for a module with one Tensor input; "
                        f"this one has {len(self.inputs)}")
                grad_input = result
        self.grad_input = list(grad_input)
