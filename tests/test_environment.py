"""Tests of the environment files: requirements.txt, environment.yml, setup_env.sh.

environment.yml is read with a small line-based parser (the file is simple,
and PyYAML is not one of the project's dependencies).
"""

import os
import re
import shutil
import subprocess
import sys
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
# requirements-lab.txt: the lab's floor, which CI tests on Python 3.8
# ---------------------------------------------------------------------------
REQUIREMENTS_LAB = ROOT / "requirements-lab.txt"

# Packages only the test suite needs (the floor check of a foreign environment
# in setup_env.sh asks only for what the scripts import).
TEST_ONLY = {"pytest", "hypothesis", "nbclient", "ipykernel", "nbformat"}


def _version_tuple(version):
    return tuple(int(part) for part in version.split("."))


@pytest.fixture(scope="module")
def lab_requirements():
    return parse_requirements(REQUIREMENTS_LAB.read_text())


@pytest.fixture(scope="module")
def floor():
    """The minimum versions setup_env.sh checks in an environment it did not make."""
    match = re.search(r'^_dnn_floor="([^"]*)"', SETUP.read_text(), re.M)
    assert match, "setup_env.sh has no _dnn_floor=\"...\" line"
    return {name: version for name, _, version in
            (item.partition("=") for item in match.group(1).split())}


def test_the_lab_floor_has_every_package_of_requirements_txt(requirements, lab_requirements):
    missing = sorted(set(requirements) - set(lab_requirements))
    assert not missing, f"requirements-lab.txt lacks {missing}"
    # keras-gpu installs the standalone Keras 2.4 beside TensorFlow 2.4, as in the lab
    assert lab_requirements["keras"][0] == "2.4.3"


def test_the_lab_floor_pins_exact_versions_each_with_a_reason(lab_requirements):
    for name, (version, comment) in lab_requirements.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"requirements-lab.txt: {name}=={version}"
        assert re.search(r"\w\.py\b|\bevery|test suite", comment), (
            f"requirements-lab.txt: the comment of {name} names no script: {comment!r}")
    named = {name for _, comment in lab_requirements.values()
             for name in re.findall(r"[\w/]+\.py\b", comment)}
    missing = sorted(name for name in named if not (ROOT / name).is_file())
    assert not missing, f"scripts named in requirements-lab.txt do not exist: {missing}"


def test_the_lab_floor_meets_the_floor_and_stays_below_the_pinned_set(
        requirements, lab_requirements, floor):
    assert floor["python"] == "3.8"
    assert set(floor) - {"python"} == set(requirements) - TEST_ONLY, (
        "setup_env.sh's floor must name exactly the packages the scripts import")
    for name, minimum in floor.items():
        if name == "python":
            continue
        lab = lab_requirements[name][0]
        assert _version_tuple(lab)[:len(_version_tuple(minimum))] >= _version_tuple(minimum), \
            f"requirements-lab.txt: {name}=={lab} is below the floor {minimum}"
        pinned = requirements[name][0]
        assert _version_tuple(lab) <= _version_tuple(pinned) + (99,), \
            f"requirements-lab.txt: {name}=={lab} is newer than requirements.txt's {pinned}"


def test_the_floor_check_reports_missing_and_old_packages():
    """setup_env.sh's check program, run with this Python against a made-up floor."""
    code = re.search(r"^_dnn_check_code='(.*?)^'", SETUP.read_text(), re.M | re.S).group(1)
    run = subprocess.run([sys.executable, "-c", code, "python=3.8 pytest=1.0 no_such_module=1"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    problems, wanted = run.stdout.splitlines()
    assert problems == "no_such_module is missing"
    assert wanted == "no_such_module"
    run = subprocess.run([sys.executable, "-c", code, "python=3.8 pytest=99.0"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert run.stdout.splitlines()[1] == '"pytest>=99.0"'
    run = subprocess.run([sys.executable, "-c", code, "python=3.8 pytest=1.0"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.startswith("Python 3.") and "pytest" in run.stdout


def test_ci_runs_the_readme_test_command_then_the_floor_leg():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    command = "source setup_env.sh && python -m pytest"
    assert f"    {command}" in readme.splitlines(), "README.md has no test command line"
    lines = [line.strip() for line in ci.splitlines()]
    assert command in lines, ".ci/run must run the README's test command exactly"
    floor_leg = f"DNN_ENV=lab-floor {command}"
    assert floor_leg in lines, ".ci/run must run the lab-floor leg"
    assert lines.index(command) < lines.index(floor_leg)
