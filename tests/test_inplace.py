"""In-place ops, version counters and ``.data``, as PyTorch has them (API.md,
"PyTorch compatibility").

The manual-SGD idioms here are what PyTorch's tutorials teach; each trains, and its
parameters follow gradient descent worked out in NumPy in the test itself. The
version-counter cases are PyTorch's "modified by an inplace operation" error: a
node that saved a tensor refuses to backward once that tensor has changed.
"""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim

rng = np.random.default_rng(0)


def leaf(values, dtype=np.float64):
    return mg.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# ---- the manual-SGD idioms train --------------------------------------------------------------

X = np.linspace(-1.0, 1.0, 16)
Y = np.sin(X)
LR, STEPS = 0.05, 30


def numpy_gradient_descent(a, b):
    """y ≈ a + b·x by gradient descent on L = Σ (a + b·x − y)²:
    ∂L/∂a = Σ 2r, ∂L/∂b = Σ 2r·x with r = a + b·x − y."""
    for _ in range(STEPS):
        r = a + b * X - Y
        a, b = a - LR * np.sum(2 * r), b - LR * np.sum(2 * r * X)
    return a, b


def _loss(a, b, device="cpu"):
    x, y = mg.tensor(X, device=device), mg.tensor(Y, device=device)
    return ((a + b * x - y) ** 2).sum()


@pytest.mark.parametrize("zeroing", ["none", "zero_", "set_to_none"])
def test_param_minus_equals_under_no_grad_trains(zeroing):
    a, b = leaf(0.3), leaf(-0.2)
    for _ in range(STEPS):
        _loss(a, b).backward()
        with mg.no_grad():
            a -= LR * a.grad
            b -= LR * b.grad
        if zeroing == "zero_":
            a.grad.zero_()
            b.grad.zero_()
        else:
            a.grad = b.grad = None
    want = numpy_gradient_descent(0.3, -0.2)
    np.testing.assert_allclose([a.item(), b.item()], want, rtol=1e-10)
    assert a.is_leaf and a.requires_grad and a.grad_fn is None


def test_data_minus_equals_trains_outside_no_grad():
    a, b = leaf(0.3), leaf(-0.2)
    for _ in range(STEPS):
        _loss(a, b).backward()
        for p in (a, b):
            p.data -= LR * p.grad          # .data: outside the graph, no no_grad needed
            p.grad.zero_()
    np.testing.assert_allclose([a.item(), b.item()], numpy_gradient_descent(0.3, -0.2),
                               rtol=1e-10)


def test_the_parameters_of_a_model_train_by_hand():
    # the nn version of the idiom: for param in model.parameters(): param -= lr * param.grad
    model = nn.Linear(1, 1, dtype=mg.float64)
    nn.init.constant_(model.weight, -0.2)
    nn.init.constant_(model.bias, 0.3)
    x, y = mg.tensor(X.reshape(-1, 1)), mg.tensor(Y)
    loss_fn = nn.MSELoss(reduction="sum")
    for _ in range(STEPS):
        loss = loss_fn(model(x).flatten(), y)
        model.zero_grad()
        loss.backward()
        with mg.no_grad():
            for param in model.parameters():
                param -= LR * param.grad
    a, b = numpy_gradient_descent(0.3, -0.2)
    np.testing.assert_allclose([model.bias.item(), model.weight.item()], [a, b], rtol=1e-10)


def test_hand_updates_and_an_optimizer_share_the_parameters_storage():
    # An optimizer keeps the parameters in one flat buffer; an in-place update by hand
    # writes into it, and the optimizer's next step starts from the updated values.
    p = nn.Parameter(np.array([1.0, 2.0]))
    opt = optim.SGD([p], lr=0.1)
    storage = p.raw
    with mg.no_grad():
        p -= 0.5                                   # by hand: [0.5, 1.5]
    assert p.raw is storage
    (p * p).sum().backward()                       # ∂/∂p = 2p = [1, 3]
    opt.step()                                     # p − 0.1·2p = 0.8p
    np.testing.assert_allclose(p.detach().numpy(), [0.4, 1.2])


# ---- what in-place ops compute ----------------------------------------------------------------


