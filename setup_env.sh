# Set up and activate the Python environment for the lecture's examples.
#
#   source setup_env.sh      # the first time: creates the environment (a few minutes)
#                            # afterwards: only activates it (seconds)
#
# With conda: creates or updates the conda environment "myML" from
# environment.yml and activates it.  Without conda: a virtual environment in
# .venv/ with pip and requirements.txt.  With an NVIDIA GPU (nvidia-smi works),
# TensorFlow's CUDA extra is installed too, so that the GPU is used.
#
# The environment is rebuilt only when environment.yml / requirements.txt
# changed since the last set-up (a checksum is kept inside the environment).
# Set DNN_ENV=venv to use a .venv even where conda exists.
#
# Works in bash and zsh.  This file is meant to be sourced, so it never calls
# `exit` (that would close your terminal) and leaves your shell options alone.

_dnn_setup() {
    local here python_bin stamp_file wanted have gpu_extra tf_spec
    if [ -n "${BASH_VERSION:-}" ]; then
        here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    elif [ -n "${ZSH_VERSION:-}" ]; then
        eval 'here=$(cd "$(dirname "${(%):-%x}")" && pwd)'
    else
        here=$(pwd)
    fi

    tf_spec=$(grep -E '^tensorflow==' "$here/requirements.txt" | sed 's/[[:space:]].*//')
    gpu_extra=""
    if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1; then
        gpu_extra=1
        echo "setup_env: NVIDIA GPU found; installing TensorFlow with its CUDA libraries."
    fi

    if command -v conda >/dev/null 2>&1 && [ "${DNN_ENV:-}" != "venv" ]; then
        # ---- conda ---------------------------------------------------------
        wanted=$(cat "$here/environment.yml" | cksum)"${gpu_extra:+ gpu}"
        if [ -n "${ZSH_VERSION:-}" ]; then
            eval "$(conda shell.zsh hook)"
        else
            eval "$(conda shell.bash hook)"
        fi
        if conda env list | grep -qE '^myML[[:space:]]'; then
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

_dnn_setup
_dnn_status=$?
unset -f _dnn_setup
if [ "$_dnn_status" -ne 0 ]; then
    echo "setup_env: set-up failed (see the messages above); nothing was activated." >&2
fi
# Leave the status for `source setup_env.sh && ...`: `return` when sourced,
# `exit` when run as a program (where activation cannot reach your shell).
(return 0 2>/dev/null) && { return "$_dnn_status"; }
echo "setup_env: note: run it as 'source setup_env.sh' to activate the environment in your shell."
exit "$_dnn_status"
