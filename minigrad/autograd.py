"""Reverse-mode automatic differentiation: Function nodes and the backward pass.

Every differentiable operation is a :class:`Function` subclass with two static
methods side by side::

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):            # x is a raw array (NumPy on the CPU)
            y = ctx.backend.exp(x)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):        # ∂L/∂y  ->  ∂L/∂x = ∂L/∂y · exp(x)
            (y,) = ctx.saved_tensors
            return ctx.backend.mul(grad, y)

``Exp.apply(t)`` unwraps Tensor arguments into raw arrays, runs ``forward``, wraps
the result into a Tensor, and — when some input requires grad and grad mode is on —
records the call as a node of the graph: the Function instance itself is the node
(``ctx``), holding its inputs and what it saved. ``Tensor.backward`` then walks
those nodes in reverse topological order, calling each ``backward`` once.
"""

import functools

from .tensor import Tensor

_grad_enabled = True


def is_grad_enabled():
    return _grad_enabled


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
        global _grad_enabled
        self._prev = _grad_enabled
        _grad_enabled = False

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self._prev
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
        global _grad_enabled
        self._prev = _grad_enabled
        _grad_enabled = True


_FREED = object()  # marks a node whose saved arrays were released by backward()


class Function:
    """Base class of every differentiable operation; an instance is a graph node.

    Subclass it with static ``forward(ctx, *args)`` and ``backward(ctx, grad)``.
    ``forward`` receives raw arrays for Tensor arguments (other arguments pass
    through unchanged) and returns one raw array. ``backward`` receives the
    gradient of the output as a raw array and returns one gradient (or None) per
    argument of ``forward``.

    On ``ctx``: ``save_for_backward(*arrays)`` / ``saved_tensors``,
    ``needs_input_grad`` (a bool per argument), ``device`` (``"cpu"`` or
    ``"cuda"``) and ``backend`` (the object whose methods run on that device).
    Any other attribute may be set on ``ctx`` to carry values to ``backward``.
    """

    inputs = ()
    _saved = ()
    _wanted = ()        # positions in ``inputs`` of the Tensors that require grad
    out_backend = None  # set by a forward whose result lives on another device

    @classmethod
    def apply(cls, *args):
        backend = None
        raw = list(args)
        needs = [False] * len(args)
        wanted = []                  # positions of the inputs that require grad
        for i, a in enumerate(args):
            if isinstance(a, Tensor):
                if backend is None:
                    backend = a._backend
                elif a._backend is not backend:
                    raise RuntimeError(
                        f"{cls.__name__}: expected all tensors on one device, "
                        f"got {backend.name} and {a._backend.name}")
                raw[i] = a.data
                if a._requires_grad:
                    needs[i] = True
                    wanted.append(i)
        if backend is None:
            raise TypeError(f"{cls.__name__}.apply needs at least one Tensor argument")

        record = _grad_enabled and wanted
        ctx = cls()
        ctx.backend = backend
        ctx.needs_input_grad = tuple(needs) if record else (False,) * len(needs)
        out = cls.forward(ctx, *raw)
        out_backend = ctx.out_backend or backend
        if not isinstance(out, out_backend.array_type):
            out = out_backend.asarray(out)
        if record:
            ctx.inputs = args
            ctx._wanted = wanted
            return Tensor._make(out, out_backend, True, ctx)
        return Tensor._make(out, out_backend)

    # ---- what forward and backward use -----------------------------------------

    @property
    def device(self):
        return self.backend.name

    def save_for_backward(self, *arrays):
        self._saved = arrays

    def grad_buffer(self, i):
        """Where input i's gradient may be written directly, or None.

        When input i is a leaf whose ``.grad`` is None and an optimizer keeps a slot
        for its gradient (a view into a flat buffer), ``backward`` may compute the
        gradient into that array (e.g. as a matmul's ``out``) and return it: the
        engine then takes it as the leaf's gradient without copying it.
        """
        t = self.inputs[i]
        if t.grad is not None or t.grad_fn is not None:
            return None
        slot = getattr(t, "_grad_slot", None)
        if slot is None or slot.shape != t.data.shape or not isinstance(slot, t._backend.array_type):
            return None
        return slot

    @property
    def saved_tensors(self):
        if self._saved is _FREED:
            raise RuntimeError(_SECOND_BACKWARD.format(op=type(self).__name__))
        return self._saved

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("a Function subclass must define backward(ctx, grad)")

    def __repr__(self):
        return f"<{type(self).__name__}Backward>"