@pytest.mark.parametrize("op, want", [
    (lambda t: t.add_(2.0), [3.0, 4.0, 5.0]),
    (lambda t: t.add_(mg.tensor([1.0, 1.0, 1.0]), alpha=3), [4.0, 5.0, 6.0]),
    (lambda t: t.sub_(mg.tensor([0.5, 1.0, 1.5])), [0.5, 1.0, 1.5]),
    (lambda t: t.mul_(mg.tensor([2.0])), [2.0, 4.0, 6.0]),
    (lambda t: t.div_(4.0), [0.25, 0.5, 0.75]),
    (lambda t: t.clamp_(min=1.5, max=2.5), [1.5, 2.0, 2.5]),
    (lambda t: t.fill_(7.0), [7.0, 7.0, 7.0]),
    (lambda t: t.zero_(), [0.0, 0.0, 0.0]),
    (lambda t: t.copy_(mg.tensor([9.0], dtype=mg.float64)), [9.0, 9.0, 9.0]),
    (lambda t: t.copy_(mg.tensor([1, 2, 3])), [1.0, 2.0, 3.0]),
    (lambda t: t.pow_(2), [1.0, 4.0, 9.0]),
    (lambda t: t.neg_(), [-1.0, -2.0, -3.0]),
])
def test_in_place_ops_write_into_the_storage_and_return_self(op, want):
    t = mg.tensor([1.0, 2.0, 3.0])
    storage = t.raw
    assert op(t) is t
    assert t.raw is storage and t.dtype == mg.float32
    np.testing.assert_array_equal(t.numpy(), want)
    assert t._version == 1


@pytest.mark.parametrize("augmented, want", [
    ("+=", [3.0, 5.0]), ("-=", [-1.0, -1.0]), ("*=", [2.0, 6.0]), ("/=", [0.5, 2 / 3])])
def test_augmented_assignment_keeps_the_tensor(augmented, want):
    t = mg.tensor([1.0, 2.0], dtype=mg.float64)
    same = t
    other = mg.tensor([2.0, 3.0], dtype=mg.float64)
    if augmented == "+=":
        t += other
    elif augmented == "-=":
        t -= other
    elif augmented == "*=":
        t *= other
    else:
        t /= other
    assert t is same
    np.testing.assert_allclose(t.numpy(), want)


@pytest.mark.parametrize("index, value, want", [
    (1, 5.0, [[0, 1, 2], [5, 5, 5]]),
    ((slice(None), 0), mg.tensor([7.0, 8.0]), [[7, 1, 2], [8, 4, 5]]),
    ((0, slice(1, None)), mg.tensor([9.0]), [[0, 9, 9], [3, 4, 5]]),
    ("mask", -1.0, [[0, 1, 2], [-1, -1, -1]]),
    ((np.array([1, 0]),), mg.tensor([[1.0, 1.0, 1.0]]), [[1, 1, 1], [1, 1, 1]]),
])
def test_item_assignment(index, value, want):
    t = mg.tensor(np.arange(6.0).reshape(2, 3))
    if isinstance(index, str):
        index = t > 2.5                    # a bool Tensor, as in grad[h < 0] = 0
    t[index] = value
    np.testing.assert_array_equal(t.numpy(), want)
    assert t._version == 1


def test_in_place_through_a_view_changes_the_base_and_its_version():
    t = mg.tensor(np.zeros((2, 3)))
    row = t[1]
    row.add_(1.0)
    np.testing.assert_array_equal(t.numpy(), [[0, 0, 0], [1, 1, 1]])
    assert t._version == row._version == 1
    t.reshape(6).mul_(2.0)
    assert t._version == 2 and t.numpy()[1, 0] == 2.0


# ---- errors, before anything changes ----------------------------------------------------------


def test_in_place_on_a_leaf_that_requires_grad_raises_outside_no_grad():
    w = leaf([1.0, 2.0])
    for op in (lambda: w.add_(1.0), lambda: w.mul_(2.0), lambda: w.zero_(),
               lambda: w.copy_(mg.tensor([0.0, 0.0])), lambda: w.__setitem__(0, 5.0)):
        with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
            op()
    with pytest.raises(RuntimeError, match="view of a leaf"):
        w[0].add_(1.0)
    np.testing.assert_array_equal(w.detach().numpy(), [1.0, 2.0])
    assert w._version == 0 and w.grad_fn is None


