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

Result of a default run (``python intro.py --no-show``, 3.3 s on the
2-core lecture machine): the minimum is slope 1.5679, intercept 0.4595
(J = 0.0505).  Gradient descent with eta = 0.3 converges in 129 iterations,
momentum (eta = 0.01) in 248, Adam (eta = 0.1) in 236; scipy (BFGS) needs 5
loss and 5 gradient evaluations, iminuit 32 loss evaluations.  All five agree
with the exact minimum within 1e-4 (largest difference 2.4e-6).  Gradient
descent with eta = 0.01 has not converged after 1000 iterations, and with
eta = 0.5, above the stability limit 2 / lambda_max = 0.457, it diverges
(J = 44.7 after 17 iterations).  HESSE gives slope 1.568 +- 0.072 and
intercept 0.460 +- 0.084, the same as the analytic sigma^2 (X^T X)^-1.

Run ``python intro.py --help`` for the options.
"""

# %% Set-up
from dataclasses import dataclass, field

import numpy as np

from dnnkit import plotting, runtime

# The toy data: a straight line with Gaussian noise of known size.
SAMPLES = 50
TRUE_SLOPE = 1.5
TRUE_INTERCEPT = 0.5
NOISE = 0.3

# Gradient descent with three learning rates: too small, good, too large.
# Plain gradient descent on this loss is stable only for eta < 2 / lambda_max,
# where lambda_max is the largest eigenvalue of the Hessian of J (2 / lambda_max
# is 0.457 here: 0.3 converges, 0.5 diverges).
SMALL_LEARNING_RATE = 0.01
LEARNING_RATE = 0.3
LARGE_LEARNING_RATE = 0.5
MAX_ITERATIONS = 1000

# Momentum and Adam.  Momentum runs with the too small learning rate, to show
# how the accumulated velocity speeds it up.
MOMENTUM_LEARNING_RATE = 0.01
MOMENTUM = 0.9
ADAM_LEARNING_RATE = 0.1
ADAM_BETA_1 = 0.9
ADAM_BETA_2 = 0.999
ADAM_EPSILON = 1e-8

# Convergence: stop when the length of the gradient is below this.
GRADIENT_TOLERANCE = 1e-6
# Divergence: stop when J has grown to this many times its starting value.
DIVERGENCE_FACTOR = 100
# All converged methods must find the minimum to within this (in slope and intercept).
AGREEMENT_TOLERANCE = 1e-4


def make_parser():
    parser = runtime.make_parser(__doc__)
    parser.add_argument("--learning-rate", type=runtime.positive_float, default=LEARNING_RATE,
                        help="the good learning rate eta of gradient descent")
    parser.add_argument("--small-learning-rate", type=runtime.positive_float,
                        default=SMALL_LEARNING_RATE,
                        help="a too small learning rate (slow convergence)")
    parser.add_argument("--large-learning-rate", type=runtime.positive_float,
                        default=LARGE_LEARNING_RATE,
                        help="a too large learning rate (oscillates or diverges)")
    parser.add_argument("--max-iterations", type=runtime.positive_int, default=MAX_ITERATIONS,
                        help="iteration cap of gradient descent, momentum and Adam")
    return parser


# %% Data
def make_data(rng):
    """Points on the line y = 1.5 x + 0.5 with Gaussian noise of 0.3."""
    x = np.linspace(0.0, 2.0, SAMPLES)
    y = TRUE_SLOPE * x + TRUE_INTERCEPT + rng.normal(0.0, NOISE, SAMPLES)
    return x, y


# %% The loss and its gradient
class LineLoss:
    """The mean squared error J(W) of the line f(x; W) = W[0] * x + W[1], W = (slope, intercept)."""

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def residuals(self, weights):
        return weights[0] * self.x + weights[1] - self.y

    def __call__(self, weights):
        """J(W) = 1/n sum_i (f(x_i; W) - y_i)^2."""
        return float(np.mean(self.residuals(weights) ** 2))

    def gradient(self, weights):
        """dJ/dW = 2/n sum_i (f(x_i; W) - y_i) * df/dW, with df/dW = (x_i, 1)."""
        residuals = self.residuals(weights)
        return np.array([2.0 * np.mean(residuals * self.x), 2.0 * np.mean(residuals)])

    def on_grid(self, slope_grid, intercept_grid):
        """J at every point of a grid of (slope, intercept) values, for the contour map."""
        predictions = slope_grid[..., np.newaxis] * self.x + intercept_grid[..., np.newaxis]
        return np.mean((predictions - self.y) ** 2, axis=-1)

    def hessian(self):
        """The matrix of second derivatives; constant, since J is quadratic in W."""
        return 2.0 * np.array([[np.mean(self.x ** 2), np.mean(self.x)],
                               [np.mean(self.x), 1.0]])

    def exact_minimum(self):
        """The least-squares solution of the normal equations (X^T X) W = X^T y."""
        design = np.column_stack([self.x, np.ones_like(self.x)])
        return np.linalg.solve(design.T @ design, design.T @ self.y)


# %% Minimizers
@dataclass
class MinimizerRun:
    """One minimization: where it went, what it found, what it cost."""

    label: str
    path: list = field(default_factory=list)     # W after every iteration, starting point first
    losses: list = field(default_factory=list)   # J(W) along the path (for the plots only)
    status: str = "not converged"                # "converged", "not converged" or "diverged"
    loss_evaluations: int = 0
    gradient_evaluations: int = 0
    counts_iterations: bool = True               # False for iminuit, which does not report them

    @property
    def weights(self):
        return self.path[-1]

    @property
    def iterations(self):
        return len(self.path) - 1 if self.counts_iterations else None

    @property
    def converged(self):
        return self.status == "converged"


def _diverged(loss_value, start_loss):
    """True when J is no longer a finite number or has grown far beyond its start."""
    return not np.isfinite(loss_value) or loss_value > DIVERGENCE_FACTOR * start_loss


def gradient_descent(loss, start, learning_rate, max_iterations):
    """The slide's loop: compute dJ/dW, update W <- W - eta dJ/dW, until converged."""
    run = MinimizerRun(label=f"gradient descent, eta = {learning_rate:g}")
    weights = np.array(start, dtype=float)
    run.path.append(weights.copy())
    run.losses.append(loss(weights))
    for _ in range(max_iterations):
        gradient = loss.gradient(weights)
        run.gradient_evaluations += 1
        if np.linalg.norm(gradient) < GRADIENT_TOLERANCE:
            run.status = "converged"
            break
        weights = weights - learning_rate * gradient
        run.path.append(weights.copy())
        run.losses.append(loss(weights))
        if _diverged(run.losses[-1], run.losses[0]):
            run.status = "diverged"
            break
    return run


