"""Minimizer usage in TensorFlow: a straight line fitted with a Keras optimizer.

Lecture slide "minimizer usage in TensorFlow": the parameters are
``tf.Variable`` objects, the loss is the mean squared error, and at every step
``tf.GradientTape`` records the loss so that TensorFlow computes its gradient
with respect to the variables; a Keras optimizer (SGD, or Adam with
``--optimizer adam``) then updates the variables.  The result is compared with
the closed-form least-squares fit (numpy's ``np.polyfit``).

Result of a default run (``python linearRegression.py --no-show``: 100 points
on y = 2 x + 1 with noise 0.3, SGD with learning rate 0.1, 200 steps;
5 s on the 2-core lecture machine, most of it importing TensorFlow):
slope 2.01148, intercept 0.99610, loss 0.086298; the closed-form fit gives
slope 2.01149, intercept 0.99610, so they agree within the tolerance 1e-3
(largest difference 1.0e-5).  With ``--optimizer adam`` the largest difference
after 200 steps is 6.0e-5.

Run ``python linearRegression.py --help`` for the options.
"""

# %% Set-up
# TensorFlow is imported inside the functions, after the command line is read,
# so that ``--help`` answers at once.

import numpy as np

from dnnkit import plotting, runtime
from dnnkit.errors import UserError

SAMPLES = 100
SLOPE = 2.0
INTERCEPT = 1.0
NOISE = 0.3
STEPS = 200
LEARNING_RATE = 0.1
OPTIMIZER = "sgd"
# The TensorFlow fit must match the closed-form fit to within this, in slope and intercept.
AGREEMENT_TOLERANCE = 1e-3


def make_parser():
    parser = runtime.make_parser(__doc__, cpu=True)
    parser.add_argument("--slope", type=runtime.finite_float, default=SLOPE,
                        help="true slope a of the toy data")
    parser.add_argument("--intercept", type=runtime.finite_float, default=INTERCEPT,
                        help="true intercept b of the toy data")
    parser.add_argument("--noise", type=runtime.positive_float, default=NOISE,
                        help="standard deviation of the Gaussian noise on y")
    parser.add_argument("--samples", type=runtime.positive_int, default=SAMPLES,
                        help="number of data points")
    parser.add_argument("--steps", type=runtime.positive_int, default=STEPS,
                        help="number of minimization steps")
    parser.add_argument("--learning-rate", type=runtime.positive_float, default=LEARNING_RATE,
                        help="learning rate of the optimizer")
    parser.add_argument("--optimizer", choices=("sgd", "adam"), default=OPTIMIZER,
                        help="Keras optimizer: plain gradient descent or Adam")
    return parser


# %% Data
def make_data(rng, samples, slope, intercept, noise):
    """Points y = a x + b + noise, with x uniform in [-1, 1]."""
    x = rng.uniform(-1.0, 1.0, samples)
    y = slope * x + intercept + rng.normal(0.0, noise, samples)
    return x.astype(np.float32), y.astype(np.float32)


def mean_squared_error(slope, intercept, x, y):
    """The loss in numpy, for the contour map (broadcasts over grids of parameters)."""
    slope = np.asarray(slope)[..., np.newaxis]
    intercept = np.asarray(intercept)[..., np.newaxis]
    return np.mean((slope * x + intercept - y) ** 2, axis=-1)


# %% Model and minimizer
def make_optimizer(name, learning_rate):
    """The Keras optimizer that turns gradients into parameter updates."""
    from tensorflow import keras

    if name == "adam":
        return keras.optimizers.Adam(learning_rate=learning_rate)
    return keras.optimizers.SGD(learning_rate=learning_rate)


