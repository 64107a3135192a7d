"""Playground: change a small Keras network and watch its decision boundary learn, live.

The lecture's toy example (tf_intro.py: two Gaussians) grown into a playground
in the manner of TensorFlow Playground, in matplotlib widgets and Keras: four
data sets (the two Gaussians, circle, xor, spiral) with noise and number of
points; 0 to 4 hidden layers of 1 to 32 nodes; the activation functions of
the lecture's table (linear, sigmoid, tanh, ReLU, leaky ReLU with slope 0.01,
swish); Dropout; L2 regularization; learning rate (Adam) and batch size; the
input features x1, x2, x1², x2², x1·x2, sin x1, sin x2.  Play / Pause, Step
(one epoch), Reset (new initial weights).  The map shows the network's
probability of class 1 over the plane with the training (dots), validation
(triangles) and test points (open squares); beside it the training and
validation loss with the diagnosis of overtraining; for one hidden layer of
at most 8 nodes, every hidden node's own map.  The "Code" button prints the
Keras code of the network on screen and saves it: it trains the same network
with numpy, TensorFlow and dnnkit/toydata.py alone.

Presets (a button, or ``--preset NAME``), each with what to watch:
gaussians, xor, spiral, overtraining.  Without a window (ssh, CI)
``--preset NAME --epochs N --no-show`` trains, prints the final accuracies
and the diagnosis, and saves the final figure.

Results of the presets, measured with ``python playground.py --preset NAME
--no-show`` (and the change its description asks for as options) on the
project's 2-core test machine (Intel Xeon, CPU, TensorFlow 2.21, under load
from other jobs):

- gaussians, no hidden layer, 10 epochs: test accuracy 0.929 on 1000 test
  points, 0.008 from the Bayes limit 0.921 (the spread of an accuracy on
  1000 points is +-0.009);
- xor, one hidden layer of 8 tanh nodes, 40 epochs: test accuracy 1.000;
  with ``--hidden 0`` 0.512, chance;
- spiral, 3 hidden layers of 12 tanh nodes, 150 epochs: test accuracy 0.988;
  with ``--hidden 12`` (one layer) 0.594;
- overtraining, 3 x 32 ReLU nodes on 120 training points, 200 epochs: the
  validation loss is lowest (0.477) after epoch 71 and rises 79 % by epoch
  200 while the training loss falls: overtraining; test accuracy 0.875.
  With ``--dropout 0.2``: lowest 0.255 after epoch 150, 0.370 at the end
  (still 45 % above its lowest: the diagnosis still says overtraining, on 40
  validation points), test accuracy 0.900.  Other seeds differ: with
  ``--seed 43`` the network without Dropout did not overtrain at all (lowest
  validation loss 0.002 after epoch 187), and with Dropout 0.2 it ended at
  about 0.18, higher.  One run on 200 points decides little.

Speed: 5.1 epochs a second (median of 5 series of 20) with the default 2 x 8
network and the map redrawn after every epoch, 5.4 on the lab floor
(TensorFlow 2.4), at a load of 3-5 on the 2 cores; 1.8-3.1 at a load of
7-14, where one epoch still takes about 0.2 s of CPU time; measured with
``python benchmarks/bench_playground.py`` (benchmarks/README.md).

Run ``python playground.py --help`` for the options.
"""

# %% Set-up
# The options are read first, before TensorFlow is imported, so that --help
# answers at once.  The network's settings start from the defaults (a 2 x 8
# ReLU network on the two Gaussians), then a preset's, then the options given.
import argparse
import textwrap
from types import SimpleNamespace

import numpy as np

from dnnkit import plotting, runtime, toydata, training
from dnnkit.errors import UserError

ACTIVATIONS = ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "swish")
LEAKY_SLOPE = 0.01  # leaky ReLU's slope for z < 0, as in the lecture's table
#: The input features, each computed from the point (x1, x2): name -> (label, formula, function).
FEATURES = {"x1": ("x1", "x1", lambda x1, x2: x1),
            "x2": ("x2", "x2", lambda x1, x2: x2),
            "x1sq": ("x1²", "x1 ** 2", lambda x1, x2: x1 ** 2),
            "x2sq": ("x2²", "x2 ** 2", lambda x1, x2: x2 ** 2),
            "x1x2": ("x1·x2", "x1 * x2", lambda x1, x2: x1 * x2),
            "sinx1": ("sin x1", "np.sin(x1)", lambda x1, x2: np.sin(x1)),
            "sinx2": ("sin x2", "np.sin(x2)", lambda x1, x2: np.sin(x2))}
LEARNING_RATES = (0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3)
L2_STRENGTHS = (0.0, 1e-5, 1e-4, 1e-3, 1e-2, 0.1)
MAX_LAYERS, MAX_NODES, MAX_BATCH_SIZE = 4, 32, 128
MIN_POINTS, MAX_POINTS = 50, 5000
SPLIT = (0.6, 0.2, 0.2)  # training, validation, test
BAYES_LIMIT = 0.9214  # Phi(sqrt 2): two Gaussians of spread 1 (noise 0.5), see tf_intro.py
DEFAULTS = {"dataset": "gaussians", "noise": 0.5, "points": 400, "layers": 2,
            "nodes": [8, 8, 8, 8], "activation": "relu", "dropout": 0.0, "l2": 0.0,
            "learning_rate": 0.01, "batch_size": 10, "features": ["x1", "x2"]}
