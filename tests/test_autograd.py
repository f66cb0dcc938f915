"""The backward engine: accumulation, shared nodes, freeing the graph, grad mode,
detach, deep graphs, dtypes of gradients, and errors that leave state unchanged."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.backend.cpu import CPUBackend
from minigrad.functions import ToDevice
from minigrad.tensor import Tensor


def leaf(a, dtype=np.float64):
    return mg.tensor(np.asarray(a, dtype=dtype), requires_grad=True)


# ---- accumulation and shared nodes -------------------------------------------------------


def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, -2.0, 3.0])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, -4.0, 6.0])
    (x * x).sum().backward()  # a new graph: d/dx Σx² = 2x again, added
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, -8.0, 12.0])


def test_leaf_root_backward_gives_one_and_accumulates():
    x = leaf(2.0)
    x.backward()
    x.backward()
    assert x.grad.item() == 2.0


def test_leaf_used_twice_in_one_op_gets_both_gradients():
    x = leaf([3.0])
    (x * x).sum().backward()  # d(x²)/dx = 2x
    assert x.grad.item() == 6.0


def test_diamond_graph_sums_gradients_of_both_paths():
    # a = 2x feeds two branches: u = a², v = eᵃ; out = u + v
    # ∂out/∂x = (2a + eᵃ) · 2
    x0 = np.array([0.5, -1.0])
    x = leaf(x0)
    a = x * 2.0
    (a * a + a.exp()).sum().backward()
    a0 = 2 * x0
    np.testing.assert_allclose(x.grad.numpy(), (2 * a0 + np.exp(a0)) * 2, rtol=1e-14)


def test_intermediate_used_by_later_and_earlier_consumers():
    # y = 3x, z = y·y + y, w = z · y  ⇒  w = y³ + y², ∂w/∂x = (3y² + 2y) · 3
    x = leaf(2.0)
    y = x * 3.0
    w = (y * y + y) * y
    w.backward()
    assert x.grad.item() == (3 * 36 + 2 * 6) * 3


def test_tensor_not_requiring_grad_gets_no_grad():
    x, c = leaf([1.0, 2.0]), mg.tensor(np.array([5.0, 7.0]))
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 7.0])


def test_non_leaf_keeps_no_grad():
    x = leaf([1.0])
    y = x * 2.0
    (y * 3.0).sum().backward()
    assert y.grad is None and x.grad.item() == 6.0


# ---- freeing the graph ---------------------------------------------------------------------


def test_second_backward_without_retain_graph_raises_and_keeps_grad():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def test_backward_through_a_freed_shared_node_raises():
    x = leaf([1.0, 2.0])
    h = x.exp()
    (h * 2.0).sum().backward()
    with pytest.raises(RuntimeError):
        (h * 3.0).sum().backward()  # the new node is fresh, but h's Exp node was freed
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([1.0, 2.0]))


def test_retain_graph_allows_second_backward_which_doubles_grad():
    x0 = np.array([0.3, -1.2])
    x = leaf(x0)
    y = (x.exp() * x).sum()  # ∂y/∂x = eˣ(1 + x)
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(x0) * (1 + x0), rtol=1e-14)


# ---- backward's own errors ----------------------------------------------------------------


def test_backward_of_non_scalar_without_grad_raises():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"\(2,\)"):
        (x * 2.0).backward()
    assert x.grad is None


def test_backward_of_one_element_non_scalar_needs_no_grad():
    x = leaf([[4.0]])
    (x * 2.0).backward()
    assert x.grad.shape == (1, 1) and x.grad.item() == 2.0


def test_backward_with_explicit_grad():
    x = leaf([1.0, 2.0, 3.0])
    (x * 2.0).backward(mg.tensor(np.array([1.0, 10.0, 100.0])))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 20.0, 200.0])


@pytest.mark.parametrize("bad_shape", [(2,), (3, 1), (1, 3), ()])
def test_backward_with_grad_of_wrong_shape_raises_value_error_and_keeps_grad(bad_shape):
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2.0
    y.sum().backward(retain_graph=True)  # an existing grad that must survive
    with pytest.raises(ValueError, match=r"\(3,\)"):
        y.backward(mg.tensor(np.ones(bad_shape)))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_backward_on_tensor_not_requiring_grad_raises():
    with pytest.raises(RuntimeError):
        mg.tensor([1.0]).sum().backward()
    x = leaf([1.0])
    with mg.no_grad():
        y = (x * 2.0).sum()
    with pytest.raises(RuntimeError):
        y.backward()
    assert x.grad is None


# ---- grad mode ------------------------------------------------------------------------------


def test_no_grad_context_manager_records_nothing():
    x = leaf([1.0, 2.0])
    with mg.no_grad():
        y = x * 2.0 + 1.0
        assert not mg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    assert mg.is_grad_enabled()
    np.testing.assert_array_equal(y.numpy(), [3.0, 5.0])
    assert (x * 2.0).requires_grad  # recording is back on


def test_no_grad_decorator_records_nothing():
    @mg.no_grad()
    def double(t):
        """Doubles t."""
        return t * 2.0

    out = double(leaf([1.0]))
    assert not out.requires_grad and out.grad_fn is None
    assert mg.is_grad_enabled()
    assert double.__name__ == "double" and double.__doc__ == "Doubles t."


def test_no_grad_restores_grad_mode_after_exception():
    with pytest.raises(ZeroDivisionError):
        with mg.no_grad():
            1 / 0
    assert mg.is_grad_enabled()

    @mg.no_grad()
    def fail():
        raise KeyError("boom")

    with pytest.raises(KeyError):
        fail()
    assert mg.is_grad_enabled()


def test_nested_no_grad_restores_outer_state():
    with mg.no_grad():
        with mg.no_grad():
            pass
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()


def test_enable_grad_inside_no_grad_records_as_context_and_decorator():
    x = leaf([1.0])

    @mg.enable_grad()
    def triple(t):
        return t * 3.0

    with mg.no_grad():
        with mg.enable_grad():
            y = x * 2.0
        z = triple(x)
        assert not mg.is_grad_enabled()
    assert y.requires_grad and z.requires_grad


# ---- detach -----------------------------------------------------------------------------------


def test_detach_shares_data_and_cuts_the_graph():
    w = leaf([1.0, 2.0])
    y = w * 3.0
    d = y.detach()
    assert np.shares_memory(d.raw, y.raw)
    assert d.is_leaf and not d.requires_grad and d.grad_fn is None
    x = leaf([10.0, 20.0])
    (d * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 6.0])
    assert w.grad is None  # nothing flowed through the detached copy


def test_detach_sees_later_in_place_changes():
    y = mg.tensor([1.0, 2.0])
    d = y.detach()
    y[0] = 5.0
    assert d.tolist() == [5.0, 2.0]


# ---- deep graphs ------------------------------------------------------------------------------


def test_deep_chain_backprops_without_recursion_error():
    x = leaf(1.0)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 5000, rel=1e-10)


# ---- dtypes of gradients --------------------------------------------------------------------


def test_float32_leaf_combined_with_float64_gets_float32_grad():
    a = leaf([1.0, 2.0], dtype=np.float32)
    b = leaf([0.5, -3.0], dtype=np.float64)
    y = (a * b).sum()
    assert y.dtype == np.float64
    y.backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad.numpy(), np.array([0.5, -3.0], np.float32))
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 2.0])


def test_grad_has_leaf_shape_and_dtype():
    x = leaf(np.ones((2, 3)), dtype=np.float32)
    (x * 2.0).sum().backward()
    assert x.grad.shape == (2, 3) and x.grad.dtype == np.float32
    assert not x.grad.requires_grad


# ---- requires_grad_ ---------------------------------------------------------------------------


def test_requires_grad_false_on_non_leaf_raises():
    y = leaf([1.0]) * 2.0
    with pytest.raises(RuntimeError):
        y.requires_grad_(False)
    with pytest.raises(RuntimeError):
        y.requires_grad = False
    assert y.requires_grad


def test_requires_grad_on_leaf_toggles():
    x = mg.tensor([1.0])
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    x.requires_grad = True
    assert (x * 2.0).requires_grad


# ---- errors before effects --------------------------------------------------------------------


def leaf_with_grad():
    """A (3, 4) float64 leaf whose .grad already holds 2x."""
    x0 = np.arange(12.0).reshape(3, 4)
    x = leaf(x0)
    (x * x).sum().backward()
    return x, x0.copy(), 2 * x0


@pytest.mark.parametrize("bad", [
    lambda x: x + mg.tensor(np.ones(5)),
    lambda x: x * mg.tensor(np.ones((2, 4))),
    lambda x: x / mg.tensor(np.ones((4, 3))),
    lambda x: x - mg.tensor(np.ones(3)),
    lambda x: x @ mg.tensor(np.ones((3, 2))),
    lambda x: x.reshape(5, 2),
], ids=["add", "mul", "div", "sub", "matmul", "reshape"])
def test_shape_mismatch_raises_value_error_naming_shapes_and_changes_nothing(bad):
    x, x0, g0 = leaf_with_grad()
    with pytest.raises(ValueError) as info:
        bad(x)
    assert "(3, 4)" in str(info.value)
    np.testing.assert_array_equal(x.detach().numpy(), x0)
    np.testing.assert_array_equal(x.grad.numpy(), g0)


def test_broadcast_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(5,\)"):
        leaf(np.ones((3, 4))) + mg.tensor(np.ones(5))


def test_matmul_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(3, 2\)"):
        leaf(np.ones((3, 4))) @ leaf(np.ones((3, 2)))


@pytest.mark.parametrize("left, right", [(np.float32, np.float64), (np.float64, np.float32)])
def test_matmul_dtype_mismatch_raises_type_error_naming_both(left, right):
    a = leaf(np.ones((2, 3)), dtype=left)
    b = leaf(np.ones((3, 2)), dtype=right)
    (a * 1.0).sum().backward()
    with pytest.raises(TypeError) as info:
        a @ b
    assert "float32" in str(info.value) and "float64" in str(info.value)
    np.testing.assert_array_equal(a.grad.numpy(), np.ones((2, 3)))
    assert b.grad is None


def test_failed_op_records_no_node_and_graph_still_works():
    x = leaf([1.0, 2.0])
    y = x * 2.0
    with pytest.raises(ValueError):
        y + mg.tensor(np.ones(3))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


class _SecondDevice(CPUBackend):
    """A second device for the device checks; it happens to keep its arrays in host memory."""

    name = "device2"


def _on_second_device(values):
    return Tensor._make(np.asarray(values, dtype=np.float32), _SecondDevice())


def test_mixing_devices_in_one_op_raises_runtime_error_naming_both():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = _on_second_device([1.0, 2.0])
    with pytest.raises(RuntimeError, match="cpu and device2"):
        a + b
    with pytest.raises(RuntimeError, match="cpu.*device2"):
        a < b
    assert a.grad is None and a.grad_fn is None


def test_linear_with_weight_on_another_device_raises_runtime_error():
    x = mg.tensor([[1.0, 2.0]])
    w = _on_second_device([[1.0, 2.0]])
    with pytest.raises(RuntimeError, match="linear.*cpu.*device2"):
        F.linear(x, w)


def test_gradient_flows_back_across_a_device_copy():
    # y = sum(c²) with c = x copied to another device: ∂y/∂x = 2x, back on x's device.
    x = mg.tensor([1.0, -3.0, 0.5], requires_grad=True)
    c = ToDevice.apply(x, _SecondDevice())
    assert c.device == "device2" and c.requires_grad
    (c * c).sum().backward()
    assert x.grad.device == "cpu"
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, -6.0, 1.0])
