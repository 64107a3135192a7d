"""Tests of playground.py and its window (dnnkit/playground.py).

The playground runs in this process (``tests/test_scripts.run_script``) on
the Agg backend without a window: headless it trains ``--epochs`` epochs and
saves its figure, and leaves behind its window object, ``playground``.  The
tests then work its controls as a user would, through matplotlib's public
API: a click is a ``MouseEvent`` pressed (and released) at a place of the
canvas and handed to ``canvas.callbacks.process``; sliders, radio buttons and
check boxes are moved with their public ``set_val`` and ``set_active``; a
tick of the animation's timer is a call of the timer's ``callbacks``, as the
timer of a window makes it.

The smoke tier (``python -m pytest``) keeps to a small network on 100
points; the full tier (``--full``) runs the exported code of every option in
a fresh process and trains the presets over several seeds.
"""

import contextlib
import dataclasses
import io
import json
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dnnkit import toydata, training
from dnnkit.errors import UserError
from test_scripts import run_script

ROOT = Path(__file__).resolve().parent.parent
#: A small, quick playground: the default 2 x 8 network on 100 points.
SMALL = ["--epochs", "2", "--points", "100"]
DIVERGED = "training diverged: lower the learning rate"


def click(playground, x, y, button=1):
    """Press and release mouse ``button`` at display point ``(x, y)``, as a user's click does."""
    from matplotlib.backend_bases import MouseEvent

    canvas = playground.fig.canvas
    for name in ("button_press_event", "button_release_event"):
        canvas.callbacks.process(name, MouseEvent(name, canvas, x, y, button=button))


def press(playground, name):
    """Click the button called ``name`` (play, step, reset, preset, code, clear, save)."""
    x, y = playground.buttons[name].ax.transAxes.transform((0.5, 0.5))
    click(playground, x, y)


def click_map(playground, x1, x2, button=1):
    """Click on the map at the point ``(x1, x2)``."""
    x, y = playground.map_axes.transData.transform((x1, x2))
    click(playground, x, y, button)


def tick(playground):
    """One tick of the animation's timer, as the window's timer makes it: one frame."""
    for function, args, kwargs in playground.animation.event_source.callbacks:
        function(*args, **kwargs)


def in_order(x, y):
    """The points and their classes as rows, sorted: the same set in any order compares equal."""
    table = np.column_stack([x, y])
    return table[np.lexsort(table.T[::-1])]


def hidden_units(model):
    return [layer.units for layer in model.layers if layer.name.startswith("hidden_")
            and hasattr(layer, "units")]


def pixels(canvas, ax):
    """The RGB pixels of the canvas inside ``ax``."""
    image = np.asarray(canvas.buffer_rgba())[:, :, :3].astype(int)
    x0, y0, x1, y1 = (int(round(value)) for value in ax.bbox.extents)
    height = image.shape[0]
    return image[height - y1:height - y0, x0:x1]


def row_left_of_label(canvas, widget, index):
    """The pixels of the row of ``widget``'s label ``index``, left of the label (its mark)."""
    ax, label = widget.ax, widget.labels[index]
    image = np.asarray(canvas.buffer_rgba())[:, :, :3].astype(int)
    label_x, label_y = ax.transAxes.transform(label.get_position())
    left = int(ax.bbox.x0) + 2
    row = image.shape[0] - int(round(label_y))
    return image[row - 4:row + 5, left:int(label_x) - 1]


def blue(region):
    """How many pixels of ``region`` are the radio buttons' mark colour (blue)."""
    return int(np.sum((region[..., 2] > 180) & (region[..., 0] < 90) & (region[..., 1] < 90)))


def dark(region):
    return int(np.sum(region.sum(axis=-1) < 250))


