"""Tests of dnnkit.training: validation split, fit, evaluate, figures.

TensorFlow is expensive to import and to trace, so the models are tiny (one
Dense layer on 2 features), there are few samples, and one trained model is
shared by the tests that only need *a* trained model.
"""

import math
import os
import re

import numpy as np
import pytest

from dnnkit import metrics, runtime, training
from dnnkit.errors import UserError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def keras():
    runtime.import_tensorflow()
    import keras

    return keras


def _separable_data(count=200, seed=0):
    """Two classes split by the sign of x0 + x1, a problem one Dense layer solves."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(count, 2)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    return x, y


def _softmax_model(keras, seed=3):
    runtime.set_seed(seed)
    model = keras.Sequential([keras.Input(shape=(2,)),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], steps_per_execution=4)
    return model


@pytest.fixture(scope="module")
def trained(keras):
    """One model trained with training.fit for 3 epochs, and its TrainingResult."""
    x, y = _separable_data()
    model = _softmax_model(keras)
    result = training.fit(model, x, y, epochs=3, batch_size=16, verbose=0)
    return model, result


# ---------------------------------------------------------------------------
# split_validation
# ---------------------------------------------------------------------------
def _keras_split_at(count, fraction):
    """Where Keras's own validation_split cuts, or None when Keras refuses."""
    try:
        from keras.src.trainers.data_adapters.array_slicing import train_validation_split
    except ImportError:  # Moved in another Keras version: its documented rule.
        split_at = int(math.floor(count * (1.0 - fraction)))
        return None if split_at in (0, count) else split_at
    try:
        (x_fit,), _ = train_validation_split((np.arange(count),), validation_split=fraction)
    except ValueError:
        return None
    return len(x_fit)


def test_split_validation_holds_out_the_last_tenth():
    x = np.arange(200)
    y = np.arange(200) * 10
    (x_fit, y_fit), (x_val, y_val) = training.split_validation(x, y)
    np.testing.assert_array_equal(x_fit, np.arange(180))
    np.testing.assert_array_equal(x_val, np.arange(180, 200))
    np.testing.assert_array_equal(y_fit, x_fit * 10)
    np.testing.assert_array_equal(y_val, x_val * 10)


@pytest.mark.parametrize("fraction", [0.1, 0.2, 0.25, 0.3, 0.5])
def test_split_validation_cuts_where_keras_cuts(keras, fraction):
    for count in range(2, 130):
        x = np.arange(count)
        expected = _keras_split_at(count, fraction)
        if expected is None:
            with pytest.raises(ValueError):
                training.split_validation(x, x, fraction)
            continue
        (x_fit, _), (x_val, _) = training.split_validation(x, x, fraction)
        assert len(x_fit) == expected, (count, fraction)
        np.testing.assert_array_equal(np.concatenate([x_fit, x_val]), x)


@pytest.mark.parametrize("fraction", [0, 1, -0.1, 1.5])
def test_split_validation_rejects_bad_fractions(fraction):
    with pytest.raises(ValueError, match="validation_split"):
        training.split_validation(np.arange(100), np.arange(100), fraction)


@pytest.mark.parametrize("count, fraction", [(0, 0.1), (1, 0.1), (1, 0.5), (5, 0.9), (3, 0.7)])
def test_split_validation_rejects_too_few_samples(count, fraction):
    # Too few to keep at least one sample on each side of the cut.
    with pytest.raises(ValueError, match="too few"):
        training.split_validation(np.arange(count), np.arange(count), fraction)


# ---------------------------------------------------------------------------
# fit
# ---------------------------------------------------------------------------
def test_fit_returns_the_history_and_the_time(trained):
    _, result = trained
    assert isinstance(result, training.TrainingResult)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert len(result.history[key]) == 3, key
    assert result.seconds > 0
    assert result.seconds_per_epoch == pytest.approx(result.seconds / 3)
    assert (result.epochs, result.batch_size, result.validation_size) == (3, 16, 20)
    # The problem is separable: the model did learn.
    assert result.history["loss"][-1] < result.history["loss"][0]
    assert result.history["val_accuracy"][-1] > 0.8
    assert result.train_validation_gap == pytest.approx(
        result.history["accuracy"][-1] - result.history["val_accuracy"][-1])


