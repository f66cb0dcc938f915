"""The programs of PyTorch's tutorial "Learning PyTorch with Examples", as functions
of the library they run on.

Each function below is one program of that tutorial (pytorch/tutorials,
beginner_source/examples_tensor, examples_autograd and examples_nn), written again
here with the same calls and idioms: a third-order polynomial fitted to sin(x), and
a two-layer ReLU network fitted to random data, each with Tensors and hand-written
gradients, with autograd, with a custom ``autograd.Function``, with ``nn``, with
``optim`` and as a custom ``nn.Module``, and the dynamic network. The library is the
parameter ``torch``: called with PyTorch, a function is the PyTorch program; called
with minigrad, it is the same text with only the import changed.

Two things differ from the tutorial, both so that two libraries can be compared:
every program starts from the same weights (``START``, drawn once from NumPy and
copied in with ``copy_`` after the tutorial's own ``randn``), and the longest ones
take fewer steps (``STEPS``). Each returns its final loss.

``python tests/pytorch_programs.py`` prints PyTorch's final losses, the numbers
``test_pytorch_programs.py`` holds; it needs PyTorch.
"""

import math
import random

import numpy as np

N, D_in, H, D_out = 64, 1000, 100, 10
STEPS = {"polynomial": 2000, "two_layer": 300, "dynamic": 3000}


def _start():
    rng = np.random.default_rng(2024)
    return {
        "poly": rng.standard_normal(4).astype(np.float32) * 0.5,
        "x": rng.standard_normal((N, D_in)).astype(np.float32),
        "y": rng.standard_normal((N, D_out)).astype(np.float32),
        "w1": rng.standard_normal((D_in, H)).astype(np.float32),
        "w2": rng.standard_normal((H, D_out)).astype(np.float32),
        "lin1": (rng.uniform(-1, 1, (H, D_in)) / math.sqrt(D_in)).astype(np.float32),
        "b1": (rng.uniform(-1, 1, H) / math.sqrt(D_in)).astype(np.float32),
        "lin2": (rng.uniform(-1, 1, (D_out, H)) / math.sqrt(H)).astype(np.float32),
        "b2": (rng.uniform(-1, 1, D_out) / math.sqrt(H)).astype(np.float32),
        "lin3": rng.uniform(-0.5, 0.5, (1, 3)).astype(np.float32),
        "b3": rng.uniform(-0.5, 0.5, 1).astype(np.float32),
        "dyn": rng.standard_normal(5).astype(np.float32) * 0.1,
    }


START = _start()


def same_start(torch, tensors, arrays):
    """Copy the shared starting values into the program's own freshly made tensors."""
    with torch.no_grad():
        for t, a in zip(tensors, arrays):
            t.copy_(torch.tensor(np.asarray(a)).reshape(t.shape))


# ---- Tensors, gradients by hand ------------------------------------------------------------


def polynomial_tensor(torch):
    dtype = torch.float
    device = torch.device("cpu")
    x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
    y = torch.sin(x)
    a = torch.randn((), device=device, dtype=dtype)
    b = torch.randn((), device=device, dtype=dtype)
    c = torch.randn((), device=device, dtype=dtype)
    d = torch.randn((), device=device, dtype=dtype)
    same_start(torch, (a, b, c, d), START["poly"])
    learning_rate = 1e-6
    for t in range(STEPS["polynomial"]):
        y_pred = a + (b * x) + (c * x.pow(2)) + (d * x.pow(3))
        loss = (y_pred - y).pow(2).sum().item()
        # ∂loss/∂y_pred = 2 (y_pred − y), then the chain rule for each coefficient
        grad_y_pred = -2.0 * (y - y_pred)
        grad_a = grad_y_pred.sum()
        grad_b = torch.matmul(input=grad_y_pred, other=x).sum()
        grad_c = torch.matmul(input=grad_y_pred, other=x.pow(2)).sum()
        grad_d = torch.matmul(input=grad_y_pred, other=x.pow(3)).sum()
        a -= learning_rate * grad_a
        b -= learning_rate * grad_b
        c -= learning_rate * grad_c
        d -= learning_rate * grad_d
    return loss


def two_layer_tensor(torch):
    dtype = torch.float
    device = torch.device("cpu")
    x = torch.randn(N, D_in, device=device, dtype=dtype)
    y = torch.randn(N, D_out, device=device, dtype=dtype)
    w1 = torch.randn(D_in, H, device=device, dtype=dtype)
    w2 = torch.randn(H, D_out, device=device, dtype=dtype)
    same_start(torch, (x, y, w1, w2), (START["x"], START["y"], START["w1"], START["w2"]))
    learning_rate = 1e-6
    for t in range(STEPS["two_layer"]):
        h = x.mm(w1)
        h_relu = h.clamp(min=0)
        y_pred = h_relu.mm(w2)
        loss = (y_pred - y).pow(2).sum().item()
        grad_y_pred = 2.0 * (y_pred - y)
        grad_w2 = h_relu.t().mm(grad_y_pred)
        grad_h_relu = grad_y_pred.mm(w2.t())
        grad_h = grad_h_relu.clone()
        grad_h[h < 0] = 0                       # relu′: no gradient where h was cut
        grad_w1 = x.t().mm(grad_h)
        w1 -= learning_rate * grad_w1
        w2 -= learning_rate * grad_w2
    return loss


