"""kernels.cuda.elementwise against NumPy: each launcher runs on device copies of
host arrays, and the same operation runs in NumPy on the host arrays.

These kernels have no CPU twins (NumPy is the CPU side), so NumPy itself is the
reference: the expression each launcher stands in for (a + b with broadcasting,
x.T, x[::-1], np.add.at, …), or, for softmax, the formula written out.

On a machine without a GPU this runs on numba's CUDA simulator, where every GPU
thread is Python code: sizes are tiny and odd (no kernel may assume a multiple
of the block size), and inputs are made once per module and shared.
"""

import numpy as np
import pytest
from numba import cuda
from numba.cuda.random import create_xoroshiro128p_states, xoroshiro128p_dtype

from minigrad.kernels.cuda.activations import log_softmax_rows, softmax_rows
from minigrad.kernels.cuda.elementwise import (
    MAX_DIMS,
    binary,
    cast,
    clamp,
    compare,
    dropout_mask,
    fill,
    gather,
    index_add_rows,
    put_rows,
    scatter,
    take_rows,
    unary,
    where,
)

TOL = {
    np.dtype(np.float32): dict(rtol=2e-6, atol=1e-6),
    np.dtype(np.float64): dict(rtol=1e-13, atol=1e-14),
}
FLOATS = pytest.mark.parametrize("dtype", [np.float32, np.float64])
RNG = np.random.default_rng(0)


def randn(dtype, *shape):
    return RNG.standard_normal(shape).astype(dtype)


def run(launcher, *args, out):
    """launcher(*args, out) with every NumPy array argument and out copied to the
    device; returns out copied back."""
    dev = [cuda.to_device(a) if isinstance(a, np.ndarray) else a for a in args]
    d_out = cuda.to_device(out)
    launcher(*dev, d_out)
    return d_out.copy_to_host()


def assert_close(actual, expected):
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    if actual.dtype.kind == "f":
        np.testing.assert_allclose(actual, expected, **TOL[actual.dtype])
    else:
        np.testing.assert_array_equal(actual, expected)


# Positive operands keep a ** b real; b is kept away from 0 for a / b.
POS_A = {dt: (RNG.random(37) + 0.5).astype(dt) for dt in (np.float32, np.float64)}
POS_B = {dt: (RNG.random(37) * 2 + 0.25).astype(dt) for dt in (np.float32, np.float64)}

NP_BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
             "pow": np.power, "maximum": np.maximum, "minimum": np.minimum}
NP_COMPARE = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
              "gt": np.greater, "ge": np.greater_equal, "and": np.logical_and}


# ------------------------------------------------------------------ binary


@FLOATS
@pytest.mark.parametrize("op", list(NP_BINARY))
def test_binary_same_shape_matches_numpy(op, dtype):
    a, b = POS_A[dtype], POS_B[dtype]
    out = run(binary, op, a, b, out=np.empty(37, dtype))
    assert_close(out, NP_BINARY[op](a, b))


# Every broadcasting pattern that the backend meets: column by row, a vector
# against each row, 0-d arrays on either side, leading axes, and a middle axis.
BROADCAST_SHAPES = [
    ((3, 1), (1, 4)),
    ((5,), (2, 5)),
    ((2, 5), (5,)),
    ((), (3, 4)),
    ((3, 4), ()),
    ((2, 3, 1), (3, 5)),
    ((4, 1, 3), (1, 2, 1)),
    ((7, 1), (7, 3)),
]


@FLOATS
@pytest.mark.parametrize("a_shape, b_shape", BROADCAST_SHAPES)
def test_binary_broadcast_matches_numpy(a_shape, b_shape, dtype):
    a = randn(dtype, *a_shape)
    b = randn(dtype, *b_shape)
    expected = a - b  # sub: not symmetric, so a swapped operand would show
    out = run(binary, "sub", a, b, out=np.empty(expected.shape, dtype))
    assert_close(out, expected)


@FLOATS
def test_binary_broadcast_all_ops_share_one_kernel(dtype):
    # One launch per op on the same (3, 1) × (1, 4) operands (positive, for pow).
    a = POS_A[dtype][:3].reshape(3, 1)
    b = POS_B[dtype][:4].reshape(1, 4)
    for op, f in NP_BINARY.items():
        out = run(binary, op, a, b, out=np.empty((3, 4), dtype))
        assert_close(out, f(a, b))


