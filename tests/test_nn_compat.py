"""The nn pieces PyTorch programs for MLPs use beyond the basics: Flatten, Unflatten,
ModuleList, LogSoftmax, NLLLoss, CrossEntropyLoss's weight / ignore_index /
label_smoothing, L1Loss, SmoothL1Loss, HuberLoss, Module.apply, buffers and
Module.to(dtype). Each loss against its formula written here in NumPy, and its
gradient against central differences; against PyTorch itself where it is installed.
"""

import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
import minigrad.nn.functional as F

rng = np.random.default_rng(5)


def leaf(a):
    return mg.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def np_log_softmax(z):
    m = z.max(axis=1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))


# ---- layers ------------------------------------------------------------------------------


def test_flatten_keeps_the_batch_dimension_and_unflatten_undoes_it():
    x = mg.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(mg.randn(7, 1)).shape == (7,)     # the tutorial's use
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)
    assert nn.Unflatten(1, (3, 20))(nn.Flatten()(x)).shape == (2, 3, 20)
    np.testing.assert_array_equal(nn.Unflatten(1, (3, 4, 5))(nn.Flatten()(x)).numpy(), x.numpy())
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


def test_log_softmax_module():
    z = rng.standard_normal((3, 4))
    np.testing.assert_allclose(nn.LogSoftmax(dim=1)(mg.tensor(z)).numpy(), np_log_softmax(z))


def test_module_list_registers_its_modules_in_order():
    layers = nn.ModuleList([nn.Linear(2, 3), nn.Linear(3, 4)])
    layers.append(nn.Linear(4, 1))
    layers.insert(0, nn.Linear(2, 2))
    assert len(layers) == 4 and [m.out_features for m in layers] == [2, 3, 4, 1]
    assert [m.out_features for m in layers[1:3]] == [3, 4]
    names = [n for n, _ in layers.named_parameters()]
    assert names == [f"{i}.{p}" for i in range(4) for p in ("weight", "bias")]

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList(nn.Linear(2, 2) for _ in range(3))

        def forward(self, x):
            for block in self.blocks:
                x = block(x).relu()
            return x

    net = Net()
    assert len(list(net.parameters())) == 6
    assert net(mg.randn(5, 2)).shape == (5, 2)
    with pytest.raises(TypeError, match="expected a Module"):
        layers.append(3)


def test_apply_visits_every_module_children_first():
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Linear(3, 1)))
    seen = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "ReLU", "Linear", "Sequential", "Sequential"]

    def init(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)
            nn.init.ones_(m.bias)
    model.apply(init)
    np.testing.assert_array_equal(model(mg.randn(4, 2)).detach().numpy(), np.full((4, 1), 1.0))


def test_buffers_are_state_but_not_parameters():
    class Scaler(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)
            self.register_buffer("mean", mg.zeros(2))
            self.register_buffer("scratch", mg.ones(2), persistent=False)

        def forward(self, x):
            return self.lin(x - self.mean)

    m = Scaler()
    assert [n for n, _ in m.named_buffers()] == ["mean", "scratch"]
    assert len(list(m.parameters())) == 2
    assert list(m.state_dict()) == ["lin.weight", "lin.bias", "mean"]
    sd = m.state_dict()
    sd["mean"] = np.array([1.0, 2.0], np.float32)
    m.load_state_dict(sd)
    assert m.mean.tolist() == [1.0, 2.0]
    m.mean = mg.tensor([3.0, 4.0])                     # reassigning keeps it a buffer
    assert m.state_dict()["mean"].tolist() == [3.0, 4.0]
    with pytest.raises(TypeError, match="buffer"):
        m.mean = [1.0, 2.0]


def test_module_to_a_dtype_converts_parameters_and_buffers():
    m = nn.Linear(3, 2)
    m.register_buffer("b", mg.zeros(2))
    assert m.double() is m
    assert m.weight.dtype == m.bias.dtype == m.b.dtype == mg.float64
    assert m(mg.randn(4, 3, dtype=mg.float64)).dtype == mg.float64
    m.to(mg.float32)
    assert m.weight.dtype == mg.float32
    with pytest.raises(TypeError, match="floating-point"):
        m.to(mg.int64)


# ---- losses --------------------------------------------------------------------------------


def _classes(n, c, ignore=None):
    """n class indices, samples 1 and 3 being ``ignore`` when given (and no other)."""
    y = rng.integers(0, c, n)
    if ignore is not None:
        y[y == ignore] = (ignore + 1) % c if 0 <= ignore < c else y[y == ignore]
        y[[1, 3]] = ignore
    return y


