"""Reduction kernels.

Shapes: g is 2-D (N, M), C-contiguous, float32 or float64; out is (M,) of the
same dtype.
"""

from numba import njit


@njit(cache=True, error_model="numpy")
def column_sums(g, out):
    """out_j = Σ_i g_ij.   g: (N, M); out: (M,).

    The bias gradient of z = x W + b: ∂L/∂b = Σ_rows δ, δ = ∂L/∂z.
    """
    for j in range(out.shape[0]):
        out[j] = 0.0
    # Rows outer, columns inner: g is read once, in memory order.
    for i in range(g.shape[0]):
        for j in range(g.shape[1]):
            out[j] += g[i, j]
