"""The one place where the versions of TensorFlow, Keras and matplotlib differ.

The scripts run unchanged from the lecture lab's TensorFlow 2.4 (Python 3.8,
Keras 2.4, as Anaconda's ``tensorflow-gpu``/``keras-gpu`` install it) up to
TensorFlow 2.21 with Keras 3, and with ``TF_USE_LEGACY_KERAS=1`` (tf_keras).
They are written in the public API all of these share (``from tensorflow
import keras``, ``keras.Sequential``, ``compile``, ``fit``, ``evaluate``);
what really differs between the versions is decided here, by looking at
what the installed version offers, never by comparing version numbers:

- :func:`seed_tensorflow`: ``keras.utils.set_random_seed`` exists from
  TensorFlow 2.7 on (it also seeds Keras 3's own random generators); before,
  ``tf.random.set_seed``.
- :func:`compile_options`: ``Model.compile`` takes ``steps_per_execution``
  from TensorFlow 2.4 on and ``jit_compile`` (XLA) from TensorFlow 2.8 on; an
  option this version does not take is left out.
- :func:`leaky_relu`: Keras 3 has ``activations.leaky_relu``; Keras 2.4 has
  ``relu(z, alpha)``;
- :func:`remove_layout_engine`: matplotlib 3.6 and newer leave a layout engine
  on a figure after ``tight_layout()``; up to 3.5 there is none;
- :func:`early_stopping`: Keras 3's ``EarlyStopping`` puts the best weights
  back at the end of training; TensorFlow 2.4's only when it stopped
  training itself, not when the last epoch came first.
- :func:`model_file_suffix`: the one-file format of a saved model that this
  Keras writes and reads back: ``.keras`` for Keras 3, ``.h5`` for Keras 2
  (TensorFlow 2.4's tf.keras, tf_keras), told apart by ``save_model``'s
  ``save_format`` parameter, which only Keras 2 has.
- :func:`is_gpu_out_of_memory`: TensorFlow reports a full GPU as
  ``tf.errors.ResourceExhaustedError`` ("OOM when allocating tensor") during
  training, and as an ``InternalError`` naming ``CUDA_ERROR_OUT_OF_MEMORY``
  when it cannot create its GPU context at start-up.

Nothing here imports TensorFlow or matplotlib at import time.
"""

import inspect
import sys


def keras():
    """The Keras that ``from tensorflow import keras`` gives (Keras 2, Keras 3 or tf_keras)."""
    from tensorflow import keras as tf_keras

    return tf_keras


def seed_tensorflow(seed):
    """Seed TensorFlow's (and Keras's) random numbers, in whatever way this version offers."""
    keras_module = keras()
    set_random_seed = getattr(keras_module.utils, "set_random_seed", None)
    if set_random_seed is not None:  # TensorFlow 2.7 and later, Keras 3
        set_random_seed(seed)
    else:  # TensorFlow 2.4 to 2.6
        import tensorflow as tf

        tf.random.set_seed(seed)


def compile_options(**wanted):
    """The keyword arguments of ``wanted`` that this Keras's ``Model.compile`` takes.

    ``compile_options(steps_per_execution=32, jit_compile=True)`` gives both
    on TensorFlow 2.8 and later, only ``steps_per_execution`` on 2.4 to 2.7.
    Options set to ``False`` or ``None`` are left out (Keras's default).
    """
    parameters = inspect.signature(keras().Model.compile).parameters
    return {name: value for name, value in wanted.items()
            if name in parameters and value not in (None, False)}


def early_stopping(patience):
    """Keras's ``EarlyStopping`` on the validation loss that always keeps the best weights.

    It stops training when the validation loss has not fallen for
    ``patience`` epochs and puts back the weights of the epoch with the
    lowest validation loss, also when training ran all its epochs (which
    TensorFlow 2.4's EarlyStopping skips).
    """
    class EarlyStopping(keras().callbacks.EarlyStopping):
        def on_train_end(self, logs=None):
            super().on_train_end(logs)
            if self.best_weights is not None:  # again, where Keras 2.4 did not
                self.model.set_weights(self.best_weights)

    return EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)


def model_file_suffix():
    """``".keras"`` or ``".h5"``: the file a full model is saved in (:mod:`dnnkit.saved`).

    Keras 3 saves natively as ``.keras`` (a zip of the configuration and the
    weights) and writes ``.h5`` only as a "legacy" format, with a warning.
    Keras 2 has no ``.keras``: it would save a name ending so as a SavedModel
    folder, which cannot be replaced in one atomic rename; its one-file format
    is HDF5, ``.h5``.  So each Keras saves in the format it reads back best.
    """
    parameters = inspect.signature(keras().models.save_model).parameters
    return ".h5" if "save_format" in parameters else ".keras"


def keras_version():
    """The version of the Keras that ``from tensorflow import keras`` gives, e.g. ``"3.15.1"``."""
    return getattr(keras(), "__version__", "unknown")


#: What TensorFlow's messages say when the GPU's memory is full.
_OUT_OF_MEMORY_WORDS = ("CUDA_ERROR_OUT_OF_MEMORY", "out of memory", "OOM when allocating")


def is_gpu_out_of_memory(error):
    """True if ``error`` is TensorFlow saying that the GPU's memory is full."""
    tensorflow = sys.modules.get("tensorflow")
    if tensorflow is None:
        return False
    errors = tensorflow.errors
    if isinstance(error, errors.ResourceExhaustedError):
        return True
    return (isinstance(error, (errors.InternalError, errors.UnknownError))
            and any(words in str(error) for words in _OUT_OF_MEMORY_WORDS))


def clear_session():
    """Forget the models made so far (between the runs of several scripts in one process).

    Keras 3's ``clear_session`` also runs a full garbage collection, which
    costs up to a second once TensorFlow's many objects are loaded;
    ``free_memory=False`` (Keras 3 only) skips it.
    """
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
    """Remove the placeholder layout engine ``fig.tight_layout()`` leaves (matplotlib >= 3.6).

    It lays out nothing but makes ``savefig`` draw the whole figure twice; up
    to matplotlib 3.5 there is no such engine (and no ``set_layout_engine``).
    """
    if hasattr(fig, "set_layout_engine"):
        fig.set_layout_engine(None)
