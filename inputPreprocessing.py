"""Preparing the inputs: standardize, log then standardize, decorrelate, split 60:20:20.

Lecture slide "preprocessing": a network learns best when every input is of
order one and centred on zero.  Gaussian-like inputs are standardized (minus
the mean, divided by the standard deviation); inputs that peak at zero with
a long tail are first compressed with a logarithm, then standardized;
correlated inputs are decorrelated (PCA whitening); and the data are split
60:20:20 into a training, a validation and a test set.  The statistics
(means, standard deviations, principal components) are taken from the
training set only and applied unchanged to the other two: the validation
and test sets stand for data the network has never seen, and statistics
taken from them would let the test result profit from the test data
(information leak), so it would come out too optimistic.

Toy inputs: 10000 samples of three features, a Gaussian (mean 50, spread
10), a second one correlated with it (correlation 0.8 by construction), and
an exponential one that peaks at zero (scale 20), with a label 0/1.
scikit-learn does the work: ``train_test_split``, ``StandardScaler`` and
``PCA(whiten=True)``, each fitted on the training set only (``fit``) and
applied to all three parts (``transform``).

Result of a full run (the script's defaults, seeds 42 to 46; ``python
reproduce.py --seeds 5``, 2026-12-08, on Intel(R) Xeon(R) Processor (2 CPU
cores), CPU (no GPU visible), TensorFlow 2.21.0, load average 1.7-7.1): done
in 3 s.

What it prints (seeded: the same numbers every run): the split gives 6000, 2000 and 2000
samples, each with 49.8 % of label 1; after standardizing with the training
statistics, the training part has mean 0 and std 1, the validation part
mean (-0.010, 0.004) and std (1.013, 1.007): close, not equal, as new
data should be.  The input that peaks at zero reaches 9.20 standard
deviations when only standardized, 2.68 after the log.  The correlation
0.796 between the first two inputs becomes 4.4e-16 after whitening on the
training part, and at most 0.044 on the test part.

Run ``python inputPreprocessing.py --help`` for the options.
"""

# %% Set-up
# The options are read first, so that --help answers at once.  In a notebook
# there is no command line: the lecture's settings are used (or the options in
# the environment variable DNN_NOTEBOOK_ARGS).
import numpy as np

from dnnkit import plotting, runtime
from dnnkit.errors import UserError

parser = runtime.make_parser(__doc__)
parser.add_argument("--samples", type=runtime.positive_int, default=10000,
                    help="number of toy samples")
args = runtime.parse_args(parser)  # also seeds Python and numpy
MIN_SAMPLES = 20  # enough for every part of the split to hold both labels
if args.samples < MIN_SAMPLES:
    raise UserError(f"argument --samples: must be at least {MIN_SAMPLES}, got {args.samples}")

# %% Toy inputs
# Three features per sample: Gaussian-like, correlated with the first, and
# peaking at zero with a long tail.  The label says whether the first two
# features add up to more than their typical sum.
FEATURES = ["gaussian", "correlated", "peaks at zero"]
rng = np.random.default_rng(args.seed)
gaussian = rng.normal(50.0, 10.0, args.samples)
correlated = 0.8 * gaussian + rng.normal(0.0, 6.0, args.samples)  # correlation 8 / 10 = 0.8
peaks_at_zero = rng.exponential(20.0, args.samples)
x = np.column_stack([gaussian, correlated, peaks_at_zero])
y = (gaussian + correlated + rng.normal(0.0, 5.0, args.samples) > 90.0).astype(int)
print("x:", x.shape, " y:", y.shape, f" (label 1: {y.mean():.1%} of the samples)")
for name, column in zip(FEATURES, x.T):
    print(f"{name:<14} mean {column.mean():7.2f}  std {column.std():6.2f}  "
          f"min {column.min():7.2f}  max {column.max():7.2f}")

# %% Split 60:20:20 into training, validation and test set
# Every sample lands in exactly one part: 60 % for training, the other 40 %
# halved into validation and test.  stratify= keeps the share of label 1 in
# every part.  From here on only the training part is used to compute statistics.
from sklearn.model_selection import train_test_split  # noqa: E402

x_train, x_rest, y_train, y_rest = train_test_split(x, y, train_size=0.6, stratify=y,
                                                    random_state=args.seed)
x_val, x_test, y_val, y_test = train_test_split(x_rest, y_rest, test_size=0.5, stratify=y_rest,
                                                random_state=args.seed)
parts = {"training": (x_train, y_train), "validation": (x_val, y_val), "test": (x_test, y_test)}
for part, (x_part, y_part) in parts.items():
    print(f"{part:<10} {len(x_part):6d} samples ({len(x_part) / len(x):.0%}), "
          f"label 1: {y_part.mean():.1%}")

# %% Standardize the Gaussian-like inputs
# (x - mean) / std with the mean and std of the TRAINING set, for all three
# parts: the validation and test sets stand for new data, whose statistics
# the network would not know in advance.  StandardScaler's fit computes them,
# its transform applies them.
from sklearn.preprocessing import StandardScaler  # noqa: E402

GAUSSIAN_LIKE = [0, 1]
scaler = StandardScaler().fit(x_train[:, GAUSSIAN_LIKE])
mean, std = scaler.mean_, scaler.scale_
print("Training mean", np.round(mean, 3), " std", np.round(std, 3))
standardized = {part: scaler.transform(x_part[:, GAUSSIAN_LIKE])
                for part, (x_part, _) in parts.items()}
