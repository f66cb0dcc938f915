"""minigrad.metrics on examples small enough to count by hand."""

import numpy as np
import pytest

import minigrad as mg
from minigrad.metrics import accuracy, confusion_matrix, f1_score, precision, recall

# A binary example, counted by hand (positive class 1):
#   index   0  1  2  3  4  5  6  7
PRED = [1, 1, 0, 1, 0, 0, 1, 0]
TARG = [1, 0, 0, 1, 1, 0, 1, 1]
# TP: 0, 3, 6 -> 3     FP: 1 -> 1     FN: 4, 7 -> 2     TN: 2, 5 -> 2
TP, FP, FN, TN = 3, 1, 2, 2


def test_binary_metrics_from_hand_counts():
    assert accuracy(np.array(PRED), np.array(TARG)) == (TP + TN) / 8
    assert precision(np.array(PRED), np.array(TARG)) == TP / (TP + FP)   # 3/4
    assert recall(np.array(PRED), np.array(TARG)) == TP / (TP + FN)      # 3/5
    p, r = 3 / 4, 3 / 5
    assert f1_score(np.array(PRED), np.array(TARG)) == pytest.approx(2 * p * r / (p + r))


def test_results_are_python_floats_and_tensors_are_accepted():
    pred, targ = mg.tensor(PRED), mg.tensor(TARG)
    for fn in (accuracy, precision, recall, f1_score):
        value = fn(pred, targ)
        assert type(value) is float
        assert value == fn(np.array(PRED), np.array(TARG))


def test_pos_label_zero_swaps_the_roles():
    # With 0 as positive: TP' = TN = 2, FP' = FN = 2, FN' = FP = 1.
    assert precision(PRED, TARG, pos_label=0) == 2 / 4
    assert recall(PRED, TARG, pos_label=0) == 2 / 3
    assert f1_score(PRED, TARG, pos_label=0) == pytest.approx(2 * 2 / (2 * 2 + 2 + 1))


def test_probabilities_are_thresholded_at_one_half():
    # Probabilities whose > 0.5 threshold gives PRED; 0.5 itself is negative.
    probs = np.array([0.9, 0.51, 0.5, 0.7, 0.1, 0.0, 1.0, 0.49], dtype=np.float32)
    assert precision(probs, TARG) == 3 / 4
    assert recall(probs[:, None], TARG) == 3 / 5  # one column works the same
    assert accuracy(mg.tensor(probs), mg.tensor(TARG)) == 5 / 8
    # Float targets (as BCE uses) are labels too.
    assert accuracy(probs, np.array(TARG, dtype=np.float32)) == 5 / 8


def test_logits_take_the_argmax_over_the_last_axis():
    logits = np.array([[2.0, -1.0, 0.0],    # -> 0
                       [0.1, 0.3, 0.2],     # -> 1
                       [-5.0, -6.0, -4.0],  # -> 2
                       [1.0, 3.0, 2.0]])    # -> 1
    target = np.array([0, 1, 1, 2])
    assert accuracy(logits, target) == 2 / 4
    assert accuracy(mg.tensor(logits, requires_grad=True), target) == 2 / 4
    # Two-column binary logits: argmax as well.
    two = np.array([[0.2, 0.8], [3.0, -3.0], [0.0, 1.0]])
    assert recall(two, [1, 1, 1]) == 2 / 3


def test_one_d_raw_logits_are_refused():
    with pytest.raises(ValueError, match="sigmoid"):
        accuracy(np.array([-1.3, 2.2, 0.4]), np.array([0, 1, 1]))


