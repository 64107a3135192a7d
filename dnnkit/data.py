"""Load MNIST and Fashion-MNIST without TensorFlow, online or offline.

``load_mnist()`` and ``load_fashion_mnist()`` return the same arrays as
``keras.datasets.mnist.load_data()``: ``(x_train, y_train), (x_test, y_test)``,
all uint8, images of shape (N, 28, 28) and labels of shape (N,).

The data is looked for in this order:

1. the folder given as ``data_dir`` (the scripts' ``--data-dir``), else the one
   in the environment variable ``DNN_DATA_DIR``;
2. the files Keras has already downloaded (``$KERAS_HOME/datasets``, else
   ``~/.keras/datasets``);
3. the Debian package ``dataset-fashion-mnist`` (Fashion-MNIST only);
4. a download from the address Keras uses, into the Keras cache, when the
   machine is online (``DNN_NO_DOWNLOAD=1`` skips it);
5. the small sample shipped in ``data/samples/``, with a warning
   (``allow_sample=False`` or ``DNN_NO_SAMPLE=1`` refuses it).

The loader prints one line saying which source it used, for example
``Data: MNIST from /home/me/data/mnist (60000 train, 10000 test images)``;
``load_dataset_and_source`` also returns the same facts as a :class:`Source`.

Every problem with the data raises ``DataError`` with a one-line message that
names the file, says what is wrong and how to fix it.  The loader never deletes
or overwrites a file that is already there.  Only numpy and the standard
library are used, so loading the data never pays for importing TensorFlow.
"""

import gzip
import math
import os
import struct
import sys
import tempfile
import tokenize
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dnnkit.errors import DataError

MNIST_CLASS_NAMES = tuple(str(digit) for digit in range(10))
FASHION_CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                       "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

IMAGE_SHAPE = (28, 28)
NUMBER_OF_CLASSES = 10
FULL_TRAIN_SIZE = 60000
FULL_TEST_SIZE = 10000

# The four arrays of a data set, in the order load_data() returns them:
# key in a Keras-style npz, IDX file name (without .gz), what the array holds.
ARRAYS = (
    ("x_train", "train-images-idx3-ubyte", "images"),
    ("y_train", "train-labels-idx1-ubyte", "labels"),
    ("x_test", "t10k-images-idx3-ubyte", "images"),
    ("y_test", "t10k-labels-idx1-ubyte", "labels"),
)

# An IDX header starts with two zero bytes, a data type byte (0x08 for
# unsigned bytes) and the number of dimensions, followed by one big-endian
# 32-bit size per dimension: magic 0x00000801 for labels, 0x00000803 for images.
IDX_UNSIGNED_BYTE = 0x08
IDX_DIMENSIONS = {"labels": 1, "images": 3}
GZIP_MAGIC = b"\x1f\x8b"

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = PROJECT_ROOT / "data" / "samples"

# Folders where Debian packages install the data sets, per data set
# (a module constant, so that tests can point it elsewhere).
SYSTEM_DATA_DIRS = {"mnist": (), "fashion_mnist": (Path("/usr/share/datasets/fashion-mnist"),)}

DOWNLOAD_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
DOWNLOAD_TIMEOUT_SECONDS = 5
MAX_DOWNLOAD_BYTES = 100 * 2**20
READ_CHUNK_BYTES = 2**20

# What a damaged or unreadable file raises while it is read: the operating
# system's errors, a compressed stream that ends early (EOFError) or is damaged
# (zlib.error, gzip.BadGzipFile, an OSError), a damaged zip archive (BadZipFile,
# or NotImplementedError for a member that claims a zip version zipfile lacks),
# a short IDX header (struct.error), and numpy's errors on a bad npy header
# (ValueError; numpy 1.19, the lab's, lets tokenize.TokenError through).  Any
# other error is a bug in this code and is raised as it is.
_READ_ERRORS = (OSError, EOFError, ValueError, struct.error, zlib.error, zipfile.BadZipFile,
                NotImplementedError, tokenize.TokenError)


