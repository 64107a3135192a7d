"""Benchmark of the lecture demos: ``--pretrained`` and ``--live``.

1. ``--pretrained``: the wall and CPU time of ``python CNN_MNIST_digits_tf.py
   --pretrained --no-show`` in a fresh process: TensorFlow's import, the
   data, one pass over the test images, the report and all five figures,
   what the audience waits for; each run paired with one of
   ``python -c "import tensorflow"`` right after it, so that both see the
   same machine (on a loaded machine its speed drifts): the figure that
   matters is the difference, what the script costs beyond TensorFlow's own
   import (medians of ``--repeats`` pairs).  The network comes
   from ``--models-dir``, else from ``models/`` (where ``reproduce.py`` saves
   it), else the CNN is trained once for 1 epoch on all training images into
   a temporary folder (the epochs do not change what --pretrained does).  Use the full data (``DNN_DATA_DIR``).
2. ``--live``: what the redraw costs after each epoch, on the script's own
   training-curves figure: the callback redraws it (in the notebook's inline
   backend, switched on here; outside a notebook its display handle only
   prints), then the figure is rendered to PNG as the notebook's update
   sends it (a window renders the same with Agg, without the PNG encoding).
   Per epoch, the median over the first and the last tenth of ``--epochs``
   epochs of fake numbers.  The memory Python holds (tracemalloc, in a run
   of its own) after the first tenth and after all epochs shows whether it
   grows with the epochs.
3. ``--pretrained --live``: the replay of a stored history
   (:func:`dnnkit.live.replay`) in the notebook's inline backend, as a
   notebook cell shows it (each frame rendered to PNG), for 12 and for 50
   epochs: its wall time (asked for: ``live.REPLAY_SECONDS``), and the time
   each frame takes to draw and render, which must stay below the time a
   frame has.

Not a test: run it on a quiet machine.

    DNN_DATA_DIR=../shared/data python benchmarks/bench_demos.py
"""

import argparse
import contextlib
import gc
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

try:
    import resource  # the children's CPU time; Windows has no such module
except ImportError:
    resource = None

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SCRIPT = "CNN_MNIST_digits_tf"


