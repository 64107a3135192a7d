"""Reproduce the lecture's results table with one command.

Runs every example script of the lecture (``dnnkit/lecture.py``, in lecture
order) at its default (lecture) settings, each in its own process, and writes
``results/RESULTS.md`` and ``results/results.json``: per script the lecture's
figure, the measured test accuracy, the diagnosis of overtraining (the epoch
of the lowest validation loss, how far it rose after it, the verdict), the
train/validation gap, epochs, time, peak memory, device, TensorFlow version
and date.  The scripts' figures go beside it in ``results/figures/``.

With ``--seeds N`` every model script runs N times, with seeds 42, 43, ...:
the table then gives mean +- standard deviation over the seeds, says whether
the lecture's figure lies within that spread, and states each Dropout pair's
difference with its uncertainty.  One run cannot tell an effect from noise.

    python reproduce.py                      # everything, full data (takes a while)
    python reproduce.py --seeds 3            # the model scripts with 3 seeds each
    python reproduce.py --quick              # a demo-sized run: 2 epochs, 5000 images (tf_intro: 3 epochs)
    python reproduce.py --only clothingCNN clothingCNNDropout

Every finished run is kept in ``results/runs/`` (one JSON file per script and
seed, with its numbers and its training history): the same command run again,
or with more ``--seeds``, runs only what is missing, so that the runs can be
spread over several sittings; Ctrl-C loses only the running one.  The runs go
seed by seed, so that a run stopped early has seen every script.  The verdicts
are read from the stored histories each time, by the diagnosis of this code.

A failed script does not stop the others; the summary reports it.  Use real
data (``--data-dir`` or ``DNN_DATA_DIR``): on the small shipped sample the
accuracies are lower than the lecture's.
"""

import argparse
import datetime
import importlib.metadata
import json
import math
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from dnnkit import lecture

ROOT = Path(__file__).resolve().parent
EXAMPLES = lecture.EXAMPLES
#: The options of a --quick run of a model script.
QUICK_SETTINGS = lecture.QUICK_MODEL
#: The first seed; --seeds N runs the model scripts with FIRST_SEED, FIRST_SEED + 1, ...
#: (FIRST_SEED is every script's default --seed).
FIRST_SEED = 42

#: With a single run, measured and lecture figures may differ by this much before
#: they are flagged; with several seeds, by two standard deviations.
TOLERANCE = 0.01


@dataclass
class Outcome:
    """What one script run gave."""

    example: lecture.Example
    exit_code: int = None
    seconds: float = 0.0
    peak_memory_mb: float = None
    numbers: dict = field(default_factory=dict)
    error: str = ""
    seed: int = None
    load_average: float = None  # the machine's 1-minute load average when the run ended
    history: dict = None        # the run's ``history.history`` (model scripts), for the diagnosis
    settings: dict = None       # what the run was run with (its stored record must match)
    date: str = ""

    def record(self):
        """The run as the JSON object that is stored in ``runs/``."""
        return {"script": self.example.name, "seed": self.seed, "settings": self.settings,
                "exit_code": self.exit_code, "seconds": self.seconds,
                "peak_memory_mb": self.peak_memory_mb, "load_average": self.load_average,
                "error": self.error, "date": self.date, "numbers": self.numbers,
                "history": self.history}

    @classmethod
    def from_record(cls, example, record):
        keys = ("exit_code", "seconds", "peak_memory_mb", "numbers", "error", "seed",
                "load_average", "history", "settings", "date")
        return cls(example, **{key: record[key] for key in keys})

    @property
    def ok(self):
        return self.exit_code == 0

    @property
    def flagged(self):
        accuracy = self.numbers.get("test_accuracy")
        lecture_accuracy = self.example.lecture_accuracy
        return (accuracy is not None and lecture_accuracy is not None
                and abs(accuracy - lecture_accuracy) > TOLERANCE)


