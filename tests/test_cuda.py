"""The CUDA device: every op on a GPU against the same op on the CPU, device rules,
training end to end, and no host↔GPU copies inside a training step.

With no GPU these run on numba's CUDA simulator (tests/conftest.py chooses), which
executes each GPU thread as Python: sizes are kept tiny. The CPU results they are
compared with are themselves checked against formulas in the rest of the suite.
"""

import inspect
import threading

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.backend import get_backend

rng = np.random.default_rng(7)


def test_cuda_is_available_here():
    # The test extra installs numba-cuda; without a GPU the simulator stands in. If
    # this fails, every other test in this file fails with it: install ".[test]".
    assert mg.cuda.is_available()


def on(device, a, requires_grad=False, dtype=np.float64):
    return mg.tensor(np.asarray(a, dtype=dtype), device=device, requires_grad=requires_grad)


def run(fn, arrays, device, upstream_seed=3):
    """fn on tensors made from ``arrays`` on ``device``: (output, input gradients), as
    host arrays; the backward pass starts from a fixed random upstream gradient."""
    tensors = [on(device, a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    g = np.random.default_rng(upstream_seed).standard_normal(out.shape)
    out.backward(mg.tensor(g, dtype=out.dtype, device=device))
    grads = [None if t.grad is None else t.grad.numpy() for t in tensors]
    return out.detach().numpy(), grads


def assert_same_on_both_devices(fn, *arrays, rtol=1e-10, atol=1e-12):
    out_cpu, grads_cpu = run(fn, arrays, "cpu")
    out_gpu, grads_gpu = run(fn, arrays, "cuda")
    assert out_gpu.shape == out_cpu.shape and out_gpu.dtype == out_cpu.dtype
    np.testing.assert_allclose(out_gpu, out_cpu, rtol=rtol, atol=atol)
    for g_gpu, g_cpu in zip(grads_gpu, grads_cpu):
        assert (g_gpu is None) == (g_cpu is None)
        if g_cpu is not None:
            np.testing.assert_allclose(g_gpu, g_cpu, rtol=rtol, atol=atol)


def randn(*shape):
    return rng.standard_normal(shape)


def away_from_zero(*shape):
    return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


# ---- every differentiable op: forward and gradient, GPU against CPU -------------------------

BROADCAST = [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 3), (2, 1)), ((3, 1), (1, 2)),
             ((2, 3), ()), ((2, 1, 3), (2, 1))]


@pytest.mark.parametrize("sa, sb", BROADCAST, ids=str)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_binary_ops_with_broadcasting(op, sa, sb):
    fn = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b,
          "mul": lambda a, b: a * b, "div": lambda a, b: a / b}[op]
    assert_same_on_both_devices(fn, randn(*sa), away_from_zero(*sb))


def _assign(t, index, value):
    """t[index] = value, then t: item assignment recorded in the graph."""
    t[index] = value
    return t


