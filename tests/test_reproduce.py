"""reproduce.py: runs scripts, writes the table, survives a failing script, seeds."""

import dataclasses
import json

import pytest

import reproduce
from dnnkit import lecture


def test_parse_output_reads_the_result_lines():
    text = ("Device: CPU (no GPU visible)\nData: MNIST from /data/mnist (60000 train, 10000 test "
            "images)\nEpoch 1/2\n...\nEpoch 2/2\n...\nTest accuracy: 0.9812\n"
            "Train/validation gap: -0.0123\nBest epoch: 1 of 2\nValidation loss rise: 12.5 %\n"
            "Overtraining: yes\nTraining time: 23.1 s (11.55 s/epoch)\n")
    numbers = reproduce.parse_output(text)
    assert numbers["test_accuracy"] == 0.9812
    assert numbers["gap"] == -0.0123
    assert numbers["training_seconds"] == 23.1
    assert numbers["seconds_per_epoch"] == 11.55
    assert numbers["epochs"] == 2
    assert numbers["best_epoch"] == 1 and numbers["rise_percent"] == 12.5
    assert numbers["overtraining"] is True
    assert numbers["device"] == "CPU (no GPU visible)"
    assert numbers["data"].startswith("MNIST from /data/mnist")


def test_flagged_only_when_more_than_a_point_away():
    example = lecture.Example("x", "slide", "0.90", 0.90)
    assert not reproduce.Outcome(example, 0, numbers={"test_accuracy": 0.909}).flagged
    assert reproduce.Outcome(example, 0, numbers={"test_accuracy": 0.8899}).flagged
    assert not reproduce.Outcome(lecture.Example("y", "slide", "-"), 0,
                                 numbers={"test_accuracy": 0.5}).flagged


def test_a_failing_script_does_not_stop_the_others(tmp_path, monkeypatch, capsys):
    broken = lecture.Example("no_such_script", "slide", "-")
    display = next(e for e in reproduce.EXAMPLES if e.name == "display_HandWrt")
    monkeypatch.setattr(reproduce, "EXAMPLES", [broken, display])
    results = reproduce.main(["--results-dir", str(tmp_path)])

    assert results["failed"] == ["no_such_script"]
    table = (tmp_path / "RESULTS.md").read_text()
    assert "| no_such_script |" in table and "failed" in table
    display_row = next(line for line in table.splitlines() if line.startswith("| display_HandWrt"))
    assert "| ok |" in display_row
    # The display script's figures went beside the table, its output into logs/.
    assert len(list((tmp_path / "figures").glob("display_mnist_*.png"))) == 3
    log = (tmp_path / "logs" / "display_HandWrt.log").read_text()
    assert log.startswith("$ ") and "Training images" in log  # the command, then the output
    summary = capsys.readouterr().out
    assert "Summary" in summary and "FAILED" in summary


def test_quick_adds_the_short_settings_only_to_training_scripts(tmp_path):
    parser = reproduce.make_parser()
    args = parser.parse_args(["--quick", "--data-dir", "/data"])
    examples = {e.name: e for e in reproduce.EXAMPLES}
    mlp = reproduce.arguments_for(examples["MLP_MNIST_digits_tf"], args, tmp_path)
    intro = reproduce.arguments_for(examples["intro"], args, tmp_path)
    assert tuple(mlp[-len(reproduce.QUICK_SETTINGS):]) == reproduce.QUICK_SETTINGS
    assert "--data-dir" in mlp and "--data-dir" not in intro
    assert not set(reproduce.QUICK_SETTINGS) & set(intro)


def test_every_quick_setting_is_accepted_by_its_script(tmp_path, monkeypatch):
    """--quick passes each script only options that its parser knows.

    Each script runs in this process as ``python NAME.py --quick-options`` would
    (runpy, sys.argv set), with an output folder that is a file: a script whose
    parser accepts the options stops with a UserError (after parsing, before
    TensorFlow is imported); an unknown option would end in argparse's
    SystemExit instead.
    """
    import runpy

    import pytest

    from dnnkit.errors import UserError

    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    for example in reproduce.EXAMPLES:
        path = reproduce.ROOT / f"{example.name}.py"
        monkeypatch.setattr(reproduce.sys, "argv",
                            [str(path), *example.quick, "--outdir", str(not_a_folder)])
        with pytest.raises(UserError, match="--outdir"):
            runpy.run_path(str(path), run_name="__main__")


