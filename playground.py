"""Playground: change a small Keras network and watch its decision boundary learn, live.

The lecture's toy example (tf_intro.py: two Gaussians) grown into a playground
in the manner of TensorFlow Playground, in matplotlib widgets and Keras: four
data sets (the two Gaussians, circle, xor, spiral) with noise and number of
points, or your own points (click on the map, or ``--data FILE``); 0 to 4
hidden layers of 1 to 32 nodes; the activation functions of the lecture's
table (linear, sigmoid, tanh, ReLU, leaky ReLU with slope 0.01, swish);
Dropout; L2 regularization; learning rate (Adam) and batch size; the input
features x1, x2, x1², x2², x1·x2, sin x1, sin x2.  Play / Pause, Step (one
epoch), Reset (new initial weights, the same points).  The map shows the
network's probability of class 1 over the plane with the training (dots),
validation (triangles) and test points (open squares); beside it the
training and validation loss with the diagnosis of overtraining; for one
hidden layer of at most 8 nodes, every hidden node's own map.  The "Code"
button prints the Keras code of the network on screen and saves it: it
trains the same network with numpy, TensorFlow and dnnkit/toydata.py alone.

Your own points: a left click on the map adds a point of the class chosen
under the map (or erases the point under the mouse), a right click adds one
of class 1; the first click starts from the data set shown.  "Clear" removes
them all, "Save points" writes them to a CSV file (``x1,x2,label``), and
``--data FILE`` reads such a file back (``--data FILE --no-show`` trains
without a window).  They are split into training, validation and test
points as the data sets are.

Presets (a button, or ``--preset NAME``), each with what to watch:
gaussians, xor, spiral, overtraining.  Without a window (ssh, CI)
``--preset NAME --epochs N --no-show`` trains, prints the final accuracies
and the diagnosis, and saves the final figure.

Results of the presets, measured with ``python playground.py --preset NAME
--seed SEED --no-show`` (and the change its description asks for as
options) for the seeds 42, 43 and 44 on the project's 2-core test machine
(AMD EPYC, CPU, TensorFlow 2.21, under load from other jobs).  ``--seed``
draws other points as well as other initial weights; Reset draws only other
weights, for the same points.

- gaussians, no hidden layer, 10 epochs: test accuracy 0.929, 0.925, 0.919
  on 1000 test points.  The Bayes limit 0.921 is the accuracy the best
  boundary is expected to reach on new points; one test set of 1000 points
  scatters around it by +-0.009 (one standard deviation), so a run can land
  a little above it;
- xor, one hidden layer of 8 tanh nodes, 40 epochs: 1.000, 0.988, 1.000;
  with ``--hidden 0`` 0.512, 0.500, 0.688: a straight line, near chance;
- spiral, 3 hidden layers of 12 tanh nodes, 150 epochs: 0.944, 0.975, 0.950
  (the loss has spikes); with ``--hidden 12`` (one layer) 0.594, 0.637, 0.744;
- overtraining, 3 x 32 ReLU nodes on 120 training points, 200 epochs: with
  seed 42 the validation loss is lowest (0.477) after epoch 71 and ends at
  0.863 while the training loss falls to 0.001 (overtraining); with seed 44
  likewise (0.581 after epoch 95, 1.317 at the end); with seed 43 it did not
  overtrain (lowest 0.002 after epoch 178, still 0.002 at the end).  With
  ``--dropout 0.2`` the validation loss ended at 0.374, 0.170 and 2.300:
  lower than without Dropout with seed 42, higher with 43 and 44.  On 40
  validation points one run decides little.

Speed: see benchmarks/README.md (``python benchmarks/bench_playground.py``:
epochs a second with the default 2 x 8 network and the map redrawn after
every epoch).

Run ``python playground.py --help`` for the options.
"""

# %% Set-up
# The options are read first, before TensorFlow is imported, so that --help
# answers at once.  The network's settings start from the defaults (a 2 x 8
# ReLU network on the two Gaussians), then a preset's, then the options given.
import argparse

import numpy as np

from dnnkit import plotting, runtime, toydata, training

