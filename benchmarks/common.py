"""Helpers shared by the benchmarks: machine facts, optional peers, timing, memory,
bandwidth limits, tables, and repeating a benchmark in separate processes.

Timing rules (DESIGN.md, "Measuring"): every contestant of a workload runs in one
process, interleaved round-robin, so that a noisy neighbour slows them all alike;
each is warmed up first (numba compiles, PyTorch allocates its state), and the
figure reported is the median over the rounds. Ratios from one run are the result;
absolute times move from machine to machine and from minute to minute.
"""

import datetime
import gc
import importlib.util
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc

import numba
import numpy as np
from numba import njit, prange

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # run from a checkout without installing: kernels/ and minigrad/
    sys.path.insert(0, ROOT)


# ---- optional peers ------------------------------------------------------------------

def optional_torch(threads=None):
    """PyTorch if it is installed (with ``threads`` intra-op threads), else None.

    PyTorch is a peer to compare against, never a dependency: every benchmark must
    run, and skip its PyTorch columns, without it.
    """
    try:
        import torch
    except ImportError:
        return None
    if threads is not None:
        torch.set_num_threads(threads)
    return torch


# ---- machine facts --------------------------------------------------------------------

def cpu_model():
    """The CPU's model name from /proc/cpuinfo (the platform's string elsewhere)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def numba_threading_layer():
    """numba's threading layer (omp, tbb, workqueue), known once a parallel kernel ran."""
    try:
        return numba.threading_layer()
    except ValueError:
        return "not yet chosen"


# Environment variables that change how many threads run, or how they wait, or which
# BLAS kernels run: a result means little without them.
THREAD_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
              "NUMBA_NUM_THREADS", "NUMBA_THREADING_LAYER", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT")


def blas_info():
    """The BLAS libraries loaded in this process, as threadpoolctl sees them: name,
    version, the kernels' architecture (what OPENBLAS_CORETYPE selects) and thread
    count; None without threadpoolctl. Import NumPy (and PyTorch) first."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return [{k: lib.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for lib in threadpool_info() if lib.get("user_api") == "blas"]


def has_scipy(python):
    """Whether ``python`` can import SciPy (numba imports it at start-up when it can)."""
    probe = "import importlib.util as u; print(u.find_spec('scipy') is not None)"
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True)
    return done.stdout.strip() == "True"


def machine_info(torch=None):
    """What a reader needs to compare a result with theirs: date, CPU, cores, thread
    counts, the BLAS core-type override and the versions of everything timed. Call it
    when the run starts; numba's threading layer is only known after a parallel
    kernel has run (update it from ``numba_threading_layer()`` then)."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "numba_threads": numba.get_num_threads(),
        "numba_threading_layer": numba_threading_layer(),
        "torch": torch.__version__ if torch is not None else None,
        "torch_threads": torch.get_num_threads() if torch is not None else None,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "env": {k: os.environ[k] for k in THREAD_ENV if k in os.environ},
        "blas": blas_info(),
        "loadavg": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def format_machine(info):
    if info["torch"]:
        torch = f"torch {info['torch']} ({info['torch_threads']} threads)"
    else:   # a script that times no PyTorch peer passes none, installed or not
        torch = ("torch not used" if importlib.util.find_spec("torch") is not None
                 else "torch not installed")
    blas = "".join(f", NumPy's BLAS: {b['internal_api']} {b['version']} "
                   f"({b['architecture']} kernels, {b['num_threads']} threads)"
                   for b in (info.get("blas") or [])[:1])
    return (f"{info['date']}  {info['cpu']}, {info['cores']} cores "
            f"({info['usable_cores']} usable)\n"
            f"python {info['python']}, numpy {info['numpy']}, numba {info['numba']} "
            f"({info['numba_threads']} threads, {info['numba_threading_layer']} layer), "
            f"{torch}, OPENBLAS_CORETYPE={info['OPENBLAS_CORETYPE']}{blas}")


