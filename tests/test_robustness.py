"""The scripts as students meet them: damaged data, no network, typos, Ctrl-C, ssh.

Issue 6: half-downloaded caches, runs over ssh without a display, typos in the
options and Ctrl-C in the middle of training must each end in a clear message
and a clean state.  Exit codes, signals and the absence of a traceback are
properties of a process, so every test here runs the scripts as a user would,
with ``subprocess``, in a controlled environment (see :func:`script_env`):
no ``DNN_*`` settings unless the case sets them, downloads off unless the case
is about the download, ``HOME`` and ``KERAS_HOME`` in temporary folders (the
real ``~/.keras`` is never touched) and the Agg backend unless the case is
about having no display.

Time: each process that imports TensorFlow costs 5-8 s on the 2-core lecture
machine, so most cases use the display scripts (no TensorFlow) or fail before
TensorFlow is imported, the fast processes of a case run in parallel, and the
runs that train (no display, two at once into one folder) are started as soon
as this module begins, in the background, and checked by the last tests.

Fuzzing the IDX and npz readers with thousands of malformed files lives in
``tests/test_data_fuzz.py``; it is not repeated here.
"""

import gzip
import os
import queue
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

#: Real processes and signals: the full tier (``python -m pytest --full``).  The smoke tier
#: checks the same messages in this process: the readers' errors in test_data.py, the
#: options and folders in test_runtime.py, Ctrl-C in test_training.py, the interrupted
#: figure in test_plotting.py, every script without a window in test_scripts.py.
pytestmark = pytest.mark.full