PATTERNS = {
    "test_accuracy": (re.compile(r"^Test accuracy: ([\d.]+)", re.MULTILINE), float),
    "gap": (re.compile(r"^Train/validation gap: (-?[\d.]+)", re.MULTILINE), float),
    "best_epoch": (re.compile(r"^Best epoch: (\d+) of \d+", re.MULTILINE), int),
    "rise_percent": (re.compile(r"^Validation loss rise: (-?[\d.]+) %", re.MULTILINE), float),
    "overtraining": (re.compile(r"^Overtraining: (yes|no)$", re.MULTILINE),
                     lambda text: text == "yes"),
    "training_seconds": (re.compile(r"^Training time: ([\d.]+) s", re.MULTILINE), float),
    "seconds_per_epoch": (re.compile(r"^Training time: .*\(([\d.]+) s/epoch\)", re.MULTILINE),
                          float),
    "train_accuracy": (re.compile(r"training accuracy ([\d.]+) \(model\.evaluate on \d+",
                                  re.MULTILINE), float),
    "train_count": (re.compile(r"training accuracy [\d.]+ \(model\.evaluate on (\d+)",
                               re.MULTILINE), int),
    "device": (re.compile(r"^Device: (.*)$", re.MULTILINE), str),
    "data": (re.compile(r"^Data: (.*)$", re.MULTILINE), str),
}
EPOCH_LINE = re.compile(r"^Epoch (\d+)/(\d+)", re.MULTILINE)
BEST_EPOCH_LINE = re.compile(r"^Best epoch: \d+ of (\d+)", re.MULTILINE)
#: The numbers that are averaged over the seeds.
AVERAGED = ("test_accuracy", "gap", "best_epoch", "rise_percent", "seconds_per_epoch")


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
    trained = BEST_EPOCH_LINE.search(text)  # Keras prints no "Epoch 1/1" for one epoch
    if trained:
        numbers["epochs"] = int(trained.group(1))
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
    if hasattr(os, "getloadavg"):  # other jobs on the machine make the times longer
        outcome.load_average = os.getloadavg()[0]
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


def arguments_for(example, args, outdir, seed=None, models_dir=None):
    """The command line for one script (``seed``: for a run of --seeds; ``models_dir``:
    where a model script saves its network, if not in its default models/)."""
    arguments = ["--no-show", "--outdir", str(outdir)]
    if args.data_dir and example.uses_data:
        arguments += ["--data-dir", args.data_dir]
    if args.quick:
        arguments += example.quick
    if seed is not None:
        arguments += ["--seed", str(seed)]
    if example.trains and models_dir is not None:
        arguments += ["--models-dir", str(models_dir)]
    return arguments


def seeds_for(example, count):
    """The seeds to run ``example`` with: ``count`` for a model script, else only its default."""
    if example.trains and count > 1:
        return [FIRST_SEED + k for k in range(count)]
    return [None]


# ---------------------------------------------------------------------------
# Statistics over the seeds
# ---------------------------------------------------------------------------
def mean_and_std(values):
    """``(mean, standard deviation)`` of ``values``; the deviation is None for one value.

    The sample standard deviation (n - 1 in the denominator): the spread one
    more run would show.
    """
    values = [float(value) for value in values if value is not None]
    if not values:
        return None, None
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, None
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def summarize(example, outcomes):
    """The numbers of one script over its runs: per number ``{"mean", "std"}``, and more."""
    good = [outcome for outcome in outcomes if outcome.ok]
    summary = {"name": example.name, "lecture": example.lecture,
               "lecture_accuracy": example.lecture_accuracy,
               "lecture_overtrains": example.overtrains, "runs": len(outcomes),
               "ok": len(good), "seeds": [outcome.seed for outcome in outcomes],
               "seconds": mean_and_std([outcome.seconds for outcome in outcomes])[0],
               "peak_memory_mb": max((o.peak_memory_mb for o in outcomes
                                      if o.peak_memory_mb is not None), default=None),
               "errors": [outcome.error for outcome in outcomes if not outcome.ok],
               "load_averages": [outcome.load_average for outcome in outcomes],
               "per_run": [outcome.numbers for outcome in outcomes]}
    for key in AVERAGED:
        mean, std = mean_and_std([outcome.numbers.get(key) for outcome in good])
        if mean is not None:
            summary[key] = {"mean": mean, "std": std}
    epochs = [outcome.numbers["epochs"] for outcome in good if "epochs" in outcome.numbers]
    if epochs:
        summary["epochs"] = max(epochs)
    verdicts = [outcome.numbers["overtraining"] for outcome in good
                if "overtraining" in outcome.numbers]
    if verdicts:
        summary["overtraining_runs"] = sum(verdicts)
        summary["diagnosed_runs"] = len(verdicts)
        summary["overtrains"] = 2 * sum(verdicts) > len(verdicts)  # the majority of the seeds
    summary["lecture_within_spread"] = lecture_within_spread(summary)
    return summary


