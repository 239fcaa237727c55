"""The version claims agree with each other, and the floors are the oldest versions tested.

pyproject.toml holds the supported range (floors, no caps). constraints/oldest.txt
pins every floor (``make test-compat`` runs the course on it); requirements.txt and
environment.yml list the same packages with the same floors; constraints/tested.txt
locks what ``make test`` ran with.
"""

import ast
import pathlib
import re
import sys

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, from PyPI (declared in the [test] extra)
    import tomli as tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
#: The late-2025 Colab stack of issue 16, which the oldest pins must include.
COLAB_2025 = {"tensorflow": "2.19", "numpy": "2.0", "matplotlib": "3.10", "scikit-learn": "1.6",
              "mlxtend": "0.23.4", "tensorflow-datasets": "4.9.9"}
#: APIs the course uses and the first Keras release that has them (read from the wheels).
KERAS_FIRST = {"keras.distillation": "3.12.0"}


def _lines(path):
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            yield line


def _by_name(texts):
    reqs = [Requirement(t) for t in texts]
    return {canonicalize_name(r.name): r for r in reqs}


def _pins(path):
    pins = {}
    for line in _lines(path):
        name, _, version = line.partition("==")
        assert version, f"{path.name}: {line!r} is not a pin (name==version)"
        pins[canonicalize_name(name)] = version
    return pins


def _floor(req):
    (spec,) = req.specifier  # exactly one specifier: the floor
    assert spec.operator == ">=", f"{req}: only lower bounds (>=), no caps or pins"
    return Version(spec.version)


RUNTIME = _by_name(PROJECT["dependencies"])
COURSE = _by_name(PROJECT["optional-dependencies"]["course"])
TEST = _by_name(PROJECT["optional-dependencies"]["test"])
REQUIREMENTS = _by_name(_lines(ROOT / "requirements.txt"))
OLDEST = _pins(ROOT / "constraints" / "oldest.txt")
TESTED = _pins(ROOT / "constraints" / "tested.txt")


def _environment():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return env, _by_name(pip)


def test_requirements_txt_is_pyproject_plus_jupyter():
    declared = {**RUNTIME, **COURSE, **TEST}
    assert set(REQUIREMENTS) == set(declared) | {"jupyter"}
    for name, req in declared.items():
        assert str(REQUIREMENTS[name]) == str(req), f"requirements.txt says {REQUIREMENTS[name]}, pyproject {req}"


def test_requirements_and_environment_agree():
    env, pip = _environment()
    assert {n: str(r) for n, r in pip.items()} == {n: str(r) for n, r in REQUIREMENTS.items()}
    assert f"python{PROJECT['requires-python']}" in env["dependencies"]


def test_only_floors_and_no_python_cap():
    assert PROJECT["requires-python"] == ">=3.10", "no upper cap on Python unless a dependency forces one"
    for req in {**RUNTIME, **COURSE, **TEST}.values():
        _floor(req)
    versions = [c.rsplit(":: ", 1)[1] for c in PROJECT["classifiers"] if c.startswith("Programming Language :: Python :: 3.")]
    assert versions == ["3.10", "3.11", "3.12", "3.13"]


def test_every_floor_is_pinned_in_the_oldest_constraints():
    """A floor nobody tested is a guess: each one is exactly the pin `make test-compat` installs."""
    for name, req in {**RUNTIME, **COURSE}.items():
        assert name in OLDEST, f"{name} has a floor but no pin in constraints/oldest.txt"
        assert Version(OLDEST[name]) == _floor(req), f"{name}: floor {_floor(req)}, oldest pin {OLDEST[name]}"


def test_oldest_constraints_hold_the_2025_colab_stack():
    for name, version in COLAB_2025.items():
        assert OLDEST[name] == version or OLDEST[name].startswith(version + "."), (name, OLDEST[name])


def test_keras_floor_has_every_api_the_course_uses():
    sources = [*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("toolkit/**/*.py"), *ROOT.glob("solutions/*.py")]
    text = "\n".join(p.read_text() for p in sources)
    for api, first in KERAS_FIRST.items():
        if re.search(re.escape(api) + r"\b", text):
            assert _floor(RUNTIME["keras"]) >= Version(first), f"{api} needs keras>={first}"


def test_tested_lock_covers_the_requirements_within_their_floors():
    for name, req in REQUIREMENTS.items():
        if req.marker is not None and not req.marker.evaluate({"python_version": "3.11"}):
            continue  # the lock was made on Python 3.11
        assert name in TESTED, f"{name} is missing from constraints/tested.txt"
        assert Version(TESTED[name]) in req.specifier, f"{name}=={TESTED[name]} is below the floor {req}"
    assert "training-deep-networks" not in TESTED, "the project itself is installed from the checkout"


@pytest.mark.parametrize("module", sorted({"tensorflow_datasets", "nbformat", "nbclient", "nbconvert"}))
def test_optional_imports_are_declared_in_the_course_extra(module):
    from toolkit.optional import PACKAGES

    assert canonicalize_name(PACKAGES[module]) in COURSE


def test_every_import_of_the_toolkit_is_declared():
    """Each third-party module imported under toolkit/ comes from a declared distribution."""
    provided_by = {"sklearn": "scikit-learn", "tensorflow_datasets": "tensorflow-datasets", "yaml": "pyyaml",
                   "IPython": "ipykernel", "traitlets": "nbclient"}
    stdlib = set(sys.stdlib_module_names)
    declared = set(RUNTIME) | set(COURSE)
    for path in (ROOT / "toolkit").rglob("*.py"):
        tree = ast.parse(path.read_text())
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 0]
        for top in {name.split(".")[0] for name in names}:
            if top in stdlib or top in {"toolkit", "__future__"}:
                continue
            dist = canonicalize_name(provided_by.get(top, top))
            assert dist in declared, f"{path.relative_to(ROOT)} imports {top}, which pyproject.toml does not declare"
