"""The overtraining exercise as a study: hidden nodes and Dropout, several seeds each.

Lecture slide "Clothing: sequential model", exercise: "test overtraining ...
by including the method Dropout in TF or changing the number of nodes in the
hidden layer".  This script does the exercise systematically.  It trains the
dense network of clothingSequential.py on Fashion-MNIST (one hidden Dense
layer of ReLU nodes, softmax output, Adam, 15 epochs, batch size 32, 10 % of
the training images held out for validation):

- over the hidden-layer size, from far too small to far too large
  (16, 64, 128, 512, 2048 nodes), without Dropout;
- over the Dropout rate (0, 0.1, 0.2, 0.3, 0.5), with the lecture's 128 nodes;
- each setting with 3 seeds, so that every number comes with its spread.

Each run is diagnosed from its curves with ``training.diagnose`` (the epoch of
the lowest validation loss, its trend after it and how far it rose, the gap
between training and validation accuracy, both measured by model.evaluate).
The script prints a table (mean +- standard deviation over the seeds) and draws
the validation-loss curves of every setting, and the trend of the validation
loss (the overtraining measure) and the test accuracy against the hidden nodes
and against the Dropout rate, with error bars.

Time and interruption: every finished run is stored as one small JSON file in
``--runs-dir`` (default results/study/, in a folder named after the epochs,
batch size and data, so that runs of other settings are never mixed in).  A
rerun, or a run after Ctrl-C, trains only what is missing; ``--plot-only``
redraws the table and figures from the stored runs without training.  The
progress line before each run says which run of how many it is, and the time
left, estimated from the runs so far.

The full study (the defaults) is 27 runs: 9 settings (the 128 nodes without
Dropout belong to both series) times 3 seeds, 15 epochs each on the full data.

Result of a full run (the defaults, full data, 27 runs), measured with
``time DNN_DATA_DIR=../shared/data python overtrainingStudy.py --no-show`` on
a 2-core AMD EPYC (CPU only, TensorFlow 2.21, 2026-12-07, while other jobs
shared the two cores, load average 11-19): 61 min (35.6 min of CPU time).
Mean +- standard deviation of single runs over seeds 42-44; the verdicts are
today's diagnosis of the stored curves:

- hidden nodes 16, 64, 128, 512, 2048 (no Dropout): trend of the validation
  loss after its low +0.0 +- 0.0 (its low too late to read one), +11.1 +- 7.7,
  +16.2 +- 7.4, +4.6 +- 1.6, +5.6 +- 0.4 standard errors; overtraining in 0, 2,
  3, 3, 3 of 3 runs (64 nodes: 1 within the noise); test accuracy 0.8578, 0.8720, 0.8704, 0.8785,
  0.8759 (+- 0.001 to 0.004).  16 nodes are too few to overtrain, and too few
  to learn as much.  The large networks overtrain by 8 to 25 % of their lowest
  validation loss, but their curves scatter more, so measured against their
  own noise the rise is smaller.
- Dropout 0, 0.1, 0.2, 0.3, 0.5 (128 nodes): trend +16.2 +- 7.4, -0.2 +- 0.3,
  +0.6 +- 1.1, +0.0 +- 0.0, +0.0 +- 0.0 standard errors; overtraining in 3, 0,
  0, 0, 0 of 3 runs (Dropout 0.1: 3 within the noise, 0.2 and 0.3: 1); test
  accuracy 0.8704 +- 0.0044, 0.8775 +- 0.0041, 0.8768 +- 0.0003, 0.8772 +- 0.0047,
  0.8754 +- 0.0028.  Dropout from 0.1 on removes the rise; the test accuracies
  of 0.1 to 0.5 lie within each other's spread.

These 27 runs are also the set on which the verdict's bounds were chosen
(``tools/verdict_rule.py``, results/RULE.md).  They were trained before
2026-12-08, when TensorFlow 2.21 fed every epoch of a seeded run the same
batch order (``dnnkit.compat.seed_tensorflow``): the networks memorised
sooner than with a new order every epoch, so today's study shows smaller
rises (clothingSequential.py's header: at 15 epochs the 128 nodes overtrained
in 1 of 3 new runs).  They have not been run again yet.

``--quick`` is the same study in small: 16, 128 and 512 nodes, Dropout 0 and
0.5, 2 seeds, 10 epochs on 2000 training images (8 runs).  Measured with
``time DNN_DATA_DIR=../shared/data python overtrainingStudy.py --quick
--no-show`` on the project's 2-core test machine (Intel Xeon, CPU only,
TensorFlow 2.21, 2026-12-06, under load from other jobs, load average 7-8):
100 s (34 s of CPU time); run again, with all runs stored, 22 s; with
``--plot-only`` 10 s.  On so few images the 512-node network already
overtrains in both seeds (validation loss lowest after epoch 6.5 +- 0.7, then
up 18 +- 8 %), the 128-node network in one of two (up 4 +- 5 %), and with
Dropout 0.5 in neither (lowest at the last epoch).  The test accuracies, 0.794
to 0.809, differ by about their spread: too few runs and images to rank them.
"""