def momentum_descent(loss, start, learning_rate, momentum, max_iterations):
    """Gradient descent with momentum: the step remembers the previous steps.

    velocity <- momentum * velocity - eta dJ/dW, then W <- W + velocity.  In a
    long narrow valley the steps across the valley cancel and those along it
    add up.
    """
    run = MinimizerRun(label=f"momentum {momentum:g}, eta = {learning_rate:g}")
    weights = np.array(start, dtype=float)
    velocity = np.zeros_like(weights)
    run.path.append(weights.copy())
    run.losses.append(loss(weights))
    for _ in range(max_iterations):
        gradient = loss.gradient(weights)
        run.gradient_evaluations += 1
        if np.linalg.norm(gradient) < GRADIENT_TOLERANCE:
            run.status = "converged"
            break
        velocity = momentum * velocity - learning_rate * gradient
        weights = weights + velocity
        run.path.append(weights.copy())
        run.losses.append(loss(weights))
        if _diverged(run.losses[-1], run.losses[0]):
            run.status = "diverged"
            break
    return run


def adam(loss, start, learning_rate, max_iterations, beta_1=ADAM_BETA_1, beta_2=ADAM_BETA_2,
         epsilon=ADAM_EPSILON):
    """Adam: a step size of its own for every parameter.

    Keeps running averages of the gradient (m) and of its square (v) and steps
    by eta * m / sqrt(v): a parameter with steep gradients takes smaller steps,
    one with shallow gradients larger ones.  The averages start at zero, so
    they are divided by (1 - beta^t) to correct for that start.
    """
    run = MinimizerRun(label=f"Adam, eta = {learning_rate:g}")
    weights = np.array(start, dtype=float)
    mean_gradient = np.zeros_like(weights)
    mean_squared_gradient = np.zeros_like(weights)
    run.path.append(weights.copy())
    run.losses.append(loss(weights))
    for step in range(1, max_iterations + 1):
        gradient = loss.gradient(weights)
        run.gradient_evaluations += 1
        if np.linalg.norm(gradient) < GRADIENT_TOLERANCE:
            run.status = "converged"
            break
        mean_gradient = beta_1 * mean_gradient + (1 - beta_1) * gradient
        mean_squared_gradient = beta_2 * mean_squared_gradient + (1 - beta_2) * gradient ** 2
        corrected_mean = mean_gradient / (1 - beta_1 ** step)
        corrected_squared = mean_squared_gradient / (1 - beta_2 ** step)
        weights = weights - learning_rate * corrected_mean / (np.sqrt(corrected_squared) + epsilon)
        run.path.append(weights.copy())
        run.losses.append(loss(weights))
        if _diverged(run.losses[-1], run.losses[0]):
            run.status = "diverged"
            break
    return run