def test_fit_trains_batch_for_batch_like_plain_model_fit(keras):
    """training.fit is model.fit(x, y, validation_split=0.1) with the same shuffles.

    Same seed, same data: the per-epoch losses agree to the last digit, so the
    benchmark's baseline and our path see the same batches in the same order.
    A different split, shuffle or data path would change the losses.
    """
    x, y = _separable_data(300, seed=2)

    model = _softmax_model(keras, seed=9)
    ours = training.fit(model, x, y, epochs=3, batch_size=16, verbose=0).history

    model = _softmax_model(keras, seed=9)
    plain = model.fit(x, y, batch_size=16, epochs=3, validation_split=training.VALIDATION_SPLIT,
                      verbose=0).history
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(ours[key], plain[key], rtol=1e-6, err_msg=key)

    # ... and the shuffle does depend on the seed (the test above is not vacuous).
    model = _softmax_model(keras, seed=9)
    runtime.set_seed(10)
    other = training.fit(model, x, y, epochs=3, batch_size=16, verbose=0).history
    assert other["loss"] != ours["loss"]


def test_input_pipeline_gives_every_sample_once_per_epoch_without_autotuning(keras):
    """Keras's batches, labels with their images, and no tf.data autotuner.

    The autotuner is what made the program sit idle between epochs; were it
    on again, the stalls would come back (README, "Performance").
    """
    x = np.arange(50, dtype="float32").reshape(25, 2)
    y = np.arange(25)

    def epoch_orders(shuffle, seed):
        runtime.set_seed(seed)
        batches = training.input_pipeline(x, y, batch_size=8, shuffle=shuffle)
        assert batches.options().autotune.enabled is False
        assert int(batches.cardinality()) == 4  # 8 + 8 + 8 + 1, known as for arrays
        orders = []
        for _ in range(2):  # two epochs
            got = [(bx.numpy(), by.numpy()) for bx, by in batches]
            assert [len(by) for _, by in got] == [8, 8, 8, 1]
            images = np.concatenate([bx for bx, _ in got])
            labels = np.concatenate([by for _, by in got])
            np.testing.assert_array_equal(images, x[labels])  # each label with its image
            assert sorted(labels) == list(range(25))
            orders.append([int(label) for label in labels])
        return orders

    assert epoch_orders(shuffle=False, seed=1) == [list(range(25))] * 2
    shuffled = epoch_orders(shuffle=True, seed=1)
    assert shuffled[0] != list(range(25))
    # With a seed set, plain model.fit from arrays shuffles into the same order
    # in every epoch (Keras 3.15 on TensorFlow 2.21), and so does this pipeline.
    assert shuffled[1] == shuffled[0]
    assert epoch_orders(shuffle=True, seed=2)[0] != shuffled[0]


