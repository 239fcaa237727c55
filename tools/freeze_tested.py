"""Write constraints/tested.txt: the versions `make test` was run with.

It is ``pip freeze`` restricted to what the course really uses: the packages
of requirements.txt and everything they depend on (their markers evaluated
for this interpreter), found from the installed metadata. Whatever else sits
in the venv (a tool someone installed by hand) stays out of the lock.

    .venv/bin/python tools/freeze_tested.py          # rewrite the file
    .venv/bin/python tools/freeze_tested.py --check  # exit 1 when it is stale
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import pathlib
import platform
import sys

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = pathlib.Path(__file__).resolve().parents[1]
LOCK = ROOT / "constraints" / "tested.txt"
# The project itself is installed from the checkout, never pinned.
SELF = canonicalize_name("training-deep-networks")


def _requirements(path: pathlib.Path) -> list[Requirement]:
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def closure(roots: list[Requirement]) -> dict[str, str]:
    """``{distribution name: installed version}`` of ``roots`` and all their dependencies."""
    found: dict[str, str] = {}
    seen: set[tuple[str, frozenset]] = set()
    todo = [(r, ("",)) for r in roots]
    while todo:
        req, parent_extras = todo.pop()
        # A dependency of an extra (`foo; extra == "bar"`) counts only when that extra was asked for.
        if req.marker is not None and not any(req.marker.evaluate({"extra": e}) for e in parent_extras):
            continue
        name, extras = canonicalize_name(req.name), frozenset(req.extras)
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        try:
            dist = md.distribution(req.name)
        except md.PackageNotFoundError:
            raise SystemExit(f"{req.name} is required but not installed: run `make venv` first") from None
        found[name] = dist.version
        for text in dist.requires or ():
            todo.append((Requirement(text), ("", *sorted(extras))))
    found.pop(SELF, None)
    return found


def render(pins: dict[str, str]) -> str:
    head = (
        "# The versions `make test` was run with (a lock, not the supported range: that is\n"
        "# pyproject.toml, whose floors constraints/oldest.txt pins). To reproduce it:\n"
        "#   pip install -c constraints/tested.txt -r requirements.txt -e .\n"
        "# Regenerate after `make test` with `.venv/bin/python tools/freeze_tested.py`.\n"
        f"# Python {platform.python_version()} on {platform.system()} {platform.machine()}.\n"
    )
    return head + "".join(f"{name}=={version}\n" for name, version in sorted(pins.items()))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the file instead of writing it")
    args = parser.parse_args(argv)
    pins = closure(_requirements(ROOT / "requirements.txt"))
    if args.check:
        old = {line.split("==")[0]: line.split("==")[1] for line in LOCK.read_text().splitlines()
               if line and not line.startswith("#")}
        if old != pins:
            changed = sorted(set(old.items()) ^ set(pins.items()))
            print(f"{LOCK.relative_to(ROOT)} is stale: {changed[:10]}", file=sys.stderr)
            return 1
        return 0
    LOCK.write_text(render(pins))
    print(f"wrote {len(pins)} pins to {LOCK.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