def lecture_within_spread(summary):
    """True if the lecture's accuracy lies within the measured spread, None if not comparable.

    With several seeds: within two standard deviations of the mean; with one
    run: within :data:`TOLERANCE`.
    """
    measured = summary.get("test_accuracy")
    lecture_accuracy = summary["lecture_accuracy"]
    if measured is None or lecture_accuracy is None:
        return None
    if measured["std"] is None:
        return abs(measured["mean"] - lecture_accuracy) <= TOLERANCE
    return abs(measured["mean"] - lecture_accuracy) <= 2 * measured["std"]


def pair_differences(summaries):
    """Each Dropout pair: with minus without Dropout, in test accuracy and in the rise.

    The uncertainty of a difference of two means is the square root of the
    sum of their squared standard errors (std**2 / n); it needs two runs of
    each script at least.
    """
    differences = []
    for without, with_dropout in lecture.pairs():
        if without not in summaries or with_dropout not in summaries:
            continue
        a, b = summaries[without], summaries[with_dropout]
        entry = {"without": without, "with": with_dropout}
        for key in ("test_accuracy", "rise_percent"):
            if key not in a or key not in b:
                continue
            difference = b[key]["mean"] - a[key]["mean"]
            error = None
            if a[key]["std"] is not None and b[key]["std"] is not None:
                error = math.sqrt(a[key]["std"] ** 2 / a["ok"] + b[key]["std"] ** 2 / b["ok"])
            entry[key] = {"difference": difference, "error": error}
        differences.append(entry)
    return differences


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------
def format_spread(value, digits, sign=False, scale=1.0):
    """``mean +- std`` (or only the mean) of a summary entry, or "" where there is none."""
    if value is None:
        return ""
    form = f"{{:{'+' if sign else ''}.{digits}f}}"
    text = form.format(value["mean"] * scale)
    if value.get("std") is not None:
        text += " ± " + f"{{:.{digits}f}}".format(value["std"] * scale)
    return text


def format_difference(value, digits, scale=1.0):
    if value is None:
        return ""
    text = f"{value['difference'] * scale:+.{digits}f}"
    if value["error"] is not None:
        text += f" ± {value['error'] * scale:.{digits}f}"
    return text


def comparison_note(summary, quick):
    """What the summary says beside a result that is far from the lecture's."""
    if summary.get("lecture_within_spread") is not False:
        return ""
    if quick:
        return "quick run: fewer epochs and images than the lecture"
    if summary["test_accuracy"]["std"] is None:
        return f"differs from the lecture by more than {TOLERANCE:.2f}"
    return "the lecture's figure lies outside mean ± 2 std"


def verdict_text(summary):
    """"overtrains (3 of 3 seeds)", or "" for scripts without a diagnosis."""
    if "overtrains" not in summary:
        return ""
    word = "overtrains" if summary["overtrains"] else "no overtraining"
    if summary["diagnosed_runs"] == 1:
        return word
    return f"{word} ({summary['overtraining_runs']} of {summary['diagnosed_runs']} seeds)"


def status_text(summary, quick):
    if summary["ok"] == summary["runs"]:
        status = "ok"
    else:
        status = f"failed: {summary['errors'][0]}"
        if summary["ok"]:
            status = f"{summary['runs'] - summary['ok']} of {summary['runs']} runs {status}"
    note = comparison_note(summary, quick)
    return f"{status} ({note})" if note else status