for part, values in standardized.items():
    print(f"{part:<10} after standardizing: mean {np.round(values.mean(axis=0), 3) + 0.0}, "
          f"std {np.round(values.std(axis=0), 3)}")

# %% Log, then standardize, the input that peaks at zero
# log(x + 1) spreads the many small values and pulls in the long tail
# (x = 0 stays 0); standardizing afterwards centres it.  Standardized
# without the log it keeps its long tail: a few values far above 3.
PEAKS_AT_ZERO = 2
logged = {part: np.log(x_part[:, [PEAKS_AT_ZERO]] + 1.0) for part, (x_part, _) in parts.items()}
log_scaler = StandardScaler().fit(logged["training"])
log_standardized = {part: log_scaler.transform(values) for part, values in logged.items()}
tail_standardized = StandardScaler().fit_transform(x_train[:, [PEAKS_AT_ZERO]])
print(f"Peaks at zero, standardized only: largest value {tail_standardized.max():.2f}; "
      f"log then standardized: {log_standardized['training'].max():.2f}")

# %% Decorrelate (PCA whitening)
# The standardized inputs are rotated onto their principal components and
# each component divided by its spread: afterwards the training set's
# covariance matrix is the identity, so no input repeats what another says.
from sklearn.decomposition import PCA  # noqa: E402

prepared = {part: np.column_stack([standardized[part], log_standardized[part]])
            for part in parts}
pca = PCA(whiten=True).fit(prepared["training"])
whitened = {part: pca.transform(values) for part, values in prepared.items()}
correlation_before = np.corrcoef(x_train.T)
correlation_after = np.corrcoef(whitened["training"].T)
largest_correlation_after = float(np.abs(correlation_after - np.eye(len(FEATURES))).max())
print("Correlation matrix of the training inputs before:\n", np.round(correlation_before, 3))
print("after whitening:\n", np.round(correlation_after, 3) + 0.0)
print(f"Largest correlation after whitening: training {largest_correlation_after:.1e}, "
      f"test {np.abs(np.corrcoef(whitened['test'].T) - np.eye(len(FEATURES))).max():.3f}")

# %% Figure: the raw inputs
fig, axes = plotting.subplots(1, 3, figsize=(12, 3.6))
for ax, name, column in zip(axes, FEATURES, x_train.T):
    ax.hist(column, bins=60, color="tab:gray")
    ax.set_title(f"{name} (raw)")
    ax.set_xlabel("value")
axes[0].set_ylabel("training samples")
plotting.tight_layout(fig)
plotting.save_figure(fig, "inputPreprocessing_raw", args.outdir)

# %% Figure: after standardizing, and after log then standardizing
fig, axes = plotting.subplots(1, 4, figsize=(15, 3.6), sharex=True)
panels = [(standardized["training"][:, 0], "gaussian, standardized"),
          (standardized["training"][:, 1], "correlated, standardized"),
          (tail_standardized[:, 0], "peaks at zero, standardized only"),
          (log_standardized["training"][:, 0], "peaks at zero, log then standardized")]
for ax, (values, title) in zip(axes, panels):
    ax.hist(values, bins=np.linspace(-4, 8, 97), color="tab:blue")
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.set_title(title, fontsize="medium")
    ax.set_xlabel("value (in training standard deviations)")
axes[0].set_ylabel("training samples")
plotting.tight_layout(fig)
plotting.save_figure(fig, "inputPreprocessing_standardized", args.outdir)

# %% Figure: decorrelation
fig, axes = plotting.subplots(1, 2, figsize=(10, 4.6))
axes[0].scatter(prepared["training"][:, 0], prepared["training"][:, 1], s=2, alpha=0.3)
axes[0].set_title(f"standardized: correlation {correlation_before[0, 1]:.2f}")
axes[0].set_xlabel("gaussian")
axes[0].set_ylabel("correlated")
axes[1].scatter(whitened["training"][:, 0], whitened["training"][:, 1], s=2, alpha=0.3,
                color="tab:orange")
axes[1].set_title(f"whitened: correlation {round(correlation_after[0, 1], 2) + 0.0:.2f}")
axes[1].set_xlabel("principal component 1")
axes[1].set_ylabel("principal component 2")
for ax in axes:
    ax.set_xlim(-4.5, 4.5)
    ax.set_ylim(-4.5, 4.5)
    ax.set_aspect("equal")
plotting.tight_layout(fig)
plotting.save_figure(fig, "inputPreprocessing_decorrelated", args.outdir)

# %% Figure: the correlation matrix before and after
fig, axes = plotting.subplots(1, 2, figsize=(12, 4.8))
for ax, matrix, title, labels in (
        (axes[0], correlation_before, "before (raw inputs)", FEATURES),
        (axes[1], correlation_after, "after whitening", ["component 1", "component 2",
                                                         "component 3"])):
    picture = ax.imshow(matrix, cmap="RdBu_r", vmin=-1, vmax=1)
    for (i, j), value in np.ndenumerate(np.round(matrix, 2) + 0.0):
        ax.text(j, i, f"{value:.2f}", ha="center", va="center",
                color="white" if abs(value) > 0.5 else "black")
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=20)
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels)
    ax.set_title(f"Correlation matrix {title}", fontsize="medium")
    fig.colorbar(picture, ax=ax, shrink=0.8)
plotting.tight_layout(fig)
plotting.save_figure(fig, "inputPreprocessing_correlation", args.outdir)

# %% Show the figures
plotting.show(args.no_show)
