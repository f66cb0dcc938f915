"""minigrad.optim's adaptive optimizers (Adagrad, RMSprop, Adam, AdamW, Adadelta)
against their published rules, as PyTorch runs them.

The expected values come from the `*_reference` functions of optim_rules.py: each
rule written out in plain float64 NumPy in REFERENCE.md's notation, with PyTorch's
details (where ε enters, bias correction, weight decay) noted where they differ from
the textbook form. Most tests drive them with a loss whose gradient is known,
L(θ) = Σ c·θ², so ∇L = 2·c·θ. When PyTorch is installed, torch.optim is a second,
independent reference (test_matches_torch_optim).

Also here: the flat-buffer contract (a parameter's storage (.raw) and .grad are views into
the optimizer's buffers, and that must not show), the parallel kernel path, state
dicts and argument checking.
"""


import numpy as np
import pytest

from minigrad import kernels
import minigrad as mg
from minigrad import nn, optim
from optim_rules import (adadelta_reference, adagrad_reference, adam_reference,
                         adamw_reference, grad_sequence, rmsprop_reference)

# the module (minigrad.backend exports a `cpu` object that shadows its name)
import minigrad.backend.dispatch as dispatch

THETA0 = np.array([1.0, -2.0, 0.5, 3.0, -0.25])
C = np.array([0.5, 1.0, 2.0, 0.25, 4.0])
TIGHT = dict(rtol=1e-12, atol=1e-15)
FLOAT32 = dict(rtol=1e-5, atol=1e-5)  # absolute: θ is O(1) and some coordinates pass near 0


def quadratic_grad(theta):
    return 2 * C * theta


# Every optimizer and option combination: (class, reference, hyper-parameters).
CASES = {
    "adagrad_lr_decay": (optim.Adagrad, adagrad_reference, dict(lr=0.1, lr_decay=0.5)),
    "adagrad_weight_decay": (optim.Adagrad, adagrad_reference, dict(lr=0.1, weight_decay=0.2)),
    "adagrad_initial_accumulator": (optim.Adagrad, adagrad_reference,
                                    dict(lr=0.1, initial_accumulator_value=0.3)),
    "rmsprop_plain": (optim.RMSprop, rmsprop_reference, dict(lr=0.01)),
    "rmsprop_weight_decay": (optim.RMSprop, rmsprop_reference, dict(lr=0.01, weight_decay=0.1)),
    "rmsprop_momentum": (optim.RMSprop, rmsprop_reference, dict(lr=0.01, momentum=0.9)),
    "rmsprop_centered": (optim.RMSprop, rmsprop_reference, dict(lr=0.01, centered=True)),
    "rmsprop_centered_momentum": (optim.RMSprop, rmsprop_reference,
                                  dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True)),
    "adam_plain": (optim.Adam, adam_reference, dict(lr=0.1)),
    "adam_weight_decay": (optim.Adam, adam_reference, dict(lr=0.1, weight_decay=0.1)),
    "adam_amsgrad": (optim.Adam, adam_reference, dict(lr=0.3, betas=(0.8, 0.9), amsgrad=True)),
    "adamw_weight_decay": (optim.AdamW, adamw_reference, dict(lr=0.1, weight_decay=0.1)),
    "adamw_amsgrad": (optim.AdamW, adamw_reference,
                      dict(lr=0.3, betas=(0.8, 0.9), weight_decay=0.05, amsgrad=True)),
    "adadelta_plain": (optim.Adadelta, adadelta_reference, dict()),
    "adadelta_weight_decay": (optim.Adadelta, adadelta_reference, dict(weight_decay=0.1)),
    "adadelta_lr": (optim.Adadelta, adadelta_reference, dict(lr=0.5, rho=0.95)),
}

