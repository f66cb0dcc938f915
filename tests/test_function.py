"""``mg.autograd.Function``: user-defined ops on Tensors, as PyTorch's.

Its ``forward`` and ``backward`` take and return Tensors, nothing inside forward is
recorded, and the saved tensors are checked against in-place changes. (The kernel
level, ``RawFunction``, which takes raw arrays, is tested in test_ops.py.)
"""

import numpy as np
import pytest

import minigrad as mg


def leaf(values):
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


class Legendre3(mg.autograd.Function):
    """P₃(x) = ½(5x³ − 3x);  P₃′(x) = 3/2 · (5x² − 1)."""

    seen = []

    @staticmethod
    def forward(ctx, x):
        Legendre3.seen.append(("forward", type(x), mg.is_grad_enabled(), ctx.needs_input_grad))
        ctx.save_for_backward(x)
        return 0.5 * (5 * x ** 3 - 3 * x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        Legendre3.seen.append(("backward", type(grad_output), mg.is_grad_enabled()))
        return grad_output * 1.5 * (5 * x ** 2 - 1)


class ClampedReLU(mg.autograd.Function):
    """relu written with the tutorials' idioms: clamp forward, masked assignment back."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[x < 0] = 0
        return grad_input


def test_forward_and_backward_receive_tensors_and_record_nothing_inside():
    Legendre3.seen.clear()
    x0 = np.array([-0.5, 0.25, 0.8])
    x = leaf(x0)
    y = Legendre3.apply(x)
    assert isinstance(y, mg.Tensor) and y.requires_grad and not y.is_leaf
    assert repr(y.grad_fn) == "<Legendre3Backward>" and y.grad_fn.name() == "Legendre3Backward"
    np.testing.assert_allclose(y.detach().numpy(), 0.5 * (5 * x0 ** 3 - 3 * x0))
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1.5 * (5 * x0 ** 2 - 1))
    (_, tx, grad_on, needs), (_, tg, grad_on_back) = Legendre3.seen
    assert tx is mg.Tensor and tg is mg.Tensor
    assert not grad_on and not grad_on_back      # both run under no_grad
    assert needs == (True,)


def test_the_graph_holds_one_node_for_the_whole_forward():
    x = leaf([0.3])
    y = Legendre3.apply(x)
    assert y.grad_fn.inputs == (x,)              # not the ten ops inside forward


def test_a_function_passes_gradcheck_inside_a_larger_graph():
    # y = a + b · P₃(c + d·x), the tutorial's model
    x = mg.tensor(np.linspace(-1, 1, 7))
    assert mg.gradcheck(lambda a, b, c, d: (a + b * Legendre3.apply(c + d * x)).sum(),
                        (leaf(0.1), leaf(-0.9), leaf(0.05), leaf(0.3)))


def test_a_backward_using_masked_assignment_matches_relu():
    x0 = np.array([[-1.0, 2.0], [0.5, -3.0]])
    a, b = leaf(x0), leaf(x0)
    (ClampedReLU.apply(a) * 3.0).sum().backward()
    (b.relu() * 3.0).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
    np.testing.assert_array_equal(a.grad.numpy(), [[0.0, 3.0], [3.0, 0.0]])


def test_needs_input_grad_and_non_tensor_arguments():
    class Scale(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x, y, k):
            ctx.k = k
            ctx.needs = ctx.needs_input_grad
            return x * y * k

        @staticmethod
        def backward(ctx, grad):
            assert ctx.needs_input_grad == (True, False, False)
            return grad * ctx.k, None, None

    x, y = leaf([1.0, 2.0]), mg.tensor([3.0, 4.0], dtype=mg.float64)
    out = Scale.apply(x, y, 2.0)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])     # this backward's own (wrong) rule
    assert y.grad is None


def test_nothing_is_recorded_when_no_input_requires_grad():
    y = Legendre3.apply(mg.tensor([0.5]))
    assert not y.requires_grad and y.grad_fn is None
    with mg.no_grad():
        z = Legendre3.apply(leaf([0.5]))
    assert not z.requires_grad and z.grad_fn is None


def test_mark_non_differentiable():
    class Argmax(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            out = (x == x.max()).double()
            ctx.mark_non_differentiable(out)
            return out

        @staticmethod
        def backward(ctx, grad):
            raise AssertionError("never called")

    out = Argmax.apply(leaf([1.0, 3.0, 2.0]))
    assert not out.requires_grad and out.tolist() == [0.0, 1.0, 0.0]


def test_a_saved_tensor_modified_in_place_raises_naming_the_function():
    x = mg.tensor([0.5, 0.25], dtype=mg.float64)
    w = leaf([1.0, 1.0])
    y = Legendre3.apply(x * w)
    u = leaf([0.5, 0.25])
    v = u * 1.0
    z = Legendre3.apply(v)
    with mg.no_grad():
        v.mul_(2.0)                               # v is what Legendre3 saved
    with pytest.raises(RuntimeError, match="Legendre3Backward.*modified by an inplace"):
        z.sum().backward()
    y.sum().backward()                            # the other graph is untouched
    assert w.grad is not None


def test_the_output_is_a_new_tensor_even_when_forward_returns_its_input():
    class Same(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 2.0

    x = leaf([1.0, 2.0])
    y = Same.apply(x)
    assert y is not x and x.is_leaf and x.grad_fn is None
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


@pytest.mark.parametrize("bad, error, message", [
    ("forward_returns_array", TypeError, "must return a Tensor"),
    ("backward_returns_array", TypeError, "must return Tensors or None"),
    ("backward_returns_two", RuntimeError, "returned 2 gradients for 1 inputs"),
    ("saves_an_array", TypeError, "save_for_backward takes Tensors"),
])
def test_misuse_raises_a_clear_error(bad, error, message):
    class Bad(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            if bad == "saves_an_array":
                ctx.save_for_backward(x.detach().numpy())
            return x.detach().numpy() if bad == "forward_returns_array" else x * 2.0

        @staticmethod
        def backward(ctx, grad):
            if bad == "backward_returns_array":
                return grad.numpy()
            return grad, grad

    with pytest.raises(error, match=message):
        Bad.apply(leaf([1.0])).sum().backward()