if os.name != "posix":  # Signals, exit codes and displays are tested the POSIX way.
    pytest.skip("the robustness tests need a POSIX system", allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"IEND\xaeB`\x82"  # The IEND chunk's type and CRC: the last 8 bytes of every PNG.

#: A run that should be quick but hangs is stopped after this long.
PROCESS_TIMEOUT_SECONDS = 180

#: Settings removed from the environment of every run: the tests set what they need.
REMOVED_SETTINGS = (
    "DNN_DATA_DIR", "DNN_NO_SAMPLE", "DNN_NO_DOWNLOAD", "KERAS_HOME", "MPLBACKEND",
    "MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "TF_CPP_MIN_LOG_LEVEL",
    "PYTEST_CURRENT_TEST", "CI", "PYTHONUNBUFFERED",
)
NO_DISPLAY = ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")
PROXY_SETTINGS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy",
                  "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


# ---------------------------------------------------------------------------
# Running the scripts
# ---------------------------------------------------------------------------
@dataclass
class Run:
    """What a finished script run left: exit code, output and wall time."""

    argv: list
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self):
        return self.stdout + self.stderr

    def __str__(self):  # Shown by pytest when an assertion on a run fails.
        return (f"$ {' '.join(map(str, self.argv))}\nexit code {self.returncode} after "
                f"{self.seconds:.1f} s\n--- stdout ---\n{self.stdout}\n"
                f"--- stderr ---\n{self.stderr}")


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A HOME for the scripts, shared by the module, with matplotlib's font cache built.

    In a new HOME matplotlib builds its font cache on first use; when that takes
    over 5 s (a busy machine, many scripts starting at once) it says so on
    stderr, an extra line in the messages checked here.  So it is built once, now.
    """
    home = tmp_path_factory.mktemp("home")
    subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"],
                   env=script_env(home, home / ".keras"), check=True,
                   timeout=PROCESS_TIMEOUT_SECONDS)
    return home


def script_env(home, keras_home, *, display=False, download=False, **settings):
    """The environment of a script run; ``settings`` are added (``None`` removes one)."""
    env = {name: value for name, value in os.environ.items() if name not in REMOVED_SETTINGS}
    env.update(HOME=str(home), KERAS_HOME=str(keras_home))
    if not display:
        env["MPLBACKEND"] = "Agg"
    if not download:
        env["DNN_NO_DOWNLOAD"] = "1"
    for name, value in settings.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = str(value)
    return env


def run_script(script, *arguments, env, timeout=PROCESS_TIMEOUT_SECONDS):
    """Run ``python <script> <arguments>`` in the project folder and return a :class:`Run`."""
    argv = [sys.executable, script, *map(str, arguments)]
    start = time.perf_counter()
    completed = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True,
                               timeout=timeout)
    return Run(argv[1:], completed.returncode, completed.stdout, completed.stderr,
               time.perf_counter() - start)


def run_in_parallel(jobs, workers=4):
    """Run ``{name: (script, arguments, env)}`` a few at a time; return ``{name: Run}``."""
    with ThreadPoolExecutor(workers) as pool:
        futures = {name: pool.submit(run_script, script, *arguments, env=env)
                   for name, (script, arguments, env) in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


def assert_one_line_error(run, *expected_words):
    """Exit code 2, exactly one line on stderr starting with "Error: ", and no traceback."""
    assert run.returncode == 2, run
    assert "Traceback" not in run.output, run
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), run
    for word in expected_words:
        assert word in lines[0], f"{word!r} missing from the message\n{run}"
    return lines[0]


def snapshot(folder):
    """Content and modification time of every file under ``folder``."""
    return {path: (path.read_bytes(), path.stat().st_mtime_ns)
            for path in sorted(Path(folder).rglob("*")) if path.is_file()}


# ---------------------------------------------------------------------------
# Small data sets, valid and damaged
# ---------------------------------------------------------------------------
IDX_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
TRAIN_COUNT, TEST_COUNT = 20, 10


def idx_bytes(array):
    """The IDX encoding of a uint8 array: magic 0x0000080N, sizes (big-endian 32-bit), data."""
    header = (struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
              + struct.pack(f">{array.ndim}I", *array.shape))
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def small_arrays():
    """Random images with every label 0-9, in the order of IDX_NAMES."""
    generator = np.random.default_rng(6)
    return [
        generator.integers(0, 256, (TRAIN_COUNT, 28, 28), dtype=np.uint8),
        np.arange(TRAIN_COUNT, dtype=np.uint8) % 10,
        generator.integers(0, 256, (TEST_COUNT, 28, 28), dtype=np.uint8),
        np.arange(TEST_COUNT, dtype=np.uint8) % 10,
    ]


def write_idx_folder(folder, contents, compress):
    """Write the four IDX files (bytes in IDX_NAMES order) into ``folder``; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, content in zip(IDX_NAMES, contents):
        path = folder / (name + (".gz" if compress else ""))
        path.write_bytes(gzip.compress(content, mtime=0) if compress else content)
        paths.append(path)
    return paths


