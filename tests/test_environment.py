"""Tests of the environment files: requirements.txt, requirements-lab.txt, environment.yml,
setup_env.sh.

The requirement lines are read with ``packaging`` (pip's own rules) and
environment.yml with PyYAML (both come with the test environment: pytest
needs packaging, jupytext PyYAML).
"""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements.txt"
ENVIRONMENT = ROOT / "environment.yml"
SETUP = ROOT / "setup_env.sh"


def parse_requirements(text):
    """``{name: version}`` of a requirements file of ``name==version`` lines (``2.4.*`` -> ``2.4``)."""
    packages = {}
    for line in text.splitlines():
        spec = line.partition("#")[0].strip()
        if spec:
            requirement = Requirement(spec)
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", f"{spec}: pin it with =="
            packages[requirement.name.lower()] = specifier.version.replace(".*", "")
    return packages


@pytest.fixture(scope="module")
def requirements():
    return parse_requirements(REQUIREMENTS.read_text())


def test_requirements_and_environment_list_the_same_packages_and_versions(requirements):
    """conda's environment.yml and pip's requirements.txt install the same set."""
    dependencies = yaml.safe_load(ENVIRONMENT.read_text())["dependencies"]
    from_yml = {}
    for item in dependencies:
        if isinstance(item, dict):  # the pip: section (TensorFlow)
            from_yml.update(parse_requirements("\n".join(item["pip"])))
        elif "=" in item:
            name, _, version = item.partition("=")
            from_yml[name.lower()] = version
    del from_yml["python"]
    assert requirements == from_yml


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

# Packages only the test suite and tools/make_notebooks.py need (the floor check
# of a foreign environment in setup_env.sh asks only for what the scripts import).
TEST_ONLY = {"pytest", "pytest-xdist", "nbclient", "ipykernel", "nbformat", "jupytext", "selenium"}
#: Not on the lab's floor: myML brings its own Jupyter and has no ipympl (the demos'
#: notebooks then say in one line what they need); the browser test, the only user of
#: selenium, runs on the pinned versions (tests/test_notebooks_browser.py).
NOT_ON_THE_LAB_FLOOR = {"jupyterlab", "ipympl", "selenium"}
NOTEBOOK_ONLY = {"jupyterlab", "ipympl"}  # the notebooks', not the scripts' (setup_env.sh's floor)


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
    missing = sorted(set(requirements) - set(lab_requirements) - NOT_ON_THE_LAB_FLOOR)
    assert not missing, f"requirements-lab.txt lacks {missing}"
    assert "ipympl" not in lab_requirements, "the lab's myML has no ipympl: the floor neither"


def test_the_lab_floor_meets_the_floor_and_stays_below_the_pinned_set(
        requirements, lab_requirements, floor):
    assert floor["python"] == "3.8"
    assert set(floor) - {"python"} == set(requirements) - TEST_ONLY - NOTEBOOK_ONLY, (
        "setup_env.sh's floor must name exactly the packages the scripts import")
    for name, minimum in floor.items():
        if name == "python":
            continue
        lab = lab_requirements[name]
        assert _version_tuple(lab)[:len(_version_tuple(minimum))] >= _version_tuple(minimum), \
            f"requirements-lab.txt: {name}=={lab} is below the floor {minimum}"
        pinned = requirements[name]
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


def test_ci_runs_the_readme_test_command_then_the_full_tier_and_the_floor_leg():
    """The README's command (the smoke tier), the full tier's tests only in the same
    environment, then both tiers in the lab's floor; pytest's status 5 is no failure."""
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    command = "source setup_env.sh && python -m pytest"
    assert f"    {command}" in readme.splitlines(), "README.md has no test command line"
    assert "python -m pytest --full" in readme, "README.md does not name the full tier"
    lines = [line.strip() for line in ci.splitlines()]
    assert command in lines, ".ci/run must run the README's test command exactly"
    # Both full-tier runs list their slowest tests (--durations=20).
    full_tier = "python -m pytest --full -m full --durations=20"
    assert full_tier in lines, ".ci/run must run the full tier's tests after the README's"
    floor_leg = f"DNN_ENV=lab-floor {command} --full --durations=20"
    assert floor_leg in lines, ".ci/run must run both tiers in the lab-floor leg"
    assert lines.index(command) < lines.index(full_tier) < lines.index(floor_leg)
    assert '[ "$1" -eq 5 ] && return 0' in lines


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_ci_counts_no_test_selected_as_passed():
    """The function of .ci/run that reads pytest's status: 5 (no test selected) passes."""
    ci = (ROOT / ".ci" / "run").read_text()
    start = ci.index("passed_or_none() {")
    function = ci[start:ci.index("\n}\n", start) + 3]
    statuses = []
    for status in (0, 1, 2, 5):
        completed = subprocess.run(["bash", "-c", f"{function}\npassed_or_none {status}"],
                                   capture_output=True, text=True, timeout=30)
        statuses.append(completed.returncode)
    assert statuses == [0, 1, 2, 0]
