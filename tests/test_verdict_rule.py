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


def _run(label, rise_in_scatters, still_falling=False, noise_ratio=0.05, trend=None):
    """A run whose trend in standard errors is ``trend`` (default: the rise's value)."""
    trend = rise_in_scatters if trend is None else trend
    diagnosis = SimpleNamespace(rise_in_scatters=rise_in_scatters, still_falling=still_falling,
                                training_loss_fell=True, outcome=NONE, noise_ratio=noise_ratio,
                                trend_in_errors=trend)
    return SimpleNamespace(name="a run", label=label, diagnosis=diagnosis)


def test_overlapping_rises_widened_by_a_scatter_become_the_band_within_the_noise():
    runs = [_run(NONE, 0.7), _run(NONE, 3.4), _run(OVER, 2.9), _run(OVER, 12.0),
            _run(None, 20.0), _run(NONE, 9.0, still_falling=True)]  # neither counts
    assert verdict_rule.choose(runs) == (1.5, 4.5, 4.5)  # 2.9 - 1 and 3.4 + 1, outwards
    counts = verdict_rule.count(runs, (1.5, 4.5, 4.5, 0.15))
    assert counts == {"as labelled": 3, "within the noise": 2, "opposite": 0, "unlabelled": 1}


def test_the_trend_bound_is_the_upper_edge_of_the_trends_overlap():
    """The trend (in standard errors) gets its own overlap; only its upper edge is a bound:
    a trend above it is overtraining even where the end lies within the noise."""
    runs = [_run(NONE, 0.7, trend=0.5), _run(NONE, 3.4, trend=1.9), _run(OVER, 2.9, trend=3.5),
            _run(OVER, 12.0, trend=14.0)]
    assert verdict_rule.choose(runs) == (1.5, 4.5, 3.0)  # 3.5 - 1 = 2.5 to 1.9 + 1 = 2.9
    counts = verdict_rule.count(runs, (1.5, 4.5, 3.0, 0.15))
    assert counts == {"as labelled": 3, "within the noise": 1, "opposite": 0, "unlabelled": 0}
    # Without a trend (too few epochs after the low) the end alone decides.
    short = _run(OVER, 2.9, trend=None)
    short.diagnosis.trend_in_errors = None
    assert verdict_rule.outcome(short.diagnosis, 1.5, 4.5, 3.0, 0.15) == training.WITHIN_NOISE


def test_separated_rises_put_the_band_around_the_gap():
    runs = [_run(NONE, 0.7), _run(NONE, 1.6), _run(OVER, 4.9), _run(OVER, 12.0)]
    assert verdict_rule.choose(runs) == (3.0, 3.5, 3.5)  # 1.6 + 1 and 4.9 - 1, inwards
    assert verdict_rule.count(runs, (3.0, 3.5, 3.5, 0.15))["as labelled"] == 4


def test_a_small_rise_on_a_noisy_curve_is_within_the_noise_not_none():
    """No evidence of a rise is no evidence of none: "no overtraining" needs a curve whose
    scatter is small against its fall; the quiet bound is the largest of the runs that
    must not overtrain, rounded down to 0.01: no curve noisier than those is called quiet."""
    quiet, noisy = _run(OVER, 0.7, noise_ratio=0.05), _run(OVER, 0.7, noise_ratio=0.34)
    falling_noisy = _run(OVER, 0.0, still_falling=True, noise_ratio=0.21)
    bounds = (1.5, 4.5, 3.0, 0.15)
    assert verdict_rule.count([quiet], bounds)["opposite"] == 1
    assert verdict_rule.count([noisy, falling_noisy], bounds)["within the noise"] == 2
    runs = [_run(NONE, 0.3, noise_ratio=0.103), _run(NONE, 0.2, noise_ratio=0.05),
            _run(OVER, 9.0, noise_ratio=0.8)]  # the overtraining run's ratio does not count
    assert verdict_rule.choose_quiet(runs) == 0.10  # 0.103, down to 0.01: not widened
    assert verdict_rule.choose_quiet(runs[1:]) == 0.05


def test_one_run_s_scatter_is_uncertain_by_about_forty_per_cent():
    """The simulated uncertainty of the scatter on 15 epochs of noise: a median absolute
    deviation of 10 second differences.  (Large: that is why one run is one draw.)"""
    assert 0.3 < verdict_rule.scatter_uncertainty() < 0.55
    # more epochs, a surer scatter
    assert verdict_rule.scatter_uncertainty(epochs=60) < verdict_rule.scatter_uncertainty()


def test_runs_that_are_study_runs_or_were_seen_are_no_check():
    def stored(curve, date):
        return SimpleNamespace(curve=curve, date=date)
    tuning = [stored((0.3, 0.2), "")]
    checking = [stored((0.3, 0.2), "2026-12-08 10:00"), stored((0.4, 0.3), "2026-01-01 00:00"),
                stored((0.5, 0.4), "2026-12-08 10:00")]
    same, seen, unseen = verdict_rule.split_check(tuning, checking)
    assert (same, seen, unseen) == ([checking[0]], [checking[1]], [checking[2]])


def test_the_study_labels_follow_the_lecture_exercise():
    assert verdict_rule.study_label(128, 0.0) == verdict_rule.study_label(2048, 0.0) == OVER
    assert verdict_rule.study_label(16, 0.0) == verdict_rule.study_label(128, 0.2) == NONE
    assert verdict_rule.study_label(64, 0.0) is verdict_rule.study_label(128, 0.1) is None


def test_the_bounds_in_the_code_are_the_study_s_and_rule_md_counts_the_check(capsys):
    """On the committed runs: dnnkit/training.py's bounds are the ones the study's runs give,
    and results/RULE.md (which counts the lecture-setting runs' verdicts, opposite ones
    included) is what the stored runs give today."""
    assert verdict_rule.main(["--check"]) == 0, capsys.readouterr().out
