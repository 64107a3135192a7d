"""Choose the overtraining verdict's two bounds on one set of stored runs, check them on another.

The verdict (``dnnkit.training.diagnose``) compares the rise of the validation
loss after its low with the curve's own epoch-to-epoch scatter: above
``RISE_SCATTERS`` scatters (with the training loss still falling) it is
overtraining, up to ``NO_RISE_SCATTERS`` it is none, in between "within the
noise".  This tool says where the two bounds come from and whether they hold
on runs they were not chosen on:

- **Tuning set: the overtraining study's runs** (``results/study/``, from
  ``overtrainingStudy.py``: Fashion-MNIST, one hidden layer, 15 epochs, several
  seeds).  The lecture's exercise labels them: without Dropout, 128 nodes and
  more overtrain; Dropout 0.2 and more, and 16 nodes, do not.  64 nodes and
  Dropout 0.1 lie between and are not labelled.  One run measures its rise
  only to about a scatter, so the smallest rise of a run that must overtrain
  is lowered by one scatter, and the largest rise of a run that must not is
  raised by one.  Where the two overlap, the overlap is "within the noise"
  (``NO_RISE_SCATTERS`` to ``RISE_SCATTERS``, rounded outwards to halves);
  where they do not, the gap between them is.
- **Check set: the lecture-setting runs of reproduce.py**, pinned
  (``results/runs/``) and on the lab floor (``results/lab-floor/runs/``),
  labelled by the lecture's verdicts (``dnnkit/lecture.py``): other networks,
  other data, other epochs, another TensorFlow.  For these it counts the
  verdicts as the lecture's, within the noise, and opposite.

It writes ``results/RULE.md`` with both sets, run by run, and the counts of
the check set, opposite verdicts included.  ``--check`` changes nothing and
exits 1 if the bounds in dnnkit/training.py are not the ones the tuning set
gives, or if results/RULE.md is not what the stored runs give.

    python tools/verdict_rule.py            # choose, check, write results/RULE.md
    python tools/verdict_rule.py --check    # exit 1 if the bounds or RULE.md are stale
"""

import argparse
import json
import math
import sys
from pathlib import Path

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


