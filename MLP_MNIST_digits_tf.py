"""MLP on MNIST digits: a dense network with two hidden layers of 512 nodes.

Lecture slide "MLP for MNIST digits": 10 classes; the 28x28 grey values are
normalized to [0, 1] and reshaped to 1D (784 inputs); Dense 512 ReLU,
Dense 512 ReLU, Dense 10 softmax; Adam; accuracy as metric; trained with a
validation split.

Result of a full run (defaults: 10 epochs, batch size 128, full MNIST):
Measured with ``python reproduce.py`` (full data, 2-core CPU, TensorFlow 2.21):
test accuracy 0.9792 (lecture: 0.98); final training accuracy 0.9953 against
validation accuracy 0.9795, a gap of 0.016: the network has started to learn
the training images by heart (overtraining; compare CNN_MNIST_digits_tf.py).
Training took 25 s (2.5 s/epoch); peak memory 1.3 GB.

Run ``python MLP_MNIST_digits_tf.py --help`` for the options, e.g.
``--epochs 2 --max-samples 5000`` for a quick look.
"""

# %% Set-up
# TensorFlow is imported inside the functions, after the command line is read,
# so that ``--help`` answers at once.

from dnnkit import preprocessing, runtime, training

EPOCHS = 10
BATCH_SIZE = 128


# %% Data
def prepare_data(args):
    """MNIST, scaled to [0, 1] and flattened to vectors of 784 values."""
    (x_train, y_train), (x_test, y_test) = runtime.load_data(args, "mnist")
    x_train_flat = preprocessing.flatten_images(preprocessing.scale_images(x_train))
    x_test_flat = preprocessing.flatten_images(preprocessing.scale_images(x_test))
    return (x_train_flat, y_train), (x_test_flat, y_test), x_test


# %% Model
def build_model():
    """Two hidden layers of 512 ReLU nodes and a softmax output for the 10 digits."""
    from tensorflow import keras
    from keras import layers

    model = keras.Sequential([
        keras.Input(shape=(28 * 28,)),
        layers.Dense(512, activation="relu"),
        layers.Dense(512, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ], name="mlp_mnist")
    model.compile(
        optimizer=keras.optimizers.Adam(),
        loss="sparse_categorical_crossentropy",  # the labels are integers 0-9
        metrics=["accuracy"],
        # Speed only: run 32 batches per call into TensorFlow instead of one,
        # and let XLA compile the whole training step into one fused program
        # (on a CPU Keras does not do that by itself).  Same network, same
        # batches; see README, "Performance".  The CNNs leave XLA off: it made
        # them slower on the CPU.
        steps_per_execution=32,
        jit_compile=True,
    )
    return model


# %% Training, evaluation and figures
def main(argv=None):
    parser = runtime.make_parser(__doc__, epochs=EPOCHS, batch_size=BATCH_SIZE, data=True)
    args = runtime.parse_args(parser, argv)
    runtime.setup_tensorflow(args)
    (x_train, y_train), (x_test, y_test), test_images = prepare_data(args)

    model = build_model()
    model.summary()
    result = training.fit(model, x_train, y_train, epochs=args.epochs,
                          batch_size=args.batch_size)
    return training.report(model, result, x_test, y_test, test_images, "mnist", args,
                           name="MLP_MNIST_digits", title="MLP on MNIST")


if __name__ == "__main__":
    runtime.run_script(main)
