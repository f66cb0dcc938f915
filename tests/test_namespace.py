"""PyTorch's names on minigrad (API.md, "PyTorch compatibility"): the dtype aliases,
devices, creation functions, module-level ops, the Tensor methods MLP code uses,
type promotion and the edge cases PyTorch defines. Values against NumPy written
here, gradients against central differences."""

import math

import numpy as np
import pytest

import minigrad as mg

rng = np.random.default_rng(3)


def leaf(a):
    return mg.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


# ---- dtypes and devices ----------------------------------------------------------------------


def test_pytorchs_dtype_names():
    assert mg.float == mg.float32 == np.float32 and mg.double == mg.float64
    assert mg.long == mg.int64 and mg.int == mg.int32 and mg.bool == np.bool_
    assert mg.tensor([1.0], dtype=mg.float).dtype == np.float32
    assert mg.tensor([1.0], dtype="double").dtype == np.float64
    assert mg.tensor([1.7, -1.7]).long().tolist() == [1, -1]
    assert mg.tensor([0.0, 2.0]).bool().tolist() == [False, True]
    assert mg.tensor([1.5]).int().dtype == np.int32
    with pytest.raises(TypeError, match="float16"):
        mg.zeros(2, dtype=np.float16)


def test_devices_compare_and_print_as_pytorchs():
    d = mg.device("cpu")
    assert d.type == "cpu" and str(d) == "cpu" and d == "cpu" and d == mg.device(d)
    assert mg.device("cuda:0").index == 0 and str(mg.device("cuda:0")) == "cuda:0"
    assert mg.device("cuda:0") == "cuda" and mg.device("cuda") != "cpu"
    t = mg.zeros(2, device=mg.device("cpu"))
    assert t.device == "cpu" and t.device.type == "cpu" and not t.is_cuda
    with pytest.raises(ValueError, match="unknown device"):
        mg.device("tpu")


def test_accelerator_names_a_device_or_none():
    acc = mg.accelerator.current_accelerator()
    if mg.accelerator.is_available():
        assert acc == "cuda" and acc.type == "cuda"
    else:
        assert acc is None


def test_the_default_dtype_governs_python_floats_and_int_promotion():
    assert mg.get_default_dtype() == mg.float32
    mg.set_default_dtype(mg.float64)
    try:
        assert mg.tensor([1.0]).dtype == np.float64
        assert mg.zeros(2).dtype == np.float64 and mg.randn(2).dtype == np.float64
        assert mg.tensor([1, 2]).exp().dtype == np.float64
        assert mg.tensor(np.ones(2, np.float32)).dtype == np.float32   # arrays keep theirs
    finally:
        mg.set_default_dtype(mg.float32)
    with pytest.raises(TypeError, match="float32 or float64"):
        mg.set_default_dtype(mg.int64)


# ---- creation ----------------------------------------------------------------------------------


def test_the_tensor_constructor():
    assert mg.Tensor([1, 2]).dtype == np.float32 and mg.Tensor([1, 2]).tolist() == [1.0, 2.0]
    assert mg.Tensor(2, 3).shape == (2, 3)
    assert mg.Tensor([0.5], requires_grad=True).requires_grad


