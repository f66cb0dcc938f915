"""minigrad.optim: SGD against PyTorch's documented rule, param groups, state
dicts and argument checking.

The expected trajectories come from `sgd_reference` (optim_rules.py), PyTorch's update
rule (torch.optim.SGD docs) written out in plain NumPy, driven by a loss with a known
gradient: L(θ) = Σ c·θ², so ∇L = 2·c·θ.
"""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim
from optim_rules import sgd_reference

THETA0 = np.array([1.0, -2.0, 0.5, 3.0])
C = np.array([0.5, 1.0, 2.0, 0.25])


def quadratic_grad(theta):
    return 2 * C * theta


def run_minigrad(steps, **hyper):
    p = nn.Parameter(THETA0.copy())
    c = mg.tensor(C)
    opt = optim.SGD([p], **hyper)
    trajectory = []
    for _ in range(steps):
        opt.zero_grad()
        (c * p ** 2).sum().backward()
        opt.step()
        trajectory.append(p.detach().numpy().copy())
    return trajectory


def test_reference_rule_reproduces_hand_computed_momentum_steps():
    # θ = 1, ∇ = θ, γ = 0.1, μ = 0.9:  b = 1, 1.8, 2.34;  θ = 0.9, 0.72, 0.486
    traj, _ = sgd_reference(np.array([1.0]), lambda t: t, 3, lr=0.1, momentum=0.9)
    np.testing.assert_allclose(np.concatenate(traj), [0.9, 0.72, 0.486], rtol=1e-15)


SGD_CASES = {
    "plain": dict(lr=0.1),
    "weight_decay": dict(lr=0.1, weight_decay=0.3),
    "momentum": dict(lr=0.1, momentum=0.9),
    "momentum_dampening": dict(lr=0.1, momentum=0.9, dampening=0.5),
    "nesterov": dict(lr=0.1, momentum=0.9, nesterov=True),
    "combined": dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1),
    "combined_dampening": dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.1),
}


@pytest.mark.parametrize("hyper", list(SGD_CASES.values()), ids=list(SGD_CASES))
def test_sgd_matches_pytorch_rule(hyper):
    got = run_minigrad(5, **hyper)
    want, _ = sgd_reference(THETA0, quadratic_grad, 5, **hyper)
    for step, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-15, err_msg=f"step {step + 1}")


def test_sgd_float32_parameter_follows_rule():
    p = nn.Parameter(THETA0.astype(np.float32))
    c = mg.tensor(C, dtype=mg.float32)
    opt = optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True)
    for _ in range(4):
        opt.zero_grad()
        (c * p ** 2).sum().backward()
        opt.step()
    assert p.dtype == mg.float32
    want, _ = sgd_reference(THETA0, quadratic_grad, 4, lr=0.1, momentum=0.9, nesterov=True)
    np.testing.assert_allclose(p.detach().numpy(), want[-1], rtol=1e-5, atol=1e-6)


def test_param_groups_use_their_own_hyperparameters():
    a, b = nn.Parameter(THETA0.copy()), nn.Parameter(THETA0.copy())
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.01, "momentum": 0.5}],
                    lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert [g["momentum"] for g in opt.param_groups] == [0.9, 0.5]
    assert opt.param_groups[1]["weight_decay"] == 0  # the rest from the defaults
    c = mg.tensor(C)
    for _ in range(3):
        opt.zero_grad()
        ((c * a ** 2).sum() + (c * b ** 2).sum()).backward()
        opt.step()
    want_a, _ = sgd_reference(THETA0, quadratic_grad, 3, lr=0.1, momentum=0.9)
    want_b, _ = sgd_reference(THETA0, quadratic_grad, 3, lr=0.01, momentum=0.5)
    np.testing.assert_allclose(a.detach().numpy(), want_a[-1], rtol=1e-12)
    np.testing.assert_allclose(b.detach().numpy(), want_b[-1], rtol=1e-12)


