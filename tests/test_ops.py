"""Every differentiable op of API.md's Tensors section: its forward against a NumPy
reference written here, and its backward against central differences
(``mg.gradcheck``, float64), broadcast shapes included. Then gradcheck itself: it
must reject a wrong backward and accept a correct user-defined Function."""

import operator

import numpy as np
import pytest

import minigrad as mg

rng = np.random.default_rng(20240607)


def leaf(a):
    return mg.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def randn(*shape):
    return rng.standard_normal(shape)


def away_from_zero(*shape, lo=0.5, hi=2.0):
    """Values of either sign with |v| in [lo, hi]: no kink of relu/abs and no pole of 1/x."""
    return rng.uniform(lo, hi, shape) * rng.choice([-1.0, 1.0], shape)


def check(fn, ref, *arrays, atol=1e-12):
    """fn's forward equals ref on the same float64 arrays, and fn passes gradcheck."""
    tensors = [leaf(a) for a in arrays]
    out = fn(*tensors)
    expected = np.asarray(ref(*arrays))
    assert out.shape == expected.shape
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12, atol=atol)
    assert mg.gradcheck(fn, tuple(tensors))


# ---- binary arithmetic with broadcasting ----------------------------------------------

BINARY = [operator.add, operator.sub, operator.mul, operator.truediv]
BROADCAST = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((3, 4), (3, 1)),
    ((3, 4), (1, 4)),
    ((3, 4), ()),
    ((4,), (3, 4)),
    ((3, 1), (1, 4)),
    ((), (3, 4)),
    ((2, 1, 4), (3, 1)),
]


@pytest.mark.parametrize("op", BINARY, ids=lambda op: op.__name__)
@pytest.mark.parametrize("sa, sb", BROADCAST, ids=str)
def test_binary_op_forward_and_gradcheck_with_broadcast(op, sa, sb):
    a, b = randn(*sa), away_from_zero(*sb)  # b divides
    check(op, op, a, b)


@pytest.mark.parametrize("sa, sb", [((3, 4), (4,)), ((3, 4), (3, 1)), ((3, 4), ()), ((1, 4), (3, 1))])
def test_broadcast_gradient_is_summed_back_to_input_shape(sa, sb):
    # d/da sum(a * b) = b broadcast, summed over the repeated axes; likewise for b.
    a, b = randn(*sa), randn(*sb)
    ta, tb = leaf(a), leaf(b)
    (ta * tb).sum().backward()
    full = np.broadcast_shapes(sa, sb)
    ga = np.broadcast_to(b, full).copy()
    gb = np.broadcast_to(a, full).copy()
    # reduce by hand: leading axes, then axes where the input had size 1
    def reduce(g, shape):
        while g.ndim > len(shape):
            g = g.sum(axis=0)
        for i, n in enumerate(shape):
            if n == 1:
                g = g.sum(axis=i, keepdims=True)
        return g
    assert ta.grad.shape == sa and tb.grad.shape == sb
    np.testing.assert_allclose(ta.grad.numpy(), reduce(ga, sa))
    np.testing.assert_allclose(tb.grad.numpy(), reduce(gb, sb))


def test_bias_broadcast_gradient_counts_rows():
    # out = x + b with x (3, 4), b (4,): each b_j is added to 3 rows, so ∂Σout/∂b_j = 3.
    x, b = leaf(randn(3, 4)), leaf(randn(4))
    (x + b).sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), np.full(4, 3.0))
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((3, 4)))


NUMBER_OPS = [
    ("x + 2.5", lambda x: x + 2.5, lambda x: x + 2.5),
    ("2.5 + x", lambda x: 2.5 + x, lambda x: 2.5 + x),
    ("x - 2.5", lambda x: x - 2.5, lambda x: x - 2.5),
    ("2.5 - x", lambda x: 2.5 - x, lambda x: 2.5 - x),
    ("x * -1.5", lambda x: x * -1.5, lambda x: x * -1.5),
    ("-1.5 * x", lambda x: -1.5 * x, lambda x: -1.5 * x),
    ("x * 3 (int)", lambda x: x * 3, lambda x: x * 3),
    ("x / 4.0", lambda x: x / 4.0, lambda x: x / 4.0),
    ("4.0 / x", lambda x: 4.0 / x, lambda x: 4.0 / x),
    ("-x", lambda x: -x, lambda x: -x),
    ("x ** 2", lambda x: x ** 2, lambda x: x * x),
    ("x ** 3", lambda x: x ** 3, lambda x: x * x * x),
    ("x ** -1", lambda x: x ** -1, lambda x: 1.0 / x),
    ("x ** 1.0", lambda x: x ** 1.0, lambda x: x),
]


