"""Tests of setup_env.sh with conda, and of its lab-floor environment.

These machines have no conda, so a stand-in ``conda`` on PATH records every
call into a log and answers ``conda env list``, ``conda shell.bash hook`` (a
``conda`` shell function whose ``activate`` sets CONDA_PREFIX,
CONDA_DEFAULT_ENV and PATH as conda does) and ``conda env create``.  It never
installs anything.  An environment that setup_env.sh did not make (the lab's
myML) gets a ``python`` that runs the real Python with stand-in modules
(tensorflow, numpy, ... with chosen versions) instead of site-packages, so that
checking it takes a fraction of a second.

Each case sources setup_env.sh in bash in a subprocess, with a controlled PATH
and HOME, in a copy of the project's set-up files.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SETUP_FILES = ("setup_env.sh", "environment.yml", "requirements.txt", "requirements-lab.txt")

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")

# The stand-in conda.  The environments live in $FAKE_ROOT/envs/<name>; those it
# creates itself get a python that only logs its calls (as the project's own
# environment, nothing in it is run for real).
FAKE_CONDA = r'''#!/usr/bin/env bash
echo "conda $*" >> "$FAKE_LOG"
case "$1 $2" in
    "shell.bash hook"|"shell.zsh hook")
        cat <<'HOOK'
conda() {
    if [ "$1" = activate ]; then
        if [ ! -d "$FAKE_ROOT/envs/$2" ]; then
            echo "EnvironmentNameNotFound: $2" >&2
            return 1
        fi
        export CONDA_PREFIX="$FAKE_ROOT/envs/$2" CONDA_DEFAULT_ENV="$2"
        export PATH="$CONDA_PREFIX/bin:$PATH"
        echo "activate $2" >> "$FAKE_LOG"
    else
        command conda "$@"
    fi
}
HOOK
        ;;
    "env list")
        echo "# conda environments:"
        for prefix in "$FAKE_ROOT"/envs/*; do
            [ -d "$prefix" ] && echo "$(basename "$prefix")    $prefix"
        done
        ;;
    "env create")
        mkdir -p "$FAKE_ROOT/envs/myML/bin"
        printf '%s\n' '#!/usr/bin/env bash' 'echo "python $*" >> "$FAKE_LOG"' \
            'echo "Python 3.12.0"' > "$FAKE_ROOT/envs/myML/bin/python"
        chmod +x "$FAKE_ROOT/envs/myML/bin/python"
        ;;
esac
exit 0
'''

# What the python of a foreign environment runs: the real Python, without
# site-packages (-S), with the stand-in modules of <prefix>/modules first
# (and no __pycache__ left beside them).
FOREIGN_PYTHON = '''#!/usr/bin/env bash
echo "foreign python" >> "$FAKE_LOG"
PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="{modules}" exec "{python}" -S "$@"
'''

FLOOR_VERSIONS = {"tensorflow": "2.4.4", "numpy": "1.19.5", "matplotlib": "3.5.3",
                  "scipy": "1.10.1", "iminuit": "2.19.0", "sklearn": "1.0.2"}

# Calls that change a conda environment: a foreign one must never get them.
CHANGING_CALLS = re.compile(r"^conda (env (update|create|remove)|install|remove|update|uninstall)\b",
                            re.M)


@pytest.fixture()
def sandbox(tmp_path):
    """A copy of the set-up files, the stand-in conda, and a way to source setup_env.sh."""
    project = tmp_path / "project"
    project.mkdir()
    for name in SETUP_FILES:
        shutil.copy(ROOT / name, project / name)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "conda").write_text(FAKE_CONDA)
    (bin_dir / "conda").chmod(0o755)
    log = tmp_path / "calls.log"
    root = tmp_path / "conda"
    (root / "envs").mkdir(parents=True)
    environment = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path / "home"),
                   "FAKE_LOG": str(log), "FAKE_ROOT": str(root),
                   "XDG_CACHE_HOME": str(tmp_path / "cache")}

    class Sandbox:
        def __init__(self):
            self.project, self.root, self.bin_dir, self.tmp_path = project, root, bin_dir, tmp_path

        def foreign_env(self, name="myML", versions=None, active=False):
            """An environment setup_env.sh did not make, whose modules have ``versions``."""
            prefix = root / "envs" / name
            modules = prefix / "modules"
            modules.mkdir(parents=True)
            for module, version in (FLOOR_VERSIONS if versions is None else versions).items():
                (modules / f"{module}.py").write_text(f"__version__ = {version!r}\n")
            (prefix / "bin").mkdir()
            (prefix / "bin" / "python").write_text(
                FOREIGN_PYTHON.format(modules=modules, python=sys.executable))
            (prefix / "bin" / "python").chmod(0o755)
            if active:
                environment.update(CONDA_PREFIX=str(prefix), CONDA_DEFAULT_ENV=name,
                                   PATH=f"{prefix / 'bin'}:{environment['PATH']}")
            return prefix

        def source(self, command="source setup_env.sh", gpu=False, **extra):
            if gpu:
                (bin_dir / "nvidia-smi").write_text("#!/bin/sh\nexit 0\n")
                (bin_dir / "nvidia-smi").chmod(0o755)
            log.write_text("")
            completed = subprocess.run(
                ["bash", "-c", f"{command}; status=$?; echo PREFIX=${{CONDA_PREFIX:-}}; exit $status"],
                cwd=project, env=dict(environment, **extra), capture_output=True, text=True,
                timeout=60)
            return completed, log.read_text()

    return Sandbox()


def _tree(folder):
    """Every file below ``folder`` with its content, to see that nothing changed."""
    return {str(path.relative_to(folder)): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def _setup_lines(completed):
    return [line for line in (completed.stdout + completed.stderr).splitlines()
            if line.startswith("setup_env")]


# ---------------------------------------------------------------------------
# An environment setup_env.sh did not make
# ---------------------------------------------------------------------------
def test_a_foreign_myml_that_works_is_used_as_it_is(sandbox):
    prefix = sandbox.foreign_env()
    before = _tree(prefix)
    completed, calls = sandbox.source(
        'source setup_env.sh && python -c "import tensorflow; print(tensorflow.__version__)"')
    assert completed.returncode == 0, completed.stderr
    assert not CHANGING_CALLS.search(calls), calls
    assert "pip" not in calls
    assert "activate myML" in calls  # it was not active: now it is
    assert f"PREFIX={prefix}" in completed.stdout
    assert "2.4.4" in completed.stdout.splitlines()  # its own tensorflow, found on PATH
    (line,) = _setup_lines(completed)  # one line, which says so
    assert "using the conda environment myML as it is" in line
    assert "tensorflow 2.4.4" in line and "changed nothing" in line
    assert _tree(prefix) == before  # no stamp written, nothing changed


@pytest.mark.parametrize("module, package", [("iminuit", "iminuit"), ("sklearn", "scikit-learn")])
def test_an_active_foreign_env_lacking_a_package_is_left_alone(sandbox, module, package):
    versions = dict(FLOOR_VERSIONS)
    del versions[module]
    prefix = sandbox.foreign_env(versions=versions, active=True)
    before = _tree(prefix)
    completed, calls = sandbox.source()
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert not CHANGING_CALLS.search(calls), calls
    assert "activate" not in calls and "pip" not in calls
    (line,) = _setup_lines(completed)  # one line: what is missing, and the choices
    assert "myML" in line and f"{package} is missing" in line
    assert "ask the lab's admin" in line
    assert f"pip install --user {package}" in line
    assert "DNN_ENV=venv source setup_env.sh" in line
    assert "changed nothing" in line
    assert _tree(prefix) == before


def test_an_active_foreign_env_with_an_old_package_names_the_version(sandbox):
    prefix = sandbox.foreign_env(name="tf23", versions=dict(FLOOR_VERSIONS, numpy="1.18.5"),
                                 active=True)
    before = _tree(prefix)
    completed, calls = sandbox.source()
    assert completed.returncode == 2
    assert not CHANGING_CALLS.search(calls), calls
    (line,) = _setup_lines(completed)
    assert "conda environment tf23" in line and "numpy 1.18.5 is older than 1.19" in line
    assert "pip install --user \"numpy>=1.19\"" in line
    assert _tree(prefix) == before


def test_a_foreign_myml_that_cannot_run_the_examples_is_not_activated(sandbox):
    prefix = sandbox.foreign_env(versions=dict(FLOOR_VERSIONS, tensorflow="2.3.0"))
    before = _tree(prefix)
    completed, calls = sandbox.source()
    assert completed.returncode == 2
    assert not CHANGING_CALLS.search(calls), calls
    assert "activate myML" not in calls
    assert "PREFIX=\n" in completed.stdout
    (line,) = _setup_lines(completed)
    assert "tensorflow 2.3.0 is older than 2.4" in line
    assert _tree(prefix) == before


def test_an_active_foreign_env_that_works_needs_not_even_conda(sandbox):
    prefix = sandbox.foreign_env(active=True)
    (sandbox.bin_dir / "conda").unlink()
    completed, calls = sandbox.source()
    assert completed.returncode == 0, completed.stderr
    assert f"PREFIX={prefix}" in completed.stdout
    assert "conda" not in calls
    (line,) = _setup_lines(completed)
    assert "using the conda environment myML as it is" in line


# ---------------------------------------------------------------------------
# The project's own conda environment: created and updated as before
# ---------------------------------------------------------------------------
def test_setup_env_creates_the_conda_environment_once(sandbox):
    completed, calls = sandbox.source()
    assert completed.returncode == 0, completed.stderr
    assert f"conda env create -f {sandbox.project}/environment.yml" in calls
    assert "activate myML" in calls
    assert completed.stdout.strip().endswith("envs/myML")
    assert (sandbox.root / "envs" / "myML" / ".dnn-setup-stamp").is_file()

    # The second time (the stamp matches) it only activates: no create, no update, no pip.
    completed, calls = sandbox.source()
    assert completed.returncode == 0, completed.stderr
    assert "activate myML" in calls
    assert not CHANGING_CALLS.search(calls) and "pip" not in calls, calls


def test_setup_env_updates_its_own_environment_when_environment_yml_changes(sandbox):
    sandbox.source()
    with open(sandbox.project / "environment.yml", "a") as stream:
        stream.write("  # a new comment changes the checksum\n")
    completed, calls = sandbox.source()
    assert completed.returncode == 0, completed.stderr
    assert f"conda env update -n myML -f {sandbox.project}/environment.yml" in calls
    assert "env create" not in calls


def test_with_conda_base_active_the_own_environment_is_created(sandbox):
    """conda's base, active in every new shell of many installations, is not a choice of the user."""
    base = sandbox.root
    completed, calls = sandbox.source(CONDA_PREFIX=str(base), CONDA_DEFAULT_ENV="base")
    assert completed.returncode == 0, completed.stderr
    assert f"conda env create -f {sandbox.project}/environment.yml" in calls


