"""kernels/cuda/matmul.py: the three products against NumPy, and the dense layer
against its CPU twin (kernels/cpu/matmul.py) on the same inputs.

Runs on the GPU when there is one, else on numba's CUDA simulator (tests/conftest.py
decides). The simulator runs every GPU thread as a Python thread, so sizes are
small and chosen to reach every edge: one element, sizes inside one tile, just over
a tile edge, several K-steps with a partial last one, K = 0 and empty outputs.
Both kernels are run: the small-tile one by the launcher's own choice at these
sizes, the 128 × 128-tile one by forcing the choice (monkeypatching
_use_big_tiles), on a few small cases.
"""


import numpy as np
import pytest
from numba import cuda

from by_name import dense_kernels
from minigrad.kernels.cpu import matmul as _cpu_matmul
from minigrad.kernels.cuda import matmul as _gpu_matmul

# The dense-layer kernels as linear_forward(x, w, b, act, slope, out), … on each
# device (they are built per activation: tests/kernels/by_name.py); the products
# are called on the module itself.
cpu = dense_kernels(_cpu_matmul)
gpu = dense_kernels(_gpu_matmul)

ACTS = [gpu.IDENTITY, gpu.RELU, gpu.LEAKY_RELU, gpu.SIGMOID, gpu.TANH]
SLOPE = 0.1
TOL = {
    np.float32: dict(rtol=2e-5, atol=2e-5),
    np.float64: dict(rtol=1e-12, atol=1e-12),
}


@pytest.fixture
def big_tiles(monkeypatch):
    """Send every product to the 128 × 128-tile kernel, whatever its size."""
    monkeypatch.setattr(_gpu_matmul, "_use_big_tiles", lambda m, n: True)


def randn(dtype, *shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def f64(a):
    return np.asarray(a, dtype=np.float64)


def on_gpu(*arrays):
    return [cuda.to_device(np.ascontiguousarray(a)) for a in arrays]


# ------------------------------------------------------------------ the products

# (M, N, K) of out = A B, A (M, K), B (K, N). The small tile is 16 × 16 and the
# K-step 8: (17, 17, 17) is one past both, (33, 17, 65) is 3 × 2 blocks and nine
# K-steps, the last of one element.
SHAPES = [(1, 1, 1), (7, 13, 5), (33, 17, 65), (17, 17, 17), (5, 3, 0), (0, 5, 3), (4, 0, 3)]
SHAPES_F64 = [(1, 1, 1), (7, 13, 5), (17, 17, 17), (5, 3, 0)]


def run_product(name, a_mat, b_mat, dtype):
    """out = A B through the launcher `name`, A and B passed in the layout it
    takes (aᵀ for matmul_tn, bᵀ for matmul_nt); returns out on the host."""
    a_arg = a_mat.T if name == "matmul_tn" else a_mat
    b_arg = b_mat.T if name == "matmul_nt" else b_mat
    a_dev, b_dev = on_gpu(a_arg, b_arg)
    out = cuda.to_device(np.full((a_mat.shape[0], b_mat.shape[1]), np.nan, dtype))
    getattr(_gpu_matmul, name)(a_dev, b_dev, out)
    return out.copy_to_host()


def check_product(name, shape, dtype):
    m, n, k = shape
    a_mat, b_mat = randn(dtype, m, k, seed=1), randn(dtype, k, n, seed=2)
    out = run_product(name, a_mat, b_mat, dtype)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, f64(a_mat) @ f64(b_mat), **TOL[dtype])


PRODUCTS = pytest.mark.parametrize("name", ["matmul", "matmul_tn", "matmul_nt"])


@PRODUCTS
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_product_matches_numpy_float32(name, shape):
    check_product(name, shape, np.float32)


@PRODUCTS
@pytest.mark.parametrize("shape", SHAPES_F64, ids=str)
def test_product_matches_numpy_float64(name, shape):
    check_product(name, shape, np.float64)


# The big tile is 128 × 128: (65, 70) is partly filled in both directions; K = 9
# takes two K-steps, the second of one element; M = 129 is one past the edge.
@pytest.mark.parametrize("name, shape, dtype", [
    ("matmul", (65, 70, 9), np.float32),
    ("matmul_tn", (65, 70, 5), np.float32),
    ("matmul_nt", (65, 70, 5), np.float32),
    ("matmul_nt", (65, 70, 5), np.float64),
    ("matmul", (129, 3, 2), np.float32),
], ids=str)
def test_big_tile_product_matches_numpy(big_tiles, name, shape, dtype):
    check_product(name, shape, dtype)


def test_kernel_choice_by_size():
    assert not _gpu_matmul._use_big_tiles(4, 8)           # a small MLP's layer
    assert not _gpu_matmul._use_big_tiles(512, 512)       # 16 big blocks: too few
    assert not _gpu_matmul._use_big_tiles(16, 1 << 20)    # a short, wide out: a tile mostly empty
    assert _gpu_matmul._use_big_tiles(1024, 1024)
    assert _gpu_matmul._use_big_tiles(4096, 4096)


# ------------------------------------------------------------------ the dense layer

LAYER = (7, 13, 19)   # (N, K, M): 7 rows of 13 inputs into 19 units: 2 K-steps, 2 column tiles


def layer_inputs(dtype, n, k, m, bias):
    x = randn(dtype, n, k, seed=3)
    w = randn(dtype, m, k, seed=4) * dtype(0.5)
    b = randn(dtype, m, seed=5) if bias else np.empty(0, dtype)
    return x, w, b