@pytest.mark.parametrize("op, error, message", [
    (lambda t: t.add_(mg.tensor(np.ones((2, 3)))), ValueError, "shape"),
    (lambda t: t.add_(mg.tensor([1.0, 2.0])), ValueError, "cannot be broadcast"),
    (lambda t: t.copy_(mg.tensor([1.0, 2.0])), ValueError, "cannot be copied"),
    (lambda t: t.fill_("a"), TypeError, "number"),
])
def test_bad_in_place_ops_raise_and_change_nothing(op, error, message):
    t = mg.tensor([1.0, 2.0, 3.0])
    with pytest.raises(error, match=message):
        op(t)
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0, 3.0])
    assert t._version == 0


def test_an_integer_tensor_cannot_hold_a_float_result():
    t = mg.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="can't be cast"):
        t += 1.5
    np.testing.assert_array_equal(t.numpy(), [1, 2, 3])
    t += 2                                   # an integer result is fine
    np.testing.assert_array_equal(t.numpy(), [3, 4, 5])


# ---- in-place ops inside a graph --------------------------------------------------------------


def test_an_in_place_op_on_a_computed_tensor_is_recorded():
    # y = 2x; y += x²; y *= 3  ⇒  y = 6x + 3x²,  ∂Σy/∂x = 6 + 6x
    x0 = np.array([0.5, -1.0, 2.0])
    x = leaf(x0)
    y = x * 2.0
    y += x * x
    y *= 3.0
    assert not y.is_leaf and y.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), 6 * x0 + 3 * x0 ** 2)
    np.testing.assert_allclose(x.grad.numpy(), 6 + 6 * x0)


def test_adding_a_tensor_that_requires_grad_into_a_plain_one_records_it():
    w = leaf([1.0, 2.0])
    acc = mg.zeros(2, dtype=mg.float64)
    acc += w * w
    assert acc.requires_grad and not acc.is_leaf
    acc.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 4.0])


def test_item_assignment_inside_a_graph_routes_the_gradients():
    # y = x·1 with y[1] = 3·x[0]:  y = (x0, 3x0, x2),  Σy ⇒ ∂/∂x = (4, 0, 1)
    x = leaf([1.0, 2.0, 3.0])
    y = x * 1.0
    y[1] = x[0] * 3.0
    y.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), [1.0, 3.0, 3.0])
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 0.0, 1.0])


def test_masked_assignment_inside_a_graph_cuts_the_gradient_there():
    x = leaf([-1.0, 2.0, -3.0, 4.0])
    y = x * 1.0
    y[y < 0] = 0.0                      # relu by hand
    (y * y).sum().backward()            # ∂/∂x = 2x where x > 0, else 0
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 4.0, 0.0, 8.0])


# ---- version counters: a saved tensor modified before backward --------------------------------


def _modify(t):
    with mg.no_grad():
        t.add_(1.0)


def test_modified_input_of_mul_is_caught():
    a, b = leaf([1.0, 2.0]), mg.tensor([3.0, 4.0], dtype=mg.float64)
    y = a * b                       # Mul saves b (for ∂y/∂a = b)
    b.mul_(10.0)
    with pytest.raises(RuntimeError, match="MulBackward.*modified by an inplace operation"):
        y.sum().backward()
    assert a.grad is None           # raised before any gradient was accumulated


def test_modified_output_of_exp_is_caught_and_its_input_is_not_needed():
    x = leaf([0.0, 1.0])
    y = x.exp()                     # Exp saves its output: ∂y/∂x = y
    _modify(y)
    with pytest.raises(RuntimeError, match="ExpBackward.*its output"):
        y.sum().backward()
    # exp needs only its output, so changing its input afterwards is harmless (as PyTorch)
    x2 = mg.tensor([0.0, 1.0], dtype=mg.float64)
    w = leaf([1.0, 1.0])
    z = (x2 * w).exp()
    y2 = z * 1.0
    x2.add_(5.0)                    # Mul saved x2: this one is caught ...
    with pytest.raises(RuntimeError, match="MulBackward"):
        y2.sum().backward()
    u = leaf([0.0, 1.0])
    v = u * 1.0
    e = v.exp()
    _modify(v)                      # ... but Exp's input is not saved
    e.sum().backward()
    np.testing.assert_allclose(u.grad.numpy(), np.exp([0.0, 1.0]))


