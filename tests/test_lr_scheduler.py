"""minigrad.optim.lr_scheduler: every rule against its formula, state dicts,
ReduceLROnPlateau's bookkeeping on hand-worked metric sequences, argument checks,
and (when PyTorch is installed) torch.optim.lr_scheduler on the same settings.

Notation as REFERENCE.md ("Learning-rate decay"): lr_0 is a group's rate when the
scheduler is made, t the number of step() calls, lr_t the rate after the t-th.
"""

import math
import pickle

import numpy as np
import pytest

import minigrad as mg
import minigrad.optim.lr_scheduler as lr_scheduler
from minigrad import nn, optim

LR0 = (0.1, 0.03)  # two param groups with different starting rates
STEPS = 30


def make_opt(lrs=LR0):
    groups = [{"params": [nn.Parameter(np.zeros(2))], "lr": lr} for lr in lrs]
    return optim.SGD(groups, lr=lrs[0])


def group_lrs(opt):
    return [g["lr"] for g in opt.param_groups]


def lr_table(opt, sched, steps):
    """Row t holds every group's lr_t, t = 0 (after construction) .. steps."""
    table = [group_lrs(opt)]
    for _ in range(steps):
        sched.step()
        table.append(group_lrs(opt))
    return table


def close(expected):
    # Both sides are the same formula, evaluated in a possibly different order.
    return pytest.approx(expected, rel=1e-13, abs=1e-16)


def warmup_then_decay(t):
    return min(1.0, (t + 1) / 5) * 0.9 ** t


# (name, scheduler factory, lr_t as a function of lr_0 and t)
SCHEDULES = [
    ("StepLR",
     lambda opt: lr_scheduler.StepLR(opt, step_size=7, gamma=0.5),
     lambda lr0, t: lr0 * 0.5 ** math.floor(t / 7)),
    ("ExponentialLR",
     lambda opt: lr_scheduler.ExponentialLR(opt, gamma=0.9),
     lambda lr0, t: lr0 * 0.9 ** t),
    ("LinearLR-warmup",
     lambda opt: lr_scheduler.LinearLR(opt, start_factor=0.25, end_factor=1.0, total_iters=8),
     lambda lr0, t: lr0 * (0.25 + 0.75 * min(t, 8) / 8)),
    ("LinearLR-decay",
     lambda opt: lr_scheduler.LinearLR(opt, start_factor=1.0, end_factor=0.1, total_iters=20),
     # lr_t = lr_0 − k·t with k = 0.9·lr_0/20, down to the floor 0.1·lr_0
     lambda lr0, t: max(lr0 - 0.9 * lr0 / 20 * t, 0.1 * lr0)),
    ("InverseTimeLR",
     lambda opt: lr_scheduler.InverseTimeLR(opt, decay_rate=0.5, decay_steps=3),
     lambda lr0, t: lr0 / (1 + 0.5 * t / 3)),
    ("CosineAnnealingLR",
     lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=12, eta_min=0.001),
     # past T_max = 12 the cosine climbs back (period 2·T_max), as PyTorch's closed form
     lambda lr0, t: 0.001 + (lr0 - 0.001) * (1 + math.cos(math.pi * t / 12)) / 2),
    ("LambdaLR",
     lambda opt: lr_scheduler.LambdaLR(opt, warmup_then_decay),
     lambda lr0, t: lr0 * min(1.0, (t + 1) / 5) * 0.9 ** t),
]
SCHEDULE_IDS = [name for name, _, _ in SCHEDULES]


@pytest.mark.parametrize("name, make, rule", SCHEDULES, ids=SCHEDULE_IDS)
def test_schedule_matches_closed_form_for_each_group(name, make, rule):
    opt = make_opt()
    sched = make(opt)
    assert [g["initial_lr"] for g in opt.param_groups] == list(LR0)
    table = lr_table(opt, sched, STEPS)
    for t, row in enumerate(table):
        assert row == close([rule(lr0, t) for lr0 in LR0]), f"t={t}"
    assert sched.last_epoch == STEPS
    assert sched.get_last_lr() == table[-1]