PRESETS = {
    "gaussians": dict(
        settings={"dataset": "gaussians", "noise": 0.5, "points": 5000, "layers": 0,
                  "learning_rate": 0.03, "batch_size": 64},
        epochs=10,
        description="tf_intro's two Gaussians and a network without hidden layer: one "
                    "sigmoid node, a straight boundary. Watch the boundary settle along "
                    "x1 + x2 = 0 and the test accuracy reach the Bayes limit 0.921 within "
                    "a few epochs: no network can do better on these points."),
    "xor": dict(
        settings={"dataset": "xor", "noise": 0.3, "points": 400, "layers": 1,
                  "nodes": [8, 8, 8, 8], "activation": "tanh", "learning_rate": 0.03},
        epochs=40,
        description="xor needs a hidden layer: with one layer of 8 nodes the test accuracy "
                    "passes 0.95, and each node's map shows the line it draws. Then drag "
                    "'hidden layers' to 0 and Play: a straight line cannot separate xor, "
                    "the accuracy stays near chance (0.5). (Or tick x1·x2: one feature "
                    "does it without a hidden layer.)"),
    "spiral": dict(
        settings={"dataset": "spiral", "noise": 0.3, "points": 800, "layers": 3,
                  "nodes": [12, 12, 12, 12], "activation": "tanh", "learning_rate": 0.01,
                  "batch_size": 16},
        epochs=150,
        description="The spiral needs depth: three layers of 12 tanh nodes wind their "
                    "boundary around the arms. Then drag 'hidden layers' to 1 and "
                    "Reset: one layer of 12 nodes only cuts the plane into a few "
                    "straight pieces and stays far below."),
    "overtraining": dict(
        settings={"dataset": "spiral", "noise": 0.3, "points": 200, "layers": 3,
                  "nodes": [32, 32, 32, 32], "activation": "relu", "learning_rate": 0.01,
                  "batch_size": 10},
        epochs=200,
        description="Too many nodes for too few points: 3 x 32 ReLU nodes learn the 120 "
                    "training points by heart. Watch the validation loss turn up after "
                    "some 70 epochs while the training loss keeps falling, and the map "
                    "draw fingers around single points. Then set Dropout to 0.2 (the "
                    "network is rebuilt) and Play again: with the default seed the "
                    "validation loss falls lower and ends at less than half of where it "
                    "ended without Dropout. Reset draws other initial weights: on 40 "
                    "validation points the outcome varies from seed to seed, so judge "
                    "Dropout over several seeds (overtrainingStudy.py)."),
}
HEADLESS_EPOCHS = 100  # without a preset


# The types of the options: each turns an option's text into its value, or
# says what was expected (argparse prints it as one line, exit code 2).
def hidden_layers(text):
    words = [] if text.strip() in ("", "0", "none") else text.split(",")
    nodes = [int(word) if word.strip().isdigit() else 0 for word in words]
    if len(nodes) > MAX_LAYERS or not all(1 <= n <= MAX_NODES for n in nodes):
        raise argparse.ArgumentTypeError(f"expected up to {MAX_LAYERS} numbers of nodes from 1 to {MAX_NODES} "
                         f"separated by commas (e.g. 8,8; 0 for none), got {text!r}")
    return nodes


def feature_names(text):
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names or not set(names) <= set(FEATURES):
        raise argparse.ArgumentTypeError(f"expected some of {','.join(FEATURES)} separated by commas, "
                         f"got {text!r}")
    return names


def share(text):
    value = runtime.finite_float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1, got {text}")
    return value


def point_count(text):
    value = runtime.positive_int(text)
    if not MIN_POINTS <= value <= MAX_POINTS:
        raise argparse.ArgumentTypeError(f"must be from {MIN_POINTS} to {MAX_POINTS}, got {text}")
    return value


def batch_size(text):
    value = runtime.positive_int(text)
    if not 1 <= value <= MAX_BATCH_SIZE:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_BATCH_SIZE}, got {text}")
    return value


parser = runtime.make_parser(__doc__, cpu=True)
parser.add_argument("--preset", choices=PRESETS, help="start from a preset (see the header)")
parser.add_argument("--dataset", choices=toydata.NAMES, help="data set (default: gaussians)")
parser.add_argument("--noise", type=share, help="noise, 0 to 1 (default: 0.5)")
parser.add_argument("--points", type=point_count,
                    help=f"number of points, {MIN_POINTS} to {MAX_POINTS} (default: 400)")
parser.add_argument("--hidden", type=hidden_layers, metavar="N,N",
                    help="nodes of each hidden layer, e.g. 8,8 (default), or 0 for none")
parser.add_argument("--activation", choices=ACTIVATIONS, help="of the hidden nodes (default: relu)")
parser.add_argument("--dropout", type=runtime.dropout_rate,
                    help="Dropout rate after every hidden layer (default: 0)")
