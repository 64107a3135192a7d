"""The project's code runs on Windows and macOS too: no POSIX-only module, signal or os
function without a fallback, and no Linux-only package in the environment files.

The code is read, not run (this machine is Linux): every import of a module
Windows lacks (``resource``, ``fcntl``, ``termios``, ``pwd``, ``grp``), every
signal Windows lacks and every POSIX-only ``os`` function must be guarded: inside
a ``try`` that catches its absence, under an ``if`` on the platform or on
``hasattr``, or in a function (or module) that asks ``hasattr(module, name)``
before using it.
"""

import ast
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
#: The code a user runs: the scripts, dnnkit, tools and benchmarks (tests run on Linux CI).
CODE = sorted([*ROOT.glob("*.py"), *(ROOT / "dnnkit").glob("*.py"), *(ROOT / "tools").glob("*.py"),
               *(ROOT / "benchmarks").glob("*.py")])
POSIX_ONLY_MODULES = {"resource", "fcntl", "termios", "pwd", "grp"}
#: The signals Python's signal module has on Windows.
WINDOWS_SIGNALS = {"SIGABRT", "SIGFPE", "SIGILL", "SIGINT", "SIGSEGV", "SIGTERM", "SIGBREAK",
                   "CTRL_C_EVENT", "CTRL_BREAK_EVENT"}
#: os functions that Windows lacks.
POSIX_ONLY_OS = {"getloadavg", "wait4", "wait3", "fork", "getuid", "geteuid", "getgid", "killpg",
                 "setsid", "getpgid", "setpgrp", "sched_getaffinity", "uname", "sysconf",
                 "statvfs", "mkfifo", "chown", "nice"}
#: What a try catches when the module or the name is absent.
CATCHES = {"ImportError", "ModuleNotFoundError", "AttributeError", "OSError", "Exception",
           "BaseException"}


def _parents(tree):
    parents = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    return parents


def _caught(handler):
    if handler.type is None:
        return True
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(kind, ast.Name) and kind.id in CATCHES for kind in types)


def _guarded(node, parents, source, module, name):
    """True when ``node`` (a use of ``module.name``) cannot run where the name is missing."""
    asks = re.compile(rf"hasattr\(\s*{module}\s*,\s*['\"]{name}['\"]|"
                      rf"getattr\(\s*{module}\s*,\s*['\"]{name}['\"]\s*,")
    child, parent = node, parents.get(node)
    while parent is not None:
        if isinstance(parent, ast.Try) and child in parent.body \
                and any(_caught(handler) for handler in parent.handlers):
            return True
        if isinstance(parent, (ast.If, ast.IfExp)) and child is not parent.test:
            test = ast.get_source_segment(source, parent.test) or ""
            if re.search(r"sys\.platform|os\.name|platform\.system", test) or asks.search(test):
                return True
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
            # An early "if not hasattr(os, 'wait4'): return ..." in the same function.
            return bool(asks.search(ast.get_source_segment(source, parent) or source))
        child, parent = parent, parents.get(parent)
    return False


def unguarded_uses(source):
    """``["line N: what"]`` for every POSIX-only use in ``source`` that has no fallback."""
    tree = ast.parse(source)
    parents = _parents(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) \
                else [node.module or ""]
            for module in names:
                top = module.split(".")[0]
                if top in POSIX_ONLY_MODULES and not _guarded(node, parents, source, top, "-"):
                    found.append(f"line {node.lineno}: import {module}")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module, name = node.value.id, node.attr
            posix_only = (module == "signal" and name.startswith("SIG") and "_" not in name
                          and name not in WINDOWS_SIGNALS) or \
                         (module == "os" and name in POSIX_ONLY_OS)
            if posix_only and not _guarded(node, parents, source, module, name):
                found.append(f"line {node.lineno}: {module}.{name}")
    return found


def test_the_checker_finds_what_windows_lacks_and_accepts_fallbacks():
    assert unguarded_uses("import resource\n") == ["line 1: import resource"]
    assert unguarded_uses("from pwd import getpwuid\n") == ["line 1: import pwd"]
    assert unguarded_uses("import signal\nsignal.signal(signal.SIGKILL, None)\n") == \
        ["line 2: signal.SIGKILL"]
    assert unguarded_uses("import os\nload = os.getloadavg()[0]\n") == ["line 2: os.getloadavg"]
    assert unguarded_uses("try:\n    import fcntl\nexcept ImportError:\n    fcntl = None\n") == []
    assert unguarded_uses("import sys\nif sys.platform != 'win32':\n    import termios\n") == []
    assert unguarded_uses("import os\nif hasattr(os, 'getloadavg'):\n"
                          "    print(os.getloadavg())\n") == []
    assert unguarded_uses("import os\ndef f():\n    if not hasattr(os, 'wait4'):\n"
                          "        return None\n    return os.wait4(1, 0)\n") == []
    assert unguarded_uses("import signal\nsignal.signal(signal.SIGINT, None)\n") == []
    assert unguarded_uses("import signal\nh = signal.SIG_IGN\n") == []


@pytest.mark.parametrize("path", CODE, ids=[path.relative_to(ROOT).as_posix() for path in CODE])
def test_no_posix_only_module_signal_or_function_without_a_fallback(path):
    assert unguarded_uses(path.read_text(encoding="utf-8")) == [], \
        f"{path.relative_to(ROOT)}: guard it (try/except ImportError, hasattr) for Windows"


def test_the_code_is_found():
    names = {path.relative_to(ROOT).as_posix() for path in CODE}
    assert {"checkSetup.py", "dnnkit/training.py", "tools/sync_results.py",
            "benchmarks/bench_demos.py"} <= names


#: Packages that exist for Linux only (CUDA libraries, compilers, X11), in pip's or conda's names.
LINUX_ONLY = re.compile(r"^(nvidia-|cuda|cudnn|cudatoolkit|libgcc|_libgcc|gxx_linux|gcc_linux|"
                        r"sysroot_linux|xorg-|libstdcxx|tensorflow\[and-cuda\]|tensorflow-gpu)",
                        re.IGNORECASE)


def test_the_environment_files_hold_on_windows_and_macos_too():
    """No Linux-only package, and no line limited to one system by a marker.  (pip resolves
    requirements.txt to wheels for win_amd64 and macosx arm64 with Python 3.12: checked by
    hand with `pip install --dry-run --platform ...`, which needs the network.)"""
    lines = [line.partition("#")[0].strip()
             for name in ("requirements.txt", "requirements-lab.txt")
             for line in (ROOT / name).read_text().splitlines()]
    specs = [line for line in lines if line]
    dependencies = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    for item in dependencies:
        specs += item["pip"] if isinstance(item, dict) else [item]
    assert len(specs) > 20
    for spec in specs:
        assert not LINUX_ONLY.match(spec), f"{spec} exists for Linux only"
        assert ";" not in spec, f"{spec}: a platform marker; the files must hold everywhere"
