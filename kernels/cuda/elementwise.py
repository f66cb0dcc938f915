"""Elementwise, indexing and dropout kernels: what the GPU backend runs for
every Tensor operation that has no fused kernel.

These have no CPU twins: on the CPU, NumPy does this work. Each launcher here is
the GPU's stand-in for one NumPy expression, and its docstring names it:

    binary     a + b, a − b, a · b, a / b, a ** b, maximum, minimum  (broadcasting)
    compare    a == b, a != b, a < b, a <= b, a > b, a >= b, a and b  (broadcasting)
    unary      −x, exp, log, sqrt, |x|, sign, sin, cos
    where      cond ? a : b  (broadcasting; a or b may be a number)
    clamp      clip(x, lo, hi)          fill   out[...] = value
    cast       x.astype(out.dtype)      gather / scatter   strided views and their inverse
    take_rows  x[index]                 index_add_rows     np.add.at(out, index, g)
    put_rows   out[index] = g
    dropout_mask                        [u ≥ p] / (1 − p), u ~ U[0, 1)

Arrays are numba device arrays, C-contiguous; outputs are passed in, allocated by
the caller with the right shape and dtype, and every store converts to out's dtype
(as NumPy's ``out=`` with ``casting="unsafe"``). A launcher launches nothing when
its output is empty.

Most kernels see their arrays flat (``a.reshape(a.size)``, a view, no copy): one
thread per element i of out, neighbouring threads on neighbouring addresses, so
every warp's loads and stores are coalesced. The kernels that walk an array with
other strides (broadcasting, gather, scatter) get a shape and strides from the
host, as tuples passed by value with the launch (no device copy), and turn the
flat output index i into an offset into their input:

    i = Σ_d idx_d · (Π_{e>d} shape_e)   (C order)   →   offset = Σ_d idx_d · strides_d

On the host, _plan first drops axes of length 1 and merges neighbouring axes that
every operand walks as one (moving the last axis of a (B, M, N) array to the
front is really a 2-D transpose; a contiguous copy is 1-D), since each remaining
axis costs a 64-bit integer division per element, the most expensive instruction
these kernels run.
"""

import functools
import math
import numbers

import numpy as np
from numba import cuda
from numba.cuda.random import xoroshiro128p_uniform_float64

from .launch import launch_1d

# Broadcasting, gather and scatter handle up to this many axes. Shapes and strides
# reach the kernels as tuples of exactly this length (padded on the left with
# axes of length 1 and stride 0), so each dtype combination compiles once.
MAX_DIMS = 6


# ------------------------------------------------------------------ host helpers


def _flat(a):
    """The 1-D view of a C-contiguous device array (a 0-d array becomes (1,))."""
    return a if a.ndim == 1 else a.reshape(a.size)


def _is_number(v):
    return isinstance(v, (numbers.Number, np.bool_))


def _scalar_for(dtype, value):
    """value as the NumPy scalar type NumPy 2 would compute it in beside an array
    of ``dtype`` (NEP 50: a Python float next to float32 is float32, next to int64
    float64): float32 arithmetic stays float32, and the kernel compiles once per
    dtype, not once per Python type."""
    return np.result_type(dtype, value).type(value)


def _op_code(ops, op):
    try:
        return ops[op]
    except KeyError:
        raise ValueError(f"unknown op {op!r}; expected one of {sorted(ops)}") from None


def _check_ndim(ndim):
    if ndim > MAX_DIMS:
        raise ValueError(
            f"broadcasting and strided kernels handle at most MAX_DIMS = {MAX_DIMS} "
            f"dimensions, got {ndim}")


def contiguous_strides(shape):
    """Element strides of a C-contiguous array of this shape (a tuple): for the
    strided kernels here, and for the CUDA backend's views and transposes."""
    strides = [0] * len(shape)
    step = 1
    for d in range(len(shape) - 1, -1, -1):
        strides[d] = step
        step *= shape[d]
    return tuple(strides)


