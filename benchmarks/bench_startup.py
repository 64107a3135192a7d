"""Benchmark: how fast the scripts start, and how fast the display scripts finish.

Prints, for every example of ``dnnkit/lecture.py``, the wall time of
``python <script> --help`` (the options are parsed before TensorFlow or
matplotlib is imported; budget: under 1 s), the wall time of a full run of
each display script (``--no-show``; budget: under 3 s), and the time a Python
process takes to import TensorFlow (``runtime.import_tensorflow``) or
matplotlib.pyplot (``plotting.pyplot``) and exit.  The median of
``--repeats`` runs is printed.  Not a test: run it on a quiet machine.

    DNN_DATA_DIR=../shared/data python benchmarks/bench_startup.py
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dnnkit import lecture, runtime  # noqa: E402

IMPORTS = {
    "TensorFlow": "from dnnkit import runtime; runtime.import_tensorflow()",
    "matplotlib.pyplot": "from dnnkit import plotting; plotting.pyplot()",
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


def main(argv=None):
    parser = runtime.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each, the median counts")
    args = parser.parse_args(argv)
    print(f"{'script':<32} {'--help':>8}")
    for name in lecture.names():
        seconds = wall_time([f"{name}.py", "--help"], args.repeats)
        print(f"{name + '.py':<32} {seconds:>7.2f}s", flush=True)
    with tempfile.TemporaryDirectory() as outdir:
        print(f"\n{'display script (full run)':<32} {'time':>8}")
        for name in lecture.names("display"):
            seconds = wall_time([f"{name}.py", "--no-show", "--outdir", outdir], args.repeats)
            print(f"{name + '.py':<32} {seconds:>7.2f}s", flush=True)
    environment = dict(os.environ, MPLBACKEND="Agg")
    print(f"\n{'import and exit':<32} {'time':>8}")
    for name, code in IMPORTS.items():
        print(f"{name:<32} {wall_time(['-c', code], args.repeats, environment):>7.2f}s",
              flush=True)


if __name__ == "__main__":
    main()
