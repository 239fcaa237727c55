#!/usr/bin/env bash
# `make test-compat`: the unit tests and every notebook on the oldest supported
# stack and on the newest one, each in its own virtual environment.
#
#   oldest: Python 3.12 with constraints/oldest.txt (every floor of pyproject.toml pinned)
#   newest: the newest Python that pyenv has (3.13) with the newest releases
#   colab:  Colab's preinstalled stack of late 2025 (Python 3.12, TensorFlow 2.19, Keras 3.10, ...;
#           constraints/colab-2025.txt), then the notebooks' setup cell's own pip line, pointed at a
#           git clone of this checkout's HEAD instead of GitHub, then every notebook (not the unit tests)
#
# The toolkit is installed the way the Colab setup cell installs it: pip from
# the repository, not editable. The tests then run with that venv's `pytest`
# from the repository root (the notebooks' kernels import the installed copy).
#
# Usage: tools/test_compat.sh [oldest|newest|colab]...   (default: all three)
# Environment: COMPAT_PYTHON        (the interpreter, instead of python3.12 / python3.13),
#              COMPAT_PYTEST_ARGS   (extra pytest arguments, e.g. "-x"),
#              COMPAT_REUSE=1       (keep an existing venv instead of building a fresh one).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

find_python() { tools/find_python.sh "$1"; }

pip_quiet() { grep -v "is ignored: it is neither a file nor a directory" || true; }

# What a release ships, copied out of the checkout: pip builds a local folder in
# place, and setuptools would leave build/lib and *.egg-info in the repository.
SRC=$(mktemp -d)
trap 'rm -rf "$SRC"' EXIT
cp pyproject.toml README.md LICENSE "$SRC"/
cp -r toolkit "$SRC"/ && find "$SRC/toolkit" -name __pycache__ -prune -exec rm -rf {} +

run_stack() {
    local name=$1 python=$2 venv=".venv-compat-$1"
    shift 2
    echo "== test-compat $name: $("$python" --version) in $venv"
    if [ -n "${COMPAT_REUSE:-}" ] && [ -x "$venv/bin/pytest" ]; then
        echo "   COMPAT_REUSE is set: keeping $venv, reinstalling only the toolkit"
        "$venv/bin/python" -m pip install -q --no-deps --force-reinstall "$SRC" 2>&1 | pip_quiet
    else
        # A fresh venv every time, so that nothing from an earlier run is kept.
        rm -rf "$venv"
        "$python" -m venv "$venv"
        "$venv/bin/python" -m pip install -q --upgrade pip 2>&1 | pip_quiet
        # Not editable: pip builds the wheel from the checkout's files, as on Colab.
        "$venv/bin/python" -m pip install -q "$@" "$SRC[course,test]" 2>&1 | pip_quiet
    fi
    mkdir -p build
    "$venv/bin/python" -m pip freeze --exclude training-deep-networks > "build/compat-$name.txt"
    # From outside the checkout, so that `import toolkit` finds the installed copy.
    (cd / && "$ROOT/$venv/bin/python" - <<'EOF'
import pathlib, sys, keras, numpy, tensorflow, toolkit
where = pathlib.Path(toolkit.__file__).resolve()
assert "site-packages" in where.parts, f"toolkit imported from the checkout, not the install: {where}"
print(f"   python {sys.version.split()[0]}, tensorflow {tensorflow.__version__}, keras {keras.__version__}, "
      f"numpy {numpy.__version__}; toolkit {toolkit.__version__} from {where.parent}")
EOF
    )
    # `pytest`, not `python -m pytest`: the latter would import ./toolkit.
    TOOLKIT_FAST=1 TOOLKIT_OFFLINE=1 TF_CPP_MIN_LOG_LEVEL=2 MPLBACKEND=Agg \
        "$venv/bin/pytest" -p no:cacheprovider ${COMPAT_PYTEST_ARGS:-} tests \
        --nbval-lax --nbval-current-env --nbval-cell-timeout=600 notebooks/[0-9][0-9]_*.ipynb
    echo "== test-compat $name passed (versions in build/compat-$name.txt)"
}

# Colab: the packages a Colab runtime had preinstalled, then exactly the setup cell's
# `%pip install -q "training-deep-networks[course] @ git+https://github.com/..."`, with the
# URL swapped for a clone of HEAD (so what is tested is what is committed, as on GitHub).
run_colab() {
    local python venv=".venv-compat-colab" clone requirement
    python=$(find_python "${COMPAT_PYTHON:-python3.12}")
    echo "== test-compat colab: $("$python" --version) in $venv"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip 2>&1 | pip_quiet
    "$venv/bin/python" -m pip install -q -r constraints/colab-2025.txt 2>&1 | pip_quiet
    echo "   preinstalled: $("$venv/bin/python" -c 'import keras, tensorflow; print("tensorflow", tensorflow.__version__, "keras", keras.__version__)' 2>/dev/null)"
    clone=$(mktemp -d)
    git clone -q "$ROOT" "$clone/repo"
    requirement=$("$venv/bin/python" -c "import re, sys; s = open('tools/py2nb.py').read(); print(re.search(r'COLAB_REQUIREMENT = f\"(.*)\"', s).group(1))")
    requirement=${requirement/git+https:\/\/github.com\/\{REPOSITORY\}/git+file://$clone/repo}
    echo "   the setup cell's pip line: %pip install -q \"$requirement\""
    "$venv/bin/python" -m pip install -q "$requirement" 2>&1 | pip_quiet
    rm -rf "$clone"
    mkdir -p build
    "$venv/bin/python" -m pip freeze --exclude training-deep-networks > build/compat-colab.txt
    (cd / && "$ROOT/$venv/bin/python" -c "import keras, tensorflow, toolkit; print('   after the setup cell: tensorflow', tensorflow.__version__, 'keras', keras.__version__, 'toolkit', toolkit.__version__)")
    TOOLKIT_MODE=fast TOOLKIT_OFFLINE=1 TF_CPP_MIN_LOG_LEVEL=2 MPLBACKEND=Agg \
        "$venv/bin/pytest" -p no:cacheprovider ${COMPAT_PYTEST_ARGS:-} \
        --nbval-lax --nbval-current-env --nbval-cell-timeout=600 notebooks/[0-9][0-9]_*.ipynb
    echo "== test-compat colab passed (versions in build/compat-colab.txt)"
}

stacks=("$@")
[ ${#stacks[@]} -gt 0 ] || stacks=(oldest newest colab)
for stack in "${stacks[@]}"; do
    case $stack in
        oldest) python=$(find_python "${COMPAT_PYTHON:-python3.12}"); run_stack oldest "$python" -c constraints/oldest.txt ;;
        newest) python=$(find_python "${COMPAT_PYTHON:-python3.13}"); run_stack newest "$python" --upgrade ;;
        colab) run_colab ;;
        *) echo "test-compat: unknown stack '$stack' (expected oldest, newest or colab)" >&2; exit 2 ;;
    esac
done
