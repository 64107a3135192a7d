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
# The diagnosis of overtraining, on synthetic histories
# ---------------------------------------------------------------------------
def _history(val_loss, loss=None, val_accuracy=None):
    epochs = len(val_loss)
    loss = loss if loss is not None else list(np.linspace(1.0, 0.2, epochs))
    val_accuracy = val_accuracy if val_accuracy is not None else [0.8] * epochs
    return {"loss": loss, "val_loss": val_loss, "accuracy": [0.9] * epochs,
            "val_accuracy": val_accuracy}


def _noisy(level, epochs, scatter=0.005, seed=1):
    """A flat curve at ``level`` with Gaussian noise of standard deviation ``scatter``,
    after a fall in the first three epochs."""
    values = level + scatter * np.random.default_rng(seed).standard_normal(epochs)
    values[:3] += [0.15, 0.06, 0.02]
    return list(values)


def test_a_steady_rise_while_training_loss_falls_is_overtraining():
    val_loss = [0.50, 0.40, 0.35, 0.36, 0.38, 0.40, 0.42, 0.44, 0.46, 0.48]
    d = training.diagnose(_history(val_loss))
    assert d.outcome == training.OVERTRAINING and d.overtraining
    # The low is the running median at epoch 3 (the median of 0.40, 0.35, 0.36), the end
    # the median of the last three epochs.
    assert d.best_epoch == 3 and d.epochs == 10 and d.best_val_loss == 0.36
    assert d.final_val_loss == 0.46 and d.rise == pytest.approx(0.10)
    assert d.rise_in_scatters == pytest.approx(d.rise / d.scatter)
    # The trend from the low on: 0.02 per epoch, in standard errors of that slope.
    assert d.trend == pytest.approx(0.02) and d.trend_start == pytest.approx(0.34)
    epochs = np.arange(2, 10)
    assert d.trend_in_errors == pytest.approx(
        0.02 * np.sqrt(np.sum((epochs - epochs.mean()) ** 2)) / d.scatter)
    assert d.trend_in_errors > training.RISE_ERRORS
    assert d.training_loss_fell
    # The verdict cites the rise and the noise it is compared with (the rise decided).
    assert f"{d.rise:.2g} higher" in d.verdict and f"scatter of {d.scatter:.2g}" in d.verdict
    assert d.verdict.endswith("(overtraining).")


def test_a_slow_rise_on_a_noisy_curve_is_read_from_every_epoch_after_the_low():
    """The MNIST MLP at 20 epochs (pinned, seed 42): the last 3 epochs lie only 3.5
    scatters above the low, within the noise for the end alone, but the validation loss
    rose over the 18 epochs after its low, 5.6 standard errors of that trend."""
    val_loss = [0.0976, 0.0793, 0.0811, 0.0874, 0.0856, 0.0954, 0.0876, 0.0853, 0.0870, 0.0947,
                0.1049, 0.0930, 0.1390, 0.1123, 0.1100, 0.1011, 0.1065, 0.1042, 0.1062, 0.0926]
    d = training.diagnose(_history(val_loss, loss=list(np.geomspace(0.23, 0.006, 20))))
    assert training.NO_RISE_SCATTERS < d.rise_in_scatters < 4
    assert d.trend_in_errors > training.RISE_ERRORS and d.outcome == training.OVERTRAINING
    # The verdict cites the trend that decided, and the rise beside it.
    assert f"its trend after the low {d.trend_in_errors:+.1f} standard errors" in d.verdict
    assert f"a trend over {training.RISE_ERRORS:g} standard errors" in d.verdict