UNARY = {
    "neg": lambda x: -x,
    "radd": lambda x: 2.5 + x,
    "rsub": lambda x: 1.0 - x,
    "rmul": lambda x: x * 3.0,
    "rdiv": lambda x: 2.0 / x,
    "pow": lambda x: x ** 3,
    "exp": lambda x: x.exp(),
    "log_abs": lambda x: x.abs().log(),
    "sqrt_abs": lambda x: x.abs().sqrt(),
    "clamp": lambda x: x.clamp(-1.0, 1.2),
    "relu": lambda x: x.relu(),
    "leaky_relu": lambda x: F.leaky_relu(x, 0.1),
    "sigmoid": lambda x: x.sigmoid(),
    "tanh": lambda x: x.tanh(),
    "softmax_last": lambda x: x.softmax(),
    "softmax_first": lambda x: x.softmax(axis=0),
    "log_softmax": lambda x: x.log_softmax(axis=1),
    "sum": lambda x: x.sum(),
    "sum_axis0": lambda x: x.sum(axis=0),
    "sum_axis1_keep": lambda x: x.sum(axis=1, keepdims=True),
    "mean": lambda x: x.mean(axis=(0, 1)),
    "max": lambda x: x.max(),
    "max_axis1": lambda x: x.max(axis=1).values,
    "min_axis0": lambda x: x.min(dim=0).values,
    "amin": lambda x: x.amin(),
    "sin": lambda x: x.sin(),
    "cos": lambda x: x.cos(),
    "pow_tensor": lambda x: x.abs().pow(mg.tensor([1.0, 2.0, 0.5], dtype=x.dtype, device=x.device)),
    "rpow": lambda x: 2.0 ** x,
    "maximum": lambda x: mg.maximum(x, x.T.sum(1)),
    "minimum_number": lambda x: mg.minimum(x, 0.5),
    "where": lambda x: mg.where(x > 0, x * 2.0, -1.0),
    "cat": lambda x: mg.cat([x, x * 2.0], dim=1),
    "stack": lambda x: mg.stack([x, x.exp()], dim=0),
    "expand": lambda x: x[:, :1].expand(2, 5),
    "permute": lambda x: x.unsqueeze(0).permute(2, 0, 1),
    "squeeze": lambda x: x[None].squeeze(0) * 1.0,
    "clone": lambda x: x.clone(),
    "index_mask": lambda x: x[x > 0],
    "setitem_graph": lambda x: _assign(x * 1.0, (slice(None), 1), x[:, 0] * 3.0),
    "setitem_mask": lambda x: _assign(x * 1.0, x < 0, 0.0),
    "reshape": lambda x: x.reshape(3, 2) * 1.0,
    "flatten": lambda x: x.flatten(),
    "T": lambda x: x.T,
    "index_int": lambda x: x[1],
    "index_slice_step": lambda x: x[:, ::2],
    "index_negative_step": lambda x: x[::-1, 1:],
    "index_column": lambda x: x[:, 1],
    "index_none": lambda x: x[None, 0],
    "index_rows": lambda x: x[np.array([1, 0, 1])],
    "double": lambda x: x.float().double(),
}


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_and_shape_ops(name):
    assert_same_on_both_devices(UNARY[name], away_from_zero(2, 3), rtol=1e-6 if name == "double" else 1e-10)


@pytest.mark.parametrize("sa, sb", [((2, 3), (3, 4)), ((3,), (3, 2)), ((2, 3), (3,)), ((3,), (3,))],
                         ids=str)
def test_matmul(sa, sb):
    assert_same_on_both_devices(lambda a, b: a @ b, randn(*sa), randn(*sb))


