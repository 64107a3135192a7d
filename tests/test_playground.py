"""Tests of playground.py: its controls, its exported Keras code, its presets, its command line.

The playground runs in this process (``tests/test_scripts.run_script``) on
the Agg backend without a window: headless it trains ``--epochs`` epochs and
saves its figure, and leaves behind its widgets and state.  The tests then
work its controls as a user would, through matplotlib's public API: a click
on a button is a ``MouseEvent`` pressed and released over it and handed to
``canvas.callbacks.process``; sliders, radio buttons and check boxes are
moved with their public ``set_val`` and ``set_active``.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from test_scripts import run_script

ROOT = Path(__file__).resolve().parent.parent
#: A small, quick playground: the default 2 x 8 network on 100 points.
SMALL = ["--epochs", "2", "--points", "100"]


def click(playground, button):
    """Press and release the mouse over ``button``, as a user's click does."""
    from matplotlib.backend_bases import MouseEvent

    canvas = playground["fig"].canvas
    x, y = button.ax.transAxes.transform((0.5, 0.5))
    for name in ("button_press_event", "button_release_event"):
        canvas.callbacks.process(name, MouseEvent(name, canvas, x, y, button=1))


def hidden_units(model):
    return [layer.units for layer in model.layers if layer.name.startswith("hidden_")
            and hasattr(layer, "units")]


@pytest.fixture
def playground(tmp_path, monkeypatch, capsys):
    namespace = run_script("playground", SMALL, tmp_path, monkeypatch)
    capsys.readouterr()
    return namespace


def test_buttons_step_play_reset(playground, capsys):
    state = playground["state"]
    assert state.epoch == 2 and len(state.history["loss"]) == 2
    click(playground, playground["step_button"])
    assert state.epoch == 3 and len(state.history["val_loss"]) == 3
    # Play starts the timer; each tick of it trains one epoch, until Pause.
    click(playground, playground["play_button"])
    assert state.playing and playground["play_button"].label.get_text() == "Pause"
    for function, args, kwargs in playground["timer"].callbacks:
        function(*args, **kwargs)
    assert state.epoch == 4
    click(playground, playground["play_button"])
    assert not state.playing and playground["play_button"].label.get_text() == "Play"
    for function, args, kwargs in playground["timer"].callbacks:
        function(*args, **kwargs)
    assert state.epoch == 4
    # Reset: new initial weights from the next seed, epoch 0.
    weights = state.model.get_weights()[0].copy()
    click(playground, playground["reset_button"])
    assert state.epoch == 0 and state.history == {} and state.weight_seed == 43
    assert not np.allclose(weights, state.model.get_weights()[0])
    assert "Reset: new initial weights (seed 43), epoch 0." in capsys.readouterr().out
    assert "Epoch 0" in playground["status_text"].get_text()


def test_every_control_rebuilds_the_network(playground, capsys):
    state, sliders = playground["state"], playground["sliders"]

    def rebuilt():
        """The one line a change prints, and the new network starts at epoch 0."""
        lines = [line for line in capsys.readouterr().out.splitlines()
                 if line.startswith("Rebuilt the network")]
        assert len(lines) == 1 and state.epoch == 0, lines
        return lines[0]

    playground["step"]()
    sliders["layers"].set_val(3)
    assert "hidden layers [8, 8, 8]" in rebuilt()
    assert hidden_units(state.model) == [8, 8, 8]
    sliders["nodes_1"].set_val(5)
    rebuilt()
    assert hidden_units(state.model) == [8, 5, 8]
    sliders["nodes_3"].set_val(7)  # layer 4 is not in the network: nothing to rebuild
    assert hidden_units(state.model) == [8, 5, 8]
    playground["activation_radio"].set_active(4)  # leaky ReLU: a layer of its own
    rebuilt()
    leaky = [layer for layer in state.model.layers if "leaky" in layer.name]
    assert len(leaky) == 3
    activation = leaky[0](np.array([[-1.0, 2.0]], dtype="float32")).numpy()
    np.testing.assert_allclose(activation, [[-0.01, 2.0]], rtol=1e-6)
    playground["activation_radio"].set_active(5)
    rebuilt()
    assert state.model.layers[0].get_config()["activation"] in ("swish", "silu")
    sliders["dropout"].set_val(0.25)
    rebuilt()
    assert [layer.rate for layer in state.model.layers if hasattr(layer, "rate")] == [0.25] * 3
    sliders["l2"].set_val(3)
    rebuilt()
    assert sliders["l2"].valtext.get_text() == "0.001"
    assert all(layer.kernel_regularizer is not None for layer in state.model.layers
               if hasattr(layer, "kernel_regularizer"))
    sliders["learning_rate"].set_val(5)
    rebuilt()
    assert float(np.asarray(state.model.optimizer.learning_rate)) == pytest.approx(0.1)
    sliders["batch_size"].set_val(7)
    rebuilt()
    assert [len(y) for _, y in state.train_batches][:2] == [7, 7]
    playground["feature_checks"].set_active(4)  # x1·x2
    rebuilt()
    assert state.settings["features"] == ["x1", "x2", "x1x2"]
    assert state.model.inputs[0].shape[-1] == 3
    # The data: the data set, the noise and the number of points.
    playground["dataset_radio"].set_active(3)
    assert "spiral" in rebuilt()
    sliders["points"].set_val(200)
    rebuilt()
    assert len(state.points["x"]) == 200 and len(playground["scatters"]["test"].get_offsets()) == 40
    spread = state.points["x"].std()
    sliders["noise"].set_val(1.0)
    rebuilt()
    assert state.points["x"].std() > spread
    # One hidden layer of at most 8 nodes: each node's map is shown, else none.
    sliders["layers"].set_val(1)
    rebuilt()
    assert state.node_model is not None
    assert sum(ax.get_visible() for ax in playground["node_axes"]) == 8
    sliders["nodes_0"].set_val(4)
    rebuilt()
    assert sum(ax.get_visible() for ax in playground["node_axes"]) == 4
    image = playground["node_images"][0].get_array()
    assert image.shape == (60, 60) and np.ptp(image) > 0
    sliders["nodes_0"].set_val(12)
    rebuilt()
    assert state.node_model is None and not any(ax.get_visible() for ax in playground["node_axes"])


