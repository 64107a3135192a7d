"""Tests of dnnkit.preprocessing on small examples computed by hand."""

import math

import numpy as np
import pytest

from dnnkit import preprocessing

# ---------------------------------------------------------------------------
# Standardizing, log transform, PCA whitening.
# ---------------------------------------------------------------------------


def test_standardize_hand_example_uses_training_statistics_only():
    # Feature 0: training values 1, 3 -> mean 2, std 1 (population std: sqrt((1 + 1) / 2)).
    # Feature 1: training values 10, 30 -> mean 20, std 10.
    x_train = np.array([[1.0, 10.0], [3.0, 30.0]])
    mean, std = preprocessing.fit_standardizer(x_train)
    np.testing.assert_allclose(mean, [2.0, 20.0])
    np.testing.assert_allclose(std, [1.0, 10.0])
    np.testing.assert_allclose(preprocessing.standardize(x_train, mean, std), [[-1, -1], [1, 1]])
    # Test data with another mean stays shifted: (7 - 2) / 1 = 5, (70 - 20) / 10 = 5.
    x_test = np.array([[7.0, 70.0]])
    np.testing.assert_allclose(preprocessing.standardize(x_test, mean, std), [[5.0, 5.0]])


def test_standardize_gives_mean_0_variance_1_per_feature():
    rng = np.random.default_rng(0)
    x_train = rng.normal(loc=[5.0, -3.0, 100.0], scale=[2.0, 0.1, 30.0], size=(200, 3))
    x_test = x_train[:50] + 10.0
    mean, std = preprocessing.fit_standardizer(x_train)
    standardized = preprocessing.standardize(x_train, mean, std)
    np.testing.assert_allclose(standardized.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(standardized.var(axis=0), 1.0)
    # The shifted test set is not re-centred: its mean stays away from 0.
    assert np.all(preprocessing.standardize(x_test, mean, std).mean(axis=0) > 0.3)


def test_standardize_constant_feature_is_centred_not_divided_by_zero():
    # Feature 1 is 0.1 in every training sample: std 0, so it is only centred.
    x_train = np.array([[1.0, 0.1], [3.0, 0.1], [5.0, 0.1]])
    mean, std = preprocessing.fit_standardizer(x_train)
    assert std[1] == 0.0
    standardized = preprocessing.standardize(x_train, mean, std)
    assert np.all(np.isfinite(standardized))
    np.testing.assert_array_equal(standardized[:, 1], 0.0)
    # A test value of 2.1 becomes 2.1 - 0.1 = 2.0 (centred, not scaled).
    np.testing.assert_allclose(preprocessing.standardize(np.array([[3.0, 2.1]]), mean, std)[0, 1], 2.0)


def test_standardize_dtypes_images_and_misuse():
    images = np.random.default_rng(0).integers(0, 256, size=(10, 4, 4)).astype(np.uint8)
    mean, std = preprocessing.fit_standardizer(images)
    assert mean.shape == (4, 4)  # one mean per pixel
    assert preprocessing.standardize(images, mean, std).dtype == np.float32
    float32_images = images.astype(np.float32)
    assert preprocessing.standardize(float32_images, mean, std).dtype == np.float32
    with pytest.raises(ValueError, match="one entry per feature"):
        preprocessing.standardize(images.reshape(10, 16), mean, std)
    with pytest.raises(ValueError, match="at least one"):
        preprocessing.fit_standardizer(np.zeros((0, 3)))


def test_log_transform_hand_values_and_offset():
    # log(0 + 1) = 0, log((e - 1) + 1) = 1, log(e^2 - 1 + 1) = 2
    x = np.array([0.0, math.e - 1, math.e ** 2 - 1])
    np.testing.assert_allclose(preprocessing.log_transform(x), [0.0, 1.0, 2.0])
    # With offset 0.5: log(-0.25 + 0.5) = log(0.25)
    np.testing.assert_allclose(preprocessing.log_transform([-0.25], offset=0.5), [math.log(0.25)])
    assert preprocessing.log_transform(np.array([0, 9], dtype=np.int64)).dtype == np.float32


def test_log_transform_rejects_values_at_or_below_minus_offset():
    with pytest.raises(ValueError, match="x > -offset"):
        preprocessing.log_transform([0.0, -2.0])
    with pytest.raises(ValueError, match="larger offset"):
        preprocessing.log_transform([-1.0])  # log(0) would be -inf
    with pytest.raises(ValueError):
        preprocessing.log_transform([0.1], offset=-0.5)


def _correlated_data(rng, samples=400):
    """Three strongly correlated features with very different scales."""
    mixing = np.array([[2.0, 0.0, 0.0], [1.5, 0.5, 0.0], [-3.0, 1.0, 1.0]])
    return rng.normal(size=(samples, 3)) @ mixing.T + np.array([10.0, -5.0, 1.0])


def test_pca_whiten_gives_identity_covariance_on_training_data():
    x_train = _correlated_data(np.random.default_rng(0))
    # Before: far from the identity (correlated, different scales).
    assert abs(np.corrcoef(x_train.T)[0, 1]) > 0.9
    mean, matrix = preprocessing.fit_pca_whitening(x_train)
    white = preprocessing.apply_pca_whitening(x_train, mean, matrix)
    assert white.shape == x_train.shape
    np.testing.assert_allclose(white.mean(axis=0), 0.0, atol=1e-10)
    covariance = white.T @ white / len(white)
    # epsilon = 1e-5 shrinks the variances slightly, by a factor eigenvalue / (eigenvalue + 1e-5).
    np.testing.assert_allclose(covariance, np.eye(3), atol=1e-3)


def test_pca_whiten_applies_training_statistics_to_other_data():
    rng = np.random.default_rng(1)
    x_train = _correlated_data(rng)
    mean, matrix = preprocessing.fit_pca_whitening(x_train)
    white_train = preprocessing.apply_pca_whitening(x_train, mean, matrix)
    # The same rows give the same result: the other data uses the training transform.
    np.testing.assert_allclose(preprocessing.apply_pca_whitening(x_train[:10], mean, matrix),
                               white_train[:10])
    # Data from elsewhere is not re-fitted: a shifted copy is not centred.
    white_shifted = preprocessing.apply_pca_whitening(x_train + 5.0, mean, matrix)
    assert np.linalg.norm(white_shifted.mean(axis=0)) > 1.0
    # float32 stays float32, integers become float32.
    assert preprocessing.apply_pca_whitening(x_train.astype(np.float32), mean, matrix).dtype \
        == np.float32
    assert preprocessing.apply_pca_whitening(np.ones((2, 3), dtype=np.int64), mean, matrix).dtype \
        == np.float32


def test_pca_whiten_components_ordered_and_misuse():
    x_train = _correlated_data(np.random.default_rng(2))
    mean, matrix = preprocessing.fit_pca_whitening(x_train, epsilon=0.0)
    # The columns of the whitening matrix are eigenvectors / sqrt(eigenvalue), so their
    # lengths are 1 / sqrt(eigenvalue): increasing when the largest variance comes first.
    lengths = np.linalg.norm(matrix, axis=0)
    assert np.all(np.diff(lengths) > 0)
    with pytest.raises(ValueError, match=r"Flatten images first: x\.reshape"):
        preprocessing.fit_pca_whitening(np.zeros((5, 2, 2)))
    with pytest.raises(ValueError, match="at least 2"):
        preprocessing.fit_pca_whitening(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="must not be negative"):
        preprocessing.fit_pca_whitening(x_train, epsilon=-1.0)
    with pytest.raises(ValueError, match="3 features"):
        preprocessing.apply_pca_whitening(np.zeros((4, 2)), mean, matrix)


# ---------------------------------------------------------------------------
# Splitting.
# ---------------------------------------------------------------------------


def _labelled_ids(class_counts):
    """x = sample ids 0, 1, 2, ... and y = class labels, class k repeated class_counts[k] times."""
    y = np.repeat(np.arange(len(class_counts)), class_counts)
    return np.arange(len(y)), y


def test_split_default_is_60_20_20_with_every_sample_exactly_once():
    x, y = _labelled_ids([50, 30, 20])
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = preprocessing.train_val_test_split(x, y)
    assert (len(x_train), len(x_val), len(x_test)) == (60, 20, 20)
    all_ids = np.concatenate([x_train, x_val, x_test])
    np.testing.assert_array_equal(np.sort(all_ids), x)  # coverage, and no sample twice
    # x and y stay paired: here y of sample i is y[i].
    for part_x, part_y in ((x_train, y_train), (x_val, y_val), (x_test, y_test)):
        np.testing.assert_array_equal(part_y, y[part_x])


def test_split_is_stratified():
    x, y = _labelled_ids([50, 30, 20])
    (_, y_train), (_, y_val), (_, y_test) = preprocessing.train_val_test_split(x, y)
    # 60 % of (50, 30, 20) = (30, 18, 12); 20 % = (10, 6, 4).
    np.testing.assert_array_equal(np.bincount(y_train), [30, 18, 12])
    np.testing.assert_array_equal(np.bincount(y_val), [10, 6, 4])
    np.testing.assert_array_equal(np.bincount(y_test), [10, 6, 4])
    # The parts are shuffled, not sorted by class.
    assert np.any(np.diff(y_train) < 0)


def test_split_uneven_sizes_still_cover_everything_and_stay_close_to_the_shares():
    x, y = _labelled_ids([7, 11, 3, 1])  # 22 samples
    parts = preprocessing.train_val_test_split(x, y, fractions=(0.5, 0.3, 0.2), seed=3)
    # Sizes: 22 * (0.5, 0.3, 0.2) = (11, 6.6, 4.4) -> (11, 7, 4), adding up to 22.
    assert [len(part_x) for part_x, _ in parts] == [11, 7, 4]
    np.testing.assert_array_equal(np.sort(np.concatenate([part_x for part_x, _ in parts])), x)
    # Every class is split close to its exact share (within 2 samples).
    for (_, part_y), fraction in zip(parts, (0.5, 0.3, 0.2)):
        counts = np.bincount(part_y, minlength=4)
        assert np.all(np.abs(counts - fraction * np.array([7, 11, 3, 1])) < 2)


def test_split_is_reproducible_with_a_seed():
    x, y = _labelled_ids([40, 40, 20])
    first = preprocessing.train_val_test_split(x, y, seed=7)
    again = preprocessing.train_val_test_split(x, y, seed=7)
    other = preprocessing.train_val_test_split(x, y, seed=8)
    for (a, _), (b, _) in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0][0], other[0][0])