def test_input_pipeline_names_the_fix_when_keras_moved_its_adapter(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def moved(name, *args, **kwargs):
        if name.endswith("array_data_adapter"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", moved)
    with pytest.raises(UserError, match="requirements.txt: source setup_env.sh"):
        training.input_pipeline(np.zeros((4, 2)), np.zeros(4), batch_size=2, shuffle=False)


def _interrupting_callback(keras, hook):
    class Interrupt(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if hook == "on_epoch_begin" and epoch == 1:
                raise KeyboardInterrupt

        def on_train_batch_end(self, batch, logs=None):
            if hook == "on_train_batch_end" and self.epoch == 1:
                raise KeyboardInterrupt

        def on_epoch_end(self, epoch, logs=None):
            self.epoch = epoch + 1

    callback = Interrupt()
    callback.epoch = 0
    return callback


@pytest.mark.parametrize("hook", ["on_epoch_begin", "on_train_batch_end"])
def test_fit_turns_ctrl_c_into_training_interrupted(keras, hook):
    x, y = _separable_data(100)
    model = _softmax_model(keras)
    try:
        training.fit(model, x, y, epochs=5, batch_size=30, verbose=0,
                     callbacks=[_interrupting_callback(keras, hook)])
    except runtime.TrainingInterrupted as interrupt:
        caught = interrupt
    except KeyboardInterrupt:  # Caught here so that it does not stop the whole test run.
        pytest.fail("fit let a bare KeyboardInterrupt through instead of TrainingInterrupted")
    else:
        pytest.fail("fit did not raise TrainingInterrupted")
    assert caught.epochs_completed == 1
    assert str(caught) == "Interrupted after epoch 1"


def _ctrl_c_callback(keras, presses, epoch=1):
    """Presses Ctrl-C (sends SIGINT to this process) ``presses`` times in ``epoch``."""
    import signal

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
def test_fit_stops_after_ctrl_c_between_batches(keras, presses):
    import signal

    x, y = _separable_data(100)
    model = _softmax_model(keras)
    ctrl_c = _ctrl_c_callback(keras, presses)
    with pytest.raises(runtime.TrainingInterrupted) as caught:
        training.fit(model, x, y, epochs=5, batch_size=30, verbose=0, callbacks=[ctrl_c])
    assert caught.value.epochs_completed == 1  # epoch 2 (number 1) was under way
    # One press is noted and training stops after the running batches; a second one stops at once.
    assert ctrl_c.after_signal is (presses == 1)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


def test_fit_does_not_lose_ctrl_c_pressed_after_the_last_batch(keras):
    import signal

    class CtrlCAtTheEnd(keras.callbacks.Callback):
        def on_train_end(self, logs=None):  # after every batch and epoch callback
            signal.raise_signal(signal.SIGINT)

    x, y = _separable_data(100)
    with pytest.raises(runtime.TrainingInterrupted) as caught:
        training.fit(_softmax_model(keras), x, y, epochs=2, batch_size=30, verbose=0,
                     callbacks=[CtrlCAtTheEnd()])
    assert caught.value.epochs_completed == 2
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# ---------------------------------------------------------------------------
# evaluate and describe_gap
# ---------------------------------------------------------------------------
def test_evaluate_prints_the_result_lines(trained, capsys):
    model, _ = trained
    x_test, y_test = _separable_data(60, seed=5)
    result = training.TrainingResult(
        history={"loss": [0.5, 0.3], "val_loss": [0.4, 0.3],
                 "accuracy": [0.80, 0.90], "val_accuracy": [0.85, 0.93]},
        seconds=12.34, epochs=2, batch_size=16, validation_size=20)
    numbers = training.evaluate(model, x_test, y_test, result, class_names=["below", "above"])
    out = capsys.readouterr().out
    lines = out.splitlines()

    accuracy_lines = [line for line in lines if line.startswith("Test accuracy")]
    gap_lines = [line for line in lines if line.startswith("Train/validation gap")]
    time_lines = [line for line in lines if line.startswith("Training time")]
    assert len(accuracy_lines) == len(gap_lines) == len(time_lines) == 1
    assert re.fullmatch(r"Test accuracy: \d\.\d{4}", accuracy_lines[0])
    assert re.fullmatch(r"Train/validation gap: -?\d\.\d{4}", gap_lines[0])
    assert re.fullmatch(r"Training time: \d+\.\d s \(\d+\.\d\d s/epoch\)", time_lines[0])
    assert re.search(r"^Test accuracy: \d\.\d{4}$", out, re.MULTILINE)

    # The printed numbers are the returned ones.
    printed_accuracy = float(accuracy_lines[0].split(": ")[1])
    assert printed_accuracy == pytest.approx(numbers["test_accuracy"], abs=5e-5)
    assert float(gap_lines[0].split(": ")[1]) == pytest.approx(-0.03, abs=5e-5)
    assert numbers["train_validation_gap"] == pytest.approx(-0.03)
    assert time_lines[0] == "Training time: 12.3 s (6.17 s/epoch)"
    # ... and the returned accuracy is that of the model's predictions.
    predicted = np.argmax(model.predict(x_test, verbose=0), axis=1)
    np.testing.assert_array_equal(numbers["predicted"], predicted)
    assert numbers["test_accuracy"] == pytest.approx(metrics.accuracy(y_test, predicted))

    # The per-class report with its macro average.
    assert any(line.startswith("below") for line in lines)
    assert any(line.startswith("above") for line in lines)
    assert any(line.startswith("macro avg") for line in lines)
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


# ---------------------------------------------------------------------------
# save_result_figures
# ---------------------------------------------------------------------------
def test_save_result_figures_writes_the_three_pngs(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(12, 28, 28), dtype=np.uint8)
    y_test = np.arange(12) % 3
    predicted = y_test.copy()
    predicted[[1, 5]] = 0
    result = training.TrainingResult(
        history={"loss": [0.5, 0.3], "val_loss": [0.4, 0.35],
                 "accuracy": [0.8, 0.9], "val_accuracy": [0.82, 0.88]},
        seconds=1.0, epochs=2, batch_size=4)
    outdir = tmp_path / "figures"
    paths = training.save_result_figures("demo", result, images, y_test, predicted,
                                         ["a", "b", "c"], outdir, "Demo", grid_size=8)
    expected = {"training_curves": "demo_training_curves.png",
                "predictions": "demo_predictions.png",
                "confusion_matrix": "demo_confusion_matrix.png"}
    assert {name: path.name for name, path in paths.items()} == expected
    assert sorted(os.listdir(outdir)) == sorted(expected.values())
    for path in paths.values():
        assert path.parent == outdir
        assert path.read_bytes()[:8] == PNG_SIGNATURE
