"""One optimizer step over 10 million float32 parameters: minigrad, NumPy, PyTorch.

    python benchmarks/optim_step.py                      # every optimizer, ~1.5 min
    python benchmarks/optim_step.py --optimizers adam    # one of them
    python benchmarks/optim_step.py --processes 3        # 3 separate runs, combined

The parameters are those of an MLP (a few large matrices and their bias vectors,
``--size`` elements in all, 10,000,000 by default), with fixed random values and
fixed random gradients. For each optimizer, with PyTorch's default hyper-parameters
(SGD: lr 0.01, momentum 0.9), these run interleaved in one process:

- minigrad: ``opt.step()``, the gradients already in place in the flat gradient
  buffer (written there once by a backward pass);
- numpy: the same rule written by hand per tensor with in-place ufuncs
  (``np.multiply(g, g, out=tmp)``, ``m *= beta1``, …): what a careful NumPy user
  writes, with no temporaries;
- torch default / foreach / fused, when PyTorch is installed (``fused`` only for
  the optimizers that accept it on the CPU; on the CPU "default" is the per-tensor
  for-loop);
- two memory-bandwidth limits over arrays of the same size, in the same rounds:
  numba's parallel triad ``a = b + s·c`` (STREAM's), and the in-place
  ``a += s·b``, which like every optimizer rule stores only to lines it has just
  read (the triad's stores to ``a`` also cost a read of each line, uncounted).

Each step must read and write every state buffer once (Adam: read θ, g, m, v and
write θ, m, v: 7 × 4 bytes per parameter), so the step is memory-bound; the
"GB/s" column is those bytes over the median time, "% triad" and "% in-place" its
fraction of the limits'. A column "max |Δθ|" compares every peer's parameters with minigrad's
after the same number of steps: they all compute the same rule.

A sweep then times the serial and the parallel kernel (``kernels.cpu.adam_step``
and ``adam_step_parallel``, and SGD's, the cheapest rule) on bare arrays from 1k to
1M elements, and at the workload's size: where the parallel one starts to win is
what ``PARALLEL_MIN`` (minigrad/backend/dispatch.py) should be.
"""

import argparse
import gc
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402  (also puts the repository root on sys.path)

import minigrad as mg  # noqa: E402
from minigrad.kernels import cpu as K  # noqa: E402
from minigrad.backend.dispatch import PARALLEL_MIN  # noqa: E402

TORCH_THREADS = 2


# ---- the workload ------------------------------------------------------------------------

