"""Optimizer: parameter groups, flat buffers, per-parameter state, and saving them.

One optimizer step should cost one kernel call per parameter group, not one per
parameter (tinygrad's idea, DESIGN.md principle 5). So, when an optimizer is
created, the parameters of each group that share a device and a dtype are copied
end to end into one flat buffer (a "bucket") and each ``p.raw`` becomes a view
into it; gradients get a flat buffer of their own, into which ``backward()``
writes them; state buffers (momentum, moments, …) are flat as well. ``step()`` then
passes each whole bucket to one update kernel, and advances each updated
parameter's version counter, as any in-place change does: a graph that saved a
parameter before the step refuses to backward through its new values.

The step count is kept per parameter, as in PyTorch. A parameter without a
gradient is skipped, and parameters whose counts differ (one was skipped before)
are updated in separate calls, so the result is the same as a per-parameter loop.

A subclass declares its update in two methods: ``_buffers(group)`` names the state
buffers it keeps, with their initial values, and ``_update(group, param, grad,
buffers, step)`` runs its rule on flat arrays through ``optim.functional``.

Tensor and autograd know nothing of this: the optimizer makes each ``p.raw`` a view
of its flat buffer, and hands backward a place for each gradient through the
general ``autograd.set_grad_storage``.
"""

import numbers

import numpy as np

from ..autograd import Version, advance, enable_grad, set_grad_storage, version_of
from ..tensor import Tensor


class _Bucket:
    """The parameters of one group that share a device and dtype, as views into
    one flat buffer (``flat``), their gradients' slots in another (``grad``), and
    the optimizer's state buffers for them (``state``: name -> flat buffer)."""

    def __init__(self, params):
        self.params = params
        self.backend = be = params[0]._backend
        self.dtype = params[0].dtype
        self.offsets = [0]
        for p in params:
            self.offsets.append(self.offsets[-1] + p.raw.size)
        total = self.offsets[-1]
        self.flat = be.empty((total,), self.dtype)
        self.grad = be.zeros((total,), self.dtype)
        self.views, self.grad_views = [], []
        self.state = {}
        # One version counter for the whole bucket, advanced by each step: each
        # parameter's own counter counts it as its own (autograd.Version.also).
        self.version = Version(None)
        # The step count every parameter here has taken, while they all have taken the
        # same (the usual case: then one update covers the whole bucket); None otherwise.
        self.common_step = 0
        self.complete = False   # whether every parameter had a gradient at the last sync()
        # Each parameter's entry in optimizer.state (None until its first step) and
        # the buffer names it was made with.
        self.entries = [None] * len(params)
        self.entry_names = [None] * len(params)
        for i, p in enumerate(params):
            self.views.append(self.slice(self.flat, i, i + 1, p.shape))
            self.grad_views.append(self.slice(self.grad, i, i + 1, p.shape))
            self.adopt(i)

    def slice(self, flat, i, j, shape=None):
        """flat[offsets[i]:offsets[j]], reshaped to ``shape`` when given."""
        if shape is None and i == 0 and j == len(self.params):
            return flat  # the whole bucket: no view needed
        part = flat[self.offsets[i]:self.offsets[j]]
        return part if shape is None else self.backend.reshape(part, shape)

    def adopt(self, i):
        """Make parameter i's values and gradient live in this bucket's buffers."""
        p, be = self.params[i], self.backend
        if p._backend is not be or p.dtype != self.dtype or p.shape != self.views[i].shape:
            raise RuntimeError(
                f"optimizer: a parameter changed device, dtype or shape (now {p.device}, "
                f"{p.dtype}, {p.shape}) after the optimizer was created; create the "
                f"optimizer after moving or converting the model")
        if p.grad is not None and (p.grad.shape != p.shape or p.grad._backend is not be):
            raise RuntimeError(
                f"optimizer: a parameter of shape {p.shape} on {p.device} has a gradient "
                f"of shape {p.grad.shape} on {p.grad.device}")
        if p.raw is not self.views[i]:
            be.copy_(self.views[i], p.raw)
            p.raw = self.views[i]
        set_grad_storage(p, self.grad_views[i])  # backward() writes p's gradient there
        version_of(p).also = self.version
        if p.grad is not None and p.grad.raw is not self.grad_views[i]:
            be.copy_(self.grad_views[i], p.grad.raw)
            p.grad = Tensor._make(self.grad_views[i], be)

    def sync(self):
        """Adopt again each parameter whose storage or gradient was replaced since the
        last step (``p.raw = …``, ``p.grad = …``), and note in ``complete`` whether
        every parameter has a gradient."""
        complete, i = True, 0
        views, grad_views = self.views, self.grad_views
        for p in self.params:
            grad = p.grad
            if grad is None:
                complete = False
                if p.raw is not views[i]:
                    self.adopt(i)
            elif p.raw is not views[i] or grad.raw is not grad_views[i]:
                self.adopt(i)
            i += 1
        self.complete = complete

    def refresh_common_step(self):
        steps = {e["step"] if e is not None else 0 for e in self.entries}
        alike = len(set(self.entry_names)) == 1   # every entry made with the same buffers
        self.common_step = steps.pop() if len(steps) == 1 and alike else None

    def buffer(self, name, init, i, j):
        """Flat state buffer ``name`` for parameters i..j-1; on first use it is
        allocated and filled with ``init``."""
        if name not in self.state:
            self.state[name] = self.backend.full((self.offsets[-1],), init, self.dtype)
        return self.slice(self.state[name], i, j)


