"""Preparing inputs for a network: standardizing, log transform, decorrelating, splitting.

Everything here is plain numpy, so it can be used (and tested) without
TensorFlow.  The functions follow the lecture's preprocessing slide
(inputPreprocessing.py shows them at work):

- ``fit_standardizer`` and ``standardize``: mean 0 and variance 1 per feature;
- ``log_transform``: log(x + offset) for data that peaks at zero;
- ``fit_pca_whitening`` and ``apply_pca_whitening``: decorrelation;
- ``train_val_test_split``: the 60:20:20 split into training, validation and test set;
- ``stratified_subset``: a smaller data set with the same class proportions, for
  quick runs (``--max-samples N``).

A rule that runs through the module: statistics (mean, standard deviation,
principal components) are always computed from the *training* set only and then
applied unchanged to the validation and test sets.  Otherwise information from
the test set leaks into the training and the test result is too optimistic.

Functions that return new floating-point data keep the dtype of floating-point
input (float32 stays float32) and turn integer input into float32, the dtype
Keras works with.
"""

import numpy as np

# ---------------------------------------------------------------------------
# Small helpers used by several functions.
# ---------------------------------------------------------------------------


def _float_dtype(x):
    """The dtype for results: floating input keeps its dtype, anything else becomes float32."""
    if np.issubdtype(x.dtype, np.floating):
        return x.dtype
    return np.dtype(np.float32)


def _check_same_length(x, y):
    """Raise a ValueError unless ``x`` and ``y`` have the same number of samples."""
    if len(x) != len(y):
        raise ValueError(
            f"x and y must have the same number of samples, but x has {len(x)} and "
            f"y has {len(y)}."
        )


def _class_codes(y):
    """Number the classes in ``y`` as 0, 1, 2, ... and return (codes, counts).

    ``y`` may hold class labels of any kind (integers, strings) or be one-hot
    encoded / hold probabilities (2D), in which case the class is the column
    with the largest value.
    """
    y = np.asarray(y)
    if y.ndim == 2:
        y = np.argmax(y, axis=1)
    elif y.ndim != 1:
        raise ValueError(
            f"y must hold one class label per sample (1D) or be one-hot encoded (2D), "
            f"but it has shape {y.shape}."
        )
    _, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
    return codes.reshape(-1), counts


def _apportion(total, weights):
    """Split the integer ``total`` into integer parts proportional to ``weights``.

    Largest-remainder method: every part first gets the whole-number part of its
    exact share ``total * weight / sum(weights)``; the samples still missing go,
    one each, to the parts with the largest fractional remainders.  The parts add
    up to ``total`` exactly, and each differs from its exact share by less than 1.
    """
    weights = np.asarray(weights, dtype=np.float64)
    weight_sum = weights.sum()
    if total == 0 or weight_sum == 0:
        return np.zeros(len(weights), dtype=np.int64)
    exact = total * weights / weight_sum
    parts = np.floor(exact).astype(np.int64)
    missing = int(total - parts.sum())
    # A stable sort keeps ties in their original order, so the result is deterministic.
    largest_remainders = np.argsort(-(exact - parts), kind="stable")[:missing]
    parts[largest_remainders] += 1
    return parts


# ---------------------------------------------------------------------------
# Standardizing, log transform, PCA whitening.
# ---------------------------------------------------------------------------


def fit_standardizer(x_train):
    """Compute the mean and standard deviation of every feature of the training set.

    Use it together with ``standardize``::

        mean, std = fit_standardizer(x_train)       # statistics of the training set only
        x_train = standardize(x_train, mean, std)    # now mean 0, variance 1 per feature
        x_test = standardize(x_test, mean, std)      # the same shift and scale

    The statistics are taken over the samples (axis 0), so there is one mean and
    one standard deviation per feature; for images of shape (samples, height,
    width) that is one per pixel.  ``std`` is the population standard deviation
    (divided by the number of samples).  A feature that has the same value in
    every training sample (for example a pixel that is always black) gets
    ``std = 0`` exactly; ``standardize`` then only subtracts the mean.

    Returns
    -------
    (mean, std): two float64 arrays of shape ``x_train.shape[1:]``.

    Raises ValueError if ``x_train`` has no samples.
    """
    x_train = np.asarray(x_train)
    if x_train.ndim < 1 or len(x_train) == 0:
        raise ValueError("fit_standardizer needs at least one training sample.")
    values = x_train.astype(np.float64)
    mean = values.mean(axis=0)
    std = values.std(axis=0)
    # A constant feature should have std exactly 0, but rounding in the mean can
    # leave a tiny positive number, and dividing by it would blow up rounding
    # noise.  Check for constant features exactly instead.
    constant = np.all(values == values[0], axis=0)
    mean = np.where(constant, values[0], mean)
    std = np.where(constant, 0.0, std)
    return mean, std