@pytest.mark.parametrize("activation", ["identity", "relu", "leaky_relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_linear_with_activation(activation, bias):
    def fn(x, w, *b):
        return F.linear(x, w, b[0] if b else None, activation, 0.1)
    arrays = [randn(5, 3), randn(4, 3)] + ([randn(4)] if bias else [])
    assert_same_on_both_devices(fn, *arrays)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_with_class_targets(reduction):
    y = np.array([2, 0, 1, 2])
    assert_same_on_both_devices(
        lambda z: F.cross_entropy(z, mg.tensor(y, device=z.device), reduction=reduction),
        randn(4, 3) * 3)


def test_cross_entropy_with_probability_targets():
    t = rng.random((4, 3))
    t /= t.sum(axis=1, keepdims=True)
    assert_same_on_both_devices(lambda z, p: F.cross_entropy(z, p), randn(4, 3), t)


@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("loss", ["mse", "bce_logits", "bce"])
def test_pointwise_losses(loss, reduction):
    fn = {"mse": F.mse_loss, "bce_logits": F.binary_cross_entropy_with_logits,
          "bce": F.binary_cross_entropy}[loss]
    pred = rng.uniform(0.05, 0.95, (4, 1)) if loss == "bce" else randn(4, 1)
    assert_same_on_both_devices(lambda p, t: fn(p, t, reduction), pred, rng.random((4, 1)))


def test_comparisons_and_argmax_stay_on_the_device():
    a, b = randn(2, 3), randn(2, 3)
    ta, tb = on("cuda", a), on("cuda", b)
    for got, want in [(ta < tb, a < b), (ta >= 0.0, a >= 0.0), (ta == ta, a == a),
                      (ta.argmax(axis=1), a.argmax(axis=1)), (ta.argmax(), np.argmax(a))]:
        assert got.device == "cuda"
        np.testing.assert_array_equal(got.numpy(), want)


def test_gradcheck_on_the_gpu():
    x = on("cuda", randn(2, 3), requires_grad=True)
    w = on("cuda", randn(4, 3), requires_grad=True)
    assert mg.gradcheck(lambda x, w: F.linear(x, w, None, "tanh").sum(axis=0), (x, w))


# ---- devices -------------------------------------------------------------------------------


def test_creation_functions_put_tensors_on_the_gpu():
    be = get_backend("cuda")
    made = [mg.tensor([[1.0, 2.0]], device="cuda"), mg.zeros(2, 3, device="cuda"),
            mg.ones(2, device="cuda"), mg.randn(2, device="cuda"), mg.rand(3, device="cuda"),
            mg.arange(4, device="cuda"), mg.zeros_like(mg.ones(2, device="cuda")),
            mg.tensor(3, device="cuda:0")]
    for t in made:
        assert t.device == "cuda" and isinstance(t.raw, be.array_type)
    np.testing.assert_array_equal(made[1].numpy(), np.zeros((2, 3), np.float32))
    np.testing.assert_array_equal(made[2].numpy(), np.ones(2, np.float32))
    np.testing.assert_array_equal(made[5].numpy(), np.arange(4))
    assert made[7].item() == 3 and made[7].dtype == mg.int64


def test_to_cuda_and_back_and_the_gradient_crosses_devices():
    x = mg.tensor([[1.0, -2.0, 3.0]], requires_grad=True)
    y = (x.cuda() * 2.0).relu().sum()       # computed on the GPU
    assert y.device == "cuda"
    y.backward()
    assert x.grad.device == "cpu"
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, 0.0, 2.0]])
    back = x.detach().to("cuda").cpu()
    assert back.device == "cpu"
    np.testing.assert_array_equal(back.numpy(), x.detach().numpy())


def test_repr_item_tolist_copy_back_from_the_gpu():
    t = mg.tensor([[1.5, 2.5]], device="cuda")
    assert "device='cuda'" in repr(t)
    assert t.tolist() == [[1.5, 2.5]]
    assert t.sum().item() == 4.0
    with pytest.raises(TypeError, match="cuda"):
        np.asarray(t)


@pytest.mark.parametrize("op", [
    lambda a, b: a + b, lambda a, b: a @ b.T, lambda a, b: a < b,
    lambda a, b: F.linear(a, b), lambda a, b: F.mse_loss(a, b)])
def test_mixing_devices_raises_naming_both(op):
    a = mg.ones(2, 2)
    b = mg.ones(2, 2, device="cuda")
    for x, y in [(a, b), (b, a)]:
        with pytest.raises(RuntimeError, match="cpu.*cuda|cuda.*cpu"):
            op(x, y)


def test_cross_entropy_target_out_of_range_gives_nan_on_the_gpu():
    # The CPU raises ValueError; the GPU does not copy the targets back to check them.
    z = mg.zeros(2, 3, device="cuda")
    loss = F.cross_entropy(z, mg.tensor([0, 5], device="cuda"))
    assert np.isnan(loss.item())


def test_module_to_moves_parameters_and_the_model_trains_there():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    before = [p.detach().numpy().copy() for p in model.parameters()]
    ids = [id(p) for p in model.parameters()]
    assert model.to("cuda") is model
    assert [id(p) for p in model.parameters()] == ids
    assert all(p.device == "cuda" for p in model.parameters())
    for p, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.detach().numpy(), b)
    sd = model.state_dict()
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    with pytest.raises(RuntimeError, match="cpu.*cuda|cuda.*cpu"):
        model(mg.ones(1, 3))


# ---- training end to end ---------------------------------------------------------------------


def _train(device, opt_name, steps=20):
    mg.manual_seed(1)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).to(device)
    opt = (optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
           if opt_name == "sgd" else optim.Adam(model.parameters(), lr=0.01))
    data = np.random.default_rng(2)
    x = mg.tensor(data.standard_normal((6, 4)), dtype=mg.float32, device=device)
    y = mg.tensor(data.integers(0, 3, 6), device=device)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [p.detach().numpy() for p in model.parameters()]


