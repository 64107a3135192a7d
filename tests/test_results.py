"""The measured results and every place that quotes them agree.

``results/results.json`` is written by ``python reproduce.py --seeds 5``;
``tools/sync_results.py`` copies its numbers into the scripts' headers and
the README's table.  Here: nothing is stale, the generated sentences say
what the numbers say (also where a run disagrees with the lecture), and a
script's printed verdict, its figure and its diagnosis are one and the same.
"""

import ast
import copy
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import sync_results  # noqa: E402

from dnnkit import lecture  # noqa: E402


@pytest.fixture(scope="module")
def results():
    return sync_results.load_results()


def test_headers_and_readme_quote_results_json(capsys):
    """Every header's result paragraph and the README's table are what the results say."""
    assert sync_results.main(["--check"]) == 0, capsys.readouterr().out


def test_the_committed_results_are_a_full_run(results):
    run = results["run"]
    assert not run["quick"]
    names = [summary["name"] for summary in results["scripts"]]
    expected = [name for name in lecture.names()
                if lecture.example(name).kind not in ("study", "demo")]
    assert names == expected, "results.json is not a run of every script in order"
    for summary in results["scripts"]:
        assert summary["ok"] == summary["runs"], (summary["name"], summary["errors"])
        if lecture.example(summary["name"]).trains:
            accuracy = summary["test_accuracy"]
            assert (accuracy["std"] is None) == (accuracy["n"] == 1)  # one run has no ±
            for run in summary["per_run"]:
                assert "sample" not in run["data"], "not the full data"
                assert run["data"].startswith(("MNIST from $DNN_DATA_DIR/",
                                               "Fashion-MNIST from $DNN_DATA_DIR/"))


@pytest.mark.parametrize("folder", ["results", "results/lab-floor"])
def test_the_committed_table_is_what_the_stored_runs_give_today(folder, tmp_path):
    """results.json is what ``reproduce.py --table-only`` writes from the stored runs with
    today's diagnosis (so its verdicts, and the opposite ones it counts, are not stale).
    Each table is checked in the environment that made its runs (its TensorFlow)."""
    import shutil

    import reproduce

    committed = json.loads((ROOT / folder / "results.json").read_text(encoding="utf-8"))
    if committed["run"]["software"].split(",")[0] != f"TensorFlow {reproduce.tensorflow_version()}":
        pytest.skip(f"{folder} holds runs of {committed['run']['software']}: checked there")
    shutil.copytree(ROOT / folder / "runs", tmp_path / "runs")
    argv = committed["run"]["command"].split()[2:]
    written = reproduce.main(["--table-only", *argv, "--results-dir", str(tmp_path)])
    fresh = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    for key in ("scripts", "pairs"):
        assert fresh[key] == committed[key], f"{folder}: run python reproduce.py --table-only"
    assert written["summaries"]


def _fake_results(outcomes, lecture_overtrains=True):
    import reproduce

    verdict = reproduce.seeds_verdict(outcomes)
    summary = {"name": "clothingSequential", "lecture_accuracy": 0.877,
               "lecture_overtrains": lecture_overtrains, "ok": 5, "runs": 5, "seconds": 50.0,
               "epochs": 15, "lecture_check": {"consistent": True, "basis":
                                               "95 % prediction interval of one run 0.8688 "
                                               "to 0.8814"},
               "test_accuracy": {"mean": 0.8751, "std": 0.0021, "n": 5},
               "best_epoch": {"mean": 5.0, "std": 1.0, "n": 5},
               "rise_in_scatters": {"mean": 9.5, "std": 3.0, "n": 5},
               "trend_in_errors": {"mean": 11.2, "std": 4.1, "n": 5},
               "rise_percent": {"mean": 12.0, "std": 3.0, "n": 5},
               "gap": {"mean": 0.05, "std": 0.004, "n": 5},
               "outcomes": outcomes, "verdict": verdict}
    dropout = dict(copy.deepcopy(summary), name="clothingSequentialDropout",
                   lecture_overtrains=False)
    run = {"settings": "defaults of each script (the lecture settings, or as its header says)",
           "seeds": "5 per model script (42 to 46)", "command": "python reproduce.py --seeds 5",
           "date": "2026-12-06", "machine": "Some CPU, 2 CPU cores, Linux",
           "device": "CPU (no GPU visible)", "software": "TensorFlow 2.21.0, Python 3.11.7",
           "load": "0.5-1.2"}
    difference = {"mean": 0.003, "std": 0.002, "n": 5, "seeds": [42, 43, 44, 45, 46],
                  "standard_error": 0.0009, "interval": [0.0005, 0.0055], "tie": False}
    rise = {"mean": -8.0, "std": 2.0, "n": 5, "seeds": [42, 43, 44, 45, 46],
            "standard_error": 0.9, "interval": [-10.5, 1.0], "tie": True}
    pairs = [{"without": "clothingSequential", "with": "clothingSequentialDropout",
              "test_accuracy": difference, "rise_percent": rise}]
    return {"run": run, "scripts": [summary, dropout], "pairs": pairs}


