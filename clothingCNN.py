"""Fashion-MNIST with a convolutional network, no dropout: it overtrains.

Lecture slide "Clothing: CNN": the images are scaled to [0, 1] and reshaped
to a 4D tensor (samples, height, width, channels); 32 filters of 3x3
convolutions with ReLU and a 2x2 MaxPooling2D extract local features (edges,
textures); a dense layer and a 10-node softmax output classify them.
Better than the dense networks, but without dropout the training accuracy
runs away from the validation accuracy: overtraining.
Lecture result: test accuracy 90.6 %.

Result of a full run (defaults: 6 epochs, batch size 64, full Fashion-MNIST):
Measured with ``python reproduce.py`` (full data, 2-core CPU, TensorFlow 2.21):
test accuracy 0.9071 (lecture: 90.6 %); final training accuracy 0.9413
against validation accuracy 0.9090, a gap of 0.032 after only 6 epochs:
overtraining (trained longer, the gap grows further while the validation
accuracy stalls).  Training took 50 s (8.4 s/epoch); peak memory 1.4 GB.

Compare with clothingCNNDropout.py, which adds Dropout.
"""

# %% Set-up
# TensorFlow is imported inside the functions, after the command line is read,
# so that ``--help`` answers at once.

from dnnkit import preprocessing, runtime, training

EPOCHS = 6
BATCH_SIZE = 64


# %% Data
def prepare_data(args):
    """Fashion-MNIST scaled to [0, 1], with a channel axis: (samples, 28, 28, 1)."""
    (x_train, y_train), (x_test, y_test) = runtime.load_data(args, "fashion_mnist")
    x_train_4d = preprocessing.add_channel_axis(preprocessing.scale_images(x_train))
    x_test_4d = preprocessing.add_channel_axis(preprocessing.scale_images(x_test))
    return (x_train_4d, y_train), (x_test_4d, y_test), x_test


# %% Model
def build_model():
    """Conv 3x3 (32 filters) - MaxPool 2x2 - Dense 128 - softmax over the 10 classes."""
    from tensorflow import keras
    from keras import layers

    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ], name="clothing_cnn")
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
                           name="clothingCNN", title="CNN on Fashion-MNIST")


if __name__ == "__main__":
    runtime.run_script(main)
