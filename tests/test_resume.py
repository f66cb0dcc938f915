"""Resuming: the random generators', the DataLoader's and the schedulers' states, each
restored in every order, and a training run killed and resumed in a fresh process
that ends bitwise equal to one never stopped."""

import copy
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim
from minigrad.data import DataLoader, TensorDataset
from minigrad.optim import lr_scheduler

EXAMPLE = pathlib.Path(__file__).resolve().parent.parent / "examples" / "checkpoint.py"


# ---- the random generator ------------------------------------------------------------

def draws():
    """One of each kind of draw minigrad makes from its generator."""
    layer = nn.Linear(3, 2)
    x = mg.ones(4, 5)
    mask = nn.functional.dropout(x, 0.5).numpy()
    order = DataLoader(TensorDataset(np.zeros((6, 1))), batch_size=6, shuffle=True)
    return [mg.randn(3).numpy(), mg.rand(2).numpy(), layer.weight.detach().numpy(), mask,
            next(iter(order))[0].numpy()]


def test_rng_state_restores_every_kind_of_draw():
    mg.manual_seed(5)
    mg.randn(3)                       # somewhere inside the stream, not at its start
    mg.random.generator().random(dtype=np.float32)   # leaves a cached half-draw behind
    state = mg.get_rng_state()
    assert state.dtype == mg.uint8 and state.shape == (mg.random.STATE_BYTES,)
    first = draws()
    mg.manual_seed(99)                # elsewhere entirely
    mg.set_rng_state(state)
    for a, b in zip(first, draws(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("bad, error", [
    (mg.zeros(mg.random.STATE_BYTES), TypeError),                  # float32, not bytes
    (np.zeros(mg.random.STATE_BYTES - 1, np.uint8), ValueError),   # too short
    (np.zeros(mg.random.STATE_BYTES, np.uint8), ValueError),       # even increment
    ([0] * mg.random.STATE_BYTES, TypeError),
])
def test_a_bad_rng_state_is_refused_with_the_generator_unchanged(bad, error):
    mg.manual_seed(1)
    expected = np.random.default_rng(1).standard_normal(3).astype(np.float32)
    with pytest.raises(error, match="set_rng_state"):
        mg.set_rng_state(bad)
    np.testing.assert_array_equal(mg.randn(3).numpy(), expected)


def test_the_gpu_dropout_state_restores_its_masks():
    mg.manual_seed(0)
    assert mg.cuda.get_rng_state().shape == (0,)    # made from the CPU generator on first use
    x = mg.ones(4, 8, device="cuda")

    def mask():
        return nn.functional.dropout(x, 0.5).numpy()

    mask()
    state = mg.cuda.get_rng_state()
    assert state.dtype == mg.uint8 and state.numel() > 0
    later = [mask(), mask()]
    mg.cuda.set_rng_state(state)
    np.testing.assert_array_equal(mask(), later[0])
    np.testing.assert_array_equal(mask(), later[1])
    assert not np.array_equal(later[0], later[1])

    with pytest.raises(ValueError, match="cuda.set_rng_state|set_rng_state"):
        mg.cuda.set_rng_state(np.zeros(16, np.uint8))
    np.testing.assert_array_equal(mg.cuda.get_rng_state().numpy(), mg.cuda.get_rng_state().numpy())

    # An empty state: the next mask is made from the CPU generator again, as after seeding.
    mg.manual_seed(0)
    first = mask()
    mg.manual_seed(0)
    mask()
    mg.cuda.set_rng_state(np.zeros(0, np.uint8))
    mg.manual_seed(0)
    np.testing.assert_array_equal(mask(), first)


# ---- the DataLoader --------------------------------------------------------------------

X = np.arange(22, dtype=np.float32)[:, None]


def batches(loader, epochs):
    return [xb.numpy().ravel().tolist() for _ in range(epochs) for (xb,) in loader]


LOADERS = {
    "seeded": lambda: DataLoader(TensorDataset(X), batch_size=4, shuffle=True, seed=3),
    "unseeded": lambda: DataLoader(TensorDataset(X), batch_size=4, shuffle=True),
    "drop_last": lambda: DataLoader(TensorDataset(X), batch_size=4, shuffle=True, seed=3,
                                    drop_last=True),
    "in order": lambda: DataLoader(TensorDataset(X), batch_size=4),
    "collated": lambda: DataLoader([(np.float32(v),) for v in range(22)], batch_size=5,
                                   shuffle=True, seed=2),
}


@pytest.mark.parametrize("kind", LOADERS)
@pytest.mark.parametrize("stop", [0, 1, 5, 6, 7, 13])
def test_a_loader_resumed_from_its_state_yields_the_batches_of_one_never_stopped(
        kind, stop, tmp_path):
    mg.manual_seed(4)
    whole = batches(LOADERS[kind](), 3)

    mg.manual_seed(4)
    loader = LOADERS[kind]()
    seen, it = [], iter(loader)
    while len(seen) < stop:          # `stop` batches handed out, over epoch boundaries
        try:
            seen.append(next(it)[0].numpy().ravel().tolist())
        except StopIteration:
            it = iter(loader)
    path = tmp_path / "state.mg"
    mg.save({"loader": loader.state_dict(), "rng": mg.get_rng_state()}, path)
    epochs_begun = -(-len(seen) // len(loader)) if seen else 0

    mg.manual_seed(123)              # a fresh start, then the saved state
    resumed = LOADERS[kind]()
    state = mg.load(path)
    resumed.load_state_dict(state["loader"])
    mg.set_rng_state(state["rng"])
    rest = [xb.numpy().ravel().tolist() for (xb,) in resumed]      # the interrupted epoch
    rest += batches(resumed, 3 - max(epochs_begun, 1))
    assert seen + rest == whole


def test_a_loader_state_after_its_last_batch_resumes_into_the_next_epoch():
    whole = batches(LOADERS["seeded"](), 2)
    loader = LOADERS["seeded"]()
    it = iter(loader)
    for _ in range(len(loader)):     # every batch handed out, the loop not yet ended
        next(it)
    assert loader.state_dict()["position"] == len(loader)
    resumed = LOADERS["seeded"]()
    resumed.load_state_dict(loader.state_dict())
    assert list(resumed) == []       # nothing left of that epoch
    assert batches(resumed, 1) == whole[len(loader):]


LOADER_ERRORS = [
    ([], TypeError, "expected a dict"),
    ({"position": 0}, ValueError, "keys"),
    (dict(generator=None, order=None, position=0), ValueError, "without a seed"),
    (dict(generator=np.zeros(3, np.uint8), order=None, position=0), ValueError, "bytes"),
    (dict(generator=np.zeros(37, np.float32), order=None, position=0), TypeError, "uint8"),
    (dict(generator="G", order=np.arange(21), position=0), ValueError, "permutation"),
    (dict(generator="G", order=np.zeros(22, np.int64), position=0), ValueError, "permutation"),
    (dict(generator="G", order=np.arange(22.0), position=0), ValueError, "permutation"),
    (dict(generator="G", order=np.arange(22), position=7), ValueError, "position"),
    (dict(generator="G", order=np.arange(22), position=-1), ValueError, "position"),
    (dict(generator="G", order=None, position=2), ValueError, "order"),
]


@pytest.mark.parametrize("bad, error, message", LOADER_ERRORS,
                         ids=[m for _, _, m in LOADER_ERRORS])
def test_a_bad_loader_state_is_refused_with_nothing_changed(bad, error, message):
    whole = batches(LOADERS["seeded"](), 2)
    loader = LOADERS["seeded"]()
    it = iter(loader)
    seen = [next(it)[0].numpy().ravel().tolist() for _ in range(2)]
    if isinstance(bad, dict) and isinstance(bad.get("generator"), str):
        bad = dict(bad, generator=loader.state_dict()["generator"])
    with pytest.raises(error, match=message):
        loader.load_state_dict(bad)
    seen += [xb.numpy().ravel().tolist() for (xb,) in it]   # the running epoch goes on
    assert seen + batches(loader, 1) == whole


# ---- schedulers: every order of loading ------------------------------------------------

SCHEDULERS = {
    "StepLR": lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
    "ExponentialLR": lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9),
    "LinearLR-warmup": lambda o: lr_scheduler.LinearLR(o, start_factor=0.25, total_iters=8),
    "LinearLR-decay": lambda o: lr_scheduler.LinearLR(o, start_factor=1.0, end_factor=0.1,
                                                      total_iters=8),
    "InverseTimeLR": lambda o: lr_scheduler.InverseTimeLR(o, decay_rate=0.5),
    "CosineAnnealingLR": lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
    "LambdaLR": lambda o: lr_scheduler.LambdaLR(o, lambda t: 1 / (1 + t)),
}


def make_run():
    mg.manual_seed(0)
    model = nn.Linear(3, 1)
    return model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def train_epoch(model, opt):
    x = mg.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))
    for _ in range(2):
        opt.zero_grad()
        ((model(x) - 1.0) ** 2).mean().backward()
        opt.step()