def test_setup_env_adds_the_cuda_extra_with_an_nvidia_gpu(sandbox):
    completed, calls = sandbox.source(gpu=True)
    assert completed.returncode == 0, completed.stderr
    assert "NVIDIA GPU found" in completed.stdout
    pinned = re.search(r"^tensorflow==(\S+)", (ROOT / "requirements.txt").read_text(), re.M)
    assert f"python -m pip install tensorflow[and-cuda]=={pinned.group(1)}" in calls


def test_a_foreign_env_gets_no_cuda_extra_even_with_a_gpu(sandbox):
    sandbox.foreign_env()
    completed, calls = sandbox.source(gpu=True)
    assert completed.returncode == 0, completed.stderr
    assert "pip" not in calls and "NVIDIA" not in completed.stdout


def test_an_unknown_dnn_env_is_a_one_line_error(sandbox):
    completed, calls = sandbox.source(DNN_ENV="lab")
    assert completed.returncode == 1
    assert "DNN_ENV=lab is unknown" in completed.stderr
    assert calls == ""


# ---------------------------------------------------------------------------
# DNN_ENV=lab-floor
# ---------------------------------------------------------------------------
def test_lab_floor_without_python_3_8_says_so_in_one_line_and_returns_10(sandbox):
    completed, calls = sandbox.source(DNN_ENV="lab-floor", PYENV_ROOT=str(sandbox.tmp_path / "none"))
    assert completed.returncode == 10, completed.stdout + completed.stderr
    (line,) = _setup_lines(completed)
    assert "no Python 3.8" in line
    assert not (sandbox.tmp_path / "cache").exists()  # nothing built


