"""Benchmark: where the MNIST CNN's training step spends its time, kernel by kernel.

Times every kernel of one training step of ``CNN_MNIST_digits_tf.py`` (batch
size 128) on its own, with TensorFlow's oneDNN kernels (our path, see
``dnnkit.runtime.enable_onednn``) and without them (``TF_ENABLE_ONEDNN_OPTS=0``:
TensorFlow's own kernels, its default on CPUs without AVX-512 VNNI, BF16 or
AMX), each in a fresh process, and prints
milliseconds per call (best of 5 rounds of 20 calls) and GFLOP/s for the
convolutions.  Their sum is most of a training step (the dense layer, the
loss and Adam's updates are small beside it), so it shows where oneDNN
helps and where nothing but faster convolutions would.  Not a test.

    python benchmarks/bench_cnn_ops.py
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_training import worker_failed  # noqa: E402
from dnnkit import runtime  # noqa: E402

BATCH = 128
RESULT_PREFIX = "OPS-RESULT "
CONV1_GFLOP = 2 * 3 * 3 * 1 * 32 * 26 * 26 * BATCH / 1e9  # multiply-adds x 2, per call
CONV2_GFLOP = 2 * 3 * 3 * 32 * 64 * 11 * 11 * BATCH / 1e9


def kernels(tf):
    """{name: function} for the kernels of one CNN training step."""
    x1 = tf.random.uniform((BATCH, 28, 28, 1))
    w1 = tf.random.uniform((3, 3, 1, 32))
    g1 = tf.random.uniform((BATCH, 26, 26, 32))  # gradient at conv 1's output
    x2 = tf.random.uniform((BATCH, 13, 13, 32))
    w2 = tf.random.uniform((3, 3, 32, 64))
    g2 = tf.random.uniform((BATCH, 11, 11, 64))  # gradient at conv 2's output
    p1 = tf.random.uniform((BATCH, 13, 13, 32))
    p2 = tf.random.uniform((BATCH, 5, 5, 64))
    ops = tf.raw_ops
    return {
        "conv 1 forward": lambda: tf.nn.conv2d(x1, w1, 1, "VALID"),
        "conv 1 filter gradient": lambda: ops.Conv2DBackpropFilter(
            input=x1, filter_sizes=[3, 3, 1, 32], out_backprop=g1, strides=[1, 1, 1, 1],
            padding="VALID"),
        "ReLU 1 gradient": lambda: ops.ReluGrad(gradients=g1, features=g1 - 0.5),
        # Forward and gradient together, as in a training step, where oneDNN's
        # gradient reuses what its forward pass noted (apart, it is 3x slower).
        "max-pool 1 fwd + grad": lambda: ops.MaxPoolGrad(
            orig_input=g1, orig_output=tf.nn.max_pool2d(g1, 2, 2, "VALID"), grad=p1,
            ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="VALID"),
        "conv 2 forward": lambda: tf.nn.conv2d(x2, w2, 1, "VALID"),
        "conv 2 input gradient": lambda: ops.Conv2DBackpropInput(
            input_sizes=[BATCH, 13, 13, 32], filter=w2, out_backprop=g2, strides=[1, 1, 1, 1],
            padding="VALID"),
        "conv 2 filter gradient": lambda: ops.Conv2DBackpropFilter(
            input=x2, filter_sizes=[3, 3, 32, 64], out_backprop=g2, strides=[1, 1, 1, 1],
            padding="VALID"),
        "max-pool 2 fwd + grad": lambda: ops.MaxPoolGrad(
            orig_input=g2, orig_output=tf.nn.max_pool2d(g2, 2, 2, "VALID"), grad=p2,
            ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="VALID"),
    }


def worker():
    """Time every kernel in this process; print one result line."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    timings = {}
    for name, function in kernels(tf).items():
        compiled = tf.function(function)
        compiled().numpy()  # trace and warm up
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(20):
                result = compiled()
            result.numpy()
            best = min(best, (time.perf_counter() - start) / 20)
        timings[name] = best
    print(RESULT_PREFIX + json.dumps(timings), flush=True)


def measure(onednn):
    """Run :func:`worker` in a fresh process with TF_ENABLE_ONEDNN_OPTS=onednn."""
    environment = dict(os.environ, TF_ENABLE_ONEDNN_OPTS=onednn, TF_CPP_MIN_LOG_LEVEL="3")
    completed = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker"],
                               env=environment, capture_output=True, text=True)
    for line in completed.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX):])
    raise worker_failed(f"the run with TF_ENABLE_ONEDNN_OPTS={onednn}", completed.returncode,
                        completed.stderr or completed.stdout)


def main(argv=None):
    parser = runtime.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker()
    onednn, default = measure("1"), measure("0")
    print(f"MNIST CNN training step, batch size {BATCH}: ms per call (GFLOP/s)")
    print(f"{'kernel':<24} {'oneDNN (ours)':>16} {'oneDNN off':>16}")
    for name in onednn:
        cells = []
        for timings in (onednn, default):
            seconds = timings[name]
            gflop = CONV1_GFLOP if name.startswith("conv 1") else CONV2_GFLOP
            rate = f" ({gflop / seconds:3.0f})" if name.startswith("conv") else ""
            cells.append(f"{1000 * seconds:6.2f}{rate}")
        print(f"{name:<24} {cells[0]:>16} {cells[1]:>16}")
    print(f"{'sum':<24} {1000 * sum(onednn.values()):>10.2f}       "
          f"{1000 * sum(default.values()):>10.2f}")
    return onednn, default


if __name__ == "__main__":
    # A worker that failed ends the benchmark with one line and exit code 2, no traceback.
    sys.excepthook = runtime.report_uncaught
    main()
