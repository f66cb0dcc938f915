"""The activation kernels under one name per activation and kernel, for the tests.

The kernels are built per activation code (``forward(RELU)``,
``linear_forward(SIGMOID)``, …: kernels/cpu/activations.py); the tests of the
original activations call them as ``relu_forward(x, out)``,
``bias_leaky_relu_forward(z, b, slope, out)``, ``sigmoid_backward(grad, y, out)``
and ``linear_forward(x, w, b, act, slope, out)``: these names, on either device.
"""

from types import SimpleNamespace


from minigrad.kernels import activations as A

ORIGINAL = ("relu", "leaky_relu", "sigmoid", "tanh")


def activation_kernels(module):
    """Per-name kernels over ``module`` (kernels.cpu.activations or its CUDA twin)."""
    ns = SimpleNamespace()
    for name in ORIGINAL:
        code = A.NAMES[name]
        if name == "leaky_relu":
            ns.leaky_relu_forward = (
                lambda x, slope, out, c=code: module.forward(c)(x, slope, 0.0, out))
            ns.bias_leaky_relu_forward = (
                lambda z, b, slope, out, c=code: module.bias_forward(c)(z, b, slope, 0.0, out))
            ns.leaky_relu_backward = (
                lambda g, y, slope, out, c=code: module.backward(c)(g, y, slope, 0.0, out))
        else:
            setattr(ns, f"{name}_forward",
                    lambda x, out, c=code: module.forward(c)(x, 0.0, 0.0, out))
            setattr(ns, f"bias_{name}_forward",
                    lambda z, b, out, c=code: module.bias_forward(c)(z, b, 0.0, 0.0, out))
            setattr(ns, f"{name}_backward",
                    lambda g, y, out, c=code: module.backward(c)(g, y, 0.0, 0.0, out))
    ns.bias_add = lambda z, b, out: module.bias_forward(A.IDENTITY)(z, b, 0.0, 0.0, out)
    return ns


def dense_kernels(module):
    """``linear_forward(x, w, b, act, slope, out)`` and ``linear_backward(grad, x, w, y,
    act, slope, gx, gw, gb)`` over ``module`` (kernels.cpu.matmul or its CUDA twin),
    for the activations whose derivative reads only the output y."""
    ns = SimpleNamespace(**{name.upper(): code for name, code in A.NAMES.items()})
    ns.linear_forward = lambda x, w, b, act, slope, out: module.linear_forward(act)(
        x, w, b, slope, 0.0, out)
    ns.linear_backward = lambda grad, x, w, y, act, slope, gx, gw, gb: module.linear_backward(
        act)(grad, x, w, y, slope, 0.0, gx, gw, gb)
    return ns
