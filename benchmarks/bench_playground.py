"""Benchmark: how many epochs a second the playground trains with its map redrawn every epoch.

Runs playground.py in this process on the Agg backend (``--no-show``, one
epoch), draws the figure once as a window does when it opens, presses Play,
then times ``--repeats`` series of ``--epochs`` ticks of the animation's
timer, each as a window's timer makes it: one frame of matplotlib's
FuncAnimation, which trains one epoch (``model.fit``), computes the
probability map, the hidden nodes' maps and the test accuracy, and draws the
animated artists onto the kept picture of their axes (the whole figure when
the loss axes' limits change).  Agg's ``blit`` (copying the picture to the
screen) is a no-op, so that last step of a real window is not counted.
Prints the median and the best series in epochs per second, and epochs per
second of CPU time (which waiting for a core on a busy machine does not
count).  The default network is the playground's default: 2 hidden layers
of 8 ReLU nodes on 400 points (240 for
training, batch size 10).

    python benchmarks/bench_playground.py
    python benchmarks/bench_playground.py --options "--hidden 8 --dataset xor"
"""

import os
import runpy
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None):
    sys.path.insert(0, str(ROOT))
    from dnnkit import runtime

    parser = runtime.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20, help="epochs per series")
    parser.add_argument("--repeats", type=int, default=5, help="series, the median counts")
    parser.add_argument("--options", default="", help="playground.py options, in quotes")
    args = parser.parse_args(argv)
    os.environ["MPLBACKEND"] = "Agg"
    with tempfile.TemporaryDirectory() as outdir:
        sys.argv = [str(ROOT / "playground.py"), *shlex.split(args.options), "--no-show",
                    "--epochs", "1", "--outdir", outdir]
        playground = runpy.run_path(str(ROOT / "playground.py"), run_name="__main__")
    window = playground["playground"]
    window.fig.canvas.draw()  # the first full drawing, as a window makes it when it opens
    window.on_play()

    def tick():  # what the window's timer does: one frame of the animation
        for function, arguments, keywords in window.animation.event_source.callbacks:
            function(*arguments, **keywords)

    rates, cpu_rates = [], []
    for _ in range(args.repeats):
        start, cpu_start = time.perf_counter(), os.times()
        for _ in range(args.epochs):
            tick()
        cpu_end = os.times()
        rates.append(args.epochs / (time.perf_counter() - start))
        cpu_seconds = (cpu_end.user + cpu_end.system) - (cpu_start.user + cpu_start.system)
        cpu_rates.append(args.epochs / cpu_seconds)
    import tensorflow as tf
    import matplotlib

    print(f"TensorFlow {tf.__version__}, matplotlib {matplotlib.__version__}, "
          f"{os.cpu_count()} cores, load "
          + (f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "unknown (Windows)"))
    print(f"{playground['describe'](window.settings)}, {window.epoch} epochs trained")
    print(f"Epochs per second with the figure drawn every epoch: median "
          f"{statistics.median(rates):.1f}, best {max(rates):.1f} "
          f"({args.repeats} series of {args.epochs} epochs: "
          + ", ".join(f"{rate:.1f}" for rate in rates) + ")")
    # On a busy machine the wall time is mostly waiting for a core; the CPU time is not.
    print(f"Epochs per second of CPU time (all threads of this process): median "
          f"{statistics.median(cpu_rates):.1f}")


if __name__ == "__main__":
    main()
