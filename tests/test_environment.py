"""describe_environment(): the mode line first, no strategy created, and one line when versions are wrong."""

import io
import subprocess
import sys
import types

import pytest
from packaging.requirements import Requirement

from toolkit import environment, hardware, mode, versions


@pytest.fixture
def cpu_fast(monkeypatch):
    monkeypatch.setattr(mode, "_CURRENT", [mode.resolve({}, probe=lambda: None)])
    monkeypatch.setenv("TOOLKIT_OFFLINE", "1")
    return monkeypatch


def test_describe_environment_reports_mode_first_versions_and_network(cpu_fast):
    import keras
    import tensorflow as tf

    buf = io.StringIO()
    info = environment.describe_environment(file=buf)
    lines = buf.getvalue().splitlines()
    assert lines[0].startswith("Mode: fast (auto: no GPU or TPU found)") and "TOOLKIT_MODE=full" in lines[0]
    assert f"TensorFlow {tf.__version__}" in lines[1] and f"Keras {keras.__version__}" in lines[1]
    assert "offline" in lines[3]
    assert info["online"] is False and info["mode"] == "fast" and info["mode_reason"] == "auto: no GPU or TPU found"
    assert info["strategy"] == "_DefaultDistributionStrategy"
    assert info["unsupported"] == [] and info["restart_needed"] is False
    assert len(lines) == 4, "no version line when every version is in range"


def test_describe_environment_creates_no_strategy():
    """In a fresh process: describing names the strategy but does not create one."""
    code = ("import io; from toolkit import environment, hardware; "
            "environment.describe_environment(file=io.StringIO()); print('CREATED', hardware._STRATEGY)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={"TOOLKIT_MODE": "fast", "TOOLKIT_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
    assert "CREATED {}" in proc.stdout, proc.stdout + proc.stderr[-2000:]


def test_an_out_of_range_version_gives_one_line_with_the_exact_pip_command(cpu_fast):
    cpu_fast.setattr(versions, "requirements", lambda: [Requirement("keras>=3.12"), Requirement("numpy>=2.0.2"),
                                                        Requirement("tqdm>=4.66")])
    fake = {"keras": "3.10.0", "numpy": "2.0.2", "tqdm": None}
    cpu_fast.setattr(versions, "installed_version", lambda name: fake.get(name, "unknown"))
    cpu_fast.setattr(versions, "stale_imports", lambda: [])  # tested on its own below
    buf = io.StringIO()
    info = environment.describe_environment(file=buf)
    extra = buf.getvalue().splitlines()[4:]
    assert extra == [
        'Unsupported versions: keras 3.10.0 (needs >=3.12), tqdm missing (needs >=4.66). '
        'Fix: %pip install -q "keras>=3.12" "tqdm>=4.66", then restart the runtime '
        '(Runtime → Restart session), then run all again.'
    ] or extra == [  # outside IPython the command is pip's own
        'Unsupported versions: keras 3.10.0 (needs >=3.12), tqdm missing (needs >=4.66). '
        f'Fix: {__import__("os").path.basename(sys.executable)} -m pip install -q "keras>=3.12" "tqdm>=4.66", '
        'then restart the runtime (Runtime → Restart session), then run all again.'
    ]
    assert info["unsupported"] == ["keras 3.10.0 (needs >=3.12)", "tqdm missing (needs >=4.66)"]


def test_a_package_upgraded_after_import_asks_for_a_restart():
    modules = {"keras": types.SimpleNamespace(__version__="3.10.0"), "numpy": types.SimpleNamespace(__version__="2.0.2")}
    installed = {"keras": "3.15.1", "numpy": "2.0.2", "tensorflow": "2.21.0"}
    stale = versions.stale_imports(modules=modules, version=installed.get)
    assert stale == [("keras", "3.10.0", "3.15.1")]  # numpy unchanged, tensorflow not imported
    assert versions.restart_line(stale) == ("Restart the runtime (Runtime → Restart session), then run all again: "
                                            "this session still runs keras 3.10.0 (pip installed 3.15.1).")
    assert versions.restart_line([]) == "" and versions.fix_line([]) == ""


def test_this_process_needs_no_restart():
    import keras  # noqa: F401

    assert versions.stale_imports() == []


@pytest.mark.parametrize("found, ok", [("3.12.0", True), ("3.15.1", True), ("3.11.3", False), (None, False),
                                       ("3.12.0rc1", False)])
def test_out_of_range_compares_against_the_specifier(found, ok):
    wrong = versions.out_of_range([Requirement("keras>=3.12")], version=lambda name: found)
    assert (wrong == []) is ok


def test_the_floors_come_from_the_one_pyproject():
    """No second copy: what versions.requirements() reads is pyproject.toml's dependencies."""
    import pathlib
    import re

    text = (pathlib.Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    block = re.search(r"^dependencies = \[(.*?)^\]", text, re.S | re.M).group(1)
    declared = sorted(re.findall(r'"([^"]+)"', block))
    read = sorted(str(r) for r in versions.requirements())  # installed metadata, or pyproject.toml when not installed
    assert read == sorted(str(Requirement(d)) for d in declared), "the installed metadata is stale: pip install -e ."
    assert any(r.name == "keras" for r in versions.requirements())
    assert versions.out_of_range() == [], f"this venv is outside the supported range: {versions.out_of_range()}"
