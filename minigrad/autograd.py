"""Reverse-mode automatic differentiation: graph nodes, version counters, the backward pass.

An op is a class with two static methods side by side, ``forward`` and ``backward``,
and comes in one of two kinds:

* :class:`Function`, PyTorch's ``torch.autograd.Function``: ``forward`` and
  ``backward`` take and return **Tensors**, and nothing inside ``forward`` records a
  graph. This is how a user writes an op from other ops::

      class Cube(mg.autograd.Function):
          @staticmethod
          def forward(ctx, x):                # x: a Tensor
              ctx.save_for_backward(x)
              return x ** 3

          @staticmethod
          def backward(ctx, grad):            # ∂L/∂y  ->  ∂L/∂x = ∂L/∂y · 3x²
              (x,) = ctx.saved_tensors
              return grad * 3 * x ** 2

* :class:`RawFunction`, the kernel level: ``forward`` and ``backward`` take and
  return **raw arrays** (``numpy.ndarray`` on the CPU, numba device arrays on a GPU)
  and call the backend (``ctx.backend``) or kernels directly. Every built-in op in
  :mod:`minigrad.functions` is one; so is any op whose work is a kernel of your own::

      class Exp(RawFunction):
          @staticmethod
          def forward(ctx, x):                # x: a raw array
              y = ctx.backend.exp(x)
              ctx.save_for_backward(y)
              return y

          @staticmethod
          def backward(ctx, grad):            # ∂L/∂y  ->  ∂L/∂x = ∂L/∂y · eˣ = ∂L/∂y · y
              (y,) = ctx.saved_tensors
              return ctx.backend.mul(grad, y)

``Op.apply(*args)`` runs ``forward`` and wraps its result in a Tensor; when some
input requires grad and grad mode is on, it records the call as a node of the
graph: the op's instance itself is the node (``ctx``), holding its inputs and what
it saved. ``Tensor.backward`` walks the nodes in reverse topological order and
calls each ``backward`` once.

Version counters. An in-place op (``x += 1``, ``x.mul_(2)``, ``x[i] = v``) changes
a tensor's storage. A node that saved that storage for its backward would then
compute a wrong gradient, so ``backward`` raises instead, naming the node, as
PyTorch does ("modified by an inplace operation"). Each tensor that was ever
modified in place, or viewed, has a :class:`Version` shared with its views; every
in-place op also advances one global clock. A node notes the clock when it is
recorded, so a backward in which nothing was modified since costs one integer
comparison per node.
"""

import functools
import linecache
import os
import sys
import threading
import weakref

import numpy as np
from numba.core.errors import TypingError as _KernelTypeError
from numpy import broadcast_shapes as _np_broadcast

from .tensor import Tensor

_clock = 0   # counts in-place ops; a node records it when it is made

# ---- modes, per thread ----------------------------------------------------------------------
#
# Grad mode and anomaly mode belong to a thread, as in PyTorch: a thread evaluating
# under no_grad() does not stop another from recording its graph. Each is kept in
# _thread, and each has a module-level fast path that the ops read first:
# _grad_enabled is True while no thread has grad mode off (then no op needs to ask
# its thread), _anomaly is False while no thread has anomaly mode on. So an op pays
# one global read in the usual case, as it did when the modes were global.


class _ThreadModes(threading.local):
    grad = True       # this thread's grad mode
    anomaly = False   # this thread's anomaly mode


_thread = _ThreadModes()
_modes_lock = threading.Lock()
_grad_enabled = True   # no thread has grad mode off (else: ask _thread.grad)
_anomaly = False       # some thread has anomaly mode on (then: ask _thread.anomaly)
_changed = {"grad": 0, "anomaly": 0}   # threads whose mode is not the default


def _set_mode(name, mode):
    """Set this thread's mode ``name`` ("grad" or "anomaly"); returns its previous
    value, and keeps the fast paths true to every thread's."""
    global _grad_enabled, _anomaly
    prev = getattr(_thread, name)
    if mode != prev:
        with _modes_lock:
            setattr(_thread, name, mode)
            _changed[name] += 1 if mode != getattr(_ThreadModes, name) else -1
            _grad_enabled = _changed["grad"] == 0
            _anomaly = _changed["anomaly"] > 0
    return prev


def is_grad_enabled():
    """This thread's grad mode."""
    return _grad_enabled or _thread.grad


