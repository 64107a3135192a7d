"""Tests of dnnkit.plotting: saving figures safely, the figure contents, showing."""

import os
import subprocess
import sys
from pathlib import Path

import matplotlib
import matplotlib.colors
import numpy as np
import pytest

from dnnkit import plotting
from dnnkit.errors import UserError

import matplotlib.pyplot as plt  # noqa: E402  (after dnnkit.plotting chose the backend)

ROOT = Path(__file__).resolve().parent.parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _small_figure():
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1, 2], [1, 0, 1])
    return fig


def _is_red(color):
    return matplotlib.colors.to_rgba(color) == matplotlib.colors.to_rgba("red")


# ---------------------------------------------------------------------------
# save_figure
# ---------------------------------------------------------------------------
def test_save_figure_writes_a_png_and_creates_the_folder(tmp_path, capsys):
    outdir = tmp_path / "new" / "figures"
    plotting.save_figure(_small_figure(), "curve", outdir)
    path = outdir / "curve.png"
    assert capsys.readouterr().out == f"Saved {outdir / 'curve.png'}\n"  # says where
    assert Path(path) == outdir / "curve.png"
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert path.stat().st_size > 100
    # Nothing else in the folder: no temporary file is left behind.
    assert sorted(os.listdir(outdir)) == ["curve.png"]


def test_save_figure_replaces_an_older_figure(tmp_path):
    (tmp_path / "curve.png").write_bytes(b"old")
    plotting.save_figure(_small_figure(), "curve", tmp_path)
    assert (tmp_path / "curve.png").read_bytes()[:8] == PNG_SIGNATURE
    assert sorted(os.listdir(tmp_path)) == ["curve.png"]


def _count_draws(fig):
    """A list that gets one entry per complete draw of ``fig`` (matplotlib's draw_event)."""
    draws = []
    fig.canvas.mpl_connect("draw_event", lambda event: draws.append(event))
    return draws


def test_save_figure_draws_a_laid_out_figure_once_and_the_same(tmp_path):
    fig = plotting.plot_class_counts([0, 1, 1, 2], ["zero", "one", "two"])  # tight_layout
    draws = _count_draws(fig)
    plotting.save_figure(fig, "counts", tmp_path)
    path = tmp_path / "counts.png"
    assert len(draws) == 1  # a layout engine left on the figure makes savefig draw twice
    # The same picture as matplotlib's own tight_layout() and savefig give
    # (from matplotlib 3.6 on, these draw the figure twice).
    reference = plotting.plot_class_counts([0, 1, 1, 2], ["zero", "one", "two"])
    reference.tight_layout()
    reference_draws = _count_draws(reference)
    reference.savefig(tmp_path / "reference.png", dpi=100)
    assert len(reference_draws) in (1, 2)
    np.testing.assert_array_equal(plt.imread(path), plt.imread(tmp_path / "reference.png"))


@pytest.mark.parametrize("make", ["curves", "pixels", "counts", "confusion"])
def test_every_laid_out_figure_is_drawn_once_when_saved(tmp_path, make):
    figures = {
        "curves": lambda: plotting.plot_training_curves({"loss": [1, 0.5], "accuracy": [0.5, 0.7]}),
        "pixels": lambda: plotting.plot_pixel_values(np.eye(5, dtype=np.uint8) * 200),
        "counts": lambda: plotting.plot_class_counts([0, 1], ["a", "b"]),
        "confusion": lambda: plotting.plot_confusion_matrix(np.eye(2, dtype=int), ["a", "b"]),
    }
    fig = figures[make]()
    draws = _count_draws(fig)
    plotting.save_figure(fig, make, tmp_path)
    assert len(draws) == 1