@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
def test_an_mlp_trained_20_steps_gives_the_same_losses_on_both_devices(opt_name):
    losses_cpu, params_cpu = _train("cpu", opt_name)
    losses_gpu, params_gpu = _train("cuda", opt_name)
    assert losses_cpu[-1] < losses_cpu[0]                    # it learns
    np.testing.assert_allclose(losses_gpu, losses_cpu, rtol=1e-4, atol=1e-5)
    for a, b in zip(params_gpu, params_cpu):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_dropout_on_the_gpu_zeroes_a_fraction_and_scales_the_rest():
    mg.manual_seed(3)
    x = mg.ones(2000, device="cuda", requires_grad=True)
    y = F.dropout(x, p=0.25)
    values = y.detach().numpy()
    assert set(np.unique(values)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((values == 0).mean() - 0.25) < 0.04
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), values)     # ∂y/∂x is the mask itself
    mg.manual_seed(3)
    np.testing.assert_array_equal(F.dropout(x, p=0.25).detach().numpy(), values)  # reseeded


def test_dataloader_over_gpu_tensors_batches_on_the_gpu():
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    ds = mg.data.TensorDataset(mg.tensor(X, device="cuda"), mg.tensor(y, device="cuda"))
    loader = mg.data.DataLoader(ds, batch_size=4, shuffle=True, seed=0)
    seen = []
    for xb, yb in loader:
        assert xb.device == "cuda" and yb.device == "cuda"
        np.testing.assert_array_equal(xb.numpy(), X[yb.numpy()])
        seen.extend(yb.numpy().tolist())
    assert sorted(seen) == list(range(10))


# ---- no copies between host and GPU inside a training step -------------------------------------


class TransferCounter:
    """Counts every copy between host and GPU, where numba makes it: cuda.to_device and
    copy_to_device from a host array (host → GPU), copy_to_host and reading one element
    (GPU → host), and any host array handed to a kernel launcher (numba would copy it
    to the GPU and back on every launch)."""

    def __init__(self, monkeypatch):
        from numba import cuda
        import minigrad.kernels.cuda as K

        self.count = 0
        array_type = get_backend("cuda").array_type

        def counted(f, when=lambda *args: True):
            def wrapper(*args, **kwargs):
                if when(*args):
                    self.count += 1
                out = f(*args, **kwargs)
                if inspect.isfunction(out):  # a launcher made for one activation
                    out = counted(out, when)
                return out
            return wrapper

        monkeypatch.setattr(cuda, "to_device", counted(cuda.to_device))
        monkeypatch.setattr(array_type, "copy_to_host", counted(array_type.copy_to_host))
        monkeypatch.setattr(array_type, "copy_to_device", counted(
            array_type.copy_to_device, lambda dst, src, *rest: not isinstance(src, array_type)))
        getitem = array_type.__getitem__

        def getitem_counted(a, index):
            out = getitem(a, index)
            # One element read back to the host. (Kernels on numba's simulator index
            # device arrays too, from the threads that stand in for the GPU's.)
            if not isinstance(out, array_type) and threading.current_thread() is threading.main_thread():
                self.count += 1
            return out
        monkeypatch.setattr(array_type, "__getitem__", getitem_counted)

        def host_arrays(*args, **kwargs):
            return any(isinstance(a, np.ndarray) for a in list(args) + list(kwargs.values()))

        for module in K.MODULES:
            for name, f in list(vars(module).items()):
                # launchers (plain functions; device functions are not called from Python)
                if (inspect.isfunction(f) and not name.startswith("_")
                        and f.__module__ == module.__name__):
                    wrapped = counted(f, host_arrays)
                    monkeypatch.setattr(module, name, wrapped)
                    if getattr(K, name, None) is f:
                        monkeypatch.setattr(K, name, wrapped)


