"""Fashion-MNIST with a sequential dense network and Dropout: no overtraining.

Lecture slide "Clothing: sequential model with Dropout": the network of
clothingSequential.py with a Dropout layer after the hidden layer.  During
training, Dropout switches off a random share of the hidden nodes at every
step, so that the network cannot rely on single nodes, which makes learning
the training images by heart harder: the validation loss no longer turns up
while the training loss falls (no overtraining).  Lecture result: test accuracy 88.2 %.

Epochs: 20, the same as clothingSequential.py, so that the pair is compared
at equal epochs: the network without Dropout has overtrained by then (how the
20 were chosen: clothingSequential.py's header).

Result of a full run (the script's defaults, seeds 42 to 46; ``python
reproduce.py --seeds 5``, 2026-12-08, on Intel(R) Xeon(R) Processor (2 CPU
cores), CPU (no GPU visible), TensorFlow 2.21.0, load average 1.7-7.1): test
accuracy 0.8809 ± 0.0045 (mean ± std of 5 seeds; lecture 0.882: consistent, 95
% prediction interval of one run 0.8672 to 0.8947). Validation loss lowest
around epoch 15.0 ± 3.4 of 20, then up 0.7 ± 0.8 times its epoch-to-epoch
scatter (its trend after the low +0.9 ± 0.3 standard errors): no overtraining
in 4 of 5 seeds (within the noise in 1), as the lecture says. The mean curve
of the 5 seeds: no overtraining (end 0.0 scatters above the low). Accuracy gap
(training minus validation, both by model.evaluate) +0.033 ± 0.003. Against
clothingSequential.py at the same 20 epochs, paired by seed: test accuracy
tie: -0.02 points (95 % CI -0.73 to +0.70, 5 seeds), validation-loss rise -6 %
points (95 % CI -9 to -2, 5 seeds). One run is one draw: on another CPU, and
on a GPU every time, it may land within the noise; python reproduce.py --seeds
5 checks. One run takes about 48 s.

Compare with clothingSequential.py, the same network without Dropout.
"""

# %% Set-up
# The options are read first, before TensorFlow is imported, so that --help,
# and --pretrained without a saved network, answer at once.  In a notebook
# there is no command line: the lecture's settings are used (or the options
# in the environment variable DNN_NOTEBOOK_ARGS).
from dnnkit import data, live, plotting, runtime, saved, training

parser = runtime.make_parser(__doc__, epochs=20, batch_size=32, data=True, models=True)
parser.add_argument("--dropout", type=runtime.dropout_rate, default=0.3, metavar="RATE",
                    help="share of the hidden nodes switched off in training (the overtraining exercise)")
args = runtime.parse_args(parser, network="clothingSequentialDropout")
runtime.setup_tensorflow(args)  # prints the device and seeds TensorFlow
from tensorflow import keras  # noqa: E402

# %% Data
# 60000 training and 10000 test images of clothes, 28x28 grey values from
# 0 to 255, with their class 0-9 (T-shirt/top ... Ankle boot).
# The grey values are normalized to [0, 1] and each image is reshaped to a
# 1D array of 784 values: the input of a dense network.
(x_train, y_train), (x_test, y_test) = runtime.load_data(args, "fashion_mnist")
test_images = x_test  # kept as 28x28 images for the figures
x_test = x_test.reshape(len(x_test), 28 * 28).astype("float32")
x_test /= 255  # in place: no second copy of the images
if not args.pretrained:  # --pretrained trains nothing: it leaves the training images as read
    x_train = x_train.reshape(len(x_train), 28 * 28).astype("float32")
    x_train /= 255
print("x_train:", x_train.shape, " y_train:", y_train.shape)
print("x_test: ", x_test.shape, " y_test: ", y_test.shape)

# %% Model
# The network of clothingSequential.py with Dropout after the hidden layer:
# in training, a random share (--dropout) of the hidden nodes is switched off
# at every step, which makes learning the training images by heart harder.
model = keras.Sequential([
    keras.Input(shape=(28 * 28,)),
    keras.layers.Dense(128, activation="relu"),
    keras.layers.Dropout(args.dropout),  # active in training only
    keras.layers.Dense(10, activation="softmax"),
], name="clothing_sequential_dropout")
model.compile(
    optimizer="adam",
    loss="sparse_categorical_crossentropy",  # the labels are integers 0-9
    metrics=["accuracy"],
    # Speed only, the same network and batches: 32 batches per call into TensorFlow.
    **training.speed_options(steps_per_execution=32),
)
model.summary()

