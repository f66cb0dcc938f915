"""The Tensor itself: creation, dtypes, attributes, conversions, comparisons and
type promotion (API.md, section Tensors). Gradients live in test_ops.py and
test_autograd.py."""

import operator

import numpy as np
import pytest

import minigrad as mg

F32, F64, I64, BOOL = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64), np.dtype(bool)


# ---- creation -----------------------------------------------------------------------


@pytest.mark.parametrize("data, dtype", [
    (1.5, F32),
    ([1.0, 2.0], F32),
    ([[1, 2.5], [3, 4]], F32),           # mixed ints and floats are float data
    (np.array([1.0, 2.0]), F64),          # NumPy keeps its float dtype, as PyTorch
    (np.array([1.0, 2.0], np.float32), F32),
    (np.float64(2.0), F64),
    (3, I64),
    ([[1, 2], [3, 4]], I64),
    (np.array([1, 2], np.int32), I64),    # integer data becomes int64
    (True, BOOL),
    ([True, False], BOOL),
    (np.array([True, False]), BOOL),
])
def test_tensor_default_dtype(data, dtype):
    t = mg.tensor(data)
    assert t.dtype == dtype
    np.testing.assert_array_equal(np.asarray(t), np.asarray(data))


@pytest.mark.parametrize("dtype", [mg.float32, mg.float64, mg.int64, np.float64, "float32"])
def test_tensor_explicit_dtype_wins(dtype):
    t = mg.tensor([1, 2, 3], dtype=dtype)
    assert t.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(np.asarray(t), [1, 2, 3])


def test_tensor_from_numpy_array_copies():
    a = np.array([1.0, 2.0, 3.0])
    t = mg.tensor(a)
    a[0] = 100.0
    assert t.tolist() == [1.0, 2.0, 3.0]
    assert not np.shares_memory(t.raw, a)


def test_tensor_from_tensor_copies_and_keeps_dtype():
    s = mg.tensor(np.array([1.0, 2.0]))
    t = mg.tensor(s)
    assert t.dtype == F64
    assert not np.shares_memory(t.raw, s.raw)
    s.raw[0] = 9.0
    assert t.tolist() == [1.0, 2.0]


def test_tensor_from_list_does_not_alias_later_changes():
    data = [1.0, 2.0]
    t = mg.tensor(data)
    data[0] = 5.0
    assert t.tolist() == [1.0, 2.0]


