"""Write the measured results into the scripts' headers and the README, from one file.

``python reproduce.py --seeds 5`` writes ``results/results.json`` (and
``results/RESULTS.md``).  This tool copies its numbers into the places that
quote them, so that no number in prose can drift away from the measurement:

- in each script's header docstring, the paragraph that starts with
  "Result of a full run" (every script in ``dnnkit/lecture.py`` has one;
  the overtraining study's, from its own many runs, is written by hand);
- in README.md, the results table and the Dropout pairs' table, between the
  lines ``<!-- results table -->`` and ``<!-- end of results table -->``.

Run ``python tools/make_notebooks.py`` afterwards: the notebooks carry the
headers too.  ``--check`` changes nothing and exits 1 if a header or the
README differs from what the results say (tests/test_results.py runs it).

    python tools/sync_results.py            # rewrite headers and README
    python tools/sync_results.py --check    # exit 1 if anything is stale
"""

import argparse
import ast
import json
import re
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dnnkit import lecture  # noqa: E402
# The table's own "mean ± std" and "difference ± error", so that prose and table agree.
from reproduce import format_difference as difference  # noqa: E402
from reproduce import format_spread as spread  # noqa: E402
from reproduce import mean_curve_text  # noqa: E402

RESULTS = ROOT / "results" / "results.json"
README = ROOT / "README.md"
TABLE_START = "<!-- results table -->"
TABLE_END = "<!-- end of results table -->"
PARAGRAPH_START = "Result of a full run"
WIDTH = 78


class SyncError(Exception):
    """A header or README that the tool cannot update (one line, exit 2)."""


def load_results(path=RESULTS):
    try:
        with open(path, encoding="utf-8") as stream:
            return json.load(stream)
    except (OSError, ValueError) as error:
        raise SyncError(f"cannot read {path} ({error}): run python reproduce.py --seeds 5 "
                        f"first") from None


def where_measured(run):
    """Which runs, on which machine: the opening of every generated paragraph."""
    tensorflow = run["software"].split(",")[0]
    seeds = re.search(r"\((\d+ to \d+)\)", run["seeds"])
    seeds = f"seeds {seeds.group(1)}" if seeds else run["seeds"]
    settings = "quick settings" if run.get("quick") else "the script's defaults"
    machines = "; ".join(machine.split(",")[0] + f" ({machine.split(',')[1].strip()})"
                         for machine in run["machine"].split("; ") if "," in machine)
    return (f"({settings}, {seeds}; ``{run['command']}``, {run['date']}, on "
            f"{machines or run['machine']}, {run['device']}, {tensorflow}, load average "
            f"{run.get('load', 'not reported').split(' ')[0]})")


def verdict(summary):
    """"overtraining in 4 of 5 seeds (within the noise in 1), as the lecture says"."""
    if "verdict" not in summary:
        return ""
    counts = summary["outcomes"]
    runs = sum(counts.values())
    word = summary["verdict"]
    if runs == 1:
        text = f"{word} (one run)"
    elif word == "tie":
        text = "a tie: " + ", ".join(f"{name} in {count}" for name, count in counts.items())
        text += f" of {runs} seeds"
    else:
        others = [f"{name} in {count}" for name, count in counts.items() if name != word]
        text = (f"{word} in {counts[word]} of {runs} seeds"
                + (f" ({', '.join(others)})" if others else ""))
    expected = summary.get("lecture_overtrains")
    if expected is None or word not in ("overtraining", "no overtraining"):
        return text
    if expected == (word == "overtraining"):
        return text + ", as the lecture says"
    said = "overtrains" if expected else "does not overtrain"
    return text + f", where the lecture says it {said}: see the curves"


def lecture_comparison(summary):
    """"lecture 0.882: consistent (95 % prediction interval of one run 0.871 to 0.889)"."""
    check = summary.get("lecture_check")
    text = f"lecture {summary['lecture_accuracy']}"
    if check is None:
        return text
    return f"{text}: {'consistent' if check['consistent'] else 'not consistent'}, {check['basis']}"