def _real_python_3_8():
    found = shutil.which("python3.8")
    candidates = ([found] if found else []) + sorted(
        str(path) for path in Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")).glob(
            "versions/3.8*/bin/python3.8"))
    for candidate in candidates:
        completed = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 8))"],
                                   capture_output=True, text=True)
        if completed.stdout.strip() == "True":
            return candidate
    return None


def test_lab_floor_that_is_up_to_date_is_only_activated(sandbox):
    """A lab-floor venv whose stamp matches requirements-lab.txt: no pip, only activation."""
    python38 = _real_python_3_8()
    if python38 is None:
        pytest.skip("no Python 3.8 here")
    (sandbox.bin_dir / "python3.8").symlink_to(python38)
    venv = sandbox.tmp_path / "cache" / "dnn-lecture" / "lab-floor-py38"
    (venv / "bin").mkdir(parents=True)
    # A stand-in for the venv: its python logs every call and runs Python 3.8.
    (venv / "bin" / "python").write_text(
        f'#!/usr/bin/env bash\necho "venv python $*" >> "$FAKE_LOG"\nexec "{python38}" "$@"\n')
    (venv / "bin" / "python").chmod(0o755)
    (venv / "bin" / "activate").write_text(
        f'export VIRTUAL_ENV="{venv}" PATH="{venv}/bin:$PATH"\n')
    version = subprocess.run([python38, "-c", "import sys; print(sys.version.split()[0])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    checksum = subprocess.run(["bash", "-c", 'cat "$1" | cksum', "bash",
                               str(sandbox.project / "requirements-lab.txt")],
                              capture_output=True, text=True, check=True).stdout.strip()
    (venv / ".dnn-setup-stamp").write_text(f"{checksum} {version}\n")
    completed, calls = sandbox.source(
        'source setup_env.sh && python -c "import sys; print(sys.prefix)"', DNN_ENV="lab-floor")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "pip" not in calls, calls
    assert f"ready: Python {version} with the lab's versions in {venv}" in completed.stdout

    # requirements-lab.txt changed: pip installs it (the stand-in python logs the call).
    with open(sandbox.project / "requirements-lab.txt", "a") as stream:
        stream.write("# changed\n")
    (venv / "bin" / "python").write_text(
        '#!/usr/bin/env bash\necho "venv python $*" >> "$FAKE_LOG"\n'
        f'case "$*" in *"pip install"*) exit 0 ;; esac\nexec "{python38}" "$@"\n')
    completed, calls = sandbox.source(DNN_ENV="lab-floor")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert f"venv python -m pip install --quiet -r {sandbox.project}/requirements-lab.txt" in calls
    assert (venv / ".dnn-setup-stamp").read_text().split()[:2] != checksum.split()