def test_tensor_requires_grad_kwarg():
    t = mg.tensor([1.0, 2.0], requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad is None


def test_from_numpy_shares_memory_both_ways():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    t = mg.from_numpy(a)
    assert t.dtype == F64 and t.shape == (2, 2)
    a[0, 0] = -1.0
    assert t.tolist()[0][0] == -1.0
    t.numpy()[1, 1] = 40.0
    assert a[1, 1] == 40.0


def test_from_numpy_rejects_non_arrays():
    with pytest.raises(TypeError):
        mg.from_numpy([1.0, 2.0])


@pytest.mark.parametrize("factory, fill", [(mg.zeros, 0.0), (mg.ones, 1.0)])
@pytest.mark.parametrize("shape_args", [(2, 3), ((2, 3),), ([2, 3],)])
def test_zeros_ones_shape_and_default_float32(factory, fill, shape_args):
    t = factory(*shape_args)
    assert t.shape == (2, 3) and t.dtype == F32 and not t.requires_grad
    np.testing.assert_array_equal(t.numpy(), np.full((2, 3), fill))


@pytest.mark.parametrize("factory", [mg.zeros, mg.ones, mg.randn, mg.rand])
@pytest.mark.parametrize("dtype", [mg.float32, mg.float64])
def test_factories_accept_dtype_and_requires_grad(factory, dtype):
    t = factory(3, 2, dtype=dtype, requires_grad=True)
    assert t.shape == (3, 2) and t.dtype == dtype
    assert t.requires_grad and t.is_leaf and t.device == "cpu"


@pytest.mark.parametrize("factory, fill", [(mg.zeros_like, 0.0), (mg.ones_like, 1.0)])
def test_like_factories_copy_shape_and_dtype(factory, fill):
    src = mg.tensor(np.arange(6.0).reshape(2, 3))  # float64
    t = factory(src)
    assert t.shape == (2, 3) and t.dtype == F64 and not t.requires_grad
    np.testing.assert_array_equal(t.numpy(), np.full((2, 3), fill))
    assert not np.shares_memory(t.raw, src.raw)


@pytest.mark.parametrize("factory", [mg.zeros_like, mg.ones_like])
def test_like_factories_accept_dtype_and_requires_grad(factory):
    src = mg.zeros(4, dtype=mg.float32)
    t = factory(src, dtype=mg.float64, requires_grad=True)
    assert t.dtype == F64 and t.shape == (4,) and t.requires_grad


def test_randn_and_rand_shapes_and_ranges():
    mg.manual_seed(1)
    u = mg.rand(1000)
    assert u.shape == (1000,) and u.dtype == F32
    assert (u.numpy() >= 0).all() and (u.numpy() < 1).all()
    z = mg.randn(2000, dtype=mg.float64)
    # N(0, 1): with 2000 samples the sample mean is within 4 standard errors of 0.
    assert abs(z.numpy().mean()) < 4 / np.sqrt(2000)
    assert 0.8 < z.numpy().std() < 1.2


@pytest.mark.parametrize("factory", [mg.randn, mg.rand])
def test_manual_seed_makes_random_factories_repeat(factory):
    mg.manual_seed(123)
    first = factory(3, 4).numpy().copy()
    second = factory(3, 4).numpy().copy()
    mg.manual_seed(123)
    again = factory(3, 4).numpy()
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, second)  # the stream moves on without reseeding


def test_arange_int_default():
    t = mg.arange(5)
    assert t.dtype == I64
    assert t.tolist() == [0, 1, 2, 3, 4]


def test_arange_start_end_step_float():
    t = mg.arange(0.0, 1.0, 0.25)
    assert t.dtype == F32
    np.testing.assert_allclose(t.numpy(), [0.0, 0.25, 0.5, 0.75])


def test_arange_dtype_and_requires_grad():
    t = mg.arange(3, dtype=mg.float64, requires_grad=True)
    assert t.dtype == F64 and t.requires_grad
    assert t.tolist() == [0.0, 1.0, 2.0]


# ---- attributes -----------------------------------------------------------------------


def test_attributes_of_a_leaf():
    t = mg.tensor(np.zeros((2, 3, 4)))
    assert t.shape == (2, 3, 4) and isinstance(t.shape, tuple)
    assert t.ndim == 3 and t.dtype == F64 and t.device == "cpu"
    assert t.is_leaf and not t.requires_grad and t.grad is None
    assert isinstance(t.raw, np.ndarray)


def test_attributes_of_an_op_result():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    assert not y.is_leaf and y.requires_grad and y.grad_fn is not None
    z = mg.tensor([1.0, 2.0]) * 2.0  # nothing requires grad: no graph, a leaf
    assert z.is_leaf and not z.requires_grad and z.grad_fn is None


def test_scalar_tensor_has_empty_shape():
    t = mg.tensor(3.0)
    assert t.shape == () and t.ndim == 0


# ---- conversions --------------------------------------------------------------------


def test_numpy_shares_memory():
    t = mg.zeros(3)
    a = t.numpy()
    a[1] = 7.0
    assert t.tolist() == [0.0, 7.0, 0.0]
    assert np.shares_memory(a, t.raw)


def test_numpy_of_tensor_requiring_grad_raises_like_pytorch():
    t = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError):
        t.numpy()
    np.testing.assert_array_equal(t.detach().numpy(), [1.0])


