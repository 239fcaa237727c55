"""TOOLKIT_MODE=fast|full|auto and the older TOOLKIT_FAST: every accepted and refused value."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

from toolkit import mode

ROOT = pathlib.Path(__file__).resolve().parents[1]

def resolved(env: dict, accelerator=None) -> mode.Mode:
    return mode.resolve(env, probe=lambda: accelerator)


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"TOOLKIT_MODE": "fast"}, ("fast", "TOOLKIT_MODE=fast")),
        ({"TOOLKIT_MODE": "full"}, ("full", "TOOLKIT_MODE=full")),
        ({"TOOLKIT_MODE": " FULL "}, ("full", "TOOLKIT_MODE=full")),
        ({"TOOLKIT_MODE": "auto"}, ("fast", "auto: no GPU or TPU found")),
        ({"TOOLKIT_MODE": ""}, ("fast", "auto: no GPU or TPU found")),
        ({}, ("fast", "auto: no GPU or TPU found")),
        ({"TOOLKIT_FAST": "1"}, ("fast", "TOOLKIT_FAST=1")),
        ({"TOOLKIT_FAST": "true"}, ("fast", "TOOLKIT_FAST=true")),
        ({"TOOLKIT_FAST": "Yes"}, ("fast", "TOOLKIT_FAST=Yes")),
        ({"TOOLKIT_FAST": "on"}, ("fast", "TOOLKIT_FAST=on")),
        ({"TOOLKIT_FAST": "0"}, ("full", "TOOLKIT_FAST=0")),
        ({"TOOLKIT_FAST": "false"}, ("full", "TOOLKIT_FAST=false")),
        ({"TOOLKIT_FAST": "no"}, ("full", "TOOLKIT_FAST=no")),
        ({"TOOLKIT_FAST": "off"}, ("full", "TOOLKIT_FAST=off")),
        ({"TOOLKIT_FAST": ""}, ("fast", "auto: no GPU or TPU found")),
        ({"TOOLKIT_MODE": "fast", "TOOLKIT_FAST": "1"}, ("fast", "TOOLKIT_MODE=fast")),  # make test, make run
        ({"TOOLKIT_MODE": "full", "TOOLKIT_FAST": "0"}, ("full", "TOOLKIT_MODE=full")),  # make run FULL=1
        ({"TOOLKIT_MODE": "auto", "TOOLKIT_FAST": "1"}, ("fast", "TOOLKIT_FAST=1")),  # explicit beats auto
    ],
)
def test_accepted_values(env, expected):
    got = resolved(env)
    assert (got.name, got.reason) == expected
    assert got.fast is (expected[0] == "fast")


@pytest.mark.parametrize(
    "env, named",
    [
        ({"TOOLKIT_MODE": "quick"}, "TOOLKIT_MODE='quick'"),
        ({"TOOLKIT_MODE": "1"}, "TOOLKIT_MODE='1'"),
        ({"TOOLKIT_MODE": "fast full"}, "TOOLKIT_MODE='fast full'"),
        ({"TOOLKIT_FAST": "2"}, "TOOLKIT_FAST='2'"),
        ({"TOOLKIT_FAST": "maybe"}, "TOOLKIT_FAST='maybe'"),
        ({"TOOLKIT_FAST": "fast"}, "TOOLKIT_FAST='fast'"),
        ({"TOOLKIT_MODE": "full", "TOOLKIT_FAST": "1"}, "TOOLKIT_MODE='full', TOOLKIT_FAST='1'"),
        ({"TOOLKIT_MODE": "fast", "TOOLKIT_FAST": "0"}, "TOOLKIT_MODE='fast', TOOLKIT_FAST='0'"),
    ],
)
def test_refused_values_name_the_variable_the_value_and_the_choices(env, named):
    with pytest.raises(mode.ModeError) as info:
        resolved(env)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert f"Received: {named}" in message
    assert ("fast, full, auto" in message) or ("1 (fast) or 0 (full)" in message) or ("disagree" in message)


def test_a_refused_value_shows_as_one_line_in_ipython():
    with pytest.raises(mode.ModeError) as info:
        resolved({"TOOLKIT_MODE": "quick"})
    rendered = info.value._render_traceback_()
    assert rendered == [f"ModeError: {info.value}"] and "\n" not in rendered[0]


def test_ipython_uses_the_one_line_rendering():
    """A real IPython shell prints the refusal as one line, not a traceback."""
    code = (
        "from IPython.testing.globalipapp import start_ipython\n"
        "ip = start_ipython()\n"
        "ip.run_cell('import os; os.environ[\"TOOLKIT_MODE\"] = \"quick\"; "
        "from toolkit import mode; mode._CURRENT.clear(); mode.pick(full=1, fast=2)')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    shown = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
    assert any(ln.startswith("ModeError: TOOLKIT_MODE must be one of fast, full, auto") for ln in shown), shown
    assert not any("Traceback" in ln or "File \"" in ln for ln in shown), shown


@pytest.mark.parametrize(
    "accelerator, expected",
    [
        (None, ("fast", "auto: no GPU or TPU found")),
        ("1 GPU", ("full", "auto: 1 GPU found")),
        ("4 GPUs", ("full", "auto: 4 GPUs found")),
        ("a TPU", ("full", "auto: a TPU found")),
    ],
)
def test_auto_follows_the_accelerator_probe(accelerator, expected):
    for env in ({}, {"TOOLKIT_MODE": "auto"}):
        got = resolved(env, accelerator)
        assert (got.name, got.reason) == expected


def test_an_explicit_mode_never_probes():
    def probe():
        raise AssertionError("the accelerator probe ran although the mode was explicit")

    assert mode.resolve({"TOOLKIT_MODE": "full"}, probe=probe).name == "full"
    assert mode.resolve({"TOOLKIT_FAST": "1"}, probe=probe).name == "fast"


def test_the_real_probe_finds_no_accelerator_on_this_cpu_machine(monkeypatch):
    import tensorflow as tf

    for name in ("COLAB_TPU_ADDR", "TPU_NAME"):
        monkeypatch.delenv(name, raising=False)
    expected = None if not tf.config.list_physical_devices("GPU") else "GPU"
    found = mode.find_accelerator()
    assert (found is None) if expected is None else ("GPU" in found)
    monkeypatch.setenv("COLAB_TPU_ADDR", "10.0.0.2:8470")
    assert mode.find_accelerator() == "a TPU"


def test_the_mode_line_says_mode_reason_and_how_to_switch():
    line = resolved({}).line()
    assert line.startswith("Mode: fast (auto: no GPU or TPU found)")
    assert "TOOLKIT_MODE=full" in line and "%env TOOLKIT_MODE=full" in line
    assert "TOOLKIT_MODE=fast" in resolved({}, "1 GPU").line()


@pytest.fixture
def fresh_mode(monkeypatch):
    monkeypatch.setattr(mode, "_CURRENT", [])
    for name in ("TOOLKIT_MODE", "TOOLKIT_FAST"):
        monkeypatch.setenv(name, "")  # recorded and restored afterwards; empty means unset
        monkeypatch.delenv(name)
    return monkeypatch


def test_pick_and_fast_follow_the_environment_once_per_process(fresh_mode):
    fresh_mode.setenv("TOOLKIT_MODE", "full")
    assert mode.pick(full=15, fast=2) == 15 and mode.FAST is False
    fresh_mode.setenv("TOOLKIT_MODE", "fast")  # read once: a change later in the process is not seen
    assert mode.pick(full=15, fast=2) == 15
    fresh_mode.setattr(mode, "_CURRENT", [])
    assert mode.pick(full=15, fast=2) == 2 and mode.FAST is True


def test_pick_refuses_a_bad_mode_at_pick_time(fresh_mode):
    fresh_mode.setenv("TOOLKIT_FAST", "maybe")
    with pytest.raises(mode.ModeError, match="Received: TOOLKIT_FAST='maybe'"):
        mode.pick(full=15, fast=2)


def test_pick_needs_both_sizes():
    with pytest.raises(TypeError, match="both"):
        mode.pick(full=3)


def test_a_bad_mode_in_the_cli_is_one_line_and_exit_2():
    env = {"TOOLKIT_MODE": "quick", "PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run([sys.executable, "-m", "toolkit", "env"], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "python -m toolkit env: TOOLKIT_MODE must be one of fast, full, auto (unset means auto). "
        "Received: TOOLKIT_MODE='quick'"
    ]


@pytest.mark.parametrize("full, expected", [(False, ("fast", "1")), (True, ("full", "0"))])
def test_toolkit_run_gives_its_kernels_an_explicit_mode(full, expected, monkeypatch, tmp_path):
    """`python -m toolkit run [--full]`: the kernels get TOOLKIT_MODE (and an agreeing TOOLKIT_FAST), never auto."""
    import os

    from toolkit import course

    monkeypatch.setenv("TOOLKIT_FAST", "maybe")  # a stale shell value must not reach the kernels
    monkeypatch.setenv("TOOLKIT_MODE", "auto")  # recorded, so that run_course's own setting is undone afterwards
    seen = []

    def run_notebook(path, out_dir, **kwargs):
        env = {**os.environ, **(kwargs.get("env") or {})}
        seen.append((env["TOOLKIT_MODE"], env["TOOLKIT_FAST"]))
        assert mode.resolve(env, probe=lambda: "1 GPU").name == expected[0]
        return {"notebook": pathlib.Path(path).stem, "seconds": 0.0, "status": "ok", "headline": "", "error": ""}

    monkeypatch.setattr(course, "run_notebook", run_notebook)
    course.run_course(ROOT / "notebooks", tmp_path / "build", full=full, only=["01"])
    assert seen == [expected]


@pytest.mark.parametrize("value, full", [("", False), ("0", False), ("1", True)])
def test_make_run_full_0_means_fast(value, full):
    proc = subprocess.run(["make", "-n", "run", f"FULL={value}"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    command = [ln for ln in proc.stdout.splitlines() if "-m toolkit run" in ln]
    assert proc.returncode == 0 and len(command) == 1, proc.stdout + proc.stderr
    run_args = command[0].split("-m toolkit run", 1)[1].split("||")[0].split()
    assert ("--full" in run_args) is full, command[0]


def test_make_run_refuses_another_full_value():
    proc = subprocess.run(["make", "-n", "run", "FULL=maybe"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode != 0 and "FULL must be 0 (fast, the default) or 1 (full size); got FULL=maybe" in proc.stderr