def np_nll(logp, y, weight=None, ignore_index=-100, reduction="mean", smoothing=0.0):
    """PyTorch's cross-entropy rule on log-probabilities, written per sample."""
    n, c = logp.shape
    w = np.ones(c) if weight is None else weight
    valid = y != ignore_index
    yy = np.where(valid, y, 0)
    wi = np.where(valid, w[yy], 0.0)
    losses = -logp[np.arange(n), yy] * wi
    if smoothing:
        smooth = np.where(valid, -(logp * w).sum(axis=1), 0.0)
        losses = (1 - smoothing) * losses + smoothing / c * smooth
    if reduction == "mean":
        return losses.sum() / wi.sum()
    return losses.sum() if reduction == "sum" else losses


REDUCTIONS = ["mean", "sum", "none"]
CE_OPTIONS = {
    "weight": dict(weight=True),
    "ignore_index": dict(ignore_index=2),
    "ignore_default": dict(ignore_index=-100),
    "label_smoothing": dict(label_smoothing=0.2),
    "all": dict(weight=True, ignore_index=0, label_smoothing=0.1),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", list(CE_OPTIONS))
def test_cross_entropy_options_match_their_formula(case, reduction):
    opts = dict(CE_OPTIONS[case])
    n, c = 6, 4
    z = rng.standard_normal((n, c))
    ignore = opts.get("ignore_index")
    y = _classes(n, c, ignore)
    weight = rng.uniform(0.5, 2.0, c) if opts.pop("weight", False) else None
    want = np_nll(np_log_softmax(z), y, weight, ignore if ignore is not None else -100,
                  reduction, opts.get("label_smoothing", 0.0))
    w = None if weight is None else mg.tensor(weight)
    out = F.cross_entropy(mg.tensor(z), mg.tensor(y), weight=w, reduction=reduction, **opts)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12)
    module = nn.CrossEntropyLoss(weight=w, reduction=reduction, **opts)
    np.testing.assert_allclose(module(mg.tensor(z), mg.tensor(y)).numpy(), want, rtol=1e-12)
    assert mg.gradcheck(lambda t: F.cross_entropy(t, mg.tensor(y), weight=w, reduction=reduction,
                                                  **opts), (leaf(z),))


def test_cross_entropy_label_smoothing_with_probability_targets():
    z = rng.standard_normal((3, 5))
    t = rng.uniform(0.1, 1, (3, 5))
    t /= t.sum(1, keepdims=True)
    eps = 0.3
    smoothed = t * (1 - eps) + eps / 5
    want = -(smoothed * np_log_softmax(z)).sum(1).mean()
    out = F.cross_entropy(mg.tensor(z), mg.tensor(t), label_smoothing=eps)
    np.testing.assert_allclose(out.item(), want, rtol=1e-12)


def test_cross_entropy_options_at_their_defaults_take_the_fused_kernel():
    z = mg.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    y = mg.tensor([0, 2, 1, 2])
    assert F.cross_entropy(z, y).grad_fn.name() == "CrossEntropyLossBackward"
    assert F.cross_entropy(z, y, ignore_index=5).grad_fn.name() == "CrossEntropyLossBackward"
    for composed in (F.cross_entropy(z, y, label_smoothing=0.1),
                     F.cross_entropy(z, y, ignore_index=2),          # a class that occurs
                     F.cross_entropy(z, mg.tensor([0, -100, 1, 2]))):
        assert composed.grad_fn.name() != "CrossEntropyLossBackward"


def test_every_target_ignored_gives_nan_for_the_mean_as_pytorch():
    with np.errstate(invalid="ignore"):                 # 0 / 0, on purpose
        out = F.cross_entropy(mg.randn(2, 3), mg.tensor([-100, -100]))
    assert np.isnan(out.item())


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_on_log_softmax_is_cross_entropy(reduction):
    z = rng.standard_normal((5, 3))
    y = np.array([0, 1, 2, 1, 0])
    weight = rng.uniform(0.5, 2.0, 3)
    want = np_nll(np_log_softmax(z), y, weight, 1, reduction)
    logp = nn.LogSoftmax(dim=1)(mg.tensor(z))
    out = nn.NLLLoss(weight=mg.tensor(weight), ignore_index=1, reduction=reduction)(logp, mg.tensor(y))
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12)
    assert mg.gradcheck(lambda t: F.nll_loss(t, mg.tensor(y), reduction=reduction), (leaf(z),))


