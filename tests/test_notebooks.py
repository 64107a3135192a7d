"""The notebooks in notebooks/: generated from the scripts, fresh, and run in a real Jupyter kernel.

- Every script written in ``# %%`` cells has its notebook, and the notebook
  is what ``tools/make_notebooks.py`` makes of the script now (the tool's
  check, in this process).  The tool's rules are tested on small scripts
  written into ``tmp_path``.
- Every notebook runs, unchanged, in a real kernel (nbclient + ipykernel) of
  this very Python, started in notebooks/ as Jupyter starts it.  The tiny
  settings reach the scripts through the environment variable
  ``DNN_NOTEBOOK_ARGS`` of the kernel, which ``runtime.parse_args`` reads
  in a notebook.  MPLBACKEND and TF_CPP_MIN_LOG_LEVEL, which the tests set,
  are removed from the kernel's environment, as in a student's Jupyter: so
  ipykernel's inline backend draws the figures as image/png outputs, and
  dnnkit sets TensorFlow's log level (the C++ lines that TensorFlow writes
  before its logging starts remain, and are let through).  The test checks what a
  student sees under each cell: no error and nothing on stderr, the data's
  shapes, the model summary, the epochs of training, and every saved figure
  under the cell that made it.  Two kernels run at a time (TensorFlow's
  import takes seconds in each).  The kernels are the full tier
  (``python -m pytest --full``); the smoke tier checks that the notebooks are
  the scripts' (which test_scripts.py runs on tiny settings) and how
  ``runtime.parse_args`` reads the options in a kernel (test_runtime.py).
"""

import asyncio
import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dnnkit import lecture

# jupyter_core 5 warns about its coming change of folders when jupyter_client is imported.
pytestmark = pytest.mark.filterwarnings("ignore:Jupyter is migrating its paths:DeprecationWarning")

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "make_notebooks.py"


def load_tool():
    specification = importlib.util.spec_from_file_location("make_notebooks", TOOL)
    module = importlib.util.module_from_spec(specification)
    specification.loader.exec_module(module)
    return module


make_notebooks = load_tool()
SCRIPTS = lecture.names()
KERNEL_NAME = "dnn-notebook-test"
PARALLEL_KERNELS = 2
CELL_TIMEOUT = 600  # seconds for one cell; a tiny training takes a few


# ---------------------------------------------------------------------------
# The notebooks in the repository
# ---------------------------------------------------------------------------
def test_every_example_has_a_fresh_notebook_and_no_notebook_is_extra():
    assert make_notebooks.check(SCRIPTS, ROOT) == []


def test_notebooks_are_valid_and_without_outputs():
    nbformat = pytest.importorskip("nbformat")
    for name in SCRIPTS:
        path = ROOT / "notebooks" / f"{name}.ipynb"
        notebook = nbformat.read(str(path), as_version=4)
        nbformat.validate(notebook)
        assert (notebook.nbformat, notebook.nbformat_minor) == (4, 4)
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        assert all(cell.outputs == [] and cell.execution_count is None for cell in code), name
        assert notebook.cells[0].cell_type == "markdown"
        assert notebook.cells[0].source.startswith("# "), notebook.cells[0].source[:80]
        assert f"generated from `{name}.py`" in notebook.cells[0].source


# ---------------------------------------------------------------------------
# The tool's rules, on small scripts
# ---------------------------------------------------------------------------
SMALL_SCRIPT = '''\
"""A small example.

It shows how the cells become a notebook.
"""

# %% Set-up
# The options come first.
#
# A second paragraph.
from dnnkit import runtime

parser = runtime.make_parser(__doc__, epochs=3, data=True)


# %% Only prose
# Nothing to run here.

# %% Data
x = [1, 2, 3]  # a comment in the code
# a comment line between code lines
text = """
# %% not a cell: inside a string
"""

# %%
print(len(x))

'''


def write_project(root, scripts):
    (root / "dnnkit").mkdir()
    for name, text in scripts.items():
        (root / f"{name}.py").write_text(text, encoding="utf-8")


