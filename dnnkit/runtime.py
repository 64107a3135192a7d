"""Command line, seeds, device set-up and exit codes shared by the scripts.

TensorFlow is imported only by :func:`setup_tensorflow`, after the options are
parsed, so that ``--help`` answers at once.
"""

import argparse
import contextlib
import importlib
import math
import os
import platform
import random
import shlex
import sys
import tempfile
from pathlib import Path

from dnnkit import compat
from dnnkit.errors import UserError

EXIT_USER_ERROR, EXIT_INTERRUPTED = 2, 130
DEFAULT_SEED = 42
MAX_SEED = 2**32 - 1  # the largest seed numpy accepts
MAX_GRID_IMAGES = 200  # the largest grid of the display scripts (--count)
#: --max-samples keeps at least this many images of each class.
MIN_SAMPLES_PER_CLASS = 10
DEFAULT_OUTDIR = "figures"
DEFAULT_MODELS_DIR = "models"  # the trained networks, unless $DNN_MODELS_DIR is set
MODELS_DIR_VARIABLE = "DNN_MODELS_DIR"
NOTEBOOK_ARGS_VARIABLE = "DNN_NOTEBOOK_ARGS"  # the options in a notebook (no command line)
PLAIN_KERAS_VARIABLE = "DNN_PLAIN_KERAS"  # 1: Keras's defaults, no speed options
#: 1: on Keras 3, seed the order of the training batches too (repeatable runs, but the
#: same order every epoch: compat.seed_tensorflow).  For tests and benchmarks.
SAME_BATCH_ORDER_VARIABLE = "DNN_SAME_BATCH_ORDER"
OUT_OF_MEMORY_WORDS = ("CUDA_ERROR_OUT_OF_MEMORY", "out of memory", "OOM when allocating")


def _number_type(kind, accept, condition):
    """An argparse type: ``kind(text)`` (int or float), refused with "must be ``condition``"."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            expected = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"must be {condition}, got {text}")
        return value
    return parse


positive_int = _number_type(int, lambda value: value >= 1, "at least 1")
positive_float = _number_type(float, lambda value: 0 < value < math.inf,
                              "a finite number greater than 0")
finite_float = _number_type(float, math.isfinite, "a finite number")
dropout_rate = _number_type(float, lambda value: 0 <= value < 1,
                            "from 0 up to (not including) 1")
grid_count = _number_type(int, lambda value: 1 <= value <= MAX_GRID_IMAGES,
                          f"from 1 to {MAX_GRID_IMAGES} (a grid shows at most "
                          f"{MAX_GRID_IMAGES} images)")
seed_int = _number_type(int, lambda value: 0 <= value <= MAX_SEED,
                        f"between 0 and {MAX_SEED} (2**32 - 1)")


class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose ``--help`` shows each option's default once.

    An option that takes a value and has a default gets "(default: ...)" after its
    help; one whose help already says its default (the text has "(default"), a
    flag (``store_true``) and an option without a default (None) get nothing
    added, so that "(default: None)" and a default shown twice never appear.
    Options of an argument group say their default in their help themselves.
    """

    def add_argument(self, *names, **settings):
        text = settings.get("help") or ""
        if (text is not argparse.SUPPRESS and "(default" not in text
                and settings.get("default") not in (None, argparse.SUPPRESS)
                and settings.get("action", "store") in ("store", "append", "extend")):
            settings["help"] = f"{text} (default: %(default)s)".lstrip()
        return super().add_argument(*names, **settings)

    def error(self, message):
        """A bad option: argparse's usage and exit 2 on the command line; in a notebook kernel,
        whose options come from ``$DNN_NOTEBOOK_ARGS``, a :class:`UserError` (one line)."""
        if launched_as_notebook_kernel():
            raise UserError(f"{message} (in ${NOTEBOOK_ARGS_VARIABLE}="
                            f"{os.environ.get(NOTEBOOK_ARGS_VARIABLE, '')!r}): set it to valid "
                            f"options before starting Jupyter (the script's --help lists them)")
        super().error(message)


