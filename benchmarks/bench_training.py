"""Benchmark: the scripts' training path against plain Keras, same models, same seeds.

For the MNIST MLP, the MNIST CNN and the Fashion-MNIST CNN with dropout, runs
the model script itself (``runpy``, as ``python script.py --epochs N --seed S``
runs it, figures into a temporary folder) several times on each path, on the
same data; both runs of a pair use the same seed, each pair another one:

- baseline: ``DNN_PLAIN_KERAS=1`` in the process's environment: TensorFlow
  imported with its defaults (no ``TF_ENABLE_ONEDNN_OPTS``), and
  ``training.speed_options()`` gives ``compile`` nothing, so the script's
  ``model.fit(x_train, y_train, ..., validation_split=0.1)`` runs with Keras's
  defaults, as in the TensorFlow tutorials;
- ours: the script as a student runs it: oneDNN kernels switched on by
  ``runtime.import_tensorflow`` (``runtime.enable_onednn``), and
  ``steps_per_execution=32`` (and XLA, ``jit_compile=True``, for the MLP) in
  ``compile``.

Both paths run the same script, the same ``model.fit`` on the same arrays:
the same batches in the same order.  Their results differ only by
floating-point round-off (oneDNN and XLA add up in another order); training
amplifies such tiny differences much as a different seed would, so single
runs can land a few tenths of a point apart: the accuracies compared are the
means over the seeds, printed beside the seed-to-seed spread.

Every run is a fresh process, because TensorFlow reads its kernel settings
once, when it is imported.  The two runs of a pair follow each other at
once, and which path goes first alternates from pair to pair: a drift in
the speed of a shared virtual machine, or other programs running, then
favours neither path.

Prints per model the seconds per epoch of both paths (the median over all
epochs but the first of every run, which also builds the graph), the ratio
(the median of the ratios of the same epochs of the two runs of a pair), the
same ratio with the first epochs, the ratio of whole runs, each path's
epoch-to-epoch scatter (std / mean within a run), the fastest epochs, the achieved
GFLOP/s and its fraction of this machine's measured matrix-multiply rate, and
both test accuracies (the script's own ``model.evaluate``, mean over the
seeds); per run also how many CPU cores each epoch kept busy (an epoch that
stalled shows it: its CPUs sat idle).  This is a benchmark, not a test: run
it on a quiet machine.

    DNN_DATA_DIR=../shared/data python benchmarks/bench_training.py
    python benchmarks/bench_training.py --models mlp --epochs 2 --repeats 1
"""

import argparse
import json
import math
import os
import runpy
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

#: The checkout whose scripts and dnnkit run: this one, or, for the "before" worker of
#: --before DIR, the one its parent names in DNN_BENCH_ROOT.
BEFORE_VARIABLE = "DNN_BENCH_ROOT"
ROOT = Path(os.environ.get(BEFORE_VARIABLE) or Path(__file__).resolve().parent.parent).resolve()
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dnnkit import lecture, runtime  # noqa: E402
from dnnkit.errors import UserError  # noqa: E402

#: The model scripts measured unless --models says otherwise: the MLP and the two kinds of CNN.
DEFAULT_MODELS = ("MLP_MNIST_digits_tf", "CNN_MNIST_digits_tf", "clothingCNNDropout")
PATHS = ("baseline", "ours")
RESULT_PREFIX = "BENCH-RESULT "
#: The scripts' ``model.fit(..., validation_split=0.1)``.
VALIDATION_SPLIT = 0.1


def forward_flops_per_sample(model):
    """Multiply-adds of one forward pass, counted layer by layer, times 2."""
    flops = 0
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Dense":
            flops += 2 * layer.kernel.shape[0] * layer.kernel.shape[1]
        elif kind == "Conv2D":
            kernel_height, kernel_width, channels_in, channels_out = layer.kernel.shape
            _, height, width, _ = layer.output.shape
            flops += 2 * kernel_height * kernel_width * channels_in * channels_out * height * width
    return flops


