"""Generate notebooks/<script>.ipynb from every example script written in ``# %%`` cells.

The scripts are the source; the notebooks are generated from them (as
keras-io keeps generated notebooks beside its scripts) and never edited by
hand.  A script is every top-level ``*.py`` file of the project that has a
line starting with ``# %%`` and no ``def main(`` (``reproduce.py`` is not
one).  The rules:

- The module docstring becomes the first markdown cell: its first line as the
  title (``# Title``), the rest as text, then a generated paragraph that
  names the script, says how the notebook runs and how to make a quick run
  (the options in the environment variable ``DNN_NOTEBOOK_ARGS``).
- A short first code cell changes the working folder to the project folder
  (the one that holds ``dnnkit/``), where the scripts run: ``import dnnkit``,
  the data lookup and ``figures/`` then work as for the script.
- Each ``# %% Title`` line starts a cell.  The comment lines right after it
  (before the first code line or blank line) become a markdown cell,
  ``## Title`` and the prose with ``# `` stripped; the rest becomes a code
  cell, without leading and trailing blank lines.  A cell with only prose
  becomes only markdown.
- Code before the first ``# %%`` line, other than the docstring, is an error.

The output is nbformat 4.4 JSON without outputs, written the same way every
time: sorted keys, indent 1, a final newline.  Version 4.4 has no cell ids,
so every Jupyter opens it without a validation warning, also one older than
nbformat 5.1 (2021) such as a lab's; a newer Jupyter adds ids when it saves.
Standard library only.

Usage::

    python tools/make_notebooks.py              # write notebooks/ for every script
    python tools/make_notebooks.py --check      # exit 1 if a notebook is stale, missing or extra
    python tools/make_notebooks.py intro.py     # only these scripts
"""

import argparse
import ast
import io
import json
import re
import sys
import tokenize
from pathlib import Path

#: The project folder: the one that holds tools/ and dnnkit/.
ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_FOLDER = "notebooks"
NOT_SCRIPTS = ("reproduce.py",)
MARKER = "# %%"
NOTEBOOK_ARGS_VARIABLE = "DNN_NOTEBOOK_ARGS"

#: The first code cell of every notebook.
CHANGE_FOLDER_CELL = """\
# Jupyter starts this notebook in notebooks/; the script it comes from runs in the
# project folder (the one that holds dnnkit/).  Go there, so that `import dnnkit`,
# the data lookup and the figures/ folder work as for the script.
import os
import sys

if not os.path.isdir("dnnkit") and os.path.isdir(os.path.join("..", "dnnkit")):
    os.chdir("..")
if os.getcwd() not in sys.path:
    sys.path.insert(0, os.getcwd())
print("Working folder:", os.getcwd())"""

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


class NotebookError(Exception):
    """Bad input: reported as one line, exit code 2."""


def read_text(path):
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise NotebookError(f"{Path(path).name} is not UTF-8 text ({error.reason})") from None
    except OSError as error:
        raise NotebookError(f"cannot read {path}: {error.strerror or error}") from None


# ---------------------------------------------------------------------------
# Reading a script
# ---------------------------------------------------------------------------
def find_scripts(root=ROOT):
    """The example scripts in ``root``, sorted by name: ``*.py`` in ``# %%`` cells without main."""
    return [path for path in sorted(Path(root).glob("*.py"))
            if path.name not in NOT_SCRIPTS and is_cell_script(read_text(path))]


def is_cell_script(source):
    return (re.search(r"^# %%", source, re.MULTILINE) is not None
            and re.search(r"^\s*def main\(", source, re.MULTILINE) is None)


def _marker_lines(source, name):
    """Line numbers (1-based) of the ``# %%`` comments that start a line (not in a string)."""
    lines = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT and token.start[1] == 0 \
                    and token.string.startswith(MARKER):
                lines.append(token.start[0])
    except (tokenize.TokenError, SyntaxError) as error:  # caught by ast.parse first
        raise NotebookError(f"{name}: cannot read it: {error}") from None
    return lines


def _is_comment_or_blank(line):
    return not line.strip() or line.lstrip().startswith("#")


def _strip_comment(line):
    """``# text`` -> ``text``; ``#`` -> ````."""
    text = line.strip()[1:]
    return text[1:] if text.startswith(" ") else text