@pytest.fixture(scope="module")
def script(tmp_path_factory):
    """playground.py run once for the module on SMALL: its globals, its output and its
    figures' folder.  Without --no-show, as a student runs it: under Agg it has no window,
    says so and trains headless."""
    outdir = tmp_path_factory.mktemp("playground")
    output = io.StringIO()  # capsys is for one test only: the output is caught here
    with pytest.MonkeyPatch.context() as monkeypatch, contextlib.redirect_stdout(output):
        monkeypatch.setattr(sys, "argv", ["playground.py", *SMALL, "--outdir", str(outdir)])
        namespace = runpy.run_path(str(ROOT / "playground.py"), run_name="__main__")
    assert namespace["playground"].epoch == 2 and "Test accuracy: " in output.getvalue()
    return namespace, output.getvalue(), outdir


@pytest.fixture
def playground(script, tmp_path, capsys):
    """A new window of the script's lesson and settings, trained as the script trains it
    headless (2 epochs) and brought up to date: every test starts from the same state,
    without running the whole script again."""
    namespace = script[0]
    window = namespace["Playground"](namespace["lesson"], namespace["settings"],
                                     seed=namespace["args"].seed, outdir=tmp_path, epochs=2)
    window.train(2)
    window.final_figure()
    capsys.readouterr()
    return window


def test_buttons_step_play_pause_reset(playground, capsys):
    assert playground.epoch == 2 and len(playground.history["loss"]) == 2
    press(playground, "step")
    assert playground.epoch == 3 and len(playground.history["val_loss"]) == 3
    # Play starts the animation; each tick of its timer trains one epoch, until Pause.
    press(playground, "play")
    assert playground.playing and playground.buttons["play"].label.get_text() == "Pause"
    tick(playground)
    tick(playground)
    assert playground.epoch == 5
    assert playground.status_text.get_text().startswith("Epoch 5")
    press(playground, "play")
    assert not playground.playing and playground.buttons["play"].label.get_text() == "Play"
    tick(playground)  # a late tick of the timer trains nothing
    assert playground.epoch == 5
    # Paused, nothing is animated: a full drawing of the figure shows everything.
    assert not any(artist.get_animated() for artist in playground.animated_artists())
    press(playground, "play")
    tick(playground)
    assert playground.epoch == 6
    press(playground, "play")
    # Reset: new initial weights from the next seed, the same points, epoch 0.
    weights, points = playground.model.get_weights()[0].copy(), playground.x.copy()
    press(playground, "reset")
    assert playground.epoch == 0 and playground.history == {} and playground.weight_seed == 43
    assert not np.allclose(weights, playground.model.get_weights()[0])
    np.testing.assert_array_equal(points, playground.x)
    assert "Reset: new initial weights (seed 43), epoch 0." in capsys.readouterr().out
    assert "Epoch 0" in playground.status_text.get_text()


@pytest.mark.full  # pixel by pixel (11 s); smoke tier: test_buttons_step_play_pause_reset
def test_a_frame_drawn_while_playing_keeps_every_mark_slider_and_text(playground):
    """A frame redraws the map, the curves and the texts, and leaves the controls as a full
    drawing shows them: the selected radio buttons and the ticked boxes keep their marks
    (a background of the whole figure, kept without the marks, would wipe them)."""
    canvas = playground.fig.canvas
    playground.activation_radio.set_active(2)  # tanh
    playground.feature_checks.set_active(4)  # x1·x2
    playground.sliders["dropout"].set_val(0.1)
    canvas.draw()  # paused: the whole figure, every artist in it
    controls = [playground.dataset_radio.ax, playground.activation_radio.ax,
                playground.feature_checks.ax, playground.click_radio.ax,
                *(slider.ax for slider in playground.sliders.values())]
    paused = [pixels(canvas, ax) for ax in controls]
    press(playground, "play")
    map_before = pixels(canvas, playground.map_axes)
    for _ in range(3):
        tick(playground)
    assert playground.epoch == 3 and playground.playing
    # The frame drew the new map and texts ...
    assert not np.array_equal(map_before, pixels(canvas, playground.map_axes))
    assert playground.status_text.get_text().startswith("Epoch 3")
    # ... and every control is as the full drawing showed it, marks and values included.
    for ax, before in zip(controls, paused):
        np.testing.assert_array_equal(pixels(canvas, ax), before)
    for radio, selected in ((playground.dataset_radio, 0), (playground.activation_radio, 2),
                            (playground.click_radio, 0)):
        marks = [blue(row_left_of_label(canvas, radio, index))
                 for index in range(len(radio.labels))]
        assert marks[selected] > 5 and sum(marks) == marks[selected], marks
    checks = playground.feature_checks
    darkness = [dark(row_left_of_label(canvas, checks, index)) for index in range(len(checks.labels))]
    ticked = [index for index, status in enumerate(checks.get_status()) if status]
    assert ticked == [0, 1, 4]
    assert min(darkness[index] for index in ticked) > max(
        darkness[index] for index in range(len(darkness)) if index not in ticked), darkness


