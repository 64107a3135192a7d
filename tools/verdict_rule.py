"""Choose the overtraining verdict's bounds on one set of stored runs, check them on another.

The verdict (``dnnkit.training.diagnose``) reads the validation loss after its
low against the curve's own epoch-to-epoch scatter: an end over
``RISE_SCATTERS`` scatters above the low, or a trend after it over
``RISE_ERRORS`` standard errors (with the training loss still falling), is
overtraining; an end at most ``NO_RISE_SCATTERS`` scatters above the low is
none, if the curve is quiet enough to show a rise (its scatter at most
``QUIET_RATIO`` of its fall from epoch 1 to the low); otherwise "within the
noise".  This tool says where the four constants come from and whether they
hold on runs they were not chosen on:

- **Tuning set: the overtraining study's runs** (``results/study/``, from
  ``overtrainingStudy.py``: Fashion-MNIST, one hidden layer, 15 epochs, several
  seeds).  The lecture's exercise labels them: without Dropout, 128 nodes and
  more overtrain; Dropout 0.2 and more, and 16 nodes, do not.  64 nodes and
  Dropout 0.1 lie between and are not labelled.  One run measures its rise
  only to about a scatter, and its trend to about a standard error, so the
  smallest value of a run that must overtrain is lowered by one unit, and the
  largest of a run that must not is raised by one.  Where the two overlap, the
  overlap is "within the noise" (rounded outwards to halves; where they do
  not, the gap between them): ``NO_RISE_SCATTERS`` and ``RISE_SCATTERS`` are
  its edges for the rise, ``RISE_ERRORS`` the upper edge for the trend.
  ``QUIET_RATIO`` is the largest scatter / fall of a run that must not
  overtrain, rounded down to 0.01 (not widened: how much one run's scatter
  itself scatters, simulated on Gaussian noise, is reported beside it).
- **Check set: the lecture-setting runs of reproduce.py**, pinned
  (``results/runs/``) and on the lab floor (``results/lab-floor/runs/``),
  labelled by the lecture's verdicts (``dnnkit/lecture.py``): other networks,
  other data, other epochs, another TensorFlow.  For these it counts the
  verdicts as the lecture's, within the noise, and opposite.  Runs that are a
  study run too (the same curve) are no check and are named apart; so are the
  runs stored before the rule last changed (``UNSEEN_SINCE``), which were seen.

It writes ``results/RULE.md`` with both sets, run by run, and the counts of
the check set, opposite verdicts included.  ``--check`` changes nothing and
exits 1 if the constants in dnnkit/training.py are not the ones the tuning set
gives, or if results/RULE.md is not what the stored runs give.

    python tools/verdict_rule.py            # choose, check, write results/RULE.md
    python tools/verdict_rule.py --check    # exit 1 if the bounds or RULE.md are stale
"""

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dnnkit import lecture, training  # noqa: E402

STUDY = ROOT / "results" / "study"
LECTURE_RUNS = (ROOT / "results" / "runs", ROOT / "results" / "lab-floor" / "runs")
REPORT = ROOT / "results" / "RULE.md"
#: The folder name of the study's default settings on the full data (overtrainingStudy.py).
FULL_STUDY = "epochs15_batch32_60000images_"


def study_label(nodes, dropout):
    """The lecture exercise's verdict for a study setting, or None where it says none."""
    if dropout == 0 and nodes >= 128:
        return training.OVERTRAINING
    if dropout >= 0.2 or nodes <= 16:
        return training.NO_OVERTRAINING
    return None


class Run:
    """One stored run: its name, its label (the verdict it must get, or None) and its
    diagnosis; ``date`` (when it was stored) and ``curve`` (its validation losses)."""

    def __init__(self, name, label, history, date=""):
        self.name, self.label, self.date = name, label, date
        self.diagnosis = training.diagnose(history)
        self.curve = tuple(round(v, 6) for v in history["val_loss"])


