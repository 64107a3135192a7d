"""The one place where the versions of TensorFlow, Keras and matplotlib differ.

The scripts run unchanged from the lecture lab's TensorFlow 2.4 (Python 3.8,
Keras 2.4) up to TensorFlow 2.21 with Keras 3, and with ``TF_USE_LEGACY_KERAS=1``
(tf_keras), and with matplotlib 3.3 to 3.11.  Each function here decides by
what the installed version offers, never by comparing version numbers.
Nothing here imports TensorFlow or matplotlib at import time.
"""

import inspect


def keras():
    """The Keras that ``from tensorflow import keras`` gives (Keras 2, Keras 3 or tf_keras)."""
    from tensorflow import keras as tf_keras

    return tf_keras


def keras_version():
    """The version of that Keras, e.g. ``"3.15.1"`` ("unknown" for tf_keras, whose
    ``keras`` namespace has no ``__version__``)."""
    return getattr(keras(), "__version__", "unknown")


def seed_tensorflow(seed, same_batch_order=False):
    """Seed Keras's random numbers (initial weights, Dropout) and, where that keeps the
    training batches reshuffled every epoch, TensorFlow's global seed.

    ``model.fit(x, y, shuffle=True)`` draws the order of the training batches
    with a TensorFlow random op.  TensorFlow 2.4 and Keras 2 run it once per
    epoch in one data pipeline: a new order every epoch, seeded or not.  Keras
    3 restarts its pipeline every epoch, and with TensorFlow's global seed set
    each restart draws the same order: every epoch then sees the same batches
    in the same sequence.  On the Fashion-MNIST dense network (15 epochs) that
    memorised more: its training loss ended at 0.194 (mean of 11 seeds) instead
    of 0.203 (9 seeds on TensorFlow 2.4), and its mean validation loss rose
    0.038 above its low instead of 0.015 (results/same-batch-order/); with the
    order drawn anew, TensorFlow 2.21 ended at 0.201-0.207 (3 seeds).  So where Keras
    has ``keras.ops`` (Keras 3), TensorFlow's global seed is left unset after
    ``set_random_seed``: the weights and Dropout stay seeded (Keras draws them
    from its own generator), the batch order is new every epoch and every run.

    ``same_batch_order=True`` sets the global seed there too: two runs with
    the same seed then give the same numbers on one machine, at the price of
    the same order every epoch.  For tests and benchmarks that compare two
    runs (``DNN_SAME_BATCH_ORDER=1``, :func:`dnnkit.runtime.set_seed`).
    """
    import tensorflow as tf

    set_random_seed = getattr(keras().utils, "set_random_seed", None)
    if set_random_seed is None:  # TensorFlow 2.4 to 2.6
        tf.random.set_seed(seed)
        return
    set_random_seed(seed)  # Python, numpy, Keras's generator and TensorFlow's global seed
    if restarts_batch_order() and not same_batch_order:
        tf.random.set_seed(None)


def restarts_batch_order():
    """True where ``fit`` restarts its data pipeline every epoch (Keras 3: it has
    ``keras.ops``), so that a global TensorFlow seed repeats the batch order."""
    return hasattr(keras(), "ops")


def compile_options(**wanted):
    """The options of ``wanted`` that this ``Model.compile`` takes and that are not None or False.

    ``jit_compile`` exists from TensorFlow 2.8 on, ``steps_per_execution`` from 2.4 on.
    """
    parameters = inspect.signature(keras().Model.compile).parameters
    return {name: value for name, value in wanted.items()
            if name in parameters and value not in (None, False)}


def early_stopping(patience):
    """``EarlyStopping`` on the validation loss that always puts the best weights back.

    TensorFlow 2.4's does so only when it stopped training itself, not when
    training ran all its epochs; Keras 3's always.
    """
    class EarlyStopping(keras().callbacks.EarlyStopping):
        def on_train_end(self, logs=None):
            super().on_train_end(logs)
            if self.best_weights is not None:
                self.model.set_weights(self.best_weights)

    return EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)


def model_file_suffix():
    """``".keras"`` (Keras 3) or ``".h5"`` (Keras 2): the one-file format this Keras reads back.

    Keras 2 would save a name ending in ``.keras`` as a SavedModel folder; only
    its ``save_model`` has a ``save_format`` parameter.
    """
    parameters = inspect.signature(keras().models.save_model).parameters
    return ".h5" if "save_format" in parameters else ".keras"


def clear_session():
    """Forget the models made so far, without Keras 3's full garbage collection (up to 1 s)."""
    clear = keras().backend.clear_session
    if "free_memory" in inspect.signature(clear).parameters:
        clear(free_memory=False)
    else:
        clear()


def leaky_relu(z, negative_slope):
    """Keras's leaky ReLU of ``z``: ``max(z, negative_slope * z)``."""
    activations = keras().activations
    if hasattr(activations, "leaky_relu"):  # Keras 3
        return activations.leaky_relu(z, negative_slope)
    return activations.relu(z, negative_slope)  # Keras 2: relu with a slope below zero


def remove_layout_engine(fig):
    """Remove the engine ``tight_layout()`` leaves (matplotlib >= 3.6): savefig draws once."""
    if hasattr(fig, "set_layout_engine"):
        fig.set_layout_engine(None)
