"""Plumbing around the lesson's ``model.fit`` and ``model.evaluate``, which each script writes out.

- :func:`speed_options`: ``compile`` arguments that make training faster, not different;
- :func:`monitor`: a callback that times the epochs and stops cleanly on Ctrl-C;
- :func:`verbosity`: a progress bar in a terminal, one line per epoch under pytest or CI;
- :func:`diagnose`: overtraining read from the curves, and :func:`print_results`,
  the verdict and the result lines that ``reproduce.py`` parses;
- :func:`early_stopping`: Keras's EarlyStopping for ``--early-stopping``;
- :func:`report`: per-class precision, recall and F1 of the test set.

TensorFlow is imported inside the functions, never at import time.
"""

import signal
import threading
import time
from dataclasses import dataclass

from dnnkit import runtime


def speed_options(steps_per_execution=32, jit_compile=False):
    """Keyword arguments for ``model.compile``: ``steps_per_execution`` batches per call
    into TensorFlow (the same batches and updates), and ``jit_compile`` (XLA: faster for
    the MLP on a CPU, slower for the CNNs), where this TensorFlow knows them; none with
    ``DNN_PLAIN_KERAS=1`` (Keras's defaults, the benchmarks' baseline)."""
    if runtime.plain_keras():
        return {}
    from dnnkit import compat

    return compat.compile_options(steps_per_execution=steps_per_execution,
                                  jit_compile=jit_compile)


def verbosity():
    """``verbose`` for ``model.fit``: a progress bar in a terminal, else one line per epoch."""
    return 2 if runtime.running_under_test_or_ci() else 1


