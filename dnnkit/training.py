"""Training, evaluation and the result lines shared by the model scripts.

The lesson (the model, its loss, optimizer, epochs and batch size) is written
out in each script; this module only does the plumbing around ``model.fit``:

- :func:`fit` trains with a validation split, batch for batch as plain
  ``model.fit`` does (fed by :func:`input_pipeline`, which spares it
  tf.data's stalls between epochs), measures the time and turns Ctrl-C into
  a clean "Interrupted after epoch k";
- :func:`evaluate` measures the test accuracy, prints the per-class report
  and the three result lines that ``reproduce.py`` and the tests parse;
- :func:`save_result_figures` saves the training curves, a grid of test
  predictions and the confusion matrix.

TensorFlow is imported inside the functions, never at import time.
"""

import time
from dataclasses import dataclass

import numpy as np

from dnnkit import metrics, runtime
from dnnkit.errors import UserError

#: Share of the training images held out for validation (as Keras's validation_split).
VALIDATION_SPLIT = 0.1

#: A train/validation accuracy gap above this is called overtraining in the output.
OVERTRAINING_GAP = 0.015


@dataclass
class TrainingResult:
    """What :func:`fit` measured: the per-epoch history and the time taken."""

    history: dict
    seconds: float
    epochs: int
    batch_size: int
    validation_size: int = 0

    @property
    def seconds_per_epoch(self):
        return self.seconds / max(self.epochs, 1)

    @property
    def train_validation_gap(self):
        """Final-epoch training accuracy minus validation accuracy."""
        return self.history["accuracy"][-1] - self.history["val_accuracy"][-1]


def split_validation(x, y, validation_split=VALIDATION_SPLIT):
    """Hold out the last ``validation_split`` of the samples, as Keras does."""
    if not 0 < validation_split < 1:
        raise ValueError(f"validation_split must be between 0 and 1, got {validation_split}")
    split_at = int(len(x) * (1 - validation_split))  # floor, as Keras's train_validation_split
    if split_at < 1 or split_at >= len(x):
        raise ValueError(f"{len(x)} samples are too few to hold out {validation_split:.0%} "
                         f"for validation; use more samples")
    return (x[:split_at], y[:split_at]), (x[split_at:], y[split_at:])


def fit(model, x_train, y_train, *, epochs, batch_size, validation_split=VALIDATION_SPLIT,
        verbose=None, callbacks=()):
    """Train ``model`` and return a :class:`TrainingResult`.

    The same training as ``model.fit(x, y, epochs=..., batch_size=...,
    validation_split=...)``, batch for batch: the last ``validation_split`` of
    the data is held out for validation, the rest is shuffled by Keras with
    the seed set by :func:`dnnkit.runtime.set_seed` (into the same order in
    every epoch, as plain ``model.fit`` does once a seed is set).  The speed
    comes from ``steps_per_execution`` in each script's ``compile``, from
    :func:`dnnkit.runtime.enable_onednn` and from :func:`input_pipeline`
    (Keras's own batches, without tf.data's stalls between epochs), not from
    other batches, so that results stay comparable with plain Keras.  A
    progress bar is shown in a terminal, one line per epoch under pytest, CI
    or a pipe.
    """
    (x_fit, y_fit), (x_val, y_val) = split_validation(x_train, y_train, validation_split)
    if verbose is None:
        verbose = 2 if runtime.running_under_test_or_ci() else 1
    import keras

    training_batches = input_pipeline(x_fit, y_fit, batch_size, shuffle=True)
    validation_batches = input_pipeline(x_val, y_val, batch_size, shuffle=False)

    completed = []  # finished epochs, for the Ctrl-C message
    counter = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: completed.append(epoch + 1))
    start = time.perf_counter()
    try:
        with _CtrlCBetweenBatches() as ctrl_c:
            history = model.fit(training_batches, epochs=epochs,
                                validation_data=validation_batches, verbose=verbose,
                                shuffle=False,  # the pipeline shuffles, as model.fit would
                                callbacks=[counter, ctrl_c.callback(keras), *callbacks])
    except KeyboardInterrupt:
        raise runtime.TrainingInterrupted(len(completed)) from None
    seconds = time.perf_counter() - start
    epochs_run = len(history.history.get("loss", ())) or epochs  # fewer if a callback stopped it
    return TrainingResult(history=dict(history.history), seconds=seconds, epochs=epochs_run,
                          batch_size=batch_size, validation_size=len(x_val))