@dataclass(frozen=True)
class Source:
    """Where a data set was found: what ``load_dataset_and_source`` returns beside the arrays."""

    dataset: str  # "mnist" or "fashion_mnist"
    source: str  # the path, or "shipped sample data/samples/..."
    kind: str  # "data_dir", "keras_cache", "system", "download" or "sample"
    path: str  # the npz file or the folder of the IDX files
    n_train: int
    n_test: int

    @property
    def is_sample(self):
        return self.kind == "sample"

    @property
    def line(self):
        """The line the loader prints: ``Data: MNIST from ... (60000 train, 10000 test images)``."""
        return (f"Data: {_DATA_SETS[self.dataset].title} from {self.source} "
                f"({self.n_train} train, {self.n_test} test images)")


@dataclass(frozen=True)
class _DataSet:
    """What the loader needs to know about one data set."""

    name: str  # "mnist" or "fashion_mnist"
    title: str  # how the messages call it
    folder: str  # folder name under a data directory
    npz_name: str  # name of a Keras-style npz file
    keras_files: tuple  # the files Keras caches, relative to its datasets folder
    class_names: tuple
    debian_package: str = ""  # the Debian package that installs it, if any

    @property
    def sample_file(self):
        return SAMPLE_DIR / f"{self.name}_sample.npz"


_DATA_SETS = {
    "mnist": _DataSet("mnist", "MNIST", "mnist", "mnist.npz", ("mnist.npz",), MNIST_CLASS_NAMES),
    "fashion_mnist": _DataSet(
        "fashion_mnist", "Fashion-MNIST", "fashion-mnist", "fashion_mnist.npz",
        tuple(f"fashion-mnist/{file_name}.gz" for _, file_name, _ in ARRAYS),
        FASHION_CLASS_NAMES, debian_package="dataset-fashion-mnist"),
}


@dataclass(frozen=True)
class _Location:
    """A place that holds a complete data set: one npz file or four IDX files."""

    path: Path  # the npz file, or the folder of the IDX files
    idx_files: tuple = ()  # the four IDX files in ARRAYS order; empty for an npz


def load_mnist(data_dir=None, allow_sample=None, verbose=True):
    """Load MNIST as ``(x_train, y_train), (x_test, y_test)``; see ``load_dataset``."""
    return load_dataset("mnist", data_dir, allow_sample, verbose)


def load_fashion_mnist(data_dir=None, allow_sample=None, verbose=True):
    """Load Fashion-MNIST as ``(x_train, y_train), (x_test, y_test)``; see ``load_dataset``."""
    return load_dataset("fashion_mnist", data_dir, allow_sample, verbose)


def load_dataset(name, data_dir=None, allow_sample=None, verbose=True):
    """Load "mnist" or "fashion_mnist" like ``keras.datasets.<name>.load_data()``.

    Returns ``(x_train, y_train), (x_test, y_test)``; see ``load_dataset_and_source``.
    """
    train, test, _ = load_dataset_and_source(name, data_dir, allow_sample, verbose)
    return train, test


