"""Draw a digit with the mouse and watch the MNIST MLP and CNN answer.

A window with a drawing pad (buttons: Clear, and the pen: draw or erase),
the 28x28 image the networks actually see, and the softmax probabilities of
the MLP (MLP_MNIST_digits_tf.py) and of the CNN (CNN_MNIST_digits_tf.py) as
bars side by side, updated while you draw; a second window shows the CNN's
feature maps of your drawing (the figure of CNN_MNIST_digits_tf.py), updated
when you lift the pen.  ``--image FILE`` classifies a photo or scan of a
handwritten digit instead (PNG or JPEG, any size, dark ink on light paper or
the other way round), prints the three likeliest digits of both networks and
saves the figure, without a window.

The networks are those the two MNIST scripts saved in ``--models-dir``
(``models/``); where none is saved, both are trained here briefly first.
The drawing is prepared as MNIST's digits were (bounding box, fitted into
20x20, centred by its centre of mass in 28x28): see the cell "Preprocessing".

Measured on the project's 2-core test machine (Intel Xeon, no GPU, under
heavy load from other jobs: load average 8-12; 2026-12-06), with
``DNN_DATA_DIR=../shared/data``:
- the pad answers a stroke in 0.15 s (median from pen down to the new bars
  drawn; TensorFlow 2.21, matplotlib 3.11, Agg; 0.08 s with TensorFlow 2.4
  and matplotlib 3.5), a move of the pen takes 0.03 s (the pad alone) to
  0.14 s (with new answers, at most every 0.1 s); ``python
  benchmarks/bench_draw.py``, see benchmarks/README.md;
- without saved networks, the brief training here (3 epochs on 10000
  images, both networks) took 18 s and reached test accuracies of 0.948
  (MLP) and 0.957 (CNN); with TensorFlow 2.4 (the lab's), 28 s, 0.950 and
  0.962.

A window needs an interactive matplotlib backend: TkAgg or Qt on a desktop
(``MPLBACKEND=TkAgg``), ``ssh -X`` from elsewhere; in a notebook, run
``%matplotlib widget`` first (needs ``pip install ipympl``).  Under the
inline backend, or without a display, the script says so and only saves the
figures.
"""

# %% Set-up
# The options are read first, before TensorFlow is imported, so that --help
# answers at once.
import os
import time
from pathlib import Path

import numpy as np

from dnnkit import convolution, plotting, runtime, saved, training
from dnnkit.errors import UserError

parser = runtime.make_parser(__doc__, cpu=True, data=True)
parser.add_argument("--image", metavar="FILE", default=None,
                    help="classify this photo or scan of one handwritten digit (PNG or JPEG) "
                         "and save the figure, without a window")
parser.add_argument("--models-dir", metavar="DIR",
                    default=os.environ.get(runtime.MODELS_DIR_VARIABLE) or
                    runtime.DEFAULT_MODELS_DIR,
                    help="folder of the networks saved by MLP_MNIST_digits_tf.py and "
                         "CNN_MNIST_digits_tf.py (default: $DNN_MODELS_DIR, then models)")
parser.add_argument("--pretrained", action="store_true",
                    help="only the saved networks: fail instead of training them briefly here")
brief = parser.add_argument_group("the brief training here, when no network is saved")
brief.add_argument("--epochs", type=runtime.positive_int, default=3,
                   help="number of passes over the training data (default: %(default)s)")
brief.add_argument("--batch-size", type=runtime.positive_int, default=128,
                   help="samples per gradient step (default: %(default)s)")
brief.add_argument("--max-samples", type=runtime.positive_int, default=10000, metavar="N",
                   help="train on a stratified subset of N images (default: %(default)s)")
args = runtime.parse_args(parser)

# %% Preprocessing as MNIST was made
# MNIST's digits were written on paper, scanned, and normalized: the bounding
# box of the strokes was fitted into 20x20 pixels, keeping the aspect ratio,
# and placed into 28x28 so that the centre of mass of the ink lies at the
# centre.  Anything drawn here or photographed gets the same treatment.
# Without it, a digit drawn small or in a corner of the pad lands on input
# pixels that were blank in every training image.  The MLP has one weight
# per pixel: a stroke one pixel further on meets other weights.  The CNN's
# filters slide over the image and find the strokes wherever they are, but
# its last layer again has one weight per position.  Measured on 2000 test
# digits shifted 2 pixels right and down (benchmarks/bench_draw.py, the
# networks trained briefly here): the MLP's accuracy fell from 0.93 to 0.43,
# the CNN's from 0.95 to 0.60; 4 pixels off, both fail (0.07).  Prepared as
# below, the same shifted digits are recognized again (0.93 and 0.94), and
# MNIST's own test digits come back unchanged.
from scipy import ndimage  # noqa: E402

