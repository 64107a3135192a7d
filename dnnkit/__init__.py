"""dnnkit: the plumbing shared by the lecture's example scripts.

One module per concern, none of which imports TensorFlow at import time:

- ``dnnkit.data``: load MNIST and Fashion-MNIST (IDX or npz), with offline fallbacks;
- ``dnnkit.convolution``: convolution and pooling in numpy; a trained CNN's filters and
  feature maps as figures;
- ``dnnkit.plotting``: training curves, image grids, confusion matrices, saving figures;
- ``dnnkit.runtime``: command line, seeds, device set-up, one-line errors and exit codes;
- ``dnnkit.training``: what the scripts' ``model.fit`` is given (speed options, the
  monitor callback) and the report printed after ``model.evaluate``;
- ``dnnkit.compat``: the one place where TensorFlow 2.4 (the lecture lab's) and
  TensorFlow 2.21 with Keras 3, and matplotlib 3.5 and 3.11, differ;
- ``dnnkit.lecture``: the manifest, the lecture's examples in lecture order.

The lesson itself (data preparation, model, compile, fit, evaluate) stays in each script.
"""