def paragraph(name, results):
    """The generated "Result of a full run" paragraph of script ``name``."""
    summaries = {summary["name"]: summary for summary in results["scripts"]}
    if name not in summaries:
        raise SyncError(f"{name} is not in {RESULTS.name}: run python reproduce.py --seeds 5")
    summary, run = summaries[name], results["run"]
    text = f"{PARAGRAPH_START} {where_measured(run)}: "
    if "test_accuracy" not in summary:
        return text + f"done in {summary['seconds']:.0f} s."
    several = summary["test_accuracy"]["n"] > 1
    seeds = f"mean ± std of {summary['test_accuracy']['n']} seeds; " if several else ""
    text += (f"test accuracy {spread(summary['test_accuracy'], 4)} ({seeds}"
             f"{lecture_comparison(summary)}).")
    if summary.get("rise_in_scatters"):
        trend = (f" (its trend after the low {spread(summary['trend_in_errors'], 1, sign=True)}"
                 f" standard errors)" if summary.get("trend_in_errors") else "")
        text += (f" Validation loss lowest around epoch {spread(summary['best_epoch'], 1)} of "
                 f"{summary['epochs']}, then up {spread(summary['rise_in_scatters'], 1)} times "
                 f"its epoch-to-epoch scatter{trend}: {verdict(summary)}.")
    pooled = summary.get("mean_curve")
    if pooled and pooled["rise_in_scatters"] is not None:
        text += f" The mean curve of the {pooled['runs']} seeds: {mean_curve_text(summary)}."
    elif "verdict" in summary:
        text += f" {verdict(summary)[0].upper()}{verdict(summary)[1:]}."
    if "gap" in summary:
        text += (f" Accuracy gap (training minus validation, both by model.evaluate) "
                 f"{spread(summary['gap'], 3, sign=True)}.")
    for pair in results.get("pairs", []):
        if pair["with"] == name and "test_accuracy" in pair:
            text += (f" Against {pair['without']}.py at the same {summary['epochs']} epochs, "
                     f"paired by seed: test accuracy "
                     f"{difference(pair['test_accuracy'], 2, 100, ' points')}, validation-loss "
                     f"rise {difference(pair['rise_percent'], 0, unit=' % points')}.")
    if "verdict" in summary:
        text += (" One run is one draw: on another CPU, and on a GPU every time, it may land "
                 "within the noise; python reproduce.py --seeds 5 checks.")
    return text + f" One run takes about {summary['seconds']:.0f} s."


def update_header(source, name, results):
    """``source`` with its header's result paragraph replaced by the generated one."""
    docstring = ast.get_docstring(ast.parse(source), clean=False)
    if docstring is None or PARAGRAPH_START not in docstring:
        raise SyncError(f"{name}.py: its header has no paragraph starting "
                        f"'{PARAGRAPH_START}': add one (its text is generated)")
    start = docstring.index(PARAGRAPH_START)
    end = docstring.find("\n\n", start)
    end = len(docstring.rstrip()) if end == -1 else end
    new = textwrap.fill(paragraph(name, results), width=WIDTH)
    updated = docstring[:start] + new + docstring[end:]
    return source.replace(docstring, updated, 1)


def readme_tables(results):
    """The README's results table and, with several seeds, the pairs' table."""
    summaries = {summary["name"]: summary for summary in results["scripts"]}
    lines = ["| slide | script | measured (lecture) | time |", "|---|---|---|---|"]
    for example in lecture.EXAMPLES:
        if example.kind in ("study", "demo"):
            continue
        summary = summaries.get(example.name)
        if summary is None:
            lines.append(f"| {example.slide} | `{example.name}.py` | (not measured yet) "
                         f"({example.lecture}) | |")
            continue
        measured = example.lecture
        if "test_accuracy" in summary:
            measured = f"{spread(summary['test_accuracy'], 4)}"
            if "verdict" in summary:
                measured += ", " + verdict(summary).split(", as the")[0].split(", where")[0]
            measured += f" (lecture: {example.lecture})"
        lines.append(f"| {example.slide} | `{example.name}.py` | {measured} "
                     f"| {summary['seconds']:.0f} s |")
    run = results["run"]
    lines += ["", f"Measured with `{run['command']}` on {run['date']} ({run['seeds']}; "
              f"{where_measured(run)[1:-1].split('``, ', 1)[1]}). ± is the standard deviation "
              f"of single runs over the seeds; time per run. `results/RESULTS.md` has the "
              f"full table and the verdicts counted."]
    pairs = [pair for pair in results.get("pairs", []) if "test_accuracy" in pair]
    if pairs:
        lines += ["", "| Dropout against none, same epochs, paired by seed | test accuracy | "
                  "validation-loss rise |", "|---|---|---|"]
        for pair in pairs:
            lines.append(f"| `{pair['with']}` − `{pair['without']}` "
                         f"| {difference(pair['test_accuracy'], 2, 100, ' points')} "
                         f"| {difference(pair['rise_percent'], 0, unit=' % points')} |")
    return "\n".join(lines)


def update_readme(text, results):
    pattern = re.compile(re.escape(TABLE_START) + r"\n.*?\n" + re.escape(TABLE_END), re.DOTALL)
    if not pattern.search(text):
        raise SyncError(f"README.md has no lines {TABLE_START} ... {TABLE_END}: add them "
                        f"where the results table goes")
    return pattern.sub(lambda _: f"{TABLE_START}\n{readme_tables(results)}\n{TABLE_END}",
                       text, count=1)


def planned_changes(results):
    """``{path: new text}`` for every file whose text differs from what the results say."""
    changes = {}
    for example in lecture.EXAMPLES:
        if example.kind in ("study", "demo"):  # the study's runs are its own; the demo has none
            continue
        path = ROOT / f"{example.name}.py"
        source = path.read_text(encoding="utf-8")
        new = update_header(source, example.name, results)
        if new != source:
            changes[path] = new
    readme = README.read_text(encoding="utf-8")
    new = update_readme(readme, results)
    if new != readme:
        changes[README] = new
    return changes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if a header or the README is stale")
    args = parser.parse_args(argv)
    try:
        changes = planned_changes(load_results())
    except SyncError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    if args.check:
        for path in changes:
            print(f"stale: {path.relative_to(ROOT)} (run python tools/sync_results.py)")
        return 1 if changes else 0
    for path, text in changes.items():
        path.write_text(text, encoding="utf-8")
        print(f"updated {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
