"""Tests of the first lecture scripts: intro.py, linearRegression.py and tf_intro.py.

Each script runs in-process through ``main([...])`` on short settings; the
tests check the numbers it returns (minima, agreement checks, accuracies),
not only that it runs, and the PNG files it writes.
"""

import importlib

import numpy as np
import pytest

from dnnkit import runtime
from dnnkit.errors import UserError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SCRIPTS = ("intro", "linearRegression", "tf_intro")


def run_script(name, tmp_path, *options):
    module = importlib.import_module(name)
    return module.main([*options, "--no-show", "--outdir", str(tmp_path)])


def check_figures(result, tmp_path, prefix, names):
    """The figures named ``names`` were written into tmp_path as real PNG images."""
    assert set(result["figures"]) == set(names)
    for name, path in result["figures"].items():
        assert path == tmp_path / f"{prefix}_{name}.png"
        content = path.read_bytes()
        assert content.startswith(PNG_SIGNATURE), f"{path.name} is not a PNG file"
        assert len(content) > 10_000, f"{path.name} looks empty ({len(content)} bytes)"


# ---------------------------------------------------------------------------
# Command line of all three scripts (no TensorFlow is imported for these)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", SCRIPTS)
def test_help_exits_with_zero(name, capsys):
    module = importlib.import_module(name)
    with pytest.raises(SystemExit) as exit_info:
        module.main(["--help"])
    assert exit_info.value.code == 0
    assert "--seed" in capsys.readouterr().out


