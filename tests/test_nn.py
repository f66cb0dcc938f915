"""minigrad.nn: Module bookkeeping, layers, losses, init and gradient clipping.

Expected values are NumPy formulas written here (or in REFERENCE.md), never
output of the code under test.
"""

import math

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn


@pytest.fixture(params=["blas", "one-kernel"])
def dense_path(request, monkeypatch):
    """Run a dense-layer test through both CPU paths: BLAS plus the bias + activation
    kernel, and the single-call kernels of kernels/cpu/matmul.py used for small layers."""
    from minigrad.backend import dispatch
    limit = 0 if request.param == "blas" else 10**12
    monkeypatch.setattr(dispatch, "SMALL_LINEAR", limit)
    monkeypatch.setattr(dispatch, "SMALL_LINEAR_BACKWARD", limit)
    return request.param


def values(model):
    """A copy of every parameter's values, in parameters() order."""
    return [p.detach().numpy().copy() for p in model.parameters()]


def assert_same_values(before, after):
    assert len(before) == len(after)
    for a, b in zip(before, after):
        assert np.array_equal(a, b)


def same_objects(xs, ys):
    xs, ys = list(xs), list(ys)
    return len(xs) == len(ys) and all(a is b for a, b in zip(xs, ys))


def np_softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_log_softmax(z, axis=-1):
    m = z.max(axis=axis, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


def np_sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def np_reduce(losses, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction](losses)


# ---- Module: registration ------------------------------------------------------------


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(np.zeros(2))
        self.inner = nn.Linear(2, 3)
        self.b = nn.Parameter(np.ones(1))
        self.plain = mg.tensor([1.0, 2.0])  # a Tensor, not a Parameter: not registered
        self.count = 3

    def forward(self, x):
        return self.inner(x)


def test_parameters_are_own_in_registration_order_then_childrens():
    m = Block()
    assert same_objects(m.parameters(), [m.a, m.b, m.inner.weight, m.inner.bias])
    assert [n for n, _ in m.named_parameters()] == ["a", "b", "inner.weight", "inner.bias"]
    assert same_objects((p for _, p in m.named_parameters()), m.parameters())


def test_parameter_is_a_tensor_that_requires_grad():
    p = nn.Parameter(np.array([1.0, 2.0]))
    assert isinstance(p, mg.Tensor)
    assert p.requires_grad and p.is_leaf


def test_named_parameters_of_sequential_are_indexed():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_shared_module_yields_its_parameters_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.Tanh(), lin)
    assert same_objects(seq.parameters(), [lin.weight, lin.bias])
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(seq.modules())) == 3  # seq, lin, Tanh: lin once


def test_shared_parameter_is_yielded_once():
    first, second = nn.Linear(3, 3), nn.Linear(3, 3)
    second.weight = first.weight  # tied weights
    seq = nn.Sequential(first, second)
    assert same_objects(seq.parameters(), [first.weight, first.bias, second.bias])
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "1.bias"]


def test_children_are_direct_and_modules_are_all_in_preorder():
    inner = nn.Sequential(nn.Tanh(), nn.Linear(2, 2))
    outer = nn.Sequential(nn.Linear(2, 2), inner)
    assert same_objects(outer.children(), [outer[0], inner])
    assert same_objects(outer.modules(), [outer, outer[0], inner, inner[0], inner[1]])


def test_assigning_a_plain_tensor_over_a_parameter_raises_and_changes_nothing():
    m = Block()
    before = m.a
    with pytest.raises(TypeError, match="'a'.*Parameter"):
        m.a = mg.tensor([5.0, 6.0])
    assert m.a is before
    assert [n for n, _ in m.named_parameters()] == ["a", "b", "inner.weight", "inner.bias"]


def test_reassigning_an_attribute_to_none_or_deleting_it_unregisters_it():
    m = Block()
    m.a = None
    m.inner = None
    assert [n for n, _ in m.named_parameters()] == ["b"]
    assert list(m.children()) == []
    m.a = nn.Parameter(np.zeros(3))  # re-registered, now after b
    assert [n for n, _ in m.named_parameters()] == ["b", "a"]
    del m.b
    assert [n for n, _ in m.named_parameters()] == ["a"]


def test_assigning_before_module_init_raises():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.zeros(1))

    with pytest.raises(AttributeError, match="super"):
        Broken()


# ---- Module: modes, gradients ----------------------------------------------------------


def test_train_and_eval_propagate_to_every_submodule():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5), nn.ReLU()))
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    assert model.train() is model
    assert all(m.training for m in model.modules())
    model.train(False)
    assert not any(m.training for m in model.modules())


def _backward_once(model):
    x = mg.tensor(np.arange(6.0).reshape(3, 2), dtype=mg.float32)
    model(x).sum().backward()