# %% Set-up
# The options are read first, before TensorFlow is imported, so that --help
# answers at once.  In a notebook there is no command line: the study's full
# settings are used (or the options in the environment variable
# DNN_NOTEBOOK_ARGS).
import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np

from dnnkit import plotting, runtime, training
from dnnkit.errors import UserError

#: The lecture's hidden nodes: the Dropout rates are compared at this size.
LECTURE_NODES = 128
#: What --quick changes; options given on the command line still win.
QUICK_SETTINGS = dict(epochs=10, max_samples=2000, hidden_nodes=[16, 128, 512], dropout=[0.0, 0.5],
                      seeds=2)

parser = runtime.make_parser(__doc__, epochs=15, batch_size=32, data=True)
parser.add_argument("--hidden-nodes", type=runtime.positive_int, nargs="+",
                    default=[16, 64, 128, 512, 2048], metavar="N",
                    help="the hidden-layer sizes compared, without Dropout")
parser.add_argument("--dropout", type=runtime.dropout_rate, nargs="+",
                    default=[0.0, 0.1, 0.2, 0.3, 0.5], metavar="RATE",
                    help=f"the Dropout rates compared, with {LECTURE_NODES} hidden nodes")
parser.add_argument("--seeds", type=runtime.positive_int, default=3, metavar="COUNT",
                    help="runs per setting, with the seeds --seed, --seed + 1, ...")
parser.add_argument("--runs-dir", default="results/study", metavar="DIR",
                    help="folder where every finished run is kept (a rerun trains only what "
                         "is missing)")
parser.add_argument("--plot-only", action="store_true",
                    help="train nothing: print the table and draw the figures of the stored runs")
parser.add_argument("--quick", action="store_true",
                    help="the study in small, in a minute or two: --epochs 10 --max-samples 2000 "
                         "--hidden-nodes 16 128 512 --dropout 0 0.5 --seeds 2 (options given as "
                         "well win)")
args = runtime.parse_args(parser)
if args.quick:  # the quick settings replace the defaults, not the options given
    parser.set_defaults(**QUICK_SETTINGS)
    args = runtime.parse_args(parser)
if args.early_stopping:
    raise UserError("the study compares whole training curves, which --early-stopping would "
                    "cut short: leave it out here (try it with clothingSequential.py)")
if not args.plot_only:  # --plot-only trains nothing and needs no TensorFlow
    tf = runtime.setup_tensorflow(args)  # prints the device and seeds TensorFlow
    # Each run is a new model whose training step TensorFlow compiles anew, as it
    # should; its warning about "retracing" in a loop is meant for other loops.
    tf.get_logger().setLevel("ERROR")
    from tensorflow import keras  # noqa: E402

    from dnnkit import compat  # noqa: E402

