"""Benchmark: our training path against plain Keras, same models, same seeds.

For the MNIST MLP, the MNIST CNN and the Fashion-MNIST CNN with dropout,
trains each model several times, alternately on each path, on the same data;
both runs of a pair use the same seed, each pair another one:

- baseline: a plain Python process that imports TensorFlow with its defaults,
  compiles the model with Keras defaults and trains it with
  ``model.fit(x, y, batch_size=..., validation_split=0.1)`` from numpy arrays,
  as the TensorFlow tutorials do;
- ours: the script's own path: TensorFlow set up by ``dnnkit.runtime``
  (oneDNN kernels switched on, see ``runtime.enable_onednn``), the script's
  ``build_model()`` (compiled with ``steps_per_execution``), trained by
  ``dnnkit.training.fit`` (Keras's own batches, fed without tf.data's
  autotuner, see ``training.input_pipeline``).

Every run is a fresh process, because TensorFlow reads its kernel settings
once, when it is imported.  The two processes of a pair run side by side but
take turns, epoch by epoch (the waiting one sleeps): both paths then meet the
machine in the same state, which matters on a shared virtual machine whose
speed drifts by a factor of two within minutes.  Both paths see the same batches in the same order
(``training.fit`` trains batch for batch like ``model.fit``), so their results
differ only by floating-point round-off: oneDNN adds up in another order.
Training amplifies such tiny differences much as a different seed would, so
single runs can land a few tenths of a point apart; the accuracies compared
are the means over the seeds, printed beside the seed-to-seed spread.

Prints per model the seconds per epoch of both paths (the median over all
epochs but the first of every run, which also builds the graph), the ratio
(the median of the ratios of the epochs that ran back to back),
the achieved GFLOP/s and its fraction of this machine's measured
matrix-multiply rate, and both test accuracies (mean over the seeds); per run
also how many CPU cores each epoch kept busy (an epoch that stalled shows
it: its CPUs sat idle).  This is a benchmark, not a test: run it on a quiet
machine.

    DNN_DATA_DIR=../shared/data python benchmarks/bench_training.py
    python benchmarks/bench_training.py --models mlp --epochs 2 --repeats 1
"""

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dnnkit import runtime  # noqa: E402
from dnnkit.errors import UserError  # noqa: E402

MODELS = {
    "mlp": "MLP_MNIST_digits_tf",
    "cnn": "CNN_MNIST_digits_tf",
    "fashion-cnn-dropout": "clothingCNNDropout",
}
PATHS = ("baseline", "ours")
RESULT_PREFIX = "BENCH-RESULT "
TURN_PREFIX = "BENCH-WAITING"


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


def wait_for_turn(args):
    """In a paired worker: say so and wait until the parent process says "go"."""
    if getattr(args, "paired", False):
        print(TURN_PREFIX, flush=True)
        if sys.stdin.readline().strip() != "go":
            raise SystemExit("the benchmark's parent process has gone")


def cpu_seconds():
    """CPU time used so far by all threads of this process (user + system)."""
    times = os.times()
    return times.user + times.system


def epoch_timer(seconds, args=None, spans=None, cores=None):
    """A Keras callback that appends the wall time of every epoch to ``seconds``.

    In a paired worker, every epoch first waits for its turn (untimed).
    ``spans``, if given, receives the (start, end) clock time of every epoch;
    ``cores`` the CPU cores kept busy on average (CPU time / wall time): on
    2 cores, an epoch at 1.8 computed nearly all the time, one at 0.8 spent
    more than half of it waiting.
    """
    import keras

    starts = []

    def begin(epoch, logs):
        wait_for_turn(args)
        starts.append((time.perf_counter(), time.time(), cpu_seconds()))

    def end(epoch, logs):
        seconds.append(time.perf_counter() - starts[-1][0])
        if spans is not None:
            spans.append((starts[-1][1], time.time()))
        if cores is not None:
            cores.append((cpu_seconds() - starts[-1][2]) / seconds[-1])

    return keras.callbacks.LambdaCallback(on_epoch_begin=begin, on_epoch_end=end)