@pytest.mark.parametrize("name, fn, ref", NUMBER_OPS, ids=[n for n, _, _ in NUMBER_OPS])
def test_op_with_python_number(name, fn, ref):
    check(fn, ref, away_from_zero(3, 4))


@pytest.mark.parametrize("p, ref", [
    (0.5, np.sqrt),
    (-1.5, lambda x: 1.0 / (x * np.sqrt(x))),
    (2.5, lambda x: x * x * np.sqrt(x)),
])
def test_fractional_power_of_positive_input(p, ref):
    check(lambda x: x ** p, ref, rng.uniform(0.5, 2.0, (3, 4)))


def test_power_exponent_must_be_a_number_or_a_tensor():
    x = leaf([1.0, 2.0])
    with pytest.raises(TypeError, match="exponent"):
        x ** "2"


# ---- matrix product ---------------------------------------------------------------------


@pytest.mark.parametrize("sa, sb", [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,))], ids=str)
def test_matmul_forward_and_gradcheck(sa, sb):
    def ref(a, b):
        # row-by-column sums written out, vectors treated as NumPy does
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        out = np.array([[sum(a2[i, k] * b2[k, j] for k in range(a2.shape[1]))
                         for j in range(b2.shape[1])] for i in range(a2.shape[0])])
        if a.ndim == 1:
            out = out[0]
        if b.ndim == 1:
            out = out[..., 0]
        return out
    check(operator.matmul, ref, randn(*sa), randn(*sb))


def test_matmul_gradients_follow_the_formula():
    # L = Σ (A B) ⇒ ∂L/∂A = 1 Bᵀ (row sums of B), ∂L/∂B = Aᵀ 1 (column sums of A)
    a, b = randn(3, 4), randn(4, 5)
    ta, tb = leaf(a), leaf(b)
    (ta @ tb).sum().backward()
    np.testing.assert_allclose(ta.grad.numpy(), np.tile(b.sum(axis=1), (3, 1)))
    np.testing.assert_allclose(tb.grad.numpy(), np.tile(a.sum(axis=0)[:, None], (1, 5)))


# ---- reductions ---------------------------------------------------------------------------

AXES = [None, 0, 1, -1, 2, (0, 2), (-1, 0), (0, 1, 2)]


@pytest.mark.parametrize("method", ["sum", "mean"])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_sum_mean_forward_and_gradcheck(method, axis, keepdims):
    def ref(x):
        total = x.sum(axis=axis, keepdims=keepdims)
        if method == "sum":
            return total
        axes = range(3) if axis is None else np.atleast_1d(axis)
        n = np.prod([x.shape[a] for a in axes])
        return total / n
    check(lambda x: getattr(x, method)(axis, keepdims), ref, randn(2, 3, 4))


@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("op", ["amax", "amin"])
def test_amax_amin_forward_and_gradcheck(axis, keepdims, op):
    # distinct values 0.1 apart, so an eps-perturbation never changes the maximum
    x = rng.permutation(24).reshape(2, 3, 4) * 0.1
    ref = np.max if op == "amax" else np.min
    check(lambda t: getattr(t, op)(axis, keepdims), lambda a: ref(a, axis=axis, keepdims=keepdims), x)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_along_a_dim_give_values_and_indices(dim, keepdim, op):
    x = rng.permutation(24).reshape(2, 3, 4) * 0.1
    ref, arg = (np.max, np.argmax) if op == "max" else (np.min, np.argmin)
    out = getattr(mg.tensor(x), op)(dim, keepdim)
    values, indices = out                        # a named tuple, as PyTorch's
    assert out.values is values and out.indices is indices
    np.testing.assert_array_equal(values.numpy(), ref(x, axis=dim, keepdims=keepdim))
    want = arg(x, axis=dim)
    np.testing.assert_array_equal(indices.numpy(), np.expand_dims(want, dim) if keepdim else want)
    assert indices.dtype == mg.int64
    check(lambda t: getattr(t, op)(dim, keepdim).values,
          lambda a: ref(a, axis=dim, keepdims=keepdim), x)


def test_max_gradient_goes_to_maximal_element():
    x = leaf([[1.0, 7.0, 3.0], [9.0, -2.0, 4.0]])
    x.max(dim=1).values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0], [1, 0, 0]])
    y = leaf([[1.0, 7.0, 3.0], [9.0, -2.0, 4.0]])
    y.max().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [[0, 0, 0], [1, 0, 0]])


def test_mean_gradient_is_one_over_n():
    x = leaf(randn(4, 5))
    x.mean().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((4, 5), 1 / 20))