def damaged_idx_folder(folder, damage):
    """A folder with MNIST's four IDX files, one of them damaged; returns the damaged file.

    Every file is first made valid and small; then one is broken the way
    ``damage`` says.
    """
    train_images, train_labels, test_images, test_labels = small_arrays()
    contents = [idx_bytes(array)
                for array in (train_images, train_labels, test_images, test_labels)]
    if damage == "truncated-gzip":  # A download that stopped half-way.
        paths = write_idx_folder(folder, contents, compress=True)
        paths[0].write_bytes(paths[0].read_bytes()[: paths[0].stat().st_size * 2 // 3])
        return paths[0]
    if damage == "wrong-magic":  # Bytes swapped by a little-endian writer: 0x01080000.
        contents[1] = contents[1][:4][::-1] + contents[1][4:]
        return write_idx_folder(folder, contents, compress=False)[1]
    if damage == "count-mismatch":  # 20 images, 19 labels.
        contents[1] = idx_bytes(train_labels[:-1])
        return write_idx_folder(folder, contents, compress=True)[0]
    if damage == "label-out-of-range":
        labels = train_labels.copy()
        labels[7] = 12
        contents[1] = idx_bytes(labels)
        return write_idx_folder(folder, contents, compress=False)[1]
    if damage == "huge-header":  # The header claims 2**32 - 1 images: 3.4 TB of pixels.
        contents[0] = contents[0][:4] + struct.pack(">I", 0xFFFFFFFF) + contents[0][8:]
        return write_idx_folder(folder, contents, compress=True)[0]
    raise ValueError(damage)


def write_npz(path, arrays):
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **dict(zip(("x_train", "y_train", "x_test", "y_test"), arrays)))
    return path


# ---------------------------------------------------------------------------
# Cases 1 and 2: damaged data files in --data-dir, DNN_DATA_DIR and the Keras cache
# ---------------------------------------------------------------------------
#: Damage in a folder named with --data-dir (or DNN_DATA_DIR), and the words of the problem.
DAMAGED_DATA_DIR_CASES = {
    "truncated-gzip": "is truncated (its compressed data ends too early)",
    "wrong-magic": "is not an IDX file (it starts with 0x01080000",
    "count-mismatch": f"has {TRAIN_COUNT} images but {TRAIN_COUNT - 1} labels",
    "label-out-of-range": "holds label 12 at position 7, expected labels 0-9",
    "huge-header": "is truncated (expected",
}
#: Damaged files in the Keras cache: (script, file under $KERAS_HOME/datasets).
DAMAGED_CACHE_CASES = {
    "cache-mnist-npz": ("display_HandWrt.py", "mnist.npz"),
    "cache-fashion-gz": ("display_Clothing.py", "fashion-mnist/train-images-idx3-ubyte.gz"),
}


@dataclass
class DamagedRun:
    run: Run
    damaged_file: Path
    folder: Path  # The folder whose files must stay as they were.
    before: dict  # snapshot(folder) before the run


@pytest.fixture(scope="module")
def damaged_data_runs(tmp_path_factory, home):
    """Run a display script on every damaged data set (in parallel); ``{case: DamagedRun}``."""
    base = tmp_path_factory.mktemp("damaged")
    jobs, cases = {}, {}
    for case in DAMAGED_DATA_DIR_CASES:
        data_dir = base / case / "data"
        damaged = damaged_idx_folder(data_dir / "mnist", case)
        outdir, keras_home = base / case / "figures", base / case / "keras"
        if case == "huge-header":  # The same, named by the environment variable.
            env = script_env(home, keras_home, DNN_DATA_DIR=data_dir)
            arguments = ["--no-show", "--outdir", outdir]
        else:
            env = script_env(home, keras_home)
            arguments = ["--no-show", "--outdir", outdir, "--data-dir", data_dir]
        jobs[case] = ("display_HandWrt.py", arguments, env)
        cases[case] = (damaged, data_dir)
    for case, (script, file_name) in DAMAGED_CACHE_CASES.items():
        keras_home = base / case / "keras"
        cache = keras_home / "datasets"
        damaged = cache / file_name
        if file_name.endswith(".npz"):
            write_npz(damaged, small_arrays())
        else:
            write_idx_folder(damaged.parent, [idx_bytes(array) for array in small_arrays()],
                             compress=True)
        damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])
        jobs[case] = (script, ["--no-show", "--outdir", base / case / "figures"],
                      script_env(home, keras_home))
        cases[case] = (damaged, cache)
    befores = {case: snapshot(folder) for case, (_, folder) in cases.items()}
    runs = run_in_parallel(jobs)
    return {case: DamagedRun(runs[case], damaged, folder, befores[case])
            for case, (damaged, folder) in cases.items()}


@pytest.mark.parametrize("case", DAMAGED_DATA_DIR_CASES)
def test_damaged_file_in_data_dir_gives_one_line_and_is_left_alone(damaged_data_runs, case):
    result = damaged_data_runs[case]
    assert_one_line_error(result.run, str(result.damaged_file), DAMAGED_DATA_DIR_CASES[case],
                          "delete it and download it again")
    assert result.run.stdout == "", result.run  # Failed before any figure was made.
    # Byte for byte and time stamp: the loader neither repairs nor deletes, and adds nothing.
    assert snapshot(result.folder) == result.before