SIDE = 28   # MNIST's images: 28x28 pixels
BOX = 20    # ... with the digit fitted into 20x20 in the middle


def mnist_input(ink):
    """A 28x28 image of ``ink`` (a 2D array, 0 = paper, 1 = ink) as MNIST made its digits."""
    rows, columns = np.nonzero(ink > 0.05)
    if len(rows) == 0:  # nothing drawn
        return np.zeros((SIDE, SIDE), dtype=np.float32)
    box = ink[rows.min():rows.max() + 1, columns.min():columns.max() + 1]
    scale = BOX / max(box.shape)
    if scale < 1:
        # Shrinking samples the box at points far apart; smoothed first, a thin
        # stroke between them is not lost (anti-aliasing, with scikit-image's sigma).
        box = ndimage.gaussian_filter(box, sigma=(1 / scale - 1) / 2)
    height, width = (max(1, round(size * scale)) for size in box.shape)
    digit = ndimage.zoom(box, (height / box.shape[0], width / box.shape[1]), order=1)
    image = np.zeros((SIDE, SIDE), dtype=np.float32)
    top, left = (SIDE - height) // 2, (SIDE - width) // 2
    image[top:top + height, left:left + width] = np.clip(digit, 0, None) / max(digit.max(), 1e-6)
    centre_row, centre_column = ndimage.center_of_mass(image)
    # To pixel (14, 14), where MNIST's digits have their centre of mass (13.99
    # and 14.00 on average, 0.3 apart), by whole pixels, so that the image
    # stays as sharp as MNIST's.
    image = ndimage.shift(image, (round(14 - centre_row), round(14 - centre_column)), order=0)
    return np.clip(image, 0, 1)