@pytest.mark.parametrize("data, value, pytype", [
    (2.5, 2.5, float),
    ([[2.5]], 2.5, float),
    (np.array([-3.25]), -3.25, float),
    (7, 7, int),
    ([True], True, bool),
])
def test_item_returns_python_number(data, value, pytype):
    v = mg.tensor(data).item()
    assert v == value and type(v) is pytype


def test_item_of_several_elements_raises():
    with pytest.raises((ValueError, RuntimeError)):
        mg.tensor([1.0, 2.0]).item()


def test_tolist_gives_nested_python_lists():
    assert mg.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    out = mg.tensor([[0.5, 1.5]]).tolist()
    assert out == [[0.5, 1.5]] and type(out[0][0]) is float
    assert mg.tensor(2.0).tolist() == 2.0


def test_array_protocol():
    t = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    a = np.asarray(t)
    assert a.dtype == F32 and a.shape == (2, 2)
    np.testing.assert_array_equal(a, [[1.0, 2.0], [3.0, 4.0]])
    assert np.asarray(t, dtype=np.float64).dtype == F64


def test_len_is_first_dimension():
    assert len(mg.zeros(4, 2)) == 4
    assert len(mg.tensor([1, 2, 3])) == 3


def test_len_of_zero_dim_tensor_raises():
    with pytest.raises(TypeError):
        len(mg.tensor(1.0))


def test_repr_shows_values_dtype_and_device():
    r = repr(mg.tensor([1.5, -2.0]))
    assert "1.5" in r and "-2." in r and "float32" in r and "cpu" in r
    assert "grad_fn" not in r
    assert "int64" in repr(mg.tensor([3, 4]))


def test_repr_shows_grad_fn_of_op_result():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    r = repr(x * 3.0)
    assert "grad_fn" in r and "Mul" in r and "3." in r and "6." in r


@pytest.mark.parametrize("make", [
    lambda: mg.tensor([1, 2], requires_grad=True),
    lambda: mg.tensor([True, False], requires_grad=True),
    lambda: mg.zeros(2, dtype=mg.int64, requires_grad=True),
    lambda: mg.arange(3, requires_grad=True),
    lambda: mg.tensor([1, 2]).requires_grad_(),
    lambda: mg.tensor([True]).requires_grad_(True),
])
def test_int_and_bool_tensors_cannot_require_grad(make):
    with pytest.raises(TypeError):
        make()


def test_failed_requires_grad_leaves_flag_off():
    t = mg.tensor([1, 2])
    with pytest.raises(TypeError):
        t.requires_grad_()
    assert not t.requires_grad


# ---- comparisons, argmax, casts -----------------------------------------------------

CMP = [operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge]


@pytest.mark.parametrize("op", CMP)
def test_comparison_with_tensor_gives_bool_tensor(op):
    a = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    b = np.array([3.0, 2.0, 1.0])  # broadcast along rows
    out = op(mg.tensor(a, requires_grad=True), mg.tensor(b))
    assert isinstance(out, mg.Tensor) and out.dtype == BOOL
    assert not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), op(a, b))


@pytest.mark.parametrize("op", CMP)
def test_comparison_with_python_number_gives_bool_tensor(op):
    a = np.array([1, 2, 3, 4])
    out = op(mg.tensor(a), 2)
    assert out.dtype == BOOL
    np.testing.assert_array_equal(out.numpy(), op(a, 2))


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_argmax_matches_numpy(axis):
    a = np.array([[0.1, 0.9, -2.0], [3.0, -1.0, 0.5]])
    out = mg.tensor(a, requires_grad=True).argmax(axis)
    assert out.dtype == I64 and not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), np.argmax(a, axis=axis))


def test_float_casts_int_to_float32():
    t = mg.tensor([1, 2, 3]).float()
    assert t.dtype == F32 and t.tolist() == [1.0, 2.0, 3.0]


def test_long_truncates_toward_zero_like_pytorch():
    t = mg.tensor([2.7, -2.7, 0.4]).long()
    assert t.dtype == I64 and t.tolist() == [2, -2, 0]
    assert not t.requires_grad