def test_macro_average_is_the_mean_of_per_class_values():
    pred = [0, 0, 1, 2, 2, 2, 1, 0]
    targ = [0, 1, 1, 2, 0, 2, 2, 0]
    # class 0: pred 0 at 0,1,7; true 0 at 0,4,7 -> TP 2 (0,7), FP 1 (1), FN 1 (4)
    # class 1: pred 1 at 2,6;   true 1 at 1,2   -> TP 1 (2),   FP 1 (6), FN 1 (1)
    # class 2: pred 2 at 3,4,5; true 2 at 3,5,6 -> TP 2 (3,5), FP 1 (4), FN 1 (6)
    per_class_p = [2 / 3, 1 / 2, 2 / 3]
    per_class_r = [2 / 3, 1 / 2, 2 / 3]
    per_class_f1 = [2 * 2 / (4 + 2), 2 * 1 / (2 + 2), 2 * 2 / (4 + 2)]
    assert precision(pred, targ, average="macro") == pytest.approx(np.mean(per_class_p))
    assert recall(pred, targ, average="macro") == pytest.approx(np.mean(per_class_r))
    assert f1_score(pred, targ, average="macro") == pytest.approx(np.mean(per_class_f1))
    # micro pools the counts: TP 5, FP 3, FN 3.
    assert precision(pred, targ, average="micro") == pytest.approx(5 / 8)
    assert recall(pred, targ, average="micro") == pytest.approx(5 / 8)


def test_macro_f1_is_the_mean_of_class_f1_not_f1_of_means():
    pred = [0, 0, 0, 0, 1]
    targ = [0, 1, 1, 1, 1]
    # class 0: TP 1, FP 3, FN 0 -> P 1/4, R 1, F1 2/5
    # class 1: TP 1, FP 0, FN 3 -> P 1,   R 1/4, F1 2/5
    assert f1_score(pred, targ, average="macro") == pytest.approx(0.4)
    P = precision(pred, targ, average="macro")
    R = recall(pred, targ, average="macro")
    assert P == R == pytest.approx(5 / 8)
    assert 2 * P * R / (P + R) != pytest.approx(0.4)


def test_zero_denominators_give_zero():
    never_positive = [0, 0, 0]
    assert precision(never_positive, [1, 0, 1]) == 0.0  # TP + FP = 0
    assert recall([1, 0, 1], never_positive) == 0.0     # TP + FN = 0
    assert f1_score(never_positive, never_positive) == 0.0
    assert accuracy(np.array([], dtype=np.int64), np.array([], dtype=np.int64)) == 0.0
    # A class only ever predicted, never true, has recall 0/0 = 0 in the macro mean.
    assert recall([0, 2], [0, 0], average="macro") == pytest.approx((1 / 2 + 0.0) / 2)


def test_confusion_matrix_matches_a_hand_written_one():
    pred = [0, 0, 1, 2, 2, 2, 1, 0]
    targ = [0, 1, 1, 2, 0, 2, 2, 0]
    expected = np.array([
        # predicted: 0  1  2        rows: true class
        [2, 0, 1],   # true 0 at 0, 4, 7: predicted 0, 2, 0
        [1, 1, 0],   # true 1 at 1, 2: predicted 0, 1
        [0, 1, 2],   # true 2 at 3, 5, 6: predicted 2, 2, 1
    ])
    cm = confusion_matrix(np.array(pred), mg.tensor(targ))
    assert isinstance(cm, np.ndarray) and cm.dtype == np.int64
    np.testing.assert_array_equal(cm, expected)
    assert np.trace(cm) / cm.sum() == accuracy(pred, targ)


def test_confusion_matrix_num_classes_and_logits():
    logits = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])  # -> 1, 0, 1
    cm = confusion_matrix(logits, [1, 1, 0], num_classes=4)
    expected = np.zeros((4, 4), dtype=np.int64)
    expected[1, 1] = 1
    expected[1, 0] = 1
    expected[0, 1] = 1
    np.testing.assert_array_equal(cm, expected)
    with pytest.raises(ValueError, match="num_classes=2"):
        confusion_matrix([0, 3], [0, 1], num_classes=2)
    with pytest.raises(ValueError, match="non-negative"):
        confusion_matrix([0, -1], [0, 1])


def test_bad_inputs_raise_value_error_naming_them():
    with pytest.raises(ValueError, match="3 predictions and 2 targets"):
        accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="weighted"):
        precision([0, 1], [0, 1], average="weighted")
    with pytest.raises(ValueError, match="macro"):
        f1_score([0, 1, 2], [0, 1, 2])  # binary on three classes
    with pytest.raises(ValueError, match="pos_label"):
        recall([0, 2], [2, 0])          # pos_label 1 absent from {0, 2}
    with pytest.raises(ValueError, match="shape"):
        accuracy(np.zeros((2, 2, 2)), [0, 1])