def test_creation_functions():
    np.testing.assert_allclose(mg.linspace(-1, 1, 5).numpy(), np.linspace(-1, 1, 5))
    assert mg.linspace(0, 1, 5, dtype=mg.float64).dtype == np.float64
    assert mg.full((2, 3), 1.5).tolist() == [[1.5] * 3] * 2 and mg.full((2,), 1.5).dtype == np.float32
    assert mg.full((2,), 7).dtype == np.int64 and mg.full((1,), True).dtype == np.bool_
    assert mg.full((), 0.3, requires_grad=True).requires_grad
    assert mg.full_like(mg.zeros(2, 2, dtype=mg.float64), 3).tolist() == [[3.0, 3.0]] * 2
    np.testing.assert_array_equal(mg.eye(3).numpy(), np.eye(3))
    assert mg.eye(2, 4).shape == (2, 4)
    assert mg.empty(3, 4).shape == (3, 4) and mg.empty((2,)).dtype == np.float32
    assert mg.zeros((2, 3)).shape == mg.ones([2, 3]).shape == (2, 3)
    assert mg.arange(2, 11, 3).tolist() == [2, 5, 8] and mg.arange(3).dtype == np.int64
    np.testing.assert_allclose(mg.arange(0, 1, 0.25).numpy(), [0, 0.25, 0.5, 0.75])
    assert mg.arange(0, 1, 0.25).dtype == np.float32
    r = mg.randint(3, 7, (50,))
    assert r.dtype == np.int64 and r.numpy().min() >= 3 and r.numpy().max() < 7
    assert mg.randint(5, (2, 2)).shape == (2, 2)
    like = mg.zeros(3, 2, dtype=mg.float64)
    assert mg.randn_like(like).shape == (3, 2) and mg.rand_like(like).dtype == np.float64
    assert 0 <= mg.rand_like(like).numpy().min() and mg.rand_like(like).numpy().max() < 1
    assert sorted(mg.randperm(5).tolist()) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("call, error", [
    (lambda: mg.arange(0, 10, 0), ValueError),
    (lambda: mg.arange(0, 10, -1), ValueError),
    (lambda: mg.linspace(0, 1, -1), ValueError),
    (lambda: mg.randint(5, 5, (2,)), ValueError),
    (lambda: mg.randn(2, dtype=mg.int64), TypeError),
    (lambda: mg.zeros(2, -1), ValueError),
])
def test_bad_creation_arguments_raise(call, error):
    with pytest.raises(error):
        call()


# ---- module-level ops are the methods -----------------------------------------------------------


A = rng.standard_normal((2, 3))
P = rng.uniform(0.5, 2.0, (2, 3))


@pytest.mark.parametrize("name, call, want", [
    ("exp", lambda t: mg.exp(t), np.exp(A)),
    ("sigmoid", lambda t: mg.sigmoid(t), 1 / (1 + np.exp(-A))),
    ("relu", lambda t: mg.relu(t), np.maximum(A, 0)),
    ("tanh", lambda t: mg.tanh(t), np.tanh(A)),
    ("abs", lambda t: mg.abs(t), np.abs(A)),
    ("sin", lambda t: mg.sin(t), np.sin(A)),
    ("cos", lambda t: mg.cos(t), np.cos(A)),
    ("pow", lambda t: mg.pow(t, 3), A ** 3),
    ("clamp", lambda t: mg.clamp(t, min=-0.5, max=0.5), np.clip(A, -0.5, 0.5)),
    ("sum", lambda t: mg.sum(t, dim=1, keepdim=True), A.sum(1, keepdims=True)),
    ("mean", lambda t: mg.mean(t, 0), A.mean(0)),
    ("max", lambda t: mg.max(t), A.max()),
    ("min_dim", lambda t: mg.min(t, dim=1).values, A.min(1)),
    ("argmax", lambda t: mg.argmax(t, dim=1), A.argmax(1)),
    ("argmin", lambda t: mg.argmin(t), A.argmin()),
    ("softmax", lambda t: mg.softmax(t, dim=1), np.exp(A) / np.exp(A).sum(1, keepdims=True)),
    ("log_softmax", lambda t: mg.log_softmax(t, 1),
     A - np.log(np.exp(A).sum(1, keepdims=True))),
    ("flatten", lambda t: mg.flatten(t), A.reshape(-1)),
    ("squeeze", lambda t: mg.squeeze(mg.unsqueeze(t, 0)), A),
    ("unsqueeze", lambda t: mg.unsqueeze(t, -1), A[..., None]),
    ("matmul", lambda t: mg.matmul(input=t, other=t.T), A @ A.T),
    ("mm", lambda t: mg.mm(t.t(), t), A.T @ A),
    ("cat", lambda t: mg.cat([t, t * 2], dim=1), np.concatenate([A, 2 * A], 1)),
    ("stack", lambda t: mg.stack([t, t], dim=1), np.stack([A, A], 1)),
    ("where", lambda t: mg.where(t > 0, t, 0.0), np.where(A > 0, A, 0.0)),
    ("maximum", lambda t: mg.maximum(t, t.T.sum(1)), np.maximum(A, A.T.sum(1))),
    ("minimum", lambda t: mg.minimum(t, -t), np.minimum(A, -A)),
])
def test_module_level_ops(name, call, want):
    np.testing.assert_allclose(call(mg.tensor(A)).numpy(), want, rtol=1e-12, atol=1e-15)