def cell_texts(text):
    return [(cell["cell_type"], "".join(cell["source"])) for cell in json.loads(text)["cells"]]


def test_cells_prose_and_code(tmp_path):
    write_project(tmp_path, {"small": SMALL_SCRIPT})
    text = make_notebooks.notebook_text(tmp_path / "small.py", ("--epochs", "2"))
    cells = cell_texts(text)
    kind, introduction = cells[0]
    assert kind == "markdown"
    assert introduction.startswith("# A small example\n\nIt shows how the cells become a notebook.\n")
    for words in ("generated from `small.py`", "edit the script, not the notebook",
                  'DNN_NOTEBOOK_ARGS="--epochs 2" jupyter lab', "python small.py --help"):
        assert words in introduction, words
    assert cells[1][0] == "code" and "os.chdir(" in cells[1][1]
    assert cells[2:] == [
        ("markdown", "## Set-up\n\nThe options come first.\n\nA second paragraph."),
        ("code", "from dnnkit import runtime\n\n"
                 "parser = runtime.make_parser(__doc__, epochs=3, data=True)"),
        ("markdown", "## Only prose\n\nNothing to run here."),
        ("markdown", "## Data"),
        ("code", 'x = [1, 2, 3]  # a comment in the code\n'
                 '# a comment line between code lines\n'
                 'text = """\n# %% not a cell: inside a string\n"""'),
        ("code", "print(len(x))"),
    ]
    # The same text every time: nbformat 4.4 (no cell ids, opens in every Jupyter), no outputs.
    assert text == make_notebooks.notebook_text(tmp_path / "small.py", ("--epochs", "2"))
    notebook = json.loads(text)
    assert (notebook["nbformat"], notebook["nbformat_minor"]) == (4, 4)
    assert not any("id" in cell for cell in notebook["cells"])
    nbformat = pytest.importorskip("nbformat")
    nbformat.validate(nbformat.reads(text, as_version=4))
    # Without quick settings, the introduction names another way to set options.
    plain = cell_texts(make_notebooks.notebook_text(tmp_path / "small.py"))[0][1]
    assert "--epochs" not in plain and 'DNN_NOTEBOOK_ARGS="--seed 1"' in plain
    # A model script's (it has --live) says where --live's curves grow.
    assert "--live" not in plain
    live = cell_texts(make_notebooks.notebook_text(tmp_path / "small.py", live=True))[0][1]
    assert live.endswith("With `--live` among them the training curves grow under the "
                         "training cell, epoch by epoch.")


def test_a_demo_s_notebook_says_what_works_there_and_chooses_the_widget_backend(tmp_path):
    write_project(tmp_path, {"small": SMALL_SCRIPT})
    plain = cell_texts(make_notebooks.notebook_text(tmp_path / "small.py"))
    demo = cell_texts(make_notebooks.notebook_text(tmp_path / "small.py",
                                                   in_a_notebook="Drawing works."))
    assert demo[0][1].startswith("# A small example\n\n**In this notebook:** Drawing works.\n\n"
                                 "It shows how the cells become a notebook.\n")
    assert "In this notebook" not in plain[0][1]
    assert "%matplotlib" not in plain[1][1]
    # Only where ipympl is installed (the lab's myML has none): no error without it.
    assert demo[1][1].startswith(plain[1][1])
    assert demo[1][1].endswith('if importlib.util.find_spec("ipympl") is not None:\n'
                               '    %matplotlib widget')
    for example in lecture.EXAMPLES:
        assert bool(example.notebook) == (example.kind == "demo"), example.name


def test_the_first_code_cell_finds_the_project_folder(tmp_path):
    """Run in notebooks/ (as Jupyter starts a notebook), the cell goes to the folder with dnnkit/."""
    write_project(tmp_path, {"small": SMALL_SCRIPT})
    (tmp_path / "notebooks").mkdir()
    code = cell_texts(make_notebooks.notebook_text(tmp_path / "small.py"))[1][1]
    for start in (tmp_path / "notebooks", tmp_path):
        completed = subprocess.run([sys.executable, "-c", code + "\nimport dnnkit"],
                                   cwd=str(start), capture_output=True, text=True, timeout=60)
        assert completed.returncode == 0, completed.stderr
        assert completed.stdout == f"Working folder: {tmp_path.resolve()}\n"