def _plan(shape, *operand_strides):
    """(shape, strides of each operand, ndim) for the strided kernels.

    Drops length-1 axes, merges axis d into axis d + 1 where every operand has
    strides[d] == strides[d + 1] · shape[d + 1] (the two axes are then one axis of
    length shape[d] · shape[d + 1]), and right-aligns the ndim ≥ 1 axes left in
    tuples of MAX_DIMS, padded on the left with length 1 and stride 0. Merging
    keeps the C order of the elements, so flat index i means the same element.
    """
    axes = []  # [length, [stride of each operand]], outermost first
    for d, n in enumerate(shape):
        if n == 1:
            continue
        st = [s[d] for s in operand_strides]
        if axes and all(prev == s * n for prev, s in zip(axes[-1][1], st)):
            axes[-1][0] *= n
            axes[-1][1] = st
        else:
            axes.append([n, st])
    if not axes:  # a single element
        axes = [[1, [0] * len(operand_strides)]]
    pad = MAX_DIMS - len(axes)
    out_shape = (1,) * pad + tuple(n for n, _ in axes)
    out_strides = tuple(
        (0,) * pad + tuple(st[k] for _, st in axes) for k in range(len(operand_strides)))
    return (out_shape,) + out_strides + (len(axes),)


def _strides_to(shape, out_shape):
    """Element strides that read a C-contiguous array of ``shape`` as if broadcast to
    ``out_shape``: 0 along the axes it is broadcast over (ValueError if it can't be)."""
    if len(shape) > len(out_shape):
        raise ValueError(f"shape {shape} does not broadcast to {out_shape}")
    full = (1,) * (len(out_shape) - len(shape)) + tuple(shape)
    for n, m in zip(full, out_shape):
        if n != m and n != 1:
            raise ValueError(f"shape {shape} does not broadcast to {out_shape}")
    return tuple(0 if n == 1 else s for n, s in zip(full, contiguous_strides(full)))


@functools.lru_cache(maxsize=1024)
def _broadcast_plan(*shapes_and_out):
    """_plan for operands of the given shapes (the last shape is out's): each
    operand's strides in elements, 0 along the axes it is broadcast over. Cached: a
    training loop repeats the same shapes."""
    *shapes, out_shape = shapes_and_out
    _check_ndim(len(out_shape))
    return _plan(out_shape, *(_strides_to(shape, out_shape) for shape in shapes))


@functools.lru_cache(maxsize=1024)
def _strided_plan(shape, strides):
    """_plan for gather and scatter: one strided operand walked over ``shape``."""
    _check_ndim(len(shape))
    if len(strides) != len(shape):
        raise ValueError(f"{len(strides)} strides for a {len(shape)}-d array")
    return _plan(shape, tuple(strides))


# ------------------------------------------------------------------ index helpers


@cuda.jit(device=True, inline=True)
def _strided_offset(i, shape, strides, ndim):
    """Σ_d idx_d · strides_d, idx the multi-index of flat position i in shape
    (the ndim axes at the right end of the tuples; see _plan).

    Peels axes off from the innermost: idx_d = i mod shape_d, i ← i div shape_d.
    The outermost axis needs no division: what is left of i is its index."""
    k = 0
    for d in range(MAX_DIMS - 1, MAX_DIMS - ndim, -1):
        q = i // shape[d]
        k += (i - q * shape[d]) * strides[d]
        i = q
    return k + i * strides[MAX_DIMS - ndim]


@cuda.jit(device=True, inline=True)
def _strided_offsets2(i, shape, a_strides, b_strides, ndim):
    """_strided_offset for two operands at once: one division per axis serves both."""
    ka = 0
    kb = 0
    for d in range(MAX_DIMS - 1, MAX_DIMS - ndim, -1):
        q = i // shape[d]
        idx = i - q * shape[d]
        ka += idx * a_strides[d]
        kb += idx * b_strides[d]
        i = q
    d = MAX_DIMS - ndim
    return ka + i * a_strides[d], kb + i * b_strides[d]


# ------------------------------------------------------------------ binary