def test_a_training_step_on_the_gpu_copies_nothing_between_host_and_gpu(monkeypatch):
    mg.manual_seed(0)
    X = mg.randn(16, 5, device="cuda")
    y = mg.tensor(np.arange(16) % 3, device="cuda")
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Dropout(0.1), nn.Linear(8, 3)).to("cuda")
    opt = optim.Adam(model.parameters(), lr=0.01)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2)
    loader = iter(mg.data.DataLoader(mg.data.TensorDataset(X, y), batch_size=4, shuffle=True))
    loss = F.cross_entropy(model(X[:4]), y[:4])   # warm-up: the dropout generator is seeded
    counter = TransferCounter(monkeypatch)

    for xb, yb in loader:                         # the epoch's order went over before counting
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        sched.step()
    assert counter.count == 0

    loss.item()                                   # asking for a number: one copy back
    assert counter.count == 1


def test_gradient_clipping_and_init_on_the_gpu_match_the_cpu():
    results = {}
    for device in ("cpu", "cuda"):
        mg.manual_seed(5)
        lin = nn.Linear(3, 2).to(device)
        nn.init.xavier_uniform_(lin.weight)
        x = mg.tensor(np.arange(6.0).reshape(2, 3), dtype=mg.float32, device=device)
        (lin(x) ** 2).sum().backward()
        total = nn.utils.clip_grad_norm_(lin.parameters(), 1.0)
        nn.utils.clip_grad_value_(lin.parameters(), 0.3)
        results[device] = total, lin.weight.grad.numpy(), lin.weight.detach().numpy()
    assert results["cuda"][0] == pytest.approx(results["cpu"][0], rel=1e-5)
    for a, b in zip(results["cuda"][1:], results["cpu"][1:]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_save_and_load_a_gpu_model_state(tmp_path):
    mg.manual_seed(6)
    model = nn.Sequential(nn.Linear(3, 2)).to("cuda")
    mg.save(model.state_dict(), tmp_path / "m.mg")
    fresh = nn.Sequential(nn.Linear(3, 2)).to("cuda")
    fresh.load_state_dict(mg.load(tmp_path / "m.mg"))
    for a, b in zip(fresh.parameters(), model.parameters()):
        assert a.device == "cuda"
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


OPTIMIZERS = {
    "sgd_momentum_wd": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    "adagrad": lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.01),
    "rmsprop_centered_momentum": lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.9, centered=True),
    "adamw_amsgrad": lambda ps: optim.AdamW(ps, lr=0.01, amsgrad=True),
    "adadelta": lambda ps: optim.Adadelta(ps, weight_decay=0.1),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_steps_the_same_on_both_devices(name):
    start = np.random.default_rng(8).standard_normal((2, 3))
    final = {}
    for device in ("cpu", "cuda"):
        w = nn.Parameter(mg.tensor(start, device=device))
        b = nn.Parameter(mg.zeros(3, dtype=mg.float64, device=device))
        opt = OPTIMIZERS[name]([w, b])
        for _ in range(3):
            opt.zero_grad()
            ((w * w).sum() + (w + b).tanh().sum()).backward()
            opt.step()
        final[device] = w.detach().numpy(), b.detach().numpy()
    for a, c in zip(final["cuda"], final["cpu"]):
        np.testing.assert_allclose(a, c, rtol=1e-10, atol=1e-12)


# ---- PyTorch's surface on the GPU: in-place ops, version counters, Functions, losses ------------

POLY_X = np.linspace(-1.0, 1.0, 12)


