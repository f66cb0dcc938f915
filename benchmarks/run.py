"""Training steps side by side: minigrad, the same network by hand in NumPy, PyTorch.

    python benchmarks/run.py                            # everything, ~5 min on 2 cores
    python benchmarks/run.py --workloads w1,w2          # some of it
    python benchmarks/run.py --processes 3 --json out.json   # 3 whole runs, combined

Workloads (``workloads.py``), float32, 2 threads for every library (the children
get OPENBLAS_NUM_THREADS, OMP_NUM_THREADS, MKL_NUM_THREADS and NUMBA_NUM_THREADS = 2;
PyTorch also ``torch.set_num_threads(2)``):

- W1 xor 2-8-1, W2 digits 64-128-10, W3 mnist-size 784-512-256-10, W4 wide
  1024-4096-4096-10: the median time of one full training step (forward, loss,
  backward, optimizer step, zero_grad) after warm-up, for minigrad, NumPy by hand,
  PyTorch's default and, where the optimizer is Adam, PyTorch's ``fused=True``;
  beside them the step's own matrix products alone (NumPy, same shapes, same
  rounds) and, for W3/W4, the BLAS limit: the products' FLOPs at the GFLOP/s NumPy
  reaches on a 2048² product.
- O1: one Adam step over 10M parameters, ``optim_step.py``'s workload and peers,
  with the bandwidth of a parallel triad in the same rounds.
- Cold start (empty numba cache) and warm start of ``examples/xor.py``.

What one run does, each part in child processes of its own:

1. Timing. OpenBLAS reads ``OPENBLAS_CORETYPE`` when it loads, so one child runs
   with it unset (what a user's machine does: the kernels OpenBLAS picks for the
   CPU, AVX-512 ones where it has AVX-512) and times every workload; a second, with
   ``OPENBLAS_CORETYPE=Haswell`` (AVX2 kernels, what these shared machines normally
   export), times the BLAS-bound W3 and W4 again
   (``--blas`` picks). In a child, every peer of a workload runs in the same
   rounds, round-robin, in blocks (``common.interleave_blocks``): a block first
   waits ``--settle`` seconds (busy), so that the thread pools the previous peer
   left spinning (OpenBLAS's for up to ~0.3 s, PyTorch's OpenMP) have gone quiet,
   then steps its peer untimed once more, then times samples of back-to-back
   steps for about ``--block`` seconds; the training peers all take the same
   number of steps per block. The figure is the median sample. Before timing,
   each peer takes 3 steps in lockstep and their losses are compared; after it,
   every peer takes one more step and the losses are compared again.
2. Peak memory: each peer of each workload in a fresh process of its own. It
   imports, builds the data, runs the same network on 8 rows twice (kernels
   compiled or loaded, libraries' lazy state set up) and frees it; then the peak
   resident memory (VmHWM, reset there) above the RSS at that moment, over
   building the network and its optimizer and training steps, is the figure. The
   step time measured there, alone in its process, is printed beside the
   interleaved one as a cross-check.
3. ``examples/xor.py`` with a fresh ``NUMBA_CACHE_DIR`` (cold), then again (warm),
   5 times each with Python's bytecode as the shell has it and as Python's default
   (written and read), interleaved with a floor: a script that loads one cached
   numba kernel and nothing else (``start_times``); with ``--core-python``, both
   again under an environment that holds numba and NumPy alone.

Ratios are computed within each run, then the median [min–max] over runs.
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402  (also puts the repository root on sys.path)
import workloads as W  # noqa: E402

THREADS = 2
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
CORETYPE = "OPENBLAS_CORETYPE"
HASWELL = "Haswell"
ALL = ("w1", "w2", "w3", "w4", "o1")
ROUNDS = {"w1": 6, "w2": 6, "w3": 6, "w4": 6}      # interleaved rounds of blocks
O1_REPEAT, O1_WARMUP, O1_SIZE = 15, 3, 10_000_000
CHECK_STEPS = 3          # lockstep steps before timing, losses compared
SQUARE_N = 2048          # the square product that measures NumPy's GFLOP/s
XOR = os.path.join(common.ROOT, "examples", "xor.py")

# What the issue asks of minigrad: (workload, label, ratio key, threshold, "≥" or "≤").
TARGETS = [
    ("w1", "PyTorch default / minigrad", "torch", 3.0, "≥"),
    ("w1", "NumPy / minigrad (minigrad ≥ 0.8× NumPy's speed)", "numpy", 0.8, "≥"),
    ("w2", "PyTorch default / minigrad", "torch", 3.0, "≥"),
    ("w2", "NumPy / minigrad (minigrad ≥ 0.8× NumPy's speed)", "numpy", 0.8, "≥"),
    ("w3", "PyTorch default / minigrad", "torch", 1.2, "≥"),
    ("w3", "PyTorch fused Adam / minigrad", "torch fused", 1.0, "≥"),
    ("w3", "minigrad / its own matmuls", "over_matmuls", 1.25, "≤"),
    ("w4", "minigrad / its own matmuls", "over_matmuls", 1.1, "≤"),
]


# ---- the child that times ----------------------------------------------------------------

def time_workload(w, torch, rounds, settle_s, block_s, quiet_s):
    weights, batches = W.init_weights(w), W.make_batches(w)
    peers = {"minigrad": W.minigrad_peer(w, weights, batches),
             "numpy": W.numpy_peer(w, weights, batches)}
    if torch is not None:
        peers["torch"] = W.torch_peer(torch, w, weights, batches)
        if w.optimizer == "adam":
            peers["torch fused"] = W.torch_peer(torch, w, weights, batches, fused=True)

    # Lockstep first steps: minigrad's kernels load (or compile), PyTorch sets up
    # its state, and every peer must see the same losses.
    first = {name: [] for name in peers}
    for _ in range(CHECK_STEPS):
        slowest = 0.0                    # of the last lockstep step, once warm
        for name, p in peers.items():
            t0 = time.perf_counter()
            p.step()
            slowest = max(slowest, time.perf_counter() - t0)
            first[name].append(p.loss())

    fns = {name: p.step for name, p in peers.items()}
    fns["matmuls"] = W.matmul_peer(w)
    square = None
    if w.blas_bound:
        square = square_matmul(SQUARE_N)
        fns["square matmul"] = square
    if quiet_s:
        common.wait_for_quiet(quiet_s)
    load = common.CpuLoad()
    times = common.interleave_blocks(fns, rounds, settle_s, block_s,
                                     sample_s=2e-3 if slowest < 0.05 else 0.0, lockstep=peers)
    others = load.others()

    # Same step count for all, then one more step each: compare the losses.
    top = max(p.steps for p in peers.values())
    for p in peers.values():
        while p.steps < top:
            p.step()
    after = {}
    for name, p in peers.items():
        p.step()
        after[name] = p.loss()

    res = {"describe": w.describe(), "flops": w.matmul_flops(), "others_cpu": others,
           "rounds": rounds, "peers": {},
           "check": {"first": first, "after": after, "after_step": top + 1}}
    for name, ts in times.items():
        res["peers"][name] = {"median_s": common.median(ts), "min_s": min(ts),
                              "max_s": max(ts), "samples": len(ts)}
    if square is not None:
        res["square_gflops"] = 2 * SQUARE_N ** 3 / res["peers"]["square matmul"]["median_s"] / 1e9
    return res


def square_matmul(n, seed=3):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), np.float32)
    return lambda: np.matmul(a, b, out=out)


def time_o1(torch, repeat, warmup, quiet_s):
    import optim_step
    init, grads = optim_step.make_workload(O1_SIZE)
    res = optim_step.bench_optimizer("adam", init, grads, torch, repeat, warmup, quiet_s)
    res["size"] = O1_SIZE
    return res


def child_timing(args):
    torch = None if args.no_torch else common.optional_torch(threads=THREADS)
    machine = common.machine_info(torch)
    out = {"machine": machine, "workloads": {}}
    names = args.workload_list
    # O1 first: its peers use no BLAS, and it should not start while BLAS threads
    # from a training workload are still spinning.
    for name in sorted(names, key=lambda n: n != "o1"):
        t0 = time.perf_counter()
        if name == "o1":
            out["workloads"][name] = time_o1(torch, args.repeat or O1_REPEAT, O1_WARMUP,
                                             args.wait_quiet)
        else:
            out["workloads"][name] = time_workload(
                W.WORKLOADS[name], torch, args.repeat or ROUNDS[name], args.settle,
                args.block, args.wait_quiet)
        log(f"  {name} timed in {time.perf_counter() - t0:.0f} s "
            f"({CORETYPE}={os.environ.get(CORETYPE, 'unset')})")
    machine["numba_threading_layer"] = common.numba_threading_layer()
    common.write_json(args.json, out)


# ---- the child that measures memory ---------------------------------------------------------

def memory_peers(name, torch_available):
    """The peers whose memory is measured for workload ``name``."""
    peers = ["minigrad", "numpy"]
    if torch_available:
        peers.append("torch")
        if name == "o1" or W.WORKLOADS[name].optimizer == "adam":
            peers.append("torch fused")
    return peers


def child_memory(args):
    name, peer = args.workload_list[0], args.peer
    torch = common.optional_torch(threads=THREADS) if peer.startswith("torch") else None
    if name == "o1":
        import optim_step

        def build(size):
            init, grads = data if size == O1_SIZE else optim_step.make_workload(size)
            if peer == "minigrad":
                return optim_step.minigrad_peer("adam", init, grads)[0]
            if peer == "numpy":
                return optim_step.numpy_peer("adam", init, grads)[0]
            flags = {"fused": True} if peer == "torch fused" else {}
            return optim_step.torch_peer(torch, "adam", flags, init, grads)[0]

        data = optim_step.make_workload(O1_SIZE)
        warm, real = (lambda: build(100_000)), (lambda: build(O1_SIZE))
    else:
        w = W.WORKLOADS[name]
        weights, batches = W.init_weights(w), W.make_batches(w)
        x, y = batches[0]

        def build(b):
            if peer == "minigrad":
                return W.minigrad_peer(w, weights, b).step
            if peer == "numpy":
                return W.numpy_peer(w, weights, b).step
            return W.torch_peer(torch, w, weights, b, fused=peer == "torch fused").step

        warm = lambda: build([(x[:8].copy(), y[:8].copy())])  # noqa: E731
        real = lambda: build(batches)                          # noqa: E731

    step = warm()
    step()
    step()
    del step
    common.trim_heap()
    base = common.rss_mib()
    exact = common.reset_peak_rss()
    step = real()
    load = common.CpuLoad()
    times = []
    budget = time.perf_counter() + 1.0
    while len(times) < 3 or (time.perf_counter() < budget and len(times) < 500):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    peak = common.peak_rss_since_reset_mib() if exact else common.peak_rss_mib()
    common.write_json(args.json, {
        "baseline_mib": base, "peak_mib": peak, "peak_above_baseline_mib": peak - base,
        "end_above_baseline_mib": common.rss_mib() - base, "exact": exact,
        "process_peak_mib": common.peak_rss_mib(), "steps": len(times),
        "others_cpu": load.others(),
        "alone_median_s": common.median(times[1:] if len(times) > 3 else times)})


# ---- one whole run: the children, then start-up times -------------------------------------------

def log(msg):
    print(msg, file=sys.stderr, flush=True)


def child_env(config):
    """This environment with 2 threads for every library and OPENBLAS_CORETYPE unset
    ("unset") or Haswell ("set")."""
    env = dict(os.environ)
    env.pop(CORETYPE, None)
    if config == "set":
        env[CORETYPE] = HASWELL
    for var in THREAD_VARS:
        env[var] = str(THREADS)
    return env


def run_child(kind, config, workloads, args, peer=None):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "out.json")
        cmd = [sys.executable, os.path.abspath(__file__), "--child", kind,
               "--workloads", ",".join(workloads), "--json", path,
               "--settle", str(args.settle), "--block", str(args.block)]
        if args.repeat:
            cmd += ["--repeat", str(args.repeat)]
        if args.no_torch:
            cmd.append("--no-torch")
        if args.wait_quiet:
            cmd += ["--wait-quiet", str(args.wait_quiet)]
        if peer:
            cmd += ["--peer", peer]
        subprocess.run(cmd, env=child_env(config), check=True, stdout=sys.stderr)
        with open(path) as f:
            return json.load(f)


def blas_configs(blas):
    return {"both": ["unset", "set"], "unset": ["unset"], "set": ["set"]}[blas]


# The floor under any program that loads a cached numba kernel: import numpy and numba,
# load one cached @njit kernel (which makes numba set up its typing and lowering
# registries), call it, exit. Whatever examples/xor.py takes beyond this is minigrad's.
NUMBA_FLOOR = """\
import numpy as np
from numba import njit