def input_pipeline(x, y, batch_size, shuffle):
    """The batches ``model.fit(x, y)`` makes from numpy arrays, without tf.data's autotuning.

    ``model.fit`` turns numpy arrays into a tf.data pipeline that shuffles
    the samples at the start of every epoch (with a seed set, into the same
    order every time) and cuts them into batches of ``batch_size``, and lets
    tf.data's autotuner tune it.  At the end of every epoch that pipeline is
    thrown away, and the program waits until the autotuner's background
    thread notices: on this project's 2-core test machine the whole program
    often sat idle for seconds at an epoch's end, and such epochs took up to
    three times as long (README, "Performance").  So this builds Keras's own
    pipeline (the very same batches in the same order) with the autotuner
    switched off, and ``model.fit`` is given that.
    """
    import tensorflow as tf

    adapter = _array_data_adapter()(x, y, batch_size=batch_size, shuffle=shuffle)
    options = tf.data.Options()
    options.autotune.enabled = False
    batches = adapter.get_tf_dataset().with_options(options)
    # Tell Keras how many batches an epoch has (for its progress bar), as for arrays.
    return batches.apply(tf.data.experimental.assert_cardinality(adapter.num_batches))


def _array_data_adapter():
    """Keras's class that turns numpy arrays into batches (not public API)."""
    try:
        from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter
    except ImportError as error:  # another Keras than the one requirements.txt pins
        raise UserError(f"this Keras has no array data adapter where dnnkit.training looks "
                        f"for it ({error}); install the versions in requirements.txt: "
                        f"source setup_env.sh") from None
    return ArrayDataAdapter


class _CtrlCBetweenBatches:
    """During training, Ctrl-C stops at the end of the current batches.

    Python raises KeyboardInterrupt wherever the program happens to be,
    also inside a clean-up method of TensorFlow's data pipeline, where it is
    printed as "Exception ignored" and lost, and training goes on.  So the
    first Ctrl-C only takes note, and a callback raises KeyboardInterrupt
    after the batches running now (a fraction of a second).  A second Ctrl-C
    stops at once.  Only where Python's own Ctrl-C handling is in place (in
    the main thread; not where SIGINT is ignored or handled otherwise).
    """

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        import signal
        import threading

        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            self._previous = signal.signal(signal.SIGINT, self._take_note)
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        import signal

        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        if self.requested and exc_type is None:
            # Pressed after the last callback of model.fit: not lost either.
            raise KeyboardInterrupt
        return False

    def _take_note(self, signum, frame):
        if self.requested:  # the second Ctrl-C
            raise KeyboardInterrupt
        self.requested = True

    def _raise_if_requested(self, *args, **kwargs):
        if self.requested:
            raise KeyboardInterrupt

    def callback(self, keras):
        """The Keras callback that raises KeyboardInterrupt once Ctrl-C was pressed."""
        return keras.callbacks.LambdaCallback(
            on_train_batch_end=self._raise_if_requested,
            on_test_batch_end=self._raise_if_requested,
            on_epoch_end=self._raise_if_requested)


def predict_classes(model, x, batch_size=1024):
    """Predicted class of each sample (the arg-max of the softmax output)."""
    probabilities = model.predict(x, batch_size=batch_size, verbose=0)
    return np.argmax(probabilities, axis=1)


def describe_gap(gap):
    """A sentence on what the train/validation gap says about overtraining."""
    if gap > OVERTRAINING_GAP:
        return (f"Training accuracy is {gap:.3f} above validation accuracy: the network "
                f"has started to learn the training images by heart (overtraining).")
    if gap < -OVERTRAINING_GAP:
        return (f"Validation accuracy is {-gap:.3f} above training accuracy: no overtraining. "
                f"(The training accuracy is averaged over an epoch in which the network was "
                f"still improving, and dropout, where used, is active in training only.)")
    return f"Training and validation accuracy agree within {OVERTRAINING_GAP}: no overtraining."