# %% Data
# Fashion-MNIST, as in clothingSequential.py: the grey values scaled to
# [0, 1], each image flattened to 784 values.  The fingerprint of the data
# (with the epochs and batch size) names the folder of the stored runs, so
# that runs on other data (the sample, another --max-samples) never mix.
(x_train, y_train), (x_test, y_test) = runtime.load_data(args, "fashion_mnist")
fingerprint = hashlib.sha1()
for array in (x_train, y_train, x_test, y_test):
    fingerprint.update(np.ascontiguousarray(array).tobytes())
x_train = x_train.reshape(len(x_train), 28 * 28).astype("float32")
x_train /= 255  # in place: no second copy of the images
x_test = x_test.reshape(len(x_test), 28 * 28).astype("float32")
x_test /= 255
print("x_train:", x_train.shape, " y_train:", y_train.shape)
print("x_test: ", x_test.shape, " y_test: ", y_test.shape)

# %% The runs, and those stored already
# Every setting with every seed is one run; the 128 nodes without Dropout are
# one setting of both series.  The runs go seed by seed (every setting with the
# first seed, then with the second, ...): a study stopped early has seen every
# setting.  A stored run is read back; one that cannot be read (damaged, or of
# other settings) is named, moved aside and trained again.
settings = {"dataset": "fashion_mnist", "data_sha1": fingerprint.hexdigest(),
            "train_images": len(x_train), "test_images": len(x_test), "epochs": args.epochs,
            "batch_size": args.batch_size, "validation_split": 0.1}
runs_dir = Path(args.runs_dir) / (f"epochs{args.epochs}_batch{args.batch_size}_"
                                  f"{len(x_train)}images_{settings['data_sha1'][:10]}")
seeds = [args.seed + number for number in range(args.seeds)]
node_settings = [(nodes, 0.0) for nodes in sorted(set(args.hidden_nodes))]
dropout_settings = [(LECTURE_NODES, rate) for rate in sorted(set(args.dropout))]
runs = [(nodes, rate, seed) for seed in seeds
        for nodes, rate in sorted(set(node_settings + dropout_settings))]
if not args.plot_only:
    runtime.ensure_writable_dir(runs_dir, "--runs-dir")

results = {}  # (nodes, rate, seed) -> the stored run, with its diagnosis
for run in runs:
    path = runs_dir / "nodes{}_dropout{:g}_seed{}.json".format(*run)
    if not path.exists():
        continue
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        if stored["settings"] != settings or (stored["hidden_nodes"], stored["dropout"],
                                              stored["seed"]) != run:
            raise ValueError("it is a run of other settings")
        stored["diagnosis"] = training.diagnose(stored["history"], stored["train_accuracy"],
                                                stored["train_count"])
        stored["test_accuracy"], stored["seconds"] = (float(stored["test_accuracy"]),
                                                      float(stored["seconds"]))
        results[run] = stored
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as error:
        reason = f"no {error} in it" if isinstance(error, KeyError) else error
        if args.plot_only:
            print(f"Damaged stored run {path} ({reason}): left out (a run without --plot-only "
                  f"trains it again).")
        else:
            os.replace(path, path.with_suffix(".json.damaged"))
            print(f"Damaged stored run {path} ({reason}): moved to "
                  f"{path.with_suffix('.json.damaged').name}, trained again.")
missing = [run for run in runs if run not in results]
print(f"Study: {len(runs)} runs ({len(set(node_settings + dropout_settings))} settings x "
      f"{len(seeds)} seeds), {args.epochs} epochs each on {len(x_train)} training images; "
      f"{len(results)} stored in {runs_dir}, {len(missing)} "
      f"{'not stored (left out)' if args.plot_only else 'to train'}.")
stored_seconds = [result["seconds"] for result in results.values()]
if missing and stored_seconds and not args.plot_only:
    print(f"Time per run so far: {np.mean(stored_seconds):.0f} s (mean of the stored runs); "
          f"the time left is estimated after each run.")
