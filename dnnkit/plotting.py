"""Figures shared by the scripts: training curves, image grids, confusion matrix.

Each figure is made with ``plotting.subplots()`` and returned; the script saves
it with :func:`save_figure` and calls :func:`show` once at the end.  Without a
display (ssh, CI) matplotlib draws with Agg and :func:`show` does nothing.
"""

import os
import sys
from pathlib import Path

from dnnkit import compat
from dnnkit.errors import UserError


def pyplot():
    """``matplotlib.pyplot``, imported on first use (``--help`` does not wait for it).

    Without a display and without ``MPLBACKEND``, the headless Agg backend is chosen first.
    """
    if "matplotlib.pyplot" not in sys.modules and "MPLBACKEND" not in os.environ and not (
            sys.platform in ("darwin", "win32")
            or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        import matplotlib

        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def subplots(*args, **kwargs):
    """``plt.subplots``: a new figure and its axes (``fig, ax = plotting.subplots()``)."""
    return pyplot().subplots(*args, **kwargs)


def save_figure(fig, name, outdir="figures"):
    """Save ``fig`` as ``outdir/name.png`` and print ``Saved <path>`` (return nothing).

    The PNG is written to a temporary file and renamed into place, so that an
    interrupted run or two runs at once never leave a half-written figure.
    """
    outdir = Path(outdir)
    path = outdir / f"{name}.png"
    temporary = outdir / f".{name}.{os.getpid()}.png.tmp"
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        try:
            # No bbox_inches="tight": it would draw every (laid out) figure twice.
            with open(temporary, "wb") as stream:
                fig.savefig(stream, format="png", dpi=100)
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    except OSError as error:
        raise UserError(f"cannot write figure {path} ({error.strerror or error}): "
                        f"choose another folder with --outdir") from None
    print(f"Saved {path}")


def tight_layout(fig):
    """``fig.tight_layout()``, leaving no layout engine that would make saving draw twice."""
    fig.tight_layout()
    compat.remove_layout_engine(fig)


def can_show():
    """True when the backend opens windows (not Agg, a file format or a notebook's inline)."""
    backend = pyplot().get_backend().lower()
    headless = ("agg", "pdf", "ps", "svg", "cairo", "template")
    return backend not in headless and "inline" not in backend


def show(no_show=False):
    """Show all open figures once, if a display exists and ``--no-show`` was not given."""
    if not no_show and can_show():
        pyplot().show()


def plot_training_curves(history, title=None, diagnosis=None, fig=None):
    """Loss and accuracy per epoch of ``history`` (a dict of lists), training and validation.

    With a ``diagnosis`` (:func:`dnnkit.training.diagnose`) the low of the
    validation loss, the band of "within the noise" above it, the end, and the
    verdict are drawn; the accuracy gap only where it was measured fairly
    (``model.evaluate``), never Keras's epoch-averaged training accuracy minus the
    validation accuracy.  A given ``fig`` is cleared and drawn again (:mod:`dnnkit.live`).
    """
    from matplotlib.ticker import MaxNLocator

    epochs = range(1, len(history["loss"]) + 1)
    if fig is None:
        fig = pyplot().figure(figsize=(10, 4))
    fig.clear()
    ax_loss, ax_accuracy = fig.subplots(1, 2)
    for ax, key in ((ax_loss, "loss"), (ax_accuracy, "accuracy")):
        if key in history:
            ax.plot(epochs, history[key], "o-", label=f"training {key}")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], "s--", label=f"validation {key}")
        if diagnosis is not None and diagnosis.best_epoch is not None:
            ax.axvline(diagnosis.best_epoch, color="grey", linestyle=":",
                       label=f"lowest val. loss (epoch {diagnosis.best_epoch})")
        ax.set(xlabel="epoch", ylabel=key)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize=8)
    if diagnosis is not None:
        if diagnosis.scatter is not None:
            # What the verdict compares: the low, the band of NO_RISE_SCATTERS to
            # RISE_SCATTERS scatters above it (within the noise; from the low itself where
            # the curve is too noisy to show a rise), the end, and the trend after the low
            # (the Theil-Sen line, where it was read).
            from dnnkit import training

            low, scatter = diagnosis.best_val_loss, diagnosis.scatter
            quiet = training.is_quiet(diagnosis.noise_ratio)
            ax_loss.axhline(low, color="black", linestyle=":", linewidth=1)
            ax_loss.axhspan(low + (training.NO_RISE_SCATTERS if quiet else 0) * scatter,
                            low + training.RISE_SCATTERS * scatter, color="orange", alpha=0.25,
                            label="within the noise")
            last = len(history["loss"])
            if diagnosis.trend is not None:
                ax_loss.plot([diagnosis.best_epoch, last], [
                    diagnosis.trend_start,
                    diagnosis.trend_start + diagnosis.trend * (last - diagnosis.best_epoch)],
                    "-", color="red", linewidth=2, alpha=0.7,
                    label=f"trend after the low ({diagnosis.trend_in_errors:+.1f} std. errors)")
            ax_loss.plot([last - 1], [diagnosis.final_val_loss], "D",
                         color="black", label="end (median of last 3)")
            ax_loss.legend(loc="best", fontsize=8)
        # Above the curves, as the panel's title: it never hides a point.
        ax_loss.set_title(diagnosis.summary(), fontsize=9)
    if diagnosis is not None and diagnosis.gap is not None:
        # The title too: a text box inside the axes hid behind the legend where "best"
        # did not avoid texts (matplotlib 3.5, the lab floor).
        ax_accuracy.set_title(f"train - validation accuracy {diagnosis.gap:+.3f}\n"
                              f"(both measured by model.evaluate)", fontsize=9)
    if title:
        fig.suptitle(title)
    tight_layout(fig)
    return fig