@pytest.mark.parametrize("name, options", [
    ("intro", ["--max-iterations", "0"]),
    ("intro", ["--learning-rate", "-0.1"]),
    ("linearRegression", ["--optimizer", "rmsprop"]),
    ("linearRegression", ["--noise", "zero"]),
    ("tf_intro", ["--samples", "-5"]),
    ("tf_intro", ["--samples", "3"]),
    ("tf_intro", ["--epochs", "0"]),
])
def test_invalid_option_value_exits_with_two(name, options, tmp_path, capsys):
    module = importlib.import_module(name)
    with pytest.raises(SystemExit) as exit_info:
        module.main([*options, "--no-show", "--outdir", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_output_folder_that_is_a_file_is_a_user_error(tmp_path, capsys):
    not_a_folder = tmp_path / "figures"
    not_a_folder.write_text("")
    module = importlib.import_module("intro")
    exit_code = runtime.run(module.main, ["--no-show", "--outdir", str(not_a_folder)])
    assert exit_code == runtime.EXIT_USER_ERROR
    assert "--outdir" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# intro.py: gradient descent and friends on a two-parameter loss
# ---------------------------------------------------------------------------
def test_intro_minimizers_agree_on_the_minimum(tmp_path, capsys):
    result = run_script("intro", tmp_path)
    runs = result["runs"]

    # The good learning rate, momentum, Adam, scipy and iminuit all converge ...
    assert result["converged_methods"] == ["adam", "gradient_descent", "iminuit", "momentum",
                                           "scipy"]
    # ... to the exact least-squares minimum, within the stated tolerance.
    assert result["methods_agree"]
    assert result["tolerance"] == pytest.approx(1e-4)
    minimum = result["minimum"]
    for key in result["converged_methods"]:
        assert runs[key]["slope"] == pytest.approx(minimum["slope"], abs=result["tolerance"])
        assert runs[key]["intercept"] == pytest.approx(minimum["intercept"],
                                                       abs=result["tolerance"])
        assert runs[key]["loss"] == pytest.approx(minimum["loss"], rel=1e-6)
    # The minimum is near the true line y = 1.5 x + 0.5 the data were drawn from.
    assert minimum["slope"] == pytest.approx(1.5, abs=0.2)
    assert minimum["intercept"] == pytest.approx(0.5, abs=0.2)

    # The too small learning rate is slow, the too large one diverges.
    small, good, large = (runs[key] for key in ("gradient_descent_small", "gradient_descent",
                                                "gradient_descent_large"))
    assert small["status"] == "not converged" and small["iterations"] == 1000
    assert good["iterations"] < 300
    assert large["status"] == "diverged"
    assert large["loss"] > 10 * runs["gradient_descent"]["loss"]
    assert good["label"].endswith("0.3") and large["label"].endswith("0.5")
    assert 0.3 < result["stability_limit"] < 0.5

    # Momentum speeds up the small learning rate; quasi-Newton methods need few evaluations.
    assert runs["momentum"]["iterations"] < small["iterations"] / 2
    assert runs["scipy"]["gradient_evaluations"] < 20
    assert 0 < runs["iminuit"]["loss_evaluations"] < 100

    # HESSE uncertainties (chi-square cost, errordef 1) equal sigma^2 (X^T X)^-1.
    for parameter in ("slope", "intercept"):
        assert result["uncertainties"][parameter] == pytest.approx(
            result["analytic_uncertainties"][parameter], rel=1e-3)
        assert 0.01 < result["uncertainties"][parameter] < 0.2

    output = capsys.readouterr().out
    assert "diverged" in output and "-> OK" in output and "+-" in output
    check_figures(result, tmp_path, "intro", ("fit", "paths", "loss_history"))


def test_intro_small_learning_rate_converges_given_enough_iterations(tmp_path):
    result = run_script("intro", tmp_path, "--max-iterations", "6000",
                        "--large-learning-rate", "0.4", "--seed", "7")
    # With enough iterations the small learning rate gets there too, and
    # eta = 0.4, below the stability limit, converges as well: seven methods agree.
    assert result["stability_limit"] > 0.4
    assert len(result["converged_methods"]) == 7
    assert result["methods_agree"]
    assert result["runs"]["gradient_descent_small"]["iterations"] > 1000


# ---------------------------------------------------------------------------
# linearRegression.py: tf.Variable, GradientTape and a Keras optimizer
# ---------------------------------------------------------------------------
def test_linear_regression_matches_closed_form(tmp_path, capsys):
    result = run_script("linearRegression", tmp_path, "--slope", "-1.5", "--intercept", "0.5",
                        "--noise", "0.2", "--steps", "150")
    assert result["agree"]
    assert result["largest_difference"] <= result["tolerance"] == pytest.approx(1e-3)
    assert result["slope"] == pytest.approx(result["exact_slope"], abs=1e-3)
    assert result["intercept"] == pytest.approx(result["exact_intercept"], abs=1e-3)
    assert result["loss"] == pytest.approx(result["exact_loss"], rel=1e-4)
    # The options reach the data: the fit finds the line it was drawn from.
    assert result["exact_slope"] == pytest.approx(-1.5, abs=0.15)
    assert result["exact_intercept"] == pytest.approx(0.5, abs=0.1)
    # One entry per step plus the start; the loss falls from start to end.
    losses = result["history"]["loss"]
    assert len(losses) == 151
    assert losses[-1] < 0.1 * losses[0]
    assert np.all(np.diff(losses) <= 1e-6), "plain gradient descent should never raise the loss"
    assert "-> OK" in capsys.readouterr().out
    check_figures(result, tmp_path, "linearRegression", ("fit", "loss", "trajectory"))


def test_linear_regression_with_adam_too_few_steps_and_divergence(tmp_path):
    adam = run_script("linearRegression", tmp_path, "--optimizer", "adam", "--steps", "300")
    assert adam["optimizer"] == "adam" and adam["agree"]
    # After a few steps the check must fail: it really compares the numbers.
    too_short = run_script("linearRegression", tmp_path, "--steps", "5")
    assert not too_short["agree"]
    assert too_short["largest_difference"] > 0.1
    # A learning rate far above the stability limit makes the loss overflow.
    with pytest.raises(UserError, match="--learning-rate"):
        run_script("linearRegression", tmp_path, "--learning-rate", "3")


# ---------------------------------------------------------------------------
# tf_intro.py: a Keras classifier for two Gaussians
# ---------------------------------------------------------------------------
def test_tf_intro_reaches_the_bayes_limit(tmp_path, capsys):
    from scipy.stats import norm

    result = run_script("tf_intro", tmp_path, "--samples", "1500", "--epochs", "6",
                        "--batch-size", "16")
    assert result["bayes_limit"] == pytest.approx(norm.cdf(np.sqrt(2)), abs=1e-12)
    assert result["bayes_limit"] == pytest.approx(0.921, abs=5e-4)
    assert result["test_size"] == 600
    # Judged against the best boundary x1 + x2 = 0 on the same test points,
    # so that the sampling spread of the small test set (+-0.011) cancels.
    assert result["test_accuracy"] == pytest.approx(result["bayes_accuracy_on_test"], abs=0.02)
    assert result["test_accuracy"] == pytest.approx(result["bayes_limit"], abs=0.04)
    assert abs(result["train_validation_gap"]) < 0.05
    assert "Test accuracy:" in capsys.readouterr().out
    check_figures(result, tmp_path, "tf_intro", ("sample", "training_curves", "classification"))
