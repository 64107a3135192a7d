"""Test minimizer in Python: gradient descent on a loss of two parameters.

Lecture slide "test minimizer in python": find the weights W that minimize
the empirical loss J(W) = 1/n sum_i L(f(x_i; W), y_i).  Initialize W
randomly, then loop until convergence: compute the gradient dJ/dW and
update W <- W - eta dJ/dW.

Here f(x; W) = slope * x + intercept is a straight line fitted to seeded toy
data with the mean squared error as loss, so that J has two parameters and can
be drawn as a contour map.  Gradient descent is written out in numpy and run
with a too small, a good and a too large learning rate eta; then momentum and
Adam (adaptive per-parameter steps) run on the same map, and the same minimum
is found with scipy.optimize.minimize and with iminuit (MIGRAD, uncertainties
from HESSE).

Result of a full run (the script's defaults, seeds 42 to 46; ``python
reproduce.py --seeds 5``, 2026-12-08, on Intel(R) Xeon(R) Processor (2 CPU
cores), CPU (no GPU visible), TensorFlow 2.21.0, load average 1.7-7.1): done
in 2 s.

What it prints (seeded: the same numbers every run): the minimum is slope 1.5679, intercept 0.4595 (J = 0.0505).
Gradient descent with eta = 0.3 converges in 129 iterations, momentum
(eta = 0.01) in 248, Adam (eta = 0.1) in 236; scipy (BFGS) needs 5 loss and
5 gradient evaluations, iminuit 32 loss evaluations.  All five agree with
the exact minimum within 1e-4 (largest difference 2.4e-6).  Gradient descent
with eta = 0.01 has not converged after 1000 iterations, and with eta = 0.5,
above the stability limit 2 / lambda_max = 0.457, it diverges (J = 44.7
after 17 iterations).  HESSE gives slope 1.568 +- 0.072 and intercept
0.460 +- 0.084, the same as the analytic sigma^2 (X^T X)^-1.

Run ``python intro.py --help`` for the options.
"""

# %% Set-up
# The options are read first, so that --help answers at once.  In a notebook
# there is no command line: the lecture's settings are used (or the options in
# the environment variable DNN_NOTEBOOK_ARGS).
from dataclasses import dataclass, field

import numpy as np

from dnnkit import plotting, runtime

parser = runtime.make_parser(__doc__)
parser.add_argument("--learning-rate", type=runtime.positive_float, default=0.3,
                    help="the good learning rate eta of gradient descent")
parser.add_argument("--small-learning-rate", type=runtime.positive_float, default=0.01,
                    help="a too small learning rate (slow convergence)")
parser.add_argument("--large-learning-rate", type=runtime.positive_float, default=0.5,
                    help="a too large learning rate (oscillates or diverges)")
parser.add_argument("--max-iterations", type=runtime.positive_int, default=1000,
                    help="iteration cap of gradient descent, momentum and Adam")
args = runtime.parse_args(parser)  # also seeds Python and numpy

# %% Data
# Toy data: 50 points on the straight line y = 1.5 x + 0.5, with Gaussian
# noise of known size 0.3 on y.
SAMPLES = 50
TRUE_SLOPE = 1.5
TRUE_INTERCEPT = 0.5
NOISE = 0.3
rng = np.random.default_rng(args.seed)
x = np.linspace(0.0, 2.0, SAMPLES)
y = TRUE_SLOPE * x + TRUE_INTERCEPT + rng.normal(0.0, NOISE, SAMPLES)
print(f"{SAMPLES} points on y = {TRUE_SLOPE:g} x + {TRUE_INTERCEPT:g} with noise {NOISE:g}; "
      f"the first three: x = {np.round(x[:3], 3)}, y = {np.round(y[:3], 3)}")


# %% The loss J(W) and its gradient dJ/dW
# The model is the line f(x; W) = W[0] * x + W[1], with W = (slope, intercept).
# The loss is the mean squared error J(W) = 1/n sum_i (f(x_i; W) - y_i)^2.
def loss(weights):
    """J(W): the mean squared error of the line with slope W[0] and intercept W[1]."""
    residuals = weights[0] * x + weights[1] - y
    return float(np.mean(residuals ** 2))


def gradient(weights):
    """dJ/dW = 2/n sum_i (f(x_i; W) - y_i) * df/dW, with df/dW = (x_i, 1)."""
    residuals = weights[0] * x + weights[1] - y
    return np.array([2.0 * np.mean(residuals * x), 2.0 * np.mean(residuals)])


