"""CPU kernels against NumPy references written from each kernel's formula.

References are computed in float64 from the same (possibly float32) inputs,
with the textbook form of each formula where that differs from the kernel's
stable rewrite (e.g. BCE as −[y log σ + (1 − y) log(1 − σ)]), on inputs small
enough for the textbook form to be exact. The large-logit tests then check the
stable forms where the textbook ones overflow.
"""

import math

import numpy as np
import pytest

from minigrad.kernels.cpu import (
    first_invalid_class,
    adadelta_step,
    adadelta_step_parallel,
    adagrad_step,
    adagrad_step_parallel,
    adam_step,
    adam_step_parallel,
    bce_logits_backward,
    bce_logits_forward,
    column_sums,
    mse_backward,
    mse_forward,
    rmsprop_step,
    rmsprop_step_parallel,
    sgd_step,
    softmax_xent_backward,
    softmax_xent_forward,
    softmax_xent_prob_backward,
    softmax_xent_prob_forward,
)
from by_name import activation_kernels, dense_kernels
from minigrad.kernels.cpu import activations as _activations
from minigrad.kernels.cpu import matmul as _matmul
from optim_rules import (adadelta_reference, adagrad_reference, adam_reference, grad_sequence,
                         rmsprop_reference, sgd_reference)

# The activation kernels, one name per activation (kernels are built per activation:
# kernels/cpu/activations.py; tests/kernels/by_name.py)
_by_name = activation_kernels(_activations)
bias_add = _by_name.bias_add
bias_leaky_relu_forward = _by_name.bias_leaky_relu_forward
bias_relu_forward = _by_name.bias_relu_forward
bias_sigmoid_forward = _by_name.bias_sigmoid_forward
bias_tanh_forward = _by_name.bias_tanh_forward
leaky_relu_backward = _by_name.leaky_relu_backward
leaky_relu_forward = _by_name.leaky_relu_forward
relu_backward = _by_name.relu_backward
relu_forward = _by_name.relu_forward
sigmoid_backward = _by_name.sigmoid_backward
sigmoid_forward = _by_name.sigmoid_forward
tanh_backward = _by_name.tanh_backward
tanh_forward = _by_name.tanh_forward

N, M = 7, 13  # odd sizes, so no loop can get away with assuming a multiple of 2
SLOPE = 0.1
SCALE = 1.0 / N
TOL = {
    np.float32: dict(rtol=1e-5, atol=1e-6),
    np.float64: dict(rtol=1e-12, atol=1e-13),
}
DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64])


def randn(dtype, *shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def f64(a):
    return np.asarray(a, dtype=np.float64)


def assert_close(actual, expected, dtype):
    assert actual.dtype == dtype
    np.testing.assert_allclose(actual, expected, **TOL[dtype])


# NumPy references, straight from the formulas.
def ref_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-f64(x)))


def ref_leaky_relu(x):
    x = f64(x)
    return np.where(x > 0, x, SLOPE * x)


def ref_softmax(z):
    e = np.exp(f64(z))
    return e / e.sum(axis=1, keepdims=True)


def onehot(target, classes):
    return np.eye(classes)[target]


# -------------------------------------------------------------- activations


@DTYPES
def test_relu_forward_matches_formula(dtype):
    x = randn(dtype, N * M)
    out = np.empty_like(x)
    relu_forward(x, out)
    assert_close(out, np.maximum(f64(x), 0.0), dtype)


def test_relu_forward_propagates_nan():
    x = np.array([np.nan, -1.0, 2.0])
    out = np.empty_like(x)
    relu_forward(x, out)
    assert np.isnan(out[0]) and out[1] == 0.0 and out[2] == 2.0


@DTYPES
def test_leaky_relu_forward_matches_formula(dtype):
    x = randn(dtype, N * M)
    out = np.empty_like(x)
    leaky_relu_forward(x, SLOPE, out)
    assert_close(out, ref_leaky_relu(x), dtype)


@DTYPES
def test_sigmoid_forward_matches_formula(dtype):
    x = randn(dtype, N * M) * dtype(4)
    out = np.empty_like(x)
    sigmoid_forward(x, out)
    assert_close(out, ref_sigmoid(x), dtype)


@DTYPES
def test_sigmoid_forward_is_stable_at_large_logits(dtype):
    x = np.array([-1000.0, -100.0, 100.0, 1000.0], dtype=dtype)
    out = np.empty_like(x)
    sigmoid_forward(x, out)
    assert np.all(np.isfinite(out))
    assert out[0] == 0.0 and out[3] == 1.0
    assert 0.0 <= out[1] < 1e-40
    assert out[2] == 1.0


@DTYPES
def test_tanh_forward_matches_formula_and_saturates(dtype):
    x = np.concatenate([randn(dtype, N * M) * dtype(3), np.array([-1000.0, 1000.0], dtype)])
    out = np.empty_like(x)
    tanh_forward(x, out)
    assert_close(out, np.tanh(f64(x)), dtype)
    assert out[-2] == -1.0 and out[-1] == 1.0


