"""Figures shared by the scripts: training curves, image grids, confusion matrix.

Every figure is built with ``fig, ax = plotting.subplots()`` (pyplot's
``plt.subplots()``, with pyplot imported on first use) and returned; the
script saves it with :func:`save_figure` and calls :func:`show` once at the
end.  When there is no display (ssh without X forwarding, CI), matplotlib
draws with the headless Agg backend and :func:`show` does nothing, so no
script ever blocks or crashes for want of a window.
"""

import os
import sys
from pathlib import Path

from dnnkit.errors import UserError


def _has_display():
    """True when a window can be opened (always on macOS and Windows)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _choose_backend():
    """Use the headless Agg backend when no display exists and none was chosen.

    A backend chosen from outside (``MPLBACKEND``, matplotlibrc) always wins.
    """
    import matplotlib

    if "MPLBACKEND" not in os.environ and not _has_display():
        matplotlib.use("Agg")


def pyplot():
    """``matplotlib.pyplot``, imported on first use, after choosing the backend.

    matplotlib takes most of a second to import, so it is imported only when
    the first figure is made: ``--help`` and bad options answer at once.
    """
    if "matplotlib.pyplot" not in sys.modules:
        _choose_backend()  # before pyplot is imported
    import matplotlib.pyplot as plt

    return plt


def subplots(*args, **kwargs):
    """``plt.subplots``: a new figure and its axes (``fig, ax = plotting.subplots()``)."""
    return pyplot().subplots(*args, **kwargs)


# ---------------------------------------------------------------------------
# Saving and showing
# ---------------------------------------------------------------------------
def save_figure(fig, name, outdir="figures", dpi=100):
    """Save ``fig`` as ``outdir/name.png`` and print ``Saved <path>``.

    Nothing is returned, so that a notebook cell ending in ``save_figure(...)``
    shows the figure and the line, not the path a second time.

    The PNG is written to a temporary file ``.name.<process id>.png.tmp`` in
    the same folder and renamed into place when complete, so an interrupted
    run, or two scripts writing at the same time, never leave a half-written
    figure.
    """
    outdir = Path(outdir)
    path = outdir / f"{name}.png"
    temporary = outdir / f".{name}.{os.getpid()}.png.tmp"
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        try:
            # No bbox_inches="tight": the figures are laid out already (see
            # tight_layout), and a tight bounding box would draw every figure twice.
            with open(temporary, "wb") as stream:
                fig.savefig(stream, format="png", dpi=dpi)
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    except OSError as error:
        raise UserError(f"cannot write figure {path} ({error.strerror or error}): "
                        f"choose another folder with --outdir") from None
    print(f"Saved {path}")


def tight_layout(fig):
    """``fig.tight_layout()``, so that saving draws the figure only once (see compat)."""
    from dnnkit import compat

    fig.tight_layout()
    compat.remove_layout_engine(fig)


def can_show():
    """True when the current backend opens windows."""
    import matplotlib

    pyplot()  # chooses the backend if that has not happened yet
    backend = matplotlib.get_backend().lower()
    return backend not in ("agg", "pdf", "ps", "svg", "cairo", "template") and \
        not backend.startswith("module://matplotlib_inline")


def show(no_show=False):
    """Show all open figures once, if a display exists and ``--no-show`` was not given."""
    if not no_show and can_show():
        pyplot().show()


# ---------------------------------------------------------------------------
# Training curves
# ---------------------------------------------------------------------------
def plot_training_curves(history, title=None, diagnosis=None, fig=None):
    """Loss and accuracy per epoch, training and validation, side by side.

    ``history`` is ``keras.callbacks.History.history`` (a dict of lists).
    With ``diagnosis`` (:func:`dnnkit.training.diagnose`), the epoch of the
    lowest validation loss is marked on both panels and the diagnosis's
    numbers are written beside the curves: how far the validation loss rose
    after it, the verdict, and the accuracy gap measured like the
    validation accuracy.  Without it, the final gap of Keras's own numbers.
    Given a ``fig``, it is cleared and drawn again (the live curves of
    :mod:`dnnkit.live`), instead of making a new figure.
    """
    from matplotlib.ticker import MaxNLocator

    epochs = range(1, len(history["loss"]) + 1)
    if fig is None:
        fig, (ax_loss, ax_accuracy) = subplots(1, 2, figsize=(10, 4))
    else:
        fig.clear()
        ax_loss, ax_accuracy = fig.subplots(1, 2)
    for ax, key, label in ((ax_loss, "loss", "loss"), (ax_accuracy, "accuracy", "accuracy")):
        if key in history:
            ax.plot(epochs, history[key], "o-", label=f"training {label}")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], "s--", label=f"validation {label}")
        if diagnosis is not None:
            ax.axvline(diagnosis.best_epoch, color="grey", linestyle=":",
                       label=f"best epoch ({diagnosis.best_epoch})")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="center right")
    box = {"facecolor": "white", "alpha": 0.8, "edgecolor": "grey"}
    if diagnosis is not None:
        ax_loss.plot([diagnosis.best_epoch], [diagnosis.best_val_loss], "*", color="black",
                     markersize=12)
        verdict = "overtraining" if diagnosis.overtraining else "no overtraining"
        ax_loss.text(0.98, 0.96, f"lowest validation loss {diagnosis.best_val_loss:.3f} "
                     f"at epoch {diagnosis.best_epoch},\nthen {diagnosis.rise_percent:+.0f} % "
                     f"by epoch {diagnosis.epochs}: {verdict}",
                     transform=ax_loss.transAxes, ha="right", va="top", bbox=box)
    if diagnosis is not None and diagnosis.gap is not None:
        ax_accuracy.text(0.98, 0.04, f"train - validation accuracy {diagnosis.gap:+.3f}\n"
                         f"(both measured by model.evaluate)",
                         transform=ax_accuracy.transAxes, ha="right", va="bottom", bbox=box)
    elif history.get("accuracy") and history.get("val_accuracy"):  # not before the first epoch
        gap = history["accuracy"][-1] - history["val_accuracy"][-1]
        ax_accuracy.text(0.98, 0.04, f"final train - validation gap: {gap:+.3f}",
                         transform=ax_accuracy.transAxes, ha="right", va="bottom", bbox=box)
    if title:
        fig.suptitle(title)
    tight_layout(fig)
    return fig


# ---------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------
MARGIN_GREY = 0.85  # the grey between the images of a grid (0 black, 1 white)


def plot_image_grid(images, labels, class_names=None, predicted=None, columns=8, title=None):
    """A grid of images with their labels.

    With ``predicted`` given, each label reads ``true / predicted`` and the
    wrong predictions are written and framed in red.

    The images are put side by side into one big array (a mosaic, with a
    grey margin and room for the label above each image) and drawn with a
    single ``imshow``: much faster than one small plot per image, which
    matters for a figure of 32 images.
    """
    import numpy as np
    from matplotlib.patches import Rectangle

    images = np.asarray(images, dtype=np.float32)
    count, height, width = images.shape
    columns = max(1, min(columns, count))
    rows = max(1, -(-count // columns))
    margin, label_room = 3, 12 if predicted is None else 17  # in pixels of the mosaic
    cell_width, cell_height = width + margin, height + margin + label_room
    mosaic = np.full((rows * cell_height, columns * cell_width), np.nan, dtype=np.float32)

    fig, ax = subplots(figsize=(1.3 * columns, 1.3 * rows * cell_height / cell_width + 0.5))

    def name(label):
        return class_names[int(label)] if class_names is not None else str(int(label))

    for index in range(count):
        row, column = divmod(index, columns)
        top = row * cell_height + label_room  # the image's first row in the mosaic
        left = column * cell_width + margin // 2
        mosaic[top:top + height, left:left + width] = images[index]
        if predicted is None:
            text, color = name(labels[index]), "black"
        else:
            wrong = int(predicted[index]) != int(labels[index])
            text, color = f"{name(labels[index])}\n/ {name(predicted[index])}", \
                "red" if wrong else "black"
            if wrong:
                ax.add_patch(Rectangle((left - 0.5, top - 0.5), width, height, fill=False,
                                       edgecolor="red", linewidth=2))
        ax.text(left + (width - 1) / 2, top - 1.5, text, ha="center", va="bottom",
                fontsize=9 if predicted is None else 8, color=color)

    # The margins (NaN, masked) are transparent and show a light grey image
    # beneath the mosaic (a colormap's own "bad" colour is set differently
    # in matplotlib 3.3 and 3.11).
    rows_of_pixels, columns_of_pixels = mosaic.shape
    ax.imshow(np.full((1, 1, 3), MARGIN_GREY),
              extent=(-0.5, columns_of_pixels - 0.5, rows_of_pixels - 0.5, -0.5))
    ax.imshow(np.ma.masked_invalid(mosaic), cmap="gray_r", interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.99 - 0.45 / fig.get_figheight())
    return fig


def plot_pixel_values(image, label=None, annotate=True):
    """One image as a heat map of its grey values (0-255) with a colour bar.

    With ``annotate`` every non-zero pixel's value is written in its cell, white
    on dark and black on light cells, as on the slide "28 x 28 array with
    greyscale values".
    """
    import numpy as np

    fig, ax = subplots(figsize=(9, 8))
    mesh = ax.imshow(image, cmap="gray_r", vmin=0, vmax=255)
    fig.colorbar(mesh, ax=ax, label="grey value (0-255); divide by 255 for [0, 1]")
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    ax.set_title(f"{image.shape[0]} x {image.shape[1]} grey values"
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
    _set_tick_labels(ax.xaxis, ticks, class_names, rotation=30, ha="right")
    ax.set_ylabel("images")
    ax.set_title(title)
    tight_layout(fig)
    return fig


def _set_tick_labels(axis, ticks, labels, **text_options):
    """Put ``labels`` at the positions ``ticks`` of ``axis`` (``ax.xaxis`` or ``ax.yaxis``).

    Two calls that every matplotlib from 3.3 on has (``set_ticks`` takes the
    labels itself only from 3.5 on).
    """
    axis.set_ticks(list(ticks))
    axis.set_ticklabels(list(labels), **text_options)


# ---------------------------------------------------------------------------
# Confusion matrix
# ---------------------------------------------------------------------------
def plot_confusion_matrix(matrix, class_names, title="Confusion matrix (test set)"):
    """The confusion matrix as a heat map: rows true class, columns predicted."""
    fig, ax = subplots(figsize=(7, 6))
    mesh = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(mesh, ax=ax, label="images")
    ticks = range(len(class_names))
    _set_tick_labels(ax.xaxis, ticks, class_names, rotation=45, ha="right")
    _set_tick_labels(ax.yaxis, ticks, class_names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    threshold = matrix.max() / 2 if matrix.size else 0
    for row in ticks:
        for column in ticks:
            ax.text(column, row, int(matrix[row, column]), ha="center", va="center", fontsize=7,
                    color="white" if matrix[row, column] > threshold else "black")
    ax.set_title(title)
    tight_layout(fig)
    return fig