parser.add_argument("--l2", type=float, choices=L2_STRENGTHS, help="L2 strength (default: 0)")
parser.add_argument("--learning-rate", type=float, choices=LEARNING_RATES,
                    help="of the Adam optimizer (default: 0.01)")
parser.add_argument("--batch-size", type=batch_size,
                    help=f"1 to {MAX_BATCH_SIZE} (default: 10)")
parser.add_argument("--features", type=feature_names, metavar="F,F",
                    help=f"input features, some of {','.join(FEATURES)} (default: x1,x2)")
parser.add_argument("--epochs", type=runtime.positive_int,
                    help=f"epochs to train without a window (default: the preset's, else "
                         f"{HEADLESS_EPOCHS}); in a window, press Play")
args = runtime.parse_args(parser)  # also seeds Python and numpy

settings = {**DEFAULTS, "nodes": list(DEFAULTS["nodes"])}
if args.preset:
    settings.update(PRESETS[args.preset]["settings"])
for name in ("dataset", "noise", "points", "activation", "dropout", "l2", "learning_rate",
             "batch_size", "features"):
    if getattr(args, name) is not None:
        settings[name] = getattr(args, name)
if args.hidden is not None:
    settings["layers"] = len(args.hidden)
    settings["nodes"][:len(args.hidden)] = args.hidden
headless_epochs = args.epochs or (PRESETS[args.preset]["epochs"] if args.preset
                                  else HEADLESS_EPOCHS)
tf = runtime.setup_tensorflow(args)  # prints the device and seeds TensorFlow
from tensorflow import keras  # noqa: E402

# %% Data
# The points come from dnnkit/toydata.py, in random order: the first 60 % are
# the training points, the next 20 % the validation points (the loss curve's
# second line), the last 20 % the test points (the accuracy on points never
# used in training).
def make_points(settings):
    x, y = toydata.make_data(settings["dataset"], settings["points"], settings["noise"],
                             seed=args.seed)
    train_end = int(SPLIT[0] * len(x))
    validation_end = int((SPLIT[0] + SPLIT[1]) * len(x))
    return {"x": x, "y": y, "train": slice(0, train_end),
            "validation": slice(train_end, validation_end), "test": slice(validation_end, None)}


points = make_points(settings)
print(f"{settings['dataset']}: {len(points['x'])} points, noise {settings['noise']:g}; "
      + ", ".join(f"{part} {len(points['y'][points[part]])}"
                  for part in ("train", "validation", "test")))


# %% Input features
# The network does not see the point (x1, x2) itself but the input features
# ticked, each computed from x1 and x2: x1² + x2² makes a circle a straight
# cut, x1·x2 makes xor one.
def input_features(x, names):
    return np.column_stack([FEATURES[name][2](x[:, 0], x[:, 1])
                            for name in names]).astype("float32")


print("Input features:", ", ".join(FEATURES[name][0] for name in settings["features"]))


# %% The network
# Hidden layers of the chosen activation (leaky ReLU is a layer of its own:
# TensorFlow 2.4 has no activation of that name), each followed by Dropout
# when its rate is above 0, and one sigmoid output node: the probability of
# class 1.  L2 regularization adds strength * (sum of the squared weights) to
# the loss.  The same seed gives the same initial weights.
def build_network(settings, seed):
    runtime.set_seed(seed)
    regularizer = keras.regularizers.l2(settings["l2"]) if settings["l2"] > 0 else None
    layers = [keras.Input(shape=(len(settings["features"]),))]
    for index in range(settings["layers"]):
        leaky = settings["activation"] == "leaky_relu"
        layers.append(keras.layers.Dense(
            settings["nodes"][index], activation=None if leaky else settings["activation"],
            kernel_regularizer=regularizer, name=f"hidden_{index + 1}"))
        if leaky:
            layers.append(keras.layers.LeakyReLU(LEAKY_SLOPE, name=f"hidden_{index + 1}_leaky"))
        if settings["dropout"] > 0:
            layers.append(keras.layers.Dropout(settings["dropout"]))
    layers.append(keras.layers.Dense(1, activation="sigmoid", kernel_regularizer=regularizer,
                                     name="output"))
    model = keras.Sequential(layers, name="playground")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=settings["learning_rate"]),
                  loss="binary_crossentropy", metrics=["accuracy"],
                  # Speed only: the same batches, 32 of them per call into TensorFlow.
                  **training.speed_options(steps_per_execution=32))
    return model


def describe(settings):
    hidden = settings["nodes"][:settings["layers"]]
    return (f"{settings['dataset']} ({settings['points']} points, noise {settings['noise']:g}), "
            f"features {','.join(settings['features'])}, hidden layers {hidden or 'none'}, "
            f"{settings['activation']}, Dropout {settings['dropout']:g}, L2 {settings['l2']:g}, "
            f"learning rate {settings['learning_rate']:g}, batch size {settings['batch_size']}")


state = SimpleNamespace(settings=settings, points=points, weight_seed=args.seed, epoch=0,
                        history={}, playing=False, quiet=False, preset=args.preset,
                        message="", diagnosis=None, test_accuracy=None)