@DTYPES
def test_bias_add_matches_formula(dtype):
    z, b = randn(dtype, N, M), randn(dtype, M, seed=1)
    out = np.empty_like(z)
    bias_add(z, b, out)
    assert_close(out, f64(z) + f64(b), dtype)


@DTYPES
def test_bias_relu_forward_matches_formula(dtype):
    z, b = randn(dtype, N, M), randn(dtype, M, seed=1)
    out = np.empty_like(z)
    bias_relu_forward(z, b, out)
    assert_close(out, np.maximum(f64(z) + f64(b), 0.0), dtype)


@DTYPES
def test_bias_leaky_relu_forward_matches_formula(dtype):
    z, b = randn(dtype, N, M), randn(dtype, M, seed=1)
    out = np.empty_like(z)
    bias_leaky_relu_forward(z, b, SLOPE, out)
    assert_close(out, ref_leaky_relu(f64(z) + f64(b)), dtype)


@DTYPES
def test_bias_sigmoid_forward_matches_formula(dtype):
    z, b = randn(dtype, N, M), randn(dtype, M, seed=1)
    out = np.empty_like(z)
    bias_sigmoid_forward(z, b, out)
    assert_close(out, ref_sigmoid(f64(z) + f64(b)), dtype)


@DTYPES
def test_bias_sigmoid_forward_is_stable_at_large_logits(dtype):
    z = np.array([[-1000.0, 1000.0], [-999.0, 999.0]], dtype=dtype)
    b = np.array([-1.0, 1.0], dtype=dtype)
    out = np.empty_like(z)
    bias_sigmoid_forward(z, b, out)
    np.testing.assert_array_equal(out, [[0.0, 1.0], [0.0, 1.0]])


@DTYPES
def test_bias_tanh_forward_matches_formula(dtype):
    z, b = randn(dtype, N, M), randn(dtype, M, seed=1)
    out = np.empty_like(z)
    bias_tanh_forward(z, b, out)
    assert_close(out, np.tanh(f64(z) + f64(b)), dtype)


BIAS_KERNELS = [
    (bias_add, ()),
    (bias_relu_forward, ()),
    (bias_leaky_relu_forward, (SLOPE,)),
    (bias_sigmoid_forward, ()),
    (bias_tanh_forward, ()),
]


@DTYPES
@pytest.mark.parametrize(
    "kernel, extra", BIAS_KERNELS, ids=[k.__name__ for k, _ in BIAS_KERNELS]
)
def test_bias_forward_with_out_is_z_gives_same_answer(kernel, extra, dtype):
    z, b = randn(dtype, N, M), randn(dtype, M, seed=1)
    expected = np.empty_like(z)
    kernel(z, b, *extra, expected)
    kernel(z, b, *extra, z)
    np.testing.assert_array_equal(z, expected)


# Backward kernels take the forward OUTPUT y; build y from x with the forward
# formula, so the derivative is checked where it is defined.
@DTYPES
def test_relu_backward_matches_formula(dtype):
    grad, x = randn(dtype, N * M), randn(dtype, N * M, seed=1)
    y = np.maximum(x, 0).astype(dtype)
    out = np.empty_like(grad)
    relu_backward(grad, y, out)
    assert_close(out, f64(grad) * (f64(x) > 0), dtype)


@DTYPES
def test_leaky_relu_backward_matches_formula(dtype):
    grad, x = randn(dtype, N * M), randn(dtype, N * M, seed=1)
    y = ref_leaky_relu(x).astype(dtype)
    out = np.empty_like(grad)
    leaky_relu_backward(grad, y, SLOPE, out)
    assert_close(out, f64(grad) * np.where(f64(x) > 0, 1.0, SLOPE), dtype)


@DTYPES
def test_sigmoid_backward_matches_formula(dtype):
    grad, x = randn(dtype, N * M), randn(dtype, N * M, seed=1)
    y = ref_sigmoid(x).astype(dtype)
    out = np.empty_like(grad)
    sigmoid_backward(grad, y, out)
    assert_close(out, f64(grad) * f64(y) * (1.0 - f64(y)), dtype)


@DTYPES
def test_tanh_backward_matches_formula(dtype):
    grad, x = randn(dtype, N * M), randn(dtype, N * M, seed=1)
    y = np.tanh(x).astype(dtype)
    out = np.empty_like(grad)
    tanh_backward(grad, y, out)
    assert_close(out, f64(grad) * (1.0 - f64(y) ** 2), dtype)


BACKWARD_KERNELS = [
    (relu_backward, ()),
    (leaky_relu_backward, (SLOPE,)),
    (sigmoid_backward, ()),
    (tanh_backward, ()),
]


@DTYPES
@pytest.mark.parametrize(
    "kernel, extra", BACKWARD_KERNELS, ids=[k.__name__ for k, _ in BACKWARD_KERNELS]
)
def test_activation_backward_with_out_is_grad_gives_same_answer(kernel, extra, dtype):
    grad = randn(dtype, N * M)
    y = ref_sigmoid(randn(dtype, N * M, seed=1)).astype(dtype) - dtype(0.5)
    expected = np.empty_like(grad)
    kernel(grad, y, *extra, expected)
    kernel(grad, y, *extra, grad)
    np.testing.assert_array_equal(grad, expected)