# %% Training
def fit_line(x, y, optimizer, steps, print_every):
    """Minimize the mean squared error of y = slope * x + intercept with ``optimizer``.

    Returns the history: slope, intercept and loss before every step, and
    after the last one (``steps + 1`` entries each).
    """
    import tensorflow as tf

    # The parameters to fit: variables that the optimizer may change, started at zero.
    slope = tf.Variable(0.0, name="slope")
    intercept = tf.Variable(0.0, name="intercept")
    parameters = [slope, intercept]
    x = tf.constant(x)
    y = tf.constant(y)

    def loss_function():
        prediction = slope * x + intercept
        return tf.reduce_mean(tf.square(prediction - y))

    # One minimization step.  tf.function compiles it into a TensorFlow graph
    # on the first call: the same computation, but here about ten times faster
    # than running it line by line from Python (remove the decorator to compare).
    @tf.function
    def minimization_step():
        # The tape records the computation of the loss, so that TensorFlow can
        # compute its derivatives with respect to the variables.
        with tf.GradientTape() as tape:
            loss = loss_function()
        gradients = tape.gradient(loss, parameters)
        optimizer.apply_gradients(zip(gradients, parameters))
        return loss

    optimizer.build(parameters)  # Create the optimizer's own variables (Adam's averages) now.
    history = {"slope": [], "intercept": [], "loss": []}
    print(f"{'step':>6} {'slope':>9} {'intercept':>10} {'loss':>10}")
    for step in range(steps + 1):
        # Record the parameters and their loss before the step.
        history["slope"].append(float(slope.numpy()))
        history["intercept"].append(float(intercept.numpy()))
        if step < steps:
            history["loss"].append(float(minimization_step().numpy()))
        else:
            history["loss"].append(float(loss_function().numpy()))  # After the last step.
        if step % print_every == 0 or step == steps:
            print(f"{step:6d} {history['slope'][-1]:9.5f} {history['intercept'][-1]:10.5f} "
                  f"{history['loss'][-1]:10.6f}")
    return {key: np.array(values) for key, values in history.items()}


# %% Evaluation
def closed_form_fit(x, y):
    """The exact least-squares line (float64), as a reference for the minimizer."""
    slope, intercept = np.polyfit(x.astype(np.float64), y.astype(np.float64), deg=1)
    return slope, intercept


# %% Plots
def plot_fit(x, y, args, fitted, exact):
    fig, ax = plotting.subplots(figsize=(6, 4.5))
    ax.plot(x, y, "o", markersize=4, alpha=0.7, label="toy data")
    line_x = np.array([x.min(), x.max()])
    ax.plot(line_x, args.slope * line_x + args.intercept, "--", color="grey",
            label=f"true line: {args.slope:g} x + {args.intercept:g}")
    ax.plot(line_x, fitted[0] * line_x + fitted[1], color="tab:red",
            label=f"TensorFlow fit: {fitted[0]:.3f} x + {fitted[1]:.3f}")
    ax.plot(line_x, exact[0] * line_x + exact[1], ":", color="black",
            label=f"closed form: {exact[0]:.3f} x + {exact[1]:.3f}")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("Straight line fitted with a Keras optimizer")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_loss(history, minimum_loss, optimizer_name):
    fig, ax = plotting.subplots(figsize=(6, 4.5))
    ax.plot(history["loss"], label=f"loss ({optimizer_name})")
    ax.axhline(minimum_loss, color="black", linestyle=":",
               label=f"minimum (closed form): {minimum_loss:.4f}")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("mean squared error")
    ax.set_title("Loss against step")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_trajectory(history, x, y, args, exact, optimizer_name):
    """The path of (slope, intercept) over a contour map of the loss."""
    slopes = np.concatenate([history["slope"], [exact[0], args.slope]])
    intercepts = np.concatenate([history["intercept"], [exact[1], args.intercept]])
    margin_slope = 0.2 * np.ptp(slopes) + 0.2
    margin_intercept = 0.2 * np.ptp(intercepts) + 0.2
    slope_grid, intercept_grid = np.meshgrid(
        np.linspace(slopes.min() - margin_slope, slopes.max() + margin_slope, 150),
        np.linspace(intercepts.min() - margin_intercept, intercepts.max() + margin_intercept, 150))
    loss_grid = mean_squared_error(slope_grid, intercept_grid, x, y)
    minimum = mean_squared_error(*exact, x, y)
    fig, ax = plotting.subplots(figsize=(6.5, 5))
    levels = minimum + np.geomspace(1e-3, loss_grid.max() - minimum, 12)
    contours = ax.contour(slope_grid, intercept_grid, loss_grid, levels=levels, cmap="viridis",
                          linewidths=0.8)
    ax.clabel(contours, fontsize=7, fmt="%.2g")
    ax.plot(history["slope"], history["intercept"], ".-", color="tab:red", markersize=3,
            linewidth=1, label=f"{optimizer_name}: {len(history['loss']) - 1} steps")
    ax.plot(history["slope"][0], history["intercept"][0], "s", color="black", label="start (0, 0)")
    ax.plot(*exact, "*", color="gold", markeredgecolor="black", markersize=15,
            label="closed-form minimum")
    ax.plot(args.slope, args.intercept, "x", color="black", markersize=9, label="true (a, b)")
    ax.set_xlabel("slope a")
    ax.set_ylabel("intercept b")
    ax.set_title("Parameter trajectory over the loss contours")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# %% Main: data, minimizer, training, evaluation, plots