def rebuilt(playground, capsys):
    """The one line a change prints, and the new network starts at epoch 0."""
    lines = [line for line in capsys.readouterr().out.splitlines()
             if line.startswith("Rebuilt the network")]
    assert len(lines) == 1 and playground.epoch == 0, lines
    return lines[0]


def test_every_control_rebuilds_the_network(playground, capsys):
    """The network's shape and the data (the full tier: the other controls, below).  A
    control does not draw itself: its handler draws the whole figure once (matplotlib's
    radio and check buttons would draw it first, at once), also where nothing is rebuilt."""
    sliders = playground.sliders
    draws = []
    playground.fig.canvas.mpl_connect("draw_event", lambda event: draws.append(event))
    playground.on_step()
    draws.clear()
    sliders["layers"].set_val(3)
    assert len(draws) == 1
    assert "hidden layers [8, 8, 8]" in rebuilt(playground, capsys)
    assert hidden_units(playground.model) == [8, 8, 8]
    sliders["nodes_1"].set_val(5)
    rebuilt(playground, capsys)
    assert hidden_units(playground.model) == [8, 5, 8]
    draws.clear()
    sliders["nodes_3"].set_val(7)  # layer 4 is not in the network: nothing to rebuild
    assert hidden_units(playground.model) == [8, 5, 8] and len(draws) == 1
    draws.clear()
    playground.activation_radio.set_active(4)  # leaky ReLU: a layer of its own
    rebuilt(playground, capsys)
    assert len(draws) == 1
    leaky = [layer for layer in playground.model.layers if "leaky" in layer.name]
    assert len(leaky) == 3
    activation = leaky[0](np.array([[-1.0, 2.0]], dtype="float32")).numpy()
    np.testing.assert_allclose(activation, [[-0.01, 2.0]], rtol=1e-6)
    sliders["dropout"].set_val(0.25)
    rebuilt(playground, capsys)
    assert [layer.rate for layer in playground.model.layers if hasattr(layer, "rate")] == [0.25] * 3
    # The data: the data set and the number of points.
    playground.dataset_radio.set_active(3)
    assert "spiral" in rebuilt(playground, capsys)
    sliders["points"].set_val(200)
    rebuilt(playground, capsys)
    assert len(playground.x) == 200 and len(playground.scatters["test"].get_offsets()) == 40


