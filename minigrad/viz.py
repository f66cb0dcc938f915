"""Seeing the graph: ``make_dot`` draws what backward will walk, ``summary`` lists a
model's layers.

``make_dot(loss, params=dict(model.named_parameters()))`` returns the graph that
computed ``loss`` as DOT text (``.source``), built here with no dependency. Each op
is a box named as its node is (``LinearReLUBackward``), with its output's shape and
dtype; each leaf that requires grad is a blue box, named from ``params``; the tensor
drawn from is green. Arrows run the way the forward pass did, from inputs to the
op that used them; backward walks them the other way. The text is built each time
``.source`` is read, so a graph made before ``loss.backward()`` and read after
shows every leaf's gradient norm. ``show_saved=True`` adds, in orange, what each op
saved for its backward.

Rendering it to a picture needs Graphviz's ``dot`` program (``apt install graphviz``,
``brew install graphviz``, ``conda install graphviz``): ``.render("graph.svg")``, or
in Jupyter the graph shows itself. Without it, paste ``.source`` into any Graphviz
viewer (there are many online).
"""

import math
import shutil
import subprocess

import numpy as np

from . import autograd as _autograd
from .tensor import Tensor

__all__ = ["make_dot", "Digraph", "summary", "Summary"]


def make_dot(tensor, params=None, show_saved=False):
    """The graph that produced ``tensor`` (a :class:`Digraph`).

    ``params``: a dict (or iterable of pairs) name -> Parameter, such as
    ``dict(model.named_parameters())``, to name the leaves. ``show_saved``: also
    draw the arrays each op saved for backward.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"make_dot: expected a Tensor, got {type(tensor).__name__}")
    names = {}
    if params is not None:
        items = params.items() if isinstance(params, dict) else params
        for name, p in items:
            if not isinstance(p, Tensor):
                raise TypeError(f"make_dot: params[{name!r}] is a {type(p).__name__}, "
                                f"not a Tensor")
            names[id(p)] = str(name)
    return Digraph(_snapshot(tensor), names, show_saved)


def _snapshot(root):
    """The graph's structure as it is now: [(kind, object, tensor it made or is,
    [indices of its inputs], what it saved)], inputs first. The tensors are held (the
    leaves' gradients are read when the text is made)."""
    items, index = [], {}

    def add(kind, obj, t, inputs):
        index[id(obj)] = len(items)
        items.append((kind, obj, t, inputs, _saved(obj, t) if kind == "op" else []))
        return len(items) - 1

    if root.grad_fn is None:
        add("leaf" if root.requires_grad else "tensor", root, root, [])
        return items
    if root.grad_fn._saved is _autograd._FREED:
        raise RuntimeError(
            "make_dot: backward() has freed this graph. Call make_dot before backward "
            "(its text is made when read, so it still shows the gradients), or pass "
            "retain_graph=True to backward")
    # iterative post-order: a node after all of its inputs, in the order of its inputs
    stack = [(root.grad_fn, root, iter(root.grad_fn.inputs), [])]
    while stack:
        node, made, pending, inputs = stack[-1]
        for t in pending:
            if not isinstance(t, Tensor) or not t.requires_grad:
                continue
            fn = t.grad_fn
            obj = t if fn is None else fn
            if id(obj) in index:
                inputs.append(index[id(obj)])
            elif fn is None:
                inputs.append(add("leaf", t, t, []))
            else:
                stack.append((fn, t, iter(fn.inputs), []))
                break
        else:
            stack.pop()
            at = add("op", node, made, inputs)
            if stack:
                stack[-1][3].append(at)
    return items


def _shape(t):
    return f"{tuple(t.shape)} {t.dtype}"


def _quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class Digraph:
    """DOT text of a graph (``.source``), and its picture (``.render``, or shown
    in Jupyter) where Graphviz's ``dot`` program is installed."""

    def __init__(self, items, names, show_saved):
        self._items, self._names, self._show_saved = items, names, show_saved

    @property
    def source(self):
        lines = ["digraph {",
                 '    graph [rankdir=TB]',
                 '    node [shape=box fontname="monospace" fontsize=10 style=filled '
                 'fillcolor=lightgrey]']
        last = len(self._items) - 1
        for k, (kind, obj, t, inputs, saved) in enumerate(self._items):
            lines.append(f"    n{k} [label={_quote(self._label(kind, obj, t))}"
                         f"{self._style(kind, k == last)}]")
            for i in inputs:
                lines.append(f"    n{i} -> n{k}")
            if self._show_saved:
                for j, (what, a) in enumerate(saved):
                    lines.append(f"    n{k}s{j} [label={_quote(f'saved {what}' + chr(10) + a)} "
                                 f"fillcolor=orange shape=box]")
                    lines.append(f"    n{k}s{j} -> n{k} [style=dashed arrowhead=none]")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def _label(self, kind, obj, t):
        if kind == "op":
            return f"{obj.name()}\n{_shape(t)}"
        name = self._names.get(id(t), "leaf" if kind == "leaf" else "tensor")
        label = f"{name}\n{_shape(t)}"
        if t.grad is not None:
            g = np.asarray(t.grad._backend.to_numpy(t.grad.raw), dtype=np.float64)
            label += f"\ngrad norm {math.sqrt(float((g * g).sum())):.4g}"
        return label

    @staticmethod
    def _style(kind, is_root):
        if is_root:
            return " fillcolor=darkolivegreen1"
        return " fillcolor=lightblue" if kind == "leaf" else ""

    def __str__(self):
        return self.source

    def __repr__(self):
        return f"<minigrad.viz.Digraph of {len(self._items)} nodes: .source, .render(path)>"

    # ---- pictures -------------------------------------------------------------

    def pipe(self, format="svg"):
        """The picture as bytes, made by Graphviz's ``dot`` program."""
        dot = shutil.which("dot")
        if dot is None:
            raise RuntimeError(
                "make_dot: drawing the graph needs Graphviz's `dot` program, which is "
                "not installed (apt install graphviz, brew install graphviz, or conda "
                "install graphviz); the DOT text is in .source meanwhile")
        done = subprocess.run([dot, f"-T{format}"], input=self.source.encode(),
                              capture_output=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"make_dot: dot -T{format} failed: "
                               f"{done.stderr.decode(errors='replace').strip()}")
        return done.stdout

    def render(self, path, format=None):
        """Write the picture to ``path``; its format from ``format`` or the path's
        extension (svg, png, pdf, …). Returns the path."""
        path = str(path)
        if format is None:
            format = path.rsplit(".", 1)[-1] if "." in path else "svg"
        data = self.pipe(format)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def _repr_svg_(self):   # Jupyter: the picture where dot is installed, else the repr
        if shutil.which("dot") is None:
            return None
        return self.pipe("svg").decode()


def _saved(node, made):
    """[(what, "shape dtype")] of what ``node`` saved for backward: "input k", its
    "output" (the tensor ``made``), or an "array" it computed for the purpose."""
    saved = node._saved
    if type(saved) is not tuple:
        return []
    out = []
    inputs = [t.raw if isinstance(t, Tensor) else None for t in node.inputs]
    for s in saved:
        raw = s.raw if isinstance(s, Tensor) else s
        if raw is None or not hasattr(raw, "shape"):
            continue
        what = next((f"input {i}" for i, r in enumerate(inputs) if r is raw),
                    "output" if raw is made.raw else "array")
        out.append((what, f"{tuple(raw.shape)} {raw.dtype}"))
    return out


# ---- summary ----------------------------------------------------------------------------


class Summary:
    """What ``summary`` found: ``rows`` of (name, type, output shape, parameters),
    and ``total_params``, ``trainable_params``. ``print()`` it for the table."""

    def __init__(self, rows, total, trainable, input_shape):
        self.rows, self.total_params, self.trainable_params = rows, total, trainable
        self.input_shape = input_shape

    def __str__(self):
        header = ("Layer (type)", "Output shape", "Param #")
        body = [(f"{name} ({kind})", str(shape), f"{n:,}") for name, kind, shape, n in self.rows]
        widths = [max(len(r[i]) for r in [header] + body) for i in range(3)]
        rule = "-" * (sum(widths) + 4)

        def line(r):
            return f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}"
        return "\n".join(
            [rule, line(header), rule.replace("-", "=")] + [line(r) for r in body] + [
                rule, f"Input shape: {self.input_shape}",
                f"Total params: {self.total_params:,}",
                f"Trainable params: {self.trainable_params:,}",
                f"Non-trainable params: {self.total_params - self.trainable_params:,}",
                rule])

    __repr__ = __str__


