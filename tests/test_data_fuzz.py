"""Fuzz tests of dnnkit.data's readers: thousands of malformed files.

Each case is a valid IDX or npz file that was damaged at random (truncated,
bits flipped, header fields set to random or huge values, bytes inserted,
wrapped in gzip, npy headers rewritten) or plain random bytes.  For every case
the reader must either raise DataError with a one-line message naming the
file, or return arrays that agree with the file's content; and its memory
peak must stay within a small multiple of the input size plus a constant (no
allocation driven by a header's claims).

The cases come from a seeded generator, so every run tests the same inputs
and a failure names the seed and case number that reproduce it.
"""

import gzip
import io
import random
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest

from dnnkit import data
from dnnkit.errors import DataError

#: Thousands of files: the full tier (``python -m pytest --full``).  The smoke tier has
#: test_data.py's readers' tests, one case of each kind of damage.
pytestmark = pytest.mark.full

SEEDS = range(4)
CASES_PER_SEED = 300  # 4 x 300 = 1200 cases for each reader.
MEMORY_CONSTANT_BYTES = 3 * 2**20  # Python and numpy overhead, with room to spare.
MEMORY_FACTOR = 8
SPECIAL_VALUES = (0, 1, 2, 27, 28, 29, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)


def idx_bytes(array):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def valid_idx_files():
    """Small valid IDX files: labels and images, with random and with compressible content."""
    generator = np.random.default_rng(0)
    return [
        idx_bytes(generator.integers(0, 10, 6, dtype=np.uint8)),
        idx_bytes(generator.integers(0, 256, (2, 28, 28), dtype=np.uint8)),
        idx_bytes(np.zeros((3, 28, 28), np.uint8)),
        idx_bytes(np.zeros(0, np.uint8)),
    ]


def npy_bytes(header_text, payload, version=(1, 0)):
    """An npy file with the given header text (padded like numpy pads it) and data."""
    header = header_text.encode("latin1")
    length_format = "<H" if version[0] == 1 else "<I"
    prefix_length = 8 + struct.calcsize(length_format)
    header += b" " * (-(prefix_length + len(header) + 1) % 64) + b"\n"
    return b"\x93NUMPY" + bytes(version) + struct.pack(length_format, len(header)) + header + payload


def zip_bytes(members, compression):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def valid_arrays(generator):
    return {
        "x_train": generator.integers(0, 256, (2, 28, 28), dtype=np.uint8),
        "y_train": generator.integers(0, 10, 2, dtype=np.uint8),
        "x_test": np.zeros((1, 28, 28), np.uint8),
        "y_test": generator.integers(0, 10, 1, dtype=np.uint8),
    }


def npz_members(arrays):
    members = {}
    for key, array in arrays.items():
        stream = io.BytesIO()
        np.lib.format.write_array(stream, array, allow_pickle=False)
        members[f"{key}.npy"] = stream.getvalue()
    return members


# ---------------------------------------------------------------------------
# Mutations
# ---------------------------------------------------------------------------

def truncate(content, rng):
    return content[: rng.randrange(len(content) + 1)]


def flip_bits(content, rng, region=None):
    content = bytearray(content)
    if content:
        end = len(content) if region is None else min(region, len(content))
        for _ in range(rng.randint(1, 4)):
            content[rng.randrange(end)] ^= 1 << rng.randrange(8)
    return bytes(content)


def set_header_field(content, rng):
    """Overwrite one of the first four 32-bit fields with a random or special value."""
    content = bytearray(content)
    offset = 4 * rng.randrange(4)
    value = rng.choice(SPECIAL_VALUES) if rng.random() < 0.6 else rng.getrandbits(32)
    content[offset:offset + 4] = struct.pack(">I", value)
    return bytes(content)


def rng_bytes(rng, count):
    """``count`` random bytes from ``rng``: what ``rng.randbytes(count)`` gives on Python 3.9+
    (the same bytes, so the cases stay the same), written out for Python 3.8, which lacks it."""
    return rng.getrandbits(8 * count).to_bytes(count, "little") if count else b""


def insert_bytes(content, rng):
    position = rng.randrange(len(content) + 1)
    return content[:position] + rng_bytes(rng, rng.randint(1, 40)) + content[position:]


def random_bytes(content, rng):
    prefix = rng.choice([b"", b"\x1f\x8b", b"PK\x03\x04", b"\x00\x00\x08\x03", b"\x93NUMPY"])
    return prefix + rng_bytes(rng, rng.randint(0, 300))


