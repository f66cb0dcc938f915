"""The training workloads of ``run.py``, each written three ways: minigrad, NumPy by
hand, and PyTorch; plus the matrix products alone, the floor a step cannot go below.

| name | network              | hidden  | loss          | batch | optimizer              |
|------|----------------------|---------|---------------|-------|------------------------|
| w1   | 2-8-1 (XOR)          | sigmoid | BCE on logits |     4 | SGD, lr 0.5            |
| w2   | 64-128-10 (digits)   | ReLU    | cross-entropy |    64 | Adam, lr 1e-3          |
| w3   | 784-512-256-10       | ReLU    | cross-entropy |   256 | Adam, lr 1e-3          |
| w4   | 1024-4096-4096-10    | ReLU    | cross-entropy |  1024 | SGD, lr 0.01, mom. 0.9 |

Every peer starts from the same float32 weights (``init_weights``: PyTorch's
default, uniform in ±1/√fan_in, from a fixed seed) and walks the same fixed
sequence of batches (``make_batches``), so all of them compute the same losses,
up to float32 rounding: ``run.py`` checks that. W1's output sigmoid is fused into
the loss (``BCEWithLogitsLoss``), as the library recommends. W2 uses the 8×8
digits that ship with minigrad (a fixed shuffle).
W3's data are synthetic and MNIST-shaped: 784 "pixels" in [0, 1), each image 15%
its class's fixed random pattern and 85% noise, a fifth of the labels redrawn at
random — a problem that is learnt, but not down to a loss of zero, so that the
losses of the peers stay comparable over a few hundred steps (on pure noise with
random labels Adam's trajectories fly apart within a hundred steps, whoever
computes them). W4's are random values in [0, 1) with random labels.

A peer is an object whose ``step()`` runs one full training step on the next
batch — forward, loss, backward, optimizer step, zero_grad — and keeps the loss;
``loss()`` reads it as a Python float (outside the timed step).
"""

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    sizes: tuple            # layer widths, input first
    hidden: str             # activation of the hidden layers
    loss: str               # "bce_logits" or "cross_entropy"
    batch: int
    optimizer: str          # "sgd" or "adam"
    hyper: dict = field(default_factory=dict)
    n_batches: int = 1      # distinct batches, cycled through
    data: str = "random"    # "xor", "digits", "mnist-like" or "random"
    blas_bound: bool = False  # its time is mostly matrix products: timed with and without
    #                           OPENBLAS_CORETYPE, and held to its BLAS limit

    def layers(self):
        """(in, out) of each dense layer."""
        return list(zip(self.sizes[:-1], self.sizes[1:]))

    def matmul_flops(self):
        """Floating-point operations of the step's matrix products: per layer
        x Wᵀ (forward), δᵀ x (∂W) and δ W (∂x, not for the first layer: nobody
        needs the gradient of the input data), 2·B·in·out each."""
        return sum(2 * self.batch * i * o * (2 if k == 0 else 3)
                   for k, (i, o) in enumerate(self.layers()))

    def describe(self):
        opt = ", ".join(f"{k} {v}" for k, v in self.hyper.items())
        return (f"{self.name} {self.title}: {'-'.join(map(str, self.sizes))}, {self.hidden}, "
                f"{self.loss}, batch {self.batch}, {self.optimizer} ({opt})")


WORKLOADS = {w.name: w for w in [
    Workload("w1", "xor", (2, 8, 1), "sigmoid", "bce_logits", 4, "sgd", dict(lr=0.5),
             data="xor"),
    Workload("w2", "digits", (64, 128, 10), "relu", "cross_entropy", 64, "adam",
             dict(lr=1e-3), n_batches=28, data="digits"),
    Workload("w3", "mnist-size", (784, 512, 256, 10), "relu", "cross_entropy", 256, "adam",
             dict(lr=1e-3), n_batches=8, data="mnist-like", blas_bound=True),
    Workload("w4", "wide", (1024, 4096, 4096, 10), "relu", "cross_entropy", 1024, "sgd",
             dict(lr=0.01, momentum=0.9), n_batches=4, blas_bound=True),
]}


