"""``minigrad.trace()``: every kernel and BLAS call a block of code runs, in order.

    with mg.trace() as t:
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    t.table()

Each event says which op it served (``LinearSigmoid`` in the forward pass,
``LinearSigmoidBackward`` in the backward one, ``SGD.step``), the kernel's name and
where it is written (``linear_forward[sigmoid]  kernels/cpu/matmul.py:61``), the
shapes and dtype of its array arguments, the device, the time it took, and the
bytes of its array arguments (each read or written at least once: a floor of its
memory traffic) and the FLOPs where the kernel declares them (BLAS products, the
small dense-layer kernels).

How: while a trace is open, the class of numba's CPU kernels gets a ``__call__``
that records each call from Python (kernels called by kernels are compiled in, as
they always are), the CUDA kernels' launch (``kernel[grid, block]``) gets one too,
and the CPU backend's matrix products go through a recording ``_matmul``. When the
trace closes all three are taken away again, so with no trace open nothing is
recorded and nothing costs anything. On a GPU each launch is timed between two
``cuda.synchronize()``: the times are the kernels' own, and the run is slower than
untraced. A kernel's first call includes its compilation (or its load from numba's
cache): trace a step after a warm-up one.
"""

import linecache
import os
import sys
import threading
import time

from . import autograd as _autograd

__all__ = ["trace", "Event"]

_KERNELS_DIR = os.sep + "kernels" + os.sep
_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_lock = threading.Lock()
_active = None    # the open trace


class Event:
    """One kernel or BLAS call. ``op``: the Function (``Linear``, ``LinearBackward``)
    or the optimizer step it served, or the minigrad function that called it;
    ``kernel``: its name; ``file``, ``line``: where it is written; ``device``;
    ``shapes``: of its array arguments, in order; ``dtype``; ``seconds``; ``flops``
    and ``bytes`` (None where unknown)."""

    __slots__ = ("op", "kernel", "file", "line", "device", "shapes", "dtype", "seconds",
                 "flops", "bytes")

    def __init__(self, **fields):
        for name in self.__slots__:
            setattr(self, name, fields.get(name))

    def __repr__(self):
        return (f"Event({self.op}: {self.kernel} {self.file}:{self.line}, {self.device}, "
                f"{' '.join(map(_fmt_shape, self.shapes))} {self.dtype}, "
                f"{self.seconds * 1e6:.1f} µs)")


class trace:
    """Context manager recording every kernel and BLAS call inside it: ``.events``
    (a list of :class:`Event`), ``.table()`` prints them and a summary per kernel."""

    def __init__(self):
        self.events = []

    def __enter__(self):
        global _active
        with _lock:
            if _active is not None:
                raise RuntimeError("trace: a trace is already open (they do not nest)")
            _active = self
            _install()
        return self

    def __exit__(self, *exc):
        global _active
        with _lock:
            _uninstall()
            _active = None
        return False

    # ---- reading it -------------------------------------------------------------

    def summary(self):
        """[(kernel, calls, seconds, flops or None, bytes)], the costliest first."""
        rows = {}
        for e in self.events:
            r = rows.setdefault(e.kernel, [e.kernel, 0, 0.0, None, 0])
            r[1] += 1
            r[2] += e.seconds
            if e.flops is not None:
                r[3] = (r[3] or 0) + e.flops
            r[4] += e.bytes or 0
        return sorted((tuple(r) for r in rows.values()), key=lambda r: -r[2])

    def __str__(self):
        head = ("#", "op", "kernel", "where", "shapes", "dtype", "device", "µs")
        body = [(str(i), e.op, e.kernel, f"{e.file}:{e.line}",
                 " ".join(_fmt_shape(s) for s in e.shapes), str(e.dtype), e.device,
                 f"{e.seconds * 1e6:.1f}") for i, e in enumerate(self.events, 1)]
        lines = _columns(head, body, right={0, 7})
        total = sum(e.seconds for e in self.events) or 1.0
        summary = [(k, str(n), f"{s * 1e6:.1f}", f"{100 * s / total:.0f}%",
                    "" if f is None else _si(f), _si(b) + "B")
                   for k, n, s, f, b in self.summary()]
        lines += [""] + _columns(("kernel", "calls", "µs", "share", "FLOPs", "bytes"),
                                 summary, right={1, 2, 3, 4, 5})
        lines.append(f"{len(self.events)} calls, {sum(e.seconds for e in self.events) * 1e6:.1f} µs")
        return "\n".join(lines)

    def table(self, file=None):
        """Print the events in order, then the time per kernel."""
        print(self, file=file)


