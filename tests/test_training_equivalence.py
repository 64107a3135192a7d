"""The speed settings change no result: the scripts' path against plain Keras.

``benchmarks/bench_training.py`` measures the speed of the scripts' own path
(``training.speed_options`` in their ``compile``: ``steps_per_execution=32``,
XLA for the MLP; oneDNN switched on by ``dnnkit.runtime``) against the same
script with ``DNN_PLAIN_KERAS=1`` (Keras's and TensorFlow's defaults).  These
tests make sure that no speed setting silently changes the results: on tiny
runs of the real scripts, both paths train on the same batches in the same
order and reach the same test accuracy, within the 0.3 points the benchmark
allows.
"""

import os
import runpy
from types import SimpleNamespace

import pytest

from benchmarks import bench_training
from dnnkit import compat, runtime, training

# The bar for "the same numbers": 0.3 points of test accuracy.  Both
# paths train on identical batches, so only floating-point round-off differs;
# a broken data path (another split, labels shuffled apart from their images,
# samples dropped) or a changed model costs more than that.
TOLERANCE = 0.003

TINY = ["--epochs", "2", "--max-samples", "3000", "--seed", "7"]


def _run_script(name, monkeypatch, tmp_path, plain):
    """Run ``name.py`` in this process on the tiny settings; return its globals and the
    compile options ``training.speed_options`` gave it."""
    monkeypatch.setenv(runtime.SAME_BATCH_ORDER_VARIABLE, "1")  # both see the same batches
    if plain:
        monkeypatch.setenv(runtime.PLAIN_KERAS_VARIABLE, "1")
    else:
        monkeypatch.delenv(runtime.PLAIN_KERAS_VARIABLE, raising=False)
    given = []
    speed_options = training.speed_options

    def recording_speed_options(*args, **kwargs):
        given.append(speed_options(*args, **kwargs))
        return given[-1]

    monkeypatch.setattr(training, "speed_options", recording_speed_options)  # dnnkit's own
    path = bench_training.ROOT / f"{name}.py"
    outdir = tmp_path / ("plain" if plain else "ours")
    monkeypatch.setattr("sys.argv", [str(path), *TINY, "--no-show", "--outdir", str(outdir)])
    try:
        namespace = runpy.run_path(str(path), run_name="__main__")
    finally:
        monkeypatch.setattr(training, "speed_options", speed_options)
    compat.clear_session()
    assert len(given) == 1, "the script must call training.speed_options() once, in compile"
    return namespace, given[0]


