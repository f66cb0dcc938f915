"""Learning-rate schedulers: ``from minigrad.optim import lr_scheduler``.

Each scheduler takes the optimizer first and rewrites ``param_groups[i]["lr"]`` on
every ``step()``, as PyTorch's do. Call it once per epoch (or per batch), after
``optimizer.step()``:

    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(model, opt)
        sched.step()

Notation (REFERENCE.md, "Learning-rate decay"): lr_0 is a group's learning rate
when the scheduler was made (saved in the group as ``"initial_lr"``), t is the
number of ``step()`` calls so far (``last_epoch``), lr_t the rate set after the
t-th call. Every rule except ReduceLROnPlateau is computed in closed form from
lr_0 and t, never by multiplying the previous rate, so lr_t carries no
accumulated rounding and a scheduler restored from ``state_dict()`` carries on
exactly where the saved one stopped. PyTorch updates most rules step by step, so
its rates can differ from these in the last bits.

One consequence: two schedulers on one optimizer do not multiply (PyTorch's
step-by-step forms do); whichever steps last sets the rate. For a combined rule
write the product in one LambdaLR.
"""

import copy
import math
import numbers
import types

__all__ = [
    "LRScheduler", "_LRScheduler", "StepLR", "ExponentialLR", "LinearLR", "InverseTimeLR",
    "CosineAnnealingLR", "LambdaLR", "ReduceLROnPlateau",
]


def _check_optimizer(scheduler_name, optimizer):
    if not hasattr(optimizer, "param_groups"):
        raise TypeError(f"{scheduler_name}: {type(optimizer).__name__} is not an Optimizer "
                        f"(it has no param_groups)")


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check(scheduler_name, name, value, ok, must):
    """ValueError naming the argument unless ``value`` is a number and ``ok(value)``."""
    if not _is_real(value) or not ok(value):
        raise ValueError(f"{scheduler_name}: {name} must be {must}, got {value!r}")


def _check_int(scheduler_name, name, value, low):
    if not _is_int(value) or value < low:
        raise ValueError(f"{scheduler_name}: {name} must be an integer >= {low}, got {value!r}")


# What a loaded state may hold, by attribute: (test, what it must be). The
# constructors check their arguments with the same bounds.
def _integer(low):
    return (lambda v: _is_int(v) and v >= low), f"an integer >= {low}"


def _real(ok, must):
    return (lambda v: _is_real(v) and ok(v)), must


_RATES = ((lambda v: isinstance(v, (list, tuple)) and all(_is_real(x) and x >= 0 for x in v)),
          "a list of rates >= 0 (one per param group)")


