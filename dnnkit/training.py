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
- :func:`diagnose`: what the training curves say about overtraining (the
  epoch of the lowest validation loss, how far it rose after it, whether the
  training loss kept falling), with :func:`print_results` printing the
  verdict and the result lines that ``reproduce.py`` parses;
- :func:`early_stopping`: Keras's EarlyStopping for ``--early-stopping``;
- :func:`report`: per-class precision, recall and F1 of the test set.

TensorFlow is imported inside the functions, never at import time.
"""

import os
import signal
import threading
import time
from dataclasses import dataclass

from dnnkit import runtime


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


# ---------------------------------------------------------------------------
# Overtraining, diagnosed from the curves
# ---------------------------------------------------------------------------
#: The validation loss must rise more than this (in per cent of its lowest value)
#: after its lowest epoch to count as overtraining.  Reason: in the lecture-setting
#: runs of results/RESULTS.md (3 seeds each) the networks that do not overtrain
#: ended at most 4.0 % above their lowest validation loss, those that do 11.4 % and more.
RISE_THRESHOLD_PERCENT = 5.0

#: The training loss counts as "still falling" if its last value is at least
#: this much (per cent) below its value at the best epoch.  Reason: overtraining
#: is the network improving on its training images while getting worse on
#: new ones; if the training loss stalls or rises too, something else went wrong.
TRAINING_FALL_PERCENT = 1.0


@dataclass
class Diagnosis:
    """What the training curves say about overtraining (see :func:`diagnose`)."""

    best_epoch: int            # the epoch of the lowest validation loss (1-based)
    epochs: int                # epochs trained
    best_val_loss: float
    final_val_loss: float
    rise_percent: float        # how far the validation loss rose after the best epoch
    training_loss_fell: bool   # the training loss kept falling over the same epochs
    overtraining: bool
    gap: float = None          # training minus validation accuracy, both measured alike
    gap_basis: str = ""        # how the training accuracy of the gap was measured
    kept_epoch: int = None     # the epoch whose weights the network has now
    verdict: str = ""          # the sentence that cites these numbers


def diagnose(history, train_accuracy=None, train_count=None, restored_best=False):
    """Diagnose overtraining from the training curves, the way practitioners read them.

    ``history`` is ``history.history`` from ``model.fit`` (a dict of lists
    with ``loss`` and ``val_loss``, and ``val_accuracy`` where measured).
    Overtraining means: the validation loss passed its minimum and rose
    (more than :data:`RISE_THRESHOLD_PERCENT`) while the training loss kept
    falling.  The accuracy gap is not the criterion: Keras's training
    accuracy is averaged over an epoch in which the network still changed,
    with Dropout on, so it is biased.

    ``train_accuracy``, if given, is the training accuracy measured the way
    the validation accuracy is: ``model.evaluate`` on ``train_count``
    training images, after training.  The gap is then that accuracy minus
    the validation accuracy of the epoch whose weights the network has: the
    last, or the best where early stopping put its weights back
    (``restored_best``).
    """
    loss, val_loss = list(history["loss"]), list(history["val_loss"])
    epochs = len(val_loss)
    best = min(range(epochs), key=val_loss.__getitem__)  # the first lowest, as Keras's
    rise = 100 * (val_loss[-1] - val_loss[best]) / val_loss[best]
    fell = loss[-1] < loss[best] * (1 - TRAINING_FALL_PERCENT / 100)
    overtraining = best < epochs - 1 and rise > RISE_THRESHOLD_PERCENT and fell
    kept = best + 1 if restored_best else epochs
    diagnosis = Diagnosis(best + 1, epochs, val_loss[best], val_loss[-1], rise, fell,
                          overtraining, kept_epoch=kept)
    if train_accuracy is not None and "val_accuracy" in history:
        validation_accuracy = history["val_accuracy"][kept - 1]
        diagnosis.gap = float(train_accuracy) - validation_accuracy
        diagnosis.gap_basis = (f"training accuracy {train_accuracy:.4f} (model.evaluate on "
                               f"{train_count} training images, as the validation accuracy) "
                               f"minus validation accuracy {validation_accuracy:.4f} "
                               f"(epoch {kept})")
    diagnosis.verdict = _verdict(diagnosis)
    return diagnosis


def _verdict(d):
    """The sentence that states the diagnosis and cites its numbers."""
    lowest = f"Validation loss was lowest after epoch {d.best_epoch} ({d.best_val_loss:.3f})"
    if d.best_epoch == d.epochs:
        return (f"{lowest}, the last epoch: it was still falling, no overtraining "
                f"(not yet: more epochs may show it).")
    rose = f"{lowest} and rose {d.rise_percent:.0f} % by epoch {d.epochs}"
    if d.overtraining:
        return (f"{rose} while training loss kept falling: the network learns the training "
                f"images by heart (overtraining).")
    if d.rise_percent <= RISE_THRESHOLD_PERCENT:
        return (f"{lowest}; by epoch {d.epochs} it was {d.rise_percent:.0f} % above that, "
                f"within the scatter of {RISE_THRESHOLD_PERCENT:.0f} %: no overtraining.")
    return (f"{rose}, but the training loss did not keep falling either: training "
            f"stalled or became unstable, which is not overtraining.")


def early_stopping(args):
    """``[EarlyStopping]`` for ``model.fit``'s callbacks with ``--early-stopping PATIENCE``, else ``[]``.

    Keras's ``EarlyStopping`` on the validation loss: training stops when it
    has not fallen for PATIENCE epochs, and the weights of the epoch with the
    lowest validation loss are put back.  (TensorFlow 2.4's EarlyStopping puts
    them back only when it stopped training itself, not when the last epoch
    came first; :func:`dnnkit.compat.early_stopping` does it in both cases.)
    """
    patience = getattr(args, "early_stopping", None)
    if not patience:
        return []
    from dnnkit import compat

    return [compat.early_stopping(patience)]


def print_early_stopping(diagnosis, planned_epochs):
    """Say where early stopping ended training and which epoch's weights were kept."""
    if diagnosis.epochs < planned_epochs:
        print(f"Early stopping: training stopped after epoch {diagnosis.epochs} of "
              f"{planned_epochs} (no lower validation loss for "
              f"{diagnosis.epochs - diagnosis.best_epoch} epochs); ", end="")
    else:
        print(f"Early stopping: training ran all {planned_epochs} epochs; ", end="")
    print(f"the weights of epoch {diagnosis.kept_epoch} (lowest validation loss "
          f"{diagnosis.best_val_loss:.4f}) were kept.")