def matmul_rate_gflops(size=2048, repeats=5):
    """This process's float32 matrix-multiply rate through TensorFlow, in GFLOP/s."""
    import tensorflow as tf

    a = tf.random.uniform((size, size))
    b = tf.random.uniform((size, size))
    tf.linalg.matmul(a, b).numpy()  # warm-up
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        tf.linalg.matmul(a, b).numpy()
        timings.append(time.perf_counter() - start)
    return 2 * size**3 / min(timings) / 1e9


def steady_epochs(seconds):
    """The epoch times without the first epoch (which also builds the graph)."""
    return list(seconds[1:]) if len(seconds) > 1 else list(seconds)


def script_arguments(args, outdir):
    """The command line the model script gets: the benchmark's epochs, seed and data."""
    arguments = ["--epochs", str(args.epochs), "--seed", str(args.seed),
                 "--no-show", "--outdir", str(outdir)]
    if args.max_samples:
        arguments += ["--max-samples", str(args.max_samples)]
    if args.data_dir:
        arguments += ["--data-dir", str(args.data_dir)]
    return arguments


def run_script(name, arguments):
    """Run ``name.py`` in this process as ``python name.py ARGUMENTS`` would; return its globals.

    The script runs as it is (``runpy``, as ``python`` runs it), so its own
    ``model.fit`` and ``model.evaluate`` are what is measured.
    """
    path = ROOT / f"{name}.py"
    saved_argv = sys.argv
    sys.argv = [str(path), *arguments]
    try:
        return runpy.run_path(str(path), run_name="__main__")
    finally:
        sys.argv = saved_argv


def steps_per_execution(model):
    """The ``steps_per_execution`` a compiled model runs with, where Keras shows it, else None."""
    value = getattr(model, "steps_per_execution", None)  # Keras 3
    return None if value is None else int(value.numpy() if hasattr(value, "numpy") else value)


def samples_trained_on(x_train):
    """How many images ``model.fit(..., validation_split=0.1)`` trains on.

    Keras holds out the last 10 % and trains on the first
    ``floor(n * (1 - 0.1))`` (Keras 2.4 to 3).
    """
    return int(math.floor(len(x_train) * (1.0 - VALIDATION_SPLIT)))


def measurements(namespace):
    """What one run of a model script gave, read from the script's own globals."""
    monitor, model = namespace["monitor"], namespace["model"]
    return {
        "seconds": list(monitor.epoch_seconds),
        "epoch_spans": list(monitor.epoch_spans),  # clock times: in a pair, no two epochs overlap
        # CPU cores kept busy (CPU time / wall time): on 2 cores, an epoch at 1.8
        # computed nearly all the time, one at 0.8 spent more than half of it waiting.
        "cores_busy": [cpu / wall for cpu, wall in zip(monitor.epoch_cpu_seconds,
                                                       monitor.epoch_seconds)],
        "accuracy": float(namespace["test_accuracy"]),
        # Training costs about three forward passes (forward, two backward products).
        "epoch_gflop": (3 * forward_flops_per_sample(model)
                        * samples_trained_on(namespace["x_train"]) / 1e9),
        # What compile was given (None where this Keras does not say).
        "steps_per_execution": steps_per_execution(model),
        "jit_compile": getattr(model, "jit_compile", None),  # None where Keras does not say
    }


