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

import math
import signal
import threading
import time
from dataclasses import dataclass

import numpy as np
from scipy import ndimage, stats

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


#: How the verdict reads a validation-loss curve (:func:`diagnose`).  Its *low* is the
#: lowest point of the curve's running median over 3 epochs (one low epoch cannot make
#: it); its *end* is the median of the last 3 epochs (one spike cannot make it); its
#: *scatter* is the epoch-to-epoch noise, from the median absolute deviation of the
#: second differences (a straight trend has none, one spike moves a median little).
#: Two questions are asked in units of that scatter, so the verdict does not depend on
#: the scale of the loss (a loss near zero) or on one machine's noise:
#:
#: - how far did it rise?  The *rise*: end - low, in scatters.
#: - did it keep rising after the low?  The *trend*: the Theil-Sen slope (the median of
#:   the slopes between all pairs of epochs; one spike moves it little) of the epochs from
#:   the low to the last, divided by its standard error, scatter / sqrt(sum of (epoch -
#:   mean epoch)^2).  Every epoch after the low counts, not only the last 3, so a slow
#:   rise on a noisy curve (the MNIST MLP's) shows as what it is.
SMOOTHING_EPOCHS = 3

#: Over this many scatters between the low and the end, with the training loss still
#: falling: overtraining.  Up to :data:`NO_RISE_SCATTERS` (on a quiet curve, see
#: :data:`QUIET_RATIO`): no overtraining; between the two, without a trend over
#: :data:`RISE_ERRORS`: within the noise, where more seeds (``reproduce.py --seeds``) or
#: more epochs decide.  Both were chosen with ``python tools/verdict_rule.py`` on the
#: overtraining study's 27 runs (results/study/, AMD EPYC, TensorFlow 2.21, 2026-12-07):
#: the runs that must overtrain (no Dropout, 128 nodes and more) rose 2.6 to 15.8
#: scatters, those that must not (Dropout 0.2 and more, 16 nodes) up to 3.4; each edge
#: widened by one scatter (one run measures its rise only to about that), the overlap
#: 1.5 to 4.5 is "within the noise".  The check on runs it was not chosen on is in
#: results/RULE.md (the counts, and every run).
RISE_SCATTERS = 4.5

#: See :data:`RISE_SCATTERS`.
NO_RISE_SCATTERS = 1.5

#: Over this many standard errors of the trend after the low (over at least
#: :data:`TREND_EPOCHS` epochs), with the training loss still falling: overtraining too,
#: whatever the end alone says.  Chosen like the bounds above on the same 27 study runs:
#: the runs that must overtrain had trends of 3.5 to 23.7 standard errors, those that
#: must not (where the trend was read) up to 1.9; each edge widened by one standard
#: error, the upper edge of the overlap 2.5 to 2.9, rounded up to a half.  Added on
#: 2026-12-08: the end alone, a median of 3 epochs, left 6 of the MNIST MLP's 8 runs at
#: 20 epochs within the noise, though their validation loss rose over the 13 to 18 epochs
#: after its low.
RISE_ERRORS = 3.0

#: The trend is read over at least this many epochs from the low to the last (the low's
#: included).  Over fewer, one or two spikes can make it: Theil-Sen tolerates fewer than
#: 29 % of wild points, 2 of 8; and the low itself, one chosen point, weighs more.  Such
#: a curve (its low in the last 7 epochs) is read from its end alone.  (Issue 26's AMD
#: run of clothingSequentialDropout, low at epoch 9 of 15, read as a trend over 7 epochs
#: of 4.5 standard errors: one low point and two high ones made it.)
TREND_EPOCHS = 8

