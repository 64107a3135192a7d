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

How sure is the CNN?  The softmax output says "100 %" as readily for a
scribble as for a clean digit.  The CNN has a Dropout layer: kept switched on
at prediction, each of 30 forward passes of the same drawing drops other
features, and the spread of the 30 answers (the error bars over the CNN's
bars, the "how sure" line under them) is small where the network is sure and
large where the drawing lies between what it has learned (Monte Carlo
Dropout: Y. Gal and Z. Ghahramani, "Dropout as a Bayesian Approximation",
ICML 2016, arXiv:1506.02142).  The MLP has no Dropout, so it gets no spread.
The 30 passes go through the CNN as one batch: 17 ms (19 ms of CPU time) on
the project's 2-core AMD EPYC test machine with TensorFlow 2.21, 18 ms (8 ms
of CPU time) with TensorFlow 2.4, while other jobs kept its load average at
14-16 (2026-12-07, ``benchmarks/bench_draw.py``).

Where does the CNN look?  When the pen lifts, the 28x28 input is overlaid in
red with the saliency map of the CNN's top digit: how strongly each pixel
changes that digit's score (the gradient, with ``tf.GradientTape``; K.
Simonyan et al., "Deep Inside Convolutional Networks", 2014).  Untick "MNIST
preprocessing" (or ``--no-preprocessing``) to give the networks the pad as it
is, shrunk to 28x28, and see what the centring is worth.

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
(``MPLBACKEND=TkAgg``), ``ssh -X`` from elsewhere; in a notebook,
``%matplotlib widget`` (ipympl, in requirements.txt), which the generated
notebook's first cell chooses where ipympl is installed.  Under the inline
backend, or without a display, the script says so and only saves the figures.
"""

# %% Set-up
# The options are read first, before TensorFlow is imported, so that --help
# answers at once.
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

from dnnkit import convolution, plotting, runtime, saved, training
from dnnkit.errors import UserError

parser = runtime.make_parser(__doc__, cpu=True, data=True)
parser.add_argument("--image", metavar="FILE", default=None,
                    help="classify this photo or scan of one handwritten digit (PNG or JPEG) "
                         "and save the figure, without a window; a folder: every PNG and JPEG "
                         "in it, one line each (with the accuracy where the file names begin "
                         "with the digit: 7_*.png or digit_7_*.png)")
parser.add_argument("--no-preprocessing", action="store_true",
                    help="give the networks the picture as it is, shrunk to 28x28: no bounding "
                         "box fitted into 20x20, no centring (to see what MNIST's preprocessing "
                         "is worth)")
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


def as_is_input(ink):
    """A 28x28 image of the whole of ``ink`` without MNIST's preprocessing: made square with
    paper around it, smoothed and shrunk, the darkest stroke 1 (--no-preprocessing)."""
    ink = np.asarray(ink, dtype=np.float32)
    if not (ink > 0.05).any():
        return np.zeros((SIDE, SIDE), dtype=np.float32)
    side = max(ink.shape)
    square = np.zeros((side, side), dtype=np.float32)
    top, left = (side - ink.shape[0]) // 2, (side - ink.shape[1]) // 2
    square[top:top + ink.shape[0], left:left + ink.shape[1]] = ink
    scale = SIDE / side
    if scale < 1:
        square = ndimage.gaussian_filter(square, sigma=(1 / scale - 1) / 2)
    image = ndimage.zoom(square, SIDE / side, order=1)[:SIDE, :SIDE]
    return np.clip(image / max(image.max(), 1e-6), 0, 1).astype(np.float32)


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


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def photos_in(folder):
    """The PNG and JPEG files in ``folder``, by name; a :class:`UserError` if there are none."""
    paths = sorted(path for path in Path(folder).iterdir()
                   if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise UserError(f"{folder} (from --image) holds no PNG or JPEG file: give a folder of "
                        f"photos of digits, or one picture")
    return paths


def label_in_name(path):
    """The digit a file name begins with (``7_anything.png``, ``digit_7_a.jpg``), else None."""
    found = re.match(r"(?:digit_)?([0-9])(?:[_\- .]|$)", Path(path).stem, re.IGNORECASE)
    return int(found.group(1)) if found else None


prepare = as_is_input if args.no_preprocessing else mnist_input
folder = args.image if args.image is not None and Path(args.image).is_dir() else None
if folder is not None:
    photo_paths = photos_in(folder)  # before TensorFlow loads: an empty folder is told at once
    print(f"{folder}: {len(photo_paths)} pictures")
elif args.image is not None:
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


def top3(probabilities, spread=None):
    """The three likeliest digits, as ``7 (93.1 %), 1 (4.0 %), 9 (1.2 %)``; with the
    ``spread`` of Monte Carlo Dropout, as ``7 (93.1 % ± 2.0), ...``."""
    best = np.argsort(probabilities)[::-1][:3]
    return ", ".join(f"{digit} ({100 * probabilities[digit]:.1f} %"
                     + ("" if spread is None else f" ± {100 * spread[digit]:.1f}") + ")"
                     for digit in best)


# %% How sure is the CNN? Monte Carlo Dropout
# The CNN's Dropout layer drops half of its features at random in training,
# and none at prediction.  Kept on (training=True), every forward pass of the
# same image drops others: PASSES slightly different networks answer.  Their
# mean is the answer; their standard deviation, the spread, says how sure the
# network is (Gal & Ghahramani 2016).  The PASSES copies of the image go
# through the network as one batch: each row of the batch gets its own mask.
PASSES = 30


def how_sure(image, passes=PASSES):
    """``(mean, spread, votes)`` of the CNN's ten probabilities over ``passes`` forward passes
    with Dropout on: their mean, standard deviation, and how many passes chose each digit."""
    batch = np.repeat(np.asarray(image, dtype=np.float32).reshape(1, 28, 28, 1), passes, axis=0)
    outputs = np.asarray(cnn(batch, training=True))
    votes = np.bincount(outputs.argmax(axis=1), minlength=10)
    return outputs.mean(axis=0), outputs.std(axis=0), votes


def how_sure_line(mean, spread, votes, passes=PASSES):
    """One line: the digit most passes chose, in how many, and its probability ± spread."""
    digit = int(votes.argmax())
    return (f"How sure (CNN, Dropout on, {passes} passes): {digit} in {votes[digit]} of "
            f"{passes}, {100 * mean[digit]:.0f} ± {100 * spread[digit]:.0f} % (mean ± std)")


# %% Where does the CNN look? A saliency map
# How strongly the score of the CNN's top digit changes with each input pixel:
# the gradient of that score with respect to the 28x28 input, taken with
# tf.GradientTape (as keras-io's Grad-CAM example does for its heat map).  The
# score is the last layer's input to the softmax: the probability itself is
# flat (its gradient vanishes) where the network is sure.
import tensorflow as tf  # noqa: E402

cnn_features = keras.Model(inputs=cnn.inputs[0], outputs=cnn.layers[-2].output)
cnn_output_layer = cnn.layers[-1]  # Dense(10, activation="softmax")


def saliency(image):
    """``|d score / d pixel|`` of the CNN's top digit for a 28x28 ``image``, largest 1."""
    x = tf.constant(np.asarray(image, dtype=np.float32).reshape(1, 28, 28, 1))
    with tf.GradientTape() as tape:
        tape.watch(x)
        features = cnn_features(x, training=False)
        scores = tf.matmul(features, cnn_output_layer.kernel) + cnn_output_layer.bias
        top_score = tf.reduce_max(scores[0])
    gradient = np.abs(np.asarray(tape.gradient(top_score, x)))[0, :, :, 0]
    return gradient / max(gradient.max(), 1e-12)