_FAKE_TRAINING = "for epoch in (1, 2):\n    print(f'Epoch {epoch}/2')\n    print('loss: 0.5')\n"


def _run_fake_training(tmp_path, monkeypatch, capsys, tty):
    (tmp_path / "fake_training.py").write_text(_FAKE_TRAINING)
    monkeypatch.setattr(reproduce, "ROOT", tmp_path)
    monkeypatch.setattr(reproduce.sys.stdout, "isatty", lambda: tty)
    if tty:  # a terminal outside pytest and CI
        monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
        monkeypatch.delenv("CI", raising=False)
    outcome = reproduce.run_example(lecture.Example("fake_training", "slide", "-"),
                                    [], tmp_path / "fake.log", 3, 5)
    assert outcome.ok and outcome.numbers["epochs"] == 2
    return capsys.readouterr().out


def test_progress_in_a_log_is_one_line_per_epoch(tmp_path, monkeypatch, capsys):
    out = _run_fake_training(tmp_path, monkeypatch, capsys, tty=False)
    assert "\r" not in out
    lines = out.splitlines()
    assert [line.split(" s so far")[0].rsplit(", ", 1)[0] for line in lines[:2]] == [
        "[3/5] fake_training: epoch 1/2", "[3/5] fake_training: epoch 2/2"]
    assert len(lines) == 3 and lines[2].startswith("[3/5] fake_training: done in")


def test_progress_in_a_terminal_rewrites_one_line(tmp_path, monkeypatch, capsys):
    out = _run_fake_training(tmp_path, monkeypatch, capsys, tty=True)
    assert out.count("\n") == 1  # the final "done" line only
    assert out.count("\r[3/5] fake_training:") == 5  # four output lines, then "done"


def test_a_relative_results_dir_keeps_table_and_figures_together(tmp_path, monkeypatch):
    """The scripts run in the project folder: a relative --results-dir must still
    mean the folder below where reproduce.py was started, for the figures too."""
    display = next(e for e in reproduce.EXAMPLES if e.name == "display_HandWrt")
    monkeypatch.setattr(reproduce, "EXAMPLES", [display])
    monkeypatch.chdir(tmp_path)
    reproduce.main(["--results-dir", "relative_results"])

    results = tmp_path / "relative_results"
    assert (results / "RESULTS.md").is_file()
    assert len(list((results / "figures").glob("display_mnist_*.png"))) == 3
    assert not (reproduce.ROOT / "relative_results").exists()


def test_a_relative_data_dir_is_passed_on_as_an_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DNN_DATA_DIR", "env_data")
    seen = []
    uses_data = next(example for example in reproduce.EXAMPLES if example.uses_data)
    monkeypatch.setattr(reproduce, "EXAMPLES", [uses_data])
    monkeypatch.setattr(reproduce, "run_example",
                        lambda example, arguments, *rest: seen.append(arguments)
                        or reproduce.Outcome(example, 0))
    reproduce.main(["--results-dir", "out", "--data-dir", "some_data"])

    assert seen[0][seen[0].index("--data-dir") + 1] == str(tmp_path / "some_data")
    assert reproduce.os.environ["DNN_DATA_DIR"] == str(tmp_path / "env_data")


def test_a_results_dir_that_is_a_file_names_the_option_to_change(tmp_path):
    """From the command line: one line naming the option, exit code 2, no traceback."""
    import subprocess
    import sys

    not_a_folder = tmp_path / "afile"
    not_a_folder.write_text("keep me")
    completed = subprocess.run([sys.executable, str(reproduce.ROOT / "reproduce.py"),
                                "--results-dir", str(not_a_folder)],
                               capture_output=True, text=True, timeout=60)

    assert completed.returncode == 2
    assert completed.stderr.startswith("Error: ") and len(completed.stderr.splitlines()) == 1
    assert "choose another one with --results-dir" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert not_a_folder.read_text() == "keep me"


