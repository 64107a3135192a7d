"""Tests of dnnkit.training: the monitor callback, speed options and the report.

TensorFlow is expensive to import and to trace, so the models are tiny (one
Dense layer on 2 features) and the samples few.  The Ctrl-C tests send a
real SIGINT to this process; they give the test Python's own Ctrl-C handling
first, so that they pass also when pytest was started with SIGINT ignored
(``nohup``, a ``&`` job of a shell script).
"""

import re
import signal
from types import SimpleNamespace

import numpy as np
import pytest

from dnnkit import compat, runtime, training


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def keras():
    runtime.import_tensorflow()
    return compat.keras()


@pytest.fixture
def ctrl_c_handling():
    """Python's own Ctrl-C handling for the test, whatever this process inherited."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def _separable_data(count=200, seed=0):
    """Two classes split by the sign of x0 + x1, a problem one Dense layer solves."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(count, 2)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    return x, y


def _softmax_model(keras, seed=3, **speed):
    runtime.set_seed(seed)
    model = keras.Sequential([keras.Input(shape=(2,)),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], **speed)
    return model


def _fit(model, monitor, callbacks=(), epochs=3, count=100, batch_size=30):
    x, y = _separable_data(count)
    return model.fit(x, y, epochs=epochs, batch_size=batch_size, validation_split=0.1,
                     verbose=0, callbacks=[monitor, *callbacks])


# ---------------------------------------------------------------------------
# monitor: epoch times
# ---------------------------------------------------------------------------
def test_monitor_times_every_epoch_and_the_whole_training(keras, ctrl_c_handling):
    monitor = training.monitor()
    history = _fit(_softmax_model(keras), monitor, epochs=3)
    assert len(history.history["loss"]) == 3
    assert len(monitor.epoch_seconds) == len(monitor.epoch_spans) == 3
    assert len(monitor.epoch_cpu_seconds) == 3 and monitor.epochs_completed == 3
    assert all(seconds > 0 for seconds in monitor.epoch_seconds)
    assert sum(monitor.epoch_seconds) <= monitor.seconds
    for (start, end), (next_start, _) in zip(monitor.epoch_spans, monitor.epoch_spans[1:]):
        assert start <= end <= next_start
    # Training over, Python's own Ctrl-C handling is back.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# ---------------------------------------------------------------------------