# The op is a kernel argument, the same for every thread: the if-chain below is a
# uniform branch (no warp divergence), a few integer compares per element beside
# the two loads and one store that bound an elementwise kernel. In exchange one
# compiled kernel per dtype combination serves all seven ops.
_ADD, _SUB, _MUL, _DIV, _POW, _MAXIMUM, _MINIMUM = range(7)
_BINARY_OPS = {"add": _ADD, "sub": _SUB, "mul": _MUL, "div": _DIV, "pow": _POW,
               "maximum": _MAXIMUM, "minimum": _MINIMUM}


@cuda.jit(device=True, inline=True)
def _binary_store(op, x, y, out, i):
    # out[i] = x OP y. Each branch stores its own result, so an int64 sum stays
    # an exact int64 instead of taking the float64 type of the division branch.
    if op == _ADD:
        out[i] = x + y
    elif op == _SUB:
        out[i] = x - y
    elif op == _MUL:
        out[i] = x * y
    elif op == _DIV:
        out[i] = x / y  # true division: int / int is a float
    elif op == _POW:
        out[i] = x ** y
    elif op == _MAXIMUM:
        # As np.maximum: a NaN on either side is the result (only NaN has x != x).
        if x != x or x >= y:
            out[i] = x
        else:
            out[i] = y
    else:  # _MINIMUM
        if x != x or x <= y:
            out[i] = x
        else:
            out[i] = y


@cuda.jit(cache=True)
def _binary_flat(op, a, b, out):
    # a, b, out of one shape, seen flat.
    i = cuda.grid(1)
    if i < out.shape[0]:
        _binary_store(op, a[i], b[i], out, i)


@cuda.jit(cache=True)
def _binary_scalar(op, x, s, scalar_left, out):
    # out = s OP x (scalar_left) or x OP s; s arrives by value with the launch.
    i = cuda.grid(1)
    if i < out.shape[0]:
        if scalar_left:
            _binary_store(op, s, x[i], out, i)
        else:
            _binary_store(op, x[i], s, out, i)


@cuda.jit(cache=True)
def _binary_broadcast(op, a, b, shape, a_strides, b_strides, ndim, out):
    # out[i] = a[ka] OP b[kb], ka and kb the offsets of out's multi-index in a and
    # b (stride 0 along an axis an operand is broadcast over).
    i = cuda.grid(1)
    if i < out.shape[0]:
        ka, kb = _strided_offsets2(i, shape, a_strides, b_strides, ndim)
        _binary_store(op, a[ka], b[kb], out, i)


def _launch_pairwise(op, a, b, out, flat_kernel, scalar_kernel, broadcast_kernel):
    """binary and compare: pick the flat, scalar or broadcast kernel."""
    if out.size == 0:
        return
    a_num, b_num = _is_number(a), _is_number(b)
    if a_num and b_num:
        raise TypeError("at least one operand must be a device array")
    o = _flat(out)
    n = o.shape[0]
    if a_num or b_num:
        x, s = (b, a) if a_num else (a, b)
        if x.shape != out.shape:
            raise ValueError(f"out has shape {out.shape}, the array operand {x.shape}")
        launch_1d(scalar_kernel, n, op, _flat(x), _scalar_for(x.dtype, s), a_num, o)
    elif a.shape == b.shape == out.shape:
        launch_1d(flat_kernel, n, op, _flat(a), _flat(b), o)
    else:
        shape, a_strides, b_strides, ndim = _broadcast_plan(a.shape, b.shape, out.shape)
        launch_1d(broadcast_kernel, n, op, _flat(a), _flat(b), shape, a_strides, b_strides,
                  ndim, o)


def binary(op, a, b, out):
    """out = a OP b with NumPy broadcasting, stored in out's dtype.

    op: "add" a + b, "sub" a − b, "mul" a · b, "div" a / b (true division: int / int
    gives a float, so out should be a float array), "pow" a ** b, "maximum" and
    "minimum" (a NaN on either side gives NaN, as np.maximum / np.minimum).

    a, b: device arrays or Python numbers, at least one an array. A number takes
    the NumPy 2 type it would have beside the array (2.0 beside float32 is a
    float32), so float32 arithmetic stays float32. out: the broadcast shape, any
    dtype (the result is converted on store, as out= with casting="unsafe").

    Same shapes: one flat kernel. A number on either side (a − 2, 2 − a): a kernel
    with the number as an argument. Otherwise a broadcast kernel, up to MAX_DIMS
    axes (more: ValueError).
    """
    _launch_pairwise(_op_code(_BINARY_OPS, op), a, b, out,
                     _binary_flat, _binary_scalar, _binary_broadcast)