def test_hand_worked_values():
    # StepLR s=3, γ=0.1: 1, 1, 1, 0.1, 0.1, 0.1, 0.01
    opt = make_opt([1.0])
    table = lr_table(opt, lr_scheduler.StepLR(opt, 3, gamma=0.1), 6)
    assert [row[0] for row in table] == close([1, 1, 1, 0.1, 0.1, 0.1, 0.01])
    # LinearLR defaults (1/3 → 1 over 5 steps): 1/3, 7/15, 9/15, 11/15, 13/15, 1, 1
    opt = make_opt([1.0])
    table = lr_table(opt, lr_scheduler.LinearLR(opt), 6)
    assert [row[0] for row in table] == close([5 / 15, 7 / 15, 9 / 15, 11 / 15, 13 / 15, 1, 1])
    # time-based k = 0.5: 1, 1/1.5, 1/2, 1/2.5
    opt = make_opt([1.0])
    table = lr_table(opt, lr_scheduler.InverseTimeLR(opt, decay_rate=0.5), 3)
    assert [row[0] for row in table] == close([1, 1 / 1.5, 0.5, 0.4])
    # cosine T = 4, η_min = 0: 1, (1 + √½)/2, ½, (1 − √½)/2, 0, then back up
    opt = make_opt([1.0])
    table = lr_table(opt, lr_scheduler.CosineAnnealingLR(opt, T_max=4), 5)
    h = math.sqrt(0.5)
    assert [row[0] for row in table] == close([1, (1 + h) / 2, 0.5, (1 - h) / 2, 0, (1 - h) / 2])


def test_lambda_list_gives_each_group_its_own_factor():
    opt = make_opt()
    sched = lr_scheduler.LambdaLR(opt, [lambda t: 0.5 ** t, lambda t: 1.0 + t])
    for t, row in enumerate(lr_table(opt, sched, 10)):
        assert row == close([LR0[0] * 0.5 ** t, LR0[1] * (1.0 + t)])


def test_get_last_lr_is_a_copy_and_tracks_the_groups():
    opt = make_opt()
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    assert sched.get_last_lr() == list(LR0)
    sched.step()
    last = sched.get_last_lr()
    assert last == close([LR0[0] / 2, LR0[1] / 2]) and last == group_lrs(opt)
    last[0] = 123.0  # must not reach the scheduler
    assert sched.get_last_lr()[0] == close(LR0[0] / 2)


def test_existing_initial_lr_is_kept_as_pytorch():
    # setdefault: a group that already has "initial_lr" (an earlier scheduler, or a
    # loaded optimizer state) keeps it as lr_0. At t = 0 a rule with f(0) = 1 leaves
    # the current rate alone (PyTorch's ExponentialLR made here also leaves 0.25);
    # its first step is lr_0 · γ = 0.9 in closed form.
    opt = make_opt([1.0])
    first = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    first.step()
    first.step()
    assert group_lrs(opt) == [0.25]
    second = lr_scheduler.ExponentialLR(opt, gamma=0.9)
    assert second.base_lrs == [1.0] and group_lrs(opt) == [0.25]
    assert second.get_last_lr() == [0.25]
    second.step()
    assert group_lrs(opt) == [0.9]


def test_a_rule_that_starts_below_lr_0_sets_its_first_rate_as_pytorch():
    # LinearLR's f(0) = start_factor: made on a group at 0.25 with lr_0 = 1, the rate
    # becomes lr_0 · a = 0.5 (PyTorch's step-by-step form gives 0.25 · a instead)
    opt = make_opt([1.0])
    lr_scheduler.StepLR(opt, step_size=1, gamma=0.5).step()
    lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=4)
    assert group_lrs(opt) == [0.5]


def test_last_epoch_resumes_from_initial_lr():
    opt = make_opt()
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, step_size=4, last_epoch=9)
    for g in opt.param_groups:
        g["initial_lr"] = g["lr"]
        g["lr"] = 99.0
    sched = lr_scheduler.StepLR(opt, step_size=4, gamma=0.5, last_epoch=9)
    assert sched.last_epoch == 10
    assert group_lrs(opt) == close([lr0 * 0.5 ** 2 for lr0 in LR0])


# ---- state dicts ---------------------------------------------------------------------