def results_table(summaries, quick=False):
    """The Markdown table of all scripts' summaries."""
    header = ("| script | lecture | test accuracy | lecture within spread | best epoch "
              "| val. loss rise % | verdict | train/val gap | epochs | s/epoch | total s "
              "| peak memory MB | status |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    within = {True: "yes", False: "no", None: ""}
    rows = []
    for summary in summaries:
        memory = summary["peak_memory_mb"]
        rows.append(
            f"| {summary['name']} | {summary['lecture']} "
            f"| {format_spread(summary.get('test_accuracy'), 4)} "
            f"| {'' if quick else within[summary['lecture_within_spread']]} "
            f"| {format_spread(summary.get('best_epoch'), 1)} "
            f"| {format_spread(summary.get('rise_percent'), 0)} "
            f"| {verdict_text(summary)} "
            f"| {format_spread(summary.get('gap'), 3, sign=True)} "
            f"| {summary.get('epochs', '')} "
            f"| {format_spread(summary.get('seconds_per_epoch'), 2)} "
            f"| {summary['seconds']:.0f} | {'n/a' if memory is None else f'{memory:.0f}'} "
            f"| {status_text(summary, quick)} |")
    return header + "\n" + "\n".join(rows)


def pairs_table(differences):
    """The Markdown table of the Dropout pairs' differences."""
    if not differences:
        return ""
    lines = ["| with Dropout − without | test accuracy (points) | val. loss rise (% points) |",
             "|---|---|---|"]
    for entry in differences:
        lines.append(f"| {entry['with']} − {entry['without']} "
                     f"| {format_difference(entry.get('test_accuracy'), 2, scale=100)} "
                     f"| {format_difference(entry.get('rise_percent'), 0)} |")
    return "\n".join(lines)


def cpu_model():
    """The processor's name (Linux: /proc/cpuinfo), else what platform says."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_range(summaries):
    """The range of the 1-minute load average at the ends of the runs, e.g. "0.9-2.1"."""
    loads = [load for summary in summaries for load in summary["load_averages"]
             if load is not None]
    return f"{min(loads):.1f}-{max(loads):.1f}" if loads else "not reported"


def describe_run(args, summaries):
    """What RESULTS.md and results.json say about the run itself."""
    devices = sorted({run["device"] for s in summaries for run in s["per_run"] if "device" in run})
    sources = sorted({run["data"] for s in summaries for run in s["per_run"] if "data" in run})
    return {
        "command": "python reproduce.py" + (" " + " ".join(args.argv) if args.argv else ""),
        "date": datetime.date.today().isoformat(),
        "machine": f"{cpu_model()}, {os.cpu_count()} CPU cores, "
                   f"{platform.system()} {platform.release()}",
        "device": "; ".join(devices) or "not reported",
        "software": f"TensorFlow {tensorflow_version()}, Python {platform.python_version()}",
        "settings": ("--quick: " + " ".join(QUICK_SETTINGS) + " for the model scripts"
                     if args.quick else "defaults of each script (the lecture settings)"),
        "seeds": (f"{args.seeds} per model script ({FIRST_SEED} to {FIRST_SEED + args.seeds - 1})"
                  if args.seeds > 1 else f"one run, seed {FIRST_SEED}"),
        "data": "; ".join(sources) or "not reported",
        "load": load_range(summaries),
        "quick": args.quick,
    }


def write_results(summaries, differences, args, results_dir):
    """Write RESULTS.md and results.json into ``results_dir``; return the Markdown's path."""
    run = describe_run(args, summaries)
    lines = [f"# Results of `{run['command']}`", ""]
    lines += [f"- {key}: {run[key]}" for key in
              ("date", "machine", "device", "software", "settings", "seeds", "data", "load")]
    lines += ["", results_table(summaries, quick=args.quick), ""]
    if differences and args.seeds > 1:
        lines += ["Dropout against none, at equal epochs (mean over the seeds ± the "
                  "uncertainty of the difference):", "", pairs_table(differences), ""]
    lines += [
        "Numbers are mean ± standard deviation over the seeds. \"best epoch\": the epoch of "
        "the lowest validation loss; \"val. loss rise\": how far the validation loss rose after "
        "it, in per cent; the verdict is read from these curves (dnnkit.training.diagnose). "
        "\"train/val gap\": training accuracy measured like the validation accuracy "
        "(model.evaluate) minus validation accuracy. "
        + ("A --quick run trains for a few epochs on a part of the data: its accuracies are "
           "not the lecture's. " if args.quick else
           f"The lecture's accuracy is flagged where it lies outside the measured spread "
           f"(mean ± 2 std; with one run, ± {TOLERANCE:.2f}). ")
        + "`reproduce.py` writes the figures of every script into `figures/` and their full "
        "output into `logs/`, beside this file.", ""]
    path = results_dir / "RESULTS.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    with open(results_dir / "results.json", "w", encoding="utf-8") as stream:
        json.dump({"run": run, "scripts": summaries, "pairs": differences}, stream, indent=1)
        stream.write("\n")
    return path


def seed_count(text):
    """argparse type of --seeds: a whole number of at least 1."""
    from dnnkit.runtime import positive_int

    return positive_int(text)


def make_parser():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    names = lecture.names()
    parser.add_argument("--only", nargs="+", choices=names, metavar="NAME",
                        help="run only these scripts (" + ", ".join(names) + "); the "
                             "overtraining study and drawDigit run only when named here")
    parser.add_argument("--seeds", type=seed_count, default=1, metavar="N",
                        help=f"run every model script N times, with seeds {FIRST_SEED}, "
                             f"{FIRST_SEED + 1}, ...: mean and spread (default: 1)")
    parser.add_argument("--quick", action="store_true",
                        help="demo-sized run: " + " ".join(QUICK_SETTINGS) + " for the model scripts"
                        " (tf_intro: --epochs 3); its accuracies are not compared with the lecture's")
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help="data folder passed to every script (default: $DNN_DATA_DIR)")
    parser.add_argument("--results-dir", default="results", metavar="DIR",
                        help="where RESULTS.md, results.json, figures/ and logs/ are written")
    return parser


