"""kernels/activations.py in the interpreter: each activation's f and g · f′ as plain
Python functions, against the formulas and against central differences of f."""

import math

import pytest

from minigrad.kernels import activations as A

POINTS = [-40.0, -3.0, -1.0, -0.25, 0.0, 0.5, 2.0, 40.0]
PARAMS = {"leaky_relu": (0.1, 0.0), "elu": (0.7, 0.0), "softplus": (2.0, 5.0)}


def sigma(x):
    return 1 / (1 + math.exp(-x))  # the definition (no overflow at these points)


FORMULAS = {
    "identity": lambda x, p, q: x,
    "relu": lambda x, p, q: max(x, 0.0),
    "leaky_relu": lambda x, p, q: x if x > 0 else p * x,
    "sigmoid": lambda x, p, q: sigma(x),
    "tanh": lambda x, p, q: math.tanh(x),
    "gelu": lambda x, p, q: x * 0.5 * math.erfc(-x / math.sqrt(2)),
    "gelu_tanh": lambda x, p, q: 0.5 * x * (1 + math.tanh(
        math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))),
    "silu": lambda x, p, q: x * sigma(x),
    "softplus": lambda x, p, q: x if p * x > q else math.log1p(math.exp(p * x)) / p,
    "elu": lambda x, p, q: x if x > 0 else p * (math.exp(x) - 1),
}


@pytest.mark.parametrize("name", list(A.NAMES))
def test_f_is_the_formula(name):
    p, q = PARAMS.get(name, (0.0, 0.0))
    f = getattr(A, name)
    for x in POINTS:
        assert f(x, p, q) == pytest.approx(FORMULAS[name](x, p, q), rel=1e-13, abs=1e-300)
        assert A.activate(A.NAMES[name], x, p, q) == f(x, p, q)


@pytest.mark.parametrize("name", list(A.NAMES))
def test_backward_is_g_times_the_derivative_of_f(name):
    p, q = PARAMS.get(name, (0.0, 0.0))
    f, backward = getattr(A, name), getattr(A, name + "_backward")
    h = 1e-6
    for x in POINTS:
        if abs(x) < 1e-3 or (name == "softplus" and abs(p * x - q) < 1e-3):
            continue  # a kink: no central difference
        slope = (f(x + h, p, q) - f(x - h, p, q)) / (2 * h)
        y = f(x, p, q)
        got = backward(1.5, x, y, p, q)
        assert got == pytest.approx(1.5 * slope, rel=1e-6, abs=1e-9), x
        assert A.activate_backward(A.NAMES[name], 1.5, x, y, p, q) == got


def test_reads_input_lists_the_derivatives_that_need_x():
    # Those not listed must give the same gradient from the output alone (x unknown).
    for name, code in A.NAMES.items():
        if code in A.READS_INPUT:
            continue
        p, q = PARAMS.get(name, (0.0, 0.0))
        f, backward = getattr(A, name), getattr(A, name + "_backward")
        for x in POINTS:
            y = f(x, p, q)
            assert backward(1.0, float("nan"), y, p, q) == backward(1.0, x, y, p, q)