def resume(order, make_sched, saved):
    """A fresh run that loads ``saved`` in ``order``; returns it."""
    model, opt = make_run()
    model.load_state_dict(saved["model"])
    if order == "optimizer, then make the scheduler, then load it":
        opt.load_state_dict(saved["optimizer"])
        sched = make_sched(opt)
        sched.load_state_dict(saved["scheduler"])
    elif order == "make the scheduler, load the optimizer, then the scheduler":
        sched = make_sched(opt)
        opt.load_state_dict(saved["optimizer"])
        sched.load_state_dict(saved["scheduler"])
    else:
        sched = make_sched(opt)
        sched.load_state_dict(saved["scheduler"])
        opt.load_state_dict(saved["optimizer"])
    return model, opt, sched


ORDERS = ["optimizer, then make the scheduler, then load it",
          "make the scheduler, load the optimizer, then the scheduler",
          "make the scheduler, load it, then the optimizer"]


# A warm-up's first rate is not lr_0 (f(0) = start_factor), so making it after the
# optimizer's state is loaded sets that first rate, as PyTorch's LinearLR does: that
# order is not one PyTorch resumes in, and the docstring says to make it first.
RESUMABLE = [(name, order) for name in SCHEDULERS for order in ORDERS
             if (name, order) != ("LinearLR-warmup", ORDERS[0])]


