"""Tests of the environment files: requirements.txt, environment.yml, setup_env.sh.

environment.yml is read with a small line-based parser (the file is simple,
and PyYAML is not one of the project's dependencies).
"""

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements.txt"
ENVIRONMENT = ROOT / "environment.yml"
SETUP = ROOT / "setup_env.sh"

# Packages that need no "which script needs it" comment: pip itself is only the
# installer of environment.yml's "pip:" section.
INSTALLER_LINES = {"pip", "pip:"}


# ---------------------------------------------------------------------------
# Parsers
# ---------------------------------------------------------------------------
def _split_comment(line):
    spec, _, comment = line.partition("#")
    return spec.strip(), comment.strip()


def parse_requirements(text):
    """``{name: (version, comment)}`` of a requirements file with ``name==version`` lines.

    ``2.4.*`` is returned as ``2.4`` (the same pin as conda's ``=2.4``).
    """
    packages = {}
    for number, line in enumerate(text.splitlines(), 1):
        spec, comment = _split_comment(line)
        if not spec:
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\d+(?:\.\d+)*)(\.\*)?", spec)
        assert match, f"requirements.txt line {number}: expected name==version, got {spec!r}"
        name = match.group(1).lower()
        assert name not in packages, f"requirements.txt lists {name} twice"
        packages[name] = (match.group(2), comment)
    return packages


def parse_environment(text):
    """The parts of a conda environment.yml that the tests check.

    Returns ``{"name": ..., "channels": [...], "conda": {name: (version, comment)},
    "pip": {name: (version, comment)}, "other": [(item, comment)]}``: conda
    packages are ``name=version``, pip packages ``name==version`` in the
    ``- pip:`` list; items without a version land in ``other``.
    """
    result = {"name": None, "channels": [], "conda": {}, "pip": {}, "other": []}
    section = None
    pip_indent = None
    for number, line in enumerate(text.splitlines(), 1):
        spec, comment = _split_comment(line)
        if not spec:
            continue
        indent = len(line) - len(line.lstrip())
        if indent == 0:
            key, _, value = spec.partition(":")
            section, pip_indent = key.strip(), None
            if key == "name":
                result["name"] = value.strip()
            continue
        assert spec.startswith("- "), f"environment.yml line {number}: expected '- item'"
        item = spec[2:].strip()
        if section == "channels":
            result["channels"].append(item)
            continue
        assert section == "dependencies", f"environment.yml line {number}: unexpected {spec!r}"
        if pip_indent is not None and indent > pip_indent:
            match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\d+(?:\.\d+)*)(\.\*)?", item)
            assert match, f"environment.yml line {number}: expected name==version, got {item!r}"
            result["pip"][match.group(1).lower()] = (match.group(2), comment)
            continue
        pip_indent = indent if item == "pip:" else None
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)=(\d+(?:\.\d+)*)", item)
        if match:
            name = match.group(1).lower()
            assert name not in result["conda"], f"environment.yml lists {name} twice"
            result["conda"][name] = (match.group(2), comment)
        else:
            result["other"].append((item, comment))
    return result


@pytest.fixture(scope="module")
def requirements():
    return parse_requirements(REQUIREMENTS.read_text())


@pytest.fixture(scope="module")
def environment():
    return parse_environment(ENVIRONMENT.read_text())


def test_the_parsers_understand_both_notations():
    pip = parse_requirements("numpy==2.4.*   # all\ntensorflow==2.21.0  # models\n# note\n")
    assert pip == {"numpy": ("2.4", "all"), "tensorflow": ("2.21.0", "models")}
    conda = parse_environment("name: x\nchannels:\n  - conda-forge\ndependencies:\n"
                              "  - python=3.12  # why\n  - numpy=2.4  # all\n  - pip\n"
                              "  - pip:\n      # a comment line\n"
                              "      - tensorflow==2.21.0  # models\n")
    assert conda["name"] == "x" and conda["channels"] == ["conda-forge"]
    assert conda["conda"] == {"python": ("3.12", "why"), "numpy": ("2.4", "all")}
    assert conda["pip"] == {"tensorflow": ("2.21.0", "models")}
    assert conda["other"] == [("pip", ""), ("pip:", "")]


# ---------------------------------------------------------------------------
# The two package lists agree
# ---------------------------------------------------------------------------
def _versions(packages):
    return {name: version for name, (version, _) in packages.items()}


