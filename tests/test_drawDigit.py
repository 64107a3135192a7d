"""drawDigit.py: the drawing pad, its buttons, the MNIST preprocessing and --image.

The pad is tested headless, as a student's mouse would use it: the Agg
backend, matplotlib's public ``MouseEvent`` processed through
``fig.canvas.callbacks``, the Clear button clicked by a press and a release
over it, the pen switched with ``RadioButtons.set_active``.  The networks are
trained once for the whole module, briefly, by the script itself (its
fallback when no network is saved); the tests then load them from a models
folder as the script loads the MNIST scripts' networks.
"""

import argparse
import contextlib
import io
import runpy
import subprocess
import sys

import numpy as np
import pytest

from dnnkit import data
from dnnkit.errors import UserError
from test_scripts import ROOT, run_script

#: The brief training of the fixture: two epochs on the 2000 images of a --max-samples subset.
TRAINING = ["--epochs", "2", "--max-samples", "2000", "--batch-size", "64"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """``(models folder, printed output)``: drawDigit.py run once without saved networks,
    its briefly trained networks then saved there as the MNIST scripts save theirs."""
    from dnnkit import saved

    empty = tmp_path_factory.mktemp("no-models")
    models = tmp_path_factory.mktemp("models")
    output = io.StringIO()
    with pytest.MonkeyPatch.context() as monkeypatch, contextlib.redirect_stdout(output):
        namespace = run_script("drawDigit", [*TRAINING, "--models-dir", str(empty)],
                               tmp_path_factory.mktemp("figures"), monkeypatch)
        options = argparse.Namespace(**{**vars(namespace["args"]), "models_dir": models})
        for name, script in (("MLP", "MLP_MNIST_digits_tf"), ("CNN", "CNN_MNIST_digits_tf")):
            saved.save(namespace["networks"][name], namespace["histories"][name], script,
                       options)
    return models, output.getvalue()


@pytest.fixture(scope="module")
def app(trained, tmp_path_factory):
    """The script's globals after a run without --image: the window, under Agg, run once
    for the module (the tests that draw start from a cleared pad: :func:`empty_pad`).

    Without --no-show (which run_script gives), as a student runs it: under
    Agg no window opens anyway."""
    path = ROOT / "drawDigit.py"
    output = io.StringIO()
    with pytest.MonkeyPatch.context() as monkeypatch, contextlib.redirect_stdout(output):
        monkeypatch.setattr(sys, "argv", [str(path), "--models-dir", str(trained[0]),
                                          "--outdir", str(tmp_path_factory.mktemp("window"))])
        namespace = runpy.run_path(str(path), run_name="__main__")
    namespace["printed"] = output.getvalue()
    return namespace


@pytest.fixture
def empty_pad(app):
    """The shared window with the pen drawing and the pad cleared by its Clear button."""
    app["pen_buttons"].set_active(0)  # "draw"
    click(app, app["clear_button"])


def mouse(namespace, name, x, y, ax=None):
    """The left button pressed, moved or released at (x, y) of ``ax`` (data units; the pad's)."""
    from matplotlib.backend_bases import MouseEvent

    fig = namespace["fig"]
    ax = ax or namespace["pad_ax"]
    pixel_x, pixel_y = ax.transData.transform((x, y))
    fig.canvas.callbacks.process(name, MouseEvent(name, fig.canvas, pixel_x, pixel_y, button=1))


def stroke(namespace, points):
    mouse(namespace, "button_press_event", *points[0])
    for point in points[1:]:
        mouse(namespace, "motion_notify_event", *point)
    mouse(namespace, "button_release_event", *points[-1])


def click(namespace, button):
    """Click a matplotlib Button: press and release in the middle of its axes."""
    for name in ("button_press_event", "button_release_event"):
        mouse(namespace, name, 0.5, 0.5, ax=button.ax)


def bar_heights(namespace):
    return (np.array([bar.get_height() for bar in namespace["mlp_bars"]]),
            np.array([bar.get_height() for bar in namespace["cnn_bars"]]))


#: A "7" on the 280x280 pad: the bar at the top, then the stroke down to the left.
SEVEN = [(80, 60), (120, 60), (160, 60), (200, 60), (170, 126), (140, 192), (110, 258)]


# ---------------------------------------------------------------------------
# The networks
# ---------------------------------------------------------------------------
def test_without_saved_networks_it_says_so_and_trains_both_briefly(trained):
    printed = trained[1]
    assert "Training the MLP and the CNN here briefly: 2 epochs on 2000 images" in printed
    assert printed.count("test accuracy") == 2 and "Trained in " in printed


def test_it_uses_the_saved_networks(app, trained):
    assert f"MLP: the network of MLP_MNIST_digits_tf.py saved in {trained[0]}/, trained on " \
        in app["printed"]
    assert f"CNN: the network of CNN_MNIST_digits_tf.py saved in {trained[0]}/" in app["printed"]
    assert "Training the" not in app["printed"]


def test_pretrained_without_saved_networks_is_a_one_line_error(tmp_path, monkeypatch):
    with pytest.raises(UserError) as raised:
        run_script("drawDigit", ["--pretrained", "--models-dir", str(tmp_path)],
                   tmp_path / "figures", monkeypatch)
    text = str(raised.value)
    assert "MLP_MNIST_digits_tf.py" in text and "train one first with `python " in text
    assert "\n" not in text


# ---------------------------------------------------------------------------
# The pad
# ---------------------------------------------------------------------------
@pytest.mark.usefixtures("empty_pad")
def test_a_stroke_changes_the_28x28_input_and_the_bars(app):
    assert not app["input_picture"].get_array().any()
    assert not any(heights.any() for heights in bar_heights(app))
    stroke(app, SEVEN)
    image = np.asarray(app["input_picture"].get_array())
    assert image.shape == (28, 28) and image.max() == pytest.approx(1.0)
    # Fitted into 20x20: the outer 4 rows and columns stay empty but for the centring shift.
    rows, columns = np.nonzero(image > 0.05)
    assert rows.max() - rows.min() + 1 <= 21 and columns.max() - columns.min() + 1 <= 21
    for heights in bar_heights(app):
        assert heights.sum() == pytest.approx(1.0, abs=1e-3)  # softmax probabilities
    assert app["bars_title"].get_text().startswith("MLP: ")
    # The feature-map window shows the new input too.
    shown = app["maps_fig"].feature_map_pictures[0][0].get_array()
    assert np.allclose(shown, image)
    # Under Agg there is no window: the script said so, in one line.
    notes = [line for line in app["printed"].splitlines() if "needs a window" in line]
    assert len(notes) == 1 and "%matplotlib widget" in notes[0] and "ssh -X" in notes[0]


@pytest.mark.usefixtures("empty_pad")
def test_clear_empties_the_pad(app):
    stroke(app, SEVEN)
    assert app["pad"].any()
    click(app, app["clear_button"])
    assert not app["pad"].any()
    assert not np.asarray(app["input_picture"].get_array()).any()
    assert not any(heights.any() for heights in bar_heights(app))
    assert app["bars_title"].get_text() == "Draw a digit"


@pytest.mark.usefixtures("empty_pad")
def test_the_eraser_erases(app):
    stroke(app, SEVEN)
    ink = app["pad"].sum()
    app["pen_buttons"].set_active(1)  # "erase"
    stroke(app, [(190, 40), (190, 80)])  # across the end of the top bar
    assert not app["pad"][50:70, 185:195].any()
    assert 0 < app["pad"].sum() < ink
    assert app["pad"][60, 100] == pytest.approx(1.0)  # the rest of the bar is still there
    app["pen_buttons"].set_active(0)  # back to drawing
    stroke(app, [(190, 40), (190, 80)])
    assert app["pad"][60, 190] == pytest.approx(1.0)


# ---------------------------------------------------------------------------
# Preprocessing and --image
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def test_digits():
    (_, _), (x_test, y_test) = data.load_dataset("mnist", verbose=False)
    return x_test[:40], y_test[:40]


def test_an_mnist_digit_comes_back_as_it_was(app, test_digits):
    """MNIST's digits were made by this very recipe: redoing it changes little."""
    images = test_digits[0][:20].astype(np.float32) / 255
    remade = [app["mnist_input"](image) for image in images]
    correlations = [np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(images, remade)]
    assert np.median(correlations) > 0.99, correlations


def write_photo(path, digit, scale, offset, size, dark_ink):
    """``digit`` (28x28, 0-255) enlarged ``scale`` times on a ``size`` canvas at ``offset``."""
    from PIL import Image

    enlarged = np.asarray(Image.fromarray(digit).resize((28 * scale, 28 * scale),
                                                         Image.BILINEAR), dtype=np.float64)
    canvas = np.zeros(size[::-1])
    canvas[offset[1]:offset[1] + 28 * scale, offset[0]:offset[0] + 28 * scale] = enlarged
    if dark_ink:
        canvas = 255 - canvas
    Image.fromarray(canvas.astype(np.uint8)).convert("RGB").save(str(path))


def test_image_classifies_mnist_digits_drawn_large_shifted_and_inverted(app, test_digits,
                                                                         tmp_path):
    x_test, y_test = test_digits
    # The digits both networks know as MNIST gives them: then --image must get them too.
    plain = [app["answers"](image.astype(np.float32) / 255) for image in x_test]
    known = [index for index, (mlp, cnn) in enumerate(plain)
             if mlp.argmax() == cnn.argmax() == y_test[index]][:12]
    assert len(known) >= 10, "the briefly trained networks know too few test digits"
    right = {"MLP": 0, "CNN": 0}
    for number, index in enumerate(known):
        path = tmp_path / f"digit{number}.{'jpg' if number % 3 == 0 else 'png'}"
        write_photo(path, x_test[index], scale=3 + number % 5,
                    offset=(10 + 23 * number, 5 + 17 * number), size=(420, 380),
                    dark_ink=number % 2 == 0)
        _, ink, description = app["read_photo"](path)
        assert ("dark ink" in description) == (number % 2 == 0), description
        mlp, cnn = app["answers"](app["mnist_input"](ink))
        right["MLP"] += mlp.argmax() == y_test[index]
        right["CNN"] += cnn.argmax() == y_test[index]
    assert right["MLP"] >= 0.8 * len(known) and right["CNN"] >= 0.8 * len(known), right


def test_image_prints_the_top_3_of_both_networks_and_saves_the_figure(trained, test_digits,
                                                                     tmp_path, monkeypatch,
                                                                     capsys):
    photo = tmp_path / "my digit.jpg"
    write_photo(photo, test_digits[0][0], scale=10, offset=(30, 12), size=(400, 300),
                dark_ink=True)
    outdir = tmp_path / "figures"
    namespace = run_script("drawDigit", ["--image", str(photo), "--models-dir", str(trained[0])],
                           outdir, monkeypatch)
    printed = capsys.readouterr().out
    for name, key in (("MLP", "mlp_probabilities"), ("CNN", "cnn_probabilities")):
        lines = [line for line in printed.splitlines() if line.startswith(f"{name}: ")
                 and "%" in line]
        assert len(lines) == 1, printed
        probabilities = namespace[key]
        best = np.argsort(probabilities)[::-1][:3]
        assert lines[0] == f"{name}: " + ", ".join(
            f"{digit} ({100 * probabilities[digit]:.1f} %)" for digit in best)
    assert f"{photo}: 400x300 pixels, dark ink on light paper" in printed
    assert sorted(path.name for path in outdir.glob("*.png")) == [
        "drawDigit_my digit.png", "drawDigit_my digit_feature_maps.png"]
    assert "needs a window" not in printed


@pytest.mark.parametrize("kind, message", [
    ("text", "is not an image"),
    ("empty", "is empty"),
    ("one colour", "is all one colour"),
    ("missing", "does not exist"),
])
def test_a_bad_image_is_a_one_line_error_naming_it(kind, message, tmp_path, monkeypatch):
    from PIL import Image

    path = tmp_path / f"{kind}.png"
    if kind == "text":
        path.write_text("not a picture\n")
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "one colour":
        Image.new("RGB", (60, 40), (90, 160, 30)).save(str(path))
    with pytest.raises(UserError) as raised:
        run_script("drawDigit", ["--image", str(path)], tmp_path / "figures", monkeypatch)
    text = str(raised.value)
    assert text.startswith(f"{path} (from --image) {message}") and "\n" not in text


@pytest.mark.full
def test_a_bad_image_exits_with_code_2_and_one_line(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("shopping list\n")
    completed = subprocess.run([sys.executable, str(ROOT / "drawDigit.py"), "--image", str(path),
                                "--outdir", str(tmp_path / "figures")],
                               cwd=str(tmp_path), capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [
        f"Error: {path} (from --image) is not an image: give a PNG or JPEG picture of one digit"]
    assert not list((tmp_path / "figures").glob("*.png"))
