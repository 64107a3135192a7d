"""Simple example using TensorFlow: two Gaussian classes separated by a Keras model.

Lecture slide "simple example using TensorFlow": generate a toy sample of two
normalized Gaussians (unit covariance) with means (-1, -1) and (1, 1); each
sample gets a label (0 or 1); combine them into one data set and plot it
coloured by label; set up a Keras model with the Adam optimizer, binary
cross-entropy as loss and accuracy as metric; fit it with a number of epochs
and a batch size; plot loss and accuracy against the epochs; display the
classification of points in the plane together with the labelled data.

A fifth of the sample is held out as test set.  No classifier can do better
on these two Gaussians than the Bayes limit Phi(sqrt 2) = 0.921.

Result of a full run (the script's defaults, seeds 42 to 46; ``python
reproduce.py --seeds 5``, 2026-12-08, on Intel(R) Xeon(R) Processor (2 CPU
cores), CPU (no GPU visible), TensorFlow 2.21.0, load average 1.7-7.1): test
accuracy 0.9185 (lecture 0.921: consistent, one run, within 0.01). No
overtraining (one run). Accuracy gap (training minus validation, both by
model.evaluate) +0.007. One run is one draw: on another CPU, and on a GPU
every time, it may land within the noise; python reproduce.py --seeds 5
checks. One run takes about 8 s.

Run ``python tf_intro.py --help`` for the options.
"""

# %% Set-up
# The options are read first, before TensorFlow is imported, so that --help
# answers at once.  In a notebook there is no command line: the lecture's
# settings are used (or the options in the environment variable
# DNN_NOTEBOOK_ARGS).
import numpy as np

from dnnkit import plotting, runtime, training
from dnnkit.errors import UserError

parser = runtime.make_parser(__doc__, epochs=10, batch_size=32)
parser.add_argument("--samples", type=runtime.positive_int, default=5000,
                    help="number of samples per class")
args = runtime.parse_args(parser)  # also seeds Python and numpy
MIN_SAMPLES = 10  # per class: enough for a test set and a validation set
if args.samples < MIN_SAMPLES:
    raise UserError(f"argument --samples: must be at least {MIN_SAMPLES}, got {args.samples}")
runtime.setup_tensorflow(args)  # prints the device and seeds TensorFlow
from sklearn.model_selection import train_test_split  # noqa: E402
from tensorflow import keras  # noqa: E402

# %% Data
# Two classes, each a normalized Gaussian (spread 1 in every direction) around
# its mean.  Each sample gets its class, 0 or 1, as label, and both classes
# are combined into one data set.
CLASS_MEANS = ((-1.0, -1.0), (1.0, 1.0))  # class 0, class 1
rng = np.random.default_rng(args.seed)
points = [rng.normal(loc=mean, scale=1.0, size=(args.samples, 2)) for mean in CLASS_MEANS]
labels = [np.full(args.samples, label) for label in range(len(CLASS_MEANS))]
x = np.concatenate(points).astype("float32")
y = np.concatenate(labels).astype("float32")
# A fifth of the samples is held out as test set, looked at only once, at the
# end, with the classes in equal shares (stratify).  The training part comes
# shuffled, so that model.fit's validation split (its last 10 %) holds both classes.
x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, stratify=y,
                                                    random_state=args.seed)
print("x:", x.shape, " y:", y.shape, f" ({args.samples} samples per class)")
print("x_train:", x_train.shape, " y_train:", y_train.shape, " (of which 10 % for validation)")
print("x_test: ", x_test.shape, " y_test: ", y_test.shape)

# %% Figure: the sample, coloured by label
CLASS_COLORS = ("tab:blue", "tab:red")
fig, ax = plotting.subplots(figsize=(6, 6))
for label, color in enumerate(CLASS_COLORS):
    ax.scatter(x[y == label, 0], x[y == label, 1], s=6, color=color, alpha=0.5,
               label=f"class {label} (mean {CLASS_MEANS[label]})")
ax.set_xlabel("x1")
ax.set_ylabel("x2")
ax.set_aspect("equal")
ax.set_title("Toy sample: two Gaussians, coloured by label")
ax.legend(loc="upper left", markerscale=3)
fig.tight_layout()
plotting.save_figure(fig, "tf_intro_sample", args.outdir)

# %% The best possible accuracy: the Bayes limit
# With equal priors and equal spreads, the best boundary is the line
# x1 + x2 = 0 halfway between the means.  Along the direction (1, 1) / sqrt(2)
# the class means lie at -sqrt(2) and +sqrt(2), with spread 1, so a point is
# on the right side with probability Phi(sqrt 2), the cumulative normal
# distribution.  No classifier can do better on average.
from scipy.stats import norm  # noqa: E402

