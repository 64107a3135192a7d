"""The benchmarks: which epochs count, how the ratio is formed, which kernels are timed,
how the paired workers run the scripts and report to the parent."""

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


def test_summarize_counts_the_first_epochs_and_each_side_s_scatter():
    """Issue 31: the ratio with the first epochs (a short run feels XLA's compile), of
    whole runs, and the epoch-to-epoch scatter of each side (std / mean within a run)."""
    results = {
        "baseline": [_run([6.0, 4.0, 4.0, 4.0], 0.9), _run([6.0, 4.0, 5.0, 3.0], 0.9)],
        "ours": [_run([12.0, 2.0, 2.0, 2.0], 0.9), _run([12.0, 2.0, 2.0, 2.0], 0.9)],
    }
    row = bench_training.summarize("mlp", results)
    assert row["ratio"] == pytest.approx(2.0)  # the steady epochs: 2, 2, 2, 2, 2.5, 1.5
    # With the first epochs: 0.5 twice more among the eight ratios; median (2 + 2) / 2.
    assert row["ratio_with_first"] == pytest.approx(2.0)
    assert row["run_ratio"] == pytest.approx(18.0 / 18.0)  # the compile eats the gain
    assert row["ours_scatter"] == pytest.approx(0.0)
    # The baseline's runs: 4, 4, 4 (no scatter) and 4, 5, 3 (std 1 / mean 4); median 0.125.
    assert row["baseline_scatter"] == pytest.approx(0.125)


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


def test_cnn_ops_counts_the_work_of_the_cnn_s_two_convolutions():
    """The convolutions' work: 2 x multiply-adds of the CNN's two Conv2D layers (no
    TensorFlow; the full tier runs the kernels themselves)."""
    from benchmarks import bench_cnn_ops

    assert bench_cnn_ops.CONV2_GFLOP == pytest.approx(
        2 * 9 * 32 * 64 * 121 * bench_cnn_ops.BATCH / 1e9)


@pytest.mark.full  # builds and runs every kernel at the CNN's batch (5 s)
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


def test_worker_failed_is_one_line_with_the_last_line_of_output():
    error = bench_training.worker_failed("the ours run of mlp", 1, "Traceback ...\nValueError: x\n")
    assert str(error) == "the ours run of mlp failed (exit code 1): ValueError: x"
    assert str(bench_training.worker_failed("a run", -9, "")).endswith("(exit code -9): no output")


# -- The paired workers ------------------------------------------------------
def test_worker_environment_chooses_the_path(monkeypatch):
    """The baseline runs with DNN_PLAIN_KERAS=1 and TensorFlow's own kernels; ours without
    DNN_PLAIN_KERAS, even when the benchmark itself was started with it."""
    from types import SimpleNamespace

    monkeypatch.setenv("DNN_PLAIN_KERAS", "1")
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    args = SimpleNamespace(epochs=3, seed=5, max_samples=2000, data_dir="/data")
    baseline_command, baseline = bench_training.worker_command("baseline", "mlp", args)
    ours_command, ours = bench_training.worker_command("ours", "mlp", args)

    assert baseline["DNN_PLAIN_KERAS"] == "1" and "TF_ENABLE_ONEDNN_OPTS" not in baseline
    assert "DNN_PLAIN_KERAS" not in ours and ours["TF_ENABLE_ONEDNN_OPTS"] == "1"
    for command in (baseline_command, ours_command):
        assert command[command.index("--epochs") + 1] == "3"
        assert command[command.index("--max-samples") + 1] == "2000"


def test_before_runs_our_path_in_the_other_checkout(monkeypatch, tmp_path):
    """--before DIR: the baseline's place goes to our path (no DNN_PLAIN_KERAS) with
    DIR's scripts and dnnkit (DNN_BENCH_ROOT); ours stays in this checkout."""
    from types import SimpleNamespace

    monkeypatch.delenv("DNN_PLAIN_KERAS", raising=False)
    args = SimpleNamespace(epochs=3, seed=5, max_samples=None, data_dir=None, before=tmp_path)
    before_command, before = bench_training.worker_command("baseline", "mlp", args)
    ours_command, ours = bench_training.worker_command("ours", "mlp", args)
    assert before_command[before_command.index("--worker") + 1] == "ours"
    assert "DNN_PLAIN_KERAS" not in before and before["DNN_BENCH_ROOT"] == str(tmp_path)
    assert "DNN_BENCH_ROOT" not in ours and "DNN_PLAIN_KERAS" not in ours


