"""requirements.txt and environment.yml must list the same packages and bounds."""

import pathlib
import re

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
REQUIRED = {"tensorflow", "keras", "tensorflow-datasets", "matplotlib", "scikit-learn", "jupyter",
            "nbval", "pytest", "tqdm", "mlxtend"}


def _parse(lines):
    out = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if not line:
            continue
        m = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", line)
        out[m.group(1).lower()] = m.group(2).replace(" ", "")
    return out


def requirements():
    return _parse((ROOT / "requirements.txt").read_text().splitlines())


def environment():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return _parse(pip)


def test_requirements_and_environment_agree():
    assert requirements() == environment()


def test_course_packages_are_listed_with_lower_bounds():
    req = requirements()
    assert REQUIRED <= set(req), f"missing: {REQUIRED - set(req)}"
    assert req["tensorflow"] == ">=2.21" and req["keras"] == ">=3.15"
    assert all(spec.startswith(">=") for spec in req.values()), req


def test_environment_python_matches_pyproject():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert project["requires-python"] == ">=3.10,<3.13"
    assert "python>=3.10,<3.13" in env["dependencies"]