@pytest.mark.parametrize("case", DAMAGED_CACHE_CASES)
def test_damaged_keras_cache_file_says_delete_it_and_is_not_deleted(damaged_data_runs, case):
    result = damaged_data_runs[case]
    assert_one_line_error(result.run, str(result.damaged_file),
                          "delete this cached file so that Keras downloads it again")
    assert result.damaged_file.is_file()
    assert snapshot(result.folder) == result.before


# ---------------------------------------------------------------------------
# Case 3: no data anywhere, the sample refused, no network
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("refuse_by", ["--no-sample", "DNN_NO_SAMPLE=1"])
def test_no_data_and_sample_refused_lists_places_and_remedies(tmp_path, home, refuse_by):
    keras_home = tmp_path / "keras"
    if refuse_by == "--no-sample":
        env, arguments = script_env(home, keras_home), ["--no-sample"]
    else:
        env, arguments = script_env(home, keras_home, DNN_NO_SAMPLE=1), []
    run = run_script("display_HandWrt.py", *arguments, "--no-show", "--outdir", tmp_path / "out",
                     env=env)
    message = assert_one_line_error(run, "No MNIST data found; looked at:")
    # Where it looked, in order, and what each place said.
    places = ["DNN_DATA_DIR (not set)",
              f"the Keras cache {keras_home / 'datasets'} (no such folder)",
              "download (skipped: DNN_NO_DOWNLOAD=1)", "the shipped sample (refused"]
    positions = [message.find(place) for place in places]
    assert -1 not in positions and positions == sorted(positions), message
    # How to get the data.
    assert "go online so that Keras can download it" in message
    assert "pass --data-dir DIR (or set DNN_DATA_DIR=DIR)" in message
    assert not keras_home.exists()  # Looking creates nothing.


@pytest.fixture
def silent_server():
    """A local TCP port that accepts connections and never answers: a black-holed network."""
    server = socket.create_server(("127.0.0.1", 0), backlog=8)
    yield server.getsockname()
    server.close()


@pytest.mark.parametrize("network", ["this-machine", "black-hole"])
def test_download_attempt_without_network_gives_up_fast(tmp_path, home, network, request):
    """Without DNN_NO_DOWNLOAD the loader tries to download, and gives up within seconds.

    "this-machine": the network as it is (the lecture machine and CI have none,
    so the name lookup fails at once).  "black-hole": every connection goes to
    a proxy that accepts and never answers, as behind a captive portal or a
    firewall that drops packets; only the loader's timeout
    (dnnkit.data.DOWNLOAD_TIMEOUT_SECONDS, 5 s per connection or read) ends the
    wait, where urllib's default (no timeout) would wait for ever.  MNIST is
    one file (mnist.npz), so one attempt: about 5 s plus 1-2 s of start-up.
    The limit of 20 s leaves room for a busy 2-core machine and still catches
    a missing or much longer timeout.
    """
    keras_home = tmp_path / "keras"
    settings = {}
    if network == "black-hole":
        host, port = request.getfixturevalue("silent_server")
        settings = {name: None for name in PROXY_SETTINGS}
        settings.update(https_proxy=f"http://{host}:{port}", http_proxy=f"http://{host}:{port}")
    env = script_env(home, keras_home, download=True, **settings)
    run = run_script("display_HandWrt.py", "--no-sample", "--no-show", "--outdir", tmp_path / "out",
                     env=env, timeout=120)
    if run.returncode == 0 and "from " + str(keras_home) in run.stdout:
        pytest.skip("this machine is online: MNIST was downloaded")
    assert run.seconds < 20, run
    assert run.returncode == 2, run
    assert "Traceback" not in run.output, run
    error_lines = [line for line in run.stderr.splitlines() if line.startswith("Error: ")]
    assert len(error_lines) == 1, run
    assert "download from https://storage.googleapis.com/tensorflow/tf-keras-datasets/ (failed: " \
        in error_lines[0], run
    # A failed download leaves no partial file in the Keras cache.
    assert not [path for path in keras_home.rglob("*") if path.is_file()]