@pytest.mark.parametrize("name, order", RESUMABLE)
def test_training_resumes_bitwise_in_every_order_of_loading(name, order):
    make_sched = SCHEDULERS[name]
    model, opt = make_run()
    sched = make_sched(opt)
    saved = None
    for epoch in range(8):
        if epoch == 5:
            saved = copy.deepcopy({"model": model.state_dict(), "optimizer": opt.state_dict(),
                                   "scheduler": sched.state_dict()})
        train_epoch(model, opt)
        sched.step()
    straight = (model.state_dict(), opt.param_groups[0]["lr"])

    model, opt, sched = resume(order, make_sched, saved)
    assert opt.param_groups[0]["lr"] == saved["optimizer"]["param_groups"][0]["lr"]
    for epoch in range(5, 8):
        train_epoch(model, opt)
        sched.step()
    assert opt.param_groups[0]["lr"] == straight[1]
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, straight[0][key])


def test_plateau_resumes_in_every_order():
    metrics = [3.0, 2.0, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0]

    def make_sched(o):
        return lr_scheduler.ReduceLROnPlateau(o, patience=1, factor=0.5)

    def run(order=None):
        model, opt = make_run()
        sched = make_sched(opt)
        lrs = []
        for t, m in enumerate(metrics):
            if order is not None and t == 5:
                saved = {"model": model.state_dict(), "optimizer": opt.state_dict(),
                         "scheduler": sched.state_dict()}
                model, opt, sched = resume(order, make_sched, copy.deepcopy(saved))
            sched.step(m)
            lrs.append(opt.param_groups[0]["lr"])
        return lrs

    straight = run()
    assert straight[4] < 0.1                  # the rate was cut before the save
    for order in ORDERS:
        assert run(order) == straight