def _summary(accuracies, lecture_accuracy=0.90, **numbers):
    example = lecture.Example("x", "slide", "0.90", lecture_accuracy, kind="model",
                              overtrains=True)
    outcomes = [reproduce.Outcome(example, 0, seconds=10.0, peak_memory_mb=1000.0,
                                  numbers={"test_accuracy": accuracy, **numbers})
                for accuracy in accuracies]
    return reproduce.summarize(example, outcomes)


def test_a_quick_run_is_not_flagged_as_differing_from_the_lecture():
    far = _summary([0.70])
    assert "differs from the lecture" in reproduce.comparison_note(far, quick=False)
    assert "quick run" in reproduce.comparison_note(far, quick=True)
    assert "differs" not in reproduce.results_table([far], quick=True)
    assert reproduce.comparison_note(_summary([0.905]), quick=True) == ""


def test_with_seeds_the_lecture_is_compared_with_two_standard_deviations():
    # mean 0.88, std 0.01: 0.90 is two deviations away, 0.905 more.
    assert _summary([0.87, 0.88, 0.89], lecture_accuracy=0.90)["lecture_within_spread"]
    outside = _summary([0.87, 0.88, 0.89], lecture_accuracy=0.905)
    assert outside["lecture_within_spread"] is False
    assert "outside mean ± 2 std" in reproduce.comparison_note(outside, quick=False)


def test_mean_and_sample_standard_deviation():
    assert reproduce.mean_and_std([1.0, 2.0, 3.0]) == (2.0, 1.0)
    assert reproduce.mean_and_std([0.5]) == (0.5, None)
    assert reproduce.mean_and_std([None, None]) == (None, None)


def test_the_verdict_is_the_majority_of_the_seeds():
    summary = _summary([0.9, 0.9, 0.9])
    for outcome, verdict in zip(summary["per_run"], (True, True, False)):
        outcome["overtraining"] = verdict
    example = lecture.Example("x", "slide", "0.90", 0.90, kind="model")
    outcomes = [reproduce.Outcome(example, 0, numbers=numbers) for numbers in summary["per_run"]]
    summary = reproduce.summarize(example, outcomes)
    assert summary["overtrains"] and reproduce.verdict_text(summary) == "overtrains (2 of 3 seeds)"


def test_seconds_per_epoch_are_written_with_two_decimals():
    row = reproduce.results_table([_summary([0.9], seconds_per_epoch=8.4)]).splitlines()[-1]
    assert "| 8.40 |" in row and "| 1000 |" in row


def test_without_os_wait4_the_peak_memory_is_not_available(monkeypatch):
    """On Windows there is no os.wait4: the exit code still counts, memory is n/a."""
    import subprocess
    import sys

    monkeypatch.delattr(reproduce.os, "wait4")
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    assert reproduce.wait_with_peak_memory(process) == (3, None)
    example = lecture.Example("x", "slide", "-")
    summary = reproduce.summarize(example, [reproduce.Outcome(example, 3)])
    assert "| n/a |" in reproduce.results_table([summary])