# J is quadratic in W, so its minimum can also be computed exactly, from the
# normal equations (X^T X) W = X^T y of least squares: the reference for every
# minimizer below.
design = np.column_stack([x, np.ones_like(x)])  # one row (x_i, 1) per point
exact = np.linalg.solve(design.T @ design, design.T @ y)
minimum_loss = loss(exact)
# The matrix of second derivatives of J (constant, since J is quadratic).
# Plain gradient descent is stable only for eta < 2 / lambda_max, where
# lambda_max is its largest eigenvalue.
hessian = 2.0 * np.array([[np.mean(x ** 2), np.mean(x)], [np.mean(x), 1.0]])
stability_limit = 2.0 / np.linalg.eigvalsh(hessian).max()
print(f"Exact minimum (normal equations): slope {exact[0]:.5f}, intercept {exact[1]:.5f}, "
      f"J = {minimum_loss:.6f}")
print(f"Gradient descent on this J is stable for eta < 2 / lambda_max(Hessian) "
      f"= {stability_limit:.3f}.")

# %% Random start
# The slide: initialize the weights randomly.  Every minimizer starts here.
start = rng.normal(0.0, 2.0, size=2)
print(f"Random start: W = ({start[0]:.3f}, {start[1]:.3f}), J = {loss(start):.3f}")

# %% Gradient descent with three learning rates
# The slide's loop: compute dJ/dW, update W <- W - eta dJ/dW, until the
# gradient is (almost) zero.  A run stops as "diverged" when J has grown to 100
# times its starting value.  Every run keeps its path, to draw it on the
# contour map below.
GRADIENT_TOLERANCE = 1e-6  # converged when the length of the gradient is below this
DIVERGENCE_FACTOR = 100


@dataclass
class MinimizerRun:
    """One minimization: where it went, what it found, what it cost."""

    label: str
    path: list = field(default_factory=list)    # W after every iteration, the start first
    losses: list = field(default_factory=list)  # J(W) along the path (for the figures only)
    status: str = "not converged"               # "converged", "not converged" or "diverged"
    loss_evaluations: int = 0
    gradient_evaluations: int = 0

    @property
    def weights(self):
        return self.path[-1]

    @property
    def iterations(self):
        return len(self.path) - 1

    @property
    def converged(self):
        return self.status == "converged"

    def record(self, weights):
        """Add a step to the path; return True if J has run away (diverged)."""
        self.path.append(np.array(weights, dtype=float))
        self.losses.append(loss(weights))
        current, first = self.losses[-1], self.losses[0]
        if not np.isfinite(current) or current > DIVERGENCE_FACTOR * first:
            self.status = "diverged"
        return self.status == "diverged"


def gradient_descent(learning_rate, max_iterations):
    run = MinimizerRun(label=f"gradient descent, eta = {learning_rate:g}")
    weights = start.copy()
    run.record(weights)
    for _ in range(max_iterations):
        dJ_dW = gradient(weights)
        run.gradient_evaluations += 1
        if np.linalg.norm(dJ_dW) < GRADIENT_TOLERANCE:
            run.status = "converged"
            break
        weights = weights - learning_rate * dJ_dW
        if run.record(weights):
            break
    return run


runs = {
    "gradient_descent_small": gradient_descent(args.small_learning_rate, args.max_iterations),
    "gradient_descent": gradient_descent(args.learning_rate, args.max_iterations),
    "gradient_descent_large": gradient_descent(args.large_learning_rate, args.max_iterations),
}
for run in runs.values():
    print(f"{run.label}: {run.status} after {run.iterations} iterations, "
          f"W = ({run.weights[0]:.5f}, {run.weights[1]:.5f}), J = {run.losses[-1]:.4g}")

# %% Momentum
# The step remembers the previous steps: velocity <- momentum * velocity -
# eta dJ/dW, then W <- W + velocity.  In a long narrow valley the steps across
# the valley cancel and those along it add up.  It runs with the too small
# learning rate, to show how the accumulated velocity speeds it up.
MOMENTUM_LEARNING_RATE = 0.01
MOMENTUM = 0.9
run = MinimizerRun(label=f"momentum {MOMENTUM:g}, eta = {MOMENTUM_LEARNING_RATE:g}")
weights = start.copy()
velocity = np.zeros_like(weights)
run.record(weights)
for _ in range(args.max_iterations):
    dJ_dW = gradient(weights)
    run.gradient_evaluations += 1
    if np.linalg.norm(dJ_dW) < GRADIENT_TOLERANCE:
        run.status = "converged"
        break
    velocity = MOMENTUM * velocity - MOMENTUM_LEARNING_RATE * dJ_dW
    weights = weights + velocity
    if run.record(weights):
        break
