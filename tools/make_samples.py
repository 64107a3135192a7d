"""Build the small data samples shipped in data/samples/ from the full data sets.

The examples fall back to these samples when the full MNIST or Fashion-MNIST
cannot be found or downloaded.  Each sample is stratified by class: 300
training and 100 test images of every class (3000 and 1000 in all), drawn with
a fixed seed and shuffled, so that a Keras ``validation_split`` (which takes
the last part of the training data) still sees every class.

The files have the layout of Keras's ``mnist.npz`` (uint8 arrays x_train,
y_train, x_test, y_test), compressed like ``np.savez_compressed``.  They are
written with a fixed time stamp, so the same input gives the same bytes.

Usage (from the project folder):

    python tools/make_samples.py --data-dir ../shared/data

The data folder defaults to $DNN_DATA_DIR, else ../shared/data.
"""

import hashlib
import os
import sys
import zipfile
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))  # Run as a script: make dnnkit importable.

from dnnkit import data, runtime  # noqa: E402  (needs the path set above)
from dnnkit.errors import UserError  # noqa: E402

DATA_SETS = ("mnist", "fashion_mnist")
TRAIN_PER_CLASS = 300
TEST_PER_CLASS = 100
SEED = 42
ZIP_TIME_STAMP = (1980, 1, 1, 0, 0, 0)  # Fixed, so that the bytes are reproducible.


def stratified_indices(labels, per_class, random_generator):
    """Pick ``per_class`` random indices of every class, then shuffle them together."""
    chosen = [
        random_generator.choice(np.flatnonzero(labels == label), size=per_class, replace=False)
        for label in range(data.NUMBER_OF_CLASSES)
    ]
    return random_generator.permutation(np.concatenate(chosen))


def make_sample(name, data_dir, seed):
    """Return the sample arrays of one data set, keyed like a Keras npz."""
    (x_train, y_train), (x_test, y_test) = data.load_dataset(name, data_dir=data_dir, allow_sample=False)
    random_generator = np.random.default_rng(seed)
    train = stratified_indices(y_train, TRAIN_PER_CLASS, random_generator)
    test = stratified_indices(y_test, TEST_PER_CLASS, random_generator)
    return {"x_train": x_train[train], "y_train": y_train[train], "x_test": x_test[test], "y_test": y_test[test]}


def save_npz(path, arrays):
    """Save arrays like ``np.savez_compressed``, but with a fixed time stamp in the archive."""
    temporary = path.with_name(f".{path.name}.part")
    with zipfile.ZipFile(temporary, "w") as archive:
        for key, array in arrays.items():
            member = zipfile.ZipInfo(f"{key}.npy", date_time=ZIP_TIME_STAMP)
            member.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(member, "w") as stream:
                np.lib.format.write_array(stream, np.ascontiguousarray(array, dtype=np.uint8), allow_pickle=False)
    os.replace(temporary, path)


def main(argv=None):
    default_data_dir = os.environ.get("DNN_DATA_DIR") or str(PROJECT_ROOT.parent / "shared" / "data")
    parser = runtime.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=default_data_dir,
                        help="folder holding mnist/ and fashion-mnist/ (default: %(default)s)")
    parser.add_argument("--output-dir", default=str(PROJECT_ROOT / "data" / "samples"),
                        help="where to write the samples (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=SEED, help="random seed (default: %(default)s)")
    arguments = parser.parse_args(argv)

    output_dir = Path(arguments.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    try:
        for name in DATA_SETS:
            arrays = make_sample(name, arguments.data_dir, arguments.seed)
            path = output_dir / f"{name}_sample.npz"
            save_npz(path, arrays)
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            print(f"Wrote {path} ({path.stat().st_size} bytes, {len(arrays['y_train'])} train, "
                  f"{len(arrays['y_test'])} test images), SHA-256 {digest}")
    except UserError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