def test_nll_loss_rejects_out_of_range_classes():
    with pytest.raises(ValueError, match="target class 3 is out of range"):
        F.nll_loss(mg.zeros(2, 3), mg.tensor([0, 3]))
    with pytest.raises(TypeError, match="integer"):
        F.nll_loss(mg.zeros(2, 3), mg.tensor([0.0, 1.0]))


D = np.array([-2.5, -1.0, -0.3, 0.0, 0.2, 0.7, 1.0, 3.0])  # input − target, both sides of 1


@pytest.mark.parametrize("name, loss, rule", [
    ("l1", nn.L1Loss(), np.abs(D)),
    ("smooth_l1", nn.SmoothL1Loss(beta=0.5),
     np.where(np.abs(D) < 0.5, 0.5 * D ** 2 / 0.5, np.abs(D) - 0.25)),
    ("smooth_l1_beta0", nn.SmoothL1Loss(beta=0.0), np.abs(D)),
    ("huber", nn.HuberLoss(delta=0.5),
     np.where(np.abs(D) < 0.5, 0.5 * D ** 2, 0.5 * (np.abs(D) - 0.25))),
])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses_match_their_formula(name, loss, rule, reduction):
    target = rng.standard_normal(D.size)
    inp = target + D
    loss.reduction = reduction
    out = loss(mg.tensor(inp), mg.tensor(target))
    want = {"mean": rule.mean(), "sum": rule.sum(), "none": rule}[reduction]
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12)
    away = inp + np.where(np.isin(D, [0.0, 1.0, 0.5]), 0.05, 0.0)   # off the kinks
    assert mg.gradcheck(lambda t: loss(t, mg.tensor(target)), (leaf(away),))


def test_the_old_size_average_argument_still_means_sum():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loss = nn.MSELoss(size_average=False)
        assert nn.MSELoss(reduce=False).reduction == "none"
    assert loss.reduction == "sum" and len(caught) == 2


# ---- against PyTorch, where it is installed ----------------------------------------------


def test_the_new_losses_equal_pytorchs():
    torch = pytest.importorskip("torch")
    z = rng.standard_normal((6, 4))
    y = _classes(6, 4, ignore=1)
    w = rng.uniform(0.5, 2.0, 4)
    a, b = rng.standard_normal(8), rng.standard_normal(8)
    tz, ty, tw = torch.tensor(z), torch.tensor(y), torch.tensor(w)
    pairs = [
        (F.cross_entropy(mg.tensor(z), mg.tensor(y), weight=mg.tensor(w), ignore_index=1,
                         label_smoothing=0.15),
         torch.nn.functional.cross_entropy(tz, ty, weight=tw, ignore_index=1, label_smoothing=0.15)),
        (F.nll_loss(mg.tensor(z), mg.tensor(y), weight=mg.tensor(w), ignore_index=1),
         torch.nn.functional.nll_loss(tz, ty, weight=tw, ignore_index=1)),
        (F.l1_loss(mg.tensor(a), mg.tensor(b)), torch.nn.functional.l1_loss(torch.tensor(a), torch.tensor(b))),
        (F.smooth_l1_loss(mg.tensor(a), mg.tensor(b), beta=0.7),
         torch.nn.functional.smooth_l1_loss(torch.tensor(a), torch.tensor(b), beta=0.7)),
        (F.huber_loss(mg.tensor(a), mg.tensor(b), delta=0.7),
         torch.nn.functional.huber_loss(torch.tensor(a), torch.tensor(b), delta=0.7)),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)


def test_a_sequential_changed_after_a_forward_runs_its_new_modules():
    x = mg.tensor(rng.standard_normal((3, 2)))
    model = nn.Sequential(nn.Linear(2, 4).double(), nn.ReLU(), nn.Linear(4, 1).double())
    model(x)                                    # the fused plan is made here
    hidden = model[0](x)
    setattr(model, "1", nn.Tanh())              # replaced: tanh now, not relu
    want = model[2](hidden.tanh())
    np.testing.assert_allclose(model(x).detach().numpy(), want.detach().numpy(), rtol=1e-12)
    delattr(model, "2")
    np.testing.assert_allclose(model(x).detach().numpy(), hidden.tanh().detach().numpy(), rtol=1e-12)
    model.append(nn.Sigmoid())
    assert model(x).shape == (3, 4)


def test_module_to_replaces_buffers_and_leaves_the_callers_tensor_alone():
    w = mg.ones(3)
    loss = nn.CrossEntropyLoss(weight=w)
    loss.to(mg.float64)
    assert loss.weight.dtype == mg.float64 and w.dtype == mg.float32
    assert [n for n, _ in loss.named_buffers()] == ["weight"]