def test_reductions_of_scalar_shaped_tensor():
    check(lambda x: x.sum(), lambda a: a, np.array(1.5))
    check(lambda x: x.mean(), lambda a: a, np.array(1.5))


# ---- shapes ---------------------------------------------------------------------------------

SHAPE_OPS = [
    ("reshape(4, 6)", lambda t: t.reshape(4, 6), lambda a: a.reshape(4, 6)),
    ("reshape((6, -1))", lambda t: t.reshape((6, -1)), lambda a: a.reshape(6, 4)),
    ("reshape(-1)", lambda t: t.reshape(-1), lambda a: a.ravel()),
    ("flatten()", lambda t: t.flatten(), lambda a: a.ravel()),
    ("flatten(1)", lambda t: t.flatten(1), lambda a: a.reshape(2, 12)),
    ("flatten(2)", lambda t: t.flatten(2), lambda a: a),
    ("flatten(-2)", lambda t: t.flatten(-2), lambda a: a.reshape(2, 12)),
    ("T", lambda t: t.T, lambda a: np.transpose(a, (2, 1, 0))),
    ("transpose(0, 2)", lambda t: t.transpose(0, 2), lambda a: np.swapaxes(a, 0, 2)),
    ("transpose(-1, 1)", lambda t: t.transpose(-1, 1), lambda a: np.swapaxes(a, 1, 2)),
    ("T then reshape", lambda t: t.T.reshape(4, 6), lambda a: np.transpose(a, (2, 1, 0)).reshape(4, 6)),
]


@pytest.mark.parametrize("name, fn, ref", SHAPE_OPS, ids=[n for n, _, _ in SHAPE_OPS])
def test_shape_op_forward_and_gradcheck(name, fn, ref):
    check(fn, ref, randn(2, 3, 4))


def test_T_of_matrix_swaps_rows_and_columns():
    a = randn(3, 5)
    check(lambda t: t.T, lambda x: np.array([[x[i, j] for i in range(3)] for j in range(5)]), a)


def test_reshape_to_wrong_size_raises_value_error_naming_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        leaf(randn(2, 3)).reshape(4, 2)


# ---- elementwise functions --------------------------------------------------------------

# Hand-picked values: every one is at least 0.05 away from 0 and from the clamp bounds
# below, so no eps-perturbation crosses a kink of relu, abs or clamp.
X = np.array([[-1.7, -0.9, -0.35, 0.25],
              [0.6, 1.1, 1.8, -1.3],
              [0.45, -0.6, 2.2, -2.4]])

UNARY = [
    ("exp", lambda t: t.exp(), np.exp, X),
    ("log", lambda t: t.log(), np.log, np.abs(X)),
    ("sqrt", lambda t: t.sqrt(), np.sqrt, np.abs(X)),
    ("abs", lambda t: t.abs(), lambda a: np.where(a < 0, -a, a), X),
    ("relu", lambda t: t.relu(), lambda a: np.where(a > 0, a, 0.0), X),
    ("sigmoid", lambda t: t.sigmoid(), lambda a: 1.0 / (1.0 + np.exp(-a)), X),
    ("tanh", lambda t: t.tanh(), lambda a: (np.exp(2 * a) - 1) / (np.exp(2 * a) + 1), X),
    ("clamp(min=-0.5)", lambda t: t.clamp(min=-0.5), lambda a: np.where(a < -0.5, -0.5, a), X),
    ("clamp(max=0.8)", lambda t: t.clamp(max=0.8), lambda a: np.where(a > 0.8, 0.8, a), X),
    ("clamp(-0.5, 0.8)", lambda t: t.clamp(-0.5, 0.8),
     lambda a: np.where(a < -0.5, -0.5, np.where(a > 0.8, 0.8, a)), X),
]


@pytest.mark.parametrize("name, fn, ref, x", UNARY, ids=[u[0] for u in UNARY])
def test_elementwise_function_forward_and_gradcheck(name, fn, ref, x):
    check(fn, ref, x, atol=1e-15)


@pytest.mark.parametrize("name, fn, ref, x", UNARY, ids=[u[0] for u in UNARY])
def test_elementwise_function_keeps_float32(name, fn, ref, x):
    out = fn(mg.tensor(x.astype(np.float32), requires_grad=True))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.detach().numpy(), ref(x), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name, fn, dfdx", [
    ("relu", lambda t: t.relu(), lambda a: (a > 0).astype(float)),
    ("abs", lambda t: t.abs(), np.sign),
    ("clamp", lambda t: t.clamp(-0.5, 0.8), lambda a: ((a >= -0.5) & (a <= 0.8)).astype(float)),
    ("sigmoid", lambda t: t.sigmoid(), lambda a: np.exp(-a) / (1 + np.exp(-a)) ** 2),
    ("tanh", lambda t: t.tanh(), lambda a: 1 / np.cosh(a) ** 2),
    ("log", lambda t: t.abs().log(), lambda a: 1 / a),
])
def test_elementwise_derivative_matches_formula(name, fn, dfdx):
    x = leaf(X)
    fn(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), dfdx(X), rtol=1e-12)