def _small_network_trained(compile_options):
    """A small network with Dropout, trained 3 epochs on fixed, learnable points with
    ``compile_options``; its history."""
    import numpy as np

    keras = compat.keras()
    runtime.set_seed(5)
    x = np.random.default_rng(0).normal(size=(960, 20)).astype("float32")
    y = (x @ np.random.default_rng(1).normal(size=(20, 4))).argmax(axis=1)
    model = keras.Sequential([keras.Input(shape=(20,)),
                              keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dropout(0.3),
                              keras.layers.Dense(4, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  **compile_options)
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.1, verbose=0)
    compat.clear_session()
    return history.history


def test_speed_options_change_no_result_of_a_small_network(monkeypatch):
    """The scripts' speed options against Keras's defaults on a small network with Dropout,
    in this process: the same curves (the full tier runs a model script both ways)."""
    monkeypatch.delenv(runtime.PLAIN_KERAS_VARIABLE, raising=False)
    monkeypatch.setenv(runtime.SAME_BATCH_ORDER_VARIABLE, "1")  # both see the same batches
    options = training.speed_options()
    assert options.get("steps_per_execution") == 32  # the fast path is really in use
    ours, plain = _small_network_trained(options), _small_network_trained({})
    assert ours["accuracy"][-1] > 0.4  # it learns (chance: 0.25)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert ours[key] == pytest.approx(plain[key], abs=TOLERANCE)


@pytest.mark.full  # two runs of a model script (7-12 s); the smoke tier: the small network above
def test_speed_options_change_no_result_in_one_process(monkeypatch, tmp_path):
    """Same process (the same kernels): steps_per_execution changes nothing.

    The model with dropout is the demanding case: its random masks must come
    out the same when 32 steps run per call.  ``DNN_PLAIN_KERAS`` is read when
    the script calls ``training.speed_options()``, so one process can run the
    script both ways (oneDNN's choice, made at import, is the same for both;
    the fresh-process test below covers it).
    """
    plain, plain_options = _run_script("clothingSequentialDropout", monkeypatch, tmp_path,
                                       plain=True)
    ours, our_options = _run_script("clothingSequentialDropout", monkeypatch, tmp_path,
                                    plain=False)

    # The fast path is really in use, and the baseline really is plain Keras.
    assert plain_options == {}
    assert our_options.get("steps_per_execution") == 32
    if bench_training.steps_per_execution(ours["model"]) is not None:  # Keras 2.4 does not show it
        assert bench_training.steps_per_execution(ours["model"]) == 32
        assert bench_training.steps_per_execution(plain["model"]) == 1
    for run in (plain, ours):
        assert len(run["monitor"].epoch_seconds) == 2
        assert len(run["history"].history["accuracy"]) == 2
        assert run["test_accuracy"] > 0.6
    assert ours["test_accuracy"] == pytest.approx(plain["test_accuracy"], abs=TOLERANCE)
    # The same batches: the training curves agree as closely as the test accuracy.
    for key in ("accuracy", "val_accuracy"):
        assert ours["history"].history[key] == pytest.approx(plain["history"].history[key],
                                                             abs=TOLERANCE)


@pytest.mark.full  # a benchmark's worker: it also times matrix products
def test_benchmark_worker_leaves_the_saved_networks_alone(monkeypatch, tmp_path, capsys):
    """The worker trains into a temporary folder, never into models/ (here DNN_MODELS_DIR),
    where the lecture's trained networks wait for --pretrained."""
    lecture_models = tmp_path / "models"
    lecture_models.mkdir()
    monkeypatch.setenv("DNN_MODELS_DIR", str(lecture_models))
    monkeypatch.delenv("DNN_PLAIN_KERAS", raising=False)
    args = SimpleNamespace(worker="ours", models=["MLP_MNIST_digits_tf"], epochs=1, seed=3,
                           max_samples=500, data_dir=None)
    result = bench_training.worker(args)
    assert len(result["seconds"]) == 1
    assert "Saved the trained network in" in capsys.readouterr().out
    assert list(lecture_models.iterdir()) == []


@pytest.mark.full
def test_speed_options_change_no_result_in_fresh_processes():
    """The benchmark's real set-up: plain TensorFlow against ours, one process each.

    Here the kernels differ too (oneDNN switched on for ours on x86-64,
    TensorFlow's default for the baseline; XLA for our MLP where this
    TensorFlow has it), exactly as in ``bench_training.py``: the two processes
    run the MLP script one right after the other.
    """
    args = SimpleNamespace(data_dir=None, max_samples=2000, seed=7, epochs=2)
    pair = bench_training.run_pair("MLP_MNIST_digits_tf", args, order=("ours", "baseline"))
    baseline, ours = pair["baseline"], pair["ours"]

    assert len(baseline["seconds"]) == len(ours["seconds"]) == 2
    # One after the other, in the order asked: never at the same time.
    spans = sorted([*baseline["epoch_spans"], *ours["epoch_spans"]])
    assert all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:]))
    assert [span in ours["epoch_spans"] for span in spans] == [True, True, False, False]
    # Each path is what it claims to be.
    assert baseline["onednn"] == "unset"
    assert ours["onednn"] in ("1", "unset")  # "unset" on ARM, where nothing is switched
    if ours["steps_per_execution"] is not None:  # Keras 3 shows it; Keras 2.4 does not
        assert ours["steps_per_execution"] == 32 and baseline["steps_per_execution"] == 1
    if ours["jit_compile"] is not None:
        assert ours["jit_compile"] and not baseline["jit_compile"]
    assert baseline["accuracy"] > 0.6 and ours["accuracy"] > 0.6
    assert ours["accuracy"] == pytest.approx(baseline["accuracy"], abs=TOLERANCE)
    # 1800 of the 2000 images are trained on (validation_split=0.1).
    flops = 2 * (784 * 512 + 512 * 512 + 512 * 10)
    assert ours["epoch_gflop"] == pytest.approx(baseline["epoch_gflop"])
    assert ours["epoch_gflop"] == pytest.approx(3 * flops * 1800 / 1e9)
    # Cores busy per epoch: CPU time over wall time, between 0 and the machine's cores.
    for run in (baseline, ours):
        assert len(run["cores_busy"]) == 2
        assert all(0 < cores <= (os.cpu_count() or 1) + 0.5 for cores in run["cores_busy"])
