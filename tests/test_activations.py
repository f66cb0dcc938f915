"""The activations: each against its formula and against PyTorch, as a function, a
module, a Tensor method where PyTorch has one, and fused after a Linear; each its
own node; on the CPU and on the CUDA simulator.

Three independent references: NumPy formulas written here from the definitions
(values and derivatives), central differences (``gradcheck``), and PyTorch's own
numbers (recorded below from PyTorch 2.13.0 by the code in ``pytorch_reference``,
and recomputed when PyTorch is installed).
"""

import math

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn

X = [-30.0, -3.0, -1.0, -0.5, 0.0, 0.25, 1.0, 2.5, 30.0]
W = [0.5, -1.0, 2.0, 0.25, 1.5, -0.75, 1.0, 0.3, -0.2]

# name: (the functional form, the module), both with the parameters the name says
CASES = {
    "gelu": (F.gelu, lambda: nn.GELU()),
    "gelu_tanh": (lambda t: F.gelu(t, approximate="tanh"), lambda: nn.GELU(approximate="tanh")),
    "silu": (F.silu, lambda: nn.SiLU()),
    "softplus": (F.softplus, lambda: nn.Softplus()),
    "softplus_beta2_threshold5": (lambda t: F.softplus(t, beta=2.0, threshold=5.0),
                                  lambda: nn.Softplus(beta=2.0, threshold=5.0)),
    "elu": (F.elu, lambda: nn.ELU()),
    "elu_alpha0.7": (lambda t: F.elu(t, alpha=0.7), lambda: nn.ELU(alpha=0.7)),
}

# f(X) and ∂(Σ W ⊙ f(X))/∂X in float64, as PyTorch 2.13.0 computes them.
PYTORCH = {
    "gelu": (
        [-0.0, -0.00404969409489031, -0.15865525393145702, -0.15426876936299344, 0.0, 0.14967658142073093, 0.841344746068543, 2.4844758366855597, 30.0],
        [-2.2104692023178215e-195, 0.01194564720418392, -0.1666309411753727, 0.03312621883595928, 0.75, -0.521530016162727, 1.0833154705876864, 0.3112833257724435, -0.2]),
    "gelu_tanh": (
        [-0.0, -0.0036373920817729943, -0.15880800939172324, -0.15428599017485606, 0.0, 0.149675350701685, 0.8411919906082768, 2.484915733910001, 30.0],
        [0.0, 0.011584166630969648, -0.16592816769156504, 0.03315752411633941, 0.75, -0.5215155713632953, 1.0829640838457826, 0.3113854728637998, -0.2]),
    "silu": (
        [-2.8072868906517896e-12, -0.14227761953270035, -0.2689414213699951, -0.1887703343990727, 0.0, 0.14054412522144952, 0.7310585786300049, 2.3103545499468914, 29.999999999997197],
        [-1.356855330481567e-12, 0.08810410601516962, 0.1446589762570265, 0.06500970317433705, 0.75, -0.46778251617764827, 0.9276705118714869, 0.32982033340245803, -0.2000000000005422]),
    "softplus": (
        [9.357622968839737e-14, 0.04858735157374206, 0.31326168751822286, 0.4740769841801067, 0.6931471805599453, 0.8259394198788436, 1.3132616875182228, 2.5788897342925496, 30.0],
        [4.67881148441965e-14, -0.04742587317756679, 0.5378828427399902, 0.09438516719953637, 0.75, -0.4216323756643486, 0.7310585786300049, 0.2772425459936269, -0.2]),
    "softplus_beta2_threshold5": (
        [4.37825538134826e-27, 0.0012378425688652247, 0.06346400552148625, 0.15663084375911143, 0.34657359027997264, 0.48703849209005334, 1.0634640055214863, 2.503357674244559, 30.0],
        [4.37825538134826e-27, -0.0024726231566347748, 0.2384058440442351, 0.06723535534249878, 0.75, -0.4668444984013909, 0.8807970779778824, 0.29799214472271457, -0.2]),
    "elu": (
        [-0.9999999999999064, -0.950212931632136, -0.6321205588285577, -0.3934693402873666, 0.0, 0.25, 1.0, 2.5, 30.0],
        [4.6788114844200874e-14, -0.049787068367863944, 0.7357588823428847, 0.15163266492815836, 1.5, -0.75, 1.0, 0.3, -0.2]),
    "elu_alpha0.7": (
        [-0.6999999999999345, -0.6651490521424952, -0.44248439117999033, -0.2754285382011566, 0.0, 0.25, 1.0, 2.5, 30.0],
        [3.275168039094061e-14, -0.03485094785750476, 0.5150312176400192, 0.10614286544971084, 1.0499999999999998, -0.75, 1.0, 0.3, -0.2]),
}