@pytest.mark.full
def test_seeds_give_mean_and_spread_and_the_pair_difference(tmp_path, monkeypatch, capsys):
    """reproduce.py --seeds 2 on tiny settings: each model script twice, with seeds 42 and
    43; the table gives mean ± std, and the Dropout pair's difference with its uncertainty."""
    pair = [dataclasses.replace(lecture.example(name), quick=lecture.example(name).tiny)
            for name in ("clothingSequential", "clothingSequentialDropout")]
    monkeypatch.setattr(reproduce, "EXAMPLES", pair)
    results = reproduce.main(["--results-dir", str(tmp_path), "--seeds", "2", "--quick"])

    assert results["failed"] == []
    for summary in results["summaries"]:
        assert summary["seeds"] == [42, 43] and summary["ok"] == 2
        accuracies = [run["test_accuracy"] for run in summary["per_run"]]
        assert accuracies[0] != accuracies[1], "the seeds gave the same run"
        assert summary["test_accuracy"]["mean"] == pytest.approx(sum(accuracies) / 2)
        assert summary["test_accuracy"]["std"] == pytest.approx(
            abs(accuracies[0] - accuracies[1]) / 2 ** 0.5)
        assert summary["best_epoch"]["mean"] == 1 and summary["diagnosed_runs"] == 2
    (difference,) = results["pairs"]
    a, b = results["summaries"]
    assert difference["test_accuracy"]["difference"] == pytest.approx(
        b["test_accuracy"]["mean"] - a["test_accuracy"]["mean"])
    assert difference["test_accuracy"]["error"] == pytest.approx(
        (a["test_accuracy"]["std"] ** 2 / 2 + b["test_accuracy"]["std"] ** 2 / 2) ** 0.5)

    table = (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    row = next(line for line in table.splitlines() if line.startswith("| clothingSequential |"))
    mean, std = a["test_accuracy"]["mean"], a["test_accuracy"]["std"]
    assert f"| {mean:.4f} ± {std:.4f} |" in row
    assert "clothingSequentialDropout − clothingSequential" in table
    assert "- seeds: 2 per model script (42 to 43)" in table
    stored = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert stored["scripts"][0]["test_accuracy"] == a["test_accuracy"]
    # The first seed's figures beside the table, the second's in their own folder.
    assert (tmp_path / "figures" / "clothingSequential_training_curves.png").is_file()
    assert (tmp_path / "figures" / "seed-43" / "clothingSequential_training_curves.png").is_file()
    assert (tmp_path / "logs" / "clothingSequential-seed-43.log").is_file()
    # The second seed's networks do not replace the lecture's (the first seed's) in models/.
    assert (tmp_path / "models" / "seed-43").is_dir()


def test_seeds_zero_is_a_one_line_error(tmp_path):
    import subprocess
    import sys

    completed = subprocess.run([sys.executable, str(reproduce.ROOT / "reproduce.py"),
                                "--seeds", "0", "--results-dir", str(tmp_path / "r")],
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 2
    assert completed.stderr.splitlines()[-1].endswith(
        "error: argument --seeds: must be at least 1, got 0")
    assert "Traceback" not in completed.stderr and not (tmp_path / "r").exists()


def test_exit_codes_from_wait_statuses_as_subprocess_reports_them():
    """os.wait4's status to an exit code without os.waitstatus_to_exitcode (Python 3.9+)."""
    import signal
    import subprocess
    import sys

    codes = []
    for code in ("raise SystemExit(0)", "raise SystemExit(3)",
                 "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"):
        process = subprocess.Popen([sys.executable, "-c", code])
        _, status, _ = reproduce.os.wait4(process.pid, 0)
        codes.append(reproduce.exit_code(status))
    assert codes == [0, 3, -signal.SIGTERM]


def test_peak_memory_and_exit_code_of_a_real_process():
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-c",
                                "data = b'x' * (200 * 2**20); raise SystemExit(5)"])
    code, peak_mb = reproduce.wait_with_peak_memory(process)
    assert code == 5 and process.returncode == 5
    assert 200 <= peak_mb < 2000


def test_the_study_runs_only_when_named(tmp_path, monkeypatch):
    """python reproduce.py (the instructor's preparation) skips the long overtraining study."""
    ran = []
    monkeypatch.setattr(reproduce, "run_example",
                        lambda example, *rest: ran.append(example.name)
                        or reproduce.Outcome(example, 0))
    reproduce.main(["--results-dir", str(tmp_path / "all")])
    assert "overtrainingStudy" not in ran and "clothingCNN" in ran
    ran.clear()
    reproduce.main(["--results-dir", str(tmp_path / "one"), "--only", "overtrainingStudy"])
    assert ran == ["overtrainingStudy"]
