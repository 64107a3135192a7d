"""Tests of checkSetup.py, the one command that says whether this computer can run the examples.

The checks run in this process (``runpy`` gives the script's functions; TensorFlow
is imported once for the whole run); a broken or missing package is made with
a stand-in package first on ``sys.path``.  One test runs the quick form in a
real process (what setup_env.sh runs), and the full tier runs the whole check
in real processes.
"""

import hashlib
import json
import os
import re
import runpy
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
from test_setup_env import sandbox  # noqa: F401  (the fixture: setup_env.sh with a stand-in conda)

from dnnkit import data

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "checkSetup.py"
ROWS = ("system", "Python", "tensorflow", "numpy", "matplotlib", "scipy", "iminuit",
        "scikit-learn", "GPU", "window", "MNIST", "Fashion-MNIST", "Jupyter")


@pytest.fixture(scope="module")
def check():
    """checkSetup.py's functions (its globals), loaded once."""
    return runpy.run_path(str(SCRIPT), run_name="checkSetup")


def rows_of(output):
    """``{what: (status, text)}`` of the table's lines (the first line of each name)."""
    rows = {}
    for line in output.splitlines():
        found = re.match(r"^  (\S+(?: \S+)?) {2,}(ok|note|FAIL) {2,}(.*)$", line)
        if found:
            rows.setdefault(found.group(1), (found.group(2), found.group(3)))
    return rows


def run_main(check, capsys, *arguments):
    code = check["main"](list(arguments))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_it_exits_0_here_with_a_line_for_everything(check, capsys, tmp_path):
    """In the pinned and the floor environments (the data of DNN_DATA_DIR, else the sample)."""
    code, output, errors = run_main(check, capsys, "--models-dir", str(tmp_path))
    rows = rows_of(output)
    assert code == 0, output
    assert set(ROWS) <= set(rows), sorted(rows)
    assert all(status in ("ok", "note") for status, _ in rows.values()), output
    assert output.rstrip().splitlines()[-1].startswith("The examples can run here")
    import tensorflow as tf

    assert rows["tensorflow"][1].startswith(tf.__version__)
    assert f"{sys.version_info[0]}.{sys.version_info[1]}." in rows["Python"][1]
    build = tf.sysconfig.get_build_info()
    if build.get("is_cuda_build"):  # the CUDA and cuDNN that TensorFlow was built with
        assert f"CUDA {build['cuda_version']}, cuDNN {build['cudnn_version']}" in rows["GPU"][1]
    if not tf.config.list_physical_devices("GPU"):
        assert rows["GPU"] == ("ok", rows["GPU"][1]) and "CPU" in rows["GPU"][1]
    assert rows["saved networks"][0] == "note" and "python reproduce.py" in rows["saved networks"][1]
    # conftest chooses Agg for the tests: no window, and the line says why.
    assert rows["window"][0] == "note" and "MPLBACKEND=Agg" in rows["window"][1]
    assert "Traceback" not in output + errors


def stand_in_package(folder, name, body):
    """A package ``name`` in ``folder`` whose import runs ``body``."""
    (folder / name).mkdir(parents=True)
    (folder / name / "__init__.py").write_text(textwrap.dedent(body))


def test_a_package_that_fails_to_import_is_named_in_one_line(check, capsys, tmp_path,
                                                             monkeypatch):
    stand_in_package(tmp_path / "broken", "iminuit",
                     'raise ImportError("libfake.so.1: cannot open shared object file")\n')
    monkeypatch.syspath_prepend(str(tmp_path / "broken"))
    monkeypatch.delitem(sys.modules, "iminuit", raising=False)
    code, output, errors = run_main(check, capsys, "--models-dir", str(tmp_path))
    assert code == 1
    (line,) = [line for line in output.splitlines() if "iminuit" in line]
    status, text = rows_of(output)["iminuit"]
    assert status == "FAIL"
    assert "does not import (ImportError: libfake.so.1: cannot open shared object file)" in text
    assert "pip install --force-reinstall \"iminuit==" in text
    assert output.rstrip().splitlines()[-1].startswith("The examples cannot run here")
    assert "Traceback" not in output + errors
    assert rows_of(output)["numpy"][0] == "ok"  # the others are still checked


def test_without_tensorflow_it_runs_and_says_so(check, capsys, tmp_path, monkeypatch):
    """No TensorFlow at all (neither importable nor installed): every other line is there."""
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # import tensorflow fails
    installed = check["installed_version"]
    monkeypatch.setitem(check["check_package"].__globals__, "installed_version",
                        lambda name: None if name == "tensorflow" else installed(name))
    code, output, errors = run_main(check, capsys, "--models-dir", str(tmp_path))
    rows = rows_of(output)
    assert code == 1
    assert rows["tensorflow"][0] == "FAIL"
    assert rows["tensorflow"][1].startswith("not installed: pip install \"tensorflow==")
    assert rows["GPU"] == ("note", "not checked: no TensorFlow (tensorflow did not import "
                                   "(see above))")
    assert rows["saved networks"][1].startswith("not checked: no TensorFlow")
    for what in ("numpy", "window", "MNIST", "Jupyter"):
        assert what in rows
    assert "Traceback" not in output + errors