class no_grad:
    """Context manager and decorator (``@no_grad()`` or ``@no_grad``): operations
    inside record no graph.

    >>> with mg.no_grad():
    ...     y = model(x)          # y.requires_grad is False
    """

    def __new__(cls, fn=None):
        if fn is not None:  # used bare, as @no_grad
            return cls()(fn)
        return super().__new__(cls)

    def __enter__(self):
        self._prev = _set_mode("grad", False)

    def __exit__(self, *exc):
        _set_mode("grad", self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():  # a fresh manager per call (enable_grad inherits this)
                return fn(*args, **kwargs)
        return wrapper


class enable_grad(no_grad):
    """The opposite of :class:`no_grad`: record a graph even inside one."""

    def __enter__(self):
        self._prev = _set_mode("grad", True)


class set_grad_enabled:
    """Grad mode on or off, as PyTorch's: it takes effect when called
    (``mg.set_grad_enabled(False)`` at the top of a script), and as a context manager
    or decorator it restores the previous mode afterwards."""

    def __init__(self, mode):
        self.mode = bool(mode)
        self._prev = _set_mode("grad", self.mode)

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        _set_mode("grad", self._prev)
        return False

    def __call__(self, fn):
        _set_mode("grad", self._prev)   # as a decorator it is not a call that sets the mode
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper


def Variable(tensor, requires_grad=False):
    """PyTorch's old wrapper, kept there for old programs and here for the same reason:
    the tensor itself (with ``requires_grad`` set when asked for)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"Variable: expected a Tensor, got {type(tensor).__name__}")
    return tensor.requires_grad_(True) if requires_grad else tensor


# ---- version counters ---------------------------------------------------------------------


class Version:
    """How many times a storage was modified in place (``value``) and the clock at the
    last time (``clock``). Shared by a tensor and the views of it; ``base`` is the
    tensor it was made for. ``also``: a Version whose changes count as this one's too,
    or None: an optimizer's, which it advances once per step for all the parameters
    it updates (one tick per step, not one per parameter)."""

    __slots__ = ("value", "clock", "base", "also", "views")

    def __init__(self, base):
        self.value = 0
        self.clock = 0
        self.base = base
        self.also = None
        self.views = None   # weak references to the views of it made inside a graph

    def current(self):
        """The version as PyTorch counts it (``tensor._version``)."""
        return self.value if self.also is None else self.value + self.also.value

    def changed_since(self, clock):
        """Whether the storage was modified after ``clock``."""
        return self.clock > clock or (self.also is not None and self.also.clock > clock)


def counter(t):
    """t's version counter, or None if it has none yet (it is made on first use)."""
    return getattr(t, "_counter", None)


def version_of(t):
    """t's version counter, made on first use. A tensor computed by a RawFunction
    that saved it (an output such as exp's) tells that node here, so that the node
    can see it modified."""
    v = getattr(t, "_counter", None)
    if v is None:
        v = t._counter = Version(t)
        node = t.grad_fn
        if node is not None and node._raw and type(node._saved) is tuple:
            raw = t.raw
            for s in node._saved:
                if s is raw:
                    node._out_version = v
                    break
    return v


def share_version(view, base):
    """``view`` shares ``base``'s storage (a detach()): modifying either changes both."""
    view._counter = version_of(base)
    return view


def register_view(view, base):
    """``view`` was made from ``base`` by a view op (a reshape, a slice): it shares
    base's version counter, and is remembered there, so that an in-place op recorded
    on the base later can mark it stale (invalidate_views) and one on the view can be
    refused (is_graph_view)."""
    v = view._counter = version_of(base)
    if v.views is None:
        v.views = []
    v.views.append(weakref.ref(view))
    return view


def advance(v):
    """Record an in-place modification of the storage that version counter v counts."""
    global _clock
    _clock += 1
    v.value += 1
    v.clock = _clock


def bump_version(t):
    """Record an in-place modification of t's storage."""
    advance(version_of(t))


# ---- in-place ops inside a graph ---------------------------------------------------------------
#
# A tensor modified in place inside a graph takes the in-place op's node as its
# grad_fn. The nodes recorded before keep the grad_fn it had then: they saw its old
# values. A node holds its input tensors, not their grad_fns, so the engine asks
# grad_fn_at() for a node older than the last in-place op (one integer comparison
# tells which nodes those are), and the tensors modified so keep their history here.

_REBASED = {}   # id(tensor) -> (weak reference to it, [(clock, the grad_fn it had until then)])


def rebase(t, node):
    """t (just modified in place: the clock has moved on) takes ``node`` as grad_fn."""
    key = id(t)
    entry = _REBASED.get(key)
    if entry is None or entry[0]() is not t:
        entry = _REBASED[key] = (weakref.ref(t, lambda _, key=key: _REBASED.pop(key, None)), [])
    entry[1].append((_clock, t.grad_fn))
    t.grad_fn = node


def is_graph_view(t):
    """Whether t was made by a view op (not, say, by detach())."""
    v = counter(t)
    return v is not None and v.views is not None and any(ref() is t for ref in v.views)


class _StaleView:
    """The grad_fn of a view whose base was then modified in place inside a graph:
    its values are the new ones, its graph the old ones, so backward through it would
    be wrong. PyTorch rewrites such a view's history; minigrad refuses it, at once."""

    inputs = ()
    _wanted = ()
    _clock = 0
    _raw = True

    def __init__(self, op):
        self._saved = _STALE
        self.op = op

    def __repr__(self):
        return "<StaleViewBackward>"


def invalidate_views(t):
    """After an in-place op recorded on t: the views of t made before it (in a graph)
    take a _StaleView as grad_fn; nodes that used them before the op keep theirs."""
    v = counter(t)
    if v is None or not v.views:
        return
    live = []
    for ref in v.views:
        view = ref()
        if view is None:
            continue
        live.append(ref)
        if view is not t and view.grad_fn is not None:
            rebase(view, _StaleView(_name(t.grad_fn)))
    v.views = live


def grad_fn_at(t, made):
    """The grad_fn t had when the clock read ``made``."""
    entry = _REBASED.get(id(t))
    if entry is not None and entry[0]() is t:
        for clock, fn in entry[1]:
            if clock > made:
                return fn
    return t.grad_fn


# ---- graph nodes ----------------------------------------------------------------------------

_FREED = object()  # marks a node whose saved values were released by backward()
_STALE = object()  # marks a _StaleView


class Node:
    """What both kinds of op have in common: an instance is a node of the graph.

    On ``ctx``: ``save_for_backward(...)`` / ``saved_tensors``, ``needs_input_grad``
    (a bool per argument of forward), ``device`` (``"cpu"`` or ``"cuda"``) and
    ``backend`` (the object whose methods run on that device). Any other attribute
    may be set on ``ctx`` to carry values to ``backward``.
    """

    inputs = ()
    _saved = ()
    _wanted = ()         # positions in ``inputs`` of the Tensors that require grad
    _clock = 0           # the in-place clock when this node was recorded
    _out_version = None  # the version counter of the output, once it has one, if saved
    out_backend = None   # set by a forward whose result lives on another device
    _label = None        # or a function: node -> its name, for classes of many ops
    _shape = None        # the shape of the output, as made: every gradient reaching it has it
    _hooks = None        # functions of the gradient of this node's output (register_hook)
    _created_at = None   # (file, line, source) of the user's call, under detect_anomaly

    @property
    def device(self):
        return self.backend.name

    def save_for_backward(self, *values):
        self._saved = values

    @property
    def saved_tensors(self):
        if self._saved is _FREED:
            raise RuntimeError(_SECOND_BACKWARD.format(op=_name(self)))
        return self._saved

    def name(self):
        """The node's name in graphs, reprs and errors: ``ExpBackward``."""
        return _name(self)

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("a Function subclass must define backward(ctx, grad)")

    def __repr__(self):
        return f"<{_name(self)}>"


def _name(node):
    # by the class, so that an attribute a forward sets on ctx cannot hide it (a class
    # may name its nodes from their state: LinearActivation is LinearReLUBackward, …)
    label = type(node)._label
    return (type(node).__name__ if label is None else label(node)) + "Backward"


def _unsupported(cls, raw):
    """The error naming the op for arrays its kernels cannot take (numba's own error
    names no op), or None when every array is of a kind they take."""
    arrays = [a for a in raw if hasattr(a, "dtype")]
    if all(a.dtype.isnative and (a.dtype.kind != "f" or a.dtype.itemsize in (4, 8))
           for a in arrays):
        return None
    kinds = sorted({f"{a.dtype}" + ("" if a.dtype.isnative else f" ({a.dtype.str}, "
                                                                "non-native byte order)")
                    for a in arrays})
    return TypeError(
        f"{cls.__name__}: its kernels take float32 and float64 arrays in this machine's "
        f"byte order (and int64 indices), got {', '.join(kinds)}; convert first, e.g. "
        f"t.float(), or mg.tensor(array), which copies into native byte order")


def _device_of(cls, args):
    """The backend shared by the Tensor arguments; raises if they are on two devices."""
    backend = None
    for a in args:
        if isinstance(a, Tensor):
            if backend is None:
                backend = a._backend
            elif a._backend is not backend:
                raise RuntimeError(
                    f"{cls.__name__}: expected all tensors on one device, "
                    f"got {backend.name} and {a._backend.name}")
    if backend is None:
        raise TypeError(f"{cls.__name__}.apply needs at least one Tensor argument")
    return backend


class RawFunction(Node):
    """A differentiable op on raw arrays: the kernel level, which every built-in op uses.

    Subclass it with static ``forward(ctx, *args)`` and ``backward(ctx, grad)``.
    ``forward`` receives the raw array of each Tensor argument (``numpy.ndarray`` on
    the CPU, a numba device array on a GPU; other arguments pass through unchanged)
    and returns one raw array on the same device. ``backward`` receives ∂L/∂output
    as a raw array and returns one raw array (or None) per argument of ``forward``.
    ``ctx.save_for_backward`` takes raw arrays; ``ctx.backend`` runs the primitives
    on the tensors' device (``ctx.backend.mul(grad, y)``), and a kernel of your own
    can be called on the arrays directly.

    If a saved array belongs to an input or to the output and that tensor is then
    modified in place, ``backward`` raises RuntimeError naming this op.
    """

    _raw = True

    @classmethod
    def apply(cls, *args):
        backend = None
        raw = list(args)
        needs = [False] * len(args)
        wanted = []                  # positions of the inputs that require grad
        for i, a in enumerate(args):  # (_device_of's check, inline: this loop unwraps too)
            if isinstance(a, Tensor):
                if backend is None:
                    backend = a._backend
                elif a._backend is not backend:
                    raise RuntimeError(
                        f"{cls.__name__}: expected all tensors on one device, "
                        f"got {backend.name} and {a._backend.name}")
                raw[i] = a.raw
                if a._requires_grad:
                    needs[i] = True
                    wanted.append(i)
        if backend is None:
            raise TypeError(f"{cls.__name__}.apply needs at least one Tensor argument")

        record = (_grad_enabled or _thread.grad) and wanted
        ctx = cls()
        ctx.backend = backend
        ctx.needs_input_grad = tuple(needs) if record else (False,) * len(needs)
        try:
            out = cls.forward(ctx, *raw)
        except (_KernelTypeError, NotImplementedError) as e:   # (free unless raised)
            error = _unsupported(cls, raw)
            if error is None and isinstance(e, _KernelTypeError):
                error = TypeError(
                    f"{cls.__name__}: its kernels cannot take arrays of "
                    + ", ".join(f"{a.dtype} {tuple(a.shape)}" for a in raw if hasattr(a, "dtype"))
                    + " (numba could not compile them for these; see the error above)")
            if error is None:
                raise
            raise error from e
        out_backend = ctx.out_backend or backend
        if not isinstance(out, out_backend.array_type):
            out = out_backend.asarray(out)
        if _anomaly and _thread.anomaly:
            _check_forward(ctx, out, out_backend)
        if record:
            ctx.inputs = args
            ctx._wanted = wanted
            ctx._clock = _clock
            ctx._shape = out.shape
            return Tensor._make(out, out_backend, True, ctx)
        return Tensor._make(out, out_backend)

    def grad_buffer(self, i):
        """Where input i's gradient may be written directly, or None.

        When input i is a leaf whose ``.grad`` is None and that has a gradient storage
        (``set_grad_storage``), ``backward`` may compute the gradient into that array
        (e.g. as a matmul's ``out``) and return it: the engine then takes it as the
        leaf's gradient without copying it.
        """
        t = self.inputs[i]
        if t.grad is not None or t.grad_fn is not None:
            return None
        storage = getattr(t, "_grad_storage", None)
        if storage is None or storage.shape != t.raw.shape \
                or not isinstance(storage, t._backend.array_type):
            return None  # (the leaf was moved or reshaped since)
        return storage


class Function(Node):
    """A user-defined differentiable op, as PyTorch's ``torch.autograd.Function``.

    Subclass it with static ``forward(ctx, *args)`` and ``backward(ctx, *grads)``
    and call ``MyOp.apply(*args)``. ``forward`` receives the arguments as given
    (Tensors stay Tensors) and returns one Tensor; it runs under ``no_grad()``, so
    the ops inside record nothing: the node stands for all of them. ``backward``
    receives ∂L/∂output as a Tensor and returns one Tensor (or None) per argument
    of ``forward``; it runs under ``no_grad()`` too.

    On ``ctx``: ``save_for_backward(*tensors)`` and ``saved_tensors`` (RuntimeError
    if one of them was modified in place in between), ``needs_input_grad``,
    ``mark_non_differentiable(*outputs)``, ``device`` and ``backend``; any other
    attribute carries values to ``backward``.
    """

    _raw = False
    _non_differentiable = ()

    @classmethod
    def apply(cls, *args):
        backend = _device_of(cls, args)
        needs = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        record = (_grad_enabled or _thread.grad) and any(needs)
        ctx = cls()
        ctx.backend = backend
        ctx.needs_input_grad = needs if record else (False,) * len(args)
        with no_grad():
            out = cls.forward(ctx, *args)
        if not isinstance(out, Tensor):
            raise TypeError(
                f"{cls.__name__}.forward must return a Tensor, got {type(out).__name__} "
                f"(one output per Function: see README, 'PyTorch compatibility')")
        if _anomaly and _thread.anomaly:
            _check_forward(ctx, out.raw, out._backend)
        # A new Tensor for the output, so that forward's own tensor (perhaps an input,
        # perhaps saved) is left as it was. They share the storage and its version
        # counter, whose base the output becomes, unless forward returned an input.
        result = Tensor._make(out.raw, out._backend)
        v = result._counter = version_of(out)
        if v.base is out and not any(a is out for a in args):
            v.base = result
        if record and out.dtype.kind == "f" and not any(o is out for o in ctx._non_differentiable):
            ctx.inputs = args
            ctx._wanted = [i for i, n in enumerate(needs) if n]
            ctx._clock = _clock
            ctx._shape = out.raw.shape
            # The engine calls node.backward(node, raw_grad) on every node; this node
            # answers with _raw_backward, which hands Tensors to the class's backward.
            ctx.backward = _raw_backward
            result._requires_grad = True
            result.grad_fn = ctx
        return result

    def save_for_backward(self, *tensors):
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"{type(self).__name__}: save_for_backward takes Tensors (or None), "
                    f"got {type(t).__name__}; keep other values as attributes of ctx")
        self._saved = tensors
        self._saved_versions = tuple(None if t is None else version_of(t).current()
                                     for t in tensors)

    @property
    def saved_tensors(self):
        saved = Node.saved_tensors.fget(self)
        for t, v in zip(saved, self._saved_versions):
            if t is not None and t._counter.current() != v:
                raise RuntimeError(_MODIFIED.format(
                    op=_name(self), shape=t.shape, dtype=t.dtype, now=t._counter.current(),
                    then=v))
        return saved

    def mark_non_differentiable(self, *outputs):
        """The outputs given need no gradient (integer indices, masks)."""
        self._non_differentiable = outputs



