"""The lecture's examples in lecture order: the one list that reproduce.py, the tests,
the notebooks, the benchmarks and the README's results table read.

A new script is one script, one entry here, and its notebook (tools/make_notebooks.py).
"""

from dataclasses import dataclass

#: Tiny settings of a model script in the tests: one epoch on 2000 images.
TINY_MODEL = ("--epochs", "1", "--max-samples", "2000", "--batch-size", "64")
#: A ``reproduce.py --quick`` run of a model script: 2 epochs on 5000 images.
QUICK_MODEL = ("--epochs", "2", "--max-samples", "5000")


@dataclass(frozen=True)
class Example:
    """One script of the lecture and the result its slide shows."""

    name: str                       # the script, without ``.py``
    slide: str                      # the slide's title
    lecture: str                    # the result as the slide states it
    lecture_accuracy: float = None  # the slide's test accuracy, where it gives one
    kind: str = "fundamentals"      # "fundamentals", "display", "model", "study" or "demo"
    overtrains: bool = None         # the lecture's verdict (model scripts)
    dropout_of: str = None          # the script this one adds Dropout to (same epochs)
    tiny: tuple = ()                # options of the test run (tests/, notebooks' test)
    quick: tuple = ()               # options of ``reproduce.py --quick``
    uses_data: bool = False         # reads MNIST or Fashion-MNIST (takes --data-dir)
    notebook: str = ""              # a demo: what works in its notebook (tools/make_notebooks.py)

    @property
    def trains(self):
        """True for the six model scripts."""
        return self.kind == "model"


#: What the demos do in a notebook (the first cell of their notebooks).
WIDGETS = ("With ipympl (`pip install -r requirements.txt` installs it) the notebook "
           "chooses `%matplotlib widget`: ")
NO_WIDGETS = ("Without ipympl (the lab's myML) the figures are pictures under their "
              "cells, and one line says that drawing needs a window or ipympl.")
DRAWDIGIT_IN_A_NOTEBOOK = (
    WIDGETS + "draw on the pad in the cell \"The window\" with the mouse; the bars, the "
    "28x28 input and, when the pen lifts, the saliency map and the feature maps (under "
    "their own cell) follow. " + NO_WIDGETS)
PLAYGROUND_IN_A_NOTEBOOK = (
    WIDGETS + "Play, Step, the controls and clicks on the map work in the cell, and the "
    "map and the curves update there (the whole figure is drawn every epoch: slower than "
    "in a window). " + NO_WIDGETS)


def _model(name, slide, lecture, accuracy, overtrains, dropout_of=None):
    return Example(name, slide, lecture, accuracy, kind="model", overtrains=overtrains,
                   dropout_of=dropout_of, tiny=TINY_MODEL, quick=QUICK_MODEL, uses_data=True)


EXAMPLES = (
    # Fundamentals.
    Example("intro", "minimizers", "gradient descent, momentum, Adam, scipy and iminuit agree"),
    Example("linearRegression", "TensorFlow as a minimizer", "TF fit = least squares",
            tiny=("--steps", "200")),
    Example("tf_intro", "simple example using TensorFlow", "Bayes limit 0.921", 0.921,
            tiny=("--epochs", "3", "--samples", "300"), quick=("--epochs", "3")),
    Example("playground", "simple example using TensorFlow: a live playground",
            "presets: Bayes limit 0.921, xor needs a hidden layer, spiral needs depth",
            kind="demo", tiny=("--epochs", "2", "--points", "100"), quick=("--preset", "xor"),
            notebook=PLAYGROUND_IN_A_NOTEBOOK),
    Example("activationFunctions", "activation functions", "numpy = keras.activations"),
    Example("networkByHand", "forward propagation, losses, initialization", "by hand = Keras",
            tiny=("--epochs", "2"), quick=("--epochs", "2")),
    Example("inputPreprocessing", "preprocessing", "60:20:20, decorrelated",
            tiny=("--samples", "2000")),
    # The data sets.
    Example("display_HandWrt", "MNIST", "digits shown", kind="display",
            tiny=("--count", "8"), uses_data=True),
    Example("display_Clothing", "Fashion-MNIST", "clothes shown", kind="display",
            tiny=("--count", "8", "--random"), uses_data=True),
    # Dense networks and CNNs.
    _model("MLP_MNIST_digits_tf", "MLP for MNIST digits", "0.98 (overtrains)", 0.98, True),
    Example("convolutionPooling", "convolution, pooling", "28 -> 26 -> 13 -> 11 -> 5",
            uses_data=True),
    _model("CNN_MNIST_digits_tf", "CNN for MNIST digits", "at least 0.99", 0.99, False),
    # A demo: draw a digit (or give a photo) and watch the two MNIST networks answer.
    Example("drawDigit", "CNN for MNIST digits", "a drawn digit, the MLP's and the CNN's answer",
            kind="demo", tiny=TINY_MODEL, uses_data=True, notebook=DRAWDIGIT_IN_A_NOTEBOOK),
    _model("clothingSequential", "clothing: sequential", "87.7 % (overtrains)", 0.877, True),
    _model("clothingSequentialDropout", "clothing: with Dropout", "88.2 %", 0.882, False,
           dropout_of="clothingSequential"),
    # The slide's exercise (Dropout, hidden nodes) as a study over settings and seeds.
    Example("overtrainingStudy", "clothing: exercise", "overtraining vs. nodes and Dropout",
            kind="study", uses_data=True, quick=("--quick",),
            tiny=("--epochs", "1", "--max-samples", "1000", "--batch-size", "64",
                  "--hidden-nodes", "16", "128", "--dropout", "0", "0.5", "--seeds", "1")),
    _model("clothingCNN", "clothing: CNN", "90.6 % (overtrains)", 0.906, True),
    _model("clothingCNNDropout", "clothing: CNN with Dropout", "91.4 % (no overtraining)",
           0.914, False, dropout_of="clothingCNN"),
)


def names(kind=None):
    """The scripts' names in lecture order, all or those of one ``kind``."""
    return [example.name for example in EXAMPLES if kind is None or example.kind == kind]


def example(name):
    """The :class:`Example` called ``name``; KeyError if there is none."""
    return {entry.name: entry for entry in EXAMPLES}[name]


def pairs():
    """``(without Dropout, with Dropout)`` for every pair the lecture compares."""
    return [(entry.dropout_of, entry.name) for entry in EXAMPLES if entry.dropout_of]
