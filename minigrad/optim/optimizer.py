"""Optimizer: parameter groups, per-parameter state, and saving both."""

import numbers

import numpy as np

from ..autograd import enable_grad
from ..tensor import Tensor


class Optimizer:
    """Base class of every optimizer.

    ``params`` is an iterable of Parameters, or of dicts ("param groups") each with a
    ``"params"`` list and any hyper-parameters that differ from ``defaults`` for that
    group. A subclass validates hyper-parameters in ``_check_group`` and updates the
    parameters in ``step``; ``self.state[p]`` holds each parameter's buffers.
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}
        self.param_groups = []
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
        self.param_groups.extend(checked)  # only once every group has passed its checks

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
        self.param_groups.append(group)

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

    def step(self, closure=None):
        raise NotImplementedError

    def _closure_loss(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ---- state dicts ---------------------------------------------------------------

    def state_dict(self):
        """{"state": {index: {buffer name: array copy or number}},
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
        """Restore hyper-parameters and buffers saved by ``state_dict``.

        Checks that the groups and parameter shapes match before changing anything.
        """
        name = type(self).__name__
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: {len(groups)} param groups saved, "
                f"{len(self.param_groups)} in this optimizer")
        params = []
        for saved, group in zip(groups, self.param_groups):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: a saved group has {len(saved['params'])} "
                    f"parameters, this optimizer's has {len(group['params'])}")
            params.extend(zip(saved["params"], group["params"]))
        by_index = dict(params)
        new_state = {}
        for key, buffers in state_dict["state"].items():
            p = by_index.get(int(key))
            if p is None:
                raise ValueError(f"{name}.load_state_dict: state for unknown parameter {key}")
            restored = {}
            for k, v in buffers.items():
                if isinstance(v, Tensor):
                    v = v._host()
                if isinstance(v, np.ndarray):
                    if v.shape != p.shape and v.size != 0:
                        raise ValueError(
                            f"{name}.load_state_dict: buffer {k!r} of parameter {key} has "
                            f"shape {v.shape}, the parameter has {p.shape}")
                    v = p._backend.from_numpy(np.array(v, dtype=p.dtype, copy=True, order="C"))
                restored[k] = v
            new_state[p] = restored
        updated = [{**{k: v for k, v in saved.items() if k != "params"}, "params": group["params"]}
                   for saved, group in zip(groups, self.param_groups)]
        for group in updated:
            self._check_group(group)
        self.param_groups[:] = updated
        self.state = new_state

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
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{type(opt).__name__}: {key} must be a number >= 0, got {value!r}")
