# Set up and activate the Python environment for the lecture's examples.
#
#   source setup_env.sh      # the first time: creates the environment (a few minutes)
#                            # afterwards: only activates it (seconds)
#
# With conda: creates or updates the project's conda environment "myML" from
# environment.yml and activates it.  Without conda: a virtual environment in
# .venv/ with pip and requirements.txt.  With an NVIDIA GPU (nvidia-smi works),
# TensorFlow's CUDA extra is installed too, so that the GPU is used.
#
# The project's own environment is rebuilt only when environment.yml /
# requirements.txt changed since the last set-up (a checksum, the "stamp", is
# kept inside the environment).
#
# An environment this script did not make is never changed.  Where a conda
# environment is already active (in the lab: `conda activate myML`), or an
# environment named myML exists without our stamp, it is checked instead: can
# its Python import TensorFlow, numpy, matplotlib, scipy, iminuit and scikit-learn, at least
# at the lab's versions (the floor below)?  If so it is used as it is; if not,
# one line says what is missing and what to do, and nothing is changed.
#
#   DNN_ENV=venv source setup_env.sh        # a private .venv even where conda exists
#   DNN_ENV=lab-floor source setup_env.sh   # Python 3.8 with the lab's versions
#                                           # (requirements-lab.txt), as CI tests them
#
# When ready, it ends with `python checkSetup.py --quick`: the versions
# against the tested range, without importing anything (a fraction of a
# second), in one line, or the lines that need attention.  That check does not
# change the exit status; `python checkSetup.py` checks the rest (TensorFlow,
# the GPU, the window, the data, the saved networks, Jupyter).
#
# Exit status: 0 ready; 1 the set-up failed; 2 an environment that is not ours
# cannot run the examples (nothing changed); 10 DNN_ENV=lab-floor, but no
# Python 3.8 on this machine (pytest's own statuses are 0-5, so CI can tell).
#
# Works in bash and zsh.  This file is meant to be sourced, so it never calls
# `exit` (that would close your terminal) and leaves your shell options alone.

# The oldest versions the examples run with (the lab's myML: Python 3.8,
# TensorFlow 2.4 with Keras 2.4); tests/test_environment.py checks that
# requirements-lab.txt meets them.
_dnn_floor="python=3.8 tensorflow=2.4 numpy=1.19 matplotlib=3.3 scipy=1.6 iminuit=2 scikit-learn=0.24"

# Checks, with the Python that runs it, the modules and versions given in its
# argument ("name=minimum name=minimum ...", pip's names: scikit-learn imports as sklearn).  Prints one line of "name version" on success;
# on failure exits 1 and prints what is wrong, then what pip would install.
# Plain Python without f-strings, so that even an old Python can answer.
_dnn_check_code='
import os, re, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
def parts(text):
    found = re.match(r"\d+(\.\d+)*", str(text))
    return tuple(int(part) for part in found.group(0).split(".")) if found else ()
have, problems, wanted = [], [], []
for item in sys.argv[1].split():
    name, minimum = item.split("=")
    if name == "python":
        version = "%d.%d.%d" % sys.version_info[:3]
    else:
        module = {"scikit-learn": "sklearn"}.get(name, name)
        try:
            version = getattr(__import__(module), "__version__", "0")
        except ImportError as error:
            if getattr(error, "name", module) == module:
                problems.append("%s is missing" % name)
                wanted.append(name)
            else:
                problems.append("%s does not import (%s)" % (name, " ".join(str(error).split())[:120]))
            continue
        except Exception as error:
            problems.append("%s does not import (%s: %s)" % (
                name, type(error).__name__, " ".join(str(error).split())[:120]))
            continue
    if parts(version) < parts(minimum):
        problems.append("%s %s is older than %s" % (name, version, minimum))
        if name != "python":
            wanted.append("\"%s>=%s\"" % (name, minimum))
    else:
        have.append("%s %s" % ("Python" if name == "python" else name, version))
if problems:
    print("; ".join(problems))
    print(" ".join(wanted))
    sys.exit(1)
print(", ".join(have))
'