# ---- NumPy references, from the definitions ------------------------------------------

_erf = np.vectorize(math.erf)


def _sigma(x):
    return 1.0 / (1.0 + np.exp(-x))


def _gelu_tanh_parts(x):
    u = math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)
    du = math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x ** 2)
    return np.tanh(u), du


def _softplus(beta, threshold):
    def f(x):
        with np.errstate(over="ignore"):
            return np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta)

    def df(x):
        return np.where(beta * x > threshold, 1.0, _sigma(beta * x))
    return f, df


def _elu(alpha):
    return (lambda x: np.where(x > 0, x, alpha * np.expm1(x)),
            lambda x: np.where(x > 0, 1.0, alpha * np.exp(x)))


REFERENCE = {  # name: (f, f′) on float64 arrays
    "gelu": (lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))),
             lambda x: 0.5 * (1 + _erf(x / math.sqrt(2)))
             + x * np.exp(-x * x / 2) / math.sqrt(2 * math.pi)),
    "gelu_tanh": (lambda x: 0.5 * x * (1 + _gelu_tanh_parts(x)[0]),
                  lambda x: (lambda t, du: 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)(
                      *_gelu_tanh_parts(x))),
    "silu": (lambda x: x * _sigma(x), lambda x: _sigma(x) * (1 + x * (1 - _sigma(x)))),
    "softplus": _softplus(1.0, 20.0),
    "softplus_beta2_threshold5": _softplus(2.0, 5.0),
    "elu": _elu(1.0),
    "elu_alpha0.7": _elu(0.7),
}

NAMES = list(CASES)
TOL64 = dict(rtol=1e-12, atol=1e-300)


def value_and_grad(f, x, w, device="cpu", dtype=mg.float64):
    t = mg.tensor(x, dtype=dtype, device=device, requires_grad=True)
    y = f(t)
    (y * mg.tensor(w, dtype=dtype, device=device)).sum().backward()
    return y.detach().numpy(), t.grad.numpy(), y


# ---- values and gradients, float64 -----------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("form", ["functional", "module"])
def test_matches_the_formula_and_pytorch_in_float64(name, form):
    f = CASES[name][0] if form == "functional" else CASES[name][1]()
    y, g, _ = value_and_grad(f, X, W)
    x, w = np.array(X), np.array(W)
    ref_f, ref_df = REFERENCE[name]
    np.testing.assert_allclose(y, ref_f(x), **TOL64)
    np.testing.assert_allclose(g, w * ref_df(x), **TOL64)
    torch_y, torch_g = PYTORCH[name]
    np.testing.assert_allclose(y, torch_y, **TOL64)
    np.testing.assert_allclose(g, torch_g, **TOL64)


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_central_differences(name):
    x = mg.tensor(np.random.default_rng(0).standard_normal((3, 5)) * 2, dtype=mg.float64,
                  requires_grad=True)
    assert mg.gradcheck(CASES[name][0], (x,))


def test_pytorch_numbers_recorded_above_are_pytorchs():
    torch = pytest.importorskip("torch")
    recomputed = pytorch_reference(torch)
    for name in NAMES:
        for got, want in zip(recomputed[name], PYTORCH[name]):
            np.testing.assert_allclose(got, want, rtol=1e-15, atol=0)