def test_the_generated_paragraph_labels_every_spread_and_names_the_machine():
    text = sync_results.paragraph("clothingSequential", _fake_results(
        {"overtraining": 4, "within the noise": 1}))
    assert text.startswith("Result of a full run (the script's defaults, seeds 42 to 46; "
                           "``python reproduce.py --seeds 5``, 2026-12-06, on Some CPU "
                           "(2 CPU cores), CPU (no GPU visible), TensorFlow 2.21.0, ")
    assert "test accuracy 0.8751 ± 0.0021 (mean ± std of 5 seeds; lecture 0.877: consistent, " \
           "95 % prediction interval of one run 0.8688 to 0.8814)" in text
    assert "then up 9.5 ± 3.0 times its epoch-to-epoch scatter (its trend after the low " \
           "+11.2 ± 4.1 standard errors): overtraining in 4 of 5 seeds (within the noise in 1), " \
           "as the lecture says." in text
    assert "reproduce.py --seeds 5 checks" in text
    pair = sync_results.paragraph("clothingSequentialDropout", _fake_results({"overtraining": 5}))
    assert "paired by seed: test accuracy +0.30 points (95 % CI +0.05 to +0.55, 5 seeds), " \
           "validation-loss rise tie: -8 % points (95 % CI -10 to +1, 5 seeds)." in pair


def test_a_run_that_disagrees_with_the_lecture_says_so_and_a_tie_is_a_tie():
    text = sync_results.paragraph("clothingSequential", _fake_results(
        {"no overtraining": 3, "overtraining": 2}))
    assert "no overtraining in 3 of 5 seeds (overtraining in 2), where the lecture says it " \
           "overtrains: see the curves." in text
    tie = sync_results.paragraph("clothingSequential", _fake_results(
        {"no overtraining": 2, "overtraining": 2}))
    assert "a tie: no overtraining in 2, overtraining in 2 of 4 seeds." in tie


def test_a_header_without_a_result_paragraph_is_a_one_line_error(tmp_path):
    source = '"""A script.\n\nNo result here.\n"""\nprint(1)\n'
    with pytest.raises(sync_results.SyncError, match="no paragraph starting 'Result of a full"):
        sync_results.update_header(source, "x", _fake_results({"overtraining": 5}))


def test_update_header_replaces_only_the_result_paragraph():
    source = ('"""Title.\n\nProse stays.\n\nResult of a full run (old): 0.1234.\n'
              'Old second line.\n\nLast paragraph stays.\n"""\nx = 1\n')
    new = sync_results.update_header(source, "clothingSequential",
                                     _fake_results({"overtraining": 5}))
    docstring = ast.get_docstring(ast.parse(new))
    assert docstring.startswith("Title.\n\nProse stays.\n\nResult of a full run (the script's")
    assert docstring.endswith("\n\nLast paragraph stays.") and "0.1234" not in docstring
    assert new.endswith('"""\nx = 1\n')
    assert all(len(line) <= sync_results.WIDTH for line in docstring.splitlines())


# ---------------------------------------------------------------------------
# A script's printed verdict and its figure are its diagnosis
# ---------------------------------------------------------------------------
def assert_verdict_figure_and_diagnosis_agree(namespace, output):
    """Called by tests/test_scripts.py for every model script after its tiny run."""
    from dnnkit import training

    diagnosis = namespace["diagnosis"]
    lines = output.splitlines()
    assert diagnosis.verdict in lines
    assert f"Overtraining: {training.OVERTRAINING_ANSWERS[diagnosis.outcome]}" in lines
    assert f"Best epoch: {diagnosis.best_epoch} of {diagnosis.epochs}" in lines
    assert f"Train/validation gap: {diagnosis.gap:.4f}" in lines
    import matplotlib.pyplot as plt

    curves = next(plt.figure(number) for number in plt.get_fignums()
                  if "training curves" in (plt.figure(number).texts[0].get_text()
                                           if plt.figure(number).texts else ""))
    loss_axes, accuracy_axes = curves.axes[:2]
    marked = [line for line in loss_axes.get_lines()
              if line.get_label().startswith("lowest val. loss")]
    assert marked and marked[0].get_xdata()[0] == diagnosis.best_epoch
    texts = " ".join([loss_axes.get_title(), accuracy_axes.get_title(),
                      *(text.get_text() for text in loss_axes.texts + accuracy_axes.texts)])
    assert diagnosis.outcome in texts and f"{diagnosis.gap:+.3f}" in texts
    if diagnosis.rise_in_scatters is not None:
        assert f"{diagnosis.rise_in_scatters:.1f} scatters" in texts
