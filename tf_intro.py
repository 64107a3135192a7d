"""Simple example using TensorFlow: two Gaussian classes separated by a Keras model.

Lecture slide "simple example using TensorFlow": generate a toy sample of two
normalized Gaussians (unit covariance) with means (-1, -1) and (1, 1); each
sample gets a label (0 or 1); combine them into one data set and plot it
coloured by label; set up a Keras model with the Adam optimizer, binary
cross-entropy as loss and accuracy as metric; fit it with a number of epochs
and a batch size; plot loss and accuracy against the epochs; display the
classification of points in the plane together with the labelled data.

A fifth of the sample is held out as test set.  No classifier can do better
on these two Gaussians than the Bayes limit Phi(sqrt 2) = 0.921 (see
``bayes_limit``).

Result of a default run (``python tf_intro.py --no-show``: 5000 samples per
class, 10 epochs, batch size 32; 8 s on the 2-core lecture machine,
of which 3 s training): test accuracy 0.917 on 2000 test points,
0.004 below the Bayes limit 0.921 (the spread of the accuracy on 2000 points
is +-0.006; the best boundary x1 + x2 = 0 itself scores 0.916 on this test
set); training accuracy 0.922, validation accuracy 0.929: no overtraining.

Run ``python tf_intro.py --help`` for the options.
"""

# %% Set-up
# TensorFlow is imported inside the functions, after the command line is read,
# so that ``--help`` answers at once.

import numpy as np

from dnnkit import plotting, preprocessing, runtime, training

SAMPLES = 5000  # per class
EPOCHS = 10
BATCH_SIZE = 32
CLASS_MEANS = ((-1.0, -1.0), (1.0, 1.0))  # class 0, class 1
TEST_FRACTION = 0.2
MIN_SAMPLES = 10  # per class: enough for a test set and a validation set


def make_parser():
    parser = runtime.make_parser(__doc__, epochs=EPOCHS, batch_size=BATCH_SIZE)
    parser.add_argument("--samples", type=runtime.positive_int, default=SAMPLES,
                        help="number of samples per class")
    return parser


# %% Data
def make_data(rng, samples):
    """Two Gaussians with unit covariance around CLASS_MEANS, labelled 0 and 1.

    Returns all points ``x`` (shape (2 * samples, 2)) and labels ``y``.
    """
    points = [rng.normal(loc=mean, scale=1.0, size=(samples, 2)) for mean in CLASS_MEANS]
    labels = [np.full(samples, label) for label in range(len(CLASS_MEANS))]
    # Combine both classes into one data set.
    x = np.concatenate(points).astype(np.float32)
    y = np.concatenate(labels).astype(np.float32)
    return x, y


def bayes_limit():
    """The best accuracy any classifier can reach on these two Gaussians.

    With equal priors and equal covariances, the best boundary is the line
    x1 + x2 = 0 halfway between the means.  Along the direction (1, 1)/sqrt(2)
    the class means lie at -sqrt(2) and +sqrt(2), with spread 1, so a point is
    on the right side with probability Phi(sqrt 2), the normal distribution's
    cumulative probability.
    """
    from scipy.stats import norm

    return float(norm.cdf(np.sqrt(2.0)))


def bayes_classifier(x):
    """The best possible prediction: class 1 where x1 + x2 > 0."""
    return (x[:, 0] + x[:, 1] > 0).astype(np.float32)


