"""End to end: small real problems train to a stated loss or accuracy."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.data import load_digits


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_xor_mlp_learns_xor(seed):
    # REFERENCE.md's first example: no linear model solves it, one hidden layer does.
    x = mg.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = mg.tensor([[0.0], [1.0], [1.0], [0.0]])
    mg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    for _ in range(500):
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(x), y)
        loss.backward()
        opt.step()
    assert loss.item() < 0.05
    with mg.no_grad():
        predicted = (model(x) > 0.0).numpy()
    assert np.array_equal(predicted, y.numpy() == 1.0)


def test_digits_mlp_reaches_95_percent_test_accuracy():
    X, y = load_digits()  # (1797, 64) float32 in [0, 1], int64 labels
    order = np.random.default_rng(0).permutation(len(X))
    cut = int(0.8 * len(X))
    train, test = order[:cut], order[cut:]

    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    batch = 32
    shuffle = np.random.default_rng(1)
    for _ in range(20):
        perm = shuffle.permutation(train)
        for start in range(0, len(perm), batch):
            idx = perm[start:start + batch]
            opt.zero_grad()
            F.cross_entropy(model(mg.tensor(X[idx])), mg.tensor(y[idx])).backward()
            opt.step()

    model.eval()
    with mg.no_grad():
        predicted = model(mg.tensor(X[test])).argmax(axis=1).numpy()
    accuracy = float(np.mean(predicted == y[test]))
    assert accuracy >= 0.95
