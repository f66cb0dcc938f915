"""kernels/cache.py: a cached kernel notices an edit to a helper it takes from another
file of the package (numba alone would go on loading the kernel compiled with the
old helper)."""

import os
import shutil
import subprocess
import sys

from minigrad import kernels

# ReLU forward from a copy of the package: its output, then the kernel's cache hits
# and misses in this process.
SCRIPT = """
import numpy as np
from kernels import activations as A
from kernels.cpu import activations as K
kernel = K.forward(A.RELU)
out = np.empty(2)
kernel(np.array([-1.0, 2.0]), 0.0, 0.0, out)
print(out.tolist(), kernel.stats.cache_hits.total(), kernel.stats.cache_misses.total())
"""


def run(copy):
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMBA_CACHE_DIR", "NUMBA_DISABLE_JIT", "NUMBA_ENABLE_CUDASIM")}
    env["PYTHONPATH"] = str(copy)
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=copy,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout.split("\n")[-2]


def test_an_edit_to_a_shared_helper_recompiles_the_kernels_that_use_it(tmp_path):
    shutil.copytree(os.path.dirname(kernels.__file__), tmp_path / "kernels",
                    ignore=shutil.ignore_patterns("__pycache__"))
    assert run(tmp_path) == "[0.0, 2.0] 0 1"      # compiled, and written to the cache
    assert run(tmp_path) == "[0.0, 2.0] 1 0"      # loaded from the cache

    helpers = tmp_path / "kernels" / "activations.py"
    source = helpers.read_text()
    edited = source.replace("return 0.0 if x < 0.0 else x", "return 0.0 if x < 0.0 else 3.0 * x")
    assert edited != source
    helpers.write_text(edited)
    assert run(tmp_path) == "[0.0, 6.0] 0 1"      # the edit is seen: compiled again
    assert run(tmp_path) == "[0.0, 6.0] 1 0"


def test_functions_outside_the_package_keep_numbas_own_locators():
    from numba.core import caching

    impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl
    ours = [c for c in impl._locator_classes if c.__module__ == "minigrad.kernels.cache"]
    assert len(ours) == 3
    assert ours[0].from_function(run, __file__) is None