def minimize_with_scipy(loss, start):
    """scipy.optimize.minimize (BFGS: a quasi-Newton method) with our gradient."""
    from scipy import optimize

    run = MinimizerRun(label="scipy.optimize.minimize (BFGS)")
    run.path.append(np.array(start, dtype=float))
    run.losses.append(loss(start))

    def record(intermediate_result):
        run.path.append(intermediate_result.x.copy())
        run.losses.append(loss(intermediate_result.x))

    result = optimize.minimize(loss, start, jac=loss.gradient, method="BFGS", callback=record)
    run.status = "converged" if result.success else f"not converged ({result.message})"
    run.loss_evaluations = result.nfev
    run.gradient_evaluations = result.njev
    if not np.allclose(run.path[-1], result.x):
        run.path.append(result.x.copy())
        run.losses.append(loss(result.x))
    return run


def minimize_with_iminuit(loss, start, sample_count, noise):
    """iminuit: MIGRAD finds the minimum, HESSE the parameter uncertainties.

    Minuit reads uncertainties off the cost: the 1-sigma range of a parameter
    is where the cost rises by ``errordef`` above its minimum.  For a
    chi-square, chi2 = sum_i ((f(x_i) - y_i) / sigma)^2, that rise is 1
    (``Minuit.LEAST_SQUARES``), and chi2 = n J / sigma^2, so we minimize the
    chi-square: same minimum as J, and correct uncertainties.  (Minimizing J
    itself would need errordef = sigma^2 / n; with the default errordef = 1 the
    uncertainties would be wrong by a factor sqrt(n) / sigma.)

    Returns the run and the HESSE uncertainties ``{"slope": ..., "intercept": ...}``.
    """
    from iminuit import Minuit

    run = MinimizerRun(label="iminuit (MIGRAD)", counts_iterations=False)
    evaluated_losses = []  # J at every call, to draw the progress of MIGRAD

    def chi_square(slope, intercept):
        mean_squared_error = loss((slope, intercept))
        evaluated_losses.append(mean_squared_error)
        return sample_count * mean_squared_error / noise ** 2

    minuit = Minuit(chi_square, slope=start[0], intercept=start[1])
    minuit.errordef = Minuit.LEAST_SQUARES
    minuit.migrad()
    run.loss_evaluations = minuit.nfcn
    run.status = "converged" if minuit.valid else "not converged (MIGRAD minimum not valid)"
    minuit.hesse()
    run.path = [np.array(start, dtype=float), np.array(minuit.values)]
    run.losses = list(np.minimum.accumulate(evaluated_losses[:run.loss_evaluations]))
    uncertainties = {"slope": minuit.errors["slope"], "intercept": minuit.errors["intercept"]}
    return run, uncertainties


# %% Evaluation
def check_agreement(runs, exact):
    """Largest difference of any converged method from the exact minimum."""
    converged = {key: run for key, run in runs.items() if run.converged}
    differences = {key: float(np.max(np.abs(run.weights - exact)))
                   for key, run in converged.items()}
    worst = max(differences, key=differences.get)
    return differences, worst