@pytest.mark.full  # 10 more rebuilds; the smoke tier has the test above
def test_every_other_control_rebuilds_the_network(playground, capsys):
    """Swish, L2, the learning rate, the batch size, the input features, the noise, and the
    maps of the nodes of one hidden layer."""
    sliders = playground.sliders
    playground.activation_radio.set_active(5)
    rebuilt(playground, capsys)
    assert playground.model.layers[0].get_config()["activation"] in ("swish", "silu")
    sliders["l2"].set_val(3)
    rebuilt(playground, capsys)
    assert sliders["l2"].valtext.get_text() == "0.001"
    assert all(layer.kernel_regularizer is not None for layer in playground.model.layers
               if hasattr(layer, "kernel_regularizer"))
    sliders["learning_rate"].set_val(5)
    rebuilt(playground, capsys)
    assert float(np.asarray(playground.model.optimizer.learning_rate)) == pytest.approx(0.1)
    sliders["batch_size"].set_val(7)
    rebuilt(playground, capsys)
    assert [len(y) for _, y in playground.batches[0]][:2] == [7, 7]
    playground.feature_checks.set_active(4)  # x1·x2
    rebuilt(playground, capsys)
    assert playground.settings["features"] == ["x1", "x2", "x1x2"]
    assert playground.model.inputs[0].shape[-1] == 3
    # The last feature cannot be unticked: x1 stays.
    for index in (0, 1, 4):
        playground.feature_checks.set_active(index)
    assert playground.settings["features"] == ["x1"] and playground.feature_checks.get_status()[0]
    capsys.readouterr()
    spread = playground.x.std()
    sliders["noise"].set_val(1.0)
    rebuilt(playground, capsys)
    assert playground.x.std() > spread
    # One hidden layer of at most 8 nodes: each node's map is shown, else none.
    sliders["layers"].set_val(1)
    rebuilt(playground, capsys)
    assert playground.node_model is not None
    titled = [ax.get_title() for ax in playground.node_axes]
    assert titled == [f"node {index}" for index in range(1, 9)]
    sliders["nodes_0"].set_val(4)
    rebuilt(playground, capsys)
    assert [bool(ax.get_title()) for ax in playground.node_axes] == [True] * 4 + [False] * 4
    image = playground.node_images[0].get_array()
    assert image.shape == (60, 60) and np.ptp(image) > 0
    sliders["nodes_0"].set_val(12)
    rebuilt(playground, capsys)
    assert playground.node_model is None and not any(ax.get_title() for ax in playground.node_axes)


def test_preset_button_sets_every_control_and_rebuilds_once(playground, capsys):
    press(playground, "preset")  # the first preset: the two Gaussians
    assert playground.preset == "gaussians" and playground.settings["layers"] == 0
    assert playground.sliders["layers"].val == 0
    assert playground.sliders["points"].val == playground.settings["points"] == 5000
    assert hidden_units(playground.model) == []
    output = capsys.readouterr().out
    assert output.count("Rebuilt the network") == 1 and "Preset gaussians:" in output
    press(playground, "preset")
    assert playground.preset == "xor" and playground.dataset_radio.value_selected == "xor"
    assert playground.activation_radio.value_selected == "tanh"
    assert playground.sliders["learning_rate"].valtext.get_text() == "0.03"
    assert hidden_units(playground.model) == [8]
    assert capsys.readouterr().out.count("Rebuilt the network") == 1


def test_clicks_add_erase_save_and_clear_points(playground):
    count = len(playground.y)
    click_map(playground, 3.0, -3.0, button=3)  # right: class 1, starting from the points shown
    assert playground.dataset_radio.value_selected == "your points"
    assert playground.settings["dataset"] == "your points" and len(playground.y) == count + 1
    playground.click_radio.set_active(0)  # class 0
    click_map(playground, -3.0, 3.0)
    assert len(playground.own_y) == count + 2
    added = {(round(float(a), 1), round(float(b), 1), int(c))
             for (a, b), c in zip(playground.own_x, playground.own_y)}
    assert {(3.0, -3.0, 1), (-3.0, 3.0, 0)} <= added
    playground.click_radio.set_active(2)  # erase
    click_map(playground, 3.1, -2.9)
    assert len(playground.own_y) == count + 1
    assert not np.any(np.hypot(*(playground.own_x - [3.0, -3.0]).T) < 0.05)
    # Save points (CSV): the file reads back as the window's points, float32 for float32
    # (the full tier gives the file to the script with --data).
    path = playground.save_points()
    assert path.read_text(encoding="utf-8").startswith("x1,x2,label\n")
    x, y = toydata.load_points(path)
    np.testing.assert_array_equal(in_order(x, y), in_order(playground.x, playground.y))
    # Clear: no points, nothing to train on, and it says so.
    press(playground, "clear")
    assert len(playground.y) == 0 and playground.batches is None
    epoch = playground.epoch
    press(playground, "step")
    assert playground.epoch == epoch and "at least 10" in playground.description_text.get_text()


