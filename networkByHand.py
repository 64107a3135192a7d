"""A network by hand: forward propagation, softmax, the losses and the initial weights in numpy.

Lecture slides "forward propagation", "softmax", "loss functions" and
"weight initialization".  A small dense Keras network (4 inputs, a hidden
layer of 8 ReLU nodes, 3 softmax outputs) is trained briefly on toy data;
then its output is computed by hand in numpy from its weights, with the
slide's formulas z = W a + b and a = g(z) layer by layer, and compared with
``model.predict``.  Softmax, the categorical cross-entropy and the mean
squared error are written out and compared with Keras's.  The slide's
cross-entropy lacks the minus sign: it is L = -sum_k y_k log(p_k), which is
positive because log(p) < 0.  Finally the initial weights of a new Dense
layer are drawn as a histogram against the slide's bound: the weights are
uniform within +-sqrt(3 var) with var = 2 / (N_in + N_out), which is
Keras's default initializer, glorot_uniform (Glorot and Bengio 2010).

Result of a full run (the script's defaults, seeds 42 to 46; ``python
reproduce.py --seeds 5``, 2026-12-08, on Intel(R) Xeon(R) Processor (2 CPU
cores), CPU (no GPU visible), TensorFlow 2.21.0, load average 1.7-7.1): done
in 9 s.

What it prints with its defaults (seeded; TensorFlow 2.21): training accuracy 0.8259 after 20 epochs; the output by hand
differs from ``model.predict`` by at most 5.7e-08, softmax from Keras's by
3.5e-18, the cross-entropy (0.273082) by 2.5e-09 and the MSE (0.061260) by
2.2e-09, all within the printed tolerance 1e-05 (Keras computes in
float32).  The 100352 initial weights of Dense(128) on 784 inputs lie
within +-sqrt(3 * 2 / (784 + 128)) = 0.0811 (largest |w| 0.0811), with
variance 0.002192 against the slide's 2 / (784 + 128) = 0.002193.

Run ``python networkByHand.py --help`` for the options.
"""

# %% Set-up
# The options are read first, before TensorFlow is imported, so that --help
# answers at once.  In a notebook there is no command line: the lecture's
# settings are used (or the options in the environment variable
# DNN_NOTEBOOK_ARGS).
import numpy as np

from dnnkit import plotting, runtime, training

parser = runtime.make_parser(__doc__, epochs=20, batch_size=32)
args = runtime.parse_args(parser)  # also seeds Python and numpy
tf = runtime.setup_tensorflow(args)  # prints the device and seeds TensorFlow
from tensorflow import keras  # noqa: E402

# Keras computes in float32, about 7 significant digits; numpy here in float64.
TOLERANCE = 1e-5

# %% Data: three classes of points in four dimensions
# Each class is a Gaussian cloud around its own centre; the labels are one-hot
# vectors, the targets y of the categorical cross-entropy.
CLASSES = 3
FEATURES = 4
SAMPLES_PER_CLASS = 200
rng = np.random.default_rng(args.seed)
centres = rng.normal(0.0, 3.0, size=(CLASSES, FEATURES))
x = np.concatenate([rng.normal(centre, 1.0, size=(SAMPLES_PER_CLASS, FEATURES))
                    for centre in centres]).astype("float32")
labels = np.repeat(np.arange(CLASSES), SAMPLES_PER_CLASS)
y = np.eye(CLASSES, dtype="float32")[labels]  # one-hot: class 2 -> (0, 0, 1)
order = rng.permutation(len(x))
x, y, labels = x[order], y[order], labels[order]
print("x:", x.shape, " y:", y.shape, " first target:", y[0])

# %% Model: 4 inputs -> 8 ReLU nodes -> 3 softmax outputs
model = keras.Sequential([
    keras.Input(shape=(FEATURES,)),
    keras.layers.Dense(8, activation="relu"),
    keras.layers.Dense(CLASSES, activation="softmax"),
], name="small_dense")
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
model.summary()

# %% Training (briefly, so that the weights and biases are no longer the initial ones)
history = model.fit(x, y, epochs=args.epochs, batch_size=args.batch_size, validation_split=0.1,
                    verbose=training.verbosity())
print(f"Training accuracy after {args.epochs} epochs: {history.history['accuracy'][-1]:.4f}")

# %% Forward propagation by hand
# The slide: z^(l) = W^(l) a^(l-1) + b^(l) and a^(l) = g(z^(l)), starting with
# a^(0) = x.  Keras stores each layer's W transposed, as a (N_in, N_out)
# kernel, so that a whole batch of samples (one per row) is done at once:
# z = a @ kernel + b.
def relu(z):
    return np.maximum(z, 0.0)


def softmax(z):
    # Subtracting the row's largest z changes nothing (it cancels in the
    # fraction) but keeps exp from overflowing.
    exp_z = np.exp(z - z.max(axis=1, keepdims=True))
    return exp_z / exp_z.sum(axis=1, keepdims=True)


batch = x[:5].astype(np.float64)
(kernel_1, bias_1), (kernel_2, bias_2) = (layer.get_weights() for layer in model.layers)
print("W1 (kernel):", kernel_1.shape, " b1:", bias_1.shape, " W2:", kernel_2.shape,
      " b2:", bias_2.shape)