_SECOND_BACKWARD = (
    "{op}: trying to backward through the graph a second time: its saved values "
    "were freed by the first backward(). Pass retain_graph=True to the first "
    "backward() to keep them.")


def _topological_order(root):
    """Nodes reachable from ``root``, each after every node that consumes it.

    Iterative depth-first post-order, so a graph as deep as memory allows does
    not run into Python's recursion limit. Raises if a node was freed by an
    earlier backward(), before any gradient has been accumulated anywhere.
    """
    order = []
    seen = {root}
    stack = [(root, iter(root.inputs))]
    while stack:
        node, pending = stack[-1]
        for t in pending:
            if not isinstance(t, Tensor):  # not getattr: a miss costs an exception
                continue
            fn = t.grad_fn
            if fn is not None and fn not in seen:
                seen.add(fn)
                stack.append((fn, iter(fn.inputs)))
                break
        else:
            stack.pop()
            if node._saved is _FREED:
                raise RuntimeError(_SECOND_BACKWARD.format(op=type(node).__name__))
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
        if root.data.size != 1:
            raise RuntimeError(
                f"backward: grad can be implicitly created only for a tensor with "
                f"one element; this one has shape {root.shape}: pass grad=")
        g = backend.ones(root.data.shape, root.data.dtype)
    else:
        g = grad.data if isinstance(grad, Tensor) else backend.asarray(grad)
        if isinstance(grad, Tensor) and grad._backend is not backend:
            raise RuntimeError(
                f"backward: grad is on {grad.device} but the tensor is on {root.device}")
        if g.shape != root.shape:
            raise ValueError(
                f"backward: grad has shape {g.shape} but the tensor has shape {root.shape}")
        if g.dtype != root.dtype:
            g = backend.astype(g, root.dtype)

    if root.grad_fn is None:  # a leaf: d root / d root = 1
        _accumulate(root, g, backend)
        return

    order = _topological_order(root.grad_fn)
    grads = {root.grad_fn: g}
    pop = grads.pop
    for node in order:
        g = pop(node, None)
        if g is None:  # nothing flowed here (every path to it was cut)
            continue
        in_grads = node.backward(node, g)
        if type(in_grads) is not tuple:
            in_grads = (in_grads,)
        inputs = node.inputs
        if len(in_grads) != len(inputs):
            raise RuntimeError(
                f"{type(node).__name__}.backward returned {len(in_grads)} gradients "
                f"for {len(inputs)} inputs of forward")
        for i in node._wanted:                # the Tensor inputs that require grad
            gi = in_grads[i]
            if gi is None:
                continue
            t = inputs[i]
            be, data = t._backend, t.data
            if not isinstance(gi, be.array_type):
                gi = be.asarray(gi)
            if gi.shape != data.shape:
                raise RuntimeError(
                    f"{type(node).__name__}.backward returned a gradient of shape "
                    f"{gi.shape} for an input of shape {data.shape}")
            if gi.dtype != data.dtype:
                gi = be.astype(gi, data.dtype)
            fn = t.grad_fn
            if fn is None:
                _accumulate(t, gi, be)
            elif fn in grads:
                grads[fn] = be.add(grads[fn], gi)
            else:
                grads[fn] = gi
        if not retain_graph:
            node._saved = _FREED
            node.inputs = ()


def _accumulate(leaf, g, backend):
    """leaf.grad += g; when leaf.grad is None, a copy of g (g may be shared) becomes it.

    The copy goes into the slot an optimizer keeps for this gradient, if there is
    one, so that every gradient of a parameter group lands in one flat buffer.
    """
    if leaf.grad is not None:
        backend.add_(leaf.grad.data, g)
        return
    slot = getattr(leaf, "_grad_slot", None)
    if g is slot:  # the backward wrote it in place (Function.grad_buffer)
        leaf.grad = Tensor._make(slot, backend)
        return
    if slot is not None and isinstance(slot, backend.array_type) and slot.shape == g.shape:
        backend.copy_(slot, g)
        leaf.grad = Tensor._make(slot, backend)
    else:
        leaf.grad = Tensor._make(backend.copy(g), backend)