def _strip_blank_lines(lines):
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def parse_script(path):
    """``(docstring, cells)`` of a script; each cell is ``(title, prose lines, code lines)``."""
    return parse_source(read_text(path), Path(path).name)


def parse_source(source, name):
    """``(docstring, cells)`` of the script ``name`` whose text is ``source``."""
    try:
        tree = ast.parse(source, filename=name)
    except SyntaxError as error:
        raise NotebookError(f"{name} line {error.lineno}: syntax error: {error.msg}") from None
    docstring = ast.get_docstring(tree)
    if not docstring:
        raise NotebookError(f"{name}: no module docstring: the notebook's first cell is made "
                            f"from it (title line, what the script shows)")
    docstring_end = tree.body[0].end_lineno
    markers = _marker_lines(source, name)
    markers = [line for line in markers if line > docstring_end]
    if not markers:
        raise NotebookError(f"{name}: no '{MARKER} Title' cells after the docstring")
    lines = source.splitlines()
    for number in range(docstring_end + 1, markers[0]):
        if not _is_comment_or_blank(lines[number - 1]):
            raise NotebookError(f"{name} line {number}: code before the first '{MARKER}' cell: "
                                f"move it into a cell")
    for number in range(1, tree.body[0].lineno):
        if not _is_comment_or_blank(lines[number - 1]):
            raise NotebookError(f"{name} line {number}: code before the docstring")
    cells = []
    for start, end in zip(markers, markers[1:] + [len(lines) + 1]):
        title = lines[start - 1][len(MARKER):].strip()
        body = lines[start:end - 1]
        prose = []
        while body and body[0].startswith("#"):
            prose.append(_strip_comment(body.pop(0)))
        cells.append((title, prose, _strip_blank_lines(body)))
    return docstring, cells


# ---------------------------------------------------------------------------
# Writing a notebook
# ---------------------------------------------------------------------------
def quick_run_options(source):
    """The example options for a quick run, chosen by what the script's parser has."""
    call = re.search(r"runtime\.make_parser\(([^)]*)\)", source)
    arguments = call.group(1) if call else ""
    if "epochs=" in arguments and "data=True" in arguments:
        return "--epochs 2 --max-samples 5000"
    if "epochs=" in arguments:
        return "--epochs 2"
    return None


def introduction(script_name, docstring, source):
    """The first markdown cell: the docstring and the generated paragraph."""
    title, _, rest = docstring.partition("\n")
    title = title.strip()
    if title.endswith(".") and not title.endswith(".."):
        title = title[:-1]
    example = quick_run_options(source)
    if example:
        quick = (f"For a quick run, set the options in the environment variable "
                 f"`{NOTEBOOK_ARGS_VARIABLE}` before starting Jupyter, e.g. "
                 f"`{NOTEBOOK_ARGS_VARIABLE}=\"{example}\" jupyter notebook` "
                 f"(`python {script_name} --help` lists the options).")
    else:
        quick = (f"Other settings: set the options of `python {script_name} --help` in the "
                 f"environment variable `{NOTEBOOK_ARGS_VARIABLE}` before starting Jupyter, "
                 f"e.g. `{NOTEBOOK_ARGS_VARIABLE}=\"--seed 1\" jupyter notebook`.")
    generated = (f"*This notebook is generated from `{script_name}` by "
                 f"`tools/make_notebooks.py`: edit the script, not the notebook.*  "
                 f"It runs the script's cells in order, with the lecture's settings; "
                 f"what a cell prints and the figure it makes appear right under it.  "
                 f"{quick}")
    text = f"# {title}\n"
    if rest.strip():
        text += f"\n{rest.strip()}\n"
    return f"{text}\n{generated}"


def _cell(cell_type, text):
    lines = text.splitlines(True)
    cell = {"cell_type": cell_type, "metadata": {}, "source": lines}
    if cell_type == "code":
        cell["execution_count"] = None
        cell["outputs"] = []
    return cell