class LRScheduler:
    """Base class: a rule lr_t = f(lr_0, t) applied to every param group.

    ``last_epoch`` is t, the number of ``step()`` calls so far. Constructing a
    scheduler records ``group["initial_lr"] = group["lr"]`` in each group (unless a
    group already has one, e.g. from an earlier scheduler or a loaded optimizer
    state) and makes the first step, so right after construction t = 0 and the rate
    is lr_0 · f(0). Where f(0) = 1 the group keeps the rate it has instead, as in
    PyTorch (equal to lr_0 on a fresh optimizer): a scheduler made after
    ``optimizer.load_state_dict()`` leaves the loaded rate alone, so training
    resumes exactly in either order. LinearLR with start_factor ≠ 1 and a LambdaLR
    with λ(0) ≠ 1 do set lr_0 · f(0) (PyTorch's do too): make those before loading
    the optimizer's state.

    Pass ``last_epoch=k`` only to rebuild a scheduler for an optimizer whose groups
    already hold ``"initial_lr"``; construction then sets t = k + 1 and the rate
    lr_(k+1). Loading a ``state_dict()`` is the simpler way to resume.

    A subclass validates its arguments before calling ``__init__`` and implements
    ``get_lr()``: the rate of each group at t = ``last_epoch``, from ``base_lrs``.
    Errors: TypeError if ``optimizer`` has no ``param_groups``; KeyError if
    ``last_epoch`` is not -1 and a group has no ``"initial_lr"``.
    """

    _hyper_parameters = ()  # names shown by __repr__

    def __init__(self, optimizer, last_epoch=-1):
        name = type(self).__name__
        _check_optimizer(name, optimizer)
        _check_int(name, "last_epoch", last_epoch, -1)
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{name}: param_groups[{i}] has no 'initial_lr'; last_epoch={last_epoch} "
                        f"resumes a schedule, so the optimizer must come from one that had a "
                        f"scheduler (or use last_epoch=-1)")
        self.optimizer = optimizer
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        # The first step, t = last_epoch + 1. At t = 0 a group whose rule starts at
        # lr_0 itself keeps the rate it has, as PyTorch's rules do: so a scheduler
        # made after optimizer.load_state_dict() leaves the loaded rate in place.
        self.last_epoch = last_epoch + 1
        for group, lr, lr0 in zip(optimizer.param_groups, self.get_lr(), self.base_lrs,
                                  strict=True):
            if last_epoch != -1 or lr != lr0:
                group["lr"] = lr
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def get_lr(self):
        """The rate of each param group at t = ``last_epoch`` (a list of floats)."""
        raise NotImplementedError

    def step(self):
        """t ← t + 1, then set each group's "lr" to the rule's value at t."""
        self.last_epoch += 1
        values = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        """The rates set by the latest step, one per param group (a new list)."""
        return list(self._last_lr)

    def state_dict(self):
        """Every attribute except the optimizer, copied (so it is safe to keep)."""
        return copy.deepcopy({k: v for k, v in self.__dict__.items() if k != "optimizer"})

    def load_state_dict(self, state_dict):
        """Restore what ``state_dict()`` returned.

        As in PyTorch this does not touch the optimizer: its groups' "lr" change on
        the next ``step()``. To resume training, load the optimizer's own state dict
        too (it holds the current rates), before or after this. Everything is
        checked first, so a bad state changes nothing: TypeError if it is not a
        dict, ValueError for missing or unexpected keys (a state of another kind of
        scheduler) or a value out of range.
        """
        self._check_state(state_dict)
        self.__dict__.update(copy.deepcopy(state_dict))

    # Attributes of a state beyond the hyper-parameters: the counters and rates (one
    # per param group when it was saved; groups may have been added since).
    def _state_rules(self):
        return {"last_epoch": _integer(0), "base_lrs": _RATES, "_last_lr": _RATES}

    _rules = {}   # each hyper-parameter's bounds: name -> (test, what it must be)

    @classmethod
    def _check_args(cls, **values):
        """ValueError naming the first argument outside its bounds in ``_rules``."""
        for name, value in values.items():
            ok, must = cls._rules[name]
            if not ok(value):
                raise ValueError(f"{cls.__name__}: {name} must be {must}, got {value!r}")

    def _check_state(self, state_dict):
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict):
            raise TypeError(f"{name}: expected a dict from state_dict(), "
                            f"got {type(state_dict).__name__}")
        own = set(self.state_dict())
        missing, unexpected = sorted(own - set(state_dict)), sorted(map(str, set(state_dict) - own))
        if missing or unexpected:
            raise ValueError(f"{name}: missing keys {missing}, unexpected keys {unexpected} "
                             f"(is it the state of another kind of scheduler?)")
        for key, (ok, must) in {**self._rules, **self._state_rules()}.items():
            if not ok(state_dict[key]):
                raise ValueError(f"{name}: {key} must be {must}, got {state_dict[key]!r}")

    def __repr__(self):
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._hyper_parameters)
        args = f"{args}, " if args else ""
        return (f"{type(self).__name__}({type(self.optimizer).__name__}, {args}"
                f"last_epoch={self.last_epoch}, last_lr={self._last_lr})")