#: "No overtraining" needs a curve quiet enough to show a rise: its scatter at most this
#: fraction of the validation loss's fall from epoch 1 to its low.  On a noisier curve a
#: small measured rise rules nothing out (no evidence of a rise is no evidence of none):
#: within the noise.  Chosen with ``python tools/verdict_rule.py`` on the same 27 study
#: runs: the runs that must not overtrain had a scatter of at most 0.103 of their fall,
#: rounded down; "no overtraining" is said only of curves as quiet as those.  History:
#: added on 2026-12-07 (0.15, then widened by one run's scatter uncertainty) after the
#: first 22 lecture-setting runs had given 2 verdicts opposite to the lecture's (the lab
#: floor's MLP and clothingSequential, seed 43, scatter 0.34 and 0.21 of their fall);
#: not widened since 2026-12-08, after the lab floor's clothingSequential (TensorFlow
#: 2.4, whose validation loss scatters more than the pinned one's) read "no
#: overtraining" on curves with 0.119 and 0.130.  Each change was checked on runs stored
#: after it: results/RULE.md.
QUIET_RATIO = 0.10

#: The training loss counts as "still falling" if its end (median of the last 3 epochs)
#: is at least this much (per cent) below its value at the validation loss's low.
#: Reason: overtraining is the network improving on its training images while getting
#: worse on new ones; if the training loss stalls or rises too, something else went wrong.
TRAINING_FALL_PERCENT = 1.0

#: The scatter is measured from this epoch on: the first epochs' steep fall is no noise.
SCATTER_FROM_EPOCH = 3

#: Fewer epochs give too few second differences to measure the scatter (at least 3).
MIN_EPOCHS = SCATTER_FROM_EPOCH + 4

#: The four outcomes of :func:`diagnose`.
OVERTRAINING, NO_OVERTRAINING, WITHIN_NOISE, DIVERGED = (
    "overtraining", "no overtraining", "within the noise", "diverged")


@dataclass
class Diagnosis:
    """What the training curves say about overtraining (see :func:`diagnose`)."""

    outcome: str               # OVERTRAINING, NO_OVERTRAINING, WITHIN_NOISE or DIVERGED
    epochs: int                # epochs trained
    best_epoch: int = None     # the epoch of the low of the validation loss (1-based)
    best_val_loss: float = None    # the low (running median over 3 epochs)
    final_val_loss: float = None   # the end (median of the last 3 epochs)
    rise: float = None         # end - low, in units of the loss
    rise_percent: float = None     # the same in per cent of the low
    scatter: float = None      # the epoch-to-epoch noise of the validation loss
    rise_in_scatters: float = None  # rise / scatter: how far the end lies above the low
    trend: float = None        # Theil-Sen slope of the epochs from the low on, per epoch
    trend_start: float = None  # that trend line's value at the low's epoch
    trend_in_errors: float = None   # trend / its standard error: whether it kept rising
    fall: float = None         # epoch 1's validation loss minus the low: what it learned
    noise_ratio: float = None  # scatter / fall: whether the curve could show a rise
    training_loss_fell: bool = None  # the training loss kept falling after the low
    still_falling: bool = False      # the low lies in the last epochs: no rise to judge
    gap: float = None          # training minus validation accuracy, both measured alike
    gap_basis: str = ""        # how the training accuracy of the gap was measured
    kept_epoch: int = None     # the epoch whose weights the network has now
    verdict: str = ""          # the sentence that cites these numbers

    @property
    def overtraining(self):
        return self.outcome == OVERTRAINING

    def summary(self):
        """The verdict in two short lines, with the numbers it compared (the title of the
        training curves, the playground's text): :attr:`verdict` is the sentence."""
        if self.scatter is None:
            return (self.outcome if self.best_epoch is None else
                    f"lowest validation loss at epoch {self.best_epoch}: {self.outcome}")
        quiet = is_quiet(self.noise_ratio)
        trend = ("" if self.trend_in_errors is None else
                 f"trend {self.trend_in_errors:+.1f} standard errors: ")
        return (f"low {self.best_val_loss:.3g} (epoch {self.best_epoch}), end {self.rise:+.2g} = "
                f"{self.rise_in_scatters:.1f} scatters of {self.scatter:.2g}"
                + ("" if quiet else f", {self.noise_ratio:.2f} of its fall (too noisy)")
                + f"\n{trend}{self.outcome}")


