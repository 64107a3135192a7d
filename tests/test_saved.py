"""Trained networks kept on disk (dnnkit.saved, --models-dir, --pretrained) and --live.

The first tests use a tiny model of a few dozen weights; the others run
the model scripts in this process on tiny settings (tests/test_scripts.run_script),
each with its own --models-dir, and one runs a script in a real process for
the exit code of a one-line error.
"""

import argparse
import contextlib
import hashlib
import io
import json
import re
import subprocess
import sys

import numpy as np
import pytest

from dnnkit import lecture, runtime, saved, training
from dnnkit.errors import UserError
from test_scripts import ROOT, run_script

TINY = ["--epochs", "2", "--max-samples", "500", "--batch-size", "64"]


def tiny_model(units=8, keras_layer=None):
    from tensorflow import keras

    layers = [keras.layers.Dense(units, activation="relu"), keras.layers.Dropout(0.2),
              keras.layers.Dense(3, activation="softmax")]
    if keras_layer is not None:
        layers.insert(0, keras_layer)
    model = keras.Sequential([keras.Input(shape=(4,)), *layers], name="tiny")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture(scope="module")
def trained_once(tmp_path_factory):
    """A tiny model trained for 2 epochs and saved as the network of 'tiny.py', once for
    the module: ``(model, history, its folder, x, printed)``."""
    runtime.import_tensorflow()
    runtime.set_seed(1)
    folder = tmp_path_factory.mktemp("tiny")
    args = argparse.Namespace(models_dir=folder, epochs=2, seed=1, max_samples=None,
                              early_stopping=None, outdir=folder, no_show=True,
                              pretrained=False, live=False)
    x = np.random.default_rng(0).random((60, 4), dtype=np.float32)
    y = np.arange(60) % 3
    model, monitor = tiny_model(), training.monitor()
    history = model.fit(x, y, epochs=2, validation_split=0.1, verbose=0, callbacks=[monitor])
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        saved.save(model, history, "tiny", args, monitor, train_accuracy=np.float32(0.75))
    return model, history, folder, x, printed.getvalue()


@pytest.fixture
def trained(trained_once, tmp_path):
    """``(model, history, args, x)``: the saved files of :func:`trained_once` copied into
    ``tmp_path`` (the test's --models-dir, which the test may damage)."""
    model, history, folder, x, _ = trained_once
    for name, content in files_of(folder).items():
        (tmp_path / name).write_bytes(content)
    args = argparse.Namespace(models_dir=tmp_path, epochs=2, seed=1, max_samples=None,
                              early_stopping=None, outdir=tmp_path, no_show=True,
                              pretrained=False, live=False)
    return model, history, args, x


def as_floats(history):
    """``history.history`` with Python floats (Keras 2.4 gives numpy floats, the JSON floats)."""
    return {key: [float(value) for value in values] for key, values in history.history.items()}


def files_of(folder):
    return {path.name: path.read_bytes() for path in folder.iterdir()}


def test_saved_network_comes_back_with_its_history(trained_once, trained, tmp_path, capsys):
    model, history, args, x = trained
    _, _, folder, _, printed = trained_once
    assert f"Saved the trained network in {saved.model_path('tiny', folder)}" in printed
    # Only the model file of this Keras and its record, no temporary files.
    assert sorted(files_of(folder)) == sorted([saved.model_path("tiny", folder).name,
                                               "tiny.json"])
    loaded, info = saved.load_model("tiny", tmp_path)
    assert info["epochs"] == 2 and info["tensorflow"] and info["keras"] and info["date"]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))

    assert info["train_accuracy"] == 0.75  # a plain float in the JSON record
    fresh, monitor = tiny_model(), training.monitor()
    restored, train_accuracy = saved.load_weights(fresh, "tiny", args, monitor)
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))
    assert as_floats(restored) == as_floats(history)
    assert monitor.seconds == info["training_seconds"] > 0
    assert train_accuracy == 0.75
    output = capsys.readouterr().out
    assert re.search(r"^Loaded the trained network from .* for 2 epochs in \d+ s, "
                     r"with TensorFlow \S+ \(Keras \S+\)\.$", output, re.MULTILINE), output
    assert re.search(r"^Stored with the network, not measured now: .*the training accuracy "
                     r"0\.7500\. Measured now: the test images\.$", output, re.MULTILINE), output


