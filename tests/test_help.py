"""``--help`` of every script reads cleanly: each default shown once, never "(default: None)".

Every script is run in this process as ``python script.py --help`` would run
it (``runpy``), except that the parser it builds is caught when it starts to
read the command line: the test then has both the help text and the parser's
own defaults (``parser.get_default``), without anything after the options
running.  The scripts are the lecture's examples (dnnkit/lecture.py), the
other scripts at the top level (reproduce.py, checkSetup.py), tools/ and
benchmarks/.
"""

import argparse
import re
import runpy
import sys
from pathlib import Path

import pytest

from dnnkit import lecture, runtime

ROOT = Path(__file__).resolve().parent.parent


def every_script():
    """The files a user runs: the examples, and every .py with a command line at the top
    level and in tools/ and benchmarks/ (found by their files, not by a list)."""
    found = {f"{name}.py" for name in lecture.names()}
    for folder in (ROOT, ROOT / "tools", ROOT / "benchmarks"):
        for path in folder.glob("*.py"):
            if "ArgumentParser" in path.read_text(encoding="utf-8") \
                    or "make_parser" in path.read_text(encoding="utf-8"):
                found.add(path.relative_to(ROOT).as_posix())
    return sorted(found)


class _Caught(Exception):
    def __init__(self, parser):
        super().__init__("parser caught")
        self.parser = parser


def caught_parser(script, monkeypatch):
    """The parser ``script`` builds, caught when it reads ``--help``."""
    def catch(parser, *arguments, **settings):
        raise _Caught(parser)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", catch)
    monkeypatch.setattr(argparse.ArgumentParser, "parse_known_args", catch)
    monkeypatch.setattr(sys, "argv", [str(ROOT / script), "--help"])
    monkeypatch.syspath_prepend(str((ROOT / script).parent))
    try:
        runpy.run_path(str(ROOT / script), run_name="__main__")
    except _Caught as caught:
        return caught.parser
    raise AssertionError(f"{script} never read its command line")


def option_entries(help_text):
    """``{"--option": its entry in the help, on one line}`` for every option listed."""
    entries, current = {}, None
    for line in help_text.splitlines():
        found = re.match(r"^  (-\S+)", line)
        if found:
            current = found.group(1).rstrip(",")
            entries[current] = line.strip()
        elif current and line.startswith("   "):
            entries[current] += " " + line.strip()
        else:
            current = None
    return entries


def test_every_script_is_found():
    scripts = every_script()
    for name in ("reproduce.py", "checkSetup.py", "tools/make_notebooks.py",
                 "benchmarks/bench_training.py", "intro.py", "playground.py"):
        assert name in scripts
    assert len(scripts) >= len(lecture.names()) + 8


#: Scripts whose command line is plain argparse (no default shown, so none shown twice),
#: kept by other people: switch them to runtime.ArgumentParser and drop them here.
PLAIN_ARGPARSE = {"reproduce.py", "tools/sync_results.py", "tools/verdict_rule.py"}


@pytest.mark.parametrize("script", every_script())
def test_help_shows_each_default_once_and_never_none(script, monkeypatch):
    parser = caught_parser(script, monkeypatch)
    shows_defaults = isinstance(parser, runtime.ArgumentParser)
    assert shows_defaults != (script in PLAIN_ARGPARSE), \
        f"{script}: build its parser with runtime.ArgumentParser (or runtime.make_parser)"
    help_text = parser.format_help()
    flat = " ".join(help_text.split())  # a default may be wrapped onto the next line
    assert "(default: None)" not in flat
    entries = option_entries(help_text)
    assert "--help" in entries or "-h" in entries, help_text
    for option, entry in entries.items():
        assert entry.count("(default") <= 1, f"{script} {option}: {entry}"
        if not option.startswith("--") or option == "--help":
            continue
        default = parser.get_default(option[2:].replace("-", "_"))
        takes_value = re.match(rf"^{re.escape(option)}[ =]\S", entry) is not None
        if shows_defaults and takes_value and default not in (None, argparse.SUPPRESS):
            # A default worth knowing is shown, by argparse or by the help's own words.
            assert "(default" in entry, f"{script} {option}: default {default!r} not shown"


def test_the_parser_shows_a_default_once_and_no_none():
    """The rule itself, on options of every kind (what a script may add)."""
    parser = runtime.ArgumentParser(prog="example")
    parser.add_argument("--epochs", type=int, default=3, help="passes")
    parser.add_argument("--image", default=None, help="a file")
    parser.add_argument("--dataset", help="data set (default: gaussians)")
    parser.add_argument("--models-dir", default="models",
                        help="folder (default: $DNN_MODELS_DIR, then models)")
    parser.add_argument("--quick", action="store_true", help="quick")
    parser.add_argument("--sizes", nargs="+", type=int, default=[1, 2], help="sizes")
    entries = option_entries(parser.format_help())
    assert entries["--epochs"].endswith("passes (default: 3)")
    assert entries["--image"].endswith("a file")
    assert entries["--dataset"].endswith("data set (default: gaussians)")
    assert entries["--models-dir"].endswith("(default: $DNN_MODELS_DIR, then models)")
    assert entries["--quick"].endswith("quick")
    assert entries["--sizes"].endswith("sizes (default: [1, 2])")
    assert parser.parse_args([]).epochs == 3
