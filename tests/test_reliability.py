"""Numeric edge cases and hostile inputs: each case once gave a wrong number or an
unclear failure. Expected values are worked out beside each test."""

import numpy as np
import pytest

import minigrad as mg


def test_clamp_then_sqrt_has_a_zero_gradient_below_the_floor():
    # clamp(min=0) is 0 for x < 0, sqrt' there is 1/(2·0) = inf, and clamp's own
    # derivative is 0: the product is 0 (as in PyTorch), not NaN from inf · 0
    x = mg.tensor([-2.0, -0.5, 0.25, 4.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        x.clamp(min=0).sqrt().sum().backward()
    # d√x/dx = 1/(2√x): 1/(2·0.5) = 1 at 0.25, 1/(2·2) = 0.25 at 4
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0, 0.25])


def test_clamp_passes_the_gradient_inside_and_stops_it_outside_each_bound():
    x = mg.tensor([-3.0, -1.0, 0.0, 1.0, 3.0], requires_grad=True)
    (x.clamp(-1.0, 1.0) * mg.tensor([1.0, 2.0, 3.0, 4.0, 5.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 2, 3, 4, 0])
    x.grad = None
    x.clamp(max=0.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 1, 1, 0, 0])
    assert x.grad.dtype == np.float32


def test_gradcheck_fails_on_a_nan_gradient():
    class NaNGrad(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * float("nan")

    x = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    with pytest.raises(mg.GradcheckError, match="analytic gradient is nan"):
        mg.gradcheck(NaNGrad.apply, (x,))


def test_gradcheck_fails_on_an_infinite_gradient():
    x = mg.tensor([0.0, 1.0], dtype=mg.float64, requires_grad=True)   # d(1/x)/dx = −1/x²
    with np.errstate(all="ignore"), pytest.raises(mg.GradcheckError,
                                                   match="element \\(0,\\): the analytic gradient is -inf"):
        mg.gradcheck(lambda t: 1.0 / t, (x,))


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_cross_entropy_of_tied_huge_logits_keeps_log_2(device):
    # two equal logits: softmax (½, ½) whatever their size, so the loss is log 2 and
    # the gradient (½ − 1, ½)/N; m + log s rounds log 2 away next to 1e16
    for big in (1e16, 1e30):
        z = mg.tensor([[big, big]], dtype=mg.float64, device=device, requires_grad=True)
        loss = mg.nn.functional.cross_entropy(z, mg.tensor([0], device=device))
        assert loss.item() == pytest.approx(np.log(2), rel=1e-12)
        loss.backward()
        np.testing.assert_allclose(z.grad.cpu().numpy(), [[-0.5, 0.5]], rtol=1e-12)
        soft = mg.tensor([[0.25, 0.75]], dtype=mg.float64, device=device)
        assert mg.nn.functional.cross_entropy(z, soft).item() == pytest.approx(np.log(2))
        log_p = mg.nn.functional.log_softmax(z.detach(), dim=1)
        np.testing.assert_allclose(log_p.cpu().numpy(), [[-np.log(2), -np.log(2)]], rtol=1e-12)


# ---- what once crashed the interpreter: run in a subprocess, so a crash fails the test ----

def run_isolated(code):
    """Run ``code`` in a fresh interpreter; (return code, output)."""
    import subprocess
    import sys
    import textwrap
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=300)
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("size", [2_000_000, 2])
def test_replacing_a_graph_outputs_storage_raises_at_backward(size):
    rc, out = run_isolated(f"""
        import numpy as np, minigrad as mg
        x = mg.randn(4, requires_grad=True)
        y = x.relu()
        y.raw = np.ones({size}, np.float32)     # bigger or smaller than the 4 relu made
        try:
            y.sum().backward()
        except RuntimeError as e:
            print("raised:", e)
    """)
    assert rc == 0, out       # no segfault (rc −11), no silent write past a buffer
    assert "raised: ReLUBackward: the gradient reaching it has shape" in out
    assert "made an output of shape (4,)" in out