def load_dataset_and_source(name, data_dir=None, allow_sample=None, verbose=True):
    """Load "mnist" or "fashion_mnist": ``(x_train, y_train), (x_test, y_test), source``.

    Looks in ``data_dir`` (else ``$DNN_DATA_DIR``), the Keras cache, the Debian
    system folder, then downloads, then falls back to the shipped sample (see
    the module docstring).  A named folder that holds no data is an error, not
    a reason to look elsewhere.  ``allow_sample=None`` allows the sample unless
    ``DNN_NO_SAMPLE=1``.  With ``verbose`` the loader prints one line naming its
    source; the warning about the sample is printed in any case.

    The arrays are uint8; ``source`` is a :class:`Source` that says where they
    were found.  Raises ``DataError`` when no data is found or a file is damaged.
    """
    data_set = _get_data_set(name)
    looked = []  # Where we looked, for the message when nothing is found.

    named_dir, named_by = data_dir, "--data-dir"
    if named_dir is None:
        named_dir, named_by = os.environ.get("DNN_DATA_DIR") or None, "DNN_DATA_DIR"
    if named_dir is not None:
        location, note = _find_in(Path(named_dir), data_set)
        if location is None:
            raise DataError(f"{named_dir} (from {named_by}) holds no {data_set.title} data "
                            f"({note}): expected {_expected_files_text(data_set)}, or "
                            f"{data_set.npz_name}; point {named_by} at a folder that has them")
        return _load_and_report(data_set, location, "data_dir", verbose)
    looked.append("DNN_DATA_DIR (not set)")

    cache_dir = keras_cache_dir()
    places = [(cache_dir, "keras_cache", "the Keras cache")]
    places += [(folder, "system", "the system folder") for folder in SYSTEM_DATA_DIRS[data_set.name]]
    for folder, kind, description in places:
        location, note = _find_in(folder, data_set)
        if location is not None:
            return _load_and_report(data_set, location, kind, verbose)
        looked.append(f"{description} {folder} ({note})")

    if _environment_flag("DNN_NO_DOWNLOAD"):
        looked.append("download (skipped: DNN_NO_DOWNLOAD=1)")
    else:
        failure = _download(data_set, cache_dir, verbose)
        location, note = _find_in(cache_dir, data_set) if failure is None else (None, failure)
        if location is not None:
            return _load_and_report(data_set, location, "download", verbose)
        looked.append(f"download from {DOWNLOAD_URL} ({note})")

    sample_file = data_set.sample_file
    if allow_sample is None:
        allow_sample = not _environment_flag("DNN_NO_SAMPLE")
        refused_by = "DNN_NO_SAMPLE=1"
    else:
        refused_by = "--no-sample"
    if not allow_sample:
        looked.append(f"the shipped sample (refused: {refused_by})")
    elif not sample_file.is_file():
        looked.append(f"the shipped sample {_display_path(sample_file)} (missing)")
    else:
        return _load_and_report(data_set, _Location(sample_file), "sample", verbose)

    raise DataError(f"No {data_set.title} data found; looked at: {'; '.join(looked)}. "
                    f"To get the data, {_ways_to_get_data(data_set)}")


def class_names(name):
    """The ten class names of "mnist" or "fashion_mnist", in label order."""
    return _get_data_set(name).class_names


def keras_cache_dir():
    """The folder where Keras keeps downloaded data sets: $KERAS_HOME/datasets or ~/.keras/datasets."""
    keras_home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(keras_home) / "datasets"


def read_idx(path, kind=None):
    """One IDX file, raw or gzip (told by its first bytes): uint8 images (N, 28, 28) or labels (N,).

    ``kind`` ("images" or "labels") checks which of the two the file holds.  The
    header is checked before the data are read, in chunks: a header that claims
    a huge size costs no more memory than the data present.  Any problem is a
    ``DataError``.
    """
    path = Path(path)
    try:
        with open(path, "rb") as file:
            is_gzip = file.read(len(GZIP_MAGIC)) == GZIP_MAGIC
            file.seek(0)
            stream = gzip.GzipFile(fileobj=file) if is_gzip else file
            return _read_idx_stream(stream, path, kind, is_gzip)
    except _READ_ERRORS as error:
        raise _data_error(path, _describe_read_error(error, "IDX")) from None


