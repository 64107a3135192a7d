"""Command line, seeds, device set-up and exit codes shared by the scripts.

Nothing here imports TensorFlow at import time: ``python script.py --help``
must answer at once, and the display scripts never need TensorFlow at all.
TensorFlow is imported by :func:`setup_tensorflow`, after the arguments are
parsed.
"""

import argparse
import math
import os
import platform
import random
import shlex
import sys
import tempfile
from pathlib import Path

from dnnkit.errors import UserError

#: Exit codes of every script.
EXIT_OK = 0
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130

DEFAULT_SEED = 42
#: The largest seed numpy accepts.
MAX_SEED = 2**32 - 1
#: The largest grid of images the display scripts draw (--count).
MAX_GRID_IMAGES = 200
#: --max-samples keeps at least this many images of each class.
MIN_SAMPLES_PER_CLASS = 10
DEFAULT_OUTDIR = "figures"
#: Where the model scripts save their trained networks (dnnkit.saved), unless this
#: environment variable names another folder (the tests point it at a temporary one).
DEFAULT_MODELS_DIR = "models"
MODELS_DIR_VARIABLE = "DNN_MODELS_DIR"
#: In a notebook (no command line), the options are read from this environment variable.
NOTEBOOK_ARGS_VARIABLE = "DNN_NOTEBOOK_ARGS"
#: Set to 1 for Keras's own defaults: no speed options, TensorFlow's default kernels
#: (benchmarks/bench_training.py runs the scripts so for its baseline).
PLAIN_KERAS_VARIABLE = "DNN_PLAIN_KERAS"


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------
def _number(text, kind=float):
    """``text`` as an int or a float, or the argparse error that says what was expected."""
    try:
        return kind(text)
    except ValueError:
        expected = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None


def positive_int(text):
    """argparse type: a whole number of at least 1 (``--epochs 0`` is an error)."""
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_float(text):
    """argparse type: a number greater than 0 (a learning rate, a noise level)."""
    value = _number(text)
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a finite number greater than 0, got {text}")
    return value


def finite_float(text):
    """argparse type: any finite number (``nan`` and ``inf`` are errors)."""
    value = _number(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def dropout_rate(text):
    """argparse type: a Dropout rate, the share of nodes switched off, from 0 up to (not) 1."""
    value = _number(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be from 0 up to (not including) 1, got {text}")
    return value


def grid_count(text):
    """argparse type: how many images a grid shows, 1 to :data:`MAX_GRID_IMAGES`."""
    value = positive_int(text)
    if value > MAX_GRID_IMAGES:
        raise argparse.ArgumentTypeError(f"a grid shows at most {MAX_GRID_IMAGES} images, "
                                         f"got {value}")
    return value


def seed_int(text):
    """argparse type: a random seed, a whole number from 0 to 2**32 - 1 (numpy's range)."""
    value = _number(text, int)
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_SEED} (2**32 - 1), "
                                         f"got {value}")
    return value