# ------------------------------------------------------------------ compare

_EQ, _NE, _LT, _LE, _GT, _GE, _AND = range(7)
_COMPARE_OPS = {"eq": _EQ, "ne": _NE, "lt": _LT, "le": _LE, "gt": _GT, "ge": _GE,
                "and": _AND}


@cuda.jit(device=True, inline=True)
def _compare(op, x, y):
    # IEEE: every comparison with a NaN is False, except != (True).
    if op == _EQ:
        return x == y
    if op == _NE:
        return x != y
    if op == _LT:
        return x < y
    if op == _LE:
        return x <= y
    if op == _GT:
        return x > y
    if op == _GE:
        return x >= y
    return x != 0 and y != 0  # _AND: truthiness, as np.logical_and (NaN is true)


@cuda.jit(cache=True)
def _compare_flat(op, a, b, out):
    i = cuda.grid(1)
    if i < out.shape[0]:
        out[i] = _compare(op, a[i], b[i])


@cuda.jit(cache=True)
def _compare_scalar(op, x, s, scalar_left, out):
    i = cuda.grid(1)
    if i < out.shape[0]:
        if scalar_left:
            out[i] = _compare(op, s, x[i])
        else:
            out[i] = _compare(op, x[i], s)


@cuda.jit(cache=True)
def _compare_broadcast(op, a, b, shape, a_strides, b_strides, ndim, out):
    i = cuda.grid(1)
    if i < out.shape[0]:
        ka, kb = _strided_offsets2(i, shape, a_strides, b_strides, ndim)
        out[i] = _compare(op, a[ka], b[kb])


def compare(op, a, b, out):
    """out = a OP b, elementwise with NumPy broadcasting; out is bool.

    op: "eq" ==, "ne" !=, "lt" <, "le" <=, "gt" >, "ge" >=, "and" (a ≠ 0) ∧ (b ≠ 0),
    NumPy's logical_and. Any comparison with NaN is False except "ne".
    a, b, out: as in binary (the same flat / scalar / broadcast kernels).
    """
    _launch_pairwise(_op_code(_COMPARE_OPS, op), a, b, out,
                     _compare_flat, _compare_scalar, _compare_broadcast)


# ------------------------------------------------------------------ where


@cuda.jit(device=True, inline=True)
def _strided_offsets3(i, shape, c_strides, a_strides, b_strides, ndim):
    """_strided_offsets2 for three operands: one division per axis serves all three."""
    kc = 0
    ka = 0
    kb = 0
    for d in range(MAX_DIMS - 1, MAX_DIMS - ndim, -1):
        q = i // shape[d]
        idx = i - q * shape[d]
        kc += idx * c_strides[d]
        ka += idx * a_strides[d]
        kb += idx * b_strides[d]
        i = q
    d = MAX_DIMS - ndim
    return kc + i * c_strides[d], ka + i * a_strides[d], kb + i * b_strides[d]


@cuda.jit(cache=True)
def _where(cond, a, a_value, a_is_number, b, b_value, b_is_number,
           shape, c_strides, a_strides, b_strides, ndim, out):
    # out[i] = a[ka] if cond[kc] else b[kb]; a number arrives by value with the launch
    # (its array is then a one-element stand-in, never read).
    i = cuda.grid(1)
    if i < out.shape[0]:
        kc, ka, kb = _strided_offsets3(i, shape, c_strides, a_strides, b_strides, ndim)
        if cond[kc]:
            if a_is_number:
                out[i] = a_value
            else:
                out[i] = a[ka]
        else:
            if b_is_number:
                out[i] = b_value
            else:
                out[i] = b[kb]


_STAND_INS = {}


def _stand_in(dtype):
    """A one-element device array of ``dtype``, made once: the array argument that
    goes with a number."""
    a = _STAND_INS.get(dtype)
    if a is None:
        a = _STAND_INS[dtype] = cuda.device_array(1, dtype)
    return a