def steady_epochs(seconds):
    """The epoch times without the first epoch (which also builds the graph)."""
    return list(seconds[1:]) if len(seconds) > 1 else list(seconds)


def run_baseline(script, data, args, spans=None, cores=None):
    """Plain Keras: default compile, ``model.fit`` from numpy arrays."""
    import keras

    (x_train, y_train), (x_test, y_test) = data
    runtime.set_seed(args.seed)
    model = script.build_model()
    model.compile(optimizer=keras.optimizers.Adam(), loss=model.loss, metrics=["accuracy"])
    seconds = []
    model.fit(x_train, y_train, batch_size=script.BATCH_SIZE, epochs=args.epochs,
              validation_split=0.1, verbose=0,
              callbacks=[epoch_timer(seconds, args, spans, cores)])
    wait_for_turn(args)  # the evaluation and the matmul rate, one process at a time
    _, accuracy = model.evaluate(x_test, y_test, batch_size=1024, verbose=0)
    return model, seconds, accuracy


def run_ours(script, data, args, spans=None, cores=None):
    """The script's own model and compile settings, trained by dnnkit.training.fit."""
    from dnnkit import metrics, training

    (x_train, y_train), (x_test, y_test) = data
    runtime.set_seed(args.seed)
    model = script.build_model()
    seconds = []
    training.fit(model, x_train, y_train, epochs=args.epochs, batch_size=script.BATCH_SIZE,
                 verbose=0, callbacks=[epoch_timer(seconds, args, spans, cores)])
    wait_for_turn(args)
    accuracy = metrics.accuracy(y_test, training.predict_classes(model, x_test))
    return model, seconds, accuracy


def worker(args):
    """One training run on one path, in this process; prints one result line."""
    if args.worker == "ours":
        runtime.import_tensorflow()  # our set-up, oneDNN included
    else:
        import tensorflow  # noqa: F401  (plain: TensorFlow's own defaults)
    from dnnkit import training

    script = importlib.import_module(MODELS[args.models[0]])
    train, test, _ = script.prepare_data(args)
    run = run_ours if args.worker == "ours" else run_baseline
    spans, cores = [], []
    model, seconds, accuracy = run(script, (train, test), args, spans, cores)
    samples = len(training.split_validation(*train)[0][0])  # the images trained on
    result = {
        "path": args.worker,
        "seconds": seconds,
        "epoch_spans": spans,  # clock times: in a pair, no two epochs overlap
        "cores_busy": cores,
        "accuracy": float(accuracy),
        # Training costs about three forward passes (forward, two backward products).
        "epoch_gflop": 3 * forward_flops_per_sample(model) * samples / 1e9,
        "matmul_gflops": matmul_rate_gflops(),
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset"),
        "tensorflow": sys.modules["tensorflow"].__version__,
    }
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return result


