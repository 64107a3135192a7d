"""overtrainingStudy.py: the overtraining exercise as a study, on tiny settings.

The study runs once in this process (three runs of one epoch on 1000 images,
two seeds of the smallest network); every test works on a copy of the runs
it stored.  Checked: the table and the figures; a rerun trains nothing and
touches no stored run; a missing run (as after Ctrl-C) and a damaged one are
trained again, and only they; ``--plot-only`` redraws from the stored runs;
Ctrl-C in a real process keeps the finished runs; bad options end with exit 2.
"""

import contextlib
import io
import json
import re
import runpy
import shutil
import signal
import subprocess
import sys

import pytest

from dnnkit import lecture, runtime
from dnnkit.errors import UserError
from test_robustness import restore_ctrl_c
from test_scripts import ROOT, assert_figures, run_script, top_level_calls

NAME = "overtrainingStudy"
FIGURES = ["validation_loss", "summary"]
#: The tiny settings of dnnkit/lecture.py.
SETTINGS = ["--epochs", "1", "--max-samples", "1000", "--batch-size", "64",
            "--hidden-nodes", "16", "128", "--dropout", "0", "0.5", "--seeds", "1"]
#: The three runs of SETTINGS: (nodes, Dropout, seed).
RUNS = [(16, 0.0, 42), (128, 0.0, 42), (128, 0.5, 42)]
ROW = re.compile(r"^ +(\S+) +(\d+) +(\d\.\d{4}) \+- (\d\.\d{4}) +(\d+\.\d) \+- +\d+\.\d +"
                 r"(-?\d+\.\d) \+- +\d+\.\d +[+-]\d+\.\d \+- +\d+\.\d +"
                 r"([+-]\d\.\d{4}) \+- \d\.\d{4} +(\d+ [a-z ,\d]+)$",
                 re.MULTILINE)

#: The line of a run trained (not read back).
TRAINED = re.compile(r"^Run \d+ of \d+: ", re.MULTILINE)


def run_study(tmp_path, runs_dir, monkeypatch, *extra):
    """Run the study on SETTINGS in this process; return (its globals, its figures' folder)."""
    outdir = tmp_path / "figures"
    namespace = run_script(NAME, [*SETTINGS, "--runs-dir", str(runs_dir), *extra], outdir,
                           monkeypatch)
    return namespace, outdir


def stored(runs_dir):
    """{file name: modification time} of the stored runs."""
    return {path.name: path.stat().st_mtime_ns for path in runs_dir.glob("*/*.json")}


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """The study run once on SETTINGS: (runs folder, output, globals), with the same batch
    order as a second run with the same seed (a test compares the two)."""
    tmp_path = tmp_path_factory.mktemp("study")
    output = io.StringIO()  # capsys is for one test only: the output is caught here
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv(runtime.SAME_BATCH_ORDER_VARIABLE, "1")
        with contextlib.redirect_stdout(output):
            namespace, outdir = run_study(tmp_path, tmp_path / "runs", monkeypatch)
    return tmp_path / "runs", output.getvalue(), namespace, outdir


def copy_of(runs_dir, tmp_path):
    """A copy of the stored runs (with their modification times) for one test."""
    copy = tmp_path / "runs"
    shutil.copytree(runs_dir, copy)
    return copy


def test_settings_agree_with_the_manifest():
    assert list(lecture.example(NAME).tiny) == SETTINGS
    assert lecture.example(NAME).kind == "study" and not lecture.example(NAME).trains
    names = lecture.names()
    assert names.index(NAME) == names.index("clothingSequentialDropout") + 1


def test_the_lesson_is_in_view():
    """clothingSequential's model, compile, fit and evaluate, at the top level (in the loop)."""
    calls = top_level_calls(NAME)
    fit = [call for call in calls if call.startswith("model.fit(")]
    assert len(fit) == 1, fit
    for argument in ("x_train, y_train", "epochs=args.epochs", "batch_size=args.batch_size",
                     "validation_split=0.1"):
        assert argument in fit[0], (argument, fit[0])
    assert any(call.startswith("model.evaluate(x_test, y_test") for call in calls)
    assert any(call.startswith("keras.Sequential(") for call in calls)
    assert any(call.startswith("model.compile(") for call in calls)
    assert any(call.startswith("training.diagnose(history.history, train_accuracy")
               for call in calls)