def _raw_backward(ctx, grad):
    """A Function node's backward as the engine calls it: raw gradient in, raw
    gradients out, the class's own backward on Tensors in between (under no_grad)."""
    with no_grad():
        result = type(ctx).backward(ctx, Tensor._make(grad, ctx.backend))
    if type(result) is not tuple:
        result = (result,)
    out = []
    for g in result:
        if g is None:
            out.append(None)
        elif isinstance(g, Tensor):
            out.append(g.raw)
        else:
            raise TypeError(
                f"{type(ctx).__name__}.backward must return Tensors or None, "
                f"got {type(g).__name__}")
    return tuple(out)


_SECOND_BACKWARD = (
    "{op}: trying to backward through the graph a second time: its saved values "
    "were freed by the first backward(). Pass retain_graph=True to the first "
    "backward() to keep them.")

_MODIFIED = (
    "{op}: one of the tensors it saved for backward (shape {shape}, dtype {dtype}) was "
    "modified by an inplace operation after it was saved: it is at version {now}, "
    "{op} saved it at version {then}. Clone it before modifying it (y = x.clone()), "
    "or modify it after backward().")

_MODIFIED_RAW = (
    "{op}: one of the tensors it saved for backward (shape {shape}, dtype {dtype}), "
    "{which}, was modified by an inplace operation after it was saved (it is now at "
    "version {now}). Clone it before modifying it (y = x.clone()), or modify it after "
    "backward().")