if args.plot_only and not results:
    others = sorted({path.parent.name for path in Path(args.runs_dir).glob("*/*.json")})
    raise UserError(f"no stored runs of these settings in {runs_dir}: run the study without "
                    f"--plot-only first, or give the options of a stored study"
                    + (f" (stored: {', '.join(others)})" if others else ""))

# %% Training: every run that is not stored yet
# The network, compile, model.fit and model.evaluate of clothingSequential.py,
# once per run; Dropout(0) switches nothing off, so the Dropout-0 runs are the
# lecture's network.  As in the model scripts' "Overtraining?" cell, the
# training accuracy is measured again with model.evaluate, on as many
# training images as were held out for validation (the first ones:
# validation_split takes the last).  Each finished run is written to its file
# at once (to a temporary file, then renamed: never half-written).
if args.plot_only:
    missing = []
    print("--plot-only: nothing is trained.")
validation_count = len(x_train) // 10
seconds_by_nodes = {}  # hidden nodes -> the seconds per run measured, to estimate the time left
for (nodes, rate, seed), result in results.items():
    seconds_by_nodes.setdefault(nodes, []).append(result["seconds"])
try:
    for number, (nodes, rate, seed) in enumerate(missing):
        measured = [seconds for values in seconds_by_nodes.values() for seconds in values]
        if measured:
            left = sum(np.mean(seconds_by_nodes.get(run[0], measured)) for run in missing[number:])
            time_left = f", about {left / 60:.1f} min left"
        else:
            time_left = ", the time left is estimated after this run"
        print(f"\nRun {len(results) + 1} of {len(runs)}: {nodes} hidden nodes, Dropout {rate:g}, "
              f"seed {seed}{time_left}")
        started = time.perf_counter()
        compat.clear_session()  # forget the previous runs' models
        runtime.set_seed(seed)
        model = keras.Sequential([
            keras.Input(shape=(28 * 28,)),
            keras.layers.Dense(nodes, activation="relu"),
            keras.layers.Dropout(rate),  # active in training only
            keras.layers.Dense(10, activation="softmax"),
        ], name=f"clothing_sequential_{nodes}_nodes")
        model.compile(
            optimizer="adam",
            loss="sparse_categorical_crossentropy",  # the labels are integers 0-9
            metrics=["accuracy"],
            **training.speed_options(steps_per_execution=32),
        )
        monitor = training.monitor()  # Ctrl-C stops after the running batch
        history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
                            validation_split=0.1, callbacks=[monitor],
                            verbose=training.verbosity())
        test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=1024, verbose=0)
        train_loss, train_accuracy = model.evaluate(
            x_train[:validation_count], y_train[:validation_count], batch_size=1024, verbose=0)
        diagnosis = training.diagnose(history.history, train_accuracy, validation_count)
        result = {"settings": settings, "hidden_nodes": nodes, "dropout": rate, "seed": seed,
                  "history": {key: [float(value) for value in values]
                              for key, values in history.history.items()},
                  "test_accuracy": float(test_accuracy), "train_accuracy": float(train_accuracy),
                  "train_count": validation_count, "seconds": time.perf_counter() - started,
                  "tensorflow": tf.__version__,
                  "date": time.strftime("%Y-%m-%d %H:%M:%S")}
        path = runs_dir / f"nodes{nodes}_dropout{rate:g}_seed{seed}.json"
        temporary = runs_dir / f".{path.name}.{os.getpid()}.tmp"
        temporary.write_text(json.dumps(result, indent=1), encoding="utf-8")
        os.replace(temporary, path)
        results[(nodes, rate, seed)] = dict(result, diagnosis=diagnosis)
        seconds_by_nodes.setdefault(nodes, []).append(result["seconds"])
        print(f"Test accuracy {test_accuracy:.4f}, {diagnosis.outcome} (best epoch "
              f"{diagnosis.best_epoch}), accuracy gap {diagnosis.gap:+.4f} "
              f"({result['seconds']:.0f} s); stored in {path}")