# --------------------------------------------------------------- reductions


@DTYPES
def test_column_sums_matches_formula_and_overwrites_out(dtype):
    g = randn(dtype, N, M)
    out = np.full(M, 99.0, dtype=dtype)  # stale values must not leak in
    column_sums(g, out)
    assert_close(out, f64(g).sum(axis=0), dtype)


# ------------------------------------------------------------------- losses


def classes(seed=2):
    return np.random.default_rng(seed).integers(0, M, size=N).astype(np.int64)


def prob_targets(dtype, seed=3):
    t = np.random.default_rng(seed).random((N, M))
    return (t / t.sum(axis=1, keepdims=True)).astype(dtype)


@DTYPES
def test_softmax_xent_forward_matches_formula(dtype):
    z, y = randn(dtype, N, M) * dtype(3), classes()
    probs, losses = np.empty_like(z), np.empty(N, dtype)
    softmax_xent_forward(z, y, SCALE, probs, losses, np.empty(1, dtype))
    p = ref_softmax(z)
    assert_close(probs, p, dtype)
    assert_close(losses, -np.log(p[np.arange(N), y]), dtype)


@DTYPES
def test_softmax_xent_forward_rows_of_probs_sum_to_one(dtype):
    z = randn(dtype, N, M) * dtype(10)
    probs, losses = np.empty_like(z), np.empty(N, dtype)
    softmax_xent_forward(z, classes(), SCALE, probs, losses, np.empty(1, dtype))
    np.testing.assert_allclose(f64(probs).sum(axis=1), 1.0, **TOL[dtype])


@DTYPES
def test_softmax_xent_forward_is_stable_at_large_logits(dtype):
    z = np.array(
        [[1000.0, -1000.0, 0.0], [1000.0, -1000.0, 0.0], [1000.0, -1000.0, 0.0],
         [1000.0, 1000.0, 1000.0], [-1000.0, -1000.0, -1000.0]],
        dtype=dtype,
    )
    y = np.array([0, 1, 2, 1, 2], dtype=np.int64)
    probs, losses = np.empty_like(z), np.empty(5, dtype)
    softmax_xent_forward(z, y, SCALE, probs, losses, np.empty(1, dtype))
    assert np.all(np.isfinite(probs)) and np.all(np.isfinite(losses))
    expected_probs = [[1, 0, 0], [1, 0, 0], [1, 0, 0], [1 / 3] * 3, [1 / 3] * 3]
    assert_close(probs, expected_probs, dtype)
    assert_close(losses, [0.0, 2000.0, 1000.0, math.log(3), math.log(3)], dtype)


@DTYPES
def test_softmax_xent_backward_matches_formula(dtype):
    probs, y = ref_softmax(randn(dtype, N, M)).astype(dtype), classes()
    out = np.empty_like(probs)
    softmax_xent_backward(probs, y, SCALE, out)
    assert_close(out, SCALE * (f64(probs) - onehot(y, M)), dtype)


@DTYPES
def test_softmax_xent_prob_forward_matches_formula(dtype):
    z, t = randn(dtype, N, M) * dtype(3), prob_targets(dtype)
    probs, losses = np.empty_like(z), np.empty(N, dtype)
    softmax_xent_prob_forward(z, t, SCALE, probs, losses, np.empty(1, dtype))
    p = ref_softmax(z)
    assert_close(probs, p, dtype)
    assert_close(losses, -(f64(t) * np.log(p)).sum(axis=1), dtype)


@DTYPES
def test_softmax_xent_prob_forward_with_onehot_targets_equals_class_variant(dtype):
    z, y = randn(dtype, N, M) * dtype(3), classes()
    p_idx, l_idx = np.empty_like(z), np.empty(N, dtype)
    p_prob, l_prob = np.empty_like(z), np.empty(N, dtype)
    softmax_xent_forward(z, y, SCALE, p_idx, l_idx, np.empty(1, dtype))
    softmax_xent_prob_forward(z, onehot(y, M).astype(dtype), SCALE, p_prob, l_prob, np.empty(1, dtype))
    assert_close(p_prob, p_idx, dtype)
    assert_close(l_prob, l_idx, dtype)


@DTYPES
def test_softmax_xent_prob_forward_is_stable_at_large_logits(dtype):
    z = np.array([[1000.0, -1000.0, 0.0], [1000.0, 1000.0, 1000.0]], dtype=dtype)
    t = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]], dtype=dtype)
    probs, losses = np.empty_like(z), np.empty(2, dtype)
    softmax_xent_prob_forward(z, t, SCALE, probs, losses, np.empty(1, dtype))
    assert np.all(np.isfinite(probs)) and np.all(np.isfinite(losses))
    assert_close(losses, [0.5 * 0.0 + 0.5 * 2000.0, math.log(3)], dtype)