@pytest.mark.parametrize("set_to_none", [True, False])
def test_module_zero_grad(set_to_none):
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    _backward_once(model)
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=set_to_none)
    for p in model.parameters():
        if set_to_none:
            assert p.grad is None
        else:
            assert p.grad.shape == p.shape
            assert np.array_equal(p.grad.numpy(), np.zeros(p.shape))


def test_module_zero_grad_defaults_to_none():
    model = nn.Linear(2, 1)
    _backward_once(model)
    model.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None


# ---- Module: state dicts ---------------------------------------------------------------------


def _mlp(seed):
    mg.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def test_state_dict_holds_numpy_copies():
    model = _mlp(0)
    sd = model.state_dict()
    assert list(sd) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    before = values(model)
    for (name, arr), want in zip(sd.items(), before):
        assert isinstance(arr, np.ndarray)
        assert np.array_equal(arr, want)
        arr += 1.0  # the model must not see this
    assert_same_values(before, values(model))
    model[0].weight.data[...] = 7.0  # nor the state dict this
    assert not np.any(sd["0.weight"] == 7.0)


def test_load_state_dict_round_trip_gives_identical_outputs():
    source, target = _mlp(0), _mlp(1)
    x = mg.tensor(np.random.default_rng(0).standard_normal((5, 3)), dtype=mg.float32)
    assert not np.array_equal(source(x).detach().numpy(), target(x).detach().numpy())
    sd = source.state_dict()
    target.load_state_dict(sd)
    assert np.array_equal(source(x).detach().numpy(), target(x).detach().numpy())
    sd["0.weight"] += 1.0  # loading copied: the model does not alias the dict
    assert np.array_equal(source(x).detach().numpy(), target(x).detach().numpy())


def _broken_state_dicts():
    """(edit, error, message): each edit leaves the other keys with values that
    differ from the target model's, so a partial load would show."""
    def missing(sd):
        del sd["2.bias"]

    def unexpected(sd):
        sd["3.weight"] = np.zeros((2, 2), np.float32)

    def wrong_shape(sd):
        sd["2.bias"] = np.zeros(5, np.float32)  # last key: everything before it is valid

    return [
        pytest.param(missing, RuntimeError, r"missing.*2\.bias", id="missing"),
        pytest.param(unexpected, RuntimeError, r"unexpected.*3\.weight", id="unexpected"),
        pytest.param(wrong_shape, ValueError, r"2\.bias.*\(5,\).*\(2,\)", id="wrong-shape"),
    ]


@pytest.mark.parametrize("edit, error, message", _broken_state_dicts())
def test_failed_load_state_dict_changes_nothing(edit, error, message):
    sd = _mlp(0).state_dict()
    edit(sd)
    model = _mlp(1)
    before = values(model)
    with pytest.raises(error, match=message):
        model.load_state_dict(sd)
    assert_same_values(before, values(model))


def test_load_state_dict_not_strict_loads_the_matching_keys():
    source, target = _mlp(0), _mlp(1)
    sd = source.state_dict()
    del sd["2.bias"]
    sd["extra"] = np.zeros(1, np.float32)
    old_bias = target[2].bias.detach().numpy().copy()
    target.load_state_dict(sd, strict=False)
    assert np.array_equal(target[0].weight.detach().numpy(), sd["0.weight"])
    assert np.array_equal(target[2].weight.detach().numpy(), sd["2.weight"])
    assert np.array_equal(target[2].bias.detach().numpy(), old_bias)


# ---- Module: repr ------------------------------------------------------------------------------


def test_repr_is_pytorch_nested_style():
    model = nn.Sequential(
        nn.Linear(2, 3), nn.LeakyReLU(0.2), nn.Dropout(0.25),
        nn.Sequential(nn.Linear(3, 1, bias=False), nn.Sigmoid()))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): LeakyReLU(negative_slope=0.2)\n"
        "  (2): Dropout(p=0.25)\n"
        "  (3): Sequential(\n"
        "    (0): Linear(in_features=3, out_features=1, bias=False)\n"
        "    (1): Sigmoid()\n"
        "  )\n"
        ")")


def test_repr_of_leaf_modules():
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
    assert repr(nn.Identity()) == "Identity()"


# ---- Linear ---------------------------------------------------------------------------------


def test_linear_shapes_and_default_dtype():
    lin = nn.Linear(5, 3)
    assert lin.weight.shape == (3, 5)
    assert lin.bias.shape == (3,)
    assert lin.weight.dtype == mg.float32 and lin.bias.dtype == mg.float32
    assert isinstance(lin.weight, nn.Parameter) and isinstance(lin.bias, nn.Parameter)