state.model = build_network(settings, state.weight_seed)
state.model.summary()


# %% Training, one epoch at a time
# model.fit for one epoch per Step (without a window, for a fifth of the
# epochs per call).  The points are handed over as tf.data
# data sets, made once per network: shuffled anew every epoch and cut into
# batches, as model.fit(x, y, batch_size=..., shuffle=True) would do; a call
# with numpy arrays would rebuild them every epoch, which takes longer than
# the epoch itself.  The loss and accuracy of every epoch are collected into
# one history, as one model.fit(..., epochs=N) would return it.
def prepare_training():
    """The data sets and hidden-node model of a new network; epoch 0."""
    settings, points = state.settings, state.points
    x = input_features(points["x"], settings["features"])
    y = points["y"]
    train = points["train"]
    state.x_features = x
    state.train_batches = (tf.data.Dataset.from_tensor_slices((x[train], y[train]))
                           .shuffle(len(y[train]), seed=state.weight_seed)
                           .batch(settings["batch_size"]))
    state.validation_batches = tf.data.Dataset.from_tensor_slices(
        (x[points["validation"]], y[points["validation"]])).batch(1024)
    state.epoch, state.history, state.diagnosis = 0, {}, None
    # A second model that shares the first hidden layer: every node's output, for the node maps.
    hidden = [layer for layer in state.model.layers if layer.name.startswith("hidden_1")]
    one_small_layer = settings["layers"] == 1 and settings["nodes"][0] <= 8
    state.node_model = (keras.Model(state.model.inputs[0], hidden[-1].output)
                        if one_small_layer else None)
    measure_test_accuracy()


def measure_test_accuracy():
    test = state.points["test"]
    probability = state.model(state.x_features[test], training=False).numpy()[:, 0]
    state.test_accuracy = float(np.mean((probability > 0.5) == state.points["y"][test]))


def train_epochs(count=1):
    result = state.model.fit(state.train_batches, epochs=state.epoch + count,
                             initial_epoch=state.epoch, verbose=0,
                             validation_data=state.validation_batches,
                             shuffle=False)  # the data set shuffles itself
    for key, values in result.history.items():
        state.history.setdefault(key, []).extend(values)
    state.epoch += count
    measure_test_accuracy()
    state.diagnosis = training.diagnose(state.history)


prepare_training()

# %% The figure
# Left the controls, in the middle the map, right the loss curves and the
# state of training, below the hidden nodes' maps.
plt = plotting.pyplot()
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.widgets import Button, CheckButtons, RadioButtons, Slider  # noqa: E402

fig = plt.figure(figsize=(13.5, 7.6))
if runtime.launched_as_notebook_kernel():
    # A notebook would show the figure under this cell, half built, and close
    # it; it is shown under the last cell instead, where it is saved.
    plt.close(fig)
try:
    fig.canvas.manager.set_window_title("Playground: a small Keras network, live")
except AttributeError:  # a canvas without a window (Agg)
    pass
LIMIT = 5.0  # the map shows the square [-5, 5] x [-5, 5]
GRID_SIZE = 60
grid_values = np.linspace(-LIMIT, LIMIT, GRID_SIZE, dtype="float32")
grid = np.column_stack([a.ravel() for a in np.meshgrid(grid_values, grid_values)])
CLASS_COLORS = np.array([[0.1, 0.25, 0.75, 1.0], [0.8, 0.1, 0.05, 1.0]])  # blue 0, red 1
MARKERS = {"train": ("o", "training"), "validation": ("^", "validation"), "test": ("s", "test")}

map_axes = fig.add_axes([0.34, 0.43, 0.28, 0.5])
probability_image = map_axes.imshow(np.full((GRID_SIZE, GRID_SIZE), 0.5), origin="lower",
                                    extent=(-LIMIT, LIMIT, -LIMIT, LIMIT), cmap="coolwarm",
                                    vmin=0, vmax=1, interpolation="bilinear", alpha=0.6)
scatters = {}
for part, (marker, label) in MARKERS.items():
    scatters[part] = map_axes.scatter(np.zeros(0), np.zeros(0), s=14, marker=marker,
                                      linewidths=0.6)
map_axes.set_xlim(-LIMIT, LIMIT)
map_axes.set_ylim(-LIMIT, LIMIT)
map_axes.set_xlabel("x1")
map_axes.set_ylabel("x2")
map_axes.set_title("probability of class 1 (red) and the points", fontsize=10)
map_axes.legend(handles=[Line2D([], [], marker=marker, linestyle="none", color="black",
                                 markerfacecolor="white" if part == "test" else "grey",
                                 label=label) for part, (marker, label) in MARKERS.items()],
                loc="upper left", fontsize=7, framealpha=0.7)

