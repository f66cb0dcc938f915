"""The activations' math, written once for both devices: f and the gradient through f.

Each activation is two plain Python functions on numbers:

    name(x, p, q)               y = f(x)
    name_backward(g, x, y, p, q)  g · f′(x), given the input x and the output y = f(x)

``p`` and ``q`` are the activation's parameters (leaky_relu's slope, ELU's alpha,
Softplus's beta and threshold; 0 where unused): every activation takes both, so
every kernel can call any of them the same way. A backward reads x or y:
``READS_INPUT`` lists those that read x, so that a Function knows to save it (the
others need only the output, the cheaper thing to keep: relu′ = [y > 0],
σ′ = y(1 − y), tanh′ = 1 − y²). The kernels pass the one array that was kept as
both x and y (an activation whose derivative needs both would need a kernel
argument more).

They are ordinary functions: ``sigmoid(0.5, 0, 0)`` runs in the interpreter, and the
tests check them there against the formulas. ``@scalar`` also makes them callable
from compiled code, where numba inlines them: ``kernels.cpu`` builds its loops
around them (``kernels/cpu/activations.py``, the small dense layers of
``kernels/cpu/matmul.py``) and so does ``kernels.cuda`` (registered for the GPU in
``kernels/cuda/__init__.py``). An activation is named in a kernel by its code,
``RELU``, ``SIGMOID``, …; ``activate`` and ``activate_backward`` turn a code into
the call. On the CPU each kernel is compiled once per code, so the chain of ``if``
folds away and the loop vectorises; on the GPU the code is a kernel argument,
the same for every thread, so the branch costs a few instructions per element.

Adding an activation (README, "Add your own activation"): write its two functions
here, give it a code, add it to ``NAMES``, ``activate`` and ``activate_backward``
(and ``READS_INPUT`` if its backward reads x); then its Function and its module
(``minigrad/functions/activation.py``, ``minigrad/nn/layers.py``). Every kernel,
fused ones included, picks it up from here.
"""

import math

from numba.extending import register_jitable

# Every function below, in order: kernels.cuda registers each for the GPU.
SCALARS = []


def scalar(fn):
    """Make ``fn`` callable from numba-compiled CPU code (and list it for the GPU's
    registration); it stays a plain Python function."""
    SCALARS.append(fn)
    return register_jitable(fn)


# Arithmetic below mixes the array's dtype with Python floats, so float32 input is
# computed in float64 and rounded once when stored: the same on both devices.

_SQRT_2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_CUBIC = 0.044715


# ---------------------------------------------------------------- identity


@scalar
def identity(x, p, q):
    """f(x) = x."""
    return x


@scalar
def identity_backward(g, x, y, p, q):
    """f′ = 1."""
    return g


# ---------------------------------------------------------------- ReLU


@scalar
def relu(x, p, q):
    """f(x) = max(x, 0).

    Written as "x unless x < 0" so that a NaN passes through (as in NumPy and
    PyTorch) instead of silently becoming 0 and hiding a divergence.
    """
    return 0.0 if x < 0.0 else x


@scalar
def relu_backward(g, x, y, p, q):
    """f′(x) = [x > 0], read from the output: y > 0 exactly when x > 0.

    Selects g or 0 rather than multiplying by a 0/1 mask, so a NaN or inf in g
    where the unit is off gives 0, as in PyTorch.
    """
    return g if y > 0.0 else 0.0


# ---------------------------------------------------------------- LeakyReLU


@scalar
def leaky_relu(x, p, q):
    """f(x) = x if x > 0 else p · x   (p: the negative slope)."""
    return p * x if x < 0.0 else x


@scalar
def leaky_relu_backward(g, x, y, p, q):
    """f′(x) = 1 if x > 0 else p, read from the output: for p ≥ 0 (the only slopes
    accepted), y > 0 exactly when x > 0."""
    return g if y > 0.0 else p * g


# ---------------------------------------------------------------- sigmoid


@scalar
def sigmoid(x, p, q):
    """f(x) = σ(x) = 1 / (1 + e⁻ˣ).

    1/(1 + exp(−x)) overflows exp for x ≪ 0; with e = exp(−|x|) ≤ 1, the two
    branches 1/(1 + e) (x ≥ 0) and e/(1 + e) (x < 0) are exact rewrites in which
    exp never overflows: σ(±1000) = 1, 0 exactly.
    """
    e = math.exp(-abs(x))
    return 1.0 / (1.0 + e) if x >= 0.0 else e / (1.0 + e)


@scalar
def sigmoid_backward(g, x, y, p, q):
    """f′(x) = σ(x)(1 − σ(x)) = y(1 − y)."""
    return g * y * (1.0 - y)


# ---------------------------------------------------------------- tanh


@scalar
def tanh(x, p, q):
    """f(x) = tanh(x)   (math.tanh: no overflow)."""
    return math.tanh(x)


@scalar
def tanh_backward(g, x, y, p, q):
    """f′(x) = 1 − tanh²(x) = 1 − y²."""
    return g * (1.0 - y * y)


