"""Hooks (Tensor.register_hook, retain_grad, Module forward and full backward hooks)
and anomaly detection. Expected gradients are worked by hand beside each test."""

import inspect

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def line_of(text):
    """The line number in this file of the first line containing ``text``."""
    lines, start = inspect.getsourcelines(inspect.getmodule(line_of))
    return start + 1 + next(i for i, line in enumerate(lines) if text in line)


# ---- Tensor.register_hook -------------------------------------------------------------


def test_a_hook_on_a_non_leaf_sees_its_gradient_and_can_replace_it():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2                     # L = Σ y²: ∂L/∂y = 2y = 4x = [4, 8, 12]
    seen = []
    y.register_hook(lambda g: seen.append(g.numpy().copy()))
    (y ** 2).sum().backward()
    np.testing.assert_allclose(seen[0], [4, 8, 12])
    np.testing.assert_allclose(x.grad.numpy(), [8, 16, 24])   # ∂L/∂x = 2 · ∂L/∂y

    x.grad = None
    y = x * 2
    y.register_hook(lambda g: g * 0.5)   # halve ∂L/∂y: ∂L/∂x halves too
    (y ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4, 8, 12])


def test_a_leaf_hook_sees_the_sum_of_its_gradients_once():
    x = mg.tensor([1.0, -1.0], requires_grad=True)
    calls = []
    x.register_hook(lambda g: calls.append(g.numpy().copy()))
    (x * 2 + x * 3).sum().backward()          # ∂/∂x = 2 + 3, in one call
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], [5, 5])
    np.testing.assert_allclose(x.grad.numpy(), [5, 5])


def test_a_leaf_hook_replaces_what_is_accumulated_and_runs_on_every_backward():
    w = mg.tensor([3.0, -4.0], requires_grad=True)
    w.register_hook(lambda g: g.clamp(-1, 1))
    (w * 10).sum().backward()                 # ∂/∂w = 10, clipped to 1
    (w * -10).sum().backward()                # -10, clipped to -1, added
    np.testing.assert_allclose(w.grad.numpy(), [0, 0])


def test_hooks_run_in_order_and_a_removed_hook_no_longer_runs():
    x = mg.tensor([1.0], requires_grad=True)
    order = []
    h1 = x.register_hook(lambda g: order.append("first"))
    x.register_hook(lambda g: order.append("second"))
    (x * 1).sum().backward()
    h1.remove()
    h1.remove()   # a second remove does nothing
    (x * 1).sum().backward()
    assert order == ["first", "second", "second"]


def test_a_hook_on_a_leaf_of_the_root_itself():
    x = mg.tensor(2.0, requires_grad=True)
    x.register_hook(lambda g: g * 3)
    x.backward()                              # ∂x/∂x = 1, tripled
    assert x.grad.item() == 3.0


def test_register_hook_refuses_a_tensor_without_grad_and_a_bad_return():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        mg.tensor([1.0]).register_hook(lambda g: g)
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: mg.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError, match="returned a Tensor of shape \\(3,\\)"):
        y.sum().backward()
    with pytest.raises(TypeError, match="expected a function"):
        x.register_hook(42)


def test_retain_grad_keeps_a_non_leaf_gradient_and_accumulates_it():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * x                     # L = Σ 3y: ∂L/∂y = 3
    assert not y.retains_grad
    y.retain_grad()
    y.retain_grad()               # twice is once
    assert y.retains_grad
    seen = []
    y.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 2)  # before the store
    (3 * y).sum().backward(retain_graph=True)
    np.testing.assert_allclose(y.grad.numpy(), [6, 6])   # the hook's doubled gradient
    (3 * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [12, 12])
    np.testing.assert_allclose(seen[0], [3, 3])
    x.retain_grad()               # a leaf keeps its gradient anyway: nothing changes
    assert x.grad is not None and not x.retains_grad
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        mg.tensor([1.0]).retain_grad()


# ---- Module hooks ----------------------------------------------------------------------


def small_mlp():
    mg.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))


def test_a_forward_hook_sees_inputs_and_output_and_can_replace_the_output():
    model = small_mlp()
    x = mg.randn(4, 2)
    seen = []
    handle = model[0].register_forward_hook(
        lambda m, inputs, out: seen.append((m, inputs[0], out)))
    y = model(x)
    m, got_x, out = seen[0]
    assert m is model[0] and got_x is x
    w, b = model[0].weight.detach().numpy(), model[0].bias.detach().numpy()
    np.testing.assert_allclose(out.detach().numpy(), x.numpy() @ w.T + b, rtol=1e-6)
    handle.remove()
    model(x)
    assert len(seen) == 1

    model[2].register_forward_hook(lambda m, inputs, out: out * 0)
    assert np.all(model(x).detach().numpy() == 0)
    del y