def test_check_reports_stale_missing_and_extra_notebooks_and_writes_nothing(tmp_path, capsys):
    write_project(tmp_path, {"a": SMALL_SCRIPT, "b": SMALL_SCRIPT})
    assert make_notebooks.check(["a", "b"], tmp_path) == [
        "notebooks/a.ipynb is missing: run python tools/make_notebooks.py",
        "notebooks/b.ipynb is missing: run python tools/make_notebooks.py"]
    make_notebooks.write(["a", "b"], tmp_path)
    assert capsys.readouterr().out.splitlines() == ["Wrote notebooks/a.ipynb",
                                                    "Wrote notebooks/b.ipynb"]
    assert make_notebooks.check(["a", "b"], tmp_path) == []

    (tmp_path / "a.py").write_text(SMALL_SCRIPT.replace("x = [1, 2, 3]", "x = [4]"),
                                   encoding="utf-8")
    (tmp_path / "b.py").rename(tmp_path / "c.py")
    before = {path.name: path.read_bytes() for path in (tmp_path / "notebooks").iterdir()}
    assert make_notebooks.check(["a", "c"], tmp_path) == [
        "notebooks/a.ipynb is out of date with a.py: run python tools/make_notebooks.py",
        "notebooks/c.ipynb is missing: run python tools/make_notebooks.py",
        "notebooks/b.ipynb has no script: run python tools/make_notebooks.py to remove it"]
    assert {path.name: path.read_bytes() for path in (tmp_path / "notebooks").iterdir()} == before

    make_notebooks.write(["a", "c"], tmp_path)
    assert capsys.readouterr().out.splitlines() == [
        "Wrote notebooks/a.ipynb", "Wrote notebooks/c.ipynb",
        "Removed notebooks/b.ipynb (no script)"]
    assert "x = [4]" in (tmp_path / "notebooks" / "a.ipynb").read_text(encoding="utf-8")


@pytest.mark.parametrize("source, message", [
    ('"""Code first."""\nimport os\n\n# %% Set-up\nx = 1\n',
     "bad.py: code before the first '# %%' cell: move it into a cell"),
    ("# %% Set-up\nx = 1\n", "bad.py: no module docstring before the first '# %%' cell"),
    ('"""Broken."""\n(\n# %% Set-up\nx = 1\n', "bad.py line "),
    ('"""No cells."""\n', "bad.py has no '# %% Title' cells"),
])
def test_a_script_the_tool_cannot_read_is_one_line_and_writes_nothing(tmp_path, source, message):
    write_project(tmp_path, {"good": SMALL_SCRIPT, "bad": source})
    with pytest.raises(make_notebooks.NotebookError, match=re.escape(message)):
        make_notebooks.write(["good", "bad"], tmp_path)
    assert not (tmp_path / "notebooks").exists()


def test_the_command_line_names_examples_of_the_manifest_only():
    completed = subprocess.run([sys.executable, str(TOOL), "--check", "nothere"], cwd=str(ROOT),
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2 and completed.stdout == ""
    assert completed.stderr.startswith("Error: nothere: not in dnnkit/lecture.py; the examples "
                                       "are: intro "), completed.stderr


# ---------------------------------------------------------------------------
# Running the notebooks in a real kernel
# ---------------------------------------------------------------------------
def jupyter_packages():
    """``(nbformat, nbclient, AsyncKernelManager, KernelSpecManager)``, or skip the test."""
    try:
        import ipykernel  # noqa: F401  (the kernel runs this Python: it needs ipykernel)
        import nbclient
        import nbformat
        from jupyter_client import AsyncKernelManager
        from jupyter_client.kernelspec import KernelSpecManager
    except ImportError as error:
        pytest.skip(f"running the notebooks needs nbclient, nbformat and ipykernel "
                    f"(pip install -r requirements.txt): {error}")
    return nbformat, nbclient, AsyncKernelManager, KernelSpecManager


def notebook_settings(name):
    """The script's tiny settings, with 2 epochs: Keras 3 prints no "Epoch 1/1" line for one."""
    settings = list(lecture.example(name).tiny)
    if "--epochs" in settings:
        settings[settings.index("--epochs") + 1] = "2"
    return settings


def write_kernel_spec(folder):
    """A kernel spec that starts ipykernel with this very Python (not whatever 'python3' is)."""
    spec = folder / KERNEL_NAME
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Python {sys.version.split()[0]} ({sys.executable})",
        "language": "python",
    }), encoding="utf-8")
    return folder