def _unusable(node):
    if node._saved is _STALE:
        raise RuntimeError(
            f"backward through a view of a tensor that was then modified in place "
            f"({node.op}): the view's values changed after it was taken, its graph did "
            f"not; take the view again after the in-place op (or clone it before)")
    raise RuntimeError(_SECOND_BACKWARD.format(op=_name(node)))


def _check_versions(node):
    """Raise if a tensor whose storage ``node`` saved was modified in place since
    the node was recorded (the engine calls this only when the clock moved on)."""
    if not node._raw:
        return  # a Function checks its saved Tensors when backward reads them
    saved = node._saved
    made = node._clock
    for t in node.inputs:
        v = counter(t) if isinstance(t, Tensor) else None
        if v is not None and v.changed_since(made):
            raw = t.raw
            if any(s is raw for s in saved):
                raise RuntimeError(_MODIFIED_RAW.format(
                    op=_name(node), shape=t.shape, dtype=t.dtype, which="an input",
                    now=v.current()))
    v = node._out_version
    if v is not None and v.changed_since(made):
        out = v.base
        raise RuntimeError(_MODIFIED_RAW.format(
            op=_name(node), shape=out.shape, dtype=out.dtype, which="its output",
            now=v.current()))


# ---- the backward pass ------------------------------------------------------------------