# %% Model
def build_model():
    """A small network: one hidden layer of 8 ReLU nodes, a sigmoid output p(class 1)."""
    from tensorflow import keras
    from keras import layers

    model = keras.Sequential([
        keras.Input(shape=(2,)),
        layers.Dense(8, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ], name="two_gaussians")
    model.compile(
        optimizer=keras.optimizers.Adam(),
        loss="binary_crossentropy",
        metrics=["accuracy"],
        # Speed only: run 32 batches per call into TensorFlow instead of one.
        steps_per_execution=32,
    )
    return model


# %% Plots
CLASS_COLORS = ("tab:blue", "tab:red")


def plot_labelled_data(ax, x, y, size=6, alpha=0.5):
    for label, color in enumerate(CLASS_COLORS):
        selected = y == label
        ax.scatter(x[selected, 0], x[selected, 1], s=size, color=color, alpha=alpha,
                   label=f"class {label} (mean {CLASS_MEANS[label]})")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_aspect("equal")


def plot_sample(x, y):
    fig, ax = plotting.subplots(figsize=(6, 6))
    plot_labelled_data(ax, x, y)
    ax.set_title("Toy sample: two Gaussians, coloured by label")
    ax.legend(loc="upper left", markerscale=3)
    fig.tight_layout()
    return fig


def plot_classification(model, x_test, y_test, test_accuracy):
    """The predicted probability p(class 1) over the plane, with the p = 0.5 boundary."""
    limit = np.ceil(np.abs(x_test).max())
    grid_values = np.linspace(-limit, limit, 200)
    grid_x1, grid_x2 = np.meshgrid(grid_values, grid_values)
    grid = np.column_stack([grid_x1.ravel(), grid_x2.ravel()]).astype(np.float32)
    probability = model.predict(grid, batch_size=4096, verbose=0).reshape(grid_x1.shape)

    fig, ax = plotting.subplots(figsize=(7, 6))
    mesh = ax.pcolormesh(grid_x1, grid_x2, probability, cmap="coolwarm", vmin=0, vmax=1,
                         shading="auto")
    fig.colorbar(mesh, ax=ax, label="predicted probability of class 1")
    plot_labelled_data(ax, x_test, y_test, size=8, alpha=0.8)
    ax.contour(grid_x1, grid_x2, probability, levels=[0.5], colors="black", linewidths=2)
    # A contour line has no legend entry of its own: an empty line stands in for it.
    ax.plot([], [], color="black", linewidth=2, label="network: p = 0.5")
    ax.plot(grid_values, -grid_values, "--", color="tab:green", linewidth=1.5,
            label="best boundary: x1 + x2 = 0")
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_title(f"Classification of the plane, test points (accuracy {test_accuracy:.3f})")
    ax.legend(loc="upper left", fontsize=8, markerscale=2)
    fig.tight_layout()
    return fig


# %% Main: data, model, training, evaluation, plots
def main(argv=None):
    parser = make_parser()
    args = runtime.parse_args(parser, argv)
    if args.samples < MIN_SAMPLES:
        parser.error(f"argument --samples: must be at least {MIN_SAMPLES}, got {args.samples}")
    runtime.setup_tensorflow(args)
    rng = np.random.default_rng(args.seed)
    x, y = make_data(rng, args.samples)
    # Hold out a test set, looked at only once at the end.  The training part
    # comes shuffled; training.fit below holds out its last 10 % for validation.
    (x_train, y_train), _, (x_test, y_test) = preprocessing.train_val_test_split(
        x, y, fractions=(1 - TEST_FRACTION, 0.0, TEST_FRACTION), seed=args.seed)
    print(f"{len(x)} samples ({args.samples} per class): {len(x_train)} for training "
          f"(of which 10 % for validation), {len(x_test)} for the test.")

    model = build_model()
    model.summary()
    # training.fit is model.fit(x, y, epochs, batch_size, validation_split=0.1)
    # with a faster input pipeline; result.history is Keras's history dict.
    result = training.fit(model, x_train, y_train, epochs=args.epochs,
                          batch_size=args.batch_size)

    # Evaluation on the held-out test set.
    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=1024, verbose=0)
    limit = bayes_limit()
    best_on_test = float(np.mean(bayes_classifier(x_test) == y_test))
    print()
    training.print_overtraining(result)
    print(f"Best boundary x1 + x2 = 0 on this test set: accuracy {best_on_test:.4f} "
          f"(statistical spread +- {np.sqrt(limit * (1 - limit) / len(x_test)):.4f}).")
    training.print_result_lines(
        test_accuracy, result,
        note=f"(Bayes limit Phi(sqrt 2) = {limit:.4f}, difference {test_accuracy - limit:+.4f})")

    curves = plotting.plot_training_curves(result.history, title="Two Gaussians: training curves")
    accuracy_axes = curves.axes[1]
    accuracy_axes.axhline(limit, color="black", linestyle=":",
                          label=f"Bayes limit {limit:.3f}")
    accuracy_axes.legend()
    figures = {
        "sample": plot_sample(x, y),
        "training_curves": curves,
        "classification": plot_classification(model, x_test, y_test, test_accuracy),
    }
    paths = {name: plotting.save_figure(figure, f"tf_intro_{name}", args.outdir)
             for name, figure in figures.items()}
    print(f"Figures saved in {args.outdir}/: " + ", ".join(path.name for path in paths.values()))
    plotting.show(args.no_show)

    return {
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "bayes_limit": limit,
        "bayes_accuracy_on_test": best_on_test,
        "train_accuracy": float(result.history["accuracy"][-1]),
        "validation_accuracy": float(result.history["val_accuracy"][-1]),
        "train_validation_gap": float(result.train_validation_gap),
        "training_seconds": result.seconds,
        "epochs": args.epochs,
        "test_size": len(x_test),
        "figures": paths,
    }


if __name__ == "__main__":
    runtime.run_script(main)
