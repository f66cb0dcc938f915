"""Check analytic gradients against central differences, in float64."""

import numpy as np

from .autograd import no_grad
from .tensor import Tensor, float64


class GradcheckError(RuntimeError):
    """An analytic gradient disagrees with its central-difference estimate."""


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Compare ``fn``'s backward with central differences for every input that requires grad.

    ``inputs`` is a Tensor or a tuple of arguments to ``fn``; ``fn`` returns a Tensor
    (or a tuple of Tensors) of any shape. Inputs that require grad are checked as
    float64 copies. For an output y the check uses the scalar s = ⟨v, y⟩ with a fixed
    random v, so every output element takes part:

        analytic  ∂s/∂x_k  from one backward() with grad v
        numeric   (s(x + eps·e_k) − s(x − eps·e_k)) / (2·eps)   for each element k

    and requires |analytic − numeric| ≤ atol + rtol·|numeric| everywhere.
    Returns True, or raises GradcheckError naming the input, the worst element and
    both values; a NaN or infinite gradient, analytic or numerical, fails too.
    """
    args = tuple(
        Tensor._make(a._backend.astype(a.raw, float64), a._backend, True)
        if isinstance(a, Tensor) and a.requires_grad else a
        for a in _as_tuple(inputs))
    checked = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad")

    outputs = _as_tuple(fn(*args))
    rng = np.random.default_rng(0)
    directions = [rng.standard_normal(o.shape) for o in outputs]

    def scalar(outs):
        return sum(float(np.sum(o._host().astype(np.float64) * v))
                   for o, v in zip(_as_tuple(outs), directions))

    total = None
    for o, v in zip(outputs, directions):
        if not o.requires_grad:
            continue
        term = (o * Tensor._make(o._backend.from_numpy(v.astype(o.dtype)), o._backend)).sum()
        total = term if total is None else total + term
    if total is None:
        raise GradcheckError("gradcheck: no output depends on an input that requires grad")
    total.backward()

    for i in checked:
        x = args[i]
        analytic = np.zeros(x.shape) if x.grad is None else x.grad._host().astype(np.float64)
        numeric = np.zeros(x.shape)
        host = x._host()  # on the CPU this is x.raw itself, perturbed in place
        flat = host.reshape(-1)
        with no_grad():
            for k in range(flat.size):
                orig = flat[k]
                flat[k] = orig + eps
                _sync(x, host)
                plus = scalar(fn(*args))
                flat[k] = orig - eps
                _sync(x, host)
                minus = scalar(fn(*args))
                flat[k] = orig
                _sync(x, host)
                numeric.reshape(-1)[k] = (plus - minus) / (2 * eps)
        for name, g in (("analytic", analytic), ("numerical", numeric)):
            bad = ~np.isfinite(g)
            if bad.any():   # a NaN compares false with everything: it would pass below
                k = np.unravel_index(int(np.argmax(bad)), x.shape)
                raise GradcheckError(
                    f"gradcheck: input {i} (shape {x.shape}), element "
                    f"{tuple(int(j) for j in k)}: the {name} gradient is {g[k]} "
                    f"(analytic {analytic[k]:.8g}, numerical {numeric[k]:.8g})")
        err = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
        if err.size and err.max() > 0:
            k = np.unravel_index(int(np.argmax(err)), x.shape)
            raise GradcheckError(
                f"gradcheck: input {i} (shape {x.shape}), element {tuple(int(j) for j in k)}: "
                f"analytic gradient {analytic[k]:.8g}, numerical {numeric[k]:.8g} "
                f"(atol={atol}, rtol={rtol})")
    return True


def _sync(x, host):
    """Write a perturbed host copy back to the tensor's device (a no-op on the CPU)."""
    if x._backend.name != "cpu":
        x.raw = x._backend.from_numpy(host)