def test_preset_button_sets_every_control(playground, capsys):
    click(playground, playground["preset_button"])  # the first preset: the two Gaussians
    state, sliders = playground["state"], playground["sliders"]
    assert state.preset == "gaussians" and state.settings["layers"] == 0
    assert sliders["layers"].val == 0 and sliders["points"].val == state.settings["points"]
    assert hidden_units(state.model) == []
    output = capsys.readouterr().out
    assert output.count("Rebuilt the network") == 1 and "Preset gaussians:" in output
    click(playground, playground["preset_button"])
    assert state.preset == "xor" and playground["dataset_radio"].value_selected == "xor"
    assert playground["activation_radio"].value_selected == "tanh"
    assert hidden_units(state.model) == [8]


def test_exported_code_trains_to_the_same_accuracy(tmp_path, monkeypatch, capsys):
    """The Code button's Keras code, run alone, reaches the playground's accuracy."""
    playground = run_script("playground", ["--dataset", "circle", "--points", "1000",
                                           "--batch-size", "50", "--learning-rate", "0.03",
                                           "--epochs", "15"], tmp_path, monkeypatch)
    click(playground, playground["code_button"])
    path = tmp_path / "playground_network.py"
    code = path.read_text(encoding="utf-8")
    assert code in capsys.readouterr().out
    assert "keras.layers.Dense(8, activation=\"relu\")" in code and "epochs=15" in code
    assert "from dnnkit.toydata import make_data" in code and "import playground" not in code
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    completed = subprocess.run([sys.executable, str(path)], cwd=ROOT, env=environment,
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    exported = float(re.search(r"^Test accuracy: (\d\.\d+)$", completed.stdout, re.M).group(1))
    assert exported == pytest.approx(playground["state"].test_accuracy, abs=0.02)
    # A second click does not overwrite the first file.
    click(playground, playground["code_button"])
    assert path.read_text(encoding="utf-8") == code
    assert (tmp_path / "playground_network_2.py").exists()


@pytest.mark.parametrize("preset", ["gaussians", "xor", "spiral", "overtraining"])
def test_preset_reaches_what_its_description_promises(preset, tmp_path, monkeypatch, capsys):
    playground = run_script("playground", ["--preset", preset], tmp_path, monkeypatch)
    output = capsys.readouterr().out
    state, sliders = playground["state"], playground["sliders"]
    assert (tmp_path / f"playground_{preset}.png").stat().st_size > 20_000
    assert state.epoch == playground["PRESETS"][preset]["epochs"]
    assert f"Test accuracy: {state.test_accuracy:.4f}" in output
    assert state.diagnosis.verdict in output
    epochs = state.epoch
    if preset == "gaussians":
        assert abs(state.test_accuracy - 0.921) < 0.01
    elif preset == "xor":  # with a hidden layer; then without one
        assert state.test_accuracy > 0.95
        sliders["layers"].set_val(0)
        playground["train_epochs"](epochs)
        assert 0.35 < state.test_accuracy < 0.65
    elif preset == "spiral":  # deep; then one layer
        assert state.test_accuracy > 0.9
        sliders["layers"].set_val(1)
        playground["train_epochs"](epochs)
        assert state.test_accuracy < 0.75
    else:  # overtrains; then Dropout cures it
        assert state.diagnosis.overtraining
        without = state.diagnosis
        sliders["dropout"].set_val(0.2)
        playground["train_epochs"](epochs)
        with_dropout = state.diagnosis
        assert with_dropout.best_val_loss < 0.75 * without.best_val_loss
        assert with_dropout.final_val_loss < 0.5 * without.final_val_loss


def test_without_a_window_it_says_so_and_runs_headless(tmp_path, monkeypatch, capsys):
    import runpy

    monkeypatch.setattr(sys, "argv", ["playground.py", *SMALL, "--outdir", str(tmp_path)])
    runpy.run_path(str(ROOT / "playground.py"), run_name="__main__")
    lines = [line for line in capsys.readouterr().out.splitlines() if "needs a window" in line]
    assert len(lines) == 1 and "--no-show" in lines[0] and "ssh -X" in lines[0]
    assert (tmp_path / "playground.png").exists()


@pytest.mark.parametrize("arguments, message", [
    (["--hidden", "8,40"], "argument --hidden: expected up to 4 numbers of nodes from 1 to 32"),
    (["--hidden", "1,1,1,1,1"], "argument --hidden: expected up to 4"),
    (["--points", "10"], "argument --points: must be from 50 to 5000, got 10"),
    (["--features", "x3"], "argument --features: expected some of x1,x2"),
    (["--preset", "moon"], "argument --preset: invalid choice: 'moon'"),
    (["--learning-rate", "0.02"], "argument --learning-rate: invalid choice: 0.02"),
])
def test_bad_options_give_one_line_and_exit_code_2(arguments, message, tmp_path):
    completed = subprocess.run([sys.executable, "playground.py", *arguments, "--no-show",
                                "--outdir", str(tmp_path)], cwd=ROOT, capture_output=True,
                               text=True, timeout=60)
    assert completed.returncode == 2
    assert message in completed.stderr.strip().splitlines()[-1], completed.stderr
    assert "Traceback" not in completed.stderr