@pytest.mark.parametrize("seed", [0, 3, 5, 7])  # the seeds whose low leaves 8 epochs or more
def test_one_spike_after_the_low_is_no_trend(seed):
    """Theil-Sen takes the median of the slopes between all pairs of epochs: one spike,
    however high, moves it little, so a flat curve with a spike is no overtraining."""
    val_loss = _noisy(0.34, 30, scatter=0.005, seed=seed)
    without = training.diagnose(_history(val_loss))
    val_loss[min(without.best_epoch + 8, 27)] = 0.60  # 50 scatters up
    d = training.diagnose(_history(val_loss))
    assert without.trend_in_errors is not None and d.best_epoch == without.best_epoch
    assert abs(d.trend_in_errors - without.trend_in_errors) < 1
    assert d.outcome == without.outcome != training.OVERTRAINING


@pytest.mark.parametrize("seed", range(5))
def test_a_flat_noisy_curve_with_one_low_point_is_not_overtraining(seed):
    """The AMD run of clothingSequentialDropout: one low epoch in a flat scatter used to
    be 'lowest' and the last epoch's noise a 7 % rise."""
    val_loss = _noisy(0.34, 15, seed=seed)
    without = training.diagnose(_history(val_loss))
    val_loss[11] = 0.30  # one low point, 8 scatters below the rest
    d = training.diagnose(_history(val_loss))
    assert d.outcome == without.outcome == training.NO_OVERTRAINING and not d.overtraining
    # The running median does not take the one low epoch as the low.
    assert abs(d.best_val_loss - without.best_val_loss) < 0.01 < 0.02 < d.best_val_loss - 0.30
    assert 0.0025 < d.scatter < 0.015  # the scatter of 0.005 that made the curve, roughly


def test_the_lecture_amd_run_of_the_dropout_network_is_not_overtraining():
    """Issue 26's measured curve (epochs 7-15 as printed, 1-6 falling before them)."""
    val_loss = [0.45, 0.40, 0.37, 0.35, 0.345, 0.34, 0.3368, 0.3394, 0.3309, 0.3349, 0.3401,
                0.3259, 0.3365, 0.3434, 0.3472]
    d = training.diagnose(_history(val_loss))
    assert d.outcome != training.OVERTRAINING
    # Its low lies in the last 7 epochs: too few to read a trend (one spike could make
    # it), so the end alone decides, and it lies below the bound.
    assert d.trend_in_errors is None and d.rise_in_scatters < training.RISE_SCATTERS


def test_a_spike_in_a_loss_near_zero_is_not_a_rise():
    """The playground's spiral: a loss of 0.03 with one spike at the end once read as
    'rose 190 %' and 'unstable'."""
    val_loss = _noisy(0.03, 40, scatter=0.002)
    val_loss[-1] = 0.09  # one spike at the last epoch
    val_loss[25] = 0.12  # and one in the middle
    d = training.diagnose(_history(val_loss, loss=list(np.linspace(0.7, 0.02, 40))))
    assert d.outcome == training.NO_OVERTRAINING
    assert abs(d.rise_percent) < 50 and "190" not in d.verdict
    assert "unstable" not in d.verdict


def test_a_rise_of_a_loss_near_zero_is_judged_against_its_own_scatter():
    """Per cent of a tiny loss explodes; scatters do not: 0.002 to 0.02 with a scatter of
    0.0002 is overtraining, whatever the per cent."""
    val_loss = [0.3, 0.05, 0.01] + list(np.linspace(0.002, 0.02, 12) + 0.0002 * np.cos(
        np.arange(12) * 2.0))
    d = training.diagnose(_history(val_loss, loss=list(np.geomspace(0.5, 1e-4, 15))))
    assert d.outcome == training.OVERTRAINING


@pytest.mark.parametrize("val_loss", [
    [0.50, 0.40, 0.35, 0.30, 0.28],                     # still falling: lowest at the end
    [0.50, 0.40, 0.35, 0.32, 0.30, 0.29, 0.285, 0.28],  # still falling
    [0.50, 0.40, 0.35, 0.35, 0.35, 0.35, 0.35],         # flat after its low
])
def test_a_falling_or_flat_validation_loss_is_no_overtraining(val_loss):
    d = training.diagnose(_history(val_loss))
    assert d.outcome == training.NO_OVERTRAINING
    assert "no overtraining" in d.verdict


