"""Display clothing from Fashion-MNIST: images, grey values and class counts.

Lecture slide "Fashion-MNIST": Zalando's drop-in replacement for MNIST, 60000
training and 10000 test images of 28x28 pixels in 10 classes: T-shirt/top,
Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot.  Each
image is a 28 x 28 array of grey values from 0 to 255 (preprocessing for the
networks: divide by 255).  Harder than the digits: shirts, pullovers and coats
look alike.  This script shows

1. a grid of images with their class names (``--count``, ``--start``, ``--random``),
2. the 28 x 28 grey values of one image (``--index``) as a heat map with a
   colour bar and the numbers written in,
3. how many training images each class has.

It does not need TensorFlow, so it starts fast.  On the full data it
counts 60000 training images, exactly 6000 of each class.

Result of a full run (the script's defaults, seeds 42 to 46; ``python
reproduce.py --seeds 5``, 2026-12-08, on Intel(R) Xeon(R) Processor (2 CPU
cores), CPU (no GPU visible), TensorFlow 2.21.0, load average 1.7-7.1): done
in 2 s.
"""

# %% Set-up
# The options are read first, so that --help answers at once.  This script
# does not need TensorFlow; display_HandWrt.py shows the other data set the same way.
import numpy as np

from dnnkit import data, plotting, runtime

parser = runtime.make_parser(__doc__, data=True)
runtime.add_display_options(parser)
args = runtime.parse_args(parser)

# %% Data
# Each image is a 28 x 28 array of grey values from 0 to 255, with its label.
(x_train, y_train), (x_test, y_test) = runtime.load_data(args, "fashion_mnist")
class_names = data.class_names("fashion_mnist")
print("Training images:", x_train.shape, x_train.dtype,
      " grey values", x_train.min(), "to", x_train.max())
print("Test images:    ", x_test.shape)

# %% A grid of training images with their labels
# --count, --start and --random choose the images of the grid, --index the one
# whose grey values are shown next.
indices, index = runtime.choose_images(args, len(x_train))
print(f"Training images {indices[0]} to {indices[-1]}"
      + (" (a random choice)" if args.random else ""))
fig = plotting.plot_image_grid(x_train[indices], y_train[indices], class_names,
                               title="Fashion-MNIST clothing: training images with labels")
plotting.save_figure(fig, "display_fashion_mnist_grid", args.outdir)

# %% The grey values of one image
# What the network sees: 28 x 28 numbers from 0 (black) to 255 (white).
print(f"Image {index} is {class_names[y_train[index]]!r}.")
fig = plotting.plot_pixel_values(x_train[index], label=class_names[y_train[index]])
plotting.save_figure(fig, "display_fashion_mnist_pixels", args.outdir)

# %% How many training images each class has
class_counts = np.bincount(y_train, minlength=len(class_names))
print("Training images per class:",
      ", ".join(f"{name}: {count}" for name, count in zip(class_names, class_counts)))
fig = plotting.plot_class_counts(y_train, class_names)
plotting.save_figure(fig, "display_fashion_mnist_class_counts", args.outdir)

# %% Show the figures (on the command line; a notebook shows each under its cell)
plotting.show(args.no_show)