def _columns(head, rows, right=()):
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]

    def line(r):
        return "  ".join(f"{c:>{w}}" if i in right else f"{c:<{w}}"
                         for i, (c, w) in enumerate(zip(r, widths))).rstrip()
    return [line(head)] + [line(r) for r in rows]


def _fmt_shape(s):
    return "(" + ",".join(map(str, s)) + ")" if len(s) != 1 else f"({s[0]},)"


def _si(n):
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g}{unit}"
    return str(int(n))


# ---- what a call served -------------------------------------------------------------------


_BACKEND = os.path.join(_PACKAGE, "backend") + os.sep


def _op_of(frame):
    """The op a kernel call serves: the nearest forward/backward of a graph node on
    the stack, or an optimizer's step; else the nearest minigrad function outside the
    backends (``cross_entropy``, ``zeros``)."""
    from .optim.optimizer import Optimizer
    outer = None
    while frame is not None:
        code = frame.f_code
        name = code.co_name
        if name in ("forward", "backward"):
            ctx = frame.f_locals.get("ctx")
            if isinstance(ctx, _autograd.Node):
                full = _autograd._name(ctx)
                return full if name == "backward" else full[:-len("Backward")]
        elif name == "step":
            opt = frame.f_locals.get("self")
            if isinstance(opt, Optimizer):
                return f"{type(opt).__name__}.step"
        if outer is None:
            path = os.path.abspath(code.co_filename)
            if path.startswith(_PACKAGE) and not path.startswith(_BACKEND) \
                    and path != os.path.abspath(__file__):
                outer = getattr(code, "co_qualname", name)
        frame = frame.f_back
    return outer or "(user code)"


def _where(py_func):
    """(the file, from kernels/ on, and the line of the ``def``) of a kernel."""
    code = py_func.__code__
    path = code.co_filename
    at = path.rfind(_KERNELS_DIR)
    shown = path[at + 1:] if at >= 0 else os.path.basename(path)
    line = code.co_firstlineno   # the first decorator's line: step down to the def
    while line < code.co_firstlineno + 10 and \
            not linecache.getline(path, line).lstrip().startswith("def "):
        line += 1
    return shown.replace(os.sep, "/"), line


def _kernel_name(py_func):
    """The function's name, with the activation it was built for: ``name[relu]``."""
    name = py_func.__name__
    closure = py_func.__closure__
    if closure and "act" in py_func.__code__.co_freevars:
        from .kernels import activations as A
        act = closure[py_func.__code__.co_freevars.index("act")].cell_contents
        names = {code: n for n, code in A.NAMES.items()}
        if act in names:
            name += f"[{names[act]}]"
    return name


def _arrays(args):
    return [a for a in args if hasattr(a, "shape") and hasattr(a, "dtype")]


def _record(py_func, args, device, seconds, name=None, where=None, flops=None):
    arrays = _arrays(args)
    if flops is None:
        count = getattr(py_func, "flops", None)
        flops = count(*args) if count is not None else None
    file, line = where if where is not None else _where(py_func)
    dtype = next((a.dtype for a in arrays if a.dtype.kind == "f"),
                 arrays[0].dtype if arrays else None)
    _active.events.append(Event(
        op=_op_of(sys._getframe(2)), kernel=name or _kernel_name(py_func), file=file,
        line=line, device=device, shapes=[tuple(a.shape) for a in arrays],
        dtype=dtype, seconds=seconds, flops=flops,
        bytes=sum(a.size * a.dtype.itemsize for a in arrays)))


