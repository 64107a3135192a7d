"""The benchmarks' arithmetic: which epochs count and how the ratio is formed."""

import pytest

from benchmarks import bench_training


def _run(seconds, accuracy, cores=None):
    return {"seconds": seconds, "accuracy": accuracy, "epoch_gflop": 10.0, "tensorflow": "2.x",
            "cores_busy": cores or [1.5] * len(seconds)}


def test_steady_epochs_leave_out_the_first_epoch():
    assert bench_training.steady_epochs([9.0, 4.0, 5.0]) == [4.0, 5.0]
    assert bench_training.steady_epochs([9.0]) == [9.0]  # a single epoch is all there is


def test_summarize_compares_the_epochs_that_ran_back_to_back():
    # Epoch e of the baseline and epoch e of ours ran one after the other:
    # their ratios are 2, 3 and 1.5 (first epochs left out), in the second
    # pair 2 and 2.
    results = {
        "baseline": [_run([30.0, 4.0, 6.0, 12.0], 0.90), _run([30.0, 4.0, 4.0], 0.92)],
        "ours": [_run([30.0, 2.0, 2.0, 8.0], 0.91), _run([30.0, 2.0, 2.0], 0.91)],
    }
    row = bench_training.summarize("mlp", results)
    assert row["ratio"] == pytest.approx(2.0)  # median of 2, 3, 1.5, 2, 2
    assert row["ratio_range"] == pytest.approx((1.5, 3.0))
    assert row["baseline"] == pytest.approx(4.0) and row["ours"] == pytest.approx(2.0)
    assert row["baseline_best"] == pytest.approx(4.0) and row["ours_best"] == pytest.approx(2.0)
    assert row["baseline_accuracy"] == pytest.approx(0.91)
    assert row["baseline_spread"] == pytest.approx(0.02)
    assert row["ours_spread"] == pytest.approx(0.0)


def test_summarize_ratio_is_robust_to_one_slow_pair():
    results = {
        "baseline": [_run([9.0, 4.0, 4.0, 40.0], 0.9, cores=[1.0, 1.9, 1.8, 0.2])],
        "ours": [_run([9.0, 2.0, 2.0, 5.0], 0.9)],  # epoch 4: the machine stalled for both
    }
    row = bench_training.summarize("cnn", results)
    assert row["ratio"] == pytest.approx(2.0)  # median of 2, 2 and 8
    assert row["ratio_range"] == pytest.approx((2.0, 8.0))
    assert row["ratio_of_medians"] == pytest.approx(4.0 / 2.0)
    assert row["baseline_cores"] == pytest.approx(1.8)  # median of the epochs after the first
