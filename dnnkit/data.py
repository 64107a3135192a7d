"""Load MNIST and Fashion-MNIST without TensorFlow, online or offline, as Keras's ``load_data()`` does.

The data is looked for in the folder ``data_dir`` (``--data-dir``), else
``$DNN_DATA_DIR``; the Keras cache; Debian's ``dataset-fashion-mnist``; a
download into the Keras cache (unless ``DNN_NO_DOWNLOAD=1``); the small
sample in ``data/samples/``, with a warning (unless refused).  One line says
which source was used.  Every problem with the data is a one-line
``DataError`` that names the file, what is wrong and the fix.  No file that
is already there is ever deleted or overwritten.
"""

import gzip
import io
import math
import os
import sys
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
# An IDX file starts with 0x0000 08 (unsigned bytes) and its number of dimensions.
IDX_MAGIC = {b"\x00\x00\x08\x01": "labels", b"\x00\x00\x08\x03": "images"}

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = PROJECT_ROOT / "data" / "samples"
# Where Debian packages install the data sets (a constant that tests replace).
SYSTEM_DATA_DIRS = {"mnist": (), "fashion_mnist": (Path("/usr/share/datasets/fashion-mnist"),)}
DOWNLOAD_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
DOWNLOAD_TIMEOUT_SECONDS = 5

# What reading a damaged file raises: the system's errors (gzip's too), damaged
# compressed data, a damaged zip (NotImplementedError: unknown compression), and
# numpy's on a bad npy header (ValueError; numpy 1.19 lets tokenize.TokenError
# through).  It guards the reads only, so that a bug in the checks is raised as it is.
_READ_ERRORS = (OSError, EOFError, zlib.error, zipfile.BadZipFile, NotImplementedError,
                ValueError, tokenize.TokenError)


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
        """The line the loader prints."""
        return (f"Data: {_TITLES[self.dataset]} from {self.source} "
                f"({self.n_train} train, {self.n_test} test images)")


_TITLES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}
_FOLDERS = {"mnist": "mnist", "fashion_mnist": "fashion-mnist"}  # under a data directory
_CLASS_NAMES = {"mnist": MNIST_CLASS_NAMES, "fashion_mnist": FASHION_CLASS_NAMES}
_DEBIAN_PACKAGES = {"mnist": "", "fashion_mnist": "dataset-fashion-mnist"}
# The files Keras caches, relative to its datasets folder.
_KERAS_FILES = {"mnist": ("mnist.npz",),
                "fashion_mnist": tuple(f"fashion-mnist/{file}.gz" for _, file, _ in ARRAYS)}


def load_mnist(data_dir=None, allow_sample=None, verbose=True):
    """Load MNIST as ``(x_train, y_train), (x_test, y_test)``."""
    return load_dataset("mnist", data_dir, allow_sample, verbose)


def load_fashion_mnist(data_dir=None, allow_sample=None, verbose=True):
    """Load Fashion-MNIST as ``(x_train, y_train), (x_test, y_test)``."""
    return load_dataset("fashion_mnist", data_dir, allow_sample, verbose)


def load_dataset(name, data_dir=None, allow_sample=None, verbose=True):
    """Load "mnist" or "fashion_mnist" as ``(x_train, y_train), (x_test, y_test)``."""
    train, test, _ = load_dataset_and_source(name, data_dir, allow_sample, verbose)
    return train, test