# %% A folder of photos (--image DIR)
# One line per picture: each network's top digit and probability, and the
# CNN's spread.  Where the file names begin with the digit, the accuracy of
# both networks, with MNIST's preprocessing and without it: what it is worth.
def classify_folder(paths):
    """Print one line per file and the accuracies; return the number of files that failed."""
    failed, right, labelled = 0, {}, 0
    for path in paths:
        try:
            _, ink, _ = read_photo(path)
        except UserError as error:
            print(f"{path.name}: skipped: {error}")
            failed += 1
            continue
        label = label_in_name(path)
        line = [path.name + (f" (label {label})" if label is not None else "") + ":"]
        other = mnist_input if args.no_preprocessing else as_is_input
        for way, prepare_image in (("as chosen", prepare), ("other", other)):
            image = prepare_image(ink)
            mlp_probabilities, cnn_probabilities = answers(image)
            if way == "as chosen":
                mean, spread, _ = how_sure(image)
                best = int(cnn_probabilities.argmax())
                line.append(f"MLP {mlp_probabilities.argmax()} "
                            f"({100 * mlp_probabilities.max():.1f} %), CNN {best} "
                            f"({100 * cnn_probabilities[best]:.1f} %, Dropout on "
                            f"{100 * mean[best]:.0f} ± {100 * spread[best]:.0f} % mean ± std)")
            if label is not None:
                for name, probabilities in (("MLP", mlp_probabilities),
                                            ("CNN", cnn_probabilities)):
                    right[way, name] = right.get((way, name), 0) + int(
                        probabilities.argmax() == label)
        labelled += label is not None
        print(" ".join(line))
    if labelled:
        def accuracies(way):
            return ", ".join(f"{name} {right[way, name] / labelled:.2f}" for name in ("MLP", "CNN"))

        chosen, other = (("without MNIST's preprocessing", "with it") if args.no_preprocessing
                         else ("with MNIST's preprocessing", "without it (--no-preprocessing)"))
        print(f"Accuracy on the {labelled} files whose name gives the digit: "
              f"{accuracies('as chosen')} {chosen}; {accuracies('other')} {other}.")
    else:
        print("No file name gives the digit (7_anything.png, digit_7_*.png): no accuracy.")
    if failed:
        print(f"{failed} of {len(paths)} files could not be read (see above).")
    return failed