def report(y_test, predicted, dataset):
    """Print scikit-learn's per-class precision, recall and F1 of the test set, with their averages."""
    from sklearn.metrics import classification_report

    from dnnkit import data

    names = data.class_names(dataset)
    print(classification_report(y_test, predicted, labels=range(len(names)), target_names=names,
                                digits=3, zero_division=0))


def print_results(diagnosis, monitor, test_accuracy):
    """Print the diagnosis and the result lines (nothing is returned: a notebook cell ending
    in this call shows only the lines).

    The verdict sentence and the accuracy gap, then these lines, which
    ``reproduce.py`` and the tests parse::

        Test accuracy: 0.9071
        Train/validation gap: 0.0369
        Best epoch: 6 of 15
        Validation loss rise: 53.1 %
        Overtraining: yes
        Training time: 48.0 s (3.20 s/epoch)
    """
    d = diagnosis
    print(d.verdict)
    if d.gap is not None:
        print(f"Accuracy gap {d.gap:+.4f}: {d.gap_basis}.")
    print(f"Test accuracy: {test_accuracy:.4f}")
    if d.gap is not None:
        print(f"Train/validation gap: {d.gap:.4f}")
    print(f"Best epoch: {d.best_epoch} of {d.epochs}")
    print(f"Validation loss rise: {d.rise_percent:.1f} %")
    print(f"Overtraining: {'yes' if d.overtraining else 'no'}")
    print(f"Training time: {monitor.seconds:.1f} s ({monitor.seconds / d.epochs:.2f} s/epoch)")