@DTYPES
def test_softmax_xent_prob_backward_matches_formula(dtype):
    probs = ref_softmax(randn(dtype, N, M)).astype(dtype)
    # Rows of t that do not sum to 1, so the Σ_k t_ik factor is exercised.
    t = (prob_targets(dtype) * np.linspace(0.5, 2.0, N)[:, None]).astype(dtype)
    out = np.empty_like(probs)
    softmax_xent_prob_backward(probs, t, SCALE, out)
    expected = SCALE * (f64(probs) * f64(t).sum(axis=1, keepdims=True) - f64(t))
    assert_close(out, expected, dtype)


@DTYPES
def test_softmax_xent_backward_with_out_is_probs_gives_same_answer(dtype):
    probs, y, t = ref_softmax(randn(dtype, N, M)).astype(dtype), classes(), prob_targets(dtype)
    for kernel, target in [(softmax_xent_backward, y), (softmax_xent_prob_backward, t)]:
        p = probs.copy()
        expected = np.empty_like(p)
        kernel(p, target, SCALE, expected)
        kernel(p, target, SCALE, p)
        np.testing.assert_array_equal(p, expected)


@DTYPES
def test_bce_logits_forward_matches_formula(dtype):
    z = randn(dtype, N * M) * dtype(4)
    y = np.random.default_rng(4).random(N * M).astype(dtype)  # soft labels too
    losses = np.empty_like(z)
    bce_logits_forward(z, y, SCALE, losses, np.empty(1, dtype))
    s, yy = ref_sigmoid(z), f64(y)
    assert_close(losses, -(yy * np.log(s) + (1.0 - yy) * np.log(1.0 - s)), dtype)


@DTYPES
def test_bce_logits_is_stable_at_large_logits(dtype):
    z = np.array([1000.0, 1000.0, -1000.0, -1000.0], dtype=dtype)
    y = np.array([1.0, 0.0, 1.0, 0.0], dtype=dtype)
    losses, grad = np.empty_like(z), np.empty_like(z)
    bce_logits_forward(z, y, SCALE, losses, np.empty(1, dtype))
    bce_logits_backward(z, y, 1.0, grad)
    np.testing.assert_array_equal(losses, [0.0, 1000.0, 1000.0, 0.0])
    np.testing.assert_array_equal(grad, [0.0, 1.0, -1.0, 0.0])


@DTYPES
def test_bce_logits_backward_matches_formula(dtype):
    z = randn(dtype, N * M) * dtype(4)
    y = np.random.default_rng(4).random(N * M).astype(dtype)
    out = np.empty_like(z)
    bce_logits_backward(z, y, SCALE, out)
    assert_close(out, SCALE * (ref_sigmoid(z) - f64(y)), dtype)


@DTYPES
def test_mse_forward_matches_formula(dtype):
    pred, target = randn(dtype, N * M), randn(dtype, N * M, seed=1)
    losses = np.empty_like(pred)
    mse_forward(pred, target, SCALE, losses, np.empty(1, dtype))
    assert_close(losses, (f64(pred) - f64(target)) ** 2, dtype)


@DTYPES
def test_mse_backward_matches_formula(dtype):
    pred, target = randn(dtype, N * M), randn(dtype, N * M, seed=1)
    out = np.empty_like(pred)
    mse_backward(pred, target, SCALE, out)
    assert_close(out, 2.0 * SCALE * (f64(pred) - f64(target)), dtype)


# -------------------------------------------------------------------- optim


# The rules' float64 references are optim_rules.py's, shared with the optimizer tests.
def final(reference, param0, grads, **hyper):
    """θ after the given gradients, and the state, by ``reference`` (optim_rules.py)."""
    trajectory, state = reference(param0, grad_sequence(grads), len(grads), **hyper)
    return trajectory[-1], state


SGD_CASES = {
    "momentum": (0.9, 0.0, False, 0.0),
    "momentum_dampening_weight_decay": (0.9, 0.3, False, 0.01),
    "nesterov_weight_decay": (0.9, 0.0, True, 0.01),
    "nesterov_dampening": (0.5, 0.2, True, 0.0),
}


@DTYPES
@pytest.mark.parametrize("case", SGD_CASES)
def test_sgd_step_matches_rule_over_three_steps(case, dtype):
    momentum, dampening, nesterov, weight_decay = SGD_CASES[case]
    lr, n = 0.1, N * M
    param0 = randn(dtype, n)
    grads = [randn(dtype, n, seed=10 + k) for k in range(3)]
    param, buf = param0.copy(), np.zeros(n, dtype)
    for k, g in enumerate(grads):
        sgd_step(param, g, buf, lr, momentum, dampening, nesterov, weight_decay, k == 0)
    p_ref, state = final(sgd_reference, param0, grads, lr=lr, momentum=momentum,
                         dampening=dampening, nesterov=nesterov, weight_decay=weight_decay)
    assert_close(param, p_ref, dtype)
    assert_close(buf, state["momentum_buffer"], dtype)