OWN_POINTS = "your points"  # the data set of your own points, next to toydata.NAMES
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
                    "x1 + x2 = 0 and the test accuracy come to the Bayes limit 0.921 within "
                    "a few epochs. The limit is the accuracy the best boundary is expected "
                    "to reach on new points: no network does better on average, but one "
                    "test set of 1000 points scatters around it by about 0.01 either way."),
    "xor": dict(
        settings={"dataset": "xor", "noise": 0.3, "points": 400, "layers": 1,
                  "nodes": [8, 8, 8, 8], "activation": "tanh", "learning_rate": 0.03},
        epochs=40,
        description="xor needs a hidden layer: with one layer of 8 nodes the test accuracy "
                    "passes 0.95, and each node's map shows the line it draws. Then drag "
                    "'hidden layers' to 0 and Play: a straight line cannot separate xor, "
                    "the accuracy stays near chance (0.5 to 0.7). (Or tick x1·x2: one feature "
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
                    "training points by heart. Watch the validation loss turn up while "
                    "the training loss keeps falling, and the map draw fingers around "
                    "single points. Then set Dropout to 0.2 and Play again. Reset draws "
                    "other initial weights: with 40 validation points one run decides "
                    "little; overtrainingStudy.py judges Dropout over several seeds."),
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
parser.add_argument("--data", metavar="FILE",
                    help="your own points: a CSV file of lines x1,x2,label (label 0 or 1), "
                         "as the 'Save points' button writes it")
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
if args.data and (args.dataset or args.points or args.noise is not None):
    parser.error("--data gives the points: leave out --dataset, --points and --noise")
# Your points are read now, so that a file that cannot be used is said at once.
own_points = toydata.load_points(args.data) if args.data else None

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
if args.data:
    settings["dataset"] = OWN_POINTS
headless_epochs = args.epochs or (PRESETS[args.preset]["epochs"] if args.preset
                                  else HEADLESS_EPOCHS)
tf = runtime.setup_tensorflow(args)  # prints the device and seeds TensorFlow
from tensorflow import keras  # noqa: E402


# %% Data
# The points come from dnnkit/toydata.py, in random order, or from your file
# (put in random order by --seed): the first 60 % are the training points,
# the next 20 % the validation points (the loss curve's second line), the
# last 20 % the test points (the accuracy on points never used in training).
def make_points(settings, seed):
    """``(x, y)``: the points of a built-in data set, in random order."""
    return toydata.make_data(settings["dataset"], settings["points"], settings["noise"],
                             seed=seed)


def split(count):
    """The parts of ``count`` points in random order: training, validation, test."""
    train_end = int(SPLIT[0] * count)
    validation_end = int((SPLIT[0] + SPLIT[1]) * count)
    return {"train": slice(0, train_end), "validation": slice(train_end, validation_end),
            "test": slice(validation_end, None)}


if args.data:
    order = np.random.default_rng(args.seed).permutation(len(own_points[1]))
    x, y = own_points[0][order], own_points[1][order]
    print(f"Your points from {args.data}: {len(y)} points, {int(y.sum())} of class 1")
else:
    x, y = make_points(settings, args.seed)
    print(f"{settings['dataset']}: {len(y)} points, noise {settings['noise']:g}")
parts = split(len(y))
print(", ".join(f"{part} {len(y[parts[part]])}" for part in parts))


# %% Input features
# The network does not see the point (x1, x2) itself but the input features
# ticked, each computed from x1 and x2: x1² + x2² makes a circle a straight
# cut, x1·x2 makes xor one.
def input_features(x, names):
    return np.column_stack([FEATURES[name][2](x[:, 0], x[:, 1])
                            for name in names]).astype("float32")


print("Input features:", ", ".join(FEATURES[name][0] for name in settings["features"]))


# %% The network
# The network is described once, as a list of Keras layers, each (its class
# in keras.layers, its arguments, its keyword arguments): the same list
# builds the model here and writes the Keras code of the "Code" button.
# Hidden layers of the chosen activation (leaky ReLU is a layer of its own:
# TensorFlow 2.4 has no activation of that name), each followed by Dropout
# when its rate is above 0, and one sigmoid output node: the probability of
# class 1.  L2 regularization adds strength * (sum of the squared weights)
# to the loss.  The same seed gives the same initial weights.
def network_layers(settings):
    l2 = {"kernel_regularizer": settings["l2"]} if settings["l2"] > 0 else {}  # L2 strength
    layers = []
    for index, nodes in enumerate(settings["nodes"][:settings["layers"]]):
        name = f"hidden_{index + 1}"
        if settings["activation"] == "leaky_relu":
            layers.append(("Dense", (nodes,), {**l2, "name": name}))
            layers.append(("LeakyReLU", (LEAKY_SLOPE,), {"name": f"{name}_leaky"}))
        else:
            layers.append(("Dense", (nodes,), {"activation": settings["activation"], **l2,
                                               "name": name}))
        if settings["dropout"] > 0:
            layers.append(("Dropout", (settings["dropout"],), {"name": f"{name}_dropout"}))
    layers.append(("Dense", (1,), {"activation": "sigmoid", **l2, "name": "output"}))
    return layers