#: Left out of the kernels' environment.  The first three are set for the tests
#: (tests/conftest.py, pytest), not in a student's Jupyter: MPLBACKEND=Agg would hide the
#: figures; TF_CPP_MIN_LOG_LEVEL is set by dnnkit where the user did not.  DNN_DATA_DIR:
#: the notebooks run on the shipped samples in both tiers, since what they test is the
#: notebook (its cells, the kernel, the figures), not the data; the scripts' runs on the
#: full data are test_scripts.py's (--full).
NOT_IN_KERNEL_ENVIRONMENT = ("MPLBACKEND", "PYTEST_CURRENT_TEST", "TF_CPP_MIN_LOG_LEVEL",
                             "DNN_DATA_DIR")


def kernel_environment(notebook_args):
    """This process's environment, as a student's Jupyter would have it, with the tiny options."""
    environment = {key: value for key, value in os.environ.items()
                   if key not in NOT_IN_KERNEL_ENVIRONMENT}
    environment.update(DNN_NO_DOWNLOAD="1",
                       DNN_NOTEBOOK_ARGS=" ".join(shlex.quote(word) for word in notebook_args))
    return environment


async def execute(notebook, environment, kernel_folder, limit):
    """Run every cell of ``notebook`` in a new kernel started in notebooks/; return seconds."""
    _, nbclient, AsyncKernelManager, KernelSpecManager = jupyter_packages()
    async with limit:
        started = time.perf_counter()
        manager = AsyncKernelManager(
            kernel_name=KERNEL_NAME,
            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernel_folder)],
                                                  ensure_native_kernel=False))
        client = nbclient.NotebookClient(notebook, km=manager, timeout=CELL_TIMEOUT,
                                         resources={"metadata": {"path": str(ROOT / "notebooks")}})
        try:
            await client.async_execute(env=environment)
        finally:
            if client.kc is not None:
                client.kc.stop_channels()
            if manager.has_kernel:
                await manager.shutdown_kernel(now=True)
        return time.perf_counter() - started


async def execute_all(jobs, kernel_folder):
    """Run the notebooks of ``jobs`` (name -> (notebook, environment)), two kernels at a time."""
    limit = asyncio.Semaphore(PARALLEL_KERNELS)
    names = list(jobs)
    outcomes = await asyncio.gather(
        *(execute(*jobs[name], kernel_folder, limit) for name in names), return_exceptions=True)
    return dict(zip(names, outcomes))


def selected_notebooks(session):
    names = {item.callspec.params["name"] for item in session.items
             if getattr(item, "originalname", None) == "test_notebook_runs_in_a_kernel"
             and hasattr(item, "callspec")}
    return [name for name in SCRIPTS if name in names]


def says_it_needs_a_window(name):
    """True for a demo run in a kernel without ipympl (this Python's): no widget backend."""
    return lecture.example(name).kind == "demo" and importlib.util.find_spec("ipympl") is None