def where(cond, a, b, out):
    """out = a where cond else b, elementwise with NumPy broadcasting (np.where).

    cond: a bool device array. a, b: device arrays or Python numbers (not both
    numbers); a number is converted to out's dtype. out: the broadcast shape of the
    three; any dtype, the store converts. out may be a or b itself (each element is
    read and written by one thread): ``where(mask, 0, x, x)`` is x[mask] = 0 in place.
    """
    if out.size == 0:
        return
    shapes = []
    args = []
    for v in (a, b):
        if _is_number(v):
            shapes.append(())
            args += [_stand_in(out.dtype), out.dtype.type(v), True]
        else:
            shapes.append(tuple(v.shape))
            args += [_flat(v), out.dtype.type(0), False]
    shape, c_st, a_st, b_st, ndim = _broadcast_plan(
        tuple(cond.shape), shapes[0], shapes[1], tuple(out.shape))
    o = _flat(out)
    launch_1d(_where, o.shape[0],
              _flat(cond), *args[:3], *args[3:], shape, c_st, a_st, b_st, ndim, o)


# ------------------------------------------------------------------ unary

_NEG, _EXP, _LOG, _SQRT, _ABS, _SIGN, _SIN, _COS = range(8)
_UNARY_OPS = {"neg": _NEG, "exp": _EXP, "log": _LOG, "sqrt": _SQRT, "abs": _ABS,
              "sign": _SIGN, "sin": _SIN, "cos": _COS}

# The largest double whose exp is finite: log(DBL_MAX).
_EXP_MAX = 709.782712893384


@cuda.jit(cache=True)
def _unary(op, x, out):
    # The IEEE results at the edges of exp, log and sqrt (inf, −inf, NaN) are the
    # GPU's own, but are written out here: the CUDA simulator runs this code as
    # Python, whose math module raises there instead.
    i = cuda.grid(1)
    if i < out.shape[0]:
        v = x[i]
        if op == _NEG:
            out[i] = -v
        elif op == _EXP:
            if v > _EXP_MAX:
                out[i] = math.inf
            else:
                out[i] = math.exp(v)
        elif op == _LOG:
            if v > 0:
                out[i] = math.log(v)
            elif v == 0:
                out[i] = -math.inf
            else:  # negative, or NaN
                out[i] = math.nan
        elif op == _SQRT:
            if v >= 0:
                out[i] = math.sqrt(v)
            else:  # negative, or NaN
                out[i] = math.nan
        elif op == _ABS:
            out[i] = abs(v)
        elif op == _SIN:
            if math.isinf(v):  # NaN, as the GPU gives (Python's math.sin raises)
                out[i] = math.nan
            else:
                out[i] = math.sin(v)
        elif op == _COS:
            if math.isinf(v):
                out[i] = math.nan
            else:
                out[i] = math.cos(v)
        else:  # _SIGN
            if v > 0:
                out[i] = 1
            elif v < 0:
                out[i] = -1
            elif v == 0:
                out[i] = 0
            else:  # NaN
                out[i] = v


def unary(op, x, out):
    """out = f(x) elementwise; x, out: one shape, float32 / float64 (or int64).

    op: "neg" −x, "exp" eˣ, "log" ln x (ln 0 = −inf, ln of a negative = NaN),
    "sqrt" √x (NaN below 0), "abs" |x|, "sign" −1, 0 or 1 (NaN for NaN),
    "sin" sin x, "cos" cos x (NaN for ±inf and NaN).
    exp, log, sqrt, sin and cos of float32 are computed in float32; of int64, in float64.
    """
    code = _op_code(_UNARY_OPS, op)
    if out.size == 0:
        return
    o = _flat(out)
    launch_1d(_unary, o.shape[0], code, _flat(x), o)


# ------------------------------------------------------------------ clamp, fill, cast


@cuda.jit(cache=True)
def _clamp(x, lo, hi, has_lo, has_hi, out):
    # A NaN fails both comparisons and passes through.
    i = cuda.grid(1)
    if i < out.shape[0]:
        v = x[i]
        if has_lo and v < lo:
            v = lo
        if has_hi and v > hi:
            v = hi
        out[i] = v