def test_a_hooked_module_runs_as_itself_and_fuses_again_once_the_hook_is_gone():
    model = small_mlp()
    x = mg.randn(4, 2)
    assert model(x).grad_fn.inputs[0].grad_fn.name() == "LinearReLUBackward"
    handle = model[1].register_forward_hook(lambda *a: None)
    h = model(x).grad_fn.inputs[0]
    assert h.grad_fn.name() == "ReLUBackward"        # the ReLU module was called
    assert h.grad_fn.inputs[0].grad_fn.name() == "LinearBackward"
    handle.remove()
    assert model(x).grad_fn.inputs[0].grad_fn.name() == "LinearReLUBackward"


def test_a_full_backward_hook_gets_the_gradients_of_input_and_output():
    mg.manual_seed(1)
    layer = nn.Linear(3, 2)
    x = mg.randn(5, 3, requires_grad=True)
    got = []
    layer.register_full_backward_hook(lambda m, gi, go: got.append((m, gi, go)))
    (layer(x) * 2).sum().backward()
    # L = Σ 2y, y = x Wᵀ + b: ∂L/∂y = 2 everywhere, ∂L/∂x = 2 · 1 W
    m, grad_input, grad_output = got[0]
    assert m is layer and len(grad_input) == 1 and len(grad_output) == 1
    np.testing.assert_allclose(grad_output[0].numpy(), np.full((5, 2), 2.0))
    expected = np.full((5, 2), 2.0) @ layer.weight.detach().numpy()
    np.testing.assert_allclose(grad_input[0].numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)


def test_a_full_backward_hook_can_replace_grad_input_and_sees_none_for_data():
    mg.manual_seed(2)
    layer = nn.Linear(3, 2)
    x = mg.randn(5, 3, requires_grad=True)
    handle = layer.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0,))
    layer(x).sum().backward()
    assert np.all(x.grad.numpy() == 0)
    handle.remove()
    got = []
    layer.register_full_backward_hook(lambda m, gi, go: got.append(gi))
    layer(mg.randn(5, 3)).sum().backward()        # data: no gradient to the input
    assert got == [(None,)]
    assert layer.weight.grad is not None


def test_module_hooks_refuse_what_is_not_a_function():
    with pytest.raises(TypeError, match="expected a function"):
        nn.ReLU().register_forward_hook("print")


# ---- detect_anomaly ----------------------------------------------------------------------


def test_anomaly_names_log_and_the_line_for_a_forward_nan():
    x = mg.tensor([-1.0, 1.0], requires_grad=True)
    with mg.autograd.detect_anomaly():
        with pytest.raises(RuntimeError) as info:
            with np.errstate(invalid="ignore"):
                x.log()   # anomaly: forward log
    message = str(info.value)
    assert "Log" in message and "forward" in message
    assert f"{__file__}:{line_of('# anomaly: forward log')}" in message
    assert "x.log()" in message


def test_anomaly_names_sqrt_and_the_line_for_an_inf_gradient():
    x = mg.tensor([0.0, 4.0], requires_grad=True)
    with mg.autograd.detect_anomaly():
        y = x.sqrt()   # anomaly: sqrt made here
        loss = (y * 1).sum()      # the op after sqrt has a finite gradient: not named
        with pytest.raises(RuntimeError) as info:
            with np.errstate(divide="ignore"):
                loss.backward()   # ∂√x/∂x = 1/(2√x): inf at 0
    message = str(info.value)
    assert "SqrtBackward" in message and "backward" in message
    assert f"{__file__}:{line_of('# anomaly: sqrt made here')}" in message


def test_without_anomaly_mode_nothing_is_checked_and_the_mode_is_restored():
    x = mg.tensor([-1.0], requires_grad=True)
    with np.errstate(invalid="ignore"):
        assert np.isnan(x.log().item())           # no error when off
    assert not mg.autograd.is_anomaly_enabled()

    @mg.autograd.detect_anomaly()
    def inside():
        return mg.autograd.is_anomaly_enabled()
    assert inside() and not mg.autograd.is_anomaly_enabled()
    with mg.autograd.detect_anomaly():
        (x * 2).sum().backward()                  # finite: nothing raised
    assert not mg.autograd.is_anomaly_enabled()
