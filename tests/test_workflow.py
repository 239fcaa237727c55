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
