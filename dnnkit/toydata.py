"""The playground's toy data sets in the plane, the same points for the same arguments in
playground.py and in the Keras code it exports (numpy only)."""

import numpy as np

#: The data sets, the lecture's two Gaussians (as tf_intro.py) first.
NAMES = ("gaussians", "circle", "xor", "spiral")

#: The spread of the points around each data set's pattern at noise 1.  At the
#: default noise 0.5 the two Gaussians have tf_intro's spread 1 (Bayes limit 0.921).
SPREAD = {"gaussians": 2.0, "circle": 0.6, "xor": 0.6, "spiral": 0.5}


def make_data(name, points=400, noise=0.5, seed=42):
    """``(x, y)``, float32: ``points`` points in the plane, shape ``(points, 2)``, and their
    classes 0 or 1 (half each; for xor by the quadrant), in random order.  Each point lies
    on its class's pattern, moved by a normal step of spread ``noise * SPREAD[name]``:

    - gaussians: the points (-1, -1) and (1, 1);
    - circle: class 0 fills the disc of radius 1.5, class 1 the ring from 2.5 to 3.5;
    - xor: the square [-3, 3]^2 but 0.3 around the axes, class 1 where x1 and x2 have one sign;
    - spiral: two arms of 1.75 turns from the centre out to radius 3.5, half a turn apart.
    """
    if name not in NAMES:
        raise ValueError(f"unknown data set {name!r}: choose one of {', '.join(NAMES)}")
    rng = np.random.default_rng(seed)
    y = (np.arange(points) >= points // 2).astype("float32")
    if name == "gaussians":
        x = np.where(y[:, None] == 1, 1.0, -1.0) * np.ones((points, 2))
    elif name == "circle":
        ring = rng.uniform(2.5, 3.5, points)
        radius = np.where(y == 1, ring, 1.5 * np.sqrt(rng.uniform(0, 1, points)))
        angle = rng.uniform(0, 2 * np.pi, points)
        x = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    elif name == "xor":
        x = rng.uniform(0.3, 3.0, (points, 2)) * rng.choice([-1.0, 1.0], (points, 2))
        y = (x[:, 0] * x[:, 1] > 0).astype("float32")
    else:  # spiral
        t = rng.uniform(0, 1, points)
        radius, angle = 0.2 + 3.3 * t, 1.75 * 2 * np.pi * t + np.pi * y
        x = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    x = x + rng.normal(0, noise * SPREAD[name], (points, 2))
    order = rng.permutation(points)
    return x[order].astype("float32"), y[order].astype("float32")