# One case per class with every option on, for the tests of the machinery around the rule.
FULL = {
    "Adagrad": (optim.Adagrad, adagrad_reference,
                dict(lr=0.1, lr_decay=0.1, weight_decay=0.05, initial_accumulator_value=0.1)),
    "RMSprop": (optim.RMSprop, rmsprop_reference,
                dict(lr=0.01, alpha=0.9, weight_decay=0.05, momentum=0.5, centered=True)),
    "Adam": (optim.Adam, adam_reference,
             dict(lr=0.1, betas=(0.8, 0.9), weight_decay=0.05, amsgrad=True)),
    "AdamW": (optim.AdamW, adamw_reference, dict(lr=0.1, weight_decay=0.05, amsgrad=True)),
    "Adadelta": (optim.Adadelta, adadelta_reference, dict(lr=0.5, rho=0.95, weight_decay=0.05)),
}
KERNEL = {optim.Adagrad: "adagrad_step", optim.RMSprop: "rmsprop_step",
          optim.Adam: "adam_step", optim.AdamW: "adam_step", optim.Adadelta: "adadelta_step"}

cases = pytest.mark.parametrize("case", list(CASES))
full_cases = pytest.mark.parametrize("name", list(FULL))


def quadratic_loss(p, c=C):
    return (mg.tensor(np.asarray(c, dtype=p.dtype)) * p ** 2).sum()


def run_minigrad(cls, steps, **hyper):
    p = nn.Parameter(THETA0.copy())
    opt = cls([p], **hyper)
    trajectory = []
    for _ in range(steps):
        opt.zero_grad()
        quadratic_loss(p).backward()
        opt.step()
        trajectory.append(p.detach().numpy().copy())
    return trajectory, opt, p


def value(p):
    return p.detach().numpy().copy()


def assert_state_matches(state, want, **tol):
    assert set(state) == set(want)
    assert state["step"] == want["step"]
    for name in want:
        if name != "step":
            np.testing.assert_allclose(state[name], want[name], err_msg=name, **tol)


# ---- each rule, step by step -------------------------------------------------------------


@cases
def test_rule_matches_reference_step_by_step(case):
    cls, reference, hyper = CASES[case]
    got, opt, p = run_minigrad(cls, 5, **hyper)
    want, want_state = reference(THETA0, quadratic_grad, 5, **hyper)
    for step, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, err_msg=f"step {step + 1}", **TIGHT)
    # buffers under PyTorch's names, with PyTorch's contents
    assert_state_matches(opt.state[p], want_state, **TIGHT)
    saved = opt.state_dict()["state"]
    assert list(saved) == [0]
    assert_state_matches(saved[0], want_state, **TIGHT)


@pytest.mark.parametrize("case", ["adam_amsgrad", "adamw_amsgrad"])
def test_amsgrad_cases_exercise_the_maximum(case):
    # A check on this file's inputs: v_t falls below its running maximum somewhere,
    # so amsgrad takes a different path from plain Adam.
    _, reference, hyper = CASES[case]
    _, state = reference(THETA0, quadratic_grad, 5, **hyper)
    assert np.any(state["max_exp_avg_sq"] > state["exp_avg_sq"])


def test_reference_reproduces_hand_computed_adam_first_step():
    # First Adam step: m̂_1 = g, v̂_1 = g², so θ moves by η·g/(|g| + ε) ≈ η·sign(g).
    traj, _ = adam_reference(np.array([1.0, -1.0]), lambda t: np.array([0.3, -4.0]), 1,
                             lr=0.1, eps=0.0)
    np.testing.assert_allclose(traj[0], [0.9, -0.9], rtol=1e-15)


def test_adadelta_reproduces_reference_md_square_averages():
    # REFERENCE.md: γ = 0.95, gradients 0.1, 0.2, 0.15 from E[g²]_0 = 0:
    # E[g²] = 0.0005, 0.002475, 0.00347625.
    p = nn.Parameter(np.array([1.0]))
    opt = optim.Adadelta([p], rho=0.95)
    for g, want in zip([0.1, 0.2, 0.15], [0.0005, 0.002475, 0.00347625]):
        p.grad = mg.tensor(np.array([g]))
        opt.step()
        np.testing.assert_allclose(opt.state[p]["square_avg"], [want], rtol=1e-12)