def test_a_rise_between_the_two_bounds_is_within_the_noise_and_says_what_decides():
    val_loss = _noisy(0.30, 15, seed=3)
    scatter = training.scatter_of(val_loss)
    val_loss[-3:] = [0.30 + 3 * scatter] * 3  # the end 3 scatters up, but no trend before
    d = training.diagnose(_history(val_loss))
    assert d.rise_in_scatters > training.NO_RISE_SCATTERS
    assert d.trend_in_errors <= training.RISE_ERRORS
    assert d.outcome == training.WITHIN_NOISE and not d.overtraining
    assert "reproduce.py --seeds" in d.verdict and "more epochs" in d.verdict


def test_the_bounds_are_where_the_verdict_changes():
    no, noise, over = training.NO_OVERTRAINING, training.WITHIN_NOISE, training.OVERTRAINING
    rise, trend = training.NO_RISE_SCATTERS, training.RISE_ERRORS
    assert training.judge(0.99 * rise, 0.0, True) == no
    assert training.judge(1.01 * rise, 0.0, True) == noise
    assert training.judge(1.01 * rise, 0.99 * trend, True) == noise
    assert training.judge(1.01 * rise, 1.01 * trend, True) == over
    assert training.judge(0.99 * rise, 1.01 * trend, True) == over  # a trend, a low end
    assert training.judge(1.01 * rise, 1.01 * trend, False) == no  # unstable, not over


def test_the_quiet_bound_is_where_a_small_rise_stops_counting_as_none():
    no, noise = training.NO_OVERTRAINING, training.WITHIN_NOISE
    assert training.judge(1.0, 0.0, True, training.is_quiet(0.99 * training.QUIET_RATIO)) == no
    assert training.judge(1.0, 0.0, True, training.is_quiet(1.01 * training.QUIET_RATIO)) == noise
    assert not training.is_quiet(None)


def test_a_small_rise_on_a_curve_too_noisy_to_show_one_is_within_the_noise():
    """The lab floor's MLP, seed 43 (TensorFlow 2.4.4): after a small fall the validation
    loss scatters by a third of that fall; its 0.7 scatters of rise used to read as "no
    overtraining", though a rise of the lecture's size could hide in that noise."""
    val_loss = [0.0972, 0.0968, 0.0657, 0.0683, 0.0718, 0.0944, 0.0749, 0.0747, 0.0791, 0.0702]
    d = training.diagnose(_history(val_loss, loss=list(np.geomspace(0.23, 0.0147, 10))))
    assert d.rise_in_scatters <= training.NO_RISE_SCATTERS
    assert d.noise_ratio == pytest.approx(d.scatter / (0.0972 - d.best_val_loss))
    assert d.noise_ratio > training.QUIET_RATIO
    assert d.outcome == training.WITHIN_NOISE
    assert "too noisy to rule a rise out" in d.verdict and "reproduce.py --seeds" in d.verdict
    # The same wiggles a twentieth as large after the same fall: the same rise in scatters
    # (both shrink alike), but a quiet curve, which would have shown a rise: none.
    after = np.array(val_loss[2:])
    quiet = val_loss[:2] + list(after.mean() + (after - after.mean()) / 20)
    q = training.diagnose(_history(quiet, loss=list(np.geomspace(0.23, 0.0147, 10))))
    assert q.rise_in_scatters == pytest.approx(d.rise_in_scatters, rel=0.05)
    assert q.noise_ratio <= training.QUIET_RATIO and q.outcome == training.NO_OVERTRAINING


def test_a_low_at_the_end_of_a_zigzag_is_within_the_noise_not_still_falling():
    """The lab floor's clothingSequential, seed 43: a plateau zigzagging by a fifth of its
    fall, whose lowest 3-epoch median happens to lie in the last epochs."""
    val_loss = [0.4169, 0.3727, 0.3535, 0.3347, 0.3710, 0.3296, 0.3290, 0.3214, 0.3333, 0.3201,
                0.3262, 0.3130, 0.3368, 0.3116, 0.3536]
    d = training.diagnose(_history(val_loss))
    assert d.still_falling and d.noise_ratio > training.QUIET_RATIO
    assert d.outcome == training.WITHIN_NOISE and "too noisy" in d.verdict