@FLOATS
@pytest.mark.parametrize("op", ["sub", "div", "pow", "maximum"])
def test_binary_scalar_on_either_side(op, dtype):
    x = POS_A[dtype]
    f = NP_BINARY[op]
    assert_close(run(binary, op, x, 2.5, out=np.empty(37, dtype)), f(x, 2.5))
    assert_close(run(binary, op, 2.5, x, out=np.empty(37, dtype)), f(2.5, x))


def test_binary_scalar_keeps_float32_arithmetic():
    # NumPy 2 computes float32 + 0.1 in float32 (0.1 rounded to float32 first).
    x = np.array([1.0, 3.0, 1e8], np.float32)
    out = run(binary, "add", x, 0.1, out=np.empty(3, np.float32))
    np.testing.assert_array_equal(out, x + 0.1)


def test_binary_int64_division_is_true_division_and_out_dtype_converts():
    a = np.array([7, -7, 1, 10], np.int64)
    b = np.array([2, 2, 3, -4], np.int64)
    assert_close(run(binary, "div", a, b, out=np.empty(4, np.float64)), a / b)
    assert_close(run(binary, "add", a, b, out=np.empty(4, np.int64)), a + b)
    assert_close(run(binary, "mul", a, 3, out=np.empty(4, np.int64)), a * 3)
    # Mixed int64 and float32 computes in float64 (NumPy's rule); out float32.
    c = np.full(4, 0.5, np.float32)
    expected = (a * c).astype(np.float32)
    assert_close(run(binary, "mul", a, c, out=np.empty(4, np.float32)), expected)


def test_binary_maximum_minimum_propagate_nan():
    a = np.array([np.nan, 1.0, 2.0, np.nan, -0.5])
    b = np.array([1.0, np.nan, 3.0, np.nan, -1.5])
    for op in ("maximum", "minimum"):
        out = run(binary, op, a, b, out=np.empty(5))
        np.testing.assert_array_equal(out, NP_BINARY[op](a, b))  # NaN == NaN here


def test_binary_empty_axis_launches_nothing():
    a = np.ones((0, 3), np.float32)
    b = np.ones((1, 3), np.float32)
    out = run(binary, "add", a, b, out=np.empty((0, 3), np.float32))
    assert out.shape == (0, 3)


def test_binary_rejects_bad_input():
    d = cuda.to_device(np.ones(3))
    with pytest.raises(ValueError, match="unknown op"):
        binary("mod", d, d, d)
    with pytest.raises(TypeError):
        binary("add", 1.0, 2.0, d)
    shape = (1,) * (MAX_DIMS + 1)
    big = cuda.to_device(np.ones((2,) + shape[1:]))
    one = cuda.to_device(np.ones(shape))
    with pytest.raises(ValueError, match=f"MAX_DIMS = {MAX_DIMS}"):
        binary("add", big, one, cuda.to_device(np.ones((2,) + shape[1:])))


# ------------------------------------------------------------------ compare


@pytest.mark.parametrize("op", list(NP_COMPARE))
def test_compare_matches_numpy_with_nan(op):
    a = np.array([1.0, 2.0, np.nan, 0.0, -3.0, np.nan, 5.0], np.float32)
    b = np.array([1.0, 3.0, 1.0, 0.0, -4.0, np.nan, 0.0], np.float32)
    assert_close(run(compare, op, a, b, out=np.empty(7, bool)), NP_COMPARE[op](a, b))


def test_compare_broadcast_scalar_int64_and_bool():
    a = np.arange(-6, 6, dtype=np.int64).reshape(3, 4)
    row = np.array([0, 1, -1, 5], np.int64)
    assert_close(run(compare, "ge", a, row, out=np.empty((3, 4), bool)), a >= row)
    assert_close(run(compare, "lt", 2, a, out=np.empty((3, 4), bool)), 2 < a)
    assert_close(run(compare, "eq", a, 0.0, out=np.empty((3, 4), bool)), a == 0.0)
    m = np.array([[True], [False], [True]])
    n = np.array([True, False, True, True])
    assert_close(run(compare, "and", m, n, out=np.empty((3, 4), bool)),
                 np.logical_and(m, n))


