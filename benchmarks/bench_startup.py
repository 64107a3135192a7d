"""Benchmark: how fast the scripts start, and how fast the display scripts finish.

Prints, for every top-level script, the wall time of ``python <script> --help``
(the arguments are parsed before TensorFlow or matplotlib is imported), and
the wall time of a full run of each display script (``--no-show``).  The
median of ``--repeats`` runs is printed.  Not a test: run it on a quiet machine.

    DNN_DATA_DIR=../shared/data python benchmarks/bench_startup.py
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DISPLAY_SCRIPTS = ("display_HandWrt", "display_Clothing")


def wall_time(arguments, repeats):
    """Median wall time of running ``python arguments...`` ``repeats`` times."""
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, *arguments], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    scripts = sorted(path.name for path in ROOT.glob("*.py")
                     if "def main(argv=None)" in path.read_text(encoding="utf-8"))
    print(f"{'script':<32} {'--help':>8}")
    for script in scripts:
        print(f"{script:<32} {wall_time([script, '--help'], args.repeats):>7.2f}s", flush=True)
    with tempfile.TemporaryDirectory() as outdir:
        print(f"\n{'display script (full run)':<32} {'time':>8}")
        for name in DISPLAY_SCRIPTS:
            seconds = wall_time([f"{name}.py", "--no-show", "--outdir", outdir], args.repeats)
            print(f"{name + '.py':<32} {seconds:>7.2f}s", flush=True)


if __name__ == "__main__":
    main()