# ---- the shared start: weights and data ----------------------------------------------------

def init_weights(w, seed=0):
    """[W1, b1, W2, b2, …] as float32, W of shape (out, in): PyTorch's default
    initialisation (uniform in ±1/√in) drawn from one seeded generator."""
    rng = np.random.default_rng(seed)
    weights = []
    for i, o in w.layers():
        bound = 1.0 / math.sqrt(i)
        weights.append(rng.uniform(-bound, bound, (o, i)).astype(np.float32))
        weights.append(rng.uniform(-bound, bound, o).astype(np.float32))
    return weights


def make_batches(w, seed=1):
    """The workload's batches: a list of (x float32 (B, in), y), C-contiguous; y is
    float32 (B, 1) for the BCE loss and int64 class indices (B,) otherwise."""
    rng = np.random.default_rng(seed)
    n_in, n_out = w.sizes[0], w.sizes[-1]
    if w.data == "xor":
        x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
        return [(x, np.array([[0], [1], [1], [0]], np.float32))]
    n = w.batch * w.n_batches
    X = y = None
    if w.data == "digits":
        from minigrad.data import load_digits
        X, y = load_digits()                         # (1797, 64) in [0, 1], labels 0…9
        order = rng.permutation(len(X))[:n]
        X, y = X[order], y[order]
    if w.data == "mnist-like":
        patterns = rng.random((n_out, n_in), dtype=np.float32)
        y = rng.integers(0, n_out, n)
        X = np.float32(0.85) * rng.random((n, n_in), dtype=np.float32) + \
            np.float32(0.15) * patterns[y]
        redraw = rng.random(n) < 0.2
        y[redraw] = rng.integers(0, n_out, int(redraw.sum()))
    if X is None:
        X = rng.random((n, n_in), dtype=np.float32)  # pixel-like values in [0, 1)
        y = rng.integers(0, n_out, n)
    return [(np.ascontiguousarray(X[k * w.batch:(k + 1) * w.batch], np.float32),
             np.ascontiguousarray(y[k * w.batch:(k + 1) * w.batch], np.int64))
            for k in range(w.n_batches)]


class Peer:
    """One contestant: ``step()`` runs ``step_fn`` on the next batch and keeps the
    loss; ``steps`` counts them, so that every peer can be brought to the same step."""

    def __init__(self, step_fn, batches, to_float=float):
        self.step_fn, self.batches, self.to_float = step_fn, batches, to_float
        self.steps = 0
        self.last = None

    def step(self):
        self.last = self.step_fn(*self.batches[self.steps % len(self.batches)])
        self.steps += 1

    def loss(self):
        return self.to_float(self.last)


# ---- minigrad ----------------------------------------------------------------------------

def minigrad_peer(w, weights, batches, device="cpu"):
    import minigrad as mg
    from minigrad import nn, optim

    layers = []
    for k, (i, o) in enumerate(w.layers()):
        layers.append(nn.Linear(i, o))
        if k < len(w.layers()) - 1:
            layers.append(nn.Sigmoid() if w.hidden == "sigmoid" else nn.ReLU())
    model = nn.Sequential(*layers)
    for p, a in zip(model.parameters(), weights):
        np.copyto(p.raw, a)
    model.to(device)
    loss_fn = nn.BCEWithLogitsLoss() if w.loss == "bce_logits" else nn.CrossEntropyLoss()
    opt = optim.SGD(model.parameters(), **w.hyper) if w.optimizer == "sgd" else \
        optim.Adam(model.parameters(), **w.hyper)
    if device == "cpu":   # shared with the batches, as the other peers' are: no copy
        data = [(mg.from_numpy(x), mg.from_numpy(y)) for x, y in batches]
    else:
        data = [(mg.tensor(x, device=device), mg.tensor(y, device=device)) for x, y in batches]

    def step(x, y):
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss

    return Peer(step, data, lambda loss: loss.item())


# ---- PyTorch -------------------------------------------------------------------------------