# ---- autograd ----------------------------------------------------------------------------


def polynomial_autograd(torch):
    dtype = torch.float
    device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
    device = "cpu"   # (both libraries on the CPU, for the comparison)
    torch.set_default_device(device)
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    y = torch.sin(x)
    a = torch.randn((), dtype=dtype, requires_grad=True)
    b = torch.randn((), dtype=dtype, requires_grad=True)
    c = torch.randn((), dtype=dtype, requires_grad=True)
    d = torch.randn((), dtype=dtype, requires_grad=True)
    same_start(torch, (a, b, c, d), START["poly"])
    learning_rate = 1e-6
    for t in range(STEPS["polynomial"]):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    return loss.item()


def two_layer_autograd(torch):
    dtype = torch.float
    device = torch.device("cpu")
    x = torch.randn(N, D_in, device=device, dtype=dtype)
    y = torch.randn(N, D_out, device=device, dtype=dtype)
    w1 = torch.randn(D_in, H, device=device, dtype=dtype, requires_grad=True)
    w2 = torch.randn(H, D_out, device=device, dtype=dtype, requires_grad=True)
    same_start(torch, (x, y, w1, w2), (START["x"], START["y"], START["w1"], START["w2"]))
    learning_rate = 1e-6
    for t in range(STEPS["two_layer"]):
        y_pred = x.mm(w1).clamp(min=0).mm(w2)
        loss = (y_pred - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            w1 -= learning_rate * w1.grad
            w2 -= learning_rate * w2.grad
            w1.grad.zero_()
            w2.grad.zero_()
    return loss.item()


# ---- custom autograd Functions -----------------------------------------------------------


def make_legendre(torch):
    class LegendrePolynomial3(torch.autograd.Function):
        """P₃(x) = ½(5x³ − 3x), with P₃′(x) = 3/2 (5x² − 1) written by hand."""

        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)
    return LegendrePolynomial3


def polynomial_custom_function(torch):
    LegendrePolynomial3 = make_legendre(torch)
    dtype = torch.float
    device = torch.device("cpu")
    x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
    y = torch.sin(x)
    # starting near the answer, as the tutorial does: y ≈ a + b·P₃(c + d·x)
    a = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
    b = torch.full((), -1.0, device=device, dtype=dtype, requires_grad=True)
    c = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
    d = torch.full((), 0.3, device=device, dtype=dtype, requires_grad=True)
    learning_rate = 5e-6
    for t in range(STEPS["polynomial"]):
        P3 = LegendrePolynomial3.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    return loss.item()


