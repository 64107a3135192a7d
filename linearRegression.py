"""Minimizer usage in TensorFlow: a straight line fitted with a Keras optimizer.

Lecture slide "minimizer usage in TensorFlow": the parameters are
``tf.Variable`` objects, the loss is the mean squared error, and at every step
``tf.GradientTape`` records the loss so that TensorFlow computes its gradient
with respect to the variables; a Keras optimizer (SGD, or Adam with
``--optimizer adam``) then updates the variables.  The result is compared with
the closed-form least-squares fit (numpy's ``np.polyfit``).

Result of a full run (the script's defaults, seeds 42 to 46; ``python
reproduce.py --seeds 5``, 2026-12-08, on Intel(R) Xeon(R) Processor (2 CPU
cores), CPU (no GPU visible), TensorFlow 2.21.0, load average 1.7-7.1): done
in 5 s.

What it prints with its defaults (100 points on y = 2 x + 1 with noise 0.3,
SGD with learning rate 0.1, 200 steps; TensorFlow 2.21): slope 2.01148,
intercept 0.99610, loss 0.086298; the closed-form fit gives slope 2.01149,
intercept 0.99610, so they agree within the tolerance 1e-3 (largest
difference 1.0e-5).  With ``--optimizer adam`` the largest difference after
200 steps is 6.0e-5.

Run ``python linearRegression.py --help`` for the options.
"""

# %% Set-up
# The options are read first, before TensorFlow is imported, so that --help
# answers at once.  In a notebook there is no command line: the lecture's
# settings are used (or the options in the environment variable
# DNN_NOTEBOOK_ARGS).
import numpy as np

from dnnkit import plotting, runtime
from dnnkit.errors import UserError

parser = runtime.make_parser(__doc__, cpu=True)
parser.add_argument("--slope", type=runtime.finite_float, default=2.0,
                    help="true slope a of the toy data")
parser.add_argument("--intercept", type=runtime.finite_float, default=1.0,
                    help="true intercept b of the toy data")
parser.add_argument("--noise", type=runtime.positive_float, default=0.3,
                    help="standard deviation of the Gaussian noise on y")
parser.add_argument("--samples", type=runtime.positive_int, default=100,
                    help="number of data points")
parser.add_argument("--steps", type=runtime.positive_int, default=200,
                    help="number of minimization steps")
parser.add_argument("--learning-rate", type=runtime.positive_float, default=0.1,
                    help="learning rate of the optimizer")
parser.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd",
                    help="Keras optimizer: plain gradient descent or Adam")
args = runtime.parse_args(parser)  # also seeds Python and numpy
if args.samples < 2:
    raise UserError(f"argument --samples: a line needs at least 2 points, got {args.samples}")
runtime.setup_tensorflow(args)  # prints the device and seeds TensorFlow
import tensorflow as tf  # noqa: E402
from tensorflow import keras  # noqa: E402

# %% Data
# Points y = a x + b + noise, with x uniform in [-1, 1].  TensorFlow computes
# in 32-bit floats.
rng = np.random.default_rng(args.seed)
x = rng.uniform(-1.0, 1.0, args.samples).astype(np.float32)
y = (args.slope * x + args.intercept + rng.normal(0.0, args.noise, args.samples)).astype(np.float32)
print(f"{args.samples} points on y = {args.slope:g} x + {args.intercept:g} "
      f"with noise {args.noise:g}; x: {x.shape} {x.dtype}, y: {y.shape} {y.dtype}")

# %% The parameters and the loss
# The parameters to fit are variables, which the optimizer may change; they
# start at zero.  The loss is the mean squared error of the line.
slope = tf.Variable(0.0, name="slope")
intercept = tf.Variable(0.0, name="intercept")
parameters = [slope, intercept]
x_tensor = tf.constant(x)
y_tensor = tf.constant(y)


def loss_function():
    prediction = slope * x_tensor + intercept
    return tf.reduce_mean(tf.square(prediction - y_tensor))


print(f"Loss at the start, slope = intercept = 0: {float(loss_function()):.4f}")

# %% The minimizer
# A Keras optimizer turns gradients into parameter updates: SGD takes the step
# -learning_rate * gradient, Adam a step of its own for every parameter.
if args.optimizer == "adam":
    optimizer = keras.optimizers.Adam(learning_rate=args.learning_rate)
    optimizer_name = f"Adam, learning rate {args.learning_rate:g}"
else:
    optimizer = keras.optimizers.SGD(learning_rate=args.learning_rate)
    optimizer_name = f"SGD, learning rate {args.learning_rate:g}"


# One minimization step.  tf.function compiles it into a TensorFlow graph on
# the first call: the same computation, but many times faster than running it
# line by line from Python (remove the decorator to compare; on the project's
# 2-core test machine with TensorFlow 2.21 a step took 0.3-1.5 ms compiled and
# 2-20 ms line by line).  On its first call the optimizer also creates its own
# variables (Adam's running averages).
@tf.function
def minimization_step():
    # The tape records the computation of the loss, so that TensorFlow can
    # compute its derivatives with respect to the variables.
    with tf.GradientTape() as tape:
        loss = loss_function()
    gradients = tape.gradient(loss, parameters)
    optimizer.apply_gradients(zip(gradients, parameters))
    return loss