def worker(args):
    """One run of the model script on one path, in this process; prints one result line.

    The path is chosen by the environment the parent gave this process:
    ``DNN_PLAIN_KERAS=1`` for the baseline (Keras's and TensorFlow's
    defaults), unset for ours.
    """
    if runtime.plain_keras() != (args.worker == "baseline"):
        raise UserError(f"the {args.worker} worker needs {runtime.PLAIN_KERAS_VARIABLE}="
                        f"{'1' if args.worker == 'baseline' else '(unset)'}")
    with tempfile.TemporaryDirectory(prefix="bench-figures-") as outdir:
        # The trained network goes beside the figures, never into models/, where the
        # lecture's networks wait for --pretrained (spelled out, not runtime's
        # constant: a --before checkout may predate --models-dir, and ignores it).
        os.environ["DNN_MODELS_DIR"] = outdir
        namespace = run_script(args.models[0], script_arguments(args, outdir))
    result = {
        "path": args.worker,
        **measurements(namespace),
        "matmul_gflops": matmul_rate_gflops(),
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset"),
        "tensorflow": sys.modules["tensorflow"].__version__,
    }
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return result


def worker_command(path, model_key, args):
    """The command line and environment of a worker process for one path.

    The baseline's process gets ``DNN_PLAIN_KERAS=1`` and no
    ``TF_ENABLE_ONEDNN_OPTS`` (TensorFlow's own choice of kernels); ours gets
    neither, so that the script's set-up decides, as on a student's machine.
    Both get ``DNN_SAME_BATCH_ORDER=1``: the two runs of a pair train on the
    same batches in the same order (on Keras 3 that order repeats every epoch,
    which costs no time).
    """
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", path,
               "--models", model_key, "--epochs", str(args.epochs), "--seed", str(args.seed)]
    if args.max_samples:
        command += ["--max-samples", str(args.max_samples)]
    if args.data_dir:
        command += ["--data-dir", str(args.data_dir)]
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3"),
                       PYTHONIOENCODING="utf-8")
    environment[runtime.SAME_BATCH_ORDER_VARIABLE] = "1"
    environment.pop(runtime.PLAIN_KERAS_VARIABLE, None)
    environment.pop(BEFORE_VARIABLE, None)
    if path == "baseline" and getattr(args, "before", None):  # our path, in the other checkout
        command[command.index("--worker") + 1] = "ours"
        environment[BEFORE_VARIABLE] = str(args.before)
    elif path == "baseline":
        environment[runtime.PLAIN_KERAS_VARIABLE] = "1"
        environment.pop("TF_ENABLE_ONEDNN_OPTS", None)
    return command, environment


def worker_failed(what, returncode, output):
    """The one-line error for a worker process that printed no result."""
    tail = output.strip().splitlines()[-1:] or ["no output"]
    return UserError(f"{what} failed (exit code {returncode}): {tail[0]}")