# Use the conda environment $1 (prefix $2) that setup_env did not make, if it
# can run the examples; $3 is "active" when it is already active.
_dnn_use_foreign() {
    local name=$1 prefix=$2 state=${3:-} report problems wanted choices
    if [ ! -x "$prefix/bin/python" ]; then
        echo "setup_env: the conda environment $name ($prefix) has no Python, so it cannot run the" \
             "examples; setup_env changed nothing in it. Choices: ask the lab's admin, or" \
             "'DNN_ENV=venv source setup_env.sh' for a private .venv." >&2
        return 2
    fi
    if report=$("$prefix/bin/python" -c "$_dnn_check_code" "$_dnn_floor" 2>/dev/null); then
        if [ "$state" != active ]; then
            conda activate "$name" || return 1
        fi
        echo "setup_env: ready: using the conda environment $name as it is ($report);" \
             "setup_env changed nothing in it."
        return 0
    fi
    problems=$(printf '%s\n' "$report" | sed -n 1p)
    wanted=$(printf '%s\n' "$report" | sed -n 2p)
    [ -n "$problems" ] || problems="its Python does not start"
    choices="ask the lab's admin"
    if [ -n "$wanted" ]; then
        choices="$choices, or 'pip install --user $wanted'"
    fi
    echo "setup_env: the conda environment $name cannot run the examples: $problems." \
         "Choices: $choices, or 'DNN_ENV=venv source setup_env.sh' for a private .venv." \
         "setup_env changed nothing." >&2
    return 2
}

# DNN_ENV=lab-floor: a venv with Python 3.8 and requirements-lab.txt, in a cache
# outside the repository, built once per machine (again when that file changes).
_dnn_lab_floor() {
    local here=$1 python38="" candidate pyenv_root cache wanted have
    if command -v python3.8 >/dev/null 2>&1 && python3.8 -c \
        'import sys; sys.exit(sys.version_info[:2] != (3, 8))' 2>/dev/null; then
        python38=$(command -v python3.8)
    else
        pyenv_root=$(pyenv root 2>/dev/null) || pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}
        for candidate in $(ls -d "$pyenv_root"/versions/3.8*/bin/python3.8 2>/dev/null | sort -V); do
            if "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 8))' 2>/dev/null; then
                python38=$candidate  # the newest 3.8.x comes last
            fi
        done
    fi
    if [ -z "$python38" ]; then
        echo "setup_env: no Python 3.8 here (neither python3.8 on PATH nor under pyenv in" \
             "$pyenv_root/versions), so the lab-floor environment cannot be built."
        return 10
    fi
    cache="${XDG_CACHE_HOME:-$HOME/.cache}/dnn-lecture/lab-floor-py38"
    wanted="$(cat "$here/requirements-lab.txt" | cksum) $("$python38" -c 'import sys; print(sys.version.split()[0])')"
    if ! "$cache/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 8))' 2>/dev/null; then
        echo "setup_env: creating the lab-floor environment in $cache with $python38 ..."
        "$python38" -m venv --clear "$cache" || return 1
    fi
    # shellcheck disable=SC1091
    . "$cache/bin/activate" || return 1
    have=$(cat "$cache/.dnn-setup-stamp" 2>/dev/null)
    if [ "$have" != "$wanted" ]; then
        echo "setup_env: installing the packages of requirements-lab.txt (the first time takes a few minutes) ..."
        python -m pip install --quiet -r "$here/requirements-lab.txt" || return 1
        echo "$wanted" > "$cache/.dnn-setup-stamp"
    fi
    echo "setup_env: ready: $(python --version 2>&1) with the lab's versions in $cache"
}

