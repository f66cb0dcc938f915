"""Every kernels.cpu kernel against its kernels.cuda twin, on the same inputs.

Each pair runs on copies of one set of arguments (an array passed twice, for
in-place use, stays one array on each side), and every array argument, inputs
included, must come out equal within float32/float64 tolerance: the CPU kernel is
the reference, checked against the formulas in test_cpu_kernels.py. Outputs start
as NaN, so an element the CUDA kernel forgets to write shows up.

Then: the CUDA modules have a twin of every public CPU kernel with the same
parameters; the CUDA-only reductions agree with NumPy; a class target outside
[0, C) gives NaN instead of an out-of-bounds read.

Without a GPU this runs on numba's CUDA simulator (tests/conftest.py), which
runs every GPU thread as a Python thread: sizes are small and odd (n = 97,
(7, 13)), and launches few.
"""

import importlib
import inspect

import numpy as np
import pytest
from numba import cuda
from numba.core.registry import CPUDispatcher

from by_name import activation_kernels
from minigrad.kernels import activations as A
from minigrad.kernels.cuda.launch import SIMULATOR

MODULES = ("activations", "losses", "reductions", "optim", "matmul")
CPU = {m: importlib.import_module(f"minigrad.kernels.cpu.{m}") for m in MODULES}
GPU = {m: importlib.import_module(f"minigrad.kernels.cuda.{m}") for m in MODULES}
# Modules whose public functions build a kernel for an activation code.
BUILDERS = {"activations": ("forward", "bias_forward", "backward"),
            "matmul": ("linear_forward", "linear_backward")}
CPU_ACT, GPU_ACT = CPU["activations"], GPU["activations"]
# The activation kernels under one name each (tests/kernels/by_name.py), for run_both.
CPU["activations"] = activation_kernels(CPU["activations"])
GPU["activations"] = activation_kernels(GPU["activations"])

n = 97  # 1-D size: not a multiple of a warp or a block
N, M = 7, 13  # 2-D size: rows, columns
SLOPE = 0.1
SCALE = 1.0 / N
TOL = {
    np.float32: dict(rtol=1e-5, atol=1e-6),
    np.float64: dict(rtol=1e-12, atol=1e-13),
}
DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64])