def read_npz(path):
    """A Keras-style npz (x_train, y_train, x_test, y_test): ``(x_train, y_train), (x_test, y_test)``.

    Never unpickles (an array of Python objects is refused).  Each array's
    header is checked before its data are read, in chunks, so memory use stays
    within the file's own size.  Any problem is a ``DataError``.
    """
    path = Path(path)
    try:
        file_size = path.stat().st_size
        with zipfile.ZipFile(path) as archive:
            x_train, y_train, x_test, y_test = (_read_npz_array(archive, file_size, path, key, kind)
                                                for key, _, kind in ARRAYS)
    except zipfile.BadZipFile as error:
        # A half-downloaded npz still starts like a zip file but lacks the
        # directory at its end.
        if _starts_with(path, b"PK\x03\x04"):
            raise _data_error(path, "is truncated (the zip archive has no end)") from None
        raise _data_error(path, _describe_read_error(error, "npz")) from None
    except _READ_ERRORS as error:
        raise _data_error(path, _describe_read_error(error, "npz")) from None
    _check_same_count(x_train, y_train, path, " (arrays x_train and y_train)")
    _check_same_count(x_test, y_test, path, " (arrays x_test and y_test)")
    return (x_train, y_train), (x_test, y_test)


def _starts_with(path, prefix):
    """True when the file at ``path`` begins with the bytes ``prefix``."""
    try:
        with open(path, "rb") as stream:
            return stream.read(len(prefix)) == prefix
    except OSError:
        return False


def _read_idx_stream(stream, path, kind, is_gzip):
    """Parse and check the IDX header, then read exactly the data it announces."""
    magic = _read_bounded(stream, 4)
    if len(magic) < 4:
        raise _data_error(path, f"is too short to be an IDX file ({len(magic)} bytes)")
    if magic[:2] != b"\x00\x00":
        raise _data_error(path, f"is not an IDX file (it starts with 0x{magic.hex()}, expected "
                                "0x00000801 for labels or 0x00000803 for images)")
    if magic[2] != IDX_UNSIGNED_BYTE:
        raise _data_error(path, f"holds IDX data type 0x{magic[2]:02x}, expected 0x08 "
                                "(unsigned bytes)")
    dimension_count = magic[3]
    kinds_by_dimensions = {count: name for name, count in IDX_DIMENSIONS.items()}
    if dimension_count not in kinds_by_dimensions:
        raise _data_error(path, f"has {dimension_count} dimensions in its IDX header (magic "
                                f"0x{magic.hex()}), expected 1 for labels (0x00000801) or 3 for "
                                f"images (0x00000803)")
    found_kind = kinds_by_dimensions[dimension_count]
    if kind is not None and found_kind != kind:
        raise _data_error(path, f"holds {found_kind}, expected {kind} (are two files swapped?)")

    header_size = 4 + 4 * dimension_count
    size_bytes = _read_bounded(stream, 4 * dimension_count)
    if len(size_bytes) < 4 * dimension_count:
        raise _data_error(path, f"is too short for its IDX header ({4 + len(size_bytes)} bytes)")
    shape = struct.unpack(f">{dimension_count}I", size_bytes)
    _check_shape(shape, found_kind, path)

    data_size = math.prod(shape)
    data = _read_bounded(stream, data_size + 1)
    _check_data_size(path, header_size + data_size, header_size + len(data), is_gzip)
    array = np.frombuffer(data, dtype=np.uint8).reshape(shape)
    if found_kind == "labels":
        _check_label_values(array, path)
    return array