@njit(cache=True)
def sigmoid(x, out):
    for i in range(x.shape[0]):
        out[i] = 1.0 / (1.0 + np.exp(-x[i]))


x = np.ones(4, np.float32)
sigmoid(x, np.empty_like(x))
"""
BYTECODE = "PYTHONDONTWRITEBYTECODE"
WARM_ROUNDS = 5


def start_times(config, quiet_s, rounds=WARM_ROUNDS, core_python=None):
    """Wall seconds of examples/xor.py with an empty numba cache (cold), then with it
    filled (warm), and of NUMBA_FLOOR, the same way.

    Warm starts run ``rounds`` times each, interleaved: xor.py with Python's bytecode
    setting as this shell has it (these machines export PYTHONDONTWRITEBYTECODE=1, so
    minigrad's modules are compiled from source in every process), xor.py with
    bytecode written and read (Python's default, what a user's machine does; into a
    PYTHONPYCACHEPREFIX in the temporary folder, so that nothing is written beside
    the sources, after one untimed run that fills it), and the floor.

    With ``core_python`` (the interpreter of an environment that holds numba and
    NumPy alone, as README's ``pip install -e .`` makes one), xor.py and the floor
    run under it too, bytecode written, in the same rounds: what a user who
    installed minigrad alone waits for. It imports this checkout's minigrad
    (PYTHONPATH) and keeps a numba cache of its own.
    """
    out = {"shell_" + BYTECODE: os.environ.get(BYTECODE),
           "scipy": {"this": common.has_scipy(sys.executable)}}
    with tempfile.TemporaryDirectory() as tmp:
        cache = os.path.join(tmp, "numba")
        floor = os.path.join(tmp, "numba_floor.py")
        with open(floor, "w") as f:
            f.write(NUMBA_FLOOR)
        as_set = dict(child_env(config), NUMBA_CACHE_DIR=cache)
        written = dict(as_set, PYTHONPYCACHEPREFIX=os.path.join(tmp, "pyc"))
        written.pop(BYTECODE, None)

        def run(script, env, python=sys.executable):
            if quiet_s:
                common.wait_for_quiet(quiet_s)
            load = common.CpuLoad()
            t0 = time.perf_counter()
            done = subprocess.run([python, script], env=env, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            if done.returncode != 0:
                raise RuntimeError(f"{python} {script} failed:\n{done.stderr}")
            lines = done.stdout.strip().splitlines()
            return {"wall_s": wall, "others_cpu": load.others(),
                    "last_line": lines[-1] if lines else ""}

        out["cold"] = run(XOR, as_set)
        out["cache_files"] = sum(len(files) for _, _, files in os.walk(cache))
        run(XOR, written)          # fills the bytecode prefix (and is not counted)
        run(floor, as_set)         # compiles the floor's kernel into the cache
        variants = {"warm": (XOR, as_set), "warm_bytecode": (XOR, written),
                    "numba_floor": (floor, as_set)}
        if core_python:
            out["scipy"]["core"] = common.has_scipy(core_python)
            path = os.pathsep.join(x for x in (common.ROOT, written.get("PYTHONPATH")) if x)
            core = dict(written, NUMBA_CACHE_DIR=os.path.join(tmp, "numba_core"),
                        PYTHONPATH=path, PYTHONPYCACHEPREFIX=os.path.join(tmp, "pyc_core"))
            run(XOR, core, core_python)      # fills its numba cache and bytecode prefix
            run(floor, core, core_python)
            variants["warm_core"] = (XOR, core, core_python)
            variants["numba_floor_core"] = (floor, core, core_python)
        samples = {label: [] for label in variants}
        for r in range(rounds):          # every other round in reverse: no fixed order
            order = list(variants) if r % 2 == 0 else list(variants)[::-1]
            for label in order:
                samples[label].append(run(*variants[label]))
        for label, runs in samples.items():
            walls = sorted(r["wall_s"] for r in runs)
            out[label] = {"wall_s": walls[len(walls) // 2], "samples_s": walls,
                          "others_cpu": max((r["others_cpu"] or 0.0) for r in runs)}
    return out


def one_run(args):
    configs = blas_configs(args.blas)
    torch_available = not args.no_torch and importlib.util.find_spec("torch") is not None
    res = {"machine": common.machine_info(), "configs": configs, "timing": {},
           "memory": {}, "start": None, "settle_s": args.settle, "block_s": args.block,
           "shell_OPENBLAS_CORETYPE": os.environ.get(CORETYPE)}
    t_start = time.perf_counter()
    for config in configs:
        names = [n for n in args.workload_list
                 if config == configs[0] or (n != "o1" and W.WORKLOADS[n].blas_bound)]
        if names:
            log(f"timing {','.join(names)} with {CORETYPE} {config} …")
            res["timing"][config] = run_child("timing", config, names, args)
    if not args.no_memory:
        for name in args.workload_list:
            res["memory"][name] = {}
            for peer in memory_peers(name, torch_available):
                log(f"memory: {name} {peer} …")
                res["memory"][name][peer] = run_child("memory", configs[0], [name], args, peer)
    if not args.no_start:
        log("cold and warm start of examples/xor.py …")
        res["start"] = start_times(configs[0], args.wait_quiet, core_python=args.core_python)
    res["wall_s"] = time.perf_counter() - t_start
    return res


# ---- the report -----------------------------------------------------------------------------

def fmt_ms(s):
    ms = s * 1e3
    return f"{ms:.3f}" if ms < 1 else f"{ms:.2f}" if ms < 100 else f"{ms:.0f}"


def fmt_ratio(x):
    return f"{x:.2f}"


def fmt_rate(x):
    return f"{x:.1f}" if x < 10 else f"{x:,.0f}"


def share(x):
    return "?" if x is None else f"{100 * x:.0f}%"


def config_label(config):
    return f"{CORETYPE}={HASWELL}" if config == "set" else f"{CORETYPE} unset"


def ratios(wres):
    """Per peer: its time over minigrad's; and minigrad over its matmuls, BLAS limit."""
    peers = wres["peers"]
    mg = peers["minigrad"]["median_s"]
    out = {name: p["median_s"] / mg for name, p in peers.items()}
    out["over_matmuls"] = mg / peers["matmuls"]["median_s"]
    if "square_gflops" in wres:
        limit = wres["flops"] / (wres["square_gflops"] * 1e9)
        out["blas_limit_s"] = limit
        out["over_limit"] = mg / limit
    return out


def per_run(runs, f):
    """f(run) for every run where it is not None."""
    vals = [f(r) for r in runs]
    return [v for v in vals if v is not None]


def workload_table(runs, config, name):
    first = runs[0]["timing"][config]["workloads"][name]
    wres = lambda r: r["timing"][config]["workloads"][name]  # noqa: E731
    rows = []
    order = [p for p in ("minigrad", "numpy", "torch", "torch fused", "matmuls")
             if p in first["peers"]]
    for peer in order:
        meds = per_run(runs, lambda r: wres(r)["peers"][peer]["median_s"])
        mem = per_run(runs, lambda r: r["memory"].get(name, {}).get(peer, {})
                      .get("peak_above_baseline_mib") if config == r["configs"][0] else None)
        alone = per_run(runs, lambda r: r["memory"].get(name, {}).get(peer, {})
                        .get("alone_median_s") if config == r["configs"][0] else None)
        whole = per_run(runs, lambda r: r["memory"].get(name, {}).get(peer, {})
                        .get("process_peak_mib") if config == r["configs"][0] else None)
        label = {"numpy": "NumPy by hand", "torch": "PyTorch default",
                 "torch fused": "PyTorch fused Adam",
                 "matmuls": "its matmuls alone (NumPy)"}.get(peer, peer)
        rows.append([label, common.cell(meds, fmt_ms),
                     common.cell([1 / m for m in meds], fmt_rate),
                     common.cell(per_run(runs, lambda r: ratios(wres(r))[peer]), fmt_ratio),
                     common.cell(alone, fmt_ms) if alone else "",
                     common.cell(mem, lambda x: f"{x:.1f}") if mem else "",
                     common.cell(whole, lambda x: f"{x:.0f}") if whole else ""])
    if "square_gflops" in first:
        rate = common.cell(per_run(runs, lambda r: wres(r)["square_gflops"]),
                           lambda x: f"{x:.0f}")
        rows.append([f"BLAS limit ({first['flops'] / 1e9:.2f} GFLOP at {rate} GFLOP/s)",
                     common.cell(per_run(runs, lambda r: ratios(wres(r))["blas_limit_s"]), fmt_ms),
                     "", common.cell(per_run(runs, lambda r: 1 / ratios(wres(r))["over_limit"]),
                                     fmt_ratio), "", "", ""])
    return common.markdown_table(
        ["peer", "ms / step", "steps/s", "time / minigrad's", "alone ms", "peak MiB",
         "process MiB"], rows)


def check_line(runs, config, name):
    """The loss checks, worst case over runs.

    The first steps must agree to float32 rounding. After the timed steps, with Adam
    they may not: where a gradient is a sum that nearly cancels, its rounding decides
    the sign of an update of size lr, and trajectories fly apart (W3 more than W2).
    So minigrad is compared with how far the other peers, computing the same rule
    by other code, have drifted from each other."""
    firsts, afters, spreads, steps = [], [], [], []
    for r in runs:
        c = r["timing"][config]["workloads"][name]["check"]
        mg = c["first"]["minigrad"]
        firsts.append(max(abs(a - b) / max(abs(b), 1e-12) for ls in c["first"].values()
                          for a, b in zip(ls, mg)))
        ref = c["after"]["minigrad"]
        vals = [v for p, v in c["after"].items() if p != "minigrad"]
        afters.append(max(abs(v - ref) / max(abs(ref), 1e-12) for v in vals))
        spreads.append(max((abs(a - b) / max(abs(b), 1e-12) for a in vals for b in vals),
                           default=0.0))
        steps.append(c["after_step"])
    if max(afters) <= 1e-4:
        after = "agree"
    elif all(a <= 2 * s + 1e-4 for a, s in zip(afters, spreads)):
        after = "drifted apart, minigrad no further than the others from each other"
    else:
        after = "MINIGRAD DRIFTED FURTHER than the others from each other"
    c = runs[0]["timing"][config]["workloads"][name]["check"]
    losses = ", ".join(f"{p} {v:.6g}" for p, v in c["after"].items())
    span = f"{min(steps)}" if min(steps) == max(steps) else f"{min(steps)}–{max(steps)}"
    return (f"loss check: first {CHECK_STEPS} steps agree to {max(firsts):.1e} relative "
            f"[{'ok' if max(firsts) <= 1e-5 else 'DIFFER'}]; at step {span} minigrad vs the "
            f"others ≤ {max(afters):.1e}, the others among themselves ≤ {max(spreads):.1e}: "
            f"{after} (run 1: {losses})")


def target_rows(runs):
    rows = []

    def verdict(vals, thr, op):
        med, lo, hi = common.spread(vals)
        ok = (lambda x: x >= thr) if op == "≥" else (lambda x: x <= thr)
        v = "met" if ok(med) else "MISSED"
        if ok(lo) != ok(hi):
            v += " (range straddles)"
        return v

    configs = runs[0]["configs"]
    for name, label, key, thr, op in TARGETS:
        for config in configs:
            if name not in runs[0]["timing"].get(config, {}).get("workloads", {}):
                continue
            vals = per_run(runs, lambda r: ratios(r["timing"][config]["workloads"][name]).get(key))
            if not vals:
                continue
            rows.append([f"{name.upper()} {label} {op} {thr:g}", config_label(config),
                         common.cell(vals, lambda x: f"{x:.3f}"), verdict(vals, thr, op)])
        if key == "over_matmuls":
            for config in configs:
                if name in runs[0]["timing"].get(config, {}).get("workloads", {}):
                    vals = per_run(runs, lambda r: ratios(
                        r["timing"][config]["workloads"][name]).get("over_limit"))
                    rows.append([f"{name.upper()} minigrad / BLAS limit", config_label(config),
                                 common.cell(vals, fmt_ratio), "(no target)"])
        if name == "w3" and key == "over_matmuls":
            mem = per_run(runs, lambda r: _mem_ratio(r, "w3"))
            if mem:
                rows.append(["W3 peak memory minigrad / PyTorch default ≤ 1",
                             config_label(configs[0]), common.cell(mem, lambda x: f"{x:.3f}"),
                             verdict(mem, 1.0, "≤")])
    o1 = [r["timing"][configs[0]]["workloads"].get("o1") for r in runs]
    if all(o1):
        peers = [o["peers"] for o in o1]
        if all("torch fused" in p for p in peers):
            vals = [p["torch fused"]["median_s"] / p["minigrad"]["median_s"] for p in peers]
            rows.append(["O1 PyTorch fused Adam / minigrad ≥ 1", "(no BLAS)",
                         common.cell(vals, lambda x: f"{x:.3f}"), verdict(vals, 1.0, "≥")])
        vals = [p["minigrad"]["gbps"] / p["numba triad"]["gbps"] for p in peers]
        rows.append(["O1 minigrad GB/s / parallel triad GB/s ≥ 0.9", "(no BLAS)",
                     common.cell(vals, lambda x: f"{x:.3f}"), verdict(vals, 0.9, "≥")])
    starts = [r["start"] for r in runs if r["start"]]
    if starts:
        for label, thr, how in (("cold", 15.0, ""), ("warm", 1.5, "bytecode as set"),
                                ("warm_bytecode", 1.5, "bytecode written"),
                                ("warm_core", 1.5, "core install, bytecode written")):
            if all(label in s for s in starts):
                vals = [s[label]["wall_s"] for s in starts]
                name = label.split("_")[0]
                rows.append([f"examples/xor.py {name} start < {thr:g} s",
                             ", ".join(x for x in (config_label(configs[0]), how) if x),
                             common.cell(vals, lambda x: f"{x:.2f} s"), verdict(vals, thr, "≤")])
    return rows


def _mem_ratio(run, name):
    m = run["memory"].get(name, {})
    if "minigrad" in m and "torch" in m:
        return m["minigrad"]["peak_above_baseline_mib"] / m["torch"]["peak_above_baseline_mib"]
    return None


def report(runs):
    first = runs[0]
    configs = first["configs"]
    timing0 = first["timing"]
    print(common.format_machine(timing0[configs[0]]["machine"]))
    for config in configs:
        m = timing0.get(config, {}).get("machine")
        if m and m.get("blas"):
            b = m["blas"][0]
            print(f"  child with {config_label(config)}: NumPy's {b['internal_api']} runs "
                  f"{b['architecture']} kernels, {b['num_threads']} threads")
    walls = ", ".join(f"{r['wall_s']:.0f} s" for r in runs)
    print(f"{len(runs)} run(s); the shell had {CORETYPE}="
          f"{first['shell_OPENBLAS_CORETYPE'] or 'unset'}; blocks: {first['settle_s']} s "
          f"untimed, then {first['block_s']} s timed; median [min–max] over runs; "
          f"each run took {walls}\n")
    for config in configs:
        for name, wres in timing0.get(config, {}).get("workloads", {}).items():
            if name == "o1":
                continue
            print(f"### {wres['describe']} — {config_label(config)}")
            others = ", ".join(share(r["timing"][config]["workloads"][name]["others_cpu"])
                               for r in runs)
            print(f"rounds: {wres['rounds']}; other processes used {others} of the CPUs")
            print(workload_table(runs, config, name))
            print(check_line(runs, config, name) + "\n")
    o1 = timing0[configs[0]]["workloads"].get("o1")
    if o1:
        print(f"### o1: one Adam step over {o1['size']:,} float32 parameters "
              f"(optim_step.py) — no BLAS involved")
        rows = []
        for peer in o1["peers"]:
            meds = [r["timing"][configs[0]]["workloads"]["o1"]["peers"][peer]["median_s"]
                    for r in runs]
            rel = [r["timing"][configs[0]]["workloads"]["o1"]["peers"][peer]["median_s"]
                   / r["timing"][configs[0]]["workloads"]["o1"]["peers"]["minigrad"]["median_s"]
                   for r in runs]
            gbps = [r["timing"][configs[0]]["workloads"]["o1"]["peers"][peer]["gbps"]
                    for r in runs]
            key = "torch" if peer == "torch default" else peer
            mem = per_run(runs, lambda r: r["memory"].get("o1", {}).get(key, {})
                          .get("peak_above_baseline_mib"))
            rows.append([peer, common.cell(meds, fmt_ms),
                         common.cell([1 / m for m in meds], fmt_rate),
                         common.cell(rel, fmt_ratio), common.cell(gbps, lambda x: f"{x:.1f}"),
                         common.cell(mem, lambda x: f"{x:.0f}") if mem else ""])
        print(common.markdown_table(["peer", "ms / step", "steps/s", "time / minigrad's",
                                     "GB/s", "peak MiB"], rows))
        o1s = [r["timing"][configs[0]]["workloads"]["o1"] for r in runs]
        others = ", ".join(share(o["others_cpu"]) for o in o1s)
        diff = max(e.get("max_abs_diff", 0.0) for o in o1s for e in o["peers"].values())
        print(f"other processes used {others} of the CPUs; every peer's θ within "
              f"{diff:.1e} of minigrad's\n")
    starts = [r["start"] for r in runs if r["start"]]
    if starts:
        print("### examples/xor.py start-up (wall time of the whole program)")
        labels = {"cold": "cold: empty numba cache", "warm": "warm: bytecode as the shell has it "
                  f"({BYTECODE}={starts[0].get('shell_' + BYTECODE) or 'unset'})",
                  "warm_bytecode": "warm: bytecode written and read (Python's default)",
                  "numba_floor": "numba's floor: one cached kernel, nothing else",
                  "warm_core": "warm, core install (numba and NumPy alone): bytecode written",
                  "numba_floor_core": "numba's floor in the core install"}
        rows = []
        for label, text in labels.items():
            if all(label in s for s in starts):
                rows.append([text, common.cell([s[label]["wall_s"] for s in starts],
                                               lambda x: f"{x:.2f}"),
                             ", ".join(share(s[label]["others_cpu"]) for s in starts)])
        print(common.markdown_table(["run", "seconds", "others' CPU share (worst)"], rows))
        if all("numba_floor" in s for s in starts):
            own = [s["warm_bytecode"]["wall_s"] - s["numba_floor"]["wall_s"] for s in starts]
            print(f"warm runs: the median of {len(starts[0]['warm']['samples_s'])} each, "
                  f"interleaved; xor.py's warm start (bytecode written) beyond numba's floor: "
                  f"{common.cell(own, lambda x: f'{x:.2f}')} s")
        if all("numba_floor_core" in s for s in starts):
            own = [s["warm_core"]["wall_s"] - s["numba_floor_core"]["wall_s"] for s in starts]
            print(f"in the core install, beyond its floor: {common.cell(own, lambda x: f'{x:.2f}')} s")
        scipy = starts[0].get("scipy", {})
        where = {"this": "this environment", "core": "the core install"}
        print("SciPy (numba imports it at start-up where it can): " + "; ".join(
            f"{'installed' if v else 'absent'} in {where[k]}" for k, v in scipy.items()))
        print(f"the cold run left {starts[0]['cache_files']} files in its fresh NUMBA_CACHE_DIR; "
              f"its last line: {starts[0]['cold']['last_line']!r}\n")
    print("### Targets")
    print(common.markdown_table(["target", "BLAS", "measured", "verdict"], target_rows(runs),
                                "llrl"))


# ---- main -----------------------------------------------------------------------------------

def parse(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workloads", default=",".join(ALL),
                    help=f"comma-separated subset of {','.join(ALL)} (default: all)")
    ap.add_argument("--repeat", type=int, default=0,
                    help="interleaved rounds per workload (default 6; O1 15)")
    ap.add_argument("--processes", type=int, default=1,
                    help="repeat the whole run in this many fresh processes and report "
                         "the median [min–max]")
    ap.add_argument("--blas", choices=("both", "set", "unset"), default="both",
                    help=f"time BLAS-bound workloads with {CORETYPE}={HASWELL} (set), "
                         f"without it (unset), or both (default); the others run without "
                         f"it, or with it under 'set'")
    ap.add_argument("--settle", type=float, default=0.3,
                    help="seconds each block waits (busy) before its peer runs (default 0.3)")
    ap.add_argument("--block", type=float, default=0.25,
                    help="seconds of timed samples per block (default 0.25)")
    ap.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-memory processes")
    ap.add_argument("--no-start", action="store_true", help="skip the start-up timing")
    ap.add_argument("--core-python", metavar="PYTHON",
                    help="also time xor.py's warm start under this interpreter, one of an "
                         "environment with numba and NumPy alone (python3 -m venv core && "
                         "core/bin/pip install -e .), in the same rounds")
    ap.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                    help="before each timed block of work, wait up to this long for a "
                         "second in which other processes use < 10%% of the CPUs")
    ap.add_argument("--json", help="also write the result(s) here")
    ap.add_argument("--child", choices=("timing", "memory"), help=argparse.SUPPRESS)
    ap.add_argument("--peer", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.workload_list = [s.strip().lower() for s in args.workloads.split(",") if s.strip()]
    unknown = [s for s in args.workload_list if s not in ALL]
    if unknown or not args.workload_list:
        ap.error(f"unknown workload(s) {unknown}; choose from {','.join(ALL)}")
    if args.core_python:
        args.core_python = os.path.abspath(args.core_python)  # not resolved: a venv's link
        if not os.access(args.core_python, os.X_OK) or os.path.isdir(args.core_python):
            ap.error(f"--core-python: {args.core_python} is not an executable file")
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    if args.child == "timing":
        return child_timing(args)
    if args.child == "memory":
        return child_memory(args)
    if args.processes > 1:
        child = common.drop_option(common.drop_option(argv, "--processes"), "--json")
        runs = common.run_processes(os.path.abspath(__file__), child, args.processes)
    else:
        runs = [one_run(args)]
    report(runs)
    if args.json:
        common.write_json(args.json, runs if args.processes > 1 else runs[0])


if __name__ == "__main__":
    main()