def test_split_without_stratify_and_with_one_hot_labels():
    x, y = _labelled_ids([80, 20])
    parts = preprocessing.train_val_test_split(x, y, fractions=(0.7, 0.3, 0.0), stratify=False)
    assert [len(part_x) for part_x, _ in parts] == [70, 30, 0]
    np.testing.assert_array_equal(np.sort(np.concatenate([parts[0][0], parts[1][0]])), x)
    # One-hot labels are stratified by their class (argmax) and returned as rows.
    one_hot_y = np.eye(2)[y]
    (_, y_train), _, _ = preprocessing.train_val_test_split(x, one_hot_y)
    assert y_train.shape == (60, 2)
    np.testing.assert_array_equal(y_train.sum(axis=0), [48, 12])  # 60 % of (80, 20)


def test_split_rejects_bad_fractions_and_lengths():
    x, y = _labelled_ids([5, 5])
    with pytest.raises(ValueError, match="add up to 1"):
        preprocessing.train_val_test_split(x, y, fractions=(0.6, 0.2, 0.1))
    with pytest.raises(ValueError, match="negative"):
        preprocessing.train_val_test_split(x, y, fractions=(1.2, -0.2, 0.0))
    with pytest.raises(ValueError, match="three numbers"):
        preprocessing.train_val_test_split(x, y, fractions=(0.8, 0.2))
    with pytest.raises(ValueError, match="x has 10 and y has 9"):
        preprocessing.train_val_test_split(x, y[:9])
    with pytest.raises(ValueError, match="no samples"):
        preprocessing.train_val_test_split([], [])


