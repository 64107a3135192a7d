"""Convolution and pooling in numpy, and what a trained CNN learned, as figures.

The numpy functions follow the lecture's convolution slides and let a script
show, step by step, what a ``Conv2D`` or ``MaxPooling2D`` layer computes:

- :func:`convolve2d`: a kernel scanned over an image (what Keras's ``Conv2D``
  computes for one filter: strictly a cross-correlation, the kernel is not
  flipped);
- :func:`max_pool2d`: the largest value in every window;
- :func:`output_size`: the slide's output size (W - F + 2P) / S + 1.

The figure functions show what a trained convolutional network learned; the
CNN scripts call them after training:

- :func:`filters_figure`: the first convolution layer's filters as a grid of images;
- :func:`feature_maps_figure`: the feature maps of one image after each convolution layer;
  :func:`update_feature_maps_figure` shows another image's in the same figure.

numpy only at import time; TensorFlow and matplotlib are imported by the
functions that need them.
"""

import math

import numpy as np

#: Feature maps per convolution layer in :func:`feature_maps_figure` (the first ones).
MAX_FEATURE_MAPS = 16
#: Images per row in the figures.
COLUMNS = 8


# ---------------------------------------------------------------------------
# Convolution, pooling and output sizes in numpy
# ---------------------------------------------------------------------------
def _check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")


def output_size(width, filter_size, padding=0, stride=1):
    """The slide's output size of a convolution or pooling layer: (W - F + 2P) / S + 1.

    ``width`` W is the input's size along one axis, ``filter_size`` F the
    kernel's (or pooling window's), ``padding`` P the number of zeros added on
    each side and ``stride`` S the step of the scan.  When (W - F + 2P) is not
    a multiple of S, the last, incomplete window is dropped, as Keras does
    (``padding="valid"``), so the result is rounded down:
    floor((W - F + 2P) / S) + 1.

    Raises ValueError if the window does not fit into the padded input.
    """
    for value, name in ((width, "width"), (filter_size, "filter_size"), (stride, "stride")):
        _check_positive_int(value, name)
    if isinstance(padding, bool) or not isinstance(padding, (int, np.integer)) or padding < 0:
        raise ValueError(f"padding must be a whole number >= 0, got {padding!r}.")
    if filter_size > width + 2 * padding:
        raise ValueError(f"a filter of size {filter_size} does not fit into an input of size "
                         f"{width} with padding {padding}.")
    return (width - filter_size + 2 * padding) // stride + 1


def convolve2d(image, kernel, padding=0, stride=1):
    """Scan ``kernel`` over a 2D ``image``.

    out[i, j] = sum_{m,n} image[i*S + m, j*S + n] * kernel[m, n], with S the stride.

    This is what a convolution layer computes for one filter and one channel
    (before the bias and the activation function): at every position the
    kernel is laid over the image, and the products of the overlapping values
    are summed.  Deep-learning libraries do not flip the kernel (so,
    strictly, this is a cross-correlation); neither is it flipped here.
    ``padding`` zeros are added on every side first, and the kernel moves by
    ``stride`` pixels.  The output has the size :func:`output_size` gives.

    Returns a float64 array.
    """
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError(f"convolve2d takes a 2D image and a 2D kernel, got shapes "
                         f"{image.shape} and {kernel.shape}.")
    rows = output_size(image.shape[0], kernel.shape[0], padding, stride)
    columns = output_size(image.shape[1], kernel.shape[1], padding, stride)
    padded = np.pad(image, padding)
    result = np.zeros((rows, columns))
    # One shifted copy of the image per kernel entry, weighted by that entry:
    # the same sum as scanning the kernel position by position, but vectorized.
    for m in range(kernel.shape[0]):
        for n in range(kernel.shape[1]):
            window = padded[m:m + stride * (rows - 1) + 1:stride,
                            n:n + stride * (columns - 1) + 1:stride]
            result += kernel[m, n] * window
    return result


def max_pool2d(image, pool_size=2, stride=None):
    """Max pooling: the largest value in every ``pool_size`` x ``pool_size`` window.

    The window moves by ``stride`` pixels (default: ``pool_size``, windows that
    do not overlap, as in Keras's ``MaxPooling2D``); an incomplete window at
    the right or bottom edge is dropped.  Returns an array of ``image``'s dtype.
    """
    image = np.asarray(image)
    stride = pool_size if stride is None else stride
    if image.ndim != 2:
        raise ValueError(f"max_pool2d takes a 2D image, got shape {image.shape}.")
    rows = output_size(image.shape[0], pool_size, 0, stride)
    columns = output_size(image.shape[1], pool_size, 0, stride)
    windows = [image[m:m + stride * (rows - 1) + 1:stride, n:n + stride * (columns - 1) + 1:stride]
               for m in range(pool_size) for n in range(pool_size)]
    return np.max(windows, axis=0)


# ---------------------------------------------------------------------------
# What a trained CNN learned
# ---------------------------------------------------------------------------
def _convolution_layers(model):
    """The model's Conv2D layers, in order; a one-line error if it has none."""
    from tensorflow import keras

    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    if not layers:
        raise ValueError(f"model {model.name!r} has no Conv2D layer to show.")
    return layers


def _grid(count, columns, extra_rows=0, size=1.3, **options):
    """A figure with a grid for ``count`` small images (and empty axes switched off)."""
    from dnnkit import plotting

    columns = min(columns, count)
    rows = math.ceil(count / columns) + extra_rows
    fig, axes = plotting.subplots(rows, columns, figsize=(size * columns + 0.6, size * rows + 0.6),
                                  squeeze=False, **options)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    return fig, axes