def test_tight_layout_lays_out_like_matplotlib():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.set_ylabel("a long label\non two lines")
    before = ax.get_position().bounds
    plotting.tight_layout(fig)
    reference, reference_ax = plt.subplots(figsize=(3, 2))
    reference_ax.set_ylabel("a long label\non two lines")
    reference.tight_layout()
    assert ax.get_position().bounds != before  # the axes moved to make room
    np.testing.assert_allclose(ax.get_position().bounds, reference_ax.get_position().bounds)


@pytest.mark.skipif(os.name != "posix", reason="file modes are a POSIX notion")
def test_save_figure_gives_the_usual_file_permissions(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    plotting.save_figure(_small_figure(), "curve", tmp_path)
    path = tmp_path / "curve.png"
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize("older_figure", [False, True])
def test_save_figure_interrupted_midway_leaves_no_trace(tmp_path, monkeypatch, older_figure):
    old_bytes = PNG_SIGNATURE + b"an older figure"
    if older_figure:
        (tmp_path / "curve.png").write_bytes(old_bytes)
    fig = _small_figure()
    written = []

    def interrupted_savefig(stream, **kwargs):
        stream.write(PNG_SIGNATURE + b"half a figure")
        stream.flush()
        written.append(True)
        raise KeyboardInterrupt

    monkeypatch.setattr(fig, "savefig", interrupted_savefig)
    with pytest.raises(KeyboardInterrupt):
        plotting.save_figure(fig, "curve", tmp_path)
    assert written, "the fake savefig was not called"
    if older_figure:
        assert sorted(os.listdir(tmp_path)) == ["curve.png"]
        assert (tmp_path / "curve.png").read_bytes() == old_bytes
    else:
        assert os.listdir(tmp_path) == []


def test_save_figure_into_a_file_is_a_user_error(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    for outdir in (blocker, blocker / "sub"):
        with pytest.raises(UserError) as error:
            plotting.save_figure(_small_figure(), "curve", outdir)
        assert "--outdir" in str(error.value)
        assert "\n" not in str(error.value)
    assert blocker.read_text() == "x"


def test_save_figure_onto_a_folder_is_a_user_error_and_cleans_up(tmp_path):
    # The target name is taken by a folder: os.replace fails after the PNG was written.
    (tmp_path / "curve.png").mkdir()
    with pytest.raises(UserError):
        plotting.save_figure(_small_figure(), "curve", tmp_path)
    assert os.listdir(tmp_path) == ["curve.png"]
    assert (tmp_path / "curve.png").is_dir()


# ---------------------------------------------------------------------------
# Training curves
# ---------------------------------------------------------------------------
def _lines_by_label(ax):
    return {line.get_label(): list(line.get_ydata()) for line in ax.get_lines()}


def _texts(fig):
    """Every text in the axes of ``fig``, their titles included."""
    return [text for ax in fig.axes for text in [ax.get_title(), *(t.get_text() for t in ax.texts)]
            if text]


def test_plot_training_curves_has_both_curves_and_the_gap():
    history = {"loss": [0.9, 0.5, 0.3], "val_loss": [0.8, 0.6, 0.5],
               "accuracy": [0.60, 0.80, 0.90], "val_accuracy": [0.62, 0.79, 0.85]}
    fig = plotting.plot_training_curves(history, title="Demo")
    assert len(fig.axes) == 2
    ax_loss, ax_accuracy = fig.axes
    assert _lines_by_label(ax_loss) == {"training loss": history["loss"],
                                        "validation loss": history["val_loss"]}
    assert _lines_by_label(ax_accuracy) == {"training accuracy": history["accuracy"],
                                            "validation accuracy": history["val_accuracy"]}
    assert list(ax_loss.get_lines()[0].get_xdata()) == [1, 2, 3]
    assert ax_loss.get_xlabel() == "epoch"
    assert [text.get_text() for text in fig.texts] == ["Demo"]  # the suptitle
    # Without a diagnosis there is no fair gap: Keras's epoch-averaged training accuracy
    # minus the validation accuracy is biased, and not shown (the --live figure).
    assert not [text for text in _texts(fig) if "gap" in text or "validation accuracy" in text]


def test_plot_training_curves_shows_the_measured_gap_and_the_verdict_of_a_diagnosis():
    from dnnkit import training

    history = {"loss": list(np.linspace(1.0, 0.2, 10)),
               "val_loss": [0.50, 0.40, 0.35, 0.36, 0.38, 0.40, 0.42, 0.44, 0.46, 0.48],
               "accuracy": [0.9] * 10, "val_accuracy": [0.8] * 10}
    diagnosis = training.diagnose(history, train_accuracy=0.77, train_count=100)
    fig = plotting.plot_training_curves(history, diagnosis=diagnosis)
    texts = " ".join(_texts(fig))
    assert "train - validation accuracy -0.030" in texts
    assert f"{diagnosis.rise_in_scatters:.1f} scatters" in texts and "overtraining" in texts
    band = [patch for patch in fig.axes[0].patches if patch.get_label() == "within the noise"]
    assert len(band) == 1
    # The trend after the low, as the verdict read it: the Theil-Sen line from the low's
    # epoch to the last, its standard errors in the legend and the title.
    trend, = [line for line in fig.axes[0].get_lines()
              if line.get_label().startswith("trend after the low")]
    assert list(trend.get_xdata()) == [diagnosis.best_epoch, 10]
    assert list(trend.get_ydata()) == pytest.approx([0.34, 0.34 + 0.02 * 7])
    assert f"trend {diagnosis.trend_in_errors:+.1f} standard errors" in texts


def test_a_curve_too_noisy_to_show_a_rise_says_so_and_its_band_starts_at_the_low():
    """The figure shows what the verdict compares: on a curve whose scatter is large against
    its fall, no rise is small enough to count as none, so the band starts at the low."""
    from dnnkit import training

    val_loss = [0.0972, 0.0968, 0.0657, 0.0683, 0.0718, 0.0944, 0.0749, 0.0747, 0.0791, 0.0702]
    history = {"loss": list(np.geomspace(0.23, 0.0147, 10)), "val_loss": val_loss,
               "accuracy": [0.9] * 10, "val_accuracy": [0.8] * 10}
    diagnosis = training.diagnose(history)
    fig = plotting.plot_training_curves(history, diagnosis=diagnosis)
    title = fig.axes[0].get_title()
    assert "too noisy" in title and title.endswith(training.WITHIN_NOISE)
    band, = [patch for patch in fig.axes[0].patches if patch.get_label() == "within the noise"]
    assert band.get_extents().y0 == pytest.approx(
        fig.axes[0].transData.transform((0, diagnosis.best_val_loss))[1], abs=1)


def test_plot_training_curves_without_validation_has_no_gap():
    fig = plotting.plot_training_curves({"loss": [1.0, 0.5], "accuracy": [0.5, 0.7]})
    assert list(_lines_by_label(fig.axes[0])) == ["training loss"]
    assert not [text for text in _texts(fig) if "gap" in text]


# ---------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------
def _grid_labels(fig):
    """The label texts of a grid figure, in reading order, with their colours."""
    ax = fig.axes[0]
    texts = sorted(ax.texts, key=lambda text: (round(text.get_position()[1]), text.get_position()[0]))
    return [(text.get_text(), _is_red(text.get_color())) for text in texts]


def test_plot_image_grid_marks_exactly_the_wrong_predictions_red():
    rng = np.random.default_rng(0)
    images = rng.integers(1, 256, size=(10, 28, 28))
    labels = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    predicted = np.array([0, 2, 2, 0, 0, 2, 0, 1, 1, 0])
    wrong = set(np.flatnonzero(labels != predicted).tolist())
    assert wrong == {1, 4, 8}
    names = ["cat", "dog", "bird"]
    fig = plotting.plot_image_grid(images, labels, class_names=names, predicted=predicted,
                                   columns=4, title="Grid")
    assert len(fig.axes) == 1 and fig.axes[0].get_title() == "Grid"
    ax = fig.axes[0]
    assert _grid_labels(fig) == [(f"{names[labels[i]]}\n/ {names[predicted[i]]}", i in wrong)
                                 for i in range(10)]
    # One red frame around each wrong image, none elsewhere.
    frames = [patch for patch in ax.patches if _is_red(patch.get_edgecolor())]
    assert len(frames) == len(wrong) == len(ax.patches)

    # The mosaic holds every image unchanged, 3 rows of 4 cells, the spare
    # cells and the margins empty (NaN, drawn grey).
    mosaic = ax.images[-1].get_array()
    shown = mosaic.compressed()
    assert shown.size == images.size
    assert sorted(shown.tolist()) == sorted(images.ravel().astype(float).tolist())
    for frame, index in zip(sorted(frames, key=lambda p: (p.get_y(), p.get_x())), sorted(wrong)):
        top, left = int(frame.get_y() + 0.5), int(frame.get_x() + 0.5)
        np.testing.assert_array_equal(mosaic[top:top + 28, left:left + 28], images[index])
    assert mosaic.shape[1] == 4 * (28 + 3)
    assert mosaic.mask.sum() == mosaic.size - images.size


def _drawn_rgb(fig, ax, x, y):
    """The colour drawn at data point (x, y) of ``ax``, as RGB in 0..1."""
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())
    column, row = ax.transData.transform((x, y))
    return pixels[pixels.shape[0] - 1 - int(row), int(column), :3] / 255


def test_plot_image_grid_draws_margins_grey_and_images_in_grey_values():
    images = np.zeros((2, 28, 28))
    images[1] = 255
    fig = plotting.plot_image_grid(images, np.array([0, 1]), columns=2)
    ax = fig.axes[0]
    top = 12 + 14  # the label room above the images, then half an image down
    np.testing.assert_allclose(_drawn_rgb(fig, ax, 1 + 14, top), 1, atol=0.02)  # 0: white
    np.testing.assert_allclose(_drawn_rgb(fig, ax, 31 + 1 + 14, top), 0, atol=0.02)  # 255: black
    # the margin between the two images, and the spare row of the label room: grey
    np.testing.assert_allclose(_drawn_rgb(fig, ax, 30, top), plotting.MARGIN_GREY, atol=0.02)
    np.testing.assert_allclose(_drawn_rgb(fig, ax, 3, 2), plotting.MARGIN_GREY, atol=0.02)


def test_plot_image_grid_without_predictions_shows_the_labels():
    images = np.zeros((3, 28, 28))
    fig = plotting.plot_image_grid(images, np.array([4, 7, 1]))
    assert _grid_labels(fig) == [("4", False), ("7", False), ("1", False)]
    assert not fig.axes[0].patches


def test_worst_mistakes_are_the_wrong_predictions_most_confident_first():
    labels = np.array([0, 1, 2, 0, 1, 2])
    probabilities = np.array([
        [0.9, 0.1, 0.0],   # right
        [0.6, 0.3, 0.1],   # wrong: 0 with 0.6
        [0.0, 0.05, 0.95],  # right
        [0.1, 0.8, 0.1],   # wrong: 1 with 0.8
        [0.02, 0.01, 0.97],  # wrong: 2 with 0.97
        [0.5, 0.2, 0.3],   # wrong: 0 with 0.5
    ])
    assert plotting.worst_mistakes(labels, probabilities).tolist() == [4, 3, 1, 5]
    assert plotting.worst_mistakes(labels, probabilities, count=2).tolist() == [4, 3]
    assert plotting.worst_mistakes(labels[[0, 2]], probabilities[[0, 2]]).size == 0


def test_plot_worst_mistakes_titles_each_with_true_predicted_and_probability():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(6, 28, 28))
    labels = np.array([0, 1, 2, 0, 1, 2])
    probabilities = np.array([[0.9, 0.1, 0.0], [0.6, 0.3, 0.1], [0.0, 0.05, 0.95],
                              [0.1, 0.8, 0.1], [0.02, 0.01, 0.97], [0.5, 0.2, 0.3]])
    names = ["cat", "dog", "bird"]
    fig = plotting.plot_worst_mistakes(images, labels, probabilities, names, count=3,
                                       title="Mistakes")
    assert fig.axes[0].get_title() == "Mistakes"
    assert _grid_labels(fig) == [("true dog\nsaid bird\n97.0 %", True),
                                 ("true cat\nsaid dog\n80.0 %", True),
                                 ("true dog\nsaid cat\n60.0 %", True)]
    mosaic = fig.axes[0].images[-1].get_array()
    assert sorted(mosaic.compressed().tolist()) == sorted(
        images[[4, 3, 1]].ravel().astype(float).tolist())
    # Without a mistake, the figure says so.
    fig = plotting.plot_worst_mistakes(images[:1], labels[:1], probabilities[:1])
    assert [text.get_text() for text in fig.axes[0].texts] == [
        "No test image was predicted wrong."]