runs["momentum"] = run
print(f"{run.label}: {run.status} after {run.iterations} iterations, "
      f"W = ({run.weights[0]:.5f}, {run.weights[1]:.5f})")

# %% Adam
# A step size of its own for every parameter.  Adam keeps running averages of
# the gradient (m) and of its square (v) and steps by eta * m / sqrt(v): a
# parameter with steep gradients takes smaller steps, one with shallow
# gradients larger ones.  The averages start at zero, so they are divided by
# (1 - beta^t) to correct for that start.
ADAM_LEARNING_RATE = 0.1
BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-8
run = MinimizerRun(label=f"Adam, eta = {ADAM_LEARNING_RATE:g}")
weights = start.copy()
mean_gradient = np.zeros_like(weights)
mean_squared_gradient = np.zeros_like(weights)
run.record(weights)
for step in range(1, args.max_iterations + 1):
    dJ_dW = gradient(weights)
    run.gradient_evaluations += 1
    if np.linalg.norm(dJ_dW) < GRADIENT_TOLERANCE:
        run.status = "converged"
        break
    mean_gradient = BETA_1 * mean_gradient + (1 - BETA_1) * dJ_dW
    mean_squared_gradient = BETA_2 * mean_squared_gradient + (1 - BETA_2) * dJ_dW ** 2
    corrected_mean = mean_gradient / (1 - BETA_1 ** step)
    corrected_squared = mean_squared_gradient / (1 - BETA_2 ** step)
    weights = weights - (ADAM_LEARNING_RATE * corrected_mean
                         / (np.sqrt(corrected_squared) + EPSILON))
    if run.record(weights):
        break
runs["adam"] = run
print(f"{run.label}: {run.status} after {run.iterations} iterations, "
      f"W = ({run.weights[0]:.5f}, {run.weights[1]:.5f})")

# %% scipy.optimize.minimize
# BFGS, a quasi-Newton method: it learns the curvature of J from the
# gradients it has seen, and so needs only a few steps.  The callback is called
# with the weights W after every iteration; we use it to record the path.
from scipy import optimize  # noqa: E402

run = MinimizerRun(label="scipy.optimize.minimize (BFGS)")
run.record(start)


def record_step(xk):
    """Called by scipy after every iteration with the current weights xk."""
    run.record(xk)


result = optimize.minimize(loss, start, jac=gradient, method="BFGS", callback=record_step)
run.status = "converged" if result.success else f"not converged ({result.message})"
run.loss_evaluations = result.nfev
run.gradient_evaluations = result.njev
if not np.allclose(run.weights, result.x):
    run.record(result.x)
runs["scipy"] = run
print(f"{run.label}: {run.status} after {run.iterations} iterations "
      f"({result.nfev} evaluations of J, {result.njev} of dJ/dW), "
      f"W = ({result.x[0]:.5f}, {result.x[1]:.5f})")

# %% iminuit: MIGRAD finds the minimum, HESSE the uncertainties
# Minuit reads the uncertainties off the cost: the 1-sigma range of a parameter
# is where the cost rises by ``errordef`` above its minimum.  For a chi-square,
# chi2 = sum_i ((f(x_i) - y_i) / sigma)^2, that rise is 1
# (``Minuit.LEAST_SQUARES``), and chi2 = n J / sigma^2, so we minimize the
# chi-square: the same minimum as J, and the right uncertainties.  (Minimizing J
# itself would need errordef = sigma^2 / n; with errordef = 1 the
# uncertainties would be wrong by a factor sqrt(n) / sigma.)
#
# iminuit is one comparison among several: where it cannot be imported (iminuit
# 2.20 and newer need numpy 1.20), the script says so and runs the rest.
iminuit = runtime.import_package(
    "iminuit", optional=True, fix="pip install --user iminuit (with numpy 1.19, the lab's: "
                                  "pip install --user 'iminuit<2.20')")