def clamp(x, lo, hi, out):
    """out = min(max(x, lo), hi) elementwise (np.clip); NaN stays NaN.

    x, out: one shape. lo, hi: Python numbers, or None for no bound on that side;
    each takes x's dtype as in binary (NumPy 2's rule). lo > hi gives hi.
    """
    if out.size == 0:
        return
    o = _flat(out)
    dtype = x.dtype
    for bound in (lo, hi):
        if bound is not None:
            dtype = np.result_type(dtype, bound)
    lo_v = dtype.type(0 if lo is None else lo)
    hi_v = dtype.type(0 if hi is None else hi)
    launch_1d(_clamp, o.shape[0], _flat(x), lo_v, hi_v, lo is not None, hi is not None, o)


@cuda.jit(cache=True)
def _fill(out, value):
    i = cuda.grid(1)
    if i < out.shape[0]:
        out[i] = value


def fill(out, value):
    """out[...] = value: every element of out (any shape and dtype), value a
    Python number converted to out's dtype on the host."""
    if out.size == 0:
        return
    o = _flat(out)
    launch_1d(_fill, o.shape[0], o, out.dtype.type(value))


@cuda.jit(cache=True)
def _cast(x, out):
    i = cuda.grid(1)
    if i < out.shape[0]:
        out[i] = x[i]  # the store converts to out's dtype


def cast(x, out):
    """out = x.astype(out.dtype); x, out: one shape. Equal dtypes: a plain copy.
    To bool: x ≠ 0 (NaN is True); float to int truncates toward 0."""
    if out.size == 0:
        return
    o = _flat(out)
    launch_1d(_cast, o.shape[0], _flat(x), o)


# ------------------------------------------------------------------ gather, scatter


@cuda.jit(cache=True)
def _gather(x, offset, shape, strides, ndim, out):
    i = cuda.grid(1)
    if i < out.shape[0]:
        out[i] = x[offset + _strided_offset(i, shape, strides, ndim)]


def gather(x, offset, strides, out):
    """out[idx] = xf[offset + Σ_d idx_d · strides_d] for every multi-index idx of out.

    xf: the flat view of the contiguous array x. strides: a tuple of ints, one per
    axis of out (at most MAX_DIMS), in elements, any sign, 0 to repeat. The one
    kernel behind every view made contiguous:

        transpose of (M, N)      offset 0, strides (1, N), out (N, M)
        x[a:b:s] of (n,)         offset a, strides (s,)      (s < 0: a the first)
        x[:, j] of (M, N)        offset j, strides (N,)
        x[i] of (M, N)           offset i · N, strides (1,)
        x[None] of (n,)          offset 0, strides (0, 1)
        broadcast_to (n,)→(m, n) offset 0, strides (0, 1)

    Reads follow the view, writes are coalesced: out is written in order.
    """
    if out.size == 0:
        return
    shape, st, ndim = _strided_plan(tuple(out.shape), tuple(strides))
    o = _flat(out)
    launch_1d(_gather, o.shape[0], _flat(x), offset, shape, st, ndim, o)


@cuda.jit(cache=True)
def _scatter(g, offset, shape, strides, ndim, out):
    i = cuda.grid(1)
    if i < g.shape[0]:
        out[offset + _strided_offset(i, shape, strides, ndim)] = g[i]


def scatter(g, offset, strides, out):
    """of[offset + Σ_d idx_d · strides_d] = g[idx] for every multi-index idx of g:
    gather's inverse, the backward of basic indexing (of: the flat view of out).

    The caller zero-fills out first; no two idx may reach the same element (true
    of basic indexing, not of broadcast_to: its backward is a sum). strides: one
    per axis of g, as in gather.
    """
    if g.size == 0:
        return
    shape, st, ndim = _strided_plan(tuple(g.shape), tuple(strides))
    gf = _flat(g)
    launch_1d(_scatter, gf.shape[0], gf, offset, shape, st, ndim, _flat(out))


# ------------------------------------------------------------------ rows by index


