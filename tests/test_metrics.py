"""Tests of dnnkit.metrics against small examples computed by hand."""

import numpy as np
import pytest

from dnnkit import metrics

# A 3-class example (classes 0 = cat, 1 = dog, 2 = bird), 13 samples.
#
#   true 0 (5 samples): predicted 0, 0, 0, 0, 1
#   true 1 (6 samples): predicted 0, 0, 1, 1, 1, 2
#   true 2 (2 samples): predicted 2, 2
Y_TRUE = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2]
Y_PRED = [0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 2, 2, 2]

# Confusion matrix, rows = true class, columns = predicted class:
CONFUSION = [[4, 1, 0],
             [2, 3, 1],
             [0, 0, 2]]

# Per class: TP = diagonal, TP + FP = column sum, TP + FN = row sum.
#   class 0: TP 4, column 4+2+0 = 6, row 4+1+0 = 5
#            precision 4/6 = 2/3, recall 4/5 = 0.8,
#            F1 = 2 * (2/3 * 0.8) / (2/3 + 0.8) = (16/15) / (22/15) = 8/11
#   class 1: TP 3, column 1+3+0 = 4, row 2+3+1 = 6
#            precision 3/4, recall 3/6 = 1/2, F1 = 2 * (3/8) / (5/4) = 3/5
#   class 2: TP 2, column 0+1+2 = 3, row 0+0+2 = 2
#            precision 2/3, recall 2/2 = 1, F1 = 2 * (2/3) / (5/3) = 4/5
PRECISION = [2 / 3, 3 / 4, 2 / 3]
RECALL = [4 / 5, 1 / 2, 1.0]
F1 = [8 / 11, 3 / 5, 4 / 5]
SUPPORT = [5, 6, 2]
# Macro averages (plain means over the 3 classes):
#   precision (2/3 + 3/4 + 2/3) / 3 = (8/12 + 9/12 + 8/12) / 3 = 25/36 = 0.6944...
#   recall    (0.8 + 0.5 + 1.0) / 3 = 2.3 / 3 = 0.7666...
#   F1        (8/11 + 3/5 + 4/5) / 3 = (40/55 + 77/55) / 3 = 39/55 = 0.7090...
MACRO = (25 / 36, 2.3 / 3, 39 / 55)
# Accuracy = diagonal / total = (4 + 3 + 2) / 13 = 9/13 = 0.6923...
ACCURACY = 9 / 13


def test_accuracy_hand_example():
    assert metrics.accuracy(Y_TRUE, Y_PRED) == pytest.approx(ACCURACY)
    assert isinstance(metrics.accuracy(Y_TRUE, Y_PRED), float)


def test_confusion_matrix_hand_example_rows_are_true_classes():
    matrix = metrics.confusion_matrix(Y_TRUE, Y_PRED)
    np.testing.assert_array_equal(matrix, CONFUSION)
    # Rows add up to the number of samples per true class.
    np.testing.assert_array_equal(matrix.sum(axis=1), SUPPORT)


def test_confusion_matrix_num_classes_adds_empty_rows_and_columns():
    # Labels 0 and 1 only, but 4 classes: classes 2 and 3 get rows/columns of zeros.
    matrix = metrics.confusion_matrix([0, 1, 1], [0, 0, 1], num_classes=4)
    expected = np.zeros((4, 4), dtype=int)
    expected[0, 0] = 1  # true 0 predicted 0
    expected[1, 0] = 1  # true 1 predicted 0
    expected[1, 1] = 1  # true 1 predicted 1
    np.testing.assert_array_equal(matrix, expected)


def test_precision_recall_f1_hand_example():
    precision, recall, f1, support = metrics.precision_recall_f1(Y_TRUE, Y_PRED)
    np.testing.assert_allclose(precision, PRECISION)
    np.testing.assert_allclose(recall, RECALL)
    np.testing.assert_allclose(f1, F1)
    np.testing.assert_array_equal(support, SUPPORT)


def test_macro_average_hand_example():
    assert metrics.macro_average(Y_TRUE, Y_PRED) == pytest.approx(MACRO)