@pytest.mark.parametrize("name, make, rule", SCHEDULES, ids=SCHEDULE_IDS)
def test_state_dict_round_trip_resumes_exactly(name, make, rule):
    opt = make_opt()
    sched = make(opt)
    uninterrupted = lr_table(opt, sched, 20)

    opt = make_opt()
    sched = make(opt)
    for _ in range(10):
        sched.step()
    state = pickle.loads(pickle.dumps(sched.state_dict()))  # must survive a save to disk
    assert "optimizer" not in state and state["last_epoch"] == 10

    fresh_opt = make_opt()
    fresh = make(fresh_opt)
    fresh.load_state_dict(state)
    assert fresh.last_epoch == 10 and fresh.get_last_lr() == uninterrupted[10]
    resumed = []
    for _ in range(10):
        fresh.step()
        resumed.append(group_lrs(fresh_opt))
    assert resumed == uninterrupted[11:]


def test_lambda_state_dict_skips_functions_keeps_callable_objects():
    class Decay:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, t):
            return self.rate ** t

    opt = make_opt()
    sched = lr_scheduler.LambdaLR(opt, [lambda t: 1.0, Decay(0.5)])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [None, {"rate": 0.5}]

    other = lr_scheduler.LambdaLR(make_opt(), [lambda t: 1.0, Decay(0.9)])
    other.load_state_dict(state)
    assert other.lr_lambdas[1].rate == 0.5
    assert callable(other.lr_lambdas[0])
    assert state["lr_lambdas"] == [None, {"rate": 0.5}]  # loading must not consume the dict


def test_plateau_state_dict_round_trip():
    metrics = [5, 4, 4, 4, 4, 3, 3, 3, 3, 3, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2, 2, 2, 2]

    def make(opt):
        return lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1)

    opt = make_opt()
    sched = make(opt)
    uninterrupted = []
    for m in metrics:
        sched.step(m)
        uninterrupted.append(group_lrs(opt))

    opt = make_opt()
    sched = make(opt)
    for m in metrics[:10]:
        sched.step(m)
    state = pickle.loads(pickle.dumps(sched.state_dict()))
    # The rates live in the optimizer (its own state dict carries them); stand in for it.
    fresh_opt = make_opt(sched.get_last_lr())
    fresh = make(fresh_opt)
    fresh.load_state_dict(state)
    assert (fresh.best, fresh.num_bad_epochs, fresh.cooldown_counter) == \
        (sched.best, sched.num_bad_epochs, sched.cooldown_counter)
    resumed = []
    for m in metrics[10:]:
        fresh.step(m)
        resumed.append(group_lrs(fresh_opt))
    assert resumed == uninterrupted[10:]


# ---- ReduceLROnPlateau ---------------------------------------------------------------

def plateau_lrs(sched, opt, metrics):
    out = []
    for m in metrics:
        sched.step(m)
        out.append(opt.param_groups[0]["lr"])
    return out


def test_plateau_min_rel_patience():
    opt = make_opt([1.0])
    sched = lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=2)
    assert group_lrs(opt) == [1.0]  # construction leaves the rate alone
    # threshold 1e-4 rel: m improves when m < best·0.9999
    metrics = [
        10,      # best inf → 10
        9,       # 9 < 9.999: best 9
        9,       # bad 1
        9,       # bad 2 (not > patience 2)
        9,       # bad 3 > 2: cut to 0.5, bad 0
        8,       # best 8
        7.9995,  # 7.9995 ≥ 8·0.9999 = 7.9992: too small a gain, bad 1
        7.9995,  # bad 2
        7.9995,  # bad 3: cut to 0.25
    ]
    assert plateau_lrs(sched, opt, metrics) == [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25]
    assert sched.best == 8 and sched.num_bad_epochs == 0


def test_plateau_cooldown_min_lr_abs_threshold():
    opt = make_opt([1.0])
    sched = lr_scheduler.ReduceLROnPlateau(
        opt, mode="min", factor=0.5, patience=1, threshold=0.5, threshold_mode="abs",
        cooldown=2, min_lr=0.3)
    # abs threshold 0.5: m improves when m < best − 0.5
    metrics = [
        5,    # best 5
        4.6,  # 4.6 ≥ 4.5: bad 1
        4.6,  # bad 2 > 1: cut 1 → 0.5, cooldown 2
        4.6,  # cooldown 2 → 1, bad reset to 0
        4.6,  # cooldown 1 → 0, bad 0
        4.6,  # bad 1
        4.6,  # bad 2: cut 0.5 → max(0.25, 0.3) = 0.3, cooldown 2
        4.6,  # cooldown
        4.6,  # cooldown
        4.6,  # bad 1
        4.6,  # bad 2: max(0.15, 0.3) = 0.3, 0.3 − 0.3 ≤ eps: unchanged, cooldown 2
        4.4,  # 4.4 < 4.5: best 4.4 (and cooldown 2 → 1)
    ]
    expected = [1, 1, 0.5, 0.5, 0.5, 0.5, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]
    assert plateau_lrs(sched, opt, metrics) == expected
    assert sched.best == 4.4 and sched.cooldown_counter == 1


