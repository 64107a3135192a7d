"""tools/verdict_rule.py: the verdict's bounds come from the study's runs and hold on the
lecture-setting runs they were not chosen on."""

import sys
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import verdict_rule  # noqa: E402

from dnnkit import training  # noqa: E402

OVER, NONE = training.OVERTRAINING, training.NO_OVERTRAINING


def _run(label, rise_in_scatters, still_falling=False):
    diagnosis = SimpleNamespace(rise_in_scatters=rise_in_scatters, still_falling=still_falling,
                                training_loss_fell=True, outcome=NONE)
    return ("a run", label, diagnosis)


def test_overlapping_rises_widened_by_a_scatter_become_the_band_within_the_noise():
    runs = [_run(NONE, 0.7), _run(NONE, 3.4), _run(OVER, 2.9), _run(OVER, 12.0),
            _run(None, 20.0), _run(NONE, 9.0, still_falling=True)]  # neither counts
    assert verdict_rule.choose(runs) == (1.5, 4.5)  # 2.9 - 1 and 3.4 + 1, outwards
    counts = verdict_rule.count(runs, 1.5, 4.5)
    assert counts == {"as labelled": 3, "within the noise": 2, "opposite": 0, "unlabelled": 1}


def test_separated_rises_put_the_band_around_the_gap():
    runs = [_run(NONE, 0.7), _run(NONE, 1.6), _run(OVER, 4.9), _run(OVER, 12.0)]
    assert verdict_rule.choose(runs) == (3.0, 3.5)  # 1.6 + 1 and 4.9 - 1, inwards
    assert verdict_rule.count(runs, 3.0, 3.5)["as labelled"] == 4


def test_the_study_labels_follow_the_lecture_exercise():
    assert verdict_rule.study_label(128, 0.0) == verdict_rule.study_label(2048, 0.0) == OVER
    assert verdict_rule.study_label(16, 0.0) == verdict_rule.study_label(128, 0.2) == NONE
    assert verdict_rule.study_label(64, 0.0) is verdict_rule.study_label(128, 0.1) is None


def test_the_bounds_in_the_code_are_the_study_s_and_rule_md_counts_the_check(capsys):
    """On the committed runs: dnnkit/training.py's bounds are the ones the study's runs give,
    and results/RULE.md (which counts the lecture-setting runs' verdicts, opposite ones
    included) is what the stored runs give today."""
    assert verdict_rule.main(["--check"]) == 0, capsys.readouterr().out