# ---------------------------------------------------------------------------
# Case 4: invalid options (the clipped --max-samples is checked with the batch below)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("arguments, expected_error", [
    (["--epochs", "0"], "argument --epochs: must be at least 1, got 0"),
    (["--batch-size", "-1"], "argument --batch-size: must be at least 1, got -1"),
    (["--batchsize", "32"], "unrecognized arguments: --batchsize 32"),
    (["--early-stopping", "-1"], "argument --early-stopping: must be at least 1, got -1"),
], ids=["epochs-0", "batch-size-negative", "unknown-option", "early-stopping-negative"])
def test_invalid_option_gives_usage_and_exit_2_before_tensorflow(tmp_path, home, arguments,
                                                                 expected_error):
    run = run_script("MLP_MNIST_digits_tf.py", *arguments, "--no-show",
                     "--outdir", tmp_path / "out", env=script_env(home, tmp_path / "keras"))
    assert run.returncode == 2, run
    assert "Traceback" not in run.output, run
    assert run.stderr.startswith("usage: MLP_MNIST_digits_tf.py "), run
    assert run.stderr.strip().splitlines()[-1] == f"MLP_MNIST_digits_tf.py: error: {expected_error}"
    assert run.stdout == "", run  # No "Device:" line: TensorFlow was never set up.
    assert not (tmp_path / "out").exists()  # Nothing was made.


# ---------------------------------------------------------------------------
# Case 5: an output folder that cannot be written
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["a-file", "below-a-file"])
def test_unwritable_outdir_fails_before_training(tmp_path, home, where):
    blocker = tmp_path / "results.txt"
    blocker.write_text("my notes\n")
    outdir = blocker if where == "a-file" else blocker / "figures"
    run = run_script("MLP_MNIST_digits_tf.py", "--epochs", "1", "--no-show", "--outdir", outdir,
                     env=script_env(home, tmp_path / "keras"))
    message = assert_one_line_error(run, str(outdir), "--outdir")
    expected = "is a file, not a folder" if where == "a-file" else "cannot write into output folder"
    assert expected in message
    # Checked before TensorFlow is imported: no device line, no data, no epoch.
    assert "Device:" not in run.output and "Epoch" not in run.output and "Data:" not in run.output
    assert blocker.read_text() == "my notes\n"


# ---------------------------------------------------------------------------
# Case 6: Ctrl-C during training, and while a figure is being written
# ---------------------------------------------------------------------------
#: The line Keras prints at the end of an epoch under a pipe (verbose=2).
EPOCH_SUMMARY = re.compile(r"^\s*\d+/\d+ - .*\bloss: ")


def read_lines_into(stream, lines):
    """Reader thread: put each line of ``stream`` into the queue ``lines``, then None."""
    for line in stream:
        lines.put(line)
    lines.put(None)


