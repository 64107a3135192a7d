"""Tests of the scripts for the slides that had none: activationFunctions.py,
networkByHand.py, inputPreprocessing.py and convolutionPooling.py.

Each script runs in this process as sphinx-gallery runs its examples
(``test_scripts.run_script``: ``runpy.run_path(script, run_name="__main__")``
with ``sys.argv`` set to short settings plus ``--no-show --outdir <tmp>``).
The tests check the script's own results in the globals it leaves behind
against Keras (or against numpy computed here another way), the lines it
prints and the PNG files it writes.  tests/test_scripts.py checks for every
script that ``--help`` imports neither TensorFlow nor matplotlib.
"""

import numpy as np
import pytest
from dnnkit import compat, lecture
from test_scripts import assert_figures, run_script

#: The figures each script saves, without the ``<script>_`` prefix.
FIGURES = {
    "activationFunctions": ("table", "swish"),
    "networkByHand": ("softmax", "initial_weights"),
    "inputPreprocessing": ("raw", "standardized", "decorrelated", "correlation"),
    "convolutionPooling": ("kernels", "max_pooling"),
}


def check_figures(name, tmp_path):
    """The script's figures, and only those, were written into tmp_path as real PNG images."""
    assert_figures(name, FIGURES[name], tmp_path)


# ---------------------------------------------------------------------------
# activationFunctions.py
# ---------------------------------------------------------------------------
def keras_activations():
    """Keras's version of every table function it has: name -> function of a tensor."""
    from tensorflow import keras

    activations = keras.activations
    found = {"linear": activations.linear, "sigmoid": activations.sigmoid,
             "tanh": activations.tanh, "ReLU": activations.relu, "swish": activations.swish}
    found["leaky ReLU"] = lambda z: compat.leaky_relu(z, 0.01)
    return found


def test_activation_functions_agree_with_keras_and_their_derivatives_with_tensorflow(
        tmp_path, monkeypatch, capsys):
    import tensorflow as tf

    namespace = run_script("activationFunctions", [], tmp_path, monkeypatch)
    output = capsys.readouterr().out
    check_figures("activationFunctions", tmp_path)
    table = {row[0]: row for row in namespace["table"]}
    assert list(table) == ["linear", "step", "sigmoid", "tanh", "ReLU", "leaky ReLU", "swish"]
    for name, row in table.items():
        assert f"{name:<11} {row[4]:<18} {row[3]}" in output

    # Points on both sides of 0, but not 0 itself (where ReLU and step have no derivative).
    z = np.concatenate([np.linspace(-6.0, -0.01, 300), np.linspace(0.01, 6.0, 300)])
    keras_functions = keras_activations()
    assert len(keras_functions) == 6  # all but the step function
    for name, keras_function in keras_functions.items():
        _, function, derivative, _, _ = table[name]
        tensor = tf.constant(z, dtype=tf.float64)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            value = keras_function(tensor)
        # rtol 1e-7: Keras may hold a constant such as the slope 0.01 in float32.
        np.testing.assert_allclose(function(z), np.asarray(value), rtol=1e-7, atol=1e-14,
                                   err_msg=name)
        np.testing.assert_allclose(derivative(z), np.asarray(tape.gradient(value, tensor)),
                                   rtol=1e-7, atol=1e-14, err_msg=name)

    # Every derivative, the step's too, against central finite differences.
    h = 1e-6
    for name, function, derivative, _, _ in namespace["table"]:
        numeric = (function(z + h) - function(z - h)) / (2 * h)
        np.testing.assert_allclose(derivative(z), numeric, atol=1e-6, err_msg=name)

    # The slide's typos are not in the code: leaky ReLU is 0.01 z below 0, swish z sigmoid(z).
    np.testing.assert_allclose(table["leaky ReLU"][1](np.array([-2.0, 3.0])), [-0.02, 3.0])
    np.testing.assert_allclose(table["swish"][1](np.array([2.0])), [2.0 / (1.0 + np.exp(-2.0))])

    # The printed ranges hold on a wide grid, and the swish minimum is where it is printed.
    wide = np.linspace(-30.0, 30.0, 600_001)
    assert set(np.unique(table["step"][1](wide))) == {0.0, 1.0}
    for name, low, high in (("sigmoid", 0.0, 1.0), ("tanh", -1.0, 1.0)):
        values = table[name][1](wide)
        assert low <= values.min() < low + 1e-6 and high - 1e-6 < values.max() <= high, name
    assert table["ReLU"][1](wide).min() == 0.0
    assert namespace["swish_minimum"] == pytest.approx(-0.278464542761, abs=1e-6)
    assert namespace["swish_minimum_at"] == pytest.approx(-1.278464542761, abs=1e-4)
    assert table["swish"][1](wide).min() >= namespace["swish_minimum"] - 1e-12
    assert "Swish (beta = 1) is smallest at z = -1.2785: -0.2785." in output