def test_linear_init_is_uniform_within_one_over_sqrt_in_features():
    mg.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1.0 / math.sqrt(400)
    for p in (lin.weight, lin.bias):
        w = p.detach().numpy().astype(np.float64)
        assert np.all(np.abs(w) <= bound * (1 + 1e-6))
    w = lin.weight.detach().numpy().astype(np.float64)
    # 120,000 samples of U(-b, b): they reach the edges, centre on 0, std b/√3.
    assert w.max() > 0.99 * bound and w.min() < -0.99 * bound
    assert abs(w.mean()) < 0.01 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)
    b = lin.bias.detach().numpy()
    assert b.max() > 0.9 * bound and b.min() < -0.9 * bound


def test_linear_without_bias(dense_path):
    lin = nn.Linear(4, 2, bias=False)
    assert lin.bias is None
    assert [n for n, _ in lin.named_parameters()] == ["weight"]
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    w = lin.weight.detach().numpy()
    np.testing.assert_allclose(lin(mg.tensor(x)).detach().numpy(), x @ w.T, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("batch_shape", [(5,), (2, 5)], ids=["2d", "3d"])
def test_linear_forward_is_x_wt_plus_b(batch_shape, dense_path):
    lin = nn.Linear(4, 3, dtype=mg.float64)
    x = np.random.default_rng(2).standard_normal(batch_shape + (4,))
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    out = lin(mg.tensor(x)).detach().numpy()
    assert out.shape == batch_shape + (3,)
    np.testing.assert_allclose(out, x @ w.T + b, rtol=1e-12, atol=1e-14)


def test_linear_rejects_bad_sizes_and_mismatched_input():
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(0, 3)
    lin = nn.Linear(4, 3)
    with pytest.raises(ValueError, match=r"\(2, 5\)"):
        lin(mg.zeros(2, 5))
    with pytest.raises(TypeError, match="float64.*float32|float32.*float64"):
        lin(mg.zeros(2, 4, dtype=mg.float64))


# ---- Sequential ---------------------------------------------------------------------------


def test_sequential_indexing_slicing_len_iteration_append():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3
    assert seq[0] is a and seq[1] is b and seq[-1] is c
    assert same_objects(seq, [a, b, c])
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and len(tail) == 2
    assert same_objects(tail, [b, c])
    assert [name for name, _ in tail.named_children()] == ["1", "2"]  # names kept, as PyTorch
    tail.append(nn.Tanh())  # never overwrites a kept name
    assert [name for name, _ in tail.named_children()] == ["1", "2", "3"]
    d = nn.Sigmoid()
    assert seq.append(d) is seq
    assert len(seq) == 4 and seq[3] is d
    assert same_objects(seq.children(), [a, b, c, d])
    with pytest.raises(IndexError):
        seq[4]


def test_sequential_rejects_non_modules():
    with pytest.raises(TypeError, match="Module"):
        nn.Sequential(nn.ReLU(), lambda x: x)


ACTIVATIONS = {
    "relu": (lambda: nn.ReLU(), F.relu, lambda z: np.maximum(z, 0.0)),
    "leaky_relu": (lambda: nn.LeakyReLU(0.2), lambda t: F.leaky_relu(t, 0.2),
                   lambda z: np.where(z > 0, z, 0.2 * z)),
    "sigmoid": (lambda: nn.Sigmoid(), F.sigmoid, np_sigmoid),
    "tanh": (lambda: nn.Tanh(), F.tanh, np.tanh),
}


def _fusable_mlp(name, bias=True, seed=0):
    make, _, _ = ACTIVATIONS[name]
    mg.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 6, bias=bias, dtype=mg.float64), make(),
                         nn.Linear(6, 3, bias=bias, dtype=mg.float64), make())


