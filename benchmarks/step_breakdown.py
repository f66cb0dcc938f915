"""Where a training step's time goes beyond its matrix products.

``run.py`` compares a whole minigrad step with its own matrix products alone. This
splits the difference, in one process, with interleaved blocks (``common``):

- **step**: the minigrad step of ``run.py`` (forward, loss, backward, optimizer
  step, zero_grad);
- **step, update streams only**: the optimizer's kernel swapped for one that reads
  and writes the same arrays (parameters, gradients, state) with no arithmetic worth
  the name. What the update costs beyond this is its arithmetic; what this costs
  beyond the next row is moving its memory;
- **step, no update**: the optimizer's kernel swapped for a no-op, so the
  parameters never change (timing only: the loss stops moving);
- **its matmuls alone**: ``run.py``'s peer, the step's matrix products in NumPy.

So "no update − matmuls" is everything else in the step: Python, the autograd
engine, the activation, softmax and column-sum kernels, array allocation.

``--kernels`` splits the step the other way: every kernel of ``kernels.cpu`` is
wrapped in a timer, and each one's time per step (and calls per step) is printed
beside the step and its matmuls, so that whoever changes a kernel sees what it
costs where it runs, with the data in whatever cache the step leaves it. The timer
adds about a microsecond a call, which the step's row includes.

    python benchmarks/step_breakdown.py                    # W3, ~30 s
    python benchmarks/step_breakdown.py --workload w2 --rounds 12
    python benchmarks/step_breakdown.py --kernels          # W3, ~10 s

W4's steps take about a second, so each of its samples is one step and a few rounds
are noise (seen here: 4 rounds put "no update" above the whole step); give it
``--rounds 15`` or more.
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402  (puts the checkout on sys.path)
import workloads as W  # noqa: E402

from minigrad.kernels import cpu as K  # noqa: E402

# The optimizer kernel each workload's optimizer runs (and its ``_parallel`` twin, which
# the backend runs on large buckets), and which of its arguments are arrays of the
# parameters' length: what the update streams through memory.
KERNELS = {"adam": ("adam_step", (0, 1, 2, 3)), "sgd": ("sgd_step", (0, 1, 2))}


def streaming_twin(arrays, kernel):
    """A stand-in for an optimizer kernel: the same memory traffic, no update rule."""
    def twin(*args):
        a = [args[i] for i in arrays] + [np.empty(0, args[0].dtype)] * 2
        kernel(a[0], a[1], a[2], a[3], 0.0)
    return twin


def noop(*args):
    pass


def breakdown(name, rounds, settle_s, block_s):
    w = W.WORKLOADS[name]
    peer = W.minigrad_peer(w, W.init_weights(w), W.make_batches(w))
    matmuls = W.matmul_peer(w)
    kernel_name, arrays = KERNELS[w.optimizer]
    names = (kernel_name, kernel_name + "_parallel")   # the backend picks by bucket size
    original = tuple(getattr(K, n) for n in names)
    swaps = {"step": original,
             "step, update streams only": (streaming_twin(arrays, common.stream),
                                           streaming_twin(arrays, common.stream_parallel)),
             "step, no update": (noop, noop)}

    def with_kernel(kernels):
        def step():
            for n, kernel in zip(names, kernels):
                setattr(K, n, kernel)
            try:
                peer.step()
            finally:
                for n, kernel in zip(names, original):
                    setattr(K, n, kernel)
        return step

    peers = {label: with_kernel(kernels) for label, kernels in swaps.items()}
    peers["its matmuls alone"] = matmuls
    for step in peers.values():          # compile and warm everything, untimed
        step()
    samples = common.interleave_blocks(peers, rounds, settle_s=settle_s, block_s=block_s,
                                       sample_s=0 if w.name == "w4" else 2e-3)
    return w, {label: statistics.median(s) for label, s in samples.items()}


def kernel_tables():
    """Where the CPU backend finds its kernels, as (namespace, names) pairs: the
    ``kernels.cpu`` package (looked up at each call), and the backend's tables of the
    kernels built per activation (``KernelTable``: minigrad/backend/dispatch.py),
    which hold them directly, keyed by activation code.

    Public names only: a kernel's helpers (``activate``…) are looked up when numba
    compiles, and must stay what they are there."""
    import minigrad.backend.cpu as B
    from minigrad.backend.dispatch import KernelTable
    tables = [(vars(K), K.__all__)]
    tables += [(t, list(t)) for t in vars(B).values() if isinstance(t, KernelTable)]
    return tables


def timed_kernels(totals):
    """Wrap every kernel the backend can call in a timer that adds its time and one
    call to ``totals[kernel name]`` (a [seconds, calls] pair; a kernel built for an
    activation is named after both, ``linear_forward[sigmoid]``); returns a function
    that puts the kernels back. Run what is to be timed once before: a kernel
    compiled (or built for an activation) while others are wrapped would not be
    the one a user runs."""
    from minigrad.kernels.activations import NAMES
    act_names = {code: name for name, code in NAMES.items()}
    undo = []
    for table, names in kernel_tables():
        for key in names:
            kernel = table[key]
            if not hasattr(kernel, "py_func"):
                continue
            name = kernel.__name__ if isinstance(key, str) else f"{kernel.__name__}[{act_names[key]}]"
            entry = totals.setdefault(name, [0.0, 0])

            def timed(*args, _kernel=kernel, _entry=entry):
                t = time.perf_counter()
                _kernel(*args)
                _entry[0] += time.perf_counter() - t
                _entry[1] += 1
            table[key] = timed
            undo.append((table, key, kernel))

    def restore():
        for table, key, kernel in undo:
            table[key] = kernel
    return restore


def kernel_split(name, rounds, settle_s, block_s):
    """Each kernel's time and calls per step inside minigrad's step, with the step
    (its kernels timed) and its matmuls alone, interleaved."""
    w = W.WORKLOADS[name]
    peer = W.minigrad_peer(w, W.init_weights(w), W.make_batches(w))
    matmuls = W.matmul_peer(w)
    peer.step()      # compile or load every kernel first, then wrap them
    matmuls()
    totals, steps = {}, [0]
    restore = timed_kernels(totals)
    try:
        def step():
            peer.step()
            steps[0] += 1
        peers = {"step, its kernels timed": step, "its matmuls alone": matmuls}
        samples = common.interleave_blocks(peers, rounds, settle_s=settle_s, block_s=block_s,
                                           sample_s=0 if w.name == "w4" else 2e-3)
    finally:
        restore()
    n = steps[0]
    per_step = {k: (s / n, c / n) for k, (s, c) in totals.items() if c}
    return w, {label: statistics.median(s) for label, s in samples.items()}, per_step


def print_kernel_split(args):
    w, med, per_step = kernel_split(args.workload, args.rounds, args.settle, args.block)
    step, mm = med["step, its kernels timed"], med["its matmuls alone"]
    kernels = sum(t for t, _ in per_step.values())
    rows = [[label, "", f"{t * 1e3:.3f}", f"{t / step * 100:.1f}%"]
            for label, t in (("step, its kernels timed", step), ("its matmuls alone", mm))]
    rows += [[f"`{k}`", f"{c:g}", f"{t * 1e3:.3f}", f"{t / step * 100:.1f}%"]
             for k, (t, c) in sorted(per_step.items(), key=lambda kv: -kv[1][0])]
    rows.append(["the rest: matmuls, Python, autograd", "",
                 f"{(step - kernels) * 1e3:.3f}", f"{(step - kernels) / step * 100:.1f}%"])
    print(f"\n### {w.describe()}: the step's kernels (each kernel: its mean over every "
          f"step run; the step and the matmuls: median of {args.rounds} interleaved rounds)")
    print(common.markdown_table(["", "calls / step", "ms / step", "of the step"], rows))
    print(f"the kernels take {kernels * 1e3:.3f} ms a step; the step beyond its matmuls "
          f"and its kernels, {(step - mm - kernels) * 1e3:+.3f} ms")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workload", default="w3", choices=sorted(W.WORKLOADS))
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--settle", type=float, default=0.3)
    ap.add_argument("--block", type=float, default=0.3)
    ap.add_argument("--kernels", action="store_true",
                    help="time each kernel inside the step instead")
    args = ap.parse_args(argv)
    print(common.format_machine(common.machine_info()))
    if args.kernels:
        print_kernel_split(args)
        return
    load = common.CpuLoad()
    w, med = breakdown(args.workload, args.rounds, args.settle, args.block)
    mm = med["its matmuls alone"]
    rows = [[label, f"{t * 1e3:.3f}", f"{t / mm:.3f}"] for label, t in med.items()]
    print(f"\n### {w.describe()}: median of {args.rounds} interleaved rounds")
    print(common.markdown_table(["peer", "ms / step", "/ its matmuls"], rows))
    step, streams, none = (med[k] for k in ("step", "step, update streams only",
                                            "step, no update"))
    print(f"the update's arithmetic {(step - streams) * 1e3:+.3f} ms, its memory traffic "
          f"{(streams - none) * 1e3:+.3f} ms, the rest of the step beyond the matmuls "
          f"{(none - mm) * 1e3:+.3f} ms; other processes used "
          f"{load.others() * 100 if load.others() is not None else float('nan'):.0f}% "
          f"of the CPUs")


if __name__ == "__main__":
    main()