except KeyboardInterrupt:
    print(f"\n{len(results)} of {len(runs)} runs are stored in {runs_dir}: the same command "
          f"trains the other {len(runs) - len(results)}.")
    raise

# %% Table: every setting, mean +- standard deviation over the seeds
# The spread over the seeds says which differences are real: two settings
# whose means differ by less than their standard deviations are not told
# apart by this study.
summary = {}  # (nodes, rate) -> {measure: (mean, std, runs)}
for nodes, rate in sorted(set(node_settings + dropout_settings)):
    done = [results[(nodes, rate, seed)] for seed in seeds if (nodes, rate, seed) in results]
    if not done:
        continue
    measures = {
        "test accuracy": [result["test_accuracy"] for result in done],
        "best epoch": [result["diagnosis"].best_epoch for result in done],
        "rise in scatters": [result["diagnosis"].rise_in_scatters or 0.0 for result in done],
        "trend": [result["diagnosis"].trend_in_errors or 0.0 for result in done],
        "gap": [result["diagnosis"].gap for result in done],
    }
    summary[(nodes, rate)] = {name: (float(np.mean(values)),
                                     float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
                                     len(values))
                              for name, values in measures.items()}
    outcomes = [result["diagnosis"].outcome for result in done]
    summary[(nodes, rate)]["verdicts"] = ", ".join(
        f"{outcomes.count(name)} {name}" for name in (training.OVERTRAINING, training.WITHIN_NOISE,
                                                      training.NO_OVERTRAINING, training.DIVERGED)
        if name in outcomes)
header = (f"{'runs':>5}  {'test accuracy':>16}  {'best epoch':>11}  "
          f"{'rise in scatters':>17}  {'trend in std. err.':>18}  {'accuracy gap':>17}  "
          f"verdicts of the runs")
for title, series, label in (("Hidden nodes, no Dropout", node_settings, "nodes"),
                             (f"Dropout rate, {LECTURE_NODES} hidden nodes", dropout_settings,
                              "Dropout")):
    print(f"\n{title} (mean +- std over the seeds):\n{label:>7}  {header}")
    for nodes, rate in series:
        if (nodes, rate) not in summary:
            print(f"{nodes if label == 'nodes' else rate:>7g}  not trained yet")
            continue
        row = summary[(nodes, rate)]
        count = row["test accuracy"][2]
        print(f"{nodes if label == 'nodes' else rate:>7g}  {count:>5}  "
              f"{row['test accuracy'][0]:.4f} +- {row['test accuracy'][1]:.4f}  "
              f"{row['best epoch'][0]:4.1f} +- {row['best epoch'][1]:3.1f}  "
              f"{row['rise in scatters'][0]:7.1f} +- {row['rise in scatters'][1]:5.1f}  "
              f"{row['trend'][0]:+8.1f} +- {row['trend'][1]:5.1f}  "
              f"{row['gap'][0]:+.4f} +- {row['gap'][1]:.4f}  {row['verdicts']}")
print(f"\n+- is the standard deviation of single runs over the seeds.  Best epoch: the low of "
      f"the validation loss (its running median over 3 epochs).  Rise in scatters: how far the "
      f"last 3 epochs lie above that low, in units of the curve's own epoch-to-epoch scatter.  "
      f"Trend: the Theil-Sen slope of the validation loss from its low on (over at least "
      f"{training.TREND_EPOCHS} epochs, else 0), in units of its standard error (from the "
      f"same scatter).  A rise above {training.RISE_SCATTERS:g} scatters or a trend above "
      f"{training.RISE_ERRORS:g}, while the training loss kept falling, is overtraining; a "
      f"rise of at most {training.NO_RISE_SCATTERS:g} scatters is none (if the scatter is at "
      f"most {training.QUIET_RATIO:g} of the fall from epoch 1); otherwise it is within the "
      f"noise.  "
      f"Accuracy gap: training minus validation accuracy, both measured by model.evaluate.")

