"""GPU benchmarks: minigrad's CUDA backend against PyTorch on the same GPU, in one run.

Workloads (float32; PyTorch with TF32 off, so that both compute in full FP32):

| name   | what                                                                     |
|--------|--------------------------------------------------------------------------|
| mm     | C = A B at 1024³ and 4096³, and the three products of one layer of the   |
|        | MNIST-sized MLP (256×784 · 784ᵀ×512 forward, its ∂W and ∂x): TFLOP/s      |
| mnist  | a training step of 784-512-256-10 ReLU, cross-entropy, batch 256, Adam    |
|        | (``workloads.py``'s W3), on the GPU; and minigrad's step on this machine's |
|        | CPU in the same run: the GPU-over-CPU speed-up                            |
| wide   | a training step of 1024-4096-4096-10 ReLU, batch 4096, SGD with momentum   |
| adam   | one Adam step over 10M parameters (``optim_step.py``'s shapes)            |

GPU work is asynchronous: every sample launches its work and then waits for the
GPU (``cuda.synchronize()``, ``torch.cuda.synchronize()``) before the clock stops.
Peers run interleaved, round-robin, after warm-up rounds (numba compiles its
kernels on first launch); figures are medians over the rounds.

    python benchmarks/gpu.py                    # everything, a minute or two on an H100
    python benchmarks/gpu.py --workloads mm,mnist --repeat 20 --json out.json
    python benchmarks/gpu.py --smoke            # tiny sizes: checks that the script
                                                # runs (also on numba's CUDA simulator)
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402  (puts the checkout on sys.path)
import workloads  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad.backend import get_backend  # noqa: E402


def gpu_torch():
    """PyTorch with a usable GPU and TF32 off, or None."""
    torch = common.optional_torch()
    if torch is None or not torch.cuda.is_available():
        return None
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    return torch


def synced(fn, sync, calls=1):
    """A sample: ``calls`` launches of fn, then wait for the GPU to finish them."""
    def run():
        for _ in range(calls):
            fn()
        sync()
    return run


def time_peers(peers, sync_of, args, calls=1):
    """name -> median seconds per call; peers interleaved round-robin, after untimed
    rounds (numba compiles each kernel at its first launch): 3, or 1 with --smoke."""
    samples = {name: synced(fn, sync_of[name], calls) for name, fn in peers.items()}
    times = common.interleave(samples, args.repeat, 1 if args.smoke else 3)
    return {name: common.median(ts) / calls for name, ts in times.items()}


# ---- mm: matrix products --------------------------------------------------------------------


def mm_shapes(smoke):
    if smoke:
        return [("square 16", 16, 16, 16)]
    return [("square 1024", 1024, 1024, 1024), ("square 4096", 4096, 4096, 4096),
            ("mnist layer 1: x Wᵀ", 256, 784, 512), ("mnist layer 1: δᵀ x", 512, 256, 784),
            ("mnist layer 2: δ W", 256, 256, 512)]


def bench_mm(torch, args):
    from numba import cuda
    from minigrad.kernels.cuda import matmul as D

    rows = []
    rng = np.random.default_rng(0)
    for label, m, k, n in mm_shapes(args.smoke):
        a, b = rng.standard_normal((m, k), np.float32), rng.standard_normal((k, n), np.float32)
        da, db, dc = cuda.to_device(a), cuda.to_device(b), cuda.device_array((m, n), np.float32)
        peers = {"minigrad": lambda: D.matmul(da, db, dc)}
        sync_of = {"minigrad": cuda.synchronize}
        if torch is not None:
            ta, tb = torch.from_numpy(a).cuda(), torch.from_numpy(b).cuda()
            tc = torch.empty((m, n), device="cuda")
            peers["PyTorch"] = lambda: torch.matmul(ta, tb, out=tc)
            sync_of["PyTorch"] = torch.cuda.synchronize
        D.matmul(da, db, dc)
        err = float(np.max(np.abs(dc.copy_to_host() - a @ b)) / max(1.0, np.max(np.abs(a @ b))))
        t = time_peers(peers, sync_of, args, calls=1 if args.smoke else 5)
        flops = 2.0 * m * k * n
        rows.append(dict(label=label, shape=(m, k, n), err=err,
                         **{f"{p} ms": s * 1e3 for p, s in t.items()},
                         **{f"{p} TFLOP/s": flops / s / 1e12 for p, s in t.items()}))
    return rows


# ---- training steps ---------------------------------------------------------------------------


def step_workloads(smoke):
    W3 = workloads.WORKLOADS["w3"]
    W4 = workloads.WORKLOADS["w4"]
    import dataclasses
    if smoke:
        return {"mnist": dataclasses.replace(W3, sizes=(6, 4, 3), batch=4, n_batches=1),
                "wide": dataclasses.replace(W4, sizes=(5, 4, 3), batch=4, n_batches=1)}
    return {"mnist": W3, "wide": dataclasses.replace(W4, batch=4096, n_batches=2)}


def bench_step(name, w, torch, args):
    from numba import cuda
    weights, batches = workloads.init_weights(w), workloads.make_batches(w)
    peers = {"minigrad GPU": workloads.minigrad_peer(w, weights, batches, device="cuda")}
    sync_of = {"minigrad GPU": cuda.synchronize}
    if name == "mnist":
        peers["minigrad CPU"] = workloads.minigrad_peer(w, weights, batches, device="cpu")
        sync_of["minigrad CPU"] = lambda: None
    if torch is not None:
        peers["PyTorch GPU"] = workloads.torch_peer(torch, w, weights, batches, device="cuda")
        sync_of["PyTorch GPU"] = torch.cuda.synchronize
        if w.optimizer == "adam":
            peers["PyTorch GPU fused Adam"] = workloads.torch_peer(
                torch, w, weights, batches, fused=True, device="cuda")
            sync_of["PyTorch GPU fused Adam"] = torch.cuda.synchronize
    t = time_peers({p: peer.step for p, peer in peers.items()}, sync_of, args)
    # Every peer took the same number of steps from the same start: their losses agree.
    losses = {p: peer.loss() for p, peer in peers.items()}
    return dict(workload=w.describe(), ms={p: s * 1e3 for p, s in t.items()}, losses=losses)


# ---- adam: one optimizer step over 10M parameters ------------------------------------------------


def bench_adam(torch, args):
    from numba import cuda
    from minigrad import optim
    import optim_step

    total = 1_000 if args.smoke else 10_000_000
    shapes = optim_step.mlp_shapes(total)
    rng = np.random.default_rng(0)
    host = [rng.standard_normal(s, np.float32) for s in shapes]
    grads = [rng.standard_normal(s, np.float32) * np.float32(1e-2) for s in shapes]
    params = [mg.nn.Parameter(mg.tensor(h, device="cuda")) for h in host]
    opt = optim.Adam(params, lr=1e-3)
    for p, g in zip(params, grads):
        p.grad = mg.tensor(g, device="cuda")
    opt.step()                                    # grads now live in the flat buffer
    peers = {"minigrad": opt.step}
    sync_of = {"minigrad": cuda.synchronize}
    if torch is not None:
        for label, fused in [("PyTorch", None), ("PyTorch fused", True)]:
            tp = [torch.from_numpy(h).cuda().requires_grad_() for h in host]
            for p, g in zip(tp, grads):
                p.grad = torch.from_numpy(g).cuda()
            topt = torch.optim.Adam(tp, lr=1e-3, fused=fused)
            peers[label] = topt.step
            sync_of[label] = torch.cuda.synchronize
    t = time_peers(peers, sync_of, args)
    return dict(parameters=sum(h.size for h in host), ms={p: s * 1e3 for p, s in t.items()},
                gb_per_s={p: 28 * total / s / 1e9 for p, s in t.items()})


# ---- report ------------------------------------------------------------------------------------


def report(result):
    print(f"{result['date']}  {result['device']}")
    print(result["software"])
    if "mm" in result:
        print("\n### mm: matrix products, float32")
        rows = []
        for r in result["mm"]:
            ratio = (r["minigrad TFLOP/s"] / r["PyTorch TFLOP/s"]) if "PyTorch TFLOP/s" in r else None
            rows.append([r["label"], "×".join(map(str, r["shape"])), f"{r['minigrad ms']:.3f}",
                         f"{r.get('PyTorch ms', float('nan')):.3f}",
                         f"{r['minigrad TFLOP/s']:.2f}", f"{r.get('PyTorch TFLOP/s', float('nan')):.2f}",
                         "" if ratio is None else f"{ratio:.0%}", f"{r['err']:.1e}"])
        print(common.markdown_table(
            ["product", "m×k×n", "minigrad ms", "PyTorch ms", "minigrad TFLOP/s",
             "PyTorch TFLOP/s", "minigrad / PyTorch", "max rel. error"], rows))
    for name in ("mnist", "wide"):
        if name not in result:
            continue
        r = result[name]
        print(f"\n### {name}: {r['workload']}")
        base = r["ms"]["minigrad GPU"]
        rows = [[p, f"{ms:.3f}", f"{ms / base:.2f}", f"{r['losses'][p]:.6f}"]
                for p, ms in r["ms"].items()]
        print(common.markdown_table(["peer", "ms / step", "time / minigrad GPU's", "loss"], rows))
    if "adam" in result:
        r = result["adam"]
        print(f"\n### adam: one step over {r['parameters']:,} parameters")
        base = r["ms"]["minigrad"]
        rows = [[p, f"{ms:.3f}", f"{ms / base:.2f}", f"{r['gb_per_s'][p]:.0f}"]
                for p, ms in r["ms"].items()]
        print(common.markdown_table(["peer", "ms", "time / minigrad's", "GB/s (28 B/param)"], rows))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workloads", default="mm,mnist,wide,adam")
    p.add_argument("--repeat", type=int, default=15, help="interleaved rounds (default 15)")
    p.add_argument("--smoke", action="store_true", help="tiny sizes, to check the script runs")
    p.add_argument("--json", help="also write the result here")
    args = p.parse_args(argv)
    if not mg.cuda.is_available():
        sys.exit("benchmarks/gpu.py: no CUDA device (mg.cuda.is_available() is False)")
    from numba import config, cuda
    simulator = bool(config.ENABLE_CUDASIM)
    if simulator and not args.smoke:
        sys.exit("benchmarks/gpu.py: numba's CUDA simulator is not a GPU; use --smoke to "
                 "check the script there")
    get_backend("cuda")
    torch = gpu_torch()
    device = "CUDA simulator" if simulator else cuda.get_current_device().name
    if isinstance(device, bytes):
        device = device.decode()
    installed = common.optional_torch()
    info = common.machine_info(installed)
    peer = ("PyTorch not installed" if installed is None else
            f"PyTorch {installed.__version__} " + (
                f"(CUDA {torch.version.cuda}, TF32 off)" if torch is not None
                else "without a usable GPU: no PyTorch columns"))
    result = dict(date=info["date"], device=f"{device}; host {info['cpu']}",
                  software=f"numba {info['numba']}, numpy {info['numpy']}, {peer}")
    chosen = args.workloads.split(",")
    start = time.perf_counter()
    if "mm" in chosen:
        result["mm"] = bench_mm(torch, args)
    for name, w in step_workloads(args.smoke).items():
        if name in chosen:
            result[name] = bench_step(name, w, torch, args)
    if "adam" in chosen:
        result["adam"] = bench_adam(torch, args)
    result["seconds"] = time.perf_counter() - start
    report(result)
    if args.json:
        common.write_json(args.json, result)
    return result


if __name__ == "__main__":
    main()