def standardize(x, mean, std):
    """Shift and scale features: ``(x - mean) / std``, with statistics from ``fit_standardizer``.

    Apply the training set's ``mean`` and ``std`` to every part of the data
    (training, validation, test).  After that the training data has mean 0 and
    variance 1 per feature; the other parts are transformed the same way, so a
    test set with a different mean stays shifted, as it should.

    Features with ``std == 0`` (constant in the training set) are only centred
    (``x - mean``), never divided by zero.

    Returns an array of the shape of ``x``: floating input keeps its dtype,
    integer input becomes float32.

    Raises ValueError if ``mean`` or ``std`` do not match the features of ``x``,
    or if ``std`` is negative.
    """
    x = np.asarray(x)
    mean = np.asarray(mean, dtype=np.float64)
    std = np.asarray(std, dtype=np.float64)
    if mean.shape != x.shape[1:] or std.shape != x.shape[1:]:
        raise ValueError(
            f"mean and std must have one entry per feature, shape {x.shape[1:]} for x of "
            f"shape {x.shape}, but they have shapes {mean.shape} and {std.shape}. "
            f"Compute them with fit_standardizer on data of the same layout."
        )
    if np.any(std < 0):
        raise ValueError("std must not be negative; compute it with fit_standardizer.")
    safe_std = np.where(std > 0, std, 1.0)
    return ((x - mean) / safe_std).astype(_float_dtype(x))


def log_transform(x, offset=1.0):
    """Compress a long tail: ``log(x + offset)``, for data that peaks at zero.

    Many features (counts, energies, intensities) have most values near zero
    and a few very large ones.  The logarithm spreads out the small values and
    pulls in the large ones; the ``offset`` (default 1) keeps ``x = 0`` finite:
    log(0 + 1) = 0.

    Returns an array of the shape of ``x``: floating input keeps its dtype,
    integer input becomes float32.

    Raises ValueError if any value is ``<= -offset``: the logarithm of zero or of
    a negative number is not defined (it would give -inf or nan).
    """
    x = np.asarray(x)
    if x.size > 0 and np.min(x) <= -offset:
        raise ValueError(
            f"log_transform computes log(x + offset) and needs x > -offset = {-offset}, "
            f"but the smallest value is {np.min(x)}. Use a larger offset."
        )
    return np.log(x.astype(np.float64) + offset).astype(_float_dtype(x))