def _buckets(params):
    """Split a group's parameters into buckets by (device, dtype), keeping their order."""
    by_key = {}
    for p in params:
        by_key.setdefault((p.device, p.dtype), []).append(p)
    return [_Bucket(ps) for ps in by_key.values()]


class Optimizer:
    """Base class of every optimizer.

    ``params`` is an iterable of Parameters, or of dicts ("param groups") each with a
    ``"params"`` list and any hyper-parameters that differ from ``defaults`` for that
    group. ``self.state[p]`` holds each parameter's step count and state buffers
    (views into the flat buffers), once the parameter has been stepped.

    Note: a parameter's storage (``.raw``) and ``.grad`` are views into the optimizer's flat
    buffers. A gradient tensor kept from an earlier step is overwritten by the next
    ``backward()`` (after ``zero_grad()`` the parameter's ``.grad`` is None again, as
    usual); copy it (``g.detach().numpy().copy()``) to keep it.
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}
        self.param_groups = []
        self._group_buckets = []
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of Tensors or dicts, "
                f"got a single Tensor (wrap it in a list)")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        checked = []
        seen = set()
        for group in groups:
            group = self._complete_group(group)
            for p in group["params"]:
                if id(p) in seen:
                    raise ValueError(
                        f"{type(self).__name__}: a parameter of shape {p.shape} appears "
                        f"more than once in the parameter list")
                seen.add(id(p))
            checked.append(group)
        for group in checked:  # only once every group has passed its checks
            self._add(group)

    def _add(self, group):
        self.param_groups.append(group)
        self._group_buckets.append(_buckets(group["params"]))

    def _complete_group(self, group):
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{type(self).__name__}: a param group must be a dict with 'params'")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: a param group has an empty parameter list")
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{type(self).__name__}: can only optimize Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{type(self).__name__}: can't optimize a non-leaf Tensor")
            if p.dtype.kind != "f":
                raise TypeError(
                    f"{type(self).__name__}: can only optimize floating-point tensors, "
                    f"got dtype {p.dtype}")
        full = dict(self.defaults)
        full.update(group)
        full["params"] = params
        self._check_group(full)
        return full

    def add_param_group(self, group):
        """Add a group (a dict with "params"), e.g. to train a newly unfrozen layer."""
        group = self._complete_group(group)
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in existing for p in group["params"]):
            raise ValueError(f"{type(self).__name__}: some parameters are already in another group")
        self._add(group)

    def _check_group(self, group):
        """Raise ValueError for invalid hyper-parameters (subclasses extend this)."""
        _non_negative(self, group, "lr")

    def zero_grad(self, set_to_none=True):
        """Drop every gradient (``set_to_none``) or fill it with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.zero_()

    # ---- the step ---------------------------------------------------------------------

    def _buffers(self, group):
        """{state buffer name: initial value} that this optimizer keeps for ``group``."""
        return {}

    def _update(self, group, param, grad, buffers, step):
        """Update flat ``param`` in place from flat ``grad`` (raw arrays); ``buffers``
        maps each name of ``_buffers(group)`` to its flat slice; ``step`` counts from 1."""
        raise NotImplementedError

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns closure()'s loss if given."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        # Every parameter is checked (and re-adopted) before any is updated, so that a
        # parameter converted after creation raises with nothing changed.
        for buckets in self._group_buckets:
            for bucket in buckets:
                bucket.sync()
        for group, buckets in zip(self.param_groups, self._group_buckets):
            names = self._buffers(group)
            for bucket in buckets:
                self._step_bucket(group, bucket, names)
        return loss

    def _step_bucket(self, group, bucket, names):
        params, entries = bucket.params, bucket.entries
        t = bucket.common_step
        if bucket.complete and t and bucket.entry_names[0] == tuple(names):
            # the usual step: every parameter, one update, buffers already made
            state = bucket.state
            self._update(group, bucket.flat, bucket.grad,
                         {name: state[name] for name in names} if names else {}, t + 1)
            for entry in entries:
                entry["step"] = t + 1
            bucket.common_step = t + 1
            advance(bucket.version)
            return
        # Consecutive parameters that have gradients and equal step counts: one call
        # each; in the usual case that is the whole bucket.
        i, n = 0, len(params)
        while i < n:
            if params[i].grad is None:
                i += 1
                continue
            t = entries[i]["step"] if entries[i] is not None else 0
            j = i + 1
            while (j < n and params[j].grad is not None
                   and (entries[j]["step"] if entries[j] is not None else 0) == t):
                j += 1
            buffers = {name: bucket.buffer(name, init, i, j) for name, init in names.items()}
            if t == 0:  # first step of these parameters: their state starts fresh
                for name, init in names.items():
                    bucket.backend.fill_(buffers[name], init)
            self._update(group, bucket.slice(bucket.flat, i, j),
                         bucket.slice(bucket.grad, i, j), buffers, t + 1)
            key = tuple(names)
            for k in range(i, j):
                if entries[k] is None or bucket.entry_names[k] != key:
                    self._record(bucket, k, names)
                entries[k]["step"] = t + 1
                advance(version_of(params[k]))   # only these changed: their own counters
            i = j
        bucket.refresh_common_step()

    def _record(self, bucket, k, names):
        """Make parameter k's state entry: its step count and views of its buffers."""
        p = bucket.params[k]
        entry = {"step": 0}
        for name in names:
            entry[name] = bucket.slice(bucket.state[name], k, k + 1, p.shape)
        self.state[p] = bucket.entries[k] = entry
        bucket.entry_names[k] = tuple(names)

    # ---- state dicts ---------------------------------------------------------------

    def state_dict(self):
        """{"state": {index: {"step": t, buffer name: array copy}},
        "param_groups": [{hyper-parameters..., "params": [index, ...]}]}, as PyTorch.

        Parameters are numbered across groups in order, so the dict refers to no
        object and can be saved with ``mg.save`` and loaded into a fresh optimizer.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index[id(p)] = len(index)
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = {
                        k: (np.array(p._backend.to_numpy(v), copy=True)
                            if isinstance(v, p._backend.array_type) else v)
                        for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyper-parameters, step counts and buffers saved by ``state_dict``.

        Checks that groups, parameter counts and buffer shapes match before
        changing anything, so a failed load leaves the optimizer as it was.
        """
        name = type(self).__name__
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: {len(groups)} param groups saved, "
                f"{len(self.param_groups)} in this optimizer")
        by_index = {}
        for saved, group in zip(groups, self.param_groups):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: a saved group has {len(saved['params'])} "
                    f"parameters, this optimizer's has {len(group['params'])}")
            by_index.update(zip(saved["params"], group["params"]))
        updated = [{**{k: v for k, v in saved.items() if k != "params"}, "params": group["params"]}
                   for saved, group in zip(groups, self.param_groups)]
        for group in updated:
            self._check_group(group)
        restored = {}
        for key, buffers in state_dict["state"].items():
            p = by_index.get(int(key))
            if p is None:
                raise ValueError(f"{name}.load_state_dict: state for unknown parameter {key}")
            entry = {}
            for k, v in buffers.items():
                if isinstance(v, Tensor):
                    v = v._host()
                if k == "step":
                    entry[k] = _step_count(v, name, key)
                    continue
                if isinstance(v, np.ndarray):
                    if v.shape != p.shape:
                        raise ValueError(
                            f"{name}.load_state_dict: buffer {k!r} of parameter {key} has "
                            f"shape {v.shape}, the parameter has {p.shape}")
                    if v.dtype.kind not in "fiu":
                        raise ValueError(
                            f"{name}.load_state_dict: buffer {k!r} of parameter {key} has "
                            f"dtype {v.dtype}, not numbers")
                elif v is not None:
                    raise ValueError(f"{name}.load_state_dict: buffer {k!r} is not an array")
                entry[k] = v
            restored[p] = entry
        # (everything above only reads: a bad value raised with nothing changed)

        self.param_groups[:] = updated
        self.state = {}
        for group, buckets in zip(self.param_groups, self._group_buckets):
            names = self._buffers(group)
            for bucket in buckets:
                be = bucket.backend
                for k, p in enumerate(bucket.params):
                    bucket.entries[k] = bucket.entry_names[k] = None
                    if p not in restored:
                        continue  # no state: its next step is its first
                    saved = restored[p]
                    arrays = {n: v for n, v in saved.items() if isinstance(v, np.ndarray)}
                    # PyTorch's SGD keeps no step count: a saved buffer means it has stepped.
                    entry = {"step": saved.get("step", 1 if arrays else 0)}
                    for buf_name, init in names.items():
                        view = bucket.buffer(buf_name, init, k, k + 1)
                        view = be.reshape(view, p.shape)
                        if buf_name in arrays:
                            be.copy_(view, be.from_numpy(
                                np.ascontiguousarray(arrays[buf_name], dtype=p.dtype)))
                        else:
                            be.fill_(view, init)
                        entry[buf_name] = view
                    self.state[p] = bucket.entries[k] = entry
                    bucket.entry_names[k] = tuple(names)
                bucket.refresh_common_step()

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]}")
        return "\n".join(lines) + "\n)"


def _non_negative(opt, group, key):
    value = group.get(key)
    # `not value >= 0` rather than `value < 0`: NaN is rejected too, as in PyTorch
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not value >= 0:
        raise ValueError(f"{type(opt).__name__}: {key} must be a number >= 0, got {value!r}")


def _in_unit_interval(opt, group, key, value=None):
    """0 <= value < 1, for betas and rho."""
    value = group.get(key) if value is None else value
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0.0 <= value < 1.0:
        raise ValueError(f"{type(opt).__name__}: {key} must be in [0, 1), got {value!r}")


def _step_count(v, name, key):
    """A saved step count as a non-negative int (PyTorch saves it as a 0-d tensor)."""
    if isinstance(v, np.ndarray) and v.shape == ():
        v = v[()]
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real) \
            or v != int(v) or v < 0:
        raise ValueError(f"{name}.load_state_dict: parameter {key} has step {v!r}: a step "
                         f"count is a whole number ≥ 0")
    return int(v)