def restore_ctrl_c():
    """Give the child the default Ctrl-C handling, as in a user's terminal.

    A shell without job control starts background jobs (``cmd &``) with SIGINT
    ignored, and children inherit that; Python then never raises
    KeyboardInterrupt.  The test must not depend on how it was started.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_during_training_exits_130_and_leaves_no_figure(tmp_path, home):
    outdir = tmp_path / "figures"
    epochs = 50
    stderr_file = tmp_path / "stderr.txt"
    with open(stderr_file, "w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "MLP_MNIST_digits_tf.py", "--epochs", str(epochs),
             "--max-samples", "2000", "--outdir", str(outdir), "--no-show"],
            cwd=ROOT, env=script_env(home, tmp_path / "keras"), stdout=subprocess.PIPE,
            stderr=stderr, text=True, preexec_fn=restore_ctrl_c)
    lines = queue.Queue()
    reader = threading.Thread(target=read_lines_into, args=(process.stdout, lines), daemon=True)
    reader.start()
    stdout = []
    try:
        deadline = time.monotonic() + PROCESS_TIMEOUT_SECONDS
        # Under a pipe Keras prints "Epoch 1/50", then one summary line per epoch.
        while not any(EPOCH_SUMMARY.match(line) for line in stdout):
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.1))
            assert line is not None, "the script ended before its first epoch:\n" + "".join(stdout)
            stdout.append(line)
        process.send_signal(signal.SIGINT)  # What Ctrl-C sends.
        returncode = process.wait(timeout=60)
    except (queue.Empty, subprocess.TimeoutExpired):
        pytest.fail("no epoch finished, or no exit after Ctrl-C:\n" + "".join(stdout))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(timeout=10)
    while not lines.empty():
        stdout.append(lines.get_nowait() or "")
    stdout, stderr = "".join(stdout), stderr_file.read_text()

    assert returncode == 130, f"exit code {returncode}\n{stdout}\n{stderr}"
    assert "Traceback" not in stdout + stderr and "Exception ignored" not in stdout + stderr, stderr
    interrupted = re.search(r"^Interrupted after epoch (\d+)$", stderr, re.MULTILINE)
    assert interrupted, stderr
    completed = int(interrupted.group(1))
    summaries = sum(1 for line in stdout.splitlines() if EPOCH_SUMMARY.match(line))
    # The epoch named is the last one that finished (its summary may have been cut off).
    assert 1 <= completed < epochs and completed in (summaries, summaries + 1), (completed, stdout)
    assert "Test accuracy" not in stdout  # Stopped: no evaluation, no figures.
    assert list(outdir.iterdir()) == []  # No PNG, no temporary or write-test file.


#: A script whose only figure takes a minute to draw, so that it can be
#: interrupted while save_figure is writing it.
SLOW_FIGURE_SCRIPT = """
import sys, time
from matplotlib.artist import Artist
from dnnkit import plotting, runtime
import matplotlib.pyplot as plt

class SlowArtist(Artist):
    def draw(self, renderer):
        print("drawing", flush=True)
        time.sleep(60)

