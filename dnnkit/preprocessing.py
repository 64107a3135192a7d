"""Preparing inputs for a network: standardizing, log transform, decorrelating, splitting.

Plain numpy, following the lecture's preprocessing slide (inputPreprocessing.py
shows each step at work):

- ``fit_standardizer`` and ``standardize``: mean 0 and variance 1 per feature;
- ``log_transform``: log(x + offset) for data that peaks at zero;
- ``fit_pca_whitening`` and ``apply_pca_whitening``: decorrelation;
- ``train_val_test_split``: the 60:20:20 split into training, validation and test set;
- ``stratified_subset``: a smaller data set with the same class proportions (``--max-samples``).

The rule that runs through the module: statistics (mean, standard deviation,
principal components) come from the *training* set only and are applied
unchanged to the validation and test sets; otherwise the test set leaks into
the training and the test result is too optimistic.  (scikit-learn's
StandardScaler, PCA(whiten=True) and train_test_split do the same; the
lecture writes the steps out instead of adding a dependency.)

New floating-point results keep the dtype of floating input and are float32
(Keras's dtype) for integer input.
"""

import numpy as np


def _float_dtype(x):
    return x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float32)


def _check_same_length(x, y):
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same number of samples, but x has {len(x)} "
                         f"and y has {len(y)}.")


def _class_codes(y):
    """The classes of ``y`` numbered 0, 1, 2, ... (argmax of one-hot rows): ``(codes, counts)``."""
    y = np.asarray(y)
    if y.ndim == 2:
        y = np.argmax(y, axis=1)
    _, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
    return codes.reshape(-1), counts


def _apportion(total, weights):
    """Split the whole number ``total`` into parts proportional to ``weights``.

    Largest-remainder method: each part gets the whole-number part of its exact
    share, the rest go one each to the largest remainders (ties in order).
    """
    weights = np.asarray(weights, dtype=np.float64)
    if total == 0 or weights.sum() == 0:
        return np.zeros(len(weights), dtype=np.int64)
    exact = total * weights / weights.sum()
    parts = np.floor(exact).astype(np.int64)
    parts[np.argsort(-(exact - parts), kind="stable")[:int(total - parts.sum())]] += 1
    return parts


def fit_standardizer(x_train):
    """The mean and (population) standard deviation of every feature of the training set.

    One value per feature (per pixel for images).  A feature that is constant in
    the training set gets ``std = 0`` exactly; :func:`standardize` then only
    centres it.  Returns two float64 arrays of shape ``x_train.shape[1:]``.
    """
    values = np.asarray(x_train, dtype=np.float64)
    if values.ndim < 1 or len(values) == 0:
        raise ValueError("fit_standardizer needs at least one training sample.")
    # Exactly 0 for a constant feature (rounding in the mean would leave a tiny std).
    constant = np.all(values == values[0], axis=0)
    return (np.where(constant, values[0], values.mean(axis=0)),
            np.where(constant, 0.0, values.std(axis=0)))


def standardize(x, mean, std):
    """``(x - mean) / std`` with the training set's statistics (``std == 0``: only ``x - mean``)."""
    x = np.asarray(x)
    mean, std = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
    if mean.shape != x.shape[1:] or std.shape != x.shape[1:]:
        raise ValueError(f"mean and std must have one entry per feature, shape {x.shape[1:]} "
                         f"for x of shape {x.shape}, but they have shapes {mean.shape} and "
                         f"{std.shape}. Compute them with fit_standardizer on data of the same "
                         f"layout.")
    if np.any(std < 0):
        raise ValueError("std must not be negative; compute it with fit_standardizer.")
    return ((x - mean) / np.where(std > 0, std, 1.0)).astype(_float_dtype(x))


def log_transform(x, offset=1.0):
    """``log(x + offset)``: spreads out the values near zero of data with a long tail."""
    x = np.asarray(x)
    if x.size > 0 and np.min(x) <= -offset:
        raise ValueError(f"log_transform computes log(x + offset) and needs x > -offset = "
                         f"{-offset}, but the smallest value is {np.min(x)}. Use a larger offset.")
    return np.log(x.astype(np.float64) + offset).astype(_float_dtype(x))


def fit_pca_whitening(x_train, epsilon=1e-5):
    """A PCA whitening transform from the training set: ``(mean, whitening_matrix)``.

    The centred data are rotated onto the eigenvectors of their covariance
    matrix and each component is divided by ``sqrt(eigenvalue + epsilon)``:
    the whitened training data have mean 0 and (nearly) the identity as
    covariance.  The components come in order of decreasing variance.
    ``x_train`` is 2D (samples, features): flatten images first.
    """
    x_train = np.asarray(x_train)
    if x_train.ndim != 2:
        raise ValueError(f"PCA whitening expects a 2D array (samples, features), but got shape "
                         f"{x_train.shape}. Flatten images first: x.reshape(len(x), -1).")
    if len(x_train) < 2:
        raise ValueError("PCA whitening needs at least 2 training samples to estimate a covariance.")
    if not epsilon >= 0:
        raise ValueError(f"epsilon must not be negative, got {epsilon}.")
    mean = x_train.mean(axis=0, dtype=np.float64)
    centred = x_train - mean
    eigenvalues, eigenvectors = np.linalg.eigh(centred.T @ centred / len(x_train))
    order = np.argsort(eigenvalues)[::-1]  # eigh sorts increasing; largest first
    # Rounding can make the eigenvalues of a singular covariance slightly negative.
    eigenvalues = np.clip(eigenvalues[order], 0.0, None)
    return mean, eigenvectors[:, order] / np.sqrt(eigenvalues + epsilon)