def test_activation_functions_swish_beta_option(tmp_path, monkeypatch, capsys):
    namespace = run_script("activationFunctions", ["--beta", "2"], tmp_path, monkeypatch)
    # z sigmoid(2 z) = (1/2) u sigmoid(u) with u = 2 z: half the minimum, at half the z.
    assert namespace["swish_minimum"] == pytest.approx(-0.278464542761 / 2, abs=1e-6)
    assert namespace["swish_minimum_at"] == pytest.approx(-1.278464542761 / 2, abs=1e-4)
    assert "g(z) = z * sigmoid(beta z), beta = 2" in capsys.readouterr().out
    swish, swish_derivative = namespace["swish"], namespace["swish_derivative"]
    z = np.linspace(-5.0, 5.0, 101)
    np.testing.assert_allclose(swish(z), z / (1.0 + np.exp(-2.0 * z)), rtol=1e-12)
    numeric = (swish(z + 1e-6) - swish(z - 1e-6)) / 2e-6
    np.testing.assert_allclose(swish_derivative(z), numeric, atol=1e-6)


@pytest.mark.parametrize("option", ["--beta=0", "--beta=-1", "--z-max=nan"])
def test_activation_functions_bad_option_exits_with_two(option, tmp_path, monkeypatch, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_script("activationFunctions", [option], tmp_path, monkeypatch)
    assert exit_info.value.code == 2
    assert "error: argument" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# networkByHand.py
# ---------------------------------------------------------------------------
def test_network_by_hand_agrees_with_keras(tmp_path, monkeypatch, capsys):
    from tensorflow import keras

    namespace = run_script("networkByHand", lecture.example("networkByHand").tiny, tmp_path, monkeypatch)
    output = capsys.readouterr().out
    check_figures("networkByHand", tmp_path)
    tolerance = namespace["TOLERANCE"]
    assert tolerance == 1e-5
    for line in ("Output by hand vs model.predict", "Softmax by hand vs keras.activations.softmax",
                 "Cross-entropy by hand", "MSE by hand"):
        assert any(text.startswith(line) and text.endswith("(tolerance 1e-05)")
                   for text in output.splitlines()), line

    # Forward propagation: the script's numbers, and the same again from the model's weights.
    model, batch = namespace["model"], namespace["batch"]
    assert namespace["forward_difference"] <= tolerance
    by_keras = model.predict(batch.astype("float32"), verbose=0)
    np.testing.assert_allclose(namespace["by_hand"], by_keras, atol=tolerance, rtol=0)
    activations = batch
    for layer in model.layers:
        kernel, bias = layer.get_weights()
        activations = activations @ kernel + bias
        if layer is model.layers[0]:
            activations = np.where(activations > 0, activations, 0.0)
    np.testing.assert_allclose(namespace["z_2"], activations, rtol=1e-12)
    assert np.any(model.layers[0].get_weights()[1] != 0), "trained: the biases are no longer 0"

    # Softmax, cross-entropy (positive: with the minus sign) and MSE.
    by_hand, targets = namespace["by_hand"], namespace["targets"]
    np.testing.assert_allclose(by_hand.sum(axis=1), 1.0, rtol=1e-12)
    assert namespace["softmax_difference"] <= tolerance
    assert namespace["cross_entropy"] > 0
    expected_cross_entropy = float(np.mean(keras.losses.categorical_crossentropy(targets, by_hand)))
    assert namespace["cross_entropy"] == pytest.approx(expected_cross_entropy, abs=tolerance)
    assert namespace["cross_entropy_difference"] <= tolerance
    assert namespace["mse"] == pytest.approx(float(np.mean((targets - by_keras) ** 2)),
                                             abs=tolerance)
    assert namespace["mse_difference"] <= tolerance
    assert namespace["keras_cross_entropy"] == pytest.approx(
        float(model.evaluate(batch, targets, verbose=0)[0]), abs=tolerance)

    # The initial weights: uniform within +-sqrt(3 var), var = 2 / (N_in + N_out), zero biases.
    layer = namespace["new_layer_model"].layers[0]
    assert type(layer.kernel_initializer).__name__ == "GlorotUniform"
    weights = namespace["initial_weights"]
    assert weights.shape == (784, 128)
    bound = np.sqrt(3 * 2 / (784 + 128))
    assert namespace["bound"] == pytest.approx(bound)
    assert np.abs(weights).max() <= bound and np.abs(weights).max() > 0.99 * bound
    assert weights.var() == pytest.approx(2 / (784 + 128), rel=0.02)
    # Uniform: a tenth of the weights in each tenth of [-bound, bound], within 5 %.
    counts, _ = np.histogram(weights, bins=10, range=(-bound, bound))
    np.testing.assert_allclose(counts / weights.size, 0.1, rtol=0.05)
    assert not namespace["initial_biases"].any()


# ---------------------------------------------------------------------------
# inputPreprocessing.py
# ---------------------------------------------------------------------------
def test_input_preprocessing_split_statistics_and_decorrelation(tmp_path, monkeypatch, capsys):
    namespace = run_script("inputPreprocessing", ["--samples", "2000"], tmp_path, monkeypatch)
    output = capsys.readouterr().out
    check_figures("inputPreprocessing", tmp_path)
    x, y = namespace["x"], namespace["y"]
    assert x.shape == (2000, 3)

    # 60:20:20, every sample exactly once, the label shares kept.
    parts = namespace["parts"]
    assert [len(part_x) for part_x, _ in parts.values()] == [1200, 400, 400]
    joined = np.concatenate([part_x for part_x, _ in parts.values()])
    np.testing.assert_array_equal(np.sort(joined, axis=0), np.sort(x, axis=0))
    for part_x, part_y in parts.values():
        assert abs(part_y.mean() - y.mean()) < 0.01
    assert "training     1200 samples (60%)" in output
    assert "validation    400 samples (20%)" in output
    assert "test          400 samples (20%)" in output

    # Standardized with the training statistics, for all three parts.
    x_train, x_test = namespace["x_train"], namespace["x_test"]
    np.testing.assert_allclose(namespace["mean"], x_train[:, :2].mean(axis=0))
    np.testing.assert_allclose(namespace["std"], x_train[:, :2].std(axis=0))
    assert not np.allclose(namespace["mean"], x[:, :2].mean(axis=0), rtol=0, atol=1e-9)
    np.testing.assert_allclose(namespace["standardized"]["test"],
                               (x_test[:, :2] - x_train[:, :2].mean(axis=0))
                               / x_train[:, :2].std(axis=0))
    train_standardized = namespace["standardized"]["training"]
    np.testing.assert_allclose(train_standardized.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(train_standardized.std(axis=0), 1.0)

    # Log, then standardize: log(x + 1) with the training statistics; the tail is gone.
    logged_train = np.log1p(x_train[:, 2])
    np.testing.assert_allclose(namespace["log_standardized"]["test"][:, 0],
                               (np.log1p(x_test[:, 2]) - logged_train.mean()) / logged_train.std(),
                               rtol=1e-9)
    assert namespace["tail_standardized"].max() > 5
    assert namespace["log_standardized"]["training"].max() < 5

    # Decorrelated: identity correlation on the training set; correlated before.
    assert namespace["correlation_before"][0, 1] == pytest.approx(0.8, abs=0.05)
    white = namespace["whitened"]["training"]
    np.testing.assert_allclose(np.cov(white.T), np.eye(3), atol=1e-9)
    assert namespace["largest_correlation_after"] < 1e-10
    assert abs(np.corrcoef(namespace["whitened"]["test"].T)[0, 1]) < 0.15


def test_input_preprocessing_too_few_samples_is_a_user_error(tmp_path, monkeypatch):
    from dnnkit.errors import UserError

    with pytest.raises(UserError, match="--samples: must be at least 20"):
        run_script("inputPreprocessing", ["--samples", "5"], tmp_path, monkeypatch)


# ---------------------------------------------------------------------------
# convolutionPooling.py
# ---------------------------------------------------------------------------
def test_convolution_pooling_agrees_with_keras(tmp_path, monkeypatch, capsys):
    namespace = run_script("convolutionPooling", lecture.example("convolutionPooling").tiny, tmp_path,
                           monkeypatch)
    output = capsys.readouterr().out
    check_figures("convolutionPooling", tmp_path)
    assert namespace["convolution_difference"] <= namespace["TOLERANCE"] == 1e-5
    assert "Convolution by hand vs Keras Conv2D: largest difference" in output
    assert "(tolerance 1e-05)" in output
    # Two images (MNIST, Fashion-MNIST), five kernels, 26x26 maps of 28x28 images.
    assert len(namespace["images"]) == 2
    for maps in namespace["convolved"].values():
        assert list(maps) == ["edge detection", "sharpen", "box blur", "Sobel (top)",
                              "Sobel (left)"]
        assert all(feature_map.shape == (26, 26) for feature_map in maps.values())
    # The box blur of an image is the mean of each 3x3 neighbourhood.
    image = next(iter(namespace["images"].values()))
    blurred = next(iter(namespace["convolved"].values()))["box blur"]
    assert blurred[10, 12] == pytest.approx(image[10:13, 12:15].mean())

    np.testing.assert_array_equal(namespace["pooled"], [[6, 8], [3, 4]])
    np.testing.assert_array_equal(namespace["keras_pooled"], [[6, 8], [3, 4]])
    assert namespace["sizes"] == [28, 26, 13, 11, 5]
    assert namespace["keras_sizes"] == [26, 13, 11, 5]
    assert "Output sizes: 28 -> 26 -> 13 -> 11 -> 5 (Keras: 28 -> 26 -> 13 -> 11 -> 5)" in output
    assert "(11 - 2 + 2*0) / 2 + 1 = 5.5 -> 5" in output


def test_convolution_pooling_index_outside_the_test_set_is_a_user_error(tmp_path, monkeypatch):
    from dnnkit.errors import UserError

    with pytest.raises(UserError, match="--index 100000 is outside"):
        run_script("convolutionPooling", ["--index", "100000"], tmp_path, monkeypatch)


# ---------------------------------------------------------------------------
# dnnkit.convolution: the numpy functions
# ---------------------------------------------------------------------------
def test_convolve2d_against_a_direct_scan_and_keras_with_stride_and_padding():
    from tensorflow import keras

    from dnnkit import convolution

    rng = np.random.default_rng(0)
    image, kernel = rng.normal(size=(9, 8)), rng.normal(size=(3, 2))
    # Hand example: a 3x3 image of 1..9 and the kernel [[1, 0], [0, -1]]: 1 - 5 = -4 everywhere.
    np.testing.assert_allclose(convolution.convolve2d(np.arange(1, 10).reshape(3, 3),
                                                      [[1, 0], [0, -1]]), [[-4, -4], [-4, -4]])
    for padding, stride in ((0, 1), (0, 2), (1, 1), (2, 3)):
        result = convolution.convolve2d(image, kernel, padding=padding, stride=stride)
        padded = np.pad(image, padding)
        direct = np.array([[np.sum(padded[i:i + 3, j:j + 2] * kernel)
                            for j in range(0, padded.shape[1] - 2 + 1, stride)]
                           for i in range(0, padded.shape[0] - 3 + 1, stride)])
        np.testing.assert_allclose(result, direct, rtol=1e-12)
        assert result.shape == (convolution.output_size(9, 3, padding, stride),
                                convolution.output_size(8, 2, padding, stride))
        layer = keras.layers.Conv2D(1, kernel_size=(3, 2), strides=stride, use_bias=False)
        model = keras.Sequential([keras.Input(shape=(9, 8, 1)),
                                  keras.layers.ZeroPadding2D(padding), layer])
        layer.set_weights([kernel[:, :, np.newaxis, np.newaxis]])
        by_keras = model.predict(image[np.newaxis, :, :, np.newaxis].astype("float32"), verbose=0)
        np.testing.assert_allclose(result, by_keras[0, :, :, 0], atol=1e-5)


def test_max_pool2d_and_output_size():
    from dnnkit import convolution

    image = np.array([[1, 1, 2, 4, 9], [5, 6, 7, 8, 9], [3, 2, 1, 0, 9], [1, 2, 3, 4, 9],
                      [9, 9, 9, 9, 9]])
    # The incomplete last row and column are dropped, as in Keras.
    np.testing.assert_array_equal(convolution.max_pool2d(image), [[6, 8], [3, 4]])
    assert convolution.max_pool2d(image).dtype == image.dtype
    np.testing.assert_array_equal(convolution.max_pool2d(image, pool_size=3, stride=1),
                                  [[7, 8, 9], [7, 8, 9], [9, 9, 9]])
    assert [convolution.output_size(w, f, p, s) for w, f, p, s in
            ((28, 3, 0, 1), (26, 2, 0, 2), (13, 3, 0, 1), (11, 2, 0, 2), (28, 3, 1, 1),
             (28, 5, 2, 2), (7, 7, 0, 1))] == [26, 13, 11, 5, 28, 14, 1]
    with pytest.raises(ValueError, match="does not fit"):
        convolution.output_size(2, 3)
    with pytest.raises(ValueError, match="stride must be a positive integer"):
        convolution.output_size(28, 3, stride=0)
    with pytest.raises(ValueError, match="padding"):
        convolution.output_size(28, 3, padding=-1)
    with pytest.raises(ValueError, match="2D image"):
        convolution.convolve2d(np.zeros((2, 5, 5)), np.ones((3, 3)))


# ---------------------------------------------------------------------------
# dnnkit.convolution: the figures of what a CNN learned (used by the CNN scripts)
# ---------------------------------------------------------------------------
def tiny_cnn(keras, trained):
    """A CNN of the CNN scripts' shape, small: Conv2D(4) - pool - Conv2D(6) - pool - Dense."""
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(4, kernel_size=(3, 3), activation="relu"),
        keras.layers.MaxPooling2D(pool_size=(2, 2)),
        keras.layers.Conv2D(6, kernel_size=(3, 3), activation="relu"),
        keras.layers.MaxPooling2D(pool_size=(2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ], name="tiny_cnn")
    if trained:
        rng = np.random.default_rng(0)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(rng.random((64, 28, 28, 1)).astype("float32"), rng.integers(0, 10, 64),
                  epochs=1, batch_size=32, verbose=0)
    return model


def mosaic_blocks(picture):
    """The images of a mosaic (dnnkit.plotting.mosaic) as shown, row by row: the blocks
    between its NaN margins (empty cells left out)."""
    values = np.ma.filled(np.ma.asarray(picture.get_array(), dtype=float), np.nan)
    filled = ~np.isnan(values)

    def runs(mask):  # (start, stop) of each run of True
        edges = np.diff(np.concatenate([[0], mask.astype(int), [0]]))
        return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))

    return [values[top:bottom, left:right] for top, bottom in runs(filled.any(axis=1))
            for left, right in runs(filled.any(axis=0)) if filled[top:bottom, left:right].all()]