def forward_pair(x, w, b, act):
    """(CPU twin's out, CUDA out) of linear_forward on the same inputs."""
    expected = np.empty((x.shape[0], w.shape[0]), x.dtype)
    cpu.linear_forward(x, w, b, act, SLOPE, expected)
    out = cuda.to_device(np.full_like(expected, np.nan))
    gpu.linear_forward(*on_gpu(x, w, b), act, SLOPE, out)
    return expected, out.copy_to_host()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("act", ACTS)
def test_linear_forward_matches_cpu(act, bias, dtype):
    x, w, b = layer_inputs(dtype, *LAYER, bias)
    x[2, 3] = np.nan  # row 2 is NaN after any activation, on both devices
    expected, out = forward_pair(x, w, b, act)
    assert np.isnan(out[2]).all() and np.isnan(expected[2]).all()
    np.testing.assert_allclose(out, expected, **TOL[dtype])


@pytest.mark.parametrize("act", [gpu.SIGMOID, gpu.LEAKY_RELU])
def test_linear_forward_with_no_inputs_is_f_of_bias(act):
    for bias in (True, False):
        x, w, b = layer_inputs(np.float64, 3, 0, 5, bias)
        expected, out = forward_pair(x, w, b, act)
        np.testing.assert_allclose(out, expected, **TOL[np.float64])


def test_linear_forward_big_tile_matches_cpu(big_tiles):
    x, w, b = layer_inputs(np.float32, 65, 5, 70, True)
    expected, out = forward_pair(x, w, b, gpu.TANH)
    np.testing.assert_allclose(out, expected, **TOL[np.float32])


def backward_pair(grad, x, w, y, act, want):
    """Both twins' (gx, gw, gb) on the same inputs, the gradients not in `want`
    passed as length-0 arrays (and returned as None). The CUDA outputs start as
    NaN, so anything left unwritten shows."""
    n, k = x.shape
    m = w.shape[0]
    shapes = {"x": (n, k), "w": (m, k), "b": (m,)}
    empty = {"x": (0, 0), "w": (0, 0), "b": (0,)}
    cpu_out = {g: np.empty(shapes[g] if g in want else empty[g], x.dtype) for g in "xwb"}
    gpu_out = {g: cuda.to_device(np.full(shapes[g] if g in want else empty[g], np.nan, x.dtype))
               for g in "xwb"}
    cpu.linear_backward(grad, x, w, y, act, SLOPE, cpu_out["x"], cpu_out["w"], cpu_out["b"])
    gpu.linear_backward(*on_gpu(grad, x, w, y), act, SLOPE,
                        gpu_out["x"], gpu_out["w"], gpu_out["b"])
    return ([cpu_out[g] if g in want else None for g in "xwb"],
            [gpu_out[g].copy_to_host() if g in want else None for g in "xwb"])


def layer_for_backward(dtype, act, n=7, k=13, m=19):
    """grad, x, w and the forward output y = f(x wᵀ + b) (from the CPU twin)."""
    x, w, b = layer_inputs(dtype, n, k, m, True)
    y = np.empty((n, m), dtype)
    cpu.linear_forward(x, w, b, act, SLOPE, y)
    return randn(dtype, n, m, seed=6), x, w, y


def assert_pairs_close(expected, actual, dtype):
    for e, a in zip(expected, actual):
        if e is None:
            assert a is None
        else:
            np.testing.assert_allclose(a, e, **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("act", ACTS)
def test_linear_backward_matches_cpu(act, dtype):
    grad, x, w, y = layer_for_backward(dtype, act)
    expected, actual = backward_pair(grad, x, w, y, act, "xwb")
    assert_pairs_close(expected, actual, dtype)


# Every subset that skips something, with and without the δ temporary.
@pytest.mark.parametrize("want", ["wb", "xb", "xw", "b", "x", "w"])
@pytest.mark.parametrize("act", [gpu.IDENTITY, gpu.SIGMOID])
def test_linear_backward_computes_only_what_is_wanted(act, want):
    grad, x, w, y = layer_for_backward(np.float32, act, n=5, k=3, m=6)
    expected, actual = backward_pair(grad, x, w, y, act, want)
    assert_pairs_close(expected, actual, np.float32)


def test_linear_backward_relu_selects_zero_where_the_unit_was_off():
    # grad is NaN where y = 0: relu's δ there is 0 (a select, not 0 · NaN), so all
    # three gradients are finite. Where y > 0 a NaN would pass, as on the CPU.
    y = np.array([[0.0, 1.0, 0.0], [2.0, 0.0, 3.0]])
    grad = np.array([[np.nan, 0.5, np.inf], [1.0, -np.inf, 2.0]])
    x, w = randn(np.float64, 2, 4, seed=7), randn(np.float64, 3, 4, seed=8)
    expected, actual = backward_pair(grad, x, w, y, gpu.RELU, "xwb")
    for a in actual:
        assert np.isfinite(a).all()
    assert_pairs_close(expected, actual, np.float64)


def test_linear_backward_of_an_empty_batch_is_zero():
    grad, x, w, y = layer_for_backward(np.float64, gpu.TANH, n=0, k=3, m=4)
    expected, actual = backward_pair(grad, x, w, y, gpu.TANH, "xwb")
    assert (actual[1] == 0).all() and (actual[2] == 0).all()
    assert_pairs_close(expected, actual, np.float64)


def test_linear_backward_big_tile_matches_cpu(big_tiles):
    # gw = δᵀ x is (6, 70) and gx = δ w (5, 70): one partly filled big tile each.
    grad, x, w, y = layer_for_backward(np.float32, gpu.RELU, n=5, k=70, m=6)
    expected, actual = backward_pair(grad, x, w, y, gpu.RELU, "xwb")
    assert_pairs_close(expected, actual, np.float32)
