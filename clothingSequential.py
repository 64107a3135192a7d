"""Fashion-MNIST with a sequential dense network, no dropout: it overtrains.

Lecture slide "Clothing: sequential model": the 28x28 images are scaled to
[0, 1] and flattened; one hidden Dense layer of 128 ReLU nodes and a softmax
output for the 10 classes; Adam; sparse categorical cross-entropy.  Trained
long enough, the training accuracy keeps rising while the validation accuracy
stalls: significant overtraining.  Lecture result: test accuracy 87.7 %.

Result of a full run (defaults: 15 epochs, batch size 32, full Fashion-MNIST):
Measured with ``python reproduce.py`` (full data, 2-core CPU, TensorFlow 2.21):
test accuracy 0.8749 (lecture: 87.7 %); final training accuracy 0.9286
against validation accuracy 0.8772, a gap of 0.051: significant overtraining.
Training took 37 s (2.5 s/epoch); peak memory 1.2 GB.

Compare with clothingSequentialDropout.py, which adds Dropout.
"""

# %% Set-up
# TensorFlow is imported inside the functions, after the command line is read,
# so that ``--help`` answers at once.

from dnnkit import preprocessing, runtime, training

EPOCHS = 15
BATCH_SIZE = 32


# %% Data
def prepare_data(args):
    """Fashion-MNIST, grey values scaled to [0, 1]; the model flattens the images."""
    (x_train, y_train), (x_test, y_test) = runtime.load_data(args, "fashion_mnist")
    return ((preprocessing.scale_images(x_train), y_train),
            (preprocessing.scale_images(x_test), y_test), x_test)


# %% Model
def build_model():
    """Flatten, one hidden layer of 128 ReLU nodes, softmax over the 10 classes."""
    from tensorflow import keras
    from keras import layers

    model = keras.Sequential([
        keras.Input(shape=(28, 28)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ], name="clothing_sequential")
    model.compile(
        optimizer=keras.optimizers.Adam(),
        loss="sparse_categorical_crossentropy",  # the labels are integers 0-9
        metrics=["accuracy"],
        # Speed only: run 32 batches per call into TensorFlow instead of one.
        steps_per_execution=32,
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
    return training.report(model, result, x_test, y_test, test_images, "fashion_mnist", args,
                           name="clothingSequential", title="Dense network on Fashion-MNIST")


if __name__ == "__main__":
    runtime.run_script(main)