def test_class_never_predicted_gets_zero_precision_not_nan():
    # True [0, 1, 2, 2], predicted [0, 1, 1, 1]: class 2 is never predicted.
    #   class 0: TP 1, predicted 1, true 1 -> P 1, R 1, F1 1
    #   class 1: TP 1, predicted 3, true 1 -> P 1/3, R 1, F1 = 2 * (1/3) / (4/3) = 1/2
    #   class 2: TP 0, predicted 0 (P = 0/0, defined 0), true 2 -> R 0/2 = 0, F1 0
    precision, recall, f1, support = metrics.precision_recall_f1([0, 1, 2, 2], [0, 1, 1, 1])
    np.testing.assert_allclose(precision, [1.0, 1 / 3, 0.0])
    np.testing.assert_allclose(recall, [1.0, 1.0, 0.0])
    np.testing.assert_allclose(f1, [1.0, 0.5, 0.0])
    np.testing.assert_array_equal(support, [1, 1, 2])
    # Macro F1 = (1 + 1/2 + 0) / 3 = 1/2.
    assert metrics.macro_average([0, 1, 2, 2], [0, 1, 1, 1])[2] == pytest.approx(0.5)


def test_class_predicted_but_never_true_gets_zero_recall():
    # True [0, 0], predicted [0, 1]: class 1 never occurs but is predicted once.
    #   class 0: TP 1, predicted 1, true 2 -> P 1, R 1/2, F1 = 2 * (1/2) / (3/2) = 2/3
    #   class 1: TP 0, predicted 1 -> P 0; true 0 -> R = 0/0, defined 0; F1 0
    precision, recall, f1, support = metrics.precision_recall_f1([0, 0], [0, 1])
    np.testing.assert_allclose(precision, [1.0, 0.0])
    np.testing.assert_allclose(recall, [0.5, 0.0])
    np.testing.assert_allclose(f1, [2 / 3, 0.0])
    np.testing.assert_array_equal(support, [2, 0])


def test_macro_average_leaves_out_classes_absent_everywhere():
    # With num_classes=5, classes 2..4 occur neither in y_true nor in y_pred;
    # the macro average is over classes 0 and 1 only:
    #   class 0: P 1, R 1/2, F1 2/3; class 1: P 1/2, R 1, F1 2/3 (true [0, 0, 1], pred [0, 1, 1])
    #   macro P = (1 + 1/2) / 2 = 3/4, R = 3/4, F1 = 2/3
    result = metrics.macro_average([0, 0, 1], [0, 1, 1], num_classes=5)
    assert result == pytest.approx((0.75, 0.75, 2 / 3))