def test_requirements_and_environment_list_the_same_packages_and_versions(
        requirements, environment):
    from_yml = {**_versions(environment["conda"]), **_versions(environment["pip"])}
    assert "python" in from_yml, "environment.yml must pin python"
    del from_yml["python"]
    assert "python" not in requirements
    assert _versions(requirements) == from_yml


def test_tensorflow_comes_from_pip_in_the_conda_environment(requirements, environment):
    assert "tensorflow" in environment["pip"]
    assert "tensorflow" not in environment["conda"]
    assert "tensorflow" in requirements


def test_every_package_pins_at_least_the_minor_version(requirements, environment):
    for source, packages in (("requirements.txt", requirements),
                             ("environment.yml", {**environment["conda"], **environment["pip"]})):
        for name, (version, _) in packages.items():
            assert re.fullmatch(r"\d+\.\d+(\.\d+)?", version), f"{source}: {name}={version}"


def test_every_line_says_why(requirements, environment):
    entries = ([("requirements.txt", name, comment) for name, (_, comment) in requirements.items()]
               + [("environment.yml", name, comment)
                  for part in ("conda", "pip") for name, (_, comment) in environment[part].items()]
               + [("environment.yml", item, comment) for item, comment in environment["other"]
                  if item not in INSTALLER_LINES])
    assert len(entries) >= 2 * len(requirements)
    for source, name, comment in entries:
        assert comment, f"{source}: {name} has no comment saying which script needs it"
        if name != "python":
            assert re.search(r"\w\.py\b|\bevery|test suite", comment), (
                f"{source}: the comment of {name} names no script: {comment!r}")


def test_the_scripts_named_in_the_comments_exist(requirements, environment):
    comments = [comment for packages in (requirements, environment["conda"], environment["pip"])
                for _, comment in packages.values()]
    named = {name for comment in comments for name in re.findall(r"[\w/]+\.py\b", comment)}
    assert named, "no script is named in the comments"
    missing = sorted(name for name in named if not (ROOT / name).is_file())
    assert not missing, f"scripts named in the environment files do not exist: {missing}"


def test_environment_name_and_python_version(environment):
    assert environment["name"] == "myML"
    version = environment["conda"]["python"][0]
    major_minor = tuple(int(part) for part in version.split(".")[:2])
    assert (3, 10) <= major_minor <= (3, 13), f"TensorFlow 2.21 needs Python 3.10-3.13: {version}"


