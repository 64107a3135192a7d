"""The fast training path gives the same results as plain Keras.

``benchmarks/bench_training.py`` measures the speed of our training path
(``steps_per_execution`` in the scripts' ``compile``, XLA for the MLP, oneDNN
switched on by ``dnnkit.runtime``, ``dnnkit.training.fit`` with its input
pipeline) against plain ``model.fit`` from numpy arrays.  These tests make
sure that no speed trick silently changes the results: on tiny runs, both
paths see the same batches in the same order and reach the same test
accuracy, within the 0.3 points the benchmark allows.
"""

import os
from types import SimpleNamespace

import pytest

from benchmarks import bench_training

# The bar for "the same numbers": 0.3 points of test accuracy.  Both
# paths train on identical batches, so only floating-point round-off differs;
# a broken data path (another split, labels shuffled apart from their images,
# samples dropped) or a changed model costs more than that.
TOLERANCE = 0.003


def _tiny_args(**overrides):
    settings = dict(data_dir=None, no_sample=False, max_samples=3000, seed=7, epochs=2)
    settings.update(overrides)
    return SimpleNamespace(**settings)


def test_fast_path_matches_plain_keras_in_one_process():
    """Same process (same kernels): steps_per_execution and training.fit change nothing.

    The model with dropout is the demanding case: its random masks must come
    out the same when 32 steps run per call.
    """
    import importlib

    script = importlib.import_module("clothingSequentialDropout")
    args = _tiny_args()
    train, test, _ = script.prepare_data(args)
    data = (train, test)

    _, baseline_seconds, baseline_accuracy = bench_training.run_baseline(script, data, args)
    model, our_seconds, our_accuracy = bench_training.run_ours(script, data, args)

    assert len(baseline_seconds) == len(our_seconds) == 2
    assert model.steps_per_execution > 1  # the fast path is really in use
    assert baseline_accuracy > 0.6 and our_accuracy > 0.6
    assert our_accuracy == pytest.approx(baseline_accuracy, abs=TOLERANCE)


def test_fast_path_matches_plain_keras_in_fresh_processes(monkeypatch):
    """The benchmark's real set-up: plain TensorFlow against ours, one process each.

    Here the kernels differ too (oneDNN on for ours on x86-64, TensorFlow's
    default for the baseline; XLA for our MLP), exactly as in ``bench_training.py``:
    the two processes run side by side and take turns, epoch by epoch.
    """
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)  # TensorFlow's default
    args = _tiny_args(max_samples=2000)
    pair = bench_training.run_pair("mlp", args, order=("ours", "baseline"))
    baseline, ours = pair["baseline"], pair["ours"]

    assert len(baseline["seconds"]) == len(ours["seconds"]) == 2
    # Turns: ours, baseline, ours, baseline; never at the same time.
    spans = sorted([*baseline["epoch_spans"], *ours["epoch_spans"]])
    assert all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:]))
    assert [span in ours["epoch_spans"] for span in spans] == [True, False, True, False]
    assert baseline["onednn"] == "unset"
    assert ours["onednn"] in ("1", "unset")  # "unset" on ARM, where nothing is switched
    assert baseline["accuracy"] > 0.6 and ours["accuracy"] > 0.6
    assert ours["accuracy"] == pytest.approx(baseline["accuracy"], abs=TOLERANCE)
    assert ours["epoch_gflop"] == pytest.approx(baseline["epoch_gflop"])
    # Cores busy per epoch: CPU time over wall time, between 0 and the machine's cores.
    for run in (baseline, ours):
        assert len(run["cores_busy"]) == 2
        assert all(0 < cores <= (os.cpu_count() or 1) + 0.5 for cores in run["cores_busy"])