def test_sgd_step_first_step_takes_the_undamped_gradient():
    # Worked by hand: θ=1, g=1 each step, γ=0.1, μ=0.9, τ=0.5.
    # step 1: b = g = 1 (no dampening), θ = 1 − 0.1 = 0.9
    # step 2: b = 0.9·1 + 0.5·1 = 1.4,   θ = 0.9 − 0.14 = 0.76
    param, grad, buf = np.array([1.0]), np.array([1.0]), np.zeros(1)
    sgd_step(param, grad, buf, 0.1, 0.9, 0.5, False, 0.0, True)
    assert buf[0] == pytest.approx(1.0) and param[0] == pytest.approx(0.9)
    sgd_step(param, grad, buf, 0.1, 0.9, 0.5, False, 0.0, False)
    assert buf[0] == pytest.approx(1.4) and param[0] == pytest.approx(0.76)


@DTYPES
def test_sgd_step_without_momentum_uses_empty_buffer(dtype):
    lr, weight_decay, n = 0.1, 0.01, N * M
    param0 = randn(dtype, n)
    grads = [randn(dtype, n, seed=10 + k) for k in range(3)]
    param, empty = param0.copy(), np.empty(0, dtype)
    for k, g in enumerate(grads):
        sgd_step(param, g, empty, lr, 0.0, 0.0, False, weight_decay, k == 0)
    p_ref, _ = final(sgd_reference, param0, grads, lr=lr, weight_decay=weight_decay)
    assert_close(param, p_ref, dtype)
    assert empty.shape == (0,)


# ---------------------------------------------------------- adaptive optimizers
#
# The rules of the kernels' docstrings (optim_rules.py), over three steps on buffers
# that start where the optimizers start them (zero, or Adagrad's initial accumulator). N_OPT is odd and not a multiple of the parallel kernels' chunk count.

N_OPT = 1001


def opt_inputs(dtype, n=N_OPT, steps=3):
    """θ, and gradients whose size changes from step to step (so that amsgrad's
    maximum and RMSprop's centring have something to do)."""
    param = randn(dtype, n, seed=20)
    grads = [randn(dtype, n, seed=21 + k) * dtype(s) for k, s in enumerate([1.0, 0.2, 1.5][:steps])]
    return param, grads


# (lr, lr_decay, weight_decay, eps, initial accumulator)
ADAGRAD_CASES = {"plain": (0.1, 0.0, 0.0, 1e-10, 0.0),
                 "decay_wd_accumulator": (0.1, 0.5, 0.01, 1e-10, 0.1)}
# (lr, alpha, eps, weight_decay, momentum, centered)
RMSPROP_CASES = {"plain": (0.01, 0.99, 1e-8, 0.0, 0.0, False),
                 "momentum_wd": (0.01, 0.9, 1e-8, 0.01, 0.9, False),
                 "centered": (0.01, 0.9, 1e-8, 0.0, 0.0, True),
                 "centered_momentum_wd": (0.01, 0.9, 1e-8, 0.01, 0.5, True)}
# (lr, beta1, beta2, eps, weight_decay, decoupled, amsgrad)
ADAM_CASES = {"adam": (0.01, 0.9, 0.999, 1e-8, 0.0, False, False),
              "adam_wd_amsgrad": (0.01, 0.8, 0.9, 1e-8, 0.01, False, True),
              "adamw": (0.01, 0.9, 0.999, 1e-8, 0.1, True, False),
              "adamw_amsgrad": (0.01, 0.8, 0.9, 1e-8, 0.1, True, True)}
# (lr, rho, eps, weight_decay)
ADADELTA_CASES = {"plain": (1.0, 0.9, 1e-6, 0.0), "lr_wd": (0.5, 0.95, 1e-6, 0.01)}


def empty_buffer(backing):
    """A length-0 buffer whose data pointer is ``backing``'s: a kernel that wrongly
    wrote through it would change ``backing``, which the tests then check."""
    return backing[:0]


@DTYPES
@pytest.mark.parametrize("case", ADAGRAD_CASES)
def test_adagrad_step_matches_rule_over_three_steps(case, dtype):
    lr, lr_decay, weight_decay, eps, init = ADAGRAD_CASES[case]
    param0, grads = opt_inputs(dtype)
    param, state_sum = param0.copy(), np.full(N_OPT, init, dtype)
    for t, g in enumerate(grads, start=1):
        adagrad_step(param, g, state_sum, lr, lr_decay, weight_decay, eps, t)
    p_ref, state = final(adagrad_reference, param0, grads, lr=lr, lr_decay=lr_decay,
                         weight_decay=weight_decay, initial_accumulator_value=init, eps=eps)
    assert_close(param, p_ref, dtype)
    assert_close(state_sum, state["sum"], dtype)


