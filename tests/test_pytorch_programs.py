"""PyTorch's tutorial programs run on minigrad with only the import changed, and
reach PyTorch's final loss from the same starting weights.

The programs are in ``pytorch_programs.py``, each a function of the library it runs
on. ``PYTORCH`` holds the final loss each reached under PyTorch 2.13.0 (CPU build,
one thread, float32), printed by ``python tests/pytorch_programs.py`` on
2026-12-06; where PyTorch is installed, the last test computes them again.
"""

import minigrad
import pytest

import pytorch_programs as programs

PYTORCH = {
    "polynomial_tensor": 8.961402893066406,
    "two_layer_tensor": 0.007681875489652157,
    "polynomial_autograd": 8.961402893066406,
    "two_layer_autograd": 0.007681875489652157,
    "polynomial_custom_function": 8.943641662597656,
    "two_layer_custom_function": 0.007681875489652157,
    "polynomial_nn": 9.002523422241211,
    "two_layer_nn": 0.0017514294013381004,
    "polynomial_optim": 8.90435791015625,
    "two_layer_optim": 0.00714679853990674,
    "polynomial_module": 8.961402893066406,
    "two_layer_module": 0.0017514240462332964,
    "dynamic_net": 241.06842041015625,
}

# "Within a few percent": float32 sums in another order drift apart over thousands
# of steps; 2% is far below what a wrong gradient or a missed update gives.
RTOL = 0.02


@pytest.fixture(autouse=True)
def _default_device_back_to_cpu():
    yield
    minigrad.set_default_device("cpu")   # polynomial_autograd sets it, as its tutorial does


@pytest.mark.parametrize("name", list(programs.PROGRAMS))
def test_the_program_reaches_pytorchs_final_loss(name):
    loss = programs.PROGRAMS[name](minigrad)
    assert loss == pytest.approx(PYTORCH[name], rel=RTOL)


def test_the_programs_train():
    # the final losses are far below the starting ones (a program that updated nothing
    # would stop where it began): the first step of each, under minigrad
    first = dict(programs.STEPS)
    try:
        for key in programs.STEPS:
            programs.STEPS[key] = 1
        for name in ("polynomial_autograd", "two_layer_nn", "polynomial_nn"):
            assert programs.PROGRAMS[name](minigrad) > 10 * PYTORCH[name]
    finally:
        programs.STEPS.update(first)


def test_the_recorded_pytorch_losses_are_pytorchs():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for name, program in programs.PROGRAMS.items():
            assert program(torch) == pytest.approx(PYTORCH[name], rel=1e-4), name
    finally:
        torch.set_num_threads(threads)
        torch.set_default_device("cpu")