def fit_pca_whitening(x_train, epsilon=1e-5):
    """Compute a PCA whitening transform from the training set.

    PCA whitening decorrelates the features: the centred data is rotated onto
    its principal components (the eigenvectors of the covariance matrix) and
    each component is divided by its standard deviation, ``sqrt(eigenvalue)``.
    Afterwards the training data has mean 0 and (approximately) the identity
    matrix as covariance.  ``epsilon`` is added to every eigenvalue so that
    directions with (almost) no variance are not divided by zero; for
    directions with variance much larger than ``epsilon`` the result has
    variance very close to 1.

    Use it together with ``apply_pca_whitening``::

        mean, matrix = fit_pca_whitening(x_train)            # training set only
        x_train = apply_pca_whitening(x_train, mean, matrix)
        x_test = apply_pca_whitening(x_test, mean, matrix)   # the same rotation and scale

    The output columns are principal components, ordered from the largest
    variance to the smallest, not the original features.

    Parameters
    ----------
    x_train : 2D array (samples, features), at least 2 samples. Flatten images
        first (``x.reshape(len(x), -1)``).
    epsilon : small positive number added to the eigenvalues.

    Returns
    -------
    (mean, whitening_matrix): float64 arrays of shapes (features,) and
    (features, features); whitened data is ``(x - mean) @ whitening_matrix``.
    """
    x_train = np.asarray(x_train)
    if x_train.ndim != 2:
        raise ValueError(
            f"PCA whitening expects a 2D array (samples, features), but got shape "
            f"{x_train.shape}. Flatten images first: x.reshape(len(x), -1)."
        )
    if len(x_train) < 2:
        raise ValueError("PCA whitening needs at least 2 training samples to estimate a covariance.")
    if not epsilon >= 0:
        raise ValueError(f"epsilon must not be negative, got {epsilon}.")
    values = x_train.astype(np.float64)
    mean = values.mean(axis=0)
    centred = values - mean
    covariance = centred.T @ centred / len(values)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    # eigh returns the eigenvalues in increasing order; put the largest first.
    order = np.argsort(eigenvalues)[::-1]
    eigenvalues, eigenvectors = eigenvalues[order], eigenvectors[:, order]
    # Rounding can make eigenvalues of a singular covariance slightly negative.
    eigenvalues = np.clip(eigenvalues, 0.0, None)
    whitening_matrix = eigenvectors / np.sqrt(eigenvalues + epsilon)
    return mean, whitening_matrix


def apply_pca_whitening(x, mean, whitening_matrix):
    """Whiten ``x`` with a transform from ``fit_pca_whitening``: ``(x - mean) @ whitening_matrix``.

    Returns a 2D array (samples, components): floating input keeps its dtype,
    integer input becomes float32.

    Raises ValueError if ``x`` is not 2D or its number of features does not match.
    """
    x = np.asarray(x)
    mean = np.asarray(mean)
    if x.ndim != 2 or x.shape[1] != mean.shape[0]:
        raise ValueError(
            f"x must be a 2D array (samples, {mean.shape[0]} features) like the training "
            f"data the whitening was fitted on, but it has shape {x.shape}."
        )
    return ((x.astype(np.float64) - mean) @ whitening_matrix).astype(_float_dtype(x))


# ---------------------------------------------------------------------------
# Splitting and sub-sampling.
# ---------------------------------------------------------------------------


def train_val_test_split(x, y, fractions=(0.6, 0.2, 0.2), seed=0, stratify=True):
    """Split a data set into training, validation and test set (the lecture's 60:20:20).

    The network learns from the training set, the validation set is used to
    watch for overtraining and to choose settings, and the test set is looked at
    only once, at the end.

    Every sample lands in exactly one of the three parts.  The sizes are the
    ``fractions`` of the number of samples, rounded so that they add up exactly
    (largest-remainder rounding).  With ``stratify=True`` each part also gets
    the same share of every class as the whole data set, up to rounding (less
    than two samples per class and part): the
    training part takes its share of every class, the validation part its share
    of what is left, and the test part the rest.  The samples inside each part
    come in a random order (not sorted by class).  The same ``seed`` always
    gives the same split.

    Parameters
    ----------
    x : array of samples, first axis = samples.
    y : class labels, one per sample (1D), or one-hot encoded (2D).
    fractions : (train, validation, test) fractions, each >= 0, adding up to 1.
    seed : seed of the random number generator.
    stratify : keep the class proportions in every part (needs class labels in y).

    Returns
    -------
    ((x_train, y_train), (x_val, y_val), (x_test, y_test))

    Raises
    ------
    ValueError if ``x`` and ``y`` differ in length or ``fractions`` are not three
    non-negative numbers adding up to 1.
    """
    x = np.asarray(x)
    y = np.asarray(y)
    _check_same_length(x, y)
    if len(x) == 0:
        raise ValueError("x and y are empty: there are no samples to split.")
    fractions = np.asarray(fractions, dtype=np.float64)
    if fractions.shape != (3,):
        raise ValueError(
            f"fractions must be three numbers (train, validation, test), e.g. (0.6, 0.2, 0.2), "
            f"got {tuple(fractions.reshape(-1))}."
        )
    if not np.all(np.isfinite(fractions)) or np.any(fractions < 0):
        raise ValueError(f"fractions must not be negative, got {tuple(fractions)}.")
    if not np.isclose(fractions.sum(), 1.0, rtol=0.0, atol=1e-6):
        raise ValueError(
            f"fractions must add up to 1, but {' + '.join(str(f) for f in fractions)} "
            f"= {fractions.sum():g}."
        )

    rng = np.random.default_rng(seed)
    part_sizes = _apportion(len(x), fractions)

    if stratify:
        codes, class_counts = _class_codes(y)
        # Shuffle the samples of every class, then cut each class into three pieces.
        class_indices = [rng.permutation(np.flatnonzero(codes == c)) for c in range(len(class_counts))]
        remaining = class_counts.copy()
        parts = [[], [], []]
        for part in range(3):
            if part < 2:
                # This part's size, shared out over the classes in proportion to
                # how many samples of each class are still left.
                taken = _apportion(part_sizes[part], remaining)
            else:
                taken = remaining.copy()  # The test part gets the rest.
            for c, indices in enumerate(class_indices):
                start = class_counts[c] - remaining[c]
                parts[part].append(indices[start:start + taken[c]])
            remaining = remaining - taken
        part_indices = [rng.permutation(np.concatenate(pieces)) for pieces in parts]
    else:
        order = rng.permutation(len(x))
        ends = np.cumsum(part_sizes)
        part_indices = [order[:ends[0]], order[ends[0]:ends[1]], order[ends[1]:]]

    return tuple((x[indices], y[indices]) for indices in part_indices)