def test_assigning_a_bigger_storage_through_data_is_refused_at_once():
    # the report's own case: y.data = <2,000,000 floats>, then backward
    rc, out = run_isolated("""
        import numpy as np, minigrad as mg
        x = mg.randn(4, requires_grad=True)
        y = x.relu()
        for new in (mg.ones(2_000_000), np.ones(2_000_000, np.float32)):
            try:
                y.data = new
            except (TypeError, ValueError) as e:
                print("refused:", type(e).__name__, e)
        y.sum().backward()
        print("grad:", x.grad.shape)
    """)
    assert rc == 0, out
    assert "refused: ValueError data: the new data has shape (2000000,), this tensor (4,)" in out
    assert "refused: TypeError data: assign a Tensor, got ndarray" in out
    assert "grad: (4,)" in out


def test_a_class_index_far_out_of_range_through_the_kernel_level_function():
    rc, out = run_isolated("""
        import numpy as np, minigrad as mg
        from minigrad.functions import CrossEntropyLoss
        z = mg.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
        losses = CrossEntropyLoss.apply(z, mg.tensor([2, 10**12]), "none")
        print("losses:", losses.numpy().tolist())
    """)
    assert rc == 0, out
    # row 0: log(e + e² + e³) − 3 = 0.407606; row 1's class does not exist: NaN (as on a GPU)
    assert "losses: [0.40760" in out and "nan]" in out


KERNEL_LEVEL = {
    # each once read or wrote past an array (the optimizer ones crashed the interpreter)
    "linear, short bias": ("F.LinearActivation.apply(mg.ones(4, 3), mg.ones(2, 3), mg.ones(1), (0, 0.0, 0.0))",
                           "linear: bias of shape (1,) does not match weight of shape (2, 3)"),
    "linear, weight": ("F.LinearActivation.apply(mg.ones(4, 3), mg.ones(2, 5), None, (0, 0.0, 0.0))",
                       "linear: input of shape (4, 3) does not match weight of shape (2, 5)"),
    "cross-entropy, short target": ("F.CrossEntropyLoss.apply(mg.ones(4, 3), mg.tensor([0]), 'mean')",
                                    "cross_entropy: expected logits (N, C) and a target"),
    "mse, short target": ("F.MSELoss.apply(mg.ones(2_000_000), mg.ones(4), 'mean')",
                          "mse_loss: input of shape (2000000,) and target of shape (4,) differ"),
    "bce, short target": ("F.BCEWithLogitsLoss.apply(mg.ones(2_000_000), mg.ones(4), 'sum')",
                          "binary_cross_entropy_with_logits: input of shape (2000000,)"),
    "sgd, short buffer": ("OF.sgd(big(), big(), small(), lr=0.1, momentum=0.9)",
                          "optim.functional.sgd: momentum_buffer has shape (3,)"),
    "sgd, buffer missing": ("OF.sgd(big(), big(), None, lr=0.1, momentum=0.9)",
                            "optim.functional.sgd: momentum_buffer is needed"),
    "adam, short buffers": ("OF.adam(big(), big(), small(), small(), step=1)",
                            "optim.functional.adam: exp_avg has shape (3,)"),
    "adam, amsgrad without its buffer": ("OF.adam(big(), big(), big(), big(), amsgrad=True, step=1)",
                                         "optim.functional.adam: max_exp_avg_sq is needed"),
    "rmsprop, short buffer": ("OF.rmsprop(big(), big(), small())",
                              "optim.functional.rmsprop: square_avg has shape (3,)"),
    "adagrad, short grad": ("OF.adagrad(big(), small(), big(), step=1)",
                            "optim.functional.adagrad: grad has shape (3,)"),
    "adadelta, short buffer": ("OF.adadelta(big(), big(), big(), small())",
                               "optim.functional.adadelta: acc_delta has shape (3,)"),
    "adam, 2-D parameter": ("OF.adam(np.ones((9, 9), np.float32), big(), big(), big(), step=1)",
                            "optim.functional.adam: the parameter must be a flat (1-D) float"),
}