def test_parameter_without_grad_is_skipped_and_gets_no_state():
    used, unused = nn.Parameter(THETA0.copy()), nn.Parameter(THETA0.copy())
    opt = optim.SGD([unused, used], lr=0.1, momentum=0.9, weight_decay=0.5)
    c = mg.tensor(C)
    for _ in range(2):
        opt.zero_grad()
        (c * used ** 2).sum().backward()
        opt.step()
    assert unused.grad is None
    assert np.array_equal(unused.detach().numpy(), THETA0)  # weight decay did not touch it
    assert not any(k is unused for k in opt.state)
    assert any(k is used for k in opt.state)
    assert list(opt.state_dict()["state"]) == [1]


@pytest.mark.parametrize("set_to_none", [True, False])
def test_optimizer_zero_grad(set_to_none):
    a, b = nn.Parameter(np.ones(3)), nn.Parameter(np.ones((2, 2)))
    opt = optim.SGD([a, b], lr=0.1)
    ((a * 2).sum() + (b * 3).sum()).backward()
    opt.zero_grad(set_to_none=set_to_none)
    for p in (a, b):
        if set_to_none:
            assert p.grad is None
        else:
            assert np.array_equal(p.grad.numpy(), np.zeros(p.shape))


def test_optimizer_zero_grad_defaults_to_none():
    a = nn.Parameter(np.ones(3))
    opt = optim.SGD([a], lr=0.1)
    (a * 2).sum().backward()
    opt.zero_grad()
    assert a.grad is None


# ---- state dicts: resuming is exact --------------------------------------------------------

HYPER = dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)
RNG = np.random.default_rng(0)
X = mg.tensor(RNG.standard_normal((16, 3)), dtype=mg.float32)
Y = mg.tensor(RNG.standard_normal((16, 2)), dtype=mg.float32)


def _model(seed):
    mg.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))


def _train(model, opt, steps):
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.mse_loss(model(X), Y).backward()
        opt.step()


def test_state_dict_resume_equals_uninterrupted_training_bitwise():
    straight = _model(0)
    opt = optim.SGD(straight.parameters(), **HYPER)
    _train(straight, opt, 10)

    first = _model(0)
    opt_first = optim.SGD(first.parameters(), **HYPER)
    _train(first, opt_first, 5)
    model_sd, opt_sd = first.state_dict(), opt_first.state_dict()

    resumed = _model(1)  # different weights and hyper-parameters: all must come from the dicts
    opt_resumed = optim.SGD(resumed.parameters(), lr=1.0, momentum=0.1)
    resumed.load_state_dict(model_sd)
    opt_resumed.load_state_dict(opt_sd)
    for buffers in opt_sd["state"].values():  # loading copied: the dict may change now
        buffers["momentum_buffer"][...] = 0.0
    assert opt_resumed.param_groups[0]["lr"] == HYPER["lr"]
    assert opt_resumed.param_groups[0]["nesterov"] is True
    _train(resumed, opt_resumed, 5)

    for a, b in zip(straight.parameters(), resumed.parameters()):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())


def test_resume_through_mg_save_and_load_is_bitwise(tmp_path):
    straight = _model(0)
    opt = optim.SGD(straight.parameters(), **HYPER)
    _train(straight, opt, 6)

    first = _model(0)
    opt_first = optim.SGD(first.parameters(), **HYPER)
    _train(first, opt_first, 3)
    mg.save({"model": first.state_dict(), "optimizer": opt_first.state_dict()}, tmp_path / "ckpt")

    ckpt = mg.load(tmp_path / "ckpt")
    resumed = _model(1)
    opt_resumed = optim.SGD(resumed.parameters(), lr=1.0)
    resumed.load_state_dict(ckpt["model"])
    opt_resumed.load_state_dict(ckpt["optimizer"])
    _train(resumed, opt_resumed, 3)
    for a, b in zip(straight.parameters(), resumed.parameters()):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())