def _weights_and_biases(seq):
    """(W1, b1, W2, b2) as NumPy arrays, a zero bias where the layer has none."""
    out = []
    for lin in (seq[0], seq[2]):
        w = lin.weight.detach().numpy()
        b = np.zeros(w.shape[0]) if lin.bias is None else lin.bias.detach().numpy()
        out += [w, b]
    return out


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_sequential_fusion_matches_layer_by_layer(name, bias, dense_path):
    _, functional, numpy_f = ACTIVATIONS[name]
    seq = _fusable_mlp(name, bias)
    rng = np.random.default_rng(3)
    x_np = rng.standard_normal((7, 4)) * 2.0  # both signs reach every activation
    upstream = mg.tensor(rng.standard_normal((7, 3)))

    def run(forward):
        seq.zero_grad()
        x = mg.tensor(x_np, requires_grad=True)
        out = forward(x)
        (out * upstream).sum().backward()
        return out.detach().numpy(), [x.grad.numpy()] + [p.grad.numpy() for p in seq.parameters()]

    def one_by_one(x):
        h = functional(F.linear(x, seq[0].weight, seq[0].bias))
        return functional(F.linear(h, seq[2].weight, seq[2].bias))

    fused_out, fused_grads = run(seq)
    plain_out, plain_grads = run(one_by_one)
    assert len(fused_grads) == (5 if bias else 3)
    np.testing.assert_allclose(fused_out, plain_out, rtol=1e-12, atol=1e-14)
    for g_fused, g_plain in zip(fused_grads, plain_grads):
        np.testing.assert_allclose(g_fused, g_plain, rtol=1e-12, atol=1e-14)

    w1, b1, w2, b2 = _weights_and_biases(seq)
    want = numpy_f(numpy_f(x_np @ w1.T + b1) @ w2.T + b2)
    np.testing.assert_allclose(fused_out, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_gradcheck_through_fused_sequential(name, bias, dense_path):
    seq = _fusable_mlp(name, bias, seed=4)
    rng = np.random.default_rng(5)
    x = mg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    params = [mg.tensor(v, requires_grad=True) for v in values(seq)]

    def fn(x, *params):
        # Plain tensors in place of the Parameters, so gradcheck can perturb them.
        names = [(lin, attr) for lin in (seq[0], seq[2]) for attr in ("weight", "bias")
                 if getattr(lin, attr) is not None]
        for (lin, attr), t in zip(names, params):
            if isinstance(getattr(lin, attr), nn.Parameter):
                delattr(lin, attr)  # a Parameter's slot takes only a Parameter (as PyTorch)
            setattr(lin, attr, t)
        return seq(x)

    assert mg.gradcheck(fn, (x, *params))


# ---- activations, Softmax, Identity, Dropout ------------------------------------------------


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_modules_match_numpy(name):
    make, _, numpy_f = ACTIVATIONS[name]
    x = np.linspace(-3.0, 3.0, 13)
    np.testing.assert_allclose(make()(mg.tensor(x)).detach().numpy(), numpy_f(x), rtol=1e-12, atol=1e-15)


def test_leaky_relu_scales_negatives_by_the_slope():
    x = mg.tensor(np.array([-2.0, -0.5, 1.5, 3.0]), requires_grad=True)
    y = nn.LeakyReLU(0.1)(x)
    np.testing.assert_allclose(y.detach().numpy(), [-0.2, -0.05, 1.5, 3.0], rtol=1e-15)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.1, 0.1, 1.0, 1.0], rtol=1e-15)
    default = nn.LeakyReLU()(mg.tensor(np.array([-100.0])))
    np.testing.assert_allclose(default.numpy(), [-1.0], rtol=1e-15)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_module_normalises_along_dim(dim):
    x = np.random.default_rng(6).standard_normal((3, 4, 5)) + 1000.0  # stable at large values
    y = nn.Softmax(dim=dim)(mg.tensor(x)).numpy()
    np.testing.assert_allclose(y, np_softmax(x, axis=dim), rtol=1e-12)
    np.testing.assert_allclose(y.sum(axis=dim), 1.0, rtol=1e-12)


def test_softmax_gradcheck():
    x = mg.tensor(np.random.default_rng(7).standard_normal((3, 4)), requires_grad=True)
    assert mg.gradcheck(lambda t: nn.Softmax(dim=0)(t), x)


def test_identity_returns_its_input():
    x = mg.tensor([[1.0, -2.0]])
    y = nn.Identity()(x)
    assert np.array_equal(y.numpy(), x.numpy())


@pytest.mark.parametrize("p", [0.2, 0.5, 0.7])
def test_dropout_in_training_zeroes_about_p_and_scales_survivors(p):
    mg.manual_seed(0)
    x_np = np.random.default_rng(8).uniform(0.5, 1.5, 200_000)  # no zeros of its own
    x = mg.tensor(x_np, requires_grad=True)
    layer = nn.Dropout(p)
    y = layer(x)
    out = y.detach().numpy()
    dropped = out == 0.0
    # each element is either exactly 0 or exactly scaled by 1/(1 - p)
    np.testing.assert_allclose(out[~dropped], x_np[~dropped] / (1.0 - p), rtol=1e-15)
    assert dropped.mean() == pytest.approx(p, abs=0.01)  # > 6 standard deviations
    y.sum().backward()
    g = x.grad.numpy()
    assert np.all(g[dropped] == 0.0)
    np.testing.assert_allclose(g[~dropped], 1.0 / (1.0 - p), rtol=1e-15)


def test_dropout_is_identity_in_eval_mode():
    x = mg.tensor(np.random.default_rng(9).standard_normal(1000))
    layer = nn.Dropout(0.5).eval()
    assert np.array_equal(layer(x).numpy(), x.numpy())
    assert np.array_equal(F.dropout(x, 0.5, training=False).numpy(), x.numpy())