@pytest.mark.full  # 12 clicks and 30 epochs; the smoke tier has the clicks above
def test_the_network_learns_twelve_clicked_points(playground):
    """Twelve points of two classes, clicked: split 7:2:3, and the network learns them."""
    press(playground, "clear")
    playground.click_radio.set_active(0)
    for x2 in range(-3, 3):
        click_map(playground, -2.5, x2)
        click_map(playground, 2.5, x2 + 0.5, button=3)
    assert len(playground.y) == 12 and playground.y.sum() == 6
    assert [len(playground.y[playground.parts[part]]) for part in ("train", "validation", "test")] \
        == [7, 2, 3]
    assert sum(len(y) for _, y in playground.batches[0]) == 7
    playground.sliders["learning_rate"].set_val(5)  # 0.1: a rebuilt network, on your points
    assert playground.own and len(playground.y) == 12
    playground.train(30)
    assert playground.history["loss"][-1] < 0.5 * playground.history["loss"][0]
    assert playground.test_accuracy == 1.0


@pytest.mark.full  # runs the script again; smoke tier: test_clicks_add_erase_save_and_clear_points
def test_saved_points_come_back_with_data(playground, tmp_path, monkeypatch, capsys):
    """Save points (CSV), then --data FILE --no-show: the same points, trained on headless."""
    click_map(playground, 4.0, 4.0, button=3)
    path = playground.save_points()
    assert path.read_text(encoding="utf-8").startswith("x1,x2,label\n")
    capsys.readouterr()
    again = run_script("playground", ["--data", str(path), "--epochs", "2"], tmp_path / "again",
                       monkeypatch)["playground"]
    output = capsys.readouterr().out
    assert f"Your points from {path}: 101 points" in output
    assert "Test accuracy: " in output and "Final training accuracy" in output
    np.testing.assert_array_equal(in_order(again.x, again.y),
                                  in_order(playground.x, playground.y))
    assert again.own and again.dataset_radio.value_selected == "your points"
    assert [len(again.y[again.parts[part]]) for part in ("train", "validation", "test")] \
        == [60, 20, 21]


GOOD_LINES = [f"{index * 0.5 - 3:g},{(index % 3) - 1:g},{index % 2}" for index in range(12)]
#: Points files that cannot be used, and what the error says.
BAD_POINTS = [
    (["x1,x2,label", *GOOD_LINES[:5], "0.5,abc,1", *GOOD_LINES[5:]],
     "line 7: x2 is 'abc', not a finite number"),
    (["x1,x2,label", *GOOD_LINES[:3], "1.5,2.0,2", *GOOD_LINES[3:]],
     "line 5: the label is 2, expected 0 or 1"),
    ([*GOOD_LINES[:4], "1.5,2.0", *GOOD_LINES[4:]], "line 5: expected 3 values x1,x2,label"),
    (["x1,x2,label", *GOOD_LINES[:7]], "has 7 points: at least 10 are needed"),
    (["x1,x2,label", *[line[:-1] + "0" for line in GOOD_LINES]],
     "all 12 points are of class 0: points of both classes 0 and 1 are needed"),
]


@pytest.mark.parametrize("lines, message", BAD_POINTS)
def test_a_points_file_that_cannot_be_used_is_one_error_naming_it(lines, message, tmp_path,
                                                                  monkeypatch, capsys):
    """In this process: the error, before TensorFlow is set up (no device line)."""
    path = tmp_path / "points.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(UserError) as raised:
        run_script("playground", ["--data", str(path)], tmp_path, monkeypatch)
    error = str(raised.value)
    assert error.startswith(str(path)) and message in error and "\n" not in error, error
    assert "Device:" not in capsys.readouterr().out


