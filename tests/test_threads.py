"""Grad mode and anomaly mode belong to a thread, as in PyTorch."""

import threading

import numpy as np

import minigrad as mg
from minigrad import nn, optim


def train(steps, seed=0):
    """A small MLP trained ``steps`` SGD steps on fixed data; returns its parameters."""
    mg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(seed)
    x = mg.tensor(rng.standard_normal((32, 4)).astype(np.float32))
    y = mg.tensor(rng.standard_normal((32, 1)).astype(np.float32))
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        opt.step()
    return [p.detach().numpy().copy() for p in model.parameters()]


def test_a_thread_under_no_grad_does_not_stop_another_from_training():
    alone = train(300)
    done = threading.Event()
    seen = {"evaluations": 0, "grad_inside": []}

    def evaluate():
        model = nn.Linear(4, 4)
        x = mg.randn(8, 4)
        while not done.is_set():
            with mg.no_grad():
                out = model(x)
                seen["grad_inside"].append(mg.is_grad_enabled() or out.requires_grad)
            seen["evaluations"] += 1

    evaluator = threading.Thread(target=evaluate)
    result = {}
    evaluator.start()
    try:
        result["params"] = train(300)
    finally:
        done.set()
        evaluator.join()
    assert seen["evaluations"] > 0 and not any(seen["grad_inside"])
    for a, b in zip(result["params"], alone):
        np.testing.assert_array_equal(a, b)
    assert mg.is_grad_enabled()


def test_each_thread_starts_with_grad_mode_on_and_keeps_its_own():
    states = {}
    with mg.no_grad():
        t = threading.Thread(target=lambda: states.setdefault("other", mg.is_grad_enabled()))
        t.start()
        t.join()
        states["here"] = mg.is_grad_enabled()
    assert states == {"other": True, "here": False}
    assert mg.is_grad_enabled()


def test_anomaly_mode_is_per_thread():
    states = {}
    with mg.autograd.detect_anomaly():
        t = threading.Thread(
            target=lambda: states.setdefault("other", mg.autograd.is_anomaly_enabled()))
        t.start()
        t.join()
        states["here"] = mg.autograd.is_anomaly_enabled()
    assert states == {"other": False, "here": True}
    assert not mg.autograd.is_anomaly_enabled()


def test_set_grad_enabled_sets_this_threads_mode_until_set_again():
    mg.set_grad_enabled(False)
    try:
        other = []
        t = threading.Thread(target=lambda: other.append(mg.is_grad_enabled()))
        t.start()
        t.join()
        assert other == [True] and not mg.is_grad_enabled()
    finally:
        mg.set_grad_enabled(True)
    assert mg.is_grad_enabled()