def scatter_of(values):
    """The epoch-to-epoch noise of a curve, as a standard deviation: the median absolute
    deviation of its second differences from epoch :data:`SCATTER_FROM_EPOCH` on (Gaussian
    noise of standard deviation s gives second differences of standard deviation s * sqrt(6);
    a straight trend gives none).  The steep fall of the first epochs is left out.
    ``values``: one curve, or one curve per row (then one scatter per row)."""
    second = np.diff(np.asarray(values, dtype=float)[..., SCATTER_FROM_EPOCH - 1:], n=2, axis=-1)
    scatter = stats.median_abs_deviation(second, axis=-1, scale="normal") / np.sqrt(6)
    return float(scatter) if np.ndim(scatter) == 0 else scatter


def judge(rise_in_scatters, trend_in_errors, training_loss_fell, quiet=True, no_rise=None,
          rise=None, trend=None):
    """The outcome of a curve whose end lies ``rise_in_scatters`` scatters above its low,
    after which it rose at ``trend_in_errors`` standard errors (None: too few epochs to
    tell), with the bounds :data:`NO_RISE_SCATTERS`, :data:`RISE_SCATTERS` and
    :data:`RISE_ERRORS` (or others, to choose them).  ``quiet``: the curve's scatter is
    small enough against its fall to show a rise (:data:`QUIET_RATIO`); without that, a
    small rise is within the noise, not "none"."""
    no_rise = NO_RISE_SCATTERS if no_rise is None else no_rise
    rise = RISE_SCATTERS if rise is None else rise
    trend = RISE_ERRORS if trend is None else trend
    if rise_in_scatters > rise or (trend_in_errors is not None and trend_in_errors > trend):
        return OVERTRAINING if training_loss_fell else NO_OVERTRAINING
    return NO_OVERTRAINING if rise_in_scatters <= no_rise and quiet else WITHIN_NOISE


def trend_of(values, start, scatter):
    """The Theil-Sen line of ``values`` from index ``start`` on: its slope, its value at
    ``start``, and the slope in units of its standard error for a curve with this
    epoch-to-epoch ``scatter``."""
    epochs = np.arange(start, len(values), dtype=float)
    slope, intercept = stats.theilslopes(np.asarray(values, dtype=float)[start:], epochs)[:2]
    errors = slope * math.sqrt(float(np.sum((epochs - epochs.mean()) ** 2))) / scatter
    return float(slope), float(intercept + slope * start), float(errors)


def is_quiet(noise_ratio, quiet_ratio=None):
    """Whether a curve with this scatter / fall can show a rise (:data:`QUIET_RATIO`)."""
    quiet_ratio = QUIET_RATIO if quiet_ratio is None else quiet_ratio
    return noise_ratio is not None and noise_ratio <= quiet_ratio