def test_the_script_gets_the_benchmark_settings(tmp_path):
    from types import SimpleNamespace

    args = SimpleNamespace(epochs=4, seed=43, max_samples=None, data_dir=None)
    assert bench_training.script_arguments(args, tmp_path) == [
        "--epochs", "4", "--seed", "43", "--no-show", "--outdir", str(tmp_path)]
    args = SimpleNamespace(epochs=1, seed=1, max_samples=500, data_dir="/d")
    assert bench_training.script_arguments(args, tmp_path)[-4:] == [
        "--max-samples", "500", "--data-dir", "/d"]


def test_samples_trained_on_are_what_keras_validation_split_leaves():
    import numpy as np

    assert bench_training.samples_trained_on(np.zeros((60000, 784))) == 54000
    assert bench_training.samples_trained_on(np.zeros((3000, 1))) == 2700
    assert bench_training.samples_trained_on(np.zeros((1999, 1))) == 1799  # floor, as Keras


class Dense:  # stand-ins named as Keras's layers, with the attributes counted
    def __init__(self, inputs, outputs):
        self.kernel = type("Kernel", (), {"shape": (inputs, outputs)})()


class Conv2D:
    def __init__(self, kernel_shape, output_shape):
        self.kernel = type("Kernel", (), {"shape": kernel_shape})()
        self.output = type("Output", (), {"shape": output_shape})()


def test_measurements_come_from_the_scripts_globals():
    from types import SimpleNamespace

    import numpy as np

    model = SimpleNamespace(layers=[Conv2D((3, 3, 1, 32), (None, 26, 26, 32)), Dense(800, 10)],
                            steps_per_execution=32)
    monitor = SimpleNamespace(epoch_seconds=[4.0, 2.0], epoch_spans=[(0.0, 4.0), (5.0, 7.0)],
                              epoch_cpu_seconds=[4.0, 3.0])
    namespace = {"monitor": monitor, "model": model, "test_accuracy": 0.875,
                 "x_train": np.zeros((1000, 28, 28, 1))}
    result = bench_training.measurements(namespace)

    flops = 2 * 3 * 3 * 32 * 26 * 26 + 2 * 800 * 10
    assert result["epoch_gflop"] == pytest.approx(3 * flops * 900 / 1e9)
    assert result["seconds"] == [4.0, 2.0] and result["cores_busy"] == [1.0, 1.5]
    assert result["accuracy"] == 0.875
    assert result["steps_per_execution"] == 32 and result["jit_compile"] is None


_FAKE_WORKER = r'''
import json, sys
print("Device: CPU (no GPU visible)")
print("Model: \"mlp\"  -- a line that merely mentions BENCH-RESULT")
for epoch in (1, 2):
    print(f"Epoch {epoch}/2")
print("Test accuracy: 0.9000")
print("BENCH-RESULT " + json.dumps({"path": sys.argv[1]}), flush=True)
'''


def test_run_pair_passes_over_the_scripts_own_output(tmp_path, monkeypatch):
    """The workers' stdout carries the script's printout too: only the line that starts
    with the benchmark's prefix counts."""
    import sys

    worker = tmp_path / "fake_worker.py"
    worker.write_text(_FAKE_WORKER)
    monkeypatch.setattr(bench_training, "worker_command",
                        lambda path, *args, **kwargs: ([sys.executable, str(worker), path], None))
    pair = bench_training.run_pair("mlp", None, order=("ours", "baseline"))
    assert pair == {"baseline": {"path": "baseline"}, "ours": {"path": "ours"}}


def test_run_pair_reports_a_failed_worker_in_one_line(tmp_path, monkeypatch):
    import sys

    from dnnkit.errors import UserError

    worker = tmp_path / "failing_worker.py"
    worker.write_text("import sys\nprint('Device: CPU')\n"
                      "sys.stderr.write('Error: no data here\\n')\nsys.exit(2)\n")
    monkeypatch.setattr(bench_training, "worker_command",
                        lambda path, *args, **kwargs: ([sys.executable, str(worker)], None))
    with pytest.raises(UserError, match=r"^the (baseline|ours) run of cnn failed "
                                        r"\(exit code 2\): Error: no data here$"):
        bench_training.run_pair("cnn", None, order=("ours", "baseline"))