def tensorflow_version():
    try:
        return importlib.metadata.version("tensorflow")
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def portable(text, args):
    """``text`` with the data folder written as ``$DNN_DATA_DIR`` (or ``<--data-dir>``) and
    this folder as ``.``, so that stored results name no path of the machine that made them."""
    for folder, name in ((args.data_dir, "<--data-dir>"),
                         (os.environ.get("DNN_DATA_DIR"), "$DNN_DATA_DIR"), (str(ROOT), ".")):
        if folder:
            text = text.replace(str(Path(folder).resolve()), name)
    return text


def run_settings(arguments, args):
    """What a stored run must have been run with to be used again: the script's options
    (without where its figures and network went) and the TensorFlow version."""
    kept = [word for word, previous in zip(arguments, [None, *arguments])
            if word not in ("--outdir", "--models-dir")
            and previous not in ("--outdir", "--models-dir")]
    return {"arguments": portable(" ".join(kept), args), "tensorflow": tensorflow_version()}


def stored_run(path, example, settings):
    """The finished run stored at ``path`` with these ``settings``, or None.  A damaged
    record, or one of other settings, is moved aside (named in one line) and run again."""
    if not path.exists():
        return None
    try:
        outcome = Outcome.from_record(example, json.loads(path.read_text(encoding="utf-8")))
        if outcome.settings != settings:
            raise ValueError(f"it was run with {outcome.settings}, not {settings}")
    except (ValueError, KeyError, TypeError) as error:
        aside = path.with_suffix(".json.old")
        os.replace(path, aside)
        print(f"Stored run {path} is not used ({error}): moved to {aside.name}, run again.")
        return None
    return outcome if outcome.ok else None