_dnn_setup() {
    local here python_bin stamp_file wanted have gpu_extra tf_spec prefix
    here=$_dnn_here

    case "${DNN_ENV:-}" in
        ""|venv) ;;
        lab-floor) _dnn_lab_floor "$here"; return ;;
        *)
            echo "setup_env: error: DNN_ENV=$DNN_ENV is unknown; use DNN_ENV=venv (a private .venv)," \
                 "DNN_ENV=lab-floor (Python 3.8 with the lab's versions) or leave it unset." >&2
            return 1 ;;
    esac

    if [ "${DNN_ENV:-}" != "venv" ]; then
        # ---- a conda environment that is active and not ours: use it as it is
        if [ -n "${CONDA_PREFIX:-}" ] && [ -n "${CONDA_DEFAULT_ENV:-}" ] \
            && [ "$CONDA_DEFAULT_ENV" != base ] && [ ! -f "$CONDA_PREFIX/.dnn-setup-stamp" ]; then
            _dnn_use_foreign "$CONDA_DEFAULT_ENV" "$CONDA_PREFIX" active
            return
        fi
    fi

    tf_spec=$(grep -E '^tensorflow==' "$here/requirements.txt" | sed 's/[[:space:]].*//')
    gpu_extra=""
    if command -v conda >/dev/null 2>&1 && [ "${DNN_ENV:-}" != "venv" ]; then
        # ---- conda ---------------------------------------------------------
        if [ -n "${ZSH_VERSION:-}" ]; then
            eval "$(conda shell.zsh hook)"
        else
            eval "$(conda shell.bash hook)"
        fi
        prefix=$(conda env list | awk '$1 == "myML" { print $NF }')
        if [ -n "$prefix" ] && [ ! -f "$prefix/.dnn-setup-stamp" ]; then
            # myML exists, but setup_env did not make it (the lab's): never change it.
            _dnn_use_foreign myML "$prefix"
            return
        fi
        if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1; then
            gpu_extra=1
            echo "setup_env: NVIDIA GPU found; installing TensorFlow with its CUDA libraries."
        fi
        wanted=$(cat "$here/environment.yml" | cksum)"${gpu_extra:+ gpu}"
        if [ -n "$prefix" ]; then
            conda activate myML || return 1
            stamp_file="$CONDA_PREFIX/.dnn-setup-stamp"
            have=$(cat "$stamp_file" 2>/dev/null)
            if [ "$have" != "$wanted" ]; then
                echo "setup_env: environment.yml changed; updating the conda environment myML ..."
                conda env update -n myML -f "$here/environment.yml" || return 1
            fi
        else
            echo "setup_env: creating the conda environment myML (takes a few minutes) ..."
            conda env create -f "$here/environment.yml" || return 1
            conda activate myML || return 1
            stamp_file="$CONDA_PREFIX/.dnn-setup-stamp"
            have=""
        fi
        if [ "$have" != "$wanted" ]; then
            if [ -n "$gpu_extra" ]; then
                python -m pip install "${tf_spec/tensorflow/tensorflow[and-cuda]}" || return 1
            fi
            echo "$wanted" > "$stamp_file"
        fi
    else
        # ---- venv with pip -------------------------------------------------
        if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1; then
            gpu_extra=1
            echo "setup_env: NVIDIA GPU found; installing TensorFlow with its CUDA libraries."
        fi
        wanted=$(cat "$here/requirements.txt" | cksum)"${gpu_extra:+ gpu}"
        stamp_file="$here/.venv/.dnn-setup-stamp"
        if [ ! -x "$here/.venv/bin/python" ]; then
            python_bin=""
            for candidate in python3.12 python3.11 python3.13 python3.10 python3 python; do
                if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c \
                    'import sys; sys.exit(not ((3, 10) <= sys.version_info[:2] <= (3, 13)))' \
                    2>/dev/null; then
                    python_bin=$candidate
                    break
                fi
            done
            if [ -z "$python_bin" ]; then
                echo "setup_env: error: TensorFlow needs Python 3.10 to 3.13 and none was found;" \
                     "install one (or conda) and source setup_env.sh again." >&2
                return 1
            fi
            echo "setup_env: creating a virtual environment in .venv with $python_bin ..."
            "$python_bin" -m venv "$here/.venv" || return 1
        fi
        # shellcheck disable=SC1091
        . "$here/.venv/bin/activate" || return 1
        have=$(cat "$stamp_file" 2>/dev/null)
        if [ "$have" != "$wanted" ]; then
            echo "setup_env: installing the packages of requirements.txt (the first time takes a few minutes) ..."
            python -m pip install --quiet --upgrade pip || return 1
            python -m pip install --quiet -r "$here/requirements.txt" || return 1
            if [ -n "$gpu_extra" ]; then
                python -m pip install --quiet "${tf_spec/tensorflow/tensorflow[and-cuda]}" || return 1
            fi
            echo "$wanted" > "$stamp_file"
        fi
    fi
    echo "setup_env: ready: $(python --version 2>&1) in ${CONDA_PREFIX:-${VIRTUAL_ENV:-?}}"
}

# The quick form of checkSetup.py, with the environment's python, where the
# project has it; its status is not setup_env's (the environment is ready).
_dnn_check_setup() {
    if [ -f "$1/checkSetup.py" ]; then
        python "$1/checkSetup.py" --quick || true
    fi
}

# The project's folder, where this file lies (found once, for both functions below).
_dnn_folder() {
    if [ -n "${BASH_VERSION:-}" ]; then
        (cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    elif [ -n "${ZSH_VERSION:-}" ]; then
        eval '(cd "$(dirname "${(%):-%x}")" && pwd)'
    else
        pwd
    fi
}

_dnn_here=$(_dnn_folder)
_dnn_setup
_dnn_status=$?
if [ "$_dnn_status" -eq 0 ]; then
    _dnn_check_setup "$_dnn_here"
fi
unset -f _dnn_setup _dnn_use_foreign _dnn_lab_floor _dnn_check_setup _dnn_folder
unset _dnn_floor _dnn_check_code _dnn_here
if [ "$_dnn_status" -eq 1 ]; then
    echo "setup_env: set-up failed (see the messages above); nothing was activated." >&2
fi
# Leave the status for `source setup_env.sh && ...`: `return` when sourced,
# `exit` when run as a program (where activation cannot reach your shell).
(return 0 2>/dev/null) && { return "$_dnn_status"; }
echo "setup_env: note: run it as 'source setup_env.sh' to activate the environment in your shell."
exit "$_dnn_status"