z_1 = batch @ kernel_1 + bias_1  # hidden layer: weighted sums
a_1 = relu(z_1)  # hidden layer: activations
z_2 = a_1 @ kernel_2 + bias_2  # output layer: weighted sums (logits)
by_hand = softmax(z_2)  # output layer: probabilities of the 3 classes
by_keras = model.predict(batch.astype("float32"), verbose=0)
forward_difference = float(np.abs(by_hand - by_keras).max())
print("By hand:\n", np.round(by_hand, 5))
print("model.predict:\n", np.round(by_keras, 5))
print(f"Output by hand vs model.predict: largest difference {forward_difference:.1e} "
      f"(tolerance {TOLERANCE:g})")

# %% Softmax, cross-entropy and MSE by hand
# softmax: p_k = exp(z_k) / sum_j exp(z_j), positive and adding up to 1.
# Categorical cross-entropy: L = -sum_k y_k log(p_k), averaged over the
# samples.  The slide writes it without the minus sign; with it the loss is
# positive (log p < 0), and 0 only for p = 1 on the right class.
# Mean squared error: L = 1/K sum_k (y_k - p_k)^2, averaged over the samples.
targets = y[:5].astype(np.float64)
softmax_difference = float(np.abs(softmax(z_2) - np.asarray(
    keras.activations.softmax(tf.constant(z_2)))).max())
cross_entropy = float(np.mean(-np.sum(targets * np.log(by_hand), axis=1)))
mse = float(np.mean(np.mean((targets - by_hand) ** 2, axis=1)))
keras_cross_entropy = float(keras.losses.CategoricalCrossentropy()(targets, by_hand))
keras_mse = float(keras.losses.MeanSquaredError()(targets, by_hand))
cross_entropy_difference = abs(cross_entropy - keras_cross_entropy)
mse_difference = abs(mse - keras_mse)
print(f"Softmax by hand vs keras.activations.softmax: largest difference "
      f"{softmax_difference:.1e} (tolerance {TOLERANCE:g})")
print(f"Cross-entropy by hand {cross_entropy:.6f}, Keras {keras_cross_entropy:.6f}: "
      f"difference {cross_entropy_difference:.1e} (tolerance {TOLERANCE:g})")
print(f"MSE by hand {mse:.6f}, Keras {keras_mse:.6f}: difference {mse_difference:.1e} "
      f"(tolerance {TOLERANCE:g})")

# %% Weight initialization
# The slide: var(W) = 2 / (N_in + N_out), and W drawn uniformly within
# +-sqrt(3 var) (a uniform distribution on [-a, a] has variance a^2 / 3).
# That is Keras's default kernel initializer for Dense and Conv2D layers,
# glorot_uniform; the biases start at zero.  Here: a new Dense layer with
# 128 nodes on 784 inputs, the first layer of clothingSequential.py.
N_IN, N_OUT = 784, 128
new_layer_model = keras.Sequential([keras.Input(shape=(N_IN,)), keras.layers.Dense(N_OUT)])
initial_weights, initial_biases = new_layer_model.layers[0].get_weights()
variance = 2.0 / (N_IN + N_OUT)
bound = float(np.sqrt(3.0 * variance))
largest_weight = float(np.abs(initial_weights).max())
print(f"{initial_weights.size} initial weights of Dense({N_OUT}) on {N_IN} inputs: "
      f"|w| at most {largest_weight:.4f}, bound sqrt(3 * 2 / ({N_IN} + {N_OUT})) = {bound:.4f}")
print(f"Variance of the weights {initial_weights.var():.6f}, slide 2 / (N_in + N_out) = "
      f"{variance:.6f}; biases all zero: {not initial_biases.any()}")

# %% Figure: softmax outputs and the losses of three samples
fig, axes = plotting.subplots(1, 3, figsize=(12, 3.8), sharey=True)
for sample, ax in enumerate(axes):
    classes = np.arange(CLASSES)
    ax.bar(classes, by_hand[sample], color="tab:blue", label="softmax by hand")
    ax.plot(classes, by_keras[sample], "k_", markersize=30, markeredgewidth=2,
            label="model.predict")
    ax.plot(classes, targets[sample], "rx", markersize=10, label="target y (one-hot)")
    sample_cross_entropy = -np.sum(targets[sample] * np.log(by_hand[sample]))
    sample_mse = np.mean((targets[sample] - by_hand[sample]) ** 2)
    ax.set_title(f"sample {sample}: cross-entropy {sample_cross_entropy:.3f}, "
                 f"MSE {sample_mse:.3f}", fontsize="medium")
    ax.set_xticks(classes)
    ax.set_xlabel("class k")
axes[0].set_ylabel("p_k")
axes[0].set_ylim(0.0, 1.6)  # room for the legend above the bars
axes[0].legend(loc="upper left", fontsize="small")
plotting.tight_layout(fig)
plotting.save_figure(fig, "networkByHand_softmax", args.outdir)

# %% Figure: the initial weights against the slide's bound
fig, ax = plotting.subplots(figsize=(6.5, 4.5))
ax.hist(initial_weights.ravel(), bins=60, color="tab:blue", alpha=0.8)
for sign in (-1, 1):
    ax.axvline(sign * bound, color="tab:red", linestyle="--")
ax.set_title(f"Initial weights of Dense({N_OUT}) on {N_IN} inputs (glorot_uniform)")
ax.set_xlabel(f"weight (red: +-sqrt(3 * 2 / (N_in + N_out)) = +-{bound:.4f})")
ax.set_ylabel("weights per bin")
plotting.tight_layout(fig)
plotting.save_figure(fig, "networkByHand_initial_weights", args.outdir)

# %% Show the figures
plotting.show(args.no_show)