def test_tanh_and_sigmoid_are_stable_for_large_inputs():
    x = leaf([-1000.0, 1000.0])
    np.testing.assert_array_equal(x.tanh().detach().numpy(), [-1.0, 1.0])
    np.testing.assert_array_equal(x.sigmoid().detach().numpy(), [0.0, 1.0])
    x.tanh().sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_clamp_needs_a_bound():
    with pytest.raises(ValueError):
        leaf(X).clamp()


# ---- softmax ----------------------------------------------------------------------------


def softmax_ref(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("shape, axis", [((3, 4), 0), ((3, 4), 1), ((3, 4), -1), ((2, 3, 4), 1), ((5,), 0)])
def test_softmax_forward_and_gradcheck(shape, axis):
    check(lambda t: t.softmax(axis), lambda a: softmax_ref(a, axis), randn(*shape))


@pytest.mark.parametrize("shape, axis", [((3, 4), 0), ((3, 4), 1), ((3, 4), -1), ((2, 3, 4), 1), ((5,), 0)])
def test_log_softmax_forward_and_gradcheck(shape, axis):
    check(lambda t: t.log_softmax(axis), lambda a: np.log(softmax_ref(a, axis)), randn(*shape))


def test_softmax_default_axis_is_last():
    a = randn(3, 4)
    np.testing.assert_allclose(leaf(a).softmax().detach().numpy(), softmax_ref(a, -1))
    np.testing.assert_allclose(leaf(a).log_softmax().detach().numpy(), np.log(softmax_ref(a, -1)))


def test_softmax_is_stable_for_large_logits():
    a = np.array([[1000.0, 1001.0, 999.0]])
    expected = np.exp([-1.0, 0.0, -2.0]) / np.exp([-1.0, 0.0, -2.0]).sum()
    np.testing.assert_allclose(leaf(a).softmax().detach().numpy()[0], expected)
    np.testing.assert_allclose(leaf(a).log_softmax().detach().numpy()[0], np.log(expected))


# ---- indexing -----------------------------------------------------------------------------

INDEXES = [
    ("t[1]", 1),
    ("t[-1]", -1),
    ("t[1:3]", slice(1, 3)),
    ("t[::2]", slice(None, None, 2)),
    ("t[:, 2]", (slice(None), 2)),
    ("t[1, 2]", (1, 2)),
    ("t[..., None]", (Ellipsis, None)),
    ("t[[0, 2, 0, 0]]", [0, 2, 0, 0]),
    ("t[array([1, 1, 3])]", np.array([1, 1, 3])),
    ("t[:, [3, 0, 3]]", (slice(None), [3, 0, 3])),
]


@pytest.mark.parametrize("name, index", INDEXES, ids=[n for n, _ in INDEXES])
def test_indexing_forward_and_gradcheck(name, index):
    check(lambda t: t[index], lambda a: a[index], randn(4, 5))


def test_integer_array_indexing_adds_gradients_of_repeats():
    x = leaf(randn(3, 2))
    x[[0, 2, 0, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[3, 3], [0, 0], [1, 1]])


def test_indexing_with_int64_tensor_adds_gradients_of_repeats():
    x = leaf(randn(3, 2))
    y = x[mg.tensor([2, 2, 1])]
    assert y.shape == (3, 2)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0], [1, 1], [2, 2]])


def test_basic_indexing_gradient_lands_on_selected_elements():
    x = leaf(randn(3, 4))
    (x[:, 1] * 2.0).sum().backward()
    expected = np.zeros((3, 4))
    expected[:, 1] = 2.0
    np.testing.assert_array_equal(x.grad.numpy(), expected)


# ---- composites ---------------------------------------------------------------------------


def test_gradcheck_of_a_small_network():
    # tanh(x W + b) followed by a log-sum-exp written out of primitives
    def net(x, w, b):
        h = (x @ w + b).tanh()
        m = h.max(dim=1, keepdim=True).values
        return ((h - m).exp().sum(axis=1).log() + m.reshape(-1)).mean()

    x, w, b = leaf(randn(5, 3)), leaf(randn(3, 4)), leaf(randn(4))
    assert mg.gradcheck(net, (x, w, b))


