"""Tests of the first lecture scripts: intro.py, linearRegression.py and tf_intro.py.

Each script runs in this process as sphinx-gallery runs its examples:
``runpy.run_path(script, run_name="__main__")`` with ``sys.argv`` set to short
settings plus ``--no-show --outdir <tmp>``.  The tests check the script's own
results in the globals it leaves behind (the minimizers against the exact
minimum, the TensorFlow fit against least squares, the classifier against the
Bayes limit), the lines it prints and the PNG files it writes.
"""

import os
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dnnkit.errors import UserError
from test_scripts import assert_figures, run_script

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ("intro", "linearRegression", "tf_intro")
FIGURES = {
    "intro": ("fit", "paths", "loss_history"),
    "linearRegression": ("fit", "loss", "trajectory"),
    "tf_intro": ("sample", "training_curves", "classification"),
}


def check_figures(name, tmp_path):
    """The script's figures, and only those, were written into tmp_path as real PNG images."""
    assert_figures(name, FIGURES[name], tmp_path)


# ---------------------------------------------------------------------------
# Command line of all three scripts
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name, options", [
    ("intro", ["--max-iterations", "0"]),
    ("intro", ["--learning-rate", "-0.1"]),
    ("linearRegression", ["--optimizer", "rmsprop"]),
    ("linearRegression", ["--noise", "zero"]),
    ("linearRegression", ["--slope", "nan"]),
    ("tf_intro", ["--samples", "-5"]),
    ("tf_intro", ["--epochs", "0"]),
])
def test_invalid_option_value_exits_with_two(name, options, tmp_path, monkeypatch, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_script(name, options, tmp_path, monkeypatch)
    assert exit_info.value.code == 2
    assert f"error: argument {options[0]}" in capsys.readouterr().err


@pytest.mark.parametrize("name, options", [("linearRegression", ["--samples", "1"]),
                                           ("tf_intro", ["--samples", "3"])])
def test_too_few_samples_is_a_user_error(name, options, tmp_path, monkeypatch):
    with pytest.raises(UserError, match="--samples"):
        run_script(name, options, tmp_path, monkeypatch)


def test_user_error_is_one_line_with_exit_code_two_on_the_command_line(tmp_path):
    """On the command line a UserError prints one line, no traceback, and exits with 2."""
    process = subprocess.run([sys.executable, str(ROOT / "tf_intro.py"), "--samples", "3",
                              "--no-show", "--outdir", str(tmp_path)],
                             cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert process.returncode == 2
    assert process.stderr.strip() == "Error: argument --samples: must be at least 10, got 3"
    assert "Traceback" not in process.stdout + process.stderr


def test_output_folder_that_is_a_file_is_a_user_error(tmp_path, monkeypatch):
    not_a_folder = tmp_path / "figures"
    not_a_folder.write_text("")
    path = ROOT / "intro.py"
    monkeypatch.setattr(sys, "argv", [str(path), "--no-show", "--outdir", str(not_a_folder)])
    with pytest.raises(UserError, match="--outdir"):
        runpy.run_path(str(path), run_name="__main__")


# ---------------------------------------------------------------------------
# intro.py: gradient descent and friends on a two-parameter loss
# ---------------------------------------------------------------------------
def test_intro_minimizers_agree_on_the_minimum(tmp_path, monkeypatch, capsys):
    namespace = run_script("intro", [], tmp_path, monkeypatch)
    runs, exact, loss = namespace["runs"], namespace["exact"], namespace["loss"]
    x, y = namespace["x"], namespace["y"]

    # The exact minimum is the least-squares line of the data.
    assert exact == pytest.approx(np.polyfit(x, y, deg=1), abs=1e-12)
    # The gradient the minimizers follow is the derivative of the loss
    # (central differences; J is quadratic, so they are exact up to rounding).
    weights, step = np.array([0.3, -0.7]), 1e-4
    numerical = [(loss(weights + step * unit) - loss(weights - step * unit)) / (2 * step)
                 for unit in np.eye(2)]
    assert namespace["gradient"](weights) == pytest.approx(numerical, rel=1e-6)

    # The good learning rate, momentum, Adam, scipy and iminuit all converge ...
    converged = {key for key, run in runs.items() if run.converged}
    assert converged == {"gradient_descent", "momentum", "adam", "scipy", "iminuit"}
    assert set(namespace["differences"]) == converged
    # ... to the exact minimum, within the stated tolerance.
    tolerance = namespace["AGREEMENT_TOLERANCE"]
    assert tolerance == pytest.approx(1e-4)
    for key in converged:
        assert runs[key].weights == pytest.approx(exact, abs=tolerance), key
        assert loss(runs[key].weights) == pytest.approx(namespace["minimum_loss"], rel=1e-6)
    assert namespace["methods_agree"]
    # The minimum is near the true line y = 1.5 x + 0.5 the data were drawn from.
    assert exact == pytest.approx([1.5, 0.5], abs=0.2)

    # The too small learning rate is slow, the too large one diverges:
    # 0.3 < 2 / lambda_max < 0.5.
    small, good, large = (runs[key] for key in ("gradient_descent_small", "gradient_descent",
                                                "gradient_descent_large"))
    assert 0.3 < namespace["stability_limit"] < 0.5
    assert small.status == "not converged" and small.iterations == 1000
    assert good.iterations < 300
    assert large.status == "diverged"
    assert large.losses[-1] > namespace["DIVERGENCE_FACTOR"] * large.losses[0]
    assert good.label.endswith("0.3") and large.label.endswith("0.5")

    # Momentum speeds up the small learning rate; quasi-Newton methods need few evaluations.
    assert runs["momentum"].iterations < small.iterations / 2
    assert runs["scipy"].gradient_evaluations < 20
    assert 0 < runs["iminuit"].loss_evaluations < 100
    # scipy's callback recorded every iteration of BFGS (the path of the figure).
    assert runs["scipy"].iterations == namespace["result"].nit >= 2

    # HESSE uncertainties (chi-square cost, errordef 1) equal sigma^2 (X^T X)^-1.
    analytic = namespace["analytic_uncertainties"]
    for index, parameter in enumerate(("slope", "intercept")):
        assert namespace["uncertainties"][parameter] == pytest.approx(analytic[index], rel=1e-3)
        assert 0.01 < analytic[index] < 0.2

    output = capsys.readouterr().out
    assert "diverged (J = " in output and "-> OK" in output and "+-" in output
    check_figures("intro", tmp_path)


def test_intro_small_learning_rate_converges_given_enough_iterations(tmp_path, monkeypatch):
    namespace = run_script("intro", ["--max-iterations", "6000", "--large-learning-rate", "0.4",
                                     "--seed", "7"], tmp_path, monkeypatch)
    # With enough iterations the small learning rate gets there too, and
    # eta = 0.4, below the stability limit, converges as well: seven methods agree.
    assert namespace["stability_limit"] > 0.4
    assert len(namespace["differences"]) == 7
    assert namespace["methods_agree"]
    assert namespace["runs"]["gradient_descent_small"].iterations > 1000


# ---------------------------------------------------------------------------
# linearRegression.py: tf.Variable, GradientTape and a Keras optimizer
# ---------------------------------------------------------------------------
def test_linear_regression_matches_least_squares(tmp_path, monkeypatch, capsys):
    namespace = run_script("linearRegression", ["--slope", "-1.5", "--intercept", "0.5",
                                                "--noise", "0.2", "--steps", "150"],
                           tmp_path, monkeypatch)
    x, y = namespace["x"].astype(np.float64), namespace["y"].astype(np.float64)
    # The reference: least squares, solved here independently of the script.
    design = np.column_stack([x, np.ones_like(x)])
    least_squares = np.linalg.lstsq(design, y, rcond=None)[0]
    assert namespace["exact"] == pytest.approx(least_squares, abs=1e-9)
    # The options reach the data: the fit finds the line it was drawn from.
    assert least_squares == pytest.approx([-1.5, 0.5], abs=0.15)

    # The variables TensorFlow changed are the fit, and agree with least squares.
    fitted = np.array([namespace["slope"].numpy(), namespace["intercept"].numpy()])
    assert fitted == pytest.approx(least_squares, abs=namespace["AGREEMENT_TOLERANCE"])
    assert namespace["AGREEMENT_TOLERANCE"] == pytest.approx(1e-3)
    assert namespace["agree"]
    history = namespace["history"]
    assert history["loss"][-1] == pytest.approx(np.mean((design @ least_squares - y) ** 2),
                                                 rel=1e-4)
    # One entry per step plus the start; plain gradient descent never raises the loss.
    assert len(history["loss"]) == len(history["slope"]) == 151
    assert history["loss"][-1] < 0.1 * history["loss"][0]
    assert np.all(np.diff(history["loss"]) <= 1e-6)
    assert (history["slope"][-1], history["intercept"][-1]) == pytest.approx(fitted)
    assert type(namespace["optimizer"]).__name__ == "SGD"

    assert "-> OK" in capsys.readouterr().out
    check_figures("linearRegression", tmp_path)


def test_linear_regression_with_adam_too_few_steps_and_divergence(tmp_path, monkeypatch):
    adam = run_script("linearRegression", ["--optimizer", "adam", "--steps", "300"],
                      tmp_path, monkeypatch)
    assert type(adam["optimizer"]).__name__ == "Adam" and adam["agree"]
    # After a few steps the check must fail: it really compares the numbers.
    too_short = run_script("linearRegression", ["--steps", "5"], tmp_path, monkeypatch)
    assert not too_short["agree"]
    assert too_short["difference"] > 0.1
    # A learning rate far above the stability limit makes the loss overflow.
    with pytest.raises(UserError, match="--learning-rate"):
        run_script("linearRegression", ["--learning-rate", "3"], tmp_path, monkeypatch)


# ---------------------------------------------------------------------------
# tf_intro.py: a Keras classifier for two Gaussians
# ---------------------------------------------------------------------------
def test_tf_intro_reaches_the_bayes_limit(tmp_path, monkeypatch, capsys):
    from scipy.stats import norm

    namespace = run_script("tf_intro", ["--samples", "1000", "--epochs", "5", "--batch-size", "16"],
                           tmp_path, monkeypatch)
    bayes_limit = namespace["bayes_limit"]
    assert bayes_limit == pytest.approx(norm.cdf(np.sqrt(2)), abs=1e-12)
    x_test, y_test = namespace["x_test"], namespace["y_test"]
    assert len(x_test) == 400 and len(namespace["x_train"]) == 1600
    # Both classes are in the test set, in about equal numbers.
    assert 0.4 < y_test.mean() < 0.6

    history = namespace["history"].history
    assert len(history["loss"]) == 5 and {"accuracy", "val_accuracy"} <= set(history)
    test_accuracy = namespace["test_accuracy"]
    # model.evaluate's accuracy is the share of test points predicted right.
    assert (namespace["predicted"] == y_test).mean() == pytest.approx(test_accuracy, abs=3e-3)
    # Judged against the best boundary x1 + x2 = 0 on the same test points,
    # so that the sampling spread of the small test set (+-0.013) cancels.
    assert test_accuracy == pytest.approx(namespace["best_on_test"], abs=0.025)
    assert test_accuracy == pytest.approx(bayes_limit, abs=0.05)
    gap = namespace["diagnosis"].gap
    assert abs(gap) < 0.05

    output = capsys.readouterr().out
    assert f"Test accuracy: {test_accuracy:.4f}\n" in output
    assert f"Train/validation gap: {gap:.4f}\n" in output
    assert "Training time: " in output and "Epoch 5/5" in output
    check_figures("tf_intro", tmp_path)


def test_tf_intro_shows_the_lesson_calls():
    """The slide's calls stand at the top level of the script, where a student reads them."""
    from test_scripts import top_level_calls  # the gallery test's reader of top-level calls

    calls = top_level_calls("tf_intro")
    fit = [call for call in calls if call.startswith("model.fit(")]
    assert len(fit) == 1, "model.fit(...) must be called once, at the top level"
    for argument in ("x_train", "y_train", "epochs=", "batch_size=", "validation_split=0.1"):
        assert argument in fit[0], (argument, fit[0])
    assert any(call.startswith("model.evaluate(x_test, y_test") for call in calls)
    assert any(call.startswith("keras.Sequential(") for call in calls)


def test_intro_without_iminuit_runs_the_rest_and_says_what_it_skipped_in_this_process(
        tmp_path, monkeypatch, capsys):
    """iminuit that cannot be imported (None in sys.modules): one line with the package, the
    reason and the fix, and the other minimizers compared as usual (the full tier: an
    iminuit that fails as 2.20 does on numpy 1.19, in a real process)."""
    monkeypatch.setitem(sys.modules, "iminuit", None)
    namespace = run_script("intro", [], tmp_path, monkeypatch)
    output = capsys.readouterr().out
    skipped = [line for line in output.splitlines() if line.startswith("Skipped: ")]
    assert skipped[0].startswith("Skipped: iminuit cannot be imported (")
    assert skipped[0].endswith("): pip install --user iminuit (with numpy 1.19, the lab's: "
                               "pip install --user 'iminuit<2.20')")
    assert "iminuit" not in namespace["runs"] and "-> OK" in output


@pytest.mark.full  # a real process
def test_intro_without_a_working_iminuit_runs_the_rest_and_says_what_it_skipped(tmp_path):
    """An iminuit of 2.20 or newer on numpy 1.19 fails to import: one line with the package,
    the reason and the fix; the other minimizers are compared as usual."""
    fake = tmp_path / "packages" / "iminuit"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'numpy.typing'\", name='numpy.typing')\n")
    process = subprocess.run(
        [sys.executable, str(ROOT / "intro.py"), "--no-show", "--outdir", str(tmp_path / "out")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env=dict(os.environ, PYTHONPATH=str(tmp_path / "packages"), MPLBACKEND="Agg"))
    assert process.returncode == 0, process.stderr
    skipped = [line for line in process.stdout.splitlines() if line.startswith("Skipped: ")]
    assert skipped[0] == ("Skipped: iminuit cannot be imported (No module named 'numpy.typing'): "
                          "pip install --user iminuit (with numpy 1.19, the lab's: "
                          "pip install --user 'iminuit<2.20')")
    assert "the 4 converged methods agree with the exact minimum" in process.stdout
    assert "-> OK" in process.stdout and "iminuit (MIGRAD)" not in process.stdout
    assert skipped[-1].startswith("Skipped: the iminuit comparison")
    assert len(list((tmp_path / "out").glob("intro_*.png"))) == 3