def make_parser(doc, *, epochs=None, batch_size=None, data=False, cpu=None, seed=DEFAULT_SEED,
                models=False):
    """The argument parser every script starts from; ``doc``'s first line is its description.

    Every script gets ``--seed``, ``--outdir`` and ``--no-show``; a training
    script (``epochs``) ``--epochs``, ``--batch-size`` and ``--cpu`` (``cpu=True``
    gives ``--cpu`` alone); a script that reads MNIST or Fashion-MNIST
    (``data=True``) ``--data-dir`` and ``--no-sample``, and ``--max-samples`` and
    ``--early-stopping`` if it trains; the six model scripts (``models=True``)
    ``--models-dir``, ``--pretrained`` and ``--live`` (:mod:`dnnkit.saved`,
    :mod:`dnnkit.live`).  The defaults are the lecture's settings.
    """
    lines = (doc or "").strip().splitlines()
    description = lines[0] if lines else None
    # ArgumentDefaultsHelpFormatter writes every option's default into --help.
    parser = argparse.ArgumentParser(description=description,
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    if epochs is not None:
        parser.add_argument("--epochs", type=positive_int, default=epochs,
                            help="number of passes over the training data")
        if batch_size is not None:
            parser.add_argument("--batch-size", type=positive_int, default=batch_size,
                                help="samples per gradient step")
    if cpu or (cpu is None and epochs is not None):
        parser.add_argument("--cpu", action="store_true",
                            help="run on the CPU even when a GPU is visible")
    parser.add_argument("--seed", type=seed_int, default=seed,
                        help="random seed for Python, numpy and TensorFlow")
    if data:
        if epochs is not None:
            parser.add_argument("--max-samples", type=positive_int, default=None, metavar="N",
                                help="train on a stratified subset of N images (quick runs)")
        if epochs is not None:
            parser.add_argument("--early-stopping", type=positive_int, default=None,
                                metavar="PATIENCE",
                                help="stop when the validation loss has not fallen for PATIENCE "
                                     "epochs and keep the best epoch's weights")
        parser.add_argument("--data-dir", default=None, metavar="DIR",
                            help="folder holding mnist/ and fashion-mnist/; "
                                 "without it $DNN_DATA_DIR, then the Keras cache")
        parser.add_argument("--no-sample", action="store_true",
                            help="fail instead of falling back to the small sample "
                                 "shipped with the repository")
    if models:  # the model scripts: their trained networks (dnnkit.saved) and live curves
        parser.add_argument("--models-dir", metavar="DIR",
                            default=os.environ.get(MODELS_DIR_VARIABLE) or DEFAULT_MODELS_DIR,
                            help="folder for the trained network and its history "
                                 "($DNN_MODELS_DIR where set)")
        parser.add_argument("--pretrained", action="store_true",
                            help="do not train: load the network saved in --models-dir "
                                 "by an earlier run and show its results")
        parser.add_argument("--live", action="store_true",
                            help="draw the training curves while the network trains")
    parser.add_argument("--outdir", default=DEFAULT_OUTDIR, metavar="DIR",
                        help="folder for the saved figures")
    parser.add_argument("--no-show", action="store_true",
                        help="only save the figures, do not open a window")
    return parser


def add_display_options(parser):
    """The options of the display scripts: which images to show."""
    parser.add_argument("--count", type=grid_count, default=32,
                        help="how many images to show in the grid")
    parser.add_argument("--start", type=int, default=0,
                        help="index of the first training image in the grid")
    parser.add_argument("--random", action="store_true",
                        help="show randomly chosen images (seeded by --seed) instead")
    parser.add_argument("--index", type=int, default=None,
                        help="training image whose grey values are shown "
                             "(default: the first one in the grid)")


def choose_images(args, total):
    """The display scripts' images: ``(indices of the grid, index of the single image)``.

    The grid shows ``--count`` images from ``--start`` on, or a random choice
    (``--random``, seeded by ``--seed``); the single image is ``--index``, or
    the grid's first.  An index outside the ``total`` images is a one-line error.
    """
    import numpy as np

    if args.random:
        generator = np.random.default_rng(args.seed)
        indices = np.sort(generator.choice(total, size=min(args.count, total), replace=False))
    elif not 0 <= args.start < total:
        raise UserError(f"--start {args.start} is outside the {total} training images "
                        f"(use 0 to {total - 1})")
    else:
        indices = np.arange(args.start, min(args.start + args.count, total))
    index = int(indices[0]) if args.index is None else args.index
    if not 0 <= index < total:
        raise UserError(f"--index {index} is outside the {total} training images "
                        f"(use 0 to {total - 1})")
    return indices, index


def parse_args(parser, argv=None):
    """Read the options, check the folders, seed Python and numpy; return ``args``.

    The set-up cell of every script calls it first, before TensorFlow is
    imported, so that ``--help`` answers at once.

    - On the command line it parses ``sys.argv`` and installs
      :func:`report_uncaught` as ``sys.excepthook``: from then on a
      :class:`~dnnkit.errors.UserError` anywhere in the script ends it with
      one line and exit code 2, Ctrl-C with exit code 130, both without a
      traceback.
    - In a notebook kernel there is no command line: the lecture's settings
      (the defaults) are used, or the options in the environment variable
      ``DNN_NOTEBOOK_ARGS`` (``DNN_NOTEBOOK_ARGS="--epochs 2" jupyter
      notebook``); errors show as usual notebook errors.

    A ``--data-dir`` that is no folder is reported before TensorFlow is
    imported, and an output folder that cannot be written now, not after ten
    minutes of training.
    """
    if argv is None and launched_as_notebook_kernel():
        argv = shlex.split(os.environ.get(NOTEBOOK_ARGS_VARIABLE, ""))
        print(f"Running in a notebook: options {' '.join(argv) or '(none)'} from "
              f"${NOTEBOOK_ARGS_VARIABLE}, the lecture's settings for the rest.")
    elif argv is None:
        sys.excepthook = report_uncaught
    args = parser.parse_args(argv)
    data_dir = getattr(args, "data_dir", None)
    if data_dir is not None and not Path(data_dir).is_dir():  # say so before TensorFlow loads
        what = "a file, not a folder" if Path(data_dir).exists() else "no such folder"
        raise UserError(f"{data_dir} (from --data-dir) is {what}: point --data-dir at the "
                        f"folder that holds mnist/ and fashion-mnist/")
    if hasattr(args, "outdir"):
        args.outdir = ensure_writable_dir(args.outdir)
    if getattr(args, "models_dir", None) is not None:  # written after training, read otherwise
        args.models_dir = (Path(args.models_dir) if args.pretrained
                           else ensure_writable_dir(args.models_dir, "--models-dir"))
    set_seed(args.seed)
    return args


def ensure_writable_dir(path, option="--outdir"):
    """Create ``path`` if needed and check that files can be written into it.

    Raises :class:`UserError` with a one-line message otherwise, which tells
    the user to choose another folder with ``option``.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UserError(f"output folder {path} is a file, not a folder: "
                        f"choose another one with {option}")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        raise UserError(f"cannot write into output folder {path} ({reason}): "
                        f"choose another one with {option}") from None
    return path


# ---------------------------------------------------------------------------
# Running a script: exit codes
# ---------------------------------------------------------------------------
class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training; carries how many epochs had finished."""

    def __init__(self, epochs_completed):
        super().__init__(f"Interrupted after epoch {epochs_completed}")
        self.epochs_completed = epochs_completed


def import_package(name, fix, optional=False):
    """Import the package ``name``; if it cannot be imported, say why and how to fix it.

    A package can be installed and still fail to import: iminuit 2.20 and
    newer on numpy 1.19 (the lab's) fail with "No module named
    'numpy.typing'".  Only ImportError (ModuleNotFoundError included) is
    caught: it is what a missing or mismatched package raises.  A package the
    script needs raises :class:`UserError` (one line: the package, the reason,
    the fix); an ``optional`` one, one comparison among several, prints that
    line and returns ``None``, and the script runs the rest.
    """
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError as error:
        message = f"{name} cannot be imported ({error}): {fix}"
        if not optional:
            raise UserError(message) from None
        print(f"Skipped: {message}")
        return None


def launched_as_notebook_kernel():
    """True in a Jupyter kernel (a script opened as a notebook in VS Code, Spyder or Jupyter).

    There ``__name__ == "__main__"`` as on the command line, but the command
    line is the kernel's own (``-f kernel.json``), not options for the script.
    """
    return "ipykernel" in sys.modules and any(
        argument == "-f" or argument.startswith("--f=") for argument in sys.argv[1:])


GPU_OUT_OF_MEMORY = ("the GPU's memory is full, perhaps taken by other users of the card: "
                     "train on the CPU with --cpu, use a smaller --batch-size, or run "
                     "nvidia-smi to see who is using the GPU")
CPU_OUT_OF_MEMORY = ("the computer's memory is full: use a smaller --batch-size or train on "
                     "fewer images with --max-samples")


def exit_code_and_message(error):
    """``(exit code, one-line message)`` for an error that ends a script, or ``None``.

    :class:`UserError` -> 2 and its message; Ctrl-C -> 130 and "Interrupted"
    (or "Interrupted after epoch k"); TensorFlow running out of memory (a
    GPU shared by several students fills up) -> 2 and what to do.  Any other
    error is a bug: ``None``, and Python shows its traceback.
    """
    from dnnkit import compat

    if isinstance(error, UserError):
        return EXIT_USER_ERROR, f"Error: {error}"
    if isinstance(error, KeyboardInterrupt):
        return EXIT_INTERRUPTED, str(error) or "Interrupted"
    if compat.is_gpu_out_of_memory(error):
        return EXIT_USER_ERROR, f"Error: {GPU_OUT_OF_MEMORY if gpu_in_use() else CPU_OUT_OF_MEMORY}"
    return None


def gpu_in_use():
    """True if TensorFlow is loaded and computes on a GPU."""
    tensorflow = sys.modules.get("tensorflow")
    if tensorflow is None:
        return False
    try:
        return bool(tensorflow.config.list_logical_devices("GPU"))
    except Exception:  # noqa: BLE001 -- a TensorFlow that failed to start its GPU
        return True


def report_uncaught(error_type, error, traceback):
    """``sys.excepthook`` of a script run from the command line (see :func:`parse_args`).

    An error with a one-line message (:func:`exit_code_and_message`) prints
    that line on stderr and ends the program with its exit code (after
    flushing the output: Python itself would exit with 1).  Any other error
    gets Python's usual traceback.
    """
    outcome = exit_code_and_message(error)
    if outcome is None:
        sys.__excepthook__(error_type, error, traceback)
        return
    code, message = outcome
    sys.stdout.flush()
    print(("\n" if code == EXIT_INTERRUPTED else "") + message, file=sys.stderr, flush=True)
    os._exit(code)


# ---------------------------------------------------------------------------
# Seeds, TensorFlow and the device
# ---------------------------------------------------------------------------
def set_seed(seed):
    """Seed Python, numpy and (if it is loaded) TensorFlow with one call.

    With the same seed, two runs on the CPU give the same numbers.
    """
    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    if "tensorflow" in sys.modules:
        from dnnkit import compat

        compat.seed_tensorflow(seed)


def plain_keras():
    """True when ``DNN_PLAIN_KERAS=1``: Keras's and TensorFlow's defaults, no speed settings."""
    return os.environ.get(PLAIN_KERAS_VARIABLE, "") not in ("", "0")


def enable_onednn(environ=None, machine=None):
    """Switch on TensorFlow's oneDNN CPU kernels on x86-64, unless the user chose.

    TensorFlow uses them by default only on recent Intel server chips (AVX-512
    VNNI, BF16 or AMX); elsewhere it falls back to slower generic kernels: the
    MNIST CNN's training step took 27 ms with oneDNN instead of 44 ms on an AMD
    machine (``benchmarks/bench_cnn_ops.py``).  Results differ in the last
    digits.  Must run before TensorFlow is imported; a ``TF_ENABLE_ONEDNN_OPTS``
    the user set is left alone.  Returns the value in force, or ``None``.
    """
    environ = os.environ if environ is None else environ
    machine = (platform.machine() if machine is None else machine).lower()
    if machine in ("x86_64", "amd64"):
        environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    return environ.get("TF_ENABLE_ONEDNN_OPTS")


def import_tensorflow():
    """Import TensorFlow with its C++ start-up log held back, and return the module.

    On a machine without NVIDIA drivers TensorFlow logs several lines about
    CUDA it could not find, which alarm students for no reason.  Unless the
    user chose a level, ``TF_CPP_MIN_LOG_LEVEL=2`` (TensorFlow's documented
    switch) keeps back its C++ information and warnings, and TensorFlow's
    Python logger shows errors only.  A few lines written before TensorFlow's
    logging starts may remain.
    """
    if "tensorflow" not in sys.modules:
        if not plain_keras():
            enable_onednn()
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow

    tensorflow.get_logger().setLevel("ERROR")
    return tensorflow


def setup_tensorflow(args):
    """Import TensorFlow, choose the device and seed everything.

    Prints the device line and returns the ``tensorflow`` module.
    """
    tf = import_tensorflow()
    print(setup_device(force_cpu=getattr(args, "cpu", False), tf_config=tf.config))
    set_seed(args.seed)
    return tf


def setup_device(force_cpu=False, tf_config=None):
    """Pick the device and describe it: ``Device: GPU 0 (NVIDIA Quadro P1000)``, ``Device: CPU ...``.

    On a GPU, memory growth is switched on before first use (TensorFlow takes
    memory as needed, not the lab's whole 4 GB card); ``force_cpu`` hides the
    GPUs.  ``tf_config`` is ``tf.config`` (the tests pass a fake one).
    """
    if tf_config is None:
        tf_config = import_tensorflow().config
    gpus = tf_config.list_physical_devices("GPU")
    if not gpus:
        return "Device: CPU (no GPU visible)"
    if force_cpu:
        try:
            tf_config.set_visible_devices([], "GPU")
        except RuntimeError:
            # The GPU was already in use in this process (a second script run
            # in the same process); devices cannot be hidden any more.
            return "Device: GPU (--cpu came too late: the GPU was already in use in this process)"
        return f"Device: CPU (--cpu given; {len(gpus)} GPU(s) hidden)"
    names = []
    for index, gpu in enumerate(gpus):
        try:
            tf_config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:
            # Memory growth must be set before the GPU is first used; when a
            # second script runs in the same process, it already was.
            pass
        details = tf_config.experimental.get_device_details(gpu) or {}
        names.append(f"GPU {index} ({details.get('device_name', gpu.name)})")
    return "Device: " + ", ".join(names)


def running_under_test_or_ci():
    """True under pytest or CI, or when stdout is not a terminal."""
    in_ci = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")
    return "PYTEST_CURRENT_TEST" in os.environ or in_ci or not sys.stdout.isatty()


# ---------------------------------------------------------------------------
# Data for a script
# ---------------------------------------------------------------------------
def load_data(args, dataset):
    """Load ``dataset`` ("mnist" or "fashion_mnist") as the command line asks.

    Returns ``(x_train, y_train), (x_test, y_test)``; see :func:`load_data_and_source`.
    The source is kept in ``args.data_source`` for the record of a saved
    network (:mod:`dnnkit.saved`).
    """
    arrays, args.data_source = load_data_and_source(args, dataset)
    return arrays


def load_data_and_source(args, dataset):
    """``((x_train, y_train), (x_test, y_test)), source``, as the command line asks.

    Honours ``--data-dir`` and ``--no-sample``, and with ``--max-samples N``
    keeps a stratified subset of N training images (the test set stays
    whole, so that test accuracies remain comparable).  ``source`` is the
    :class:`dnnkit.data.Source` that says where the data were found.
    """
    from dnnkit import data

    (x_train, y_train), (x_test, y_test), source = data.load_dataset_and_source(
        dataset, data_dir=args.data_dir, allow_sample=False if args.no_sample else None)
    max_samples = getattr(args, "max_samples", None)
    if max_samples is not None:
        import numpy as np

        least = MIN_SAMPLES_PER_CLASS * len(np.unique(y_train))
        if max_samples < least:
            raise UserError(f"--max-samples {max_samples} is too few to train and validate on: "
                            f"use at least {least} ({MIN_SAMPLES_PER_CLASS} images of each class)")
        if max_samples >= len(x_train):
            print(f"Note: --max-samples {max_samples} is not less than the {len(x_train)} "
                  f"training images; using all of them.")
        else:
            from sklearn.model_selection import train_test_split

            # Stratified: each class keeps its share.  scikit-learn wants every class
            # in the images left out, too; leaving out fewer than that, it draws at random.
            left_out = len(x_train) - max_samples
            x_train, _, y_train, _ = train_test_split(
                x_train, y_train, train_size=max_samples, random_state=args.seed,
                stratify=y_train if left_out >= len(np.unique(y_train)) else None)
            print(f"Training on a stratified subset of {len(x_train)} images (--max-samples).")
    return ((x_train, y_train), (x_test, y_test)), source