GENERAL_MUTATIONS = [truncate, flip_bits, lambda content, rng: flip_bits(content, rng, region=64),
                     insert_bytes, random_bytes]


def mutate_idx(content, rng):
    """Damage an IDX file; sometimes gzip it before or after the damage."""
    mutation = rng.choice(GENERAL_MUTATIONS + [set_header_field, set_header_field])
    order = rng.choice(["raw", "mutate-then-gzip", "gzip-then-mutate"])
    if order == "mutate-then-gzip":
        return gzip.compress(mutation(content, rng)), f"{mutation_name(mutation)} then gzip"
    if order == "gzip-then-mutate":
        return mutation(gzip.compress(content), rng), f"gzip then {mutation_name(mutation)}"
    return mutation(content, rng), mutation_name(mutation)


HEADER_VARIANTS = {
    "descr": ["'|u1'", "'<u1'", "'|O'", "'<f8'", "'>u4'", "'|V999999999999'", "[('a', '|u1')]",
              "('|u1', (99999999, 99999))", "'x'", "3", "None"],
    "shape": ["(2, 28, 28)", "(4294967295, 28, 28)", "(2**62, 28, 28)", "(-2, 28, 28)", "(2, -28, -28)",
              "(2,)", "()", "(1e9, 28, 28)", "(" * 60 + ")" * 60, "(" + "9" * 5000 + ", 28, 28)", "'2'"],
    "fortran_order": ["False", "True", "0", "'no'"],
}


def mutated_npy_header(rng):
    """The text of an npy header with random (often invalid) values."""
    if rng.random() < 0.15:
        return rng.choice(["{", "[1, 2]", "{'descr': '|u1'}", rng_bytes(rng, 40).decode("latin1"), "()" * 1000])
    fields = {key: rng.choice(values) for key, values in HEADER_VARIANTS.items()}
    return "{" + ", ".join(f"'{key}': {value}" for key, value in fields.items()) + ", }"


def mutate_npz(valid_members, rng):
    """Build a damaged npz: a rewritten npy header, damaged zip bytes, or random bytes."""
    members = dict(valid_members)
    compression = rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
    choice = rng.random()
    if choice < 0.35:
        key = rng.choice(list(members))
        version = rng.choice([(1, 0), (1, 0), (2, 0), (3, 0), (9, 9)])
        payload = members[key][128:]  # The array's data, after numpy's 128-byte header.
        members[key] = npy_bytes(mutated_npy_header(rng), truncate(payload, rng) if rng.random() < 0.3 else payload,
                                 version)
        return zip_bytes(members, compression), f"npy header of {key}"
    if choice < 0.45:
        del members[rng.choice(list(members))]
        return zip_bytes(members, compression), "missing member"
    content = zip_bytes(members, compression)
    if choice < 0.6:  # The central directory and end record are at the end of the file.
        damaged = bytearray(content)
        for _ in range(rng.randint(1, 4)):
            damaged[rng.randrange(max(0, len(content) - 400), len(content))] = rng.randrange(256)
        return bytes(damaged), "zip directory"
    mutation = rng.choice(GENERAL_MUTATIONS)
    return mutation(content, rng), mutation_name(mutation)


def mutation_name(mutation):
    return "flip_header_bits" if mutation.__name__ == "<lambda>" else mutation.__name__


# ---------------------------------------------------------------------------
# Running the cases
# ---------------------------------------------------------------------------

def check_idx_result(array, content):
    """A returned array must be valid MNIST-style data, and its IDX encoding the file's content."""
    assert array.dtype == np.uint8
    assert array.ndim in (1, 3)
    if array.ndim == 3:
        assert array.shape[1:] == (28, 28)
    else:
        assert array.size == 0 or array.max() <= 9
    decompressed = gzip.decompress(content) if content[:2] == b"\x1f\x8b" else content
    assert idx_bytes(array) == decompressed


def check_npz_result(result, content):
    """Returned arrays must be valid, consistent, and what numpy itself reads from the file."""
    (x_train, y_train), (x_test, y_test) = result
    with np.load(io.BytesIO(content), allow_pickle=False) as reference:
        for key, array in zip(("x_train", "y_train", "x_test", "y_test"), (x_train, y_train, x_test, y_test)):
            assert array.dtype == np.uint8
            np.testing.assert_array_equal(array, reference[key])
    assert x_train.shape[1:] == x_test.shape[1:] == (28, 28)
    assert len(x_train) == len(y_train) and len(x_test) == len(y_test)
    assert all(labels.size == 0 or labels.max() <= 9 for labels in (y_train, y_test))