def diagnose(history, train_accuracy=None, train_count=None, restored_best=False):
    """Diagnose overtraining from ``history`` (``history.history`` of ``model.fit``).

    Overtraining: after its low, the validation loss rose by more than
    :data:`RISE_SCATTERS` times its own epoch-to-epoch scatter, or kept rising with a
    trend of more than :data:`RISE_ERRORS` standard errors, while the training loss kept
    falling; no overtraining: its end lies at most :data:`NO_RISE_SCATTERS` scatters
    above its low (or its low lies in the last epochs) on a curve whose scatter is small
    against its fall (:data:`QUIET_RATIO`); otherwise the run cannot tell (within the
    noise).  A NaN or infinite loss is "diverged".  Not the accuracy gap:
    Keras's training accuracy is averaged over a changing epoch, with Dropout
    on.  The gap is ``train_accuracy`` (``model.evaluate`` on ``train_count``
    training images) minus the validation accuracy of the kept epoch: the last,
    or the best where early stopping restored it (``restored_best``).
    """
    loss = np.asarray(history["loss"], dtype=float)
    val_loss = np.asarray(history["val_loss"], dtype=float)
    epochs = len(val_loss)
    bad = np.flatnonzero(~np.isfinite(loss[:epochs]) | ~np.isfinite(val_loss))
    if len(bad):
        return Diagnosis(DIVERGED, epochs, verdict=(
            f"The loss became {'NaN' if np.isnan([loss[bad[0]], val_loss[bad[0]]]).any() else 'infinite'}"
            f" in epoch {bad[0] + 1}: training diverged (lower the learning rate); the curves "
            f"say nothing about overtraining."))
    smooth = ndimage.median_filter(val_loss, size=SMOOTHING_EPOCHS, mode="nearest")
    best = int(np.argmin(smooth))  # the first lowest
    # The end: the median of the last 3 epochs (of fewer, the last epoch itself).
    window = SMOOTHING_EPOCHS if epochs >= SMOOTHING_EPOCHS else 1
    low, end = float(smooth[best]), float(np.median(val_loss[-window:]))
    rise = end - low
    fell = bool(np.median(loss[-window:]) < ndimage.median_filter(
        loss, size=SMOOTHING_EPOCHS, mode="nearest")[best] * (1 - TRAINING_FALL_PERCENT / 100))
    d = Diagnosis(NO_OVERTRAINING, epochs, best + 1, low, end, rise,
                  100 * rise / low if low > 0 else 0.0, training_loss_fell=fell,
                  kept_epoch=int(np.argmin(val_loss)) + 1 if restored_best else epochs)
    if train_accuracy is not None and "val_accuracy" in history:
        validation_accuracy = history["val_accuracy"][d.kept_epoch - 1]
        d.gap = float(train_accuracy) - validation_accuracy
        d.gap_basis = (f"training accuracy {train_accuracy:.4f} (model.evaluate on "
                       f"{train_count} training images, as the validation accuracy) minus "
                       f"validation accuracy {validation_accuracy:.4f} (epoch {d.kept_epoch})")
    lowest = (f"The validation loss was lowest around epoch {d.best_epoch} ({low:.3g}, "
              f"median of 3 epochs)")
    d.fall = float(val_loss[0]) - low
    if epochs >= MIN_EPOCHS:
        # The scatter never counts as less than a millionth of the loss (a noiseless curve).
        d.scatter = max(scatter_of(val_loss), 1e-6 * max(low, 1e-12))
        d.rise_in_scatters = rise / d.scatter
        d.noise_ratio = d.scatter / d.fall if d.fall > 0 else math.inf
    quiet = is_quiet(d.noise_ratio)
    noisy = ""
    if d.scatter is not None and not quiet:
        noisy = (f"its epoch-to-epoch scatter of {d.scatter:.2g} is {d.noise_ratio:.2f} of its "
                 f"fall from epoch 1 (more than {QUIET_RATIO:g}: too noisy to rule a rise out)"
                 if d.fall > 0 else "it never fell below epoch 1's value, so no fall to "
                 "measure a rise against")
    if best == epochs - 1 or (epochs >= MIN_EPOCHS and epochs - best <= window):
        # The low lies in the last epochs: nothing rose after it.
        d.still_falling, d.rise, d.rise_percent = True, 0.0, 0.0
        d.final_val_loss = low
        d.rise_in_scatters = None if d.scatter is None else 0.0
        if d.scatter is None or quiet:
            d.verdict = (f"{lowest}, at the end of training: it was still falling, no "
                         f"overtraining (not yet: more epochs may show it).")
        else:
            d.outcome = WITHIN_NOISE
            d.verdict = (f"{lowest}, at the end of training, but {noisy}: within the noise. "
                         f"One run is one draw: more seeds (python reproduce.py --seeds 5) or "
                         f"more epochs decide.")
        return d
    if epochs < MIN_EPOCHS:
        d.outcome = WITHIN_NOISE
        d.verdict = (f"{lowest}; {epochs} epochs are too few to tell a rise from the "
                     f"noise: within the noise (train more epochs).")
        return d
    rose = (f"{lowest}; by the last 3 epochs it was {rise:.2g} higher ({d.rise_percent:+.1f} %), "
            f"{d.rise_in_scatters:.1f} times its epoch-to-epoch scatter of {d.scatter:.2g}")
    if epochs - best >= TREND_EPOCHS:
        d.trend, d.trend_start, d.trend_in_errors = trend_of(val_loss, best, d.scatter)
        if d.rise_in_scatters <= RISE_SCATTERS:  # cited where the rise alone does not decide
            rose += f", its trend after the low {d.trend_in_errors:+.1f} standard errors"
    d.outcome = judge(d.rise_in_scatters, d.trend_in_errors, fell, quiet)
    rising = judge(d.rise_in_scatters, d.trend_in_errors, True, False) == OVERTRAINING
    over = (f"over {RISE_SCATTERS:g} scatters" if d.rise_in_scatters > RISE_SCATTERS else
            f"a trend over {RISE_ERRORS:g} standard errors")
    if d.outcome == OVERTRAINING:
        d.verdict = (f"{rose}: {over}, while the training loss kept falling: the network "
                     f"learns the training images by heart (overtraining).")
    elif rising:
        d.verdict = (f"{rose}: {over}, but the training loss did not keep falling either: "
                     f"training stalled or became unstable, which is not overtraining.")
    elif d.outcome == NO_OVERTRAINING:
        d.verdict = (f"{rose}: at most {NO_RISE_SCATTERS:g} scatters is noise, no "
                     f"overtraining.")
    else:
        trend = ("" if d.trend_in_errors is None else
                 f" and a trend of at most {RISE_ERRORS:g} standard errors")
        why = (f"between {NO_RISE_SCATTERS:g} and {RISE_SCATTERS:g} scatters{trend}"
               if d.rise_in_scatters > NO_RISE_SCATTERS else f"but {noisy}")
        d.verdict = (f"{rose}: {why}, within the noise. One run is one draw: more seeds "
                     f"(python reproduce.py --seeds 5) or more epochs decide.")
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
              f"{diagnosis.epochs - diagnosis.kept_epoch} epochs); ", end="")
    else:
        print(f"Early stopping: training ran all {planned_epochs} epochs; ", end="")
    print(f"the weights of epoch {diagnosis.kept_epoch} (the lowest validation loss) were kept.")