def test_modified_output_of_sigmoid_is_caught():
    y = leaf([0.0, 2.0]).sigmoid()
    _modify(y)
    with pytest.raises(RuntimeError, match="SigmoidBackward.*modified"):
        y.sum().backward()


def test_modified_operand_of_matmul_is_caught():
    a, b = leaf(rng.standard_normal((2, 3))), leaf(rng.standard_normal((3, 2)))
    y = a @ b
    _modify(b)
    with pytest.raises(RuntimeError, match="MatMulBackward.*an input"):
        y.sum().backward()
    assert a.grad is None and b.grad is None


def test_a_linear_weight_changed_between_forward_and_backward_is_caught():
    layer = nn.Linear(3, 2)
    out = layer(mg.randn(4, 3))
    _modify(layer.weight)
    with pytest.raises(RuntimeError, match="LinearBackward.*modified"):
        out.sum().backward()


def test_an_optimizer_step_between_forward_and_backward_is_caught():
    layer = nn.Linear(3, 2)
    opt = optim.SGD(layer.parameters(), lr=0.1)
    layer(mg.randn(4, 3)).sum().backward()
    loss = layer(mg.randn(4, 3)).sum()
    opt.step()                       # updates the weight that loss's graph saved
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_a_modification_through_a_view_is_caught():
    a = mg.tensor(np.ones((2, 2)))
    w = leaf(np.ones((2, 2)))
    y = w * a
    a[0].mul_(3.0)                   # a view of a: a's version moves too
    with pytest.raises(RuntimeError, match="MulBackward"):
        y.sum().backward()


def test_modifying_after_backward_or_before_forward_is_fine():
    w = leaf([1.0, 2.0])
    b = mg.tensor([3.0, 4.0], dtype=mg.float64)
    b.add_(1.0)                      # before the graph exists
    y = w * b
    y.sum().backward(retain_graph=True)
    b.add_(1.0)                      # after backward: the next backward would see it
    np.testing.assert_allclose(w.grad.numpy(), [4.0, 5.0])
    with pytest.raises(RuntimeError, match="MulBackward"):
        y.sum().backward()


# ---- .data --------------------------------------------------------------------------------


def test_data_is_a_detached_tensor_sharing_the_storage():
    w = leaf([1.0, 2.0])
    d = w.data
    assert isinstance(d, mg.Tensor) and not d.requires_grad and d.grad_fn is None
    assert np.shares_memory(d.raw, w.raw)
    d[0] = 5.0                                  # outside autograd: w changes, untracked
    assert w.detach().numpy()[0] == 5.0
    assert w._version == 0                      # .data has a version counter of its own


def test_assigning_data_replaces_the_storage_after_checks():
    w = leaf([1.0, 2.0])
    new = mg.tensor([3.0, 4.0], dtype=mg.float64)
    w.data = new
    assert w.raw is new.raw and w.requires_grad and w.is_leaf
    for bad, error in ((mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64), ValueError),
                       (mg.tensor([1.0, 2.0]), TypeError),            # float32
                       (np.array([1.0, 2.0]), TypeError)):            # not a Tensor
        with pytest.raises(error):
            w.data = bad
    assert w.raw is new.raw


def test_detach_shares_the_version_counter():
    x = mg.tensor([1.0, 2.0])
    d = x.detach()
    d.add_(1.0)
    assert x._version == 1 and x.tolist() == [2.0, 3.0]


def test_augmented_assignment_through_an_index_records_on_the_tensor():
    # y = 2x with y[0] *= 3 and y[1:] += x[1:]:  y = (6x0, 3x1, 3x2),  Σy ⇒ (6, 3, 3)
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2.0
    y[0] *= 3.0
    y[1:] += x[1:]
    np.testing.assert_allclose(y.detach().numpy(), [6.0, 6.0, 9.0])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 3.0, 3.0])


def test_an_in_place_method_on_a_view_inside_a_graph_raises():
    x = leaf([1.0, 2.0])
    y = x * 2.0
    with pytest.raises(RuntimeError, match="view of another tensor"):
        y[0].mul_(3.0)
    acc = mg.zeros(3, dtype=mg.float64)
    with pytest.raises(RuntimeError, match="view of another tensor"):
        acc[:2].add_(x)
    np.testing.assert_array_equal(y.detach().numpy(), [2.0, 4.0])
    np.testing.assert_array_equal(acc.numpy(), [0.0, 0.0, 0.0])
    with mg.no_grad():                  # outside the graph, the view writes into its base
        y[0].mul_(3.0)
    assert y.tolist() == [6.0, 4.0]


