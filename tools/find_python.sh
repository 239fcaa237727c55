#!/usr/bin/env bash
# Print the path of a Python interpreter given by name (python3.13) or path.
# pyenv's shims run only the active versions, so when the plain name does not
# run, every version pyenv has installed is asked for it.
set -euo pipefail
name=${1:?usage: tools/find_python.sh python3.X}
if "$name" -c "" 2>/dev/null; then command -v "$name"; exit 0; fi
if command -v pyenv >/dev/null 2>&1; then
    if found=$(PYENV_VERSION=$(pyenv versions --bare | paste -sd: -) pyenv which "$name" 2>/dev/null); then
        echo "$found"; exit 0
    fi
fi
echo "no Python interpreter named '$name' was found (give PYTHON=... a command on PATH or a path)" >&2
exit 1
