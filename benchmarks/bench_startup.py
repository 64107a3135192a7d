"""Benchmark: how fast the scripts start, and how fast the display scripts finish.

Prints, for every example script (the top-level files in ``# %%`` cells), the
wall time of ``python <script> --help`` (the options are parsed before
TensorFlow or matplotlib is imported), the wall time of a full run of each
display script (``--no-show``), and the time a Python process takes to
import TensorFlow (or matplotlib.pyplot) and exit, plainly and the scripts'
way: through ``dnnkit.runtime.import_big_package`` (garbage collector paused
during the import, objects frozen after it), for matplotlib through
``dnnkit.plotting.pyplot``, which imports it so.  The median of
``--repeats`` runs is printed.  Not a test: run it on a quiet machine.

    DNN_DATA_DIR=../shared/data python benchmarks/bench_startup.py
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DISPLAY_SCRIPTS = ("display_HandWrt", "display_Clothing")


IMPORTS = {
    # name: (plain import, our import); both in a process of their own, exit included
    "TensorFlow": ("import tensorflow",
                   "from dnnkit import runtime; runtime.import_big_package('tensorflow')"),
    "matplotlib.pyplot": ("import matplotlib.pyplot",
                          "from dnnkit import plotting; plotting.pyplot()"),
}


def wall_time(arguments, repeats, environment=None):
    """Median wall time of running ``python arguments...`` ``repeats`` times."""
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, *arguments], cwd=ROOT, check=True, env=environment,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def example_scripts():
    """The example scripts: the top-level files written in ``# %%`` cells, by name."""
    return sorted(path.name for path in ROOT.glob("*.py")
                  if re.search(r"^# %%", path.read_text(encoding="utf-8"), re.MULTILINE))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each, the median counts")
    args = parser.parse_args(argv)
    scripts = example_scripts()
    print(f"{'script':<32} {'--help':>8}")
    for script in scripts:
        print(f"{script:<32} {wall_time([script, '--help'], args.repeats):>7.2f}s", flush=True)
    with tempfile.TemporaryDirectory() as outdir:
        print(f"\n{'display script (full run)':<32} {'time':>8}")
        for name in DISPLAY_SCRIPTS:
            seconds = wall_time([f"{name}.py", "--no-show", "--outdir", outdir], args.repeats)
            print(f"{name + '.py':<32} {seconds:>7.2f}s", flush=True)
    # The same TensorFlow settings and matplotlib backend for both imports, so
    # that only the way of importing differs.
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_ENABLE_ONEDNN_OPTS="1",
                       MPLBACKEND="Agg")
    print(f"\n{'import and exit':<32} {'plain':>8} {'ours':>8}")
    for name, codes in IMPORTS.items():
        timings = {code: [] for code in codes}
        for _ in range(args.repeats):  # alternately, so that a drift favours neither
            for code in codes:
                timings[code].append(wall_time(["-c", code], 1, environment))
        plain, ours = (statistics.median(timings[code]) for code in codes)
        print(f"{name:<32} {plain:>7.2f}s {ours:>7.2f}s", flush=True)


if __name__ == "__main__":
    main()
