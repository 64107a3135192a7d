"""Convolution and pooling by hand: classic image kernels, max pooling and the output size.

Lecture slides "convolution", "feature maps", "pooling" and "output size".
A convolution scans a small kernel over the image; at every position the
products of the kernel and the pixels under it are summed into one value of
the feature map.  Classic kernels from the image-kernels page the slide links
(edge detection, sharpen, box blur, Sobel) are applied to an MNIST digit and
a Fashion-MNIST image, side by side, with ``dnnkit.convolution`` (scipy's
``correlate2d``) and checked against a Keras ``Conv2D`` layer that is
given the same kernels as weights.  Max pooling of the slide's kind (a 4x4
input, a 2x2 filter, stride 2) is printed and checked against
``MaxPooling2D``.  Finally the slide's output size (W - F + 2P) / S + 1 is
worked out for the layers of the CNN scripts (28 -> 26 -> 13 -> 11 -> 5) and
checked against the output shapes Keras gives these layers.

Result of a full run (the script's defaults, seeds 42 to 46; ``python
reproduce.py --seeds 5``, 2026-12-08, on Intel(R) Xeon(R) Processor (2 CPU
cores), CPU (no GPU visible), TensorFlow 2.21.0, load average 1.7-7.1): done
in 10 s.

What it prints (TensorFlow 2.21): the convolution by hand differs from Keras's Conv2D by
at most 6.6e-07 (sample: MNIST test image 0, a 3, and a dress) or 5.8e-07
(full data: a 7 and an ankle boot), within the printed tolerance 1e-05;
max pooling gives [[6, 8], [3, 4]], the same as MaxPooling2D; the output
sizes 28 -> 26 -> 13 -> 11 -> 5 agree with Keras's output shapes.

Run ``python convolutionPooling.py --help`` for the options.
"""

# %% Set-up
# The options are read first, before TensorFlow is imported, so that --help
# answers at once.  In a notebook there is no command line: the lecture's
# settings are used (or the options in the environment variable
# DNN_NOTEBOOK_ARGS).
import numpy as np

from dnnkit import convolution, data, plotting, runtime
from dnnkit.errors import UserError

parser = runtime.make_parser(__doc__, data=True, cpu=True)
parser.add_argument("--index", type=int, default=0,
                    help="the test image of each data set that is convolved")
args = runtime.parse_args(parser)  # also seeds Python and numpy
tf = runtime.setup_tensorflow(args)  # prints the device and seeds TensorFlow
from tensorflow import keras  # noqa: E402

# Keras computes in float32, about 7 significant digits; numpy here in float64.
TOLERANCE = 1e-5

# %% Data: one MNIST digit and one Fashion-MNIST image
# Grey values scaled to [0, 1], as for the networks.
DATASET_NAMES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}
images = {}
for dataset, dataset_name in DATASET_NAMES.items():
    _, (x_test, y_test) = runtime.load_data(args, dataset)
    if not 0 <= args.index < len(x_test):
        raise UserError(f"--index {args.index} is outside the {len(x_test)} test "
                        f"images (use 0 to {len(x_test) - 1})")
    label = data.class_names(dataset)[y_test[args.index]]
    images[f"{dataset_name} test image {args.index}: {label}"] = x_test[args.index] / 255
for name, image in images.items():
    print(f"{name}: shape {image.shape}, grey values {image.min():.2f} to {image.max():.2f}")

# %% Kernels
# Classic 3x3 kernels (setosa.io/ev/image-kernels).  Edge detection answers
# where the brightness changes in any direction, the two Sobel kernels where
# it changes from top to bottom or from left to right; sharpen enhances the
# differences to the neighbours, box blur averages them away.
kernels = {
    "edge detection": np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype=float),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float),
    "box blur": np.ones((3, 3)) / 9,
    "Sobel (top)": np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], dtype=float),
    "Sobel (left)": np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=float),
}
for name, kernel in kernels.items():
    print(f"{name}:\n{np.round(kernel, 3)}")

# %% Convolution by hand, checked against Keras's Conv2D
# convolution.convolve2d scans the kernel over the image (scipy.signal.correlate2d):
# out[i, j] = sum_{m,n} image[i + m, j + n] * kernel[m, n]  (no padding, stride 1).
# A Conv2D layer with one filter per kernel, no bias and no activation must
# give the same feature maps.
convolved = {name: {kernel_name: convolution.convolve2d(image, kernel)
                    for kernel_name, kernel in kernels.items()}
             for name, image in images.items()}
conv_layer = keras.layers.Conv2D(len(kernels), kernel_size=(3, 3), use_bias=False)
conv_check = keras.Sequential([keras.Input(shape=(28, 28, 1)), conv_layer])
# Keras's kernel has the shape (height, width, input channels, filters).
conv_layer.set_weights([np.stack(list(kernels.values()), axis=-1)[:, :, np.newaxis, :]])
stacked_images = np.stack(list(images.values()))[..., np.newaxis].astype("float32")
keras_maps = conv_check.predict(stacked_images, verbose=0)
convolution_difference = max(
    float(np.abs(by_hand - keras_maps[image_number, :, :, kernel_number]).max())
    for image_number, maps in enumerate(convolved.values())
    for kernel_number, by_hand in enumerate(maps.values()))
