"""Write the measured results into the scripts' headers and the README, from one file.

``python reproduce.py --seeds 3`` writes ``results/results.json`` (and
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
        raise SyncError(f"cannot read {path} ({error}): run python reproduce.py --seeds 3 "
                        f"first") from None


def where_measured(run):
    """Which run, on which machine: the opening of every generated paragraph."""
    tensorflow = run["software"].split(",")[0]
    seeds = re.search(r"\((\d+ to \d+)\)", run["seeds"])
    seeds = f"seeds {seeds.group(1)}" if seeds else run["seeds"]
    settings = "quick settings" if run.get("quick") else "the lecture settings"
    return (f"({settings}, {seeds}; ``{run['command']}``, {run['date']}, on the project's "
            f"2-core test machine: {run['machine'].split(',')[0]}, {run['device']}, "
            f"{tensorflow}, load average {run.get('load', 'not reported').split(' ')[0]}; "
            f"not the lab's GPU)")


def verdict(summary):
    """"overtraining in 3 of 3 seeds, as the lecture says" and the like."""
    if "overtrains" not in summary:
        return ""
    word = "overtraining" if summary["overtrains"] else "no overtraining"
    runs = summary["diagnosed_runs"]
    count = summary["overtraining_runs"] if summary["overtrains"] else runs - summary[
        "overtraining_runs"]
    text = f"{word} in {count} of {runs} seeds" if runs > 1 else word
    expected = summary.get("lecture_overtrains")
    if expected is None:
        return text
    if expected == summary["overtrains"]:
        return text + ", as the lecture says"
    said = "overtrains" if expected else "does not overtrain"
    return text + f", where the lecture says it {said}: see the curves"


def paragraph(name, results):
    """The generated "Result of a full run" paragraph of script ``name``."""
    summaries = {summary["name"]: summary for summary in results["scripts"]}
    if name not in summaries:
        raise SyncError(f"{name} is not in {RESULTS.name}: run python reproduce.py --seeds 3")
    summary, run = summaries[name], results["run"]
    text = f"{PARAGRAPH_START} {where_measured(run)}: "
    if "test_accuracy" not in summary:
        return text + f"done in {summary['seconds']:.0f} s."
    seeds = f"mean ± std of {summary['ok']} seeds; " if summary["ok"] > 1 else ""
    lecture_accuracy = summary["lecture_accuracy"]
    within = {True: "within the spread", False: "outside the spread", None: ""}[
        summary["lecture_within_spread"]]
    text += (f"test accuracy {spread(summary['test_accuracy'], 4)} ({seeds}lecture "
             f"{lecture_accuracy}{', ' + within if within else ''}).")
    if "best_epoch" in summary:
        text += (f" Validation loss lowest after epoch {spread(summary['best_epoch'], 1)} of "
                 f"{summary['epochs']}, then up {spread(summary['rise_percent'], 0)} %: "
                 f"{verdict(summary)}.")
    if "gap" in summary:
        text += (f" Accuracy gap (training minus validation, both by model.evaluate) "
                 f"{spread(summary['gap'], 3, sign=True)}.")
    for pair in results.get("pairs", []):
        if pair["with"] == name and "test_accuracy" in pair:
            text += (f" Against {pair['without']}.py at the same {summary['epochs']} epochs: "
                     f"test accuracy {difference(pair['test_accuracy'], 2, scale=100)} points, "
                     f"validation-loss rise {difference(pair['rise_percent'], 0)} points.")
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
            if "overtrains" in summary:
                measured += ", " + verdict(summary).split(",")[0]
            measured += f" (lecture: {example.lecture})"
        lines.append(f"| {example.slide} | `{example.name}.py` | {measured} "
                     f"| {summary['seconds']:.0f} s |")
    run = results["run"]
    lines += ["", f"Measured with `{run['command']}` on {run['date']} ({run['seeds']}; "
              f"{run['machine'].split(',')[0]}, 2 cores, {run['device']}, "
              f"{run['software'].split(',')[0]}, load average "
              f"{run.get('load', 'not reported').split(' ')[0]}); mean ± standard deviation over the seeds; "
              f"time per run. `results/RESULTS.md` has the full table."]
    pairs = [pair for pair in results.get("pairs", []) if "test_accuracy" in pair]
    if pairs and run["seeds"].split()[0] not in ("one",):
        lines += ["", "| Dropout against none, same epochs | test accuracy | "
                  "validation-loss rise |", "|---|---|---|"]
        for pair in pairs:
            lines.append(f"| `{pair['with']}` − `{pair['without']}` "
                         f"| {difference(pair['test_accuracy'], 2, scale=100)} points "
                         f"| {difference(pair['rise_percent'], 0)} points |")
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