def load_dataset_and_source(name, data_dir=None, allow_sample=None, verbose=True, download=None):
    """Load "mnist" or "fashion_mnist": ``(x_train, y_train), (x_test, y_test), source``.

    A named folder without the data is an error, not a reason to look elsewhere.
    ``allow_sample=None`` allows the sample unless ``DNN_NO_SAMPLE=1``;
    ``download=None`` downloads unless ``DNN_NO_DOWNLOAD=1``.  ``verbose=False``
    prints nothing (neither the source line nor the sample's warning).
    """
    name = _check_name(name)
    named_dir, named_by = data_dir, "--data-dir"
    if named_dir is None:
        named_dir, named_by = os.environ.get("DNN_DATA_DIR") or None, "DNN_DATA_DIR"
    if named_dir is not None:
        location, note = _find_in(Path(named_dir), name)
        if location is None:
            raise DataError(f"{named_dir} (from {named_by}) holds no {_TITLES[name]} data ({note}): "
                            f"expected {_expected_files(name)}, or {name}.npz; point {named_by} "
                            "at a folder that has them")
        return _load_and_report(name, location, "data_dir", verbose)

    looked = ["DNN_DATA_DIR (not set)"]  # Where we looked, for the message when nothing is found.
    cache_dir = keras_cache_dir()
    places = [(cache_dir, "keras_cache", "the Keras cache")]
    places += [(folder, "system", "the system folder") for folder in SYSTEM_DATA_DIRS[name]]
    for folder, kind, description in places:
        location, note = _find_in(folder, name)
        if location is not None:
            return _load_and_report(name, location, kind, verbose)
        looked.append(f"{description} {folder} ({note})")

    if download is False:
        looked.append("download (not asked for)")
    elif _environment_flag("DNN_NO_DOWNLOAD"):
        looked.append("download (skipped: DNN_NO_DOWNLOAD=1)")
    else:
        failure = _download(name, cache_dir, verbose)
        location, note = _find_in(cache_dir, name) if failure is None else (None, failure)
        if location is not None:
            return _load_and_report(name, location, "download", verbose)
        looked.append(f"download from {DOWNLOAD_URL} ({note})")

    refused_by = "--no-sample"
    if allow_sample is None:
        allow_sample, refused_by = not _environment_flag("DNN_NO_SAMPLE"), "DNN_NO_SAMPLE=1"
    if allow_sample:  # A missing sample is reported by read_npz, with the fix.
        return _load_and_report(name, (SAMPLE_DIR / f"{name}_sample.npz", ()), "sample", verbose)
    looked.append(f"the shipped sample (refused: {refused_by})")
    raise DataError(f"No {_TITLES[name]} data found; looked at: {'; '.join(looked)}. "
                    f"To get the data, {_ways_to_get_data(name)}")


def class_names(name):
    """The ten class names of "mnist" or "fashion_mnist", in label order."""
    return _CLASS_NAMES[_check_name(name)]


def keras_cache_dir():
    """The folder where Keras keeps downloaded data sets: $KERAS_HOME/datasets or ~/.keras/datasets."""
    keras_home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(keras_home) / "datasets"


def read_idx(path, kind=None):
    """One IDX file, raw or gzip (told by its first bytes): uint8 images (N, 28, 28) or labels (N,).

    ``kind`` ("images" or "labels") checks which of the two the file holds.
    """
    path = Path(path)
    try:
        content = path.read_bytes()
        is_gzip = content[:2] == b"\x1f\x8b"
        if is_gzip:
            content = gzip.decompress(content)
    except _READ_ERRORS as error:
        raise _data_error(path, _describe_read_error(error, "IDX")) from None
    found_kind = IDX_MAGIC.get(content[:4])
    if found_kind is None:
        raise _data_error(path, f"is not an IDX file (it starts with 0x{content[:4].hex()}, expected "
                                "0x00000801 for labels or 0x00000803 for images)")
    if kind is not None and found_kind != kind:
        raise _data_error(path, f"holds {found_kind}, expected {kind} (are two files swapped?)")
    header_size = 8 if found_kind == "labels" else 16
    if len(content) < header_size:
        raise _data_error(path, f"is truncated (its IDX header needs {header_size} bytes, "
                                f"found {len(content)})")
    shape = tuple(int.from_bytes(content[start:start + 4], "big") for start in range(4, header_size, 4))
    return _to_array(content, header_size, shape, False, found_kind, path,
                     after=" after decompression" if is_gzip else "")


def read_npz(path):
    """A Keras-style npz (x_train, y_train, x_test, y_test): ``(x_train, y_train), (x_test, y_test)``.

    Never unpickles; each array's header is checked before its data are used.
    """
    path = Path(path)
    members = []  # (key, kind, npy header, the member's bytes, where its data start)
    try:
        file_size = path.stat().st_size
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            for key, _, kind in ARRAYS:
                if f"{key}.npy" not in names:
                    present = ", ".join(name[:-4] if name.endswith(".npy") else name for name in names)
                    raise _data_error(path, f"has no array {key} (it holds {present or 'nothing'}); a "
                                            "Keras-style npz holds x_train, y_train, x_test and y_test")
                info = archive.getinfo(f"{key}.npy")
                if info.flag_bits & 0x1:  # zipfile would ask for a password
                    raise _data_error(path, "is encrypted", f" (array {key})")
                if info.header_offset + info.compress_size > file_size:
                    raise _data_error(path, "is truncated (the array's data ends after the end "
                                            "of the file)", f" (array {key})")
                stream = io.BytesIO(archive.read(info))
                version = np.lib.format.read_magic(stream)
                read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                               (2, 0): np.lib.format.read_array_header_2_0}.get(version)
                if read_header is None:
                    raise _data_error(path, f"uses npy format version {version}, expected 1.0 "
                                            "or 2.0", f" (array {key})")
                members.append((key, kind, read_header(stream), stream.getvalue(), stream.tell()))
    except zipfile.BadZipFile as error:
        with open(path, "rb") as file:  # A half-downloaded npz lacks the directory at its end.
            if file.read(4) == b"PK\x03\x04":
                raise _data_error(path, "is truncated (the zip archive has no end)") from None
        raise _data_error(path, _describe_read_error(error, "npz")) from None
    except _READ_ERRORS as error:
        raise _data_error(path, _describe_read_error(error, "npz")) from None

    arrays = []
    for key, kind, (shape, fortran_order, dtype), content, offset in members:
        if dtype != np.uint8:
            raise _data_error(path, f"has data type {dtype}, expected uint8", f" (array {key})")
        arrays.append(_to_array(content, offset, shape, fortran_order, kind, path, f" (array {key})"))
    x_train, y_train, x_test, y_test = arrays
    _check_same_count(x_train, y_train, path, " (arrays x_train and y_train)")
    _check_same_count(x_test, y_test, path, " (arrays x_test and y_test)")
    return (x_train, y_train), (x_test, y_test)


