"""Run every top-level example script on tiny settings, like a gallery build.

Each script runs in this process as sphinx-gallery runs its examples:
``runpy.run_path(script, run_name="__main__")`` with ``sys.argv`` set
(TensorFlow is imported once for the whole run).  The model scripts train
for one epoch on a few thousand images: the test checks the script's own
results (``history``, ``test_accuracy``), its printed result lines and its
figures.  The smoke tier runs them on the shipped samples; the full tier
(``--full``) also on the full data of ``DNN_DATA_DIR`` (CI).  How the
scripts read (top-level cells, the lesson's calls in view) is checked on
their source.
"""

import ast
import json
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest
from test_results import assert_verdict_figure_and_diagnosis_agree

from dnnkit import lecture

ROOT = Path(__file__).resolve().parent.parent

#: The figures every model script saves, and those the CNNs add (what the convolutions learned).
MODEL_FIGURES = ("training_curves", "worst_mistakes", "confusion_matrix")
CNN_FIGURES = ("filters", "feature_maps")

RESULT_LINES = {
    "test_accuracy": re.compile(r"^Test accuracy: (\d\.\d{4})$", re.MULTILINE),
    "gap": re.compile(r"^Train/validation gap: (-?\d\.\d{4})$", re.MULTILINE),
    "time": re.compile(r"^Training time: \d+\.\d s \(\d+\.\d\d s/epoch\)$", re.MULTILINE),
}


def run_script(name, arguments, outdir, monkeypatch):
    """Run ``name.py`` as ``python name.py ARGUMENTS`` would, here; return its globals."""
    path = ROOT / f"{name}.py"
    monkeypatch.setattr(sys, "argv", [str(path), *arguments, "--no-show", "--outdir", str(outdir)])
    return runpy.run_path(str(path), run_name="__main__")


def assert_pngs(outdir, count):
    pngs = sorted(Path(outdir).glob("*.png"))
    assert len(pngs) == count, [path.name for path in pngs]
    for path in pngs:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert not list(Path(outdir).glob(".*.tmp")), "a temporary figure file was left behind"
    return pngs


def assert_figures(name, figures, outdir):
    """The script's figures ``name_<figure>.png``, and only those, are real PNGs in ``outdir``."""
    pngs = assert_pngs(outdir, len(figures))
    assert sorted(path.name for path in pngs) == sorted(f"{name}_{figure}.png"
                                                        for figure in figures)
    for path in pngs:
        assert path.stat().st_size > 10_000, f"{path.name} looks empty"


def top_level_nodes(name, kinds):
    """The source of every node of the ``kinds`` (ast classes) that stands at the top level
    of the script, also inside an ``if`` or a ``for`` there (not in a def or a class)."""
    source = (ROOT / f"{name}.py").read_text(encoding="utf-8")
    return [ast.get_source_segment(source, node)
            for statement in ast.parse(source).body
            if not isinstance(statement, (ast.FunctionDef, ast.ClassDef))
            for node in ast.walk(statement) if isinstance(node, kinds)]


def top_level_calls(name):
    """The source of every call that stands at the top level of the script (not in a def)."""
    return top_level_nodes(name, ast.Call)


def cell_titles(name):
    """The titles of the script's ``# %% Title`` cells, as jupytext (and the notebooks) read them."""
    cells = jupytext.read(ROOT / f"{name}.py", fmt="py:percent").cells[1:]
    return [cell.metadata.get("title", "") for cell in cells]


def scripts_in_cells():
    """The top-level files written in ``# %%`` cells: the examples, by the files themselves."""
    return sorted(path.stem for path in ROOT.glob("*.py")
                  if any(line.startswith("# %%")
                         for line in path.read_text(encoding="utf-8").splitlines()))


def test_the_manifest_lists_every_script_in_cells_and_only_those():
    """A new script needs its entry in dnnkit/lecture.py; an entry needs its script."""
    assert sorted(lecture.names()) == scripts_in_cells()
    assert len(set(lecture.names())) == len(lecture.EXAMPLES)
    for without, with_dropout in lecture.pairs():
        assert lecture.example(without).trains and lecture.example(with_dropout).trains


