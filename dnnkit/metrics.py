"""Judging a classifier: accuracy, confusion matrix, precision, recall and F1.

Plain numpy, with the definitions from the lecture slides.  For one class,
counting the samples of the test set:

- TP (true positives): of the class and predicted as the class;
- FP (false positives): predicted as the class but of another class;
- FN (false negatives): of the class but predicted as another class;

and then

- precision = TP / (TP + FP): of the samples predicted as the class, the share that is right;
- recall    = TP / (TP + FN): of the samples of the class, the share that was found;
- F1        = 2 * precision * recall / (precision + recall), their harmonic mean;
- accuracy  = correct predictions / all predictions (over all classes).

When a denominator is 0 (the class was never predicted, or never occurs), the
value is defined as 0 instead of dividing by zero.

Labels
------
Every function takes ``y_true`` and ``y_pred`` as either

- integer class labels 0, 1, 2, ... (one per sample), or
- a 2D array with one row per sample and one column per class, such as the
  predicted probabilities from ``model.predict`` or one-hot encoded labels; the
  predicted class is then the column with the largest value (argmax).

So ``accuracy(y_test, model.predict(x_test))`` works directly.  Inputs of
different lengths raise a ValueError.
"""

import numpy as np


def _as_labels(y, name):
    """Turn ``y`` into a 1D int64 array of class labels; also return the number of columns if 2D."""
    y = np.asarray(y)
    columns = None
    if y.ndim == 2 and y.shape[1] == 1:
        # A single column is a column of labels, e.g. shape (samples, 1) from a data file.
        y = y[:, 0]
        if y.size > 0 and np.issubdtype(y.dtype, np.floating) and not np.all(np.mod(y, 1) == 0):
            raise ValueError(
                f"{name} has a single column of non-integer values. If these are the "
                f"probabilities of a binary classifier, turn them into labels first, "
                f"e.g. (probabilities > 0.5).astype(int)."
            )
    elif y.ndim == 2:
        columns = y.shape[1]
        y = np.argmax(y, axis=1)
    elif y.ndim != 1:
        raise ValueError(
            f"{name} must hold class labels (1D) or one row of class scores per sample "
            f"(2D), but it has shape {y.shape}."
        )
    if y.dtype == bool:
        y = y.astype(np.int64)
    if not np.issubdtype(y.dtype, np.number):
        raise ValueError(f"{name} must hold integer class labels 0, 1, 2, ..., got dtype {y.dtype}.")
    if y.size > 0:
        if not np.all(np.mod(y, 1) == 0):
            raise ValueError(
                f"{name} must hold integer class labels 0, 1, 2, ..., but it contains "
                f"values such as {y[np.mod(y, 1) != 0][0]}. For probabilities pass the "
                f"2D array (samples, classes)."
            )
        if y.min() < 0:
            raise ValueError(f"{name} contains the negative class label {y.min()}; labels start at 0.")
    return y.astype(np.int64), columns


def _labels_and_classes(y_true, y_pred, num_classes=None):
    """Check and convert both label arrays; return (true labels, predicted labels, number of classes)."""
    true_labels, true_columns = _as_labels(y_true, "y_true")
    predicted_labels, predicted_columns = _as_labels(y_pred, "y_pred")
    if len(true_labels) != len(predicted_labels):
        raise ValueError(
            f"y_true and y_pred must have one entry per sample each, but y_true has "
            f"{len(true_labels)} and y_pred has {len(predicted_labels)}."
        )
    if len(true_labels) == 0:
        raise ValueError("y_true and y_pred are empty: there is nothing to evaluate.")
    largest_label = int(max(true_labels.max(), predicted_labels.max()))
    if num_classes is None:
        candidates = [largest_label + 1] + [c for c in (true_columns, predicted_columns) if c]
        num_classes = max(candidates)
    else:
        if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
            raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}.")
        if largest_label >= num_classes:
            raise ValueError(
                f"Class label {largest_label} does not fit num_classes={num_classes}; "
                f"labels must lie between 0 and {num_classes - 1}."
            )
        for name, columns in (("y_true", true_columns), ("y_pred", predicted_columns)):
            if columns is not None and columns != num_classes:
                raise ValueError(
                    f"{name} has {columns} columns (one per class), but num_classes={num_classes}."
                )
    return true_labels, predicted_labels, int(num_classes)