if iminuit is not None:
    Minuit = iminuit.Minuit

    evaluated_losses = []  # J at every call, to draw the progress of MIGRAD

    def chi_square(slope, intercept):
        mean_squared_error = loss((slope, intercept))
        evaluated_losses.append(mean_squared_error)
        return SAMPLES * mean_squared_error / NOISE ** 2

    minuit = Minuit(chi_square, slope=start[0], intercept=start[1])
    minuit.errordef = Minuit.LEAST_SQUARES
    minuit.migrad()
    run = MinimizerRun(label="iminuit (MIGRAD)", loss_evaluations=minuit.nfcn,
                       status="converged" if minuit.valid else "not converged (minimum not valid)")
    run.record(start)
    run.record(np.array(minuit.values))
    # MIGRAD does not report its iterations: its progress is drawn as the lowest J
    # so far, after every evaluation of J.
    run.losses = list(np.minimum.accumulate(evaluated_losses[:minuit.nfcn]))
    runs["iminuit"] = run
    minuit.hesse()
    uncertainties = {"slope": minuit.errors["slope"], "intercept": minuit.errors["intercept"]}
    # For comparison, the analytic covariance of a least-squares fit is
    # sigma^2 (X^T X)^-1.
    analytic_uncertainties = np.sqrt(np.diag(NOISE ** 2 * np.linalg.inv(design.T @ design)))
    print(f"iminuit: {run.status} after {run.loss_evaluations} evaluations of J (MIGRAD)")
    print(f"HESSE: slope = {minuit.values['slope']:.4f} +- {uncertainties['slope']:.4f}, "
          f"intercept = {minuit.values['intercept']:.4f} +- {uncertainties['intercept']:.4f} "
          f"(analytic sigma^2 (X^T X)^-1: +- {analytic_uncertainties[0]:.4f}, "
          f"+- {analytic_uncertainties[1]:.4f})")

# %% Comparison with the exact minimum
# Every method that converged must find the exact minimum, to within 1e-4 in
# slope and intercept.  (Gradient descent, momentum and Adam use only dJ/dW;
# J along their path is computed for the figures.)
AGREEMENT_TOLERANCE = 1e-4
header = (f"{'method':<34} {'slope':>9} {'intercept':>10} {'J':>10} "
          f"{'iterations':>10} {'J evals':>8} {'dJ/dW evals':>11}  status")
print(header)
print("-" * len(header))
print(f"{'exact (normal equations)':<34} {exact[0]:9.5f} {exact[1]:10.5f} {minimum_loss:10.6f}")
for key, run in runs.items():
    if run.status == "diverged":  # A diverged run has no result.
        numbers = f"{'-':>9} {'-':>10} {'-':>10}"
        status = f"diverged (J = {run.losses[-1]:.3g} after {run.iterations} iterations)"
    else:
        numbers = f"{run.weights[0]:9.5f} {run.weights[1]:10.5f} {loss(run.weights):10.6f}"
        status = run.status
    if run.status == "not converged":
        status = f"not converged after {run.iterations} iterations"
    iterations = "-" if key == "iminuit" else str(run.iterations)
    print(f"{run.label:<34} {numbers} {iterations:>10} {run.loss_evaluations or '-':>8} "
          f"{run.gradient_evaluations or '-':>11}  {status}")

differences = {key: float(np.max(np.abs(run.weights - exact)))
               for key, run in runs.items() if run.converged}
worst = max(differences, key=differences.get)
methods_agree = differences[worst] <= AGREEMENT_TOLERANCE
print(f"\nCheck: the {len(differences)} converged methods agree with the exact minimum "
      f"within {AGREEMENT_TOLERANCE:g} in slope and intercept: largest difference "
      f"{differences[worst]:.1e} ({runs[worst].label}) -> {'OK' if methods_agree else 'FAILED'}")
if iminuit is None:
    print("Skipped: the iminuit comparison (iminuit cannot be imported, see above).")

# %% Figure: the data and the fitted line
fig, ax = plotting.subplots(figsize=(6, 4.5))
ax.plot(x, y, "o", markersize=4, label="toy data")
line_x = np.array([x.min(), x.max()])
ax.plot(line_x, TRUE_SLOPE * line_x + TRUE_INTERCEPT, "--", color="grey",
        label=f"true line: {TRUE_SLOPE:g} x + {TRUE_INTERCEPT:g}")