def test_the_study_prints_its_table_stores_its_runs_and_draws(first_run):
    runs_dir, output, namespace, outdir = first_run
    assert_figures(NAME, FIGURES, outdir)
    # Three runs, each in its own file, with the numbers of the table.
    assert len(stored(runs_dir)) == 3
    assert [f"Run {k} of 3: " in output for k in (1, 2, 3)] == [True] * 3
    assert set(namespace["results"]) == set(RUNS)
    # The folder is named after the settings: 1 epoch, batch size 64, 1000 images.
    assert [path.parent.name.startswith("epochs1_batch64_1000images_")
            for path in runs_dir.glob("*/*.json")] == [True] * 3
    rows = ROW.findall(output)
    assert len(rows) == 4, output[-1500:]  # 16 and 128 nodes; Dropout 0 and 0.5
    assert rows[1][1:] == rows[2][1:], "128 nodes without Dropout is one setting of both series"
    for row, run in zip(rows, [RUNS[0], RUNS[1], RUNS[1], RUNS[2]]):
        record = json.loads(next(runs_dir.glob("*/nodes{}_dropout{:g}_seed{}.json".format(*run)))
                            .read_text(encoding="utf-8"))
        assert float(row[2]) == pytest.approx(record["test_accuracy"], abs=1e-4)
        assert record["history"]["val_loss"] and record["train_count"] == 100
        assert row[7:] == ("1 no overtraining",)  # one epoch cannot overtrain


def test_a_rerun_trains_nothing_and_leaves_the_stored_runs(first_run, tmp_path, monkeypatch,
                                                           capsys):
    runs_dir = copy_of(first_run[0], tmp_path)
    before = stored(runs_dir)
    _, outdir = run_study(tmp_path, runs_dir, monkeypatch)
    output = capsys.readouterr().out
    assert "3 stored in" in output and "0 to train" in output
    assert not TRAINED.search(output)  # nothing trained
    assert stored(runs_dir) == before
    assert ROW.findall(output) == ROW.findall(first_run[1])
    assert_figures(NAME, FIGURES, outdir)


@pytest.mark.full  # a robustness case (6 s); the smoke tier: a rerun trains nothing, below
def test_missing_and_damaged_runs_are_trained_again_and_only_they(first_run, tmp_path,
                                                                   monkeypatch, capsys):
    """As after Ctrl-C (a run missing) and with a damaged file: those two runs are redone."""
    runs_dir = copy_of(first_run[0], tmp_path)
    folder = next(runs_dir.glob("*/"))
    (folder / "nodes128_dropout0.5_seed42.json").unlink()
    (folder / "nodes16_dropout0_seed42.json").write_text('{"settings": ', encoding="utf-8")
    kept = stored(runs_dir)["nodes128_dropout0_seed42.json"]
    monkeypatch.setenv(runtime.SAME_BATCH_ORDER_VARIABLE, "1")  # the batches of first_run's
    namespace, _ = run_study(tmp_path, runs_dir, monkeypatch)
    output = capsys.readouterr().out
    damaged = [line for line in output.splitlines() if line.startswith("Damaged stored run")]
    assert len(damaged) == 1 and "nodes16_dropout0_seed42.json" in damaged[0], damaged
    # The damaged file is kept beside, not lost.
    assert (folder / "nodes16_dropout0_seed42.json.damaged").read_text() == '{"settings": '
    assert "1 stored in" in output and "2 to train" in output
    assert re.findall(r"^Run (\d) of 3: (\d+) hidden nodes, Dropout ([\d.]+)", output,
                      re.MULTILINE) == [("2", "16", "0"), ("3", "128", "0.5")]
    assert len(TRAINED.findall(output)) == 2
    assert stored(runs_dir)["nodes128_dropout0_seed42.json"] == kept
    assert len(stored(runs_dir)) == 3
    # On the CPU, the same seed and batch order train the same network again.
    first = first_run[2]["results"]
    for run in RUNS:
        assert namespace["results"][run]["test_accuracy"] == pytest.approx(
            first[run]["test_accuracy"], abs=0.02)
    assert not list(folder.glob(".*.tmp")), "a temporary file was left behind"


def test_plot_only_redraws_from_the_stored_runs(first_run, tmp_path, monkeypatch, capsys):
    runs_dir = copy_of(first_run[0], tmp_path)
    before = stored(runs_dir)
    folder = next(runs_dir.glob("*/"))
    (folder / "nodes128_dropout0.5_seed42.json").unlink()  # one run not stored: left out
    _, outdir = run_study(tmp_path, runs_dir, monkeypatch, "--plot-only")
    output = capsys.readouterr().out
    assert "--plot-only: nothing is trained." in output and not TRAINED.search(output)
    assert "1 not stored (left out)" in output
    assert ROW.findall(output) == ROW.findall(first_run[1])[:3]
    assert_figures(NAME, FIGURES, outdir)
    assert len(stored(runs_dir)) == 2 and all(stored(runs_dir)[name] == before[name]
                                              for name in stored(runs_dir))