print(f"Feature maps: {keras_maps.shape[1]}x{keras_maps.shape[2]} from 28x28 images")
print(f"Convolution by hand vs Keras Conv2D: largest difference {convolution_difference:.1e} "
      f"(tolerance {TOLERANCE:g})")

# %% Figure: the images and their feature maps, side by side
fig, axes = plotting.subplots(len(images), len(kernels) + 1,
                              figsize=(2.2 * (len(kernels) + 1), 2.5 * len(images)))
for row, (name, image) in zip(axes, images.items()):
    row[0].imshow(image, cmap="gray")
    row[0].set_title(name.replace(": ", "\n"), fontsize="small")
    for ax, (kernel_name, feature_map) in zip(row[1:], convolved[name].items()):
        ax.imshow(feature_map, cmap="gray")
        ax.set_title(kernel_name, fontsize="small")
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
plotting.tight_layout(fig)
plotting.save_figure(fig, "convolutionPooling_kernels", args.outdir)

# %% Max pooling: a 4x4 input, a 2x2 filter, stride 2
# Each 2x2 window of the input becomes one output value: its largest.  The
# windows do not overlap (stride 2), so the 4x4 input becomes 2x2.
pooling_input = np.array([[1, 1, 2, 4],
                          [5, 6, 7, 8],
                          [3, 2, 1, 0],
                          [1, 2, 3, 4]], dtype=float)
pooled = convolution.max_pool2d(pooling_input, pool_size=2, stride=2)
keras_pooled = keras.layers.MaxPooling2D(pool_size=(2, 2), strides=2)(
    pooling_input[np.newaxis, :, :, np.newaxis].astype("float32"))
keras_pooled = np.asarray(keras_pooled)[0, :, :, 0]
print("Input:\n", pooling_input)
print("Max pooling 2x2, stride 2:\n", pooled)
print(f"Max pooling by hand vs Keras MaxPooling2D: largest difference "
      f"{np.abs(pooled - keras_pooled).max():.1e}")

# %% Figure: max pooling of the 4x4 input and of the digit
first_name, first_image = next(iter(images.items()))
digit_pooled = convolution.max_pool2d(first_image, pool_size=2)
fig, axes = plotting.subplots(1, 4, figsize=(13, 3.6))
for ax, values, title in ((axes[0], pooling_input, "4x4 input"),
                          (axes[1], pooled, "max pooling 2x2, stride 2")):
    ax.imshow(values, cmap="Blues", vmin=0, vmax=pooling_input.max() * 1.5)
    for (i, j), value in np.ndenumerate(values):
        ax.text(j, i, f"{value:g}", ha="center", va="center", fontsize="large")
    ax.set_title(title)
axes[0].axhline(1.5, color="black")  # the borders of the 2x2 windows
axes[0].axvline(1.5, color="black")
axes[2].imshow(first_image, cmap="gray")
axes[2].set_title(f"{first_name}, 28x28", fontsize="small")
axes[3].imshow(digit_pooled, cmap="gray")
axes[3].set_title(f"max pooled, {digit_pooled.shape[0]}x{digit_pooled.shape[1]}")
for ax in axes:
    ax.set_xticks([])
    ax.set_yticks([])
plotting.tight_layout(fig)
plotting.save_figure(fig, "convolutionPooling_max_pooling", args.outdir)

# %% Output size (W - F + 2P) / S + 1 for the CNN scripts' layers
# W: input size, F: filter size, P: padding, S: stride.  A Conv2D 3x3 layer
# (padding "valid": P = 0, S = 1) shrinks each side by 2; MaxPooling2D 2x2
# (S = 2) halves it, dropping an incomplete last window (11 -> 5).
cnn_layers = [  # (name, Keras layer, F, P, S), as in CNN_MNIST_digits_tf.py
    ("Conv2D 3x3", keras.layers.Conv2D(32, kernel_size=(3, 3), activation="relu"), 3, 0, 1),
    ("MaxPooling2D 2x2", keras.layers.MaxPooling2D(pool_size=(2, 2)), 2, 0, 2),
    ("Conv2D 3x3", keras.layers.Conv2D(64, kernel_size=(3, 3), activation="relu"), 3, 0, 1),
    ("MaxPooling2D 2x2", keras.layers.MaxPooling2D(pool_size=(2, 2)), 2, 0, 2),
]
cnn = keras.Sequential([keras.Input(shape=(28, 28, 1))] + [layer for _, layer, *_ in cnn_layers])
sizes = [28]
keras_sizes = []
for name, layer, filter_size, padding, stride in cnn_layers:
    width = sizes[-1]
    sizes.append(convolution.output_size(width, filter_size, padding, stride))
    keras_sizes.append(int(layer.output.shape[1]))
    exact = (width - filter_size + 2 * padding) / stride + 1
    print(f"{name:<16} ({width} - {filter_size} + 2*{padding}) / {stride} + 1 = {exact:g}"
          + (f" -> {sizes[-1]}" if exact != sizes[-1] else "")
          + f"; Keras: {tuple(layer.output.shape[1:])}")
print("Output sizes:", " -> ".join(str(size) for size in sizes),
      "(Keras:", " -> ".join(str(size) for size in [28] + keras_sizes) + ")")

# %% Show the figures
plotting.show(args.no_show)