def worker_command(path, model_key, args, paired=False):
    """The command line and environment of a worker process for one path."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", path,
               "--models", model_key, "--epochs", str(args.epochs), "--seed", str(args.seed)]
    if args.max_samples:
        command += ["--max-samples", str(args.max_samples)]
    if args.data_dir:
        command += ["--data-dir", str(args.data_dir)]
    if paired:
        command.append("--paired")
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3"))
    return command, environment


def worker_failed(what, returncode, output):
    """The one-line error for a worker process that printed no result."""
    tail = output.strip().splitlines()[-1:] or ["no output"]
    return UserError(f"{what} failed (exit code {returncode}): {tail[0]}")


def run_pair(model_key, args, order):
    """Both paths with the same seed, side by side, taking turns epoch by epoch.

    Each worker process prepares its data, then waits before every epoch (and
    before its final evaluation) until told "go"; only one of them computes
    at any time.  ``order`` says which path goes first in every turn, so that
    each process waits one epoch of the other, never two in a row (on this
    project's virtual machine, epochs after such a double pause were often
    two to six times as slow; shorter stalls remain).  Returns
    ``{path: result}``.
    """
    processes, errors = {}, {}
    try:
        for path in PATHS:
            command, environment = worker_command(path, model_key, args, paired=True)
            errors[path] = tempfile.TemporaryFile(mode="w+")
            processes[path] = subprocess.Popen(command, cwd=ROOT, env=environment, text=True,
                                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                               stderr=errors[path])

        def next_report(path):
            """("waiting", None) or ("result", result): what the worker says next."""
            for line in processes[path].stdout:
                if line.startswith(TURN_PREFIX):
                    return "waiting", None
                if line.startswith(RESULT_PREFIX):
                    return "result", json.loads(line[len(RESULT_PREFIX):])
            errors[path].seek(0)
            raise worker_failed(f"the {path} run of {model_key}", processes[path].wait(),
                                errors[path].read())

        reports = {path: next_report(path) for path in PATHS}  # both ready for the first epoch
        while any(state == "waiting" for state, _ in reports.values()):
            for path in order:
                if reports[path][0] == "waiting":
                    processes[path].stdin.write("go\n")
                    processes[path].stdin.flush()
                    reports[path] = next_report(path)
        return {path: result for path, (_, result) in reports.items()}
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
            process.wait()
        for stream in errors.values():
            stream.close()


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
    # Epoch e of the baseline and epoch e of ours ran back to back.
    ratios = [baseline / ours
              for baseline_run, our_run in zip(results["baseline"], results["ours"])
              for baseline, ours in zip(steady_epochs(baseline_run["seconds"]),
                                        steady_epochs(our_run["seconds"]))]
    row["ratio"] = statistics.median(ratios)
    row["ratio_range"] = (min(ratios), max(ratios))
    row["ratio_of_medians"] = row["baseline"] / row["ours"]
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
    print("ratio: median of baseline/ours over the epochs that ran back to back; range and "
          "ratio of the medians: " + ", ".join(
              f"{row['model']} {row['ratio_range'][0]:.2f}-{row['ratio_range'][1]:.2f}, "
              f"{row['ratio_of_medians']:.2f}x" for row in rows))
    print("Fastest epochs (baseline -> ours): " + ", ".join(
        f"{row['model']} {row['baseline_best']:.2f} -> {row['ours_best']:.2f} s "
        f"({row['baseline_best'] / row['ours_best']:.2f}x)" for row in rows))
    print("Cores busy (CPU time / wall time, median over the epochs), baseline / ours: " + ", ".join(
        f"{row['model']} {row['baseline_cores']:.2f} / {row['ours_cores']:.2f}" for row in rows))
    print("Test accuracy: mean over the seeds. Seed-to-seed spread (max - min) of the "
          "baseline: " + ", ".join(f"{row['model']} {100 * row['baseline_spread']:.2f} pt"
                                   for row in rows))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--epochs", type=runtime.positive_int, default=4,
                        help="epochs per run (the first one, which builds the graph, "
                             "is left out of the s/epoch figure)")
    parser.add_argument("--repeats", type=runtime.positive_int, default=3,
                        help="alternating baseline/ours runs per model")
    parser.add_argument("--max-samples", type=runtime.positive_int, default=None)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--seed", type=int, default=runtime.DEFAULT_SEED)
    parser.add_argument("--worker", choices=PATHS, help=argparse.SUPPRESS)
    parser.add_argument("--paired", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.no_sample = False
    if args.worker:
        return worker(args)

    print(f"{args.repeats} pairs of runs of {args.epochs} epochs per model, each run in a "
          f"fresh process, the two of a pair taking turns epoch by epoch.", flush=True)
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
                      f"{result['onednn']}): epochs {epochs} s, cores busy {busy}, "
                      f"test accuracy {result['accuracy']:.4f}", flush=True)
        rows.append(summarize(key, results))
    print(f"\nTensorFlow {rows[0]['tensorflow']}; float32 matrix multiply (2048x2048), "
          f"best of all runs: {peak:.0f} GFLOP/s")
    print_table(rows, peak)
    return rows


if __name__ == "__main__":
    sys.exit(runtime.run(main))