def two_layer_custom_function(torch):
    class MyReLU(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return input.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            grad_input = grad_output.clone()
            grad_input[input < 0] = 0
            return grad_input

    dtype = torch.float
    device = torch.device("cpu")
    x = torch.randn(N, D_in, device=device, dtype=dtype)
    y = torch.randn(N, D_out, device=device, dtype=dtype)
    w1 = torch.randn(D_in, H, device=device, dtype=dtype, requires_grad=True)
    w2 = torch.randn(H, D_out, device=device, dtype=dtype, requires_grad=True)
    same_start(torch, (x, y, w1, w2), (START["x"], START["y"], START["w1"], START["w2"]))
    learning_rate = 1e-6
    for t in range(STEPS["two_layer"]):
        relu = MyReLU.apply
        y_pred = relu(x.mm(w1)).mm(w2)
        loss = (y_pred - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            w1 -= learning_rate * w1.grad
            w2 -= learning_rate * w2.grad
            w1.grad.zero_()
            w2.grad.zero_()
    return loss.item()


# ---- nn -----------------------------------------------------------------------------------


def _polynomial_features(torch):
    x = torch.linspace(-math.pi, math.pi, 2000)
    y = torch.sin(x)
    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)          # (2000, 1) ** (3,) broadcasts to (2000, 3)
    return xx, y


def polynomial_nn(torch):
    xx, y = _polynomial_features(torch)
    model = torch.nn.Sequential(
        torch.nn.Linear(3, 1),
        torch.nn.Flatten(0, 1),
    )
    same_start(torch, model.parameters(), (START["lin3"], START["b3"]))
    loss_fn = torch.nn.MSELoss(reduction="sum")
    learning_rate = 1e-6
    for t in range(STEPS["polynomial"]):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= learning_rate * param.grad
    linear_layer = model[0]
    coefficients = (linear_layer.bias.item(), linear_layer.weight[:, 0].item(),
                    linear_layer.weight[:, 1].item(), linear_layer.weight[:, 2].item())
    assert all(math.isfinite(v) for v in coefficients)
    return loss.item()


def two_layer_nn(torch):
    x = torch.randn(N, D_in)
    y = torch.randn(N, D_out)
    same_start(torch, (x, y), (START["x"], START["y"]))
    model = torch.nn.Sequential(
        torch.nn.Linear(D_in, H),
        torch.nn.ReLU(),
        torch.nn.Linear(H, D_out),
    )
    same_start(torch, model.parameters(), (START["lin1"], START["b1"], START["lin2"], START["b2"]))
    loss_fn = torch.nn.MSELoss(reduction="sum")
    learning_rate = 1e-4
    for t in range(STEPS["two_layer"]):
        y_pred = model(x)
        loss = loss_fn(y_pred, y)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param.data -= learning_rate * param.grad    # the older spelling of the update
    return loss.item()


# ---- optim ---------------------------------------------------------------------------------


def polynomial_optim(torch):
    xx, y = _polynomial_features(torch)
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    same_start(torch, model.parameters(), (START["lin3"], START["b3"]))
    loss_fn = torch.nn.MSELoss(reduction="sum")
    learning_rate = 1e-3
    optimizer = torch.optim.RMSprop(model.parameters(), lr=learning_rate)
    for t in range(STEPS["polynomial"]):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def two_layer_optim(torch):
    x = torch.randn(N, D_in)
    y = torch.randn(N, D_out)
    same_start(torch, (x, y), (START["x"], START["y"]))
    model = torch.nn.Sequential(torch.nn.Linear(D_in, H), torch.nn.ReLU(), torch.nn.Linear(H, D_out))
    same_start(torch, model.parameters(), (START["lin1"], START["b1"], START["lin2"], START["b2"]))
    loss_fn = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    for t in range(STEPS["two_layer"]):
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


# ---- custom Modules ------------------------------------------------------------------------


def polynomial_module(torch):
    class Polynomial3(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Parameter(torch.randn(()))
            self.b = torch.nn.Parameter(torch.randn(()))
            self.c = torch.nn.Parameter(torch.randn(()))
            self.d = torch.nn.Parameter(torch.randn(()))

        def forward(self, x):
            return self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3

        def string(self):
            return f"y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + {self.d.item()} x^3"

    x = torch.linspace(-math.pi, math.pi, 2000)
    y = torch.sin(x)
    model = Polynomial3()
    same_start(torch, model.parameters(), START["poly"])
    criterion = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-6)
    for t in range(STEPS["polynomial"]):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert model.string().startswith("y = ")
    return loss.item()


def two_layer_module(torch):
    class TwoLayerNet(torch.nn.Module):
        def __init__(self, D_in, H, D_out):
            super(TwoLayerNet, self).__init__()
            self.linear1 = torch.nn.Linear(D_in, H)
            self.linear2 = torch.nn.Linear(H, D_out)

        def forward(self, x):
            h_relu = self.linear1(x).clamp(min=0)
            return self.linear2(h_relu)

    x = torch.randn(N, D_in)
    y = torch.randn(N, D_out)
    same_start(torch, (x, y), (START["x"], START["y"]))
    model = TwoLayerNet(D_in, H, D_out)
    same_start(torch, model.parameters(), (START["lin1"], START["b1"], START["lin2"], START["b2"]))
    criterion = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4)
    for t in range(STEPS["two_layer"]):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def dynamic_net(torch):
    class DynamicNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Parameter(torch.randn(()))
            self.b = torch.nn.Parameter(torch.randn(()))
            self.c = torch.nn.Parameter(torch.randn(()))
            self.d = torch.nn.Parameter(torch.randn(()))
            self.e = torch.nn.Parameter(torch.randn(()))

        def forward(self, x):
            # a third-, fourth- or fifth-order polynomial, chosen anew in every forward,
            # reusing e for the fourth and fifth terms: the graph differs from step to step
            y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
            for exp in range(4, random.randint(4, 6)):
                y = y + self.e * x ** exp
            return y

    x = torch.linspace(-math.pi, math.pi, 2000)
    y = torch.sin(x)
    model = DynamicNet()
    same_start(torch, model.parameters(), START["dyn"])
    criterion = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
    random.seed(7)                      # the same sequence of graphs for both libraries
    for t in range(STEPS["dynamic"]):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


PROGRAMS = {f.__name__: f for f in (
    polynomial_tensor, two_layer_tensor, polynomial_autograd, two_layer_autograd,
    polynomial_custom_function, two_layer_custom_function, polynomial_nn, two_layer_nn,
    polynomial_optim, two_layer_optim, polynomial_module, two_layer_module, dynamic_net)}


if __name__ == "__main__":
    import torch

    torch.set_num_threads(1)    # one thread: sums in a fixed order
    for name, program in PROGRAMS.items():
        print(f'    "{name}": {program(torch)!r},')
