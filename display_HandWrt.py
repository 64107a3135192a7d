"""Display handwritten digits from MNIST: images, grey values and class counts.

Lecture slide "MNIST: handwritten digits": 60000 training and 10000 test
images of 28x28 pixels, each a 28 x 28 array of grey values from 0 to 255
(preprocessing for the networks: divide by 255).  This script shows

1. a grid of digits with their labels (``--count``, ``--start``, ``--random``),
2. the 28 x 28 grey values of one image (``--index``) as a heat map with a
   colour bar and the numbers written in,
3. how many training images each digit has.

It does not need TensorFlow, so it starts fast.  Result of a default run
(``python display_HandWrt.py --no-show`` on the full data): 60000 training images, 6742 of them ones and 5421 fives (the rarest digit);
the three figures are saved in 0.9-1.1 s on the 2-core lecture machine
(single runs and the median of 7, ``benchmarks/bench_startup.py``; README "Start-up").
"""

# %% Set-up
# The figures are made by dnnkit.plotting (plot_image_grid, plot_pixel_values,
# plot_class_counts); display_Clothing.py shows Fashion-MNIST the same way.

from dnnkit import plotting, runtime

DATASET = "mnist"
TITLE = "MNIST handwritten digits"


# %% Data and figures
def main(argv=None):
    parser = runtime.make_parser(__doc__, data=True)
    runtime.add_display_options(parser)
    args = runtime.parse_args(parser, argv)
    # matplotlib is imported (plotting.pyplot) while the data are read.
    (x_train, y_train), _ = runtime.load_data(args, DATASET, meanwhile=plotting.pyplot)
    return plotting.display_dataset(args, x_train, y_train, DATASET, TITLE)


if __name__ == "__main__":
    runtime.run_script(main)