def torch_peer(torch, w, weights, batches, fused=False, device="cpu"):
    """The same network in PyTorch; ``fused`` selects Adam's fused kernel."""
    nn = torch.nn
    layers = []
    for k, (i, o) in enumerate(w.layers()):
        layers.append(nn.Linear(i, o))
        if k < len(w.layers()) - 1:
            layers.append(nn.Sigmoid() if w.hidden == "sigmoid" else nn.ReLU())
    model = nn.Sequential(*layers)
    with torch.no_grad():
        for p, a in zip(model.parameters(), weights):
            p.copy_(torch.from_numpy(a))
    model.to(device)
    loss_fn = nn.BCEWithLogitsLoss() if w.loss == "bce_logits" else nn.CrossEntropyLoss()
    if w.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), **w.hyper)
    else:
        opt = torch.optim.Adam(model.parameters(), **w.hyper, fused=fused or None)
    data = [(torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)) for x, y in batches]

    def step(x, y):
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss

    return Peer(step, data, lambda loss: loss.item())


# ---- NumPy by hand ---------------------------------------------------------------------------
# Backpropagation as the textbook writes it. With z_l = h_{l−1} W_lᵀ + b_l, h_l = f(z_l)
# and δ_l = ∂L/∂z_l:
#     δ_L = ∂L/∂z_L                    (from the loss)
#     ∂W_l = δ_lᵀ h_{l−1},  ∂b_l = Σ_rows δ_l
#     δ_{l−1} = (δ_l W_l) ⊙ f′(z_{l−1})
# Every array is allocated once; each line writes into one with out= or in place,
# as a careful NumPy programmer does. The gradients are overwritten every step, so
# there is nothing to zero. The optimizer rules are optim_step.py's (PyTorch's,
# element for element), or plain SGD's two lines.

def numpy_sgd(params, grads, lr):
    """θ ← θ − η g (no momentum)."""
    def update():
        for p, g in zip(params, grads):
            g *= lr          # g is recomputed from scratch by the next backward
            p -= g
    return update


def numpy_rule(w, params, grads):
    from optim_step import numpy_adam, numpy_sgd as numpy_sgd_momentum
    if w.optimizer == "adam":
        return numpy_adam(params, grads, **w.hyper)
    if w.hyper.get("momentum", 0.0):
        return numpy_sgd_momentum(params, grads, **w.hyper)
    return numpy_sgd(params, grads, **w.hyper)


def numpy_xor_peer(w, weights, batches):
    """W1: x → σ(x W1ᵀ + b1) = h → z = h W2ᵀ + b2, loss = BCE(σ(z), y)."""
    W1, b1, W2, b2 = params = [a.copy() for a in weights]
    grads = [np.empty_like(p) for p in params]
    dW1, db1, dW2, db2 = grads
    n = batches[0][0].shape[0]
    h = np.empty((n, W1.shape[0]), np.float32)
    z = np.empty((n, 1), np.float32)
    e = np.empty_like(z)
    dz = np.empty_like(z)
    dh = np.empty_like(h)
    update = numpy_rule(w, params, grads)

    def step(x, y):
        # forward: h = σ(x W1ᵀ + b1) = 1/(1 + e^{−(x W1ᵀ + b1)}), z = h W2ᵀ + b2
        np.matmul(x, W1.T, out=h)
        np.add(h, b1, out=h)
        np.negative(h, out=h)
        np.exp(h, out=h)
        np.add(h, 1, out=h)
        np.reciprocal(h, out=h)
        np.matmul(h, W2.T, out=z)
        np.add(z, b2, out=z)
        # loss = mean(max(z, 0) − z·y + log(1 + e^{−|z|})): BCE(σ(z), y), written stably
        np.abs(z, out=e)
        np.negative(e, out=e)
        np.exp(e, out=e)
        loss = (np.maximum(z, 0) - z * y + np.log1p(e)).mean()
        # δ2 = ∂L/∂z = (σ(z) − y)/N, with σ(z) = 1/(1 + e) for z ≥ 0 and e/(1 + e) below
        np.divide(np.where(z >= 0, 1, e), 1 + e, out=dz)
        np.subtract(dz, y, out=dz)
        np.divide(dz, n, out=dz)
        # backward: ∂W2 = δ2ᵀ h, ∂b2 = Σ δ2, δ1 = (δ2 W2) ⊙ σ′ with σ′ = h(1 − h)
        np.matmul(dz.T, h, out=dW2)
        np.sum(dz, axis=0, out=db2)
        np.matmul(dz, W2, out=dh)
        np.multiply(dh, h * (1 - h), out=dh)
        np.matmul(dh.T, x, out=dW1)
        np.sum(dh, axis=0, out=db1)
        update()
        return loss

    return Peer(step, batches)


