"""The CI workflow file is valid YAML and runs the right make targets where it should."""

from __future__ import annotations

import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "tests.yml"


@pytest.fixture(scope="module")
def workflow():
    assert WORKFLOW.is_file(), f"missing {WORKFLOW.relative_to(ROOT)}"
    data = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(data, dict), "the workflow must be a YAML mapping"
    return data


def _triggers(workflow):
    # YAML 1.1 (PyYAML) reads the bare key `on` as the boolean True.
    triggers = workflow.get("on", workflow.get(True))
    if isinstance(triggers, str):
        return {triggers}
    return set(triggers or ())


def _runs(job):
    return [step["run"].strip() for step in job.get("steps", []) if "run" in step]


def _labels(job):
    runs_on = job["runs-on"]
    return {runs_on} if isinstance(runs_on, str) else set(runs_on)


def _make_targets():
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z][\w-]*)\s*:(?!=)", text, flags=re.M))


def test_runs_on_push_and_pull_request(workflow):
    assert {"push", "pull_request"} <= _triggers(workflow)


def test_cpu_job_runs_make_test_on_ubuntu_with_python_311(workflow):
    job = workflow["jobs"]["cpu"]
    assert any(label.startswith("ubuntu") for label in _labels(job))
    assert "make test" in _runs(job), "the CPU job must run exactly `make test`"
    setup = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/setup-python")]
    assert setup, "the CPU job must set up Python"
    options = setup[0]["with"]
    assert str(options["python-version"]) == "3.11"
    assert options.get("cache") == "pip", "cache pip downloads between runs"


def test_gpu_job_runs_make_test_gpu_on_a_self_hosted_gpu_runner(workflow):
    job = workflow["jobs"]["gpu"]
    assert {"self-hosted", "gpu"} <= _labels(job)
    assert "make test-gpu" in _runs(job)
    # A self-hosted machine must not run pull requests from forks.
    assert "head.repo.full_name" in job.get("if", ""), "guard the self-hosted job against fork pull requests"


def test_every_make_command_is_a_real_target(workflow):
    targets = _make_targets()
    for name, job in workflow["jobs"].items():
        for command in _runs(job):
            for target in re.findall(r"\bmake\s+([\w-]+)", command):
                assert target in targets, f"job {name!r} runs `make {target}`, which the Makefile lacks"


def test_compat_job_covers_oldest_pins_newest_pins_and_python_310_and_313(workflow):
    job = workflow["jobs"]["compat"]
    assert any(label.startswith("ubuntu") for label in _labels(job))
    cells = {(str(c["stack"]), str(c["python"])) for c in job["strategy"]["matrix"]["include"]}
    assert ("oldest", "3.12") in cells, "the oldest pins run on Colab's Python of that time"
    assert ("colab", "3.12") in cells, "Colab's preinstalled stack, then the setup cell's pip line"
    assert {"3.10", "3.13"} <= {python for stack, python in cells if stack == "newest"}
    assert job["strategy"].get("fail-fast") is False, "one failing cell must not hide the others"
    (run,) = _runs(job)
    assert run.startswith("make test-compat STACKS=${{ matrix.stack }}") and "python${{ matrix.python }}" in run


def test_wheel_job_installs_the_wheel_and_uses_it_outside_the_checkout(workflow):
    job = workflow["jobs"]["wheel"]
    steps = job["steps"]
    runs = "\n".join(_runs(job))
    assert re.search(r"pip wheel --no-deps|python -m build", runs), "build the wheel"
    assert re.search(r"-m venv /tmp/\S+", runs) and "pip install dist/" in runs, "install it into a clean venv"
    assert "pip install -e" not in runs and "install -e" not in runs, "the point is a non-editable install"
    use = next(s for s in steps if "dnn-course --help" in s.get("run", ""))
    assert use.get("working-directory") == "/tmp", "use it from outside the checkout"
    for command in ("python -m toolkit --help", "dnn-course --help", "dnn-course doctor", "import", "--notebooks"):
        assert command in use["run"], command


def test_make_test_compat_runs_the_compat_script():
    text = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^test-compat:.*\n((?:\t.*\n)+)", text, flags=re.M)
    assert recipe, "the Makefile needs a test-compat target"
    assert "tools/test_compat.sh $(STACKS)" in recipe.group(1)
    assert re.search(r"^STACKS \?= oldest newest colab$", text, flags=re.M)
    script = (ROOT / "tools" / "test_compat.sh").read_text()
    assert "-c constraints/oldest.txt" in script and '"$SRC[course,test]"' in script
    assert "pip install -e" not in script, "compat installs the toolkit the way Colab does: not editable"


def test_colab_stack_starts_below_the_keras_floor_and_runs_the_setup_cells_own_pip_line():
    from packaging.requirements import Requirement

    pins = {}
    for line in (ROOT / "constraints" / "colab-2025.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pins[name.strip()] = version.strip()
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    floors = {Requirement(r).name: Requirement(r).specifier for r in project["dependencies"]}
    # The point of the stack: Colab keeps a Keras that our floor refuses, so the pip line must upgrade it.
    assert pins["keras"] == "3.10.0" and not floors["keras"].contains(pins["keras"]), (pins["keras"], floors["keras"])
    assert pins["tensorflow"] == "2.19.0" and floors["tensorflow"].contains(pins["tensorflow"])
    script = (ROOT / "tools" / "test_compat.sh").read_text()
    assert "constraints/colab-2025.txt" in script and "COLAB_REQUIREMENT" in script, "the pip line comes from py2nb"
    assert "git+file://" in script, "the GitHub URL is swapped for a clone of HEAD"