class _LRScheduler(LRScheduler):
    """The old name of ``LRScheduler``, kept for code written against it (as PyTorch)."""


class StepLR(LRScheduler):
    """Step decay: lr_t = lr_0 · γ^floor(t / s), with s = ``step_size`` and γ = ``gamma``.

    The rate is divided by 1/γ every s steps. Errors: ValueError if step_size is not
    an integer >= 1 or gamma <= 0.
    """

    _hyper_parameters = ("step_size", "gamma")
    _rules = {"step_size": _integer(1), "gamma": _real(lambda g: g > 0, "> 0")}

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self._check_args(step_size=step_size, gamma=gamma)
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [lr0 * self.gamma ** (self.last_epoch // self.step_size) for lr0 in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Exponential decay: lr_t = lr_0 · γ^t, with γ = ``gamma``.

    Errors: ValueError if gamma <= 0.
    """

    _hyper_parameters = ("gamma",)
    _rules = {"gamma": _real(lambda g: g > 0, "> 0")}

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self._check_args(gamma=gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [lr0 * self.gamma ** self.last_epoch for lr0 in self.base_lrs]


class LinearLR(LRScheduler):
    """Linear ramp of the factor from a to b over T steps, then constant:

        lr_t = lr_0 · (a + (b − a) · min(t, T) / T)

    with a = ``start_factor``, b = ``end_factor``, T = ``total_iters``. With a < b
    this is a warm-up; with b < a it is REFERENCE.md's linear decay
    lr_t = lr_0 − k·t (k = lr_0·(a − b)/T, here from lr_0·a) down to the floor lr_0·b.
    Errors: ValueError if start_factor is outside (0, 1], end_factor outside [0, 1]
    (PyTorch's limits) or total_iters is not an integer >= 1.
    """

    _hyper_parameters = ("start_factor", "end_factor", "total_iters")
    _rules = {"start_factor": _real(lambda a: 0 < a <= 1, "in (0, 1]"),
              "end_factor": _real(lambda b: 0 <= b <= 1, "in [0, 1]"),
              "total_iters": _integer(1)}

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5,
                 last_epoch=-1):
        self._check_args(start_factor=start_factor, end_factor=end_factor,
                         total_iters=total_iters)
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        a, b, T = self.start_factor, self.end_factor, self.total_iters
        return [lr0 * (a + (b - a) * min(T, self.last_epoch) / T) for lr0 in self.base_lrs]


class InverseTimeLR(LRScheduler):
    """Time-based decay: lr_t = lr_0 / (1 + k · t / s), with k = ``decay_rate`` and
    s = ``decay_steps``.

    REFERENCE.md's lr_t = lr_0 / (1 + k·t) is the case s = 1; s stretches the
    time axis (the rate halves at t = s/k). Not in PyTorch; Keras calls it
    InverseTimeDecay. Errors: ValueError if decay_rate < 0 or decay_steps <= 0.
    """

    _hyper_parameters = ("decay_rate", "decay_steps")
    _rules = {"decay_rate": _real(lambda k: k >= 0, ">= 0"),
              "decay_steps": _real(lambda s: s > 0, "> 0")}

    def __init__(self, optimizer, decay_rate, decay_steps=1, last_epoch=-1):
        self._check_args(decay_rate=decay_rate, decay_steps=decay_steps)
        self.decay_rate = decay_rate
        self.decay_steps = decay_steps
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        k, s = self.decay_rate, self.decay_steps
        return [lr0 / (1 + k * self.last_epoch / s) for lr0 in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from lr_0 down to η_min over T steps:

        lr_t = η_min + (lr_0 − η_min) · (1 + cos(π · t / T)) / 2

    with T = ``T_max`` and η_min = ``eta_min``: PyTorch's closed form. Past t = T
    the cosine keeps going, so the rate climbs back to lr_0 at t = 2T and cycles
    with period 2T (as PyTorch's). For a warm restart make a new scheduler: from its
    first step() the rates follow the cosine from lr_0 again.
    Errors: ValueError if T_max is not an integer >= 1 or eta_min < 0.
    """

    _hyper_parameters = ("T_max", "eta_min")
    _rules = {"T_max": _integer(1), "eta_min": _real(lambda e: e >= 0, ">= 0")}

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self._check_args(T_max=T_max, eta_min=eta_min)
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        cosine = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (lr0 - self.eta_min) * cosine for lr0 in self.base_lrs]


class LambdaLR(LRScheduler):
    """Any factor: lr_t = lr_0 · λ(t), with λ = ``lr_lambda``.

    ``lr_lambda`` is a function of t, or a list of them, one per param group.
    ``state_dict()`` does not save plain functions (a lambda cannot be pickled):
    their slots hold None, and a callable object's slot holds a copy of its
    ``__dict__`` (as PyTorch). Errors: TypeError if a λ is not callable;
    ValueError if the list's length differs from the number of param groups.
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        _check_optimizer("LambdaLR", optimizer)
        n_groups = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n_groups:
                raise ValueError(f"LambdaLR: expected {n_groups} lr_lambdas (one per param "
                                 f"group), got {len(lr_lambda)}")
            lr_lambdas = list(lr_lambda)
        else:
            lr_lambdas = [lr_lambda] * n_groups
        for fn in lr_lambdas:
            if not callable(fn):
                raise TypeError(f"LambdaLR: lr_lambda must be callable, got {type(fn).__name__}")
        self.lr_lambdas = lr_lambdas
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [lr0 * fn(self.last_epoch) for fn, lr0 in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self):
        state = copy.deepcopy({k: v for k, v in self.__dict__.items()
                               if k not in ("optimizer", "lr_lambdas")})
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType)
                               or not hasattr(fn, "__dict__")
                               else copy.deepcopy(fn.__dict__) for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict):
        """Restore the counters, as :meth:`LRScheduler.load_state_dict`; a saved
        callable object's attributes go back into the matching λ of this scheduler
        (plain functions and built-ins are kept as given)."""
        self._check_state(state_dict)
        self.__dict__.update(copy.deepcopy(
            {k: v for k, v in state_dict.items() if k != "lr_lambdas"}))
        for fn, saved in zip(self.lr_lambdas, state_dict["lr_lambdas"]):
            if saved is not None and hasattr(fn, "__dict__"):
                fn.__dict__.update(copy.deepcopy(saved))

    def _state_rules(self):
        n = len(self.lr_lambdas)
        return {**super()._state_rules(),
                "lr_lambdas": ((lambda v: isinstance(v, list) and len(v) == n
                                and all(x is None or isinstance(x, dict) for x in v)),
                               f"a list of {n} entries (None or a dict of attributes)")}

    def __repr__(self):
        names = [getattr(fn, "__name__", type(fn).__name__) for fn in self.lr_lambdas]
        return (f"LambdaLR({type(self.optimizer).__name__}, lr_lambdas={names}, "
                f"last_epoch={self.last_epoch}, last_lr={self._last_lr})")


class ReduceLROnPlateau(LRScheduler):
    """Cut the rate when a monitored metric stops improving: ``step(metric)``.

    PyTorch's rule. In mode "min" a metric m improves on the best so far when
    m < best·(1 − θ) (threshold_mode "rel") or m < best − θ ("abs"), θ = ``threshold``;
    mode "max" mirrors it (m > best·(1 + θ), m > best + θ). Each call:

        improved:    best ← m, bad ← 0;     otherwise  bad ← bad + 1
        in cooldown: cooldown ← cooldown − 1, bad ← 0   (bad epochs are ignored)
        bad > patience:  for each group  new = max(lr · factor, min_lr);
                         lr ← new only if lr − new > eps;
                         cooldown ← ``cooldown``, bad ← 0

    So the rate is cut on the (patience + 1)-th call in a row without improvement.
    ``min_lr`` is a number (also used for groups added later) or a list with one
    per group (then adding a group makes the next cut a RuntimeError). Unlike the other
    schedulers this keeps no closed form: the rate lives in the optimizer, and
    construction does not change it. ``metric`` may be a number or a one-element
    Tensor. Errors: ValueError for factor outside [0, 1), an unknown mode or
    threshold_mode, negative patience, cooldown, threshold, min_lr or eps, or a
    min_lr list of the wrong length.
    """

    _hyper_parameters = ("mode", "factor", "patience", "threshold", "threshold_mode",
                         "cooldown", "min_lrs", "eps")
    _rules = {"mode": ((lambda m: m in ("min", "max")), "'min' or 'max'"),
              "threshold_mode": ((lambda m: m in ("rel", "abs")), "'rel' or 'abs'"),
              "factor": _real(lambda f: 0 <= f < 1, "in [0, 1) (new lr = lr * factor)"),
              "patience": _integer(0), "cooldown": _integer(0),
              "threshold": _real(lambda x: x >= 0, ">= 0"),
              "eps": _real(lambda x: x >= 0, ">= 0")}

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):
        name = "ReduceLROnPlateau"
        _check_optimizer(name, optimizer)
        self._check_args(mode=mode, threshold_mode=threshold_mode, factor=factor,
                         patience=patience, cooldown=cooldown, threshold=threshold, eps=eps)
        n_groups = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n_groups:
                raise ValueError(f"{name}: expected {n_groups} min_lrs (one per param group), "
                                 f"got {len(min_lr)}")
            min_lrs, default_min_lr = list(min_lr), None
        else:
            min_lrs, default_min_lr = [min_lr] * n_groups, min_lr
        for value in min_lrs:
            _check(name, "min_lr", value, lambda x: x >= 0, ">= 0")

        self.optimizer = optimizer
        self.mode = mode
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.cooldown = cooldown
        self.min_lrs = min_lrs
        self.default_min_lr = default_min_lr  # for groups added later (None: min_lr was a list)
        self.eps = eps
        self.last_epoch = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def is_better(self, metric, best):
        """Whether ``metric`` beats ``best`` by more than the threshold."""
        if self.mode == "min":
            return metric < (best * (1 - self.threshold) if self.threshold_mode == "rel"
                             else best - self.threshold)
        return metric > (best * (1 + self.threshold) if self.threshold_mode == "rel"
                         else best + self.threshold)

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def step(self, metric):
        """Record one value of the monitored metric and cut the rates if it has
        not improved for more than ``patience`` calls (see the class docstring)."""
        current = float(metric)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce_lr(self):
        n_groups = len(self.optimizer.param_groups)
        if len(self.min_lrs) != n_groups and self.default_min_lr is not None:
            self.min_lrs = [self.default_min_lr] * n_groups
        elif len(self.min_lrs) != n_groups:
            raise RuntimeError(
                f"ReduceLROnPlateau: the optimizer has {len(self.optimizer.param_groups)} "
                f"param groups but min_lrs has {len(self.min_lrs)} (a group was added after "
                f"the scheduler was made; set min_lrs to one value per group)")
        for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:  # skip cuts too small to matter
                group["lr"] = new_lr

    def get_lr(self):
        raise NotImplementedError("ReduceLROnPlateau has no closed form; use get_last_lr()")

    def _state_rules(self):
        count = _integer(0)
        return {"last_epoch": count, "num_bad_epochs": count, "cooldown_counter": count,
                "_last_lr": _RATES, "min_lrs": _RATES,
                "best": _real(lambda b: not math.isnan(b), "a number (not NaN)"),
                "default_min_lr": ((lambda v: v is None or (_is_real(v) and v >= 0)),
                                   "None or a rate >= 0")}