def main(argv=None):
    parser = make_parser()
    args = runtime.parse_args(parser, argv)
    if args.samples < 2:
        parser.error(f"argument --samples: a line needs at least 2 points, got {args.samples}")
    runtime.setup_tensorflow(args)
    rng = np.random.default_rng(args.seed)
    x, y = make_data(rng, args.samples, args.slope, args.intercept, args.noise)
    print(f"{args.samples} points on y = {args.slope:g} x + {args.intercept:g} "
          f"with noise {args.noise:g}.")

    optimizer = make_optimizer(args.optimizer, args.learning_rate)
    optimizer_name = f"{type(optimizer).__name__}, learning rate {args.learning_rate:g}"
    print(f"Minimizing the mean squared error with {optimizer_name} for {args.steps} steps:")
    history = fit_line(x, y, optimizer, args.steps, print_every=max(1, args.steps // 10))
    if not np.all(np.isfinite(history["loss"])):
        raise UserError(f"the loss diverged with learning rate {args.learning_rate:g}: "
                        f"choose a smaller --learning-rate")
    fitted = (float(history["slope"][-1]), float(history["intercept"][-1]))

    # Evaluation: compare with the exact least-squares line.
    exact = closed_form_fit(x, y)
    exact_loss = float(mean_squared_error(*exact, x, y))
    difference = max(abs(fitted[0] - exact[0]), abs(fitted[1] - exact[1]))
    agree = difference <= AGREEMENT_TOLERANCE
    print(f"\nTensorFlow ({args.optimizer}): slope = {fitted[0]:.5f}, intercept = {fitted[1]:.5f}, "
          f"loss = {history['loss'][-1]:.6f}")
    print(f"Closed form (np.polyfit): slope = {exact[0]:.5f}, intercept = {exact[1]:.5f}, "
          f"loss = {exact_loss:.6f}")
    print(f"Check: TensorFlow and closed form agree within {AGREEMENT_TOLERANCE:g} in slope and "
          f"intercept: largest difference {difference:.1e} -> "
          + ("OK" if agree else "NOT YET (more --steps or another --learning-rate)"))

    figures = {
        "fit": plot_fit(x, y, args, fitted, exact),
        "loss": plot_loss(history, exact_loss, optimizer_name),
        "trajectory": plot_trajectory(history, x, y, args, exact, optimizer_name),
    }
    paths = {name: plotting.save_figure(figure, f"linearRegression_{name}", args.outdir)
             for name, figure in figures.items()}
    print(f"Figures saved in {args.outdir}/: " + ", ".join(path.name for path in paths.values()))
    plotting.show(args.no_show)

    return {
        "optimizer": args.optimizer,
        "slope": fitted[0],
        "intercept": fitted[1],
        "loss": float(history["loss"][-1]),
        "exact_slope": float(exact[0]),
        "exact_intercept": float(exact[1]),
        "exact_loss": exact_loss,
        "largest_difference": float(difference),
        "tolerance": AGREEMENT_TOLERANCE,
        "agree": bool(agree),
        "history": history,
        "figures": paths,
    }


if __name__ == "__main__":
    runtime.run_script(main)