def stratified_subset(x, y, max_samples, seed=0):
    """A random subset of at most ``max_samples`` samples with the class proportions of y.

    Meant for quick runs (``--max-samples N``): a small subset that still
    contains every class in its usual share.  Each class gets
    ``round(N * share of the class)`` samples, at least 1, and the counts are
    then adjusted by one here and there so that the total is exactly N.  The
    samples come in a random order (not sorted by class); the same ``seed``
    always gives the same subset.  The dtypes of ``x`` and ``y`` are kept.

    If ``max_samples >= len(x)``, ``x`` and ``y`` are returned unchanged (same
    objects, same order).

    Parameters
    ----------
    x : array of samples, first axis = samples.
    y : class labels, one per sample (1D), or one-hot encoded (2D).
    max_samples : the number N of samples wanted, a positive integer.
    seed : seed of the random number generator.

    Returns
    -------
    (x_subset, y_subset)

    Raises
    ------
    ValueError if ``x`` and ``y`` differ in length, ``max_samples`` is not a
    positive integer, or ``max_samples`` is smaller than the number of classes
    (then not every class can be kept).
    """
    if isinstance(max_samples, bool) or not isinstance(max_samples, (int, np.integer)) or max_samples < 1:
        raise ValueError(f"max_samples must be a positive integer, got {max_samples!r}.")
    _check_same_length(x, y)
    if max_samples >= len(x):
        return x, y
    x = np.asarray(x)
    y = np.asarray(y)
    codes, class_counts = _class_codes(y)
    number_of_classes = len(class_counts)
    if max_samples < number_of_classes:
        raise ValueError(
            f"max_samples={max_samples} is smaller than the number of classes "
            f"({number_of_classes}), so the subset cannot contain every class. "
            f"Use at least {number_of_classes} samples."
        )

    exact = max_samples * class_counts / len(x)
    counts = np.maximum(np.floor(exact + 0.5).astype(np.int64), 1)  # round half up, at least 1
    counts = np.minimum(counts, class_counts)
    # Rounding (and the minimum of 1) can miss the total by a few samples.
    # Correct it one sample at a time, where the rounding was furthest off.
    while counts.sum() > max_samples:
        excess = np.where(counts > 1, counts - exact, -np.inf)
        counts[np.argmax(excess)] -= 1
    while counts.sum() < max_samples:
        shortfall = np.where(counts < class_counts, exact - counts, -np.inf)
        counts[np.argmax(shortfall)] += 1

    rng = np.random.default_rng(seed)
    chosen = [rng.choice(np.flatnonzero(codes == c), size=counts[c], replace=False)
              for c in range(number_of_classes)]
    indices = rng.permutation(np.concatenate(chosen))
    return x[indices], y[indices]