def run_pair(model_key, args, order):
    """Both paths with the same seed, one right after the other in ``order``: ``{path: result}``.

    The worker's stdout also carries the script's own output (device, shapes,
    summary, epochs, report); only the line with the result prefix counts.
    """
    results = {}
    for path in order:
        command, environment = worker_command(path, model_key, args)
        process = subprocess.run(command, cwd=ROOT, env=environment, encoding="utf-8",
                                 errors="replace", capture_output=True)
        lines = [line for line in process.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
        if not lines:
            raise worker_failed(f"the {path} run of {model_key}", process.returncode,
                                process.stderr)
        results[path] = json.loads(lines[-1][len(RESULT_PREFIX):])
    return results


def epoch_ratios(results, epochs=steady_epochs):
    """baseline / ours for epoch e of the baseline and epoch e of ours, in the two runs of
    each pair; ``epochs`` picks a run's epochs (by default all but the first)."""
    return [baseline / ours
            for baseline_run, our_run in zip(results["baseline"], results["ours"])
            for baseline, ours in zip(epochs(baseline_run["seconds"]),
                                      epochs(our_run["seconds"]))]


def summarize(key, results):
    """One table row from the results of all runs of one model."""
    row = {"model": key, "epoch_gflop": results["ours"][0]["epoch_gflop"],
           "tensorflow": results["ours"][0]["tensorflow"]}
    for path in PATHS:
        epochs = [s for result in results[path] for s in steady_epochs(result["seconds"])]
        row[path] = statistics.median(epochs)
        row[path + "_best"] = min(epochs)
        row[path + "_cores"] = statistics.median(
            [c for result in results[path] for c in steady_epochs(result["cores_busy"])])
        accuracies = [r["accuracy"] for r in results[path]]
        row[path + "_accuracy"] = statistics.mean(accuracies)
        row[path + "_spread"] = max(accuracies) - min(accuracies)
    ratios = epoch_ratios(results)
    row["ratio"] = statistics.median(ratios)
    row["ratio_range"] = (min(ratios), max(ratios))
    row["ratio_of_medians"] = row["baseline"] / row["ours"]
    # A student's run is short: the same with the first epochs (graph building, XLA's
    # compile), epoch by epoch, and whole runs (the sum of their epochs), pair by pair.
    row["ratio_with_first"] = statistics.median(epoch_ratios(results, epochs=list))
    row["run_ratio"] = statistics.median(
        [sum(baseline_run["seconds"]) / sum(our_run["seconds"])
         for baseline_run, our_run in zip(results["baseline"], results["ours"])])
    for path in PATHS:
        # Epoch-to-epoch scatter within a run (first epoch left out): std / mean, the
        # median over the runs; above 0.10 the issue counts it a defect to explain.
        row[path + "_scatter"] = statistics.median(
            [statistics.stdev(epochs) / statistics.mean(epochs)
             for epochs in (steady_epochs(result["seconds"]) for result in results[path])
             if len(epochs) > 1] or [math.nan])
    return row


def print_table(rows, peak):
    print()
    print(f"{'model':<20} {'baseline s/ep':>13} {'ours s/ep':>10} {'ratio':>6} "
          f"{'GFLOP/ep':>9} {'GFLOP/s':>8} {'of peak':>8} {'acc base':>9} {'acc ours':>9} "
          f"{'difference':>10}")
    for row in rows:
        rate = row["epoch_gflop"] / row["ours"]
        difference = 100 * (row["ours_accuracy"] - row["baseline_accuracy"])
        print(f"{row['model']:<20} {row['baseline']:>13.2f} {row['ours']:>10.2f} "
              f"{row['ratio']:>5.2f}x {row['epoch_gflop']:>9.0f} {rate:>8.0f} {rate / peak:>7.0%} "
              f"{row['baseline_accuracy']:>9.4f} {row['ours_accuracy']:>9.4f} "
              f"{difference:>+7.2f} pt")
    print()
    print("s/ep: median epoch time over all runs, the first epoch of each run left out.")
    print("ratio: median of baseline/ours over the same epochs of a pair's runs; range and "
          "ratio of the medians: " + ", ".join(
              f"{row['model']} {row['ratio_range'][0]:.2f}-{row['ratio_range'][1]:.2f}, "
              f"{row['ratio_of_medians']:.2f}x" for row in rows))
    print("With the first epochs (what a short run of a student feels): median ratio of the "
          "same epochs " + ", ".join(f"{row['model']} {row['ratio_with_first']:.2f}x"
                                    for row in rows)
          + "; of whole runs (sum of the epochs), median over the pairs " + ", ".join(
              f"{row['model']} {row['run_ratio']:.2f}x" for row in rows))
    print("Epoch-to-epoch scatter within a run (std / mean of its epochs after the first, "
          "median over the runs), baseline / ours: " + ", ".join(
              f"{row['model']} {row['baseline_scatter']:.1%} / {row['ours_scatter']:.1%}"
              for row in rows))
    print("Fastest epochs (baseline -> ours): " + ", ".join(
        f"{row['model']} {row['baseline_best']:.2f} -> {row['ours_best']:.2f} s "
        f"({row['baseline_best'] / row['ours_best']:.2f}x)" for row in rows))
    print("Cores busy (CPU time / wall time, median over the epochs), baseline / ours: " + ", ".join(
        f"{row['model']} {row['baseline_cores']:.2f} / {row['ours_cores']:.2f}" for row in rows))
    print("Test accuracy: mean over the seeds. Seed-to-seed spread (max - min) of the "
          "baseline: " + ", ".join(f"{row['model']} {100 * row['baseline_spread']:.2f} pt"
                                   for row in rows))


def main(argv=None):
    parser = runtime.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=lecture.names("model"),
                        default=list(DEFAULT_MODELS), help="model scripts of dnnkit/lecture.py")
    parser.add_argument("--epochs", type=runtime.positive_int, default=6,
                        help="epochs per run (the first one, which builds the graph, "
                             "is left out of the s/epoch figure)")
    parser.add_argument("--repeats", type=runtime.positive_int, default=4,
                        help="alternating baseline/ours runs per model")
    parser.add_argument("--max-samples", type=runtime.positive_int, default=None, metavar="N",
                        help="train on a stratified subset of N images")
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help="folder holding mnist/ and fashion-mnist/")
    parser.add_argument("--seed", type=runtime.seed_int, default=runtime.DEFAULT_SEED,
                        help="random seed")
    parser.add_argument("--before", type=Path, default=None, metavar="DIR",
                        help="compare with another checkout (e.g. `git worktree add DIR COMMIT`) "
                             "instead of plain Keras: its scripts and dnnkit, on our path, "
                             "take the baseline's place")
    parser.add_argument("--worker", choices=PATHS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.data_dir is not None:  # the workers run in the project folder
        if not Path(args.data_dir).is_dir():
            raise UserError(f"{args.data_dir} (from --data-dir) is no folder: point --data-dir "
                            f"at the folder that holds mnist/ and fashion-mnist/")
        args.data_dir = str(Path(args.data_dir).resolve())
    if args.worker:
        return worker(args)
    if args.before is not None:
        args.before = args.before.resolve()
        if not all((args.before / f"{name}.py").is_file() for name in args.models):
            raise UserError(f"{args.before} (from --before) lacks the model scripts: "
                            f"name a checkout of this project")
        print(f"baseline = our path in {args.before}; ours = our path in {ROOT}")

    print(f"{args.repeats} pairs of runs of {args.epochs} epochs per model, each run in a "
          f"fresh process, the two of a pair one right after the other.", flush=True)
    rows, peak = [], 0.0
    for key in args.models:
        results = {path: [] for path in PATHS}
        for repeat in range(args.repeats):
            # Alternate which path goes first in a pair, so that a drift in the machine's
            # speed does not favour one of them.
            order = PATHS if repeat % 2 == 0 else PATHS[::-1]
            # Both paths of a pair use the same seed; each pair another one.
            pair_args = SimpleNamespace(**{**vars(args), "seed": args.seed + repeat})
            pair = run_pair(key, pair_args, order)
            for path in order:
                result = pair[path]
                results[path].append(result)
                peak = max(peak, result["matmul_gflops"])
                epochs = " ".join(f"{s:.2f}" for s in result["seconds"])
                busy = " ".join(f"{c:.1f}" for c in result["cores_busy"])
                print(f"  {key} seed {pair_args.seed} {path:<8} (TF_ENABLE_ONEDNN_OPTS "
                      f"{result['onednn']}, steps_per_execution "
                      f"{result['steps_per_execution']}, jit_compile {result['jit_compile']}): "
                      f"epochs {epochs} s, cores busy {busy}, "
                      f"test accuracy {result['accuracy']:.4f}", flush=True)
        rows.append(summarize(key, results))
    print(f"\nTensorFlow {rows[0]['tensorflow']}; float32 matrix multiply (2048x2048), "
          f"best of all runs: {peak:.0f} GFLOP/s")
    print_table(rows, peak)
    return rows


if __name__ == "__main__":
    # A UserError (a worker that failed, a bad option) ends with one line and exit code 2,
    # Ctrl-C with exit code 130, both without a traceback.
    sys.excepthook = runtime.report_uncaught
    main()