def test_an_in_place_op_leaves_earlier_uses_of_the_old_values_alone():
    # z used y before y *= 3: ∂Σz/∂x = 2, as PyTorch computes, not 6
    x = leaf([1.0, 2.0])
    y = x * 2.0
    z = y + 1.0
    y *= 3.0
    z.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    # z through the old y (2), the new y through both nodes (3 · 2): 8
    w = leaf([1.0, 2.0])
    y = w * 2.0
    z = y + 1.0
    y *= 3.0
    (z + y).sum().backward()
    assert w.grad.tolist() == [8.0, 8.0]


def test_a_view_taken_before_an_in_place_op_on_its_base_refuses_backward():
    # v's values change with y's; its graph (y's old node) does not: PyTorch rewrites
    # v's history, minigrad raises rather than give x.grad = 2 where it is 6
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2.0
    v = y[0:2]
    w = y.reshape(3)
    y.mul_(3.0)
    with pytest.raises(RuntimeError, match="view of a tensor that was then modified"):
        v.sum().backward()
    with pytest.raises(RuntimeError, match="view of a tensor that was then modified"):
        w.sum().backward()
    assert x.grad is None
    y.sum().backward()                      # y itself is fine: ∂Σ6x/∂x = 6
    assert x.grad.tolist() == [6.0, 6.0, 6.0]


def test_in_place_ops_on_a_functions_output_and_on_a_detached_tensor():
    class Twice(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, grad):
            return grad * 2.0

    x = leaf([1.0, 2.0])
    y = Twice.apply(x)
    y.add_(1.0)                             # in a graph: recorded on y, as on any tensor
    y[0] = 0.0
    y.sum().backward()                      # y = (0, 2·x1 + 1)
    assert x.grad.tolist() == [0.0, 2.0]
    base = mg.tensor([1.0, 1.0], dtype=mg.float64)
    d = base.detach()
    w = leaf([3.0, 4.0])
    d += w                                  # writes into base's storage, as PyTorch does
    assert base.tolist() == [4.0, 5.0] and d.requires_grad
    d.sum().backward()
    assert w.grad.tolist() == [1.0, 1.0]


def test_set_grad_enabled_takes_effect_when_called():
    try:
        mg.set_grad_enabled(False)
        assert not mg.is_grad_enabled()
        assert not (leaf([1.0]) * 2.0).requires_grad
    finally:
        mg.set_grad_enabled(True)
    with mg.set_grad_enabled(False):
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()

    @mg.set_grad_enabled(False)
    def f():
        return mg.is_grad_enabled()
    assert mg.is_grad_enabled() and f() is False and mg.is_grad_enabled()


def test_a_function_may_return_a_gradient_of_a_broadcast_shape():
    class Scale(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x, s):
            ctx.save_for_backward(x)
            return x * s

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3.0, grad * x          # ∂/∂s has x's shape, s is (1,)

    x, s = leaf([[1.0, 2.0], [3.0, 4.0]]), leaf([3.0])
    Scale.apply(x, s).sum().backward()
    assert s.grad.tolist() == [10.0]           # summed back, as PyTorch does
    with pytest.raises(RuntimeError, match="gradient of shape"):
        class Bad(Scale):
            @staticmethod
            def backward(ctx, grad):
                return grad[:1], None
        Bad.apply(leaf([[1.0, 2.0], [3.0, 4.0]]), s).sum().backward()


def test_an_optimizer_step_marks_only_the_parameters_it_updated():
    a, frozen = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    opt = optim.SGD([a, frozen], lr=0.1)
    (a * 3.0).sum().backward()                   # a has a gradient, frozen none
    y = frozen * mg.tensor([2.0, 2.0], dtype=mg.float64)   # saves frozen
    opt.step()                                    # updates a only
    y.sum().backward()                            # frozen is unchanged: fine, as PyTorch
    assert frozen.grad.tolist() == [2.0, 2.0] and a._version == 1 and frozen._version == 0