def _topological_order(root):
    """Nodes reachable from ``root``, each after every node that consumes it.

    Iterative depth-first post-order, so a graph as deep as memory allows does
    not run into Python's recursion limit. Raises, before any gradient has been
    accumulated anywhere, if a node was freed by an earlier backward() or saved a
    tensor that was modified in place since.
    """
    order = []
    seen = {root}
    clock = _clock
    stack = [(root, iter(root.inputs), root._clock != clock)]
    while stack:
        node, pending, stale = stack[-1]   # stale: something changed in place since node
        for t in pending:
            if not isinstance(t, Tensor):  # not getattr: a miss costs an exception
                continue
            fn = grad_fn_at(t, node._clock) if stale else t.grad_fn
            if fn is not None and fn not in seen:
                seen.add(fn)
                stack.append((fn, iter(fn.inputs), fn._clock != clock))
                break
        else:
            stack.pop()
            if type(node._saved) is not tuple:   # freed, or a stale view
                _unusable(node)
            if stale:
                _check_versions(node)
            order.append(node)
    order.reverse()
    return order


def backward(root, grad=None, retain_graph=False):
    """Accumulate ∂root/∂leaf into ``leaf.grad`` for every leaf that requires grad."""
    backend = root._backend
    if not root.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad and has no grad_fn "
            "(did the graph get built under no_grad(), or from tensors that do "
            "not require grad?)")
    if grad is None:
        if root.raw.size != 1:
            raise RuntimeError(
                f"backward: grad can be implicitly created only for a tensor with "
                f"one element; this one has shape {root.shape}: pass grad=")
        g = backend.ones(root.raw.shape, root.raw.dtype)
    else:
        g = grad.raw if isinstance(grad, Tensor) else backend.asarray(grad)
        if isinstance(grad, Tensor) and grad._backend is not backend:
            raise RuntimeError(
                f"backward: grad is on {grad.device} but the tensor is on {root.device}")
        if g.shape != root.shape:
            raise ValueError(
                f"backward: grad has shape {g.shape} but the tensor has shape {root.shape}")
        if g.dtype != root.dtype:
            g = backend.astype(g, root.dtype)

    if root.grad_fn is None:  # a leaf: d root / d root = 1
        if _LEAF_HOOKS:
            g = _run_leaf_hooks(root, g, backend)
        _accumulate(root, g, backend)
        return

    order = _topological_order(root.grad_fn)
    hooked = {}   # id(leaf with hooks) -> (the leaf, the sum of its gradient so far)
    grads = {root.grad_fn: g}
    pop = grads.pop
    clock = _clock
    for node in order:
        g = pop(node, None)
        if g is None:  # nothing flowed here (every path to it was cut)
            continue
        if g.shape != node._shape:  # its output's storage was replaced since (t.raw = …)
            _replaced_output(node, g)
        if node._hooks is not None:   # Tensor.register_hook, retain_grad on its output
            g = _run_hooks(node._hooks, g, node.out_backend or node.backend)
        in_grads = node.backward(node, g)
        if type(in_grads) is not tuple:
            in_grads = (in_grads,)
        inputs = node.inputs
        if len(in_grads) != len(inputs):
            raise RuntimeError(
                f"{type(node).__name__}.backward returned {len(in_grads)} gradients "
                f"for {len(inputs)} inputs of forward")
        if _anomaly and _thread.anomaly:
            _check_backward(node, in_grads)
        for i in node._wanted:                # the Tensor inputs that require grad
            gi = in_grads[i]
            if gi is None:
                continue
            t = inputs[i]
            be, data = t._backend, t.raw
            if not isinstance(gi, be.array_type):
                gi = be.asarray(gi)
            if gi.shape != data.shape:
                gi = _fit(node, gi, data.shape, be)
            if gi.dtype != data.dtype:
                gi = be.astype(gi, data.dtype)
            fn = t.grad_fn if node._clock == clock else grad_fn_at(t, node._clock)
            if fn is None:
                if _LEAF_HOOKS and _hooked_leaf(t):  # its hooks see the sum, at the end
                    k = id(t)
                    hooked[k] = (t, be.add(hooked[k][1], gi) if k in hooked else gi)
                else:
                    _accumulate(t, gi, be)
            elif fn in grads:
                grads[fn] = be.add(grads[fn], gi)
            else:
                grads[fn] = gi
        if not retain_graph:
            node._saved = _FREED
            node.inputs = ()
    for t, g in hooked.values():
        _accumulate(t, _run_leaf_hooks(t, g, t._backend), t._backend)