def test_dropout_p_zero_keeps_everything_and_p_one_drops_everything():
    x = mg.tensor(np.random.default_rng(10).uniform(0.5, 1.5, 1000), requires_grad=True)
    assert np.array_equal(nn.Dropout(0.0)(x).detach().numpy(), x.detach().numpy())
    y = nn.Dropout(1.0)(x)
    assert np.array_equal(y.detach().numpy(), np.zeros(1000))
    y.sum().backward()
    assert np.array_equal(x.grad.numpy(), np.zeros(1000))


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan"), "0.5"])
def test_dropout_rejects_bad_p(p):
    with pytest.raises(ValueError, match="p must be"):
        nn.Dropout(p)
    with pytest.raises(ValueError, match="p must be"):
        F.dropout(mg.ones(3), p)


def test_dropout_mask_repeats_after_manual_seed():
    x = mg.ones(500)
    layer = nn.Dropout(0.5)
    mg.manual_seed(42)
    first = layer(x).numpy()
    second = layer(x).numpy()
    mg.manual_seed(42)
    again = layer(x).numpy()
    assert np.array_equal(first, again)
    assert not np.array_equal(first, second)


# ---- losses: values and gradients -----------------------------------------------------------

REDUCTIONS = ["mean", "sum", "none"]


def _mse_case(rng):
    yhat, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    return yhat, y, (yhat - y) ** 2


def _ce_class_case(rng):
    z, y = rng.standard_normal((5, 4)), np.array([0, 3, 1, 1, 2])
    return z, y, -np_log_softmax(z)[np.arange(5), y]


def _ce_prob_case(rng):
    z = rng.standard_normal((5, 4))
    t = rng.uniform(0.1, 1.0, (5, 4))
    t /= t.sum(axis=1, keepdims=True)
    return z, t, -(t * np_log_softmax(z)).sum(axis=1)


def _bce_case(rng):
    p, y = rng.uniform(0.05, 0.95, (4, 3)), rng.uniform(0.0, 1.0, (4, 3))
    return p, y, -(y * np.log(p) + (1 - y) * np.log(1 - p))


def _bce_logits_case(rng):
    z, y = rng.standard_normal((4, 3)) * 3, rng.uniform(0.0, 1.0, (4, 3))
    s = np_sigmoid(z)
    return z, y, -(y * np.log(s) + (1 - y) * np.log(1 - s))


LOSSES = {
    "mse": (F.mse_loss, nn.MSELoss, _mse_case),
    "cross_entropy_classes": (F.cross_entropy, nn.CrossEntropyLoss, _ce_class_case),
    "cross_entropy_probs": (F.cross_entropy, nn.CrossEntropyLoss, _ce_prob_case),
    "bce": (F.binary_cross_entropy, nn.BCELoss, _bce_case),
    "bce_with_logits": (F.binary_cross_entropy_with_logits, nn.BCEWithLogitsLoss, _bce_logits_case),
}


def loss_fn(name, form, reduction):
    functional, module, _ = LOSSES[name]
    if form == "module":
        return module(reduction=reduction)
    return lambda input, target: functional(input, target, reduction=reduction)