def run(command, environment):
    """Run ``command`` in a fresh process; return (wall seconds, CPU seconds, output).

    The CPU time (user + system, all threads) depends much less on what else
    the machine runs than the wall time; on a quiet machine with 2 cores the
    wall time lies between half of it and all of it.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN) if resource else None
    start = time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True,
                               text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN) if resource else None
    if completed.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{completed.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime) \
        if resource else float("nan")  # not measured on Windows
    return seconds, cpu, completed.stdout


def bench_pretrained(models_dir, repeats):
    environment = dict(os.environ, MPLBACKEND="Agg")
    from dnnkit import runtime, saved

    runtime.import_tensorflow()  # for the file name this Keras uses
    if models_dir is None and saved.model_path(SCRIPT, ROOT / "models").exists():
        models_dir = str(ROOT / "models")  # the network reproduce.py trained
    with tempfile.TemporaryDirectory() as scratch:
        outdir = str(Path(scratch) / "figures")
        if models_dir is None:
            models_dir = str(Path(scratch) / "models")
            print(f"Training {SCRIPT}.py once, 1 epoch on all training images, into a "
                  f"temporary folder ...", flush=True)
            seconds, _, _ = run([sys.executable, f"{SCRIPT}.py", "--epochs", "1", "--no-show",
                                 "--outdir", outdir, "--models-dir", models_dir], environment)
            print(f"  took {seconds:.1f} s (with TensorFlow's import and all figures)")
        print(f"The network of {models_dir}:")
        import_tensorflow = [sys.executable, "-c", "import tensorflow"]
        pretrained = [sys.executable, f"{SCRIPT}.py", "--pretrained", "--no-show", "--outdir",
                      outdir, "--models-dir", models_dir]
        run(import_tensorflow, environment)  # a first run of each, not counted
        run(pretrained, environment)
        script, baseline, loads = [], [], []
        for _ in range(repeats):  # in pairs: the script, then TensorFlow's import alone
            *timing, output = run(pretrained, environment)
            script.append(timing)
            baseline.append(run(import_tensorflow, environment)[:2])
            loads.append(os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"))
        lines = output.splitlines()
        for start in ("Data:", "Loaded", "Stored with the network", "Test accuracy"):
            print(next(line for line in lines if line.startswith(start)))
        print(f"{sum(line.startswith('Saved ') for line in lines)} figures saved")

        def median(values, part):
            return statistics.median(value[part] for value in values)

        def spread(values, part):
            return f"{min(v[part] for v in values):.2f}-{max(v[part] for v in values):.2f} s"

        differences = [(a[0] - b[0], a[1] - b[1]) for a, b in zip(script, baseline)]
        for name, values in ((f"python {SCRIPT}.py --pretrained --no-show", script),
                             ('python -c "import tensorflow"', baseline),
                             ("difference (pair by pair)", differences)):
            print(f"{name}: wall {median(values, 0):.2f} s ({spread(values, 0)}), "
                  f"CPU {median(values, 1):.2f} s ({spread(values, 1)}); medians of "
                  f"{repeats}")
        print(f"load average {min(loads):.1f}-{max(loads):.1f} (1 minute, after each pair)")


def fake_logs(epoch):
    """The numbers of a training whose validation loss turns up after a while."""
    fall = 1 / (1 + epoch)
    return {"loss": 0.3 * fall, "accuracy": 1 - 0.1 * fall,
            "val_loss": 0.25 * fall + 0.002 * epoch, "val_accuracy": 1 - 0.08 * fall}


def live_run(epochs, each_epoch=None):
    """Drive the --live callback through ``epochs`` fake epochs; return it."""
    from dnnkit import live

    callback, = live.curves(argparse.Namespace(live=True), "CNN on MNIST: training curves")
    callback.set_params({"epochs": epochs, "verbose": 0})
    with contextlib.redirect_stdout(io.StringIO()):  # the display handle's prints
        callback.on_train_begin()
        for epoch in range(epochs):
            if each_epoch is None:
                callback.on_epoch_end(epoch, fake_logs(epoch))
            else:
                each_epoch(callback, epoch)
        callback.on_train_end()
    return callback


def bench_live(epochs):
    from dnnkit import plotting, runtime

    runtime.import_tensorflow()
    plt = plotting.pyplot()
    backend = plt.get_backend()
    plt.switch_backend("module://matplotlib_inline.backend_inline")  # the notebook's
    try:
        return measure_live(plt, epochs)
    finally:
        plt.switch_backend(backend)


def measure_live(plt, epochs):
    """Print the redraw's cost per epoch; return {epoch: MB of memory held after it}."""
    redraw, render = [], []

    def timed(callback, epoch):
        start = time.perf_counter()
        callback.on_epoch_end(epoch, fake_logs(epoch))
        middle = time.perf_counter()
        # What the notebook's update sends (a window draws the same with Agg, without the PNG).
        callback.figure.savefig(io.BytesIO(), format="png")
        redraw.append(middle - start)
        render.append(time.perf_counter() - middle)

    live_run(epochs, timed)
    tenth = max(1, epochs // 10)
    for name, part in (("first", slice(0, tenth)), ("last", slice(-tenth, None))):
        print(f"--live, {name} {tenth} of {epochs} epochs: redraw "
              f"{1000 * statistics.median(redraw[part]):.0f} ms + render to PNG "
              f"{1000 * statistics.median(render[part]):.0f} ms per epoch (median)")
    held = memory_held(epochs)
    print(f"Python memory held by the live figure: {held[tenth]:.1f} MB after epoch {tenth}, "
          f"{held[epochs // 2]:.1f} MB after epoch {epochs // 2}, {held[epochs]:.1f} MB after "
          f"epoch {epochs}; figures open after training: "
          f"{len(plt.get_fignums())}")
    return held


def memory_held(epochs):
    """{epoch: MB of memory Python holds after it} after the first tenth, the half and all of
    ``epochs`` fake epochs of the --live callback, in a run of its own (tracemalloc slows
    Python down)."""
    tenth = max(1, epochs // 10)
    held = {}

    def measured(callback, epoch):
        callback.on_epoch_end(epoch, fake_logs(epoch))
        if epoch + 1 in (tenth, epochs // 2, epochs):
            gc.collect()  # the axes cleared away are freed by the collector (reference cycles)
            held[epoch + 1] = tracemalloc.get_traced_memory()[0] / 2**20

    tracemalloc.start()
    try:
        live_run(epochs, measured)
    finally:
        tracemalloc.stop()
    return held


def bench_replay(epoch_counts=(12, 50)):
    from dnnkit import live, plotting, runtime

    runtime.import_tensorflow()
    plt = plotting.pyplot()
    backend = plt.get_backend()
    plt.switch_backend("module://matplotlib_inline.backend_inline")  # the notebook's
    try:
        for epochs in epoch_counts:
            history = {key: [] for key in fake_logs(0)}
            for epoch in range(epochs):
                for key, value in fake_logs(epoch).items():
                    history[key].append(value)
            with contextlib.redirect_stdout(io.StringIO()):  # the display handle's prints
                started, cpu_started = time.perf_counter(), time.process_time()
                figure = live.replay(argparse.Namespace(live=True), history, "Replay", "bench")
                seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            # One frame drawn and rendered as the notebook's update does, without the wait.
            frames = []
            for _ in range(5):
                frame_started = time.perf_counter()
                figure.savefig(io.BytesIO(), format="png")
                frames.append(time.perf_counter() - frame_started)
            print(f"--pretrained --live, replay of {epochs} epochs (asked: "
                  f"{live.REPLAY_SECONDS:.0f} s): {seconds:.2f} s wall, {cpu:.2f} s CPU; a frame "
                  f"rendered to PNG: {1000 * statistics.median(frames):.0f} ms (median of 5), "
                  f"{1000 * live.REPLAY_SECONDS / min(epochs, live.REPLAY_FRAMES):.0f} ms "
                  f"available (one of {min(epochs, live.REPLAY_FRAMES)} frames); load average "
                  + (f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "unknown"))
    finally:
        plt.switch_backend(backend)


def main(argv=None):
    from dnnkit import runtime

    parser = runtime.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--part", choices=("pretrained", "live", "replay", "all"),
                        default="all", help="what to time")
    parser.add_argument("--repeats", type=int, default=5, help="runs of --pretrained")
    parser.add_argument("--models-dir", default=None,
                        help="use the network saved here (default: models/ if it has one, "
                             "else one trained into a temporary folder)")
    parser.add_argument("--epochs", type=int, default=50, help="fake epochs of the --live part")
    args = parser.parse_args(argv)
    if args.part in ("pretrained", "all"):
        bench_pretrained(args.models_dir, args.repeats)
    if args.part in ("live", "all"):
        bench_live(args.epochs)
    if args.part in ("replay", "all"):
        bench_replay()


if __name__ == "__main__":
    main()