# ------------------------------------------------------------------ where

WHERE_SHAPES = [((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), (3, 1)), ((3, 1), (1, 4), ()),
                ((2, 1, 3), (2, 5, 1), (5, 3))]


@FLOATS
@pytest.mark.parametrize("c_shape, a_shape, b_shape", WHERE_SHAPES)
def test_where_matches_numpy_with_broadcasting(c_shape, a_shape, b_shape, dtype):
    cond = RNG.random(c_shape) > 0.4
    a, b = randn(dtype, *a_shape), randn(dtype, *b_shape)
    expected = np.where(cond, a, b)
    assert_close(run(where, cond, a, b, out=np.empty(expected.shape, dtype)), expected)


def test_where_with_numbers_and_in_place():
    cond = np.array([[True, False, True], [False, False, True]])
    x = np.arange(6.0).reshape(2, 3)
    assert_close(run(where, cond, 0.5, x, out=np.empty((2, 3))), np.where(cond, 0.5, x))
    assert_close(run(where, cond, x, -1, out=np.empty((2, 3))), np.where(cond, x, -1.0))
    d_x = cuda.to_device(x)                       # out is b itself: x[cond] = 7
    where(cuda.to_device(cond), 7.0, d_x, d_x)
    assert_close(d_x.copy_to_host(), np.where(cond, 7.0, x))


# ------------------------------------------------------------------ unary

NP_UNARY = {"neg": np.negative, "exp": np.exp, "log": np.log, "sqrt": np.sqrt,
            "abs": np.abs, "sign": np.sign, "sin": np.sin, "cos": np.cos}


@FLOATS
@pytest.mark.parametrize("op", list(NP_UNARY))
def test_unary_matches_numpy_at_edges(op, dtype):
    # Ordinary values and IEEE edges: log 0 = −inf, log/sqrt of < 0 = NaN,
    # exp overflow = inf, NaN in → NaN out.
    x = np.array([0.3, 1.7, -2.5, 0.0, -0.0, 1000.0, -1000.0, np.inf, -np.inf, np.nan, 42.0],
                 dtype)
    with np.errstate(all="ignore"):
        expected = NP_UNARY[op](x)
    out = run(unary, op, x, out=np.empty(x.shape, dtype))
    assert_close(out, expected)


def test_unary_int64_input():
    x = np.array([-3, 0, 4], np.int64)
    assert_close(run(unary, "abs", x, out=np.empty(3, np.int64)), np.abs(x))
    assert_close(run(unary, "sign", x, out=np.empty(3, np.int64)), np.sign(x))
    assert_close(run(unary, "exp", x, out=np.empty(3, np.float64)), np.exp(x))


# ------------------------------------------------------------------ clamp, fill, cast


@FLOATS
def test_clamp_bounds_and_nan(dtype):
    x = np.concatenate([randn(dtype, 21) * dtype(3), np.array([np.nan], dtype)])
    for lo, hi in [(-1.0, 0.5), (None, 0.5), (-1.0, None), (None, None), (1.0, -1.0)]:
        out = run(clamp, x, lo, hi, out=np.empty_like(x))
        expected = x
        if lo is not None:
            expected = np.maximum(expected, dtype(lo))
        if hi is not None:
            expected = np.minimum(expected, dtype(hi))
        np.testing.assert_array_equal(out, expected)
        assert np.isnan(out[-1])


@pytest.mark.parametrize("dtype, value", [(np.float32, 0.1), (np.float64, -2.5),
                                          (np.int64, 7), (np.bool_, True)])
def test_fill(dtype, value):
    d_out = cuda.to_device(np.zeros((3, 5), dtype))
    fill(d_out, value)
    assert_close(d_out.copy_to_host(), np.full((3, 5), value, dtype))


@pytest.mark.parametrize("src, dst", [(np.float64, np.float32), (np.float32, np.float64),
                                      (np.float64, np.int64), (np.int64, np.float32),
                                      (np.float32, np.bool_), (np.bool_, np.float64),
                                      (np.float32, np.float32)])