def randn(dtype, *shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def nans(dtype, *shape):
    return np.full(shape, np.nan, dtype=dtype)


def run_both(module, name, *args):
    """Run kernels.cpu.<module>.<name> and kernels.cuda.<module>.<name> on copies
    of args; return (cpu result, cuda result) for each distinct array argument."""
    host, device = {}, {}

    def copies(a):
        if not isinstance(a, np.ndarray):
            return a, a
        if id(a) not in host:
            host[id(a)], device[id(a)] = a.copy(), cuda.to_device(a)
        return host[id(a)], device[id(a)]

    pairs = [copies(a) for a in args]
    getattr(CPU[module], name)(*(p[0] for p in pairs))
    getattr(GPU[module], name)(*(p[1] for p in pairs))
    return [(host[k], device[k].copy_to_host()) for k in host]


def assert_same(results, dtype, what=""):
    for k, (cpu_result, cuda_result) in enumerate(results):
        msg = f"{what}: array argument {k}"
        assert cuda_result.dtype == cpu_result.dtype, msg
        if cpu_result.dtype.kind == "f":
            np.testing.assert_allclose(cuda_result, cpu_result, err_msg=msg, **TOL[dtype])
        else:
            np.testing.assert_array_equal(cuda_result, cpu_result, err_msg=msg)


def check(module, name, *args, dtype=np.float64):
    assert_same(run_both(module, name, *args), dtype, name)


# ------------------------------------------------------------- the twins exist


@pytest.mark.parametrize("module", MODULES)
def test_every_cpu_kernel_has_a_cuda_twin_with_the_same_parameters(module):
    cpu_module = importlib.import_module(f"minigrad.kernels.cpu.{module}")
    gpu_module = importlib.import_module(f"minigrad.kernels.cuda.{module}")
    # kernels, not the inline helpers they share (kernels/cpu/activations.py's row_softmax)
    kernels = {name: k for name, k in vars(cpu_module).items()
               if isinstance(k, CPUDispatcher) and not name.startswith("_")
               and k.targetoptions.get("inline") != "always"}
    for name in BUILDERS.get(module, ()):  # a kernel per activation: compare one built
        kernels[name] = getattr(cpu_module, name)(A.GELU)
        assert isinstance(kernels[name], CPUDispatcher), name
    assert kernels
    for name, kernel in kernels.items():
        twin = getattr(gpu_module, name, None)
        assert callable(twin), f"minigrad.kernels.cuda.{module} has no {name}"
        if name in BUILDERS.get(module, ()):
            twin = twin(A.GELU)
        assert (list(inspect.signature(twin).parameters)
                == list(inspect.signature(kernel.py_func).parameters)), name


# ----------------------------------------------------------------- activations


@DTYPES
def test_activations_match_cpu(dtype):
    # NaN must pass through relu; ±1000 must not overflow σ.
    x = randn(dtype, n)
    x[:4] = [np.nan, 1000.0, -1000.0, 0.0]
    z, b = randn(dtype, N, M, seed=1), randn(dtype, M, seed=2)
    grad, y = randn(dtype, n, seed=3), np.tanh(randn(dtype, n, seed=4))
    y[:2] = [0.0, -0.0]
    calls = [
        ("relu_forward", x, nans(dtype, n)),
        ("leaky_relu_forward", x, SLOPE, nans(dtype, n)),
        ("sigmoid_forward", x, nans(dtype, n)),
        ("tanh_forward", x, nans(dtype, n)),
        ("bias_add", z, b, nans(dtype, N, M)),
        ("bias_relu_forward", z, b, nans(dtype, N, M)),
        ("bias_leaky_relu_forward", z, b, SLOPE, nans(dtype, N, M)),
        ("bias_sigmoid_forward", z, b, nans(dtype, N, M)),
        ("bias_tanh_forward", z, b, nans(dtype, N, M)),
        ("relu_backward", grad, y, nans(dtype, n)),
        ("leaky_relu_backward", grad, y, SLOPE, nans(dtype, n)),
        ("sigmoid_backward", grad, y, nans(dtype, n)),
        ("tanh_backward", grad, y, nans(dtype, n)),
        # in place, where the docstring allows it: out is z, or out is grad
        ("bias_add", z, b, z),
        ("bias_relu_forward", z, b, z),
        ("bias_leaky_relu_forward", z, b, SLOPE, z),
        ("bias_sigmoid_forward", z, b, z),
        ("bias_tanh_forward", z, b, z),
        ("relu_backward", grad, y, grad),
        ("leaky_relu_backward", grad, y, SLOPE, grad),
        ("sigmoid_backward", grad, y, grad),
        ("tanh_backward", grad, y, grad),
    ]
    for name, *args in calls:
        check("activations", name, *args, dtype=dtype)


@DTYPES
@pytest.mark.parametrize("name", list(A.NAMES))
def test_every_activation_matches_cpu(name, dtype):
    # Each kernel built for the activation, on both devices: forward, bias + f, and
    # backward from x or from the output y, whichever the derivative reads.
    act = A.NAMES[name]
    p, q = (0.7, 5.0) if name == "softplus" else (SLOPE, 0.0)
    x = randn(dtype, n) * dtype(3)
    x[:3] = [0.0, 40.0, -40.0]
    y = np.empty_like(x)
    CPU_ACT.forward(act)(x, p, q, y)
    s = x if act in A.READS_INPUT else y  # what f′ reads
    z, b = randn(dtype, N, M, seed=1), randn(dtype, M, seed=2)
    grad = randn(dtype, n, seed=3)
    for module_name, args in [
            ("forward", (x, p, q, nans(dtype, n))),
            ("bias_forward", (z, b, p, q, nans(dtype, N, M))),
            ("backward", (grad, s, p, q, nans(dtype, n)))]:
        results = run_built(module_name, act, *args)
        assert_same(results, dtype, f"{module_name}({name})")


def run_built(builder, act, *args):
    """run_both for the kernel that activations.<builder>(act) builds on each device."""
    cpu = getattr(CPU_ACT, builder)(act)
    gpu = getattr(GPU_ACT, builder)(act)
    host = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    device = [cuda.to_device(a) if isinstance(a, np.ndarray) else a for a in args]
    cpu(*host)
    gpu(*device)
    return [(h, d.copy_to_host()) for h, d in zip(host, device) if isinstance(h, np.ndarray)]


@DTYPES
def test_softmax_rows_match_cpu(dtype):
    x = randn(dtype, N, M) * dtype(3)
    x[2, :] += 1000  # huge logits: the max subtraction keeps exp finite
    x[4, 5] = np.nan  # a NaN row stays NaN
    for name in ("softmax_rows", "log_softmax_rows"):
        cpu_out, gpu_out = nans(dtype, N, M), cuda.to_device(nans(dtype, N, M))
        getattr(CPU_ACT, name)(x, cpu_out)
        getattr(GPU_ACT, name)(cuda.to_device(x), gpu_out)
        assert np.isnan(cpu_out[4]).all()
        assert_same([(cpu_out, gpu_out.copy_to_host())], dtype, name)


# ---------------------------------------------------------------------- losses


def test_first_invalid_class_matches_cpu():
    valid = np.arange(n, dtype=np.int64) % M
    bad = valid.copy()
    bad[[60, 5, 90]] = [-1, M, M + 7]
    # Longer than a block of 256: thread 4 checks 4 and 260, thread 34 34 and 290.
    late, early = np.zeros(300, dtype=np.int64), np.zeros(300, dtype=np.int64)
    late[[290, 260]] = -3  # the first bad one is on a thread's second pass
    early[[290, 260, 34]] = -3  # thread 34 must keep 34, not go on to 290
    for target in (valid, bad, late, early, np.zeros(0, dtype=np.int64)):
        out = np.full(1, 12345, dtype=np.int64)
        results = run_both("losses", "first_invalid_class", target, M, out)
        assert_same(results, np.float64, "first_invalid_class")
    assert results[1][1][0] == -1  # the empty target


@DTYPES
def test_softmax_cross_entropy_matches_cpu(dtype):
    z = randn(dtype, N, M) * 3
    z[2, :] += 1000  # huge logits: only the max subtraction keeps exp finite
    z[4, :] -= 1000  # and keeps Σ exp from underflowing to 0
    target = np.arange(N, dtype=np.int64) * 5 % M
    check("losses", "softmax_xent_forward", z, target, SCALE,
          nans(dtype, N, M), nans(dtype, N), nans(dtype, 1), dtype=dtype)
    probs = np.empty((N, M), dtype)
    CPU["losses"].softmax_xent_forward(z, target, SCALE, probs, np.empty(N, dtype),
                                       np.empty(1, dtype))
    check("losses", "softmax_xent_backward", probs, target, SCALE,
          nans(dtype, N, M), dtype=dtype)
    check("losses", "softmax_xent_backward", probs, target, SCALE, probs, dtype=dtype)

    # Probability targets whose rows do not sum to 1, so that the Σ_k t_ik of
    # the backward is exercised.
    t = np.abs(randn(dtype, N, M, seed=5))
    check("losses", "softmax_xent_prob_forward", z, t, SCALE,
          nans(dtype, N, M), nans(dtype, N), nans(dtype, 1), dtype=dtype)
    check("losses", "softmax_xent_prob_backward", probs, t, SCALE, probs, dtype=dtype)


def test_softmax_cross_entropy_on_a_row_longer_than_a_block():
    # C = 300 > 256 threads: each thread takes more than one column.
    c = 300
    z = randn(np.float64, 1, c) * 4
    z[0, 277] = 9.0  # the max, in a column that thread 21 reaches on its 2nd pass
    check("losses", "softmax_xent_forward", z, np.array([283]), 1.0,
          nans(np.float64, 1, c), nans(np.float64, 1), nans(np.float64, 1))


@DTYPES
def test_bce_and_mse_match_cpu(dtype):
    z = randn(dtype, n) * 4
    z[:2] = [80.0, -80.0]
    y = (randn(dtype, n, seed=1) > 0).astype(dtype)
    check("losses", "bce_logits_forward", z, y, SCALE, nans(dtype, n), nans(dtype, 1),
          dtype=dtype)
    check("losses", "bce_logits_backward", z, y, SCALE, nans(dtype, n), dtype=dtype)
    target = randn(dtype, n, seed=2)
    check("losses", "mse_forward", z, target, SCALE, nans(dtype, n), nans(dtype, 1),
          dtype=dtype)
    check("losses", "mse_backward", z, target, SCALE, nans(dtype, n), dtype=dtype)


def test_out_of_range_class_target_gives_nan_not_an_out_of_bounds_read():
    from minigrad.kernels.cuda.losses import softmax_xent_backward, softmax_xent_forward

    rows, c = 4, 5
    z = randn(np.float64, rows, c)
    target = np.array([0, -1, c, 2], dtype=np.int64)
    bad = np.array([False, True, True, False])
    probs, losses, loss = (cuda.device_array((rows, c)), cuda.device_array(rows),
                           cuda.device_array(1))
    softmax_xent_forward(cuda.to_device(z), cuda.to_device(target), 0.5, probs, losses,
                         loss)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    softmax = e / e.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(probs.copy_to_host(), softmax, rtol=1e-12)
    losses = losses.copy_to_host()
    assert np.isnan(losses[bad]).all()
    good = np.flatnonzero(~bad)
    np.testing.assert_allclose(losses[good], -np.log(softmax[good, target[good]]),
                               rtol=1e-12)
    assert np.isnan(loss.copy_to_host()[0])

    grad = cuda.device_array((rows, c))
    softmax_xent_backward(probs, cuda.to_device(target), 0.5, grad)
    grad = grad.copy_to_host()
    assert np.isnan(grad[bad]).all()
    expected = 0.5 * (softmax - np.eye(c)[np.clip(target, 0, c - 1)])
    np.testing.assert_allclose(grad[good], expected[good], rtol=1e-12, atol=1e-15)


# ------------------------------------------------------------------ reductions


@pytest.mark.parametrize("dtype, shape", [(np.float32, (N, M)), (np.float64, (33, 37))])
def test_column_sums_matches_cpu(dtype, shape):
    # (33, 37): two blocks of 32 columns, and more rows than the 8 row lanes.
    check("reductions", "column_sums", randn(dtype, *shape), nans(dtype, shape[1]),
          dtype=dtype)


def test_row_sums_matches_numpy():
    from minigrad.kernels.cuda.reductions import row_sums

    x = randn(np.float32, N, M)
    out = cuda.device_array(N, np.float32)
    row_sums(cuda.to_device(x), out)
    np.testing.assert_allclose(out.copy_to_host(), x.astype(np.float64).sum(axis=1),
                               **TOL[np.float32])
    mask = randn(np.float64, N, M, seed=1) > 0  # bool summed into int64: a count
    counts = cuda.device_array(N, np.int64)
    row_sums(cuda.to_device(mask), counts)
    np.testing.assert_array_equal(counts.copy_to_host(), mask.sum(axis=1))


def test_row_max_and_argmax_match_numpy():
    from minigrad.kernels.cuda.reductions import row_argmax, row_max

    x = np.round(randn(np.float64, N, M) * 2)  # rounded: ties in most rows
    x[1, 4] = x[1, 9] = np.nan  # NaN wins, and the first NaN is the argmax
    x[2, :] = -np.inf
    x[3, 12] = 100.0  # the max in the last column
    x[4, [0, 7]] = 50.0  # a tie with column 0, which idle threads also hold
    dx = cuda.to_device(x)
    out, arg = cuda.device_array(N), cuda.device_array(N, np.int64)
    row_max(dx, out)
    row_argmax(dx, arg)
    np.testing.assert_array_equal(out.copy_to_host(), np.max(x, axis=1))
    np.testing.assert_array_equal(arg.copy_to_host(), np.argmax(x, axis=1))

    # Longer than a block of 256 threads: thread 0 finds the max at 256, thread
    # 1 the same max at 1; the tree must prefer the smaller index, not the
    # lower thread.
    wide = np.zeros((1, 300), np.int64)
    wide[0, [256, 1]] = 7
    arg = cuda.device_array(1, np.int64)
    row_argmax(cuda.to_device(wide), arg)
    assert arg.copy_to_host()[0] == 1


def test_sum_all_matches_numpy(monkeypatch):
    from minigrad.kernels.cuda import reductions

    x = randn(np.float32, n)
    out = cuda.device_array(1, np.float32)
    reductions.sum_all(cuda.to_device(x), 0.25, out)
    np.testing.assert_allclose(out.copy_to_host()[0], 0.25 * x.astype(np.float64).sum(),
                               **TOL[np.float32])

    empty = cuda.to_device(np.zeros(0))
    out = cuda.to_device(np.full(1, np.nan))
    reductions.sum_all(empty, 0.25, out)
    assert out.copy_to_host()[0] == 0.0

    # Several blocks and the second pass, on a size the simulator can afford:
    # one element per thread and at most 2 blocks, so the grid also strides.
    monkeypatch.setattr(reductions, "_PER_THREAD", 1)
    monkeypatch.setattr(reductions, "_MAX_BLOCKS", 2)
    x = randn(np.float64, 600)
    out = cuda.device_array(1)
    reductions.sum_all(cuda.to_device(x), 2.0, out)
    np.testing.assert_allclose(out.copy_to_host()[0], 2.0 * x.sum(), **TOL[np.float64])


# ------------------------------------------------------------------- optimizers

# Option sets that take different paths through each rule. Hyper-parameters in
# each kernel's argument order after the arrays; "steps" says how the step
# argument (if any) is passed.
SGD = [  # lr, momentum, dampening, nesterov, weight_decay
    (0.1, 0.0, 0.0, False, 0.01),
    (0.1, 0.9, 0.1, False, 0.0),
    (0.1, 0.9, 0.0, True, 0.01),
]
RMSPROP = [  # lr, alpha, eps, weight_decay, momentum, centered
    (0.01, 0.99, 1e-8, 0.0, 0.0, False),
    (0.01, 0.9, 1e-8, 0.01, 0.9, True),
    (0.01, 0.99, 1e-8, 0.0, 0.5, False),
]
ADAM = [  # lr, beta1, beta2, eps, weight_decay, decoupled_weight_decay, amsgrad
    (1e-2, 0.9, 0.999, 1e-8, 0.01, False, False),
    (1e-2, 0.9, 0.999, 1e-8, 0.1, True, True),
    (1e-2, 0.8, 0.99, 1e-8, 0.01, False, True),
]


def run_steps(name, make_args, dtype, steps=3):
    """Run 3 consecutive steps of an optimizer kernel on the CPU and on the GPU,
    each step with a fresh gradient, state carried over; compare everything."""
    rng = np.random.default_rng(7)
    param = rng.standard_normal(n).astype(dtype)
    cpu_arrays = gpu_arrays = None
    for t in range(1, steps + 1):
        # Magnitudes from 0.1 to 30: the large ones make the state buffers large
        # enough that rtol, not atol, decides (1 − β rounded in float32 is 1e-5 off).
        grad = (rng.standard_normal(n) * 10.0 ** rng.uniform(-1, 1.5, n)).astype(dtype)
        arrays, scalars = make_args(param, grad, t)
        if cpu_arrays is None:  # first step: both sides start from the same state
            cpu_arrays = [a.copy() for a in arrays]
            gpu_arrays = [cuda.to_device(a) for a in arrays]
        else:  # later steps: a new gradient, the state carried over
            cpu_arrays[1] = grad
            gpu_arrays[1] = cuda.to_device(grad)
        getattr(CPU["optim"], name)(*cpu_arrays, *scalars)
        getattr(GPU["optim"], name)(*gpu_arrays, *scalars)
    assert_same([(c, g.copy_to_host()) for c, g in zip(cpu_arrays, gpu_arrays)], dtype,
                f"{name}{scalars}")


def buffer(dtype, used, fill=0.0):
    return np.full(n if used else 0, fill, dtype)


@DTYPES
def test_optimizer_steps_match_cpu(dtype):
    for lr, momentum, dampening, nesterov, wd in SGD:
        run_steps("sgd_step", lambda p, g, t: (
            [p, g, buffer(dtype, momentum != 0)],
            (lr, momentum, dampening, nesterov, wd, t == 1)), dtype)
    run_steps("adagrad_step", lambda p, g, t: (
        [p, g, buffer(dtype, True, fill=0.1)], (0.1, 0.01, 0.01, 1e-10, t)), dtype)
    for lr, alpha, eps, wd, momentum, centered in RMSPROP:
        run_steps("rmsprop_step", lambda p, g, t: (
            [p, g, buffer(dtype, True), buffer(dtype, centered), buffer(dtype, momentum > 0)],
            (lr, alpha, eps, wd, momentum, centered)), dtype)
    for lr, beta1, beta2, eps, wd, decoupled, amsgrad in ADAM:
        run_steps("adam_step", lambda p, g, t: (
            [p, g, buffer(dtype, True), buffer(dtype, True), buffer(dtype, amsgrad)],
            (lr, beta1, beta2, eps, wd, decoupled, amsgrad, t)), dtype)
    run_steps("adadelta_step", lambda p, g, t: (
        [p, g, buffer(dtype, True), buffer(dtype, True)], (1.0, 0.9, 1e-6, 0.01)), dtype)


def test_parallel_names_are_the_same_launchers():
    optim = GPU["optim"]
    for name in ("sgd_step", "adagrad_step", "rmsprop_step", "adam_step", "adadelta_step"):
        assert getattr(optim, name + "_parallel") is getattr(optim, name)


# --------------------------------------------------------------- empty inputs


@pytest.fixture
def no_empty_grids(monkeypatch):
    """On the simulator, make a launch with a 0-block grid fail, as it does on a GPU."""
    if SIMULATOR:
        from numba.cuda.simulator.kernel import FakeCUDAKernel

        configure = FakeCUDAKernel.__getitem__

        def checked(self, config):
            dims = [config[0]] if isinstance(config[0], int) else list(config[0])
            assert all(d > 0 for d in dims), f"launch with grid {config[0]}"
            return configure(self, config)

        monkeypatch.setattr(FakeCUDAKernel, "__getitem__", checked)


def test_empty_inputs_launch_nothing_and_reduce_to_zero(no_empty_grids):
    f = np.float64
    check("activations", "relu_forward", np.zeros(0), np.zeros(0))
    check("activations", "bias_relu_forward", np.zeros((0, M)), np.zeros(M), np.zeros((0, M)))
    check("reductions", "column_sums", np.zeros((0, M)), nans(f, M))
    check("losses", "softmax_xent_forward", np.zeros((0, M)), np.zeros(0, np.int64), 1.0,
          np.zeros((0, M)), np.zeros(0), nans(f, 1))
    check("losses", "mse_forward", np.zeros(0), np.zeros(0), 1.0, np.zeros(0), nans(f, 1))
    check("optim", "adam_step", *[np.zeros(0)] * 5, 1e-3, 0.9, 0.999, 1e-8, 0.0, False,
          False, 1)