def test_a_validation_loss_that_never_fell_cannot_show_no_overtraining():
    val_loss = [0.30, 0.31, 0.30, 0.32, 0.31, 0.30, 0.31, 0.32, 0.30, 0.31]
    d = training.diagnose(_history(val_loss))
    assert d.outcome == training.WITHIN_NOISE and "never fell" in d.verdict


def test_few_epochs_that_rise_are_within_the_noise():
    d = training.diagnose(_history([0.5, 0.3, 0.4]))
    assert d.outcome == training.WITHIN_NOISE and "more epochs" in d.verdict


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_nan_or_infinite_loss_is_divergence_with_its_own_sentence(bad):
    d = training.diagnose(_history([0.5, 0.4, bad, bad], loss=[1.0, 0.8, bad, bad]))
    assert d.outcome == training.DIVERGED and not d.overtraining
    assert "epoch 3: training diverged (lower the learning rate)" in d.verdict
    assert ("NaN" if bad != bad else "infinite") in d.verdict


def test_a_negative_gap_alone_is_not_overtraining_and_a_positive_gap_alone_neither():
    """Dropout's signature, validation above training accuracy, says nothing by itself;
    the verdict comes from the curves."""
    falling = [0.5, 0.4, 0.35, 0.3]
    dropout_like = training.diagnose(_history(falling, val_accuracy=[0.8, 0.85, 0.88, 0.90]),
                                     train_accuracy=0.86, train_count=100)
    assert dropout_like.gap == pytest.approx(-0.04)
    assert not dropout_like.overtraining
    wide_gap = training.diagnose(_history(falling), train_accuracy=0.95, train_count=100)
    assert wide_gap.gap == pytest.approx(0.15) and not wide_gap.overtraining
    assert "model.evaluate on 100 training images" in wide_gap.gap_basis


def test_a_rise_with_a_rising_training_loss_is_instability_not_overtraining():
    val_loss = [0.50, 0.40, 0.35, 0.36, 0.38, 0.40, 0.42, 0.44, 0.46, 0.48]
    loss = [1.0, 0.5, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75]
    d = training.diagnose(_history(val_loss, loss=loss))
    assert not d.training_loss_fell and not d.overtraining
    assert "not overtraining" in d.verdict


def test_the_gap_uses_the_kept_epoch_after_early_stopping():
    history = _history([0.5, 0.3, 0.4, 0.45], val_accuracy=[0.7, 0.85, 0.83, 0.82])
    assert training.diagnose(history, 0.9, 10).gap == pytest.approx(0.9 - 0.82)
    restored = training.diagnose(history, 0.9, 10, restored_best=True)
    assert restored.kept_epoch == 2 and restored.gap == pytest.approx(0.9 - 0.85)


def test_print_results_prints_the_verdict_and_the_result_lines(capsys):
    val_loss = [0.50, 0.40, 0.35, 0.36, 0.38, 0.40, 0.42, 0.44, 0.46, 0.48]
    d = training.diagnose(_history(val_loss), 0.93, 600)
    training.print_results(d, SimpleNamespace(seconds=12.34), 0.85)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == d.verdict
    assert lines[1].startswith("Accuracy gap +0.1300: training accuracy 0.9300")
    assert lines[2:] == ["Test accuracy: 0.8500", "Train/validation gap: 0.1300",
                         "Best epoch: 3 of 10", "Validation loss rise: 27.8 %",
                         f"Rise in scatters: {d.rise_in_scatters:.1f}",
                         f"Trend in standard errors: {d.trend_in_errors:+.1f}",
                         "Overtraining: yes", "Training time: 12.3 s (1.23 s/epoch)"]