if folder is not None:
    files_failed = classify_folder(photo_paths)
    sys.exit(runtime.EXIT_USER_ERROR if files_failed else 0)  # no window for a folder


# %% The window: the digit, what the networks see, and their answers
# On the left the drawing pad (or the photo), in the middle the 28x28 input
# the networks get, on the right their probabilities for the ten digits.
PAD = 280        # the pad has 280x280 pixels, ten times MNIST's
PEN_RADIUS = 13  # a stroke is about as wide, relative to the digit, as in MNIST

pad = np.zeros((PAD, PAD), dtype=np.float32)  # the drawing: 0 = paper, 1 = ink
fig = plotting.pyplot().figure(figsize=(12, 5.5))  # imports matplotlib, choosing its backend
from matplotlib.widgets import Button, CheckButtons, RadioButtons  # noqa: E402

pad_ax = fig.add_axes([0.03, 0.17, 0.33, 0.72])
input_ax = fig.add_axes([0.39, 0.42, 0.19, 0.42])
bars_ax = fig.add_axes([0.66, 0.2, 0.32, 0.64])
if args.image is None:
    pad_picture = pad_ax.imshow(pad, cmap="gray_r", vmin=0, vmax=1)
    pad_ax.set_title("Draw a digit (left mouse button)")
    pad_ax.set_navigate(False)  # zoom and pan of the toolbar leave the pad alone
    # The buttons under the pad (they act in the cell "Drawing with the mouse").
    clear_button = Button(fig.add_axes([0.05, 0.04, 0.1, 0.07]), "Clear")
    fig.text(0.19, 0.075, "pen:", ha="right", va="center")
    pen_buttons = RadioButtons(fig.add_axes([0.2, 0.01, 0.12, 0.13]), ("draw", "erase"))
    preprocessing_button = CheckButtons(fig.add_axes([0.39, 0.04, 0.2, 0.08]),
                                        ["MNIST preprocessing"], [not args.no_preprocessing])
else:
    pad_ax.imshow(photo)
    pad_ax.set_title(Path(args.image).name)
pad_ax.set_xticks([])
pad_ax.set_yticks([])
input_picture = input_ax.imshow(np.zeros((SIDE, SIDE)), cmap="gray_r", vmin=0, vmax=1,
                                interpolation="nearest")
# The saliency map over it: red, as opaque as the pixel matters to the CNN's top digit.
saliency_picture = input_ax.imshow(np.zeros((SIDE, SIDE, 4)), interpolation="nearest")
input_ax.set_title("What the networks see: 28x28")
input_ax.set_xticks([])
input_ax.set_yticks([])
PREPARED = {mnist_input: "bounding box fitted into 20x20,\ncentred by its centre of mass",
            as_is_input: "the whole picture shrunk to 28x28\n(no MNIST preprocessing)"}
input_caption = input_ax.text(0.5, -0.03, PREPARED[prepare] + "\nred: where the CNN looks "
                              "(saliency)", transform=input_ax.transAxes, ha="center",
                              va="top", fontsize="small")
digits = np.arange(10)
mlp_bars = bars_ax.bar(digits - 0.2, np.zeros(10), width=0.4, label="MLP (no Dropout: no spread)")
cnn_bars = bars_ax.bar(digits + 0.2, np.zeros(10), width=0.4, label="CNN")
# The error bars: the CNN's mean (a dash) ± std (a line) over PASSES passes with Dropout on.
spread_lines = bars_ax.vlines(digits + 0.2, np.zeros(10), np.zeros(10), color="black",
                              linewidth=1.5, zorder=3)
mean_marks, = bars_ax.plot(digits + 0.2, np.full(10, np.nan), "_", color="black",
                           markersize=9, markeredgewidth=2, zorder=3,
                           label=f"CNN, Dropout on: mean ± std\nof {PASSES} passes")