@DTYPES
@pytest.mark.parametrize("case", RMSPROP_CASES)
def test_rmsprop_step_matches_rule_over_three_steps(case, dtype):
    lr, alpha, eps, weight_decay, momentum, centered = RMSPROP_CASES[case]
    param0, grads = opt_inputs(dtype)
    param, square_avg = param0.copy(), np.zeros(N_OPT, dtype)
    sentinel = np.full(N_OPT, 7.0, dtype)
    grad_avg = np.zeros(N_OPT, dtype) if centered else empty_buffer(sentinel)
    momentum_buf = np.zeros(N_OPT, dtype) if momentum > 0 else empty_buffer(sentinel)
    for g in grads:
        rmsprop_step(param, g, square_avg, grad_avg, momentum_buf, lr, alpha, eps, weight_decay,
                     momentum, centered)
    p_ref, state = final(rmsprop_reference, param0, grads, lr=lr, alpha=alpha, eps=eps,
                         weight_decay=weight_decay, momentum=momentum, centered=centered)
    assert_close(param, p_ref, dtype)
    assert_close(square_avg, state["square_avg"], dtype)
    if centered:
        assert_close(grad_avg, state["grad_avg"], dtype)
    if momentum > 0:
        assert_close(momentum_buf, state["momentum_buffer"], dtype)
    assert np.all(sentinel == 7.0)  # length-0 buffers were not touched


@DTYPES
@pytest.mark.parametrize("case", ADAM_CASES)
def test_adam_step_matches_rule_over_three_steps(case, dtype):
    lr, beta1, beta2, eps, weight_decay, decoupled, amsgrad = ADAM_CASES[case]
    param0, grads = opt_inputs(dtype)
    param, exp_avg, exp_avg_sq = param0.copy(), np.zeros(N_OPT, dtype), np.zeros(N_OPT, dtype)
    sentinel = np.full(N_OPT, 7.0, dtype)
    max_sq = np.zeros(N_OPT, dtype) if amsgrad else empty_buffer(sentinel)
    for t, g in enumerate(grads, start=1):
        adam_step(param, g, exp_avg, exp_avg_sq, max_sq, lr, beta1, beta2, eps, weight_decay,
                  decoupled, amsgrad, t)
    p_ref, state = final(adam_reference, param0, grads, lr=lr, betas=(beta1, beta2), eps=eps,
                         weight_decay=weight_decay, amsgrad=amsgrad, decoupled=decoupled)
    assert_close(param, p_ref, dtype)
    assert_close(exp_avg, state["exp_avg"], dtype)
    assert_close(exp_avg_sq, state["exp_avg_sq"], dtype)
    if amsgrad:
        # these inputs exercise the maximum
        assert np.any(state["max_exp_avg_sq"] > state["exp_avg_sq"])
        assert_close(max_sq, state["max_exp_avg_sq"], dtype)
    assert np.all(sentinel == 7.0)


@DTYPES
@pytest.mark.parametrize("case", ADADELTA_CASES)
def test_adadelta_step_matches_rule_over_three_steps(case, dtype):
    lr, rho, eps, weight_decay = ADADELTA_CASES[case]
    param0, grads = opt_inputs(dtype)
    param, square_avg, acc_delta = param0.copy(), np.zeros(N_OPT, dtype), np.zeros(N_OPT, dtype)
    for g in grads:
        adadelta_step(param, g, square_avg, acc_delta, lr, rho, eps, weight_decay)
    p_ref, state = final(adadelta_reference, param0, grads, lr=lr, rho=rho, eps=eps,
                         weight_decay=weight_decay)
    assert_close(param, p_ref, dtype)
    assert_close(square_avg, state["square_avg"], dtype)
    assert_close(acc_delta, state["acc_delta"], dtype)


def test_adadelta_step_reproduces_reference_md_numbers():
    # REFERENCE.md: γ = 0.95, gradients 0.1, 0.2, 0.15 → E[g²] = 0.0005, 0.002475, 0.00347625
    param, square_avg, acc_delta = np.zeros(1), np.zeros(1), np.zeros(1)
    for g, want in zip([0.1, 0.2, 0.15], [0.0005, 0.002475, 0.00347625]):
        adadelta_step(param, np.array([g]), square_avg, acc_delta, 1.0, 0.95, 1e-6, 0.0)
        assert square_avg[0] == pytest.approx(want, rel=1e-12)


# Each kernel with every option on, as (kernel, its parallel twin, {buffer: initial
# value}, the hyper-parameters after the buffers, whether a step count comes last).
OPT_KERNELS = {
    "adagrad": (adagrad_step, adagrad_step_parallel, {"sum": 0.1},
                (0.1, 0.5, 0.01, 1e-10), True),
    "rmsprop": (rmsprop_step, rmsprop_step_parallel,
                {"square_avg": 0.0, "grad_avg": 0.0, "momentum_buf": 0.0},
                (0.01, 0.9, 1e-8, 0.01, 0.5, True), False),
    "adam": (adam_step, adam_step_parallel,
             {"exp_avg": 0.0, "exp_avg_sq": 0.0, "max_exp_avg_sq": 0.0},
             (0.01, 0.8, 0.9, 1e-8, 0.01, False, True), True),
    "adamw": (adam_step, adam_step_parallel,
              {"exp_avg": 0.0, "exp_avg_sq": 0.0, "max_exp_avg_sq": 0.0},
              (0.01, 0.9, 0.999, 1e-8, 0.1, True, True), True),
    "adadelta": (adadelta_step, adadelta_step_parallel,
                 {"square_avg": 0.0, "acc_delta": 0.0}, (0.5, 0.95, 1e-6, 0.01), False),
}