@pytest.mark.parametrize("form", ["functional", "module"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_value_matches_numpy(name, reduction, form):
    inp, target, losses = LOSSES[name][2](np.random.default_rng(11))
    out = loss_fn(name, form, reduction)(mg.tensor(inp), mg.tensor(target))
    want = np_reduce(losses, reduction)
    assert out.shape == np.shape(want)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_float32_value_matches_numpy(name, reduction):
    inp, target, losses = LOSSES[name][2](np.random.default_rng(12))
    out = loss_fn(name, "functional", reduction)(
        mg.tensor(inp, dtype=mg.float32),
        mg.tensor(target) if target.dtype.kind == "i" else mg.tensor(target, dtype=mg.float32))
    assert out.dtype == mg.float32
    np.testing.assert_allclose(out.item(), np_reduce(losses, reduction), rtol=1e-5)


@pytest.mark.parametrize("form", ["functional", "module"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_gradcheck(name, reduction, form):
    inp, target, _ = LOSSES[name][2](np.random.default_rng(13))
    x = mg.tensor(inp, requires_grad=True)
    # float targets take part too: MSE, BCE and probability targets are differentiable in y
    t = mg.tensor(target, requires_grad=target.dtype.kind == "f")
    assert mg.gradcheck(loss_fn(name, form, reduction), (x, t))


def _input_grad(name, reduction, inp, target):
    x = mg.tensor(inp, requires_grad=True)
    loss_fn(name, "functional", reduction)(x, mg.tensor(target)).backward()
    return x.grad.numpy()


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_gradient_is_softmax_minus_onehot(reduction):
    z, y, _ = _ce_class_case(np.random.default_rng(14))
    onehot = np.eye(4)[y]
    want = np_softmax(z) - onehot
    if reduction == "mean":
        want /= len(y)
    np.testing.assert_allclose(_input_grad("cross_entropy_classes", reduction, z, y), want, rtol=1e-12, atol=1e-15)


def test_cross_entropy_with_probabilities_gradient_is_softmax_minus_target():
    z, t, _ = _ce_prob_case(np.random.default_rng(15))
    want = (np_softmax(z) - t) / len(z)
    np.testing.assert_allclose(_input_grad("cross_entropy_probs", "mean", z, t), want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mse_gradient_is_two_residual_over_n(reduction):
    yhat, y, _ = _mse_case(np.random.default_rng(16))
    want = 2 * (yhat - y) / (yhat.size if reduction == "mean" else 1)
    np.testing.assert_allclose(_input_grad("mse", reduction, yhat, y), want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_bce_with_logits_gradient_is_sigmoid_minus_target_over_n(reduction):
    z, y, _ = _bce_logits_case(np.random.default_rng(17))
    want = (np_sigmoid(z) - y) / (z.size if reduction == "mean" else 1)
    np.testing.assert_allclose(_input_grad("bce_with_logits", reduction, z, y), want, rtol=1e-12, atol=1e-15)


def test_bce_gradient_on_probabilities():
    p, y, _ = _bce_case(np.random.default_rng(18))
    want = (p - y) / (p * (1 - p)) / p.size
    np.testing.assert_allclose(_input_grad("bce", "mean", p, y), want, rtol=1e-10)


def test_bce_of_sigmoid_backpropagates_sigmoid_minus_target():
    # REFERENCE.md: with p = σ(z), ∂L/∂z = (p − y)/N, through the unfused pair too.
    z_np, y_np, _ = _bce_logits_case(np.random.default_rng(19))
    z = mg.tensor(z_np, requires_grad=True)
    F.binary_cross_entropy(F.sigmoid(z), mg.tensor(y_np)).backward()
    np.testing.assert_allclose(z.grad.numpy(), (np_sigmoid(z_np) - y_np) / z_np.size, rtol=1e-9, atol=1e-15)


# ---- losses: stability ----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [mg.float32, mg.float64])
def test_cross_entropy_is_stable_for_huge_logits(dtype):
    z_np = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]])
    y_np = np.array([0, 2])
    # row 0: log-sum-exp = 1000 → loss 0; row 1: 1000 + log(1 + e^−1) − 999
    want_losses = np.array([0.0, 1.0 + math.log1p(math.exp(-1.0))])
    z = mg.tensor(z_np, dtype=dtype, requires_grad=True)
    loss = F.cross_entropy(z, mg.tensor(y_np), reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), want_losses, rtol=1e-6, atol=1e-6)
    loss.sum().backward()
    g = z.grad.numpy()
    assert np.all(np.isfinite(g))
    p1 = np.array([0.0, 1.0, math.exp(-1.0)]) / (1.0 + math.exp(-1.0))
    want_grad = np.array([[1.0, 0.0, 0.0], p1]) - np.eye(3)[y_np]  # softmax − onehot
    np.testing.assert_allclose(g, want_grad, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", [mg.float32, mg.float64])
def test_bce_with_logits_is_stable_for_huge_logits(dtype):
    z = mg.tensor([1000.0, -1000.0, 1000.0, -1000.0], dtype=dtype, requires_grad=True)
    y = mg.tensor([1.0, 0.0, 0.0, 1.0], dtype=dtype)
    losses = F.binary_cross_entropy_with_logits(z, y, reduction="none")
    np.testing.assert_allclose(losses.detach().numpy(), [0.0, 0.0, 1000.0, 1000.0], rtol=1e-6)
    losses.mean().backward()
    np.testing.assert_allclose(z.grad.numpy(), np.array([0.0, 0.0, 1.0, -1.0]) / 4, atol=1e-7)


def test_bce_clamps_log_at_minus_100():
    p = mg.tensor(np.array([0.0, 1.0, 0.0, 1.0]), requires_grad=True)
    y = mg.tensor(np.array([1.0, 0.0, 0.0, 1.0]))
    losses = F.binary_cross_entropy(p, y, reduction="none")
    assert np.array_equal(losses.detach().numpy(), [100.0, 100.0, 0.0, 0.0])
    losses.sum().backward()
    assert np.all(np.isfinite(p.grad.numpy()))


# ---- losses: errors -----------------------------------------------------------------------------


def test_cross_entropy_class_out_of_range_names_the_class():
    z = mg.zeros(3, 4)
    with pytest.raises(ValueError, match=r"class 4 is out of range for 4 classes"):
        F.cross_entropy(z, mg.tensor([0, 4, 1]))
    with pytest.raises(ValueError, match=r"class -1 is out of range"):
        nn.CrossEntropyLoss()(z, mg.tensor([0, -1, 1]))


def test_cross_entropy_float_class_targets_are_a_type_error():
    with pytest.raises(TypeError, match=r"integer.*float32"):
        F.cross_entropy(mg.zeros(3, 4), mg.tensor([0.0, 1.0, 2.0]))


@pytest.mark.parametrize("target_shape, message", [
    ((4,), r"3 rows.*4"),
    ((3, 5), r"\(3, 4\).*\(3, 5\)"),
    ((3, 4, 1), r"\(3, 4, 1\)"),
])
def test_cross_entropy_target_shape_mismatch(target_shape, message):
    target = mg.zeros(*target_shape, dtype=mg.int64 if len(target_shape) == 1 else mg.float32)
    with pytest.raises(ValueError, match=message):
        F.cross_entropy(mg.zeros(3, 4), target)


@pytest.mark.parametrize("name", ["mse", "bce", "bce_with_logits"])
def test_elementwise_loss_shape_mismatch_names_both_shapes(name):
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(4, 2\)"):
        loss_fn(name, "module", "mean")(mg.ones(4, 3) * 0.5, mg.ones(4, 2))


@pytest.mark.parametrize("form", ["functional", "module"])
@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_non_tensor_target_is_a_type_error(name, form):
    inp, target, _ = LOSSES[name][2](np.random.default_rng(20))
    with pytest.raises(TypeError, match=r"target must be a Tensor.*ndarray"):
        loss_fn(name, form, "mean")(mg.tensor(inp), target)


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_bad_reduction(name):
    functional, module, case = LOSSES[name]
    inp, target, _ = case(np.random.default_rng(21))
    with pytest.raises(ValueError, match="reduction.*'avg'"):
        functional(mg.tensor(inp), mg.tensor(target), reduction="avg")
    with pytest.raises(ValueError, match="reduction.*'avg'"):
        module(reduction="avg")


def test_bce_rejects_values_outside_zero_one():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        F.binary_cross_entropy(mg.tensor([0.5, 1.5]), mg.tensor([0.0, 1.0]))


# ---- nn.init --------------------------------------------------------------------------------------

FAN_OUT, FAN_IN = 300, 100  # a weight of shape (out, in): distinct fans catch a swap


def _weight():
    return nn.Parameter(np.full((FAN_OUT, FAN_IN), 123.0))


def _check_uniform(w, bound):
    assert np.all(np.abs(w) <= bound)
    assert w.max() > 0.99 * bound and w.min() < -0.99 * bound
    assert abs(w.mean()) < 0.01 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)


def _check_normal(w, std):
    assert abs(w.mean()) < 0.02 * std
    assert w.std() == pytest.approx(std, rel=0.02)


@pytest.mark.parametrize("gain", [1.0, 5.0 / 3])
def test_xavier_uniform_bound(gain):
    mg.manual_seed(0)
    w = nn.init.xavier_uniform_(_weight(), gain=gain).detach().numpy()
    _check_uniform(w, gain * math.sqrt(6.0 / (FAN_IN + FAN_OUT)))


@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_xavier_normal_std(gain):
    mg.manual_seed(0)
    w = nn.init.xavier_normal_(_weight(), gain=gain).detach().numpy()
    _check_normal(w, gain * math.sqrt(2.0 / (FAN_IN + FAN_OUT)))


@pytest.mark.parametrize("kwargs, gain, fan", [
    ({}, math.sqrt(2.0), FAN_IN),  # PyTorch's defaults: a=0, fan_in, leaky_relu
    ({"nonlinearity": "relu", "mode": "fan_out"}, math.sqrt(2.0), FAN_OUT),
    ({"a": 0.2}, math.sqrt(2.0 / (1 + 0.2 ** 2)), FAN_IN),
    ({"nonlinearity": "tanh"}, 5.0 / 3, FAN_IN),
])
def test_kaiming_uniform_and_normal(kwargs, gain, fan):
    mg.manual_seed(0)
    w = nn.init.kaiming_uniform_(_weight(), **kwargs).detach().numpy()
    _check_uniform(w, gain * math.sqrt(3.0 / fan))
    w = nn.init.kaiming_normal_(_weight(), **kwargs).detach().numpy()
    _check_normal(w, gain / math.sqrt(fan))


def test_uniform_and_normal():
    mg.manual_seed(0)
    w = nn.init.uniform_(_weight(), -0.5, 1.5).detach().numpy()
    assert w.min() >= -0.5 and w.max() < 1.5
    assert w.mean() == pytest.approx(0.5, abs=0.01)
    w = nn.init.normal_(_weight(), mean=2.0, std=0.5).detach().numpy()
    assert w.mean() == pytest.approx(2.0, abs=0.01)
    assert w.std() == pytest.approx(0.5, rel=0.02)


@pytest.mark.parametrize("init, want", [
    (nn.init.zeros_, 0.0),
    (nn.init.ones_, 1.0),
    (lambda t: nn.init.uniform_(t, 0.0, 1.0), None),
    (lambda t: nn.init.normal_(t), None),
    (nn.init.xavier_uniform_, None),
    (nn.init.xavier_normal_, None),
    (nn.init.kaiming_uniform_, None),
    (nn.init.kaiming_normal_, None),
])
def test_init_fills_in_place_returns_the_tensor_and_records_no_graph(init, want):
    p = nn.Parameter(np.full((3, 4), 123.0, dtype=np.float32))
    data = p.raw
    out = init(p)
    assert out is p
    assert p.raw is data  # filled in place: optimizers and models keep their reference
    assert p.dtype == mg.float32 and p.is_leaf and p.grad_fn is None and p.requires_grad
    filled = p.detach().numpy()
    assert not np.any(filled == 123.0)
    if want is not None:
        assert np.array_equal(filled, np.full((3, 4), want, np.float32))


def test_fan_based_init_needs_two_dimensions():
    with pytest.raises(ValueError, match="2 dimensions"):
        nn.init.xavier_uniform_(nn.Parameter(np.zeros(5)))


# ---- nn.utils -------------------------------------------------------------------------------------


def _params_with_grads(grads):
    params = []
    for g in grads:
        p = nn.Parameter(np.zeros_like(g))
        p.grad = mg.tensor(g)
        params.append(p)
    return params


def _grad_values(params):
    return [p.grad.numpy().copy() for p in params]


def _global_norm(grads):
    return math.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in grads))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_grad_norm_returns_pre_clip_norm_and_rescales_to_max_norm(dtype):
    rng = np.random.default_rng(22)
    grads = [rng.standard_normal(s).astype(dtype) * 3 for s in [(4, 3), (3,), (2, 2)]]
    params = _params_with_grads(grads)
    params.append(nn.Parameter(np.zeros(2)))  # no grad: skipped
    want = _global_norm(grads)
    assert want > 1.0
    total = nn.utils.clip_grad_norm_(params, max_norm=1.0)
    assert isinstance(total, float)
    assert total == pytest.approx(want, rel=1e-6 if dtype == np.float32 else 1e-12)
    after = _grad_values(params[:3])
    assert _global_norm(after) == pytest.approx(1.0, rel=1e-5)
    for g0, g1 in zip(grads, after):  # one common factor: the direction is kept
        np.testing.assert_allclose(g1, g0 / want, rtol=1e-5)
    assert params[3].grad is None