loss_axes = fig.add_axes([0.69, 0.62, 0.29, 0.31])
training_line, = loss_axes.plot([], [], "o-", markersize=2, label="training loss")
validation_line, = loss_axes.plot([], [], "s--", markersize=2, label="validation loss")
# The best epoch (lowest validation loss) marked as in the other scripts' training curves.
best_line = loss_axes.axvline(1, color="grey", linestyle=":", label="best epoch")
best_marker, = loss_axes.plot([], [], "*", color="black", markersize=9)
loss_axes.set_xlabel("epoch")
loss_axes.set_ylabel("loss")
loss_axes.grid(True, alpha=0.3)
loss_axes.legend(fontsize=7, loc="upper right")
status_text = fig.text(0.665, 0.54, "", fontsize=9, va="top", family="monospace")
description_text = fig.text(0.665, 0.43, "", fontsize=8.5, va="top", wrap=False)

NODE_MAPS = 8
node_axes = [fig.add_axes([0.34 + 0.0805 * index, 0.04, 0.075, 0.135]) for index in range(NODE_MAPS)]
node_images = []
for index, ax in enumerate(node_axes):
    node_images.append(ax.imshow(np.zeros((GRID_SIZE, GRID_SIZE)), origin="lower",
                                 extent=(-LIMIT, LIMIT, -LIMIT, LIMIT), cmap="PuOr_r",
                                 interpolation="bilinear"))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"node {index + 1}", fontsize=8)
node_note = fig.text(0.34, 0.205, "", fontsize=9)


# %% Views
# After every epoch (and every change): the map and the points, the loss
# curves with the diagnosis, the state of training, the hidden nodes' maps.
def show_points():
    points = state.points
    for part, scatter in scatters.items():
        part_x, part_y = points["x"][points[part]], points["y"][points[part]]
        colors = CLASS_COLORS[part_y.astype(int)]
        scatter.set_offsets(part_x)
        if part == "test":  # open squares, in the class's colour
            scatter.set_facecolor("none")
            scatter.set_edgecolor(colors)
        else:
            scatter.set_facecolor(colors)
            scatter.set_edgecolor("white")


def update_views():
    settings = state.settings
    grid_features = input_features(grid, settings["features"])
    probability = state.model(grid_features, training=False).numpy()
    probability_image.set_data(probability.reshape(GRID_SIZE, GRID_SIZE))
    epochs = np.arange(1, state.epoch + 1)
    training_line.set_data(epochs, state.history.get("loss", []))
    validation_line.set_data(epochs, state.history.get("val_loss", []))
    diagnosis = state.diagnosis
    best_line.set_visible(diagnosis is not None)
    best_marker.set_visible(diagnosis is not None)
    if diagnosis is not None:
        best_line.set_xdata([diagnosis.best_epoch, diagnosis.best_epoch])
        best_marker.set_data([diagnosis.best_epoch], [diagnosis.best_val_loss])
    # The loss axes keep their limits while the curves fit in (a change of
    # limits redraws the whole figure): the epochs double, the loss starts at 0.
    highest = max(max(state.history.get("loss", [0.5])), max(state.history.get("val_loss", [0.5])))
    limits_changed = False
    if state.epoch > loss_axes.get_xlim()[1] or state.epoch < loss_axes.get_xlim()[1] / 4:
        loss_axes.set_xlim(0.5, 10 * 2 ** int(np.ceil(np.log2(max(state.epoch, 10) / 10))) + 0.5)
        limits_changed = True
    if not 0.6 * loss_axes.get_ylim()[1] < highest * 1.1 <= loss_axes.get_ylim()[1]:
        loss_axes.set_ylim(0, highest * 1.2)
        limits_changed = True
    history = state.history
    lines = [f"Epoch {state.epoch}"]
    if state.epoch:
        lines.append(f"accuracy  training {history['accuracy'][-1]:.3f}  "
                     f"validation {history['val_accuracy'][-1]:.3f}")
        lines.append(f"          test {state.test_accuracy:.3f}")
    else:
        lines += [f"accuracy  test {state.test_accuracy:.3f} (initial weights)", ""]
    lines.append(f"weights seed {state.weight_seed}")
    status_text.set_text("\n".join(lines))
    verdict = diagnosis.verdict if diagnosis is not None else ""
    preset = f"Preset {state.preset}: {PRESETS[state.preset]['description']}" \
        if state.preset else ""
    description_text.set_text("\n".join(textwrap.fill(text, 62) for text in
                                         (state.message, verdict, preset) if text))
    if state.node_model is None:
        node_note.set_text("Hidden nodes: each node's map is shown for one hidden layer "
                           "of at most 8 nodes.")
        for ax in node_axes:
            ax.set_visible(False)
        return limits_changed
    outputs = state.node_model(grid_features, training=False).numpy()
    node_note.set_text("Hidden nodes: the output of each node of the hidden layer "
                       "(orange high, purple low)")
    for index, (ax, image) in enumerate(zip(node_axes, node_images)):
        ax.set_visible(index < outputs.shape[1])
        if index < outputs.shape[1]:
            image.set_data(outputs[:, index].reshape(GRID_SIZE, GRID_SIZE))
            low, high = float(outputs[:, index].min()), float(outputs[:, index].max())
            image.set_clim(low, high if high > low else low + 1e-6)
    return limits_changed