# ---------------------------------------------------------------- GELU


@scalar
def gelu(x, p, q):
    """f(x) = x Φ(x) = ½ x (1 + erf(x / √2)),  Φ the standard normal CDF."""
    return 0.5 * x * (1.0 + math.erf(x / _SQRT_2))


@scalar
def gelu_backward(g, x, y, p, q):
    """f′(x) = Φ(x) + x φ(x),  φ(x) = e^(−x²/2) / √(2π) the normal density."""
    cdf = 0.5 * (1.0 + math.erf(x / _SQRT_2))
    return g * (cdf + x * _INV_SQRT_2PI * math.exp(-0.5 * x * x))


@scalar
def gelu_tanh(x, p, q):
    """GELU's tanh approximation:  f(x) = ½ x (1 + tanh(u)),  u = √(2/π) (x + 0.044715 x³)."""
    u = _SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x)
    return 0.5 * x * (1.0 + math.tanh(u))


@scalar
def gelu_tanh_backward(g, x, y, p, q):
    """f′(x) = ½ (1 + t) + ½ x (1 − t²) u′,
    t = tanh(u),  u′ = √(2/π) (1 + 3 · 0.044715 x²)."""
    x2 = x * x
    t = math.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x2 * x))
    du = _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_CUBIC * x2)
    return g * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du)


# ---------------------------------------------------------------- SiLU


@scalar
def silu(x, p, q):
    """f(x) = x σ(x)   (SiLU, also called swish)."""
    return x * sigmoid(x, p, q)


@scalar
def silu_backward(g, x, y, p, q):
    """f′(x) = σ(x) (1 + x (1 − σ(x)))."""
    s = sigmoid(x, p, q)
    return g * s * (1.0 + x * (1.0 - s))


# ---------------------------------------------------------------- Softplus


@scalar
def softplus(x, p, q):
    """f(x) = log(1 + e^(βx)) / β,  and x itself where βx > threshold
    (p: β, q: the threshold), where the two agree to float precision, as in PyTorch."""
    bx = p * x
    return x if bx > q else math.log1p(math.exp(bx)) / p


@scalar
def softplus_backward(g, x, y, p, q):
    """f′(x) = σ(βx)  (and 1 past the threshold)."""
    bx = p * x
    return g if bx > q else g * sigmoid(bx, p, q)


# ---------------------------------------------------------------- ELU


@scalar
def elu(x, p, q):
    """f(x) = x if x > 0 else α (eˣ − 1)   (p: α; expm1 keeps eˣ − 1 exact near 0)."""
    return x if x > 0.0 else p * math.expm1(x)


@scalar
def elu_backward(g, x, y, p, q):
    """f′(x) = 1 if x > 0 else α eˣ   (α at x = 0, as in PyTorch)."""
    return g if x > 0.0 else g * p * math.exp(x)


# ---------------------------------------------------------------- by code

IDENTITY, RELU, LEAKY_RELU, SIGMOID, TANH, GELU, GELU_TANH, SILU, SOFTPLUS, ELU = range(10)

NAMES = {
    "identity": IDENTITY, "relu": RELU, "leaky_relu": LEAKY_RELU, "sigmoid": SIGMOID,
    "tanh": TANH, "gelu": GELU, "gelu_tanh": GELU_TANH, "silu": SILU,
    "softplus": SOFTPLUS, "elu": ELU,
}

# The activations whose backward reads the input x (the rest read only y).
READS_INPUT = frozenset((GELU, GELU_TANH, SILU, SOFTPLUS, ELU))


@scalar
def activate(act, x, p, q):
    """f(x) for the activation with code ``act``."""
    if act == RELU:
        return relu(x, p, q)
    if act == LEAKY_RELU:
        return leaky_relu(x, p, q)
    if act == SIGMOID:
        return sigmoid(x, p, q)
    if act == TANH:
        return tanh(x, p, q)
    if act == GELU:
        return gelu(x, p, q)
    if act == GELU_TANH:
        return gelu_tanh(x, p, q)
    if act == SILU:
        return silu(x, p, q)
    if act == SOFTPLUS:
        return softplus(x, p, q)
    if act == ELU:
        return elu(x, p, q)
    return identity(x, p, q)


@scalar
def activate_backward(act, g, x, y, p, q):
    """g · f′(x) for the activation with code ``act``."""
    if act == RELU:
        return relu_backward(g, x, y, p, q)
    if act == LEAKY_RELU:
        return leaky_relu_backward(g, x, y, p, q)
    if act == SIGMOID:
        return sigmoid_backward(g, x, y, p, q)
    if act == TANH:
        return tanh_backward(g, x, y, p, q)
    if act == GELU:
        return gelu_backward(g, x, y, p, q)
    if act == GELU_TANH:
        return gelu_tanh_backward(g, x, y, p, q)
    if act == SILU:
        return silu_backward(g, x, y, p, q)
    if act == SOFTPLUS:
        return softplus_backward(g, x, y, p, q)
    if act == ELU:
        return elu_backward(g, x, y, p, q)
    return identity_backward(g, x, y, p, q)