print(f"Minimizing the mean squared error with {optimizer_name} for {args.steps} steps.")

# %% Training
# The history holds slope, intercept and loss before every step, and after the
# last one (steps + 1 entries each).
history = {"slope": [], "intercept": [], "loss": []}
print_every = max(1, args.steps // 10)
print(f"{'step':>6} {'slope':>9} {'intercept':>10} {'loss':>10}")
for step in range(args.steps + 1):
    history["slope"].append(float(slope.numpy()))
    history["intercept"].append(float(intercept.numpy()))
    if step < args.steps:
        history["loss"].append(float(minimization_step().numpy()))  # the loss before the step
    else:
        history["loss"].append(float(loss_function().numpy()))  # the loss after the last step
    if step % print_every == 0 or step == args.steps:
        print(f"{step:6d} {history['slope'][-1]:9.5f} {history['intercept'][-1]:10.5f} "
              f"{history['loss'][-1]:10.6f}")
history = {key: np.array(values) for key, values in history.items()}
if not np.all(np.isfinite(history["loss"])):
    raise UserError(f"the loss diverged with learning rate {args.learning_rate:g}: "
                    f"choose a smaller --learning-rate")

# %% Evaluation: comparison with the closed-form fit
# For a straight line, least squares has an exact solution; np.polyfit
# computes it (in 64-bit floats).  The TensorFlow fit must agree with it to
# within 1e-3 in slope and intercept.
AGREEMENT_TOLERANCE = 1e-3
fitted = (float(slope.numpy()), float(intercept.numpy()))
exact = np.polyfit(x.astype(np.float64), y.astype(np.float64), deg=1)
exact_loss = float(np.mean((exact[0] * x + exact[1] - y) ** 2))
difference = max(abs(fitted[0] - exact[0]), abs(fitted[1] - exact[1]))
agree = difference <= AGREEMENT_TOLERANCE
print(f"TensorFlow ({args.optimizer}): slope = {fitted[0]:.5f}, intercept = {fitted[1]:.5f}, "
      f"loss = {history['loss'][-1]:.6f}")
print(f"Closed form (np.polyfit): slope = {exact[0]:.5f}, intercept = {exact[1]:.5f}, "
      f"loss = {exact_loss:.6f}")
print(f"Check: TensorFlow and closed form agree within {AGREEMENT_TOLERANCE:g} in slope and "
      f"intercept: largest difference {difference:.1e} -> "
      + ("OK" if agree else "NOT YET (more --steps or another --learning-rate)"))

# %% Figure: the data and the fitted line
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
plotting.save_figure(fig, "linearRegression_fit", args.outdir)

# %% Figure: the loss against the step
fig, ax = plotting.subplots(figsize=(6, 4.5))
ax.plot(history["loss"], label=f"loss ({optimizer_name})")
ax.axhline(exact_loss, color="black", linestyle=":",
           label=f"minimum (closed form): {exact_loss:.4f}")
ax.set_yscale("log")
ax.set_xlabel("step")
ax.set_ylabel("mean squared error")
ax.set_title("Loss against step")
ax.grid(True, alpha=0.3)
ax.legend()
fig.tight_layout()
plotting.save_figure(fig, "linearRegression_loss", args.outdir)

# %% Figure: the path of (slope, intercept) over a contour map of the loss
slopes = np.concatenate([history["slope"], [exact[0], args.slope]])
intercepts = np.concatenate([history["intercept"], [exact[1], args.intercept]])
margin_slope = 0.2 * np.ptp(slopes) + 0.2
margin_intercept = 0.2 * np.ptp(intercepts) + 0.2
slope_grid, intercept_grid = np.meshgrid(
    np.linspace(slopes.min() - margin_slope, slopes.max() + margin_slope, 150),
    np.linspace(intercepts.min() - margin_intercept, intercepts.max() + margin_intercept, 150))
# The loss at every point of the grid: one line per grid point, broadcast over the data.
loss_grid = np.mean((slope_grid[..., np.newaxis] * x + intercept_grid[..., np.newaxis] - y) ** 2,
                    axis=-1)
fig, ax = plotting.subplots(figsize=(6.5, 5))
levels = exact_loss + np.geomspace(1e-3, loss_grid.max() - exact_loss, 12)
contours = ax.contour(slope_grid, intercept_grid, loss_grid, levels=levels, cmap="viridis",
                      linewidths=0.8)
ax.clabel(contours, fontsize=7, fmt="%.2g")
ax.plot(history["slope"], history["intercept"], ".-", color="tab:red", markersize=3,
        linewidth=1, label=f"{optimizer_name}: {args.steps} steps")
ax.plot(history["slope"][0], history["intercept"][0], "s", color="black", label="start (0, 0)")
ax.plot(*exact, "*", color="gold", markeredgecolor="black", markersize=15,
        label="closed-form minimum")
ax.plot(args.slope, args.intercept, "x", color="black", markersize=9, label="true (a, b)")
ax.set_xlabel("slope a")
ax.set_ylabel("intercept b")
ax.set_title("Parameter trajectory over the loss contours")
ax.legend(fontsize=8)
fig.tight_layout()
plotting.save_figure(fig, "linearRegression_trajectory", args.outdir)

# %% Show the figures (on the command line; a notebook shows each under its cell)
plotting.show(args.no_show)
