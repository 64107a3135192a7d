"""Activation functions: the slide's table of seven, each drawn with its derivative.

Lecture slide "activation functions": a node computes a weighted sum of its
inputs plus a bias, z = sum_i w_i x_i + b, and passes it through an
activation function g(z).  The slide's table lists seven of them: linear,
step, sigmoid, tanh, ReLU, leaky ReLU and swish.  Here each is written out in
numpy with its derivative g'(z), which is what backpropagation multiplies
with; the table is printed with the range of every function, and each
function is drawn together with its derivative.

Two formulas follow the correct definitions where the slide's table has a
typo: leaky ReLU is 0.01 z for z < 0 (and z for z >= 0), and swish is
z sigmoid(beta z).  tests/test_slides.py checks every function that Keras
has (keras.activations) against these numpy definitions, and every
derivative against TensorFlow's automatic derivative (tf.GradientTape).

Result of a full run (the script's defaults, seeds 42 to 46; ``python
reproduce.py --seeds 5``, 2026-12-08, on Intel(R) Xeon(R) Processor (2 CPU
cores), CPU (no GPU visible), TensorFlow 2.21.0, load average 1.7-7.1): done
in 1 s.

What it prints: the ranges linear (-inf, inf), step {0, 1},
sigmoid (0, 1), tanh (-1, 1), ReLU [0, inf), leaky ReLU (-inf, inf) and
swish [-0.2785, inf): swish (beta = 1) is smallest at z = -1.2785.  The
step function's derivative is 0 everywhere except at z = 0, so gradient
descent gets no signal through it, which is why networks are trained with
the others.

Run ``python activationFunctions.py --help`` for the options.
"""

# %% Set-up
# The options are read first, so that --help answers at once.  In a notebook
# there is no command line: the lecture's settings are used (or the options in
# the environment variable DNN_NOTEBOOK_ARGS).
import numpy as np

from dnnkit import plotting, runtime

parser = runtime.make_parser(__doc__)
parser.add_argument("--beta", type=runtime.positive_float, default=1.0,
                    help="the parameter beta of swish, z * sigmoid(beta * z)")
parser.add_argument("--z-max", type=runtime.positive_float, default=5.0,
                    help="the figures show z from -Z_MAX to Z_MAX")
args = runtime.parse_args(parser)  # also seeds Python and numpy
LEAKY_SLOPE = 0.01  # the slope of leaky ReLU for z < 0, as on the slide


# %% The seven functions and their derivatives
# Each function takes a numpy array z (the weighted sums of a layer) and
# works element by element.
def linear(z):
    return z


def linear_derivative(z):
    return np.ones_like(z)


def step(z):
    return np.where(z >= 0, 1.0, 0.0)


def step_derivative(z):
    # 0 everywhere except at z = 0, where the step has no derivative.
    return np.zeros_like(z)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_derivative(z):
    return sigmoid(z) * (1.0 - sigmoid(z))


def tanh(z):
    return np.tanh(z)


def tanh_derivative(z):
    return 1.0 - np.tanh(z) ** 2


def relu(z):
    return np.maximum(z, 0.0)


def relu_derivative(z):
    # At z = 0 ReLU has no derivative; TensorFlow takes 0 there, and so do we.
    return np.where(z > 0, 1.0, 0.0)


def leaky_relu(z):
    # The correct definition: 0.01 z for z < 0, z for z >= 0.
    return np.where(z >= 0, z, LEAKY_SLOPE * z)


def leaky_relu_derivative(z):
    return np.where(z > 0, 1.0, LEAKY_SLOPE)


def swish(z, beta=args.beta):
    # The correct definition: z * sigmoid(beta z).  beta = 1 is Keras's swish.
    return z * sigmoid(beta * z)


def swish_derivative(z, beta=args.beta):
    # Product rule: sigmoid(beta z) + z * beta * sigmoid'(beta z).
    s = sigmoid(beta * z)
    return s + beta * z * s * (1.0 - s)


# %% The table
# Range: the values a function can take.  Swish has a minimum below zero;
# it is found here on a fine grid.
fine_z = np.linspace(-10.0 / args.beta, 0.0, 1_000_001)
swish_minimum = float(swish(fine_z).min())
swish_minimum_at = float(fine_z[np.argmin(swish(fine_z))])
table = [
    # name, function, derivative, formula, range
    ("linear", linear, linear_derivative, "g(z) = z", "(-inf, inf)"),
    ("step", step, step_derivative, "g(z) = 0 for z < 0, 1 for z >= 0", "{0, 1}"),
    ("sigmoid", sigmoid, sigmoid_derivative, "g(z) = 1 / (1 + exp(-z))", "(0, 1)"),
    ("tanh", tanh, tanh_derivative, "g(z) = (exp(z) - exp(-z)) / (exp(z) + exp(-z))", "(-1, 1)"),
    ("ReLU", relu, relu_derivative, "g(z) = max(0, z)", "[0, inf)"),
    ("leaky ReLU", leaky_relu, leaky_relu_derivative,
     f"g(z) = {LEAKY_SLOPE:g} z for z < 0, z for z >= 0", "(-inf, inf)"),
    ("swish", swish, swish_derivative, f"g(z) = z * sigmoid(beta z), beta = {args.beta:g}",
     f"[{swish_minimum:.4f}, inf)"),
]
print(f"{'function':<11} {'range':<18} formula")
for name, _, _, formula, value_range in table:
    print(f"{name:<11} {value_range:<18} {formula}")
print(f"Swish (beta = {args.beta:g}) is smallest at z = {swish_minimum_at:.4f}: "
      f"{swish_minimum:.4f}.")
print("The step function's derivative is 0 for every z != 0: gradient descent gets no "
      "signal through it.")

# %% Figure: every function with its derivative
z = np.linspace(-args.z_max, args.z_max, 1001)
fig, axes = plotting.subplots(2, 4, figsize=(14, 6.5))
for ax, (name, function, derivative, _, value_range) in zip(axes.flat, table):
    ax.plot(z, function(z), label="g(z)")
    ax.plot(z, derivative(z), "--", label="g'(z)")
    ax.axhline(0.0, color="gray", linewidth=0.5)
    ax.axvline(0.0, color="gray", linewidth=0.5)
    ax.set_title(f"{name}, range {value_range}")
    ax.set_xlabel("z")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left")
# The eighth panel: all seven functions together, near z = 0.
ax = axes.flat[7]
for name, function, _, _, _ in table:
    ax.plot(z, function(z), label=name)
ax.set_ylim(-1.5, 2.5)
ax.set_title("all seven")
ax.set_xlabel("z")
ax.grid(True, alpha=0.3)
ax.legend(loc="upper left", fontsize="small")
plotting.tight_layout(fig)
plotting.save_figure(fig, "activationFunctions_table", args.outdir)

# %% Figure: swish for several beta
# Swish with a large beta approaches ReLU; with beta -> 0 it becomes z / 2.
fig, ax = plotting.subplots(figsize=(6, 4.5))
for beta in (0.5, 1.0, 2.0, 10.0):
    ax.plot(z, swish(z, beta), label=f"swish, beta = {beta:g}")
ax.plot(z, relu(z), "k:", label="ReLU")
ax.set_xlabel("z")
ax.set_ylabel("g(z)")
ax.set_title("Swish z * sigmoid(beta z)")
ax.grid(True, alpha=0.3)
ax.legend(loc="upper left")
plotting.tight_layout(fig)
plotting.save_figure(fig, "activationFunctions_swish", args.outdir)

# %% Show the figures
plotting.show(args.no_show)