def _hand_trained(device, idiom):
    """y ≈ a + b·x + c·x², 15 steps of gradient descent written by hand, each idiom of
    PyTorch's tutorials: (a, b, c, losses)."""
    x = on(device, POLY_X)
    y = on(device, np.sin(POLY_X))
    a, b, c = (on(device, v, requires_grad=True) for v in (0.3, -0.2, 0.1))
    losses = []
    for _ in range(15):
        loss = (a + b * x + c * x ** 2 - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        for p in (a, b, c):
            if idiom == "no_grad":
                with mg.no_grad():
                    p -= 0.05 * p.grad
                p.grad = None
            else:
                p.data -= 0.05 * p.grad
                p.grad.zero_()
    return [p.item() for p in (a, b, c)], losses


@pytest.mark.parametrize("idiom", ["no_grad", "data"])
def test_the_manual_sgd_idioms_train_on_the_gpu(idiom):
    params_gpu, losses_gpu = _hand_trained("cuda", idiom)
    params_cpu, losses_cpu = _hand_trained("cpu", idiom)
    np.testing.assert_allclose(params_gpu, params_cpu, rtol=1e-10)
    np.testing.assert_allclose(losses_gpu, losses_cpu, rtol=1e-10)
    assert losses_gpu[-1] < 0.2 * losses_gpu[0]


def test_the_parameters_of_a_gpu_model_update_in_place_under_an_optimizer():
    model = nn.Linear(3, 1).to("cuda")
    opt = optim.SGD(model.parameters(), lr=0.1)
    storage = model.weight.raw
    with mg.no_grad():
        for p in model.parameters():
            p -= 0.5
    assert model.weight.raw is storage
    before = model.weight.detach().numpy().copy()
    model(mg.ones(2, 3, device="cuda")).sum().backward()     # ∂/∂W = 2 per element
    opt.step()
    np.testing.assert_allclose(model.weight.detach().numpy(), before - 0.2, rtol=1e-6)


def test_in_place_ops_and_item_assignment_on_the_gpu():
    t = on("cuda", np.arange(6.0).reshape(2, 3))
    t += 1.0
    t.mul_(on("cuda", [1.0, 2.0, 3.0]))
    t[0] = 0.5
    t[:, 2] = on("cuda", [7.0, 8.0])
    t[t > 7.5] = -1.0
    t.clamp_(max=6.0)
    np.testing.assert_array_equal(t.numpy(), [[0.5, 0.5, 6.0], [4.0, -1.0, -1.0]])
    assert t._version == 6
    t.copy_(mg.tensor(np.ones(3)))                           # from the CPU, broadcast
    np.testing.assert_array_equal(t.numpy(), np.ones((2, 3)))
    with pytest.raises(IndexError, match="basic index"):
        t[np.array([0, 1])] = 2.0


def test_a_saved_tensor_modified_on_the_gpu_is_caught():
    w = on("cuda", [1.0, 2.0], requires_grad=True)
    y = w.sigmoid()
    with mg.no_grad():
        y.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_a_function_on_tensors_runs_on_the_gpu():
    class Cube(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            out = grad * 3 * x ** 2
            out[x < 0] = 0                   # a rule of its own below 0
            return out

    assert_same_on_both_devices(lambda x: Cube.apply(x) * 2.0, randn(2, 3))


@pytest.mark.parametrize("loss", ["ce_options", "nll", "l1", "huber", "smooth_l1"])
def test_the_composed_losses_on_the_gpu(loss):
    y = np.array([0, 2, 1, 2])
    fn = {
        "ce_options": lambda z: F.cross_entropy(z, mg.tensor(y, device=z.device), label_smoothing=0.1,
                                                weight=mg.tensor([1.0, 2.0, 0.5], dtype=z.dtype, device=z.device),
                                                ignore_index=1),
        "nll": lambda z: F.nll_loss(z.log_softmax(1), mg.tensor(y, device=z.device)),
        "l1": lambda z: F.l1_loss(z, z.detach() * 0.5 + 0.25),
        "huber": lambda z: F.huber_loss(z, mg.zeros_like(z), delta=0.5),
        "smooth_l1": lambda z: F.smooth_l1_loss(z, mg.zeros_like(z), beta=0.5),
    }[loss]
    assert_same_on_both_devices(fn, randn(4, 3))


def test_masked_assignment_with_values_in_order_on_the_gpu():
    a = np.arange(9.0).reshape(3, 3)
    for mask, value in [(a % 4 == 1, [10.0, 20.0]),                  # picks 1 and 5
                        (a > 6.5, 3.0),
                        (np.array([True, False, True]), [[7.0, 8.0, 9.0]]),   # rows
                        (np.array([False, True, True]), [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])]:
        want = a.copy()
        want[mask] = value
        t = on("cuda", a)
        t[mg.tensor(mask, device="cuda")] = on("cuda", value) if isinstance(value, list) else value
        np.testing.assert_array_equal(t.numpy(), want)
    # and inside a graph, where SetItem's backward takes the same rule
    assert_same_on_both_devices(lambda x: _assign(x * 1.0, x.detach() > 0, x[x.detach() > 0] * 2.0),
                                randn(2, 3))
