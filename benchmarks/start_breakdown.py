"""Where a warm start of ``examples/xor.py`` goes, phase by phase.

``run.py`` times xor.py's warm start whole, beside numba's floor. This splits it:
xor.py runs under a wrapper that stamps the wall clock as each phase ends, and the
parent stamps the launch and the moment the process is gone.

- **interpreter start**: from launch to the wrapper's first line (Python, ``site``);
- **import numpy**, **import numba**, **import minigrad**;
- **numba's first cached kernel**: loading one tiny cached kernel, which is when numba
  sets up its typing and lowering registries (and imports SciPy, where installed);
  every numba program pays it once;
- **xor.py**: its own kernels, loaded from the cache, and its 300 training steps;
- **interpreter exit**: from the last ``atexit`` handler to the process's end.

The exit is timed twice, interleaved: as is, and with ``gc.freeze()`` in that last
handler, which leaves every object alive at that point out of the collections
Python runs while it shuts down. The difference is what those collections cost over
the objects numba keeps (about 100 000). It is measured here to say where the time
goes; minigrad does not freeze anything (it would change, for the whole program,
which objects are collected at exit).

Bytecode is written and read (Python's default; to a temporary prefix) and numba's
cache is a temporary folder, filled by one untimed run.

    python benchmarks/start_breakdown.py                         # ~30 s
    python benchmarks/start_breakdown.py --python /tmp/core/bin/python   # a core install
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

XOR = os.path.join(common.ROOT, "examples", "xor.py")

# Stamps time.time() (comparable across processes) as each phase ends; the last
# atexit handler (registered first) writes them to stderr as one JSON line.
WRAPPER = """\
import time
marks = {"start": time.time()}
import atexit, gc, json, os, runpy, sys

def _last():
    marks["atexit"] = time.time()
    if os.environ.get("START_BREAKDOWN_FREEZE") == "1":
        gc.freeze()
    os.write(2, ("MARKS " + json.dumps(marks) + "\\n").encode())

atexit.register(_last)
import numpy
marks["numpy"] = time.time()
import numba
marks["numba"] = time.time()
import minigrad
marks["minigrad"] = time.time()

@numba.njit(cache=True)
def _first(x):
    return x + 1

_first(1)
marks["first_kernel"] = time.time()
sys.argv = [sys.argv[1]]
runpy.run_path(sys.argv[0], run_name="__main__")
marks["xor"] = time.time()
"""

PHASES = [("interpreter start", "launch", "start"), ("import numpy", "start", "numpy"),
          ("import numba", "numpy", "numba"), ("import minigrad", "numba", "minigrad"),
          ("numba's first cached kernel", "minigrad", "first_kernel"),
          ("xor.py: its kernels and 300 steps", "first_kernel", "xor"),
          ("interpreter exit", "atexit", "gone")]


def run_once(python, wrapper, env, freeze):
    env = dict(env, START_BREAKDOWN_FREEZE="1" if freeze else "0")
    launch = time.time()
    done = subprocess.run([python, wrapper, XOR], env=env, capture_output=True, text=True)
    gone = time.time()
    if done.returncode != 0:
        raise RuntimeError(f"{python} {wrapper} failed:\n{done.stderr}")
    line = [ln for ln in done.stderr.splitlines() if ln.startswith("MARKS ")][-1]
    marks = dict(json.loads(line[len("MARKS "):]), launch=launch, gone=gone)
    phases = {name: marks[b] - marks[a] for name, a, b in PHASES}
    phases["total"] = gone - launch
    return phases


def breakdown(python, rounds, quiet_s):
    with tempfile.TemporaryDirectory() as tmp:
        wrapper = os.path.join(tmp, "wrapper.py")
        with open(wrapper, "w") as f:
            f.write(WRAPPER)
        env = dict(os.environ, NUMBA_CACHE_DIR=os.path.join(tmp, "numba"),
                   PYTHONPYCACHEPREFIX=os.path.join(tmp, "pyc"),
                   PYTHONPATH=os.pathsep.join(
                       x for x in (common.ROOT, os.environ.get("PYTHONPATH")) if x))
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        run_once(python, wrapper, env, False)        # fills the caches, untimed
        runs = {False: [], True: []}
        for r in range(rounds):
            for freeze in ((False, True) if r % 2 == 0 else (True, False)):
                if quiet_s:
                    common.wait_for_quiet(quiet_s)
                runs[freeze].append(run_once(python, wrapper, env, freeze))
    return runs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--python", default=sys.executable,
                    help="the interpreter to start (default: this one)")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--wait-quiet", type=float, default=0.0,
                    help="wait up to this many seconds for a quiet machine before each run")
    args = ap.parse_args(argv)
    print(common.format_machine(common.machine_info()))
    scipy = common.has_scipy(args.python)
    load = common.CpuLoad()
    runs = breakdown(args.python, args.rounds, args.wait_quiet)

    def med(freeze, phase):
        return statistics.median(r[phase] for r in runs[freeze])

    def seconds(freeze, phase):
        return common.cell([r[phase] for r in runs[freeze]], lambda x: f"{x:.3f}")

    total = med(False, "total")
    rows = [[name, seconds(False, name), f"{med(False, name) / total:.0%}"]
            for name, _, _ in PHASES]
    rows.append(["total", seconds(False, "total"), "100%"])
    rows.append(["interpreter exit, objects frozen in the last atexit handler",
                 seconds(True, "interpreter exit"), ""])
    print(f"\n### examples/xor.py, warm start, {args.python} (SciPy "
          f"{'installed' if scipy else 'not installed'}): median [min–max] of "
          f"{args.rounds} runs")
    print(common.markdown_table(["phase", "s", "of the total"], rows))
    print(f"the collections at exit cost {med(False, 'interpreter exit') - med(True, 'interpreter exit'):.3f} s; "
          f"other processes used {load.others() * 100 if load.others() is not None else float('nan'):.0f}% "
          f"of the CPUs")


if __name__ == "__main__":
    main()
