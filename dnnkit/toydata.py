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


#: A file of your own points: one point a line, ``x1,x2,label`` (label 0 or 1), and
#: optionally a first line of names such as ``x1,x2,label``.
POINTS_HEADER = "x1,x2,label"
#: Fewer points cannot be split into training, validation and test points (6, 2 and 2).
MIN_OWN_POINTS = 10


def save_points(path, x, y):
    """Write the points ``x`` (shape ``(n, 2)``) and their classes ``y`` to the CSV file ``path``
    (``x1,x2,label``, with a header line), exactly enough for :func:`load_points` to read the
    same float32 numbers back."""
    with open(path, "w", encoding="utf-8") as stream:
        stream.write(POINTS_HEADER + "\n")
        for (x1, x2), label in zip(np.asarray(x, dtype="float64"), np.asarray(y)):
            stream.write(f"{x1:.9g},{x2:.9g},{int(label)}\n")


def load_points(path):
    """``(x, y)``, float32, from the CSV file ``path`` written by :func:`save_points` (or by hand),
    in the file's order.  A file that cannot be used raises :class:`dnnkit.errors.DataError`
    with one line that names the file's line and what is wrong there."""
    from dnnkit.errors import DataError

    try:
        with open(path, encoding="utf-8-sig") as stream:
            lines = stream.read().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or error
        raise DataError(f"cannot read the points file {path} ({reason}): give a CSV file of "
                        f"lines {POINTS_HEADER}") from None
    x, y, first = [], [], None
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [field.strip() for field in line.split(",")]
        values = []
        for field in fields:
            try:
                values.append(float(field))
            except ValueError:
                values.append(None)
        if first is None and len(fields) == 3 and all(value is None for value in values):
            first = number  # a header line of names
            continue
        first = first or number
        where = f"{path} line {number}"
        if len(fields) != 3:
            raise DataError(f"{where}: expected 3 values {POINTS_HEADER} separated by commas, "
                            f"got {len(fields)} ({line.strip()!r})")
        for name, field, value in zip(("x1", "x2", "label"), fields, values):
            if value is None or not np.isfinite(value):
                raise DataError(f"{where}: {name} is {field!r}, not a finite number "
                                f"(a line is {POINTS_HEADER}, e.g. 0.5,-1.2,1)")
        if values[2] not in (0.0, 1.0):
            raise DataError(f"{where}: the label is {fields[2]}, expected 0 or 1")
        x.append(values[:2])
        y.append(values[2])
    if len(x) < MIN_OWN_POINTS:
        raise DataError(f"{path} has {len(x)} point{'s' * (len(x) != 1)}: at least "
                        f"{MIN_OWN_POINTS} are needed (6 to train on, 2 to validate, 2 to test)")
    y = np.array(y, dtype="float32")
    if len(np.unique(y)) < 2:
        raise DataError(f"{path}: all {len(y)} points are of class {int(y[0])}: points of "
                        f"both classes 0 and 1 are needed")
    return np.array(x, dtype="float32"), y