def _read_npz_array(archive, file_size, path, key, kind):
    """Read one array of an npz archive, checking its header before its data."""
    where = f" (array {key})"
    try:
        info = archive.getinfo(f"{key}.npy")
    except KeyError:
        present = ", ".join(name[:-4] if name.endswith(".npy") else name
                            for name in archive.namelist()) or "nothing"
        raise _data_error(path, f"has no array {key} (it holds {present}); a Keras-style npz "
                                "holds x_train, y_train, x_test and y_test") from None
    if info.flag_bits & 0x1:  # zipfile would ask for a password (RuntimeError)
        raise _data_error(path, "is encrypted", where)
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise _data_error(path, f"uses an unsupported zip compression method ({info.compress_type})", where)
    if info.header_offset + info.compress_size > file_size:
        raise _data_error(path, "is truncated (the array's data ends after the end of the file)", where)

    with archive.open(info) as stream:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise _data_error(path, f"uses npy format version {version}, expected 1.0 or 2.0", where)
        if dtype.hasobject:
            raise _data_error(path, "holds Python objects, which are never loaded "
                                    "(allow_pickle=False)", where)
        if dtype != np.uint8:
            raise _data_error(path, f"has data type {dtype}, expected uint8", where)
        _check_shape(shape, kind, path, where)
        data_size = math.prod(shape)
        data = _read_bounded(stream, data_size + 1)
    _check_data_size(path, data_size, len(data), is_gzip=False, where=where)

    array = np.frombuffer(data, dtype=np.uint8).reshape(shape, order="F" if fortran_order else "C")
    if kind == "labels":
        _check_label_values(array, path, where)
    return np.ascontiguousarray(array)


def _read_bounded(stream, limit):
    """Read at most ``limit`` bytes, growing the buffer only as data arrives.

    A header may claim any size; reading in chunks means that a false claim
    costs no more memory than the data that is really there.
    """
    data = bytearray()
    while len(data) < limit:
        chunk = stream.read(min(READ_CHUNK_BYTES, limit - len(data)))
        if not chunk:
            break
        data += chunk
    return data


def _check_shape(shape, kind, path, where=""):
    """Check the shape announced by a header, before any data is read."""
    expected_dimensions = IDX_DIMENSIONS[kind]
    if len(shape) != expected_dimensions:
        raise _data_error(path, f"holds {kind} of shape {tuple(shape)}, expected "
                                f"{expected_dimensions} dimension"
                                f"{'s' if expected_dimensions > 1 else ''}", where)
    if shape[0] < 0:
        raise _data_error(path, f"announces a negative number of {kind} ({shape[0]})", where)
    if kind == "images" and tuple(shape[1:]) != IMAGE_SHAPE:
        raise _data_error(path, f"holds images of {shape[1]}x{shape[2]} pixels, expected 28x28", where)


def _check_data_size(path, expected, found, is_gzip, where=""):
    """Compare the bytes read (at most one more than expected) with the header's claim."""
    after = " after decompression" if is_gzip else ""
    if found < expected:
        raise _data_error(path, f"is truncated (expected {expected} bytes{after}, found {found})", where)
    if found > expected:
        raise _data_error(path, f"is longer than its header says (expected {expected} "
                                f"bytes{after}, found more)", where)


def _check_label_values(labels, path, where=""):
    """Check that every label is a class number 0-9."""
    if labels.size and labels.max() >= NUMBER_OF_CLASSES:
        position = int(np.argmax(labels >= NUMBER_OF_CLASSES))
        raise _data_error(path, f"holds label {labels[position]} at position {position}, "
                                f"expected labels 0-9", where)


def _check_same_count(images, labels, path, where):
    """Check that there is one label per image."""
    if len(images) != len(labels):
        raise _data_error(path, f"has {len(images)} images but {len(labels)} labels", where)


def _data_error(path, problem, where=""):
    """A one-line DataError: which file, what is wrong, how to fix it."""
    message = f"{path}{where} {problem}: {_repair_advice(path)}"
    return DataError(message.replace("\r", " ").replace("\n", " "))


def _describe_read_error(error, file_format):
    """Turn an exception from reading a file into the problem part of a message."""
    if isinstance(error, FileNotFoundError):
        return "does not exist"
    if isinstance(error, EOFError):
        return "is truncated (its compressed data ends too early)"
    if isinstance(error, OSError) and error.strerror:
        return f"cannot be read ({error.strerror})"
    detail = str(error)
    if len(detail) > 200:  # Some messages quote a whole (damaged) header.
        detail = detail[:200] + "..."
    if isinstance(error, (zlib.error, gzip.BadGzipFile)):
        return f"has damaged compressed data ({detail})"
    return f"is damaged or not an {file_format} file ({type(error).__name__}: {detail})"