@pytest.mark.full
@pytest.mark.parametrize("lines, message", BAD_POINTS[:1])  # one: the same path for every file
def test_a_points_file_that_cannot_be_used_gets_one_line_and_exit_code_2(lines, message,
                                                                         tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    completed = subprocess.run([sys.executable, "playground.py", "--data", str(path),
                                "--no-show", "--outdir", str(tmp_path)], cwd=ROOT,
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 2, completed.stderr
    last = completed.stderr.strip().splitlines()[-1]
    assert last.startswith(f"Error: {path}") and message in last, completed.stderr
    assert "Traceback" not in completed.stderr


def test_a_loss_that_is_not_a_number_stops_play_and_says_so(playground):
    playground.model.set_weights([np.full_like(weights, np.nan)
                                  for weights in playground.model.get_weights()])
    press(playground, "play")
    tick(playground)
    assert not playground.playing and playground.diverged
    assert playground.buttons["play"].label.get_text() == "Play"
    assert DIVERGED in playground.description_text.get_text().replace("\n", " ")
    epoch = playground.epoch
    tick(playground)  # a late tick trains nothing
    assert playground.epoch == epoch
    playground.fig.canvas.draw()  # the figure stays usable
    assert np.all(np.isfinite(playground.loss_axes.get_ylim()))
    playground.sliders["learning_rate"].set_val(1)  # a new network trains again
    press(playground, "step")
    assert not playground.diverged and np.isfinite(playground.history["loss"][-1])


def test_a_run_with_spikes_and_no_trend_is_neither_unstable_nor_overtraining(playground,
                                                                           monkeypatch):
    """The spiral in a real window once read "rose 190 % ... unstable": a validation loss
    near zero with spikes and no trend.  Trained here as such a history (the lesson's
    train_epochs gives it), the window's text says neither."""
    rng = np.random.default_rng(0)
    val_loss = list(np.r_[np.geomspace(0.7, 0.03, 40), 0.03 + 0.002 * rng.standard_normal(100)])
    val_loss[120], val_loss[-1] = 0.12, 0.09  # spikes, the last one at the end
    loss = list(np.geomspace(0.7, 0.02, 140))
    monkeypatch.setattr(playground, "lesson", dataclasses.replace(
        playground.lesson, train_epochs=lambda model, batches, start, count: {
            "loss": loss[start:start + count], "val_loss": val_loss[start:start + count],
            "accuracy": [0.99] * count, "val_accuracy": [0.98] * count}))
    playground.sliders["learning_rate"].set_val(0.01)  # a new network, from epoch 0
    playground.train(139)
    press(playground, "step")  # the 140th epoch, and the window brought up to date
    text = playground.description_text.get_text().replace("\n", " ")
    assert playground.epoch == 140
    assert playground.diagnosis.outcome == training.NO_OVERTRAINING, text
    assert "unstable" not in text and "(overtraining)" not in text and "190" not in text
    # The window gives the verdict in short, with the numbers it compared.
    short = playground.diagnosis.summary().replace("\n", " ")
    assert f"Verdict: {short}" in text


@pytest.mark.full  # runs the script again; smoke tier: test_a_loss_that_is_not_a_number_...
def test_a_diverging_run_without_a_window_says_so(tmp_path, monkeypatch, capsys):
    from dnnkit import playground as window

    original = window.Playground.train

    def diverging(self, count=1):  # the weights turned into NaN after the first epochs
        if self.epoch:
            self.model.set_weights([np.full_like(w, np.nan) for w in self.model.get_weights()])
        original(self, count)

    monkeypatch.setattr(window.Playground, "train", diverging)
    run_script("playground", ["--epochs", "10", "--points", "100"], tmp_path, monkeypatch)
    output = capsys.readouterr().out
    assert DIVERGED in output and "Epoch 4:" in output and "Epoch 6:" not in output
    assert (tmp_path / "playground.png").exists()


# ---------------------------------------------------------------------------
# The exported code
# ---------------------------------------------------------------------------
def configuration(layer):
    config = layer.get_config()
    return json.loads(json.dumps([type(layer).__name__, config], default=str))


def assert_exported_code_builds_the_window_s_network(playground, capsys):
    """Save the window's code, run it here as ``python FILE`` runs it (``runpy``, a namespace
    of its own), and compare its network and data with the window's."""
    path = playground.save_code()
    code = path.read_text(encoding="utf-8")
    assert code in capsys.readouterr().out
    assert "import playground" not in code and "epochs=2" in code
    if playground.own:
        assert path.with_name(f"{path.stem}_points.csv").exists()
    exported = runpy.run_path(str(path), run_name="__main__")
    assert "Test accuracy: " in capsys.readouterr().out
    model = exported["model"]
    assert [configuration(layer) for layer in model.layers] == \
        [configuration(layer) for layer in playground.model.layers]
    assert float(np.asarray(model.optimizer.learning_rate)) == \
        pytest.approx(playground.settings["learning_rate"])
    assert model.inputs[0].shape[-1] == len(playground.settings["features"])
    train, test = playground.parts["train"], playground.parts["test"]
    np.testing.assert_allclose(exported["x_train"], playground.inputs[train], rtol=1e-6)
    np.testing.assert_array_equal(exported["y_test"], playground.y[test])
    return path, code


def test_exported_code_builds_the_same_network_on_the_same_points(playground, capsys):
    """The window's code, of the playground's points and then of your points (a click)."""
    path, code = assert_exported_code_builds_the_window_s_network(playground, capsys)
    # A second click does not overwrite the first file.
    assert playground.save_code().name == "playground_network_2.py"
    assert path.read_text(encoding="utf-8") == code
    click_map(playground, 4.0, 4.0, button=3)
    assert playground.own
    assert_exported_code_builds_the_window_s_network(playground, capsys)


#: Every way the code is written, in four runs: the activations linear, sigmoid and swish
#: are written as tanh is (``activation="..."`` of the Dense layer), the learning rate as
#: in the smoke tier's defaults (``Adam(learning_rate=...)``); leaky ReLU is a layer of its
#: own, so it goes with hidden layers, as Dropout and L2 do.
EXPORT_CASES = {
    "no hidden layer": ["--hidden", "0"],
    "four hidden layers, leaky ReLU, Dropout, L2": [
        "--hidden", "3,4,5,6", "--activation", "leaky_relu", "--dropout", "0.3", "--l2", "0.001"],
    "tanh, features": ["--activation", "tanh", "--learning-rate", "0.1",
                       "--features", "x1sq,x2sq,x1x2,sinx1,sinx2"],
    "your points": ["--data"],
}


@pytest.mark.full
@pytest.mark.parametrize("case", EXPORT_CASES)
def test_exported_code_of_every_option_builds_the_same_network(case, tmp_path, monkeypatch,
                                                                capsys):
    """Each option of the command line, in the code (the smoke tier has the defaults and
    clicked points; a fresh process runs the code in the test below)."""
    options = list(EXPORT_CASES[case])
    if options == ["--data"]:
        x, y = toydata.make_data("xor", 60, 0.3, seed=7)
        toydata.save_points(tmp_path / "mine.csv", x, y)
        options = ["--data", str(tmp_path / "mine.csv"), "--epochs", "2"]
    else:
        options += SMALL
    playground = run_script("playground", options, tmp_path, monkeypatch)["playground"]
    assert_exported_code_builds_the_window_s_network(playground, capsys)


@pytest.mark.full
def test_exported_code_trains_to_the_playground_s_accuracy(tmp_path, monkeypatch, capsys):
    playground = run_script("playground", ["--dataset", "circle", "--points", "1000",
                                           "--batch-size", "50", "--learning-rate", "0.03",
                                           "--epochs", "15"], tmp_path, monkeypatch)["playground"]
    path = playground.save_code()
    completed = subprocess.run([sys.executable, str(path)], cwd=ROOT,
                               env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-2000:]
    exported = float(completed.stdout.split("Test accuracy: ")[1].split()[0])
    assert exported == pytest.approx(playground.test_accuracy, abs=0.03)


# ---------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------
def test_without_a_window_it_says_so_and_runs_headless(script):
    _, output, outdir = script
    lines = [line for line in output.splitlines() if "needs a window" in line]
    assert len(lines) == 1 and "--no-show" in lines[0] and "ssh -X" in lines[0]
    assert (outdir / "playground.png").exists()


#: Bad options, and what the one line says.
BAD_OPTIONS = [
    (["--hidden", "8,40"], "argument --hidden: expected up to 4 numbers of nodes from 1 to 32"),
    (["--hidden", "1,1,1,1,1"], "argument --hidden: expected up to 4"),
    (["--points", "10"], "argument --points: must be from 50 to 5000, got 10"),
    (["--features", "x3"], "argument --features: expected some of x1,x2"),
    (["--preset", "moon"], "argument --preset: invalid choice: 'moon'"),
    (["--learning-rate", "0.02"], "argument --learning-rate: invalid choice: 0.02"),
    (["--data", "points.csv", "--dataset", "xor"], "--data gives the points: leave out"),
    (["--data", "no-such-file.csv"], "cannot read the points file no-such-file.csv"),
]


@pytest.mark.parametrize("arguments, message", BAD_OPTIONS)
def test_bad_options_are_one_error_before_tensorflow(arguments, message, tmp_path, monkeypatch,
                                                     capsys):
    """In this process: argparse's exit 2 with its one line, or the error of the points
    file, before TensorFlow is set up (no device line)."""
    try:
        run_script("playground", arguments, tmp_path, monkeypatch)
    except SystemExit as done:
        assert done.code == 2
        error = capsys.readouterr().err.strip().splitlines()[-1]
    except UserError as raised:
        error = str(raised)
    else:
        pytest.fail(f"playground.py {' '.join(arguments)} ran")
    assert message in error, error
    assert "Device:" not in capsys.readouterr().out


@pytest.mark.full
@pytest.mark.parametrize("arguments, message", [BAD_OPTIONS[0], BAD_OPTIONS[-1]])  # argparse's
def test_bad_options_give_one_line_and_exit_code_2(arguments, message, tmp_path):  # and ours
    completed = subprocess.run([sys.executable, "playground.py", *arguments, "--no-show",
                                "--outdir", str(tmp_path)], cwd=ROOT, capture_output=True,
                               text=True, timeout=60)
    assert completed.returncode == 2
    assert message in completed.stderr.strip().splitlines()[-1], completed.stderr
    assert "Traceback" not in completed.stderr


@pytest.mark.full  # a second way to play; smoke tier: test_buttons_step_play_pause_reset
def test_where_the_canvas_cannot_blit_play_draws_everything(playground):
    """ipympl's canvas in a notebook (%matplotlib widget), as matplotlib's web canvases,
    cannot blit: FuncAnimation then draws the whole figure each frame, so nothing may be left
    out of it as "animated" (the map, the curves and the node maps were blank while it
    played; seen in the browser).  Here an Agg canvas that says it cannot blit, as those."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    class CanvasWithoutBlitting(FigureCanvasAgg):
        supports_blit = False

    canvas = CanvasWithoutBlitting(playground.fig)  # the figure's canvas from now on
    assert playground.fig.canvas is canvas
    press(playground, "play")
    tick(playground)
    assert playground.playing and playground.epoch == 3
    assert not any(artist.get_animated() for artist in playground.animated_artists())
    press(playground, "play")
    assert not playground.playing