# %% Validation-loss curves of every setting
# One colour per setting: thin lines are the single seeds, the thick line is
# their mean, whose lowest point is marked.  Where a curve turns up again
# after it, the network learns the training images by heart.
from matplotlib.ticker import MaxNLocator  # noqa: E402  (integer epochs on the axis)

fig, axes = plotting.subplots(1, 2, figsize=(12, 4.5), sharey=True)
for ax, series, label in ((axes[0], node_settings, "{} nodes"),
                          (axes[1], dropout_settings, "Dropout {1:g}")):
    colors = plotting.pyplot().cm.viridis(np.linspace(0, 0.9, len(series)))
    for color, (nodes, rate) in zip(colors, series):
        curves = [results[(nodes, rate, seed)]["history"]["val_loss"] for seed in seeds
                  if (nodes, rate, seed) in results]
        if not curves:
            continue
        epochs = np.arange(1, len(curves[0]) + 1)
        for curve in curves:
            ax.plot(epochs, curve, color=color, linewidth=0.7, alpha=0.4)
        mean = np.mean(curves, axis=0)
        ax.plot(epochs, mean, color=color, linewidth=2.2, label=label.format(nodes, rate))
        ax.plot(epochs[mean.argmin()], mean.min(), "o", color=color, markeredgecolor="black")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, alpha=0.3)
    ax.legend(title="mean of the seeds (thin: each seed)", fontsize=8, title_fontsize=8)
axes[0].set_ylabel("validation loss")
axes[0].set_title("Hidden-layer size, no Dropout")
axes[1].set_title(f"Dropout rate, {LECTURE_NODES} hidden nodes")
fig.suptitle(f"Overtraining study on Fashion-MNIST: validation loss per epoch "
             f"({len(seeds)} seeds per setting)")
plotting.tight_layout(fig)
plotting.save_figure(fig, "overtrainingStudy_validation_loss", args.outdir)

# %% Overtraining and test accuracy against the hidden nodes and the Dropout rate
# Top: the trend of the validation loss after its low, in standard errors
# (from its own epoch-to-epoch scatter): above the dashed line, while the
# training loss keeps falling, a run counts as overtraining (so does a rise
# of its end over training.RISE_SCATTERS scatters, in the table).
# Bottom: the test accuracy.  The error bars are the standard deviation of
# single runs over the seeds.
fig, axes = plotting.subplots(2, 2, figsize=(11, 7), sharex="col", sharey="row")
for column, (series, label) in enumerate(((node_settings, "hidden nodes (no Dropout)"),
                                          (dropout_settings,
                                           f"Dropout rate ({LECTURE_NODES} hidden nodes)"))):
    shown = [setting for setting in series if setting in summary]
    x = [setting[column] for setting in shown]
    for row, (measure, ylabel) in enumerate((("trend", "validation-loss trend after "
                                                        "its low (std. errors)"),
                                             ("test accuracy", "test accuracy"))):
        ax = axes[row, column]
        ax.errorbar(x, [summary[setting][measure][0] for setting in shown],
                    yerr=[summary[setting][measure][1] for setting in shown],
                    fmt="o-", capsize=4)
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
    axes[0, column].axhline(training.RISE_ERRORS, color="red", linestyle="--",
                            label=f"overtraining above {training.RISE_ERRORS:g} standard errors")
    axes[0, column].legend(fontsize=8)
    axes[1, column].set_xlabel(label)
axes[1, 0].set_xscale("log")
axes[1, 0].set_xticks(sorted({setting[0] for setting in node_settings}))
axes[1, 0].set_xticklabels([str(setting[0]) for setting in node_settings])
axes[1, 0].minorticks_off()
fig.suptitle(f"Overtraining study on Fashion-MNIST: mean ± standard deviation of single runs "
             f"over {len(seeds)} seeds, {args.epochs} epochs")
plotting.tight_layout(fig)
plotting.save_figure(fig, "overtrainingStudy_summary", args.outdir)

# %% Show the figures (on the command line; a notebook shows each under its cell)
plotting.show(args.no_show)