def _to_array(content, offset, shape, fortran_order, kind, path, where="", after=""):
    """The uint8 array of ``shape`` at ``offset`` in ``content``, checked: shape, size, labels 0-9.

    The shape and size a header announces are checked before any array is made.
    """
    per_item = IMAGE_SHAPE if kind == "images" else ()
    if len(shape) != 1 + len(per_item) or tuple(shape[1:]) != per_item or shape[0] < 0:
        expected_shape = "(N, 28, 28)" if kind == "images" else "(N,)"
        raise _data_error(path, f"holds {kind} of shape {tuple(shape)}, expected {expected_shape}",
                          where)
    expected, found = offset + math.prod(shape), len(content)
    if found != expected:
        problem = "is truncated" if found < expected else "is longer than its header says"
        raise _data_error(path, f"{problem} (expected {expected} bytes{after}, found {found})", where)
    array = np.frombuffer(content, np.uint8, math.prod(shape), offset)
    array = array.reshape(shape, order="F" if fortran_order else "C").copy(order="C")
    if kind == "labels" and array.size and array.max() >= NUMBER_OF_CLASSES:
        position = int(np.argmax(array >= NUMBER_OF_CLASSES))
        raise _data_error(path, f"holds label {array[position]} at position {position}, "
                                "expected labels 0-9", where)
    return array


def _check_same_count(images, labels, path, where):
    if len(images) != len(labels):
        raise _data_error(path, f"has {len(images)} images but {len(labels)} labels", where)


def _data_error(path, problem, where=""):
    """A one-line DataError: which file, what is wrong, how to fix it."""
    return DataError(" ".join(f"{path}{where} {problem}: {_repair_advice(path)}".splitlines()))


def _describe_read_error(error, file_format):
    """What is wrong with a file, from the exception that reading it raised."""
    if isinstance(error, FileNotFoundError):
        return "does not exist"
    if isinstance(error, EOFError):
        return "is truncated (its compressed data ends too early)"
    detail = str(error)[:200]  # Some messages quote a whole (damaged) header.
    return f"is damaged, unreadable or not an {file_format} file ({type(error).__name__}: {detail})"


def _repair_advice(path):
    """How to fix a damaged file, depending on where it is."""
    if _is_inside(path, keras_cache_dir()):
        return "delete this cached file so that Keras downloads it again"
    for name, folders in SYSTEM_DATA_DIRS.items():
        if any(_is_inside(path, folder) for folder in folders):
            return f"reinstall it with 'apt install --reinstall {_DEBIAN_PACKAGES[name]}'"
    if _is_inside(path, SAMPLE_DIR):
        return "restore the shipped sample with 'git checkout -- data/samples'"
    return "delete it and download it again"


def _check_name(name):
    """The data set's name; accepts "fashion-mnist" for "fashion_mnist"."""
    key = str(name).strip().lower().replace("-", "_")
    if key not in _TITLES:
        raise DataError(f"Unknown data set {name!r}: choose 'mnist' or 'fashion_mnist'")
    return key


def _find_in(folder, name):
    """``((path, idx_files), None)`` for the data set in ``folder``, else ``(None, what is there)``.

    Tries the four IDX files (raw or .gz) in ``folder/<data set>/``, an npz there
    or in ``folder``, then IDX files in ``folder``; ``idx_files`` is () for an npz.
    """
    if not folder.is_dir():
        return None, "no such folder"
    data_set_folder = folder / _FOLDERS[name]
    candidates = [data_set_folder, data_set_folder / f"{name}.npz", folder / f"{name}.npz"]
    if folder.name not in set(_FOLDERS.values()) - {_FOLDERS[name]}:
        candidates.append(folder)  # Never take MNIST files for Fashion-MNIST.
    notes = []
    for candidate in candidates:
        if candidate.suffix == ".npz":
            if candidate.is_file():
                return (candidate, ()), None
            continue
        files = [candidate / file if (candidate / file).is_file() else candidate / f"{file}.gz"
                 for _, file, _ in ARRAYS]  # Raw files before compressed ones.
        missing = [file for (_, file, _), path in zip(ARRAYS, files) if not path.is_file()]
        if not missing:
            return (candidate, tuple(files)), None
        if len(missing) < len(ARRAYS):
            notes.append(f"{candidate} lacks {', '.join(missing)}")
    return None, "; ".join(notes) or "no data there"