def test_report_prints_precision_recall_and_f1_per_class(capsys):
    y_test = np.arange(20) % 10
    predicted = y_test.copy()
    predicted[:3] = (predicted[:3] + 1) % 10
    training.report(y_test, predicted, "fashion_mnist")
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    # T-shirt/top: 1 of its 2 images found, nothing else taken for one.
    assert ["T-shirt/top", "1.000", "0.500", "0.667", "2"] in rows
    assert ["Ankle", "boot", "1.000", "1.000", "1.000", "2"] in rows
    assert ["accuracy", "0.850", "20"] in rows
    assert any(row[:2] == ["macro", "avg"] for row in rows)


# ---------------------------------------------------------------------------
# Early stopping
# ---------------------------------------------------------------------------
def test_early_stopping_is_off_by_default():
    assert training.early_stopping(SimpleNamespace(early_stopping=None)) == []


def _fit_with_early_stopping(keras, epochs, patience=3):
    """A network far too large for 140 points with 30 % wrong labels, and a learning rate
    far too high: the validation loss jumps about from the first epochs on."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    flipped = rng.random(200) < 0.3
    y[flipped] = 1 - y[flipped]
    runtime.set_seed(1)
    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    weights = []
    keep = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: weights.append(model.get_weights()))
    callbacks = training.early_stopping(SimpleNamespace(early_stopping=patience))
    history = model.fit(x, y, epochs=epochs, batch_size=16, validation_split=0.3, verbose=0,
                        shuffle=False, callbacks=[keep, *callbacks])
    return model, weights, training.diagnose(history.history, restored_best=True)


def _same_weights(first, second):
    return all(np.array_equal(a, b) for a, b in zip(first, second))


def test_early_stopping_stops_and_keeps_the_best_weights(keras, capsys):
    model, weights, diagnosis = _fit_with_early_stopping(keras, epochs=40)
    assert diagnosis.epochs < 40, "training was not stopped"
    # Keras keeps the epoch of the lowest validation loss itself (the kept epoch), not the
    # low of the running median that the verdict reads.
    assert diagnosis.epochs - diagnosis.kept_epoch == 3  # the patience
    assert _same_weights(model.get_weights(), weights[diagnosis.kept_epoch - 1])
    assert not _same_weights(model.get_weights(), weights[-1])
    training.print_early_stopping(diagnosis, 40)
    assert capsys.readouterr().out == (
        f"Early stopping: training stopped after epoch {diagnosis.epochs} of 40 (no lower "
        f"validation loss for 3 epochs); the weights of epoch {diagnosis.kept_epoch} (the "
        f"lowest validation loss) were kept.\n")


def test_early_stopping_keeps_the_best_weights_when_the_epochs_run_out_first(keras):
    """TensorFlow 2.4's EarlyStopping restores only when it stopped training itself."""
    _, _, stopped = _fit_with_early_stopping(keras, epochs=40)
    epochs = stopped.kept_epoch + 1  # one epoch past the best: too soon to stop
    model, weights, diagnosis = _fit_with_early_stopping(keras, epochs=epochs)
    assert diagnosis.epochs == epochs and diagnosis.kept_epoch == stopped.kept_epoch
    assert _same_weights(model.get_weights(), weights[diagnosis.kept_epoch - 1])
    assert not _same_weights(model.get_weights(), weights[-1])


def test_loss_and_accuracy_from_the_predictions_are_what_keras_computes():
    """--pretrained's one pass: the loss and accuracy from model.predict's probabilities
    agree with Keras's cross-entropy, a zero probability clipped as Keras clips it."""
    keras = compat.keras()
    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.0, 0.5, 0.5], [0.3, 0.6, 0.1]],
                             dtype=np.float32)
    labels = np.array([0, 2, 0, 0])
    loss, accuracy = training.loss_and_accuracy(labels, probabilities)
    expected = keras.losses.sparse_categorical_crossentropy(labels, probabilities)
    assert loss == pytest.approx(float(np.mean(expected)), rel=1e-5)
    assert accuracy == 0.5  # right: the first two; the third is a tie (argmax 1), the fourth 1