@pytest.mark.parametrize("name", lecture.names())
def test_script_is_top_level_cells_without_wrappers(name):
    """Read top to bottom as the slide: cells, no main() and no functions that hide the lesson."""
    source = (ROOT / f"{name}.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    assert ast.get_docstring(tree), "the header docstring with the result is missing"
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert not defined & {"main", "prepare_data", "build_model"}, defined
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    assert "__name__" not in names and "run_script" not in names
    titles = cell_titles(name)
    assert titles[0] == "Set-up" and len(titles) >= 3, titles


@pytest.mark.parametrize("name", lecture.names("model"))
def test_model_script_shows_the_lesson(name):
    """The slide's steps are visible at the top level: / 255, reshape, compile, fit, evaluate."""
    cells = [title.split()[0] if title else "" for title in cell_titles(name)]
    for step in ("Set-up", "Data", "Model", "Training", "Evaluation"):
        assert step in cells, cells
    assert cells.index("Data") < cells.index("Model") < cells.index("Training") \
        < cells.index("Evaluation")
    calls = top_level_calls(name)
    fit = [call for call in calls if call.startswith("model.fit(")]
    assert len(fit) == 1, "model.fit(...) must be called once, at the top level"
    for argument in ("x_train", "y_train", "epochs=", "batch_size=", "validation_split=0.1"):
        assert argument in fit[0], (argument, fit[0])
    assert any(call.startswith("model.evaluate(x_test, y_test") for call in calls)
    assert any(call.startswith("model.compile(") for call in calls)
    assert any(call.startswith("keras.Sequential(") for call in calls)
    # Scaled to [0, 1] in place, in the float32 copy: x_train only where it trains
    # (inside ``if not args.pretrained:``, still outside any function).
    assignments = top_level_nodes(name, (ast.Assign, ast.AugAssign))
    for part in ("x_train", "x_test"):
        assert any(statement.startswith(f"{part} = {part}.reshape(") and
                   statement.endswith('.astype("float32")') for statement in assignments), part
        assert f"{part} /= 255" in assignments, part


@pytest.mark.parametrize("name", lecture.names("model") + lecture.names("display"))
def test_script_runs_on_tiny_settings(name, tmp_path, monkeypatch, capsys):
    """On the shipped samples in the smoke tier (conftest.py), on the full data of
    DNN_DATA_DIR with --full."""
    assert_runs_on_tiny_settings(name, tmp_path, monkeypatch, capsys)


@pytest.mark.full
@pytest.mark.parametrize("name", lecture.names("model"))
def test_model_script_runs_on_tiny_settings_on_the_full_data(name, tmp_path, monkeypatch,
                                                             capsys, request):
    """The full tier's run of the test above on the full data (its 10000 test images), where
    the test above does not run in this session (``--full`` runs it on the full data)."""
    if not os.environ.get("DNN_DATA_DIR"):
        pytest.skip("set DNN_DATA_DIR to a folder with the full MNIST and Fashion-MNIST")
    if any(item.name == f"test_script_runs_on_tiny_settings[{name}]"
           for item in request.session.items):
        pytest.skip("test_script_runs_on_tiny_settings runs it on the full data in this session")
    namespace, output = assert_runs_on_tiny_settings(name, tmp_path, monkeypatch, capsys)
    assert len(namespace["y_test"]) == 10000
    assert "sample" not in re.search(r"^Data: .*$", output, re.MULTILINE).group(0)


def assert_runs_on_tiny_settings(name, tmp_path, monkeypatch, capsys):
    """Run ``name.py`` on its tiny settings and check its results, printout and figures;
    return its globals and its output."""
    namespace = run_script(name, lecture.example(name).tiny, tmp_path, monkeypatch)
    output = capsys.readouterr().out
    if lecture.example(name).kind == "display":
        assert_pngs(tmp_path, 3)
        counts = namespace["class_counts"]
        assert counts.sum() == len(namespace["y_train"]) and len(counts) == 10
        assert re.search(r"^Training images per class: ", output, re.MULTILINE)
        return namespace, output
    assert output.startswith("Device: CPU") or output.startswith("Device: GPU")
    assert re.search(r"^Data: (Fashion-)?MNIST from ", output, re.MULTILINE)
    assert re.search(r"^x_train: \(2000, 28, 28, 1\)|^x_train: \(2000, 784\)", output,
                     re.MULTILINE)
    printed = {key: pattern.search(output) for key, pattern in RESULT_LINES.items()}
    assert all(printed.values()), f"missing result lines: {printed}"
    history = namespace["history"].history
    assert len(history["loss"]) == 1 and {"val_accuracy", "accuracy"} <= set(history)
    test_accuracy = namespace["test_accuracy"]
    assert float(printed["test_accuracy"].group(1)) == pytest.approx(test_accuracy, abs=1e-4)
    # model.evaluate's accuracy is the share of test images whose prediction is right.
    accuracy_of_predictions = (namespace["predicted"] == namespace["y_test"]).mean()
    assert accuracy_of_predictions == pytest.approx(test_accuracy, abs=2e-3)
    # Ten classes: chance is 0.1; one epoch on 2000 images gets far above it.
    assert test_accuracy > 0.5
    assert "macro avg" in output
    assert_verdict_figure_and_diagnosis_agree(namespace, output)
    assert namespace["monitor"].seconds > 0 and len(namespace["monitor"].epoch_seconds) == 1
    figures = MODEL_FIGURES + (CNN_FIGURES if "Conv2D" in "".join(top_level_calls(name)) else ())
    pngs = [path.stem for path in assert_pngs(tmp_path, len(figures))]
    for figure in figures:
        assert any(png.startswith(name[:10]) and png.endswith(figure) for png in pngs), pngs
    return namespace, output


def run_cells_up_to(name, title, arguments, outdir, monkeypatch):
    """Run the script's cells here, as a notebook runs them, up to and including the cell
    ``title`` (e.g. "Model": the network built, not trained); return their globals."""
    path = ROOT / f"{name}.py"
    monkeypatch.setattr(sys, "argv",
                        [str(path), *arguments, "--no-show", "--outdir", str(outdir)])
    namespace = {"__name__": "__main__", "__file__": str(path)}
    cells = jupytext.read(path, fmt="py:percent").cells
    titles = [cell.metadata.get("title", "") for cell in cells]
    assert title in titles, titles
    for cell in cells[:titles.index(title) + 1]:
        exec(compile(cell.source, str(path), "exec"), namespace)
    return namespace


def test_hidden_nodes_and_dropout_options_build_the_network(tmp_path, monkeypatch):
    """The overtraining exercise: --hidden-nodes and --dropout change the network (the
    scripts' cells up to the model, nothing trained; the full tier trains them)."""
    settings = ["--max-samples", "500"]
    wide = run_cells_up_to("clothingSequential", "Model", [*settings, "--hidden-nodes", "20"],
                           tmp_path, monkeypatch)["model"]
    assert [layer.units for layer in wide.layers if hasattr(layer, "units")] == [20, 10]
    dropout = run_cells_up_to("clothingSequentialDropout", "Model",
                              [*settings, "--dropout", "0.1"], tmp_path, monkeypatch)["model"]
    assert [layer.rate for layer in dropout.layers if hasattr(layer, "rate")] == [0.1]
    cnn = run_cells_up_to("clothingCNNDropout", "Model", [*settings, "--dropout", "0.4"],
                          tmp_path, monkeypatch)["model"]
    assert [layer.rate for layer in cnn.layers if hasattr(layer, "rate")] == [0.2, 0.4]


@pytest.mark.full
def test_hidden_nodes_and_dropout_options_reach_the_model(tmp_path, monkeypatch, capsys):
    """The overtraining exercise: --hidden-nodes and --dropout change the network."""
    settings = ["--epochs", "1", "--max-samples", "500", "--batch-size", "64"]
    wide = run_script("clothingSequential", [*settings, "--hidden-nodes", "20"], tmp_path,
                      monkeypatch)["model"]
    assert [layer.units for layer in wide.layers if hasattr(layer, "units")] == [20, 10]
    dropout = run_script("clothingSequentialDropout", [*settings, "--dropout", "0.1"], tmp_path,
                         monkeypatch)["model"]
    assert [layer.rate for layer in dropout.layers if hasattr(layer, "rate")] == [0.1]
    cnn = run_script("clothingCNNDropout", [*settings, "--dropout", "0.4"], tmp_path,
                     monkeypatch)["model"]
    assert [layer.rate for layer in cnn.layers if hasattr(layer, "rate")] == [0.2, 0.4]


@pytest.mark.parametrize("name", lecture.names("display"))
def test_display_scripts_do_not_import_tensorflow(name, tmp_path):
    code = (f"import runpy, sys; sys.argv = [{name + '.py'!r}, '--no-show', '--count', '4', "
            f"'--outdir', {str(tmp_path)!r}]; runpy.run_path({name + '.py'!r}, "
            f"run_name='__main__'); print('tensorflow' in sys.modules)")
    completed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                               text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().splitlines()[-1] == "False"
    assert len(list(tmp_path.glob("display_*.png"))) == 3


#: Every script's --help, one after the other in one fresh process: the exit code, the
#: output, and the heavy modules imported during that script's --help.
ALL_HELPS = """
import contextlib, io, json, runpy, sys
HEAVY = ("tensorflow", "matplotlib", "keras")
runs = {}
for name in sys.argv[1:]:
    before = {module for module in HEAVY if module in sys.modules}
    sys.argv, output, code = [name + ".py", "--help"], io.StringIO(), None
    try:
        with contextlib.redirect_stdout(output):
            runpy.run_path(name + ".py", run_name="__main__")
    except SystemExit as done:
        code = done.code
    after = {module for module in HEAVY if module in sys.modules}
    runs[name] = [code, output.getvalue(), sorted(after - before)]
print(json.dumps(runs))
"""


@pytest.fixture(scope="module")
def helps():
    completed = subprocess.run([sys.executable, "-c", ALL_HELPS, *lecture.names()], cwd=ROOT,
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.splitlines()[-1])


@pytest.mark.parametrize("name", lecture.names())
def test_help_answers_without_tensorflow_or_matplotlib_and_lists_the_manifest_s_options(
        name, helps):
    """--help answers at once (nothing heavy imported), and the script takes every option
    of its tiny and quick settings in dnnkit/lecture.py.  All scripts in one process; the
    full tier gives each script a process of its own."""
    code, output, heavy = helps[name]
    assert code == 0 and "usage:" in output
    assert heavy == [], f"--help of {name}.py imported {heavy}"
    listed = {word.strip(",[]") for word in output.split() if word.startswith("--")}
    example = lecture.example(name)
    wanted = {word for word in example.tiny + example.quick if word.startswith("--")}
    assert wanted <= listed, wanted - listed
    if example.uses_data:
        assert {"--data-dir", "--no-sample"} <= listed


@pytest.mark.full
@pytest.mark.parametrize("name", lecture.names())
def test_help_loads_neither_tensorflow_nor_matplotlib_and_lists_the_manifest_s_options(name):
    """--help answers at once (nothing heavy imported), and the script takes every option
    of its tiny and quick settings in dnnkit/lecture.py."""
    code = (f"import runpy, sys; sys.argv = [{name + '.py'!r}, '--help']\n"
            f"try:\n    runpy.run_path({name + '.py'!r}, run_name='__main__')\n"
            f"except SystemExit as done:\n    assert done.code == 0, done.code\n"
            f"print(sorted(m for m in ('tensorflow', 'matplotlib', 'keras') if m in sys.modules))")
    completed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                               text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert "usage:" in completed.stdout
    assert completed.stdout.strip().splitlines()[-1] == "[]"
    listed = {word.strip(",[]") for word in completed.stdout.split() if word.startswith("--")}
    example = lecture.example(name)
    wanted = {word for word in example.tiny + example.quick if word.startswith("--")}
    assert wanted <= listed, wanted - listed
    if example.uses_data:
        assert {"--data-dir", "--no-sample"} <= listed