def test_clip_grad_norm_leaves_small_gradients_alone():
    grads = [np.array([0.3, -0.4]), np.array([[0.1]])]
    params = _params_with_grads(grads)
    total = nn.utils.clip_grad_norm_(iter(params), max_norm=5.0)
    assert total == pytest.approx(math.sqrt(0.09 + 0.16 + 0.01), rel=1e-12)
    for g0, g1 in zip(grads, _grad_values(params)):
        assert np.array_equal(g0, g1)


def test_clip_grad_value_clamps_each_element():
    grads = [np.array([-3.0, -0.5, 0.0, 0.2, 7.0]), np.array([[1.0, -1.5]])]
    params = _params_with_grads(grads)
    nn.utils.clip_grad_value_(params, 1.0)
    after = _grad_values(params)
    assert np.array_equal(after[0], [-1.0, -0.5, 0.0, 0.2, 1.0])
    assert np.array_equal(after[1], [[1.0, -1.0]])


def test_clipping_rejects_negative_limits():
    params = _params_with_grads([np.ones(2)])
    with pytest.raises(ValueError, match="max_norm"):
        nn.utils.clip_grad_norm_(params, -1.0)
    with pytest.raises(ValueError, match="clip_value"):
        nn.utils.clip_grad_value_(params, -1.0)
    assert np.array_equal(params[0].grad.numpy(), np.ones(2))


def test_sequential_sees_modules_and_slopes_changed_after_a_first_call():
    mg.manual_seed(0)
    seq = nn.Sequential(nn.Linear(3, 4, dtype=mg.float64), nn.LeakyReLU(0.1))
    x = mg.tensor(np.random.default_rng(1).standard_normal((5, 3)))
    seq(x)  # builds and caches the fusion plan
    seq[1].negative_slope = 0.5
    z = x.numpy() @ seq[0].weight.detach().numpy().T + seq[0].bias.detach().numpy()
    np.testing.assert_allclose(seq(x).detach().numpy(), np.where(z > 0, z, 0.5 * z), rtol=1e-12)
    seq.append(nn.Tanh())
    np.testing.assert_allclose(seq(x).detach().numpy(), np.tanh(np.where(z > 0, z, 0.5 * z)), rtol=1e-12)
