"""README's "Add your own activation", followed to the letter on a copy of the
library: its code blocks go where its steps say, three files change, and the new
activation works as a function of the formula, fused after a Linear, on the CPU
and on the CUDA simulator."""

import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHECK = """
import math, sys
import numpy as np
import minigrad as mg
from minigrad import nn

device = sys.argv[1]
rng = np.random.default_rng(0)
layer = nn.Linear(3, 4, dtype=mg.float64)
model = nn.Sequential(layer, nn.Mish()).to(device)
x = mg.tensor(rng.standard_normal((5, 3)) * 2, dtype=mg.float64, device=device,
              requires_grad=True)
y = model(x)
assert y.grad_fn.name() == "LinearMishBackward", y.grad_fn
z = x.detach().numpy() @ layer.weight.detach().numpy().T + layer.bias.detach().numpy()
np.testing.assert_allclose(y.detach().numpy(), z * np.tanh(np.log1p(np.exp(z))), rtol=1e-12)

v = rng.standard_normal(y.shape)
(y * mg.tensor(v, device=device)).sum().backward()
s = 1 / (1 + np.exp(-z))
t = np.tanh(np.log1p(np.exp(z)))
delta = v * (t + z * s * (1 - t * t))                  # f'(z) of x tanh(softplus(x))
np.testing.assert_allclose(x.grad.numpy(), delta @ layer.weight.detach().numpy(), rtol=1e-10)

alone = nn.Mish()(x)
assert alone.grad_fn.name() == "MishBackward", alone.grad_fn
assert mg.gradcheck(nn.Mish(), (x.detach().requires_grad_(),))
print("ok", device)
"""


def readme_steps():
    """The python code blocks of README's "Add your own activation", in order, with
    the list's indentation taken off."""
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    section = text.split("## Add your own activation", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"\n( *)```python\n(.*?)\n *```", section, re.S)
    return ["\n".join(line[len(indent):] for line in body.split("\n")) + "\n"
            for indent, body in blocks]


def test_readmes_steps_add_a_working_activation_in_three_files(tmp_path):
    for name in ("minigrad", "kernels"):
        shutil.copytree(os.path.join(ROOT, name), tmp_path / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    before = {p: p.read_text() for p in tmp_path.rglob("*.py")}
    math_, activate, activate_backward, function, module = readme_steps()

    def edit(path, change):
        p = tmp_path / path
        p.write_text(change(p.read_text()))

    # 1. kernels/activations.py: the functions and the code at the end, one line in
    #    each of activate and activate_backward before their last return
    edit("kernels/activations.py", lambda s: (
        s.replace("    return identity(x, p, q)\n", activate + "    return identity(x, p, q)\n")
         .replace("    return identity_backward(g, x, y, p, q)\n",
                  activate_backward + "    return identity_backward(g, x, y, p, q)\n")
        + "\n\n" + math_))
    # 2. minigrad/functions/activation.py: the Function
    edit("minigrad/functions/activation.py", lambda s: s + "\n\n" + function)
    # 3. minigrad/nn/layers.py: the module, and its name in __all__
    edit("minigrad/nn/layers.py",
         lambda s: s.replace("__all__ = [", '__all__ = ["Mish", ', 1) + "\n\n" + module)

    changed = sorted(str(p.relative_to(tmp_path)) for p, old in before.items()
                     if p.read_text() != old)
    assert changed == ["kernels/activations.py", "minigrad/functions/activation.py",
                       "minigrad/nn/layers.py"]

    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    env["PYTHONPATH"] = str(tmp_path)
    for device, extra in (("cpu", {}), ("cuda", {"NUMBA_ENABLE_CUDASIM": "1"})):
        out = subprocess.run([sys.executable, "-c", CHECK, device], env={**env, **extra},
                             cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-3000:]
        assert f"ok {device}" in out.stdout