def make_layer(kind, arguments, keywords):
    if "kernel_regularizer" in keywords:
        keywords = {**keywords,
                    "kernel_regularizer": keras.regularizers.l2(keywords["kernel_regularizer"])}
    return getattr(keras.layers, kind)(*arguments, **keywords)


def build_network(settings, seed):
    runtime.set_seed(seed)
    model = keras.Sequential([keras.Input(shape=(len(settings["features"]),)),
                              *[make_layer(*layer) for layer in network_layers(settings)]],
                             name="playground")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=settings["learning_rate"]),
                  loss="binary_crossentropy", metrics=["accuracy"],
                  # Speed only: the same batches, 32 of them per call into TensorFlow.
                  **training.speed_options(steps_per_execution=32))
    return model


for layer in network_layers(settings):
    print(layer)
model = build_network(settings, args.seed)
model.summary()


# %% Training, one epoch at a time
# model.fit for one epoch per Step (without a window, for a fifth of the
# epochs per call).  The points are handed over as tf.data data sets, made
# once per network: shuffled anew every epoch and cut into batches, as
# model.fit(x, y, batch_size=..., shuffle=True) would do; a call with numpy
# arrays would rebuild them every epoch, which takes longer than the epoch.
def training_batches(features, y, parts, batch_size, seed):
    train, validation = parts["train"], parts["validation"]
    train_batches = (tf.data.Dataset.from_tensor_slices((features[train], y[train]))
                     .shuffle(len(y[train]), seed=seed).batch(batch_size))
    validation_batches = tf.data.Dataset.from_tensor_slices(
        (features[validation], y[validation])).batch(1024)
    return train_batches, validation_batches


def train_epochs(model, batches, epoch, count):
    """Train from epoch ``epoch`` for ``count`` epochs; the history of these epochs."""
    train_batches, validation_batches = batches
    result = model.fit(train_batches, epochs=epoch + count, initial_epoch=epoch, verbose=0,
                       validation_data=validation_batches,
                       shuffle=False)  # the data set shuffles itself
    return result.history


features = input_features(x, settings["features"])
history = train_epochs(model, training_batches(features, y, parts, settings["batch_size"],
                                               args.seed), 0, 1)
print(f"One epoch: training loss {history['loss'][0]:.4f}, "
      f"validation loss {history['val_loss'][0]:.4f}")


# %% The Keras code of the network
# The "Code" button prints the Keras code that builds and trains the network
# now on screen and saves it into the output folder: the layers written from
# the same list as the model.  It needs only numpy, TensorFlow and
# dnnkit/toydata.py (and your points, saved beside it).
def layer_code(kind, arguments, keywords):
    def value(name, item):
        if name == "kernel_regularizer":
            return f"keras.regularizers.l2({item!r})"
        return f'"{item}"' if isinstance(item, str) else repr(item)

    words = [value(None, item) for item in arguments]
    words += [f"{name}={value(name, item)}" for name, item in keywords.items()]
    return f"keras.layers.{kind}({', '.join(words)})"


def keras_code(settings, data_seed, weight_seed, epochs, count, points_file=None, note=""):
    parts = split(count)
    train_end, validation_end = parts["train"].stop, parts["validation"].stop
    if points_file is None:
        points = (f"# The playground's points, in random order: 60 % training, 20 % "
                  f"validation, 20 % test.\n"
                  f"x, y = make_data(\"{settings['dataset']}\", points={settings['points']}, "
                  f"noise={settings['noise']:g}, seed={data_seed})")
        imports = "from dnnkit.toydata import make_data"
    else:
        points = (f"# Your points, saved beside this file in the playground's random order: "
                  f"60 % training,\n# 20 % validation, 20 % test.\n"
                  f"x, y = load_points(Path(__file__).with_name(\"{points_file}\"))")
        imports = "from pathlib import Path\n\nfrom dnnkit.toydata import load_points"
    layers = "\n".join(f"    {layer_code(*layer)}," for layer in network_layers(settings))
    feature_code = ", ".join(FEATURES[name][1] for name in settings["features"])
    return f'''"""The playground's network as Keras code: {describe(settings)}.

{note}It needs numpy, TensorFlow and dnnkit/toydata.py: run it in the project
folder (the one that holds dnnkit/), e.g.  PYTHONPATH=. python {{path}}
"""
import numpy as np
import tensorflow as tf
from tensorflow import keras

{imports}

{points}
# The input features the network sees, computed from the point (x1, x2).
x1, x2 = x[:, 0], x[:, 1]
features = np.column_stack([{feature_code}]).astype("float32")
x_train, y_train = features[:{train_end}], y[:{train_end}]
x_val, y_val = features[{train_end}:{validation_end}], y[{train_end}:{validation_end}]
x_test, y_test = features[{validation_end}:], y[{validation_end}:]

# The same initial weights as in the playground.
if hasattr(keras.utils, "set_random_seed"):  # TensorFlow 2.7 and later
    keras.utils.set_random_seed({weight_seed})
    if hasattr(keras, "ops"):  # Keras 3: with TensorFlow's seed set, fit would feed
        tf.random.set_seed(None)  # every epoch the same batch order; now a new one
else:  # TensorFlow 2.4 to 2.6
    tf.random.set_seed({weight_seed})

model = keras.Sequential([
    keras.Input(shape=({len(settings['features'])},)),
{layers}
])
model.compile(optimizer=keras.optimizers.Adam(learning_rate={settings['learning_rate']!r}),
              loss="binary_crossentropy", metrics=["accuracy"])
model.summary()
history = model.fit(x_train, y_train, epochs={epochs}, batch_size={settings['batch_size']},
                    validation_data=(x_val, y_val), verbose=2)
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"Test accuracy: {{test_accuracy:.4f}}")
'''