@pytest.fixture(scope="module")
def executed(request, tmp_path_factory):
    """Each selected notebook run in a kernel: name -> (notebook, outdir, seconds or error)."""
    nbformat = jupyter_packages()[0]
    kernel_folder = write_kernel_spec(tmp_path_factory.mktemp("kernels"))
    jobs, outdirs = {}, {}
    for name in selected_notebooks(request.session):
        outdirs[name] = tmp_path_factory.mktemp(f"figures-{name}")
        notebook = nbformat.read(str(ROOT / "notebooks" / f"{name}.ipynb"), as_version=4)
        # A demo without ipympl (the lab's myML) runs as a student runs it there, without
        # --no-show: it must then say in one line what it needs (test_notebook_runs_in_a_kernel).
        no_show = [] if says_it_needs_a_window(name) else ["--no-show"]
        arguments = [*notebook_settings(name), *no_show, "--outdir", str(outdirs[name])]
        if lecture.example(name).kind == "study":  # its runs there too, never in results/study
            arguments += ["--runs-dir", str(outdirs[name] / "runs")]
        jobs[name] = (notebook, kernel_environment(arguments))
    outcomes = asyncio.run(execute_all(jobs, kernel_folder))
    for name, outcome in outcomes.items():
        if not isinstance(outcome, BaseException):
            print(f"{name}.ipynb ran in {outcome:.1f} s")
    return {name: (jobs[name][0], outdirs[name], outcomes[name]) for name in jobs}


@pytest.mark.full
def test_the_kernel_is_this_python_with_the_test_environment(tmp_path):
    nbformat = jupyter_packages()[0]
    code = ("import os, sys\nprint(sys.executable)\n"
            "print(os.environ['DNN_NOTEBOOK_ARGS'], os.environ['DNN_NO_DOWNLOAD'])\n"
            "print(os.environ.get('MPLBACKEND'))\nprint(os.getcwd())")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    environment = kernel_environment(["--epochs", "1", "--outdir", "a folder"])
    kernels = write_kernel_spec(tmp_path)
    outcome = asyncio.run(execute_all({"probe": (notebook, environment)}, kernels))["probe"]
    if isinstance(outcome, BaseException):
        raise outcome
    lines = "".join(output.get("text", "") for output in notebook.cells[0].outputs).splitlines()
    assert lines[0] == sys.executable
    assert lines[1] == "--epochs 1 --outdir 'a folder' 1"
    # No Agg from the test's MPLBACKEND: ipykernel chose its inline backend.
    assert "inline" in lines[2], lines[2]
    assert Path(lines[3]) == ROOT / "notebooks"


@pytest.mark.full
def test_bad_notebook_options_show_one_line_in_the_first_cell(tmp_path):
    """Invalid $DNN_NOTEBOOK_ARGS: the set-up cell shows the line "Error: ..." (no traceback,
    no usage), and fails, so that Run All stops there, as the script stops with exit code 2."""
    nbformat = jupyter_packages()[0]
    name = "MLP_MNIST_digits_tf"
    notebook = nbformat.read(str(ROOT / "notebooks" / f"{name}.ipynb"), as_version=4)
    environment = kernel_environment(["--epochs", "zero"])
    kernels = write_kernel_spec(tmp_path)
    outcome = asyncio.run(execute_all({name: (notebook, environment)}, kernels))[name]
    assert type(outcome).__name__ == "CellExecutionError", outcome
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    set_up = code[1]  # the script's first cell, after the generated one
    assert not [output for output in set_up.outputs if output.output_type == "error"]
    stderr = "".join(output.text for output in set_up.outputs
                     if output.output_type == "stream" and output.name == "stderr")
    assert stderr == (
        "Error: argument --epochs: expected a whole number, got 'zero' (in "
        "$DNN_NOTEBOOK_ARGS='--epochs zero'): set it to valid options before starting "
        "Jupyter (the script's --help lists them)\n")
    assert all(cell.execution_count is None for cell in code[2:]), "Run All must stop there"


def text_of(cell):
    """What a cell shows as text: its printed lines and its results."""
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def png_count(cell):
    return sum(1 for output in cell.outputs if output.output_type == "display_data"
               and "image/png" in output.get("data", {}))


def option(arguments, name):
    return arguments[arguments.index(name) + 1] if name in arguments else None