@pytest.mark.parametrize("eps, want_dx", [(1e-6, -0.020197), (0.0, -0.020101)])
def test_adadelta_reproduces_reference_md_single_update(eps, want_dx):
    # REFERENCE.md: g_t = 0.1, E[g²]_t = 0.002475, E[Δx²]_{t−1} = 0.0001, γ = 0.95:
    # Δx_t ≈ −0.020197 with ε = 1e−6 (rate sqrt(0.000101)/sqrt(0.002476) ≈ 0.20197),
    # ≈ −0.020101 with ε neglected. The saved E[g²]_{t−1} is the one that the step
    # turns into 0.002475: E[g²]_{t−1} = (0.002475 − (1 − γ)·g²) / γ.
    rho, g = 0.95, 0.1
    square_avg_before = (0.002475 - (1 - rho) * g * g) / rho
    p = nn.Parameter(np.array([1.0]))
    opt = optim.Adadelta([p], rho=rho, eps=eps)
    sd = opt.state_dict()
    sd["state"] = {0: {"step": 7, "square_avg": np.array([square_avg_before]),
                       "acc_delta": np.array([0.0001])}}
    opt.load_state_dict(sd)
    p.grad = mg.tensor(np.array([g]))
    opt.step()
    dx = value(p)[0] - 1.0
    np.testing.assert_allclose(dx, want_dx, rtol=1e-4)
    np.testing.assert_allclose(opt.state[p]["square_avg"], [0.002475], rtol=1e-12)
    np.testing.assert_allclose(opt.state[p]["acc_delta"], [rho * 0.0001 + (1 - rho) * dx * dx],
                               rtol=1e-12)
    assert opt.state[p]["step"] == 8


# ---- groups, skipped parameters, zero_grad -----------------------------------------------


@full_cases
def test_param_groups_use_their_own_hyperparameters(name):
    cls, reference, hyper = FULL[name]
    other = dict(lr=hyper["lr"] / 2, weight_decay=0.0)
    a, b = nn.Parameter(THETA0.copy()), nn.Parameter(THETA0.copy())
    opt = cls([{"params": [a]}, {"params": [b], **other}], **hyper)
    assert opt.param_groups[1]["lr"] == other["lr"]
    assert opt.param_groups[1]["weight_decay"] == 0.0
    for _ in range(4):
        opt.zero_grad()
        (quadratic_loss(a) + quadratic_loss(b)).backward()
        opt.step()
    want_a, _ = reference(THETA0, quadratic_grad, 4, **hyper)
    want_b, _ = reference(THETA0, quadratic_grad, 4, **{**hyper, **other})
    np.testing.assert_allclose(value(a), want_a[-1], **TIGHT)
    np.testing.assert_allclose(value(b), want_b[-1], **TIGHT)


@full_cases
def test_parameter_without_grad_is_skipped_and_later_takes_a_true_first_step(name):
    cls, reference, hyper = FULL[name]
    late, used, tail = (nn.Parameter(THETA0.copy()) for _ in range(3))
    opt = cls([late, used, tail], **hyper)
    for _ in range(3):
        opt.zero_grad()
        (quadratic_loss(used) + quadratic_loss(tail)).backward()
        opt.step()
    assert late.grad is None
    assert np.array_equal(value(late), THETA0)  # weight decay did not touch it either
    assert late not in opt.state
    assert sorted(opt.state_dict()["state"]) == [1, 2]

    for step in (1, 2):
        opt.zero_grad()
        (quadratic_loss(late) + quadratic_loss(used) + quadratic_loss(tail)).backward()
        opt.step()
        assert opt.state[late]["step"] == step
        want_late, want_state = reference(THETA0, quadratic_grad, step, **hyper)
        np.testing.assert_allclose(value(late), want_late[-1], **TIGHT)
        assert_state_matches(opt.state[late], want_state, **TIGHT)
    want, want_state = reference(THETA0, quadratic_grad, 5, **hyper)
    for p in (used, tail):
        np.testing.assert_allclose(value(p), want[-1], **TIGHT)
        assert_state_matches(opt.state[p], want_state, **TIGHT)