def test_module_level_ops_want_tensors():
    with pytest.raises(TypeError, match="exp: input must be a Tensor"):
        mg.exp(1.0)


# ---- Tensor methods, forward and gradient ---------------------------------------------------


@pytest.mark.parametrize("name, fn, args", [
    ("pow_tensor_exponent", lambda x, e: x.pow(e), (P, rng.uniform(-1, 2, (2, 3)))),
    ("pow_broadcast_exponent", lambda x, e: x ** e, (P, rng.uniform(-1, 2, (3,)))),
    ("number_to_a_tensor", lambda x: 2.0 ** x, (A,)),
    ("sin_cos", lambda x: x.sin() * x.cos(), (A,)),
    ("maximum_minimum", lambda a, b: mg.maximum(a, b) + 2 * mg.minimum(a, b), (A, A.T[::-1].T)),
    ("where", lambda a, b: mg.where(a > b, a * a, b), (A, P)),
    ("cat", lambda a, b: mg.cat([a, b.exp()], dim=0), (A, P)),
    ("stack", lambda a, b: mg.stack([a, b], dim=2).sum(0), (A, P)),
    ("expand", lambda x: x[:, :1].expand(2, 4) * x.sum(), (A,)),
    ("permute", lambda x: x.unsqueeze(0).permute(2, 0, 1) * 2.0, (A,)),
    ("view_as_clone", lambda x: x.clone().view_as(x.T) * 3.0, (A,)),
    ("setitem", lambda x: _assign(x * 1.0, (0, slice(1, None)), x[1, :2] * 5.0), (A,)),
    ("amax_amin", lambda x: x.amax(1) - x.amin(0).sum(), (A,)),
])
def test_new_differentiable_ops_pass_gradcheck(name, fn, args):
    assert mg.gradcheck(fn, tuple(leaf(a) for a in args))


def _assign(t, index, value):
    t[index] = value
    return t


def test_maximum_splits_the_gradient_at_a_tie():
    a, b = leaf([1.0, 2.0, 3.0]), leaf([1.0, 5.0, 0.0])
    mg.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 0.0, 1.0] and b.grad.tolist() == [0.5, 1.0, 0.0]


def test_shape_methods():
    t = mg.tensor(np.arange(24.0).reshape(2, 3, 4))
    assert t.size() == (2, 3, 4) and t.size(1) == 3 and t.size(-1) == 4
    assert t.dim() == 3 and t.numel() == 24
    assert t.flatten(1).shape == (2, 12) and t.flatten(0, 1).shape == (6, 4)
    assert t.flatten(-2, -1).shape == (2, 12)
    assert t.view(6, 4).shape == (6, 4) and t.view(-1).shape == (24,)
    assert t.unsqueeze(1).shape == (2, 1, 3, 4) and t.unsqueeze(-1).shape == (2, 3, 4, 1)
    assert t[:, :1].squeeze().shape == (2, 4) and t[:, :1].squeeze(1).shape == (2, 4)
    assert t[:, :1].squeeze(0).shape == (2, 1, 4)                # not of length 1: kept
    assert t.permute(2, 0, 1).shape == (4, 2, 3)
    assert t.transpose(0, -1).shape == (4, 3, 2)
    assert t[0].t().shape == (4, 3)
    assert t[:, :, :1].expand(-1, -1, 5).shape == (2, 3, 5)
    assert t.permute(2, 1, 0).contiguous().raw.flags.c_contiguous
    for bad in (lambda: t.flatten(5), lambda: t.transpose(0, 5), lambda: t.unsqueeze(4),
                lambda: t.size(3)):
        with pytest.raises(IndexError):
            bad()
    with pytest.raises(ValueError, match="permutation"):
        t.permute(0, 0, 1)
    with pytest.raises(ValueError, match="cannot expand"):
        t.expand(2, 5, 4)


def test_conversions_and_comparisons():
    t = mg.tensor([1.5, -2.0])
    assert t.to(mg.float64).dtype == np.float64 and t.to("cpu", mg.float64).dtype == np.float64
    assert t.double().type_as(t).dtype == np.float32
    assert t.to(mg.zeros(1, dtype=mg.float64)).dtype == np.float64
    assert t.eq(1.5).tolist() == [True, False] and t.ne(1.5).tolist() == [False, True]
    assert t.lt(0).tolist() == [False, True] and t.ge(-2.0).tolist() == [True, True]
    assert t.neg().tolist() == [-1.5, 2.0] and t.sign().tolist() == [1.0, -1.0]
    assert t.argmax(dim=0, keepdim=True).shape == (1,)


