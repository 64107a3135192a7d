"""Judging a classifier: accuracy, confusion matrix, precision, recall and F1.

Plain numpy, with the definitions of the lecture slides (scikit-learn's
``sklearn.metrics`` computes the same, but is no dependency of the lecture).
For one class, counting the samples of the test set:

- TP (true positives): of the class and predicted as the class;
- FP (false positives): predicted as the class but of another class;
- FN (false negatives): of the class but predicted as another class;

- precision = TP / (TP + FP): of the samples predicted as the class, the share that is right;
- recall    = TP / (TP + FN): of the samples of the class, the share that was found;
- F1        = 2 * precision * recall / (precision + recall), their harmonic mean;
- accuracy  = correct predictions / all predictions.

A value whose denominator is 0 is 0.  Labels are integers 0, 1, 2, ... or a
2D array of class scores per sample (``model.predict``'s probabilities, one-hot
labels), whose largest column is the class.
"""

import numpy as np


def _labels(y_true, y_pred):
    """Both inputs as int64 class labels of the same length (argmax of 2D scores)."""
    labels = [np.argmax(y, axis=1) if np.ndim(y) == 2 else np.asarray(y) for y in (y_true, y_pred)]
    if len(labels[0]) != len(labels[1]):
        raise ValueError(f"y_true and y_pred must have one entry per sample each, but y_true "
                         f"has {len(labels[0])} and y_pred has {len(labels[1])}.")
    if len(labels[0]) == 0:
        raise ValueError("y_true and y_pred are empty: there is nothing to evaluate.")
    return [label.astype(np.int64) for label in labels]


def _divide_or_zero(numerator, denominator):
    """Element-wise numerator / denominator, with 0 where the denominator is 0."""
    result = np.zeros(np.shape(numerator))
    np.divide(numerator, denominator, out=result, where=np.asarray(denominator) != 0)
    return result


def accuracy(y_true, y_pred):
    """The share of correct predictions, a float between 0 and 1."""
    true_labels, predicted_labels = _labels(y_true, y_pred)
    return float(np.mean(true_labels == predicted_labels))


def confusion_matrix(y_true, y_pred, num_classes=None):
    """``matrix[i, j]``: how many samples of true class i were predicted as class j.

    Rows are the true class, columns the predicted one; the diagonal holds the
    correct predictions.  ``num_classes`` fixes the size (a class may be
    missing from a small test set); by default the largest label + 1.
    """
    true_labels, predicted_labels = _labels(y_true, y_pred)
    largest = int(max(true_labels.max(), predicted_labels.max()))
    num_classes = largest + 1 if num_classes is None else num_classes
    if largest >= num_classes:
        raise ValueError(f"Class label {largest} does not fit num_classes={num_classes}.")
    counts = np.bincount(true_labels * num_classes + predicted_labels,
                         minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


def precision_recall_f1(y_true, y_pred, num_classes=None):
    """``(precision, recall, f1, support)`` per class, from the confusion matrix.

    TP is the diagonal, TP + FP a column's sum (predicted as the class), TP + FN
    a row's sum (the support: the samples of the class).
    """
    matrix = confusion_matrix(y_true, y_pred, num_classes)
    true_positives, support = np.diag(matrix), matrix.sum(axis=1)
    precision = _divide_or_zero(true_positives, matrix.sum(axis=0))
    recall = _divide_or_zero(true_positives, support)
    return precision, recall, _divide_or_zero(2 * precision * recall, precision + recall), support


def _occurring(matrix):
    """The classes that occur among the true or the predicted labels."""
    return (matrix.sum(axis=0) + matrix.sum(axis=1)) > 0


def macro_average(y_true, y_pred, num_classes=None):
    """``(precision, recall, f1)`` averaged over the classes, each with equal weight.

    Classes that occur neither in ``y_true`` nor in ``y_pred`` are left out.  A
    rare class counts as much as a frequent one, unlike in the accuracy.
    """
    occurring = _occurring(confusion_matrix(y_true, y_pred, num_classes))
    return tuple(float(values[occurring].mean())
                 for values in precision_recall_f1(y_true, y_pred, num_classes)[:3])


def classification_report(y_true, y_pred, class_names=None):
    """A text table of precision, recall, F1 and support per class, the macro average and
    the accuracy; a class that occurs nowhere shows "-"::

        class      precision  recall  f1-score  support
        cat            0.667   0.800     0.727        5
        dog            0.750   0.500     0.600        6
        bird           0.667   1.000     0.800        2

        macro avg      0.694   0.767     0.709       13
        accuracy                         0.692       13
    """
    true_labels, predicted_labels = _labels(y_true, y_pred)
    if class_names is None:
        class_names = [str(label) for label in range(max(true_labels.max(), predicted_labels.max()) + 1)]
    class_names = [str(name) for name in class_names]
    matrix = confusion_matrix(true_labels, predicted_labels, len(class_names))
    precision, recall, f1, support = precision_recall_f1(true_labels, predicted_labels,
                                                         len(class_names))
    total = len(true_labels)
    name_width = max(len(name) for name in class_names + ["macro avg"])
    widths = (9, 6, 8, max(7, len(str(total))))

    def row(name, cells):
        return "  ".join([name.ljust(name_width)] + [cell.rjust(width)
                                                     for cell, width in zip(cells, widths)])

    lines = [row("class", ("precision", "recall", "f1-score", "support"))]
    for k, (name, occurs) in enumerate(zip(class_names, _occurring(matrix))):
        cells = [f"{values[k]:.3f}" if occurs else "-" for values in (precision, recall, f1)]
        lines.append(row(name, cells + [str(support[k])]))
    macro = macro_average(true_labels, predicted_labels, len(class_names))
    lines += ["", row("macro avg", [f"{value:.3f}" for value in macro] + [str(total)]),
              row("accuracy", ["", "", f"{accuracy(true_labels, predicted_labels):.3f}", str(total)])]
    return "\n".join(lines)
