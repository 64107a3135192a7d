"""Check that this computer can run the lecture's examples: one table, each line ok or its fix.

Run it after setting up (``source setup_env.sh`` runs its quick form at the
end), on your own computer or in the lab, and whenever a script fails in a
way you do not understand.  One line for each of:

- Python and the packages the examples import, against the range from the
  lab's floor (``_dnn_floor`` in setup_env.sh; requirements-lab.txt is
  tested) to the pinned versions (requirements.txt, environment.yml).  A
  package that is missing or fails to import is named, with the fix;
- the GPU that TensorFlow sees, its memory (from nvidia-smi), and the CUDA
  and cuDNN that TensorFlow was built with.  A CPU is enough for every example;
- whether a figure window can open (matplotlib's backend, the display);
- MNIST and Fashion-MNIST: found and intact (every file read and checked, as
  the scripts read them), or only the small sample shipped with the project;
- the trained networks in models/ (``--models-dir``): readable by this
  TensorFlow, or the command that trains them again;
- Jupyter: a Python kernel for the notebooks.

A line says "ok", "note" (the examples run; the fix makes them better, e.g.
the full data) or "FAIL" (they cannot run: do what it says).  Exit status 0:
the examples can run; 1: they cannot; 2: a bad option.  It runs without
TensorFlow too (and says so), and takes about as long as importing it
(about twice as long with the lab's TensorFlow 2.4, whose import is cheaper).
Measured on the project's 2-core test machine (AMD EPYC, no GPU, the full
data, under load from other jobs), 3 runs each, alternating with ``python -c
"import tensorflow"``: with TensorFlow 2.21 (load average 14-16) 30-39 s wall
clock and 8.5-8.8 s of CPU time, against 32-38 s and 7.6-8.0 s for the
import; with the lab's TensorFlow 2.4 (load 19-21),
23-27 s and 5.7-6.4 s against 11-14 s and 2.5-2.8 s (the rest: reading the
data 0.7 s, matplotlib's window 0.9 s, Jupyter 0.6 s, scikit-learn 0.4 s of
CPU time).  ``--quick`` took 0.4-1.3 s wall clock, 0.15 s of CPU time.
This is not one of the lecture's examples (dnnkit/lecture.py): it has no
slide and no notebook.

    python checkSetup.py                  # everything
    python checkSetup.py --quick          # versions only, without importing them: what setup_env.sh runs
    python checkSetup.py --data-dir DIR   # the data in DIR (default: $DNN_DATA_DIR, then the Keras cache)
"""

import importlib
import importlib.util
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

from dnnkit import runtime

ROOT = Path(__file__).resolve().parent
#: The modules of the packages the examples import, where they differ from pip's names.
MODULES = {"scikit-learn": "sklearn"}
#: Other names under which TensorFlow is installed (Apple's old build, the CPU-only wheel).
TENSORFLOW_DISTRIBUTIONS = ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tensorflow-intel")
#: The data sets, with their names in the table.
DATASETS = (("mnist", "MNIST"), ("fashion_mnist", "Fashion-MNIST"))
#: A GPU with more of its memory in use than this share is reported (the lab's card is shared).
GPU_MEMORY_BUSY = 0.8
OK, NOTE, FAIL = "ok", "note", "FAIL"


def parse_options(argv=None):
    parser = runtime.ArgumentParser(description=__doc__.strip().partition("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="only the versions, from the installed packages' records, without "
                             "importing them (a fraction of a second; what setup_env.sh runs): "
                             "prints only what needs attention")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="folder holding mnist/ and fashion-mnist/ (default: $DNN_DATA_DIR, "
                             "then the Keras cache, then the shipped sample)")
    parser.add_argument("--models-dir", metavar="DIR",
                        default=os.environ.get(runtime.MODELS_DIR_VARIABLE)
                        or runtime.DEFAULT_MODELS_DIR,
                        help="folder of the trained networks ($DNN_MODELS_DIR where set)")
    return parser.parse_args(argv)