def make_parser(doc, *, epochs=None, batch_size=None, data=False, cpu=None, seed=DEFAULT_SEED,
                models=False):
    """The parser every script starts from, described by ``doc``'s first line.

    ``--seed``, ``--outdir``, ``--no-show`` always; training options with
    ``epochs``; data options with ``data``; ``--models-dir``, ``--pretrained``
    and ``--live`` with ``models``.  The defaults are the lecture's settings.
    """
    parser = ArgumentParser(description=(doc or "").strip().partition("\n")[0] or None)
    add = parser.add_argument
    if epochs is not None:
        add("--epochs", type=positive_int, default=epochs,
            help="number of passes over the training data")
        if batch_size is not None:
            add("--batch-size", type=positive_int, default=batch_size,
                help="samples per gradient step")
    if cpu or (cpu is None and epochs is not None):
        add("--cpu", action="store_true", help="run on the CPU even when a GPU is visible")
    add("--seed", type=seed_int, default=seed,
        help="random seed of the data subsets, initial weights and Dropout (on Keras 3 "
             "not of the batch order, which is new every epoch)")
    if data and epochs is not None:
        add("--max-samples", type=positive_int, default=None, metavar="N",
            help="train on a stratified subset of N images (quick runs)")
        add("--early-stopping", type=positive_int, default=None, metavar="PATIENCE",
            help="stop when the validation loss has not fallen for PATIENCE "
                 "epochs and keep the best epoch's weights")
    if data:
        add("--data-dir", default=None, metavar="DIR",
            help="folder holding mnist/ and fashion-mnist/; "
                 "without it $DNN_DATA_DIR, then the Keras cache")
        add("--no-sample", action="store_true",
            help="fail instead of falling back to the small sample shipped with the repository")
    if models:
        add("--models-dir", metavar="DIR",
            default=os.environ.get(MODELS_DIR_VARIABLE) or DEFAULT_MODELS_DIR,
            help="folder for the trained network and its history ($DNN_MODELS_DIR where set)")
        add("--pretrained", action="store_true",
            help="do not train: load the network saved in --models-dir "
                 "by an earlier run and show its results")
        add("--live", action="store_true",
            help="draw the training curves while the network trains")
    add("--outdir", default=DEFAULT_OUTDIR, metavar="DIR", help="folder for the saved figures")
    add("--no-show", action="store_true", help="only save the figures, do not open a window")
    return parser


def add_display_options(parser):
    """The options of the display scripts: which images to show."""
    add = parser.add_argument
    add("--count", type=grid_count, default=32, help="how many images to show in the grid")
    add("--start", type=int, default=0, help="index of the first training image in the grid")
    add("--random", action="store_true",
        help="show randomly chosen images (seeded by --seed) instead")
    add("--index", type=int, default=None,
        help="training image whose grey values are shown (default: the first one in the grid)")


def choose_images(args, total):
    """The display scripts' images: ``(indices of the grid, index of the single image)``."""
    import numpy as np

    def check(option, index):
        if not 0 <= index < total:
            raise UserError(f"{option} {index} is outside the {total} training images "
                            f"(use 0 to {total - 1})")

    if args.random:
        generator = np.random.default_rng(args.seed)
        indices = np.sort(generator.choice(total, size=min(args.count, total), replace=False))
    else:
        check("--start", args.start)
        indices = np.arange(args.start, min(args.start + args.count, total))
    index = int(indices[0]) if args.index is None else args.index
    check("--index", index)
    return indices, index


