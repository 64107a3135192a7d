"""Shared test set-up: headless figures, no downloads, a clean state per test."""

import atexit
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import pytest

# Headless plotting and quiet TensorFlow for the whole run, set before any import.
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow C++ log: errors only
# Tests never touch the network: the loaders skip their download step.
os.environ["DNN_NO_DOWNLOAD"] = "1"
# The model scripts save their trained networks (--models-dir) into a temporary
# folder, never over the networks an instructor trained into models/.
os.environ["DNN_MODELS_DIR"] = tempfile.mkdtemp(prefix="dnn-test-models-")
atexit.register(shutil.rmtree, os.environ["DNN_MODELS_DIR"], ignore_errors=True)

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dnnkit import runtime  # noqa: E402

# The tests train with the same TensorFlow kernels as the scripts.
runtime.enable_onednn()


#: Test processes where pytest-xdist is installed (requirements.txt installs it): two
#: cores run the suite in about half the time.  `-n 0` runs it in this one process.
WORKERS = 2


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    """Where pytest-xdist is installed and no ``-n`` is given: ``-n 2 --dist loadfile``,
    two processes, each test file in one of them (its module fixtures made once).  Without
    xdist (the lab's myML) the tests run in this one process."""
    if (config.pluginmanager.hasplugin("xdist") and not hasattr(config, "workerinput")
            and config.option.numprocesses is None and config.option.dist == "no"
            and not config.option.usepdb):
        config.option.numprocesses = WORKERS
        config.option.dist = "loadfile"


def pytest_sessionstart(session):
    """The process that runs tests imports TensorFlow once, before the first test, so that
    its seconds are nobody's test time (the controller of xdist's workers runs none)."""
    if getattr(session.config.option, "dist", "no") == "no" or hasattr(session.config,
                                                                       "workerinput"):
        runtime.import_tensorflow()


def pytest_addoption(parser):
    parser.addoption("--full", action="store_true",
                     help="run the full tier too (tests marked 'full'): what CI runs")


def pytest_configure(config):
    """Without --full, the smoke tier runs on the shipped samples on every machine, with or
    without DNN_DATA_DIR: quick, and the same numbers everywhere.  With --full, the tests
    read the full data where DNN_DATA_DIR names it (CI: both tiers on the lab's floor, the
    full tier on the pinned versions), but for the notebooks' kernels (test_notebooks.py)."""
    if not config.getoption("--full"):
        os.environ.pop("DNN_DATA_DIR", None)


def pytest_collection_modifyitems(config, items):
    """Without --full, the tests marked ``full`` are deselected: the smoke tier."""
    if config.getoption("--full"):
        return
    smoke = [item for item in items if item.get_closest_marker("full") is None]
    if len(smoke) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in smoke])
        items[:] = smoke


def pytest_collection_finish(session):
    """Everything imported while collecting (TensorFlow, Keras, matplotlib: a few hundred
    thousand objects that live as long as the process) is left out of Python's full garbage
    collections from here on (``gc.freeze``).  Without it, the first full collection of a
    test process walked them all and stalled whichever test happened to trigger it: 7.6 s
    in one test_plotting test that takes 0.1 s (2026-12-07, AMD EPYC, 2 cores; logged with
    gc.callbacks), which put it at the top of ``--durations``."""
    import gc

    gc.freeze()


@pytest.fixture(autouse=True)
def _clean_state():
    """After every test: close all figures, clear the Keras session, and undo what a
    script run in this process set up for the command line (its excepthook, a
    Ctrl-C handler of an interrupted training)."""
    excepthook = sys.excepthook
    ctrl_c = signal.getsignal(signal.SIGINT)
    yield
    sys.excepthook = excepthook
    signal.signal(signal.SIGINT, ctrl_c)
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib.pyplot as plt

        plt.close("all")
    if "tensorflow" in sys.modules:
        from dnnkit import compat

        compat.clear_session()