def _replaced_output(node, g):
    raise RuntimeError(
        f"{_name(node)}: the gradient reaching it has shape {tuple(g.shape)}, but it made "
        f"an output of shape {tuple(node._shape)}: that tensor's storage was replaced "
        f"after it was computed (t.raw = …). Replace storage outside a graph (on a leaf, "
        f"or after backward), or use t.data = …, which checks the shape")


def _fit(node, g, shape, be):
    """A gradient whose shape the input's broadcasts to, summed back to that shape
    (as PyTorch does for a Function's backward); RuntimeError for any other shape."""
    try:
        fits = tuple(g.shape) == _np_broadcast(tuple(g.shape), tuple(shape))
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(
            f"{type(node).__name__}.backward returned a gradient of shape "
            f"{tuple(g.shape)} for an input of shape {tuple(shape)}")
    return be.sum_to_shape(g, tuple(shape))


def set_grad_storage(leaf, array):
    """Give a leaf a gradient storage: an array of its shape, on its device, into which
    ``backward()`` puts the leaf's gradient whenever its ``.grad`` is None, instead
    of allocating one (``None`` takes it away). ``.grad`` then views that array.

    The general mechanism behind flat gradient buffers: an owner of one (an
    optimizer: minigrad/optim/optimizer.py) hands each leaf its slice, and the
    gradients of many leaves land side by side, ready for one kernel call.
    """
    if array is not None:
        if not isinstance(array, leaf._backend.array_type) or tuple(array.shape) != leaf.shape \
                or array.dtype != leaf.dtype:
            raise ValueError(
                f"set_grad_storage: expected a {leaf.device} array of shape {leaf.shape} "
                f"and dtype {leaf.dtype}, got {type(array).__name__} of shape "
                f"{tuple(getattr(array, 'shape', ()))}")
    leaf._grad_storage = array