def notebook_text(path):
    """The notebook of the script at ``path`` as the JSON text that is written."""
    path = Path(path)
    source = read_text(path)
    docstring, cells = parse_source(source, path.name)
    notebook_cells = [_cell("markdown", introduction(path.name, docstring, source)),
                      _cell("code", CHANGE_FOLDER_CELL)]
    for title, prose, code in cells:
        markdown = [f"## {title}"] if title else []
        if prose:
            markdown += ([""] if markdown else []) + prose
        markdown = _strip_blank_lines(markdown)
        if markdown:
            notebook_cells.append(_cell("markdown", "\n".join(markdown)))
        if code:
            notebook_cells.append(_cell("code", "\n".join(code)))
    notebook = {
        "cells": notebook_cells,
        "metadata": {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 4,
    }
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def notebook_path(script, root=ROOT):
    return Path(root) / NOTEBOOK_FOLDER / f"{Path(script).stem}.ipynb"


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------
def select_scripts(names, root=ROOT):
    """The scripts named on the command line (``intro``, ``intro.py`` or a path), or all."""
    scripts = find_scripts(root)
    if not names:
        if not scripts:
            raise NotebookError(f"no scripts in '{MARKER}' cells in {root}")
        return scripts
    by_name = {path.name: path for path in scripts}
    chosen = []
    for name in names:
        file_name = Path(name).name
        file_name = file_name if file_name.endswith(".py") else file_name + ".py"
        path = Path(root) / file_name
        if file_name in by_name:
            chosen.append(by_name[file_name])
        elif not path.is_file() or file_name in NOT_SCRIPTS:
            raise NotebookError(f"{name} is no example script in {root}; the scripts are: "
                                + " ".join(sorted(by_name)))
        elif "def main(" in read_text(path):
            raise NotebookError(f"{file_name} defines main(): it is not written in "
                                f"'{MARKER}' cells")
        else:
            raise NotebookError(f"{file_name} has no '{MARKER} Title' cells")
    return chosen


def check(scripts, root=ROOT, report_extra=True):
    """One line per notebook that is stale, missing or has no script; ``[]`` if all are fresh."""
    problems = []
    for script in scripts:
        path = notebook_path(script, root)
        relative = path.relative_to(root).as_posix()
        if not path.is_file():
            problems.append(f"{relative} is missing: run python tools/make_notebooks.py")
        elif read_text(path) != notebook_text(script):
            problems.append(f"{relative} is out of date with {script.name}: "
                            f"run python tools/make_notebooks.py")
    if report_extra:
        problems += [f"{path.relative_to(root).as_posix()} has no script: "
                     f"run python tools/make_notebooks.py to remove it"
                     for path in extra_notebooks(scripts, root)]
    return problems


def extra_notebooks(scripts, root=ROOT):
    expected = {notebook_path(script, root) for script in scripts}
    return [path for path in sorted((Path(root) / NOTEBOOK_FOLDER).glob("*.ipynb"))
            if path not in expected]


def write(scripts, root=ROOT, remove_extra=True):
    """Write the notebooks that changed; print one line per file written or removed.

    All notebooks are made before the first is written, so that a bad script
    leaves notebooks/ as it was.
    """
    texts = [(notebook_path(script, root), notebook_text(script)) for script in scripts]
    try:
        (Path(root) / NOTEBOOK_FOLDER).mkdir(exist_ok=True)
        for path, text in texts:
            if path.is_file() and read_text(path) == text:
                continue
            with open(path, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(text)
            print(f"Wrote {path.relative_to(root).as_posix()}")
        for path in extra_notebooks(scripts, root) if remove_extra else []:
            path.unlink()
            print(f"Removed {path.relative_to(root).as_posix()} (no script)")
    except OSError as error:
        raise NotebookError(f"cannot write {error.filename}: {error.strerror or error}") from None


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Generate notebooks/<script>.ipynb from the example scripts "
                    "written in '# %%' cells.")
    parser.add_argument("scripts", nargs="*", metavar="SCRIPT",
                        help="only these scripts (default: every script)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 with one line per notebook that is "
                             "out of date, missing or has no script")
    parser.add_argument("--root", type=Path, default=ROOT, metavar="DIR",
                        help="the project folder (default: the folder above tools/)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    try:
        if not root.is_dir():
            raise NotebookError(f"{args.root} (from --root) is no folder")
        scripts = select_scripts(args.scripts, root)
        if args.check:
            problems = check(scripts, root, report_extra=not args.scripts)
            for problem in problems:
                print(problem)
            return 1 if problems else 0
        write(scripts, root, remove_extra=not args.scripts)
    except NotebookError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