@pytest.mark.parametrize("set_to_none", [True, False])
@full_cases
def test_zero_grad(name, set_to_none):
    cls, _, hyper = FULL[name]
    a, b = nn.Parameter(np.ones(3)), nn.Parameter(np.ones((2, 2)))
    opt = cls([a, b], **hyper)
    ((a * 2).sum() + (b * 3).sum()).backward()
    opt.step()
    opt.zero_grad(set_to_none=set_to_none)
    for p in (a, b):
        if set_to_none:
            assert p.grad is None
        else:
            assert np.array_equal(p.grad.numpy(), np.zeros(p.shape))
    ((a * 5).sum() + (b * 7).sum()).backward()  # gradients start from zero again
    assert np.array_equal(a.grad.numpy(), np.full(3, 5.0))
    assert np.array_equal(b.grad.numpy(), np.full((2, 2), 7.0))


@full_cases
def test_float32_and_float64_parameters_in_one_group(name):
    cls, reference, hyper = FULL[name]
    p32 = nn.Parameter(THETA0.astype(np.float32))
    p64 = nn.Parameter(THETA0.copy())
    q32 = nn.Parameter(THETA0.astype(np.float32))
    opt = cls([p32, p64, q32], **hyper)
    for _ in range(5):
        opt.zero_grad()
        for p in (p32, p64, q32):  # one backward each: no cross-dtype arithmetic
            quadratic_loss(p).backward()
        opt.step()
    want, want_state = reference(THETA0, quadratic_grad, 5, **hyper)
    np.testing.assert_allclose(value(p64), want[-1], **TIGHT)
    assert_state_matches(opt.state[p64], want_state, **TIGHT)
    for p in (p32, q32):
        assert p.dtype == mg.float32
        assert all(v.dtype == np.float32 for k, v in opt.state[p].items() if k != "step")
        np.testing.assert_allclose(value(p), want[-1], **FLOAT32)
        assert_state_matches(opt.state[p], want_state, **FLOAT32)


# ---- the parallel kernel path ------------------------------------------------------------

# The library's threshold is millions of elements; the tests lower it so that the
# parallel path runs on small arrays.
PARALLEL_MIN = 4096


@pytest.fixture
def small_parallel_min(monkeypatch):
    monkeypatch.setattr(dispatch, "PARALLEL_MIN", PARALLEL_MIN)


def _run_large(cls, hyper, dtype, steps=3):
    rng = np.random.default_rng(5)
    n = 3 * PARALLEL_MIN + 5
    theta0 = rng.standard_normal(n).astype(dtype)
    c = rng.uniform(0.1, 2.0, n)
    small = nn.Parameter(theta0[:7].copy())
    big = nn.Parameter(theta0.copy())
    opt = cls([small, big], **hyper)
    for _ in range(steps):
        opt.zero_grad()
        (quadratic_loss(small, c[:7]) + quadratic_loss(big, c)).backward()
        opt.step()
    return big, opt.state[big], theta0, c


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@full_cases
def test_parallel_kernel_path_equals_serial(name, dtype, monkeypatch, small_parallel_min):
    cls, reference, hyper = FULL[name]
    kernel = KERNEL[cls]
    calls = {"parallel": 0}
    parallel = getattr(kernels.cpu, kernel + "_parallel")

    def spy(*args):
        calls["parallel"] += 1
        return parallel(*args)

    monkeypatch.setattr(kernels.cpu, kernel + "_parallel", spy)
    big, state, theta0, c = _run_large(cls, hyper, dtype)
    assert calls["parallel"] == 3

    monkeypatch.setattr(dispatch, "PARALLEL_MIN", 10 ** 12)
    big_serial, state_serial, _, _ = _run_large(cls, hyper, dtype)
    assert calls["parallel"] == 3  # the serial run did not use it

    # The same elementwise arithmetic, chunked: equal bit for bit.
    assert np.array_equal(value(big), value(big_serial))
    for k in state:
        assert np.array_equal(state[k], state_serial[k]), k
    if dtype == np.float64:
        want, _ = reference(theta0, lambda th: 2 * c * th, 3, **hyper)
        np.testing.assert_allclose(value(big), want[-1], **TIGHT)


# ---- the flat-buffer contract: views into the optimizer's buffers must not show ----------