def test_plateau_max_mode():
    opt = make_opt([1.0])
    sched = lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.1, patience=0)
    # an accuracy: m improves when m > best·1.0001; patience 0 cuts on the first miss
    metrics = [
        0.5,   # best −inf → 0.5
        0.6,   # best 0.6
        0.6,   # bad 1 > 0: cut to 0.1
        0.7,   # best 0.7
        0.65,  # cut to 0.01
        0.65,  # cut to 0.001
    ]
    assert plateau_lrs(sched, opt, metrics) == close([1, 1, 0.1, 0.1, 0.01, 0.001])


def test_plateau_max_abs_and_per_group_min_lr():
    opt = make_opt([1.0, 0.5])
    sched = lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=0,
                                           threshold=1.0, threshold_mode="abs",
                                           min_lr=[0.4, 0.0])
    # m improves when m > best + 1
    sched.step(10)   # best 10
    sched.step(10.5)  # not > 11: cut, group 0 to max(0.5, 0.4), group 1 to 0.25
    assert group_lrs(opt) == [0.5, 0.25]
    sched.step(10.9)  # cut: group 0 to max(0.25, 0.4) = 0.4, group 1 to 0.125
    assert group_lrs(opt) == [0.4, 0.125] and sched.get_last_lr() == [0.4, 0.125]
    sched.step(11.5)  # 11.5 > 11: best 11.5, no cut
    assert group_lrs(opt) == [0.4, 0.125] and sched.best == 11.5


def test_plateau_eps_skips_tiny_cuts_and_accepts_tensors():
    opt = make_opt([1e-8])
    sched = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0)
    sched.step(mg.tensor(1.0))
    sched.step(mg.tensor(2.0))  # a cut from 1e-8 to 5e-9 is below eps = 1e-8: skipped
    assert group_lrs(opt) == [1e-8] and sched.num_bad_epochs == 0


# ---- argument checks -----------------------------------------------------------------

BAD_ARGUMENTS = [
    (lambda o: lr_scheduler.StepLR(o, step_size=0), "step_size.*0"),
    (lambda o: lr_scheduler.StepLR(o, step_size=2, gamma=0), "gamma.*0"),
    (lambda o: lr_scheduler.ExponentialLR(o, gamma=-0.5), r"gamma.*-0\.5"),
    (lambda o: lr_scheduler.LinearLR(o, start_factor=0), "start_factor.*0"),
    (lambda o: lr_scheduler.LinearLR(o, start_factor=1.5), r"start_factor.*1\.5"),
    (lambda o: lr_scheduler.LinearLR(o, end_factor=1.2), r"end_factor.*1\.2"),
    (lambda o: lr_scheduler.LinearLR(o, total_iters=0), "total_iters.*0"),
    (lambda o: lr_scheduler.InverseTimeLR(o, decay_rate=-1), "decay_rate.*-1"),
    (lambda o: lr_scheduler.InverseTimeLR(o, decay_rate=1, decay_steps=0), "decay_steps.*0"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=0), "T_max.*0"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=5, eta_min=-1), "eta_min.*-1"),
    (lambda o: lr_scheduler.LambdaLR(o, [lambda t: 1.0]), "2 lr_lambdas.*1"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), r"factor.*1\.0"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="maximum"), "mode.*maximum"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, threshold_mode="pct"), "threshold_mode.*pct"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, patience=-1), "patience.*-1"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1]), "2 min_lrs.*1"),
]


