"""The benchmark scripts run: each is executed with tiny settings (the figures they
print are not checked here; benchmarks/RESULTS.md reports them from full runs)."""

import importlib.util
import pathlib
import re
import sys

BENCHMARKS = pathlib.Path(__file__).resolve().parent.parent / "benchmarks"


def load(name):
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_benchmark_runs_with_smoke_sizes(tmp_path, capsys):
    # On a GPU this runs there; elsewhere on numba's CUDA simulator (tests/conftest.py).
    out = tmp_path / "gpu.json"
    result = load("gpu").main(["--smoke", "--repeat", "1", "--json", str(out)])
    printed = capsys.readouterr().out
    for heading in ("### mm", "### mnist", "### wide", "### adam"):
        assert heading in printed
    assert out.stat().st_size > 0
    # every peer of a training step computed the same loss from the same start
    for name in ("mnist", "wide"):
        losses = list(result[name]["losses"].values())
        assert max(losses) - min(losses) < 1e-4 * max(1.0, abs(losses[0]))


def test_dense_small_sweep_runs(capsys):
    load("dense_small").main(["--repeat", "1"])
    printed = capsys.readouterr().out
    assert "| 4×2×8" in printed and "SMALL_LINEAR" in printed


def test_step_breakdown_runs(capsys):
    load("step_breakdown").main(["--workload", "w1", "--rounds", "1", "--settle", "0",
                                 "--block", "0.01"])
    printed = capsys.readouterr().out
    for row in ("| step ", "| step, update streams only", "| step, no update",
                "| its matmuls alone"):
        assert row in printed
    assert "its memory traffic" in printed


def test_step_breakdown_times_each_kernel_of_the_step_and_puts_them_back(capsys):
    sb = load("step_breakdown")
    before = {id(table): dict(table) for table, _ in sb.kernel_tables()}
    sb.main(["--kernels", "--workload", "w1", "--rounds", "1", "--settle", "0",
             "--block", "0.01"])
    printed = capsys.readouterr().out
    # W1 is two layers small enough for the one-call dense kernels, a BCE-with-logits
    # loss and SGD over one flat buffer: so many calls to each, per step (a kernel
    # built for an activation has a row per activation: `linear_forward[tanh]`).
    calls = {"linear_forward": 2, "linear_backward": 2, "bce_logits_forward": 1,
             "bce_logits_backward": 1, "sgd_step": 1}
    for kernel, n in calls.items():
        rows = re.findall(rf"\| `{kernel}(?:\[\w+\])?` +\| +(\d+) \|", printed)
        assert sum(map(int, rows)) == n, kernel
    assert "| the rest: matmuls, Python, autograd" in printed
    after = {id(table): dict(table) for table, _ in sb.kernel_tables()}
    assert after == before


def test_start_breakdown_splits_a_warm_start_into_phases_that_add_up():
    runs = load("start_breakdown").breakdown(sys.executable, rounds=1, quiet_s=0)
    for freeze in (False, True):
        (phases,) = runs[freeze]
        named = [v for k, v in phases.items() if k != "total"]
        assert all(v > 0 for v in named)
        # The phases tile the run from launch to exit but for the moments between
        # them: the atexit handlers that run before the last one.
        assert 0.9 * phases["total"] < sum(named) <= phases["total"]


def test_start_times_runs_xor_and_the_floor_under_both_interpreters():
    # One round; the second interpreter is this one, so both sides see the same packages.
    out = load("run").start_times("unset", 0.0, rounds=1, core_python=sys.executable)
    assert out["cold"]["wall_s"] > 0
    for label in ("warm", "warm_bytecode", "numba_floor", "warm_core", "numba_floor_core"):
        assert out[label]["wall_s"] > 0 and len(out[label]["samples_s"]) == 1
    assert out["cold"]["last_line"].startswith("[1.0, 1.0] -> ")  # xor.py ran to its end
    assert out["cache_files"] > 0
    scipy = importlib.util.find_spec("scipy") is not None
    assert out["scipy"] == {"this": scipy, "core": scipy}