class Quadratic(nn.Module):
    def __init__(self):
        super().__init__()
        self.theta = nn.Parameter(THETA0.copy())
        self.other = nn.Parameter(np.arange(6.0).reshape(2, 3))

    def forward(self):
        return quadratic_loss(self.theta) + (self.other ** 2).sum()


@full_cases
def test_parameters_keep_their_values_and_gradients_under_the_optimizer(name):
    cls, reference, hyper = FULL[name]
    model = Quadratic()
    f32 = nn.Parameter(np.array([1.5, -0.5], dtype=np.float32))
    opt = cls([model.theta, f32, model.other], **hyper)
    assert np.array_equal(value(model.theta), THETA0)
    assert np.array_equal(value(model.other), np.arange(6.0).reshape(2, 3))
    assert np.array_equal(value(f32), np.array([1.5, -0.5], dtype=np.float32))
    assert model.other.shape == (2, 3) and f32.dtype == mg.float32

    model().backward()
    np.testing.assert_allclose(model.theta.grad.numpy(), quadratic_grad(THETA0), **TIGHT)
    np.testing.assert_allclose(model.other.grad.numpy(), 2 * np.arange(6.0).reshape(2, 3), **TIGHT)
    assert f32.grad is None
    opt.step()
    opt.zero_grad()
    assert model.theta.grad is None and model.other.grad is None

    # a fresh tensor assigned by hand is the gradient the next step uses
    manual = np.array([0.3, -0.1, 2.0, 0.0, -1.0])
    model.theta.grad = mg.tensor(manual)
    opt.step()
    want, _ = reference(THETA0, grad_sequence([quadratic_grad(THETA0), manual]), 2, **hyper)
    np.testing.assert_allclose(value(model.theta), want[-1], **TIGHT)
    np.testing.assert_allclose(model.theta.grad.numpy(), manual, **TIGHT)


@full_cases
def test_module_load_state_dict_after_optimizer_creation_is_respected(name):
    cls, reference, hyper = FULL[name]
    model = Quadratic()
    opt = cls(model.parameters(), **hyper)
    new_theta = np.array([0.25, 0.5, -1.5, 2.0, 1.0])
    model.load_state_dict({"theta": new_theta, "other": np.zeros((2, 3))})
    assert np.array_equal(value(model.theta), new_theta)
    for _ in range(2):
        opt.zero_grad()
        model().backward()
        opt.step()
    want, _ = reference(new_theta, quadratic_grad, 2, **hyper)
    np.testing.assert_allclose(value(model.theta), want[-1], **TIGHT)


@full_cases
def test_assigning_new_data_of_the_same_dtype_is_respected(name):
    cls, reference, hyper = FULL[name]
    p = nn.Parameter(np.zeros(5))
    opt = cls([p], **hyper)
    p.data = mg.tensor(THETA0)
    quadratic_loss(p).backward()
    opt.step()
    want, _ = reference(THETA0, quadratic_grad, 1, **hyper)
    np.testing.assert_allclose(value(p), want[-1], **TIGHT)


@full_cases
def test_changing_dtype_after_creation_raises_at_step_before_any_update(name):
    cls, _, hyper = FULL[name]
    a, b = nn.Parameter(THETA0.copy()), nn.Parameter(THETA0.copy())
    opt = cls([{"params": [a]}, {"params": [b]}], **hyper)
    b.raw = b.raw.astype(np.float32)  # behind the optimizer's back (.data checks dtypes)
    a.grad = mg.tensor(np.ones(5))
    b.grad = mg.tensor(np.ones(5, dtype=np.float32))
    with pytest.raises(RuntimeError, match="create the optimizer after"):
        opt.step()
    assert np.array_equal(value(a), THETA0)  # errors before effects
    assert opt.state == {}


# ---- state dicts -------------------------------------------------------------------------

RNG = np.random.default_rng(0)
X = mg.tensor(RNG.standard_normal((32, 8)), dtype=mg.float32)
Y = mg.tensor(np.eye(4)[RNG.integers(0, 4, 32)], dtype=mg.float32)


def _model(seed):
    mg.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 4))


def _train(model, opt, steps):
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.mse_loss(model(X), Y).backward()
        opt.step()


