"""reproduce.py: runs scripts, writes the table, survives a failing script, seeds."""

import dataclasses
import json
from pathlib import Path

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
    assert numbers["overtraining"] == "yes"
    assert numbers["device"] == "CPU (no GPU visible)"
    assert numbers["data"].startswith("MNIST from /data/mnist")


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


def _summary(accuracies, lecture_accuracy=0.90, slide_text="0.90", outcomes=None, **numbers):
    example = lecture.Example("x", "slide", slide_text, lecture_accuracy, kind="model",
                              overtrains=True)
    outcomes = outcomes or [None] * len(accuracies)
    runs = [reproduce.Outcome(example, 0, seconds=10.0, peak_memory_mb=1000.0, seed=42 + k,
                              numbers={"test_accuracy": accuracy, **numbers,
                                       **({"overtraining": said} if said else {})})
            for k, (accuracy, said) in enumerate(zip(accuracies, outcomes))]
    return reproduce.summarize(example, runs)


def test_a_quick_run_is_not_flagged_as_differing_from_the_lecture():
    far = _summary([0.70])
    assert "not consistent: one run, within 0.01" in reproduce.comparison_note(far, quick=False)
    assert "quick run" in reproduce.comparison_note(far, quick=True)
    assert "| no |" not in reproduce.results_table([far], quick=True)
    assert reproduce.comparison_note(_summary([0.905]), quick=True) == ""


def test_with_seeds_the_lecture_is_compared_with_the_prediction_interval_of_one_run():
    """Mean 0.88, std 0.01 of 3 seeds: one more run lies within 0.88 ± t(0.975, 2) * 0.01 *
    sqrt(1 + 1/3) = 0.88 ± 0.0497 with 95 % probability."""
    from scipy import stats

    half = stats.t.ppf(0.975, 2) * 0.01 * (4 / 3) ** 0.5
    inside = _summary([0.87, 0.88, 0.89], lecture_accuracy=0.88 + 0.99 * half)
    assert inside["lecture_check"]["consistent"]
    assert inside["lecture_check"]["interval"] == pytest.approx([0.88 - half, 0.88 + half])
    outside = _summary([0.87, 0.88, 0.89], lecture_accuracy=0.88 + 1.01 * half)
    assert not outside["lecture_check"]["consistent"]
    assert "95 % prediction interval of one run 0.8303 to 0.9297" in \
        reproduce.comparison_note(outside, quick=False)


def test_at_least_is_one_sided_a_better_network_is_never_flagged():
    from scipy import stats

    at_least = {"slide_text": "at least 0.99", "lecture_accuracy": 0.99}
    better = _summary([0.995, 0.996, 0.997], **at_least)
    assert better["lecture_check"]["consistent"]  # two-sided, this would be "outside"
    equal = _summary([0.989, 0.990, 0.992], **at_least)
    assert equal["lecture_check"]["consistent"]
    below = _summary([0.984, 0.985, 0.986], **at_least)
    assert not below["lecture_check"]["consistent"]
    # The p-value is the one-sided t test's, on these fixed numbers: t = -10 with 2 d.o.f.
    assert below["lecture_check"]["p_value"] == pytest.approx(stats.t.cdf(-0.005 / (
        0.001 / 3 ** 0.5), 2))
    assert _summary([0.981], **at_least)["lecture_check"]["consistent"]  # one run: 0.01


def test_spread_is_mean_and_sample_standard_deviation_and_one_run_has_none():
    assert reproduce.spread_of([1.0, 2.0, 3.0]) == {"mean": 2.0, "std": 1.0, "n": 3}
    assert reproduce.spread_of([0.5]) == {"mean": 0.5, "std": None, "n": 1}
    assert reproduce.spread_of([None, None]) is None
    assert reproduce.format_spread(reproduce.spread_of([0.5]), 4) == "0.5000"  # no ± 0.0000


def test_the_paired_interval_is_scipys_on_fixed_numbers():
    from scipy import stats

    without = {42: 0.870, 43: 0.868, 44: 0.874, 45: 0.869, 46: 0.871}
    with_dropout = {42: 0.878, 43: 0.878, 44: 0.880, 45: 0.878, 46: 0.878}
    result = reproduce.paired_difference(without, with_dropout)
    seeds = sorted(without)
    expected = stats.ttest_rel([with_dropout[s] for s in seeds], [without[s] for s in seeds])
    assert result["interval"] == pytest.approx(list(expected.confidence_interval(0.95)))
    assert result["mean"] == pytest.approx(0.0080) and result["n"] == 5
    assert not result["tie"] and expected.pvalue < 0.05
    # Unpaired, the same numbers would give a wider interval: pairing removes the seed's part.
    assert result["standard_error"] < (0.0023 ** 2 / 5 + 0.0009 ** 2 / 5) ** 0.5
    text = reproduce.format_difference(result, 2, 100, " points")
    assert text.startswith("+0.80 points (95 % CI +0.") and text.endswith(", 5 seeds)")