def _repair_advice(path):
    """How to fix a damaged file, depending on where it is."""
    if _is_inside(path, keras_cache_dir()):
        return "delete this cached file so that Keras downloads it again"
    for data_set in _DATA_SETS.values():
        if any(_is_inside(path, folder) for folder in SYSTEM_DATA_DIRS[data_set.name]):
            return f"reinstall it with 'apt install --reinstall {data_set.debian_package}'"
    if _is_inside(path, SAMPLE_DIR):
        return "restore the shipped sample with 'git checkout -- data/samples'"
    return "delete it and download it again"


def _get_data_set(name):
    """The description of a data set; accepts "fashion-mnist" for "fashion_mnist"."""
    key = str(name).strip().lower().replace("-", "_")
    if key not in _DATA_SETS:
        raise DataError(f"Unknown data set {name!r}: choose 'mnist' or 'fashion_mnist'")
    return _DATA_SETS[key]


def _find_in(folder, data_set):
    """``(location, None)`` of a complete data set in ``folder``, or ``(None, what is there)``.

    Tries ``folder/<data set>/`` with the four IDX files (raw or .gz), a
    Keras-style npz in ``folder/<data set>/`` or ``folder/``, then the four IDX
    files in ``folder`` itself.
    """
    if not folder.is_dir():
        return None, "no such folder"
    data_set_folder = folder / data_set.folder
    candidates = [data_set_folder, data_set_folder / data_set.npz_name, folder / data_set.npz_name]
    other_folders = {other.folder for other in _DATA_SETS.values()} - {data_set.folder}
    if folder.name not in other_folders:  # Never take MNIST files for Fashion-MNIST.
        candidates.append(folder)
    notes = []
    for candidate in candidates:
        if candidate.suffix == ".npz":
            if candidate.is_file():
                return _Location(candidate), None
            continue
        idx_files = _idx_files_in(candidate)
        if all(idx_files):
            return _Location(candidate, tuple(idx_files)), None
        if any(idx_files):
            missing = [name for (_, name, _), path in zip(ARRAYS, idx_files) if path is None]
            notes.append(f"{candidate} lacks {', '.join(missing)}")
    return None, "; ".join(notes) or "no data there"


def _idx_files_in(folder):
    """The four IDX files in ``folder`` (raw preferred to .gz), None for each missing one."""
    files = []
    for _, file_name, _ in ARRAYS:
        raw_file, gzip_file = folder / file_name, folder / f"{file_name}.gz"
        files.append(raw_file if raw_file.is_file() else gzip_file if gzip_file.is_file() else None)
    return files


def _read_location(location):
    """Read the data set at ``location`` as ``(x_train, y_train), (x_test, y_test)``."""
    if not location.idx_files:
        return read_npz(location.path)
    arrays = [read_idx(path, kind) for path, (_, _, kind) in zip(location.idx_files, ARRAYS)]
    x_train, y_train, x_test, y_test = arrays
    train_images_file, train_labels_file, test_images_file, test_labels_file = location.idx_files
    _check_same_count(x_train, y_train, train_images_file, f" (with {train_labels_file.name})")
    _check_same_count(x_test, y_test, test_images_file, f" (with {test_labels_file.name})")
    return (x_train, y_train), (x_test, y_test)


def _load_and_report(data_set, location, kind, verbose):
    """Read the data and say where they came from: ``(train, test, Source)``."""
    (x_train, y_train), (x_test, y_test) = _read_location(location)
    is_sample = kind == "sample"
    source = Source(dataset=data_set.name, kind=kind, path=str(location.path),
                    source=(f"shipped sample {_display_path(location.path)}" if is_sample
                            else str(location.path)),
                    n_train=len(x_train), n_test=len(x_test))
    if verbose:
        print(source.line)
    if is_sample:
        print(f"Warning: using the small {data_set.title} sample shipped with the project "
              f"({len(x_train)} train, {len(x_test)} test images instead of {FULL_TRAIN_SIZE} "
              f"and {FULL_TEST_SIZE}), so accuracy will be lower than on the lecture slides; "
              f"to get the full data, {_ways_to_get_data(data_set)}", file=sys.stderr)
    return (x_train, y_train), (x_test, y_test), source


