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

#: With a single run, measured and lecture figures may differ by this much (no spread to
#: compare with); with several seeds, see :func:`lecture_check`.
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
    machine: str = ""           # the processor and system the run ran on

    def record(self):
        """The run as the JSON object that is stored in ``runs/``."""
        return {"script": self.example.name, "seed": self.seed, "settings": self.settings,
                "exit_code": self.exit_code, "seconds": self.seconds,
                "peak_memory_mb": self.peak_memory_mb, "load_average": self.load_average,
                "error": self.error, "date": self.date, "machine": self.machine,
                "numbers": self.numbers,
                "history": self.history}

    @classmethod
    def from_record(cls, example, record):
        keys = ("exit_code", "seconds", "peak_memory_mb", "numbers", "error", "seed",
                "load_average", "history", "settings", "date")
        return cls(example, machine=record.get("machine", ""),
                   **{key: record[key] for key in keys})

    @property
    def ok(self):
        return self.exit_code == 0


PATTERNS = {
    "test_accuracy": (re.compile(r"^Test accuracy: ([\d.]+)", re.MULTILINE), float),
    "gap": (re.compile(r"^Train/validation gap: (-?[\d.]+)", re.MULTILINE), float),
    "best_epoch": (re.compile(r"^Best epoch: (\d+) of \d+", re.MULTILINE), int),
    "rise_percent": (re.compile(r"^Validation loss rise: (-?[\d.]+) %", re.MULTILINE), float),
    "overtraining": (re.compile(r"^Overtraining: (yes|no|within the noise|diverged)$",
                                re.MULTILINE), str),
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
AVERAGED = ("test_accuracy", "gap", "best_epoch", "rise_percent", "rise_in_scatters",
            "trend_in_errors", "seconds_per_epoch")


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
    On Linux a forked child (Python < 3.10 forks) starts with its parent's resident
    set, so the parent must stay small: reproduce.py imports no TensorFlow.
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
    """The seeds to run ``example`` with: ``count`` for a model script (named even where it
    is only the default, so that one seed's run is the first of several), else only its
    default."""
    if example.trains:
        return [FIRST_SEED + k for k in range(count)]
    return [None]


# ---------------------------------------------------------------------------
# Statistics over the seeds
# ---------------------------------------------------------------------------
#: The confidence level of every interval (two-sided) and test (one-sided).
CONFIDENCE = 0.95
#: What every "±" and interval is; RESULTS.md, the headers and the README say it.
LABELS = {
    "std": "± is the standard deviation of single runs over the seeds (n - 1)",
    "paired": (f"differences are paired by seed (the same seed with and without Dropout): "
               f"their mean with a {CONFIDENCE * 100:.0f} % confidence interval from the t distribution "
               f"(scipy.stats); an interval that includes 0 is a tie"),
    "lecture": (f"the lecture's accuracy (one run on another machine) is compared with the "
                f"{CONFIDENCE * 100:.0f} % prediction interval of one run; \"at least\" one-sided, by a "
                f"t test of the mean; a single run, within {TOLERANCE:.2f}"),
}


def spread_of(values):
    """``{"mean", "std", "n"}`` of the values that are not None (``std`` is the sample
    standard deviation, the spread of single runs; None for one value), or None."""
    values = [float(value) for value in values if value is not None]
    if not values:
        return None
    mean = sum(values) / len(values)
    std = (math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
           if len(values) > 1 else None)
    return {"mean": mean, "std": std, "n": len(values)}


def rediagnose(outcome):
    """Read the run's verdict from its stored history with this code's diagnosis, so that
    every stored run is judged by the same rule (runs without a history keep what their
    script printed)."""
    from dnnkit import training

    numbers = outcome.numbers
    said = numbers.get("overtraining")
    if said is not None and "outcome" not in numbers:  # as the script printed it
        numbers["outcome"] = OUTCOMES_PRINTED.get({True: "yes", False: "no"}.get(said, said))
    if not outcome.history or "val_loss" not in outcome.history:
        return
    d = training.diagnose(outcome.history, numbers.get("train_accuracy"),
                          numbers.get("train_count"))
    numbers.update(outcome=d.outcome, best_epoch=d.best_epoch, rise_percent=d.rise_percent,
                   rise_in_scatters=d.rise_in_scatters, trend_in_errors=d.trend_in_errors,
                   epochs=d.epochs)
    if d.gap is not None:
        numbers["gap"] = d.gap


def summarize(example, outcomes):
    """The numbers of one script over its runs: per number ``{"mean", "std", "n"}``, the
    outcomes of the diagnosis counted, and the comparison with the lecture."""
    good = [outcome for outcome in outcomes if outcome.ok]
    for outcome in good:
        rediagnose(outcome)
    summary = {"name": example.name, "lecture": example.lecture,
               "lecture_accuracy": example.lecture_accuracy,
               "lecture_at_least": example.lecture.startswith("at least"),
               "lecture_overtrains": example.overtrains, "runs": len(outcomes),
               "ok": len(good), "seeds": [outcome.seed for outcome in outcomes],
               "seconds": spread_of([outcome.seconds for outcome in outcomes])["mean"],
               "peak_memory_mb": max((o.peak_memory_mb for o in outcomes
                                      if o.peak_memory_mb is not None), default=None),
               "errors": [outcome.error for outcome in outcomes if not outcome.ok],
               "load_averages": [outcome.load_average for outcome in outcomes],
               "per_run": [dict(outcome.numbers, seed=outcome.seed) for outcome in outcomes]}
    for key in AVERAGED:
        value = spread_of([outcome.numbers.get(key) for outcome in good])
        if value is not None:
            summary[key] = value
    epochs = [outcome.numbers["epochs"] for outcome in good if "epochs" in outcome.numbers]
    if epochs:
        summary["epochs"] = max(epochs)
    found = [outcome.numbers["outcome"] for outcome in good if outcome.numbers.get("outcome")]
    if found:
        summary["outcomes"] = {name: found.count(name) for name in OUTCOMES_PRINTED.values()
                               if name in found}
        summary["verdict"] = seeds_verdict(summary["outcomes"])
        if example.overtrains is not None:
            opposite = "no overtraining" if example.overtrains else "overtraining"
            summary["opposite_runs"] = found.count(opposite)
    summary["lecture_check"] = lecture_check(summary)
    pooled = pooled_diagnosis([outcome.history for outcome in good if outcome.history])
    if pooled is not None:
        summary["mean_curve"] = {"outcome": pooled.outcome, "runs": len(good),
                                 "rise_in_scatters": pooled.rise_in_scatters,
                                 "trend_in_errors": pooled.trend_in_errors}
    return summary


def pooled_diagnosis(histories):
    """The diagnosis of the mean curves of two or more runs of equal length, or None.  The
    seeds' noise averages out (by about the square root of their number), their common
    trend stays: what one run leaves within the noise, the mean of several can decide."""
    from dnnkit import training

    curves = [history for history in histories if "val_loss" in history]
    if len(curves) < 2 or len({len(history["val_loss"]) for history in curves}) > 1:
        return None
    mean = {key: [sum(values) / len(values) for values in zip(*(h[key] for h in curves))]
            for key in ("loss", "val_loss")}
    return training.diagnose(mean)


#: The "Overtraining:" line a script prints, and the outcome it names.
OUTCOMES_PRINTED = {"yes": "overtraining", "no": "no overtraining",
                    "within the noise": "within the noise", "diverged": "diverged"}


def seeds_verdict(counts):
    """The verdict over the seeds: the outcome of the most runs; "tie" where two share it."""
    most = max(counts.values())
    leaders = [name for name, count in counts.items() if count == most]
    return leaders[0] if len(leaders) == 1 else "tie"


def lecture_check(summary):
    """Is the lecture's accuracy consistent with the runs?  ``{"consistent", "basis"}``, or
    None where there is nothing to compare.  Several seeds: the lecture's figure (one
    run) within the prediction interval of one run; "at least": a one-sided t test of the
    mean (only a mean significantly below counts).  One run: within :data:`TOLERANCE`."""
    from scipy import stats

    measured, figure = summary.get("test_accuracy"), summary["lecture_accuracy"]
    if measured is None or figure is None:
        return None
    at_least, mean, n = summary["lecture_at_least"], measured["mean"], measured["n"]
    if not measured["std"]:  # one run, or runs that agree to the last printed digit
        consistent = mean >= figure - TOLERANCE if at_least else abs(mean - figure) <= TOLERANCE
        what = "one run" if n == 1 else f"{n} equal runs, no spread"
        return {"consistent": bool(consistent), "basis": f"{what}, within {TOLERANCE:.2f}"}
    if at_least:
        values = [run["test_accuracy"] for run in summary["per_run"] if "test_accuracy" in run]
        p_value = float(stats.ttest_1samp(values, figure, alternative="less").pvalue)
        return {"consistent": p_value >= 1 - CONFIDENCE, "p_value": p_value,
                "basis": f"one-sided t test of the mean against at least {figure}: "
                         f"p = {p_value:.2g}"}
    half = stats.t.ppf((1 + CONFIDENCE) / 2, n - 1) * measured["std"] * math.sqrt(1 + 1 / n)
    return {"consistent": bool(abs(mean - figure) <= half),
            "interval": [float(mean - half), float(mean + half)],
            "basis": f"{CONFIDENCE * 100:.0f} % prediction interval of one run "
                     f"{mean - half:.4f} to {mean + half:.4f}"}


def paired_difference(without, with_dropout):
    """The mean of the differences ``with_dropout[seed] - without[seed]`` over the seeds both
    have, with the standard error and the t distribution's confidence interval; no
    interval for one pair.  ``tie``: the interval includes 0."""
    from scipy import stats

    seeds = sorted(set(without) & set(with_dropout))
    if not seeds:
        return None
    differences = [with_dropout[seed] - without[seed] for seed in seeds]
    result = dict(spread_of(differences), seeds=seeds)
    if len(seeds) > 1:
        result["standard_error"] = result["std"] / math.sqrt(len(seeds))
        if result["standard_error"] > 0:
            low, high = stats.t.interval(CONFIDENCE, len(seeds) - 1, loc=result["mean"],
                                         scale=result["standard_error"])
        else:
            low = high = result["mean"]
        result["interval"] = [float(low), float(high)]
        result["tie"] = bool(low <= 0 <= high)
    return result


def pair_differences(summaries):
    """Each Dropout pair: with minus without Dropout, seed by seed, in test accuracy and in
    the rise of the validation loss (:func:`paired_difference`)."""
    differences = []
    for without, with_dropout in lecture.pairs():
        if without not in summaries or with_dropout not in summaries:
            continue
        entry = {"without": without, "with": with_dropout}
        for key in ("test_accuracy", "rise_percent"):
            by_seed = [{run["seed"]: run[key] for run in summaries[name]["per_run"]
                        if run.get(key) is not None} for name in (without, with_dropout)]
            value = paired_difference(*by_seed)
            if value is not None:
                entry[key] = value
        differences.append(entry)
    return differences


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------
def format_spread(value, digits, sign=False, scale=1.0):
    """``mean ± std`` of a summary entry (only the mean for one run), or "" where there is
    none; the ± is the standard deviation (:data:`LABELS`)."""
    if value is None:
        return ""
    form = f"{{:{'+' if sign else ''}.{digits}f}}"
    text = form.format(value["mean"] * scale)
    if value.get("std") is not None:
        text += " ± " + f"{{:.{digits}f}}".format(value["std"] * scale)
    return text


def format_difference(value, digits, scale=1.0, unit=""):
    """A paired difference: "+0.83 points (95 % CI +0.21 to +1.45, 5 seeds)", "tie" where
    the interval includes 0; a single pair without an interval."""
    if value is None:
        return ""
    form = f"{{:+.{digits}f}}"
    text = form.format(value["mean"] * scale) + unit
    if "interval" not in value:
        return text + f" (one pair of seed {value['seeds'][0]})"
    low, high = (form.format(bound * scale) for bound in value["interval"])
    text += f" ({CONFIDENCE * 100:.0f} % CI {low} to {high}, {value['n']} seeds)"
    return ("tie: " + text) if value["tie"] else text


def comparison_note(summary, quick):
    """What the summary says beside a result that is far from the lecture's."""
    check = summary.get("lecture_check")
    if check is None or check["consistent"]:
        return ""
    if quick:
        return "quick run: fewer epochs and images than the lecture"
    return f"the lecture's figure is not consistent: {check['basis']}"


def verdict_text(summary):
    """"overtraining (4 of 5 seeds; within the noise 1)", or "" without a diagnosis."""
    if "verdict" not in summary:
        return ""
    counts = summary["outcomes"]
    runs = sum(counts.values())
    if runs == 1:
        return summary["verdict"]
    if summary["verdict"] == "tie":
        return "tie: " + ", ".join(f"{name} {count}" for name, count in counts.items())
    others = [f"{name} {count}" for name, count in counts.items()
              if name != summary["verdict"]]
    return (f"{summary['verdict']} ({counts[summary['verdict']]} of {runs} seeds"
            + (f"; {', '.join(others)}" if others else "") + ")")


def mean_curve_text(summary):
    """"overtraining (trend +9.1 standard errors, end 6.9 scatters above the low)": the
    verdict on the mean curves of the seeds."""
    pooled = summary.get("mean_curve")
    if pooled is None:
        return ""
    rise, trend = pooled["rise_in_scatters"], pooled.get("trend_in_errors")
    if rise is None:
        return pooled["outcome"]
    trend = "" if trend is None else f"trend {trend:+.1f} standard errors, "
    return f"{pooled['outcome']} ({trend}end {rise:.1f} scatters above the low)"


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
    header = ("| script | lecture | test accuracy | consistent with the lecture | best epoch "
              "| val. loss rise % | rise in scatters | trend in standard errors | verdict "
              "| train/val gap | epochs | mean curve of the seeds | s/epoch | total s "
              "| peak memory MB | status |\n"
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    consistent = {True: "yes", False: "no"}
    rows = []
    for summary in summaries:
        memory = summary["peak_memory_mb"]
        check = summary.get("lecture_check")
        rows.append(
            f"| {summary['name']} | {summary['lecture']} "
            f"| {format_spread(summary.get('test_accuracy'), 4)} "
            f"| {'' if quick or check is None else consistent[check['consistent']]} "
            f"| {format_spread(summary.get('best_epoch'), 1)} "
            f"| {format_spread(summary.get('rise_percent'), 0)} "
            f"| {format_spread(summary.get('rise_in_scatters'), 1)} "
            f"| {format_spread(summary.get('trend_in_errors'), 1, sign=True)} "
            f"| {verdict_text(summary)} "
            f"| {format_spread(summary.get('gap'), 3, sign=True)} "
            f"| {summary.get('epochs', '')} "
            f"| {mean_curve_text(summary)} "
            f"| {format_spread(summary.get('seconds_per_epoch'), 2)} "
            f"| {summary['seconds']:.0f} | {'n/a' if memory is None else f'{memory:.0f}'} "
            f"| {status_text(summary, quick)} |")
    return header + "\n" + "\n".join(rows)


def pairs_table(differences):
    """The Markdown table of the Dropout pairs' differences."""
    if not differences:
        return ""
    lines = ["| with Dropout − without | test accuracy | val. loss rise |", "|---|---|---|"]
    for entry in differences:
        lines.append(f"| {entry['with']} − {entry['without']} "
                     f"| {format_difference(entry.get('test_accuracy'), 2, 100, ' points')} "
                     f"| {format_difference(entry.get('rise_percent'), 0, unit=' % points')} |")
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


def describe_run(args, summaries, outcomes):
    """What RESULTS.md and results.json say about the runs: the machines, devices, dates
    and seeds of the runs in the table (stored runs may come from several sittings)."""
    runs = [outcome for group in outcomes.values() for outcome in group]
    devices = sorted({run["device"] for s in summaries for run in s["per_run"] if "device" in run})
    sources = sorted({run["data"] for s in summaries for run in s["per_run"] if "data" in run})
    dates = sorted(outcome.date[:10] for outcome in runs if outcome.date)
    counts = sorted({len(group) for group in outcomes.values()
                     if group and group[0].example.trains} or {1})
    seeds = sorted({outcome.seed for outcome in runs if outcome.seed is not None})
    return {
        # The command that made the runs (--table-only only wrote the table of them).
        "command": " ".join(["python reproduce.py",
                             *(word for word in args.argv if word != "--table-only")]),
        "date": (dates[0] if dates[0] == dates[-1] else f"{dates[0]} to {dates[-1]}")
                if dates else datetime.date.today().isoformat(),
        "machine": "; ".join(sorted({outcome.machine for outcome in runs if outcome.machine}))
                   or "not reported",
        "device": "; ".join(devices) or "not reported",
        "software": f"TensorFlow {tensorflow_version()}, Python {platform.python_version()}",
        "settings": ("--quick: " + " ".join(QUICK_SETTINGS) + " for the model scripts"
                     if args.quick
                     else "defaults of each script (the lecture settings, or as its header says)"),
        "seeds": (f"{counts[0] if counts[0] == counts[-1] else f'{counts[0]}-{counts[-1]}'} "
                  f"per model script ({seeds[0]} to {seeds[-1]})" if len(seeds) > 1
                  else f"one run, seed {FIRST_SEED}"),
        "data": "; ".join(sources) or "not reported",
        "load": load_range(summaries),
        "quick": args.quick,
    }


def training_bound(name):
    from dnnkit import training

    return f"{getattr(training, name):g}"


def verdict_counts(summaries):
    """Lines that count, over every stored run, the verdicts against the lecture's."""
    diagnosed = [s for s in summaries if "outcomes" in s and s["lecture_overtrains"] is not None]
    if not diagnosed:
        return []
    runs = sum(sum(s["outcomes"].values()) for s in diagnosed)
    within = sum(s["outcomes"].get("within the noise", 0) for s in diagnosed)
    opposite = sum(s["opposite_runs"] for s in diagnosed)
    agree = runs - within - opposite - sum(s["outcomes"].get("diverged", 0) for s in diagnosed)
    return [f"Verdicts of the {runs} diagnosed runs against the lecture's: {agree} as the "
            f"lecture, {within} within the noise, {opposite} opposite.", ""]


def write_results(summaries, differences, args, results_dir, outcomes):
    """Write RESULTS.md and results.json into ``results_dir``; return the Markdown's path."""
    run = describe_run(args, summaries, outcomes)
    lines = [f"# Results of `{run['command']}`", ""]
    lines += [f"- {key}: {run[key]}" for key in
              ("date", "machine", "device", "software", "settings", "seeds", "data", "load")]
    lines += ["", results_table(summaries, quick=args.quick), ""]
    if differences and args.seeds > 1:
        lines += ["Dropout against none, at equal epochs, paired by seed:", "",
                  pairs_table(differences), ""]
    if not args.quick:
        lines += verdict_counts(summaries)
    lines += [
        "How to read it: " + "; ".join(LABELS.values()) + ". \"best epoch\": the low of the "
        "validation loss (its running median over 3 epochs); \"val. loss rise\": how far the "
        "median of the last 3 epochs lies above that low, in per cent; \"rise in scatters\": the "
        "same rise divided by the curve's epoch-to-epoch scatter; \"trend in standard errors\": "
        "the Theil-Sen slope of the validation loss from its low to the last epoch, divided by "
        "its standard error (from the same scatter).  The verdict (dnnkit.training.diagnose) "
        f"compares both: overtraining above {training_bound('RISE_SCATTERS')} scatters of rise "
        f"or a trend of {training_bound('RISE_ERRORS')} standard errors (over at least "
        f"{training_bound('TREND_EPOCHS')} epochs) while the training loss falls, no "
        "overtraining up to "
        f"{training_bound('NO_RISE_SCATTERS')} scatters of rise on a curve whose scatter is at "
        f"most {training_bound('QUIET_RATIO')} of its fall from epoch 1, otherwise within the "
        "noise.  Every verdict is "
        "read again from the stored history of its run.  \"train/val gap\": training accuracy "
        "measured like the validation accuracy (model.evaluate) minus validation accuracy. "
        + ("A --quick run trains for a few epochs on a part of the data: its accuracies are "
           "not the lecture's. " if args.quick else "")
        + "One run is one draw: on another CPU, and on a GPU every time, it may land elsewhere "
        "in these spreads.  `reproduce.py` keeps every run in `runs/`, writes the figures of "
        "every script into `figures/` and their full output into `logs/`, beside this file.",
        ""]
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
    parser.add_argument("--table-only", action="store_true",
                        help="run nothing: write the table from the runs stored in runs/")
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


def stored_run(path, example, settings, move_aside=True):
    """The finished run stored at ``path`` with these ``settings``, or None.  A damaged
    record, or one of other settings, is moved aside (named in one line) and run again;
    with ``move_aside=False`` (--table-only, which runs nothing) it is only left out."""
    if not path.exists():
        return None
    try:
        outcome = Outcome.from_record(example, json.loads(path.read_text(encoding="utf-8")))
        if outcome.settings != settings:
            raise ValueError(f"it was run with {outcome.settings}, not {settings}")
    except (ValueError, KeyError, TypeError) as error:
        if not move_aside:
            print(f"Stored run {path} is not used ({error}): left as it is.")
            return None
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
        outcome = stored_run(path, example, settings, move_aside=not args.table_only)
        if outcome is None and args.table_only:
            continue
        if outcome is not None:
            print(f"[{index}/{len(runs)}] {example.name}: stored in {path.relative_to(results_dir)}"
                  f" ({outcome.date})", flush=True)
        else:
            started = time.time()
            outcome = run_example(example, arguments, logs_dir / log, index, len(runs))
            outcome.seed = FIRST_SEED if seed is None else seed
            outcome.settings = settings
            outcome.date = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
            outcome.machine = (f"{cpu_model()}, {os.cpu_count()} CPU cores, "
                               f"{platform.system()} {platform.release()}")
            outcome.numbers = {key: portable(value, args) if isinstance(value, str) else value
                               for key, value in outcome.numbers.items()}
            if outcome.ok:
                outcome.history = saved_history(models, example, started)
            store_run(path, outcome)
        outcomes[example.name].append(outcome)
    summaries = [summarize(example, outcomes[example.name]) for example in examples
                 if outcomes[example.name]]
    if not summaries:
        from dnnkit.errors import UserError

        raise UserError(f"no stored runs of these settings in {store}: run reproduce.py "
                        f"without --table-only first")
    differences = pair_differences({summary["name"]: summary for summary in summaries})
    path = write_results(summaries, differences, args, results_dir, outcomes)

    print("\nSummary (measured against the lecture; ± is the standard deviation over the "
          "seeds):")
    for summary in summaries:
        measured = format_spread(summary.get("test_accuracy"), 4) or "-"
        print(f"  {summary['name']:<27} lecture {summary['lecture']:<26} measured "
              f"{measured:<16} {verdict_text(summary):<30} {status_text(summary, args.quick)}")
    for entry in differences:
        if args.seeds > 1:
            print(f"  {entry['with']} - {entry['without']}, paired by seed: test accuracy "
                  f"{format_difference(entry.get('test_accuracy'), 2, 100, ' points')}, "
                  f"validation-loss rise "
                  f"{format_difference(entry.get('rise_percent'), 0, unit=' % points')}")
    if not args.quick:
        print("\n".join(verdict_counts(summaries)))
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