def mlp_shapes(total):
    """Shapes of an MLP's parameters, ``total`` elements in all: d → 4d → d → k, each
    weight with its bias, d chosen so that the two big layers hold ~80% of them, k
    so that the head holds most of the rest, and one small vector the remainder.
    For 10,000,000: (1000, 4000), (4000,), (4000, 1000), (1000,), (1000, 1993),
    (1993,), (7,)."""
    d = max(1, math.isqrt(int(0.8 * total) // 8))
    shapes = [(d, 4 * d), (4 * d,), (4 * d, d), (d,)]
    rest = total - sum(math.prod(s) for s in shapes)
    if rest < 0:
        return [(total,)]
    k = rest // (d + 1)
    if k:
        shapes += [(d, k), (k,)]
    if rest - k * (d + 1):
        shapes.append((rest - k * (d + 1),))
    return shapes


def make_workload(total, seed=0):
    """(initial values, gradients): float32 arrays of ``mlp_shapes(total)``."""
    rng = np.random.default_rng(seed)
    shapes = mlp_shapes(total)
    init = [rng.standard_normal(s, dtype=np.float32) * np.float32(0.05) for s in shapes]
    grads = [rng.standard_normal(s, dtype=np.float32) * np.float32(0.01) for s in shapes]
    return init, grads


# ---- the update rules by hand, in NumPy ---------------------------------------------------
# Each returns a step function over lists of arrays (updated in place) and keeps its
# state in closures. Only in-place ufuncs with out=: no temporaries per step. With
# NumPy ≥ 2 a Python float scalar keeps float32 arithmetic in float32 (NEP 50).

def numpy_sgd(params, grads, lr, momentum=0.0):
    """b ← μb + g (b ← g on the first step), θ ← θ − ηb. Defaults: no dampening,
    no Nesterov, no weight decay."""
    bufs = [np.zeros_like(p) for p in params]
    tmps = [np.empty_like(p) for p in params]
    t = 0

    def step():
        nonlocal t
        t += 1
        for p, g, b, tmp in zip(params, grads, bufs, tmps):
            if t == 1:
                np.copyto(b, g)
            else:
                b *= momentum
                b += g
            np.multiply(b, -lr, out=tmp)
            p += tmp
    return step


def numpy_adagrad(params, grads, lr=0.01, eps=1e-10):
    """G ← G + g², θ ← θ − η g / (√G + ε). Defaults: no lr decay, no weight decay."""
    sums = [np.zeros_like(p) for p in params]
    tmps = [np.empty_like(p) for p in params]

    def step():
        for p, g, s, tmp in zip(params, grads, sums, tmps):
            np.multiply(g, g, out=tmp)
            s += tmp
            np.sqrt(s, out=tmp)
            tmp += eps
            np.divide(g, tmp, out=tmp)
            tmp *= -lr
            p += tmp
    return step


def numpy_rmsprop(params, grads, lr=0.01, alpha=0.99, eps=1e-8):
    """E ← αE + (1 − α)g², θ ← θ − η g / (√E + ε). Defaults: not centered, no
    momentum, no weight decay."""
    avgs = [np.zeros_like(p) for p in params]
    tmps = [np.empty_like(p) for p in params]

    def step():
        for p, g, sq, tmp in zip(params, grads, avgs, tmps):
            sq *= alpha
            np.multiply(g, g, out=tmp)
            tmp *= 1 - alpha
            sq += tmp
            np.sqrt(sq, out=tmp)
            tmp += eps
            np.divide(g, tmp, out=tmp)
            tmp *= -lr
            p += tmp
    return step


def numpy_adam(params, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
               decoupled=False):
    """m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − (η/(1−β₁ᵗ)) m / (√v/√(1−β₂ᵗ) + ε);
    AdamW (``decoupled``) first θ ← θ(1 − ηλ). Adam's default has no weight decay."""
    beta1, beta2 = betas
    ms = [np.zeros_like(p) for p in params]
    vs = [np.zeros_like(p) for p in params]
    tmps = [np.empty_like(p) for p in params]
    t = 0

    def step():
        nonlocal t
        t += 1
        step_size = lr / (1 - beta1 ** t)
        inv_bc2_sqrt = 1 / math.sqrt(1 - beta2 ** t)
        for p, g, m, v, tmp in zip(params, grads, ms, vs, tmps):
            if decoupled:
                p *= 1 - lr * weight_decay
            elif weight_decay:
                g = g + weight_decay * p
            m *= beta1
            np.multiply(g, 1 - beta1, out=tmp)
            m += tmp
            v *= beta2
            np.multiply(g, g, out=tmp)
            tmp *= 1 - beta2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp *= inv_bc2_sqrt
            tmp += eps
            np.divide(m, tmp, out=tmp)
            tmp *= -step_size
            p += tmp
    return step


def numpy_adamw(params, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    return numpy_adam(params, grads, lr, betas, eps, weight_decay, decoupled=True)


def numpy_adadelta(params, grads, lr=1.0, rho=0.9, eps=1e-6):
    """E[g²] ← ρE[g²] + (1−ρ)g², Δ = √(E[Δ²] + ε) / √(E[g²] + ε) · g,
    E[Δ²] ← ρE[Δ²] + (1−ρ)Δ², θ ← θ − ηΔ. Default: no weight decay."""
    sqs = [np.zeros_like(p) for p in params]
    accs = [np.zeros_like(p) for p in params]
    t1s = [np.empty_like(p) for p in params]
    t2s = [np.empty_like(p) for p in params]

    def step():
        for p, g, sq, acc, t1, t2 in zip(params, grads, sqs, accs, t1s, t2s):
            sq *= rho
            np.multiply(g, g, out=t1)
            t1 *= 1 - rho
            sq += t1
            np.add(sq, eps, out=t1)
            np.sqrt(t1, out=t1)
            np.add(acc, eps, out=t2)
            np.sqrt(t2, out=t2)
            t2 /= t1
            t2 *= g                      # t2 = Δ
            acc *= rho
            np.multiply(t2, t2, out=t1)
            t1 *= 1 - rho
            acc += t1
            if lr != 1.0:
                t2 *= lr
            p -= t2
    return step


# name: (minigrad / torch class name, hyper-parameters given, NumPy rule, bytes read
# and written per parameter by the rule at those hyper-parameters, float32)
OPTIMIZERS = {
    "sgd": ("SGD", dict(lr=0.01, momentum=0.9), numpy_sgd, 5 * 4),        # θ g b | θ b
    "adagrad": ("Adagrad", {}, numpy_adagrad, 5 * 4),                      # θ g G | θ G
    "rmsprop": ("RMSprop", {}, numpy_rmsprop, 5 * 4),                      # θ g E | θ E
    "adam": ("Adam", {}, numpy_adam, 7 * 4),                               # θ g m v | θ m v
    "adamw": ("AdamW", {}, numpy_adamw, 7 * 4),                            # θ g m v | θ m v
    "adadelta": ("Adadelta", {}, numpy_adadelta, 7 * 4),                   # θ g E Ed | θ E Ed
}
TORCH_VARIANTS = {"torch default": {}, "torch foreach": {"foreach": True},
                  "torch fused": {"fused": True}}
LIMITS = ("numba triad", "numba a += s·b")
TRIAD, INPLACE = LIMITS


# ---- the peers ------------------------------------------------------------------------------
# Each builder returns (step function, function returning the parameters as NumPy arrays).

def minigrad_peer(name, init, grads):
    cls_name, hp, _, _ = OPTIMIZERS[name]
    params = [mg.nn.Parameter(a.copy()) for a in init]
    opt = getattr(mg.optim, cls_name)(params, **hp)
    # The optimizer has moved the parameters into one flat buffer and given each a
    # slot in a flat gradient buffer; a backward pass writes the gradients there.
    for p, g in zip(params, grads):
        (p * mg.from_numpy(g)).sum().backward()
    return opt.step, lambda: [p.raw for p in params]


def numpy_peer(name, init, grads):
    _, hp, rule, _ = OPTIMIZERS[name]
    params = [a.copy() for a in init]
    return rule(params, grads, **hp), lambda: params


def torch_supports(torch, name, flags):
    """Whether torch.optim's optimizer accepts ``flags`` (foreach/fused) on the CPU."""
    cls_name, hp, _, _ = OPTIMIZERS[name]
    p = torch.zeros(4, requires_grad=True)
    p.grad = torch.ones(4)
    try:
        getattr(torch.optim, cls_name)([p], **hp, **flags).step()
    except (TypeError, RuntimeError, ValueError):
        return False
    return True


def torch_peer(torch, name, flags, init, grads):
    cls_name, hp, _, _ = OPTIMIZERS[name]
    params = [torch.from_numpy(a.copy()).requires_grad_() for a in init]
    for p, g in zip(params, grads):
        p.grad = torch.from_numpy(g)  # shared with the other peers: only ever read
    opt = getattr(torch.optim, cls_name)(params, **hp, **flags)
    return opt.step, lambda: [p.detach().numpy() for p in params]


# ---- one optimizer --------------------------------------------------------------------------

def bench_optimizer(name, init, grads, torch, repeat, warmup, quiet_s=0.0):
    n = sum(a.size for a in init)
    nbytes = OPTIMIZERS[name][3] * n
    peers, views, unsupported = {}, {}, []
    peers["minigrad"], views["minigrad"] = minigrad_peer(name, init, grads)
    peers["numpy"], views["numpy"] = numpy_peer(name, init, grads)
    if torch is not None:
        with torch.no_grad():
            for label, flags in TORCH_VARIANTS.items():
                if torch_supports(torch, name, flags):
                    peers[label], views[label] = torch_peer(torch, name, flags, init, grads)
                else:
                    unsupported.append(label)
    limits = common.bandwidth_peers(n)
    for label in LIMITS:
        peers[label] = limits[label]

    if quiet_s:
        common.wait_for_quiet(quiet_s)
    load = common.CpuLoad()
    times = common.interleave(peers, repeat, warmup)
    others = load.others()

    # Every peer has taken warmup + repeat steps from the same start: compare them
    # all before any takes another (the traced step below).
    ref = views["minigrad"]()
    diffs = {label: max(float(np.max(np.abs(a - b))) for a, b in zip(view(), ref))
             for label, view in views.items()}
    result = {"bytes_per_param": OPTIMIZERS[name][3], "peers": {}, "unsupported": unsupported,
              "others_cpu": others}
    for label, ts in times.items():
        med = common.median(ts)
        entry = {"median_s": med, "min_s": min(ts), "max_s": max(ts),
                 "gbps": common.gb_per_s(
                     common.BANDWIDTH_BYTES[label] * n if label in LIMITS else nbytes, med)}
        if label in views:
            entry["max_abs_diff"] = diffs[label]
            if not label.startswith("torch"):  # torch's allocator is invisible to tracemalloc
                entry["temp_mib"] = common.traced_peak_mib(peers[label])
        result["peers"][label] = entry
    return result


# ---- serial against parallel ---------------------------------------------------------------

def sweep_kernels(sizes, repeat, quiet_s=0.0, seed=0):
    """Seconds per call of the serial and parallel Adam and SGD kernels, by size;
    and the share of the CPUs other processes used meanwhile, by kernel."""
    rng = np.random.default_rng(seed)
    empty = np.empty(0, np.float32)
    out, others = {}, {}
    for kernel in ("adam", "sgd"):
        out[kernel] = []
        if quiet_s:
            common.wait_for_quiet(quiet_s)
        load = common.CpuLoad()
        for n in sizes:
            p = rng.standard_normal(n, dtype=np.float32)
            g = rng.standard_normal(n, dtype=np.float32) * np.float32(0.01)
            a, b = np.zeros(n, np.float32), np.zeros(n, np.float32)
            if kernel == "adam":
                args = (p, g, a, b, empty, 1e-3, 0.9, 0.999, 1e-8, 0.0, False, False, 10)
                serial, parallel = K.adam_step, K.adam_step_parallel
            else:
                args = (p, g, a, 0.01, 0.9, 0.0, False, 0.0, False)
                serial, parallel = K.sgd_step, K.sgd_step_parallel
            ts = common.interleave_short({"serial": lambda f=serial, a=args: f(*a),
                                          "parallel": lambda f=parallel, a=args: f(*a)},
                                         repeat)
            out[kernel].append({"n": n, "serial_s": common.median(ts["serial"]),
                                "parallel_s": common.median(ts["parallel"])})
        others[kernel] = load.others()
    return out, others


def crossover(rows):
    """The smallest n at which the parallel kernel is faster and still is at the next
    size measured (one size, so that a single disturbed sample on a shared machine
    neither makes nor hides a crossover), or None."""
    for row, following in zip(rows, rows[1:] + rows[-1:]):
        if row["parallel_s"] < row["serial_s"] and following["parallel_s"] < following["serial_s"]:
            return row["n"]
    return None


# ---- output -------------------------------------------------------------------------------

def fmt_ms(s):
    return f"{s * 1e3:.2f}" if s < 0.1 else f"{s * 1e3:.1f}"


def fmt_share(x):
    return "unknown" if x is None else f"{100 * x:.0f}%"


def row_order(r):
    """The peers of one optimizer's result, unsupported ones in their place, limits last."""
    timed = [k for k in r["peers"] if k not in LIMITS]
    return ([k for k in timed if not k.startswith("torch")]
            + [k for k in TORCH_VARIANTS if k in timed or k in r["unsupported"]]
            + list(LIMITS))


def print_run(res):
    """Tables for one process's result."""
    print(common.format_machine(res["machine"]))
    print(f"{res['size']:,} float32 parameters in {len(res['shapes'])} tensors "
          f"{res['shapes']}; {res['repeat']} interleaved rounds after {res['warmup']} warm-up; "
          f"peak RSS {res['peak_rss_mib']:.0f} MiB; other processes used "
          f"{fmt_share(res['others_cpu'])} of the CPUs meanwhile\n")
    rows = [[k, fmt_ms(v["median_s"]), f"{v['gbps']:.1f}"] for k, v in res["bandwidth"].items()]
    print("Memory bandwidth, bytes counted as STREAM does (no write-allocate):")
    print(common.markdown_table(["kernel", "ms", "GB/s"], rows) + "\n")
    rows = []
    for name, r in res["optimizers"].items():
        peers = r["peers"]
        base = peers["minigrad"]["median_s"]
        for label in row_order(r):
            if label in r["unsupported"]:
                rows.append(["", label, "n/a", "", "", "", "", "", ""])
                continue
            e = peers[label]
            rows.append([name if label == "minigrad" else "", label, fmt_ms(e["median_s"]),
                         f"{e['median_s'] / base:.2f}", f"{e['gbps']:.1f}",
                         f"{100 * e['gbps'] / peers[TRIAD]['gbps']:.0f}%",
                         f"{100 * e['gbps'] / peers[INPLACE]['gbps']:.0f}%",
                         f"{e['max_abs_diff']:.1e}" if "max_abs_diff" in e else "",
                         f"{e['temp_mib']:.1f}" if "temp_mib" in e else ""])
    print(common.markdown_table(
        ["optimizer", "peer", "ms", "time / minigrad's", "GB/s", "% triad", "% in-place",
         "max |Δθ|", "temp MiB"], rows, "llrrrrrrr") + "\n")
    for name, t in targets(res).items():
        line = f"{name}: NumPy / minigrad = {t['numpy']:.2f}"
        if t["torch"] is not None:
            line += f"; fastest PyTorch ({t['fastest_torch']}) / minigrad = {t['torch']:.2f}"
        line += (f"; minigrad at {100 * t['triad']:.0f}% of the triad, "
                 f"{100 * t['inplace']:.0f}% of in-place; others used "
                 f"{fmt_share(res['optimizers'][name]['others_cpu'])} of the CPUs")
        if name == "adam":
            line += (f"  [targets: NumPy ≥ 2 {'met' if t['numpy'] >= 2 else 'MISSED'}"
                     + (f", PyTorch ≥ 1 {'met' if t['torch'] >= 1 else 'MISSED'}"
                        if t["torch"] is not None else "") + "]")
        print(line)
    print()
    if res["sweep"]:
        print_sweep([res])


def targets(res):
    """Per optimizer: NumPy's and the fastest PyTorch variant's time over minigrad's,
    and minigrad's bandwidth as a fraction of each limit's."""
    out = {}
    for name, r in res["optimizers"].items():
        peers = r["peers"]
        base = peers["minigrad"]["median_s"]
        torch_labels = [k for k in peers if k.startswith("torch")]
        fastest = min(torch_labels, key=lambda k: peers[k]["median_s"]) if torch_labels else None
        out[name] = {"numpy": peers["numpy"]["median_s"] / base,
                     "fastest_torch": fastest,
                     "torch": peers[fastest]["median_s"] / base if fastest else None,
                     "triad": peers["minigrad"]["gbps"] / peers[TRIAD]["gbps"],
                     "inplace": peers["minigrad"]["gbps"] / peers[INPLACE]["gbps"]}
    return out


def cell(values, f):
    """One figure per process: the median, then [min–max] when there are several."""
    med, lo, hi = common.spread(values)
    return f(med) if len(values) == 1 else f"{f(med)} [{f(lo)}–{f(hi)}]"


def print_sweep(runs):
    print(f"Serial against parallel kernel on bare float32 arrays (PARALLEL_MIN = "
          f"{PARALLEL_MIN}); speed-up = serial time / parallel time:")
    for kernel, rows0 in runs[0]["sweep"].items():
        table = []
        for i, row in enumerate(rows0):
            per = [r["sweep"][kernel][i] for r in runs]
            table.append([f"{row['n']:,}",
                          cell([p["serial_s"] * 1e6 for p in per], lambda x: f"{x:.1f}"),
                          cell([p["parallel_s"] * 1e6 for p in per], lambda x: f"{x:.1f}"),
                          cell([p["serial_s"] / p["parallel_s"] for p in per],
                               lambda x: f"{x:.2f}")])
        print(common.markdown_table([f"{kernel}: n", "serial µs", "parallel µs", "speed-up"],
                                    table))
        cs = [crossover(r["sweep"][kernel]) for r in runs]
        print(f"{kernel}: the parallel kernel is faster from n = "
              f"{', '.join(f'{c:,}' if c else 'never' for c in cs)} on"
              f"{' (per process)' if len(runs) > 1 else ''}; other processes used "
              f"{', '.join(fmt_share(r['sweep_others_cpu'][kernel]) for r in runs)} "
              f"of the CPUs\n")


def print_combined(runs):
    """Median across processes of each process's median, with the min–max."""
    first = runs[0]
    print(common.format_machine(first["machine"]))
    print(f"{len(runs)} processes, each {first['repeat']} interleaved rounds after "
          f"{first['warmup']} warm-up; median of the per-process medians [min–max across "
          f"processes]; other processes used "
          f"{', '.join(fmt_share(r['others_cpu']) for r in runs)} of the CPUs\n")
    rows = [[k, cell([r["bandwidth"][k]["gbps"] for r in runs], lambda x: f"{x:.1f}")]
            for k in first["bandwidth"]]
    print(common.markdown_table(["kernel", "GB/s"], rows) + "\n")
    rows = []
    for name, r0 in first["optimizers"].items():
        per = [r["optimizers"][name]["peers"] for r in runs]
        for label in row_order(r0):
            if label in r0["unsupported"]:
                rows.append(["", label, "n/a", "", "", "", ""])
                continue
            rows.append([name if label == "minigrad" else "", label,
                         cell([p[label]["median_s"] for p in per], fmt_ms),
                         cell([p[label]["median_s"] / p["minigrad"]["median_s"] for p in per],
                              lambda x: f"{x:.2f}"),
                         cell([p[label]["gbps"] for p in per], lambda x: f"{x:.1f}"),
                         cell([100 * p[label]["gbps"] / p[TRIAD]["gbps"] for p in per],
                              lambda x: f"{x:.0f}%"),
                         cell([100 * p[label]["gbps"] / p[INPLACE]["gbps"] for p in per],
                              lambda x: f"{x:.0f}%")])
    print(common.markdown_table(["optimizer", "peer", "ms", "time / minigrad's", "GB/s",
                                 "% triad", "% in-place"], rows, "llrrrrr") + "\n")
    ts = [targets(r) for r in runs]
    for name in first["optimizers"]:
        line = (f"{name}: NumPy / minigrad = "
                f"{cell([t[name]['numpy'] for t in ts], lambda x: f'{x:.2f}')}")
        if ts[0][name]["torch"] is not None:
            line += (f"; fastest PyTorch / minigrad = "
                     f"{cell([t[name]['torch'] for t in ts], lambda x: f'{x:.2f}')} "
                     f"({', '.join(sorted({t[name]['fastest_torch'] for t in ts}))})")
        line += (f"; minigrad at "
                 f"{cell([100 * t[name]['triad'] for t in ts], lambda x: f'{x:.0f}%')} of "
                 f"the triad, "
                 f"{cell([100 * t[name]['inplace'] for t in ts], lambda x: f'{x:.0f}%')} "
                 f"of in-place")
        diff = max(e.get("max_abs_diff", 0.0) for r in runs
                   for e in r["optimizers"][name]["peers"].values())
        line += (f"; every peer within {diff:.1e} of minigrad's θ; others used "
                 f"{', '.join(fmt_share(r['optimizers'][name]['others_cpu']) for r in runs)} "
                 f"of the CPUs")
        print(line)
    print()
    if first["sweep"]:
        print_sweep(runs)


# ---- main -----------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=15, help="timed rounds (default 15)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed rounds first (default 3)")
    ap.add_argument("--optimizers", default=",".join(OPTIMIZERS),
                    help=f"comma-separated subset of {','.join(OPTIMIZERS)}")
    ap.add_argument("--size", type=int, default=10_000_000, help="parameters in all")
    ap.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    ap.add_argument("--no-sweep", action="store_true", help="skip the serial/parallel sweep")
    ap.add_argument("--processes", type=int, default=1,
                    help="run this many separate processes and combine them")
    ap.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                    help="before each timed block, wait up to this long for a second in "
                         "which other processes use < 10%% of the CPUs (a shared machine)")
    ap.add_argument("--json", help="also write the result here")
    args = ap.parse_args(argv)
    names = [s.strip().lower() for s in args.optimizers.split(",") if s.strip()]
    unknown = [s for s in names if s not in OPTIMIZERS]
    if unknown:
        ap.error(f"unknown optimizer(s) {unknown}; choose from {list(OPTIMIZERS)}")

    if args.processes > 1:
        child = [a for a in (argv if argv is not None else sys.argv[1:])]
        child = common.drop_option(common.drop_option(child, "--processes"), "--json")
        runs = common.run_processes(os.path.abspath(__file__), child, args.processes)
        print_combined(runs)
        if args.json:
            common.write_json(args.json, runs)
        return

    torch = None if args.no_torch else common.optional_torch(threads=TORCH_THREADS)
    machine = common.machine_info(torch)
    init, grads = make_workload(args.size)
    n = args.size
    load = common.CpuLoad()

    if args.wait_quiet:
        common.wait_for_quiet(args.wait_quiet)
    bw = common.interleave(common.bandwidth_peers(n), args.repeat, args.warmup)
    bandwidth = {k: {"median_s": common.median(ts),
                     "gbps": common.gb_per_s(common.BANDWIDTH_BYTES[k] * n, common.median(ts))}
                 for k, ts in bw.items()}

    results = {}
    for name in names:
        results[name] = bench_optimizer(name, init, grads, torch, args.repeat, args.warmup,
                                        args.wait_quiet)
        gc.collect()  # free this optimizer's peers before the next one allocates

    sweep, sweep_others = {}, {}
    if not args.no_sweep:
        # 1,024 … 1,048,576 (all in cache), then the workload's size (from memory)
        sizes = [1 << k for k in range(10, 21)] + ([n] if n > 1 << 20 else [])
        sweep, sweep_others = sweep_kernels(sizes, max(11, args.repeat), args.wait_quiet)

    machine["numba_threading_layer"] = common.numba_threading_layer()
    res = {"machine": machine, "size": n,
           "shapes": [list(a.shape) for a in init], "repeat": args.repeat,
           "warmup": args.warmup, "bandwidth": bandwidth, "optimizers": results,
           "sweep": sweep, "sweep_others_cpu": sweep_others,
           "peak_rss_mib": common.peak_rss_mib(),
           "others_cpu": load.others()}
    print_run(res)
    if args.json:
        common.write_json(args.json, res)


if __name__ == "__main__":
    main()
