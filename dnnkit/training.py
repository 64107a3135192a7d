"""Plumbing around the lesson's ``model.fit`` and ``model.evaluate``.

The lesson (the model, ``compile``, ``model.fit(...)`` with its epochs, batch
size and validation split, and ``model.evaluate(...)``) is written out in
each script.  This module only supplies what those calls are given and what
is printed after them:

- :func:`speed_options`: the ``compile`` arguments that make training faster
  without changing the network or its batches (``steps_per_execution``, XLA);
- :func:`monitor`: a Keras callback for ``model.fit`` that times the epochs
  and makes Ctrl-C stop cleanly after the running batch;
- :func:`verbosity`: a progress bar in a terminal, one line per epoch in a
  log, under pytest or CI;
- :func:`report`: per-class precision, recall and F1, the sentence on
  overtraining, and the three result lines that ``reproduce.py`` parses.

TensorFlow is imported inside the functions, never at import time.
"""

import os
import signal
import threading
import time

from dnnkit import metrics, runtime

#: A train/validation accuracy gap above this is called overtraining in the output.
OVERTRAINING_GAP = 0.015

def speed_options(steps_per_execution=32, jit_compile=False):
    """Keyword arguments for ``model.compile`` that make training faster, not different.

    - ``steps_per_execution``: run this many batches per call from Python into
      TensorFlow instead of one (the same batches, the same updates);
    - ``jit_compile``: let XLA compile the whole training step into one fused
      program (faster for the MLP on a CPU; slower for the CNNs).

    Options this TensorFlow does not know are left out
    (:func:`dnnkit.compat.compile_options`), and with ``DNN_PLAIN_KERAS=1``
    none is given: Keras's defaults, the benchmarks' baseline.
    """
    if runtime.plain_keras():
        return {}
    from dnnkit import compat

    return compat.compile_options(steps_per_execution=steps_per_execution,
                                  jit_compile=jit_compile)


def verbosity():
    """``verbose`` for ``model.fit``: a progress bar in a terminal, else one line per epoch."""
    return 2 if runtime.running_under_test_or_ci() else 1


def monitor():
    """A Keras callback for ``model.fit``: epoch times, and a clean stop on Ctrl-C.

    ``callbacks=[monitor]`` in ``model.fit``; afterwards ``monitor.seconds``
    is the training time and ``monitor.epoch_seconds`` the time of each
    epoch.

    Ctrl-C: Python raises KeyboardInterrupt wherever the program happens to
    be, also inside a clean-up method of TensorFlow's data pipeline, where it
    is printed as "Exception ignored" and lost, and training goes on.  So
    during training the first Ctrl-C only takes note, and the callback stops
    training after the batches running now (a fraction of a second) by
    raising :class:`dnnkit.runtime.TrainingInterrupted` ("Interrupted after
    epoch k", exit code 130).  A second Ctrl-C stops at once.  This needs
    Python's own Ctrl-C handling in the main thread; where SIGINT is ignored
    (``nohup``) or handled by someone else (a notebook), nothing changes.
    """
    from dnnkit import compat

    keras = compat.keras()

    class TrainingMonitor(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds = 0.0
            self.epoch_seconds = []
            self.epoch_spans = []         # (start, end) wall-clock time of every epoch
            self.epoch_cpu_seconds = []   # CPU time of this process in every epoch
            self.epochs_completed = 0
            self.interrupt_requested = False
            self._previous_handler = None
            self._started = None

        # -- Ctrl-C --------------------------------------------------------
        def _take_note(self, signum, frame):
            if self.interrupt_requested:  # the second Ctrl-C
                self._stop()
            self.interrupt_requested = True

        def _stop_if_requested(self, *args, **kwargs):
            if self.interrupt_requested:
                self._stop()

        def _stop(self):
            self._restore_ctrl_c()  # Keras calls no on_train_end when training stops so
            raise runtime.TrainingInterrupted(self.epochs_completed)

        def _restore_ctrl_c(self):
            if self._previous_handler is not None:
                signal.signal(signal.SIGINT, self._previous_handler)
                self._previous_handler = None

        on_train_batch_end = on_test_batch_end = _stop_if_requested

        # -- Training ------------------------------------------------------
        def on_train_begin(self, logs=None):
            self.interrupt_requested = False
            if (threading.current_thread() is threading.main_thread()
                    and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
                self._previous_handler = signal.signal(signal.SIGINT, self._take_note)
            self._started = time.perf_counter()

        def on_epoch_begin(self, epoch, logs=None):
            self._epoch_started = (time.perf_counter(), time.time(), _cpu_seconds())

        def on_epoch_end(self, epoch, logs=None):
            started, wall_started, cpu_started = self._epoch_started
            self.epoch_seconds.append(time.perf_counter() - started)
            self.epoch_spans.append((wall_started, time.time()))
            self.epoch_cpu_seconds.append(_cpu_seconds() - cpu_started)
            self.epochs_completed += 1
            self._stop_if_requested()

        def on_train_end(self, logs=None):
            self.seconds = time.perf_counter() - self._started
            self._restore_ctrl_c()
            # A Ctrl-C pressed after the last batch is not lost either.
            self._stop_if_requested()

    return TrainingMonitor()


def _cpu_seconds():
    """CPU time used so far by all threads of this process (user + system)."""
    times = os.times()
    return times.user + times.system


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


def report(history, monitor, test_accuracy, y_test, predicted, dataset):
    """Print what the test set says about the trained network, and return the numbers.

    ``history`` is what ``model.fit`` returned, ``monitor`` the callback of
    :func:`monitor` it was given, ``test_accuracy`` the accuracy
    ``model.evaluate`` measured and ``predicted`` the predicted class of every
    test image.  Prints per-class precision, recall and F1 with their macro
    average, then what :func:`print_results` prints.
    """
    from dnnkit import data

    print(metrics.classification_report(y_test, predicted, class_names=data.class_names(dataset)))
    print()
    return print_results(history, monitor, test_accuracy)


def print_results(history, monitor, test_accuracy):
    """Print the final accuracies, what their gap says, and the result lines; return the numbers.

    The final training and validation accuracy with a sentence on
    overtraining, and these lines, which ``reproduce.py`` and the tests
    parse::

        Test accuracy: 0.9812
        Train/validation gap: 0.0123
        Training time: 23.1 s (2.31 s/epoch)
    """
    accuracy = history.history["accuracy"]
    validation_accuracy = history.history["val_accuracy"]
    gap = accuracy[-1] - validation_accuracy[-1]
    epochs = len(accuracy)
    print(f"Final training accuracy {accuracy[-1]:.4f}, "
          f"validation accuracy {validation_accuracy[-1]:.4f}.")
    print(describe_gap(gap))
    print(f"Test accuracy: {test_accuracy:.4f}")
    print(f"Train/validation gap: {gap:.4f}")
    print(f"Training time: {monitor.seconds:.1f} s ({monitor.seconds / epochs:.2f} s/epoch)")
    return {
        "test_accuracy": float(test_accuracy),
        "train_validation_gap": float(gap),
        "train_accuracy": float(accuracy[-1]),
        "validation_accuracy": float(validation_accuracy[-1]),
        "training_seconds": monitor.seconds,
        "seconds_per_epoch": monitor.seconds / epochs,
        "epochs": epochs,
    }