# Drawing the whole figure, with all its controls, takes longer than an
# epoch.  So the parts that change every epoch are "animated" artists, which
# a full drawing leaves out: after each full drawing its picture is kept, and
# after an epoch only they are drawn anew on top of it and the window updated
# (blitting, as in matplotlib's tutorial "Faster rendering by using blitting").
DYNAMIC = [probability_image, *scatters.values(), training_line, validation_line, best_line,
           best_marker, status_text, description_text, *node_images]
for artist in DYNAMIC:
    artist.set_animated(True)
state.background, state.saving = None, False


def draw_dynamic():
    for artist in DYNAMIC:
        if artist.get_visible() and (artist.axes is None or artist.axes.get_visible()):
            (artist.axes or fig).draw_artist(artist)


def after_full_drawing(event):
    if not state.saving:
        state.background = fig.canvas.copy_from_bbox(fig.bbox)
        draw_dynamic()


fig.canvas.mpl_connect("draw_event", after_full_drawing)


def redraw(full=False):
    limits_changed = update_views()
    if full or limits_changed or state.background is None:
        fig.canvas.draw_idle()
    else:
        fig.canvas.restore_region(state.background)
        draw_dynamic()
        fig.canvas.blit(fig.bbox)


show_points()
limits_changed = update_views()

# %% Controls
# Every control changes one setting; a new setting rebuilds the network (from
# the same initial-weight seed) and starts again at epoch 0, with one line
# that says so.  Play trains one epoch after the other until Pause; Step
# trains one; Reset draws new initial weights (seed --seed + 1, + 2, ...).
def rebuild(change):
    if state.quiet:
        return
    settings = state.settings
    if settings["dataset"] != state.points_settings[0] or \
            (settings["points"], settings["noise"]) != state.points_settings[1:]:
        state.points = make_points(settings)
        state.points_settings = (settings["dataset"], settings["points"], settings["noise"])
        show_points()
    state.model = build_network(settings, state.weight_seed)
    prepare_training()
    state.message = f"Rebuilt the network ({change}): epoch 0."
    print(f"Rebuilt the network ({change}): {describe(settings)}; epoch 0.")
    redraw(full=True)


state.points_settings = (settings["dataset"], settings["points"], settings["noise"])


def change_setting(name, value):
    old = state.settings[name]
    if value == old:
        return
    state.settings[name] = value
    rebuild(f"{name.replace('_', ' ')} {old} -> {value}")


def step(event=None):
    train_epochs(1)
    redraw()


def play(event=None):
    state.playing = not state.playing
    play_button.label.set_text("Pause" if state.playing else "Play")
    if state.playing:
        timer.start()
    else:
        timer.stop()
    fig.canvas.draw_idle()


def play_tick():
    if state.playing:
        step()


def reset(event=None):
    state.weight_seed += 1
    state.model = build_network(state.settings, state.weight_seed)
    prepare_training()
    state.message = f"Reset: new initial weights (seed {state.weight_seed}), epoch 0."
    print(state.message)
    redraw(full=True)


timer = fig.canvas.new_timer(interval=10)
timer.add_callback(play_tick)
# A widget draws the figure when it is made or moved: without a window (Agg)
# at once, a second each time.  So the figure is hidden (not drawn) while the
# controls are made, and while a preset moves them all.
fig.set_visible(False)
play_button = Button(fig.add_axes([0.015, 0.93, 0.05, 0.05]), "Play")
step_button = Button(fig.add_axes([0.07, 0.93, 0.05, 0.05]), "Step")
reset_button = Button(fig.add_axes([0.125, 0.93, 0.05, 0.05]), "Reset")
preset_button = Button(fig.add_axes([0.18, 0.93, 0.07, 0.05]), "Next preset")
code_button = Button(fig.add_axes([0.255, 0.93, 0.05, 0.05]), "Code")
play_button.on_clicked(play)
step_button.on_clicked(step)
reset_button.on_clicked(reset)


def titled_axes(rectangle, title):
    ax = fig.add_axes(rectangle)
    ax.set_title(title, fontsize=9, loc="left")
    return ax


dataset_radio = RadioButtons(titled_axes([0.015, 0.7, 0.085, 0.15], "data set"),
                             toydata.NAMES, active=toydata.NAMES.index(settings["dataset"]))
activation_radio = RadioButtons(titled_axes([0.015, 0.41, 0.085, 0.23], "activation"),
                                ACTIVATIONS, active=ACTIVATIONS.index(settings["activation"]))
feature_checks = CheckButtons(titled_axes([0.015, 0.07, 0.085, 0.28], "input features"),
                              [FEATURES[name][0] for name in FEATURES],
                              [name in settings["features"] for name in FEATURES])
for widget in (dataset_radio, activation_radio, feature_checks):
    for label in widget.labels:
        label.set_fontsize(9)
dataset_radio.on_clicked(lambda label: change_setting("dataset", label))
activation_radio.on_clicked(lambda label: change_setting("activation", label))