def test_a_missing_data_folder_reports_the_sample(check, tmp_path, monkeypatch):
    """No DNN_DATA_DIR and an empty Keras cache: the shipped sample, with how to get the data;
    a data folder named but missing is a failure (the scripts would stop), naming it."""
    monkeypatch.delenv("DNN_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "no_keras_home"))
    monkeypatch.setattr(data, "SYSTEM_DATA_DIRS", {"mnist": (), "fashion_mnist": ()})
    rows = check["check_data"](None)
    assert [(what, status) for what, status, _ in rows] == [("MNIST", "note"),
                                                            ("Fashion-MNIST", "note")]
    for _, _, text in rows:
        assert text.startswith("only the shipped sample (3000 training, 1000 test images")
        assert "to get the full data" in text and "--data-dir DIR" in text
    rows = check["check_data"](str(tmp_path / "missing"))
    assert [status for _, status, _ in rows] == ["FAIL", "FAIL"]
    assert f"{tmp_path / 'missing'} (from --data-dir) holds no MNIST data (no such folder)" \
        in rows[0][2]


def test_damaged_data_is_a_failure_that_names_the_file(check, tmp_path):
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    for _, name, _ in data.ARRAYS:
        (folder / name).write_bytes(b"\x00\x00\x08\x03" + b"\x00" * 20)
    (mnist, _) = check["check_data"](str(tmp_path / "data"))
    assert mnist[:2] == ("MNIST", "FAIL")
    assert str(folder / "train-images-idx3-ubyte") in mnist[2]


def test_a_network_saved_by_another_keras_is_unreadable_with_the_command(check, tmp_path):
    from dnnkit import compat, runtime

    runtime.import_tensorflow()
    other = ".h5" if compat.model_file_suffix() == ".keras" else ".keras"
    script = "MLP_MNIST_digits_tf"
    (tmp_path / f"{script}{other}").write_bytes(b"a network of the other Keras")
    (tmp_path / f"{script}.json").write_text(json.dumps({
        "script": script, "model_file": f"{script}{other}", "date": "2026-12-01 10:00 UTC",
        "epochs": 1, "tensorflow": "2.4.4" if other == ".h5" else "2.21.0",
        "keras": "2.4.0" if other == ".h5" else "3.15.1", "data": "MNIST", "options": {},
        "history": {"loss": [0.3]}, "training_seconds": 1.0,
        "model_sha256": hashlib.sha256(b"a network of the other Keras").hexdigest()}))
    rows = check["check_saved_networks"](str(tmp_path))
    (what, status, text), = rows
    assert (what, status) == ("saved network", "note")
    assert text.startswith(f"{script}: unreadable: ")
    assert f"this Keras {compat.keras_version()} uses only its own {script}" in text
    assert f"`python {script}.py --models-dir {tmp_path}`" in text


def test_the_gpu_line_gives_memory_and_cuda(check, tmp_path, monkeypatch):
    """A TensorFlow that sees one GPU, and nvidia-smi: name, memory in use, CUDA and cuDNN.
    (This machine has no GPU: TensorFlow's three calls are answered by a stand-in.)"""
    class Config:
        class experimental:  # noqa: N801 -- as tf.config.experimental
            @staticmethod
            def get_device_details(gpu):
                return {"device_name": "Quadro P1000", "compute_capability": (6, 1)}

        @staticmethod
        def list_physical_devices(kind):
            return [SimpleNamespace(name="/physical_device:GPU:0", device_type="GPU")] \
                if kind == "GPU" else []

    class TensorFlow:
        config = Config

        class sysconfig:  # noqa: N801
            @staticmethod
            def get_build_info():
                return {"is_cuda_build": True, "cuda_version": "11.0", "cudnn_version": "8"}

    smi = tmp_path / "bin" / "nvidia-smi"
    smi.parent.mkdir()
    smi.write_text("#!/bin/sh\necho 'Quadro P1000, 4096, 3900'\n")
    smi.chmod(0o755)
    monkeypatch.setenv("PATH", f"{smi.parent}{os.pathsep}{os.environ['PATH']}")
    (what, status, text), = check["check_gpu"](TensorFlow)
    assert text.startswith("GPU 0: Quadro P1000, compute capability 6.1, 4.0 GB memory, "
                           "3.8 GB in use (by other users of the card?): train with --cpu")
    assert text.endswith("(TensorFlow built with CUDA 11.0, cuDNN 8)")
    assert status == "note"
    smi.write_text("#!/bin/sh\necho 'Quadro P1000, 4096, 100'\n")
    assert check["check_gpu"](TensorFlow)[0][1] == "ok"


def test_the_range_comes_from_the_project_files(check):
    floor = check["floor_versions"]()
    assert floor["python"] == "3.8" and floor["tensorflow"] == "2.4"
    assert set(floor) == {"python", "tensorflow", "numpy", "matplotlib", "scipy", "iminuit",
                          "scikit-learn"}
    pinned = check["pinned_versions"](ROOT / "requirements.txt")
    assert check["version_tuple"](pinned["tensorflow"]) >= (2, 21)
    assert check["version_tuple"]("2.21.0rc1") == (2, 21, 0)


def test_quick_imports_nothing_and_prints_one_line(tmp_path):
    """What setup_env.sh runs each time: no import of TensorFlow or the others (a real process)."""
    code = ("import runpy, sys; sys.argv = ['checkSetup.py', '--quick']\n"
            "try:\n    runpy.run_path('checkSetup.py', run_name='__main__')\n"
            "except SystemExit as done:\n    print('exit', done.code)\n"
            "print(sorted(m for m in ('tensorflow', 'numpy', 'matplotlib', 'scipy', 'sklearn',"
            " 'iminuit') if m in sys.modules))")
    completed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                               text=True, timeout=60)
    lines = completed.stdout.splitlines()
    assert completed.stderr == "" and lines[-2:] == ["exit 0", "[]"], completed.stdout
    assert lines[:-2] == [line for line in lines[:-2] if line.startswith("checkSetup: ")]
    assert len(lines) == 3


