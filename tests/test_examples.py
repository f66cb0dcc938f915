"""Smoke tests: each example runs end to end with tiny settings and returns sensible results.

The examples folder is not a package, so each script is loaded from its path.
"""

import importlib.util
import math
import pathlib
import sys

import numpy as np
import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
N_DIGITS = 1797
N_TRAIN = N_DIGITS - math.ceil(0.2 * N_DIGITS)  # train_test_split's test part is ceil(0.2·N)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def load_example(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_pngs(paths, folder):
    assert paths, "no figures written"
    for path in map(pathlib.Path, paths):
        assert path.parent == folder
        assert path.stat().st_size > 0
        assert path.read_bytes()[:8] == PNG_SIGNATURE


def test_xor_example_learns_xor():
    probabilities = load_example("xor").main([])
    assert np.array_equal(probabilities > 0.5, [False, True, True, False])


def test_xor_example_on_the_gpu_computes_what_it_does_on_the_cpu():
    # On numba's CUDA simulator where there is no GPU: a few steps only.
    xor = load_example("xor")
    np.testing.assert_allclose(xor.main(["--device", "cuda", "--steps", "5"]),
                               xor.main(["--steps", "5"]), rtol=1e-5)


def test_train_mlp_two_epochs_beats_chance():
    accuracy = load_example("train_mlp").main(["--epochs", "2"])
    assert accuracy > 0.8  # 10 classes: chance is 0.1


def test_train_mlp_on_the_gpu_reaches_the_accuracy_it_reaches_on_the_cpu():
    # A few samples, one step per epoch and a narrow layer keep it quick on the CUDA
    # simulator (the test set is whole).
    args = ["--subset", "100", "--epochs", "1", "--batch-size", "100", "--hidden", "8",
            "--lr", "0.5"]
    train_mlp = load_example("train_mlp")
    assert train_mlp.main(args + ["--device", "cuda"]) == train_mlp.main(args)


def test_optimizers_example_tables(tmp_path):
    epochs = 2
    results = load_example("optimizers").main(
        ["--epochs", str(epochs), "--no-plots", "--out", str(tmp_path)])
    assert results["figures"] == [] and list(tmp_path.iterdir()) == []

    runs = {r["name"]: r for r in results["digits"]}
    # REFERENCE.md's count: one update per epoch (full batch), N (stochastic), N/b (mini-batch).
    per_epoch = math.ceil(N_TRAIN / 32)
    assert runs["GD, mini-batch"]["updates"] == epochs * per_epoch
    assert runs["GD, stochastic"]["updates"] == epochs * N_TRAIN
    full_batch = runs["GD, full batch"]
    assert full_batch["updates"] == full_batch["epochs"] == epochs * per_epoch
    for r in results["digits"]:
        assert r["accuracy"] > 0.3, r["name"]  # three times chance, after a few updates
        assert r["loss"] < r["losses"][0], r["name"]  # the training loss went down
        assert len(r["losses"]) == r["epochs"] + 1

    quadratic, rosenbrock = results["surfaces"]
    # SGD's lr (0.07) is just under 2/25, so each step multiplies y by 1 − 0.07·25 = −0.75:
    # the zig-zag across the valley. Momentum's averaged steps do not flip every time.
    y_sgd = quadratic["paths"]["SGD"][:11, 1]
    np.testing.assert_allclose(y_sgd, 2.0 * (-0.75) ** np.arange(11), rtol=1e-5)
    flips = np.sum(np.diff(np.sign(quadratic["paths"]["momentum"][:11, 1])) != 0)
    assert flips <= 2
    for name, path in quadratic["paths"].items():
        assert np.linalg.norm(path[-1]) < np.linalg.norm(path[0]), name
    assert np.linalg.norm(rosenbrock["paths"]["Adam"][-1] - [1.0, 1.0]) < 0.05


def test_optimizers_example_writes_pngs(tmp_path):
    pytest.importorskip("matplotlib")
    results = load_example("optimizers").main(["--epochs", "1", "--out", str(tmp_path)])
    assert [pathlib.Path(p).name for p in results["figures"]] == [
        "optimizers_loss.png", "optimizers_paths.png"]
    assert_pngs(results["figures"], tmp_path)


def test_lr_schedules_example_follows_each_rule(tmp_path):
    lr0, epochs = 0.1, 3
    results = load_example("lr_schedules").main(
        ["--epochs", str(epochs), "--lr", str(lr0), "--no-plots", "--out", str(tmp_path)])
    assert results["figures"] == [] and list(tmp_path.iterdir()) == []

    runs = {r["name"]: r for r in results["runs"]}
    t = np.arange(epochs)
    # The rate used in epoch t, from REFERENCE.md's formulas with the example's constants
    # for a 3-epoch run (StepLR every epoch//3 = 1, LinearLR down to 0.05 over 2 epochs).
    expected = {
        "constant": lr0 * np.ones(epochs),
        "StepLR": lr0 * 0.1 ** t,
        "ExponentialLR": lr0 * 0.9 ** t,
        "LinearLR": lr0 * (1 - 0.95 * np.minimum(t, 2) / 2),
        "InverseTimeLR": lr0 / (1 + 0.5 * t),
        "CosineAnnealingLR": lr0 * (1 + np.cos(np.pi * t / epochs)) / 2,
        "LambdaLR": lr0 * np.minimum((t + 1) / 3, np.sqrt(3 / (t + 1))),
    }
    for name, lrs in expected.items():
        np.testing.assert_allclose(runs[name]["lrs"], lrs, rtol=1e-12, err_msg=name)
        assert runs[name]["final_lr"] == pytest.approx(lrs[-1], rel=1e-12)
    plateau = runs["ReduceLROnPlateau"]["lrs"]
    assert plateau[0] == lr0 and all(b <= a for a, b in zip(plateau, plateau[1:]))
    assert set(runs) == set(expected) | {"ReduceLROnPlateau"}
    for r in results["runs"]:
        assert r["accuracy"] > 0.5, r["name"]
        assert len(r["losses"]) == epochs


def test_lr_schedules_example_writes_png(tmp_path):
    pytest.importorskip("matplotlib")
    results = load_example("lr_schedules").main(["--epochs", "2", "--out", str(tmp_path)])
    assert [pathlib.Path(p).name for p in results["figures"]] == ["lr_schedules.png"]
    assert_pngs(results["figures"], tmp_path)


def test_examples_carry_on_without_matplotlib(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    results = load_example("lr_schedules").main(["--epochs", "1", "--out", str(tmp_path)])
    assert results["figures"] == [] and list(tmp_path.iterdir()) == []
    assert 'pip install -e ".[examples]"' in capsys.readouterr().out


def test_checkpoint_example_shows_a_killed_run_resuming_exactly(capsys):
    # its demonstration: three fresh processes (straight, killed at step 110, resumed)
    assert load_example("checkpoint").main([]) is True
    out = capsys.readouterr().out
    assert "bit for bit: yes" in out and "(exit status" in out