def monitor():
    """A callback for ``model.fit``: ``seconds`` of training, and per epoch ``epoch_seconds``,
    ``epoch_spans`` (wall clock) and ``epoch_cpu_seconds``.

    A KeyboardInterrupt raised in a clean-up of TensorFlow's data pipeline is
    lost ("Exception ignored"), so the first Ctrl-C only takes note and training
    stops after the running batch with :class:`dnnkit.runtime.TrainingInterrupted`;
    a second one stops at once.  Where SIGINT is ignored (``nohup``) or handled
    by someone else (a notebook), nothing changes.
    """
    from dnnkit import compat

    class TrainingMonitor(compat.keras().callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds = 0.0
            self.epoch_seconds = []
            self.epoch_spans = []
            self.epoch_cpu_seconds = []
            self.epochs_completed = 0
            self.interrupted = False

        def take_note(self, signum, frame):
            self.stop_if_interrupted()  # the second Ctrl-C stops at once
            self.interrupted = True

        def stop_if_interrupted(self, *args, **kwargs):
            if self.interrupted:
                self.restore_ctrl_c()  # Keras calls no on_train_end after an exception
                raise runtime.TrainingInterrupted(self.epochs_completed)

        def restore_ctrl_c(self):
            if signal.getsignal(signal.SIGINT) == self.take_note:
                signal.signal(signal.SIGINT, signal.default_int_handler)

        on_train_batch_end = on_test_batch_end = stop_if_interrupted

        def on_train_begin(self, logs=None):
            self.interrupted = False
            # Python sets signal handlers in the main thread only (no thread is started here).
            if (threading.current_thread() is threading.main_thread()
                    and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
                signal.signal(signal.SIGINT, self.take_note)
            self.started = time.perf_counter()

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_started = (time.perf_counter(), time.time(), time.process_time())

        def on_epoch_end(self, epoch, logs=None):
            started, wall_started, cpu_started = self.epoch_started
            self.epoch_seconds.append(time.perf_counter() - started)
            self.epoch_spans.append((wall_started, time.time()))
            self.epoch_cpu_seconds.append(time.process_time() - cpu_started)
            self.epochs_completed += 1
            self.stop_if_interrupted()

        def on_train_end(self, logs=None):
            self.seconds = time.perf_counter() - self.started
            self.restore_ctrl_c()
            self.stop_if_interrupted()  # a Ctrl-C after the last batch is not lost either

    return TrainingMonitor()


#: The validation loss must rise more than this (per cent of its lowest value) after its
#: lowest epoch to count as overtraining.  Reason: in the lecture-setting runs of
#: results/RESULTS.md (3 seeds each) the networks that do not overtrain ended at most
#: 4.0 % above their lowest validation loss, those that do 11.4 % and more.
RISE_THRESHOLD_PERCENT = 5.0

#: The training loss counts as "still falling" if its last value is at least this much
#: (per cent) below its value at the best epoch.  Reason: overtraining is the network
#: improving on its training images while getting worse on new ones; if the training
#: loss stalls or rises too, something else went wrong.
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
    """Diagnose overtraining from ``history`` (``history.history`` of ``model.fit``).

    Overtraining: the validation loss passed its minimum and rose more than
    :data:`RISE_THRESHOLD_PERCENT` while the training loss kept falling.  Not the
    accuracy gap: Keras's training accuracy is averaged over a changing epoch,
    with Dropout on.  The gap is ``train_accuracy`` (``model.evaluate`` on
    ``train_count`` training images) minus the validation accuracy of the kept
    epoch: the last, or the best where early stopping restored it (``restored_best``).
    """
    loss, val_loss = list(history["loss"]), list(history["val_loss"])
    epochs = len(val_loss)
    best = min(range(epochs), key=val_loss.__getitem__)  # the first lowest, as Keras's
    rise = 100 * (val_loss[-1] - val_loss[best]) / val_loss[best]
    fell = loss[-1] < loss[best] * (1 - TRAINING_FALL_PERCENT / 100)
    overtraining = best < epochs - 1 and rise > RISE_THRESHOLD_PERCENT and fell
    d = Diagnosis(best + 1, epochs, val_loss[best], val_loss[-1], rise, fell, overtraining,
                  kept_epoch=best + 1 if restored_best else epochs)
    if train_accuracy is not None and "val_accuracy" in history:
        validation_accuracy = history["val_accuracy"][d.kept_epoch - 1]
        d.gap = float(train_accuracy) - validation_accuracy
        d.gap_basis = (f"training accuracy {train_accuracy:.4f} (model.evaluate on "
                       f"{train_count} training images, as the validation accuracy) minus "
                       f"validation accuracy {validation_accuracy:.4f} (epoch {d.kept_epoch})")
    lowest = f"Validation loss was lowest after epoch {d.best_epoch} ({d.best_val_loss:.3f})"
    rose = f"{lowest} and rose {rise:.0f} % by epoch {epochs}"
    if d.best_epoch == epochs:
        d.verdict = (f"{lowest}, the last epoch: it was still falling, no overtraining "
                     f"(not yet: more epochs may show it).")
    elif overtraining:
        d.verdict = (f"{rose} while training loss kept falling: the network learns the "
                     f"training images by heart (overtraining).")
    elif rise <= RISE_THRESHOLD_PERCENT:
        d.verdict = (f"{lowest}; by epoch {epochs} it was {rise:.0f} % above that, within "
                     f"the scatter of {RISE_THRESHOLD_PERCENT:.0f} %: no overtraining.")
    else:
        d.verdict = (f"{rose}, but the training loss did not keep falling either: training "
                     f"stalled or became unstable, which is not overtraining.")
    return d


def early_stopping(args):
    """``[EarlyStopping]`` on the validation loss with ``--early-stopping PATIENCE``, else ``[]``;
    it puts back the best epoch's weights, also on TF 2.4 (:func:`dnnkit.compat.early_stopping`)."""
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
    """Print the verdict, the accuracy gap and the result lines that ``reproduce.py``,
    ``tools/sync_results.py`` and the tests parse (``Test accuracy: 0.9071`` ...).
    Returns nothing, so a notebook cell ending in this call shows only the lines."""
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