def test_cast_matches_astype(src, dst):
    base = np.array([[1.5, -2.7, 0.0], [3.0, np.nan, -0.25]])
    if np.int64 in (src, dst):
        base[1, 1] = 8.0  # NaN → int is undefined in NumPy and on the GPU alike
    x = base.astype(src)
    assert_close(run(cast, x, out=np.empty(x.shape, dst)), x.astype(dst))


# ------------------------------------------------------------------ gather, scatter


def view_args(base, view):
    """(offset, strides) of a NumPy view of the contiguous array base, in elements:
    what the backend passes to gather and scatter."""
    item = base.itemsize
    offset = (view.__array_interface__["data"][0] - base.__array_interface__["data"][0])
    return offset // item, tuple(s // item for s in view.strides)


X34 = np.arange(12.0).reshape(3, 4)
X234 = np.arange(24.0).reshape(2, 3, 4)
X9 = np.arange(9.0) * 1.5

# (name, base, view of base): every view the backend makes contiguous with gather.
VIEWS = [
    ("transpose", X34, lambda a: a.T),
    ("permute 3-d", X234, lambda a: a.transpose(2, 0, 1)),
    ("slice with step", X9, lambda a: a[1:8:3]),
    ("negative step", X9, lambda a: a[::-1]),
    ("negative step from 7", X9, lambda a: a[7:1:-2]),
    ("column", X34, lambda a: a[:, 2]),
    ("integer index", X34, lambda a: a[1]),
    ("element (0-d)", X34, lambda a: a[2, 3, ...]),
    ("new axis", X9, lambda a: a[None]),
    ("2-d slices", X234, lambda a: a[1, ::2, 1:3]),
    ("broadcast_to", X9, lambda a: np.broadcast_to(a, (4, 9))),
    ("broadcast_to column", X34[:, :1].copy(), lambda a: np.broadcast_to(a, (3, 5))),
]


@pytest.mark.parametrize("name, base, view", VIEWS, ids=[v[0] for v in VIEWS])
def test_gather_makes_views_contiguous(name, base, view):
    v = view(base)
    offset, strides = view_args(base, v)
    out = run(gather, base, offset, strides, out=np.empty(v.shape))
    np.testing.assert_array_equal(out, v)


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_])
def test_gather_other_dtypes(dtype):
    x = (X234 % 5 != 0) if dtype is np.bool_ else X234.astype(dtype)
    v = x.transpose(2, 0, 1)[::-1]
    offset, strides = view_args(x, v)
    out = run(gather, x, offset, strides, out=np.empty(v.shape, dtype))
    assert_close(out, np.ascontiguousarray(v))


SCATTER_VIEWS = [v for v in VIEWS if not v[0].startswith("broadcast_to")]


@pytest.mark.parametrize("name, base, view", SCATTER_VIEWS, ids=[v[0] for v in SCATTER_VIEWS])
def test_scatter_is_gathers_inverse(name, base, view):
    v = view(base)
    offset, strides = view_args(base, v)
    g = np.arange(1.0, v.size + 1).reshape(v.shape)  # nonzero, all different
    out = run(scatter, g, offset, strides, out=np.zeros(base.shape))
    expected = np.zeros(base.shape)
    view(expected)[...] = g
    np.testing.assert_array_equal(out, expected)
    back = run(gather, out, offset, strides, out=np.empty(v.shape))
    np.testing.assert_array_equal(back, g)


def test_gather_rejects_too_many_dims():
    shape = (1,) * (MAX_DIMS + 1)
    d = cuda.to_device(np.ones(shape))
    with pytest.raises(ValueError, match=f"MAX_DIMS = {MAX_DIMS}"):
        gather(d, 0, (0,) * (MAX_DIMS + 1), d)


# ------------------------------------------------------------------ rows by index

INDEX = np.array([2, -1, 0, 2, 4, -5, 2], np.int64)  # repeats, negatives (R = 5)


@FLOATS
def test_take_rows_matches_fancy_indexing(dtype):
    x = randn(dtype, 5, 3)
    out = run(take_rows, x, INDEX, out=np.empty((7, 3), dtype))
    np.testing.assert_array_equal(out, x[INDEX])


