"""Tests of dnnkit.runtime: command line, exit codes, device set-up, seeds, data.

TensorFlow is imported only by the few tests that need it (seeds and the
reproducibility of a tiny training); everything else runs without it.
"""

import argparse
import os
import random
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from dnnkit import runtime
from dnnkit.errors import UserError

ROOT = Path(__file__).resolve().parent.parent

DOC = """Train a tiny example network.

More text that must not end up in the description.
"""


@pytest.fixture
def parser():
    return runtime.make_parser(DOC, epochs=3, batch_size=8, data=True)


# ---------------------------------------------------------------------------
# argparse types and the parser
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["0", "-1", "abc", "1.5", ""])
def test_positive_int_rejects(text):
    with pytest.raises(argparse.ArgumentTypeError):
        runtime.positive_int(text)


def test_positive_int_accepts():
    assert runtime.positive_int("1") == 1
    assert runtime.positive_int("250") == 250


@pytest.mark.parametrize("text", ["0", "-1", "abc", "-0.5", "0.0", "nan"])
def test_positive_float_rejects(text):
    with pytest.raises(argparse.ArgumentTypeError):
        runtime.positive_float(text)


def test_positive_float_accepts():
    assert runtime.positive_float("0.001") == pytest.approx(0.001)
    assert runtime.positive_float("2") == 2.0


def test_parser_defaults_are_the_values_passed(parser, tmp_path):
    args = parser.parse_args([])
    assert args.epochs == 3
    assert args.batch_size == 8
    assert args.seed == runtime.DEFAULT_SEED
    assert args.max_samples is None
    assert args.data_dir is None
    assert args.no_sample is False
    assert args.cpu is False
    assert args.no_show is False
    assert args.outdir == runtime.DEFAULT_OUTDIR

    other = runtime.make_parser(DOC, epochs=12, batch_size=64, seed=7)
    args = other.parse_args([])
    assert (args.epochs, args.batch_size, args.seed) == (12, 64, 7)
    # Without data=True there are no data options.
    assert not hasattr(args, "max_samples")


def test_parser_without_epochs_has_no_training_options():
    args = runtime.make_parser(DOC).parse_args([])
    for name in ("epochs", "batch_size", "cpu"):
        assert not hasattr(args, name)
    assert hasattr(args, "outdir") and hasattr(args, "no_show") and hasattr(args, "seed")


def test_parser_description_is_the_first_docstring_line(parser):
    assert parser.description == "Train a tiny example network."


def test_parser_accepts_valid_options(parser):
    args = parser.parse_args(["--epochs", "5", "--batch-size", "32", "--max-samples", "100",
                              "--cpu", "--no-show", "--seed", "1", "--data-dir", "d"])
    assert (args.epochs, args.batch_size, args.max_samples) == (5, 32, 100)
    assert args.cpu and args.no_show and args.seed == 1 and args.data_dir == "d"