def change_features(label):
    if state.quiet:
        return
    chosen = [name for name, ticked in zip(FEATURES, feature_checks.get_status()) if ticked]
    if not chosen:  # the network needs at least one input
        print("The network needs at least one input feature: x1 stays ticked.")
        state.quiet = True
        feature_checks.set_active(0)
        state.quiet = False
        chosen = ["x1"]
    change_setting("features", chosen)


feature_checks.on_clicked(change_features)

SLIDER_ROWS = [0.84 - 0.062 * row for row in range(12)]
sliders = {}


def add_slider(name, row, label, low, high, value, step_size, shown=None):
    ax = fig.add_axes([0.205, SLIDER_ROWS[row], 0.075, 0.03])
    slider = Slider(ax, label, low, high, valinit=value, valstep=step_size)
    slider.label.set_fontsize(9)
    slider.valtext.set_fontsize(9)
    sliders[name] = slider
    if shown is not None:  # the slider runs over the index of a list of values
        slider.valtext.set_text(f"{shown[int(value)]:g}")
    return slider


add_slider("noise", 0, "noise", 0.0, 1.0, settings["noise"], 0.05)
add_slider("points", 1, "points", MIN_POINTS, MAX_POINTS, settings["points"], 50)
add_slider("layers", 2, "hidden layers", 0, MAX_LAYERS, settings["layers"], 1)
for layer in range(MAX_LAYERS):
    add_slider(f"nodes_{layer}", 3 + layer, f"nodes in layer {layer + 1}", 1, MAX_NODES,
               settings["nodes"][layer], 1)
add_slider("dropout", 7, "Dropout rate", 0.0, 0.95, settings["dropout"], 0.05)
add_slider("l2", 8, "L2 strength", 0, len(L2_STRENGTHS) - 1,
           L2_STRENGTHS.index(settings["l2"]), 1, shown=L2_STRENGTHS)
add_slider("learning_rate", 9, "learning rate", 0, len(LEARNING_RATES) - 1,
           LEARNING_RATES.index(settings["learning_rate"]), 1, shown=LEARNING_RATES)
add_slider("batch_size", 10, "batch size", 1, MAX_BATCH_SIZE, settings["batch_size"], 1)


def slider_changed(name):
    def changed(value):
        if name in ("l2", "learning_rate"):
            choices = L2_STRENGTHS if name == "l2" else LEARNING_RATES
            value = choices[int(round(value))]
            sliders[name].valtext.set_text(f"{value:g}")
        elif name in ("points", "layers", "batch_size") or name.startswith("nodes"):
            value = int(round(value))
        else:
            value = round(float(value), 2)
        if name.startswith("nodes"):
            layer = int(name.split("_")[1])
            nodes = list(state.settings["nodes"])
            nodes[layer] = value
            if layer >= state.settings["layers"]:  # a layer not in the network: no rebuild
                state.settings["nodes"] = nodes
                return
            change_setting("nodes", nodes)
        else:
            change_setting(name, value)
    return changed


for name, slider in sliders.items():
    slider.on_changed(slider_changed(name))
fig.set_visible(True)


# %% Presets
# One click (or --preset NAME) sets every control to the preset's values and
# rebuilds the network once; the description says what to watch.
def set_controls(settings):
    """Move every control to ``settings`` without rebuilding (or drawing) after each."""
    state.quiet = True
    fig.set_visible(False)
    dataset_radio.set_active(toydata.NAMES.index(settings["dataset"]))
    activation_radio.set_active(ACTIVATIONS.index(settings["activation"]))
    for index, name in enumerate(FEATURES):
        if feature_checks.get_status()[index] != (name in settings["features"]):
            feature_checks.set_active(index)
    for name in ("noise", "points", "layers", "dropout", "batch_size"):
        sliders[name].set_val(settings[name])
    for layer in range(MAX_LAYERS):
        sliders[f"nodes_{layer}"].set_val(settings["nodes"][layer])
    sliders["l2"].set_val(L2_STRENGTHS.index(settings["l2"]))
    sliders["l2"].valtext.set_text(f"{settings['l2']:g}")
    sliders["learning_rate"].set_val(LEARNING_RATES.index(settings["learning_rate"]))
    sliders["learning_rate"].valtext.set_text(f"{settings['learning_rate']:g}")
    fig.set_visible(True)
    state.quiet = False


def apply_preset(name):
    preset_settings = {**DEFAULTS, "nodes": list(DEFAULTS["nodes"]), **PRESETS[name]["settings"]}
    state.settings = preset_settings
    state.preset = name
    set_controls(preset_settings)
    rebuild(f"preset {name}")
    print(f"Preset {name}: {PRESETS[name]['description']}")


def next_preset(event=None):
    names = list(PRESETS)
    apply_preset(names[(names.index(state.preset) + 1) % len(names) if state.preset else 0])


preset_button.on_clicked(next_preset)
print("Presets:", ", ".join(PRESETS))