@FLOATS
def test_index_add_rows_matches_add_at(dtype):
    g = randn(dtype, 7, 3)
    start = randn(dtype, 5, 3)
    out = run(index_add_rows, g, INDEX, out=start.copy())
    expected = start.copy()
    np.add.at(expected, INDEX, g)
    assert_close(out, expected)


# ------------------------------------------------------------------ softmax


def ref_softmax(z):
    z = np.asarray(z, np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def ref_log_softmax(z):
    z = np.asarray(z, np.float64)
    m = z.max(axis=1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))


# C = 1; C = 13 (< one warp); C = 300 (> 256 threads: each thread takes two
# columns); plus rows of logits at ±1000 that overflow the textbook formula.
SOFTMAX_INPUTS = {
    "1 column": randn(np.float64, 3, 1),
    "13 columns": randn(np.float64, 3, 13) * 3,
    "300 columns": randn(np.float64, 2, 300) * 3,
    "logits ±1000": np.array([[1000.0, -1000.0, 999.0, 0.0],
                              [-1000.0, -1000.0, -999.0, -1001.0]]),
}


@FLOATS
@pytest.mark.parametrize("key", list(SOFTMAX_INPUTS))
def test_softmax_rows_matches_formula(key, dtype):
    x = SOFTMAX_INPUTS[key].astype(dtype)
    out = run(softmax_rows, x, out=np.empty_like(x))
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out.sum(axis=1), 1.0, **TOL[out.dtype])
    assert_close(out, ref_softmax(x).astype(dtype))


@FLOATS
@pytest.mark.parametrize("key", ["13 columns", "logits ±1000"])
def test_log_softmax_rows_matches_formula(key, dtype):
    x = SOFTMAX_INPUTS[key].astype(dtype)
    out = run(log_softmax_rows, x, out=np.empty_like(x))
    assert np.all(np.isfinite(out))  # −2000 at ±1000, not log(0) = −inf
    assert_close(out, ref_log_softmax(x).astype(dtype))


# ------------------------------------------------------------------ dropout

@pytest.fixture(scope="module")
def states():
    # 64 generators for 3001 elements: each thread walks ~47 of them. Made once
    # (slow on the simulator); each dropout_mask call advances them.
    return create_xoroshiro128p_states(64, seed=1)


@FLOATS
@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
# On the simulator numba's xoroshiro128p runs as Python on NumPy uint64 scalars,
# whose wrap-around (intended: the generator is arithmetic mod 2⁶⁴) warns, and
# numba compiles the generator's seeding in object mode there, which warns too.
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.filterwarnings("ignore::numba.NumbaWarning")
@pytest.mark.filterwarnings("ignore::numba.NumbaDeprecationWarning")
def test_dropout_mask_values_and_kept_fraction(p, dtype, states):
    n = 3001
    d_out = cuda.to_device(np.full(n, -1.0, dtype))
    dropout_mask(states, p, d_out)
    out = d_out.copy_to_host()
    if p == 1.0:
        np.testing.assert_array_equal(out, 0.0)
        return
    scale = dtype(1.0 / (1.0 - p))
    assert np.all((out == 0) | (out == scale))
    kept = np.mean(out != 0)
    # Binomial(n, 1 − p): 5 standard deviations is about ±0.042 for p = 0.3.
    assert abs(kept - (1.0 - p)) <= 5 * np.sqrt(p * (1 - p) / n)
    if p > 0.0:  # the states advanced: a second mask differs from the first
        dropout_mask(states, p, d_out)
        assert not np.array_equal(d_out.copy_to_host(), out)


def test_dropout_mask_rejects_bad_p():
    d = cuda.to_device(np.empty(3, np.float32))
    with pytest.raises(ValueError):
        dropout_mask(cuda.to_device(np.zeros(1, xoroshiro128p_dtype)), 1.5, d)


def test_put_rows_is_take_rows_inverse():
    out = np.zeros((5, 3))
    g = randn(np.float64, 3, 3)
    index = np.array([4, 0, -3])
    expected = out.copy()
    expected[index] = g
    assert_close(run(put_rows, g, index, out=out), expected)