# ---- type promotion, as PyTorch -----------------------------------------------------------------


@pytest.mark.parametrize("expr, dtype", [
    (lambda i, f, d: i + 1.5, np.float32),
    (lambda i, f, d: i * f, np.float32),
    (lambda i, f, d: i / i, np.float32),
    (lambda i, f, d: f + d, np.float64),
    (lambda i, f, d: f * 2.5, np.float32),
    (lambda i, f, d: i + 2, np.int64),
    (lambda i, f, d: i.exp(), np.float32),
    (lambda i, f, d: i.log(), np.float32),
    (lambda i, f, d: i.sqrt(), np.float32),
    (lambda i, f, d: i.sigmoid(), np.float32),
    (lambda i, f, d: i.tanh(), np.float32),
    (lambda i, f, d: i.sin(), np.float32),
    (lambda i, f, d: i.softmax(0), np.float32),
    (lambda i, f, d: i.float().mean(), np.float32),
    (lambda i, f, d: mg.cat([i, f]), np.float32),
    (lambda i, f, d: f.pow(i), np.float32),
])
def test_type_promotion(expr, dtype):
    i = mg.tensor([1, 2, 3])
    f = mg.tensor([0.5, 1.0, 2.0])
    d = mg.tensor(np.array([1.0, 2.0, 3.0]))
    assert expr(i, f, d).dtype == dtype


# ---- edge cases PyTorch defines ------------------------------------------------------------------


def test_the_gradient_of_x_to_the_zero_at_zero_is_zero():
    x = leaf([0.0, 2.0])
    (x ** 0).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    y = leaf([0.0, 2.0])
    y.pow(mg.tensor([0.0, 0.0], dtype=mg.float64)).sum().backward()
    assert y.grad.tolist() == [0.0, 0.0]


def test_the_gradient_of_a_power_with_respect_to_its_exponent_at_zero_base():
    e = leaf([2.0, 0.5])
    (mg.tensor([0.0, 4.0], dtype=mg.float64) ** e).sum().backward()   # ∂/∂e xᵉ = xᵉ ln x; 0 at x = 0
    np.testing.assert_allclose(e.grad.numpy(), [0.0, 2.0 * math.log(4.0)])


def test_the_mean_of_an_integer_tensor_raises_as_in_pytorch():
    with pytest.raises(TypeError, match="mean"):
        mg.tensor([1, 2]).mean()


def test_the_mean_of_nothing_is_nan():
    assert math.isnan(mg.zeros(0).mean().item())
    assert np.isnan(mg.zeros(2, 0).mean(dim=1).numpy()).all()


def test_reducing_a_0d_tensor_along_dim_0_or_minus_1_returns_it():
    t = mg.tensor(3.5)
    for dim in (0, -1):
        assert t.sum(dim).item() == 3.5 and t.sum(dim).shape == ()
        assert t.mean(dim).item() == 3.5
    with pytest.raises(IndexError):
        t.sum(1)


@pytest.mark.parametrize("expr, dtype", [
    (lambda: mg.tensor([1.0, 2.0]) * mg.tensor(2.0, dtype=mg.float64), np.float32),
    (lambda: mg.tensor([1, 2], dtype=mg.int32) + mg.tensor(3), np.int32),
    (lambda: mg.tensor([1, 2]) + mg.tensor(1.5, dtype=mg.float64), np.float64),
    (lambda: mg.tensor(1.0) + mg.tensor(2.0, dtype=mg.float64), np.float64),
])
def test_a_0d_tensor_promotes_as_a_number_does(expr, dtype):
    # PyTorch: a 0-d tensor does not widen a tensor with dimensions of its own kind,
    # but lifts it into a higher kind (int to float)
    assert expr().dtype == dtype


def test_cat_and_stack_of_one_tensor_give_new_storage():
    x = mg.tensor([1.0, 2.0])
    for out in (mg.cat([x]), mg.stack([x])):
        out.add_(1.0)
    assert x.tolist() == [1.0, 2.0]


def test_an_integer_to_a_negative_power_names_the_real_error():
    with pytest.raises(ValueError, match="negative integer powers"):
        mg.tensor([2, 3]) ** -1