def test_plot_pixel_values_writes_every_nonzero_value():
    image = np.zeros((4, 5), dtype=np.uint8)
    image[1, 2] = 200
    image[3, 0] = 17
    fig = plotting.plot_pixel_values(image, label=7)
    ax = fig.axes[0]
    assert len(fig.axes) == 2  # the image and its colour bar
    assert ax.get_title() == "4 x 5 grey values (label: 7)"
    # One number per non-zero pixel, centred on the pixel's cell (x = column, y = row),
    # white on dark and black on light cells.
    written = [(text.get_text(), text.get_position(), text.get_color()) for text in ax.texts]
    assert written == [("200", (2, 1), "white"), ("17", (0, 3), "black")]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("column", "row")
    assert not plotting.plot_pixel_values(image, annotate=False).axes[0].texts


def test_plot_class_counts_bars_and_labels():
    names = ["zero", "one", "two", "three"]
    labels = np.array([0, 0, 0, 1, 3, 3])
    fig = plotting.plot_class_counts(labels, names, title="Counts")
    ax = fig.axes[0]
    assert [patch.get_height() for patch in ax.patches] == [3, 1, 0, 2]
    assert [label.get_text() for label in ax.get_xticklabels()] == names
    assert [text.get_text() for text in ax.texts] == ["3", "1", "0", "2"]
    assert ax.get_title() == "Counts"
    assert ax.get_ylabel() == "images"


