"""Tests of dnnkit.data: the IDX and npz readers, the lookup order, the shipped
samples, the download into the Keras cache, and (with DNN_DATA_DIR set) the
full data sets.  No test needs the network: downloads are switched off or go
to a fake ``urlopen``.
"""

import gzip
import hashlib
import io
import os
import re
import struct
import subprocess
import sys
import tracemalloc
import urllib.error
import zipfile
from pathlib import Path

import numpy as np
import pytest

from dnnkit import data
from dnnkit.errors import DataError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
IDX_NAMES = [file_name for _, file_name, _ in data.ARRAYS]
NPZ_KEYS = [key for key, _, _ in data.ARRAYS]

# SHA-256 of the decompressed IDX files, from /work/shared/data/README.md; used
# when $DNN_DATA_DIR has no README.md to read them from.
FULL_DATA_SHA256 = {
    "mnist/train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "mnist/train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "mnist/t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "mnist/t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    "fashion-mnist/train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "fashion-mnist/train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "fashion-mnist/t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "fashion-mnist/t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}


# ---------------------------------------------------------------------------
# Helpers that make small synthetic data sets
# ---------------------------------------------------------------------------

def idx_bytes(array):
    """The IDX encoding of a uint8 array: magic, one big-endian size per dimension, data."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_file(path, content, compress=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(content) if compress else content)
    return path


def make_arrays(train_count, test_count, seed=0):
    """Random images and labels, keyed like a Keras npz."""
    generator = np.random.default_rng(seed)
    return {
        "x_train": generator.integers(0, 256, (train_count, 28, 28), dtype=np.uint8),
        "y_train": generator.integers(0, 10, train_count, dtype=np.uint8),
        "x_test": generator.integers(0, 256, (test_count, 28, 28), dtype=np.uint8),
        "y_test": generator.integers(0, 10, test_count, dtype=np.uint8),
    }


def write_idx_folder(folder, arrays, compress=True):
    """Write the four IDX files of a data set into ``folder``."""
    for key, file_name, _ in data.ARRAYS:
        write_file(folder / (file_name + (".gz" if compress else "")), idx_bytes(arrays[key]), compress)
    return folder


def write_npz(path, arrays, compressed=True):
    path.parent.mkdir(parents=True, exist_ok=True)
    (np.savez_compressed if compressed else np.savez)(path, **arrays)
    return path


def assert_arrays_equal(loaded, arrays):
    (x_train, y_train), (x_test, y_test) = loaded
    for key, array in zip(NPZ_KEYS, (x_train, y_train, x_test, y_test)):
        assert array.dtype == np.uint8
        np.testing.assert_array_equal(array, arrays[key])


def snapshot(folder):
    """Content and modification time of every file under ``folder``."""
    return {
        path: (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(Path(folder).rglob("*")) if path.is_file()
    }


def read_error(function, *arguments, **keywords):
    """Call ``function``, expect a DataError, check it is one line, return its message."""
    with pytest.raises(DataError) as raised:
        function(*arguments, **keywords)
    message = str(raised.value)
    assert "\n" not in message and "\r" not in message
    return message


@pytest.fixture
def places(tmp_path, monkeypatch):
    """An environment with empty data places, no network and no DNN_* settings.

    Returns a dict of the folders: data_dir (not set anywhere), keras (the
    Keras cache, via KERAS_HOME), home, and system (the Fashion-MNIST system
    folder).
    """
    folders = {
        "data_dir": tmp_path / "data",
        "keras": tmp_path / "keras_home" / "datasets",
        "home": tmp_path / "home",
        "system": tmp_path / "system" / "fashion-mnist",
    }
    folders["home"].mkdir()
    for name in ("DNN_DATA_DIR", "DNN_NO_SAMPLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DNN_NO_DOWNLOAD", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setenv("HOME", str(folders["home"]))
    monkeypatch.setattr(data, "SYSTEM_DATA_DIRS", {"mnist": (), "fashion_mnist": (folders["system"],)})
    return folders


# ---------------------------------------------------------------------------
# read_idx
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
def test_read_idx_reads_images_and_labels(tmp_path, compress):
    arrays = make_arrays(5, 0)
    images = data.read_idx(write_file(tmp_path / "images", idx_bytes(arrays["x_train"]), compress))
    labels = data.read_idx(write_file(tmp_path / "labels", idx_bytes(arrays["y_train"]), compress), "labels")
    np.testing.assert_array_equal(images, arrays["x_train"])
    np.testing.assert_array_equal(labels, arrays["y_train"])
    assert images.dtype == labels.dtype == np.uint8
    assert images.flags.writeable  # Like Keras's arrays, ours can be changed in place.


def test_read_idx_detects_gzip_by_content_not_by_name(tmp_path):
    labels = np.array([3, 1, 4], dtype=np.uint8)
    packed_without_suffix = write_file(tmp_path / "labels-idx1-ubyte", idx_bytes(labels), compress=True)
    raw_with_gz_suffix = write_file(tmp_path / "labels-idx1-ubyte.gz", idx_bytes(labels), compress=False)
    np.testing.assert_array_equal(data.read_idx(packed_without_suffix), labels)
    np.testing.assert_array_equal(data.read_idx(raw_with_gz_suffix), labels)


def test_read_idx_reports_truncated_raw_file_with_sizes(tmp_path):
    content = idx_bytes(make_arrays(10, 0)["x_train"])
    path = write_file(tmp_path / "train-images-idx3-ubyte", content[:1000])
    message = read_error(data.read_idx, path)
    assert message.startswith(str(path))
    assert f"is truncated (expected {len(content)} bytes, found 1000)" in message
    assert "download it again" in message


def test_read_idx_reports_cut_off_gzip_stream(tmp_path):
    packed = gzip.compress(idx_bytes(make_arrays(10, 0)["x_train"]))
    path = write_file(tmp_path / "train-images-idx3-ubyte.gz", packed[: len(packed) // 2])
    message = read_error(data.read_idx, path)
    assert str(path) in message and "truncated" in message


def test_read_idx_reports_gzip_file_of_truncated_data(tmp_path):
    content = idx_bytes(make_arrays(10, 0)["x_train"])
    path = write_file(tmp_path / "images.gz", content[:500], compress=True)
    message = read_error(data.read_idx, path)
    assert f"is truncated (expected {len(content)} bytes after decompression, found 500)" in message


def test_read_idx_reports_bytes_beyond_the_header_size(tmp_path):
    path = write_file(tmp_path / "labels", idx_bytes(np.zeros(4, np.uint8)) + b"\x00")
    assert "longer than its header says (expected 12 bytes" in read_error(data.read_idx, path)


def test_read_idx_reports_damaged_gzip_checksum(tmp_path):
    packed = bytearray(gzip.compress(idx_bytes(np.zeros(4, np.uint8))))
    packed[-8] ^= 0xFF  # The CRC-32 in the gzip trailer.
    path = write_file(tmp_path / "labels.gz", bytes(packed))
    assert "is damaged, unreadable or not an IDX file (BadGzipFile: CRC check failed" in read_error(data.read_idx, path)


def test_read_idx_reports_damaged_gzip_length(tmp_path):
    packed = bytearray(gzip.compress(idx_bytes(np.zeros(4, np.uint8))))
    packed[-1] ^= 0xFF  # The length (ISIZE) in the gzip trailer.
    path = write_file(tmp_path / "labels.gz", bytes(packed))
    assert "is damaged, unreadable or not an IDX file (BadGzipFile: Incorrect length" in read_error(data.read_idx, path)


def test_read_idx_reads_concatenated_gzip_members_like_gzipfile(tmp_path):
    content = idx_bytes(make_arrays(10, 0)["x_train"])
    packed = gzip.compress(content[:100]) + gzip.compress(content[100:]) + bytes(8)  # zero padding
    assert gzip.decompress(packed) == content
    path = write_file(tmp_path / "images.gz", packed)
    np.testing.assert_array_equal(data.read_idx(path), make_arrays(10, 0)["x_train"])
    # Anything else after the members is damage, as for gzip.GzipFile.
    path = write_file(tmp_path / "garbage.gz", packed + b"garbage")
    assert "is damaged, unreadable or not an IDX file (BadGzipFile" in read_error(data.read_idx, path)


@pytest.mark.parametrize("reader, error", [("read_idx", TypeError), ("read_npz", KeyError),
                                           ("read_npz", IndexError)])
def test_a_bug_in_the_reader_is_raised_not_reported_as_a_damaged_file(tmp_path, monkeypatch,
                                                                       reader, error):
    """A programming error must not become "file damaged, delete it": it is raised as it is."""
    def buggy_check(*arguments, **keywords):
        raise error("a bug in dnnkit")

    monkeypatch.setattr(data, "_to_array", buggy_check)
    path = (write_file(tmp_path / "images", idx_bytes(make_arrays(2, 1)["x_train"]))
            if reader == "read_idx" else write_npz(tmp_path / "mnist.npz", make_arrays(2, 1)))
    with pytest.raises(error, match="a bug in dnnkit"):
        getattr(data, reader)(path)


@pytest.mark.parametrize("header, expected_words", [
    (struct.pack(">I", 0x12345678), "is not an IDX file (it starts with 0x12345678"),
    (struct.pack(">BBBB", 0, 0, 0x0D, 1), "is not an IDX file (it starts with 0x00000d01, expected "
                                          "0x00000801 for labels or 0x00000803 for images)"),
    (struct.pack(">BBBBII", 0, 0, 0x08, 2, 1, 1), "is not an IDX file (it starts with 0x00000802"),
    (struct.pack(">BBBBIII", 0, 0, 0x08, 3, 1, 32, 32) + bytes(1024),
     "holds images of shape (1, 32, 32), expected (N, 28, 28)"),
    (b"\x00\x00", "is not an IDX file (it starts with 0x0000,"),
    (struct.pack(">BBBBI", 0, 0, 0x08, 3, 1), "is truncated (its IDX header needs 16 bytes, found 8)"),
], ids=["bad-magic", "not-unsigned-bytes", "two-dimensions", "32x32-images", "short-magic", "short-sizes"])
def test_read_idx_rejects_bad_headers(tmp_path, header, expected_words):
    path = write_file(tmp_path / "file", header)
    message = read_error(data.read_idx, path)
    assert expected_words in message and message.startswith(str(path))


def test_read_idx_rejects_labels_out_of_range(tmp_path):
    path = write_file(tmp_path / "labels", idx_bytes(np.array([1, 9, 10, 3], np.uint8)))
    assert "holds label 10 at position 2, expected labels 0-9" in read_error(data.read_idx, path)


def test_read_idx_checks_the_expected_kind(tmp_path):
    path = write_file(tmp_path / "train-images-idx3-ubyte", idx_bytes(np.zeros(4, np.uint8)))
    assert "holds labels, expected images" in read_error(data.read_idx, path, "images")


def test_read_idx_reports_missing_file(tmp_path):
    assert "does not exist" in read_error(data.read_idx, tmp_path / "nothing-here")


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
def test_read_idx_huge_header_fails_fast_without_allocating(tmp_path, compress):
    header = struct.pack(">BBBBIII", 0, 0, 0x08, 3, 0xFFFFFFFF, 28, 28)  # Claims 3.4 TB of images.
    path = write_file(tmp_path / "images", header + bytes(1000), compress)
    tracemalloc.start()
    try:
        message = read_error(data.read_idx, path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20
    assert f"expected {16 + 0xFFFFFFFF * 784} bytes" in message and "found 1016" in message


# ---------------------------------------------------------------------------
# read_npz
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("compressed", [False, True], ids=["savez", "savez_compressed"])
def test_read_npz_reads_keras_style_archive(tmp_path, compressed):
    arrays = make_arrays(6, 4)
    assert_arrays_equal(data.read_npz(write_npz(tmp_path / "mnist.npz", arrays, compressed)), arrays)


def test_read_npz_refuses_object_arrays(tmp_path):
    arrays = make_arrays(2, 2)
    arrays["y_train"] = np.array([1, "two"], dtype=object)
    path = write_npz(tmp_path / "mnist.npz", arrays)
    message = read_error(data.read_npz, path)
    assert "(array y_train) has data type object, expected uint8" in message


def test_read_npz_calls_a_half_downloaded_archive_truncated(tmp_path):
    path = write_npz(tmp_path / "mnist.npz", make_arrays(6, 4))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert "is truncated (the zip archive has no end)" in read_error(data.read_npz, path)


def test_read_npz_names_missing_arrays(tmp_path):
    arrays = make_arrays(2, 2)
    del arrays["x_test"]
    message = read_error(data.read_npz, write_npz(tmp_path / "mnist.npz", arrays))
    assert "has no array x_test (it holds x_train, y_train, y_test)" in message


@pytest.mark.parametrize("key, bad_array, expected_words", [
    ("x_train", np.zeros((2, 28, 28), np.float32), "(array x_train) has data type float32, expected uint8"),
    ("x_train", np.zeros((2, 32, 32), np.uint8), "(array x_train) holds images of shape (2, 32, 32), expected (N, 28, 28)"),
    ("y_train", np.zeros((2, 1), np.uint8), "(array y_train) holds labels of shape (2, 1)"),
    ("y_train", np.array([0, 12], np.uint8), "(array y_train) holds label 12 at position 1"),
    ("y_train", np.zeros(3, np.uint8), "(arrays x_train and y_train) has 2 images but 3 labels"),
], ids=["float-images", "32x32-images", "2d-labels", "label-12", "count-mismatch"])
def test_read_npz_rejects_wrong_arrays(tmp_path, key, bad_array, expected_words):
    arrays = make_arrays(2, 2)
    arrays[key] = bad_array
    assert expected_words in read_error(data.read_npz, write_npz(tmp_path / "mnist.npz", arrays))


def test_read_npz_rejects_non_zip_and_truncated_files(tmp_path):
    not_zip = write_file(tmp_path / "text.npz", b"this is not an npz file")
    assert "is damaged, unreadable or not an npz file (BadZipFile" in read_error(data.read_npz, not_zip)
    content = write_npz(tmp_path / "whole.npz", make_arrays(20, 5)).read_bytes()
    truncated = write_file(tmp_path / "truncated.npz", content[: len(content) // 2])
    assert str(truncated) in read_error(data.read_npz, truncated)


def test_read_npz_huge_shape_fails_without_allocating(tmp_path):
    arrays = make_arrays(2, 2)
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for key, array in arrays.items():
            if key == "x_train":  # A header that claims 3.4 TB of images, with 2 images of data.
                header = {"descr": "|u1", "fortran_order": False, "shape": (0xFFFFFFFF, 28, 28)}
                stream = io.BytesIO()
                np.lib.format.write_array_header_1_0(stream, header)
                archive.writestr("x_train.npy", stream.getvalue() + array.tobytes())
            else:
                stream = io.BytesIO()
                np.lib.format.write_array(stream, array)
                archive.writestr(f"{key}.npy", stream.getvalue())
    tracemalloc.start()
    try:
        message = read_error(data.read_npz, path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20
    assert "(array x_train) is truncated" in message


# ---------------------------------------------------------------------------
# Where the loader looks, in which order
# ---------------------------------------------------------------------------

def test_lookup_order_data_dir_then_keras_cache_then_system_then_sample(places, capsys):
    write_idx_folder(places["data_dir"] / "fashion-mnist", make_arrays(7, 3, seed=1))
    write_idx_folder(places["keras"] / "fashion-mnist", make_arrays(6, 3, seed=2))
    write_idx_folder(places["system"], make_arrays(5, 3, seed=3))

    expected = [
        (places["data_dir"], "data_dir", 7, places["data_dir"] / "fashion-mnist"),
        (None, "keras_cache", 6, places["keras"] / "fashion-mnist"),
        (None, "system", 5, places["system"]),
    ]
    for data_dir, kind, train_count, path in expected:
        (x_train, _), _, source = data.load_dataset_and_source("fashion_mnist", data_dir=data_dir)
        assert (len(x_train), source.kind, source.path) == (train_count, kind, str(path))
        assert capsys.readouterr().out == f"Data: Fashion-MNIST from {path} ({train_count} train, 3 test images)\n"
        for file in path.iterdir():  # Take this source away: the next one must be used.
            file.unlink()

    (x_train, _), _, source = data.load_dataset_and_source("fashion_mnist")
    assert source.kind == "sample" and len(x_train) == 3000


def test_data_dir_argument_beats_environment_variable(places, monkeypatch, tmp_path):
    write_idx_folder(places["data_dir"] / "mnist", make_arrays(4, 2))
    write_idx_folder(tmp_path / "other" / "mnist", make_arrays(9, 2))
    monkeypatch.setenv("DNN_DATA_DIR", str(tmp_path / "other"))
    (x_train, _), _, source = data.load_dataset_and_source("mnist", verbose=False)
    assert len(x_train) == 9 and source.kind == "data_dir"
    (x_train, _), _ = data.load_mnist(data_dir=places["data_dir"], verbose=False)
    assert len(x_train) == 4


@pytest.mark.parametrize("layout", ["folder-raw", "folder-gzip", "dir-itself", "npz", "npz-in-folder"])
def test_data_dir_layouts(places, layout):
    arrays, data_dir = make_arrays(4, 2), places["data_dir"]
    expected_path = {
        "folder-raw": lambda: write_idx_folder(data_dir / "mnist", arrays, compress=False),
        "folder-gzip": lambda: write_idx_folder(data_dir / "mnist", arrays, compress=True),
        "dir-itself": lambda: write_idx_folder(data_dir, arrays),
        "npz": lambda: write_npz(data_dir / "mnist.npz", arrays),
        "npz-in-folder": lambda: write_npz(data_dir / "mnist" / "mnist.npz", arrays),
    }[layout]()
    *loaded, source = data.load_dataset_and_source("mnist", data_dir=data_dir, verbose=False)
    assert_arrays_equal(loaded, arrays)
    assert source.path == str(expected_path)


def test_named_folder_without_data_is_an_error_not_a_fall_through(places, monkeypatch):
    write_npz(places["keras"] / "mnist.npz", make_arrays(4, 2))  # Would be found next; must not be.
    places["data_dir"].mkdir()
    message = read_error(data.load_mnist, data_dir=places["data_dir"])
    assert f"{places['data_dir']} (from --data-dir) holds no MNIST data" in message
    monkeypatch.setenv("DNN_DATA_DIR", str(places["data_dir"] / "missing"))
    assert "(from DNN_DATA_DIR) holds no MNIST data (no such folder)" in read_error(data.load_mnist)


def test_named_folder_with_some_files_names_the_missing_ones(places):
    folder = write_idx_folder(places["data_dir"] / "mnist", make_arrays(4, 2))
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    assert f"{folder} lacks t10k-labels-idx1-ubyte" in read_error(data.load_mnist, data_dir=places["data_dir"])


def test_mnist_folder_is_not_taken_for_fashion_mnist(places):
    mnist_folder = write_idx_folder(places["data_dir"] / "mnist", make_arrays(4, 2))
    assert "holds no Fashion-MNIST data" in read_error(data.load_fashion_mnist, data_dir=mnist_folder)


def test_keras_cache_is_found_under_home_without_keras_home(places, monkeypatch):
    monkeypatch.delenv("KERAS_HOME")
    arrays = make_arrays(4, 2)
    path = write_npz(places["home"] / ".keras" / "datasets" / "mnist.npz", arrays)
    *loaded, source = data.load_dataset_and_source("mnist", verbose=False)
    assert_arrays_equal(loaded, arrays)
    assert source.kind == "keras_cache" and source.path == str(path)


def test_images_and_labels_files_must_match_in_count(places):
    arrays = make_arrays(4, 2)
    arrays["y_train"] = arrays["y_train"][:3]
    folder = write_idx_folder(places["data_dir"] / "mnist", arrays)
    message = read_error(data.load_mnist, data_dir=places["data_dir"])
    assert f"{folder / 'train-images-idx3-ubyte.gz'} (with train-labels-idx1-ubyte.gz) has 4 images but 3 labels" in message


# ---------------------------------------------------------------------------
# The shipped sample, the message when nothing is found, never touching files
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name, title", [("mnist", "MNIST"), ("fashion_mnist", "Fashion-MNIST")])
def test_falls_back_to_shipped_sample_with_one_warning_line(places, capsys, name, title):
    (x_train, y_train), (x_test, y_test), source = data.load_dataset_and_source(name)
    assert (x_train.shape, y_train.shape, x_test.shape, y_test.shape) == ((3000, 28, 28), (3000,), (1000, 28, 28), (1000,))
    captured = capsys.readouterr()
    assert captured.out == f"Data: {title} from shipped sample data/samples/{name}_sample.npz (3000 train, 1000 test images)\n"
    warning_lines = captured.err.splitlines()
    assert len(warning_lines) == 1 and warning_lines[0].startswith("Warning:")
    assert "3000 train, 1000 test images" in warning_lines[0] and "accuracy will be lower" in warning_lines[0]
    assert "DNN_DATA_DIR" in warning_lines[0]
    assert source == data.Source(
        dataset=name, source=f"shipped sample data/samples/{name}_sample.npz", kind="sample",
        path=str(data.SAMPLE_DIR / f"{name}_sample.npz"), n_train=3000, n_test=1000)
    assert source.is_sample and captured.out == source.line + "\n"


@pytest.mark.parametrize("refuse_by", ["argument", "environment"])
def test_refused_sample_gives_one_line_listing_places_and_remedies(places, monkeypatch, refuse_by):
    if refuse_by == "environment":
        monkeypatch.setenv("DNN_NO_SAMPLE", "1")
    message = read_error(data.load_fashion_mnist, allow_sample=False if refuse_by == "argument" else None)
    assert message.startswith("No Fashion-MNIST data found; looked at: DNN_DATA_DIR (not set)")
    for place in (places["keras"], places["system"], "DNN_NO_DOWNLOAD=1"):
        assert str(place) in message
    assert ("--no-sample" if refuse_by == "argument" else "DNN_NO_SAMPLE=1") in message
    for remedy in ("go online so that Keras can download it", "apt install dataset-fashion-mnist",
                   "--data-dir DIR", "DNN_DATA_DIR=DIR"):
        assert remedy in message


def test_missing_sample_says_how_to_restore_it(places, monkeypatch, tmp_path):
    monkeypatch.setattr(data, "SAMPLE_DIR", tmp_path / "samples")
    message = read_error(data.load_mnist)
    assert message == (f"{tmp_path / 'samples' / 'mnist_sample.npz'} does not exist: "
                       "restore the shipped sample with 'git checkout -- data/samples'")


def test_npz_member_without_the_npy_suffix_is_missing(tmp_path):
    path = write_npz(tmp_path / "mnist.npz", make_arrays(2, 2))
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("x_test", b"not an array")
    with zipfile.ZipFile(path) as archive, zipfile.ZipFile(tmp_path / "renamed.npz", "w") as renamed:
        for name in archive.namelist():
            if name != "x_test.npy":
                renamed.writestr(name, archive.read(name))
    message = read_error(data.read_npz, tmp_path / "renamed.npz")
    assert "has no array x_test (it holds x_train, y_train, y_test, x_test)" in message


def test_refused_mnist_sample_does_not_suggest_the_fashion_package(places):
    message = read_error(data.load_mnist, allow_sample=False)
    assert "go online" in message and "--data-dir DIR" in message and "apt install" not in message


def test_loader_never_modifies_a_damaged_user_file(places):
    folder = write_idx_folder(places["data_dir"] / "mnist", make_arrays(4, 2), compress=False)
    damaged = folder / "train-images-idx3-ubyte"
    damaged.write_bytes(damaged.read_bytes()[:100])
    before = snapshot(places["data_dir"])
    message = read_error(data.load_mnist, data_dir=places["data_dir"])
    assert message.startswith(f"{damaged} is truncated")
    assert snapshot(places["data_dir"]) == before


def test_damaged_keras_cache_file_is_reported_not_replaced(places, monkeypatch):
    cached = write_file(places["keras"] / "mnist.npz", b"PK\x03\x04 but not really a zip")
    before = snapshot(places["keras"])
    monkeypatch.delenv("DNN_NO_DOWNLOAD")
    monkeypatch.setattr("urllib.request.urlopen", lambda *arguments, **keywords: pytest.fail("no download expected"))
    message = read_error(data.load_mnist)
    assert message.startswith(str(cached)) and "delete this cached file so that Keras downloads it again" in message
    assert snapshot(places["keras"]) == before


def test_repair_advice_depends_on_the_folder_the_file_is_in(places):
    """Only a file inside the Keras cache (not beside it) is one Keras downloads again."""
    beside = write_file(places["keras"].parent / "datasets-old" / "mnist.npz", b"not a zip")
    message = read_error(data.read_npz, beside)
    assert "delete it and download it again" in message and "cached" not in message
    inside = write_file(places["keras"] / "deeper" / "mnist.npz", b"not a zip")
    assert "delete this cached file" in read_error(data.read_npz, inside)
    system = write_file(places["system"] / "train-labels-idx1-ubyte", b"\x00\x00\x08\x01")
    assert "apt install --reinstall dataset-fashion-mnist" in read_error(data.read_idx, system)
    sample = data.SAMPLE_DIR / "mnist_sample.npz"
    assert "git checkout -- data/samples" in data._repair_advice(sample)
    assert data._repair_advice(data.SAMPLE_DIR.parent / "samples-extra" / "x.npz") == \
        "delete it and download it again"


def test_verbose_false_prints_nothing(places, capsys):
    write_npz(places["data_dir"] / "mnist.npz", make_arrays(3, 2))
    data.load_mnist(data_dir=places["data_dir"], verbose=False)
    assert capsys.readouterr() == ("", "")


def test_class_names_and_data_set_names():
    assert data.class_names("mnist") == tuple("0123456789")
    assert data.class_names("fashion-mnist") == data.FASHION_CLASS_NAMES
    assert data.FASHION_CLASS_NAMES[0] == "T-shirt/top" and data.FASHION_CLASS_NAMES[9] == "Ankle boot"
    assert "Unknown data set 'cifar10'" in read_error(data.load_dataset, "cifar10")


def test_load_dataset_accepts_fashion_mnist_with_hyphen(places):
    arrays = make_arrays(3, 2)
    write_npz(places["data_dir"] / "fashion_mnist.npz", arrays)
    *loaded, source = data.load_dataset_and_source("fashion-mnist", data_dir=places["data_dir"],
                                                   verbose=False)
    assert_arrays_equal(loaded, arrays)
    assert source.dataset == "fashion_mnist"


# ---------------------------------------------------------------------------
# Download into the Keras cache (with a fake urlopen)
# ---------------------------------------------------------------------------

class FakeServer:
    """Stands in for urllib.request.urlopen, serving files by name.

    ``fail_after`` maps a file name to a byte count after which the transfer
    times out; a name missing from ``files`` fails to connect.  Every read
    checks that the final file does not exist yet and that a temporary file
    in the same folder is being written.
    """

    def __init__(self, files, target_folder, fail_after=None):
        self.files, self.target_folder, self.fail_after = files, target_folder, fail_after or {}
        self.requests = []

    def urlopen(self, url, timeout=None):
        name = url.rsplit("/", 1)[-1]
        self.requests.append((url, timeout))
        if name not in self.files:
            raise urllib.error.URLError("no network in this test")
        server = self

        class Response(io.BytesIO):
            def read(self, size=-1):
                assert not (server.target_folder / name).exists()
                if self.tell() > 0:
                    assert list(server.target_folder.glob(f".{name}.*.part"))
                limit = server.fail_after.get(name)
                if limit is not None and self.tell() >= limit:
                    raise TimeoutError("the read timed out")
                return super().read(size if limit is None else min(size, limit - self.tell()))

        return Response(self.files[name])


def fashion_files(arrays):
    return {f"{file_name}.gz": gzip.compress(idx_bytes(arrays[key])) for key, file_name, _ in data.ARRAYS}


@pytest.fixture
def online(places, monkeypatch):
    """Allow downloads; ``online(server)`` installs a FakeServer and returns the list of renames."""
    monkeypatch.delenv("DNN_NO_DOWNLOAD")
    renames = []
    real_replace = os.replace

    def recording_replace(source, target):
        renames.append((Path(source), Path(target)))
        real_replace(source, target)
    monkeypatch.setattr(os, "replace", recording_replace)

    def install(server):
        monkeypatch.setattr("urllib.request.urlopen", server.urlopen)
        return renames
    return install


def test_download_writes_temporary_files_then_renames_them(places, online, capsys):
    arrays = make_arrays(4, 2)
    folder = places["keras"] / "fashion-mnist"
    server = FakeServer(fashion_files(arrays), folder)
    renames = online(server)
    *loaded, source = data.load_dataset_and_source("fashion_mnist")
    assert_arrays_equal(loaded, arrays)
    assert source.kind == "download" and source.path == str(folder)
    assert sorted(path.name for path in folder.iterdir()) == sorted(f"{name}.gz" for name in IDX_NAMES)
    assert len(renames) == 4
    for source, target in renames:
        assert source.parent == target.parent == folder and source.name.startswith(f".{target.name}.")
    assert all(url.startswith(data.DOWNLOAD_URL) and timeout <= 10 for url, timeout in server.requests)
    assert f"Data: Fashion-MNIST from {folder} (4 train, 2 test images)" in capsys.readouterr().out


def test_download_of_mnist_npz_goes_where_keras_keeps_it(places, online):
    arrays = make_arrays(4, 2)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    online(FakeServer({"mnist.npz": buffer.getvalue()}, places["keras"]))
    assert_arrays_equal(data.load_mnist(verbose=False), arrays)
    assert data.read_npz(places["keras"] / "mnist.npz")[0][0].shape == (4, 28, 28)


def test_download_fills_in_only_the_missing_files(places, online):
    arrays = make_arrays(4, 2)
    folder = places["keras"] / "fashion-mnist"
    files = fashion_files(arrays)
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        write_file(folder / name, files[name])
    before = snapshot(folder)
    server = FakeServer(files, folder)
    online(server)
    assert_arrays_equal(data.load_fashion_mnist(verbose=False), arrays)
    assert sorted(url.rsplit("/", 1)[-1] for url, _ in server.requests) == [
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    assert all(snapshot(folder)[path] == state for path, state in before.items())


@pytest.mark.parametrize("failure", ["no-connection", "timeout-midway", "invalid-content", "last-file-fails"])
def test_failed_download_leaves_nothing_behind_and_uses_the_sample(places, online, capsys, failure):
    files = fashion_files(make_arrays(4, 2))
    fail_after = {}
    if failure == "no-connection":
        files = {}
    elif failure == "timeout-midway":
        fail_after = {"train-images-idx3-ubyte.gz": 100}
    elif failure == "invalid-content":
        files["train-images-idx3-ubyte.gz"] = files["train-images-idx3-ubyte.gz"][:-20]
    else:
        del files["t10k-images-idx3-ubyte.gz"]
    online(FakeServer(files, places["keras"] / "fashion-mnist", fail_after))
    (x_train, _), _, source = data.load_dataset_and_source("fashion_mnist")
    assert source.kind == "sample" and len(x_train) == 3000
    assert [path for path in places["keras"].parent.rglob("*") if path.is_file()] == []
    assert "Note: could not download Fashion-MNIST" in capsys.readouterr().err


def test_failed_download_is_listed_when_sample_is_refused(places, online):
    online(FakeServer({}, places["keras"]))
    message = read_error(data.load_mnist, allow_sample=False)
    assert f"download from {data.DOWNLOAD_URL} (failed: URLError" in message


def test_no_download_when_switched_off(places, monkeypatch):
    monkeypatch.setattr("urllib.request.urlopen", lambda *arguments, **keywords: pytest.fail("download attempted"))
    assert data.load_dataset_and_source("mnist", verbose=False)[2].kind == "sample"


# ---------------------------------------------------------------------------
# Import cost, shipped samples, full data
# ---------------------------------------------------------------------------

def test_import_does_not_import_tensorflow_or_keras():
    code = "import dnnkit.data, sys; assert not {'tensorflow', 'keras'} & set(sys.modules), sorted(sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def sha256_table(readme):
    """The ``<sha256>  <name>`` lines of a README, as {name: sha256}."""
    lines = readme.read_text(encoding="utf-8").splitlines()
    return {match[2]: match[1] for line in lines if (match := re.match(r"^\s*([0-9a-f]{64})\s+(\S+)\s*$", line))}


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_shipped_samples_are_stratified_and_match_the_readme(name):
    path = data.SAMPLE_DIR / f"{name}_sample.npz"
    (x_train, y_train), (x_test, y_test) = data.read_npz(path)
    assert x_train.shape == (3000, 28, 28) and x_test.shape == (1000, 28, 28)
    assert np.bincount(y_train).tolist() == [300] * 10 and np.bincount(y_test).tolist() == [100] * 10
    assert not np.array_equal(y_train[:300], np.sort(y_train[:300]))  # Shuffled, not sorted by class.
    assert sha256_table(PROJECT_ROOT / "data" / "README.md")[f"data/samples/{name}_sample.npz"] == \
        hashlib.sha256(path.read_bytes()).hexdigest()


def test_shipped_samples_are_small():
    sizes = [path.stat().st_size for path in data.SAMPLE_DIR.glob("*_sample.npz")]
    assert len(sizes) == 2 and sum(sizes) <= 6 * 10**6


full_data_dir = os.environ.get("DNN_DATA_DIR")
#: The full tier's tests, where DNN_DATA_DIR is set (the smoke tier runs on the shipped samples).
needs_full_data = pytest.mark.skipif(
    not full_data_dir, reason="set DNN_DATA_DIR to a folder with the full MNIST and Fashion-MNIST "
                              "and run python -m pytest --full to run this test")


@pytest.mark.full
@needs_full_data
def test_full_data_sets_load_with_the_published_checksums():
    readme = Path(full_data_dir) / "README.md"
    expected = sha256_table(readme) if readme.is_file() else FULL_DATA_SHA256
    assert set(FULL_DATA_SHA256) <= set(expected)
    for name, folder in (("mnist", "mnist"), ("fashion_mnist", "fashion-mnist")):
        (x_train, y_train), (x_test, y_test), source = data.load_dataset_and_source(
            name, data_dir=full_data_dir, verbose=False)
        assert (x_train.shape, y_train.shape, x_test.shape, y_test.shape) == (
            (60000, 28, 28), (60000,), (10000, 28, 28), (10000,))
        assert source.kind == "data_dir" and not source.is_sample
        for (key, file_name, _), array in zip(data.ARRAYS, (x_train, y_train, x_test, y_test)):
            # Re-encoding the loaded array must give the original file's bytes.
            assert hashlib.sha256(idx_bytes(array)).hexdigest() == expected[f"{folder}/{file_name}"], key


@pytest.mark.full
@needs_full_data
def test_make_samples_reproduces_the_shipped_files(tmp_path):
    tool = PROJECT_ROOT / "tools" / "make_samples.py"
    result = subprocess.run([sys.executable, str(tool), "--data-dir", full_data_dir, "--output-dir", str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    for name in ("mnist", "fashion_mnist"):
        rebuilt = (tmp_path / f"{name}_sample.npz").read_bytes()
        assert rebuilt == (data.SAMPLE_DIR / f"{name}_sample.npz").read_bytes(), name