def _run_opt(kernel, param, grads, buffers, hyper, counted):
    for t, g in enumerate(grads, start=1):
        kernel(param, g, *buffers.values(), *hyper, *((t,) if counted else ()))


@DTYPES
@pytest.mark.parametrize("n", [10, N_OPT, 20011])  # fewer elements than chunks, odd, large
@pytest.mark.parametrize("name", OPT_KERNELS)
def test_parallel_optimizer_kernel_equals_serial(name, n, dtype):
    serial, parallel, names, hyper, counted = OPT_KERNELS[name]
    param0, grads = opt_inputs(dtype, n)
    results = []
    for kernel in (serial, parallel):
        param = param0.copy()
        buffers = {k: np.full(n, init, dtype) for k, init in names.items()}
        _run_opt(kernel, param, [g.copy() for g in grads], buffers, hyper, counted)
        results.append((param, buffers))
    (p_s, b_s), (p_p, b_p) = results
    if dtype == np.float64:  # the same arithmetic on each element: bit for bit
        assert np.array_equal(p_p, p_s)
        for k in names:
            assert np.array_equal(b_p[k], b_s[k]), k
    else:
        np.testing.assert_allclose(p_p, p_s, rtol=1e-6)
        for k in names:
            np.testing.assert_allclose(b_p[k], b_s[k], rtol=1e-6, err_msg=k)


@DTYPES
def test_parallel_optimizer_kernels_leave_length_0_buffers_alone(dtype):
    # Each chunk passes an unused length-0 buffer on whole: it must stay unused.
    n = 20011
    param0, grads = opt_inputs(dtype, n)
    sentinel = np.full(n, 7.0, dtype)
    param, square_avg = param0.copy(), np.zeros(n, dtype)
    rmsprop_step_parallel(param, grads[0], square_avg, empty_buffer(sentinel),
                          empty_buffer(sentinel), 0.01, 0.99, 1e-8, 0.0, 0.0, False)
    p_ref, _ = final(rmsprop_reference, param0, grads[:1], lr=0.01)
    assert_close(param, p_ref, dtype)
    param, exp_avg, exp_avg_sq = param0.copy(), np.zeros(n, dtype), np.zeros(n, dtype)
    adam_step_parallel(param, grads[0], exp_avg, exp_avg_sq, empty_buffer(sentinel),
                       0.01, 0.9, 0.999, 1e-8, 0.0, False, False, 1)
    p_ref, _ = final(adam_reference, param0, grads[:1], lr=0.01)
    assert_close(param, p_ref, dtype)
    assert np.all(sentinel == 7.0)


@pytest.mark.parametrize("name", OPT_KERNELS)
@pytest.mark.parametrize("which", ["serial", "parallel"])
def test_optimizer_kernels_propagate_nan_gradients(name, which):
    # No fastmath: a NaN gradient must reach the parameter, not vanish in a max or
    # a reordered expression, and the other elements must be updated as usual.
    n = 9
    serial, parallel, names, hyper, counted = OPT_KERNELS[name]
    param0, grads = opt_inputs(np.float64, n, steps=1)
    grad = grads[0].copy()
    grad[4] = np.nan
    kernel = serial if which == "serial" else parallel
    param = param0.copy()
    _run_opt(kernel, param, [grad], {k: np.full(n, v) for k, v in names.items()}, hyper, counted)
    clean = param0.copy()
    _run_opt(serial, clean, grads, {k: np.full(n, v) for k, v in names.items()}, hyper, counted)
    assert np.isnan(param[4])
    mask = np.arange(n) != 4
    assert np.array_equal(param[mask], clean[mask])


# ------------------------------------------- loss forward kernels reduce their losses


def _z_and_target(kernel, dtype):
    z = randn(dtype, N, M) * dtype(3)
    if kernel is softmax_xent_forward:
        return z, classes()
    if kernel is softmax_xent_prob_forward:
        return z, prob_targets(dtype)
    return z.reshape(-1), np.random.default_rng(5).random(N * M).astype(dtype)


@DTYPES
@pytest.mark.parametrize("kernel", [softmax_xent_forward, softmax_xent_prob_forward,
                                    bce_logits_forward, mse_forward],
                         ids=lambda k: k.__name__)
@pytest.mark.parametrize("scale", [1.0, 1.0 / 7])
def test_loss_forward_writes_scale_times_the_sum_of_its_losses(kernel, dtype, scale):
    z, target = _z_and_target(kernel, dtype)
    losses, loss = np.empty(z.shape[0], dtype), np.empty(1, dtype)
    if z.ndim == 2:
        kernel(z, target, scale, np.empty_like(z), losses, loss)
    else:
        kernel(z, target, scale, losses, loss)
    # scale times the float64 sum of the losses the kernel wrote, rounded once to dtype
    expected = scale * float(np.sum(losses.astype(np.float64)))
    assert loss[0] == pytest.approx(expected, rel=1e-12 if dtype == np.float64 else 1.2e-7)