# ---- type promotion (PyTorch's rules) -------------------------------------------------

ARITH = [operator.add, operator.sub, operator.mul, operator.truediv]


@pytest.mark.parametrize("op", ARITH)
def test_float32_with_float64_promotes_to_float64_both_ways(op):
    a = mg.tensor(np.array([1.0, 2.0], np.float32))
    b = mg.tensor(np.array([4.0, 8.0], np.float64))
    assert op(a, b).dtype == F64
    assert op(b, a).dtype == F64
    np.testing.assert_allclose(op(a, b).numpy(), op(np.array([1.0, 2.0]), np.array([4.0, 8.0])))


@pytest.mark.parametrize("op", ARITH)
@pytest.mark.parametrize("number", [2.5, 3, -0.1])
def test_python_number_never_promotes_float32(op, number):
    a = mg.tensor(np.array([1.0, 2.0], np.float32))
    assert op(a, number).dtype == F32
    assert op(number, a).dtype == F32


@pytest.mark.parametrize("op", ARITH)
def test_python_number_keeps_float64(op):
    a = mg.tensor(np.array([1.0, 2.0]))
    assert op(a, 2.5).dtype == F64 and op(2.5, a).dtype == F64


@pytest.mark.parametrize("op", ARITH)
def test_int_tensor_with_python_float_gives_float32(op):
    a = mg.tensor([1, 2])
    out = op(a, 0.5)
    assert out.dtype == F32
    np.testing.assert_allclose(out.numpy(), op(np.array([1.0, 2.0]), 0.5))
    assert op(0.5, a).dtype == F32


def test_int_tensor_power_python_float_gives_float32():
    out = mg.tensor([1, 4, 9]) ** 0.5
    assert out.dtype == F32
    np.testing.assert_allclose(out.numpy(), [1.0, 2.0, 3.0])


@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul])
def test_int_with_int_stays_int64(op):
    out = op(mg.tensor([5, 7]), mg.tensor([2, 3]))
    assert out.dtype == I64 and out.tolist() == op(np.array([5, 7]), np.array([2, 3])).tolist()
    assert op(mg.tensor([5, 7]), 2).dtype == I64


def test_int_true_division_gives_float32():
    out = mg.tensor([1, 3]) / mg.tensor([2, 4])
    assert out.dtype == F32
    np.testing.assert_allclose(out.numpy(), [0.5, 0.75])


def test_int_tensor_with_float32_tensor_gives_float32():
    a, b = mg.tensor([1, 2]), mg.tensor(np.array([0.5, 0.5], np.float32))
    assert (a * b).dtype == F32 and (b + a).dtype == F32


# ---- dim as an alias of axis ----------------------------------------------------------

A = np.array([[1.0, 5.0, 2.0], [4.0, -1.0, 3.0]])


def _values(out):
    return (out.values if isinstance(out, tuple) else out).numpy()


@pytest.mark.parametrize("method", ["sum", "mean", "max", "min", "argmax", "argmin", "softmax",
                                    "log_softmax"])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_dim_is_alias_of_axis(method, axis):
    t = mg.tensor(A)
    by_axis = _values(getattr(t, method)(axis=axis))
    by_dim = _values(getattr(t, method)(dim=axis))
    by_position = _values(getattr(t, method)(axis))
    np.testing.assert_array_equal(by_axis, by_dim)
    np.testing.assert_array_equal(by_position, by_dim)


@pytest.mark.parametrize("method", ["sum", "mean", "max", "min"])
@pytest.mark.parametrize("keep", [dict(keepdims=True), dict(keepdim=True)])
def test_dim_alias_matches_numpy_reduction(method, keep):
    out = getattr(mg.tensor(A), method)(dim=1, **keep)
    np.testing.assert_allclose(_values(out), getattr(A, method)(axis=1, keepdims=True))