# ---------------------------------------------------------------------------
# The range of versions, from the project's own files
# ---------------------------------------------------------------------------
def version_tuple(text):
    """``"2.21.0rc1"`` -> ``(2, 21, 0)``; ``()`` when it does not start with a number."""
    found = re.match(r"\d+(\.\d+)*", str(text))
    return tuple(int(part) for part in found.group(0).split(".")) if found else ()


def floor_versions():
    """``{name: minimum}`` from setup_env.sh's ``_dnn_floor`` (the lab's versions)."""
    text = (ROOT / "setup_env.sh").read_text(encoding="utf-8")
    found = re.search(r'^_dnn_floor="([^"]*)"', text, re.MULTILINE)
    return dict(item.split("=", 1) for item in found.group(1).split()) if found else {}


def pinned_versions(path):
    """``{name: version}`` of a requirements file's ``name==version`` lines (2.4.* -> 2.4)."""
    pinned = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        found = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line.partition("#")[0].strip())
        if found:
            pinned[found.group(1).lower()] = found.group(2).replace(".*", "")
    return pinned


def pinned_python():
    """The Python version of environment.yml, e.g. ``"3.12"``."""
    text = (ROOT / "environment.yml").read_text(encoding="utf-8")
    found = re.search(r"^\s*-\s*python=(\S+)", text, re.MULTILINE)
    return found.group(1) if found else "?"


def install_command(name, options="", extra=""):
    """The pip command that installs ``name`` (with ``extra``, e.g. ``"[and-cuda]"``) at the
    version this Python is meant to have, with pip's ``options``."""
    lab = sys.version_info[:2] < (3, 10)  # TensorFlow 2.21 needs 3.10; the lab has 3.8
    pinned = pinned_versions(ROOT / ("requirements-lab.txt" if lab else "requirements.txt"))
    version = pinned.get(name)
    if version is None:
        return f"pip install {options}{name}{extra}"
    wildcard = ".*" if version.count(".") == 1 else ""
    return f'pip install {options}"{name}{extra}=={version}{wildcard}"'


# ---------------------------------------------------------------------------
# The checks: each returns a list of (what, status, text)
# ---------------------------------------------------------------------------
def check_system():
    machine = platform.machine()
    name = {"Darwin": "macOS", "Windows": "Windows"}.get(platform.system(), platform.system())
    if name == "macOS" and machine == "arm64":
        machine = "arm64 (Apple silicon)"
    return [("system", OK, f"{name} {platform.release()} on {machine}, "
                           f"{os.cpu_count()} cores; Python at {sys.executable}")]


def check_python(floor):
    found = "%d.%d.%d" % sys.version_info[:3]
    lowest, highest = floor.get("python", "3.8"), pinned_python()
    if sys.version_info[:2] < version_tuple(lowest):
        return [("Python", FAIL, f"{found} is older than {lowest}, the oldest the examples "
                                 f"run with: install Python {highest} (or conda, then "
                                 f"conda env create -f environment.yml)")]
    if version_tuple(found)[:2] > version_tuple(highest)[:2]:
        return [("Python", NOTE, f"{found} is newer than {highest} (environment.yml): if "
                                 f"TensorFlow does not install, use Python {highest}")]
    return [("Python", OK, f"{found} (range {lowest} to {highest})")]


def installed_version(name):
    """The version in the installed package's record (no import), or None."""
    import importlib.metadata as metadata

    for distribution in TENSORFLOW_DISTRIBUTIONS if name == "tensorflow" else (name,):
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return None