def test_a_record_without_the_training_accuracy_still_loads_with_a_note(trained, tmp_path,
                                                                        capsys):
    """A network saved before the record kept its training accuracy: no gap, one note."""
    model, history, args, x = trained
    record = saved.model_path("tiny", tmp_path).with_suffix(".json")
    info = json.loads(record.read_text())
    del info["train_accuracy"]
    record.write_text(json.dumps(info))
    fresh = tiny_model()
    restored, train_accuracy = saved.load_weights(fresh, "tiny", args)
    assert train_accuracy is None and as_floats(restored) == as_floats(history)
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))
    output = capsys.readouterr().out
    assert re.search(r"^Note: .*tiny\.json stores no training accuracy, so no accuracy gap is "
                     r"shown; `python tiny\.py .*` trains a network whose record has it\.$",
                     output, re.MULTILINE), output
    assert "the training time. Measured now: the test images." in output


def test_nothing_saved_names_the_command_that_trains(tmp_path):
    runtime.import_tensorflow()
    with pytest.raises(UserError, match=r"^no trained network of tiny\.py in .*: train one "
                                        r"first with `python tiny\.py --models-dir "):
        saved.load_model("tiny", tmp_path)


def test_a_network_that_does_not_fit_is_refused_and_kept(trained, tmp_path):
    _, _, args, _ = trained
    before = files_of(tmp_path)
    with pytest.raises(UserError, match=r"is not the network tiny\.py builds with the options "
                                        r"given now \(layer 1, Dense: units 8 saved, 9 built\)"):
        saved.load_weights(tiny_model(units=9), "tiny", args)
    with pytest.raises(UserError, match="no trained network of other.py"):
        saved.load_weights(tiny_model(), "other", args)
    # The files of one script copied to another's names: the record says whose it is.
    for name, content in before.items():
        (tmp_path / name.replace("tiny", "other")).write_bytes(content)
    with pytest.raises(UserError, match=r"describes the network of tiny\.py, not of other\.py"):
        saved.load_weights(tiny_model(), "other", args)
    args.max_samples = 100
    with pytest.raises(UserError, match=r"trained on all training images: show it without "
                                        r"--max-samples"):
        saved.load_weights(tiny_model(), "tiny", args)
    assert {name: files_of(tmp_path)[name] for name in before} == before


@pytest.mark.parametrize("damage", ["model", "record", "other_keras", "unreadable"])
def test_damaged_or_foreign_files_give_one_line_and_stay(trained, tmp_path, damage):
    path = saved.model_path("tiny", tmp_path)
    record = path.with_suffix(".json")
    if damage == "model":
        path.write_bytes(path.read_bytes()[:-100])
        expected = "is missing, damaged, or not the network that"
    elif damage == "record":
        record.write_text(record.read_text()[:50])
        expected = "is missing or damaged"
    elif damage == "unreadable":  # its record fits, but Keras cannot read it
        path.write_bytes(b"not a model")
        info = json.loads(record.read_text())
        info["model_sha256"] = hashlib.sha256(b"not a model").hexdigest()
        record.write_text(json.dumps(info))
        expected = r"^this Keras \S+ cannot read .*, saved by TensorFlow"
    else:  # saved by the other Keras: a record that names the other file format
        info = json.loads(record.read_text())
        info.update(model_file="tiny.h5" if path.suffix == ".keras" else "tiny.keras",
                    tensorflow="2.4.4", keras="2.4.0")
        record.write_text(json.dumps(info))
        expected = (r"saved by TensorFlow 2\.4\.4 \(Keras 2\.4\.0\); this Keras \S+ uses only "
                    r"its own tiny\.(keras|h5): train it again")
    before = files_of(tmp_path)
    with pytest.raises(UserError, match=expected) as raised:
        saved.load_model("tiny", tmp_path)
    assert "\n" not in str(raised.value) and "`python tiny.py --models-dir " in str(raised.value)
    assert files_of(tmp_path) == before