def apply_pca_whitening(x, mean, whitening_matrix):
    """Whiten ``x`` (2D) with a transform from :func:`fit_pca_whitening`."""
    x, mean = np.asarray(x), np.asarray(mean)
    if x.ndim != 2 or x.shape[1] != mean.shape[0]:
        raise ValueError(f"x must be a 2D array (samples, {mean.shape[0]} features) like the "
                         f"training data the whitening was fitted on, but it has shape {x.shape}.")
    return ((x.astype(np.float64) - mean) @ whitening_matrix).astype(_float_dtype(x))


def train_val_test_split(x, y, fractions=(0.6, 0.2, 0.2), seed=0, stratify=True):
    """Split into ``((x_train, y_train), (x_val, y_val), (x_test, y_test))``, the lecture's 60:20:20.

    Every sample lands in exactly one part; the sizes are the ``fractions``,
    rounded so that they add up.  With ``stratify`` every part gets each class
    in its share (up to rounding): the training part takes its share of every
    class, the validation part its share of the rest, the test part what is
    left.  Within a part the samples are shuffled; the same ``seed`` gives the
    same split.  ``y``: one label per sample, or one-hot rows.
    """
    x, y = np.asarray(x), np.asarray(y)
    _check_same_length(x, y)
    if len(x) == 0:
        raise ValueError("x and y are empty: there are no samples to split.")
    fractions = np.asarray(fractions, dtype=np.float64)
    if fractions.shape != (3,):
        raise ValueError(f"fractions must be three numbers (train, validation, test), e.g. "
                         f"(0.6, 0.2, 0.2), got {tuple(fractions.reshape(-1))}.")
    if not np.all(np.isfinite(fractions)) or np.any(fractions < 0):
        raise ValueError(f"fractions must not be negative, got {tuple(fractions)}.")
    if not np.isclose(fractions.sum(), 1.0, rtol=0.0, atol=1e-6):
        raise ValueError(f"fractions must add up to 1, but "
                         f"{' + '.join(str(f) for f in fractions)} = {fractions.sum():g}.")
    rng = np.random.default_rng(seed)
    sizes = _apportion(len(x), fractions)
    if stratify:
        codes, class_counts = _class_codes(y)
        by_class = [rng.permutation(np.flatnonzero(codes == c)) for c in range(len(class_counts))]
        remaining, parts = class_counts.copy(), []
        for part in range(3):
            # This part's size shared out over the classes in proportion to what is left.
            taken = _apportion(sizes[part], remaining) if part < 2 else remaining.copy()
            parts.append(rng.permutation(np.concatenate([
                indices[count - left:count - left + share]
                for indices, count, left, share in zip(by_class, class_counts, remaining, taken)])))
            remaining = remaining - taken
    else:
        order = rng.permutation(len(x))
        parts = np.split(order, np.cumsum(sizes)[:2])
    return tuple((x[indices], y[indices]) for indices in parts)


def stratified_subset(x, y, max_samples, seed=0):
    """A random ``(x, y)`` subset of exactly ``max_samples`` with the class proportions of ``y``.

    Each class gets its share rounded (at least 1), corrected one sample at a
    time where the rounding was furthest off, so that the total is exact.
    Shuffled, seeded, dtypes kept; with ``max_samples >= len(x)`` the inputs
    are returned unchanged.
    """
    if isinstance(max_samples, bool) or not isinstance(max_samples, (int, np.integer)) \
            or max_samples < 1:
        raise ValueError(f"max_samples must be a positive integer, got {max_samples!r}.")
    _check_same_length(x, y)
    if max_samples >= len(x):
        return x, y
    x, y = np.asarray(x), np.asarray(y)
    codes, class_counts = _class_codes(y)
    if max_samples < len(class_counts):
        raise ValueError(f"max_samples={max_samples} is smaller than the number of classes "
                         f"({len(class_counts)}), so the subset cannot contain every class. "
                         f"Use at least {len(class_counts)} samples.")
    exact = max_samples * class_counts / len(x)
    counts = np.minimum(np.maximum(np.floor(exact + 0.5).astype(np.int64), 1), class_counts)
    while counts.sum() > max_samples:
        counts[np.argmax(np.where(counts > 1, counts - exact, -np.inf))] -= 1
    while counts.sum() < max_samples:
        counts[np.argmax(np.where(counts < class_counts, exact - counts, -np.inf))] += 1
    rng = np.random.default_rng(seed)
    chosen = [rng.choice(np.flatnonzero(codes == c), size=counts[c], replace=False)
              for c in range(len(class_counts))]
    indices = rng.permutation(np.concatenate(chosen))
    return x[indices], y[indices]