def test_kernel_level_calls_with_arrays_that_do_not_fit_raise_instead_of_crashing():
    calls = "\n".join(f"""
try:
    {call}
    print({name!r}, "-> no error")
except (ValueError, TypeError) as e:
    print({name!r}, "->", e)""" for name, (call, _) in KERNEL_LEVEL.items())
    rc, out = run_isolated("""
import numpy as np, minigrad as mg
from minigrad import functions as F
from minigrad.optim import functional as OF
def big():
    return np.ones(2_000_000, np.float32)
def small():
    return np.ones(3, np.float32)
""" + calls)
    assert rc == 0, out
    for name, (_, message) in KERNEL_LEVEL.items():
        assert f"{name} -> {message}" in out, out


def test_arrays_no_kernel_compiles_for_get_a_type_error_naming_the_op():
    from minigrad.functions import CrossEntropyLoss
    with pytest.raises(TypeError, match=r"^CrossEntropyLoss: its kernels cannot take arrays of "
                                        r"float32 \(4, 3\), float32 \(4,\)"):
        CrossEntropyLoss.apply(mg.ones(4, 3), mg.ones(4), "mean")   # class indices as floats


def test_the_public_path_still_names_the_bad_class():
    with pytest.raises(ValueError, match="class 1000000000000 is out of range"):
        mg.nn.functional.cross_entropy(mg.zeros(2, 3), mg.tensor([0, 10**12]))


# ---- mg.load on files from elsewhere, mg.save after a killed save ------------------------

def write_npz(path, entries, compressed=False):
    """An .npz of raw .npy entries: name -> bytes."""
    import zipfile
    mode = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", mode) as z:
        for name, data in entries.items():
            z.writestr(name, data)


def npy_bytes(a, header_shape=None):
    """``a`` as .npy bytes; ``header_shape`` overrides the shape the header declares."""
    import io
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {
        "descr": np.lib.format.dtype_to_descr(a.dtype), "fortran_order": False,
        "shape": a.shape if header_shape is None else header_shape})
    return buf.getvalue() + a.tobytes()


def meta_bytes(root):
    import json
    text = json.dumps({"format": "minigrad", "version": 1, "root": root})
    return npy_bytes(np.frombuffer(text.encode(), np.uint8))


def test_load_refuses_a_deeply_nested_header_with_valueerror(tmp_path):
    for depth in (150, 100_000):   # past MAX_DEPTH; past what json itself can parse
        path = tmp_path / f"deep{depth}.mg"
        text = '{"format": "minigrad", "version": 1, "root": ' + \
            '{"t": "list", "v": [' * depth + "null" + "]}" * depth + "}"
        write_npz(path, {"__minigrad__.npy": npy_bytes(np.frombuffer(text.encode(), np.uint8))})
        with pytest.raises(ValueError, match="nest"):
            mg.load(path)


def test_load_refuses_a_declared_size_its_file_does_not_hold(tmp_path):
    path = tmp_path / "huge.mg"
    write_npz(path, {"__minigrad__.npy": meta_bytes({"t": "array", "i": 0}),
                     "a0.npy": npy_bytes(np.zeros(4, np.float32), header_shape=(10**12,))})
    with pytest.raises(ValueError, match=r"declares \(1000000000000,\) float32"):
        mg.load(path)


def test_load_refuses_compressed_entries_so_nothing_inflates(tmp_path):
    path = tmp_path / "bomb.mg"
    write_npz(path, {"__minigrad__.npy": meta_bytes({"t": "array", "i": 0}),
                     "a0.npy": npy_bytes(np.zeros(1 << 20, np.float32))}, compressed=True)
    assert path.stat().st_size < 100_000          # 4 MiB of zeros in a few kB
    with pytest.raises(ValueError, match="compressed"):
        mg.load(path)