def test_an_interrupted_save_keeps_the_previous_network(trained, tmp_path):
    """Ctrl-C while saving (here: raised by a layer while Keras writes the model)."""
    from tensorflow import keras

    _, history, args, _ = trained

    class Interrupting(keras.layers.Layer):
        def get_config(self):
            raise KeyboardInterrupt

    before = files_of(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        saved.save(tiny_model(keras_layer=Interrupting()), history, "tiny", args)
    assert files_of(tmp_path) == before  # the old files whole, no temporary file left


# ---------------------------------------------------------------------------
# The model scripts
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def clothing_trained(tmp_path_factory):
    """clothingSequential.py trained once on TINY for the module, its network saved:
    ``(its globals, its output, its --models-dir, its figures' folder)``.  With the same
    batch order as a second run with the same seed (the --live test compares them)."""
    folder = tmp_path_factory.mktemp("clothing")
    output = io.StringIO()  # capsys is for one test only: the output is caught here
    with pytest.MonkeyPatch.context() as monkeypatch, contextlib.redirect_stdout(output):
        monkeypatch.setenv(runtime.SAME_BATCH_ORDER_VARIABLE, "1")
        namespace = run_script("clothingSequential",
                               [*TINY, "--models-dir", str(folder / "models")],
                               folder / "trained", monkeypatch)
    return namespace, output.getvalue(), folder / "models", folder / "trained"


# Fashion-MNIST's dense network in the smoke tier (the quickest model script, trained once
# for the module); the MNIST MLP (XLA compiles it) and CNN (its test set takes longer) in
# the full tier.
@pytest.mark.parametrize("name", ["clothingSequential",
                                  pytest.param("MLP_MNIST_digits_tf", marks=pytest.mark.full),
                                  pytest.param("CNN_MNIST_digits_tf", marks=pytest.mark.full)])
def test_pretrained_shows_the_saved_training_without_training(name, tmp_path, monkeypatch,
                                                              capsys, request):
    if name == "clothingSequential":
        trained, trained_output, models, trained_figures = \
            request.getfixturevalue("clothing_trained")
    else:
        models, trained_figures = tmp_path / "models", tmp_path / "trained"
        trained = run_script(name, [*TINY, "--models-dir", str(models)], trained_figures,
                             monkeypatch)
        trained_output = capsys.readouterr().out
    assert "Epoch 1/2" in trained_output and "Saved the trained network in" in trained_output
    shown = run_script(name, [*TINY, "--models-dir", str(models), "--pretrained"],
                       tmp_path / "shown", monkeypatch)
    output = capsys.readouterr().out
    # No model.fit: no epoch line, and the training time is the saved one.
    assert "Epoch 1/" not in output and "Saved the trained network" not in output
    assert "Loaded the trained network from" in output
    data_line = re.search(r"^Data: ((Fashion-)?MNIST from .*)$", trained_output,
                          re.MULTILINE).group(1)
    assert f"Its data: {data_line}, a subset of 500 training images" in output
    assert shown["monitor"].seconds == pytest.approx(trained["monitor"].seconds)
    assert as_floats(shown["history"]) == as_floats(trained["history"])
    assert shown["test_accuracy"] == pytest.approx(trained["test_accuracy"], abs=1e-6)
    np.testing.assert_array_equal(shown["predicted"], trained["predicted"])
    # One pass over the test images: the loss and accuracy come from model.predict's
    # probabilities, model.evaluate never runs (Keras builds its test_function on the first).
    assert shown["test_loss"] == pytest.approx(trained["test_loss"], rel=1e-4)
    assert shown["model"].test_function is None and trained["model"].test_function is not None
    # The training accuracy of the gap is the one measured after training, stored.
    assert shown["train_accuracy"] == pytest.approx(trained["train_accuracy"], abs=1e-7)
    assert re.search(r"^Stored with the network, not measured now: the training curves and "
                     r"their verdict, the training time, the training accuracy 0\.\d{4}\. "
                     r"Measured now: the test images\.$", output, re.MULTILINE), output
    for line in ("Test accuracy", "Train/validation gap", "Best epoch", "Training time"):
        assert re.search(f"^{line}: .*$", output, re.MULTILINE).group(0) == \
            re.search(f"^{line}: .*$", trained_output, re.MULTILINE).group(0)
    assert sorted(path.name for path in (tmp_path / "shown").glob("*.png")) == \
        sorted(path.name for path in trained_figures.glob("*.png"))


@pytest.mark.full  # two script runs; smoke: test_a_network_that_does_not_fit_is_refused_and_kept
def test_other_options_or_script_are_refused(tmp_path, monkeypatch, capsys):
    models = tmp_path / "models"
    settings = [*TINY, "--models-dir", str(models)]
    run_script("clothingSequential", [*settings, "--hidden-nodes", "20"], tmp_path, monkeypatch)
    before = files_of(models)
    with pytest.raises(UserError, match=r"layer 1, Dense: units 20 saved, 128 built\): train "
                                        r"it with `python clothingSequential\.py --epochs 2 "):
        run_script("clothingSequential", [*settings, "--pretrained"], tmp_path, monkeypatch)
    for name, content in before.items():  # another script's network under this one's names
        (models / name.replace("clothingSequential", "clothingSequentialDropout")) \
            .write_bytes(content)
    with pytest.raises(UserError, match="describes the network of clothingSequential.py, not of "
                                        "clothingSequentialDropout.py"):
        run_script("clothingSequentialDropout", [*settings, "--pretrained"], tmp_path,
                   monkeypatch)
    assert {name: files_of(models)[name] for name in before} == before


@pytest.mark.parametrize("kept", [None, "record", "keras 3", "keras 2"])
def test_require_saved_looks_at_the_names_only(tmp_path, kept):
    """Before TensorFlow loads: any file of the script's network lets load_model look closer."""
    files = {"record": "tiny.json", "keras 3": "tiny.keras", "keras 2": "tiny.h5"}
    (tmp_path / "other.json").write_text("{}")  # another script's network counts for nothing
    if kept is None:
        with pytest.raises(UserError, match=r"^no trained network of tiny\.py in .*: train one "
                                            r"first with `python tiny\.py --models-dir "):
            saved.require_saved("tiny", tmp_path)
    else:
        (tmp_path / files[kept]).write_bytes(b"")
        saved.require_saved("tiny", tmp_path)


@pytest.mark.parametrize("name", lecture.names("model"))
def test_pretrained_without_a_saved_network_fails_before_tensorflow_is_set_up(
        name, tmp_path, monkeypatch, capsys):
    """In this process: the error comes from the options, before the device line."""
    empty = tmp_path / "empty"
    with pytest.raises(UserError) as raised:
        run_script(name, ["--pretrained", "--models-dir", str(empty)], tmp_path, monkeypatch)
    assert str(raised.value) == (
        f"no trained network of {name}.py in {empty}/ (--models-dir): train one first with "
        f"`python {name}.py --models-dir {empty} --no-show --outdir {tmp_path}`")
    assert "Device:" not in capsys.readouterr().out  # runtime.setup_tensorflow did not run
    assert not empty.exists()  # --pretrained writes nothing


@pytest.mark.full
def test_pretrained_error_is_one_line_and_exit_2(tmp_path):
    """A real process: the exit code and the one line on stderr, no traceback, before
    TensorFlow is set up (no device line)."""
    completed = subprocess.run(
        [sys.executable, str(ROOT / "clothingCNN.py"), "--pretrained", "--no-show",
         "--outdir", str(tmp_path), "--models-dir", str(tmp_path / "empty")],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert completed.returncode == runtime.EXIT_USER_ERROR, completed.stderr
    last = completed.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: no trained network of clothingCNN.py in ") and \
        last.endswith("train one first with `python clothingCNN.py --no-show --outdir "
                      f"{tmp_path} --models-dir {tmp_path / 'empty'}`")
    assert "Traceback" not in completed.stderr and "Device:" not in completed.stdout
    assert not (tmp_path / "empty").exists()  # --pretrained writes nothing


def test_live_curves_redraw_one_figure_and_change_nothing(clothing_trained, tmp_path,
                                                           monkeypatch, capsys):
    """--live in a notebook's inline backend (headless: it draws with Agg).

    Outside a notebook, IPython's display handle prints the figure instead of
    showing it: once when training starts and once per epoch, the same
    figure.  The history is the one a run without --live gives.
    """
    pytest.importorskip("matplotlib_inline")
    from dnnkit import plotting

    plain = clothing_trained[0]  # the same TINY run, without --live
    monkeypatch.setenv(runtime.SAME_BATCH_ORDER_VARIABLE, "1")  # the same batches as plain's
    plt = plotting.pyplot()
    backend = plt.get_backend()
    plt.switch_backend("module://matplotlib_inline.backend_inline")
    try:
        capsys.readouterr()
        live = run_script("clothingSequential", [*TINY, "--live"], tmp_path / "live",
                          monkeypatch)
        output = capsys.readouterr().out
    finally:
        plt.switch_backend(backend)
    assert as_floats(live["history"]) == as_floats(plain["history"])
    assert live["test_accuracy"] == plain["test_accuracy"]
    shown = re.findall(r"^Figure\(\d+x\d+\)$", output, re.MULTILINE)
    assert len(shown) == 1 + 2, output  # at the start, then after each of the 2 epochs


def test_live_without_a_display_says_so_in_one_line(capsys):
    """Under Agg (no window, no notebook) --live adds no callback: one line, and the curves
    are drawn after training as without --live."""
    from dnnkit import live, plotting

    assert plotting.pyplot().get_backend().lower() == "agg"
    assert live.curves(argparse.Namespace(live=True), "title") == []
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("--live: no display here")
    assert "only drawn and saved after training" in lines[0]
    assert live.curves(argparse.Namespace(live=False), "title") == []
    assert capsys.readouterr().out == ""


@pytest.mark.full
@pytest.mark.filterwarnings("ignore:Jupyter is migrating its paths:DeprecationWarning")
def test_live_curves_update_in_place_under_the_notebook_cell(tmp_path):
    """In a real Jupyter kernel (inline backend): one image under the training cell, updated
    after every epoch through its display handle, not one image more per epoch."""
    import asyncio

    import test_notebooks

    nbformat = test_notebooks.jupyter_packages()[0]
    notebook = nbformat.read(str(ROOT / "notebooks" / "clothingSequential.ipynb"), as_version=4)
    arguments = [*TINY, "--live", "--no-show", "--outdir", str(tmp_path / "figures"),
                 "--models-dir", str(tmp_path / "models")]
    kernels = test_notebooks.write_kernel_spec(tmp_path / "kernels")
    outcome = asyncio.run(test_notebooks.execute_all(
        {"live": (notebook, test_notebooks.kernel_environment(arguments))}, kernels))["live"]
    if isinstance(outcome, BaseException):
        raise outcome
    training_cell = next(cell for cell in notebook.cells if cell.cell_type == "code"
                         and "model.fit(" in cell.source)
    assert "Epoch 2/2" in test_notebooks.text_of(training_cell)
    assert "no display" not in test_notebooks.text_of(training_cell)
    assert test_notebooks.png_count(training_cell) == 1
    # The image is the figure after the last epoch (updated), not the empty one of
    # the start: as many pixels of the training loss's colour as in the script's
    # final training-curves figure, a few cells below.
    final_cell = next(cell for cell in notebook.cells if cell.cell_type == "code"
                      and "plot_training_curves(" in cell.source)
    live_pixels, final_pixels = (blue_pixels(cell) for cell in (training_cell, final_cell))
    assert live_pixels > 0.6 * final_pixels, (live_pixels, final_pixels)


def blue_pixels(cell):
    """How many pixels of the cell's image have matplotlib's first colour (the training loss)."""
    import base64
    import io

    import matplotlib.image

    data = next(output for output in cell.outputs if output.output_type == "display_data"
                and "image/png" in output.get("data", {}))["data"]["image/png"]
    image = matplotlib.image.imread(io.BytesIO(base64.b64decode(data)), format="png")
    blue = np.array([0x1F, 0x77, 0xB4]) / 255
    return int((np.abs(image[..., :3] - blue).max(axis=-1) < 0.05).sum())


def test_only_the_model_scripts_get_the_options(tmp_path, monkeypatch):
    monkeypatch.setenv(runtime.MODELS_DIR_VARIABLE, str(tmp_path / "kept"))
    models = runtime.make_parser("A model script.", epochs=3, data=True, models=True)
    args = models.parse_args(["--pretrained", "--live"])
    assert (args.models_dir, args.pretrained, args.live) == (str(tmp_path / "kept"), True, True)
    other = runtime.make_parser("Another training script.", epochs=3, data=True)
    assert not {"models_dir", "pretrained", "live"} & set(vars(other.parse_args([])))


def test_live_figure_is_cleared_and_redrawn_not_added_to():
    """What keeps --live's memory flat (measured in the full tier), on 6 fake epochs of
    benchmarks/bench_demos.py: one figure, which after the last epoch holds what a figure
    drawn once from the whole history holds; none is left open after training."""
    pytest.importorskip("matplotlib_inline")
    from benchmarks import bench_demos
    from dnnkit import plotting

    plt = plotting.pyplot()
    backend = plt.get_backend()
    figures = set()

    def epoch_end(callback, epoch):
        callback.on_epoch_end(epoch, bench_demos.fake_logs(epoch))
        figures.add(id(callback.figure))

    plt.switch_backend("module://matplotlib_inline.backend_inline")
    try:
        callback = bench_demos.live_run(6, epoch_end)
        assert plt.get_fignums() == []
    finally:
        plt.switch_backend(backend)
    assert len(figures) == 1
    history = callback.history
    assert len(history["val_loss"]) == 6
    once = plotting.plot_training_curves(history, diagnosis=training.diagnose(history))

    def artists(figure):
        return [len(ax.get_children()) for ax in figure.axes]

    assert artists(callback.figure) == artists(once)


@pytest.mark.full  # tracemalloc slows every redraw down (about 10 s)
def test_live_memory_does_not_grow_with_the_epochs():
    """In the notebook's inline backend: the memory Python holds after 24 epochs of --live
    is what it held after 2 and 12 (the cleared axes are freed), and no figure stays open
    (benchmarks/bench_demos.py --part live times the redraws)."""
    pytest.importorskip("matplotlib_inline")
    from benchmarks import bench_demos
    from dnnkit import plotting

    plt = plotting.pyplot()
    backend = plt.get_backend()
    plt.switch_backend("module://matplotlib_inline.backend_inline")
    try:
        held = bench_demos.memory_held(24)
    finally:
        plt.switch_backend(backend)
    assert held[24] < 1.2 * held[12] and held[24] < 1.5 * held[2], held
    assert plt.get_fignums() == []
    assert plotting.pyplot().get_backend().lower() == "agg"  # switched back


# ---------------------------------------------------------------------------
# --pretrained --live: the stored history replayed
# ---------------------------------------------------------------------------
def turning_history(epochs=12):
    """A history whose validation loss falls, then rises clearly (overtraining)."""
    epoch = np.arange(epochs)
    return {"loss": list(0.5 / (1 + epoch)), "accuracy": list(1 - 0.1 / (1 + epoch)),
            "val_loss": list(0.4 / (1 + epoch) + 0.01 * epoch + 0.0005 * (-1) ** epoch),
            "val_accuracy": list(0.95 - 0.05 / (1 + epoch))}


def test_replay_grows_the_curves_in_a_notebook_cell_in_the_time_asked(capsys):
    """In the notebook's inline backend (headless, Agg): one figure, updated once per epoch
    through its display handle (outside a notebook the handle prints it), in about
    the time asked; the last frame has all epochs, the best epoch and the verdict."""
    pytest.importorskip("matplotlib_inline")
    import time

    from dnnkit import live, plotting

    history = turning_history()
    plt = plotting.pyplot()
    backend = plt.get_backend()
    plt.switch_backend("module://matplotlib_inline.backend_inline")
    try:
        started = time.perf_counter()
        figure = live.replay(argparse.Namespace(live=True), history, "Curves", "tiny",
                             seconds=1.0)
        seconds = time.perf_counter() - started
    finally:
        plt.switch_backend(backend)
    output = capsys.readouterr().out
    assert "--live: replaying the 12 stored epochs of the saved network" in output
    assert len(re.findall(r"^Figure\(\d+x\d+\)$", output, re.MULTILINE)) == 1 + 12
    assert 1.0 <= seconds < 10, seconds
    ax_loss = figure.axes[0]
    assert [len(line.get_xdata()) for line in ax_loss.lines[:2]] == [12, 12]
    diagnosis = training.diagnose(history)
    assert diagnosis.outcome == training.OVERTRAINING
    assert ax_loss.get_title().endswith(diagnosis.outcome) and ax_loss.title.get_visible()
    assert any(f"epoch {diagnosis.best_epoch})" in line.get_label() for line in ax_loss.lines)
    assert "Curves (replayed: epoch 12 of 12)" in [text.get_text() for text in figure.texts]


def test_a_long_replay_advances_several_epochs_a_frame(capsys):
    pytest.importorskip("matplotlib_inline")
    from dnnkit import live, plotting

    plt = plotting.pyplot()
    backend = plt.get_backend()
    plt.switch_backend("module://matplotlib_inline.backend_inline")
    try:
        figure = live.replay(argparse.Namespace(live=True), turning_history(40), "Curves",
                             "tiny", seconds=0.1)
    finally:
        plt.switch_backend(backend)
    frames = re.findall(r"^Figure\(\d+x\d+\)$", capsys.readouterr().out, re.MULTILINE)
    assert len(frames) == 1 + live.REPLAY_FRAMES
    assert [len(line.get_xdata()) for line in figure.axes[0].lines[:2]] == [40, 40]


def test_replay_without_a_display_saves_the_last_frame(tmp_path, capsys):
    from dnnkit import live

    assert live.replay(argparse.Namespace(live=False), turning_history(), "Curves", "tiny") \
        is None
    figure = live.replay(argparse.Namespace(live=True, outdir=tmp_path), turning_history(),
                         "Curves", "tiny")
    output = capsys.readouterr().out
    assert "--live: no display here" in output and "only drawn at its end" in output
    assert (tmp_path / "tiny_replay.png").read_bytes()[:4] == b"\x89PNG"
    assert [len(line.get_xdata()) for line in figure.axes[0].lines[:2]] == [12, 12]


@pytest.mark.full
def test_pretrained_live_replays_the_saved_history_headless(tmp_path, monkeypatch, capsys):
    models = ["--models-dir", str(tmp_path / "models")]
    trained = run_script("clothingSequential", [*TINY, *models], tmp_path / "train", monkeypatch)
    capsys.readouterr()
    shown = run_script("clothingSequential", [*TINY, *models, "--pretrained", "--live"],
                       tmp_path / "shown", monkeypatch)
    output = capsys.readouterr().out
    assert "only drawn at its end" in output
    assert (tmp_path / "shown" / "clothingSequential_replay.png").exists()
    assert as_floats(shown["history"]) == as_floats(trained["history"])