# ---------------------------------------------------------------------------
# Stratified subset.
# ---------------------------------------------------------------------------


def test_stratified_subset_keeps_class_proportions_and_exact_size():
    x, y = _labelled_ids([600, 300, 100])
    x_sub, y_sub = preprocessing.stratified_subset(x, y, 100)
    # 100 * (0.6, 0.3, 0.1) = (60, 30, 10)
    assert len(x_sub) == 100
    np.testing.assert_array_equal(np.bincount(y_sub), [60, 30, 10])
    np.testing.assert_array_equal(y_sub, y[x_sub])  # rows stay paired
    assert len(np.unique(x_sub)) == 100  # no sample twice
    assert np.any(np.diff(y_sub) < 0)  # shuffled, not sorted by class


def test_stratified_subset_keeps_rare_classes_and_exact_total():
    x, y = _labelled_ids([990, 9, 1])
    _, y_sub = preprocessing.stratified_subset(x, y, 50)
    # Exact shares 50 * (0.99, 0.009, 0.001) = (49.5, 0.45, 0.05) round to (50, 0, 0);
    # the rare classes get at least 1, so class 0 gives up 2 to reach 50: (48, 1, 1).
    np.testing.assert_array_equal(np.bincount(y_sub), [48, 1, 1])


def test_stratified_subset_rounding_fixed_to_exact_total():
    x, y = _labelled_ids([1, 1, 1, 1, 1, 1, 1])  # 7 classes of one sample each
    x, y = np.tile(x, 3), np.tile(y, 3)  # 21 samples, 3 per class
    # 10 * 3/21 = 1.43 per class rounds to 1 -> 7 in total; 3 classes get one more.
    _, y_sub = preprocessing.stratified_subset(x, y, 10)
    counts = np.bincount(y_sub, minlength=7)
    assert counts.sum() == 10
    assert sorted(counts) == [1, 1, 1, 1, 2, 2, 2]


