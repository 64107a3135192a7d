"""Reproduce the lecture's results table with one command.

Runs every example script at its default (lecture) settings, each in its own
process, and writes ``results/RESULTS.md``: per script the lecture's figure,
the measured test accuracy, the train/validation gap, epochs, seconds per
epoch, total time, peak memory, device, TensorFlow version and date.  The
scripts' figures go beside it in ``results/figures/``.

    python reproduce.py                      # everything, full data (takes a while)
    python reproduce.py --quick              # a demo-sized run: 2 epochs, 5000 images (tf_intro: 3 epochs)
    python reproduce.py --only clothingCNN clothingCNNDropout

A failed script does not stop the others; the summary reports it.  Use real
data (``--data-dir`` or ``DNN_DATA_DIR``): on the small shipped sample the
accuracies are lower than the lecture's.
"""

import argparse
import datetime
import importlib.metadata
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent


@dataclass
class Example:
    """One script of the lecture and the result its slide shows."""

    name: str
    lecture: str            # the result as the slide states it
    lecture_accuracy: float = None
    quick: tuple = ()       # the options of a --quick run
    uses_data: bool = True  # takes --data-dir


#: A --quick run of a model script: 2 epochs on 5000 training images.
QUICK_SETTINGS = ("--epochs", "2", "--max-samples", "5000")

#: The lecture's examples in lecture order.  A new script goes in here at its
#: place in the lecture: Example(name, the result its slide shows, the accuracy
#: to compare with or None, its --quick options, uses_data=False if it takes no
#: --data-dir).  tests/test_reproduce.py checks that every --quick option is one
#: its script accepts.
EXAMPLES = [
    # Fundamentals.
    Example("intro", "minimizers agree", uses_data=False),
    Example("linearRegression", "TF fit = least squares", uses_data=False),
    Example("tf_intro", "Bayes limit 0.921", 0.921, quick=("--epochs", "3"), uses_data=False),
    Example("activationFunctions", "numpy = keras.activations", uses_data=False),
    Example("networkByHand", "by hand = Keras", quick=("--epochs", "2"), uses_data=False),
    Example("inputPreprocessing", "60:20:20, decorrelated", uses_data=False),
    # The data sets.
    Example("display_HandWrt", "digits shown"),
    Example("display_Clothing", "clothes shown"),
    # Dense networks and CNNs.
    Example("MLP_MNIST_digits_tf", "0.98 (overtrains)", 0.98, QUICK_SETTINGS),
    Example("convolutionPooling", "28 -> 26 -> 13 -> 11 -> 5"),
    Example("CNN_MNIST_digits_tf", "at least 0.99", 0.99, QUICK_SETTINGS),
    Example("clothingSequential", "87.7 % (overtrains)", 0.877, QUICK_SETTINGS),
    Example("clothingSequentialDropout", "88.2 %", 0.882, QUICK_SETTINGS),
    Example("clothingCNN", "90.6 % (overtrains)", 0.906, QUICK_SETTINGS),
    Example("clothingCNNDropout", "91.4 % (no overtraining)", 0.914, QUICK_SETTINGS),
]

#: Measured and lecture figures may differ by this much before they are flagged.
TOLERANCE = 0.01



@dataclass
class Outcome:
    """What one script run gave."""

    example: Example
    exit_code: int = None
    seconds: float = 0.0
    peak_memory_mb: float = None
    numbers: dict = field(default_factory=dict)
    error: str = ""

    @property
    def ok(self):
        return self.exit_code == 0

    @property
    def flagged(self):
        accuracy = self.numbers.get("test_accuracy")
        lecture = self.example.lecture_accuracy
        return accuracy is not None and lecture is not None and abs(accuracy - lecture) > TOLERANCE


PATTERNS = {
    "test_accuracy": (re.compile(r"^Test accuracy: ([\d.]+)", re.MULTILINE), float),
    "gap": (re.compile(r"^Train/validation gap: (-?[\d.]+)", re.MULTILINE), float),
    "training_seconds": (re.compile(r"^Training time: ([\d.]+) s", re.MULTILINE), float),
    "seconds_per_epoch": (re.compile(r"^Training time: .*\(([\d.]+) s/epoch\)", re.MULTILINE),
                          float),
    "device": (re.compile(r"^Device: (.*)$", re.MULTILINE), str),
    "data": (re.compile(r"^Data: (.*)$", re.MULTILINE), str),
}
EPOCH_LINE = re.compile(r"^Epoch (\d+)/(\d+)", re.MULTILINE)