MARGIN_GREY = 0.85  # the grey between the images of a grid (0 black, 1 white)


def mosaic(images, columns, margin=1, label_room=0):
    """Tile ``images`` (count, height, width) into one array, ``columns`` per row, for one
    ``imshow`` (much faster than a small plot per image); NaN between them, and in
    ``label_room`` rows above each for its caption.  Returns the array and each image's
    (top, left) in it."""
    import numpy as np

    images = np.asarray(images, dtype=np.float32)
    count, height, width = images.shape
    columns = max(1, min(columns, count))
    rows = max(1, -(-count // columns))
    cell_height, cell_width = height + margin + label_room, width + margin
    tiled = np.full((rows * cell_height, columns * cell_width), np.nan, dtype=np.float32)
    corners = []
    for index in range(count):
        row, column = divmod(index, columns)
        top, left = row * cell_height + label_room, column * cell_width + margin // 2
        tiled[top:top + height, left:left + width] = images[index]
        corners.append((top, left))
    return tiled, corners


def draw_mosaic(ax, tiled, **imshow_options):
    """Show a :func:`mosaic` in ``ax``, its NaN margins grey; returns the image (its
    ``set_data`` takes a new mosaic of the same layout)."""
    import numpy as np

    # A grey image beneath the masked mosaic (a colormap's "bad" colour is set
    # differently in matplotlib 3.3 and 3.11).
    ax.imshow(np.full((1, 1, 3), MARGIN_GREY),
              extent=(-0.5, tiled.shape[1] - 0.5, tiled.shape[0] - 0.5, -0.5))
    picture = ax.imshow(np.ma.masked_invalid(tiled), interpolation="nearest", **imshow_options)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    return picture


def plot_image_grid(images, labels, class_names=None, predicted=None, columns=8, title=None,
                    captions=None):
    """A grid of images with their labels; with ``predicted``, ``true / predicted``, wrong in red;
    ``captions`` (one string per image) replace the labels above the images.

    One ``imshow`` of a :func:`mosaic` of all images.
    """
    from matplotlib.patches import Rectangle

    count, height, width = (len(images), *images[0].shape)
    lines = 1 if predicted is None else 2
    if captions is not None:
        lines = max(caption.count("\n") + 1 for caption in captions)
    margin, label_room = 3, 12 if lines == 1 else 17 if lines == 2 else 6 + 4 * lines  # pixels
    tiled, corners = mosaic(images, columns, margin, label_room)
    inches = 1.3 / (width + margin)  # per pixel of the mosaic: 1.3 inches per image
    fig, ax = subplots(figsize=(inches * tiled.shape[1], inches * tiled.shape[0] + 0.5))

    def name(label):
        return class_names[int(label)] if class_names is not None else str(int(label))

    for index, (top, left) in enumerate(corners):
        text = name(labels[index]) + ("" if predicted is None else f"\n/ {name(predicted[index])}")
        if captions is not None:
            text = captions[index]
        wrong = predicted is not None and int(predicted[index]) != int(labels[index])
        if wrong:
            ax.add_patch(Rectangle((left - 0.5, top - 0.5), width, height, fill=False,
                                   edgecolor="red", linewidth=2))
        ax.text(left + (width - 1) / 2, top - 1.5, text, ha="center", va="bottom",
                fontsize=9 if predicted is None else 8, color="red" if wrong else "black")
    draw_mosaic(ax, tiled, cmap="gray_r")
    if title:
        ax.set_title(title)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.99 - 0.45 / fig.get_figheight())
    return fig


def worst_mistakes(labels, probabilities, count=16):
    """The indices of up to ``count`` images predicted wrong, the most confident mistake first.

    ``probabilities``: the network's output, one row of class probabilities per image."""
    import numpy as np

    probabilities = np.asarray(probabilities)
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != np.asarray(labels))
    confidence = probabilities[wrong, predicted[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")][:count]


def plot_worst_mistakes(images, labels, probabilities, class_names=None, count=16, columns=8,
                        title=None):
    """The ``count`` test images the network got wrong with the highest probability, each
    titled with the true label, the predicted label and its probability (the softmax output).

    A mistake made with 99 % is worth a look: often the label itself is doubtful, or
    the image is unlike the training images.  Without mistakes, a figure that says so."""
    import numpy as np

    indices = worst_mistakes(labels, probabilities, count)
    if len(indices) == 0:
        fig, ax = subplots(figsize=(6, 2))
        ax.text(0.5, 0.5, "No test image was predicted wrong.", ha="center", va="center")
        ax.set_axis_off()
        if title:
            ax.set_title(title)
        return fig
    probabilities = np.asarray(probabilities)
    predicted = probabilities[indices].argmax(axis=1)

    def name(label):
        return class_names[int(label)] if class_names is not None else str(int(label))

    captions = [f"true {name(labels[index])}\nsaid {name(said)}\n"
                f"{100 * probabilities[index, said]:.1f} %"
                for index, said in zip(indices, predicted)]
    return plot_image_grid(np.asarray(images)[indices], np.asarray(labels)[indices], class_names,
                           predicted=predicted, columns=columns, title=title, captions=captions)


def plot_pixel_values(image, label=None, annotate=True):
    """One image's grey values (0-255) as a heat map; ``annotate`` writes each non-zero value."""
    import numpy as np

    fig, ax = subplots(figsize=(9, 8))
    mesh = ax.imshow(image, cmap="gray_r", vmin=0, vmax=255)
    fig.colorbar(mesh, ax=ax, label="grey value (0-255); divide by 255 for [0, 1]")
    ax.set(xlabel="column", ylabel="row", title=f"{image.shape[0]} x {image.shape[1]} grey values"
           + (f" (label: {label})" if label is not None else ""))
    tight_layout(fig)  # before the numbers, which stay inside the axes: it need not measure them
    if annotate:
        for row, column in zip(*np.nonzero(image)):
            value = int(image[row, column])
            ax.text(column, row, str(value), ha="center", va="center", fontsize=4,
                    color="white" if value > 128 else "black")
    return fig


def plot_class_counts(labels, class_names, title="Images per class in the training set"):
    """Bar chart of how many images each class has, the count written on each bar."""
    import numpy as np

    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=len(class_names))
    fig, ax = subplots(figsize=(8, 4))
    ticks = range(len(class_names))
    ax.bar(ticks, counts)
    for tick, count in zip(ticks, counts):
        ax.annotate(str(int(count)), (tick, count), xytext=(0, 1), textcoords="offset points",
                    ha="center", va="bottom", fontsize=8)
    ax.set_xticks(ticks)
    ax.set_xticklabels(class_names, rotation=30, ha="right")
    ax.set(ylabel="images", title=title)
    tight_layout(fig)
    return fig


def plot_confusion_matrix(matrix, class_names, title="Confusion matrix (test set)"):
    """The confusion matrix as a heat map: rows true class, columns predicted."""
    fig, ax = subplots(figsize=(7, 6))
    mesh = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(mesh, ax=ax, label="images")
    ticks = range(len(class_names))
    ax.set(xticks=ticks, yticks=ticks, yticklabels=class_names, xlabel="predicted class",
           ylabel="true class", title=title)
    ax.set_xticklabels(class_names, rotation=45, ha="right")
    threshold = matrix.max() / 2 if matrix.size else 0
    for row in ticks:
        for column in ticks:
            ax.text(column, row, int(matrix[row, column]), ha="center", va="center", fontsize=7,
                    color="white" if matrix[row, column] > threshold else "black")
    tight_layout(fig)
    return fig