def check_package(name, floor, pinned, quick, imported):
    """One package: installed, importable (unless ``quick``), within the range.

    A module that imports is put into ``imported[name]``.
    """
    module = MODULES.get(name, name)
    fix = install_command(name)
    version = installed_version(name)
    if quick:
        if version is None and importlib.util.find_spec(module) is None:
            return [(name, FAIL, f"not installed: {fix}")]
    else:
        try:
            if name == "tensorflow":
                imported[name] = runtime.import_tensorflow()
            else:
                imported[name] = importlib.import_module(module)
        except Exception as error:  # noqa: BLE001 -- whatever keeps it from importing
            if isinstance(error, ImportError) and getattr(error, "name", None) == module \
                    and version is None:
                return [(name, FAIL, f"not installed: {fix}")]
            reason = " ".join(f"{type(error).__name__}: {error}".split())[:160]
            return [(name, FAIL, f"{version or 'installed'}, but it does not import ({reason}): "
                                 f"reinstall it with {install_command(name, '--force-reinstall ')}")]
        version = getattr(imported[name], "__version__", version)
    lowest, highest = floor.get(name), pinned.get(name)
    span = f"range {lowest} to {highest}"
    extra = ""
    if name == "tensorflow" and name in imported:
        from dnnkit import compat

        extra = f", Keras {compat.keras_version()} (saves networks as {compat.model_file_suffix()})"
    if version is None:
        return [(name, NOTE, f"present, version unknown ({span}){extra}")]
    if lowest and version_tuple(version) < version_tuple(lowest):
        return [(name, FAIL, f"{version} is older than {lowest}, the oldest the examples run "
                             f"with: {fix}")]
    if highest and version_tuple(version)[:2] > version_tuple(highest)[:2]:
        return [(name, NOTE, f"{version} is newer than the tested {highest}{extra}: if a "
                             f"script fails, {fix}")]
    return [(name, OK, f"{version} ({span}){extra}")]


def check_test_tools(quick):
    """pytest, jupytext, nbclient, nbformat: only the tests and tools/make_notebooks.py need them."""
    wanted = ("pytest", "jupytext", "nbclient", "nbformat")
    missing = [name for name in wanted if installed_version(name) is None
               and importlib.util.find_spec(name) is None]
    if missing:
        return [("test tools", NOTE, f"{', '.join(missing)} missing: only the tests need them "
                                     f"(pip install -r requirements.txt)")]
    return [] if quick else [("test tools", OK, ", ".join(
        f"{name} {installed_version(name) or '?'}" for name in wanted))]