def _divide_or_zero(numerator, denominator):
    """Element-wise numerator / denominator, with 0 where the denominator is 0."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    result = np.zeros_like(numerator)
    np.divide(numerator, denominator, out=result, where=denominator != 0)
    return result


def accuracy(y_true, y_pred):
    """The share of correct predictions: correct / total.

    ``y_true`` and ``y_pred`` are class labels or 2D class scores (see the
    module docstring).  Returns a Python float between 0 and 1.
    """
    true_labels, predicted_labels, _ = _labels_and_classes(y_true, y_pred)
    return float(np.mean(true_labels == predicted_labels))


def confusion_matrix(y_true, y_pred, num_classes=None):
    """Count how often each true class was predicted as each class.

    ``matrix[i, j]`` is the number of samples of true class ``i`` that were
    predicted as class ``j``: rows are the true class, columns the predicted
    class.  The diagonal holds the correct predictions; every row adds up to
    the number of samples of that class.

    ``num_classes`` fixes the size of the matrix (useful when a class happens
    to be missing from a small test set); by default it is the largest label
    + 1 (or the number of columns of 2D inputs).

    Returns an int64 array of shape (num_classes, num_classes).
    """
    true_labels, predicted_labels, num_classes = _labels_and_classes(y_true, y_pred, num_classes)
    flat_counts = np.bincount(true_labels * num_classes + predicted_labels,
                              minlength=num_classes * num_classes)
    return flat_counts.reshape(num_classes, num_classes).astype(np.int64)


def precision_recall_f1(y_true, y_pred, num_classes=None):
    """Precision, recall and F1 for every class, plus the number of samples per class.

    For class ``k``, from the confusion matrix: TP = matrix[k, k],
    TP + FP = column k summed (everything predicted as k), TP + FN = row k
    summed (everything that truly is k).  A value whose denominator is 0 is
    defined as 0: precision of a class that is never predicted, recall of a
    class that never occurs, and F1 when precision + recall = 0.

    Returns
    -------
    (precision, recall, f1, support): arrays of shape (num_classes,); the first
    three float64, ``support`` (samples of each true class) int64.
    """
    matrix = confusion_matrix(y_true, y_pred, num_classes)
    true_positives = np.diag(matrix)
    predicted_as_class = matrix.sum(axis=0)  # TP + FP
    support = matrix.sum(axis=1)  # TP + FN
    precision = _divide_or_zero(true_positives, predicted_as_class)
    recall = _divide_or_zero(true_positives, support)
    f1 = _divide_or_zero(2 * precision * recall, precision + recall)
    return precision, recall, f1, support


def macro_average(y_true, y_pred, num_classes=None):
    """Precision, recall and F1 averaged over the classes, every class with equal weight.

    The average is taken over the classes that occur in ``y_true`` or in
    ``y_pred``; a class that appears in neither says nothing about the
    classifier and is left out (instead of counting as 0).  A rare class counts
    as much as a frequent one, so a classifier that ignores a small class is
    penalised, unlike in the accuracy.

    Returns a tuple of three Python floats: (precision, recall, f1).
    """
    true_labels, predicted_labels, num_classes = _labels_and_classes(y_true, y_pred, num_classes)
    precision, recall, f1, _ = precision_recall_f1(true_labels, predicted_labels, num_classes)
    occurring = _occurring_classes(true_labels, predicted_labels, num_classes)
    return (float(precision[occurring].mean()), float(recall[occurring].mean()),
            float(f1[occurring].mean()))


def _occurring_classes(true_labels, predicted_labels, num_classes):
    """A boolean mask of the classes that occur in the true or in the predicted labels."""
    return (np.bincount(true_labels, minlength=num_classes)
            + np.bincount(predicted_labels, minlength=num_classes)) > 0


def classification_report(y_true, y_pred, class_names=None):
    """A text table of precision, recall, F1 and support per class, for printing.

    One row per class, then a "macro avg" row (see ``macro_average``; its
    support is the total number of samples) and an "accuracy" row.  Values have
    3 decimals and the columns are aligned.  A class that occurs neither in
    ``y_true`` nor in ``y_pred`` shows "-" instead of numbers and is not part
    of the macro average.  Example::

        class      precision  recall  f1-score  support
        cat            0.667   0.800     0.727        5
        dog            0.750   0.500     0.600        6
        bird           0.667   1.000     0.800        2

        macro avg      0.694   0.767     0.709       13
        accuracy                         0.692       13

    ``class_names`` (one name per class, in label order) label the rows and
    fix the number of classes; by default the rows are labelled 0, 1, 2, ...

    Returns the table as a string (no trailing newline).
    """
    true_labels, predicted_labels, num_classes = _labels_and_classes(y_true, y_pred)
    if class_names is None:
        class_names = [str(label) for label in range(num_classes)]
    elif num_classes > len(class_names):
        raise ValueError(
            f"class_names has {len(class_names)} names, but the labels need {num_classes} "
            f"(classes 0 to {num_classes - 1}); give one name per class, in label order."
        )
    class_names = [str(name) for name in class_names]
    num_classes = len(class_names)

    precision, recall, f1, support = precision_recall_f1(true_labels, predicted_labels, num_classes)
    macro_precision, macro_recall, macro_f1 = macro_average(true_labels, predicted_labels, num_classes)
    occurring = _occurring_classes(true_labels, predicted_labels, num_classes)
    total = len(true_labels)

    name_width = max([len(name) for name in class_names] + [len("macro avg"), len("class")])
    headers = ("precision", "recall", "f1-score", "support")
    widths = [max(len(header), 6) for header in headers]
    widths[3] = max(widths[3], len(str(total)))

    def row(name, cells):
        return "  ".join([name.ljust(name_width)] + [cell.rjust(width) for cell, width in zip(cells, widths)])

    lines = [row("class", headers)]
    for k in range(num_classes):
        if occurring[k]:
            cells = [f"{precision[k]:.3f}", f"{recall[k]:.3f}", f"{f1[k]:.3f}"]
        else:
            cells = ["-", "-", "-"]
        lines.append(row(class_names[k], cells + [str(support[k])]))
    lines.append("")
    lines.append(row("macro avg", [f"{macro_precision:.3f}", f"{macro_recall:.3f}",
                                   f"{macro_f1:.3f}", str(total)]))
    lines.append(row("accuracy", ["", "", f"{accuracy(true_labels, predicted_labels):.3f}", str(total)]))
    return "\n".join(lines)
