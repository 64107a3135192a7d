"""Run every top-level example script on tiny settings, like a gallery build.

Each script's ``main(argv)`` is called in this process (TensorFlow is imported
once for the whole run).  The model scripts train for one epoch on a few
thousand images: the test checks that the accuracy is clearly above chance,
that the three result lines are printed, and that the figures are saved.
The data comes from ``DNN_DATA_DIR`` when set (CI), else the shipped sample.
"""

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Every script at the top level that has a ``main(argv)``.
SCRIPTS = sorted(path.stem for path in ROOT.glob("*.py")
                 if "def main(argv=None)" in path.read_text(encoding="utf-8"))

MODEL_SCRIPTS = ["MLP_MNIST_digits_tf", "CNN_MNIST_digits_tf", "clothingSequential",
                 "clothingSequentialDropout", "clothingCNN", "clothingCNNDropout"]
DISPLAY_SCRIPTS = ["display_HandWrt", "display_Clothing"]

#: Tiny settings per script; scripts not listed run with their defaults.
TINY_SETTINGS = {
    **{name: ["--epochs", "1", "--max-samples", "2000", "--batch-size", "64"]
       for name in MODEL_SCRIPTS},
    "display_HandWrt": ["--count", "8"],
    "display_Clothing": ["--count", "8", "--random"],
    "tf_intro": ["--epochs", "3", "--samples", "300"],
    "linearRegression": ["--steps", "200"],
    "intro": [],
    "reproduce": None,  # runs the other scripts; tested in tests/test_reproduce.py
}

RESULT_LINES = {
    "test_accuracy": re.compile(r"^Test accuracy: (\d\.\d{4})$", re.MULTILINE),
    "gap": re.compile(r"^Train/validation gap: (-?\d\.\d{4})$", re.MULTILINE),
    "time": re.compile(r"^Training time: \d+\.\d s \(\d+\.\d\d s/epoch\)$", re.MULTILINE),
}


def run_script(name, arguments, outdir):
    module = importlib.import_module(name)
    return module.main([*arguments, "--no-show", "--outdir", str(outdir)])


def assert_pngs(figures, outdir):
    assert figures, "the script saved no figure"
    for path in figures.values():
        path = Path(path)
        assert path.parent == Path(outdir)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert not list(Path(outdir).glob(".*.tmp")), "a temporary figure file was left behind"


def test_every_script_has_tiny_settings():
    """A new script must be added to TINY_SETTINGS, so that the smoke test covers it."""
    assert set(SCRIPTS) <= set(TINY_SETTINGS), set(SCRIPTS) - set(TINY_SETTINGS)
    assert set(MODEL_SCRIPTS + DISPLAY_SCRIPTS) <= set(SCRIPTS)


@pytest.mark.parametrize("name", [s for s in SCRIPTS if TINY_SETTINGS.get(s) is not None])
def test_script_runs_on_tiny_settings(name, tmp_path, capsys):
    results = run_script(name, TINY_SETTINGS[name], tmp_path)
    output = capsys.readouterr().out
    assert isinstance(results, dict)
    assert_pngs(results["figures"], tmp_path)
    if name in MODEL_SCRIPTS:
        assert output.startswith("Device: CPU") or output.startswith("Device: GPU")
        assert re.search(r"^Data: (Fashion-)?MNIST from ", output, re.MULTILINE)
        printed = {key: pattern.search(output) for key, pattern in RESULT_LINES.items()}
        assert all(printed.values()), f"missing result lines: {printed}"
        assert float(printed["test_accuracy"].group(1)) == pytest.approx(
            results["test_accuracy"], abs=1e-4)
        # Ten classes: chance is 0.1; one epoch on 2000 images gets far above it.
        assert results["test_accuracy"] > 0.5
        assert "macro avg" in output
        assert set(results["figures"]) == {"training_curves", "predictions", "confusion_matrix"}


@pytest.mark.parametrize("name", DISPLAY_SCRIPTS)
def test_display_scripts_do_not_import_tensorflow(name, tmp_path):
    code = (f"import sys; import {name} as script; "
            f"script.main(['--no-show', '--count', '4', '--outdir', {str(tmp_path)!r}]); "
            f"print('tensorflow' in sys.modules)")
    completed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                               text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().splitlines()[-1] == "False"
    assert len(list(tmp_path.glob("display_*.png"))) == 3
