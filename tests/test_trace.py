"""minigrad.trace(): the kernels of one training step, in order, on the CPU and on
the CUDA device (the simulator where there is no GPU)."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim


def xor_step(device="cpu"):
    """One W1-style training step (2-8-1, sigmoid, BCE on logits, SGD), warmed up."""
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Sigmoid(), nn.Linear(8, 1)).to(device)
    opt = optim.SGD(model.parameters(), lr=0.5)
    x = mg.tensor([[0., 0.], [0., 1.], [1., 0.], [1., 1.]], device=device)
    y = mg.tensor([[0.], [1.], [1.], [0.]], device=device)
    loss_fn = nn.BCEWithLogitsLoss()

    def step():
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
    step()
    return step


def test_one_cpu_step_runs_these_kernels_in_this_order():
    step = xor_step()
    with mg.trace() as t:
        step()
    assert [(e.op, e.kernel) for e in t.events] == [
        ("LinearSigmoid", "linear_forward[sigmoid]"),
        ("Linear", "linear_forward[identity]"),
        ("BCEWithLogitsLoss", "bce_logits_forward"),
        ("BCEWithLogitsLossBackward", "bce_logits_backward"),
        ("LinearBackward", "linear_backward[identity]"),
        ("LinearSigmoidBackward", "linear_backward[sigmoid]"),
        ("SGD.step", "sgd_step"),
    ]
    first = t.events[0]
    assert (first.file, first.device, first.dtype) == ("kernels/cpu/matmul.py", "cpu", np.float32)
    assert first.shapes == [(4, 2), (8, 2), (8,), (4, 8)]       # x, W, b, h
    assert first.flops == 2 * 4 * 2 * 8                         # 2·N·K·M
    assert first.bytes == 4 * (8 + 16 + 8 + 32)
    assert all(e.seconds > 0 for e in t.events)
    with open(mg.__file__.replace("minigrad/__init__.py", "") + first.file) as f:
        source = f.read().splitlines()
    assert "def linear_forward" in source[first.line - 1]       # the line is the kernel's
    last = t.events[-1]
    assert last.shapes == [(33,), (33,), (0,)]                  # one flat buffer: 8·2+8+8+1


def test_a_large_layer_shows_its_blas_products_with_their_flops():
    mg.manual_seed(1)
    layer = nn.Linear(64, 128)
    x = mg.randn(32, 64)
    with mg.trace() as t:
        layer(x).relu().sum().backward()
    blas = [e for e in t.events if e.kernel.startswith("BLAS")]
    assert [(e.op, e.kernel) for e in blas] == [
        ("Linear", "BLAS sgemm"),           # x Wᵀ
        ("LinearBackward", "BLAS sgemm"),   # ∂W = δᵀ x (x needs no gradient: no δ W)
    ]
    assert blas[0].flops == blas[1].flops == 2 * 32 * 64 * 128
    assert blas[0].file == "minigrad/backend/cpu.py"


def test_the_table_lists_every_call_and_sums_per_kernel(capsys):
    step = xor_step()
    with mg.trace() as t:
        step()
        step()
    t.table()
    out = capsys.readouterr().out
    assert out.count("linear_forward[sigmoid]") == 3    # two calls, one summary row
    rows = {r[0]: r for r in t.summary()}
    assert rows["sgd_step"][1] == 2
    assert rows["linear_forward[sigmoid]"][3] == 2 * (2 * 4 * 2 * 8)
    assert "14 calls" in out


def test_tracing_off_records_nothing_and_leaves_numba_as_it_was():
    from numba.core.registry import CPUDispatcher
    step = xor_step()
    with mg.trace() as t:
        step()
    n = len(t.events)
    step()
    assert len(t.events) == n
    assert "__call__" not in CPUDispatcher.__dict__
    from minigrad.backend import cpu
    assert cpu._matmul is np.matmul
    with mg.trace():
        with pytest.raises(RuntimeError, match="already open"):
            with mg.trace():
                pass


def test_a_kernel_outside_any_op_is_named_after_the_minigrad_call():
    with mg.trace() as t:
        nn.functional.cross_entropy(mg.randn(3, 4), mg.tensor([0, 1, 3]))
    assert t.events[0].op == "cross_entropy" and t.events[0].kernel == "first_invalid_class"


def test_one_cuda_step_is_traced_on_the_device():
    step = xor_step("cuda")
    with mg.trace() as t:
        step()
    assert t.events and all(e.device == "cuda" for e in t.events)
    assert all(e.file.startswith("kernels/cuda/") for e in t.events)
    ops = [e.op for e in t.events]
    # the same ops as on the CPU, in the same order (a CUDA op may launch several
    # kernels), and the fill of the seed gradient ∂L/∂L = 1, a kernel on the GPU
    order = ["LinearSigmoid", "Linear", "BCEWithLogitsLoss", "backward",
             "BCEWithLogitsLossBackward", "LinearBackward", "LinearSigmoidBackward", "SGD.step"]
    assert [op for i, op in enumerate(ops) if i == 0 or ops[i - 1] != op] == order
    assert t.events[-1].shapes[:2] == [(33,), (33,)]