bars_ax.set_xticks(digits)
bars_ax.set_ylim(0, 1.45)  # room for the legend above the highest bar
bars_ax.set_yticks(np.linspace(0, 1, 6))
bars_ax.set_xlabel("digit")
bars_ax.set_ylabel("probability (softmax output)")
bars_ax.legend(loc="upper center", fontsize="small")
bars_title = bars_ax.set_title("Draw a digit")
how_sure_text = fig.text(0.98, 0.03, "", ha="right", va="bottom", fontsize="small")


def show_answers(ink, prepare_image=None):
    """Prepare ``ink`` (as MNIST's digits, or as it is), ask both networks, and update the
    28x28 image, the bars, the CNN's spread and the "how sure" line (not the saliency map)."""
    image = (prepare_image or prepare)(ink)
    input_picture.set_data(image)
    if not image.any():
        mlp_probabilities = cnn_probabilities = mean = spread = np.zeros(10)
        bars_title.set_text("Draw a digit")
        how_sure_text.set_text("")
    else:
        mlp_probabilities, cnn_probabilities = answers(image)
        mean, spread, votes = how_sure(image)
        bars_title.set_text(f"MLP: {mlp_probabilities.argmax()} "
                            f"({100 * mlp_probabilities.max():.0f} %)    "
                            f"CNN: {cnn_probabilities.argmax()} "
                            f"({100 * cnn_probabilities.max():.0f} %)")
        how_sure_text.set_text(how_sure_line(mean, spread, votes))
    for bar, probability in zip(mlp_bars, mlp_probabilities):
        bar.set_height(probability)
    for bar, probability in zip(cnn_bars, cnn_probabilities):
        bar.set_height(probability)
    shown = mean > 0  # no dash where all passes gave (next to) nothing
    mean_marks.set_ydata(np.where(shown, mean, np.nan))
    spread_lines.set_segments([[(x, max(0, m - s)), (x, min(1, m + s))]
                               for x, m, s in zip(digits + 0.2, mean, spread)])
    return image, mlp_probabilities, cnn_probabilities, (mean, spread)


def show_saliency(image):
    """Overlay ``image``'s saliency map (none for an empty image); return it."""
    overlay = np.zeros((SIDE, SIDE, 4))
    map_ = saliency(image) if image.any() else np.zeros((SIDE, SIDE))
    overlay[..., 0] = 1  # red
    overlay[..., 3] = 0.85 * map_
    saliency_picture.set_data(overlay)
    return map_


if args.image is not None:
    image, mlp_probabilities, cnn_probabilities, (mean, spread) = show_answers(photo_ink)
    saliency_map = show_saliency(image)
    print(f"MLP: {top3(mlp_probabilities)}  (no Dropout: no spread)")
    print(f"CNN: {top3(cnn_probabilities, spread)}  (± std of {PASSES} passes with Dropout on)")
    print(how_sure_text.get_text())
    figure_name = f"drawDigit_{Path(args.image).stem}"
else:
    image = prepare(pad)
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
# the pen they answer once more, and the saliency map and the feature maps
# (second window) follow.  The box "MNIST preprocessing" switches between the
# two ways of making the 28x28 input.
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


def chosen_preparation():
    """``mnist_input`` where the box "MNIST preprocessing" is ticked, else ``as_is_input``."""
    return mnist_input if preprocessing_button.get_status()[0] else as_is_input


def answer():
    """The networks' answers for the pad as it is now; returns the 28x28 image."""
    pen["answered"] = time.perf_counter()
    return show_answers(pad, chosen_preparation())[0]


def on_press(event):
    if event.inaxes is not pad_ax or event.button != 1:
        return
    pen["down"], pen["last"] = True, None
    saliency_picture.set_data(np.zeros((SIDE, SIDE, 4)))  # until the pen lifts again
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
    show_saliency(image)
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


# A widget of matplotlib 3.7 or later draws its new state by blitting, unseen by
# the copy of the rest of the window kept for blitting here: after a click on one,
# the whole window is drawn again (and the copy taken again) once.
def on_pen(label):
    pen["erase"] = label == "erase"
    fig.canvas.draw_idle()


def on_preprocessing(label):
    input_caption.set_text(PREPARED[chosen_preparation()] + "\nred: where the CNN looks "
                           "(saliency)")
    answer_with_feature_maps()
    fig.canvas.draw_idle()


if args.image is None:
    window["changing"] = [pad_picture, input_picture, saliency_picture, input_caption,
                          *mlp_bars, *cnn_bars, spread_lines, mean_marks, bars_title,
                          how_sure_text]
    for artist in window["changing"]:
        artist.set_animated(True)  # left out of full drawings (but not of saved PNGs)
    clear_button.on_clicked(on_clear)
    pen_buttons.on_clicked(on_pen)
    preprocessing_button.on_clicked(on_preprocessing)
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