def print_table(runs, loss, exact):
    header = (f"{'method':<34} {'slope':>9} {'intercept':>10} {'J':>10} "
              f"{'iterations':>10} {'J evals':>8} {'dJ/dW evals':>11}  status")
    print(header)
    print("-" * len(header))
    print(f"{'exact (normal equations)':<34} {exact[0]:9.5f} {exact[1]:10.5f} "
          f"{loss(exact):10.6f}")
    for run in runs.values():
        if run.status == "diverged":
            # A diverged run has no result; its status says how far J had grown.
            numbers = f"{'-':>9} {'-':>10} {'-':>10}"
        else:
            numbers = f"{run.weights[0]:9.5f} {run.weights[1]:10.5f} {loss(run.weights):10.6f}"
        iterations = "-" if run.iterations is None else str(run.iterations)
        status = run.status
        if run.status == "not converged":
            status = f"not converged after {run.iterations} iterations"
        elif run.status == "diverged":
            status = (f"diverged (J = {run.losses[-1]:.3g} after {run.iterations} "
                      f"iterations)")
        print(f"{run.label:<34} {numbers} {iterations:>10} {run.loss_evaluations or '-':>8} "
              f"{run.gradient_evaluations or '-':>11}  {status}")
    print("(Gradient descent, momentum and Adam use only dJ/dW; J along their path is "
          "computed for the plots.)")


# %% Plots
COLORS = {"gradient_descent_small": "tab:blue", "gradient_descent": "tab:green",
          "gradient_descent_large": "tab:red", "momentum": "tab:purple", "adam": "tab:orange",
          "scipy": "black", "iminuit": "tab:brown"}


def plot_fit(x, y, exact):
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
    return fig


def _loss_contours(ax, loss, exact, limits):
    """Draw J as a contour map over ``limits`` = (slope range, intercept range)."""
    slopes = np.linspace(*limits[0], 200)
    intercepts = np.linspace(*limits[1], 200)
    slope_grid, intercept_grid = np.meshgrid(slopes, intercepts)
    values = loss.on_grid(slope_grid, intercept_grid)
    minimum = loss(exact)
    # Levels spaced evenly in log(J - J_min), so the valley floor shows as well as the walls.
    levels = minimum + np.geomspace(1e-3, values.max() - minimum, 15)
    ax.contour(slope_grid, intercept_grid, values, levels=levels, cmap="viridis",
               linewidths=0.8)
    ax.plot(*exact, "*", color="gold", markeredgecolor="black", markersize=16, zorder=5,
            label="minimum")
    ax.set_xlim(limits[0])
    ax.set_ylim(limits[1])
    ax.set_xlabel("slope W[0]")
    ax.set_ylabel("intercept W[1]")


def plot_paths(runs, loss, exact):
    """Two panels over the same contour map of J: learning rates, then optimizers."""
    points = np.array([runs["gradient_descent"].path[0], exact])
    margin = 0.4 * np.ptp(points, axis=0) + 0.3
    limits = [(points[:, i].min() - margin[i], points[:, i].max() + margin[i]) for i in range(2)]
    fig, axes = plotting.subplots(1, 2, figsize=(13, 5.5))
    panels = (("Gradient descent with three learning rates",
               ("gradient_descent_small", "gradient_descent", "gradient_descent_large")),
              ("Momentum, Adam and scipy (BFGS)",
               ("gradient_descent", "momentum", "adam", "scipy")))
    for ax, (title, keys) in zip(axes, panels):
        _loss_contours(ax, loss, exact, limits)
        for key in keys:
            run = runs[key]
            path = np.array(run.path)
            # A path of many tiny steps is drawn as a wide pale band, so that the
            # paths drawn on top of it stay visible.
            style = ({"linewidth": 6, "alpha": 0.4} if run.iterations > 500
                     else {"linewidth": 1, "marker": ".", "markersize": 3})
            ax.plot(path[:, 0], path[:, 1], color=COLORS[key], **style,
                    label=f"{run.label} ({run.status}, {run.iterations} it.)")
        ax.plot(*runs["gradient_descent"].path[0], "s", color="black", label="random start")
        ax.set_title(title)
        ax.legend(fontsize=8, loc="lower left")
    fig.suptitle("Contour map of the loss J(slope, intercept) and the paths of the minimizers")
    fig.tight_layout()
    return fig


def plot_loss_history(runs, loss, exact):
    """J - J_min against the iteration, on a log scale.

    J itself levels off at J_min, so we plot the distance to the minimum: a
    straight falling line on the log scale means a constant factor gained per
    iteration.
    """
    minimum = loss(exact)
    fig, ax = plotting.subplots(figsize=(7, 4.5))
    for key, run in runs.items():
        distance = np.maximum(np.array(run.losses) - minimum, 1e-15)
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
    return fig