def buffer_names(cls, hyper):
    """PyTorch's state names for each optimizer."""
    if cls is optim.Adagrad:
        return {"step", "sum"}
    if cls is optim.RMSprop:
        names = {"step", "square_avg"}
        if hyper.get("momentum", 0) > 0:
            names.add("momentum_buffer")
        if hyper.get("centered"):
            names.add("grad_avg")
        return names
    if cls in (optim.Adam, optim.AdamW):
        names = {"step", "exp_avg", "exp_avg_sq"}
        if hyper.get("amsgrad"):
            names.add("max_exp_avg_sq")
        return names
    assert cls is optim.Adadelta
    return {"step", "square_avg", "acc_delta"}


@cases
def test_resume_through_mg_save_and_load_is_bitwise(case, tmp_path):
    cls, _, hyper = CASES[case]
    straight = _model(0)
    _train(straight, cls(straight.parameters(), **hyper), 20)

    first = _model(0)
    opt_first = cls(first.parameters(), **hyper)
    _train(first, opt_first, 10)
    sd = opt_first.state_dict()
    assert sorted(sd["state"]) == [0, 1, 2, 3]
    for entry in sd["state"].values():
        assert set(entry) == buffer_names(cls, hyper)
        assert entry["step"] == 10
    mg.save({"model": first.state_dict(), "optimizer": sd}, tmp_path / "ckpt")

    ckpt = mg.load(tmp_path / "ckpt")
    resumed = _model(1)  # other weights and default hyper-parameters: all must come from the file
    opt_resumed = cls(resumed.parameters())
    resumed.load_state_dict(ckpt["model"])
    opt_resumed.load_state_dict(ckpt["optimizer"])
    for k, v in hyper.items():
        assert opt_resumed.param_groups[0][k] == v
    _train(resumed, opt_resumed, 10)
    for a, b in zip(straight.parameters(), resumed.parameters()):
        assert np.array_equal(value(a), value(b))
    assert all(s["step"] == 20 for s in opt_resumed.state.values())


@full_cases
def test_loading_a_state_dict_without_state_restarts_from_a_first_step(name):
    # After loading a never-stepped optimizer's dict, the old moments must not leak
    # into the next step: it is a first step, from fresh buffers.
    cls, reference, hyper = FULL[name]
    p = nn.Parameter(THETA0.copy())
    opt = cls([p], **hyper)
    for _ in range(3):
        opt.zero_grad()
        quadratic_loss(p).backward()
        opt.step()
    opt.load_state_dict(cls([nn.Parameter(THETA0.copy())], **hyper).state_dict())
    assert opt.state == {}
    start = value(p)
    opt.zero_grad()
    quadratic_loss(p).backward()
    opt.step()
    want, want_state = reference(start, quadratic_grad, 1, **hyper)
    np.testing.assert_allclose(value(p), want[-1], **TIGHT)
    assert_state_matches(opt.state[p], want_state, **TIGHT)


@full_cases
def test_state_dict_is_a_copy(name):
    cls, _, hyper = FULL[name]
    model = _model(0)
    opt = cls(model.parameters(), **hyper)
    _train(model, opt, 1)
    sd = opt.state_dict()
    kept = {i: {k: np.array(v, copy=True) for k, v in s.items() if k != "step"}
            for i, s in sd["state"].items()}
    _train(model, opt, 1)
    for i, s in sd["state"].items():
        assert s["step"] == 1
        for k, v in kept[i].items():
            assert np.array_equal(s[k], v)


# ---- arguments ---------------------------------------------------------------------------

DEFAULTS = {  # API.md's table
    optim.Adagrad: dict(lr=0.01, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                        eps=1e-10),
    optim.RMSprop: dict(lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                        centered=False),
    optim.Adam: dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False),
    optim.AdamW: dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False),
    optim.Adadelta: dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0),
}


@pytest.mark.parametrize("cls", list(DEFAULTS), ids=lambda c: c.__name__)
def test_defaults_are_api_md_table(cls):
    group = cls([nn.Parameter(np.ones(2))]).param_groups[0]
    assert {k: v for k, v in group.items() if k != "params"} == DEFAULTS[cls]


