"""minigrad.optim.functional: each rule as a function on flat arrays, against the
references of tests/optim_rules.py (written from the formulas); and the general
gradient-storage mechanism the optimizers build their flat buffers on."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.optim.functional as OF
from minigrad import autograd, nn, optim
from optim_rules import (adadelta_reference, adagrad_reference, adam_reference,
                         adamw_reference, rmsprop_reference, sgd_reference)

THETA0 = np.array([0.5, -1.5, 2.0, 0.25, -0.75])
TARGET = np.array([1.0, 0.0, -1.0, 2.0, 0.5])
STEPS = 4


def grad_fn(theta):
    return 2 * (theta - TARGET)  # ∇ of Σ (θ − c)²


def run(step, buffers, tensors=False):
    """STEPS calls of ``step(theta, grad, buffers, t)`` on float64 arrays (or Tensors)."""
    theta = THETA0.copy()
    wrap = (lambda a: a if a is None else mg.from_numpy(a)) if tensors else (lambda a: a)
    bufs = {k: wrap(v) for k, v in buffers.items()}
    trajectory = []
    for t in range(1, STEPS + 1):
        step(wrap(theta), wrap(grad_fn(theta)), bufs, t)
        trajectory.append(theta.copy())
    return trajectory


def zeros():
    return np.zeros_like(THETA0)


CASES = {
    "sgd": (lambda th, g, b, t: OF.sgd(th, g, b["buf"], lr=0.1, momentum=0.9, nesterov=True,
                                        weight_decay=0.01, first_step=t == 1),
            lambda: {"buf": zeros()},
            lambda: sgd_reference(THETA0, grad_fn, STEPS, lr=0.1, momentum=0.9, nesterov=True,
                                  weight_decay=0.01)),
    "sgd, no momentum": (lambda th, g, b, t: OF.sgd(th, g, lr=0.1),
                         lambda: {},
                         lambda: sgd_reference(THETA0, grad_fn, STEPS, lr=0.1)),
    "adagrad": (lambda th, g, b, t: OF.adagrad(th, g, b["sum"], lr=0.1, lr_decay=0.05,
                                               weight_decay=0.01, step=t),
                lambda: {"sum": zeros()},
                lambda: adagrad_reference(THETA0, grad_fn, STEPS, lr=0.1, lr_decay=0.05,
                                          weight_decay=0.01)),
    "rmsprop": (lambda th, g, b, t: OF.rmsprop(th, g, b["sq"], b["ga"], b["mom"], lr=0.01,
                                               alpha=0.9, momentum=0.5, centered=True),
                lambda: {"sq": zeros(), "ga": zeros(), "mom": zeros()},
                lambda: rmsprop_reference(THETA0, grad_fn, STEPS, lr=0.01, alpha=0.9,
                                          momentum=0.5, centered=True)),
    "adam, amsgrad": (lambda th, g, b, t: OF.adam(th, g, b["m"], b["v"], b["vmax"], lr=0.1,
                                                  beta1=0.8, beta2=0.9, weight_decay=0.01,
                                                  amsgrad=True, step=t),
                      lambda: {"m": zeros(), "v": zeros(), "vmax": zeros()},
                      lambda: adam_reference(THETA0, grad_fn, STEPS, lr=0.1, betas=(0.8, 0.9),
                                             weight_decay=0.01, amsgrad=True)),
    "adamw": (lambda th, g, b, t: OF.adam(th, g, b["m"], b["v"], lr=0.1, weight_decay=0.1,
                                          decoupled_weight_decay=True, step=t),
              lambda: {"m": zeros(), "v": zeros()},
              lambda: adamw_reference(THETA0, grad_fn, STEPS, lr=0.1, weight_decay=0.1)),
    "adadelta": (lambda th, g, b, t: OF.adadelta(th, g, b["sq"], b["dx"], lr=0.5, rho=0.95),
                 lambda: {"sq": zeros(), "dx": zeros()},
                 lambda: adadelta_reference(THETA0, grad_fn, STEPS, lr=0.5, rho=0.95)),
}


@pytest.mark.parametrize("tensors", [False, True], ids=["arrays", "tensors"])
@pytest.mark.parametrize("name", list(CASES))
def test_each_rule_as_a_function_follows_its_reference(name, tensors):
    step, buffers, reference = CASES[name]
    got = run(step, buffers(), tensors)
    want, _ = reference()
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_the_class_and_the_function_take_the_same_steps():
    layer = nn.Linear(3, 2, dtype=mg.float64)
    opt = optim.Adam(layer.parameters(), lr=0.05, betas=(0.8, 0.95))
    w0 = layer.weight.detach().numpy().copy()
    m, v = np.zeros(w0.size), np.zeros(w0.size)
    x = mg.randn(4, 3, dtype=mg.float64)
    mine = w0.reshape(-1).copy()
    for t in range(1, 4):
        opt.zero_grad()
        layer(x).sum().backward()
        g = layer.weight.grad.numpy().reshape(-1).copy()
        opt.step()
        OF.adam(mine, g, m, v, lr=0.05, beta1=0.8, beta2=0.95, step=t)
        np.testing.assert_array_equal(layer.weight.detach().numpy().reshape(-1), mine)


# ---- gradient storage -------------------------------------------------------------------


def test_backward_writes_a_leafs_gradient_into_its_storage():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    storage = np.full(3, np.nan, np.float32)
    autograd.set_grad_storage(x, storage)
    (x * x).sum().backward()
    np.testing.assert_array_equal(storage, [2.0, 4.0, 6.0])
    assert x.grad.raw is storage
    (x * x).sum().backward()                   # .grad exists now: accumulated in place
    np.testing.assert_array_equal(storage, [4.0, 8.0, 12.0])

    x.grad = None
    autograd.set_grad_storage(x, None)         # taken away: a fresh array again
    (3 * x).sum().backward()
    assert x.grad.raw is not storage
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0, 3.0])


@pytest.mark.parametrize("bad", [np.zeros(4, np.float32), np.zeros(3, np.float64), [0.0] * 3])
def test_a_storage_that_does_not_fit_the_leaf_is_refused(bad):
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(ValueError, match="set_grad_storage"):
        autograd.set_grad_storage(x, bad)