# %% Main: data, minimizers, evaluation, plots
def main(argv=None):
    args = runtime.parse_args(make_parser(), argv)
    rng = np.random.default_rng(args.seed)
    x, y = make_data(rng)
    loss = LineLoss(x, y)
    exact = loss.exact_minimum()
    # The slide: initialize the weights randomly.  All methods start from here.
    start = rng.normal(0.0, 2.0, size=2)
    stability_limit = 2.0 / np.linalg.eigvalsh(loss.hessian()).max()
    print(f"{SAMPLES} points on y = {TRUE_SLOPE:g} x + {TRUE_INTERCEPT:g} with noise {NOISE:g}; "
          f"random start W = ({start[0]:.3f}, {start[1]:.3f}).")
    print(f"Gradient descent on this J is stable for eta < 2 / lambda_max(Hessian) "
          f"= {stability_limit:.3f}.\n")

    runs = {
        "gradient_descent_small": gradient_descent(loss, start, args.small_learning_rate,
                                                   args.max_iterations),
        "gradient_descent": gradient_descent(loss, start, args.learning_rate, args.max_iterations),
        "gradient_descent_large": gradient_descent(loss, start, args.large_learning_rate,
                                                   args.max_iterations),
        "momentum": momentum_descent(loss, start, MOMENTUM_LEARNING_RATE, MOMENTUM,
                                     args.max_iterations),
        "adam": adam(loss, start, ADAM_LEARNING_RATE, args.max_iterations),
        "scipy": minimize_with_scipy(loss, start),
    }
    runs["iminuit"], uncertainties = minimize_with_iminuit(loss, start, SAMPLES, NOISE)

    print_table(runs, loss, exact)
    differences, worst = check_agreement(runs, exact)
    agree = differences[worst] <= AGREEMENT_TOLERANCE
    print(f"\nCheck: the {len(differences)} converged methods agree with the exact minimum "
          f"within {AGREEMENT_TOLERANCE:g} in slope and intercept: largest difference "
          f"{differences[worst]:.1e} ({runs[worst].label}) -> {'OK' if agree else 'FAILED'}")
    # For comparison, the analytic covariance of a least-squares fit,
    # sigma^2 (X^T X)^-1, where X^T X = n/2 * Hessian of J.
    analytic = np.sqrt(np.diag(NOISE ** 2 * np.linalg.inv(SAMPLES / 2.0 * loss.hessian())))
    fitted = runs["iminuit"].weights
    print(f"iminuit HESSE: slope = {fitted[0]:.4f} +- {uncertainties['slope']:.4f}, "
          f"intercept = {fitted[1]:.4f} +- {uncertainties['intercept']:.4f} "
          f"(analytic sigma^2 (X^T X)^-1: +- {analytic[0]:.4f}, +- {analytic[1]:.4f})")

    figures = {
        "fit": plot_fit(x, y, exact),
        "paths": plot_paths(runs, loss, exact),
        "loss_history": plot_loss_history(runs, loss, exact),
    }
    paths = {name: plotting.save_figure(figure, f"intro_{name}", args.outdir)
             for name, figure in figures.items()}
    print(f"Figures saved in {args.outdir}/: " + ", ".join(path.name for path in paths.values()))
    plotting.show(args.no_show)

    return {
        "minimum": {"slope": float(exact[0]), "intercept": float(exact[1]),
                    "loss": loss(exact)},
        "runs": {key: {"label": run.label, "status": run.status,
                       "slope": float(run.weights[0]), "intercept": float(run.weights[1]),
                       "loss": loss(run.weights), "iterations": run.iterations,
                       "loss_evaluations": run.loss_evaluations,
                       "gradient_evaluations": run.gradient_evaluations}
                 for key, run in runs.items()},
        "stability_limit": float(stability_limit),
        "tolerance": AGREEMENT_TOLERANCE,
        "largest_difference": differences[worst],
        "converged_methods": sorted(differences),
        "methods_agree": bool(agree),
        "uncertainties": uncertainties,
        "analytic_uncertainties": {"slope": float(analytic[0]), "intercept": float(analytic[1])},
        "figures": paths,
    }


if __name__ == "__main__":
    runtime.run_script(main)