def test_plot_confusion_matrix_labels_and_cells():
    names = ["cat", "dog", "bird"]
    matrix = np.array([[5, 1, 0], [2, 7, 0], [0, 3, 9]])
    fig = plotting.plot_confusion_matrix(matrix, names, title="CM")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "predicted class"
    assert ax.get_ylabel() == "true class"
    assert ax.get_title() == "CM"
    assert [label.get_text() for label in ax.get_xticklabels()] == names
    assert [label.get_text() for label in ax.get_yticklabels()] == names
    cells = {(round(text.get_position()[1]), round(text.get_position()[0])): text
             for text in ax.texts}
    assert len(cells) == 9
    for (row, column), text in cells.items():
        assert text.get_text() == str(matrix[row, column])
        # Dark cells (above half the maximum) get white text.
        dark = matrix[row, column] > matrix.max() / 2
        assert (matplotlib.colors.to_rgba(text.get_color())
                == matplotlib.colors.to_rgba("white" if dark else "black"))


# ---------------------------------------------------------------------------
# Showing and the backend
# ---------------------------------------------------------------------------
# A window-opening backend, as matplotlib lets anyone write one
# (MPLBACKEND=module://name): it draws with Agg and, instead of opening a
# window, notes every call of show.
_SPY_BACKEND = """
from matplotlib.backends.backend_agg import FigureCanvasAgg as FigureCanvas

SHOWN = []


def show(*args, **kwargs):
    SHOWN.append(True)
"""