ax.plot(line_x, exact[0] * line_x + exact[1], color="tab:red",
        label=f"fit (minimum of J): {exact[0]:.3f} x + {exact[1]:.3f}")
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.set_title("Straight line fitted by minimizing the mean squared error")
ax.legend()
fig.tight_layout()
plotting.save_figure(fig, "intro_fit", args.outdir)

# %% Figure: the paths of the minimizers over the contour map of J
# Two panels over the same map: the three learning rates, then the optimizers.
# The contour levels are spaced evenly in log(J - J_min), so that the valley
# floor shows as well as the walls.
COLORS = {"gradient_descent_small": "tab:blue", "gradient_descent": "tab:green",
          "gradient_descent_large": "tab:red", "momentum": "tab:purple", "adam": "tab:orange",
          "scipy": "black", "iminuit": "tab:brown"}
corners = np.array([start, exact])
margin = 0.4 * np.ptp(corners, axis=0) + 0.3
slope_grid, intercept_grid = np.meshgrid(
    np.linspace(corners[:, 0].min() - margin[0], corners[:, 0].max() + margin[0], 200),
    np.linspace(corners[:, 1].min() - margin[1], corners[:, 1].max() + margin[1], 200))
# J at every point of the grid: one line per grid point, broadcast over the data.
loss_grid = np.mean((slope_grid[..., np.newaxis] * x + intercept_grid[..., np.newaxis] - y) ** 2,
                    axis=-1)
levels = minimum_loss + np.geomspace(1e-3, loss_grid.max() - minimum_loss, 15)
fig, axes = plotting.subplots(1, 2, figsize=(13, 5.5))
panels = (("Gradient descent with three learning rates",
           ("gradient_descent_small", "gradient_descent", "gradient_descent_large")),
          ("Momentum, Adam and scipy (BFGS)", ("gradient_descent", "momentum", "adam", "scipy")))
for ax, (title, keys) in zip(axes, panels):
    ax.contour(slope_grid, intercept_grid, loss_grid, levels=levels, cmap="viridis",
               linewidths=0.8)
    ax.plot(*exact, "*", color="gold", markeredgecolor="black", markersize=16, zorder=5,
            label="minimum")
    for key in keys:
        path = np.array(runs[key].path)
        # A path of many tiny steps is drawn as a wide pale band, so that the
        # paths drawn on top of it stay visible.
        style = ({"linewidth": 6, "alpha": 0.4} if runs[key].iterations > 500
                 else {"linewidth": 1, "marker": ".", "markersize": 3})
        ax.plot(path[:, 0], path[:, 1], color=COLORS[key], **style,
                label=f"{runs[key].label} ({runs[key].status}, {runs[key].iterations} it.)")
    ax.plot(*start, "s", color="black", label="random start")
    ax.set_xlim(slope_grid.min(), slope_grid.max())
    ax.set_ylim(intercept_grid.min(), intercept_grid.max())
    ax.set_xlabel("slope W[0]")
    ax.set_ylabel("intercept W[1]")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower left")
fig.suptitle("Contour map of the loss J(slope, intercept) and the paths of the minimizers")
fig.tight_layout()
plotting.save_figure(fig, "intro_paths", args.outdir)

# %% Figure: convergence, J - J_min against the iteration
# J itself levels off at J_min, so the distance to the minimum is drawn, on a
# log scale: a straight falling line means a constant factor gained per
# iteration.
fig, ax = plotting.subplots(figsize=(7, 4.5))
for key, run in runs.items():
    distance = np.maximum(np.array(run.losses) - minimum_loss, 1e-15)
    label = f"{run.label} ({run.status})"
    if key == "iminuit":
        label = "iminuit MIGRAD (lowest J so far, per J evaluation)"
    ax.plot(range(len(distance)), distance, color=COLORS[key],
            linestyle="--" if key == "iminuit" else "-", label=label)
ax.set_yscale("log")
ax.set_ylim(1e-15, 1e3)
ax.set_xlabel("iteration")
ax.set_ylabel("J - J_min")
ax.set_title("Convergence of the minimizers\n(a curve at the bottom edge has reached J_min "
             "to rounding precision)", fontsize=10)
ax.grid(True, alpha=0.3)
ax.legend(fontsize=8)
fig.tight_layout()
plotting.save_figure(fig, "intro_loss_history", args.outdir)

# %% Show the figures (on the command line; a notebook shows each under its cell)
plotting.show(args.no_show)