# %% Training
# The data and labels are given to the fit method, with the number of epochs
# (passes over the training data) and the batch size.  The last 10 % of the
# training images are held out to validate the network after every epoch.
# With --early-stopping PATIENCE, training stops when the validation loss has
# not fallen for PATIENCE epochs, and the best epoch's weights are kept.
# --live draws the training curves while it trains.  The trained network is
# saved in --models-dir; --pretrained loads it with its history instead of
# training, and everything below shows its results in seconds; with --live
# it replays the stored curves epoch by epoch, in a few seconds.
monitor = training.monitor()  # times the epochs; Ctrl-C stops after the running batch
validation_count = len(x_train) // 10  # the images validation_split=0.1 holds out
if args.pretrained:
    history, train_accuracy = saved.load_weights(model, "clothingSequentialDropout", args, monitor)
    live.replay(args, history.history, "Dense network with Dropout on Fashion-MNIST: training curves",
                "clothingSequentialDropout")
else:
    callbacks = [monitor, *training.early_stopping(args),
                 *live.curves(args, "Dense network with Dropout on Fashion-MNIST: training curves")]
    history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
                        validation_split=0.1, callbacks=callbacks, verbose=training.verbosity())
    # The training accuracy of the accuracy gap ("Overtraining?" below), measured as
    # the validation accuracy was, after training: saved with the network.
    train_loss, train_accuracy = model.evaluate(x_train[:validation_count],
                                                y_train[:validation_count],
                                                batch_size=1024, verbose=0)
    saved.save(model, history, "clothingSequentialDropout", args, monitor, train_accuracy)

# %% Evaluation on the test set
# The test images were never seen in training: their accuracy is the result.
# model.evaluate gives the loss and the accuracy; model.predict gives the
# softmax output of each image, whose most probable class is the answer.
probabilities = model.predict(x_test, batch_size=1024, verbose=0)  # softmax output
predicted = probabilities.argmax(axis=1)  # the most probable class
if args.pretrained:  # one pass over the test images: both follow from the predictions
    test_loss, test_accuracy = training.loss_and_accuracy(y_test, probabilities)
else:
    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=1024, verbose=0)
training.report(y_test, predicted, "fashion_mnist")  # precision, recall and F1 per class

# %% Overtraining? Read from the curves
# Overtraining shows in the curves: the validation loss passes its lowest
# point and rises again while the training loss keeps falling.  The accuracy
# gap is measured fairly: the training accuracy model.fit printed is averaged
# over an epoch in which the network was still changing (with Dropout on,
# where there is Dropout), so it was measured again after training (above) the
# way the validation accuracy was, with model.evaluate, on as many training
# images as were held out for validation (the first ones: validation_split
# takes the last).  --pretrained shows the one stored with the network.
diagnosis = training.diagnose(history.history, train_accuracy, validation_count,
                              restored_best=bool(args.early_stopping))
if args.early_stopping:
    training.print_early_stopping(diagnosis, args.epochs)
training.print_results(diagnosis, monitor, test_accuracy)

# %% Training curves
# Loss and accuracy per epoch, on the training and the validation images; the
# dotted line marks the epoch of the lowest validation loss.
fig = plotting.plot_training_curves(
    history.history, title="Dense network with Dropout on Fashion-MNIST: training curves", diagnosis=diagnosis)
plotting.save_figure(fig, "clothingSequentialDropout_training_curves", args.outdir)

# %% The worst mistakes
# The test images the network got wrong with the highest probability: each
# titled with the true label, the predicted one and its probability.
fig = plotting.plot_worst_mistakes(test_images, y_test, probabilities, data.class_names("fashion_mnist"),
                                   title="Dense network with Dropout on Fashion-MNIST: the most confident mistakes (test set)")
plotting.save_figure(fig, "clothingSequentialDropout_worst_mistakes", args.outdir)

# %% Confusion matrix
# Row: the true class; column: the predicted one.  Off the diagonal: mistakes.
from sklearn.metrics import confusion_matrix  # noqa: E402

fig = plotting.plot_confusion_matrix(confusion_matrix(y_test, predicted, labels=range(10)),
                                     data.class_names("fashion_mnist"),
                                     title="Dense network with Dropout on Fashion-MNIST:\nconfusion matrix (test set)")
plotting.save_figure(fig, "clothingSequentialDropout_confusion_matrix", args.outdir)

# %% Show the figures (on the command line; a notebook shows each under its cell)
plotting.show(args.no_show)