def test_a_save_removes_what_killed_saves_left_and_keeps_the_rest(tmp_path):
    import subprocess
    import sys
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()   # a finished process
    dead = tmp_path / f".model.mg.{gone}.deadbeef.tmp"
    dead.write_bytes(b"half a file")
    mine = tmp_path / f".model.mg.{__import__('os').getpid()}.cafef00d.tmp"   # a live process
    mine.write_bytes(b"in progress")
    other = tmp_path / ".other.mg.1.deadbeef.tmp"                            # another file's
    other.write_bytes(b"not ours to judge")
    mg.save({"w": np.ones(3)}, tmp_path / "model.mg")
    assert not dead.exists() and mine.exists() and other.exists()
    np.testing.assert_array_equal(mg.load(tmp_path / "model.mg")["w"], np.ones(3))


# ---- dtypes the kernels cannot read: refused where the array enters, saying so ----------

def test_float16_gets_a_clear_error_naming_the_op():
    with pytest.raises(TypeError, match="unsupported dtype float16"):
        mg.tensor(np.ones(3, np.float16))         # a copy: it must be a dtype we compute in
    assert mg.tensor(np.ones(3, np.float16), dtype=mg.float32).dtype == np.float32
    shared = mg.from_numpy(np.ones(3, np.float16))  # shared memory: kept as it is, as data
    with pytest.raises(TypeError, match=r"^ReLU: its kernels take float32 and float64.*float16"):
        shared.relu()


def test_a_big_endian_array_is_copied_to_native_order_or_named_by_the_op():
    a = np.array([1.0, -2.0, 3.0], dtype=">f4")
    t = mg.tensor(a)
    assert t.dtype == np.float32 and t.dtype.isnative
    np.testing.assert_array_equal(t.relu().numpy(), [1.0, 0.0, 3.0])   # through a kernel
    with pytest.raises(TypeError, match=r"^ReLU: .*>f4, non-native byte order"):
        mg.from_numpy(a).relu()


# ---- optimizer.load_state_dict: everything checked first, nothing changed on error ------

@pytest.mark.parametrize("bad", [
    {"step": -3}, {"step": 2.5}, {"step": True}, {"step": "7"},
    {"momentum_buffer": np.array(["a", "b"])},
])
def test_a_bad_optimizer_state_is_refused_with_nothing_changed(bad):
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    opt = mg.optim.SGD([w], lr=0.1, momentum=0.9)
    (w * w).sum().backward()
    opt.step()
    before = opt.state_dict()
    saved = opt.state_dict()
    saved["state"][0].update(bad)
    saved["param_groups"][0]["lr"] = 0.5          # would change, were the load to go ahead
    with pytest.raises(ValueError, match="load_state_dict"):
        opt.load_state_dict(saved)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    assert after["state"][0]["step"] == before["state"][0]["step"] == 1
    np.testing.assert_array_equal(after["state"][0]["momentum_buffer"],
                                  before["state"][0]["momentum_buffer"])


def test_a_step_saved_as_a_0d_array_loads_as_an_int():
    w = mg.tensor([1.0], requires_grad=True)
    opt = mg.optim.Adam([w])
    (w * 2).sum().backward()
    opt.step()
    saved = opt.state_dict()
    saved["state"][0]["step"] = np.array(1.0)       # as PyTorch's tensor(1.)
    opt.load_state_dict(saved)
    assert opt.state[w]["step"] == 1 and type(opt.state[w]["step"]) is int


# ---- bad arguments: a clear error naming the op, from the public API ---------------------