def _ways_to_get_data(data_set):
    """The ways to get the full data set, as the end of a sentence."""
    ways = ["go online so that Keras can download it"]
    if data_set.debian_package:
        ways.append(f"run 'apt install {data_set.debian_package}'")
    ways.append(f"pass --data-dir DIR (or set DNN_DATA_DIR=DIR) where DIR holds "
                f"{_expected_files_text(data_set)}")
    return ", or ".join(ways) + "."


def _expected_files_text(data_set):
    names = ", ".join(file_name for _, file_name, _ in ARRAYS)
    return f"{data_set.folder}/ with the four IDX files ({names}, raw or .gz)"


def _display_path(path):
    """A path relative to the project when inside it, else as it is."""
    path = Path(path)
    return path.relative_to(PROJECT_ROOT).as_posix() if _is_inside(path, PROJECT_ROOT) else str(path)


def _is_inside(path, folder):
    """True when ``path`` is ``folder`` or lies below it (compared as absolute paths)."""
    path, folder = Path(os.path.abspath(path)), Path(os.path.abspath(folder))
    return path == folder or folder in path.parents


def _environment_flag(name):
    """True when the environment variable is set to something other than empty, 0, false or no."""
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def _download(data_set, cache_dir, verbose):
    """Download the data set's missing files into the Keras cache, as Keras would.

    Each file goes to a temporary name in its final folder and is checked;
    only when all files are complete and valid are they renamed into place, so
    a failed download leaves nothing behind, and no existing file is
    replaced.  Returns None on success, else a short reason for the failure.
    """
    import http.client  # Imported here: only a download needs it.

    targets = [cache_dir / name for name in data_set.keras_files if not (cache_dir / name).is_file()]
    downloaded = []  # (temporary file, target) pairs, complete and checked.
    try:
        for target in targets:
            url = DOWNLOAD_URL + target.name
            if verbose:
                print(f"Downloading {url} to {target}", file=sys.stderr)
            downloaded.append((_download_file(url, target), target))
            _check_downloaded_file(*downloaded[-1])
        for temporary, target in downloaded:
            if not target.exists():
                os.replace(temporary, target)
        return None
    except (OSError, http.client.HTTPException, ValueError, DataError) as error:
        reason = " ".join(f"{type(error).__name__}: {error}".split())
        if verbose:
            print(f"Note: could not download {data_set.title}: {reason}", file=sys.stderr)
        return f"failed: {reason}"
    finally:
        for temporary, _ in downloaded:
            temporary.unlink(missing_ok=True)


def _download_file(url, target):
    """Download ``url`` to a new temporary file beside ``target``; return its path."""
    import urllib.request  # Imported here: only a download needs it.

    # The timeout does not cover the lookup of the host's name, which can take
    # half a minute where no DNS server answers; only a first download pays it.
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        temporary = Path(name)
        try:
            with os.fdopen(handle, "wb") as file:
                size = 0
                while chunk := response.read(READ_CHUNK_BYTES):
                    size += len(chunk)
                    if size > MAX_DOWNLOAD_BYTES:
                        raise DataError(f"{url} is larger than {MAX_DOWNLOAD_BYTES} bytes")
                    file.write(chunk)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    return temporary


def _check_downloaded_file(temporary, target):
    """Read a downloaded file completely, so that only valid data is kept."""
    if target.suffix == ".npz":
        read_npz(temporary)
    else:
        kinds = {f"{file_name}.gz": kind for _, file_name, kind in ARRAYS}
        read_idx(temporary, kinds[target.name])