def tuning_runs(folder=STUDY):
    """Every stored run of the full study (its default settings on the full data; short
    runs of tests and notebooks in other folders beside it are left out)."""
    runs = []
    for path in sorted(folder.glob(f"{FULL_STUDY}*/nodes*_dropout*_seed*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        name = (f"{record['hidden_nodes']} nodes, Dropout {record['dropout']:g}, "
                f"seed {record['seed']}")
        runs.append(Run(name, study_label(record["hidden_nodes"], record["dropout"]),
                        record["history"]))
    return runs


def check_runs(folders=LECTURE_RUNS):
    """Every stored lecture-setting run of a model script, and the runs of a script's
    earlier defaults kept in a folder below its own (``MLP_MNIST_digits_tf/epochs-10/``:
    the MLP trained 10 epochs until 2026-12-07)."""
    runs = []
    for folder in folders:
        for path in sorted(folder.glob("tf*-lecture/*/**/seed-*.json")):
            record = json.loads(path.read_text(encoding="utf-8"))
            example = lecture.example(record["script"])
            if not example.trains or record["exit_code"] != 0 or not record.get("history"):
                continue
            label = training.OVERTRAINING if example.overtrains else training.NO_OVERTRAINING
            store = next(part for part in path.parts if part.endswith("-lecture"))
            name = (f"{record['script']}, seed {record['seed']}, "
                    f"{len(record['history']['val_loss'])} epochs, {store}")
            runs.append(Run(name, label, record["history"], record.get("date", "")))
    return runs


#: The lecture-setting runs stored from this time on (UTC) had not been looked at when
#: the rule last changed: they are the check it was not chosen on.  The runs stored
#: before were seen: those up to 2026-12-07 06:50 had shown 2 opposite verdicts, which
#: led to :data:`dnnkit.training.QUIET_RATIO`; those up to 2026-12-08 00:07 had left 6
#: of the MNIST MLP's 8 runs at 20 epochs within the noise, which led to the trend test
#: (:data:`dnnkit.training.RISE_ERRORS`); those up to this time, the check of that rule
#: (24 runs: 19 as labelled, 3 within the noise, 2 opposite: the lab floor's
#: clothingSequential, seeds 46 and 47, "no overtraining" on curves noisier than any
#: study run), led to the quiet bound without widening (0.10, was 0.15).  The rule has
#: not changed since.  What changed on 2026-12-08 at 02:46 is the training: the runs with
#: TensorFlow 2.21 before it (and the study's runs, the choice set) saw the same batch
#: order every epoch (dnnkit.compat.seed_tensorflow), the runs after it a new one, as the
#: lab floor's always did; the pinned runs before it moved to results/same-batch-order/,
#: and the clothingSequential pair trains 20 epochs, not 15.
UNSEEN_SINCE = "2026-12-08 00:51"


def split_check(tuning, checking):
    """The check set in three: runs that are a study run too (the same curve: the study's
    128 nodes without and with Dropout 0.3 are clothingSequential and
    clothingSequentialDropout at the lecture's settings, so they are no check), runs seen
    before the rule's last change, and runs stored since (:data:`UNSEEN_SINCE`)."""
    studied = {run.curve for run in tuning}
    same = [run for run in checking if run.curve in studied]
    seen = [run for run in checking if run.curve not in studied and run.date < UNSEEN_SINCE]
    unseen = [run for run in checking if run.curve not in studied and run.date >= UNSEEN_SINCE]
    return same, seen, unseen


def outcome(diagnosis, no_rise, rise, trend, quiet_ratio):
    """The diagnosis's outcome with other bounds."""
    if diagnosis.rise_in_scatters is None:
        return diagnosis.outcome
    quiet = training.is_quiet(diagnosis.noise_ratio, quiet_ratio)
    if diagnosis.still_falling:
        return training.NO_OVERTRAINING if quiet else training.WITHIN_NOISE
    return training.judge(diagnosis.rise_in_scatters, diagnosis.trend_in_errors,
                          diagnosis.training_loss_fell, quiet, no_rise, rise, trend)


#: How much a value measured in one run may be off: the low and the end are each a median
#: of 3 noisy epochs, so their difference scatters by about one scatter; the trend is
#: measured to one standard error by its definition.
MARGIN = 1.0


def overlap(runs, measure):
    """Where the labelled tuning runs' ``measure`` (``"rise_in_scatters"`` or
    ``"trend_in_errors"``) overlaps (see the module's docstring): the smallest value of a
    run that must overtrain, less :data:`MARGIN`, and the largest of a run that must not,
    plus the margin; rounded outwards to halves where they overlap, else the gap between
    them (rounded inwards)."""
    values = {label: [getattr(run.diagnosis, measure) for run in runs
                      if run.label == label and not run.diagnosis.still_falling
                      and getattr(run.diagnosis, measure) is not None]
              for label in (training.OVERTRAINING, training.NO_OVERTRAINING)}
    low = min(values[training.OVERTRAINING], default=math.inf) - MARGIN
    high = max(values[training.NO_OVERTRAINING], default=0.0) + MARGIN
    if low <= high:  # they overlap, within the margin: the overlap is within the noise
        return max(0.0, math.floor(2 * low) / 2), math.ceil(2 * high) / 2
    return math.ceil(2 * high) / 2, max(math.ceil(2 * high) / 2, math.floor(2 * low) / 2)


def choose(runs):
    """The three bounds from the labelled tuning runs: the edges of the rises' overlap (in
    scatters), and the upper edge of the trends' overlap (in standard errors)."""
    return (*overlap(runs, "rise_in_scatters"), overlap(runs, "trend_in_errors")[1])


def scatter_uncertainty(epochs=15, draws=4000):
    """How much one run's scatter (:func:`dnnkit.training.scatter_of`) itself scatters:
    the relative standard deviation of the estimate on ``epochs`` epochs of Gaussian
    noise (simulated, seed 0: the same every time)."""
    estimates = training.scatter_of(np.random.default_rng(0).normal(size=(draws, epochs)))
    return float(estimates.std() / estimates.mean())


def choose_quiet(runs):
    """:data:`dnnkit.training.QUIET_RATIO` from the labelled tuning runs: the largest
    scatter / fall of a run that must not overtrain, rounded down to 0.01.  Not widened:
    "no overtraining" is said only of a curve as quiet as those the rule was chosen on.
    (Until 2026-12-08 it was widened by one run's scatter uncertainty, to 0.15; the lab
    floor's clothingSequential, noisier than any study run, then read "no overtraining"
    twice.)"""
    ratios = [run.diagnosis.noise_ratio for run in runs
              if run.label == training.NO_OVERTRAINING and run.diagnosis.noise_ratio is not None]
    return math.floor(100 * max(ratios, default=0.0) + 1e-9) / 100


def count(runs, bounds):
    """``{"as labelled", "within the noise", "opposite", "unlabelled"}`` of ``runs``."""
    counts = {"as labelled": 0, "within the noise": 0, "opposite": 0, "unlabelled": 0}
    for run in runs:
        found = outcome(run.diagnosis, *bounds)
        if run.label is None:
            counts["unlabelled"] += 1
        elif found == run.label:
            counts["as labelled"] += 1
        elif found == training.WITHIN_NOISE:
            counts["within the noise"] += 1
        else:
            counts["opposite"] += 1
    return counts


def table(runs, bounds):
    lines = ["| run | label | rise in scatters | trend in standard errors | scatter / fall "
             "| training loss fell | verdict |", "|---|---|---|---|---|---|---|"]
    for run in runs:
        d = run.diagnosis
        rise_text = "still falling" if d.still_falling else (
            "" if d.rise_in_scatters is None else f"{d.rise_in_scatters:.1f}")
        trend_text = "" if d.trend_in_errors is None else f"{d.trend_in_errors:+.1f}"
        ratio = "" if d.noise_ratio is None else f"{d.noise_ratio:.3f}"
        lines.append(f"| {run.name} | {run.label or '(none)'} | {rise_text} | {trend_text} "
                     f"| {ratio} "
                     f"| {'yes' if d.training_loss_fell else 'no'} "
                     f"| {outcome(d, *bounds)} |")
    return "\n".join(lines)


def describe(counts):
    return ", ".join(f"{value} {key}" for key, value in counts.items())


def bounds_in_code():
    """The bounds in dnnkit/training.py, in the order of :func:`choose` and the quiet ratio."""
    return (training.NO_RISE_SCATTERS, training.RISE_SCATTERS, training.RISE_ERRORS,
            training.QUIET_RATIO)


def report(tuning, checking, bounds, uncertainty):
    no_rise, rise, trend, quiet_ratio = bounds
    in_code = bounds_in_code()
    same, seen, unseen = split_check(tuning, checking)
    return "\n".join([
        "# The overtraining verdict's bounds: chosen on the study, checked on the lecture runs",
        "",
        "Written by `python tools/verdict_rule.py` from the stored runs (see its docstring).",
        "",
        f"- chosen on the {len(tuning)} study runs (`results/study/`): no overtraining up to "
        f"{no_rise:g} scatters on a curve whose scatter is at most {quiet_ratio:g} of its fall "
        f"(the largest of a study run that must not overtrain, not widened; one run's scatter "
        f"is itself uncertain by {100 * uncertainty:.0f} %, simulated: one run is one draw), "
        f"overtraining above {rise:g} scatters or a trend after the low of {trend:g} standard "
        f"errors (over at least {training.TREND_EPOCHS} epochs); in dnnkit/training.py: "
        f"{in_code[0]:g}, {in_code[3]:g}, {in_code[1]:g} and {in_code[2]:g}.",
        f"- the tuning set with these bounds: {describe(count(tuning, bounds))}.",
        f"- **the check set, stored since {UNSEEN_SINCE} UTC** (not looked at when the rule "
        f"last changed), {len(unseen)} lecture-setting runs of the model scripts, pinned and "
        f"lab floor: {describe(count(unseen, bounds))}.",
        f"- the lecture-setting runs stored before, which led to the rule's changes (the "
        f"scatter / fall condition, the trend test, the quiet bound without widening; "
        f"see `UNSEEN_SINCE` in tools/verdict_rule.py), {len(seen)} runs, with today's "
        f"bounds: {describe(count(seen, bounds))}.",
        f"- {len(same)} lecture-setting runs are study runs too (the same curve) and count "
        f"as no check: {', '.join(run.name for run in same) or 'none'}.",
        "",
        "## Tuning set: the overtraining study", "", table(tuning, bounds), "",
        f"## Check set: the lecture-setting runs stored since {UNSEEN_SINCE} UTC", "",
        table(unseen, bounds), "",
        "## Lecture-setting runs stored before (seen when the rule last changed)", "",
        table(seen, bounds), ""])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if the bounds in the code are not the "
                             "chosen ones or results/RULE.md is stale")
    args = parser.parse_args(argv)
    tuning, checking = tuning_runs(), check_runs()
    if not tuning:
        print(f"Error: no study runs in {STUDY}: run python overtrainingStudy.py first",
              file=sys.stderr)
        return 2
    uncertainty = scatter_uncertainty()
    bounds = (*choose(tuning), choose_quiet(tuning))
    in_code = bounds_in_code()
    _, seen, unseen = split_check(tuning, checking)
    print(f"Chosen on {len(tuning)} study runs: no overtraining up to {bounds[0]:g} scatters "
          f"with scatter / fall up to {bounds[3]:g}, overtraining above {bounds[1]:g} scatters "
          f"or a trend of {bounds[2]:g} standard errors (dnnkit/training.py: {in_code[0]:g}, "
          f"{in_code[3]:g}, {in_code[1]:g}, {in_code[2]:g}).")
    print(f"Checked on {len(unseen)} lecture-setting runs stored since {UNSEEN_SINCE}: "
          f"{describe(count(unseen, bounds))} (and on {len(seen)} stored before: "
          f"{describe(count(seen, bounds))}).")
    text = report(tuning, checking, bounds, uncertainty)
    if args.check:
        same = bounds == in_code
        fresh = REPORT.exists() and REPORT.read_text(encoding="utf-8") == text
        if not same:
            print("stale: dnnkit/training.py's bounds are not the ones the study gives")
        if not fresh:
            print(f"stale: {REPORT.relative_to(ROOT)} (run python tools/verdict_rule.py)")
        return 0 if same and fresh else 1
    REPORT.write_text(text, encoding="utf-8")
    print(f"Written to {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