# monitor: Ctrl-C
# ---------------------------------------------------------------------------
def _ctrl_c_callback(keras, presses, epoch=1):
    """Presses Ctrl-C (sends SIGINT to this process) ``presses`` times in ``epoch``."""

    class CtrlC(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if self.epoch == epoch and not self.pressed:
                self.pressed = True
                for _ in range(presses):
                    signal.raise_signal(signal.SIGINT)
                self.after_signal = True  # reached only if no KeyboardInterrupt came at once

        def on_epoch_begin(self, number, logs=None):
            self.epoch = number

    callback = CtrlC()
    callback.pressed = callback.after_signal = False
    return callback


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_stops_training_after_the_running_batch(keras, ctrl_c_handling, presses):
    ctrl_c = _ctrl_c_callback(keras, presses)
    with pytest.raises(runtime.TrainingInterrupted) as caught:
        _fit(_softmax_model(keras), training.monitor(), [ctrl_c], epochs=5)
    assert caught.value.epochs_completed == 1  # epoch 2 (number 1) was under way
    assert str(caught.value) == "Interrupted after epoch 1"
    # One press is noted and training stops after the running batches; a second one stops at once.
    assert ctrl_c.after_signal is (presses == 1)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


def test_ctrl_c_pressed_after_the_last_batch_is_not_lost(keras, ctrl_c_handling):
    class CtrlCAtTheEnd(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:  # the last epoch, after its last batch
                signal.raise_signal(signal.SIGINT)

    with pytest.raises(runtime.TrainingInterrupted) as caught:
        # The monitor comes last, so that the press falls after its batch hooks.
        model = _softmax_model(keras)
        x, y = _separable_data(100)
        model.fit(x, y, epochs=2, batch_size=30, validation_split=0.1, verbose=0,
                  callbacks=[CtrlCAtTheEnd(), training.monitor()])
    assert caught.value.epochs_completed == 2
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_is_left_alone_where_sigint_is_ignored(keras):
    """Under nohup SIGINT is ignored: the monitor must not switch Ctrl-C back on."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        seen = []

        class Look(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                seen.append(signal.getsignal(signal.SIGINT))

        _fit(_softmax_model(keras), training.monitor(), [Look()], epochs=1)
        assert seen == [signal.SIG_IGN]
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


# ---------------------------------------------------------------------------
# speed_options and verbosity
# ---------------------------------------------------------------------------
def test_speed_options_are_what_this_keras_compile_takes(keras, monkeypatch):
    import inspect

    monkeypatch.delenv(runtime.PLAIN_KERAS_VARIABLE, raising=False)
    parameters = inspect.signature(keras.Model.compile).parameters
    options = training.speed_options(steps_per_execution=8, jit_compile=True)
    expected = {name: value for name, value in
                {"steps_per_execution": 8, "jit_compile": True}.items() if name in parameters}
    assert options == expected
    assert options["steps_per_execution"] == 8  # every supported TensorFlow (2.4+) takes it
    assert "jit_compile" not in training.speed_options(jit_compile=False)
    # Keras accepts them, and the model really runs 8 steps per call: its batch
    # callbacks come once per call.
    calls = []

    class CountCalls(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            calls.append(batch)

    x, y = _separable_data(64)
    _softmax_model(keras, **options).fit(x, y, batch_size=1, epochs=1, verbose=0,
                                         callbacks=[CountCalls()])
    assert len(calls) == 64 // 8


def test_plain_keras_gives_no_speed_options(monkeypatch):
    monkeypatch.setenv(runtime.PLAIN_KERAS_VARIABLE, "1")
    assert training.speed_options(steps_per_execution=32, jit_compile=True) == {}


def test_verbosity_is_one_line_per_epoch_under_test_and_a_bar_in_a_terminal(monkeypatch):
    assert training.verbosity() == 2  # under pytest
    monkeypatch.setattr(runtime, "running_under_test_or_ci", lambda: False)
    assert training.verbosity() == 1


# ---------------------------------------------------------------------------
# report and describe_gap
# ---------------------------------------------------------------------------
def test_report_prints_the_result_lines(capsys):
    history = SimpleNamespace(history={"loss": [0.5, 0.3], "val_loss": [0.4, 0.3],
                                       "accuracy": [0.80, 0.90], "val_accuracy": [0.85, 0.93]})
    monitor = SimpleNamespace(seconds=12.34)
    y_test = np.arange(20) % 10
    predicted = y_test.copy()
    predicted[:3] = (predicted[:3] + 1) % 10
    numbers = training.report(history, monitor, 0.85, y_test, predicted, "fashion_mnist")
    out = capsys.readouterr().out
    lines = out.splitlines()

    assert "Test accuracy: 0.8500" in lines
    assert "Train/validation gap: -0.0300" in lines
    assert "Training time: 12.3 s (6.17 s/epoch)" in lines
    assert numbers["train_validation_gap"] == pytest.approx(-0.03)
    assert numbers["test_accuracy"] == 0.85 and numbers["epochs"] == 2
    assert numbers["seconds_per_epoch"] == pytest.approx(6.17)
    # The per-class report names the classes, with its macro average.
    assert any(line.startswith("T-shirt/top") for line in lines)
    assert any(line.startswith("macro avg") for line in lines)
    assert re.search(r"^Final training accuracy 0\.9000, validation accuracy 0\.9300\.$", out,
                     re.MULTILINE)
    assert "no overtraining" in out


def test_describe_gap_wording():
    positive = training.describe_gap(0.05)
    assert "0.050 above validation" in positive and "(overtraining)" in positive
    assert "no overtraining" not in positive

    negative = training.describe_gap(-0.05)
    assert negative.startswith("Validation accuracy is 0.050 above")
    assert "no overtraining" in negative

    for small in (0.0, 0.01, -0.01, training.OVERTRAINING_GAP, -training.OVERTRAINING_GAP):
        assert "agree within" in training.describe_gap(small)
        assert "no overtraining" in training.describe_gap(small)