BAD = [
    (optim.Adagrad, dict(lr=-0.1), "lr"),
    (optim.Adagrad, dict(lr=float("nan")), "lr"),
    (optim.Adagrad, dict(lr_decay=-0.1), "lr_decay"),
    (optim.Adagrad, dict(weight_decay=-1e-4), "weight_decay"),
    (optim.Adagrad, dict(initial_accumulator_value=-0.1), "initial_accumulator_value"),
    (optim.Adagrad, dict(eps=-1e-10), "eps"),
    (optim.RMSprop, dict(lr=-0.1), "lr"),
    (optim.RMSprop, dict(alpha=-0.5), "alpha"),
    (optim.RMSprop, dict(eps=-1e-8), "eps"),
    (optim.RMSprop, dict(weight_decay=-1e-4), "weight_decay"),
    (optim.RMSprop, dict(momentum=-0.9), "momentum"),
    (optim.Adam, dict(lr=-1e-3), "lr"),
    (optim.Adam, dict(eps=-1e-8), "eps"),
    (optim.Adam, dict(eps=float("nan")), "eps"),
    (optim.Adam, dict(weight_decay=-1e-4), "weight_decay"),
    (optim.Adam, dict(betas=(1.0, 0.999)), "betas"),
    (optim.Adam, dict(betas=(-0.1, 0.999)), "betas"),
    (optim.Adam, dict(betas=(0.9, 1.0)), "betas"),
    (optim.Adam, dict(betas=(0.9, -0.5)), "betas"),
    (optim.Adam, dict(betas=(0.9, float("nan"))), "betas"),
    (optim.Adam, dict(betas=0.9), "betas"),
    (optim.Adam, dict(betas=(0.9,)), "betas"),
    (optim.Adam, dict(betas=(0.9, 0.99, 0.999)), "betas"),
    (optim.AdamW, dict(lr=-1e-3), "lr"),
    (optim.AdamW, dict(weight_decay=-1e-2), "weight_decay"),
    (optim.AdamW, dict(betas=(0.9, 1.5)), "betas"),
    (optim.Adadelta, dict(lr=-1.0), "lr"),
    (optim.Adadelta, dict(rho=1.0), "rho"),
    (optim.Adadelta, dict(rho=-0.1), "rho"),
    (optim.Adadelta, dict(eps=-1e-6), "eps"),
    (optim.Adadelta, dict(weight_decay=-1e-4), "weight_decay"),
]


@pytest.mark.parametrize("cls, kwargs, message", BAD,
                         ids=[f"{c.__name__}-{k}" for c, kw, _ in BAD for k in [next(iter(kw))]])
def test_bad_hyperparameters_raise_before_anything_changes(cls, kwargs, message):
    p = nn.Parameter(THETA0.copy())
    p.grad = mg.tensor(np.ones(5))
    data, grad = p.raw, p.grad
    with pytest.raises(ValueError, match=message):
        cls([p], **kwargs)
    with pytest.raises(ValueError, match=message):  # in a later group too
        cls([{"params": [nn.Parameter(np.ones(2))]}, {"params": [p], **kwargs}])
    assert p.raw is data and p.grad is grad  # not adopted into any optimizer's buffers
    assert np.array_equal(value(p), THETA0)
    assert np.array_equal(p.grad.numpy(), np.ones(5))


@pytest.mark.parametrize("cls", list(DEFAULTS), ids=lambda c: c.__name__)
def test_empty_and_duplicated_parameter_lists_are_rejected(cls):
    with pytest.raises(ValueError, match="empty"):
        cls([])
    with pytest.raises(ValueError, match="empty"):
        cls([{"params": []}])
    p, q = nn.Parameter(THETA0.copy()), nn.Parameter(np.ones(3))
    data = p.raw
    with pytest.raises(ValueError, match="more than once"):
        cls([p, q, p])
    with pytest.raises(ValueError, match="more than once"):
        cls([{"params": [p]}, {"params": [q, p]}])
    assert p.raw is data and np.array_equal(value(p), THETA0)