def parse_output(text):
    """The numbers a script printed in its result lines."""
    numbers = {}
    for key, (pattern, convert) in PATTERNS.items():
        found = pattern.search(text)
        if found:
            numbers[key] = convert(found.group(1))
    epochs = EPOCH_LINE.findall(text)
    if epochs:
        numbers["epochs"] = int(epochs[-1][0])
    return numbers


def run_example(example, arguments, log_path, index, total):
    """Run one script in its own process, showing its progress.

    In a terminal the progress is one line, rewritten as the script prints;
    in a log or a pipe (``| tee``), under CI or pytest, one line when an
    epoch starts: the same choice as the scripts' own progress bar makes.
    """
    from dnnkit import runtime

    interactive = not runtime.running_under_test_or_ci()
    command = [sys.executable, "-u", str(ROOT / f"{example.name}.py"), *arguments]
    outcome = Outcome(example)
    start = time.perf_counter()
    lines = []
    environment = dict(os.environ, PYTHONUNBUFFERED="1")
    with open(log_path, "w", encoding="utf-8") as log:
        log.write("$ " + " ".join(command) + "\n")
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, env=environment)
        for line in process.stdout:
            log.write(line)
            lines.append(line)
            epoch = EPOCH_LINE.match(line)
            status = f"epoch {epoch.group(1)}/{epoch.group(2)}, " if epoch else ""
            progress = (f"[{index}/{total}] {example.name}: {status}"
                        f"{time.perf_counter() - start:.0f} s so far")
            if interactive:
                print(f"\r{progress}   ", end="", flush=True)
            elif epoch:
                print(progress, flush=True)
        outcome.exit_code, outcome.peak_memory_mb = wait_with_peak_memory(process)
    outcome.seconds = time.perf_counter() - start
    text = "".join(lines)
    outcome.numbers = parse_output(text)
    if not outcome.ok:
        error_lines = [line for line in lines if line.strip()]
        outcome.error = error_lines[-1].strip() if error_lines else "no output"
    state = "done" if outcome.ok else f"FAILED (exit {outcome.exit_code})"
    done = f"[{index}/{total}] {example.name}: {state} in {outcome.seconds:.0f} s"
    print(f"\r{done}{' ' * 20}" if interactive else done, flush=True)
    return outcome


def wait_with_peak_memory(process):
    """Wait for ``process``; return its exit code and peak memory in MB.

    The peak memory (the largest resident set) comes from ``os.wait4``, which
    Linux and macOS have; elsewhere (Windows) it is None and shown as "n/a".
    """
    if not hasattr(os, "wait4"):
        return process.wait(), None
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = exit_code(status)
    # ru_maxrss is in kilobytes on Linux and in bytes on macOS.
    scale = 1 / 1024 if sys.platform != "darwin" else 1 / 2**20
    return process.returncode, usage.ru_maxrss * scale


def exit_code(status):
    """The exit code in a wait status, as ``subprocess`` reports it: -N for signal N.

    (``os.waitstatus_to_exitcode`` does this from Python 3.9 on; the lab has 3.8.)
    """
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def arguments_for(example, args, outdir):
    """The command line for one script."""
    arguments = ["--no-show", "--outdir", str(outdir)]
    if args.data_dir and example.uses_data:
        arguments += ["--data-dir", args.data_dir]
    if args.quick:
        arguments += example.quick
    return arguments


def comparison_note(outcome, quick):
    """What the summary says beside a result that is far from the lecture's."""
    if not outcome.flagged:
        return ""
    if quick:
        return "quick run: fewer epochs and images than the lecture"
    return f"differs from the lecture by more than {TOLERANCE:.2f}"


def format_number(value, digits):
    return "" if value is None else f"{value:.{digits}f}"


def results_table(outcomes, quick=False):
    """The Markdown table of all outcomes."""
    header = ("| script | lecture | test accuracy | train/val gap | epochs | s/epoch | total s "
              "| peak memory MB | status |\n|---|---|---|---|---|---|---|---|---|")
    rows = []
    for outcome in outcomes:
        numbers = outcome.numbers
        status = "ok" if outcome.ok else f"failed: {outcome.error}"
        note = comparison_note(outcome, quick)
        if note:
            status += f" ({note})"
        gap = numbers.get("gap")
        rows.append(
            f"| {outcome.example.name} | {outcome.example.lecture} "
            f"| {format_number(numbers.get('test_accuracy'), 4)} "
            f"| {'' if gap is None else f'{gap:+.4f}'} "
            f"| {numbers.get('epochs', '')} "
            f"| {format_number(numbers.get('seconds_per_epoch'), 2)} "
            f"| {outcome.seconds:.0f} | {format_number(outcome.peak_memory_mb, 0) or 'n/a'} "
            f"| {status} |")
    return header + "\n" + "\n".join(rows)