def scheduler_errors():
    n = 1   # make_run's optimizer has one param group
    good = SCHEDULERS["StepLR"](make_run()[1]).state_dict()
    return [
        ([1, 2], TypeError, "expected a dict"),
        ({k: v for k, v in good.items() if k != "last_epoch"}, ValueError, "missing keys"),
        (lr_scheduler.ExponentialLR(make_run()[1], gamma=0.5).state_dict(), ValueError,
         "missing keys.*step_size"),
        (dict(good, gamma=-1.0), ValueError, "gamma must be > 0"),
        (dict(good, step_size=2.5), ValueError, "step_size must be an integer"),
        (dict(good, last_epoch=-3), ValueError, "last_epoch"),
        (dict(good, base_lrs=[-0.1] * n), ValueError, "base_lrs must be a list of rates"),
        (dict(good, _last_lr=["0.1"]), ValueError, "_last_lr"),
    ]


@pytest.mark.parametrize("case", range(len(scheduler_errors())))
def test_a_bad_scheduler_state_is_refused_with_nothing_changed(case):
    bad, error, message = scheduler_errors()[case]
    model, opt = make_run()
    sched = SCHEDULERS["StepLR"](opt)
    for _ in range(4):
        sched.step()
    before, lrs = sched.state_dict(), [g["lr"] for g in opt.param_groups]
    with pytest.raises(error, match=message):
        sched.load_state_dict(bad)
    assert sched.state_dict() == before and [g["lr"] for g in opt.param_groups] == lrs


def test_a_bad_plateau_or_lambda_state_is_refused():
    opt = make_run()[1]
    plateau = lr_scheduler.ReduceLROnPlateau(opt)
    good = plateau.state_dict()
    for bad, message in [(dict(good, mode="maximum"), "mode must be 'min' or 'max'"),
                         (dict(good, factor=1.5), "factor"),
                         (dict(good, best=float("nan")), "best"),
                         (dict(good, num_bad_epochs=-1), "num_bad_epochs")]:
        with pytest.raises(ValueError, match=message):
            plateau.load_state_dict(bad)
        assert plateau.state_dict() == good
    lam = lr_scheduler.LambdaLR(opt, lambda t: 1.0)
    with pytest.raises(ValueError, match="lr_lambdas"):
        lam.load_state_dict(dict(lam.state_dict(), lr_lambdas=[None, None]))


def test_a_plateau_state_saved_after_a_group_was_added_loads():
    def make():
        model = nn.Linear(2, 1)
        opt = optim.SGD(model.parameters(), lr=0.1)
        sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0)
        opt.add_param_group({"params": [nn.Parameter(np.zeros(2))], "lr": 0.05})
        return opt, sched

    opt, sched = make()
    for m in (3.0, 2.0, 1.0):          # improving: no cut, so min_lrs keeps one entry
        sched.step(m)
    saved = copy.deepcopy(sched.state_dict())
    opt2, sched2 = make()
    opt2.load_state_dict(opt.state_dict())
    sched2.load_state_dict(saved)
    sched.step(5.0)
    sched2.step(5.0)                   # a cut now reaches both groups in both
    assert [g["lr"] for g in opt2.param_groups] == [g["lr"] for g in opt.param_groups] \
        == [pytest.approx(0.01), pytest.approx(0.005)]


