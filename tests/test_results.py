"""The measured results and every place that quotes them agree.

``results/results.json`` is written by ``python reproduce.py --seeds 3``;
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


def test_the_committed_results_are_a_full_run_with_seeds(results):
    run = results["run"]
    assert not run["quick"] and run["seeds"].startswith(("3 ", "4 ", "5 "))
    names = [summary["name"] for summary in results["scripts"]]
    expected = [name for name in lecture.names()
                if lecture.example(name).kind not in ("study", "demo")]
    assert names == expected, "results.json is not a run of every script in order"
    for summary in results["scripts"]:
        assert summary["ok"] == summary["runs"], (summary["name"], summary["errors"])
        if lecture.example(summary["name"]).trains:
            assert summary["ok"] >= 3 and summary["test_accuracy"]["std"] is not None
            assert "Fashion-MNIST" in " ".join(r["data"] for r in summary["per_run"]) or \
                "MNIST from" in summary["per_run"][0]["data"]
            assert "sample" not in summary["per_run"][0]["data"], "not the full data"


@pytest.mark.parametrize("name", lecture.names("model"))
def test_each_header_states_the_verdict_of_its_runs(name, results):
    """The header says overtraining or not as the majority of the seeds did, and says so
    where that disagrees with the lecture."""
    summary = next(s for s in results["scripts"] if s["name"] == name)
    header = " ".join(ast.get_docstring(ast.parse(
        (ROOT / f"{name}.py").read_text(encoding="utf-8"))).split())
    word = "overtraining in" if summary["overtrains"] else "no overtraining in"
    assert word in header
    disagrees = summary["overtrains"] != lecture.example(name).overtrains
    assert ("where the lecture says" in header) == disagrees
    assert f"{summary['test_accuracy']['mean']:.4f} ± {summary['test_accuracy']['std']:.4f}" \
        in header


def _fake_results(overtrains, lecture_overtrains=True):
    summary = {"name": "clothingSequential", "lecture_accuracy": 0.877,
               "lecture_overtrains": lecture_overtrains, "ok": 3, "runs": 3, "seconds": 50.0,
               "epochs": 15, "lecture_within_spread": True,
               "test_accuracy": {"mean": 0.8751, "std": 0.0021},
               "best_epoch": {"mean": 5.0, "std": 1.0},
               "rise_percent": {"mean": 12.0, "std": 3.0}, "gap": {"mean": 0.05, "std": 0.004},
               "overtrains": overtrains, "overtraining_runs": 3 if overtrains else 1,
               "diagnosed_runs": 3}
    dropout = dict(copy.deepcopy(summary), name="clothingSequentialDropout",
                   lecture_overtrains=False)
    run = {"settings": "defaults of each script (the lecture settings)",
           "seeds": "3 per model script (42 to 44)", "command": "python reproduce.py --seeds 3",
           "date": "2026-12-06", "machine": "Some CPU, 2 CPU cores, Linux",
           "device": "CPU (no GPU visible)", "software": "TensorFlow 2.21.0, Python 3.11.7",
           "load": "0.5-1.2"}
    pairs = [{"without": "clothingSequential", "with": "clothingSequentialDropout",
              "test_accuracy": {"difference": 0.003, "error": 0.002},
              "rise_percent": {"difference": -8.0, "error": 2.5}}]
    return {"run": run, "scripts": [summary, dropout], "pairs": pairs}


def test_the_generated_paragraph_cites_the_numbers():
    text = sync_results.paragraph("clothingSequential", _fake_results(True))
    assert text.startswith("Result of a full run (the lecture settings, seeds 42 to 44; "
                           "``python reproduce.py --seeds 3``, 2026-12-06, on the project's "
                           "2-core test machine: Some CPU, CPU (no GPU visible), "
                           "TensorFlow 2.21.0, load average 0.5-1.2; not the lab's GPU): ")
    assert "test accuracy 0.8751 ± 0.0021 (mean ± std of 3 seeds; lecture 0.877, within " \
           "the spread)" in text
    assert "lowest after epoch 5.0 ± 1.0 of 15, then up 12 ± 3 %: overtraining in 3 of 3 " \
           "seeds, as the lecture says." in text
    pair = sync_results.paragraph("clothingSequentialDropout", _fake_results(True))
    assert "Against clothingSequential.py at the same 15 epochs: test accuracy +0.30 ± 0.20 " \
           "points, validation-loss rise -8 ± 2 points." in pair


def test_a_run_that_disagrees_with_the_lecture_says_so():
    text = sync_results.paragraph("clothingSequential", _fake_results(False))
    assert "no overtraining in 2 of 3 seeds, where the lecture says it overtrains: see the " \
           "curves." in text


def test_a_header_without_a_result_paragraph_is_a_one_line_error(tmp_path):
    source = '"""A script.\n\nNo result here.\n"""\nprint(1)\n'
    with pytest.raises(sync_results.SyncError, match="no paragraph starting 'Result of a full"):
        sync_results.update_header(source, "x", _fake_results(True))


def test_update_header_replaces_only_the_result_paragraph():
    source = ('"""Title.\n\nProse stays.\n\nResult of a full run (old): 0.1234.\n'
              'Old second line.\n\nLast paragraph stays.\n"""\nx = 1\n')
    new = sync_results.update_header(source, "clothingSequential", _fake_results(True))
    docstring = ast.get_docstring(ast.parse(new))
    assert docstring.startswith("Title.\n\nProse stays.\n\nResult of a full run (the lecture")
    assert docstring.endswith("\n\nLast paragraph stays.") and "0.1234" not in docstring
    assert new.endswith('"""\nx = 1\n')
    assert all(len(line) <= sync_results.WIDTH for line in docstring.splitlines())


def test_results_json_is_what_reproduce_writes(results):
    """The committed file has the keys that reproduce.write_results writes."""
    assert set(results) == {"run", "scripts", "pairs"}
    assert json.loads(json.dumps(results)) == results


# ---------------------------------------------------------------------------
# A script's printed verdict and its figure are its diagnosis
# ---------------------------------------------------------------------------
def assert_verdict_figure_and_diagnosis_agree(namespace, output):
    """Called by tests/test_scripts.py for every model script after its tiny run."""
    diagnosis = namespace["diagnosis"]
    lines = output.splitlines()
    assert diagnosis.verdict in lines
    assert f"Overtraining: {'yes' if diagnosis.overtraining else 'no'}" in lines
    assert f"Best epoch: {diagnosis.best_epoch} of {diagnosis.epochs}" in lines
    assert f"Train/validation gap: {diagnosis.gap:.4f}" in lines
    import matplotlib.pyplot as plt

    curves = next(plt.figure(number) for number in plt.get_fignums()
                  if "training curves" in (plt.figure(number).texts[0].get_text()
                                           if plt.figure(number).texts else ""))
    loss_axes, accuracy_axes = curves.axes[:2]
    marked = [line for line in loss_axes.get_lines() if line.get_label().startswith("best epoch")]
    assert marked and marked[0].get_xdata()[0] == diagnosis.best_epoch
    texts = " ".join(text.get_text() for text in loss_axes.texts + accuracy_axes.texts)
    verdict = "no overtraining" if not diagnosis.overtraining else ": overtraining"
    assert verdict in texts and f"{diagnosis.gap:+.3f}" in texts
    assert f"then {diagnosis.rise_percent:+.0f} %" in texts