def pytorch_reference(torch):
    """PYTORCH, recomputed: f(X) and ∂(Σ W ⊙ f(X))/∂X in float64."""
    tf = torch.nn.functional
    forms = {
        "gelu": tf.gelu, "gelu_tanh": lambda t: tf.gelu(t, approximate="tanh"),
        "silu": tf.silu, "softplus": tf.softplus,
        "softplus_beta2_threshold5": lambda t: tf.softplus(t, beta=2.0, threshold=5.0),
        "elu": tf.elu, "elu_alpha0.7": lambda t: tf.elu(t, alpha=0.7),
    }
    out = {}
    for name, f in forms.items():
        x = torch.tensor(X, dtype=torch.float64, requires_grad=True)
        y = f(x)
        (y * torch.tensor(W, dtype=torch.float64)).sum().backward()
        out[name] = (y.tolist(), x.grad.tolist())
    return out


# ---- fused after a Linear, float32 ------------------------------------------------------


def _layer_and_input(dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((4, 5)).astype(dtype) * 0.8,
            rng.standard_normal(4).astype(dtype) * 0.5,
            rng.standard_normal((6, 5)).astype(dtype) * 2)


def fused_step(name, device, dtype=mg.float32, size="small"):
    """Output and the three gradients of Σ V ⊙ act(Linear(x)) through nn.Sequential,
    which fuses the two into one node."""
    wt, bt, xt = _layer_and_input()
    if size == "large":  # past the CPU's one-call kernels: BLAS and the bias kernel
        rng = np.random.default_rng(1)
        wt, bt, xt = (rng.standard_normal((64, 48)).astype(np.float32) * 0.2,
                      rng.standard_normal(64).astype(np.float32) * 0.5,
                      rng.standard_normal((40, 48)).astype(np.float32))
    layer = nn.Linear(wt.shape[1], wt.shape[0], dtype=dtype)
    layer.weight.data = mg.tensor(wt, dtype=dtype)
    layer.bias.data = mg.tensor(bt, dtype=dtype)
    model = nn.Sequential(layer, CASES[name][1]()).to(device)
    x = mg.tensor(xt, dtype=dtype, device=device, requires_grad=True)
    y = model(x)
    v = np.linspace(-1, 1, y.numel()).reshape(y.shape)
    (y * mg.tensor(v, dtype=dtype, device=device)).sum().backward()
    return y, [y.detach().numpy(), x.grad.numpy(), layer.weight.grad.numpy(), layer.bias.grad.numpy()], v


def fused_reference(name, size="small"):
    """The same four arrays in float64 NumPy, from the formulas."""
    wt, bt, xt = _layer_and_input()
    if size == "large":
        rng = np.random.default_rng(1)
        wt, bt, xt = (rng.standard_normal((64, 48)).astype(np.float32) * 0.2,
                      rng.standard_normal(64).astype(np.float32) * 0.5,
                      rng.standard_normal((40, 48)).astype(np.float32))
    w, b, x = (a.astype(np.float64) for a in (wt, bt, xt))
    z = x @ w.T + b
    f, df = REFERENCE[name]
    v = np.linspace(-1, 1, z.size).reshape(z.shape)
    delta = v * df(z)
    return [f(z), delta @ w, delta.T @ x, delta.sum(axis=0)]


@pytest.mark.parametrize("size", ["small", "large"])
@pytest.mark.parametrize("name", NAMES)
def test_fused_after_a_linear_in_float32(name, size):
    y, got, _ = fused_step(name, "cpu", size=size)
    assert y.grad_fn.name() == "Linear" + type(CASES[name][1]()).__name__ + (
        "Tanh" if name == "gelu_tanh" else "") + "Backward"
    for a, e in zip(got, fused_reference(name, size)):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, e, rtol=2e-5, atol=2e-5)