@pytest.mark.parametrize("argv", [
    ["--epochs", "0"],
    ["--epochs", "abc"],
    ["--batch-size", "-1"],
    ["--max-samples", "0"],
    ["--no-such-option"],
])
def test_parser_rejects_bad_options_with_exit_code_2(parser, argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(argv)
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_help_exits_0(parser, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["--help"])
    assert exit_info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--epochs" in out and "--max-samples" in out and "--outdir" in out
    assert "passes over the training data (default: 3)" in out  # the lecture's settings


# ---------------------------------------------------------------------------
# parse_args and the output folder
# ---------------------------------------------------------------------------
def _assert_one_line_outdir_error(error):
    message = str(error.value)
    assert "\n" not in message
    assert "--outdir" in message


def test_parse_args_outdir_is_a_file(parser, tmp_path):
    target = tmp_path / "a_file"
    target.write_text("not a folder")
    with pytest.raises(UserError) as error:
        runtime.parse_args(parser, ["--outdir", str(target)])
    _assert_one_line_outdir_error(error)
    assert target.read_text() == "not a folder"


def test_parse_args_outdir_below_a_file(parser, tmp_path):
    # Fails for root too (unlike a read-only folder): a file cannot hold a folder.
    target = tmp_path / "a_file"
    target.write_text("not a folder")
    with pytest.raises(UserError) as error:
        runtime.parse_args(parser, ["--outdir", str(target / "sub")])
    _assert_one_line_outdir_error(error)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root writes into read-only folders, so chmod cannot provoke the error")
def test_parse_args_outdir_read_only(parser, tmp_path):
    folder = tmp_path / "read_only"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(UserError) as error:
            runtime.parse_args(parser, ["--outdir", str(folder)])
    finally:
        folder.chmod(0o700)
    _assert_one_line_outdir_error(error)


def test_parse_args_creates_missing_nested_outdir(parser, tmp_path):
    target = tmp_path / "one" / "two" / "three"
    args = runtime.parse_args(parser, ["--outdir", str(target)])
    assert target.is_dir()
    assert Path(args.outdir) == target
    # The write test leaves nothing behind.
    assert list(target.iterdir()) == []


# ---------------------------------------------------------------------------
# Errors that end a script: one line and an exit code
# ---------------------------------------------------------------------------
def test_user_error_is_one_line_with_exit_code_2():
    error = UserError("the data folder x holds no MNIST files")
    assert runtime.exit_code_and_message(error) == (
        runtime.EXIT_USER_ERROR, "Error: the data folder x holds no MNIST files")


def test_ctrl_c_gives_130_and_names_the_epoch():
    assert runtime.exit_code_and_message(KeyboardInterrupt()) == (130, "Interrupted")
    assert runtime.exit_code_and_message(runtime.TrainingInterrupted(3)) == (
        runtime.EXIT_INTERRUPTED, "Interrupted after epoch 3")


def test_training_interrupted_is_a_keyboard_interrupt():
    interrupt = runtime.TrainingInterrupted(5)
    assert isinstance(interrupt, KeyboardInterrupt)
    assert interrupt.epochs_completed == 5
    assert str(interrupt) == "Interrupted after epoch 5"


def test_other_errors_are_bugs_with_a_traceback():
    assert runtime.exit_code_and_message(ValueError("a bug, not a user error")) is None


def _tensorflow_error(kind, message):
    import tensorflow as tf

    return getattr(tf.errors, kind)(None, None, message)


@pytest.mark.parametrize("kind, message", [
    ("ResourceExhaustedError", "OOM when allocating tensor with shape[128,32,26,26]"),
    ("InternalError", "failed initializing StreamExecutor for CUDA device ordinal 0: "
                      "INTERNAL: failed call to cuDevicePrimaryCtxRetain: "
                      "CUDA_ERROR_OUT_OF_MEMORY: out of memory"),
])
def test_a_full_gpu_gives_one_line_with_the_remedies(kind, message, monkeypatch):
    runtime.import_tensorflow()
    monkeypatch.setattr(runtime, "gpu_in_use", lambda: True)
    code, line = runtime.exit_code_and_message(_tensorflow_error(kind, message))
    assert code == runtime.EXIT_USER_ERROR == 2
    assert line.startswith("Error: the GPU's memory is full, perhaps taken by other users")
    for remedy in ("--cpu", "--batch-size", "nvidia-smi"):
        assert remedy in line
    assert "\n" not in line
    # Without a GPU, the computer's memory is what ran out.
    monkeypatch.setattr(runtime, "gpu_in_use", lambda: False)
    assert "computer's memory is full" in runtime.exit_code_and_message(
        _tensorflow_error(kind, message))[1]
    # Another internal error stays a bug.
    assert runtime.exit_code_and_message(_tensorflow_error("InternalError", "other")) is None


#: A script that fails in the way given on its command line, after some output.
FAILING_SCRIPT = """
import sys
from dnnkit import runtime
from dnnkit.errors import UserError

parser = runtime.make_parser("A failing script.")
parser.add_argument("how")
args = runtime.parse_args(parser)
print("work done so far")
if args.how == "user-error":
    raise UserError("the data folder x holds no MNIST files: use --data-dir")
if args.how == "ctrl-c":
    raise runtime.TrainingInterrupted(2)
if args.how == "gpu-full":
    runtime.import_tensorflow()
    import tensorflow as tf
    raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor")
raise ValueError("a bug")
"""


@pytest.mark.parametrize("how, code, line", [
    ("user-error", 2, "Error: the data folder x holds no MNIST files: use --data-dir"),
    ("ctrl-c", 130, "Interrupted after epoch 2"),
    # TensorFlow in a fresh process: the full tier (the message: test_a_full_gpu_gives_...).
    pytest.param("gpu-full", 2, "Error: the computer's memory is full: use a smaller "
                 "--batch-size or train on fewer images with --max-samples",
                 marks=pytest.mark.full),
])
def test_a_script_ends_with_one_line_and_its_exit_code(how, code, line, tmp_path):
    """The excepthook that parse_args installs on the command line, in a real process."""
    script = tmp_path / "failing.py"
    script.write_text(FAILING_SCRIPT)
    completed = subprocess.run(
        [sys.executable, str(script), how, "--outdir", str(tmp_path / "out")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env=dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg"))
    assert completed.returncode == code, completed.stderr
    assert completed.stdout == "work done so far\n"  # printed output is flushed, not lost
    # The last line; before it at most TensorFlow's own start-up log.
    assert completed.stderr.strip().splitlines()[-1] == line
    assert "Traceback" not in completed.stderr


def test_a_bug_still_shows_its_traceback(tmp_path):
    script = tmp_path / "failing.py"
    script.write_text(FAILING_SCRIPT)
    completed = subprocess.run(
        [sys.executable, str(script), "bug", "--outdir", str(tmp_path / "out")],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert completed.returncode == 1
    assert "Traceback" in completed.stderr and "ValueError: a bug" in completed.stderr


# ---------------------------------------------------------------------------
# setup_device with a fake tf.config
# ---------------------------------------------------------------------------
class FakeDevice:
    def __init__(self, name):
        self.name = name


class FakeConfig:
    """Stands in for ``tf.config``; records every call in order."""

    def __init__(self, gpus=(), details=None, growth_error=None):
        self.calls = []
        self._gpus = [FakeDevice(f"/physical_device:GPU:{i}") for i in range(len(gpus))]
        self._details = details
        self._growth_error = growth_error
        self.experimental = types.SimpleNamespace(
            set_memory_growth=self._set_memory_growth,
            get_device_details=self._get_device_details,
        )

    def list_physical_devices(self, kind=None):
        self.calls.append(("list_physical_devices", kind))
        return list(self._gpus) if kind == "GPU" else []

    def set_visible_devices(self, devices, kind=None):
        self.calls.append(("set_visible_devices", list(devices), kind))

    def _set_memory_growth(self, device, enable):
        self.calls.append(("set_memory_growth", device.name, enable))
        if self._growth_error is not None:
            raise self._growth_error

    def _get_device_details(self, device):
        self.calls.append(("get_device_details", device.name))
        return self._details

    def names(self):
        return [call[0] for call in self.calls]


def test_setup_device_without_gpu():
    config = FakeConfig()
    assert runtime.setup_device(tf_config=config) == "Device: CPU (no GPU visible)"
    assert "set_memory_growth" not in config.names()
    assert "set_visible_devices" not in config.names()


def test_setup_device_with_one_gpu_switches_on_memory_growth_first():
    config = FakeConfig(gpus=[1], details={"device_name": "NVIDIA Quadro P1000"})
    line = runtime.setup_device(tf_config=config)
    assert line == "Device: GPU 0 (NVIDIA Quadro P1000)"
    names = config.names()
    assert ("set_memory_growth", "/physical_device:GPU:0", True) in config.calls
    # Memory growth comes before anything else is done with the GPU.
    after_listing = [name for name in names if name != "list_physical_devices"]
    assert after_listing[0] == "set_memory_growth"
    assert names.index("set_memory_growth") < names.index("get_device_details")
    assert "set_visible_devices" not in names


def test_setup_device_gpu_without_details_uses_the_device_name():
    config = FakeConfig(gpus=[1], details=None)
    assert runtime.setup_device(tf_config=config) == "Device: GPU 0 (/physical_device:GPU:0)"


def test_setup_device_force_cpu_hides_the_gpus():
    config = FakeConfig(gpus=[1], details={"device_name": "NVIDIA Quadro P1000"})
    line = runtime.setup_device(force_cpu=True, tf_config=config)
    assert ("set_visible_devices", [], "GPU") in config.calls
    assert line.startswith("Device: CPU")
    assert "GPU 0" not in line
    assert "set_memory_growth" not in config.names()


def test_setup_device_tolerates_memory_growth_error():
    config = FakeConfig(gpus=[1], details={"device_name": "NVIDIA Quadro P1000"},
                        growth_error=RuntimeError("Physical devices cannot be modified "
                                                  "after being initialized"))
    assert runtime.setup_device(tf_config=config) == "Device: GPU 0 (NVIDIA Quadro P1000)"
    assert "set_memory_growth" in config.names()


# ---------------------------------------------------------------------------
# enable_onednn
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("machine", ["x86_64", "AMD64"])
def test_enable_onednn_switches_it_on_on_x86_64(machine):
    environ = {}
    assert runtime.enable_onednn(environ, machine=machine) == "1"
    assert environ == {"TF_ENABLE_ONEDNN_OPTS": "1"}


@pytest.mark.parametrize("choice", ["0", "1"])
def test_enable_onednn_leaves_the_users_choice_alone(choice):
    environ = {"TF_ENABLE_ONEDNN_OPTS": choice}
    assert runtime.enable_onednn(environ, machine="x86_64") == choice
    assert environ == {"TF_ENABLE_ONEDNN_OPTS": choice}


@pytest.mark.parametrize("machine", ["arm64", "aarch64"])
def test_enable_onednn_does_nothing_on_arm(machine):
    # Apple silicon and ARM Linux: TensorFlow's own defaults stay.
    environ = {}
    assert runtime.enable_onednn(environ, machine=machine) is None
    assert environ == {}


# ---------------------------------------------------------------------------
# Seeds
# ---------------------------------------------------------------------------
def _python_and_numpy_draws():
    return [random.random() for _ in range(5)], np.random.rand(5), np.random.randint(0, 1000, 5)


def test_set_seed_repeats_python_and_numpy_draws():
    runtime.set_seed(123)
    first = _python_and_numpy_draws()
    runtime.set_seed(123)
    second = _python_and_numpy_draws()
    assert first[0] == second[0]
    np.testing.assert_array_equal(first[1], second[1])
    np.testing.assert_array_equal(first[2], second[2])
    runtime.set_seed(124)
    other = _python_and_numpy_draws()
    assert other[0] != first[0]


def _import_keras():
    runtime.import_tensorflow()
    from dnnkit import compat

    return compat.keras()


def _tiny_model(keras):
    return keras.Sequential([keras.Input(shape=(4,)),
                             keras.layers.Dense(3, activation="relu"),
                             keras.layers.Dense(2, activation="softmax")])


def test_set_seed_repeats_initial_weights_and_dropout_masks():
    """The same seed, the same initial weights and Dropout masks, on every Keras."""
    keras = _import_keras()

    def draws():
        runtime.set_seed(7)
        model = _tiny_model(keras)
        mask = keras.layers.Dropout(0.5)(np.ones((1, 40), "float32"), training=True)
        return [w.copy() for w in model.get_weights()], np.asarray(mask)

    weights_1, mask_1 = draws()
    weights_2, mask_2 = draws()
    assert len(weights_1) == len(weights_2) == 4
    for w1, w2 in zip(weights_1, weights_2):
        np.testing.assert_array_equal(w1, w2)
    np.testing.assert_array_equal(mask_1, mask_2)
    assert 0 < np.count_nonzero(mask_1) < 40  # a real mask: the check is not vacuous
    runtime.set_seed(8)
    assert not np.array_equal(_tiny_model(keras).get_weights()[0], weights_1[0])


def _first_samples_of_each_epoch(keras, epochs=4):
    """Train on the samples 0, 1, ..., 199 for ``epochs`` epochs (batches of 20, no
    re-seeding); the first 3 samples of each epoch, in the order the training saw them."""

    class Recorder(keras.layers.Layer):  # keeps the first sample of the last batch
        def build(self, input_shape):
            self.first = self.add_weight(name="first", shape=(), initializer="zeros",
                                         trainable=False)

        def call(self, inputs, training=None):
            if training:
                self.first.assign(inputs[0, 0])
            return inputs

    recorder = Recorder()
    model = keras.Sequential([keras.Input(shape=(1,)), recorder, keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    seen = []

    class Collect(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch < 3:
                seen.append(int(recorder.first.numpy()))

    x = np.arange(200, dtype="float32")[:, None]
    model.fit(x, x / 200, epochs=epochs, batch_size=20, validation_split=0.1,
              callbacks=[Collect()], verbose=0)
    return [tuple(seen[i:i + 3]) for i in range(0, 3 * epochs, 3)]


def test_seeded_training_draws_a_new_batch_order_every_epoch(monkeypatch):
    """After set_seed, model.fit shuffles anew every epoch, on every Keras.

    Keras 3 with TensorFlow's global seed set would feed every epoch the same
    order (compat.seed_tensorflow): that order is kept only on request.
    """
    keras = _import_keras()
    monkeypatch.delenv(runtime.SAME_BATCH_ORDER_VARIABLE, raising=False)
    runtime.set_seed(3)
    orders = _first_samples_of_each_epoch(keras)
    assert len(orders) == 4 and len(set(orders)) == 4, orders
    assert all(0 <= sample < 180 for order in orders for sample in order)  # training part


def test_same_batch_order_variable_repeats_the_batch_order(monkeypatch):
    """With DNN_SAME_BATCH_ORDER=1, two runs with the same seed see the same batches; on
    Keras 3 that is the same order every epoch, elsewhere a new one every epoch."""
    from dnnkit import compat

    keras = _import_keras()
    monkeypatch.setenv(runtime.SAME_BATCH_ORDER_VARIABLE, "1")
    runtime.set_seed(3)
    first = _first_samples_of_each_epoch(keras)
    runtime.set_seed(3)
    second = _first_samples_of_each_epoch(keras)
    assert first == second
    assert len(set(first)) == (1 if compat.restarts_batch_order() else 4), first


def test_two_tiny_trainings_with_the_same_seed_give_the_same_losses(monkeypatch):
    """With the same seed and DNN_SAME_BATCH_ORDER=1, training on the CPU is repeatable."""
    keras = _import_keras()
    monkeypatch.setenv(runtime.SAME_BATCH_ORDER_VARIABLE, "1")

    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 4)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")

    def train():
        runtime.set_seed(11)
        model = _tiny_model(keras)
        model.compile(optimizer=keras.optimizers.SGD(0.1),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.1, verbose=0)
        return history.history

    first = train()
    keras.backend.clear_session()
    second = train()
    assert len(first["loss"]) == 3
    assert first["loss"] == second["loss"]
    assert first["val_loss"] == second["val_loss"]


# ---------------------------------------------------------------------------
# load_data and --max-samples
# ---------------------------------------------------------------------------
@pytest.fixture
def fake_data(monkeypatch):
    """Replace ``dnnkit.data.load_dataset`` by 200 synthetic images of 4 classes."""
    rng = np.random.default_rng(1)
    x_train = rng.integers(0, 256, size=(200, 28, 28), dtype=np.uint8)
    y_train = np.repeat(np.arange(4, dtype=np.uint8), 50)
    rng.shuffle(y_train)
    x_test = rng.integers(0, 256, size=(30, 28, 28), dtype=np.uint8)
    y_test = np.arange(30, dtype=np.uint8) % 4
    calls = []

    def load_dataset_and_source(name, data_dir=None, allow_sample=None, verbose=True):
        calls.append({"name": name, "data_dir": data_dir, "allow_sample": allow_sample})
        return (x_train, y_train), (x_test, y_test), "a source"

    import dnnkit.data as data_module

    monkeypatch.setattr(data_module, "load_dataset_and_source", load_dataset_and_source)
    return types.SimpleNamespace(x_train=x_train, y_train=y_train, x_test=x_test,
                                 y_test=y_test, calls=calls)


def test_load_data_max_samples_keeps_a_stratified_subset(parser, fake_data, tmp_path, capsys):
    somewhere = tmp_path / "somewhere"
    somewhere.mkdir()
    args = runtime.parse_args(parser, ["--max-samples", "40", "--data-dir", str(somewhere),
                                       "--outdir", str(tmp_path)])
    (x_train, y_train), (x_test, y_test) = runtime.load_data(args, "mnist")
    assert len(x_train) == len(y_train) == 40
    # Stratified: the 4 equally common classes keep 10 images each.
    assert np.bincount(y_train, minlength=4).tolist() == [10, 10, 10, 10]
    # Each kept image still carries its own label.
    for image, label in zip(x_train, y_train):
        matches = np.flatnonzero((fake_data.x_train == image).all(axis=(1, 2)))
        assert fake_data.y_train[matches[0]] == label
    # The test set stays whole.
    assert x_test is fake_data.x_test and y_test is fake_data.y_test
    assert fake_data.calls == [{"name": "mnist", "data_dir": str(somewhere), "allow_sample": None}]
    assert "subset of 40 images" in capsys.readouterr().out


def test_load_data_max_samples_just_below_the_data(parser, fake_data, tmp_path):
    # Fewer images left out than there are classes: still exactly --max-samples of them.
    args = runtime.parse_args(parser, ["--max-samples", "198", "--outdir", str(tmp_path)])
    (x_train, y_train), _ = runtime.load_data(args, "mnist")
    assert len(x_train) == len(y_train) == 198
    assert np.bincount(y_train, minlength=4).min() >= 48


def test_load_data_max_samples_larger_than_the_data(parser, fake_data, tmp_path, capsys):
    args = runtime.parse_args(parser, ["--max-samples", "5000", "--no-sample",
                                       "--outdir", str(tmp_path)])
    (x_train, y_train), _ = runtime.load_data(args, "fashion_mnist")
    assert len(x_train) == 200
    assert x_train is fake_data.x_train
    out = capsys.readouterr().out
    assert "Note:" in out and "5000" in out and "200" in out
    assert fake_data.calls[0]["allow_sample"] is False
    assert fake_data.calls[0]["name"] == "fashion_mnist"


def test_load_data_without_max_samples_returns_everything(parser, fake_data, tmp_path, capsys):
    args = runtime.parse_args(parser, ["--outdir", str(tmp_path)])
    (x_train, _), _ = runtime.load_data(args, "mnist")
    assert x_train is fake_data.x_train
    assert capsys.readouterr().out == ""
    # The loader's Source comes along where it is asked for (saved with a trained network).
    ((x_train, _), _), source = runtime.load_data_and_source(args, "mnist")
    assert x_train is fake_data.x_train and source == "a source"


def test_load_data_for_a_script_without_training(fake_data, tmp_path, capsys):
    # The display scripts have the data options but no --epochs (and maybe no --max-samples).
    display_parser = runtime.make_parser(DOC, data=True)
    args = runtime.parse_args(display_parser, ["--data-dir", str(tmp_path), "--outdir",
                                               str(tmp_path / "figures")])
    (x_train, _), (x_test, _) = runtime.load_data(args, "mnist")
    assert x_train is fake_data.x_train and x_test is fake_data.x_test
    assert fake_data.calls[0]["data_dir"] == str(tmp_path)


# ---------------------------------------------------------------------------
# No TensorFlow at import time
# ---------------------------------------------------------------------------
def test_importing_the_helpers_does_not_import_tensorflow():
    code = ("import dnnkit.runtime, dnnkit.plotting, dnnkit.training, sys; "
            "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    completed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr


def test_load_data_error_while_reading_reaches_the_caller(parser, tmp_path, monkeypatch):
    import dnnkit.data as data_module
    from dnnkit.errors import UserError

    def failing_load_dataset(*args, **kwargs):
        raise data_module.DataError("mnist/train-images-idx3-ubyte.gz is truncated: fix it")

    monkeypatch.setattr(data_module, "load_dataset_and_source", failing_load_dataset)
    args = runtime.parse_args(parser, ["--outdir", str(tmp_path)])
    with pytest.raises(UserError, match="is truncated: fix it"):
        runtime.load_data(args, "mnist")


# ---------------------------------------------------------------------------
# Values argparse refuses with one line, and scripts opened as notebooks
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["-1", "4294967296", "x", "1.5"])
def test_seed_outside_numpys_range_is_refused(parser, text, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["--seed", text])
    assert exit_info.value.code == 2
    assert "--seed" in capsys.readouterr().err


def test_seed_at_the_ends_of_numpys_range_is_accepted(parser):
    assert parser.parse_args(["--seed", "0"]).seed == 0
    assert parser.parse_args(["--seed", "4294967295"]).seed == runtime.MAX_SEED
    np.random.default_rng(runtime.MAX_SEED)  # numpy takes it


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "two"])
def test_finite_float_refuses_nan_inf_and_words(text):
    with pytest.raises(argparse.ArgumentTypeError):
        runtime.finite_float(text)


def test_finite_float_accepts_any_finite_number():
    assert runtime.finite_float("-2.5") == -2.5 and runtime.finite_float("0") == 0.0


def test_display_grid_count_has_an_upper_limit():
    display_parser = runtime.make_parser(DOC)
    runtime.add_display_options(display_parser)
    assert display_parser.parse_args(["--count", str(runtime.MAX_GRID_IMAGES)]).count == 200
    with pytest.raises(argparse.ArgumentTypeError, match="at most 200"):
        runtime.grid_count("100000")


def test_load_data_refuses_too_few_max_samples(parser, fake_data, tmp_path):
    from dnnkit.errors import UserError

    # 4 classes in the fake data: at least 10 of each.
    args = runtime.parse_args(parser, ["--max-samples", "39", "--outdir", str(tmp_path)])
    with pytest.raises(UserError, match="--max-samples 39 is too few.*at least 40"):
        runtime.load_data(args, "mnist")


@pytest.fixture
def in_notebook_kernel(monkeypatch):
    """As in a Jupyter kernel: ipykernel loaded, the kernel's own command line."""
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    monkeypatch.setattr(sys, "argv", ["ipykernel_launcher.py", "--f=/tmp/kernel-1.json"])


def test_in_a_notebook_kernel_the_scripts_use_the_lecture_settings(parser, in_notebook_kernel,
                                                                   monkeypatch, capsys):
    monkeypatch.delenv(runtime.NOTEBOOK_ARGS_VARIABLE, raising=False)
    hook = sys.excepthook
    assert runtime.launched_as_notebook_kernel()
    args = runtime.parse_args(parser)  # would fail on --f=... otherwise
    assert args.epochs == 3 and args.batch_size == 8
    assert "Running in a notebook" in capsys.readouterr().out
    assert sys.excepthook is hook  # errors show as notebook errors; the kernel never exits
    # Options given explicitly still count.
    assert runtime.parse_args(parser, ["--epochs", "1"]).epochs == 1


def test_in_a_notebook_kernel_the_options_come_from_the_environment(parser, in_notebook_kernel,
                                                                    monkeypatch, tmp_path,
                                                                    capsys):
    outdir = tmp_path / "my figures"
    monkeypatch.setenv(runtime.NOTEBOOK_ARGS_VARIABLE, f"--epochs 2 --outdir '{outdir}'")
    args = runtime.parse_args(parser)
    assert args.epochs == 2 and args.outdir == outdir and outdir.is_dir()
    assert "--epochs 2" in capsys.readouterr().out



@pytest.mark.parametrize("options, message", [
    ("--epochs zero", "argument --epochs: expected a whole number, got 'zero' (in "
                      "$DNN_NOTEBOOK_ARGS='--epochs zero'): set it to valid options before "
                      "starting Jupyter (the script's --help lists them)"),
    ("--no-such-option", "unrecognized arguments: --no-such-option (in $DNN_NOTEBOOK_ARGS="),
    ("--outdir 'unclosed", "$DNN_NOTEBOOK_ARGS cannot be read (No closing quotation): set it"),
])
def test_in_a_notebook_kernel_bad_options_are_one_user_error(parser, in_notebook_kernel,
                                                              monkeypatch, capsys, options,
                                                              message):
    """Not argparse's usage and SystemExit: a UserError, which the kernel shows as one line
    (test_notebooks.py::test_bad_notebook_options_show_one_line_in_the_first_cell)."""
    from dnnkit.errors import UserError

    monkeypatch.setenv(runtime.NOTEBOOK_ARGS_VARIABLE, options)
    with pytest.raises(UserError) as raised:
        runtime.parse_args(parser)
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)
    assert capsys.readouterr().err == ""


def test_from_a_terminal_parse_args_installs_the_excepthook(parser, monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "argv", ["script.py", "--outdir", str(tmp_path)])
    monkeypatch.setattr(sys, "excepthook", sys.__excepthook__)
    runtime.parse_args(parser)
    assert sys.excepthook is runtime.report_uncaught
    # `%run script.py --epochs 1` inside a kernel: the options are the script's own
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    monkeypatch.setattr(sys, "argv", ["script.py", "--epochs", "1"])
    assert not runtime.launched_as_notebook_kernel()


def test_parse_args_seeds_python_and_numpy(parser, tmp_path):
    runtime.parse_args(parser, ["--seed", "5", "--outdir", str(tmp_path)])
    first = _python_and_numpy_draws()
    runtime.parse_args(parser, ["--seed", "5", "--outdir", str(tmp_path)])
    second = _python_and_numpy_draws()
    assert first[0] == second[0]
    np.testing.assert_array_equal(first[1], second[1])


@pytest.mark.parametrize("text", ["1", "1.5", "-0.1", "nan", "half"])
def test_dropout_rate_refuses_what_is_not_a_share(text):
    with pytest.raises(argparse.ArgumentTypeError):
        runtime.dropout_rate(text)


def test_dropout_rate_accepts_0_up_to_1():
    assert [runtime.dropout_rate(text) for text in ("0", "0.25", "0.99")] == [0, 0.25, 0.99]


def _display_args(**options):
    settings = dict(count=4, start=0, random=False, index=None, seed=1)
    settings.update(options)
    return types.SimpleNamespace(**settings)


def test_choose_images_for_the_display_scripts():
    indices, index = runtime.choose_images(_display_args(start=10), 100)
    assert list(indices) == [10, 11, 12, 13] and index == 10
    indices, index = runtime.choose_images(_display_args(count=8, random=True, index=7), 100)
    assert len(set(indices)) == 8 and list(indices) == sorted(indices) and index == 7
    again, _ = runtime.choose_images(_display_args(count=8, random=True), 100)
    assert list(again) == list(indices)  # seeded
    assert list(runtime.choose_images(_display_args(start=98), 100)[0]) == [98, 99]
    for bad in (dict(start=100), dict(start=-1), dict(index=100), dict(index=-1)):
        with pytest.raises(UserError, match="outside the 100 training images"):
            runtime.choose_images(_display_args(**bad), 100)


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_a_data_dir_that_is_no_folder_is_refused_before_tensorflow_loads(parser, tmp_path, kind):
    from dnnkit.errors import UserError

    path = tmp_path / "data"
    if kind == "file":
        path.write_text("keep me")
    with pytest.raises(UserError, match=r"\(from --data-dir\) is (no such folder|a file)"):
        runtime.parse_args(parser, ["--data-dir", str(path), "--outdir", str(tmp_path / "out")])
    if kind == "file":
        assert path.read_text() == "keep me"


def test_a_needed_package_that_cannot_be_imported_is_one_line_with_the_fix():
    with pytest.raises(UserError) as raised:
        runtime.import_package("no_such_package_for_test", fix="pip install --user it")
    assert str(raised.value) == ("no_such_package_for_test cannot be imported (No module named "
                                 "'no_such_package_for_test'): pip install --user it")