def test_gradcheck_with_several_outputs_and_a_constant_input():
    c = mg.tensor(randn(3))  # does not require grad: passed through, not checked
    assert mg.gradcheck(lambda a, k: (a * k, (a * a).sum()), (leaf(randn(3)), c))


def test_gradcheck_promotes_float32_inputs_to_float64():
    x = mg.tensor(np.array([0.3, -0.7, 1.2], np.float32), requires_grad=True)
    assert mg.gradcheck(lambda t: (t * t).sigmoid(), (x,))
    assert x.grad is None and x.dtype == np.float32  # the caller's tensor is untouched


def test_gradcheck_needs_an_input_requiring_grad():
    with pytest.raises(ValueError):
        mg.gradcheck(lambda t: t * 2.0, (mg.tensor([1.0]),))


# ---- gradcheck rejects wrong gradients; kernel-level user ops (RawFunction) -----------------
# (Functions on Tensors, PyTorch's kind, are tested in test_function.py)


class WrongExp(mg.autograd.RawFunction):
    """exp with a backward off by a factor of two."""

    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return 2.0 * grad * y


class WrongMul(mg.autograd.RawFunction):
    """a * b whose gradient for b is wrong (it returns grad * b instead of grad * a)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b, grad * b


def test_gradcheck_rejects_wrong_backward():
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(WrongExp.apply, (leaf(randn(2, 3)),))
    assert isinstance(info.value, RuntimeError)
    msg = str(info.value)
    assert "input 0" in msg and "element" in msg and "(2, 3)" in msg


def test_gradcheck_names_the_wrong_input_and_element():
    a = leaf([1.0, 2.0, 3.0])
    b = leaf([1.0, 5.0, 3.0])  # b ≠ a only at element 1: the only wrong gradient
    with pytest.raises(mg.GradcheckError, match=r"input 1.*element \(1,\)"):
        mg.gradcheck(WrongMul.apply, (a, b))


def test_gradcheck_error_is_a_runtime_error():
    assert issubclass(mg.GradcheckError, RuntimeError)


class ScaledMul(mg.autograd.RawFunction):
    """out = alpha · a · b for a constant alpha; ∂out/∂a = alpha·b, ∂out/∂b = alpha·a."""

    seen = []  # (where, type of each array argument, needs_input_grad, device)

    @staticmethod
    def forward(ctx, a, b, alpha):
        ScaledMul.seen.append(("forward", type(a), type(b), ctx.needs_input_grad, ctx.device))
        ctx.save_for_backward(a, b)
        ctx.alpha = alpha
        return alpha * a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        ScaledMul.seen.append(("backward", type(grad), ctx.needs_input_grad))
        ga = ctx.alpha * grad * b if ctx.needs_input_grad[0] else None
        gb = ctx.alpha * grad * a if ctx.needs_input_grad[1] else None
        return ga, gb, None


def test_raw_function_passes_gradcheck():
    assert mg.gradcheck(lambda a, b: ScaledMul.apply(a, b, 1.5),
                        (leaf(randn(3, 2)), leaf(randn(3, 2))))


def test_raw_function_gets_raw_arrays_and_context():
    ScaledMul.seen.clear()
    a, b = leaf([1.0, 2.0]), mg.tensor(np.array([3.0, 4.0]))  # b needs no grad
    out = ScaledMul.apply(a, b, 2.0)
    assert isinstance(out, mg.Tensor) and out.requires_grad and not out.is_leaf
    np.testing.assert_allclose(out.detach().numpy(), [6.0, 16.0])
    out.sum().backward()
    (_, ta, tb, needs_f, device), (_, tg, needs_b) = ScaledMul.seen
    assert ta is np.ndarray and tb is np.ndarray and tg is np.ndarray
    assert needs_f == needs_b == (True, False, False)
    assert device == "cpu"
    np.testing.assert_allclose(a.grad.numpy(), [6.0, 8.0])  # alpha · b
    assert b.grad is None


def test_raw_function_works_inside_a_graph():
    # y = Σ (ScaledMul(x, x, 0.5) · 2 + x) = Σ (x² + x)  ⇒  ∂y/∂x = 2x + 1
    x0 = randn(4)
    x = leaf(x0)
    (ScaledMul.apply(x, x, 0.5) * 2.0 + x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x0 + 1)


def test_raw_function_records_no_graph_when_nothing_requires_grad():
    out = ScaledMul.apply(mg.tensor([1.0]), mg.tensor([2.0]), 1.0)
    assert not out.requires_grad and out.grad_fn is None
