"""The README is for students and short; the instructor's page is linked from it; every
``python script.py ...`` command in both names a script that takes those options.

A command is checked by the script's own parser (caught as tests/test_help.py
catches it), without running the script.
"""

import re
import shlex
from pathlib import Path

import pytest
from test_help import caught_parser

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
INSTRUCTOR = ROOT / "docs" / "instructor.md"
DOCS = (README, INSTRUCTOR)


def commands(path):
    """``(script, [options])`` of every ``python script.py ...`` in inline code or a code block."""
    text = path.read_text(encoding="utf-8")
    pieces = [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", text)]
    pieces += [line.strip() for line in text.splitlines()  # the commands of code blocks
               if re.match(r"^    (python|source|DNN_|py |conda )", line)]
    found = []
    for piece in pieces:
        for match in re.finditer(r"\bpython ((?:[\w-]+/)*[\w-]+\.py)\b(.*)", piece):
            words = []
            for word in shlex.split(match.group(2).replace("\\", "/"), comments=True):
                if word in ("&&", "|", ";", "python"):
                    break
                words.append(word)
            found.append((match.group(1), words))
    return found


def test_the_readme_is_short_and_links_the_instructor_s_page():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) < 200
    assert "(docs/instructor.md)" in text
    assert "python checkSetup.py" in text
    assert "not tested on a real Windows machine" in text and "not tested on a real Mac" in text
    for heading in ("## In the lab", "## On your own computer", "## The scripts, in lecture order",
                    "## Reading the output", "### The overtraining exercise", "## Options",
                    "## Notebooks", "## Data", "## Troubleshooting"):
        assert heading in text.splitlines(), heading


def test_the_instructor_s_page_has_what_moved_there():
    lines = INSTRUCTOR.read_text(encoding="utf-8").splitlines()
    for heading in ("## The environment check", "## The day before", "## In the hall",
                    "## The demos", "## The drawing pad", "## The playground"):
        assert heading in lines, heading
    readme = README.read_text(encoding="utf-8")
    for gone in ("**The day before**", "**In the hall**", "## For the instructor"):
        assert gone not in readme


@pytest.mark.parametrize("path", DOCS, ids=lambda path: path.name)
def test_every_relative_link_leads_to_a_file(path):
    text = path.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    assert links
    for link in links:
        if "://" not in link:
            assert (path.parent / link).exists(), f"{path.name}: {link} does not exist"


def _every_command():
    return sorted({(script, tuple(words)) for path in DOCS for script, words in commands(path)})


def test_the_commands_are_found():
    scripts = {script for script, _ in _every_command()}
    assert {"checkSetup.py", "MLP_MNIST_digits_tf.py", "clothingSequential.py", "reproduce.py",
            "drawDigit.py", "tools/make_notebooks.py"} <= scripts


@pytest.mark.parametrize("script, words", _every_command(),
                         ids=lambda value: " ".join(value) if isinstance(value, tuple) else value)
def test_every_command_s_options_are_the_script_s(script, words, monkeypatch, capsys):
    assert (ROOT / script).is_file(), f"{script} does not exist"
    parser = caught_parser(script, monkeypatch)
    monkeypatch.undo()  # argparse as it was: parse the command's options for real
    try:
        parser.parse_args(list(words))
    except SystemExit:
        pytest.fail(f"python {script} {' '.join(words)}: {capsys.readouterr().err.strip()}")