def parse_args(parser, argv=None, network=None):
    """Read the options, check the folders (before TensorFlow loads), seed; return ``args``.

    On the command line :func:`report_uncaught` becomes ``sys.excepthook``; in a
    notebook kernel the options come from ``$DNN_NOTEBOOK_ARGS``.  ``network``
    names the script whose saved network ``--pretrained`` loads: where
    ``--models-dir`` holds none, the one-line error comes now, not after TensorFlow loads.
    """
    if argv is None and launched_as_notebook_kernel():
        report_user_errors_in_one_line()
        try:
            argv = shlex.split(os.environ.get(NOTEBOOK_ARGS_VARIABLE, ""))
        except ValueError as error:  # an unclosed quote
            raise UserError(f"${NOTEBOOK_ARGS_VARIABLE} cannot be read ({error}): set it to "
                            f"valid options before starting Jupyter") from None
        print(f"Running in a notebook: options {' '.join(argv) or '(none)'} from "
              f"${NOTEBOOK_ARGS_VARIABLE}, the lecture's settings for the rest.")
    elif argv is None:
        sys.excepthook = report_uncaught
    args = parser.parse_args(argv)
    data_dir = getattr(args, "data_dir", None)
    if data_dir is not None and not Path(data_dir).is_dir():
        what = "a file, not a folder" if Path(data_dir).exists() else "no such folder"
        raise UserError(f"{data_dir} (from --data-dir) is {what}: point --data-dir at the "
                        f"folder that holds mnist/ and fashion-mnist/")
    if hasattr(args, "outdir"):
        args.outdir = ensure_writable_dir(args.outdir)
    if getattr(args, "models_dir", None) is not None:  # written after training, read otherwise
        args.models_dir = (Path(args.models_dir) if args.pretrained
                           else ensure_writable_dir(args.models_dir, "--models-dir"))
        if args.pretrained and network is not None:
            from dnnkit import saved  # it imports this module

            saved.require_saved(network, args.models_dir)
    set_seed(args.seed)
    return args


def ensure_writable_dir(path, option="--outdir"):
    """``path`` as a Path, created and checked writable, else a one-line :class:`UserError`."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UserError(f"output folder {path} is a file, not a folder: "
                        f"choose another one with {option}")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as error:
        raise UserError(f"cannot write into output folder {path} ({error.strerror or error}): "
                        f"choose another one with {option}") from None
    return path


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training; carries how many epochs had finished."""

    def __init__(self, epochs_completed):
        super().__init__(f"Interrupted after epoch {epochs_completed}")
        self.epochs_completed = epochs_completed


def import_package(name, fix, optional=False):
    """Import ``name``, or say in one line why not and how to ``fix`` it (UserError or printed)."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        message = f"{name} cannot be imported ({error}): {fix}"
        if not optional:
            raise UserError(message) from None
        print(f"Skipped: {message}")
        return None


def launched_as_notebook_kernel():
    """True in a Jupyter kernel, whose command line (``-f kernel.json``) is not the script's."""
    return "ipykernel" in sys.modules and any(
        argument == "-f" or argument.startswith("--f=") for argument in sys.argv[1:])


def exit_code_and_message(error):
    """``(exit code, one line)`` for UserError, Ctrl-C, TensorFlow out of memory; else None."""
    if isinstance(error, UserError):
        return EXIT_USER_ERROR, f"Error: {error}"
    if isinstance(error, KeyboardInterrupt):
        return EXIT_INTERRUPTED, str(error) or "Interrupted"
    tf_errors = getattr(sys.modules.get("tensorflow"), "errors", None)
    if tf_errors is None or not (isinstance(error, tf_errors.ResourceExhaustedError) or (
            isinstance(error, (tf_errors.InternalError, tf_errors.UnknownError))
            and any(words in str(error) for words in OUT_OF_MEMORY_WORDS))):
        return None
    if gpu_in_use():
        return EXIT_USER_ERROR, ("Error: the GPU's memory is full, perhaps taken by other users "
                                 "of the card: train on the CPU with --cpu, use a smaller "
                                 "--batch-size, or run nvidia-smi to see who is using the GPU")
    return EXIT_USER_ERROR, ("Error: the computer's memory is full: use a smaller --batch-size "
                             "or train on fewer images with --max-samples")


def gpu_in_use():
    """True if the loaded TensorFlow computes on a GPU."""
    try:
        return bool(sys.modules["tensorflow"].config.list_logical_devices("GPU"))
    except Exception:  # noqa: BLE001 -- a TensorFlow that failed to start its GPU
        return True


def report_user_errors_in_one_line():
    """In a notebook kernel: a :class:`UserError` shows its one line under the cell (on
    stderr), with no traceback (IPython's ``set_custom_exc``); the cell still fails, so that
    "Run All" stops there, as the script stops with exit code 2."""
    from IPython import get_ipython

    def one_line(shell, error_type, error, traceback, tb_offset=None):
        print(exit_code_and_message(error)[1], file=sys.stderr, flush=True)

    shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((UserError,), one_line)