def loss_and_accuracy(labels, probabilities):
    """``(loss, accuracy)`` as ``model.evaluate`` gives them, from ``model.predict``'s softmax
    ``probabilities``: the mean cross-entropy (the loss the networks are compiled with,
    clipped at 1e-7 as Keras does) and the share of right answers.  ``--pretrained`` thus
    passes over the test images once, not twice."""
    labels = np.asarray(labels).ravel()
    probabilities = np.asarray(probabilities, dtype=float)
    right = probabilities[np.arange(len(labels)), labels]
    loss = -np.log(np.clip(right, 1e-7, 1.0)).mean()
    return float(loss), float((probabilities.argmax(axis=1) == labels).mean())


def report(y_test, predicted, dataset):
    """Print scikit-learn's per-class precision, recall and F1 of the test set, with their averages."""
    from sklearn.metrics import classification_report

    from dnnkit import data

    names = data.class_names(dataset)
    print(classification_report(y_test, predicted, labels=range(len(names)), target_names=names,
                                digits=3, zero_division=0))


#: The "Overtraining:" result line of each outcome (reproduce.py parses it).
OVERTRAINING_ANSWERS = {OVERTRAINING: "yes", NO_OVERTRAINING: "no",
                        WITHIN_NOISE: "within the noise", DIVERGED: "diverged"}


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
    if d.best_epoch is not None:
        print(f"Best epoch: {d.best_epoch} of {d.epochs}")
        print(f"Validation loss rise: {d.rise_percent:.1f} %")
    if d.rise_in_scatters is not None:
        print(f"Rise in scatters: {d.rise_in_scatters:.1f}")
    if d.trend_in_errors is not None:
        print(f"Trend in standard errors: {d.trend_in_errors:+.1f}")
    print(f"Overtraining: {OVERTRAINING_ANSWERS[d.outcome]}")
    print(f"Training time: {monitor.seconds:.1f} s ({monitor.seconds / d.epochs:.2f} s/epoch)")
