"""Classification metrics on predictions and targets, as scikit-learn defines them.

Every function takes ``pred`` and ``target`` as Tensors (any device) or NumPy
arrays, and returns a Python float (``confusion_matrix``: a NumPy array).

``pred`` may be class labels, or scores to turn into labels:

* shape (N, C) with C > 1 — logits or probabilities: the label is the argmax
  over the last axis;
* shape (N,) or (N, 1) of floats in [0, 1] — probabilities of the positive
  class: the label is 1 where p > 0.5, else 0;
* integer or bool labels of shape (N,) (or (N, 1)) are used as they are, and so
  are floats that are whole numbers (0.0, 1.0, 2.0, …).

A 1-D float ``pred`` that is neither probabilities nor whole numbers (raw
logits of a binary model, say) is refused with ValueError: apply ``sigmoid``
first, or threshold it yourself (``logits > 0``). ``target`` is converted by the
same rules, so one-hot targets of shape (N, C) also work.

For one class c (the positive class, in the binary case), counting samples:

    TP = #(pred == c and target == c)    FP = #(pred == c and target != c)
    FN = #(pred != c and target == c)

    precision = TP / (TP + FP)      recall = TP / (TP + FN)
    F1 = 2 · precision · recall / (precision + recall) = 2·TP / (2·TP + FP + FN)

A zero denominator gives 0.0 (scikit-learn's ``zero_division=0``).

``average`` chooses how classes combine: ``"binary"`` (the default) reports
class ``pos_label`` only and needs at most two distinct labels; ``"macro"``
computes the metric for every class present in ``pred`` or ``target`` and takes
the unweighted mean; ``"micro"`` pools TP, FP and FN over all classes first.
"""

import numpy as np

from .tensor import Tensor

_AVERAGES = ("binary", "macro", "micro")


def _host(x, name, op):
    if isinstance(x, Tensor):
        return x._host()
    a = np.asarray(x)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{op}: {name} must be numeric, got dtype {a.dtype}")
    return a


def _labels(x, name, op):
    """Class labels (int64, shape (N,)) from labels, probabilities or logits."""
    a = _host(x, name, op)
    if a.ndim == 2 and a.shape[1] > 1:
        return np.argmax(a, axis=-1).astype(np.int64)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise ValueError(
            f"{op}: {name} must have shape (N,), (N, 1) or (N, C), got {a.shape}")
    if a.dtype.kind == "f":
        if np.all((a >= 0) & (a <= 1)):
            return (a > 0.5).astype(np.int64)
        if np.all(np.isfinite(a) & (a == np.round(a))):
            return a.astype(np.int64)
        raise ValueError(
            f"{op}: {name} is a 1-D float array that holds neither probabilities in "
            f"[0, 1] nor whole-number labels (raw logits?); apply sigmoid first or "
            f"pass labels such as (logits > 0)")
    return a.astype(np.int64)


def _pair(pred, target, op):
    p = _labels(pred, "pred", op)
    t = _labels(target, "target", op)
    if p.shape != t.shape:
        raise ValueError(
            f"{op}: pred and target must hold the same number of samples, got "
            f"{p.shape[0]} predictions and {t.shape[0]} targets")
    return p, t


def _ratio(num, den):
    return float(num) / float(den) if den else 0.0


def accuracy(pred, target):
    """The fraction of samples whose predicted label equals the target: #(pred == target) / N.

    0.0 for no samples.
    """
    p, t = _pair(pred, target, "accuracy")
    return _ratio(np.count_nonzero(p == t), p.size)


def _counts(pred, target, average, pos_label, op):
    """Arrays TP, FP, FN with one entry per class that ``average`` looks at."""
    if average not in _AVERAGES:
        raise ValueError(
            f"{op}: unknown average {average!r}; expected one of {', '.join(_AVERAGES)}")
    p, t = _pair(pred, target, op)
    present = np.union1d(p, t)
    if average == "binary":
        if present.size > 2:
            raise ValueError(
                f"{op}: average='binary' needs at most two classes, but the labels "
                f"are {present.tolist()}; use average='macro'")
        if present.size == 2 and pos_label not in present:
            raise ValueError(
                f"{op}: pos_label={pos_label!r} is not one of the labels "
                f"{present.tolist()}")
        classes = np.array([pos_label])
    else:
        classes = present
    p_is = p[None, :] == classes[:, None]  # (classes, N)
    t_is = t[None, :] == classes[:, None]
    tp = np.count_nonzero(p_is & t_is, axis=1)
    fp = np.count_nonzero(p_is & ~t_is, axis=1)
    fn = np.count_nonzero(~p_is & t_is, axis=1)
    if average == "micro":
        tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)
    return tp, fp, fn


def _mean(values):
    return float(np.mean(values)) if len(values) else 0.0


def precision(pred, target, average="binary", pos_label=1):
    """Of the samples predicted as a class, the fraction that are it: TP / (TP + FP).

    ``average="binary"``: for class ``pos_label``; ``"macro"``: the mean over
    classes; ``"micro"``: ΣTP / Σ(TP + FP). See the module docstring for the
    inputs accepted.
    """
    tp, fp, _ = _counts(pred, target, average, pos_label, "precision")
    return _mean([_ratio(a, a + b) for a, b in zip(tp, fp)])


def recall(pred, target, average="binary", pos_label=1):
    """Of the samples of a class, the fraction predicted as it: TP / (TP + FN).

    ``average`` and ``pos_label`` as in :func:`precision`.
    """
    tp, _, fn = _counts(pred, target, average, pos_label, "recall")
    return _mean([_ratio(a, a + c) for a, c in zip(tp, fn)])


def f1_score(pred, target, average="binary", pos_label=1):
    """The harmonic mean of precision and recall: 2·TP / (2·TP + FP + FN).

    With ``average="macro"`` the F1 of each class is computed first and then
    averaged (as scikit-learn does), which is not the F1 of the macro precision
    and recall.
    """
    tp, fp, fn = _counts(pred, target, average, pos_label, "f1_score")
    return _mean([_ratio(2 * a, 2 * a + b + c) for a, b, c in zip(tp, fp, fn)])


def confusion_matrix(pred, target, num_classes=None):
    """Counts C[i, j] of samples whose true class is i and predicted class is j.

    Rows are true classes, columns predicted classes (scikit-learn's layout), so
    the diagonal holds the correct predictions and ``C.sum(axis=1)`` the class
    sizes. Labels must be integers in ``0 … num_classes-1``; ``num_classes``
    defaults to the largest label seen plus one. Returns an int64 array of shape
    (num_classes, num_classes).

    Raises ValueError for negative labels or labels >= ``num_classes``.
    """
    p, t = _pair(pred, target, "confusion_matrix")
    seen = max(int(p.max(initial=-1)), int(t.max(initial=-1))) + 1
    if num_classes is None:
        num_classes = seen
    elif isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(
            f"confusion_matrix: num_classes must be an int, got {type(num_classes).__name__}")
    elif num_classes < 0 or seen > num_classes:
        raise ValueError(
            f"confusion_matrix: labels go up to {seen - 1}, which does not fit "
            f"num_classes={num_classes}")
    if p.size and min(p.min(), t.min()) < 0:
        raise ValueError(
            f"confusion_matrix: labels must be non-negative, got {min(p.min(), t.min())}")
    k = int(num_classes)
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k).astype(np.int64)