def call_traced(reader, path):
    """``(result or exception, peak bytes)`` of one call of ``reader(path)``.

    Tracing starts afresh for each call (stop() forgets all traces), so the
    peak counts only this call's allocations; tracemalloc.reset_peak would do
    the same, but Python 3.8 lacks it.
    """
    tracemalloc.start()
    try:
        outcome = reader(path)
    except Exception as error:  # noqa: BLE001 - the caller judges every exception.
        outcome = error
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return outcome, peak


def run_cases(path, cases, reader, check_result):
    """Feed each case to the reader; return a list of failure descriptions."""
    failures = []
    for description, content in cases:
        path.write_bytes(content)
        outcome, peak = call_traced(reader, path)
        if isinstance(outcome, DataError):
            message = str(outcome)
            if "\n" in message or not message.startswith(str(path)):
                failures.append(f"{description}: badly formed message {message!r}")
        elif isinstance(outcome, Exception):  # anything else is exactly what we look for
            failures.append(f"{description}: {type(outcome).__name__}: {outcome}")
            continue
        else:
            try:
                check_result(outcome, content)
            except AssertionError as error:
                failures.append(f"{description}: returned wrong data ({error})")
        limit = MEMORY_FACTOR * len(content) + MEMORY_CONSTANT_BYTES
        if peak > limit:
            failures.append(f"{description}: used {peak} bytes for a {len(content)}-byte file")
    return failures


@pytest.mark.parametrize("seed", SEEDS)
def test_idx_reader_survives_malformed_files(tmp_path, seed):
    rng = random.Random(seed)
    valid = valid_idx_files()
    cases = []
    for number in range(CASES_PER_SEED):
        content, mutation = mutate_idx(rng.choice(valid), rng)
        cases.append((f"seed {seed} case {number} ({mutation})", content))
    failures = run_cases(tmp_path / "fuzzed-idx", cases, data.read_idx, check_idx_result)
    assert not failures, "\n".join(failures[:20])


@pytest.mark.parametrize("seed", SEEDS)
def test_npz_reader_survives_malformed_files(tmp_path, seed):
    rng = random.Random(seed)
    members = npz_members(valid_arrays(np.random.default_rng(seed)))
    cases = []
    for number in range(CASES_PER_SEED):
        content, mutation = mutate_npz(members, rng)
        cases.append((f"seed {seed} case {number} ({mutation})", content))
    failures = run_cases(tmp_path / "fuzzed.npz", cases, data.read_npz, check_npz_result)
    assert not failures, "\n".join(failures[:20])


@pytest.mark.parametrize("reader_name", ["read_idx", "read_npz"])
def test_fuzzing_reaches_valid_files_and_many_kinds_of_errors(tmp_path, reader_name):
    """The mutations must be varied enough to give valid files and many different errors."""
    rng = random.Random(99)
    valid_files, members = valid_idx_files(), npz_members(valid_arrays(np.random.default_rng(99)))
    path = tmp_path / "fuzzed"
    outcomes = set()
    for _ in range(300):
        if reader_name == "read_idx":
            content, _ = mutate_idx(rng.choice(valid_files), rng)
        else:
            content, _ = mutate_npz(members, rng)
        path.write_bytes(content)
        try:
            getattr(data, reader_name)(path)
            outcomes.add("valid")
        except DataError as error:
            outcomes.add(str(error)[len(str(path)):].split("(")[0])  # The kind of problem.
    assert "valid" in outcomes and len(outcomes) >= 8, outcomes


def test_run_cases_catches_a_reader_that_allocates_by_the_header(tmp_path):
    """The memory check itself works: a reader that allocates 20 MiB for a tiny file is caught."""
    def greedy_reader(path):
        buffer = bytearray(20 * 2**20)
        raise DataError(f"{path} is damaged ({len(buffer)} bytes allocated)")

    failures = run_cases(tmp_path / "tiny", [("tiny case", b"\x00" * 16)], greedy_reader,
                         check_idx_result)
    assert len(failures) == 1 and "used" in failures[0] and "16-byte file" in failures[0]
    # and a reader that allocates nothing much passes
    assert run_cases(tmp_path / "tiny", [("tiny case", b"\x00" * 16)], data.read_idx,
                     check_idx_result) == []
