"""The fast training path gives the same results as plain Keras.

``benchmarks/bench_training.py`` measures the speed of our training path
(``steps_per_execution`` and the input pipeline of ``dnnkit.training.fit``)
against plain ``model.fit`` from numpy arrays.  This test makes sure that no
speed trick silently changes the results: on a tiny run, both paths reach
the same test accuracy within the spread that the different shuffling order
alone causes.
"""

from types import SimpleNamespace

import pytest

from benchmarks import bench_training

# Two runs that differ only in the order of the batches land within about a
# point of each other on 1000 test images; a broken pipeline (labels shuffled
# apart from their images, samples dropped) costs tens of points.
TOLERANCE = 0.03


@pytest.mark.parametrize("script_name", ["MLP_MNIST_digits_tf", "clothingSequentialDropout"])
def test_fast_path_matches_plain_keras(script_name):
    import importlib

    script = importlib.import_module(script_name)
    args = SimpleNamespace(data_dir=None, no_sample=False, max_samples=3000, seed=7, epochs=2)
    train, test, _ = script.prepare_data(args)
    data = (train, test)

    _, baseline_seconds, baseline_accuracy = bench_training.run_baseline(script, data, args)
    model, our_seconds, our_accuracy = bench_training.run_ours(script, data, args)

    assert len(baseline_seconds) == len(our_seconds) == 2
    assert model.steps_per_execution > 1  # the fast path is really in use
    assert baseline_accuracy > 0.6 and our_accuracy > 0.6
    assert our_accuracy == pytest.approx(baseline_accuracy, abs=TOLERANCE)