def _load_and_report(name, location, kind, verbose):
    """Read the data found by ``_find_in`` and say where they came from: ``(train, test, Source)``."""
    path, idx_files = location
    if idx_files:
        x_train, y_train, x_test, y_test = (read_idx(file, array_kind)
                                            for file, (_, _, array_kind) in zip(idx_files, ARRAYS))
        _check_same_count(x_train, y_train, idx_files[0], f" (with {idx_files[1].name})")
        _check_same_count(x_test, y_test, idx_files[2], f" (with {idx_files[3].name})")
    else:
        (x_train, y_train), (x_test, y_test) = read_npz(path)
    shown = f"shipped sample {path.relative_to(PROJECT_ROOT).as_posix()}" if kind == "sample" else path
    source = Source(dataset=name, source=str(shown), kind=kind, path=str(path),
                    n_train=len(x_train), n_test=len(x_test))
    if verbose:
        print(source.line)
    if source.is_sample and verbose:
        print(f"Warning: using the small {_TITLES[name]} sample shipped with the project "
              f"({len(x_train)} train, {len(x_test)} test images instead of {FULL_TRAIN_SIZE} "
              f"and {FULL_TEST_SIZE}), so accuracy will be lower than on the lecture slides; "
              f"to get the full data, {_ways_to_get_data(name)}", file=sys.stderr)
    return (x_train, y_train), (x_test, y_test), source


def ways_to_get_data(name):
    """The ways to get the full "mnist" or "fashion_mnist", as the end of a sentence."""
    return _ways_to_get_data(_check_name(name))


def _ways_to_get_data(name):
    """The ways to get the full data set, as the end of a sentence."""
    ways = ["go online so that Keras can download it"]
    if _DEBIAN_PACKAGES[name]:
        ways.append(f"run 'apt install {_DEBIAN_PACKAGES[name]}'")
    ways.append(f"pass --data-dir DIR (or set DNN_DATA_DIR=DIR) where DIR holds {_expected_files(name)}")
    return ", or ".join(ways) + "."


def _expected_files(name):
    files = ", ".join(file for _, file, _ in ARRAYS)
    return f"{_FOLDERS[name]}/ with the four IDX files ({files}, raw or .gz)"


def _is_inside(path, folder):
    """True when ``path`` is ``folder`` or lies below it (compared as absolute paths)."""
    path, folder = Path(os.path.abspath(path)), Path(os.path.abspath(folder))
    return path == folder or folder in path.parents


def _environment_flag(name):
    """True when the environment variable is set to something other than empty, 0, false or no."""
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def _download(name, cache_dir, verbose):
    """Download the missing files into the Keras cache: None, or why it failed.

    Each file goes to a temporary file beside its target and is read back; only
    when all are valid are they renamed into place: a failure leaves nothing.
    """
    import http.client  # Imported here: only a download needs them.
    import shutil
    import tempfile
    import urllib.request

    targets = [cache_dir / file for file in _KERAS_FILES[name] if not (cache_dir / file).is_file()]
    temporaries = []
    try:
        for target in targets:
            url = DOWNLOAD_URL + target.name
            if verbose:
                print(f"Downloading {url} to {target}", file=sys.stderr)
            # The timeout does not cover the lookup of the host's name, which can take
            # half a minute where no DNS server answers; only a first download pays it.
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
                target.parent.mkdir(parents=True, exist_ok=True)
                handle, temporary = tempfile.mkstemp(".part", f".{target.name}.", target.parent)
                temporaries.append(Path(temporary))
                with os.fdopen(handle, "wb") as file:
                    shutil.copyfileobj(response, file)
            if target.suffix == ".npz":
                read_npz(temporary)
            else:
                read_idx(temporary, "labels" if "labels" in target.name else "images")
        for temporary, target in zip(temporaries, targets):
            if not target.exists():
                os.replace(temporary, target)
        return None
    except (OSError, http.client.HTTPException, ValueError, DataError) as error:
        reason = " ".join(f"{type(error).__name__}: {error}".split())
        if verbose:
            print(f"Note: could not download {_TITLES[name]}: {reason}", file=sys.stderr)
        return f"failed: {reason}"
    finally:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)