def print_overtraining(training_result):
    """Print the final training and validation accuracy and what their gap says."""
    print(f"Final training accuracy {training_result.history['accuracy'][-1]:.4f}, "
          f"validation accuracy {training_result.history['val_accuracy'][-1]:.4f}.")
    print(describe_gap(training_result.train_validation_gap))


def print_result_lines(test_accuracy, training_result, note=""):
    """Print the three result lines that ``reproduce.py`` and the tests parse.

    ``note`` is appended to the test accuracy line (e.g. a reference value).
    """
    print(f"Test accuracy: {test_accuracy:.4f}" + (f" {note}" if note else ""))
    print(f"Train/validation gap: {training_result.train_validation_gap:.4f}")
    print(f"Training time: {training_result.seconds:.1f} s "
          f"({training_result.seconds_per_epoch:.2f} s/epoch)")


def evaluate(model, x_test, y_test, training_result, class_names):
    """Evaluate on the held-out test set and print the report and result lines.

    Prints per-class precision, recall and F1 with their macro average, a
    sentence on overtraining, and these lines, which ``reproduce.py`` and the
    tests parse::

        Test accuracy: 0.9812
        Train/validation gap: 0.0123
        Training time: 23.1 s (2.31 s/epoch)

    Returns a dict of the numbers and the predicted classes.
    """
    predicted = predict_classes(model, x_test)
    test_accuracy = metrics.accuracy(y_test, predicted)
    print()
    print(metrics.classification_report(y_test, predicted, class_names=class_names))
    print()
    print_overtraining(training_result)
    print_result_lines(test_accuracy, training_result)
    return {
        "test_accuracy": test_accuracy,
        "train_validation_gap": training_result.train_validation_gap,
        "train_accuracy": training_result.history["accuracy"][-1],
        "validation_accuracy": training_result.history["val_accuracy"][-1],
        "training_seconds": training_result.seconds,
        "seconds_per_epoch": training_result.seconds_per_epoch,
        "epochs": training_result.epochs,
        "predicted": predicted,
    }


def save_result_figures(prefix, training_result, x_test_images, y_test, predicted, class_names,
                        outdir, title, grid_size=32):
    """Save the three figures of a model script and return ``{name: path}``.

    ``x_test_images`` are the test images as 28x28 arrays (for display).
    """
    from dnnkit import plotting

    figures = {
        "training_curves": plotting.plot_training_curves(
            training_result.history, title=f"{title}: training curves"),
        "predictions": plotting.plot_image_grid(
            x_test_images[:grid_size], y_test[:grid_size], class_names=class_names,
            predicted=predicted[:grid_size],
            title=f"{title}: test images, true / predicted (wrong in red)"),
        "confusion_matrix": plotting.plot_confusion_matrix(
            metrics.confusion_matrix(y_test, predicted, num_classes=len(class_names)),
            class_names, title=f"{title}:\nconfusion matrix (test set)"),
    }
    return {name: plotting.save_figure(figure, f"{prefix}_{name}", outdir)
            for name, figure in figures.items()}


def report(model, training_result, x_test, y_test, test_images, dataset, args, *, name, title):
    """Evaluate, save the three figures, show them, and return the results.

    The last step of every model script: prints the report and result lines
    (:func:`evaluate`), saves the figures as ``<name>_*.png`` in
    ``args.outdir`` (:func:`save_result_figures`) and shows them once, unless
    ``--no-show`` was given or there is no display.  Returns the dict of
    :func:`evaluate` with the figure paths under ``"figures"``.
    """
    from dnnkit import data, plotting

    class_names = data.class_names(dataset)
    results = evaluate(model, x_test, y_test, training_result, class_names)
    results["figures"] = save_result_figures(
        name, training_result, test_images, y_test, results["predicted"], class_names,
        args.outdir, title)
    print(f"Figures saved in {args.outdir}/: "
          + ", ".join(path.name for path in results["figures"].values()))
    plotting.show(args.no_show)
    return results