@cuda.jit(cache=True)
def _take_rows(x, index, out):
    # One thread per element of out, in order: a warp copies 32 neighbouring
    # elements of one row (or of two consecutive rows).
    k = cuda.grid(1)
    n_cols = out.shape[1]
    if k < out.shape[0] * n_cols:
        r = k // n_cols
        c = k - r * n_cols
        j = index[r]
        if j < 0:
            j += x.shape[0]
        out[r, c] = x[j, c]


def take_rows(x, index, out):
    """out[i, :] = x[index_i, :]  (NumPy's x[index]; an embedding lookup).

    x: (R, C); index: (N,) int64 device array, −R ≤ index_i < R (negative counts
    from the end; the caller has checked the range); out: (N, C), x's dtype.
    """
    if out.size == 0:
        return
    launch_1d(_take_rows, out.size, x, index, out)


@cuda.jit(cache=True)
def _put_rows(g, index, out):
    k = cuda.grid(1)
    n_cols = g.shape[1]
    if k < g.shape[0] * n_cols:
        r = k // n_cols
        c = k - r * n_cols
        j = index[r]
        if j < 0:
            j += out.shape[0]
        out[j, c] = g[r, c]


def put_rows(g, index, out):
    """out[index_i, :] = g[i, :] (NumPy's out[index] = g): take_rows's inverse, item
    assignment through an index. g: (N, C); index: (N,) int64, −R ≤ index_i < R, no
    repeats (a repeated row would get one of its values, which one is not defined);
    out: (R, C), written in place (the store converts to out's dtype)."""
    if g.size == 0:
        return
    launch_1d(_put_rows, g.size, g, index, out)


@cuda.jit(cache=True)
def _index_add_rows(g, index, out):
    k = cuda.grid(1)
    n_cols = g.shape[1]
    if k < g.shape[0] * n_cols:
        r = k // n_cols
        c = k - r * n_cols
        j = index[r]
        if j < 0:
            j += out.shape[0]
        # Repeated indices send several threads to one element: the add must be
        # atomic. (The order of the adds, and so the last bits, may vary.)
        cuda.atomic.add(out, (j, c), g[r, c])


def index_add_rows(g, index, out):
    """out[index_i, :] += g[i, :] for every i (np.add.at(out, index, g)): the
    backward of take_rows, ∂L/∂x_j = Σ_{i: index_i = j} ∂L/∂out_i.

    g: (N, C); index: (N,) int64, repeats allowed, negative from the end;
    out: (R, C), float32 or float64 like g, added to in place.
    """
    if g.size == 0:
        return
    launch_1d(_index_add_rows, g.size, g, index, out)


# ------------------------------------------------------------------ dropout


@cuda.jit(cache=True)
def _dropout_mask(states, p, scale, walkers, out):
    # Thread t owns generator state t and walks elements t, t + W, t + 2W, …
    # (W = walkers): a warp writes neighbouring elements at each step.
    t = cuda.grid(1)
    if t < walkers:
        for i in range(t, out.shape[0], walkers):
            u = xoroshiro128p_uniform_float64(states, t)  # in [0, 1)
            if u >= p:
                out[i] = scale
            else:
                out[i] = 0


def dropout_mask(states, p, out):
    """out_i = [u_i ≥ p] / (1 − p),  u_i ~ U[0, 1) independent.

    The inverted-dropout mask: each element is kept with probability 1 − p and
    scaled so that E[out_i] = 1 (p = 1: all zeros, no division by zero).
    states: xoroshiro128p generator states on the device, from
    numba.cuda.random.create_xoroshiro128p_states(n, seed); each of the first
    min(out.size, n) states serves one thread and advances, so the next call draws
    new numbers. p: float in [0, 1]. out: float32 or float64, any shape.
    u is drawn in float64 whatever out's dtype, so P(keep) is 1 − p to 2⁻⁵³.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    if states.shape[0] == 0:
        raise ValueError("dropout_mask needs at least one generator state")
    if out.size == 0:
        return
    o = _flat(out)
    walkers = min(o.shape[0], states.shape[0])
    scale = 0.0 if p >= 1.0 else 1.0 / (1.0 - p)
    launch_1d(_dropout_mask, walkers, states, float(p), out.dtype.type(scale), walkers, o)
