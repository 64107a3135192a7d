"""dnnkit: the plumbing shared by the lecture's example scripts.

One module per concern, none of which imports TensorFlow at import time:

- ``dnnkit.data``: load MNIST and Fashion-MNIST (IDX or npz), with offline fallbacks;
- ``dnnkit.preprocessing``: scaling, reshaping, standardizing, splitting (numpy only);
- ``dnnkit.metrics``: accuracy, precision, recall, F1, confusion matrix (numpy only);
- ``dnnkit.plotting``: training curves, image grids, confusion matrices, saving figures;
- ``dnnkit.runtime``: command line, seeds, device set-up, exit codes;
- ``dnnkit.training``: the fast training path and the result lines of the model scripts.

The lesson itself (model, loss, optimizer, epochs) stays in each script.
"""
