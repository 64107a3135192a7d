"""Generate notebooks/<script>.ipynb from every example of the lecture (dnnkit/lecture.py).

The scripts are the source; the notebooks are generated from them (as
keras-io keeps generated notebooks beside its scripts) and never edited by
hand.  jupytext reads each script in its ``py:percent`` format: every
``# %% Title`` line starts a cell titled Title (a ``# %%`` inside a string
does not).  This tool adds what jupytext does not do:

- the module docstring becomes the first markdown cell (its first line the
  title), followed by a generated paragraph that names the script and the
  options of a quick run (the example's ``quick`` settings in the manifest,
  through the environment variable ``DNN_NOTEBOOK_ARGS``);
- a first code cell changes to the project folder (the one that holds
  ``dnnkit/``), where the scripts run; in a demo's notebook (the drawing pad,
  the playground) it also chooses matplotlib's widget backend
  (``%matplotlib widget``) where ipympl is installed, so that the demo answers
  the mouse inside the notebook, and the introduction says what works there
  (the example's ``notebook`` text in the manifest);
- the comment lines at the top of a cell become a markdown cell ``## Title``
  with the prose (jupytext leaves them as comments in the code);
- the output is nbformat 4.4 JSON without outputs, cell ids or jupytext
  metadata, written the same way every time (sorted keys, indent 1): every
  Jupyter opens it without a validation warning, also one older than
  nbformat 5.1 such as a lab's;
- ``--check`` lists the notebooks that are stale, missing or have no script.

Usage::

    python tools/make_notebooks.py              # write notebooks/ for every example
    python tools/make_notebooks.py --check      # exit 1 if a notebook is stale, missing or extra
    python tools/make_notebooks.py intro        # only these examples
"""

import ast
import json
import shlex
import sys
from pathlib import Path

import jupytext

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dnnkit import lecture, runtime  # noqa: E402  (the project folder is on the path now)

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

#: Added to the first code cell of a demo's notebook.  Without ipympl (the lab's myML)
#: the figures stay inline, and the demo says in one line what it needs.
WIDGET_LINES = """

# The demo answers the mouse inside this notebook with matplotlib's widget backend
# (ipympl, in requirements.txt).  Without ipympl the figures are shown inline, as
# pictures: the demo then says in one line what it needs.
import importlib.util

if importlib.util.find_spec("ipympl") is not None:
    %matplotlib widget"""

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


class NotebookError(Exception):
    """Bad input: reported as one line, exit code 2."""


def introduction(script_name, docstring, quick, in_a_notebook="", live=False):
    """The first markdown cell: the docstring, what works in a notebook (a demo's), and the
    generated paragraph (``live``: the script has ``--live``, a model script's)."""
    title, _, rest = docstring.partition("\n")
    title = title.strip().rstrip(".")
    if quick:
        example = " ".join(shlex.quote(word) for word in quick)
        how = (f"For a quick run, set the options in the environment variable "
               f"`DNN_NOTEBOOK_ARGS` before starting Jupyter, e.g. "
               f"`DNN_NOTEBOOK_ARGS=\"{example}\" jupyter lab`")
    else:
        how = ("Other settings: set the options in the environment variable "
               "`DNN_NOTEBOOK_ARGS` before starting Jupyter, e.g. "
               "`DNN_NOTEBOOK_ARGS=\"--seed 1\" jupyter lab`")
    generated = (f"*This notebook is generated from `{script_name}` by "
                 f"`tools/make_notebooks.py`: edit the script, not the notebook.*  "
                 f"It runs the script's cells in order, with the lecture's settings; "
                 f"what a cell prints and the figure it makes appear right under it.  "
                 f"{how} (`python {script_name} --help` lists the options).")
    if live:
        generated += ("  With `--live` among them the training curves grow under the "
                      "training cell, epoch by epoch.")
    text = f"# {title}\n" + (f"\n**In this notebook:** {in_a_notebook}\n" if in_a_notebook else "")
    text += f"\n{rest.strip()}\n" if rest.strip() else ""
    return f"{text}\n{generated}"