def test_stratified_subset_is_seeded_and_keeps_dtypes():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(300, 2, 2)).astype(np.uint8)
    y = np.repeat(np.arange(3, dtype=np.int32), 100)
    x_sub, y_sub = preprocessing.stratified_subset(x, y, 30, seed=5)
    again_x, _ = preprocessing.stratified_subset(x, y, 30, seed=5)
    other_x, _ = preprocessing.stratified_subset(x, y, 30, seed=6)
    assert x_sub.dtype == np.uint8 and y_sub.dtype == np.int32
    assert x_sub.shape == (30, 2, 2)
    np.testing.assert_array_equal(x_sub, again_x)
    assert not np.array_equal(x_sub, other_x)


def test_stratified_subset_returns_inputs_unchanged_when_big_enough():
    x, y = _labelled_ids([3, 2])
    x_sub, y_sub = preprocessing.stratified_subset(x, y, 5)
    assert x_sub is x and y_sub is y
    assert preprocessing.stratified_subset(x, y, 1000)[0] is x


def test_stratified_subset_misuse():
    x, y = _labelled_ids([5, 5, 5])
    with pytest.raises(ValueError, match="number of classes"):
        preprocessing.stratified_subset(x, y, 2)
    with pytest.raises(ValueError, match="positive integer"):
        preprocessing.stratified_subset(x, y, 0)
    with pytest.raises(ValueError, match="positive integer"):
        preprocessing.stratified_subset(x, y, 2.5)
    with pytest.raises(ValueError, match="same number of samples"):
        preprocessing.stratified_subset(x, y[:-1], 5)
