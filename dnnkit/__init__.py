"""dnnkit: the plumbing shared by the lecture's example scripts.

One module per concern (data, convolution, plotting, runtime, training, saved,
live, toydata, compat, lecture), none importing TensorFlow at import time.
The lesson itself (data, model, compile, fit, evaluate) stays in each script.
"""