def test_plot_only_without_stored_runs_is_a_one_line_error(tmp_path, monkeypatch):
    with pytest.raises(UserError, match=r"^no stored runs of these settings in .*: run the study "
                                        r"without --plot-only first"):
        run_study(tmp_path, tmp_path / "empty", monkeypatch, "--plot-only")


@pytest.mark.parametrize("arguments, folder", [
    (["--quick"], "epochs10_batch32_2000images_"),
    (["--quick", "--epochs", "4", "--batch-size", "64"], "epochs4_batch64_2000images_"),
])
def test_quick_settings_give_way_to_options_given(tmp_path, monkeypatch, arguments, folder):
    """--quick replaces the defaults, not the options given (seen in the runs' folder name)."""
    path = ROOT / f"{NAME}.py"
    monkeypatch.setattr(sys, "argv", [str(path), *arguments, "--plot-only", "--no-show",
                                      "--runs-dir", str(tmp_path), "--outdir", str(tmp_path)])
    with pytest.raises(UserError, match=f"no stored runs of these settings in {tmp_path}/{folder}"):
        runpy.run_path(str(path), run_name="__main__")


BAD_OPTIONS = [
    (["--seeds", "0"], "argument --seeds: must be at least 1, got 0"),
    (["--dropout", "1"], "argument --dropout: must be from 0 up to (not including) 1, got 1"),
    (["--hidden-nodes", "0"], "argument --hidden-nodes: must be at least 1, got 0"),
]


@pytest.mark.parametrize("arguments, expected_error", BAD_OPTIONS)
def test_bad_options_are_one_error_line_and_exit_2(tmp_path, monkeypatch, capsys, arguments,
                                                   expected_error):
    """In this process: argparse's exit 2 and its line, nothing printed, no run stored."""
    path = ROOT / f"{NAME}.py"
    monkeypatch.setattr(sys, "argv", [str(path), *arguments, "--no-show",
                                      "--runs-dir", str(tmp_path / "runs")])
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(path), run_name="__main__")
    assert done.value.code == 2
    output = capsys.readouterr()
    assert output.out == ""
    assert output.err.strip().splitlines()[-1] == f"{NAME}.py: error: {expected_error}"
    assert not (tmp_path / "runs").exists()


@pytest.mark.full
@pytest.mark.parametrize("arguments, expected_error", BAD_OPTIONS[:1])  # one: argparse's path
def test_bad_options_end_with_one_error_line_and_exit_2(tmp_path, arguments, expected_error):
    run = subprocess.run([sys.executable, f"{NAME}.py", *arguments, "--no-show",
                          "--runs-dir", str(tmp_path / "runs")],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run
    assert "Traceback" not in run.stderr and run.stdout == "", run
    assert run.stderr.strip().splitlines()[-1] == f"{NAME}.py: error: {expected_error}"
    assert not (tmp_path / "runs").exists()


@pytest.mark.full
def test_ctrl_c_keeps_the_finished_runs(first_run, tmp_path):
    """A real process, interrupted in its second run's training: exit 130, the first run
    stored, no litter.  30 epochs, so that the Ctrl-C, sent when the second run's first
    epoch begins, lands while it trains (one epoch of SETTINGS lasts milliseconds)."""
    runs_dir = tmp_path / "runs"
    settings = list(SETTINGS)
    settings[settings.index("--epochs") + 1] = "30"
    process = subprocess.Popen(
        [sys.executable, "-u", f"{NAME}.py", *settings, "--runs-dir", str(runs_dir),
         "--no-show", "--outdir", str(tmp_path / "figures")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=restore_ctrl_c)  # Ctrl-C as in a terminal, however pytest was started
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("Epoch 1/") and any(seen.startswith("Run 2 of 3") for seen in lines):
            process.send_signal(signal.SIGINT)
            break
    output, errors = process.communicate(timeout=120)
    output = "".join(lines) + output
    assert process.returncode == 130, (output[-1000:], errors[-1000:])
    assert "1 of 3 runs are stored in" in output and "the same command trains the other 2" in output
    assert list(stored(runs_dir)) == ["nodes16_dropout0_seed42.json"]
    assert not list(runs_dir.glob("*/.*.tmp"))