def test_a_difference_whose_interval_includes_zero_is_a_tie_and_one_pair_has_no_interval():
    tie = reproduce.paired_difference({42: 0.1, 43: 0.2, 44: 0.3}, {42: 0.2, 43: 0.1, 44: 0.35})
    assert tie["tie"] and reproduce.format_difference(tie, 2).startswith("tie: ")
    one = reproduce.paired_difference({42: 0.1, 43: 0.2}, {42: 0.3})
    assert "interval" not in one
    assert reproduce.format_difference(one, 2) == "+0.20 (one pair of seed 42)"


def test_the_verdict_is_the_outcome_of_most_seeds_and_ties_are_ties():
    summary = _summary([0.9] * 5, outcomes=["yes", "yes", "within the noise", "yes", "no"])
    assert summary["verdict"] == "overtraining" and summary["opposite_runs"] == 1
    assert reproduce.verdict_text(summary) == \
        "overtraining (3 of 5 seeds; no overtraining 1, within the noise 1)"
    tie = _summary([0.9] * 4, outcomes=["yes", "no", "yes", "no"])
    assert tie["verdict"] == "tie"
    assert reproduce.verdict_text(tie) == "tie: overtraining 2, no overtraining 2"


def test_verdicts_are_read_again_from_the_stored_history():
    """A run stored with the old rule's 'yes' is judged by today's diagnosis of its curve."""
    flat = [0.5, 0.4, 0.35] + [0.34, 0.341, 0.339, 0.342, 0.338, 0.341, 0.340] * 2
    example = lecture.Example("x", "slide", "0.9", 0.9, kind="model", overtrains=False)
    run = reproduce.Outcome(example, 0, seed=42, numbers={"overtraining": "yes"},
                            history={"loss": list(reversed(range(1, 18))), "val_loss": flat})
    summary = reproduce.summarize(example, [run])
    assert summary["outcomes"] == {"no overtraining": 1} and summary["opposite_runs"] == 0
    assert summary["per_run"][0]["rise_in_scatters"] is not None


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
        assert summary["best_epoch"]["mean"] == 1 and sum(summary["outcomes"].values()) == 2
    (difference,) = results["pairs"]
    a, b = results["summaries"]
    by_seed = [{run["seed"]: run["test_accuracy"] for run in s["per_run"]} for s in (a, b)]
    assert difference["test_accuracy"]["seeds"] == [42, 43]
    assert difference["test_accuracy"]["mean"] == pytest.approx(
        sum(by_seed[1][seed] - by_seed[0][seed] for seed in (42, 43)) / 2)
    assert len(difference["test_accuracy"]["interval"]) == 2

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
    # Every run is stored with its history; the same command again runs nothing.
    stored = sorted((tmp_path / "runs").glob("*/*/seed-*.json"))
    assert len(stored) == 4
    assert all(json.loads(path.read_text())["history"]["val_loss"] for path in stored)
    capsys.readouterr()
    again = reproduce.main(["--results-dir", str(tmp_path), "--seeds", "2", "--quick"])
    assert capsys.readouterr().out.count(": stored in runs/") == 4
    assert again["summaries"][0]["test_accuracy"] == a["test_accuracy"]


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

    # The child is started from a small parent, as reproduce.py starts the scripts:
    # on Python < 3.10 subprocess forks, and a forked child's peak includes the
    # parent's resident set (this pytest process may hold TensorFlow's 2 GB).
    parent = ("import subprocess, sys, reproduce\n"
              "child = subprocess.Popen([sys.executable, '-c',\n"
              "    \"data = b'x' * (200 * 2**20); raise SystemExit(5)\"])\n"
              "code, peak_mb = reproduce.wait_with_peak_memory(child)\n"
              "print(code, child.returncode, peak_mb)\n")
    done = subprocess.run([sys.executable, "-c", parent], cwd=str(Path(reproduce.__file__).parent),
                          capture_output=True, text=True, check=True)
    code, returncode, peak_mb = done.stdout.split()
    assert int(code) == 5 and int(returncode) == 5
    assert 200 <= float(peak_mb) < 1000


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


def test_stored_data_paths_name_the_data_folder_not_this_machine(tmp_path, monkeypatch):
    monkeypatch.setenv("DNN_DATA_DIR", str(tmp_path / "data"))
    args = reproduce.make_parser().parse_args([])
    line = f"MNIST from {tmp_path / 'data' / 'mnist'} (60000 train, 10000 test images)"
    assert reproduce.portable(line, args) == \
        "MNIST from $DNN_DATA_DIR/mnist (60000 train, 10000 test images)"
    sample = f"MNIST from shipped sample {reproduce.ROOT / 'data' / 'samples' / 'm.npz'}"
    assert reproduce.portable(sample, args) == "MNIST from shipped sample ./data/samples/m.npz"


