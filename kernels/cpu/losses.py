"""Loss kernels: forward (per-sample losses) and backward (∂L/∂input).

Shapes: z are logits (N, C) for the softmax losses and (n,) for the others;
probs is (N, C); losses is (N,) or (n,). All float arrays are C-contiguous and
of one dtype (float32 or float64); class-index targets are int64.

Every kernel takes the reduction's factor as ``scale``: 1/N for a mean, 1 for a
sum (the backward kernels: times the upstream gradient), a Python float. The
forward kernels write one loss per sample into ``losses`` and, in the same pass,
their reduction ``loss[0] = scale · Σ losses`` (the sum taken in float64), so the
mean or sum needs no second pass; ``loss`` is a length-1 array of the losses'
dtype. Results go into arrays passed in; no kernel returns a value, so each has a
twin of the same signature in ``kernels.cuda.losses``.
"""

import math

from numba import njit

from ..activations import sigmoid
from .activations import row_softmax


# ------------------------------------------------ softmax cross-entropy


@njit(cache=True, error_model="numpy")
def first_invalid_class(target, num_classes, out):
    """out[0] = the first i with target_i outside [0, num_classes), or −1 if none.

    The cross-entropy kernels index z[i, target_i] without a bounds check, so
    the CPU backend checks targets with this before they run.
    target: (N,) int64; out: (1,) int64.
    """
    out[0] = -1
    for i in range(target.shape[0]):
        if target[i] < 0 or target[i] >= num_classes:
            out[0] = i
            return


@njit(cache=True, error_model="numpy")
def softmax_xent_forward(z, target, scale, probs, losses, loss):
    """Softmax cross-entropy with class-index targets.

    Per row i, with y_i = target[i], m_i = max_j z_ij and s_i = Σ_j exp(z_ij − m_i):
        probs_ij  = exp(z_ij − m_i) / s_i             (= softmax(z)_ij)
        losses_i  = (m_i − z_{i,y_i}) + log s_i       (= lse_i − z_{i,y_i}
                                                         = −log softmax(z)_{i,y_i})

        loss[0]   = scale · Σ_i losses_i

    z, probs: (N, C); target: (N,) int64 in [0, C) (a row whose class is not gets a
    NaN loss); losses: (N,); loss: (1,).
    probs is softmax to the dtype's rounding: softmax_xent_backward uses it as is.
    """
    total = 0.0
    for i in range(z.shape[0]):
        m, log_s = row_softmax(z, i, probs)
        y = target[i]
        # (m − z) + log s, not lse − z: see row_softmax; a class outside [0, C) gives
        # NaN, as on the GPU, instead of reading past the row (cross_entropy checks the
        # classes first and raises; this guards the kernel-level calls)
        losses[i] = (m - z[i, y]) + log_s if 0 <= y < z.shape[1] else math.nan
        total += losses[i]
    loss[0] = scale * total


@njit(cache=True, error_model="numpy")
def softmax_xent_backward(probs, target, scale, out):
    """∂L/∂z = scale · (softmax(z) − onehot(y)):

        out_ij = scale · (probs_ij − [j = y_i])

    probs, out: (N, C); target: (N,) int64; scale: float.  out may be probs.
    """
    for i in range(probs.shape[0]):
        for j in range(probs.shape[1]):
            onehot = 1.0 if j == target[i] else 0.0
            out[i, j] = scale * (probs[i, j] - onehot)


@njit(cache=True, error_model="numpy")
def softmax_xent_prob_forward(z, target, scale, probs, losses, loss):
    """Softmax cross-entropy with probability targets t (e.g. label smoothing).

    Per row i, with m_i, s_i and probs_ij as in softmax_xent_forward:
        losses_i = −Σ_j t_ij log softmax(z)_ij = Σ_j t_ij ((m_i − z_ij) + log s_i)
        loss[0]  = scale · Σ_i losses_i

    z, target, probs: (N, C); losses: (N,); loss: (1,).
    """
    total = 0.0
    for i in range(z.shape[0]):
        m, log_s = row_softmax(z, i, probs)
        row_loss = 0.0
        for j in range(z.shape[1]):
            row_loss += target[i, j] * ((m - z[i, j]) + log_s)
        losses[i] = row_loss
        total += losses[i]
    loss[0] = scale * total


@njit(cache=True, error_model="numpy")
def softmax_xent_prob_backward(probs, target, scale, out):
    """∂L/∂z for probability targets t:

        out_ij = scale · (probs_ij · Σ_k t_ik − t_ij)

    which is scale · (softmax(z) − t) when each row of t sums to 1.
    probs, target, out: (N, C); scale: float.  out may be probs.
    """
    for i in range(probs.shape[0]):
        t_sum = 0.0
        for k in range(probs.shape[1]):
            t_sum += target[i, k]
        for j in range(probs.shape[1]):
            out[i, j] = scale * (probs[i, j] * t_sum - target[i, j])


# ------------------------------------------- binary cross-entropy on logits


@njit(cache=True, error_model="numpy")
def bce_logits_forward(z, y, scale, losses, loss):
    """Binary cross-entropy on logits, −[y log σ(z) + (1 − y) log(1 − σ(z))]:

        losses_i = max(z_i, 0) − z_i · y_i + log(1 + exp(−|z_i|))
        loss[0]  = scale · Σ_i losses_i

    an exact rewrite in which exp never overflows and log never sees 0, so it
    is finite for any finite z.  z, y, losses: (n,); loss: (1,).
    """
    total = 0.0
    for i in range(z.shape[0]):
        losses[i] = max(z[i], 0.0) - z[i] * y[i] + math.log1p(math.exp(-abs(z[i])))
        total += losses[i]
    loss[0] = scale * total


@njit(cache=True, error_model="numpy")
def bce_logits_backward(z, y, scale, out):
    """∂L/∂z_i = scale · (σ(z_i) − y_i), σ from kernels/activations.py (stable).

    z, y, out: (n,); scale: float.
    """
    for i in range(z.shape[0]):
        out[i] = scale * (sigmoid(z[i], 0.0, 0.0) - y[i])


# ------------------------------------------------------ mean squared error


@njit(cache=True, error_model="numpy")
def mse_forward(pred, target, scale, losses, loss):
    """losses_i = (pred_i − target_i)²;  loss[0] = scale · Σ_i losses_i.

    pred, target, losses: (n,); loss: (1,).
    """
    total = 0.0
    for i in range(pred.shape[0]):
        d = pred[i] - target[i]
        losses[i] = d * d
        total += losses[i]
    loss[0] = scale * total


@njit(cache=True, error_model="numpy")
def mse_backward(pred, target, scale, out):
    """∂L/∂pred_i = 2 · scale · (pred_i − target_i).

    pred, target, out: (n,); scale: float.
    """
    for i in range(pred.shape[0]):
        out[i] = 2.0 * scale * (pred[i] - target[i])