def _accumulate(leaf, g, backend):
    """leaf.grad += g; when leaf.grad is None, a copy of g (g may be shared) becomes it,
    in the leaf's gradient storage if it has one (set_grad_storage)."""
    if leaf.grad is not None:
        backend.add_(leaf.grad.raw, g)
        return
    storage = getattr(leaf, "_grad_storage", None)
    if g is storage:  # the backward wrote it in place (RawFunction.grad_buffer)
        leaf.grad = Tensor._make(storage, backend)
        return
    if storage is not None and isinstance(storage, backend.array_type) \
            and storage.shape == g.shape:
        backend.copy_(storage, g)
        leaf.grad = Tensor._make(storage, backend)
    else:
        leaf.grad = Tensor._make(backend.copy(g), backend)


# ---- hooks ---------------------------------------------------------------------------------
#
# A hook is a function of a gradient, called during backward; it may return a
# replacement. A non-leaf tensor's hooks live on the node that made it (they see the
# whole gradient of its output, once every consumer has contributed, before the node's
# backward runs); a leaf's in _LEAF_HOOKS (they see the sum of its contributions, at
# the end of the backward, before it is added to .grad). When no hook exists, the
# engine pays one attribute or one dict test.

_LEAF_HOOKS = {}   # id(leaf) -> (weak reference to it, [hook, ...])


class RemovableHandle:
    """What ``register_hook`` (and a Module's ``register_*_hook``) returns:
    ``handle.remove()`` takes the hook away again. Also a context manager that
    removes it on exit."""

    def __init__(self, remove):
        self._remove = remove

    def remove(self):
        if self._remove is not None:
            self._remove()
            self._remove = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


def _remover(hooks, hook, empty):
    def remove():
        for i, h in enumerate(hooks):
            if h is hook:
                del hooks[i]
                break
        if not hooks:
            empty()
    return remove


def register_hook(t, hook):
    """``t.register_hook(hook)``: ``hook(grad)`` is called with the gradient of t
    during each backward; if it returns a Tensor, that replaces the gradient."""
    if not callable(hook):
        raise TypeError(f"register_hook: expected a function, got {type(hook).__name__}")
    if not t._requires_grad:
        raise RuntimeError("register_hook: cannot register a hook on a tensor that "
                           "doesn't require gradient")
    node = t.grad_fn
    if node is None:
        key = id(t)
        entry = _LEAF_HOOKS.get(key)
        if entry is None or entry[0]() is not t:
            entry = _LEAF_HOOKS[key] = (
                weakref.ref(t, lambda _, key=key: _LEAF_HOOKS.pop(key, None)), [])
        hooks = entry[1]
        hooks.append(hook)
        return RemovableHandle(_remover(hooks, hook, lambda: _LEAF_HOOKS.pop(key, None)))
    if node._hooks is None:
        node._hooks = []
    hooks = node._hooks
    # the user's hooks run before retain_grad's store, as in PyTorch
    at = len(hooks) - 1 if hooks and isinstance(hooks[-1], _RetainGrad) else len(hooks)
    hooks.insert(at, hook)

    def empty():
        node._hooks = None
    return RemovableHandle(_remover(hooks, hook, empty))