def store_run(path, outcome):
    """Write ``outcome``'s record to ``path`` (a temporary file renamed: never half-written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(outcome.record(), indent=1) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def saved_history(models_dir, example, since):
    """The history that ``example`` saved in ``models_dir`` after the time ``since``, or None."""
    record = Path(models_dir) / f"{example.name}.json"
    if not example.trains or not record.exists() or record.stat().st_mtime < since:
        return None
    return json.loads(record.read_text(encoding="utf-8"))["history"]


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
    # Every finished run is kept in runs/, one JSON file with its numbers and its
    # history; a rerun (or more --seeds) runs only what is missing.
    store = results_dir / "runs" / (f"tf{tensorflow_version()}-"
                                    f"{'quick' if args.quick else 'lecture'}")
    default_models = Path(os.environ.get("DNN_MODELS_DIR") or ROOT / "models").resolve()
    # The overtraining study (many runs, its own resumable store) and the demo
    # (drawDigit.py, a window) run only when named.
    examples = [e for e in EXAMPLES
                if (e.name in args.only if args.only else e.kind not in ("study", "demo"))]
    # Seed by seed (every script with the first seed, then the model scripts with the
    # second, ...): a run stopped early has seen every script.
    runs = sorted(((example, seed) for example in examples
                   for seed in seeds_for(example, args.seeds)),
                  key=lambda run: (run[1] or FIRST_SEED) - FIRST_SEED)
    outcomes = {example.name: [] for example in examples}
    for index, (example, seed) in enumerate(runs, start=1):
        figures, models, log = results_dir / "figures", default_models, f"{example.name}.log"
        if seed not in (None, FIRST_SEED):
            # The first seed's figures are the table's, and its networks stay in
            # models/ for --pretrained; the other seeds' go into their own folders.
            figures, log = figures / f"seed-{seed}", f"{example.name}-seed-{seed}.log"
            models = results_dir / "models" / f"seed-{seed}"
        arguments = arguments_for(example, args, figures, seed, models)
        settings = run_settings(arguments, args)
        path = store / example.name / f"seed-{FIRST_SEED if seed is None else seed}.json"
        outcome = stored_run(path, example, settings)
        if outcome is not None:
            print(f"[{index}/{len(runs)}] {example.name}: stored in {path.relative_to(results_dir)}"
                  f" ({outcome.date})", flush=True)
        else:
            started = time.time()
            outcome = run_example(example, arguments, logs_dir / log, index, len(runs))
            outcome.seed = FIRST_SEED if seed is None else seed
            outcome.settings = settings
            outcome.date = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
            outcome.numbers = {key: portable(value, args) if isinstance(value, str) else value
                               for key, value in outcome.numbers.items()}
            if outcome.ok:
                outcome.history = saved_history(models, example, started)
            store_run(path, outcome)
        outcomes[example.name].append(outcome)
    summaries = [summarize(example, outcomes[example.name]) for example in examples]
    differences = pair_differences({summary["name"]: summary for summary in summaries})
    path = write_results(summaries, differences, args, results_dir)

    print("\nSummary (measured against the lecture):")
    for summary in summaries:
        measured = format_spread(summary.get("test_accuracy"), 4) or "-"
        print(f"  {summary['name']:<27} lecture {summary['lecture']:<26} measured "
              f"{measured:<16} {verdict_text(summary):<30} {status_text(summary, args.quick)}")
    for entry in differences:
        if args.seeds > 1:
            print(f"  {entry['with']} - {entry['without']}: test accuracy "
                  f"{format_difference(entry.get('test_accuracy'), 2, scale=100)} points, "
                  f"validation-loss rise {format_difference(entry.get('rise_percent'), 0)} "
                  f"% points")
    print(f"Table written to {path}")
    failed = [summary["name"] for summary in summaries if summary["ok"] < summary["runs"]]
    return {"outcomes": outcomes, "summaries": summaries, "pairs": differences, "path": path,
            "failed": failed}


if __name__ == "__main__":
    from dnnkit import runtime

    # A bad option or an unwritable --results-dir ends with one line and exit
    # code 2, Ctrl-C with exit code 130, both without a traceback.
    sys.excepthook = runtime.report_uncaught
    sys.exit(1 if main()["failed"] else 0)