# %% A photo or scan (--image)
# The file is read and checked before TensorFlow is imported, so that a bad
# one is reported at once.  Ink is what differs from the paper: the paper's
# colour is the median of the image's border, so dark ink on light paper and
# light chalk on a dark board both work.
def read_photo(path):
    """``(picture, ink, description)`` of the image in ``path``: RGB, ink from 0 to 1, a line."""
    from PIL import Image, ImageOps

    path = Path(path)
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise UserError(f"{path} (from --image) {what}: give a PNG or JPEG picture of one digit")
    if path.stat().st_size == 0:
        raise UserError(f"{path} (from --image) is empty: give a PNG or JPEG picture of one digit")
    try:
        with Image.open(path) as opened:
            # A phone stores a photo as taken and notes which way up it belongs.
            picture = ImageOps.exif_transpose(opened).convert("RGBA")
    except Image.UnidentifiedImageError:
        raise UserError(f"{path} (from --image) is not an image: give a PNG or JPEG picture "
                        f"of one digit") from None
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise UserError(f"{path} (from --image) cannot be read as an image ({error}): give a "
                        f"PNG or JPEG picture of one digit") from None
    size = picture.size
    picture.thumbnail((1000, 1000))  # a 12-megapixel photo is more than 28x28 needs
    # Transparent parts (a digit drawn in a paint program) count as white paper.
    picture = Image.alpha_composite(Image.new("RGBA", picture.size, "white"), picture)
    grey = np.asarray(picture.convert("L"), dtype=np.float32) / 255
    if grey.max() - grey.min() < 0.1:
        raise UserError(f"{path} (from --image) is all one colour: there is no digit on it")
    frame = max(1, min(grey.shape) // 20)  # the outer 5 % of the image
    border = np.concatenate([grey[:frame].ravel(), grey[-frame:].ravel(),
                             grey[:, :frame].ravel(), grey[:, -frame:].ravel()])
    paper = np.median(border)
    ink = paper - grey if paper > 0.5 else grey - paper
    ink = np.clip(ink / max(ink.max(), 1e-6), 0, 1)
    # Shadows and the grain of the paper, below a quarter of the darkest
    # stroke, are paper too.
    ink = np.clip((ink - 0.25) / 0.75, 0, 1)
    what = "dark ink on light paper" if paper > 0.5 else "light ink on a dark background"
    return np.asarray(picture.convert("RGB")), ink, f"{size[0]}x{size[1]} pixels, {what}"


if args.image is not None:
    photo, photo_ink, description = read_photo(args.image)
    print(f"{args.image}: {description}")

# %% The networks: saved by the MNIST scripts, or trained briefly here
runtime.setup_tensorflow(args)  # prints the device and seeds TensorFlow
from tensorflow import keras  # noqa: E402

networks, histories, missing = {}, {}, []
for name, script in (("MLP", "MLP_MNIST_digits_tf"), ("CNN", "CNN_MNIST_digits_tf")):
    try:
        networks[name], info = saved.load_model(script, args.models_dir)
        print(f"{name}: the network of {script}.py saved in {args.models_dir}/, trained on "
              f"{info['date']} for {info['epochs']} epochs with TensorFlow {info['tensorflow']}")
    except UserError as error:
        if args.pretrained:
            raise
        print(f"Note: {error}")
        missing.append(name)

if missing:
    # The networks of MLP_MNIST_digits_tf.py and CNN_MNIST_digits_tf.py, trained
    # for a short time only (3 epochs on 10000 images: 18 to 28 s on the
    # project's 2-core test machine).
    print(f"Training the {' and the '.join(missing)} here briefly: {args.epochs} "
          f"epoch{'s' if args.epochs > 1 else ''} on {args.max_samples} images "
          f"(--epochs, --max-samples), about 20 s on a 2-core CPU; --pretrained forbids it.")
    (x_train, y_train), (x_test, y_test) = runtime.load_data(args, "mnist")
    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    started = time.perf_counter()
    if "MLP" in missing:
        networks["MLP"] = keras.Sequential([
            keras.Input(shape=(28 * 28,)),
            keras.layers.Dense(512, activation="relu"),
            keras.layers.Dense(512, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ], name="mlp_mnist")
    if "CNN" in missing:
        networks["CNN"] = keras.Sequential([
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            keras.layers.MaxPooling2D(pool_size=(2, 2)),
            keras.layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            keras.layers.MaxPooling2D(pool_size=(2, 2)),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(10, activation="softmax"),
        ], name="cnn_mnist")
    for name in missing:
        model = networks[name]
        shape = (-1, *model.inputs[0].shape[1:])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"], **training.speed_options(steps_per_execution=32))
        histories[name] = model.fit(x_train.reshape(shape), y_train, epochs=args.epochs,
                                    batch_size=args.batch_size, verbose=training.verbosity())
        test_loss, test_accuracy = model.evaluate(x_test.reshape(shape), y_test,
                                                  batch_size=1024, verbose=0)
        print(f"{name}: test accuracy {test_accuracy:.4f}")
    print(f"Trained in {time.perf_counter() - started:.1f} s.")
mlp, cnn = networks["MLP"], networks["CNN"]


# %% The answer of the networks
# Each network's softmax output for one 28x28 image: ten probabilities.
# The model is called directly: model.predict sets up a data pipeline for
# every call, a tenth of a second or more for one image.
def answers(image):
    """``(MLP's probabilities, CNN's probabilities)`` of the ten digits for one 28x28 image."""
    image = np.asarray(image, dtype=np.float32)
    mlp_output = mlp(image.reshape(1, 28 * 28), training=False)
    cnn_output = cnn(image.reshape(1, 28, 28, 1), training=False)
    return np.asarray(mlp_output)[0], np.asarray(cnn_output)[0]


def top3(probabilities):
    """The three likeliest digits, as ``7 (93.1 %), 1 (4.0 %), 9 (1.2 %)``."""
    best = np.argsort(probabilities)[::-1][:3]
    return ", ".join(f"{digit} ({100 * probabilities[digit]:.1f} %)" for digit in best)


# %% The window: the digit, what the networks see, and their answers
# On the left the drawing pad (or the photo), in the middle the 28x28 input
# the networks get, on the right their probabilities for the ten digits.
PAD = 280        # the pad has 280x280 pixels, ten times MNIST's
PEN_RADIUS = 13  # a stroke is about as wide, relative to the digit, as in MNIST

pad = np.zeros((PAD, PAD), dtype=np.float32)  # the drawing: 0 = paper, 1 = ink
fig = plotting.pyplot().figure(figsize=(12, 5.5))  # imports matplotlib, choosing its backend
from matplotlib.widgets import Button, RadioButtons  # noqa: E402

pad_ax = fig.add_axes([0.03, 0.17, 0.33, 0.72])
input_ax = fig.add_axes([0.39, 0.42, 0.19, 0.42])
bars_ax = fig.add_axes([0.66, 0.17, 0.32, 0.67])
if args.image is None:
    pad_picture = pad_ax.imshow(pad, cmap="gray_r", vmin=0, vmax=1)
    pad_ax.set_title("Draw a digit (left mouse button)")
    pad_ax.set_navigate(False)  # zoom and pan of the toolbar leave the pad alone
    # The buttons under the pad (they act in the cell "Drawing with the mouse").
    clear_button = Button(fig.add_axes([0.05, 0.04, 0.1, 0.07]), "Clear")
    fig.text(0.19, 0.075, "pen:", ha="right", va="center")
    pen_buttons = RadioButtons(fig.add_axes([0.2, 0.01, 0.12, 0.13]), ("draw", "erase"))
else:
    pad_ax.imshow(photo)
    pad_ax.set_title(Path(args.image).name)
pad_ax.set_xticks([])
pad_ax.set_yticks([])
input_picture = input_ax.imshow(np.zeros((SIDE, SIDE)), cmap="gray_r", vmin=0, vmax=1,
                                interpolation="nearest")
input_ax.set_title("What the networks see: 28x28")
input_ax.set_xticks([])
input_ax.set_yticks([])
input_ax.text(0.5, -0.08, "bounding box fitted into 20x20,\ncentred by its centre of mass",
              transform=input_ax.transAxes, ha="center", va="top", fontsize="small")
digits = np.arange(10)
mlp_bars = bars_ax.bar(digits - 0.2, np.zeros(10), width=0.4, label="MLP")
cnn_bars = bars_ax.bar(digits + 0.2, np.zeros(10), width=0.4, label="CNN")
bars_ax.set_xticks(digits)
bars_ax.set_ylim(0, 1)
bars_ax.set_xlabel("digit")
bars_ax.set_ylabel("probability (softmax output)")
bars_ax.legend(loc="upper right")
bars_title = bars_ax.set_title("Draw a digit")


def show_answers(ink):
    """Prepare ``ink`` as MNIST's digits, ask both networks, and update the 28x28 image and bars."""
    image = mnist_input(ink)
    input_picture.set_data(image)
    if not image.any():
        mlp_probabilities = cnn_probabilities = np.zeros(10)
        bars_title.set_text("Draw a digit")
    else:
        mlp_probabilities, cnn_probabilities = answers(image)
        bars_title.set_text(f"MLP: {mlp_probabilities.argmax()} "
                            f"({100 * mlp_probabilities.max():.0f} %)    "
                            f"CNN: {cnn_probabilities.argmax()} "
                            f"({100 * cnn_probabilities.max():.0f} %)")
    for bar, probability in zip(mlp_bars, mlp_probabilities):
        bar.set_height(probability)
    for bar, probability in zip(cnn_bars, cnn_probabilities):
        bar.set_height(probability)
    return image, mlp_probabilities, cnn_probabilities


if args.image is not None:
    image, mlp_probabilities, cnn_probabilities = show_answers(photo_ink)
    print(f"MLP: {top3(mlp_probabilities)}")
    print(f"CNN: {top3(cnn_probabilities)}")
    figure_name = f"drawDigit_{Path(args.image).stem}"
else:
    image = mnist_input(pad)
    figure_name = "drawDigit_pad"
    if not args.no_show and not plotting.can_show():
        print(f"Note: drawing needs a window, and matplotlib's backend here "
              f"({plotting.pyplot().get_backend()}) opens none: in a notebook run %matplotlib "
              f"widget first (pip install ipympl), on a desktop use MPLBACKEND=TkAgg or QtAgg, "
              f"over ssh log in with ssh -X.  Only saving the figures.")
plotting.save_figure(fig, figure_name, args.outdir)

# %% Drawing with the mouse
# Pressing the left button puts the pen down; moving draws (or erases) a
# round stroke; releasing lifts it.  While you draw, the networks answer at
# most every UPDATE_SECONDS, so that the pen follows the mouse; when you lift
# the pen they answer once more, and the feature maps (second window) follow.
#
# Speed: drawing the whole window (axes, ticks, labels, buttons) takes a
# tenth of a second or more.  So at every move only what changes (the pad,
# the 28x28 image, the bars and their title) is drawn again, over a copy of
# the rest kept from the last full drawing: "blitting", as in matplotlib's
# tutorial "Faster rendering by using blitting".
UPDATE_SECONDS = 0.1
pen = {"down": False, "erase": False, "last": None, "answered": 0.0}
window = {"changing": [], "rest": None}  # what changes; a copy of the rest of the window


def stroke_to(column, row):
    """Draw (or erase) a stroke of round dots from the last point to (``column``, ``row``)."""
    last_column, last_row = pen["last"] or (column, row)
    steps = max(1, int(np.ceil(np.hypot(column - last_column, row - last_row) / (PEN_RADIUS / 4))))
    for fraction in np.linspace(0, 1, steps + 1):
        x = last_column + fraction * (column - last_column)
        y = last_row + fraction * (row - last_row)
        top, left = max(0, int(y) - PEN_RADIUS - 1), max(0, int(x) - PEN_RADIUS - 1)
        window = pad[top:int(y) + PEN_RADIUS + 2, left:int(x) + PEN_RADIUS + 2]
        rows, columns = np.ogrid[top:top + window.shape[0], left:left + window.shape[1]]
        # A dot with a soft edge, one pixel wide, as a pen on paper.
        dot = np.clip(PEN_RADIUS + 0.5 - np.hypot(rows - y, columns - x), 0, 1)
        if pen["erase"]:
            np.minimum(window, 1 - dot, out=window)
        else:
            np.maximum(window, dot, out=window)
    pen["last"] = (column, row)
    pad_picture.set_data(pad)


def on_draw(event):
    """After a full drawing of the window: keep a copy of it without the changing parts."""
    if not fig.canvas.is_saving():  # (a PNG being saved is drawn at its own size)
        window["rest"] = fig.canvas.copy_from_bbox(fig.bbox)
        for artist in window["changing"]:
            fig.draw_artist(artist)


def redraw_changes(only_the_pad=False):
    """Draw the changing parts over the copy of the rest, at once (the first time: all).

    The pad's picture covers its axes, so alone it needs no copy beneath it."""
    if window["rest"] is None:
        fig.canvas.draw_idle()
    elif only_the_pad:
        fig.draw_artist(pad_picture)
        fig.canvas.blit(pad_ax.bbox)
    else:
        fig.canvas.restore_region(window["rest"])
        for artist in window["changing"]:
            fig.draw_artist(artist)
        fig.canvas.blit(fig.bbox)


def answer():
    """The networks' answers for the pad as it is now; returns the 28x28 image."""
    pen["answered"] = time.perf_counter()
    return show_answers(pad)[0]


def on_press(event):
    if event.inaxes is not pad_ax or event.button != 1:
        return
    pen["down"], pen["last"] = True, None
    stroke_to(event.xdata, event.ydata)
    answer()
    redraw_changes()


def on_move(event):
    if not pen["down"] or event.inaxes is not pad_ax:
        return
    stroke_to(event.xdata, event.ydata)
    if time.perf_counter() - pen["answered"] >= UPDATE_SECONDS:
        answer()
        redraw_changes()
    else:
        redraw_changes(only_the_pad=True)


def answer_with_feature_maps():
    image = answer()
    redraw_changes()
    convolution.update_feature_maps_figure(maps_fig, cnn, image)
    maps_fig.canvas.draw_idle()


def on_release(event):
    if pen["down"]:
        pen["down"], pen["last"] = False, None
        answer_with_feature_maps()


def on_clear(event):
    pad[:] = 0
    pad_picture.set_data(pad)
    answer_with_feature_maps()


def on_pen(label):
    pen["erase"] = label == "erase"


if args.image is None:
    window["changing"] = [pad_picture, input_picture, *mlp_bars, *cnn_bars, bars_title]
    for artist in window["changing"]:
        artist.set_animated(True)  # left out of full drawings (but not of saved PNGs)
    clear_button.on_clicked(on_clear)
    pen_buttons.on_clicked(on_pen)
    for name, handler in (("draw_event", on_draw), ("button_press_event", on_press),
                          ("motion_notify_event", on_move), ("button_release_event", on_release)):
        fig.canvas.mpl_connect(name, handler)

# %% The CNN's feature maps of the digit
# The figure of CNN_MNIST_digits_tf.py: what each filter of the two
# convolution layers finds in the 28x28 input (bright where it responds).
maps_fig = convolution.feature_maps_figure(cnn, image, title="CNN: feature maps of your digit")
plotting.save_figure(maps_fig, f"{figure_name}_feature_maps", args.outdir)

# %% Show the windows (on the command line; a notebook shows each under its cell)
if args.image is None:
    plotting.show(args.no_show)