@pytest.mark.parametrize("make, message", BAD_ARGUMENTS, ids=[m for _, m in BAD_ARGUMENTS])
def test_bad_arguments_raise_value_error_before_changing_the_optimizer(make, message):
    opt = make_opt()
    with pytest.raises(ValueError, match=message):
        make(opt)
    assert all("initial_lr" not in g for g in opt.param_groups)
    assert group_lrs(opt) == list(LR0)


@pytest.mark.parametrize("make", [
    lambda: lr_scheduler.StepLR(object(), step_size=1),
    lambda: lr_scheduler.LambdaLR([0.1], lambda t: 1.0),
    lambda: lr_scheduler.ReduceLROnPlateau(None),
])
def test_non_optimizer_raises_type_error(make):
    with pytest.raises(TypeError, match="not an Optimizer"):
        make()


def test_lambda_must_be_callable():
    with pytest.raises(TypeError, match="callable"):
        lr_scheduler.LambdaLR(make_opt(), 0.5)


# ---- the base class ------------------------------------------------------------------

def test_subclassing_the_base_under_either_name():
    class HalveEveryStep(lr_scheduler._LRScheduler):
        def get_lr(self):
            return [lr0 * 0.5 ** self.last_epoch for lr0 in self.base_lrs]

    assert issubclass(lr_scheduler._LRScheduler, lr_scheduler.LRScheduler)
    opt = make_opt()
    sched = HalveEveryStep(opt)
    sched.step()
    assert group_lrs(opt) == close([lr0 / 2 for lr0 in LR0])


def test_repr_names_the_rule_and_the_position():
    sched = lr_scheduler.StepLR(make_opt(), step_size=7, gamma=0.5)
    sched.step()
    text = repr(sched)
    for part in ("StepLR", "SGD", "step_size=7", "gamma=0.5", "last_epoch=1", "last_lr="):
        assert part in text
    assert "mode='max'" in repr(lr_scheduler.ReduceLROnPlateau(make_opt(), mode="max"))
    assert "warmup_then_decay" in repr(lr_scheduler.LambdaLR(make_opt(), warmup_then_decay))


# ---- against PyTorch -----------------------------------------------------------------

PLATEAU_METRICS = [5, 4, 4, 4, 4, 3.9999, 3, 3, 3, 3, 3, 3, 2, 2.5, 2.5, 2.5, 2.5, 2.5,
                   1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.5]

# (name, keyword arguments shared by both libraries)
TORCH_CASES = [
    ("StepLR", dict(step_size=7, gamma=0.5)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("LinearLR", dict(start_factor=0.25, end_factor=0.9, total_iters=8)),
    ("CosineAnnealingLR", dict(T_max=12, eta_min=0.001)),
    ("LambdaLR", dict(lr_lambda=warmup_then_decay)),
    ("ReduceLROnPlateau", dict(factor=0.5, patience=2, cooldown=1, min_lr=0.01)),
    ("ReduceLROnPlateau", dict(mode="max", factor=0.3, patience=1, threshold=0.5,
                               threshold_mode="abs")),
]


@pytest.mark.parametrize("name, kwargs", TORCH_CASES,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(TORCH_CASES)])
def test_matches_pytorch(name, kwargs):
    torch = pytest.importorskip("torch")
    weight = torch.zeros(1, requires_grad=True)
    bias = torch.zeros(1, requires_grad=True)
    torch_opt = torch.optim.SGD([{"params": [weight], "lr": LR0[0]},
                                 {"params": [bias], "lr": LR0[1]}], lr=LR0[0])
    torch_sched = getattr(torch.optim.lr_scheduler, name)(torch_opt, **kwargs)
    opt = make_opt()
    sched = getattr(lr_scheduler, name)(opt, **kwargs)

    metrics = PLATEAU_METRICS
    if kwargs.get("mode") == "max":
        metrics = [-m for m in metrics]
    assert sched.get_last_lr() == close(torch_sched.get_last_lr())
    for t in range(STEPS):
        torch_opt.step()  # no gradients, so a no-op; keeps PyTorch's call-order check quiet
        if name == "ReduceLROnPlateau":
            torch_sched.step(metrics[t])
            sched.step(metrics[t])
        else:
            torch_sched.step()
            sched.step()
        # PyTorch updates most rules step by step, so allow its rounding to build up
        assert sched.get_last_lr() == pytest.approx(torch_sched.get_last_lr(), rel=1e-10,
                                                    abs=1e-14), f"t={t + 1}"