def report_uncaught(error_type, error, traceback):
    """``sys.excepthook`` on the command line: one line and its exit code, or the traceback."""
    outcome = exit_code_and_message(error)
    if outcome is None:
        sys.__excepthook__(error_type, error, traceback)
        return
    code, message = outcome
    sys.stdout.flush()
    print(("\n" if code == EXIT_INTERRUPTED else "") + message, file=sys.stderr, flush=True)
    os._exit(code)  # from an excepthook, sys.exit cannot set the exit code


def set_seed(seed):
    """Seed Python, numpy and (if it is loaded) TensorFlow and Keras.

    The same seed gives the same data subsets, initial weights and Dropout
    masks.  On Keras 3 the order of the training batches is drawn anew every
    epoch, unseeded, unless ``DNN_SAME_BATCH_ORDER=1`` (see
    :func:`dnnkit.compat.seed_tensorflow`); on TensorFlow 2.4 and Keras 2 it is
    seeded and new every epoch.
    """
    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    if "tensorflow" in sys.modules:
        compat.seed_tensorflow(seed, same_batch_order=switched_on(SAME_BATCH_ORDER_VARIABLE))


def switched_on(variable):
    """True when the environment variable ``variable`` is set, and not to "" or "0"."""
    return os.environ.get(variable, "") not in ("", "0")


def plain_keras():
    """True when ``DNN_PLAIN_KERAS=1``: Keras's and TensorFlow's defaults, no speed settings."""
    return switched_on(PLAIN_KERAS_VARIABLE)


def enable_onednn(environ=None, machine=None):
    """Switch on TensorFlow's oneDNN CPU kernels on x86-64 unless the user chose; return the value.

    The CNN's step takes 27 ms with them, 44 ms without on AMD (benchmarks/bench_cnn_ops.py).
    """
    environ = os.environ if environ is None else environ
    if (machine or platform.machine()).lower() in ("x86_64", "amd64"):
        environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    return environ.get("TF_ENABLE_ONEDNN_OPTS")


def import_tensorflow():
    """Import TensorFlow, its C++ start-up log about CUDA held back (unless chosen); return it."""
    if "tensorflow" not in sys.modules:
        if not plain_keras():
            enable_onednn()
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow

    tensorflow.get_logger().setLevel("ERROR")
    return tensorflow


def setup_tensorflow(args):
    """Import TensorFlow, print the device line, seed everything; return ``tensorflow``."""
    tf = import_tensorflow()
    print(setup_device(tf.config, force_cpu=getattr(args, "cpu", False)))
    set_seed(args.seed)
    return tf


def setup_device(tf_config, force_cpu=False):
    """The device line; GPUs get memory growth (not the whole card), ``force_cpu`` hides them."""
    gpus = tf_config.list_physical_devices("GPU")
    if not gpus:
        return "Device: CPU (no GPU visible)"
    if force_cpu:
        try:
            tf_config.set_visible_devices([], "GPU")
        except RuntimeError:  # the GPU was used already in this process
            return "Device: GPU (--cpu came too late: the GPU was already in use in this process)"
        return f"Device: CPU (--cpu given; {len(gpus)} GPU(s) hidden)"
    names = []
    for index, gpu in enumerate(gpus):
        with contextlib.suppress(RuntimeError):  # the GPU was used already in this process
            tf_config.experimental.set_memory_growth(gpu, True)
        details = tf_config.experimental.get_device_details(gpu) or {}
        names.append(f"GPU {index} ({details.get('device_name', gpu.name)})")
    return "Device: " + ", ".join(names)


def running_under_test_or_ci():
    """True under pytest or CI, or when stdout is not a terminal."""
    in_ci = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")
    return "PYTEST_CURRENT_TEST" in os.environ or in_ci or not sys.stdout.isatty()


def load_data(args, dataset):
    """``(x_train, y_train), (x_test, y_test)``; the source goes to ``args.data_source``."""
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

        classes = len(np.unique(y_train))
        least = MIN_SAMPLES_PER_CLASS * classes
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
                stratify=y_train if left_out >= classes else None)
            print(f"Training on a stratified subset of {len(x_train)} images (--max-samples).")
    return ((x_train, y_train), (x_test, y_test)), source