def test_invalid_state_dict_hyperparameters_are_rejected():
    p = nn.Parameter(THETA0.copy())
    opt = optim.Adam([p])
    sd = opt.state_dict()
    sd["param_groups"][0]["betas"] = (0.9, 1.0)
    with pytest.raises(ValueError, match="betas"):
        opt.load_state_dict(sd)
    assert opt.param_groups[0]["betas"] == (0.9, 0.999)


# ---- PyTorch as an independent reference -------------------------------------------------

TORCH_SHAPES = [(3,), (4, 5), (2, 3, 2), (PARALLEL_MIN + 37,)]


@cases
def test_matches_torch_optim(case, small_parallel_min):
    torch = pytest.importorskip("torch")
    cls, _, hyper = CASES[case]
    rng = np.random.default_rng(7)
    init = [rng.standard_normal(shape) for shape in TORCH_SHAPES]
    ours = [nn.Parameter(a.copy()) for a in init]
    theirs = [torch.nn.Parameter(torch.tensor(a.copy(), dtype=torch.float64)) for a in init]
    opt = cls(ours, **hyper)
    topt = getattr(torch.optim, cls.__name__)(theirs, **hyper)
    for k, v in opt.param_groups[0].items():
        if k != "params":
            assert topt.param_groups[0][k] == v, k

    for step in range(25):
        for k, (p, tp) in enumerate(zip(ours, theirs)):
            if k == 0 and step < 5:  # the first parameter has no gradient for 5 steps
                p.grad, tp.grad = None, None
                continue
            g = rng.standard_normal(p.shape)
            p.grad = mg.tensor(g)
            tp.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        topt.step()
        for k, (p, tp) in enumerate(zip(ours, theirs)):
            np.testing.assert_allclose(value(p), tp.detach().numpy(), rtol=1e-10, atol=1e-12,
                                       err_msg=f"parameter {k}, step {step + 1}")

    for p, tp in zip(ours, theirs):
        state, tstate = opt.state[p], topt.state[tp]
        assert set(state) == set(tstate)
        assert state["step"] == int(tstate["step"])
        for name in state:
            if name != "step":
                np.testing.assert_allclose(state[name], tstate[name].numpy(), rtol=1e-10,
                                           atol=1e-12, err_msg=name)


def test_a_gradient_of_the_wrong_shape_raises_before_any_update():
    a = nn.Parameter(np.ones(5))
    b = nn.Parameter(np.ones(3))
    opt = optim.Adam([b, a], lr=0.1)
    b.grad = mg.tensor(np.ones(3))
    a.grad = mg.tensor(np.ones(1))  # a broadcastable but wrong shape
    with pytest.raises(RuntimeError, match=r"shape \(5,\).*gradient of shape \(1,\)"):
        opt.step()
    np.testing.assert_array_equal(b.detach().numpy(), np.ones(3))
    assert opt.state == {}


def test_dense_layer_backward_writes_into_the_flat_gradient_buffer_and_shared_weights_add_up():
    mg.manual_seed(0)
    lin = nn.Linear(3, 3, bias=True, dtype=mg.float64)
    opt = optim.SGD(lin.parameters(), lr=0.1)
    x = mg.tensor(np.random.default_rng(0).standard_normal((2, 3)))
    lin(lin(x)).sum().backward()  # the same weight and bias in two nodes
    flat = opt._group_buckets[0][0].grad
    assert np.shares_memory(lin.weight.grad.raw, flat)
    # reference: L = Σ (X Wᵀ + b) Wᵀ + b, by hand: with G = 1 (2×3), H = X Wᵀ + b,
    # ∂L/∂W = Gᵀ H + (G W)ᵀ X,  ∂L/∂b = Σ_rows G + Σ_rows G W
    W, b, X = lin.weight.detach().numpy(), lin.bias.detach().numpy(), x.numpy()
    G = np.ones((2, 3))
    H = X @ W.T + b
    np.testing.assert_allclose(lin.weight.grad.numpy(), G.T @ H + (G @ W).T @ X, rtol=1e-12)
    np.testing.assert_allclose(lin.bias.grad.numpy(), G.sum(0) + (G @ W).sum(0), rtol=1e-12)