def nvidia_smi():
    """``[(name, total MiB, used MiB)]`` of the NVIDIA GPUs nvidia-smi lists, [] without it."""
    command = shutil.which("nvidia-smi")
    if command is None:
        return []
    try:
        completed = subprocess.run(
            [command, "--query-gpu=name,memory.total,memory.used", "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return []
    cards = []
    for line in completed.stdout.splitlines() if completed.returncode == 0 else []:
        parts = [part.strip() for part in line.split(",")]
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            cards.append((parts[0], int(parts[1]), int(parts[2])))
    return cards


def check_gpu(tf):
    get_build_info = getattr(tf.sysconfig, "get_build_info", None)  # from TensorFlow 2.3 on
    info = dict(get_build_info()) if get_build_info else {}
    if info.get("is_cuda_build"):
        built = (f"TensorFlow built with CUDA {info.get('cuda_version', '?')}, "
                 f"cuDNN {info.get('cudnn_version', '?')}")
    else:
        built = "TensorFlow built without CUDA"
    gpus = tf.config.list_physical_devices("GPU")
    cards = nvidia_smi()
    if not gpus:
        text = "none visible: the examples train on the CPU, which is enough for all of them"
        if cards and sys.platform == "win32":
            return [("GPU", OK, f"{text}; TensorFlow uses no GPU on Windows itself since 2.11 "
                                f"(only under WSL2) ({built})")]
        if cards:
            cuda = install_command("tensorflow", extra="[and-cuda]")
            return [("GPU", NOTE, f"{cards[0][0]} is present, but TensorFlow does not see it "
                                  f"({built}): {cuda} (source setup_env.sh does this), or train "
                                  f"on the CPU")]
        if sys.platform == "darwin" and installed_version("tensorflow-metal") is None:
            text += " (tensorflow-metal, Apple's optional GPU plugin, is not installed: not needed)"
        return [("GPU", OK, f"{text} ({built})")]
    rows = []
    for index, gpu in enumerate(gpus):
        details = tf.config.experimental.get_device_details(gpu) or {}
        name = details.get("device_name", gpu.name)
        capability = details.get("compute_capability")
        text = f"GPU {index}: {name}" + (
            f", compute capability {capability[0]}.{capability[1]}" if capability else "")
        status = OK
        if index < len(cards):
            _, total, used = cards[index]
            text += f", {total / 1024:.1f} GB memory, {used / 1024:.1f} GB in use"
            if used > GPU_MEMORY_BUSY * total:
                status = NOTE
                text += (" (by other users of the card?): train with --cpu or a smaller "
                         "--batch-size, or see nvidia-smi")
        rows.append(("GPU", status, f"{text} ({built})"))
    if sys.platform == "darwin":
        rows.append(("GPU", NOTE, "tensorflow-metal is installed: it is optional, and some of "
                                  "its versions break training; if a script fails or hangs, "
                                  "pip uninstall tensorflow-metal (the CPU is enough)"))
    return rows


def check_window():
    from dnnkit import plotting

    backend = plotting.pyplot().get_backend()
    chosen = os.environ.get("MPLBACKEND")
    if plotting.can_show():
        where = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
        return [("window", OK, f"figures open in windows (matplotlib's {backend} backend"
                               + (f", display {where})" if where else ")"))]
    if chosen:
        return [("window", NOTE, f"no windows: MPLBACKEND={chosen} chooses {backend}; figures "
                                 f"are saved as PNG in figures/ (unset MPLBACKEND for windows)")]
    if sys.platform not in ("darwin", "win32") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return [("window", NOTE, "no display (DISPLAY is not set, e.g. over ssh): figures are "
                                 "saved as PNG in figures/, no window opens; ssh -X opens them "
                                 "on your screen")]
    return [("window", NOTE, f"a display, but matplotlib found no window toolkit (backend "
                             f"{backend}): install Tk (Debian/Ubuntu: sudo apt install "
                             f"python3-tk; conda: conda install tk); figures are saved as PNG")]


def check_data(data_dir):
    from dnnkit import data
    from dnnkit.errors import DataError

    rows = []
    for name, title in DATASETS:
        try:
            (x_train, _), (x_test, _), source = data.load_dataset_and_source(
                name, data_dir=data_dir, verbose=False, download=False)
        except DataError as error:
            rows.append((title, FAIL, str(error)))
            continue
        if source.is_sample:
            rows.append((title, NOTE, f"only the shipped sample ({len(x_train)} training, "
                                      f"{len(x_test)} test images: the accuracies are lower "
                                      f"than the lecture's); to get the full data, "
                                      f"{data.ways_to_get_data(name)}"))
        else:
            rows.append((title, OK, f"{len(x_train)} training, {len(x_test)} test images, "
                                    f"intact, in {source.path}"))
    return rows


def check_saved_networks(models_dir):
    from dnnkit import compat, lecture, saved
    from dnnkit.errors import UserError

    folder = Path(models_dir)
    readable, rows = [], []
    scripts = lecture.names("model")
    for script in scripts:
        if not any((folder / f"{script}{suffix}").exists() for suffix in (".json", ".keras", ".h5")):
            continue
        try:
            saved.load_model(script, folder)
        except UserError as error:
            rows.append(("saved network", NOTE, f"{script}: unreadable: {error}"))
            continue
        readable.append(script)
        compat.clear_session()
    if readable:
        rows.insert(0, ("saved networks", OK, f"{len(readable)} of {len(scripts)} in {folder}/ "
                                              f"readable by this Keras: {', '.join(readable)}"))
    elif not rows:
        rows.append(("saved networks", NOTE, f"none in {folder}/: only --pretrained and "
                                             f"drawDigit.py use them; python reproduce.py "
                                             f"trains and saves them all"))
    return rows


def check_jupyter():
    if importlib.util.find_spec("ipykernel") is None:
        return [("Jupyter", NOTE, "no kernel (ipykernel is not installed): the notebooks need "
                                  f"it, the scripts do not: {install_command('ipykernel')}")]
    try:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

        kernel = KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        return [("Jupyter", NOTE, "no kernel python3: python -m ipykernel install --user")]
    except Exception as error:  # noqa: BLE001 -- a broken jupyter_client
        reason = " ".join(f"{type(error).__name__}: {error}".split())[:160]
        return [("Jupyter", NOTE, f"jupyter_client does not work ({reason}): "
                                  f"pip install --force-reinstall jupyter_client")]
    program = kernel.argv[0] if kernel.argv else "?"
    if os.path.isabs(program) and Path(program).resolve() != Path(sys.executable).resolve():
        return [("Jupyter", NOTE, f"the notebooks' kernel python3 runs {program}, not this "
                                  f"Python: python -m ipykernel install --user")]
    front_ends = [name for name in ("jupyter-notebook", "jupyter-lab") if shutil.which(name)]
    if not front_ends:
        return [("Jupyter", NOTE, f"kernel python3 runs this Python; to open notebooks/ in a "
                                  f"browser, {install_command('jupyterlab')} and jupyter lab "
                                  f"(or use VS Code's Jupyter extension)")]
    return [("Jupyter", OK, f"kernel python3 runs this Python; {' and '.join(front_ends)} found")]


# ---------------------------------------------------------------------------
def not_checked(what, because):
    return [(what, NOTE, f"not checked: {because}")]


def run_checks(args):
    """Every line of the table, in order."""
    floor = floor_versions()
    pinned = pinned_versions(ROOT / "requirements.txt")
    rows = check_system() + check_python(floor)
    imported = {}
    for name in floor:
        if name != "python":
            rows += check_package(name, floor, pinned, args.quick, imported)
    rows += check_test_tools(args.quick)
    if args.quick:
        return rows
    missing = [name for name in floor if name != "python" and name not in imported]

    def needs(*names):
        broken = [name for name in names if name in missing]
        return f"{' and '.join(broken)} did not import (see above)" if broken else None

    tf = imported.get("tensorflow")
    reason = needs("tensorflow")
    rows += not_checked("GPU", f"no TensorFlow ({reason})") if reason else check_gpu(tf)
    reason = needs("numpy", "matplotlib")
    rows += not_checked("window", reason) if reason else check_window()
    reason = needs("numpy")
    rows += not_checked("data", reason) if reason else check_data(args.data_dir)
    reason = needs("tensorflow", "numpy")
    rows += (not_checked("saved networks", f"no TensorFlow ({reason})") if reason
             else check_saved_networks(args.models_dir))
    rows += check_jupyter()
    return rows


def print_table(rows):
    width = max([len(what) for what, _, _ in rows], default=0)
    for what, status, text in rows:
        print(f"  {what:<{width}}  {status:<4}  {text}")


def main(argv=None):
    args = parse_options(argv)
    # TensorFlow's C++ log (CUDA not found, oneDNN on) says nothing the GPU line does not.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if not args.quick:
        print("Checking whether this computer can run the lecture's examples "
              "(python checkSetup.py --help says what is checked) ...", flush=True)
    rows = run_checks(args)
    failures = sum(status == FAIL for _, status, _ in rows)
    notes = sum(status == NOTE for _, status, _ in rows)
    if args.quick:
        print_table([row for row in rows if row[1] != OK])
        print(("checkSetup: the packages cannot run the examples (FAIL above)" if failures else
               "checkSetup: the packages' versions are within range")
              + " (quick check; python checkSetup.py also checks TensorFlow, the GPU, the "
                "window, the data, the saved networks and Jupyter)")
        return 1 if failures else 0
    print_table(rows)
    if failures:
        print(f"The examples cannot run here: do what the {failures} FAIL line"
              f"{'s say' if failures > 1 else ' says'}, then run python checkSetup.py again.")
        return 1
    print("The examples can run here" + (f" ({notes} note{'s' if notes > 1 else ''} above)."
                                         if notes else "."))
    return 0


if __name__ == "__main__":
    sys.exit(main())