# %% The Keras code of the network
# The Code button prints the Keras code that builds and trains the network
# now on screen, and saves it into the output folder.  It needs only numpy,
# TensorFlow and make_data from dnnkit/toydata.py.
def keras_code():
    settings = state.settings
    points = state.points
    train_end, validation_end = points["train"].stop, points["validation"].stop
    epochs = state.epoch or headless_epochs
    regularizer = (f", kernel_regularizer=keras.regularizers.l2({settings['l2']:g})"
                   if settings["l2"] > 0 else "")
    layers = [f"    keras.Input(shape=({len(settings['features'])},)),"]
    for index in range(settings["layers"]):
        nodes = settings["nodes"][index]
        if settings["activation"] == "leaky_relu":
            layers.append(f"    keras.layers.Dense({nodes}{regularizer}),")
            layers.append(f"    keras.layers.LeakyReLU({LEAKY_SLOPE:g}),  # slope for z < 0")
        else:
            layers.append(f"    keras.layers.Dense({nodes}, activation="
                          f"\"{settings['activation']}\"{regularizer}),")
        if settings["dropout"] > 0:
            layers.append(f"    keras.layers.Dropout({settings['dropout']:g}),")
    layers.append(f"    keras.layers.Dense(1, activation=\"sigmoid\"{regularizer}),")
    features = ", ".join(FEATURES[name][1] for name in settings["features"])
    return f'''"""The playground's network as Keras code: {describe(settings)}.

Written by playground.py at epoch {state.epoch} (test accuracy {state.test_accuracy:.4f}
there).  It needs numpy, TensorFlow and dnnkit/toydata.py: run it in the project
folder (the one that holds dnnkit/), e.g.  PYTHONPATH=. python {{path}}
"""
import numpy as np
import tensorflow as tf
from tensorflow import keras

from dnnkit.toydata import make_data

# The playground's points, in random order: 60 % training, 20 % validation, 20 % test.
x, y = make_data("{settings['dataset']}", points={settings['points']}, noise={settings['noise']:g}, seed={args.seed})
# The input features the network sees, computed from the point (x1, x2).
x1, x2 = x[:, 0], x[:, 1]
features = np.column_stack([{features}]).astype("float32")
x_train, y_train = features[:{train_end}], y[:{train_end}]
x_val, y_val = features[{train_end}:{validation_end}], y[{train_end}:{validation_end}]
x_test, y_test = features[{validation_end}:], y[{validation_end}:]

# The same initial weights as in the playground.
if hasattr(keras.utils, "set_random_seed"):  # TensorFlow 2.7 and later
    keras.utils.set_random_seed({state.weight_seed})
else:  # TensorFlow 2.4 to 2.6
    tf.random.set_seed({state.weight_seed})

model = keras.Sequential([
{chr(10).join(layers)}
])
model.compile(optimizer=keras.optimizers.Adam(learning_rate={settings['learning_rate']:g}),
              loss="binary_crossentropy", metrics=["accuracy"])
model.summary()
history = model.fit(x_train, y_train, epochs={epochs}, batch_size={settings['batch_size']},
                    validation_data=(x_val, y_val), verbose=2)
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"Test accuracy: {{test_accuracy:.4f}}")
'''


def save_code(event=None):
    path = args.outdir / "playground_network.py"
    number = 1
    while path.exists():  # never overwrite an earlier one
        number += 1
        path = args.outdir / f"playground_network_{number}.py"
    code = keras_code().replace("{path}", str(path))
    print(code)
    path.write_text(code, encoding="utf-8")
    print(f"Saved {path}")
    state.code_path = path
    return path


code_button.on_clicked(save_code)
print("The Code button prints and saves the network's Keras code.")

# %% Run: in a window, or without one
# In a window, press Play.  Without one (--no-show, ssh, CI, a notebook), the
# network trains for --epochs epochs, and the final figure is saved.
if args.preset:
    state.preset = args.preset
    update_views()
window = not args.no_show and plotting.can_show()
if not args.no_show and not window:
    print(f"The playground needs a window, and matplotlib has none here: run it at the lab "
          f"machine's desktop or over ssh -X (or give --no-show); now training "
          f"{headless_epochs} epochs without one.")
if window:
    print("Press Play (or Step) in the window; the other controls rebuild the network.")
    plotting.show()
else:
    # Five calls of model.fit, each for a fifth of the epochs, with a line after each.
    while state.epoch < headless_epochs:
        train_epochs(min(-(-headless_epochs // 5), headless_epochs - state.epoch))
        print(f"Epoch {state.epoch}: training loss {state.history['loss'][-1]:.4f}, "
              f"validation loss {state.history['val_loss'][-1]:.4f}, "
              f"test accuracy {state.test_accuracy:.4f}")
    history = state.history
    print(f"Final training accuracy {history['accuracy'][-1]:.4f}, validation accuracy "
          f"{history['val_accuracy'][-1]:.4f}, test accuracy {state.test_accuracy:.4f}.")
    print(state.diagnosis.verdict)
    print(f"Test accuracy: {state.test_accuracy:.4f}")
    update_views()
    state.saving = True
    for artist in DYNAMIC:  # a saved figure leaves animated parts out
        artist.set_animated(False)
    plotting.save_figure(fig, f"playground_{state.preset}" if state.preset else "playground",
                         args.outdir)
    if runtime.launched_as_notebook_kernel():
        from IPython.display import display  # a notebook shows the figure here

        display(fig)