_SHOW_CODE = """
import spy_backend
from dnnkit import plotting
plotting.subplots()
print(plotting.can_show())
plotting.show(no_show=True)
print(len(spy_backend.SHOWN))
plotting.show(no_show=False)
print(len(spy_backend.SHOWN))
"""


def test_show_with_no_show_never_calls_plt_show(tmp_path):
    (tmp_path / "spy_backend.py").write_text(_SPY_BACKEND)
    env = dict(os.environ, MPLBACKEND="module://spy_backend",
               PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]))
    completed = subprocess.run([sys.executable, "-c", _SHOW_CODE], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    # A backend that can show; --no-show: not shown; without it: shown once.
    assert completed.stdout.split() == ["True", "0", "1"]


def test_can_show_is_false_with_the_real_agg_backend():
    if matplotlib.get_backend().lower() != "agg":
        pytest.skip("the tests run with another backend (MPLBACKEND set from outside)")
    assert plotting.can_show() is False
    plotting.show(no_show=False)  # does nothing (it would warn that Agg cannot show)


HEADLESS_BACKENDS = ["agg", "pdf", "svg", "module://matplotlib_inline.backend_inline"]


@pytest.mark.parametrize("backend", HEADLESS_BACKENDS)
def test_headless_backends_cannot_show_in_this_process(backend):
    """The backend switched here (matplotlib's switch_backend); the full tier starts a
    process with MPLBACKEND set for each."""
    if "matplotlib_inline" in backend:
        pytest.importorskip("matplotlib_inline")
    plt = plotting.pyplot()
    before = plt.get_backend()
    plt.switch_backend(backend)
    try:
        assert plotting.can_show() is False
    finally:
        plt.switch_backend(before)


@pytest.mark.full
@pytest.mark.parametrize("backend", HEADLESS_BACKENDS)
def test_headless_backends_cannot_show(backend):
    completed = subprocess.run(
        [sys.executable, "-c", "from dnnkit import plotting; print(plotting.can_show())"],
        cwd=ROOT, env=dict(os.environ, MPLBACKEND=backend), capture_output=True, text=True,
        timeout=60)
    if "matplotlib_inline" in backend and "No module named" in completed.stderr:
        pytest.skip("matplotlib-inline is not installed")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "False"


def _backend_in_subprocess(tmp_path, extra_env):
    """The backend in use after ``plotting.pyplot()``, with a matplotlibrc that names TkAgg."""
    (tmp_path / "matplotlibrc").write_text("backend: TkAgg\n")
    env = {key: value for key, value in os.environ.items()
           if key not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")}
    env.update(MPLCONFIGDIR=str(tmp_path), **extra_env)
    code = "import dnnkit.plotting, matplotlib; dnnkit.plotting.pyplot(); print(matplotlib.get_backend())"
    completed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip().lower()


@pytest.mark.skipif(sys.platform in ("darwin", "win32"),
                    reason="macOS and Windows always have a display")
def test_without_a_display_the_agg_backend_is_chosen(tmp_path):
    """A matplotlibrc's GUI backend would fail without a display: Agg is used instead."""
    assert _backend_in_subprocess(tmp_path, {}) == "agg"


def test_importing_plotting_does_not_import_matplotlib():
    """matplotlib costs most of a second: --help must not pay for it."""
    code = "import sys, dnnkit.plotting; print('matplotlib' in sys.modules)"
    completed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                               text=True, timeout=60)
    assert completed.stdout.strip() == "False", completed.stderr


def test_a_backend_chosen_from_outside_wins(tmp_path):
    assert _backend_in_subprocess(tmp_path, {"MPLBACKEND": "svg"}) == "svg"