def test_fused_after_a_linear_matches_pytorch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    torch_forms = {"gelu": tf.gelu, "gelu_tanh": lambda t: tf.gelu(t, approximate="tanh"),
                   "silu": tf.silu, "softplus": tf.softplus,
                   "softplus_beta2_threshold5": lambda t: tf.softplus(t, beta=2.0, threshold=5.0),
                   "elu": tf.elu, "elu_alpha0.7": lambda t: tf.elu(t, alpha=0.7)}
    wt, bt, xt = _layer_and_input()
    for name in NAMES:
        _, got, v = fused_step(name, "cpu")
        w, b = torch.tensor(wt, requires_grad=True), torch.tensor(bt, requires_grad=True)
        x = torch.tensor(xt, requires_grad=True)
        y = torch_forms[name](x @ w.T + b)
        (y * torch.tensor(v, dtype=torch.float32)).sum().backward()
        for a, e in zip(got, [y.detach(), x.grad, w.grad, b.grad]):
            np.testing.assert_allclose(a, e.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


# ---- nodes ------------------------------------------------------------------------------


def test_each_activation_is_its_own_node():
    x = mg.tensor([0.5, -1.0], requires_grad=True)
    cases = {
        "ReLUBackward": x.relu(), "SigmoidBackward": F.sigmoid(x), "TanhBackward": mg.tanh(x),
        "LeakyReLUBackward": nn.LeakyReLU(0.2)(x), "GELUBackward": nn.GELU()(x),
        "GELUTanhBackward": F.gelu(x, approximate="tanh"), "SiLUBackward": F.silu(x),
        "SoftplusBackward": nn.Softplus()(x), "ELUBackward": F.elu(x),
    }
    for name, y in cases.items():
        assert y.grad_fn.name() == name and repr(y.grad_fn) == f"<{name}>"


def test_fused_nodes_name_both_parts():
    x = mg.randn(3, 4)
    for act, name in [(nn.ReLU(), "LinearReLUBackward"), (nn.Sigmoid(), "LinearSigmoidBackward"),
                      (nn.SiLU(), "LinearSiLUBackward"), (nn.ELU(), "LinearELUBackward")]:
        assert nn.Sequential(nn.Linear(4, 2), act)(x).grad_fn.name() == name
    assert nn.Linear(4, 2)(x).grad_fn.name() == "LinearBackward"
    assert F.linear(x, mg.randn(2, 4, requires_grad=True), activation="softplus").grad_fn.name() \
        == "LinearSoftplusBackward"


def test_a_subclass_that_overrides_forward_is_not_fused():
    class Doubled(nn.ReLU):
        def forward(self, x):
            return 2 * super().forward(x)

    layer = nn.Linear(3, 2)
    x = mg.randn(4, 3)
    y = nn.Sequential(layer, Doubled())(x)
    np.testing.assert_allclose(y.detach().numpy(), 2 * np.maximum(layer(x).detach().numpy(), 0), rtol=1e-6)
    assert y.grad_fn.name() == "MulBackward"


# ---- bad arguments ------------------------------------------------------------------------


@pytest.mark.parametrize("make, message", [
    (lambda: nn.GELU(approximate="fast"), "approximate must be 'none' or 'tanh'"),
    (lambda: F.gelu(mg.ones(2), approximate=None), "approximate must be 'none' or 'tanh'"),
    (lambda: nn.Softplus(beta=0), "beta must be a number > 0"),
    (lambda: F.softplus(mg.ones(2), threshold="20"), "threshold must be a number"),
    (lambda: nn.ELU(alpha=None), "alpha must be a number"),
    (lambda: F.linear(mg.ones(1, 2), mg.ones(3, 2), activation="swish"),
     "activation must be one of"),
])
def test_bad_parameters_raise_naming_the_activation(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_integer_input_is_computed_in_the_default_float_dtype():
    assert F.gelu(mg.tensor([1, 2])).dtype == mg.float32


# ---- on the CUDA simulator ------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_on_the_gpu_as_on_the_cpu(name):
    pytest.importorskip("numba.cuda")
    for form in (CASES[name][0], CASES[name][1]()):
        y_cpu, g_cpu, _ = value_and_grad(form, X, W)
        y_gpu, g_gpu, y = value_and_grad(form, X, W, device="cuda")
        assert y.device.type == "cuda"
        np.testing.assert_allclose(y_gpu, y_cpu, **TOL64)
        np.testing.assert_allclose(g_gpu, g_cpu, **TOL64)
    _, got, _ = fused_step(name, "cuda")
    for a, e in zip(got, fused_reference(name)):
        np.testing.assert_allclose(a, e, rtol=2e-5, atol=2e-5)
