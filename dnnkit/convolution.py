"""Convolution and pooling in numpy, and what a trained CNN learned, as figures.

The slides' convolution (:func:`convolve2d`, :func:`max_pool2d`,
:func:`output_size`) for convolutionPooling.py; a trained CNN's filters and
feature maps (:func:`filters_figure`, :func:`feature_maps_figure`,
:func:`update_feature_maps_figure`) for the CNN scripts and drawDigit.py.
numpy only at import time; scipy, TensorFlow and matplotlib are imported
where needed.
"""

import math

import numpy as np

#: Feature maps per convolution layer in :func:`feature_maps_figure` (the first ones).
MAX_FEATURE_MAPS = 16
#: Images per row in the figures.
COLUMNS = 8


def output_size(width, filter_size, padding=0, stride=1):
    """floor((W - F + 2P) / S) + 1 along one axis: an incomplete last window is dropped,
    as in Keras (``padding="valid"``).  ValueError if the window does not fit."""
    for value, name, least in ((width, "width", 1), (filter_size, "filter_size", 1),
                               (stride, "stride", 1), (padding, "padding", 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            kind = "a positive integer" if least else "a whole number >= 0"
            raise ValueError(f"{name} must be {kind}, got {value!r}.")
    if filter_size > width + 2 * padding:
        raise ValueError(f"a filter of size {filter_size} does not fit into an input of size "
                         f"{width} with padding {padding}.")
    return (width - filter_size + 2 * padding) // stride + 1


def convolve2d(image, kernel, padding=0, stride=1):
    """out[i, j] = sum_{m,n} padded[i*S + m, j*S + n] * kernel[m, n], a float64 array.

    ``padded``: the image with ``padding`` zeros on every side; S: the stride.
    As in Keras the kernel is not flipped (strictly a cross-correlation).
    """
    from scipy.signal import correlate2d

    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError(f"convolve2d takes a 2D image and a 2D kernel, got shapes "
                         f"{image.shape} and {kernel.shape}.")
    for axis in (0, 1):
        output_size(image.shape[axis], kernel.shape[axis], padding, stride)  # checks the sizes
    return correlate2d(np.pad(image, padding), kernel, mode="valid")[::stride, ::stride]


def max_pool2d(image, pool_size=2, stride=None):
    """The largest value in every ``pool_size`` x ``pool_size`` window, in ``image``'s dtype.

    The window moves by ``stride`` (default ``pool_size``, as Keras's
    ``MaxPooling2D``); an incomplete last window is dropped.
    """
    image = np.asarray(image)
    stride = pool_size if stride is None else stride
    if image.ndim != 2:
        raise ValueError(f"max_pool2d takes a 2D image, got shape {image.shape}.")
    rows, columns = (output_size(size, pool_size, 0, stride) for size in image.shape)
    # One strided view per position in the window; their maximum, element by element.
    windows = [image[m::stride, n::stride][:rows, :columns]
               for m in range(pool_size) for n in range(pool_size)]
    return np.max(windows, axis=0)


def _convolution_layers(model):
    """The model's Conv2D layers, in order; a one-line error if it has none."""
    from tensorflow import keras

    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    if not layers:
        raise ValueError(f"model {model.name!r} has no Conv2D layer to show.")
    return layers


def filters_figure(model, title=None):
    """The first Conv2D layer's filters, averaged over input channels, as one mosaic, on one
    colour scale centred on zero (red beside blue responds to an edge), numbered."""
    from dnnkit import plotting

    layer = _convolution_layers(model)[0]
    kernel = layer.get_weights()[0].mean(axis=2)  # (height, width, filters)
    count = kernel.shape[-1]
    largest = float(np.abs(kernel).max()) or 1.0
    size = kernel.shape[0]
    # One row of room above each filter for its number, in units of the filter's pixels.
    tiled, corners = plotting.mosaic(np.moveaxis(kernel, -1, 0), COLUMNS,
                                     label_room=max(1, size // 3))
    rows, columns = math.ceil(count / COLUMNS), min(COLUMNS, count)
    fig, ax = plotting.subplots(figsize=(1.3 * columns + 1.6, 1.3 * rows + 0.8))
    picture = plotting.draw_mosaic(ax, tiled, cmap="RdBu_r", vmin=-largest, vmax=largest)
    for index, (top, left) in enumerate(corners):
        ax.text(left + (size - 1) / 2, top - 0.6, str(index), ha="center", va="bottom",
                fontsize="small")
    fig.colorbar(picture, ax=ax, shrink=0.8, label="weight")
    fig.suptitle(title or f"Filters of the first convolution layer ({layer.name}, "
                          f"{kernel.shape[0]}x{kernel.shape[1]}, {count} filters)")
    return fig


def feature_maps(model, image):
    """One (height, width, filters) array per Conv2D layer of ``model`` for one ``image``,
    prepared as for training, without the batch axis (a (28, 28) image gets its channel)."""
    from tensorflow import keras

    image = np.asarray(image, dtype=np.float32)
    expected = tuple(model.inputs[0].shape[1:])
    if image.ndim == len(expected) - 1:
        image = image[..., np.newaxis]
    if image.shape != expected:
        raise ValueError(f"the image has shape {image.shape}, but the model takes {expected}.")
    layers = _convolution_layers(model)
    # The one input tensor, not a list of one: Keras 3 warns when such a model gets a tensor.
    extractor = keras.Model(inputs=model.inputs[0], outputs=[layer.output for layer in layers])
    outputs = extractor(image[np.newaxis], training=False)
    if not isinstance(outputs, (list, tuple)):  # one Conv2D layer: one tensor
        outputs = [outputs]
    return [np.asarray(output)[0] for output in outputs]


def _maps_mosaic(layer_maps, count):
    """The first ``count`` maps of one layer as a :func:`dnnkit.plotting.mosaic`, each
    scaled to 0-1 on its own (each on its own colour scale)."""
    from dnnkit import plotting

    maps = np.moveaxis(np.asarray(layer_maps, dtype=np.float32)[..., :count], -1, 0)
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    scaled = np.divide(maps - low, span, out=np.zeros_like(maps), where=span > 0)
    return plotting.mosaic(scaled, COLUMNS)[0]


def feature_maps_figure(model, image, title=None, max_maps=MAX_FEATURE_MAPS):
    """The input ``image`` (top), then one mosaic per Conv2D layer of its first ``max_maps``
    feature maps, each map on its own colour scale (bright where its filter responds)."""
    from dnnkit import plotting

    layers = _convolution_layers(model)
    maps = feature_maps(model, image)
    shown = [min(max_maps, layer_maps.shape[-1]) for layer_maps in maps]
    columns = min(COLUMNS, max(shown))
    rows_per_layer = [math.ceil(count / COLUMNS) for count in shown]
    fig, axes = plotting.subplots(
        1 + len(layers), 1, figsize=(1.3 * columns + 0.6, 1.3 * (1 + sum(rows_per_layer)) + 0.6),
        gridspec_kw={"height_ratios": [1, *rows_per_layer]}, squeeze=False)
    axes = axes[:, 0]
    image = np.asarray(image)
    axes[0].set_anchor("W")  # the input at the left, in a cell of a map's size
    # The pictures: the input, then one mosaic per layer, for update_feature_maps_figure.
    fig.feature_map_pictures = [plotting.draw_mosaic(
        axes[0], image.reshape(image.shape[:2]).astype(np.float32), cmap="gray_r")]
    axes[0].set_ylabel("input", fontsize="small")
    fig.feature_map_counts = shown
    for layer, layer_maps, count, ax in zip(layers, maps, shown, axes[1:]):
        fig.feature_map_pictures.append(plotting.draw_mosaic(
            ax, _maps_mosaic(layer_maps, count), cmap="viridis", vmin=0, vmax=1))
        ax.set_anchor("W")
        height, width, filters = layer_maps.shape
        ax.set_ylabel(f"{layer.name}\n{height}x{width}\n({count} of {filters})",
                      fontsize="small")
    fig.suptitle(title or "Feature maps of one image after each convolution layer")
    return fig


def update_feature_maps_figure(fig, model, image):
    """Show another ``image``'s feature maps in ``fig`` from :func:`feature_maps_figure`
    (drawDigit.py redraws its window so), each map on its new colour scale."""
    image = np.asarray(image)
    pictures = fig.feature_map_pictures
    pictures[0].set_data(image.reshape(image.shape[:2]).astype(np.float32))
    pictures[0].autoscale()
    for picture, layer_maps, count in zip(pictures[1:], feature_maps(model, image),
                                          fig.feature_map_counts):
        picture.set_data(np.ma.masked_invalid(_maps_mosaic(layer_maps, count)))