# ---------------------------------------------------------------------------
# setup_env.sh
# ---------------------------------------------------------------------------
@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_setup_env_has_valid_bash_syntax():
    completed = subprocess.run(["bash", "-n", str(SETUP)], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr


def _wanted_stamp():
    """The stamp setup_env.sh writes into the .venv after installing (same commands)."""
    checksum = subprocess.run(["bash", "-c", 'cat "$1" | cksum', "bash", str(REQUIREMENTS)],
                              capture_output=True, text=True, check=True).stdout.strip()
    nvidia_smi = shutil.which("nvidia-smi")
    gpu = nvidia_smi is not None and subprocess.run(
        [nvidia_smi], capture_output=True).returncode == 0
    return checksum + (" gpu" if gpu else "")


def _clean_environment():
    """The user's environment without an activated venv, using the venv path of the script."""
    env = dict(os.environ)
    venv = env.pop("VIRTUAL_ENV", None)
    if venv:
        env["PATH"] = os.pathsep.join(part for part in env.get("PATH", "").split(os.pathsep)
                                      if Path(part) != Path(venv) / "bin")
    env.pop("PYTHONHOME", None)
    env["DNN_ENV"] = "venv"  # the .venv even where conda exists
    return env


def test_setup_env_only_activates_an_up_to_date_venv():
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    stamp = ROOT / ".venv" / ".dnn-setup-stamp"
    if not (ROOT / ".venv" / "bin" / "python").is_file() or not stamp.is_file():
        pytest.skip("no .venv set up by setup_env.sh here (run 'source setup_env.sh' once); "
                    "the test must not install anything")
    if stamp.read_text().strip() != _wanted_stamp():
        pytest.skip("requirements.txt changed since the .venv was set up: sourcing "
                    "setup_env.sh would install packages")
    command = 'source setup_env.sh && python -c "import sys; print(sys.prefix)"'
    env = _clean_environment()
    for run in (1, 2):
        start = time.perf_counter()
        completed = subprocess.run(["bash", "-c", command], cwd=ROOT, env=env,
                                   capture_output=True, text=True, timeout=120)
        seconds = time.perf_counter() - start
        output = completed.stdout + completed.stderr
        assert completed.returncode == 0, output
        assert Path(completed.stdout.strip().splitlines()[-1]).resolve() == \
            (ROOT / ".venv").resolve(), output
        assert "setup_env: ready" in completed.stdout
        assert "installing" not in output, f"run {run} installed packages again:\n{output}"
        # Generous bound on purpose (a loaded 2-core machine); the real cost is
        # well under a second.  Installing would take minutes.
        assert seconds < 10, f"run {run} took {seconds:.1f} s"
    assert stamp.read_text().strip() == _wanted_stamp()


# ---------------------------------------------------------------------------
# setup_env.sh with conda: conda is not installed here, so a stand-in records
# what setup_env.sh asks of it.
# ---------------------------------------------------------------------------
FAKE_CONDA = r'''#!/usr/bin/env bash
echo "conda $*" >> "$FAKE_LOG"
case "$1 $2" in
    "shell.bash hook"|"shell.zsh hook")
        cat <<'HOOK'
conda() {
    if [ "$1" = activate ]; then
        export CONDA_PREFIX="$FAKE_ROOT/envs/$2"
        echo "activate $2" >> "$FAKE_LOG"
    else
        command conda "$@"
    fi
}
HOOK
        ;;
    "env list") [ -d "$FAKE_ROOT/envs/myML" ] && echo "myML    $FAKE_ROOT/envs/myML" ;;
    "env create") mkdir -p "$FAKE_ROOT/envs/myML" ;;
esac
exit 0
'''
FAKE_PYTHON = '#!/usr/bin/env bash\necho "python $*" >> "$FAKE_LOG"\necho "Python 3.12.0"\n'


@pytest.fixture()
def conda_sandbox(tmp_path):
    """A copy of the set-up files and a PATH with the stand-ins for conda and python."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("setup_env.sh", "environment.yml", "requirements.txt"):
        shutil.copy(ROOT / name, project / name)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("conda", FAKE_CONDA), ("python", FAKE_PYTHON)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "calls.log"
    environment = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path),
                   "FAKE_LOG": str(log), "FAKE_ROOT": str(tmp_path / "conda")}

    def source(gpu=False):
        if gpu:
            (bin_dir / "nvidia-smi").write_text("#!/bin/sh\nexit 0\n")
            (bin_dir / "nvidia-smi").chmod(0o755)
        log.write_text("")
        completed = subprocess.run(["bash", "-c", "source setup_env.sh && echo PREFIX=$CONDA_PREFIX"],
                                   cwd=project, env=environment, capture_output=True, text=True,
                                   timeout=60)
        return completed, log.read_text()

    return project, source


def test_setup_env_creates_the_conda_environment_once(conda_sandbox):
    project, source = conda_sandbox
    completed, calls = source()
    assert completed.returncode == 0, completed.stderr
    assert f"conda env create -f {project}/environment.yml" in calls
    assert "activate myML" in calls
    assert "PREFIX=" in completed.stdout and completed.stdout.strip().endswith("envs/myML")

    # The second time it only activates: no create, no update, no pip.
    completed, calls = source()
    assert completed.returncode == 0, completed.stderr
    assert "activate myML" in calls
    assert "env create" not in calls and "env update" not in calls and "pip" not in calls


def test_setup_env_updates_the_conda_environment_when_environment_yml_changes(conda_sandbox):
    project, source = conda_sandbox
    source()
    with open(project / "environment.yml", "a") as stream:
        stream.write("  # a new comment changes the checksum\n")
    completed, calls = source()
    assert completed.returncode == 0, completed.stderr
    assert f"conda env update -n myML -f {project}/environment.yml" in calls
    assert "env create" not in calls


def test_setup_env_adds_the_cuda_extra_with_an_nvidia_gpu(conda_sandbox):
    _, source = conda_sandbox
    completed, calls = source(gpu=True)
    assert completed.returncode == 0, completed.stderr
    assert "NVIDIA GPU found" in completed.stdout
    pinned = re.search(r"^tensorflow==(\S+)", (ROOT / "requirements.txt").read_text(), re.M)
    assert f"python -m pip install tensorflow[and-cuda]=={pinned.group(1)}" in calls
