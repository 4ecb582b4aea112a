#!/usr/bin/env bash
# Create the virtual environment (Python >= 3.12) and install flexotip into it with the
# pip-wheel DOLFINx and the test tools. Used by `make demo` and `make test`.
set -euo pipefail
venv=${1:-.venv}

runs_312() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }

find_python() {
    local candidates=()
    if command -v pyenv >/dev/null 2>&1; then
        local root
        root=$(pyenv root)
        for dir in $(ls -d "$root"/versions/3.1[3-9]* "$root"/versions/3.12* 2>/dev/null | sort -rV); do
            candidates+=("$dir/bin/python3")
        done
    fi
    candidates+=(python3.13 python3.12 python3)
    for python in "${candidates[@]}"; do
        if runs_312 "$python"; then
            echo "$python"
            return 0
        fi
    done
    return 1
}

if [ ! -x "$venv/bin/python" ] || ! runs_312 "$venv/bin/python"; then
    if ! python=$(find_python); then
        echo "flexotip: no Python >= 3.12 found (looked in pyenv versions and for" \
             "python3.13, python3.12, python3 on PATH). Install one, e.g. 'pyenv install 3.12'," \
             "or use conda with environment.yml (see README)." >&2
        exit 1
    fi
    echo "flexotip: creating $venv with $python ($("$python" --version))"
    rm -rf "$venv"
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -e ".[pip,test,plot]"
# io4dolfinx (checkpoints) requires "fenics-dolfinx", the conda/PyPI name of DOLFINx; the pip
# wheel above installs DOLFINx as "dolfinx-solver-real", so pip would not see it: install
# io4dolfinx and its helper without their dependencies (both are pure Python).
"$venv/bin/python" -m pip install --quiet --no-deps "io4dolfinx>=1.5,<2" "fenicsx-compat>=0.4"
echo "flexotip: installed into $venv"