def _cell(cell_type, text):
    cell = {"cell_type": cell_type, "metadata": {}, "source": text.splitlines(True)}
    if cell_type == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def script_cells(script):
    """``(docstring, [(title, prose, code), ...])`` of a script, its cells as jupytext reads them."""
    name = Path(script).name
    try:
        cells = jupytext.read(script, fmt="py:percent").cells
        header = ast.parse(cells[0].source)
    except SyntaxError as error:
        raise NotebookError(f"{name} line {error.lineno}: syntax error: {error.msg}") from None
    docstring = ast.get_docstring(header)
    if not docstring:
        raise NotebookError(f"{name}: no module docstring before the first '# %%' cell: "
                            f"the notebook's first cell is made from it")
    if len(header.body) > 1:
        raise NotebookError(f"{name}: code before the first '# %%' cell: move it into a cell")
    if len(cells) < 2:
        raise NotebookError(f"{name} has no '# %% Title' cells")
    parts = []
    for cell in cells[1:]:
        lines = cell.source.splitlines()
        prose = []
        while lines and lines[0].startswith("#"):
            text = lines.pop(0)[1:]
            prose.append(text[1:] if text.startswith(" ") else text)
        parts.append((cell.metadata.get("title", ""), prose, "\n".join(lines).strip("\n")))
    return docstring, parts


def notebook_text(script, quick=(), in_a_notebook="", live=False):
    """The notebook of ``script`` as the JSON text that is written; ``in_a_notebook``: what
    a demo does in a notebook (it gets the widget backend where ipympl is installed);
    ``live``: the script has ``--live`` (its introduction says what it does here)."""
    docstring, parts = script_cells(script)
    cells = [_cell("markdown", introduction(Path(script).name, docstring, quick, in_a_notebook,
                                            live)),
             _cell("code", CHANGE_FOLDER_CELL + (WIDGET_LINES if in_a_notebook else ""))]
    for title, prose, code in parts:
        markdown = "\n".join(([f"## {title}", ""] if title else []) + prose).strip("\n")
        if markdown:
            cells.append(_cell("markdown", markdown))
        if code:
            cells.append(_cell("code", code))
    notebook = {"cells": cells, "nbformat": 4, "nbformat_minor": 4,
                "metadata": {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}}
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def notebook_path(name, root=ROOT):
    return Path(root) / "notebooks" / f"{name}.ipynb"


def _texts(names, root):
    examples = {example.name: example for example in lecture.EXAMPLES}
    return {name: notebook_text(Path(root) / f"{name}.py",
                                examples[name].quick if name in examples else (),
                                examples[name].notebook if name in examples else "",
                                name in examples and examples[name].trains)
            for name in names}


def _extra(names, root):
    return [path for path in sorted((Path(root) / "notebooks").glob("*.ipynb"))
            if path.stem not in names]


def check(names, root=ROOT, report_extra=True):
    """One line per notebook that is stale, missing or has no script; ``[]`` if all are fresh."""
    problems = []
    for name, text in _texts(names, root).items():
        path = notebook_path(name, root)
        if not path.is_file():
            problems.append(f"notebooks/{name}.ipynb is missing: run python tools/make_notebooks.py")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"notebooks/{name}.ipynb is out of date with {name}.py: "
                            f"run python tools/make_notebooks.py")
    return problems + [f"notebooks/{path.name} has no script: run python "
                       f"tools/make_notebooks.py to remove it"
                       for path in (_extra(names, root) if report_extra else [])]


def write(names, root=ROOT, remove_extra=True):
    """Write the notebooks that changed (all are made first, so a bad script writes nothing)."""
    texts = _texts(names, root)
    (Path(root) / "notebooks").mkdir(exist_ok=True)
    for name, text in texts.items():
        path = notebook_path(name, root)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            with open(path, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(text)
            print(f"Wrote notebooks/{path.name}")
    for path in _extra(names, root) if remove_extra else []:
        path.unlink()
        print(f"Removed notebooks/{path.name} (no script)")


def main(argv=None):
    parser = runtime.ArgumentParser(description="Generate notebooks/<script>.ipynb from the "
                                                "examples of dnnkit/lecture.py.")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="only these examples (default: every one)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 with one line per notebook that is "
                             "out of date, missing or has no script")
    args = parser.parse_args(argv)
    names = [Path(name).stem for name in args.names] or lecture.names()
    try:
        unknown = [name for name in names if name not in lecture.names()]
        if unknown:
            raise NotebookError(f"{' '.join(unknown)}: not in dnnkit/lecture.py; the examples "
                                f"are: {' '.join(lecture.names())}")
        if args.check:
            problems = check(names, report_extra=not args.names)
            print("\n".join(problems) if problems else "All notebooks are up to date.")
            return 1 if problems else 0
        write(names, remove_extra=not args.names)
    except NotebookError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