@pytest.mark.parametrize("trained", [False, True])
def test_filters_and_feature_maps_figures_show_the_model_s_own_numbers(trained, tmp_path):
    from tensorflow import keras

    from dnnkit import convolution, plotting

    model = tiny_cnn(keras, trained)
    kernel, bias = model.layers[0].get_weights()
    if not trained:  # give the first layer biases, so that a forgotten bias shows
        bias = np.linspace(-0.1, 0.1, len(bias)).astype("float32")
        model.layers[0].set_weights([kernel, bias])

    fig = convolution.filters_figure(model, title="Filters of the tiny CNN")
    shown = mosaic_blocks(fig.axes[0].images[-1])  # one mosaic of all filters, then a colour bar
    assert len(shown) == 4
    for index, picture in enumerate(shown):
        np.testing.assert_allclose(picture, kernel[:, :, 0, index])
    assert [text.get_text() for text in fig.axes[0].texts] == ["0", "1", "2", "3"]
    assert [text.get_text() for text in fig.texts] == ["Filters of the tiny CNN"]  # suptitle
    plotting.save_figure(fig, "filters", tmp_path)
    assert (tmp_path / "filters.png").stat().st_size > 5_000

    image = np.random.default_rng(1).random((28, 28)).astype("float32")
    maps = convolution.feature_maps(model, image)
    assert [m.shape for m in maps] == [(26, 26, 4), (11, 11, 6)]
    # The first layer's maps are ReLU(convolution + bias), as the numpy scan computes it.
    for index in range(4):
        convolved = convolution.convolve2d(image, kernel[:, :, 0, index])
        expected = np.maximum(convolved + bias[index], 0)
        np.testing.assert_allclose(maps[0][:, :, index], expected, atol=1e-5)
    # The second layer's maps are what the first three layers give.
    partial = image[np.newaxis, :, :, np.newaxis]
    for layer in model.layers[:3]:
        partial = layer(partial)
    np.testing.assert_allclose(maps[1], np.asarray(partial)[0], atol=1e-5)
    # The same with the channel axis already there.
    np.testing.assert_allclose(convolution.feature_maps(model, image[..., np.newaxis])[1], maps[1])

    fig = convolution.feature_maps_figure(model, image, max_maps=16)
    pictures = fig.feature_map_pictures  # the input, then one mosaic per layer
    assert len(pictures) == 3
    np.testing.assert_allclose(pictures[0].get_array(), image)
    for picture, layer_maps in zip(pictures[1:], maps):
        blocks = mosaic_blocks(picture)
        assert len(blocks) == layer_maps.shape[-1]  # every map of the layer
        for block, index in zip(blocks, range(layer_maps.shape[-1])):
            one_map = layer_maps[:, :, index]  # each on its own colour scale, 0 to 1
            span = one_map.max() - one_map.min()
            expected = (one_map - one_map.min()) / span if span > 0 else np.zeros_like(one_map)
            np.testing.assert_allclose(block, expected, atol=1e-5)
    labels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert len(labels) == 3 and "26x26" in labels[1] and "11x11" in labels[2]
    plotting.save_figure(fig, "feature_maps", tmp_path)
    assert (tmp_path / "feature_maps.png").stat().st_size > 5_000
    # At most max_maps maps per layer.
    fig = convolution.feature_maps_figure(model, image, max_maps=2)
    assert [len(mosaic_blocks(picture)) for picture in fig.feature_map_pictures[1:]] == [2, 2]
    # Another image: the same figure shows its maps (drawDigit.py's window).
    other = np.random.default_rng(2).random((28, 28)).astype("float32")
    convolution.update_feature_maps_figure(fig, model, other)
    np.testing.assert_allclose(fig.feature_map_pictures[0].get_array(), other)
    first = convolution.feature_maps(model, other)[0][:, :, 0]
    np.testing.assert_allclose(mosaic_blocks(fig.feature_map_pictures[1])[0],
                               (first - first.min()) / (first.max() - first.min()), atol=1e-5)


def test_feature_maps_of_a_model_with_one_convolution_and_misuse():
    from tensorflow import keras

    from dnnkit import convolution

    model = keras.Sequential([keras.Input(shape=(8, 8, 1)),
                              keras.layers.Conv2D(3, kernel_size=(3, 3)),
                              keras.layers.Flatten(), keras.layers.Dense(2)])
    maps = convolution.feature_maps(model, np.ones((8, 8)))
    assert len(maps) == 1 and maps[0].shape == (6, 6, 3)
    with pytest.raises(ValueError, match=r"the model takes \(8, 8, 1\)"):
        convolution.feature_maps(model, np.ones((28, 28)))
    dense = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(2)], name="dense_only")
    with pytest.raises(ValueError, match="'dense_only' has no Conv2D layer"):
        convolution.filters_figure(dense)
