"""Benchmark: our training path against plain Keras, same models, same seeds.

For the MNIST MLP, the MNIST CNN and the Fashion-MNIST CNN with dropout,
trains each model twice, alternately, with the same seed:

- baseline: the model compiled with Keras defaults and trained with
  ``model.fit(x, y, batch_size=..., validation_split=0.1)`` from numpy arrays,
  as the TensorFlow tutorials do;
- ours: the script's own ``build_model()`` (compiled with
  ``steps_per_execution``) trained through ``dnnkit.training.fit`` (an input
  pipeline built once).

Prints per model the seconds per epoch of both, the ratio, the achieved
GFLOP/s and its fraction of this machine's measured matrix-multiply rate, and
both test accuracies.  This is a benchmark, not a test: run it on a quiet
machine.

    DNN_DATA_DIR=../shared/data python benchmarks/bench_training.py
    python benchmarks/bench_training.py --models mlp --epochs 2 --repeats 1
"""

import argparse
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dnnkit import runtime  # noqa: E402

MODELS = {
    "mlp": "MLP_MNIST_digits_tf",
    "cnn": "CNN_MNIST_digits_tf",
    "fashion-cnn-dropout": "clothingCNNDropout",
}


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


def matmul_rate_gflops(size=2048, repeats=10):
    """This machine's float32 matrix-multiply rate through TensorFlow, in GFLOP/s."""
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


def epoch_timer(seconds):
    """A Keras callback that appends the wall time of every epoch to ``seconds``."""
    import keras

    starts = []
    return keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: starts.append(time.perf_counter()),
        on_epoch_end=lambda epoch, logs: seconds.append(time.perf_counter() - starts[-1]))


def steady_seconds_per_epoch(seconds):
    """Median epoch time without the first epoch (which also builds the graph)."""
    return statistics.median(seconds[1:]) if len(seconds) > 1 else seconds[0]


def run_baseline(script, data, args):
    """Plain Keras: default compile, ``model.fit`` from numpy arrays."""
    import keras

    (x_train, y_train), (x_test, y_test) = data
    runtime.set_seed(args.seed)
    model = script.build_model()
    model.compile(optimizer=keras.optimizers.Adam(), loss=model.loss, metrics=["accuracy"])
    seconds = []
    model.fit(x_train, y_train, batch_size=script.BATCH_SIZE, epochs=args.epochs,
              validation_split=0.1, verbose=0, callbacks=[epoch_timer(seconds)])
    _, accuracy = model.evaluate(x_test, y_test, batch_size=1024, verbose=0)
    return model, seconds, accuracy


def run_ours(script, data, args):
    """The script's own model and compile settings, trained by dnnkit.training.fit."""
    from dnnkit import metrics, training

    (x_train, y_train), (x_test, y_test) = data
    runtime.set_seed(args.seed)
    model = script.build_model()
    seconds = []
    training.fit(model, x_train, y_train, epochs=args.epochs, batch_size=script.BATCH_SIZE,
                 seed=args.seed, verbose=0, callbacks=[epoch_timer(seconds)])
    accuracy = metrics.accuracy(y_test, training.predict_classes(model, x_test))
    return model, seconds, accuracy


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--epochs", type=runtime.positive_int, default=3,
                        help="epochs per run (the first one, which builds the graph, "
                             "is left out of the s/epoch figure)")
    parser.add_argument("--repeats", type=runtime.positive_int, default=2,
                        help="alternating baseline/ours pairs per model")
    parser.add_argument("--max-samples", type=runtime.positive_int, default=None)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--seed", type=int, default=runtime.DEFAULT_SEED)
    args = parser.parse_args(argv)
    args.no_sample = False

    tf = runtime.setup_tensorflow(SimpleNamespace(cpu=False, seed=args.seed))
    import importlib

    peak = matmul_rate_gflops()
    print(f"TensorFlow {tf.__version__}; float32 matrix multiply (2048x2048): {peak:.0f} GFLOP/s")
    rows = []
    for key in args.models:
        script = importlib.import_module(MODELS[key])
        train, test, _ = script.prepare_data(args)
        data = (train, test)
        baseline_times, our_times, baseline_accuracies, our_accuracies = [], [], [], []
        for repeat in range(args.repeats):
            model, seconds, accuracy = run_baseline(script, data, args)
            baseline_times.append(steady_seconds_per_epoch(seconds))
            baseline_accuracies.append(accuracy)
            model, seconds, accuracy = run_ours(script, data, args)
            our_times.append(steady_seconds_per_epoch(seconds))
            our_accuracies.append(accuracy)
            print(f"  {key} run {repeat + 1}: baseline {baseline_times[-1]:.2f} s/epoch "
                  f"(accuracy {baseline_accuracies[-1]:.4f}), ours {our_times[-1]:.2f} s/epoch "
                  f"(accuracy {our_accuracies[-1]:.4f})", flush=True)
        samples = int(round(len(train[0]) * 0.9))
        # Training costs about three forward passes (forward, two backward products).
        epoch_gflop = 3 * forward_flops_per_sample(model) * samples / 1e9
        baseline = min(baseline_times)
        ours = min(our_times)
        rows.append((key, baseline, ours, baseline / ours, epoch_gflop / ours,
                     epoch_gflop / ours / peak, statistics.mean(baseline_accuracies),
                     statistics.mean(our_accuracies), epoch_gflop))

    print()
    print(f"{'model':<20} {'baseline s/ep':>13} {'ours s/ep':>10} {'ratio':>6} "
          f"{'GFLOP/ep':>9} {'GFLOP/s':>8} {'of peak':>8} {'acc base':>9} {'acc ours':>9}")
    for key, baseline, ours, ratio, rate, fraction, acc_base, acc_ours, epoch_gflop in rows:
        print(f"{key:<20} {baseline:>13.2f} {ours:>10.2f} {ratio:>5.2f}x {epoch_gflop:>9.0f} "
              f"{rate:>8.0f} {fraction:>7.0%} {acc_base:>9.4f} {acc_ours:>9.4f}")
    return rows


if __name__ == "__main__":
    sys.exit(runtime.run(main))