# ---- the CPU: numba's dispatchers and BLAS ---------------------------------------------------


def _cpu_dispatcher_classes():
    from numba.core.dispatcher import _DispatcherBase
    from numba.core.registry import CPUDispatcher
    return CPUDispatcher, _DispatcherBase.__mro__[1].__call__


_untraced_call = None   # numba's own call of a CPU kernel, while a trace is open


def _traced_cpu_call(self, *args, **kwargs):
    call = _untraced_call
    if _active is None:
        return call(self, *args, **kwargs)
    start = time.perf_counter()
    result = call(self, *args, **kwargs)
    _record(self.py_func, args, "cpu", time.perf_counter() - start)
    return result


def _traced_matmul(a, b, out=None):
    from .backend import cpu as _cpu
    start = time.perf_counter()
    result = _cpu._BLAS_MATMUL(a, b, out=out)
    seconds = time.perf_counter() - start
    if _active is not None:
        m, k = a.shape[-2], a.shape[-1]
        n = b.shape[-1]
        batch = result.size // (m * n) if m * n else 0
        caller = sys._getframe(1)
        where = (os.path.relpath(caller.f_code.co_filename, os.path.dirname(_PACKAGE[:-1])),
                 caller.f_lineno)
        kind = {"f": "sgemm", "d": "dgemm"}.get(a.dtype.char, "matmul")
        _record(_traced_matmul, (a, b, result), "cpu", seconds,
                name=f"BLAS {kind}", where=(where[0].replace(os.sep, "/"), where[1]),
                flops=2 * batch * m * k * n)
    return result


# ---- CUDA: the launch of each kernel ---------------------------------------------------------


def _cuda_kernel_class():
    """The class whose ``[grid, block]`` launches a CUDA kernel here: numba-cuda's
    dispatcher on a GPU, the simulator's kernel under NUMBA_ENABLE_CUDASIM=1; None
    when minigrad's CUDA backend was never loaded."""
    if "minigrad.backend.cuda" not in sys.modules:
        return None
    from numba import config
    if config.ENABLE_CUDASIM:
        from numba.cuda.simulator.kernel import FakeCUDAKernel
        return FakeCUDAKernel
    from numba.cuda.dispatcher import CUDADispatcher
    return CUDADispatcher


class _TracedLaunch:
    def __init__(self, kernel, launch):
        self.kernel, self.launch = kernel, launch

    def __call__(self, *args):
        from numba import cuda
        cuda.synchronize()
        start = time.perf_counter()
        result = self.launch(*args)
        cuda.synchronize()
        seconds = time.perf_counter() - start
        if _active is not None:
            _record(self.kernel.py_func, args, "cuda", seconds)
        return result


_saved = {}


def _install():
    global _untraced_call
    cpu_class, _untraced_call = _cpu_dispatcher_classes()
    cpu_class.__call__ = _traced_cpu_call
    from .backend import cpu as _cpu
    _cpu._matmul = _traced_matmul
    cls = _cuda_kernel_class()
    if cls is not None:
        getitem = cls.__getitem__
        _saved["cuda"] = (cls, cls.__dict__.get("__getitem__"))

        def traced_getitem(self, config):
            return _TracedLaunch(self, getitem(self, config))
        cls.__getitem__ = traced_getitem


def _uninstall():
    cpu_class, _ = _cpu_dispatcher_classes()
    del cpu_class.__call__
    from .backend import cpu as _cpu
    _cpu._matmul = _cpu._BLAS_MATMUL
    saved = _saved.pop("cuda", None)
    if saved is not None:
        cls, own = saved
        if own is None:
            del cls.__getitem__
        else:
            cls.__getitem__ = own