class CpuLoad:
    """How busy the machine was between two snapshots, apart from this process.

    ``others`` is the share of all CPUs' time that other processes (and the
    hypervisor, as steal time) used: on a shared machine a benchmark's numbers
    are only as good as this is small. Linux only (None elsewhere).
    """

    def __init__(self):
        self.wall, self.busy, self.own = time.monotonic(), _busy_cpu_s(), _own_cpu_s()

    def others(self):
        """Share of the CPUs used by others since this snapshot, 0…1 (or None)."""
        busy = _busy_cpu_s()
        if busy is None or self.busy is None:
            return None
        wall = time.monotonic() - self.wall
        other = (busy - self.busy) - (_own_cpu_s() - self.own)
        return min(1.0, max(0.0, other / (wall * (os.cpu_count() or 1))))


def _busy_cpu_s():
    """Seconds all CPUs have spent busy (user, nice, system, irq, softirq, steal)."""
    try:
        with open("/proc/stat") as f:
            user, nice, system, idle, iowait, irq, softirq, steal = map(
                int, f.readline().split()[1:9])
    except (OSError, ValueError):
        return None
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_cpu_s():
    r, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime


def wait_for_quiet(max_wait_s, threshold=0.1, window_s=1.0):
    """Wait, up to ``max_wait_s``, for a ``window_s`` during which other processes use
    less than ``threshold`` of the CPUs; returns their share in the last window
    (None where it cannot be measured). On a shared machine, it lets a benchmark
    start its timing in a quiet moment instead of in the middle of someone's build.
    """
    deadline = time.monotonic() + max_wait_s
    while True:
        load = CpuLoad()
        time.sleep(window_s)
        share = load.others()
        if share is None or share < threshold or time.monotonic() >= deadline:
            return share


# ---- timing -----------------------------------------------------------------------------

def interleave(peers, repeat, warmup=2):
    """Time each callable of ``peers`` (name -> fn) ``repeat`` times, round-robin.

    Every round calls each peer once, starting one further along the list than
    the round before, so that no peer always runs right after the same other one.
    ``warmup`` untimed rounds come first. Garbage collection is off while timing,
    as in ``timeit``. Returns name -> list of seconds.
    """
    names = list(peers)
    times = {name: [] for name in names}
    enabled = gc.isenabled()
    gc.disable()
    try:
        for r in range(warmup + repeat):
            for k in range(len(names)):
                name = names[(r + k) % len(names)]
                fn = peers[name]
                t0 = time.perf_counter()
                fn()
                t1 = time.perf_counter()
                if r >= warmup:
                    times[name].append(t1 - t0)
    finally:
        if enabled:
            gc.enable()
    return times


def calls_per_sample(fn, target_s=2e-3, max_calls=1 << 16):
    """How many back-to-back calls of fn take about ``target_s`` (for timing calls
    shorter than the clock's resolution and the loop around them)."""
    fn()
    calls = 1
    while calls < max_calls:
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        if time.perf_counter() - t0 >= target_s:
            break
        calls *= 2
    return calls


def interleave_short(peers, repeat, target_s=2e-3, warmup=2):
    """``interleave`` for calls of microseconds: each sample runs a peer ``calls``
    times back to back (the same count for every peer, so each sample is as long
    as about ``target_s`` of the slowest) and records seconds per call."""
    calls = min(calls_per_sample(fn, target_s) for fn in peers.values())

    def looped(fn):
        def run():
            for _ in range(calls):
                fn()
        return run

    times = interleave({name: looped(fn) for name, fn in peers.items()}, repeat, warmup)
    return {name: [t / calls for t in ts] for name, ts in times.items()}