args = runtime.parse_args(runtime.make_parser("A script with one slow figure."))
fig, ax = plt.subplots()
ax.add_artist(SlowArtist())
plotting.save_figure(fig, "figure", args.outdir)
"""


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGKILL],
                         ids=["SIGINT", "SIGKILL"])
def test_interrupted_figure_write_keeps_the_older_figure_whole(tmp_path, home, signal_number):
    """save_figure writes to a temporary name and renames it: a stopped write never
    leaves a half-written figure under the real name; Ctrl-C also removes the temporary file."""
    outdir = tmp_path / "figures"
    outdir.mkdir()
    older = outdir / "figure.png"
    older.write_bytes(PNG_SIGNATURE + b"an older, complete figure" + PNG_END)
    before = older.read_bytes()
    process = subprocess.Popen([sys.executable, "-c", SLOW_FIGURE_SCRIPT, "--outdir", str(outdir)],
                               cwd=ROOT,
                               env=script_env(home, tmp_path / "keras"), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, preexec_fn=restore_ctrl_c)
    try:
        assert process.stdout.readline() == "drawing\n"
        # Mid-write: the new figure goes into a temporary file; the old one is untouched.
        temporary = [name for name in os.listdir(outdir) if name != "figure.png"]
        assert len(temporary) == 1, temporary
        assert re.fullmatch(r"\.figure\..*\.png\.tmp", temporary[0]), temporary
        assert older.read_bytes() == before
        process.send_signal(signal_number)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert older.read_bytes() == before
    if signal_number == signal.SIGINT:
        assert process.returncode == 130, stderr
        assert stderr.strip() == "Interrupted" and "Traceback" not in stdout + stderr
        assert os.listdir(outdir) == ["figure.png"]  # The temporary file was removed.
    else:
        assert process.returncode == -signal.SIGKILL


# ---------------------------------------------------------------------------
# Cases 7, 8 and the clipped --max-samples of case 4: the scripts at once, no display
# ---------------------------------------------------------------------------
#: Each run: (script, arguments on the shortest settings, the prefix of its figures).
#: display_HandWrt.py runs twice, writing the same three figures at the same time.
BATCH = {
    "display_HandWrt-a": ("display_HandWrt.py", ["--count", "4"], "display_mnist_"),
    "display_HandWrt-b": ("display_HandWrt.py", ["--count", "4", "--start", "100"],
                          "display_mnist_"),
    "display_Clothing": ("display_Clothing.py", ["--count", "4", "--random"],
                         "display_fashion_mnist_"),
    "intro": ("intro.py", [], "intro_"),
    "MLP_MNIST_digits_tf": ("MLP_MNIST_digits_tf.py",
                            ["--epochs", "1", "--batch-size", "256", "--max-samples", "100000"],
                            "MLP_MNIST_digits_"),
    "tf_intro": ("tf_intro.py", ["--epochs", "1", "--samples", "10"], "tf_intro_"),
    "linearRegression": ("linearRegression.py", ["--steps", "1", "--samples", "2"],
                         "linearRegression_"),
}
#: Every script of the batch saves at least this many figures.
FIGURES_PER_SCRIPT = 3
#: Only there does unsetting DISPLAY and WAYLAND_DISPLAY mean "no display" (as over ssh).
HEADLESS_PLATFORM = sys.platform not in ("darwin", "win32")


class Batch:
    """Processes started together in one output folder; their output goes to files."""

    def __init__(self, folder, env):
        self.outdir = folder / "figures"
        self.outdir.mkdir()
        self.logs = folder / "logs"
        self.logs.mkdir()
        self.runs = None
        self.started = time.perf_counter()
        self.processes = {}
        for name, (script, arguments, _) in BATCH.items():
            # No --no-show: without a display, showing must quietly do nothing.  (On
            # macOS and Windows there is always a display, and a window would wait.)
            argv = [sys.executable, script, *arguments, "--outdir", str(self.outdir),
                    *([] if HEADLESS_PLATFORM else ["--no-show"])]
            with open(self.logs / f"{name}.out", "w") as stdout, \
                    open(self.logs / f"{name}.err", "w") as stderr:
                self.processes[name] = (argv, subprocess.Popen(argv, cwd=ROOT, env=env,
                                                               stdout=stdout, stderr=stderr))

    def wait(self):
        """Wait for every process (killing any that hangs); return ``{name: Run}``."""
        if self.runs is None:
            deadline = self.started + 2 * PROCESS_TIMEOUT_SECONDS
            self.runs = {}
            for name, (argv, process) in self.processes.items():
                try:
                    returncode = process.wait(timeout=max(deadline - time.perf_counter(), 1))
                except subprocess.TimeoutExpired:
                    process.kill()
                    returncode = f"{process.wait()} (killed: still running after " \
                                 f"{2 * PROCESS_TIMEOUT_SECONDS} s)"
                self.runs[name] = Run(argv[1:], returncode, (self.logs / f"{name}.out").read_text(),
                                      (self.logs / f"{name}.err").read_text(),
                                      time.perf_counter() - self.started)
        return self.runs

    def stop(self):
        for _, process in self.processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def headless_batch(tmp_path_factory, home):
    """Every kind of script at once, into one folder, with no display (see BATCH)."""
    folder = tmp_path_factory.mktemp("headless")
    env = script_env(home, folder / "keras", display=True, **{name: None for name in NO_DISPLAY})
    batch = Batch(folder, env)
    yield batch
    batch.stop()


@pytest.fixture(scope="module", autouse=True)
def _start_the_batch_early(request):
    """Start the batch when the module begins, if a selected test needs it.

    Its runs import TensorFlow three times; in the background they use the
    second core while the quick tests run.
    """
    if any("headless_batch" in item.fixturenames for item in request.session.items
           if item.module is request.module):
        request.getfixturevalue("headless_batch")


@pytest.mark.skipif(not HEADLESS_PLATFORM, reason="macOS always has a display")
def test_without_a_display_every_script_finishes_and_saves_its_figures(headless_batch):
    runs = headless_batch.wait()
    for name, run in runs.items():
        assert run.returncode == 0, run
        assert "Traceback" not in run.output, run
        # Showing was skipped, not attempted on a backend without windows.
        assert "non-interactive" not in run.stderr, run
        # Each figure is saved, and the script says where.
        saved = re.findall(r"^Saved (.*\.png)$", run.stdout, re.MULTILINE)
        prefix = BATCH[name][2]
        assert len(saved) >= FIGURES_PER_SCRIPT, run
        for figure in map(Path, saved):
            assert figure.parent == headless_batch.outdir and figure.name.startswith(prefix), run
            assert figure.is_file(), f"{figure} missing\n{run}"


def test_scripts_writing_into_one_folder_at_once_leave_only_complete_pngs(headless_batch):
    from PIL import Image

    runs = headless_batch.wait()
    assert all(run.returncode == 0 for run in runs.values()), "\n\n".join(map(str, runs.values()))
    files = sorted(os.listdir(headless_batch.outdir))
    # No temporary figure, no write-test file: nothing but the finished PNGs.
    assert all(name.endswith(".png") and not name.startswith(".") for name in files), files
    for _, _, prefix in BATCH.values():
        assert sum(name.startswith(prefix) for name in files) >= FIGURES_PER_SCRIPT, files
    for name in files:
        content = (headless_batch.outdir / name).read_bytes()
        assert content.startswith(PNG_SIGNATURE) and content.endswith(PNG_END), name
        with Image.open(headless_batch.outdir / name) as image:
            image.load()  # Decodes every row: fails on a PNG cut short or mixed from two writers.
            assert image.width > 100 and image.height > 100, name


def test_max_samples_larger_than_the_data_is_clipped_with_a_note(headless_batch):
    run = headless_batch.wait()["MLP_MNIST_digits_tf"]
    assert run.returncode == 0, run
    assert ("Note: --max-samples 100000 is not less than the 3000 training images; "
            "using all of them.") in run.stdout, run
    assert "stratified subset" not in run.stdout
    # All 3000 images were used: 2700 for training in batches of 256 is 11 steps per epoch.
    assert re.search(r"^11/11 - ", run.stdout, re.MULTILINE), run


# ---------------------------------------------------------------------------
# A script opened as a notebook
# ---------------------------------------------------------------------------
NOTEBOOK_KERNEL_RUN = """
import runpy, sys, types
sys.path.insert(0, {root!r})
sys.modules["ipykernel"] = types.ModuleType("ipykernel")  # as in a Jupyter kernel
sys.argv = ["ipykernel_launcher.py", "--f=/tmp/kernel-1.json"]  # the kernel's own options
runpy.run_path({script!r}, run_name="__main__")  # "Run All": the last cell included
print("kernel still running")
"""


def test_run_all_cells_in_a_notebook_kernel_uses_the_lecture_settings(home, tmp_path):
    """VS Code, Spyder and Jupyter run the cells with ``__name__ == "__main__"`` and
    the kernel's own command line: the last cell must not read it, nor exit."""
    code = NOTEBOOK_KERNEL_RUN.format(root=str(ROOT), script=str(ROOT / "display_HandWrt.py"))
    completed = subprocess.run([sys.executable, "-c", code], cwd=tmp_path,
                               env=script_env(home, home / ".keras"), capture_output=True,
                               text=True, timeout=PROCESS_TIMEOUT_SECONDS)
    assert completed.returncode == 0, completed.stderr
    assert "Running in a notebook" in completed.stdout
    assert completed.stdout.rstrip().endswith("kernel still running")
    assert len(list((tmp_path / "figures").glob("display_mnist_*.png"))) == 3


def test_a_missing_data_dir_is_reported_before_tensorflow_loads(home, tmp_path):
    run = run_script("MLP_MNIST_digits_tf.py", "--data-dir", tmp_path / "no_such_folder",
                     "--no-show", "--outdir", tmp_path / "figures",
                     env=script_env(home, home / ".keras"))
    assert run.returncode == 2, run
    assert run.stderr.strip().splitlines() == [
        f"Error: {tmp_path / 'no_such_folder'} (from --data-dir) is no such folder: point "
        f"--data-dir at the folder that holds mnist/ and fashion-mnist/"], run
    assert "Device:" not in run.stdout  # TensorFlow was never set up