def test_a_stored_run_of_other_settings_is_moved_aside_not_used(tmp_path, capsys):
    example = lecture.Example("x", "slide", "-")
    run = reproduce.Outcome(example, 0, seed=42, settings={"arguments": "--epochs 2"})
    path = tmp_path / "x" / "seed-42.json"
    reproduce.store_run(path, run)
    assert reproduce.stored_run(path, example, {"arguments": "--epochs 2"}).seed == 42
    assert reproduce.stored_run(path, example, {"arguments": "--epochs 3"}) is None
    assert not path.exists() and (tmp_path / "x" / "seed-42.json.old").exists()
    assert "is not used (it was run with" in capsys.readouterr().out
    # --table-only runs nothing, so it moves nothing either: it only leaves the run out.
    reproduce.store_run(path, run)
    assert reproduce.stored_run(path, example, {"arguments": "--epochs 3"},
                                move_aside=False) is None
    assert path.exists() and "left as it is" in capsys.readouterr().out
    failed = reproduce.Outcome(example, 1, seed=42, settings={"arguments": ""})
    reproduce.store_run(path, failed)
    assert reproduce.stored_run(path, example, {"arguments": ""}) is None  # run again


def test_table_only_runs_nothing_and_without_stored_runs_is_a_one_line_error(tmp_path,
                                                                             monkeypatch):
    from dnnkit.errors import UserError

    monkeypatch.setattr(reproduce, "run_example", lambda *args: pytest.fail("it ran a script"))
    with pytest.raises(UserError, match="no stored runs of these settings in .*: run "
                                        "reproduce.py without --table-only first"):
        reproduce.main(["--results-dir", str(tmp_path), "--table-only"])
    example = lecture.example("intro")
    settings = reproduce.run_settings(reproduce.arguments_for(
        example, reproduce.make_parser().parse_args([]), tmp_path / "figures"),
        reproduce.make_parser().parse_args([]))
    run = reproduce.Outcome(example, 0, seconds=4.0, seed=42, settings=settings,
                            date="2026-12-07 04:00", machine="Some CPU, 2 CPU cores, Linux")
    store = tmp_path / "runs" / f"tf{reproduce.tensorflow_version()}-lecture"
    reproduce.store_run(store / "intro" / "seed-42.json", run)
    results = reproduce.main(["--results-dir", str(tmp_path), "--table-only"])
    assert [summary["name"] for summary in results["summaries"]] == ["intro"]
    assert "- machine: Some CPU, 2 CPU cores, Linux" in results["path"].read_text()


@pytest.mark.parametrize("draw", range(4))
def test_the_mean_curve_of_several_seeds_decides_what_one_run_leaves_within_the_noise(draw):
    """Ten noisy runs of one slowly rising curve: most alone are not called overtraining,
    their mean is (its noise is about sqrt(10) times smaller)."""
    import numpy as np

    from dnnkit import training

    rng = np.random.default_rng(draw)
    trend = np.r_[0.30, 0.25, 0.22, 0.215 + 0.0011 * np.arange(12)]
    histories = [{"loss": list(np.geomspace(0.5, 0.05, 15)),
                  "val_loss": list(trend + 0.008 * rng.standard_normal(15))} for _ in range(10)]
    alone = [training.diagnose(history).outcome for history in histories]
    assert alone.count(training.OVERTRAINING) < 5
    assert reproduce.pooled_diagnosis(histories).outcome == training.OVERTRAINING
    assert reproduce.pooled_diagnosis(histories[:1]) is None


def test_runs_that_agree_to_the_last_digit_are_compared_like_one_run():
    """Two seeds with the same printed accuracy have no measured spread: no zero-width
    prediction interval that would flag any other figure."""
    check = _summary([0.9792, 0.9792], lecture_accuracy=0.98)["lecture_check"]
    assert check["consistent"] and check["basis"] == "2 equal runs, no spread, within 0.01"


def test_one_seed_of_a_model_script_is_the_first_of_several():
    """`python reproduce.py` after `--seeds 5` uses the stored first seed, not a run of
    other settings (it once ran seed 42 again, because one seed was left unnamed)."""
    assert reproduce.seeds_for(lecture.example("clothingCNN"), 1) == [reproduce.FIRST_SEED]
    assert reproduce.seeds_for(lecture.example("clothingCNN"), 3) == [42, 43, 44]
    assert reproduce.seeds_for(lecture.example("intro"), 5) == [None]