def test_two_schedulers_switched_by_epoch_resume_in_any_order():
    # warm-up for 3 epochs, then cosine: the optimizer's saved rate is the one in
    # force, whichever scheduler is loaded last (loading never touches the rates)
    def make():
        model, opt = make_run()
        return model, opt, (lr_scheduler.LinearLR(opt, start_factor=0.25, total_iters=3),
                            lr_scheduler.CosineAnnealingLR(opt, T_max=10))

    def epoch_step(scheds, epoch):
        scheds[0 if epoch < 3 else 1].step()

    model, opt, scheds = make()
    saved = None
    for epoch in range(9):
        if epoch == 6:
            saved = copy.deepcopy({"model": model.state_dict(), "optimizer": opt.state_dict(),
                                   "warm": scheds[0].state_dict(), "cos": scheds[1].state_dict()})
        train_epoch(model, opt)
        epoch_step(scheds, epoch)
    for first, second in (("warm", "cos"), ("cos", "warm")):
        model2, opt2, scheds2 = make()      # made first, then every state loaded
        named = {"warm": scheds2[0], "cos": scheds2[1]}
        model2.load_state_dict(saved["model"])
        opt2.load_state_dict(saved["optimizer"])
        named[first].load_state_dict(saved[first])
        named[second].load_state_dict(saved[second])
        for epoch in range(6, 9):
            train_epoch(model2, opt2)
            epoch_step(scheds2, epoch)
        assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
        for key, value in model2.state_dict().items():
            np.testing.assert_array_equal(value, model.state_dict()[key])


def test_a_lambda_of_a_builtin_saves_and_loads():
    import math
    opt = make_run()[1]
    sched = lr_scheduler.LambdaLR(opt, math.cos)
    sched.step()
    state = sched.state_dict()
    assert state["lr_lambdas"] == [None]
    other = lr_scheduler.LambdaLR(make_run()[1], math.cos)
    other.load_state_dict(state)
    assert other.last_epoch == 1


def test_a_loaded_loader_saves_the_same_state_before_it_is_iterated():
    loader = LOADERS["seeded"]()
    it = iter(loader)
    for _ in range(3):
        next(it)
    state = loader.state_dict()
    resumed = LOADERS["seeded"]()
    resumed.load_state_dict(state)
    again = resumed.state_dict()        # e.g. a checkpoint written before the first batch
    assert again["position"] == 3 and np.array_equal(again["order"], state["order"])
    assert np.array_equal(again["generator"], state["generator"])


def test_a_batch_that_fails_to_load_is_not_counted():
    class Flaky:
        fail = True

        def __len__(self):
            return 6

        def __getitem__(self, i):
            if i == 4 and Flaky.fail:
                raise OSError("read error")
            return (np.float32(i),)

    loader = DataLoader(Flaky(), batch_size=2)
    it = iter(loader)
    next(it)
    next(it)
    with pytest.raises(OSError):
        next(it)
    assert loader.state_dict()["position"] == 2   # the third batch was never handed out


def test_module_load_state_dict_refuses_what_is_not_a_mapping():
    model = nn.Linear(2, 1)
    with pytest.raises(TypeError, match="mapping"):
        model.load_state_dict([("weight", np.zeros((1, 2)))])


# ---- killed and resumed in a fresh process ---------------------------------------------

def run_example(*args):
    return subprocess.run([sys.executable, str(EXAMPLE), "--epochs", "3", *args],
                          capture_output=True, text=True, timeout=300)


def saved_bits(path):
    return {k: v.view(np.uint8) for k, v in mg.load(path).items()}


@pytest.mark.parametrize("save_every, kill_at", [(7, 110), (45, 95)])
def test_a_run_killed_and_resumed_ends_bitwise_equal_to_one_never_stopped(
        tmp_path, save_every, kill_at):
    # 45 steps per epoch: (7, 110) resumes from step 105, inside the third epoch
    # (where the rate has decayed), and redoes 5 steps; (45, 95) resumes from the end
    # of the second epoch (saved after its last batch, before the scheduler's step).
    straight, resumed, ck = tmp_path / "a.mg", tmp_path / "b.mg", tmp_path / "ck.mg"
    done = run_example("--out", straight)
    assert done.returncode == 0, done.stderr
    killed = run_example("--checkpoint", ck, "--save-every", str(save_every),
                         "--kill-at", str(kill_at))
    assert killed.returncode != 0 and f"step {kill_at}: killed" in killed.stdout
    assert not resumed.exists()
    again = run_example("--checkpoint", ck, "--save-every", str(save_every),
                        "--resume", "--out", resumed)
    assert again.returncode == 0, again.stderr
    last_save = kill_at - kill_at % save_every
    assert f"after step {last_save}" in again.stdout
    a, b = saved_bits(straight), saved_bits(resumed)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