def filters_figure(model, title=None):
    """The first Conv2D layer's filters (kernels) as a grid of small images.

    Every filter is drawn on the same colour scale, centred on zero: red
    weights add the pixel under them, blue weights subtract it, so a filter
    with red on one side and blue on the other responds to an edge.  For an
    input with several channels the filter is averaged over them.

    Returns the matplotlib figure (save it with ``plotting.save_figure``).
    """
    from dnnkit import plotting

    layer = _convolution_layers(model)[0]
    kernel = layer.get_weights()[0]  # (height, width, input channels, filters)
    kernel = kernel.mean(axis=2)
    count = kernel.shape[-1]
    largest = float(np.abs(kernel).max()) or 1.0
    fig, axes = _grid(count, COLUMNS)
    for index, ax in enumerate(axes.flat):
        if index >= count:
            ax.axis("off")
            continue
        picture = ax.imshow(kernel[:, :, index], cmap="RdBu_r", vmin=-largest, vmax=largest)
        ax.set_title(str(index), fontsize="small")
    fig.colorbar(picture, ax=list(axes.flat), shrink=0.8, label="weight")
    fig.suptitle(title or f"Filters of the first convolution layer ({layer.name}, "
                          f"{kernel.shape[0]}x{kernel.shape[1]}, {count} filters)")
    return fig


def feature_map_model(model):
    """A Keras model that returns the output of every Conv2D layer of ``model`` for an input.

    ``model`` must have a defined input, e.g. a ``keras.Sequential`` that
    starts with ``keras.Input(shape)``, or a trained one.
    """
    from tensorflow import keras

    layers = _convolution_layers(model)
    # The one input tensor itself, not a list of one: Keras 3 warns when a model
    # built on a list is called with a tensor.
    return keras.Model(inputs=model.inputs[0], outputs=[layer.output for layer in layers])


def feature_maps(model, image):
    """The feature maps of one image after each Conv2D layer of ``model``.

    ``image`` is one input sample without the batch axis, e.g. a (28, 28) or
    (28, 28, 1) array prepared as for training.  Returns a list with one array
    of shape (height, width, filters) per Conv2D layer.
    """
    image = np.asarray(image, dtype=np.float32)
    expected = tuple(model.inputs[0].shape[1:])
    if image.ndim == len(expected) - 1:
        image = image[..., np.newaxis]  # a gray-scale image: add the channel axis
    if image.shape != expected:
        raise ValueError(f"the image has shape {image.shape}, but the model takes {expected}.")
    outputs = feature_map_model(model)(image[np.newaxis], training=False)
    if not isinstance(outputs, (list, tuple)):  # one Conv2D layer: one tensor
        outputs = [outputs]
    return [np.asarray(output)[0] for output in outputs]


def feature_maps_figure(model, image, title=None, max_maps=MAX_FEATURE_MAPS):
    """The feature maps of one image after each Conv2D layer, a block of rows per layer.

    ``image`` is one test image prepared as for training (e.g. ``x_test[0]``
    after ``/ 255`` and the reshape to (28, 28, 1)); a (28, 28) image is
    given its channel axis.  The input image is in the top-left corner; each
    convolution layer then gets ``max_maps`` of its feature maps (its first
    ones), each on its own colour scale (bright = strong response).  The
    first layer's maps still look like the image, filtered for edges in
    different directions; deeper maps are smaller and more abstract.

    Returns the matplotlib figure (save it with ``plotting.save_figure``).
    """
    layers = _convolution_layers(model)
    maps = feature_maps(model, image)
    shown = [min(max_maps, layer_maps.shape[-1]) for layer_maps in maps]
    columns = min(COLUMNS, max(shown))
    rows_per_layer = [math.ceil(count / columns) for count in shown]
    fig, axes = _grid(columns * sum(rows_per_layer), columns, extra_rows=1)
    image = np.asarray(image)
    # The pictures, per row block, for update_feature_maps_figure.
    fig.feature_map_pictures = [[axes[0, 0].imshow(image.reshape(image.shape[0], image.shape[1]),
                                                   cmap="gray_r")]]
    axes[0, 0].set_title("input", fontsize="small")
    for ax in axes[0, 1:]:
        ax.axis("off")
    row = 1
    for layer, layer_maps, count, layer_rows in zip(layers, maps, shown, rows_per_layer):
        fig.feature_map_pictures.append([])
        for index in range(layer_rows * columns):
            ax = axes[row + index // columns, index % columns]
            if index >= count:
                ax.axis("off")
                continue
            fig.feature_map_pictures[-1].append(ax.imshow(layer_maps[:, :, index], cmap="viridis"))
        height, width, filters = layer_maps.shape
        axes[row, 0].set_ylabel(f"{layer.name}\n{height}x{width}\n({count} of {filters})",
                                fontsize="small")
        row += layer_rows
    fig.suptitle(title or "Feature maps of one image after each convolution layer")
    return fig


def update_feature_maps_figure(fig, model, image):
    """Show the feature maps of another ``image`` in ``fig``, made by :func:`feature_maps_figure`.

    The same pictures get the new values, each on its new colour scale: an
    interactive script (drawDigit.py) redraws its window so instead of
    opening a new one for every drawing.
    """
    image = np.asarray(image)
    values = [[image.reshape(image.shape[0], image.shape[1])]]
    values += [[layer_maps[:, :, index] for index in range(layer_maps.shape[-1])]
               for layer_maps in feature_maps(model, image)]
    for pictures, layer_values in zip(fig.feature_map_pictures, values):
        for picture, value in zip(pictures, layer_values):
            picture.set_data(value)
            picture.autoscale()  # each map on its own scale, as drawn first