def numpy_mlp_peer(w, weights, batches):
    """W2–W4: ReLU hidden layers, softmax cross-entropy on the last layer's z."""
    params = [a.copy() for a in weights]
    grads = [np.empty_like(p) for p in params]
    Ws, bs, dWs, dbs = params[0::2], params[1::2], grads[0::2], grads[1::2]
    n = batches[0][0].shape[0]
    hs = [np.empty((n, W.shape[0]), np.float32) for W in Ws]      # h_l (the last: z)
    deltas = [np.empty_like(h) for h in hs]                        # δ_l
    rows = np.arange(n)
    update = numpy_rule(w, params, grads)

    def step(x, y):
        # forward: h_l = relu(h_{l−1} W_lᵀ + b_l); the last layer has no activation
        a = x
        for W, b, h in zip(Ws, bs, hs):
            np.matmul(a, W.T, out=h)
            h += b
            if h is not hs[-1]:
                np.maximum(h, 0, out=h)
            a = h
        # loss = mean_i(log Σ_j e^{z_ij − m_i} − (z_{i,y_i} − m_i)), m_i = max_j z_ij;
        # δ_L = ∂L/∂z = (softmax(z) − onehot(y))/N
        z, p = hs[-1], deltas[-1]
        np.subtract(z, z.max(axis=1, keepdims=True), out=p)
        picked = p[rows, y]
        np.exp(p, out=p)
        s = p.sum(axis=1, keepdims=True)
        loss = np.log(s).mean() - picked.mean()
        p /= s
        p[rows, y] -= 1
        p /= n
        # backward, last layer first
        for k in range(len(Ws) - 1, -1, -1):
            delta = deltas[k]
            np.matmul(delta.T, x if k == 0 else hs[k - 1], out=dWs[k])   # ∂W = δᵀ h_{l−1}
            np.sum(delta, axis=0, out=dbs[k])                            # ∂b = Σ_rows δ
            if k > 0:
                np.matmul(delta, Ws[k], out=deltas[k - 1])               # ∂L/∂h_{l−1} = δ W
                deltas[k - 1] *= hs[k - 1] > 0                           # ⊙ relu′
        update()
        return loss

    return Peer(step, batches)


def numpy_peer(w, weights, batches):
    return (numpy_xor_peer if w.loss == "bce_logits" else numpy_mlp_peer)(w, weights, batches)


# ---- the matrix products alone ------------------------------------------------------------------

def matmul_peer(w, seed=2):
    """The step's matrix products and nothing else, in NumPy, into preallocated
    outputs: per layer x Wᵀ, then (last layer first) δᵀ x and δ W, with the first
    layer's δ W left out. What a step costs at the least on this BLAS."""
    rng = np.random.default_rng(seed)

    def rand(*shape):
        return rng.standard_normal(shape, dtype=np.float32)

    n = w.batch
    xs = [rand(n, i) for i, _ in w.layers()]         # each layer's input
    Ws = [rand(o, i) for i, o in w.layers()]
    hs = [np.empty((n, o), np.float32) for _, o in w.layers()]
    deltas = [rand(n, o) for _, o in w.layers()]
    dWs = [np.empty_like(W) for W in Ws]
    dxs = [np.empty_like(x) for x in xs]

    def step():
        for x, W, h in zip(xs, Ws, hs):
            np.matmul(x, W.T, out=h)
        for k in range(len(Ws) - 1, -1, -1):
            np.matmul(deltas[k].T, xs[k], out=dWs[k])
            if k > 0:
                np.matmul(deltas[k], Ws[k], out=dxs[k])
    return step
