"""Are the installed versions the ones the course supports?

The supported range has one home: the requirements of the installed
distribution (``pyproject.toml``'s ``dependencies``, read back with
``importlib.metadata.requires``). In a checkout that was never installed,
``pyproject.toml`` itself is read. Nothing here repeats a version number.

* :func:`out_of_range` lists what is missing or too old, and
  :func:`fix_line` turns that into one line with the exact ``%pip`` command.
* :func:`stale_imports` finds packages that pip upgraded after this process
  had imported them (Colab's setup cell), and :func:`restart_line` says that
  the runtime must restart.

Example:

>>> for line in (fix_line(out_of_range()), restart_line(stale_imports())):
...     if line:
...         print(line)
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import pathlib
import sys

from packaging.requirements import Requirement

DISTRIBUTION = "training-deep-networks"
#: Distribution names whose import name is not the name with "-" -> "_".
IMPORT_NAMES = {"scikit-learn": "sklearn", "pyyaml": "yaml"}
#: The heavy packages a restart must reload once pip has replaced them.
RELOADED = ("keras", "tensorflow", "numpy")
RESTART = "Restart the runtime (Runtime → Restart session), then run all again"


def requirements() -> list[Requirement]:
    """The course's own requirements (no extras), from the installed metadata or the checkout's pyproject.toml."""
    try:
        lines = importlib.metadata.requires(DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:
        lines = _pyproject_dependencies()
    found = []
    for line in lines:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            found.append(requirement)
    return found


def _pyproject_dependencies() -> list[str]:
    pyproject = pathlib.Path(__file__).resolve().parents[1] / "pyproject.toml"
    try:
        import tomllib
    except ImportError:  # Python 3.10 without an installed distribution: nothing to check against
        return []
    if not pyproject.is_file():
        return []
    return tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {}).get("dependencies", [])


def installed_version(name: str) -> str | None:
    """The installed version of distribution ``name``, or None when it is not installed."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        module = IMPORT_NAMES.get(name.lower(), name.replace("-", "_"))
        if module in sys.modules:  # e.g. TensorFlow installed under another distribution name
            return getattr(sys.modules[module], "__version__", None)
        return "unknown" if importlib.util.find_spec(module) is not None else None


def out_of_range(reqs=None, *, version=None) -> list[tuple[Requirement, str | None]]:
    """``(requirement, installed version or None)`` for every requirement not met (default: the course's)."""
    version = version or installed_version
    wrong = []
    for requirement in requirements() if reqs is None else reqs:
        found = version(requirement.name)
        if found == "unknown":
            continue
        if found is None or not requirement.specifier.contains(found, prereleases=True):
            wrong.append((requirement, found))
    return wrong


def fix_line(wrong, *, pip: str = "%pip") -> str:
    """One line: what is out of range and the exact command that fixes it ("" when nothing is)."""
    if not wrong:
        return ""
    what = ", ".join(f"{r.name} {found or 'missing'} (needs {r.specifier})" for r, found in wrong)
    command = " ".join(f'"{r.name}{r.specifier}"' for r, _ in wrong)
    return f"Unsupported versions: {what}. Fix: {pip} install -q {command}, then {RESTART[0].lower()}{RESTART[1:]}."


def stale_imports(names=RELOADED, *, modules=None, version=None) -> list[tuple[str, str, str]]:
    """``(name, imported version, installed version)`` for packages pip replaced after they were imported."""
    modules = sys.modules if modules is None else modules
    version = version or installed_version
    stale = []
    for name in names:
        module = modules.get(name)
        imported = getattr(module, "__version__", None)
        installed = version(name)
        if imported and installed not in (None, "unknown") and imported != installed:
            stale.append((name, imported, installed))
    return stale


def restart_line(stale) -> str:
    """One line asking for a restart when :func:`stale_imports` found something ("" otherwise)."""
    if not stale:
        return ""
    what = ", ".join(f"{name} {imported} (pip installed {installed})" for name, imported, installed in stale)
    return f"{RESTART}: this session still runs {what}."
