"""The benchmarks: which epochs count, how the ratio is formed, which kernels are timed."""

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


def test_cnn_ops_are_the_kernels_of_the_mnist_cnn_step():
    """Each timed kernel computes what it is named for, at the CNN's shapes."""
    from benchmarks import bench_cnn_ops
    from dnnkit import runtime

    tf = runtime.import_tensorflow()
    batch = bench_cnn_ops.BATCH
    expected = {
        "conv 1 forward": (batch, 26, 26, 32),
        "conv 1 filter gradient": (3, 3, 1, 32),
        "ReLU 1 gradient": (batch, 26, 26, 32),
        "max-pool 1 fwd + grad": (batch, 26, 26, 32),
        "conv 2 forward": (batch, 11, 11, 64),
        "conv 2 input gradient": (batch, 13, 13, 32),
        "conv 2 filter gradient": (3, 3, 32, 64),
        "max-pool 2 fwd + grad": (batch, 11, 11, 64),
    }
    kernels = bench_cnn_ops.kernels(tf)
    assert {name: tuple(kernel().shape) for name, kernel in kernels.items()} == expected
    # The convolutions' work: 2 x multiply-adds of the CNN's two Conv2D layers.
    assert bench_cnn_ops.CONV2_GFLOP == pytest.approx(2 * 9 * 32 * 64 * 121 * batch / 1e9)


def test_worker_failed_is_one_line_with_the_last_line_of_output():
    error = bench_training.worker_failed("the ours run of mlp", 1, "Traceback ...\nValueError: x\n")
    assert str(error) == "the ours run of mlp failed (exit code 1): ValueError: x"
    assert str(bench_training.worker_failed("a run", -9, "")).endswith("(exit code -9): no output")