@pytest.mark.parametrize("target, expected", [
    ([0, 3, 9, 2], -1), ([0, 10, 3, -1], 1), ([-1, 0], 0), ([], -1), ([9, 9, 12], 2)])
def test_first_invalid_class_finds_the_first_target_outside_the_classes(target, expected):
    out = np.full(1, 123, np.int64)
    first_invalid_class(np.array(target, dtype=np.int64), 10, out)
    assert out[0] == expected


def test_float32_adam_and_adadelta_form_one_minus_beta_in_float64():
    # From zero state with g = 1, one step leaves exactly (1 − β) rounded once to
    # float32 in each moving average; 1 − float32(β) would be off by ~1e-5 relative.
    p, g = np.zeros(1, np.float32), np.ones(1, np.float32)
    m, v = np.zeros(1, np.float32), np.zeros(1, np.float32)
    adam_step(p, g, m, v, np.empty(0, np.float32), 1e-3, 0.9, 0.999, 1e-8, 0.0, False, False, 1)
    assert m[0] == np.float32(1.0 - 0.9) and v[0] == np.float32(1.0 - 0.999)
    sq, acc = np.zeros(1, np.float32), np.zeros(1, np.float32)
    adadelta_step(np.zeros(1, np.float32), g, sq, acc, 1.0, 0.999, 1e-6, 0.0)
    assert sq[0] == np.float32(1.0 - 0.999)


# ------------------------------------------ the dense layer in one kernel (small layers)

dense = dense_kernels(_matmul)

DENSE_ACTS = {  # code: (f, f′ written in terms of the output y)
    dense.IDENTITY: (lambda a: a, lambda y: np.ones_like(y)),
    dense.RELU: (lambda a: np.maximum(a, 0.0), lambda y: (y > 0).astype(float)),
    dense.LEAKY_RELU: (ref_leaky_relu, lambda y: np.where(y > 0, 1.0, SLOPE)),
    dense.SIGMOID: (ref_sigmoid, lambda y: y * (1.0 - y)),
    dense.TANH: (np.tanh, lambda y: 1.0 - y * y),
}
DENSE_TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}


@DTYPES
@pytest.mark.parametrize("act", list(DENSE_ACTS), ids=["identity", "relu", "leaky_relu",
                                                      "sigmoid", "tanh"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_linear_forward_is_f_of_x_wt_plus_b(dtype, act, bias):
    x, w = randn(dtype, N, 5), randn(dtype, M, 5, seed=1)
    b = randn(dtype, M, seed=2) if bias else np.empty(0, dtype)
    out = np.empty((N, M), dtype)
    dense.linear_forward(x, w, b, act, SLOPE, out)
    a = f64(x) @ f64(w).T + (f64(b) if bias else 0.0)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, DENSE_ACTS[act][0](a), **DENSE_TOL[dtype])


@DTYPES
@pytest.mark.parametrize("act", list(DENSE_ACTS), ids=["identity", "relu", "leaky_relu",
                                                      "sigmoid", "tanh"])
def test_linear_backward_gives_all_three_gradients(dtype, act):
    x, w, grad = randn(dtype, N, 5), randn(dtype, M, 5, seed=1), randn(dtype, N, M, seed=3)
    f, fprime = DENSE_ACTS[act]
    y = f(f64(x) @ f64(w).T).astype(dtype)
    gx, gw, gb = np.full((N, 5), 7.0, dtype), np.full((M, 5), 7.0, dtype), np.full(M, 7.0, dtype)
    dense.linear_backward(grad, x, w, y, act, SLOPE, gx, gw, gb)
    delta = f64(grad) * fprime(f64(y))          # outputs are overwritten, not added to
    for got, want in [(gx, delta @ f64(w)), (gw, delta.T @ f64(x)), (gb, delta.sum(axis=0))]:
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, **DENSE_TOL[dtype])


def test_linear_backward_skips_the_gradients_passed_as_length_0():
    x, w, grad = randn(np.float64, N, 5), randn(np.float64, M, 5, seed=1), randn(np.float64, N, M)
    y = np.tanh(x @ w.T)
    gw = np.empty((M, 5))
    dense.linear_backward(grad, x, w, y, dense.TANH, 0.0, np.empty((0, 0)), gw, np.empty(0))
    np.testing.assert_allclose(gw, (grad * (1 - y * y)).T @ x, rtol=1e-12)


def test_linear_kernels_pass_nan_through_relu_as_the_activation_kernels_do():
    x = np.array([[np.nan], [-1.0], [2.0]])
    out = np.empty((3, 1))
    dense.linear_forward(x, np.ones((1, 1)), np.zeros(1), dense.RELU, 0.0, out)
    assert np.isnan(out[0, 0]) and out[1, 0] == 0.0 and out[2, 0] == 2.0
