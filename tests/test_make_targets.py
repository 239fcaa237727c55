"""`make test-gpu` refuses a machine without a GPU at once; `make venv` is idempotent and takes PYTHON=.

Both run `make` in a subprocess in the repository root. They never install
anything: when the virtual environment's stamp (``.venv/.installed``) is
missing they are skipped, since ``make`` would then start a fresh install.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
STAMP = ROOT / ".venv" / ".installed"

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="`make` is not installed")


def _make(*args, timeout=120, **env_changes):
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"}}
    env.update(env_changes)
    return subprocess.run(
        ["make", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def _stamp_is_current() -> bool:
    """`make -q` answers 0 when the stamp is newer than requirements.txt and pyproject.toml."""
    return _make("-q", ".venv/.installed", timeout=30).returncode == 0


@pytest.fixture
def built_venv():
    if not STAMP.exists():
        pytest.skip("no .venv/.installed: run `make venv` first (these tests never install)")


def test_make_venv_is_idempotent(built_venv):
    assert _stamp_is_current(), (
        "`make venv` would reinstall: .venv/.installed is older than requirements.txt or pyproject.toml. "
        "After `make venv` the stamp must be newer than both, so that a second call does nothing."
    )
    dry = _make("-n", "venv", timeout=30)
    assert dry.returncode == 0, dry.stderr
    assert "pip install" not in dry.stdout, f"a second `make venv` would reinstall:\n{dry.stdout}"
    again = _make("venv", timeout=60)
    assert again.returncode == 0, again.stderr
    assert "Nothing to be done" in again.stdout + again.stderr, again.stdout + again.stderr
    assert "Creating" not in again.stdout


def test_make_test_gpu_fails_at_once_without_a_gpu(built_venv):
    if not _stamp_is_current():
        pytest.skip("the venv stamp is stale: `make test-gpu` would reinstall first")
    # Hide any GPU, so that this checks the refusal on every machine.
    result = _make("-s", "test-gpu", timeout=180, CUDA_VISIBLE_DEVICES="-1")
    output = result.stdout + result.stderr
    assert result.returncode != 0, f"`make test-gpu` must fail without a GPU:\n{output[-2000:]}"
    assert "needs a visible GPU" in output, f"the refusal must say why:\n{output[-2000:]}"
    assert "make test" in output, "the refusal should point to `make test` for CPU machines"
    # "At once": it stops before pytest collects a single test or notebook.
    assert "collected" not in output and "passed" not in output, output[-2000:]


def _find_python(name):
    return subprocess.run([str(ROOT / "tools" / "find_python.sh"), name], capture_output=True, text=True, timeout=60)


def test_make_venv_takes_the_python_given_by_path_or_name():
    """`make test PYTHON=...` creates .venv with that interpreter (tools/find_python.sh finds it)."""
    assert "tools/find_python.sh $(PYTHON)" in (ROOT / "Makefile").read_text()
    by_path = _find_python(sys.executable)
    assert by_path.returncode == 0 and by_path.stdout.strip() == shutil.which(sys.executable), by_path.stderr
    missing = _find_python("python2.99")
    assert missing.returncode == 1 and "'python2.99'" in missing.stderr and missing.stdout == ""


def test_find_python_finds_an_installed_pyenv_version_that_is_not_active():
    # pyenv's shim for python3.13 refuses to run unless 3.13 is the active version.
    pyenv = shutil.which("pyenv")
    if pyenv is None:
        pytest.skip("no pyenv on this machine")
    versions = subprocess.run([pyenv, "versions", "--bare"], capture_output=True, text=True).stdout.split()
    wanted = sorted({".".join(v.split(".")[:2]) for v in versions if v.startswith("3.")} - {f"3.{sys.version_info[1]}"})
    if not wanted:
        pytest.skip("pyenv has no other Python 3 than this one")
    found = _find_python(f"python{wanted[-1]}")
    assert found.returncode == 0, found.stderr
    version = subprocess.run([found.stdout.strip(), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True).stdout.strip()
    assert version == wanted[-1]