def write_results(outcomes, args, results_dir):
    """Write results/RESULTS.md and return its path."""
    devices = sorted({o.numbers["device"] for o in outcomes if "device" in o.numbers})
    sources = sorted({o.numbers["data"] for o in outcomes if "data" in o.numbers})
    try:
        tensorflow_version = importlib.metadata.version("tensorflow")
    except importlib.metadata.PackageNotFoundError:
        tensorflow_version = "not installed"
    lines = [
        "# Results of `python reproduce.py" + (" " + " ".join(args.argv) if args.argv else "")
        + "`",
        "",
        f"- date: {datetime.date.today().isoformat()}",
        f"- machine: {platform.machine()}, {os.cpu_count()} CPU cores, "
        f"{platform.system()} {platform.release()}",
        f"- device: {'; '.join(devices) or 'not reported'}",
        f"- TensorFlow {tensorflow_version}, Python {platform.python_version()}",
        "- settings: " + ("--quick: " + " ".join(QUICK_SETTINGS) + " for the model scripts"
                          if args.quick else "defaults of each script (the lecture settings)"),
        "- data: " + ("; ".join(sources) or "not reported"),
        "",
        results_table(outcomes, quick=args.quick),
        "",
        (f"A --quick run trains for a few epochs on a part of the data: its accuracies "
         f"are not the lecture's and are not compared with them. " if args.quick else
         f"Accuracies that differ from the lecture's by more than {TOLERANCE:.2f} are flagged. ")
        + "`reproduce.py` writes the figures of every script into `figures/` and their "
        "full output into `logs/`, beside this file.",
        "",
    ]
    path = results_dir / "RESULTS.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def make_parser():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    names = [example.name for example in EXAMPLES]
    parser.add_argument("--only", nargs="+", choices=names, metavar="NAME",
                        help="run only these scripts (" + ", ".join(names) + ")")
    parser.add_argument("--quick", action="store_true",
                        help="demo-sized run: " + " ".join(QUICK_SETTINGS) + " for the model scripts"
                        " (tf_intro: --epochs 3); its accuracies are not compared with the lecture's")
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help="data folder passed to every script (default: $DNN_DATA_DIR)")
    parser.add_argument("--results-dir", default="results", metavar="DIR",
                        help="where RESULTS.md, figures/ and logs/ are written")
    return parser


def main(argv=None):
    args = make_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    from dnnkit.runtime import ensure_writable_dir

    # The scripts run in this folder (ROOT): paths given relative to the
    # current folder are made absolute first, so that they mean the same there.
    results_dir = ensure_writable_dir(Path(args.results_dir).resolve(), option="--results-dir")
    if args.data_dir:
        args.data_dir = str(Path(args.data_dir).resolve())
    if os.environ.get("DNN_DATA_DIR"):
        os.environ["DNN_DATA_DIR"] = str(Path(os.environ["DNN_DATA_DIR"]).resolve())
    logs_dir = ensure_writable_dir(results_dir / "logs", option="--results-dir")
    examples = [e for e in EXAMPLES if not args.only or e.name in args.only]
    outcomes = []
    for index, example in enumerate(examples, start=1):
        outcomes.append(run_example(example, arguments_for(example, args, results_dir / "figures"),
                                    logs_dir / f"{example.name}.log", index, len(examples)))
    path = write_results(outcomes, args, results_dir)

    print("\nSummary (measured against the lecture):")
    for outcome in outcomes:
        accuracy = outcome.numbers.get("test_accuracy")
        measured = format_number(accuracy, 4) or "-"
        note = comparison_note(outcome, args.quick)
        flag = f"  <-- {note}" if note else ""
        state = "ok" if outcome.ok else f"FAILED: {outcome.error}"
        print(f"  {outcome.example.name:<27} lecture {outcome.example.lecture:<26} "
              f"measured {measured:<7} {outcome.seconds:6.0f} s  {state}{flag}")
    print(f"Table written to {path}")
    failed = [o.example.name for o in outcomes if not o.ok]
    return {"outcomes": outcomes, "path": path, "failed": failed}


if __name__ == "__main__":
    from dnnkit import runtime

    # A bad option or an unwritable --results-dir ends with one line and exit
    # code 2, Ctrl-C with exit code 130, both without a traceback.
    sys.excepthook = runtime.report_uncaught
    sys.exit(1 if main()["failed"] else 0)