def summary(model, input_shape, dtype=None, device=None):
    """The layers of ``model``, in the order they run on an input of
    ``input_shape`` (batch first), with each one's output shape and number of
    parameters, as Keras's and torchinfo's summaries give them.

    The model runs once on zeros, under ``no_grad``; each module it calls is a row
    (a container that only calls its children is left out, its parameters counted
    in theirs).
    """
    from .nn.module import Module
    from .tensor import zeros
    if not isinstance(model, Module):
        raise TypeError(f"summary: expected a Module, got {type(model).__name__}")
    shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
    names = {id(m): name for name, m in model.named_modules()}
    if device is None:
        first = next(iter(model.parameters()), None)
        device = first.device if first is not None else "cpu"
    if dtype is None:
        first = next(iter(model.parameters()), None)
        dtype = first.dtype if first is not None else None
    rows, handles = [], []

    def record(module, inputs, output):
        own = sum(p.raw.size for p in module._parameters.values() if p is not None)
        if module._modules and not own:
            return   # a container: its children have rows of their own
        out = tuple(output.shape) if isinstance(output, Tensor) else type(output).__name__
        rows.append((names.get(id(module), "?") or type(module).__name__,
                     type(module).__name__, out, own))

    try:
        for m in model.modules():
            handles.append(m.register_forward_hook(record))
        x = zeros(*shape, dtype=dtype, device=device)
        with _autograd.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    params = list(model.parameters())
    total = sum(p.raw.size for p in params)
    trainable = sum(p.raw.size for p in params if p.requires_grad)
    return Summary(rows, total, trainable, shape)