class _RetainGrad:
    """The hook ``retain_grad()`` puts on a non-leaf tensor: it keeps the gradient
    in the tensor's ``.grad`` (adding to it on later backwards), as for a leaf."""

    def __init__(self, t):
        self.ref = weakref.ref(t)   # weak: the tensor holds the node that holds this

    def __call__(self, grad):
        t = self.ref()
        if t is not None:
            if t.grad is None:
                t.grad = Tensor._make(grad._backend.copy(grad.raw), grad._backend)
            else:
                grad._backend.add_(t.grad.raw, grad.raw)


def retain_grad(t):
    """``t.retain_grad()``: keep a non-leaf tensor's gradient in ``t.grad`` (a
    leaf's is kept anyway)."""
    if not t._requires_grad:
        raise RuntimeError("retain_grad: can't retain_grad on a tensor that doesn't "
                           "require gradient")
    node = t.grad_fn
    if node is None or retains_grad(t):
        return
    if node._hooks is None:
        node._hooks = []
    node._hooks.append(_RetainGrad(t))


def retains_grad(t):
    hooks = t.grad_fn._hooks if t.grad_fn is not None else None
    return bool(hooks) and isinstance(hooks[-1], _RetainGrad) and hooks[-1].ref() is t


def _run_hooks(hooks, g, backend):
    shape = g.shape
    for hook in tuple(hooks):   # (a hook may remove itself)
        result = hook(Tensor._make(g, backend))
        if result is not None:
            if not isinstance(result, Tensor) or result._backend is not backend \
                    or tuple(result.shape) != tuple(shape) or result.dtype != g.dtype:
                raise RuntimeError(
                    f"hook {getattr(hook, '__name__', hook)!r} returned "
                    f"{_describe(result)} for a gradient of shape {tuple(shape)}, dtype "
                    f"{g.dtype} on {backend.name}: a hook returns None or a Tensor like "
                    f"the gradient it was given")
            g = result.raw
    return g


def _hooked_leaf(leaf):
    entry = _LEAF_HOOKS.get(id(leaf))
    return entry is not None and entry[0]() is leaf


def _run_leaf_hooks(leaf, g, backend):
    entry = _LEAF_HOOKS.get(id(leaf))
    if entry is None or entry[0]() is not leaf:
        return g
    return _run_hooks(entry[1], g, backend)


def _describe(x):
    if isinstance(x, Tensor):
        return f"a Tensor of shape {x.shape}, dtype {x.dtype} on {x.device}"
    return f"a {type(x).__name__}"


# ---- anomaly detection ---------------------------------------------------------------------


class detect_anomaly:
    """Context manager and decorator: while on, every op checks its output, and every
    node of a backward the gradients it returns, for NaN and inf; the first one found
    raises RuntimeError naming the op and the line of your code that called it.

    Unlike PyTorch's, it also checks forward outputs, so a NaN is caught where it is
    made (``log`` of a negative number), not where it later reaches a backward. It
    slows every op down (each output is scanned, each node remembers its caller):
    turn it on to find a NaN, not to train.
    """

    def __init__(self, check_nan=True):
        self.check_nan = bool(check_nan)

    def __enter__(self):
        self._prev = _set_mode("anomaly", self.check_nan)

    def __exit__(self, *exc):
        _set_mode("anomaly", self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)
        return wrapper


def set_detect_anomaly(mode):
    """Turn this thread's anomaly detection on or off."""
    _set_mode("anomaly", bool(mode))


def is_anomaly_enabled():
    """This thread's anomaly mode."""
    return _anomaly and _thread.anomaly


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _user_frame():
    """(file, line, source text) of the innermost caller outside minigrad's package."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(_PACKAGE):
            line = frame.f_lineno
            return filename, line, linecache.getline(filename, line).strip()
        frame = frame.f_back
    return None


def _where(at):
    if at is None:
        return "(called before detect_anomaly was on)"
    filename, line, text = at
    return f"called at {filename}:{line}" + (f": {text}" if text else "")


def _finite(array, backend):
    host = array if isinstance(array, np.ndarray) else backend.to_numpy(array)
    return host.dtype.kind != "f" or bool(np.isfinite(host).all())


def _op_name(node):
    return _name(node)[:-len("Backward")]


def _check_forward(ctx, out, backend):
    """Under detect_anomaly: raise if op ``ctx`` produced NaN or inf; note where it
    was called, for a later backward's message."""
    ctx._created_at = at = _user_frame()
    if not _finite(out, backend):
        raise RuntimeError(
            f"detect_anomaly: {_op_name(ctx)} returned NaN or inf values in its output "
            f"(forward), {_where(at)}")


def _check_backward(node, in_grads):
    backend = node.backend
    for i, g in enumerate(in_grads):
        if g is not None and not _finite(g, backend):
            raise RuntimeError(
                f"detect_anomaly: {_name(node)} returned NaN or inf values in its gradient "
                f"for input {i} (backward); its forward, {_op_name(node)}, was "
                f"{_where(node._created_at)}")
