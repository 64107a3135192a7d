"""Shared test set-up: headless figures, no downloads, a clean state per test."""

import os
import sys
from pathlib import Path

import pytest

# Headless plotting and quiet TensorFlow for the whole run, set before any import.
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow C++ log: errors only
# Tests never touch the network: the loaders skip their download step.
os.environ["DNN_NO_DOWNLOAD"] = "1"

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dnnkit import runtime  # noqa: E402

# The tests train with the same TensorFlow kernels as the scripts.
runtime.enable_onednn()


@pytest.fixture(autouse=True)
def _clean_state():
    """Close all figures and clear the Keras session after every test."""
    yield
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib.pyplot as plt

        plt.close("all")
    if "keras" in sys.modules:
        import keras

        # free_memory=False: skip the full garbage collection, which costs up
        # to a second per test once TensorFlow's many objects are loaded.
        keras.backend.clear_session(free_memory=False)