def interleave_blocks(peers, rounds, settle_s=0.25, block_s=0.25, sample_s=2e-3, lockstep=()):
    """``interleave`` for peers that each run their own thread pools (BLAS's, numba's
    OpenMP, PyTorch's): each round gives each peer, round-robin, one block.

    Between two peers, the threads the first left spinning (OpenBLAS's idle threads
    keep polling for ~0.1–0.3 s, OpenMP's for a few ms) take cores from the second: on
    2 cores the calls after a switch can cost milliseconds more, which none of them
    pays in a program of its own. So a block first waits ``settle_s`` (busy, so the
    CPU does not go idle), makes one untimed sample of calls, then times samples of
    ``calls`` back-to-back calls, as many as last about ``sample_s`` (at least 1;
    exactly 1 when ``sample_s`` is 0, for calls of a second or so, and then no
    untimed sample either), for about ``block_s``. A peer's own thread pools
    getting in each other's way within its calls is what it costs its users, and
    stays in. Peers named in ``lockstep`` (training steps that must stay at the same
    step count) all make the same number of calls per block, sized by the slowest
    of them; the others fill ``block_s``. Garbage collection is off within a block
    and runs between blocks. Returns name -> list of seconds per call, one per sample.
    """
    names = list(peers)
    est = {}
    for name in names:      # 3 calls each, the same for all: lockstep peers stay in step
        ts = []
        for _ in range(3):
            t0 = time.perf_counter()
            peers[name]()
            ts.append(time.perf_counter() - t0)
        est[name] = max(min(ts), 1e-9)

    def calls_for(t):
        return 1 if sample_s <= 0 else max(1, int(sample_s / t + 0.5))

    calls = {name: calls_for(est[name]) for name in names}
    samples = {name: None for name in names}        # None: fill block_s
    locked = [name for name in names if name in lockstep]
    if locked:
        slowest = max(est[name] for name in locked)
        c = calls_for(slowest)
        n = max(1, int(block_s / (c * slowest) + 0.5))
        for name in locked:
            calls[name], samples[name] = c, n

    times = {name: [] for name in names}
    enabled = gc.isenabled()
    try:
        for r in range(rounds):
            for k in range(len(names)):
                name = names[(r + k) % len(names)]
                fn, n = peers[name], calls[name]
                gc.collect()
                gc.disable()
                t_end = time.perf_counter() + settle_s
                while time.perf_counter() < t_end:
                    pass
                if sample_s > 0:
                    for _ in range(n):
                        fn()
                t_end = time.perf_counter() + block_s
                taken = 0
                while True:
                    t0 = time.perf_counter()
                    for _ in range(n):
                        fn()
                    t1 = time.perf_counter()
                    times[name].append((t1 - t0) / n)
                    taken += 1
                    if (taken >= samples[name]) if samples[name] else (t1 >= t_end):
                        break
                gc.enable()
    finally:
        if enabled:
            gc.enable()
        else:
            gc.disable()
    return times


def median(xs):
    return statistics.median(xs)


# ---- memory -------------------------------------------------------------------------------

def peak_rss_mib():
    """The process's peak resident memory so far, in MiB (Linux reports KiB)."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024 if sys.platform != "darwin" else kib / 2**20


def _proc_status_kib(field):
    """A ``VmRSS``/``VmHWM``-style field of /proc/self/status in KiB (None if absent)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def rss_mib():
    """The process's resident memory now, in MiB (None where /proc is missing)."""
    kib = _proc_status_kib("VmRSS")
    return None if kib is None else kib / 1024


def trim_heap():
    """Collect garbage and hand the C heap's free memory back to the OS (glibc), so
    that the resident memory measured next is what is live."""
    gc.collect()
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def reset_peak_rss():
    """Restart the kernel's peak-RSS count (VmHWM) at the current RSS (Linux ≥ 4.0,
    /proc/self/clear_refs); False where that is not possible, in which case only the
    whole process's peak (``peak_rss_mib``) is known."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return _proc_status_kib("VmHWM") is not None


def peak_rss_since_reset_mib():
    """Peak resident memory since ``reset_peak_rss()``, in MiB."""
    kib = _proc_status_kib("VmHWM")
    return None if kib is None else kib / 1024


def traced_peak_mib(fn):
    """Peak MiB that Python and NumPy allocate while fn() runs, above what was live
    before (temporaries included). PyTorch's allocator and numba's own allocations
    outside NumPy arrays are not seen."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


# ---- bandwidth limits -------------------------------------------------------------------------

@njit(cache=True, parallel=True)
def triad(a, b, c, s):
    """a[i] = b[i] + s·c[i] on all threads (STREAM's triad: 2 reads, 1 write)."""
    for i in prange(a.shape[0]):
        a[i] = b[i] + s * c[i]


@njit(cache=True, parallel=True)
def axpy_inplace(a, b, s):
    """a[i] += s·b[i] on all threads: 2 reads, 1 write back where it was read, the
    access pattern of an in-place optimizer update."""
    for i in prange(a.shape[0]):
        a[i] += s * b[i]