bayes_limit = float(norm.cdf(np.sqrt(2.0)))
# The best boundary on our own test points: they are a finite sample, so it
# scores a little above or below the limit.
best_on_test = float(np.mean((x_test[:, 0] + x_test[:, 1] > 0) == y_test))
spread = np.sqrt(bayes_limit * (1 - bayes_limit) / len(x_test))
print(f"Bayes limit Phi(sqrt 2) = {bayes_limit:.4f}; the best boundary x1 + x2 = 0 scores "
      f"{best_on_test:.4f} on these {len(x_test)} test points (statistical spread "
      f"+- {spread:.4f}).")

# %% Model
# One hidden layer of 8 ReLU nodes, and one sigmoid output node: the
# probability that a point belongs to class 1.
model = keras.Sequential([
    keras.Input(shape=(2,)),
    keras.layers.Dense(8, activation="relu"),
    keras.layers.Dense(1, activation="sigmoid"),
], name="two_gaussians")
model.compile(
    optimizer=keras.optimizers.Adam(),
    loss="binary_crossentropy",
    metrics=["accuracy"],
    # Speed only, the same network and batches: 32 batches per call into TensorFlow.
    **training.speed_options(steps_per_execution=32),
)
model.summary()

# %% Training
# The data and labels are given to the fit method, with the number of epochs
# (passes over the training data) and the batch size.  The last 10 % of the
# training samples are held out to validate the network after every epoch.
monitor = training.monitor()  # times the epochs; Ctrl-C stops after the running batch
history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
                    validation_split=0.1, callbacks=[monitor], verbose=training.verbosity())

# %% Evaluation on the test set
# The test points were never seen in training: their accuracy is the result,
# to be compared with the Bayes limit.
test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=1024, verbose=0)
predicted = (model.predict(x_test, batch_size=1024, verbose=0)[:, 0] > 0.5).astype("float32")
print(f"Test accuracy {test_accuracy:.4f}: {test_accuracy - bayes_limit:+.4f} from the Bayes "
      f"limit {bayes_limit:.4f}, {test_accuracy - best_on_test:+.4f} from the best boundary "
      f"on the same test points.")

# %% Overtraining? Read from the curves
# Overtraining would show as a validation loss that passes its lowest point
# and rises while the training loss keeps falling.  The training accuracy is
# measured again the way the validation accuracy was (model.evaluate, on as
# many training points as were held out), so that the two compare fairly.
validation_count = len(x_train) // 10
train_loss, train_accuracy = model.evaluate(x_train[:validation_count], y_train[:validation_count],
                                            batch_size=1024, verbose=0)
diagnosis = training.diagnose(history.history, train_accuracy, validation_count)
training.print_results(diagnosis, monitor, test_accuracy)

# %% Figure: loss and accuracy against the epochs
fig = plotting.plot_training_curves(history.history, title="Two Gaussians: training curves",
                                   diagnosis=diagnosis)
accuracy_axes = fig.axes[1]
accuracy_axes.axhline(bayes_limit, color="black", linestyle=":",
                      label=f"Bayes limit {bayes_limit:.3f}")
accuracy_axes.legend()
plotting.save_figure(fig, "tf_intro_training_curves", args.outdir)

# %% Figure: the classification of the plane, with the labelled test points
# The network's probability of class 1 at every point of a grid, its boundary
# p = 0.5, and the best boundary x1 + x2 = 0.
limit = np.ceil(np.abs(x_test).max())
grid_values = np.linspace(-limit, limit, 200)
grid_x1, grid_x2 = np.meshgrid(grid_values, grid_values)
grid = np.column_stack([grid_x1.ravel(), grid_x2.ravel()]).astype("float32")
probability = model.predict(grid, batch_size=4096, verbose=0).reshape(grid_x1.shape)
fig, ax = plotting.subplots(figsize=(7, 6))
mesh = ax.pcolormesh(grid_x1, grid_x2, probability, cmap="coolwarm", vmin=0, vmax=1,
                     shading="auto")
fig.colorbar(mesh, ax=ax, label="predicted probability of class 1")
for label, color in enumerate(CLASS_COLORS):
    ax.scatter(x_test[y_test == label, 0], x_test[y_test == label, 1], s=8, color=color,
               alpha=0.8, label=f"class {label} (mean {CLASS_MEANS[label]})")
ax.contour(grid_x1, grid_x2, probability, levels=[0.5], colors="black", linewidths=2)
# A contour line has no legend entry of its own: an empty line stands in for it.
ax.plot([], [], color="black", linewidth=2, label="network: p = 0.5")
ax.plot(grid_values, -grid_values, "--", color="tab:green", linewidth=1.5,
        label="best boundary: x1 + x2 = 0")
ax.set_xlim(-limit, limit)
ax.set_ylim(-limit, limit)
ax.set_aspect("equal")
ax.set_xlabel("x1")
ax.set_ylabel("x2")
ax.set_title(f"Classification of the plane, test points (accuracy {test_accuracy:.3f})")
ax.legend(loc="upper left", fontsize=8, markerscale=2)
fig.tight_layout()
plotting.save_figure(fig, "tf_intro_classification", args.outdir)

# %% Show the figures (on the command line; a notebook shows each under its cell)
plotting.show(args.no_show)