def describe(settings):
    hidden = settings["nodes"][:settings["layers"]]
    data = (OWN_POINTS if settings["dataset"] == OWN_POINTS else
            f"{settings['dataset']} ({settings['points']} points, noise {settings['noise']:g})")
    return (f"{data}, features {','.join(settings['features'])}, hidden layers "
            f"{hidden or 'none'}, {settings['activation']}, Dropout {settings['dropout']:g}, "
            f"L2 {settings['l2']:g}, learning rate {settings['learning_rate']:g}, "
            f"batch size {settings['batch_size']}")


for layer in network_layers(settings):
    print(layer_code(*layer))

# %% The window
# dnnkit/playground.py draws it and calls the functions above: a new network
# for every change of a control, one epoch of training per frame while it
# plays.  Without a window (--no-show, ssh, CI, a notebook), the network
# trains for --epochs epochs in five calls of model.fit, and the final
# figure is saved.
from dnnkit.playground import Lesson, Playground  # noqa: E402

lesson = Lesson(make_points=make_points, split=split, input_features=input_features,
                build_network=build_network, training_batches=training_batches,
                train_epochs=train_epochs, keras_code=keras_code, describe=describe,
                features={name: label for name, (label, _, _) in FEATURES.items()},
                activations=ACTIVATIONS, learning_rates=LEARNING_RATES,
                l2_strengths=L2_STRENGTHS, max_layers=MAX_LAYERS, max_nodes=MAX_NODES,
                max_batch_size=MAX_BATCH_SIZE, points_range=(MIN_POINTS, MAX_POINTS),
                defaults=DEFAULTS, presets=PRESETS, own_points=OWN_POINTS)
window = not args.no_show and plotting.can_show()
playground = Playground(lesson, settings, seed=args.seed, preset=args.preset,
                        own_points=(x, y) if args.data else None, outdir=args.outdir,
                        epochs=headless_epochs,
                        notebook=runtime.launched_as_notebook_kernel() and not window)
if not args.no_show and not window:
    print(f"The playground needs a window, and matplotlib has none here: run it at the lab "
          f"machine's desktop or over ssh -X, in a notebook with ipympl (pip install ipympl), "
          f"or give --no-show; now training {headless_epochs} epochs without one.")
if window:
    print("Press Play (or Step) in the window; the other controls rebuild the network; "
          "click on the map to add your own points.")
    plotting.show()
else:
    while playground.epoch < headless_epochs and not playground.diverged:
        playground.train(min(-(-headless_epochs // 5), headless_epochs - playground.epoch))
        print(f"Epoch {playground.epoch}: training loss {playground.history['loss'][-1]:.4f}, "
              f"validation loss {playground.history['val_loss'][-1]:.4f}, "
              f"test accuracy {playground.test_accuracy:.4f}")
    history = playground.history
    if playground.diverged:
        print(playground.message)
    print(f"Final training accuracy {history['accuracy'][-1]:.4f}, validation accuracy "
          f"{history['val_accuracy'][-1]:.4f}, test accuracy {playground.test_accuracy:.4f}.")
    print(playground.diagnosis.verdict)
    print(f"Test accuracy: {playground.test_accuracy:.4f}")
    fig = playground.final_figure()
    plotting.save_figure(fig, f"playground_{args.preset}" if args.preset else "playground",
                         args.outdir)
    if runtime.launched_as_notebook_kernel():
        from IPython.display import display  # a notebook shows the figure here

        display(fig)