# An optimizer update's memory traffic without its arithmetic (step_breakdown.py). Here
# rather than in that script: a kernel cached from a script run as __main__, or loaded
# under another name (tests/test_benchmarks.py), names a module that the next process
# cannot import, and numba's cache then fails to load it.
@njit(cache=True)
def stream(param, grad, state1, state2, tiny):
    """Read grad, read and write param and the states, as an update does, with one
    multiply-add per array (``tiny`` is 0 at run time, unknown to the compiler, so
    none of it can be left out)."""
    has1, has2 = state1.shape[0] > 0, state2.shape[0] > 0
    for i in range(param.shape[0]):
        g = tiny * grad[i]
        param[i] += g
        if has1:
            state1[i] += g
        if has2:
            state2[i] += g


@njit(cache=True, parallel=True)
def stream_parallel(param, grad, state1, state2, tiny):
    """stream, in chunks on all threads: the twin of an update's ``*_parallel`` kernel.
    (A length-0 state sliced stays length 0.)"""
    n, parts = param.shape[0], 64
    for c in prange(parts):
        lo, hi = n * c // parts, n * (c + 1) // parts
        stream(param[lo:hi], grad[lo:hi], state1[lo:hi], state2[lo:hi], tiny)


# Bytes each moves per element of float32, counted as STREAM counts them: the arrays
# the loop names, once each. A store to an array that was not read first also
# costs a read of its cache line (write-allocate), which this does not count: so
# the triad and the copy move more than they are credited with, and an in-place
# update, whose stores all go to lines it has just read, does not.
BANDWIDTH_BYTES = {"numba triad": 12, "numba a += s·b": 12, "np.copyto": 8}


def bandwidth_peers(n, dtype=np.float32, seed=0):
    """name -> fn over three fresh arrays of n elements, for ``BANDWIDTH_BYTES``."""
    rng = np.random.default_rng(seed)
    a = np.zeros(n, dtype)
    b = rng.standard_normal(n, dtype=np.float32).astype(dtype, copy=False)
    c = rng.standard_normal(n, dtype=np.float32).astype(dtype, copy=False)
    s = dtype(1e-7)  # tiny, so a += s·b repeated does not overflow
    return {
        "numba triad": lambda: triad(a, b, c, s),
        "numba a += s·b": lambda: axpy_inplace(a, b, s),
        "np.copyto": lambda: np.copyto(a, b),
    }


def gb_per_s(nbytes, seconds):
    return nbytes / seconds / 1e9


# ---- output -----------------------------------------------------------------------------------

def markdown_table(headers, rows, align=None):
    """A GitHub markdown table; ``align`` is a string of 'l'/'r' per column."""
    align = align or "l" + "r" * (len(headers) - 1)
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]

    def line(items):
        return "| " + " | ".join(
            s.ljust(w) if a == "l" else s.rjust(w) for s, w, a in zip(items, widths, align)) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if a == "r" else ("-" * (w + 2))
                          for w, a in zip(widths, align)) + "|"
    return "\n".join([line(headers), rule] + [line(r) for r in cells])


# ---- repeating in separate processes ----------------------------------------------------------

def run_processes(script, argv, n):
    """Run ``python script *argv --json FILE`` n times, one after the other, each in a
    fresh process (a new allocation of memory, a new draw of the machine's noise);
    returns the n JSON results. The children's output goes to stderr, so that the
    parent's stdout holds only the combined result."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(n):
            path = os.path.join(tmp, f"run{k}.json")
            print(f"--- process {k + 1} of {n} ---", file=sys.stderr, flush=True)
            subprocess.run([sys.executable, script, *argv, "--json", path],
                           check=True, stdout=sys.stderr)
            with open(path) as f:
                results.append(json.load(f))
    return results


def spread(values):
    """(median, min, max) of the per-process figures."""
    return statistics.median(values), min(values), max(values)


def cell(values, f):
    """One figure per process, formatted with f: the median, then [min–max] when
    there are several."""
    med, lo, hi = spread(values)
    return f(med) if len(values) == 1 else f"{f(med)} [{f(lo)}–{f(hi)}]"


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)


def drop_option(argv, option):
    """argv without ``option`` and its value (given as two words or as option=value)."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == option:
            skip = True
        elif not a.startswith(option + "="):
            out.append(a)
    return out