def test_setup_env_runs_the_quick_check_at_the_end_and_keeps_its_status(sandbox):  # noqa: F811
    shutil_copy = __import__("shutil").copy
    shutil_copy(SCRIPT, sandbox.project / "checkSetup.py")
    completed, calls = sandbox.source()
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert f"python {sandbox.project}/checkSetup.py --quick" in calls
    # A check that fails (the stand-in python of the environment answers 1) does not change
    # setup_env's status: the environment is ready; the check's lines say what to fix.
    python = sandbox.root / "envs" / "myML" / "bin" / "python"
    python.write_text('#!/usr/bin/env bash\necho "python $*" >> "$FAKE_LOG"\n'
                      'echo "  numpy  FAIL  not installed"\nexit 1\n')
    completed, calls = sandbox.source()
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "numpy  FAIL  not installed" in completed.stdout
    # Without checkSetup.py (an older copy of the project) nothing is run.
    (sandbox.project / "checkSetup.py").unlink()
    completed, calls = sandbox.source()
    assert completed.returncode == 0 and "checkSetup" not in calls


# ---------------------------------------------------------------------------
# The full tier: the whole check in real processes
# ---------------------------------------------------------------------------
@pytest.mark.full
def test_the_whole_check_in_a_real_process_exits_0(tmp_path):
    completed = subprocess.run([sys.executable, str(SCRIPT), "--models-dir", str(tmp_path)],
                               cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert set(ROWS) <= set(rows_of(completed.stdout))
    assert "Traceback" not in completed.stdout + completed.stderr


@pytest.mark.full
def test_a_broken_package_in_a_real_process_is_one_line_and_exit_1(tmp_path):
    stand_in_package(tmp_path / "broken", "scipy", 'raise OSError("libopenblas.so.0: bad ELF")\n')
    environment = dict(os.environ, PYTHONPATH=str(tmp_path / "broken"))
    completed = subprocess.run([sys.executable, str(SCRIPT), "--models-dir", str(tmp_path)],
                               cwd=ROOT, capture_output=True, text=True, timeout=600,
                               env=environment)
    assert completed.returncode == 1
    (line,) = [line for line in completed.stdout.splitlines() if line.split()[:1] == ["scipy"]]
    assert "FAIL" in line and "OSError: libopenblas.so.0: bad ELF" in line
    assert "Traceback" not in completed.stdout + completed.stderr


def test_it_is_a_tool_not_an_example_of_the_lecture():
    """No slide, no result, no notebook: not in dnnkit/lecture.py, so reproduce.py, the notebooks
    and the gallery test leave it out; written without ``# %%`` cells, as the gallery test
    takes every file with cells for an example.  tests/test_help.py and
    tests/test_portability.py find it by its file."""
    from dnnkit import lecture

    assert "checkSetup" not in lecture.names()
    assert not any(line.startswith("# %%") for line in SCRIPT.read_text().splitlines())
    assert not (ROOT / "notebooks" / "checkSetup.ipynb").exists()


@pytest.mark.full
@pytest.mark.skipif(__import__("shutil").which("xvfb-run") is None, reason="no xvfb-run here")
def test_with_a_display_the_window_line_is_ok():
    """Under a real X server (Xvfb) and no MPLBACKEND, matplotlib's window backend is found."""
    pytest.importorskip("tkinter")
    environment = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
    code = ("import runpy; print(runpy.run_path('checkSetup.py', run_name='check')"
            "['check_window']())")
    completed = subprocess.run(["xvfb-run", "-a", sys.executable, "-c", code], cwd=ROOT,
                               env=environment, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert "[('window', 'ok', \"figures open in windows (matplotlib's " in completed.stdout
    assert "agg backend, display :" in completed.stdout.lower()