def test_perfect_prediction():
    labels = [2, 0, 1, 1, 2, 0]
    assert metrics.accuracy(labels, labels) == 1.0
    np.testing.assert_array_equal(metrics.confusion_matrix(labels, labels), np.diag([2, 2, 2]))
    precision, recall, f1, _ = metrics.precision_recall_f1(labels, labels)
    np.testing.assert_array_equal(precision, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(recall, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(f1, [1.0, 1.0, 1.0])
    assert metrics.macro_average(labels, labels) == (1.0, 1.0, 1.0)


def test_probabilities_and_one_hot_are_turned_into_labels_with_argmax():
    one_hot_true = np.eye(3)[Y_TRUE]
    # Probabilities whose largest entry is at the predicted class.
    probabilities = np.full((len(Y_PRED), 3), 0.2)
    probabilities[np.arange(len(Y_PRED)), Y_PRED] = 0.6
    assert metrics.accuracy(one_hot_true, probabilities) == pytest.approx(ACCURACY)
    np.testing.assert_array_equal(metrics.confusion_matrix(Y_TRUE, probabilities), CONFUSION)
    np.testing.assert_array_equal(metrics.confusion_matrix(one_hot_true, Y_PRED), CONFUSION)


def test_against_brute_force_loops():
    rng = np.random.default_rng(1)
    for _ in range(20):
        num_classes = int(rng.integers(2, 6))
        size = int(rng.integers(1, 40))
        y_true = rng.integers(0, num_classes, size)
        y_pred = rng.integers(0, num_classes, size)
        matrix = metrics.confusion_matrix(y_true, y_pred, num_classes=num_classes)
        precision, recall, f1, support = metrics.precision_recall_f1(y_true, y_pred, num_classes)
        correct = 0
        for t, p in zip(y_true, y_pred):
            correct += t == p
        assert metrics.accuracy(y_true, y_pred) == pytest.approx(correct / size)
        for k in range(num_classes):
            tp = sum(1 for t, p in zip(y_true, y_pred) if t == k and p == k)
            fp = sum(1 for t, p in zip(y_true, y_pred) if t != k and p == k)
            fn = sum(1 for t, p in zip(y_true, y_pred) if t == k and p != k)
            expected_precision = tp / (tp + fp) if tp + fp else 0.0
            expected_recall = tp / (tp + fn) if tp + fn else 0.0
            pr_sum = expected_precision + expected_recall
            expected_f1 = 2 * expected_precision * expected_recall / pr_sum if pr_sum else 0.0
            assert precision[k] == pytest.approx(expected_precision)
            assert recall[k] == pytest.approx(expected_recall)
            assert f1[k] == pytest.approx(expected_f1)
            assert support[k] == tp + fn
            for j in range(num_classes):
                assert matrix[k, j] == sum(1 for t, p in zip(y_true, y_pred) if t == k and p == j)


def test_mismatched_lengths_raise_clear_error():
    with pytest.raises(ValueError, match="y_true has 3 and y_pred has 2"):
        metrics.accuracy([0, 1, 2], [0, 1])
    for function in (metrics.confusion_matrix, metrics.precision_recall_f1,
                     metrics.macro_average, metrics.classification_report):
        with pytest.raises(ValueError, match="one entry per sample"):
            function([0, 1, 2], [0, 1])


def test_invalid_labels_raise():
    with pytest.raises(ValueError, match="num_classes=2"):
        metrics.confusion_matrix([0, 1, 2], [0, 1, 1], num_classes=2)
    with pytest.raises(ValueError, match="empty"):
        metrics.accuracy([], [])


def test_classification_report_values_and_alignment():
    report = metrics.classification_report(Y_TRUE, Y_PRED, class_names=["cat", "dog", "bird"])
    lines = report.splitlines()
    # Header, 3 classes, blank line, macro avg, accuracy.
    assert len(lines) == 7
    assert lines[0].split() == ["class", "precision", "recall", "f1-score", "support"]
    # The hand-computed values, rounded to 3 decimals.
    assert lines[1].split() == ["cat", "0.667", "0.800", "0.727", "5"]
    assert lines[2].split() == ["dog", "0.750", "0.500", "0.600", "6"]
    assert lines[3].split() == ["bird", "0.667", "1.000", "0.800", "2"]
    assert lines[4] == ""
    assert lines[5].split() == ["macro", "avg", "0.694", "0.767", "0.709", "13"]
    assert lines[6].split() == ["accuracy", "0.692", "13"]
    # Aligned: every number ends in the same column as its header.
    header = lines[0]
    for column_name, value in (("precision", "0.667"), ("recall", "0.800"),
                               ("f1-score", "0.727"), ("support", "5")):
        header_end = header.index(column_name) + len(column_name)
        assert lines[1][header_end - len(value):header_end] == value
    assert lines[6].index("0.692") + 5 == header.index("f1-score") + len("f1-score")
    assert len({len(line) for line in lines if line}) == 1


def test_classification_report_default_names_and_absent_class():
    # class_names fix 3 classes; "bird" occurs nowhere and shows "-" with support 0.
    report = metrics.classification_report([0, 1, 0], [0, 1, 1], class_names=["cat", "dog", "bird"])
    bird_row = [line for line in report.splitlines() if line.startswith("bird")][0]
    assert bird_row.split() == ["bird", "-", "-", "-", "0"]
    # Macro average over cat and dog only: P (1 + 1/2) / 2 = 0.75, R (1/2 + 1) / 2 = 0.75.
    macro_row = [line for line in report.splitlines() if line.startswith("macro avg")][0]
    assert macro_row.split()[2:4] == ["0.750", "0.750"]
    # Without class names the rows are labelled by the class number.
    default = metrics.classification_report([0, 1, 0], [0, 1, 1]).splitlines()
    assert [line.split()[0] for line in default[1:3]] == ["0", "1"]
    with pytest.raises(ValueError, match="does not fit num_classes=2"):
        metrics.classification_report([0, 2], [0, 1], class_names=["cat", "dog"])