def tuning_runs(folder=STUDY):
    """``[(name, label, diagnosis)]`` of every stored run of the full study: its default
    settings on the full data (short runs of tests and notebooks in other folders beside
    it are left out)."""
    runs = []
    for path in sorted(folder.glob(f"{FULL_STUDY}*/nodes*_dropout*_seed*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        name = (f"{record['hidden_nodes']} nodes, Dropout {record['dropout']:g}, "
                f"seed {record['seed']}")
        runs.append((name, study_label(record["hidden_nodes"], record["dropout"]),
                     training.diagnose(record["history"])))
    return runs


def check_runs(folders=LECTURE_RUNS):
    """``[(name, label, diagnosis)]`` of every stored lecture-setting run of a model script."""
    runs = []
    for folder in folders:
        for path in sorted(folder.glob("tf*-lecture/*/seed-*.json")):
            record = json.loads(path.read_text(encoding="utf-8"))
            example = lecture.example(record["script"])
            if not example.trains or record["exit_code"] != 0 or not record.get("history"):
                continue
            label = training.OVERTRAINING if example.overtrains else training.NO_OVERTRAINING
            name = f"{record['script']}, seed {record['seed']}, {path.parent.parent.name}"
            runs.append((name, label, training.diagnose(record["history"])))
    return runs


def outcome(diagnosis, no_rise, rise):
    """The diagnosis's outcome with other bounds."""
    if diagnosis.still_falling or diagnosis.rise_in_scatters is None:
        return diagnosis.outcome
    return training.judge(diagnosis.rise_in_scatters, diagnosis.training_loss_fell,
                          no_rise, rise)


#: How much a rise measured in one run may be off: the low and the end are each a median
#: of 3 noisy epochs, so their difference scatters by about one scatter.
MARGIN_SCATTERS = 1.0


def choose(runs):
    """The two bounds from the labelled tuning runs (see the module's docstring): the
    smallest rise of a run that must overtrain, less :data:`MARGIN_SCATTERS` (a rise is
    itself measured only to about a scatter), and the largest rise of a run that must not,
    plus the margin.  Where these overlap, the overlap (rounded outwards to halves) is
    within the noise; where they do not, the gap between them (rounded inwards)."""
    rises = {label: [d.rise_in_scatters for _, run_label, d in runs
                     if run_label == label and not d.still_falling
                     and d.rise_in_scatters is not None]
             for label in (training.OVERTRAINING, training.NO_OVERTRAINING)}
    low = min(rises[training.OVERTRAINING], default=math.inf) - MARGIN_SCATTERS
    high = max(rises[training.NO_OVERTRAINING], default=0.0) + MARGIN_SCATTERS
    if low <= high:  # they overlap, within a scatter: the overlap is within the noise
        return max(0.0, math.floor(2 * low) / 2), math.ceil(2 * high) / 2
    return math.ceil(2 * high) / 2, max(math.ceil(2 * high) / 2, math.floor(2 * low) / 2)


def count(runs, no_rise, rise):
    """``{"as labelled", "within the noise", "opposite", "unlabelled"}`` of ``runs``."""
    counts = {"as labelled": 0, "within the noise": 0, "opposite": 0, "unlabelled": 0}
    for _, label, diagnosis in runs:
        found = outcome(diagnosis, no_rise, rise)
        if label is None:
            counts["unlabelled"] += 1
        elif found == label:
            counts["as labelled"] += 1
        elif found == training.WITHIN_NOISE:
            counts["within the noise"] += 1
        else:
            counts["opposite"] += 1
    return counts


def table(runs, no_rise, rise):
    lines = ["| run | label | rise in scatters | training loss fell | verdict |",
             "|---|---|---|---|---|"]
    for name, label, d in runs:
        rise_text = "still falling" if d.still_falling else (
            "" if d.rise_in_scatters is None else f"{d.rise_in_scatters:.1f}")
        lines.append(f"| {name} | {label or '(none)'} | {rise_text} "
                     f"| {'yes' if d.training_loss_fell else 'no'} "
                     f"| {outcome(d, no_rise, rise)} |")
    return "\n".join(lines)


def describe(counts):
    return ", ".join(f"{value} {key}" for key, value in counts.items())


def report(tuning, checking, no_rise, rise):
    in_code = (training.NO_RISE_SCATTERS, training.RISE_SCATTERS)
    return "\n".join([
        "# The overtraining verdict's bounds: chosen on the study, checked on the lecture runs",
        "",
        "Written by `python tools/verdict_rule.py` from the stored runs (see its docstring).",
        "",
        f"- chosen on the {len(tuning)} study runs (`results/study/`): no overtraining up to "
        f"{no_rise:g} scatters, overtraining above {rise:g}; in dnnkit/training.py: "
        f"{in_code[0]:g} and {in_code[1]:g}.",
        f"- the tuning set with these bounds: {describe(count(tuning, no_rise, rise))}.",
        f"- the check set, {len(checking)} lecture-setting runs of the model scripts, pinned "
        f"and lab floor: {describe(count(checking, no_rise, rise))}.",
        "",
        "## Tuning set: the overtraining study", "", table(tuning, no_rise, rise), "",
        "## Check set: the lecture-setting runs (`reproduce.py`)", "",
        table(checking, no_rise, rise), ""])


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
    no_rise, rise = choose(tuning)
    counts = count(checking, no_rise, rise)
    print(f"Chosen on {len(tuning)} study runs: no overtraining up to {no_rise:g} scatters, "
          f"overtraining above {rise:g} (dnnkit/training.py: {training.NO_RISE_SCATTERS:g}, "
          f"{training.RISE_SCATTERS:g}).")
    print(f"Checked on {len(checking)} lecture-setting runs: {describe(counts)}.")
    text = report(tuning, checking, no_rise, rise)
    if args.check:
        same = (no_rise, rise) == (training.NO_RISE_SCATTERS, training.RISE_SCATTERS)
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