#: What may stand on stderr: the warning that the shipped sample stands in for the full
#: data, and the C++ log lines TensorFlow writes before its logging starts, which no
#: documented setting holds back (absl's format: I0000 00:00:1796520902.065498 28655 port.cc:153] ...).
ALLOWED_ON_STDERR = re.compile(
    r"^Warning: using the small (Fashion-)?MNIST sample shipped with the project"
    r"|^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|^[IWE]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] ")


@pytest.mark.full
@pytest.mark.parametrize("name", SCRIPTS)
def test_notebook_runs_in_a_kernel(name, executed):
    notebook, outdir, outcome = executed[name]
    if isinstance(outcome, BaseException):
        raise outcome  # nbclient's CellExecutionError names the cell and shows the traceback
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    errors = [output for cell in code_cells for output in cell.outputs
              if output.output_type == "error"]
    assert not errors, errors
    # Nothing else on stderr: no warnings for a student to puzzle over.
    stderr = [line for cell in code_cells for output in cell.outputs
              if output.output_type == "stream" and output.name == "stderr"
              for line in output.text.splitlines()
              if line.strip() and not ALLOWED_ON_STDERR.match(line)]
    assert not stderr, stderr
    # The generated first cell moved to the project folder.
    assert text_of(code_cells[0]).strip() == f"Working folder: {ROOT}"
    # Without ipympl, a demo says in one line that it needs a window or ipympl.
    needs = [line for cell in code_cells for line in text_of(cell).splitlines()
             if "needs a window" in line]
    if says_it_needs_a_window(name):
        assert len(needs) == 1 and "ipympl" in needs[0], needs
    else:
        assert needs == []
    # The script's cells, by their titles, in the order of the script.
    _, cells = make_notebooks.script_cells(ROOT / f"{name}.py")
    titled = list(zip([title for title, _, code in cells if code], code_cells[1:]))
    assert len(code_cells) == 1 + len(titled)
    assert titled[0][0] == "Set-up", titled[0][0]
    # The first cell titled "Data", or "Data: what it is" (not "Data files").
    cell = {word: next((code for title, code in titled if re.match(word + r"(:|$)", title)), None)
            for word in ("Data", "Model", "Training")}

    if lecture.example(name).trains:
        assert cell["Data"] and cell["Model"] and cell["Training"], [title for title, _ in titled]
    if cell["Model"] and cell["Training"]:  # a model script (or one written like one)
        settings = notebook_settings(name)
        assert cell["Data"], "a script with a Model and a Training cell needs a Data cell"
        shapes = re.findall(r"\((\d+), \d+(?:, \d+)*\)", text_of(cell["Data"]))
        assert shapes, text_of(cell["Data"])
        if option(settings, "--max-samples"):
            assert option(settings, "--max-samples") in shapes, shapes
        assert "Total params" in text_of(cell["Model"])
        epochs = int(option(settings, "--epochs"))
        training = text_of(cell["Training"])
        for epoch in range(1, epochs + 1):
            assert f"Epoch {epoch}/{epochs}" in training, training[-500:]
        assert f"Epoch {epochs + 1}/" not in training

    # Every figure is shown as image/png under the cell that saved it, and nowhere else.
    saved = [(title, code.source.count("plotting.save_figure(")) for title, code in titled]
    shown = [(title, png_count(code)) for title, code in titled]
    assert shown == saved
    assert png_count(code_cells[0]) == 0
    # ... with its "Saved <path>" line, and no Out[] repeating the path.
    for (title, count), (_, code) in zip(saved, titled):
        if count:
            assert text_of(code).count("Saved ") == count, (title, text_of(code))
            assert not [output for output in code.outputs
                        if output.output_type == "execute_result"], title
    # --outdir from DNN_NOTEBOOK_ARGS: the figures went to the test's folder.
    assert len(list(Path(outdir).glob("*.png"))) == sum(count for _, count in saved)
    if lecture.example(name).kind == "study":  # --runs-dir too: the stored runs went there
        assert list(Path(outdir).glob("runs/*/*.json")), "the study stored no run in --runs-dir"