HOSTILE = [
    # (call, exception, what the message must say)
    (lambda: mg.ones(2, 3).flatten(start_dim=5), IndexError, "^flatten: dimension 5 is out of range"),
    (lambda: mg.ones(2, 3).flatten(1, 0), ValueError, "^flatten: start_dim 1 comes after end_dim 0"),
    (lambda: mg.ones(2, 3).transpose(0, 5), IndexError, "^transpose: dimension 5 is out of range"),
    (lambda: mg.randn(3, dtype=mg.int64), TypeError, "^randn: .*need a float dtype"),
    (lambda: mg.rand(3, dtype=mg.int64), TypeError, "^rand: .*need a float dtype"),
    (lambda: mg.arange(0, 10, 0), ValueError, "^arange: step must not be zero"),
    (lambda: mg.ones(2, 3).softmax(dim=3), IndexError, "^softmax: dim 3 is out of range"),
    (lambda: mg.ones(2, 3).log_softmax(dim=-3), IndexError, "^log_softmax: dim -3 is out of range"),
    (lambda: mg.ones(2, 3).softmax(dim=1.0), TypeError, "^softmax: dim must be an integer"),
    (lambda: mg.ones(2, 3).sum(dim=5), IndexError, "^sum: dim 5 is out of range"),
    (lambda: mg.ones(2, 3).mean(dim=1.5), TypeError, "^mean: dim must be an integer"),
    (lambda: mg.ones(2, 3).max(dim=2), IndexError, "^max: dim 2 is out of range"),
    (lambda: mg.ones(2, 3).reshape(7), ValueError, "^reshape: cannot reshape .* into \\(7,\\)"),
    (lambda: mg.ones(2, 3).permute(0, 0), ValueError, "^permute: .*not a permutation"),
    (lambda: mg.ones(2, 3).expand(4, 3), ValueError, "^expand: .*cannot expand"),
    (lambda: mg.ones(2, 3) @ mg.ones(2, 3), ValueError, "do not align"),
    (lambda: mg.nn.Linear(3, 2)(mg.ones(2, 4)), ValueError, "^linear: input of shape \\(2, 4\\)"),
    (lambda: mg.nn.functional.cross_entropy(mg.ones(2, 3), mg.tensor([0, -1])), ValueError,
     "^cross_entropy: target class -1 is out of range"),
    (lambda: mg.nn.functional.mse_loss(mg.ones(3), mg.ones(4)), ValueError, "^mse_loss: "),
    (lambda: mg.tensor([[1, 2], [3]]), ValueError, "^tensor: nested lists must have equal lengths"),
    (lambda: mg.tensor(np.array([1 + 2j])), TypeError, "^tensor: unsupported data of dtype complex"),
    (lambda: mg.ones(3, dtype="float16"), TypeError, "unsupported dtype float16"),
    (lambda: mg.zeros(-1), ValueError, "sizes must be non-negative"),
    (lambda: mg.ones(3).add_(mg.ones(3, 3)), ValueError, "^add_: the result has shape \\(3, 3\\)"),
    (lambda: mg.ones(2).to("tpu"), ValueError, "unknown device 'tpu'"),
    (lambda: mg.manual_seed(-1), ValueError, "^manual_seed: "),
    (lambda: mg.nn.Dropout(1.5), ValueError, "^Dropout: p must be a probability"),
]


@pytest.mark.parametrize("call, error, message", HOSTILE, ids=[m for _, _, m in HOSTILE])
def test_a_bad_argument_raises_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_an_in_place_op_that_fails_leaves_its_tensor_unchanged():
    x = mg.tensor([1.0, 2.0, 3.0])
    for bad in (lambda: x.add_(mg.ones(3, 3)), lambda: x.mul_(mg.ones(2))):
        with pytest.raises(ValueError):
            bad()
        np.testing.assert_array_equal(x.numpy(), [1.0, 2.0, 3.0])


def test_softmax_of_a_0d_tensor_is_1_with_gradient_0():
    # one element along the axis: softmax = e^x / e^x = 1, log_softmax = 0, both constant
    for op, value in (("softmax", 1.0), ("log_softmax", 0.0)):
        x = mg.tensor(2.0, requires_grad=True)
        y = getattr(x, op)(dim=0)
        assert y.shape == () and y.item() == value
        y.backward()
        assert x.grad.item() == 0.0


def test_an_optimizer_rule_refuses_arrays_on_two_devices():
    from minigrad.optim import functional as OF
    param = mg.ones(4, device="cuda")
    with pytest.raises(ValueError, match="optim.functional.sgd: grad and the parameter are on two devices"):
        OF.sgd(param, np.ones(4, np.float32), lr=0.1)
    np.testing.assert_array_equal(param.cpu().numpy(), np.ones(4))