def test_optimizer_state_dict_is_a_copy():
    model = _model(0)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    _train(model, opt, 1)
    sd = opt.state_dict()
    buffers = [s["momentum_buffer"] for s in sd["state"].values()]
    assert len(buffers) == 4 and all(isinstance(b, np.ndarray) for b in buffers)
    kept = [b.copy() for b in buffers]
    _train(model, opt, 1)  # updates the optimizer's buffers, not the saved ones
    for b, k in zip(buffers, kept):
        assert np.array_equal(b, k)


# ---- errors: raised before anything changes ----------------------------------------------------


@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=-0.1), "lr"),
    (dict(lr=0.1, momentum=-0.5), "momentum"),
    (dict(lr=0.1, weight_decay=-1e-4), "weight_decay"),
    (dict(lr=0.1, dampening=-0.1), "dampening"),
    (dict(lr=0.1, nesterov=True), "nesterov"),
    (dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
])
def test_sgd_rejects_bad_hyperparameters(kwargs, message):
    p = nn.Parameter(THETA0.copy())
    p.grad = mg.tensor(np.ones(4))
    with pytest.raises(ValueError, match=message):
        optim.SGD([p], **kwargs)
    assert np.array_equal(p.detach().numpy(), THETA0)
    assert np.array_equal(p.grad.numpy(), np.ones(4))


def test_bad_hyperparameter_in_a_later_group_is_rejected():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    with pytest.raises(ValueError, match="lr"):
        optim.SGD([{"params": [a]}, {"params": [b], "lr": -1.0}], lr=0.1)


@pytest.mark.parametrize("params", [[], iter([]), [{"params": []}]], ids=["list", "iterator", "group"])
def test_empty_parameter_list_is_rejected(params):
    with pytest.raises(ValueError, match="empty"):
        optim.SGD(params, lr=0.1)


def test_duplicated_parameter_is_rejected():
    p, q = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([p, q, p], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([{"params": [p]}, {"params": [q, p]}], lr=0.1)


def test_single_tensor_instead_of_a_list_is_a_type_error():
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(nn.Parameter(np.ones(2)), lr=0.1)


def test_add_param_group_errors_leave_groups_unchanged():
    p, q = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="already"):
        opt.add_param_group({"params": [q, p]})
    with pytest.raises(ValueError, match="lr"):
        opt.add_param_group({"params": [q], "lr": -0.5})
    assert len(opt.param_groups) == 1
    opt.add_param_group({"params": [q], "lr": 0.01})
    assert len(opt.param_groups) == 2 and opt.param_groups[1]["lr"] == 0.01
    assert opt.param_groups[1]["params"][0] is q


def _trained_pair():
    model = _model(0)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    _train(model, opt, 2)
    return model, opt


@pytest.mark.parametrize("edit, message", [
    (lambda sd: sd["state"][0].update(momentum_buffer=np.zeros((3, 3))), r"shape \(3, 3\)"),
    (lambda sd: sd["param_groups"][0].update(lr=-1.0), "lr"),
    (lambda sd: sd["param_groups"][0]["params"].pop(), "parameters"),
    (lambda sd: sd["param_groups"].append({"params": [], "lr": 0.1}), "param groups"),
], ids=["buffer-shape", "negative-lr", "group-size", "group-count"])
def test_failed_optimizer_load_state_dict_changes_nothing(edit, message):
    _, source = _trained_pair()
    sd = source.state_dict()
    edit(sd)
    model, opt = _trained_pair()
    opt.param_groups[0]["lr"] = 0.02
    before_state = {id(p): {k: np.array(v, copy=True) for k, v in s.items()} for p, s in opt.state.items()}
    before_groups = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(sd)
    assert [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups] == before_groups
    assert same_state(opt.state, before_state)


def same_state(state, before):
    if {id(p) for p in state} != set(before):
        return False
    return all(np.array_equal(v, before[id(p)][k]) for p, s in state.items() for k, v in s.items())
